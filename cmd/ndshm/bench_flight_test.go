package main

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
)

// TestBenchFlight runs bench flight once and checks that each run has
// its pull, raw copy and fill rows with the documented fields, numbers
// that can be true, and the target.
func TestBenchFlight(t *testing.T) {
	if os.Geteuid() != 0 {
		_, _, err := ndshmRun(t, "bench", "flight", "--runs", "1")
		if err == nil || !strings.Contains(err.Error(), "needs root") {
			t.Errorf("bench flight without root: %v, want an error saying it needs root", err)
		}
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root")
		}
		t.Skip("bench flight needs root")
	}
	out := mustRun(t, "bench", "flight", "--json", "--runs", "2")
	var got struct {
		Bench   string
		Results []map[string]any
		Mirror  []any
		Targets []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if got.Bench != "flight" || len(got.Results) != 2*3 || got.Mirror == nil || len(got.Targets) != 1 {
		t.Fatalf("got %s", out)
	}
	for i, r := range got.Results {
		method := []string{"flight-pull", "raw-tcp-copy", "fresh-block-fill"}[i%3]
		if r["method"] != method || r["run"] != float64(1+i/3) || r["size_bytes"] != float64(256<<20) {
			t.Errorf("result %d is %v run %v of %v bytes, want %s run %d of 256 MiB", i, r["method"], r["run"], r["size_bytes"], method, 1+i/3)
		}
		want := []string{"seconds", "bytes_per_s", "recv_user_copies_per_byte", "recv_cpu_ns_per_gb"}
		if method != "fresh-block-fill" {
			want = append(want, "send_user_copies_per_byte", "send_cpu_ns_per_gb")
		}
		if method == "flight-pull" {
			want = append(want, "vs_tcp")
		}
		for _, k := range want {
			if v, ok := r[k].(float64); !ok || !(v > 0) || math.IsInf(v, 0) {
				t.Errorf("result %d (%s): %s = %v", i, method, k, r[k])
			}
		}
	}
	if v, ok := got.Targets[0]["value"].(float64); !ok || !(v > 0) || got.Targets[0]["met"] == nil {
		t.Errorf("target %v", got.Targets[0])
	}
}

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ndshm/ndshm/internal/shmtest"
)

// The README's main job must run, check its own results (the demo fails
// on any wrong element or sum) and leave nothing behind, which TestMain
// checks: the demo's block carries this process's pid.
func TestDemo(t *testing.T) {
	shmtest.Python(t) // in CI the NumPy stage must run, not be skipped
	out := mustRun(t, "demo")
	for _, want := range []string{"attached by name", "sum", "matches", "unix socket", "faster",
		"Go process attached", "Python process", "SIGKILL", "removed the orphan", "unlinked the block",
		"process   × 2", "(checked)"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchHandoff(t *testing.T) {
	out := mustRun(t, "bench", "handoff", "--json", "--sizes", "1KiB,1MiB")
	var got struct {
		Bench   string
		Results []struct {
			Method string
			Size   int     `json:"size_bytes"`
			P50    float64 `json:"p50_us"`
			P99    float64 `json:"p99_us"`
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if got.Bench != "handoff" || len(got.Results) != 4 {
		t.Fatalf("got %+v", got)
	}
	for i, r := range got.Results {
		want := []string{"ndshm", "unix-socket-copy"}[i%2]
		if r.Method != want || r.Size != []int{1 << 10, 1 << 20}[i/2] || r.P50 <= 0 || r.P99 < r.P50 {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	for _, args := range [][]string{{"bench"}, {"bench", "bogus"}, {"bench", "handoff", "--sizes", "1XB"}} {
		if _, _, err := ndshmRun(t, args...); err == nil {
			t.Errorf("ndshm %v succeeded", args)
		}
	}
}

package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestBenchRing runs the ring benchmark with tiny frames and runs, and
// checks that every row carries the documented fields, with numbers
// that can be true, in the documented order; and that frames at least
// --paced-from, and only those, carry the 30 fps figures.
func TestBenchRing(t *testing.T) {
	out := mustRun(t, "bench", "ring", "--json", "--sizes", "64,64KiB", "--readers", "1,2",
		"--duration", "20ms", "--paced-from", "64KiB")
	var got struct {
		Bench   string
		Results []map[string]any
		Targets []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if got.Bench != "ring" || len(got.Results) != 2*2*3 {
		t.Fatalf("got bench %q with %d results, want ring with 12:\n%s", got.Bench, len(got.Results), out)
	}
	for i, r := range got.Results {
		size, readers := []float64{64, 64 << 10}[i/6], float64(1+i/3%2)
		method := []string{"ndshm-ring", "ndshm-ring-spin", "unix-socket-copy"}[i%3]
		if r["method"] != method || r["frame_bytes"] != size || r["readers"] != readers {
			t.Errorf("result %d is %v %v %v, want %s %v %v", i, r["method"], r["frame_bytes"], r["readers"], method, size, readers)
		}
		want := []string{"fps", "p50_us", "p99_us", "cpu_s_per_1k"}
		if paced := size >= 64<<10; paced {
			want = append(want, "paced_fps", "core_share")
		} else if r["paced_fps"] != nil || r["core_share"] != nil {
			t.Errorf("result %d: 30 fps figures for %v-byte frames", i, size)
		}
		for _, k := range want {
			if v, ok := r[k].(float64); !ok || !(v > 0) || math.IsInf(v, 0) {
				t.Errorf("result %d (%s %v B, %v readers): %s = %v", i, method, size, readers, k, r[k])
			}
		}
		if p50, p99 := r["p50_us"].(float64), r["p99_us"].(float64); p99 < p50 {
			t.Errorf("result %d: p99 %v < p50 %v", i, p99, p50)
		}
	}
	// 64 B with 1 reader has the latency and SPSC targets; 100 MiB is not run.
	if len(got.Targets) != 4 {
		t.Errorf("got targets %v, want the 4 for 64-byte frames", got.Targets)
	}
}

func TestBenchRingTable(t *testing.T) {
	out := mustRun(t, "bench", "ring", "--sizes", "64", "--readers", "1", "--duration", "5ms")
	for _, want := range []string{"ndshm-ring ", "ndshm-ring-spin", "unix-socket-copy", "p50 µs", "targets:",
		"p50 <= 10 µs"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench ring output lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchRingUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--sizes", "4"}, {"--sizes", "1XB"}, {"--readers", "0"}, {"--readers", "9"}, {"--readers", "1,x"},
		{"--duration", "0s"}, {"--spin", "-1us"}, {"--paced-from", "big"},
	} {
		if _, _, err := ndshmRun(t, append([]string{"bench", "ring"}, args...)...); !isUsage(err) {
			t.Errorf("bench ring %v: %v, want a usage error", args, err)
		}
	}
}

// TestBenchMap checks the rows of every pool: its first call (sqrt,
// exactly one, marked first), then each op's warm p50.
func TestBenchMap(t *testing.T) {
	out := mustRun(t, "bench", "map", "--json", "--size", "1MiB", "--runs", "1")
	var got struct {
		Bench   string
		Results []struct {
			Mode    string
			Workers int
			Op      string
			Bytes   int
			First   *bool
			P50     float64 `json:"p50_ms"`
		}
		TaskUs *float64        `json:"task_overhead_us"`
		LockUs json.RawMessage `json:"lock_us"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if got.Bench != "map" || len(got.Results) != 15 || got.TaskUs == nil || *got.TaskUs <= 0 || string(got.LockUs) == "null" {
		t.Fatalf("got %s", out)
	}
	pools := []string{"serial 1", "goroutine 1", "goroutine 2", "process 1", "process 2"}
	firsts := map[string]int{}
	for i, r := range got.Results {
		pool := r.Mode + " " + string(rune('0'+r.Workers))
		first := i%3 == 0
		if pool != pools[i/3] || r.Op != []string{"sqrt", "sqrt", "affine=2,1"}[i%3] || r.Bytes != 1<<20 ||
			r.P50 <= 0 || r.First == nil || *r.First != first {
			t.Errorf("result %d: %+v", i, r)
		}
		if r.First != nil && *r.First {
			firsts[pool]++
		}
	}
	for _, p := range pools {
		if firsts[p] != 1 {
			t.Errorf("pool %s has %d first rows, want 1", p, firsts[p])
		}
	}
	text := mustRun(t, "bench", "map", "--size", "64KiB", "--runs", "1")
	for _, want := range []string{"2 workers vs 1", "processes vs goroutines", "task round trip", "first call", "first / warm"} {
		if !strings.Contains(text, want) {
			t.Errorf("bench map lacks %q:\n%s", want, text)
		}
	}
	if _, _, err := ndshmRun(t, "bench", "map", "--size", "4"); !isUsage(err) {
		t.Errorf("bench map --size 4: %v", err)
	}
}

// handoffRow is a row of bench handoff --json.
type handoffRow struct {
	Method   string
	Size     int `json:"size_bytes"`
	Read     string
	Mapping  *string
	Huge     *bool
	P50      float64 `json:"p50_us"`
	P99      float64 `json:"p99_us"`
	Runs     int
	VsSocket *float64 `json:"vs_socket"`
	Sum      *uint64
}

// TestBenchHandoff checks that every size has, for each read, a fresh and
// a warm ndshm row with its ratio to the socket row that follows them;
// and that the peer that read all really summed every byte: the block
// holds i mod 251 at i.
func TestBenchHandoff(t *testing.T) {
	sizes := []int{1 << 10, 64<<10 + 3}
	for _, tc := range []struct {
		read  string
		reads []string
	}{
		{"all", []string{"all"}},
		{"touch,all", []string{"touch", "all"}},
	} {
		out := mustRun(t, "bench", "handoff", "--json", "--sizes", "1KiB,65539", "--read", tc.read)
		var got struct {
			Bench   string
			Results []handoffRow
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v in %s", err, out)
		}
		if got.Bench != "handoff" || len(got.Results) != len(sizes)*len(tc.reads)*3 {
			t.Fatalf("--read %s: got %s", tc.read, out)
		}
		for i, r := range got.Results {
			size, read := sizes[i/3/len(tc.reads)], tc.reads[i/3%len(tc.reads)]
			checkHandoffRow(t, i, r, size, read, []string{"fresh", "warm", ""}[i%3])
		}
	}
	text := mustRun(t, "bench", "handoff", "--sizes", "1KiB")
	for _, want := range []string{"read", "mapping", "huge", "touch", "all", "fresh", "warm", "ndshm / socket"} {
		if !strings.Contains(text, want) {
			t.Errorf("bench handoff lacks %q:\n%s", want, text)
		}
	}
	for _, args := range [][]string{{"bench"}, {"bench", "bogus"}, {"bench", "handoff", "--sizes", "1XB"},
		{"bench", "handoff", "--read", "some"}} {
		if _, _, err := ndshmRun(t, args...); err == nil {
			t.Errorf("ndshm %v succeeded", args)
		}
	}
}

func checkHandoffRow(t *testing.T, i int, r handoffRow, size int, read, mapping string) {
	t.Helper()
	ndshm := mapping != ""
	if r.Size != size || r.Read != read || r.P50 <= 0 || r.P99 < r.P50 || r.Runs < 5 {
		t.Errorf("result %d: %+v, want %d bytes, read %s", i, r, size, read)
	}
	if ndshm && (r.Method != "ndshm" || r.Mapping == nil || *r.Mapping != mapping || r.Huge == nil ||
		r.VsSocket == nil || !(*r.VsSocket > 0) || math.IsInf(*r.VsSocket, 0)) {
		t.Errorf("result %d: %+v, want ndshm %s with huge and vs_socket", i, r, mapping)
	}
	if !ndshm && (r.Method != "unix-socket-copy" || r.Mapping != nil || r.Huge != nil || r.VsSocket != nil) {
		t.Errorf("result %d: %+v, want unix-socket-copy without mapping, huge, vs_socket", i, r)
	}
	var want uint64
	for j := range size {
		want += uint64(j % 251)
	}
	if (read == "all") != (r.Sum != nil) || (r.Sum != nil && *r.Sum != want) {
		t.Errorf("result %d (%s %s): sum %v, want %d", i, r.Method, read, r.Sum, want)
	}
}

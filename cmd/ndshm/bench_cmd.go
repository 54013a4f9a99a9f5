package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ndshm/ndshm/internal/handoff"
)

const benchAbout = `
Measures ndshm against copying. Benchmarks:

  handoff   hand a block of each size (1 KiB to 1 GiB) to another process,
            which attaches and touches one byte, vs. sending the same bytes
            through a unix socket; median and p99 round trip per size.

  map       in-place sqrt, then affine=2,1, over a float64 array (--size,
            default 400 MiB) with no parallelism, 1 and 2 goroutines, and
            1 and 2 worker processes; p50 of --runs runs each; and one
            task's round trip to a worker process (the empty op, no data).

  ring      stream frames (--sizes, default 64 B, 64 KiB, 1 MiB, 100 MiB)
            to 1 and 2 reader processes (--readers) through a ring, with
            readers that sleep or spin (--spin), vs copying each frame
            through a unix socket to each reader: frames/s at full speed
            and CPU seconds per 1,000 frames (--duration each), publish to
            reader-awake latency p50/p99, and for frames of --paced-from
            and more the transport's share of a core at 30 fps. About 35 s.

--json prints {"bench":"handoff","results":[{"method":"ndshm"|"unix-socket-copy",
"size_bytes":N,"p50_us":x,"p99_us":y,"runs":n}]}, or for map
{"bench":"map","results":[{"mode":"serial"|"goroutine"|"process","workers":N,
"op":"sqrt","bytes":B,"p50_ms":x}],"task_overhead_us":y,"lock_us":null}, or for ring
{"bench":"ring","results":[{"method":"ndshm-ring"|"ndshm-ring-spin"|"unix-socket-copy",
"frame_bytes":N,"readers":R,"fps":f,"p50_us":x,"p99_us":y,"cpu_s_per_1k":c,...}],
"targets":[{"target":"...","value":v,"unit":"...","met":true|false|null}]}.`

func init() {
	commands["bench"] = command{runBench, "measure ndshm against copying channels"}
}

func runBench(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "bench", "bench handoff [--json] [--sizes 1KiB,1MiB,...] | bench map [--json] [--size 400MiB] [--runs N]"+
		" | bench ring [--json] [--sizes 64,1MiB,...] [--readers 1,2] [--duration D]", benchAbout)
	asJSON := f.Bool("json", false, "print JSON")
	sizes := f.String("sizes", "", "comma-separated sizes (default 1KiB to 1GiB; ring: 64,64KiB,1MiB,100MiB)")
	size := f.String("size", "400MiB", "map: the array's size `S` (default 400MiB)")
	runs := f.Int("runs", 5, "map: `N` runs of each op in each pool (default 5)")
	readers := f.String("readers", "1,2", "ring: `N,M` reader processes (default 1,2)")
	duration := f.Duration("duration", 400*time.Millisecond, "ring: send frames for `D` in each run (default 400ms)")
	spin := f.Duration("spin", 50*time.Microsecond, "ring: ndshm-ring-spin readers poll for `D` before sleeping (default 50µs)")
	pacedFrom := f.String("paced-from", "16MiB", "ring: frames of `S` and more also go at 30 fps (default 16MiB)")
	pos, err := f.parse(args)
	if err == nil {
		err = f.want(pos, "BENCHMARK")
	}
	if err != nil {
		return err
	}
	if pos[0] == "map" {
		n, err := parseSize(*size)
		if err != nil || n < 8 || *runs < 1 {
			return f.usageErr("--size must be at least 8 bytes and --runs at least 1")
		}
		return benchMap(ctx, e.stdout, *asJSON, n, *runs)
	}
	if pos[0] == "ring" {
		if *sizes == "" {
			*sizes = "64,64KiB,1MiB,100MiB"
		}
		o, err := parseRbenchOpts(*sizes, *readers, *duration, *spin, *pacedFrom)
		if err != nil {
			return f.usageErr("%v", err)
		}
		return benchRing(ctx, e.stdout, *asJSON, o)
	}
	if pos[0] != "handoff" {
		return f.usageErr("unknown benchmark %q", pos[0])
	}
	list := handoff.Sizes
	if *sizes != "" {
		if list, err = parseSizes(*sizes); err != nil {
			return f.usageErr("--sizes: %v", err)
		}
	}
	return benchHandoff(ctx, e.stdout, *asJSON, list)
}

// parseSizes reads "1KiB,64KiB,1MiB" (or plain byte counts).
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := parseSize(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// parseSize reads a byte count with an optional binary unit: 64KiB, 1MiB.
func parseSize(s string) (int, error) {
	shift := 0
	for i, u := range []string{"KiB", "MiB", "GiB"} {
		if rest, ok := strings.CutSuffix(s, u); ok {
			s, shift = rest, 10*(i+1)
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 1<<40>>shift {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n << shift, nil
}

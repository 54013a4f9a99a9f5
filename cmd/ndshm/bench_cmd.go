package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

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

--json prints {"bench":"handoff","results":[{"method":"ndshm"|"unix-socket-copy",
"size_bytes":N,"p50_us":x,"p99_us":y,"runs":n}]}, or for map
{"bench":"map","results":[{"mode":"serial"|"goroutine"|"process","workers":N,
"op":"sqrt","bytes":B,"p50_ms":x}],"task_overhead_us":y,"lock_us":null}.`

func init() {
	commands["bench"] = command{runBench, "measure ndshm against copying channels"}
}

func runBench(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "bench", "bench handoff [--json] [--sizes 1KiB,1MiB,...] | bench map [--json] [--size 400MiB] [--runs N]", benchAbout)
	asJSON := f.Bool("json", false, "print JSON")
	sizes := f.String("sizes", "", "comma-separated sizes (default 1KiB to 1GiB)")
	size := f.String("size", "400MiB", "map: the array's size `S` (default 400MiB)")
	runs := f.Int("runs", 5, "map: `N` runs of each op in each pool (default 5)")
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

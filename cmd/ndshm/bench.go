package main

import (
	"context"

	"github.com/ndshm/ndshm/internal/bench"
)

// runBench is `ndshm bench`: the benchmarks are internal/bench's.
func runBench(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "bench", bench.Synopsis, bench.About)
	var o bench.Options
	o.Flags(f.FlagSet)
	pos, err := f.parse(args)
	if err == nil {
		err = f.want(pos, "BENCHMARK")
	}
	if err != nil {
		return err
	}
	b, err := bench.New(pos[0], &o)
	if err != nil {
		return f.usageErr("%v", err)
	}
	return b(ctx, e.stdout)
}

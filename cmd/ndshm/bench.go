package main

import (
	"context"

	"github.com/ndshm/ndshm/internal/bench"
	"github.com/ndshm/ndshm/internal/cmdflag"
)

// runBench is `ndshm bench`: the benchmarks are internal/bench's.
func runBench(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "bench", bench.Synopsis, bench.About)
	var o bench.Options
	o.Flags(f.FlagSet)
	pos, err := f.Parse(args)
	if err == nil {
		err = f.Want(pos, "BENCHMARK")
	}
	if err != nil {
		return err
	}
	b, err := bench.New(pos[0], &o)
	if err != nil {
		return f.UsageErr("%v", err)
	}
	return b(ctx, e.stdout)
}

package main

import (
	"fmt"
	"runtime"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/pool"
)

// blockPool starts the workers for b, as many as asked (0: one per CPU)
// but capped by workerCount, saying so on stderr if --workers was capped.
func blockPool(e *env, cmd string, asked int, b *ndshm.Block, opts ...pool.Option) (*pool.Pool, error) {
	n, why := workerCount(asked, rowsOf(b.Spec()))
	if why != "" && asked > 0 {
		fmt.Fprintf(e.stderr, "ndshm %s: %d worker processes, not %d: %s\n", cmd, n, asked, why)
	}
	return pool.New(n, opts...)
}

// maxWorkersPerCPU bounds --workers: more processes than this per CPU
// only cost their start-up (each is a new process that maps the block)
// and their memory, and take turns on the same CPUs.
const maxWorkersPerCPU = 4

// workerCount is how many workers to start for an array of rows rows
// when asked for asked (0: one per CPU): at most one per row, since a
// partition is at least a row, and at most maxWorkersPerCPU per CPU
// this process may use (GOMAXPROCS). why says what capped it, if
// anything did.
func workerCount(asked, rows int) (n int, why string) {
	n = asked
	if n < 1 {
		n = runtime.NumCPU()
	}
	if limit := maxWorkersPerCPU * runtime.GOMAXPROCS(0); n > limit {
		n, why = limit, fmt.Sprintf("at most %d per CPU, and there are %d", maxWorkersPerCPU, runtime.GOMAXPROCS(0))
	}
	if rows = max(rows, 1); n > rows {
		n, why = rows, fmt.Sprintf("the array has %d rows (axis 0), and a worker gets whole rows", rows)
	}
	return n, why
}

// rowsOf is the extent of axis 0, which pools split; a 0-d array has one row.
func rowsOf(s ndshm.Spec) int {
	if len(s.Shape) == 0 {
		return 1
	}
	return s.Shape[0]
}

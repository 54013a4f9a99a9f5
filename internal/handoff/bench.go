package handoff

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ndshm/ndshm"
)

// Result is one line of `ndshm bench handoff --json`.
type Result struct {
	Method string  `json:"method"` // "ndshm" or "unix-socket-copy"
	Size   int     `json:"size_bytes"`
	P50    float64 `json:"p50_us"`
	P99    float64 `json:"p99_us"`
	Runs   int     `json:"runs"`
}

// Sizes is the default sweep, 1 KiB to 1 GiB.
var Sizes = []int{1 << 10, 64 << 10, 1 << 20, 16 << 20, 100 << 20, 256 << 20, 1 << 30}

// Bench hands a block of each size to the peer by name and by copy, and
// returns both methods' latencies per size. Blocks are named prefix-N and
// removed before Bench returns.
func (c *Client) Bench(ctx context.Context, prefix string, sizes []int) ([]Result, error) {
	var out []Result
	for _, size := range sizes {
		rs, err := c.benchSize(ctx, fmt.Sprintf("%s-%d", prefix, size), size)
		if err != nil {
			return out, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

func (c *Client) benchSize(ctx context.Context, name string, size int) ([]Result, error) {
	b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{size}})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	// Copies of a large array take long; enough runs for a p99 of the
	// small ones, at least five of the largest.
	copies := min(200, max(5, (2<<30)/max(size, 1)))
	named, err := repeat(ctx, 200, func() (time.Duration, error) { return c.Named(name) })
	if err != nil {
		return nil, err
	}
	copied, err := repeat(ctx, copies, func() (time.Duration, error) { return c.Copy(b.Bytes()) })
	if err != nil {
		return nil, err
	}
	return []Result{summary("ndshm", size, named), summary("unix-socket-copy", size, copied)}, nil
}

func repeat(ctx context.Context, n int, f func() (time.Duration, error)) ([]time.Duration, error) {
	ds := make([]time.Duration, 0, n)
	for range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d, err := f()
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, nil
}

func summary(method string, size int, ds []time.Duration) Result {
	return Result{Method: method, Size: size, Runs: len(ds),
		P50: Percentile(ds, 50), P99: Percentile(ds, 99)}
}

// Percentile returns the p-th percentile of ds in microseconds (nearest
// rank), sorting ds in place.
func Percentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.5) - 1
	i = min(max(i, 0), len(ds)-1)
	return float64(ds[i].Nanoseconds()) / 1e3
}

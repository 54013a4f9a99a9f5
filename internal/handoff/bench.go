package handoff

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ndshm/ndshm"
)

// Result is one line of `ndshm bench handoff --json`. Mapping, Huge and
// VsSocket are the ndshm rows' only; Sum is the read-all rows' only.
type Result struct {
	Method  string `json:"method"` // "ndshm" or "unix-socket-copy"
	Size    int    `json:"size_bytes"`
	Read    string `json:"read"`              // "touch" or "all"
	Mapping string `json:"mapping,omitempty"` // "fresh" or "warm"
	// Huge says whether the peer's mapping of the block had its data in
	// huge pages, as its smaps said after reading all of it.
	Huge     *bool   `json:"huge,omitempty"`
	P50      float64 `json:"p50_us"`
	P99      float64 `json:"p99_us"`
	Runs     int     `json:"runs"`
	VsSocket float64 `json:"vs_socket,omitempty"` // this p50 / the socket's p50, same size and read, same run
	Sum      *uint64 `json:"sum,omitempty"`       // what the peer summed, the same in every run (Bench checks it)
}

// Sizes is the default sweep, 1 KiB to 1 GiB.
var Sizes = []int{1 << 10, 64 << 10, 1 << 20, 16 << 20, 100 << 20, 256 << 20, 1 << 30}

// Bench hands a block of each size to the peer by name, through a fresh
// and a warm mapping, and by copy, reading it each way in reads, and
// returns the latencies per size and read: ndshm fresh, ndshm warm and
// the socket's. Blocks are named prefix-N and removed before Bench
// returns. The peer's answers are checked: a wrong byte or sum is an
// error.
func (c *Client) Bench(ctx context.Context, prefix string, sizes []int, reads []Read) ([]Result, error) {
	var out []Result
	for _, size := range sizes {
		rs, err := c.benchSize(ctx, fmt.Sprintf("%s-%d", prefix, size), size, reads)
		if err != nil {
			return out, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

func (c *Client) benchSize(ctx context.Context, name string, size int, reads []Read) ([]Result, error) {
	b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{size}})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	data := b.Bytes()
	Fill(data)
	var out []Result
	for _, r := range reads {
		rs, err := c.benchRead(ctx, name, data, r)
		if err != nil {
			return out, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// benchRead measures the three ways of handing data over, read as r says.
func (c *Client) benchRead(ctx context.Context, name string, data []byte, r Read) ([]Result, error) {
	// Copies of a large array take long; enough runs for a p99 of the
	// small ones, at least five of the largest. Touching through a
	// mapping takes the same time for any size.
	runs := min(200, max(5, (2<<30)/max(len(data), 1)))
	mapRuns := runs
	if r == Touch {
		mapRuns = 200
	}
	want := r.of(data)
	fresh, err := repeat(ctx, mapRuns, want, func() (Reply, error) { return c.Fresh(name, r) })
	if err != nil {
		return nil, err
	}
	freshHuge, err := c.Huge(name)
	if err != nil {
		return nil, err
	}
	warm, warmHuge, err := c.benchWarm(ctx, name, mapRuns, want, r)
	if err != nil {
		return nil, err
	}
	copied, err := repeat(ctx, runs+1, want, func() (Reply, error) { return c.Copy(data, r) })
	if err != nil {
		return nil, err
	}
	sock := summary("unix-socket-copy", len(data), r, copied[1:]) // the first grew the peer's buffer
	rs := []Result{summary("ndshm", len(data), r, fresh), summary("ndshm", len(data), r, warm), sock}
	huge := []bool{freshHuge, warmHuge}
	for i, m := range []string{"fresh", "warm"} {
		rs[i].Mapping, rs[i].Huge, rs[i].VsSocket = m, &huge[i], rs[i].P50/sock.P50
	}
	if r == All {
		for i := range rs {
			rs[i].Sum = &want
		}
	}
	return rs, nil
}

// benchWarm times reads through the peer's kept mapping, after one read
// that maps it, and then has the peer unmap it.
func (c *Client) benchWarm(ctx context.Context, name string, n int, want uint64, r Read) ([]time.Duration, bool, error) {
	ds, err := repeat(ctx, n+1, want, func() (Reply, error) { return c.Warm(name, r) })
	if err != nil {
		return nil, false, err
	}
	huge, err := c.Huge(name)
	if err := c.Forget(); err != nil {
		return nil, false, err
	}
	return ds[1:], huge, err
}

// repeat calls f n times and returns how long each took, failing if the
// peer's answer is not want.
func repeat(ctx context.Context, n int, want uint64, f func() (Reply, error)) ([]time.Duration, error) {
	ds := make([]time.Duration, 0, n)
	for range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rep, err := f()
		if err != nil {
			return nil, err
		}
		if rep.Value != want {
			return nil, fmt.Errorf("handoff: the peer read %d, want %d", rep.Value, want)
		}
		ds = append(ds, rep.Took)
	}
	return ds, nil
}

// Fill writes i mod 251 into each d[i]: nonzero almost everywhere, so
// that a sum shows whether every byte was read.
func Fill(d []byte) {
	for i := range min(len(d), 251) {
		d[i] = byte(i)
	}
	for n := 251; n < len(d); n *= 2 {
		copy(d[n:], d[:n])
	}
}

func summary(method string, size int, r Read, ds []time.Duration) Result {
	return Result{Method: method, Size: size, Read: r.String(), Runs: len(ds),
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

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/pool"
)

const statsAbout = `
Prints the count, sum, min, max and mean of the elements of the block
NAME, computed in float64, for bool, int, uint and float dtypes in native
byte order. As in NumPy, a NaN element makes sum, min, max and mean NaN;
an empty array has sum 0 and min, max and mean NaN.

--json prints {"name", "dtype", "count", "sum", "min", "max", "mean"};
JSON has no NaN or infinity, so those values are null there.

--workers N splits the rows among N worker processes (as ndshm reduce
does) for int, uint and float dtypes; each reads only its own rows, of
a raw block too.`

// runStats is `ndshm stats`.
func runStats(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "stats", "stats NAME [--json] [--workers N] [--dtype D --shape S [--order C|F]]", statsAbout)
	var sf specFlags
	sf.registerRead(f)
	workers := f.Int("workers", 0, "compute in `N` worker processes (default: in this process; at most 4 per CPU and one per row)")
	asJSON := f.Bool("json", false, "print JSON (NaN and ±Inf as null)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := f.want(pos, "NAME"); err != nil {
		return err
	}
	sf.readOnly = true
	b, err := openBlock(blockName(pos[0]), f, &sf)
	if err != nil {
		return err
	}
	defer b.Close()
	var s stats
	if *workers > 0 {
		s, err = poolStats(ctx, e, b, *workers)
	} else {
		s, err = blockStats(ctx, b)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, statsJSON{
			Name: b.Name(), DType: b.DType().String(), Count: s.count,
			Sum: jsonFloat(s.sum), Min: jsonFloat(s.min), Max: jsonFloat(s.max), Mean: jsonFloat(s.mean()),
		})
	}
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	_, err = fmt.Fprintf(e.stdout, "count %d  sum %s  min %s  max %s  mean %s\n",
		s.count, g(s.sum), g(s.min), g(s.max), g(s.mean()))
	return err
}

// blockStats summarizes a block by its dtype. It is guarded: a block
// truncated by another process is an error, not a crash.
func blockStats(ctx context.Context, b *ndshm.Block) (s stats, err error) {
	dt := b.DType()
	if dt.Fields() != nil || !dt.Native() {
		return stats{}, fmt.Errorf("stats: dtype %s is not a native-order bool, int, uint or float", dt)
	}
	sum := map[[2]int]func(context.Context, *ndshm.Block) (stats, error){
		{'b', 1}: summarizeBool,
		{'i', 1}: summarizeBlock[int8], {'i', 2}: summarizeBlock[int16],
		{'i', 4}: summarizeBlock[int32], {'i', 8}: summarizeBlock[int64],
		{'u', 1}: summarizeBlock[uint8], {'u', 2}: summarizeBlock[uint16],
		{'u', 4}: summarizeBlock[uint32], {'u', 8}: summarizeBlock[uint64],
		{'f', 2}: summarizeHalf, {'f', 4}: summarizeBlock[float32], {'f', 8}: summarizeBlock[float64],
	}[[2]int{int(dt.Kind()), dt.Size()}]
	if sum == nil {
		return stats{}, fmt.Errorf("stats: dtype %s is not a bool, int, uint or float", dt)
	}
	err = guard(func() error {
		s, err = sum(ctx, b)
		return err
	})
	return s, err
}

// summarizeBool checks that every byte is 0 or 1 (View[bool] refuses
// anything else) and sums the bytes: the count of trues.
func summarizeBool(ctx context.Context, b *ndshm.Block) (stats, error) {
	if _, err := ndshm.View[bool](b); err != nil {
		return stats{}, err
	}
	return summarizeBlock[uint8](ctx, b)
}

// statsJSON is stats --json's object.
type statsJSON struct {
	Name  string    `json:"name"`
	DType string    `json:"dtype"`
	Count int       `json:"count"`
	Sum   jsonFloat `json:"sum"`
	Min   jsonFloat `json:"min"`
	Max   jsonFloat `json:"max"`
	Mean  jsonFloat `json:"mean"`
}

// jsonFloat is a float64 that encodes NaN and ±Inf, which JSON lacks,
// as null.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(x)
}

// poolStats has n worker processes summarize their own rows of b; one
// reduction gives count, sum, min and max together.
func poolStats(ctx context.Context, e *env, b *ndshm.Block, n int) (stats, error) {
	if err := pool.Check("mean", true, b.DType()); err != nil {
		return stats{}, fmt.Errorf("stats %s: --workers: %w; without --workers stats reads any bool, int, uint or float dtype", b.Name(), err)
	}
	p, err := blockPool(e, "stats", n, b)
	if err != nil {
		return stats{}, err
	}
	defer p.Close()
	r, err := p.Reduce(ctx, b, "mean")
	if err != nil {
		return stats{}, fmt.Errorf("stats: %w", err)
	}
	return stats{count: int(r.Count), sum: r.Sum, min: r.Min, max: r.Max}, nil
}

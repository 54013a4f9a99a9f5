package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/specflag"
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
does); each reads only its own rows, of a raw block too. Without it the
same kernels run in this process, so both print the same numbers.`

// runStats is `ndshm stats`.
func runStats(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "stats", "stats NAME [--json] [--workers N] [--dtype D --shape S [--order C|F]]", statsAbout)
	var sf specflag.Flags
	sf.RegisterRead(f)
	workers := f.Int("workers", 0, "compute in `N` worker processes (default: in this process; at most 4 per CPU and one per row)")
	asJSON := f.Bool("json", false, "print JSON (NaN and ±Inf as null)")
	pos, err := f.Parse(args)
	if err != nil {
		return err
	}
	if err := f.Want(pos, "NAME"); err != nil {
		return err
	}
	sf.ReadOnly = true
	b, err := openBlock(blockName(pos[0]), f, &sf)
	if err != nil {
		return err
	}
	defer b.Close()
	s, err := blockStats(ctx, e, b, *workers)
	if err != nil {
		return err
	}
	if *asJSON {
		return describe.WriteJSON(e.stdout, statsJSON{
			Name: b.Name(), DType: b.DType().String(), Count: int(s.Count),
			Sum: jsonFloat(s.Sum), Min: jsonFloat(s.Min), Max: jsonFloat(s.Max), Mean: jsonFloat(s.Mean()),
		})
	}
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	_, err = fmt.Fprintf(e.stdout, "count %d  sum %s  min %s  max %s  mean %s\n",
		s.Count, g(s.Sum), g(s.Min), g(s.Max), g(s.Mean()))
	return err
}

// blockStats reduces b with the pool's built-in "mean" op, which gives
// count, sum, min and max in one pass: in this process, a partition of
// about serialChunk elements at a time (the pool checks ctx between
// partitions, so ^C is seen within one), or with workers > 0 in that
// many worker processes. So stats and stats --workers run the same
// kernels, and agree. A block truncated by another process is an error,
// not a crash: the pool recovers the memory fault.
func blockStats(ctx context.Context, e *env, b *ndshm.Block, workers int) (pool.Stats, error) {
	if err := pool.Check("mean", true, b.DType()); err != nil {
		return pool.Stats{}, fmt.Errorf("stats %s: %w", b.Name(), err)
	}
	p := pool.Serial(pool.ChunkRows(serialRows(b.Spec())))
	if workers > 0 {
		var err error
		if p, err = blockPool(e, "stats", workers, b); err != nil {
			return pool.Stats{}, err
		}
	}
	defer p.Close()
	s, err := p.Reduce(ctx, b, "mean")
	if err != nil {
		return pool.Stats{}, fmt.Errorf("stats: %w", err)
	}
	return s, nil
}

// serialChunk is about how many elements stats reads in this process
// between checks for ^C.
const serialChunk = 1 << 20

// serialRows is how many rows (axis 0) make about serialChunk elements;
// at least one.
func serialRows(s ndshm.Spec) int {
	rowLen := s.Len() / max(rowsOf(s), 1)
	return max(1, serialChunk/max(rowLen, 1))
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

package bench

import (
	"fmt"

	"github.com/ndshm/ndshm/internal/bench/chart"
	"github.com/ndshm/ndshm/internal/handoff"
	"github.com/ndshm/ndshm/internal/human"
)

// sizeLabel labels a size axis's ticks: 1 KiB, 1 MiB.
func sizeLabel(v float64) string { return human.Bytes(int64(v)) }

// addPoint adds (x, y) to c's series name, which it appends the first
// time; idx holds each name's index in c.Series.
func addPoint(c *chart.Chart, idx map[string]int, name string, x, y float64) {
	i, ok := idx[name]
	if !ok {
		i = len(c.Series)
		idx[name] = i
		c.Series = append(c.Series, chart.Series{Name: name})
	}
	c.Series[i].X = append(c.Series[i].X, x)
	c.Series[i].Y = append(c.Series[i].Y, y)
}

// handoffChart is p50 round trip against size, one line per read and
// mapping for ndshm and one per read for the socket copy, so that where
// ndshm's lines cross the socket's is where sharing starts to pay.
func handoffChart(rs []handoff.Result) chart.Chart {
	c := chart.Chart{Title: "ndshm bench handoff: hand a block to another process",
		XLabel: "size", YLabel: "p50 round trip (µs)", XTick: sizeLabel}
	idx := map[string]int{}
	for _, r := range rs {
		name := "unix socket copy, read " + r.Read
		if r.Method != "unix-socket-copy" {
			name = fmt.Sprintf("ndshm, %s mapping, read %s", r.Mapping, r.Read)
		}
		addPoint(&c, idx, name, float64(r.Size), r.P50)
	}
	return c
}

// ringChart is frames/s at full speed against frame size, one line per
// method and number of readers.
func ringChart(rs []rbenchResult) chart.Chart {
	c := chart.Chart{Title: "ndshm bench ring: frames to reader processes, ring vs socket",
		XLabel: "frame size", YLabel: "frames/s, full speed", XTick: sizeLabel}
	idx := map[string]int{}
	for _, r := range rs {
		name := fmt.Sprintf("%s, %d reader", r.Method, r.Readers)
		if r.Readers > 1 {
			name += "s"
		}
		addPoint(&c, idx, name, float64(r.FrameBytes), r.FPS)
	}
	return c
}

// mapChart is, per pool, the first call (sqrt, in which process workers
// map the block) beside the warm p50 of the same op.
func mapChart(r mapReport) chart.Chart {
	warm, first := r.split()
	c := chart.Chart{YLabel: "ms", Series: []chart.Series{{Name: "first call"}, {Name: "warm p50"}}}
	for i, f := range first {
		w := warm[2*i] // each pool's warm rows are sqrt, then affine
		c.Categories = append(c.Categories, fmt.Sprintf("%s ×%d", f.Mode, f.Workers))
		c.Series[0].Y = append(c.Series[0].Y, f.P50)
		c.Series[1].Y = append(c.Series[1].Y, w.P50)
	}
	if len(first) > 0 {
		c.Title = fmt.Sprintf("ndshm bench map: %s over %s of float64, per pool", first[0].Op, human.Bytes(int64(first[0].Bytes)))
	}
	return c
}

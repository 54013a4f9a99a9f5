// Package chart draws ndshm bench's results, for --plot: lines over a
// size sweep on log-log axes, or grouped bars. It is the only importer
// of gonum.org/v1/plot, so that the ndshm library and the commands that
// do not plot do not link it.
package chart

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// A Series is one named line, or one named group of bars. For bars, X
// is ignored and Y has one value per category.
type Series struct {
	Name string
	X, Y []float64
}

// A Chart is what Save draws. With Categories, each series is a set of
// bars, one per category, on a linear axis; without, each series is a
// line with points on log-log axes, whose ticks XTick and YTick label
// (nil: the number itself).
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
	Categories            []string
	XTick, YTick          func(float64) string
}

// Formats are the file name extensions Save writes.
var Formats = []string{".svg", ".png"}

// CheckPath reports whether Save can write a file of path's name: its
// extension must be one of Formats. The error is the user's.
func CheckPath(path string) error {
	if !slices.Contains(Formats, strings.ToLower(filepath.Ext(path))) {
		return fmt.Errorf("--plot %s: the file name must end in .svg or .png", path)
	}
	return nil
}

// Save draws c into the file path, as SVG or PNG by its extension,
// replacing the file if it exists.
func Save(path string, c Chart) error {
	if err := CheckPath(path); err != nil {
		return err
	}
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text, p.Y.Label.Text = c.XLabel, c.YLabel
	p.Legend.Top = true
	var err error
	if c.Categories != nil {
		err = addBars(p, c)
	} else {
		err = addLines(p, c)
	}
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := p.Save(8*vg.Inch, 5*vg.Inch, path); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}

// addLines draws each series as a line with points, on log-log axes.
// Points that a log axis cannot show (zero or less) are left out; with
// none left, there is nothing to draw and that is an error.
func addLines(p *plot.Plot, c Chart) error {
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.Y.Tick.Marker = logTicks(c.YTick)
	p.Add(plotter.NewGrid())
	var all plotter.XYs
	for i, s := range c.Series {
		var xys plotter.XYs
		for j := range min(len(s.X), len(s.Y)) {
			if s.X[j] > 0 && s.Y[j] > 0 && !math.IsInf(s.X[j], 0) && !math.IsInf(s.Y[j], 0) {
				xys = append(xys, plotter.XY{X: s.X[j], Y: s.Y[j]})
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return err
		}
		l.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
		l.Dashes, pts.Shape = plotutil.Dashes(i), plotutil.Shape(i)
		p.Add(l, pts)
		p.Legend.Add(s.Name, l, pts)
		all = append(all, xys...)
	}
	if len(all) == 0 {
		return errors.New("no positive figures to draw on log axes")
	}
	p.X.Tick.Marker = dataTicks(all, c.XTick)
	// A little room around the points, more above them for the legend,
	// and never an empty range, which gonum would widen by ±1, below 0.
	xlo, xhi, ylo, yhi := plotter.XYRange(all)
	p.X.Min, p.X.Max = xlo/1.2, xhi*1.2
	p.Y.Min, p.Y.Max = ylo/1.5, yhi*1.5
	f := legendShare(len(c.Series))
	p.Y.Max *= math.Pow(p.Y.Max/p.Y.Min, f/(1-f))
	return nil
}

// legendShare is the part of the plot's height to leave free above the
// data for a legend of n entries.
func legendShare(n int) float64 { return min(0.6, 0.05+0.055*float64(n)) }

// dataTicks labels each X at which there is a point, with label (nil:
// the number): the sizes a sweep measured.
func dataTicks(xys plotter.XYs, label func(float64) string) plot.Ticker {
	if label == nil {
		label = func(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }
	}
	var ts plot.ConstantTicks
	for _, xy := range xys {
		if !slices.ContainsFunc(ts, func(t plot.Tick) bool { return t.Value == xy.X }) {
			ts = append(ts, plot.Tick{Value: xy.X, Label: label(xy.X)})
		}
	}
	return ts
}

// addBars draws one bar per series side by side in each category.
func addBars(p *plot.Plot, c Chart) error {
	w := vg.Points(60 / float64(max(1, len(c.Series))))
	for i, s := range c.Series {
		b, err := plotter.NewBarChart(plotter.Values(s.Y), w)
		if err != nil {
			return err
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		b.Offset = w * vg.Length(2*i-len(c.Series)+1) / 2
		p.Add(b)
		p.Legend.Add(s.Name, b)
	}
	p.NominalX(c.Categories...)
	p.X.Min, p.X.Max = -0.6, float64(len(c.Categories))-0.4
	p.Add(plotter.NewGrid())
	top := 0.0
	for _, s := range c.Series {
		for _, y := range s.Y {
			top = max(top, y)
		}
	}
	p.Y.Min, p.Y.Max = 0, top/(1-legendShare(len(c.Series)))
	return nil
}

// logTicks puts a tick at each power of ten in range, labelled by
// label (nil: the number), and minor ticks at 2× to 9×, of which 2× and
// 5× are labelled too when the range spans few decades.
func logTicks(label func(float64) string) plot.Ticker {
	if label == nil {
		label = func(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }
	}
	return plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		var ts []plot.Tick
		few := hi/lo < 1000
		for v := math.Pow(10, math.Floor(math.Log10(lo))); v <= hi; v *= 10 {
			for m := 1.0; m < 10; m++ {
				t := plot.Tick{Value: m * v}
				if m == 1 || few && (m == 2 || m == 5) {
					t.Label = label(m * v)
				}
				ts = append(ts, t)
			}
		}
		return slices.DeleteFunc(ts, func(t plot.Tick) bool { return t.Value < lo || t.Value > hi })
	})
}

package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/pool"
)

const reduceAbout = `
Computes OP over the array of the block NAME in worker processes, each
reading its own rows (axis 0); the parent combines their results. Values
are computed in float64. OP is one of:

  sum, min, max, mean   prints the value; NaN if any element is NaN
  count                 prints the number of elements
  histogram=BINS,LO,HI  prints BINS equal bins over [LO, HI]: each bin's
                        edges and count, as numpy.histogram counts them

An empty array has sum 0 and min, max and mean NaN.

--json prints {"name", "dtype", "op", "count", "value"}, or for a
histogram {"name", "dtype", "op", "count", "edges", "bins"}, NaN and
infinities as null.

A raw block (no ndshm header, such as Python's SharedMemory makes) is
read as --dtype, --shape and --order describe it.`

// runReduce is `ndshm reduce`.
func runReduce(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "reduce", "reduce NAME --op sum|min|max|mean|count|histogram=BINS,LO,HI [--workers N] [--json] [--dtype D --shape S [--order C|F]]", reduceAbout)
	var pf poolFlags
	pf.register(f, "sum or histogram=10,0,1")
	asJSON := f.Bool("json", false, "print JSON")
	pos, err := f.Parse(args)
	if err == nil {
		err = f.Want(pos, "NAME")
	}
	if err == nil {
		err = pf.check(f)
	}
	if err != nil {
		return err
	}
	name, params, _ := pool.ParseOp(pf.op)
	b, p, err := pf.open(e, f, pos[0], true)
	if err != nil {
		return err
	}
	defer b.Close()
	defer p.Close()
	s, err := p.Reduce(ctx, b, pf.op)
	if err != nil {
		return pf.opErr(f, err)
	}
	r := reduceJSON{Name: b.Name(), DType: b.DType().String(), Op: name, Count: s.Count}
	if name == "histogram" {
		r.Bins = s.Hist
		for i := range len(s.Hist) + 1 {
			r.Edges = append(r.Edges, jsonFloat(edge(params, i)))
		}
	} else {
		v := reduced(name, s)
		r.Value = &v
	}
	if *asJSON {
		return describe.WriteJSON(e.stdout, r)
	}
	return r.write(e.stdout)
}

type reduceJSON struct {
	Name  string      `json:"name"`
	DType string      `json:"dtype"`
	Op    string      `json:"op"`
	Count int64       `json:"count"`
	Value *jsonFloat  `json:"value,omitempty"`
	Edges []jsonFloat `json:"edges,omitempty"`
	Bins  []uint64    `json:"bins,omitempty"`
}

// reduced picks the asked value out of Reduce's stats.
func reduced(op string, s pool.Stats) jsonFloat {
	switch op {
	case "sum":
		return jsonFloat(s.Sum)
	case "min":
		return jsonFloat(s.Min)
	case "max":
		return jsonFloat(s.Max)
	case "mean":
		return jsonFloat(s.Mean())
	}
	return jsonFloat(s.Count)
}

// edge is numpy.linspace(lo, hi, bins+1)[i], the histogram's i'th edge.
func edge(p pool.Params, i int) float64 {
	bins, lo, hi := p[0], p[1], p[2]
	if float64(i) == bins {
		return hi
	}
	return float64(i)*((hi-lo)/bins) + lo
}

func (r reduceJSON) write(w io.Writer) error {
	g := func(x jsonFloat) string { return strconv.FormatFloat(float64(x), 'g', -1, 64) }
	if r.Value != nil {
		_, err := fmt.Fprintln(w, g(*r.Value))
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "from\tto\tcount\t")
	for i, c := range r.Bins {
		fmt.Fprintf(tw, "%s\t%s\t%d\t\n", g(r.Edges[i]), g(r.Edges[i+1]), c)
	}
	return tw.Flush()
}

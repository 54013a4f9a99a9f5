package bench

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ndshm/ndshm/internal/bench/chart"
	"github.com/ndshm/ndshm/internal/human"
)

// write prints the rows as a table, then the mirror's place and the
// targets.
func (r flightReport) write(w io.Writer) error {
	fmt.Fprintf(w, "Host A's ndshm serve --flight to host B (network namespaces on this machine, one veth),\n"+
		"a %s block pulled into B's /dev/shm (request to block published), then the raw TCP\n"+
		"copy of as many bytes between the same hosts, in each run; and a new block of as\n"+
		"many bytes filled here from a warm buffer, with no network: what landing in fresh\n"+
		"shared memory costs on this machine, which the pull pays and the raw copy does not.\n"+
		"CPU per 1e9 bytes; copies per byte on each side: user-space copies and read(2)/write(2).\n\n", human.Bytes(flightSize))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tmethod\tGB/s\tvs TCP\tcopies send/recv\tsend CPU s/GB\trecv CPU s/GB\t")
	for _, x := range r.Results {
		vs := ""
		if x.VsTCP > 0 {
			vs = fmt.Sprintf("%.0f%%", 100*x.VsTCP)
		}
		fmt.Fprintf(tw, "%d\t%s\t%.2f\t%s\t%d/%d\t%.3f\t%.3f\t\n", x.Run, x.Method, x.Rate/1e9, vs,
			x.SendCopies, x.RecvCopies, x.SendCPU/1e9, x.RecvCPU/1e9)
	}
	tw.Flush()
	if len(r.Mirror) == 0 {
		fmt.Fprintln(w, "\nmirrored rings (1 MiB and 100 MiB frames): not measured, this build has no Flight ring mirror")
	}
	fmt.Fprintln(w, "\ntargets:")
	for _, t := range r.Targets {
		mark := map[bool]string{true: "met", false: "MISSED"}[*t.Met]
		fmt.Fprintf(w, "  %-6s %s: %.2f %s\n", mark, t.Target, t.Value, t.Unit)
	}
	return nil
}

// flightChart is GB/s per run, the pull beside the raw copy.
func flightChart(rows []flightRow) chart.Chart {
	c := chart.Chart{Title: "ndshm bench flight: " + human.Bytes(flightSize) + " between two hosts",
		YLabel: "GB/s", Series: []chart.Series{{Name: "flight pull"}, {Name: "raw TCP copy"}}}
	for _, x := range rows {
		switch x.Method {
		case "flight-pull":
			c.Categories = append(c.Categories, fmt.Sprintf("run %d", x.Run))
			c.Series[0].Y = append(c.Series[0].Y, x.Rate/1e9)
		case "raw-tcp-copy":
			c.Series[1].Y = append(c.Series[1].Y, x.Rate/1e9)
		}
	}
	return c
}

package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/ndshm/ndshm/internal/bench/chart"
	"github.com/ndshm/ndshm/internal/handoff"
	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/internal/reexec"
)

// benchHandoff hands blocks of each size to a peer process by name and by
// unix-socket copy, read each way in reads, and reports them (and draws
// them, with --plot).
func benchHandoff(ctx context.Context, out io.Writer, o *Options, sizes []int, reads []handoff.Read) error {
	c, err := handoff.Start(reexec.Command("handoff-peer"))
	if err != nil {
		return err
	}
	rs, err := c.Bench(ctx, fmt.Sprintf("ndshm-bench-%d", os.Getpid()), sizes, reads)
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if o.plot != "" {
		if err := chart.Save(o.plot, handoffChart(rs)); err != nil {
			return err
		}
	}
	if o.json {
		return json.NewEncoder(out).Encode(struct {
			Bench   string           `json:"bench"`
			Results []handoff.Result `json:"results"`
		}{"handoff", rs})
	}
	return writeHandoff(out, rs)
}

// writeHandoff prints each ndshm row beside the socket copy it is
// compared with: Bench returns fresh, warm, socket for each size and read.
func writeHandoff(out io.Writer, rs []handoff.Result) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "size\tread\tmapping\thuge\tndshm p50 µs\tp99 µs\tsocket copy p50 µs\tp99 µs\tndshm / socket\t")
	for i := 0; i+2 < len(rs); i += 3 {
		sock := rs[i+2]
		for _, n := range rs[i : i+2] {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.3g\t\n", human.Bytes(int64(n.Size)),
				n.Read, n.Mapping, yesNo(*n.Huge), n.P50, n.P99, sock.P50, sock.P99, n.VsSocket)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(out, "\nndshm / socket below 1: ndshm is faster. touch: the peer reads one byte;"+
		" all: it sums every byte.\nfresh: the peer maps the block each time; warm: through the mapping it kept."+
		" huge: its data was in huge pages.")
	return err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

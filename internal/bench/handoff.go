package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/ndshm/ndshm/internal/handoff"
	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/internal/reexec"
)

// benchHandoff hands blocks of each size to a peer process by name and by
// unix-socket copy, and reports both.
func benchHandoff(ctx context.Context, out io.Writer, asJSON bool, sizes []int) error {
	c, err := handoff.Start(reexec.Command("handoff-peer"))
	if err != nil {
		return err
	}
	rs, err := c.Bench(ctx, fmt.Sprintf("ndshm-bench-%d", os.Getpid()), sizes)
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(out).Encode(struct {
			Bench   string           `json:"bench"`
			Results []handoff.Result `json:"results"`
		}{"handoff", rs})
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "size\tndshm p50 µs\tp99 µs\tsocket copy p50 µs\tp99 µs\tcopy / ndshm\t")
	for i := 0; i+1 < len(rs); i += 2 {
		n, c := rs[i], rs[i+1]
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.3g×\t\n",
			human.Bytes(int64(n.Size)), n.P50, n.P99, c.P50, c.P99, c.P50/n.P50)
	}
	return tw.Flush()
}

package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// streamTable prints the stage's runs side by side, a row per process,
// in the style of the demo's first table.
func streamTable(out io.Writer, s streamSpec, runs []streamRun) {
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "same stream, two channels\tframes\tfps (target %g)\tp50 latency\tlost\ttorn\tCPU/frame\t\n", s.fps)
	for _, r := range runs {
		fmt.Fprintf(tw, "%s: %s\t%d\t%.1f\t\t\t\t%s\t\n", r.channel, r.writer, r.sent, r.fps, perFrame(r.cpu, r.sent))
		for _, c := range r.consumers {
			lat := time.Duration(c.P50 * float64(time.Microsecond))
			fmt.Fprintf(tw, "%s: %s\t%d\t%.1f\t%s\t%d\t%d\t%s\t\n", r.channel, c.who, c.Frames, c.FPS,
				round(lat), c.Lost, c.Torn, perFrame(c.cpu, c.Frames))
		}
	}
	tw.Flush()
	if len(runs) != 2 || runs[0].sent == 0 || runs[1].sent == 0 {
		return
	}
	a, b := runs[0], runs[1]
	fmt.Fprintf(out, "\nthe ring carried %.1f fps of %g for %s of writer CPU a frame; the sockets %.1f fps for %s (%.1f×).\n",
		a.fps, s.fps, perFrame(a.cpu, a.sent), b.fps, perFrame(b.cpu, b.sent),
		float64(b.cpu)/float64(b.sent)/(float64(a.cpu)/float64(a.sent)))
	fmt.Fprintln(out, "(CPU/frame is user+system time over frames; a consumer's includes its start-up: mapping the ring, importing NumPy.)")
}

// perFrame is a process's CPU time per frame.
func perFrame(cpu time.Duration, frames int) string {
	if frames == 0 {
		return "-"
	}
	return round(cpu / time.Duration(frames)).String()
}

package demo

import (
	"context"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/internal/stream"
	"github.com/ndshm/ndshm/internal/sys"
)

// A StreamSpec is the demo's streaming stage: uint8 frames of a shape,
// at a rate, for a while, to two consumer processes. Tests run it small.
type StreamSpec struct {
	Frame    []int
	FPS      float64
	Duration time.Duration // how long the writer publishes
	Slots    int           // the ring's
}

// demoStream is a camera's worth: 100 MiB frames at 30 fps, 3 GiB/s
// to each consumer if it were copied.
var demoStream = StreamSpec{Frame: []int{10240, 10240}, FPS: 30, Duration: 2 * time.Second, Slots: 3}

func (s StreamSpec) frameBytes() int {
	n := 1
	for _, d := range s.Frame {
		n *= d
	}
	return n
}

// frames is how many frames the writer publishes if it keeps up.
func (s StreamSpec) frames() int { return max(1, int(math.Round(s.FPS*s.Duration.Seconds()))) }

// A StreamRun is one channel's run: its writer's and its consumers'.
type StreamRun struct {
	Channel   string        `json:"channel"`
	Writer    string        `json:"writer"`
	Sent      int           `json:"sent"` // frames
	FPS       float64       `json:"fps"`
	Took      time.Duration `json:"took_ns"`
	CPU       time.Duration `json:"cpu_ns"` // the writer's
	Consumers []Consumer    `json:"consumers"`
}

// A Consumer is what one consumer process reported (ring recv's report),
// and its CPU time.
type Consumer struct {
	Who string `json:"who"`
	stream.Report
	CPU time.Duration `json:"cpu_ns"`
}

func (d *session) streamed(ctx context.Context) error {
	runs, err := Stream(ctx, d.out, demoStream)
	d.res.Stream = runs
	return err
}

// Stream streams s through a ring and through unix sockets, prints the
// two side by side, and fails unless every consumer got every frame sent,
// intact. It returns the two runs, ring first, so far as they went.
func Stream(ctx context.Context, out io.Writer, s StreamSpec) ([]StreamRun, error) {
	d := &session{out: out}
	fmt.Fprintf(out, "\nstreaming: %s uint8 frames at %g fps for %v to two consumer processes, each reading every frame\n\n",
		human.Bytes(int64(s.frameBytes())), s.FPS, s.Duration)
	rr, err := streamRing(ctx, d, s)
	if err != nil {
		return nil, fmt.Errorf("ring stream: %w", err)
	}
	sr, err := streamSocket(ctx, d, s)
	if err != nil {
		return nil, fmt.Errorf("socket stream: %w", err)
	}
	runs := []StreamRun{rr, sr}
	streamTable(out, s, runs)
	for _, r := range runs {
		for _, c := range r.Consumers {
			if c.Frames != r.Sent || c.Lost != 0 || c.Torn != 0 || c.Dup != 0 {
				return runs, fmt.Errorf("%s: %s got %d of %d frames, lost %d, torn %d, duplicated %d",
					r.Channel, c.Who, c.Frames, r.Sent, c.Lost, c.Torn, c.Dup)
			}
		}
	}
	return runs, nil
}

// pace calls send(i) for frames i = 0, 1, … at s.FPS, until s.frames()
// are sent or s.Duration has passed, so a channel that cannot keep up sends
// fewer. It returns the run with the frames sent, the rate of their
// starts, the time taken and the CPU time this process spent.
func pace(ctx context.Context, s StreamSpec, send func(i int) error) (StreamRun, error) {
	t := time.NewTicker(time.Duration(float64(time.Second) / s.FPS))
	defer t.Stop()
	var run StreamRun
	cpu, start := sys.CPUTime(), time.Now()
	var last time.Duration // when the last frame started
	for run.Sent < s.frames() && (run.Sent == 0 || time.Since(start) < s.Duration) {
		if run.Sent > 0 {
			select {
			case <-ctx.Done():
				return run, context.Cause(ctx)
			case <-t.C:
			}
			last = time.Since(start)
		}
		if err := send(run.Sent); err != nil {
			return run, settle(ctx, err)
		}
		run.Sent++
	}
	run.Took, run.CPU = time.Since(start), sys.CPUTime()-cpu
	if run.Sent > 1 {
		run.FPS = float64(run.Sent-1) / last.Seconds()
	}
	return run, nil
}

// settle returns why ctx ended, if it ends soon, rather than err: a
// consumer that died (of ctrl-C, say) shows first as a broken pipe or a
// writer's cancelled wait, and its exit, which ends ctx, says more.
func settle(ctx context.Context, err error) error {
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(100 * time.Millisecond):
		return err
	}
}

// streamTable prints the stage's runs side by side, a row per process,
// in the style of the demo's first table.
func streamTable(out io.Writer, s StreamSpec, runs []StreamRun) {
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "same stream, two channels\tframes\tfps (target %g)\tp50 latency\tlost\ttorn\tCPU/frame\t\n", s.FPS)
	for _, r := range runs {
		fmt.Fprintf(tw, "%s: %s\t%d\t%.1f\t\t\t\t%s\t\n", r.Channel, r.Writer, r.Sent, r.FPS, perFrame(r.CPU, r.Sent))
		for _, c := range r.Consumers {
			lat := time.Duration(c.P50 * float64(time.Microsecond))
			fmt.Fprintf(tw, "%s: %s\t%d\t%.1f\t%s\t%d\t%d\t%s\t\n", r.Channel, c.Who, c.Frames, c.FPS,
				human.Duration(lat), c.Lost, c.Torn, perFrame(c.CPU, c.Frames))
		}
	}
	tw.Flush()
	if len(runs) != 2 || runs[0].Sent == 0 || runs[1].Sent == 0 {
		return
	}
	a, b := runs[0], runs[1]
	fmt.Fprintf(out, "\nthe ring carried %.1f fps of %g for %s of writer CPU a frame; the sockets %.1f fps for %s (%.1f×).\n",
		a.FPS, s.FPS, perFrame(a.CPU, a.Sent), b.FPS, perFrame(b.CPU, b.Sent),
		float64(b.CPU)/float64(b.Sent)/(float64(a.CPU)/float64(a.Sent)))
	fmt.Fprintln(out, "(CPU/frame is user+system time over frames; a consumer's includes its start-up: mapping the ring, importing NumPy.)")
}

// perFrame is a process's CPU time per frame.
func perFrame(cpu time.Duration, frames int) string {
	if frames == 0 {
		return "-"
	}
	return human.Duration(cpu / time.Duration(frames)).String()
}

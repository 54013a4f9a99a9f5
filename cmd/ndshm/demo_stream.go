package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"syscall"
	"time"
)

// streamSpec is the demo's streaming stage: uint8 frames of a shape, at
// a rate, for a while, to two consumer processes. Tests run it small.
type streamSpec struct {
	frame []int
	fps   float64
	dur   time.Duration // how long the writer publishes
	slots int
}

// demoStream is a camera's worth: 100 MiB frames at 30 fps, 3 GiB/s
// to each consumer if it were copied.
var demoStream = streamSpec{frame: []int{10240, 10240}, fps: 30, dur: 2 * time.Second, slots: 3}

func (s streamSpec) frameBytes() int {
	n := 1
	for _, d := range s.frame {
		n *= d
	}
	return n
}

// frames is how many frames the writer publishes if it keeps up.
func (s streamSpec) frames() int { return max(1, int(math.Round(s.fps*s.dur.Seconds()))) }

// A streamRun is one channel's run: its writer's and its consumers'.
type streamRun struct {
	channel   string
	writer    string
	sent      int
	fps       float64
	took      time.Duration
	cpu       time.Duration // the writer's
	consumers []streamResult
}

// A streamResult is what one consumer process reported, and its CPU time.
type streamResult struct {
	who string
	recvReport
	cpu time.Duration
}

func (d *demo) streamed(ctx context.Context) error {
	_, err := streamStage(ctx, d.out, demoStream)
	return err
}

// streamStage streams s through a ring and through unix sockets, prints
// the two side by side, and fails unless every consumer got every frame
// sent, intact.
func streamStage(ctx context.Context, out io.Writer, s streamSpec) ([]streamRun, error) {
	d := &demo{out: out}
	fmt.Fprintf(out, "\nstreaming: %s uint8 frames at %g fps for %v to two consumer processes, each reading every frame\n\n",
		humanBytes(int64(s.frameBytes())), s.fps, s.dur)
	rr, err := streamRing(ctx, d, s)
	if err != nil {
		return nil, fmt.Errorf("ring stream: %w", err)
	}
	sr, err := streamSocket(ctx, d, s)
	if err != nil {
		return nil, fmt.Errorf("socket stream: %w", err)
	}
	runs := []streamRun{rr, sr}
	streamTable(out, s, runs)
	for _, r := range runs {
		for _, c := range r.consumers {
			if c.Frames != r.sent || c.Lost != 0 || c.Torn != 0 || c.Dup != 0 {
				return runs, fmt.Errorf("%s: %s got %d of %d frames, lost %d, torn %d, duplicated %d",
					r.channel, c.who, c.Frames, r.sent, c.Lost, c.Torn, c.Dup)
			}
		}
	}
	return runs, nil
}

// pace calls send(i) for frames i = 0, 1, … at s.fps, until s.frames()
// are sent or s.dur has passed, so a channel that cannot keep up sends
// fewer. It returns the run with the frames sent, the rate of their
// starts, the time taken and the CPU time this process spent.
func pace(ctx context.Context, s streamSpec, send func(i int) error) (streamRun, error) {
	t := time.NewTicker(time.Duration(float64(time.Second) / s.fps))
	defer t.Stop()
	var run streamRun
	cpu, start := cpuTime(), time.Now()
	var last time.Duration // when the last frame started
	for run.sent < s.frames() && (run.sent == 0 || time.Since(start) < s.dur) {
		if run.sent > 0 {
			select {
			case <-ctx.Done():
				return run, context.Cause(ctx)
			case <-t.C:
			}
			last = time.Since(start)
		}
		if err := send(run.sent); err != nil {
			return run, settle(ctx, err)
		}
		run.sent++
	}
	run.took, run.cpu = time.Since(start), cpuTime()-cpu
	if run.sent > 1 {
		run.fps = float64(run.sent-1) / last.Seconds()
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

// cpuTime is the user and system time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

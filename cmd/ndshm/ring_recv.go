package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/internal/stream"
	"github.com/ndshm/ndshm/ring"
)

const ringRecvAbout = `
Subscribes to the ring NAME and receives frames in place until --frames
have come or the stream ends. A ring carries one stream per writer: a
reader that subscribes while a writer lives reads the rest of its stream;
one that subscribes between streams waits for the next writer's. It
reports the frames, their
rate (first to last), and the latency from publishing to receiving, which
the ring's per-frame publish time gives.

It counts frames lost (broadcast: gaps in the sequence numbers, or the
frames the reader skipped, whichever is more; queue mode, where gaps are
other readers' frames: the frames skipped) and duplicated (a sequence
number not above the last). With --verify it also checks ring send's test
pattern against each frame's tag, and counts torn frames: a wrong pattern,
or a frame the writer overwrote while it was held. A frame of up to 1 MiB
is checked in full; a larger one at its first and last 64 KiB and at 1024
elements that move from frame to frame (a torn frame differs at its start
or everywhere, since writers fill from the front).

--timeout (default 30s; 0: wait forever) bounds the wait for a writer
and for each frame. The exit status is 1 if a wait timed out, if the
stream ended before --frames frames came, or if --verify found torn or
duplicated frames. --json prints {"frames","lost","dup",
"torn","fps","p50_us","p99_us","missed"}.`

// recvReport is what ring recv prints.
type recvReport = stream.Report

// runRingRecv is `ndshm ring recv`.
func runRingRecv(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "ring recv", "ring recv NAME [--frames K] [--verify] [--timeout D] [--spin D] [--json]", ringRecvAbout)
	frames := f.Int("frames", 0, "stop after `K` frames (default: at the end of the stream)")
	verify := f.Bool("verify", false, "check ring send's test pattern in every frame")
	timeout := f.Duration("timeout", 30*time.Second, "give up after waiting `D` for a writer or a frame (default 30s; 0: never)")
	spin := f.Duration("spin", 0, "poll for up to `D` before sleeping: lower latency for a core's polling")
	asJSON := f.Bool("json", false, "print the report as JSON")
	pos, err := f.Parse(args)
	if err == nil {
		err = f.Want(pos, "NAME")
	}
	switch {
	case err != nil:
		return err
	case *frames < 0 || *timeout < 0 || *spin < 0:
		return f.UsageErr("--frames, --timeout and --spin cannot be negative")
	}
	r, err := openRing(pos[0])
	if err != nil {
		return err
	}
	defer r.Close()
	c := &receiver{Receiver: stream.Receiver{Mode: r.Mode()}, name: r.Name(), timeout: *timeout}
	if *verify {
		if c.p, err = stream.NewPattern(r.Block().DType()); err != nil {
			return fmt.Errorf("ring recv %s: %w", r.Name(), err)
		}
	}
	rd, err := r.Reader()
	if err != nil {
		return err
	}
	defer rd.Close()
	rd.SetSpin(*spin)
	err = c.receive(ctx, rd, *frames)
	if *frames == 0 && errors.Is(err, context.Canceled) {
		err = nil // without --frames, an interrupt is how receiving ends
	}
	rep := c.Report(rd.Missed())
	if perr := printRecv(e.stdout, rep, r.FrameBytes(), *asJSON); err == nil {
		err = perr
	}
	if err == nil && rep.Frames < *frames {
		err = fmt.Errorf("ring recv %s: the stream ended after %d of --frames %d frames", r.Name(), rep.Frames, *frames)
	}
	if err == nil && *verify && (rep.Torn > 0 || rep.Dup > 0) {
		err = fmt.Errorf("ring recv %s: %d torn and %d duplicated frames", r.Name(), rep.Torn, rep.Dup)
	}
	return err
}

// receiver counts what one reader receives.
type receiver struct {
	stream.Receiver
	name    string
	p       *stream.Pattern // nil without --verify
	timeout time.Duration
}

// receive takes frames until k have come (k > 0) or the stream ends.
func (c *receiver) receive(ctx context.Context, rd *ring.Reader, k int) error {
	for k == 0 || c.Frames() < k {
		fctx, cancel := waitCtx(ctx, c.timeout)
		f, err := rd.Next(fctx)
		cancel()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			if rd.Stream() == 0 {
				return fmt.Errorf("ring recv %s: waited --timeout %v for a writer to start a stream: %w", c.name, c.timeout, err)
			}
			return fmt.Errorf("ring recv %s: waited --timeout %v for frame %d of stream %d: %w", c.name, c.timeout, c.Frames(), rd.Stream(), err)
		}
		if err != nil {
			return err
		}
		now := time.Now()
		c.AddLatency(now.Sub(f.Time))
		torn := c.p != nil && !c.p.Check(f.Bytes(), f.Tag)
		if errors.Is(rd.Release(), ring.ErrTorn) {
			torn = true // overwritten while we looked at it
		}
		c.Count(f.Seq, torn, now)
	}
	return nil
}

func printRecv(w io.Writer, rep recvReport, frameBytes int, asJSON bool) error {
	if asJSON {
		return describe.WriteJSON(w, rep)
	}
	_, err := fmt.Fprintf(w, "received %d frames of %s: %.1f frames/s, %.1f MiB/s; latency p50 %.0fµs p99 %.0fµs; "+
		"lost %d, duplicated %d, torn %d, missed %d\n", rep.Frames, human.Bytes(int64(frameBytes)),
		rep.FPS, rep.FPS*float64(frameBytes)/(1<<20), rep.P50, rep.P99, rep.Lost, rep.Dup, rep.Torn, rep.Missed)
	return err
}

package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/internal/stream"
	"github.com/ndshm/ndshm/ring"
)

const ringSendAbout = `
Becomes the writer of the ring NAME and publishes a test pattern: every
element of frame i is i as the dtype stores it (i mod 256 for uint8, the
low bits of i for other integers, float(i), i+0j, i mod 2 for bool), with
tag i. ring recv --verify checks it. At the end the stream is closed, and
readers get end-of-stream once they have read every frame.

Each ring send is a new stream: its frames are indexed (and tagged) from
0 whatever the ring carried before, while their sequence numbers go on
from the last stream's.

--timeout (default 30s; 0: wait forever) bounds each wait: for
--wait-readers readers, and for a free slot (under the block policy,
readers that stop releasing frames stop the writer). Without --frames it
sends until interrupted.

Prints the frames sent, frames a second and MiB a second, or with --json
{"frames","seconds","fps","bytes_per_s","frame_bytes"}.`

// sendReport is what ring send prints.
type sendReport struct {
	Frames     int     `json:"frames"`
	Seconds    float64 `json:"seconds"`
	FPS        float64 `json:"fps"`
	BytesPerS  float64 `json:"bytes_per_s"`
	FrameBytes int     `json:"frame_bytes"`
}

// runRingSend is `ndshm ring send`.
func runRingSend(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "ring send", "ring send NAME [--frames K] [--rate FPS] [--wait-readers N] [--timeout D] [--json]", ringSendAbout)
	var s sender
	f.IntVar(&s.frames, "frames", 0, "send `K` frames, then close the stream (default: until interrupted)")
	f.Float64Var(&s.rate, "rate", 0, "publish at most `FPS` frames a second (default 0: as fast as the ring takes them)")
	f.IntVar(&s.readers, "wait-readers", 0, "first wait until `N` readers have subscribed")
	f.DurationVar(&s.timeout, "timeout", 30*time.Second, "give up after waiting `D` for readers or a free slot (default 30s; 0: never)")
	asJSON := f.Bool("json", false, "print the summary as JSON")
	pos, err := f.Parse(args)
	if err == nil {
		err = f.Want(pos, "NAME")
	}
	switch {
	case err != nil:
		return err
	case s.frames < 0 || s.readers < 0 || s.timeout < 0:
		return f.UsageErr("--frames, --wait-readers and --timeout cannot be negative")
	case s.rate < 0 || math.IsNaN(s.rate) || math.IsInf(s.rate, 0):
		return f.UsageErr("--rate must be a number of frames a second, 0 for no limit")
	}
	r, err := openRing(pos[0])
	if err != nil {
		return err
	}
	defer r.Close()
	rep, err := s.run(ctx, r)
	if err != nil {
		return err
	}
	if *asJSON {
		return describe.WriteJSON(e.stdout, rep)
	}
	_, err = fmt.Fprintf(e.stdout, "sent %d frames of %s in %s: %.1f frames/s, %.1f MiB/s\n", rep.Frames,
		human.Bytes(int64(rep.FrameBytes)), human.Duration(time.Duration(rep.Seconds*float64(time.Second))), rep.FPS, rep.BytesPerS/(1<<20))
	return err
}

// sender is ring send's flags and its writer.
type sender struct {
	frames, readers int
	rate            float64
	timeout         time.Duration
	w               *ring.Writer
	p               *stream.Pattern
}

// run becomes r's writer, waits for the readers, sends, and closes the
// stream.
func (s *sender) run(ctx context.Context, r *ring.Ring) (sendReport, error) {
	var err error
	if s.p, err = stream.NewPattern(r.Block().DType()); err != nil {
		return sendReport{}, fmt.Errorf("ring send %s: %w", r.Name(), err)
	}
	if s.w, err = r.Writer(); err != nil {
		return sendReport{}, err
	}
	defer s.w.Close()
	if s.readers > 0 {
		wctx, cancel := waitCtx(ctx, s.timeout)
		err := r.WaitReaders(wctx, s.readers)
		cancel()
		if err != nil {
			return sendReport{}, fmt.Errorf("ring send %s: waited --timeout %v for %d readers to subscribe, %d did: %w",
				r.Name(), s.timeout, s.readers, len(r.Stat().Readers), err)
		}
	}
	start := time.Now()
	n, err := s.send(ctx, s.frames)
	took := time.Since(start)
	s.w.Close() // before the summary, so that readers see the end at once
	if s.frames == 0 && errors.Is(err, context.Canceled) {
		err = nil // without --frames, an interrupt is how sending ends
	}
	rep := sendReport{Frames: n, Seconds: took.Seconds(), FrameBytes: r.FrameBytes()}
	rep.FPS = float64(n) / rep.Seconds
	rep.BytesPerS = rep.FPS * float64(rep.FrameBytes)
	return rep, err
}

// send publishes frames 0, 1, … (all of them if k is 0, until ctx ends)
// and returns how many it published.
func (s *sender) send(ctx context.Context, k int) (int, error) {
	var tick <-chan time.Time
	if s.rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / s.rate))
		defer t.Stop()
		tick = t.C
	}
	for i := 0; k == 0 || i < k; i++ {
		if err := ctx.Err(); err != nil {
			return i, err // a ring with room never waits, so look
		}
		if tick != nil && i > 0 {
			select {
			case <-ctx.Done():
				return i, ctx.Err()
			case <-tick:
			}
		}
		lctx, cancel := waitCtx(ctx, s.timeout)
		f, err := s.w.Loan(lctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return i, fmt.Errorf("waited --timeout %v for readers to release a slot: %w", s.timeout, err)
		}
		if err != nil {
			return i, err
		}
		s.p.Fill(f.Bytes(), uint64(i))
		if err := s.w.Publish(uint64(i)); err != nil {
			return i, err
		}
	}
	return k, nil
}

// waitCtx bounds one wait by timeout, if it is not 0 (and then costs
// nothing per frame).
func waitCtx(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(ctx, timeout)
	}
	return ctx, func() {}
}

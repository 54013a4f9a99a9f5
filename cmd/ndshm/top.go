package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/progress"
	"github.com/ndshm/ndshm/ring"
)

const topAbout = `
A live view of /dev/shm: every ndshm block with its users (the pids that
map it or hold it open), and for every ring its writer, the frames it
publishes a second, and each reader's place, lag, misses and frames
received, as ring stat shows them.

On a terminal the view is redrawn in place every --interval until
interrupted. With --once, or when standard output is not a terminal, it
prints one snapshot and exits; frames a second are then measured over one
--interval before it prints.`

// runTop is `ndshm top`.
func runTop(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "top", "top [--once] [--interval D]", topAbout)
	once := f.Bool("once", false, "print one snapshot and exit")
	every := f.Duration("interval", time.Second, "redraw every `D`, and measure frames a second over it")
	pos, err := f.Parse(args)
	if err == nil {
		err = f.Want(pos)
	}
	if err == nil && *every <= 0 {
		err = f.UsageErr("--interval must be positive")
	}
	if err != nil {
		return err
	}
	live := !*once && progress.IsTerminal(e.stdout)
	prev := sampleRings(nil)
	for {
		if err := sleep(ctx, *every); err != nil {
			return nil // interrupted: the normal end of a live view
		}
		snap, err := takeSnapshot(prev)
		if err != nil {
			return err
		}
		if live {
			io.WriteString(e.stdout, "\033[H\033[2J") // home, clear the screen
		}
		if err := snap.write(e.stdout); err != nil || !live {
			return err
		}
		prev = snap.rings
	}
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// A ringSample is a ring's state at one moment.
type ringSample struct {
	at   time.Time
	stat ring.Stat
}

// A snapshot is what top shows once.
type snapshot struct {
	at     time.Time
	blocks []ndshm.Info
	rings  map[string]ringSample
	prev   map[string]ringSample // the rings a snapshot before, for rates
}

// takeSnapshot lists the blocks and reads every ring's state.
func takeSnapshot(prev map[string]ringSample) (*snapshot, error) {
	infos, err := ndshm.List()
	if err != nil {
		return nil, err
	}
	return &snapshot{at: time.Now(), blocks: infos, rings: sampleRings(infos), prev: prev}, nil
}

// sampleRings reads the state of the rings among infos (all rings, for
// nil). A ring that vanishes meanwhile is left out.
func sampleRings(infos []ndshm.Info) map[string]ringSample {
	if infos == nil {
		infos, _ = ndshm.List()
	}
	rings := make(map[string]ringSample)
	for _, info := range infos {
		if info.Kind != ndshm.KindRing {
			continue
		}
		r, err := openRing(info.Name)
		if err != nil {
			continue
		}
		rings[info.Name] = ringSample{at: time.Now(), stat: r.Stat()}
		r.Close()
	}
	return rings
}

// rate is the frames a second that the ring name published since the
// previous snapshot, and whether it is known.
func (s *snapshot) rate(name string) (float64, bool) {
	now, ok := s.rings[name]
	then, had := s.prev[name]
	if !ok || !had || now.stat.Head < then.stat.Head || !now.at.After(then.at) {
		return 0, false
	}
	return float64(now.stat.Head-then.stat.Head) / now.at.Sub(then.at).Seconds(), true
}

// write prints the blocks, then each ring's state.
func (s *snapshot) write(w io.Writer) error {
	fmt.Fprintf(w, "ndshm top  %s  %d blocks, %d rings\n\n", s.at.Format(time.TimeOnly), len(s.blocks), len(s.rings))
	if err := describe.WriteUsers(w, s.blocks); err != nil {
		return err
	}
	var errs []error
	for _, info := range s.blocks {
		r, ok := s.rings[info.Name]
		if !ok {
			continue
		}
		rate := "-"
		if fps, ok := s.rate(info.Name); ok {
			rate = fmt.Sprintf("%.1f", fps)
		}
		fmt.Fprintf(w, "\nframes/s: %s\n", rate)
		errs = append(errs, describe.WriteRing(w, r.stat))
	}
	return errors.Join(errs...)
}

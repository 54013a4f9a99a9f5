package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/ring"
)

const ringStatAbout = `
Shows the ring NAME as its cursors are now, read without stopping anyone
(numbers may be a few frames apart): its mode, policy and slots; the
writer's state (none yet, live, closed, or dead: its lock is gone), the
number of its stream (each writer starts one) and the frames published
in all streams; and each subscribed reader's place, pid,
whether it lives, the frame it reads next, its lag behind the writer, the
frame it holds, and the frames it missed and received.

--json prints the ring's Stat: {"name","mode","policy","slots",
"frame_bytes","head","writer","writer_pid","stream","queue_next","readers":[{"place",
"pid","alive","next","lag","holding","missed","received"}]}.`

// runRingStat is `ndshm ring stat`.
func runRingStat(_ context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "ring stat", "ring stat NAME [--json]", ringStatAbout)
	asJSON := f.Bool("json", false, "print the ring's state as JSON")
	pos, err := f.Parse(args)
	if err == nil {
		err = f.Want(pos, "NAME")
	}
	if err != nil {
		return err
	}
	r, err := openRing(pos[0])
	if err != nil {
		return err
	}
	st := r.Stat()
	if err := r.Close(); err != nil {
		return err
	}
	if *asJSON {
		return describe.WriteJSON(e.stdout, st)
	}
	return describe.WriteRing(e.stdout, st)
}

// openRing attaches to the ring named by arg. A block that exists but is
// not a ring gets an error saying so, rather than ring's format error.
func openRing(arg string) (*ring.Ring, error) {
	name := blockName(arg)
	r, err := ring.Open(name)
	if errors.Is(err, ndshm.ErrFormat) {
		if info, serr := ndshm.Stat(name); serr == nil && info.Kind != ndshm.KindRing {
			return nil, fmt.Errorf("%s is not a ring but a block of kind %v (ndshm ring create makes rings)", name, info.Kind)
		}
	}
	return r, err
}

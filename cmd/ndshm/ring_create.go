package main

import (
	"context"
	"fmt"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/specflag"
	"github.com/ndshm/ndshm/ring"
)

const ringCreateAbout = `
Makes the ring NAME in /dev/shm: --slots frames in flight, each of the
given dtype and shape, so that its array is (slots, *shape) and NumPy sees
every slot. All of its memory is reserved and faulted in now. The ring is
persistent: it stays until ndshm rm.

--mode broadcast gives every frame to every reader subscribed when it was
published; queue gives each frame to exactly one reader. When every slot
is in use, --policy block makes the writer wait for the readers
(backpressure); overwrite makes it reuse the oldest frame no reader holds,
and readers that fall behind skip frames (they count them as missed).

--file-mode 0640 sets the ring's permission bits exactly, whatever the
umask, as install -m does (default 0600, owner only); it is not --mode,
which is the delivery mode here.

Prints nothing, or with --json the new block as inspect --json does.`

// runRingCreate is `ndshm ring create`.
func runRingCreate(_ context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "ring create", "ring create NAME --dtype D --shape S --slots N "+
		"[--mode broadcast|queue] [--policy block|overwrite] [--readers R] [--file-mode 0640] [--json]", ringCreateAbout)
	var dt specflag.DType
	var shape specflag.Shape
	var mode ring.Mode
	var policy ring.Policy
	f.Var(&dt, "dtype", "the NumPy dtype `D` of the frames, such as u1, f4, <i2")
	f.Var(&shape, "shape", "the shape `S` of one frame, such as 480,640,3")
	slots := f.Int("slots", 0, fmt.Sprintf("`N` frames in flight, 1 to %d", ring.MaxSlots))
	f.TextVar(&mode, "mode", ring.Broadcast, "`M`: broadcast, every reader sees every frame (default), or queue, each frame goes to one reader")
	f.TextVar(&policy, "policy", ring.Backpressure, "`P`, when every slot is in use: block, the writer waits (default), or overwrite, it reuses the oldest")
	readers := f.Int("readers", 8, fmt.Sprintf("the most readers subscribed at once, `R`, 1 to %d", ring.MaxReaders))
	asJSON := f.Bool("json", false, "print the new block's description as JSON")
	var perm specflag.Mode // --mode is the delivery mode here
	f.Var(&perm, "file-mode", specflag.ModeUsage)
	pos, err := f.Parse(args)
	if err != nil {
		return err
	}
	if err := f.Want(pos, "NAME"); err != nil {
		return err
	}
	switch {
	case !dt.Given() || !shape.Given() || !f.IsSet("slots"):
		return f.UsageErr("--dtype, --shape and --slots are required")
	case *slots < 1 || *slots > ring.MaxSlots:
		return f.UsageErr("--slots %d: want 1 to %d", *slots, ring.MaxSlots)
	case *readers < 1 || *readers > ring.MaxReaders:
		return f.UsageErr("--readers %d: want 1 to %d", *readers, ring.MaxReaders)
	}
	cfg := ring.Config{DType: dt.Value(), Frame: shape.Value(), Slots: *slots,
		Mode: mode, Policy: policy, Readers: *readers}
	r, err := ring.Create(blockName(pos[0]), cfg, append(perm.Opts(), ndshm.Persistent())...)
	if err != nil {
		return err
	}
	if err := perm.Apply(r.Block()); err != nil {
		r.Close()
		remove(r.Block())
		return err
	}
	info := r.Block().Info()
	if err := r.Close(); err != nil {
		return err
	}
	if *asJSON {
		return describe.WriteJSON(e.stdout, describe.Of(info))
	}
	return nil
}

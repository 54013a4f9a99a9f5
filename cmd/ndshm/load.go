package main

import (
	"context"

	"github.com/ndshm/ndshm"
)

const loadAbout = `
Makes the persistent block NAME holding the array in FILE, a .npy file
(any dtype, shape and order NumPy's np.save writes). If FILE is not a
valid .npy file, or is cut short, no block is left behind.

--mode 0640 sets the block's permission bits exactly, whatever the umask,
as install -m does (default 0600, owner only).

Prints nothing, or with --json the new block as inspect --json does.`

// runLoad is `ndshm load`.
func runLoad(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "load", "load FILE.npy NAME [--mode 0640] [--json]", loadAbout)
	asJSON := f.Bool("json", false, "print the new block's description as JSON")
	var mode modeValue
	f.Var(&mode, "mode", modeUsage)
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := f.want(pos, "FILE", "NAME"); err != nil {
		return err
	}
	b, err := ndshm.Load(pos[0], blockName(pos[1]), append(mode.opts(), ndshm.Persistent())...)
	if err != nil {
		return err
	}
	// Load cannot be interrupted; a user who pressed ^C meanwhile did
	// not want the block.
	if err := ctx.Err(); err != nil {
		remove(b)
		return err
	}
	if err := mode.apply(b); err != nil {
		remove(b)
		return err
	}
	return closeMade(e, b, *asJSON)
}

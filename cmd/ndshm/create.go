package main

import (
	"context"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/elem"
	"github.com/ndshm/ndshm/internal/fault"
	"github.com/ndshm/ndshm/internal/specflag"
)

const createAbout = `
Makes the block NAME in /dev/shm holding an array of the given dtype,
shape and order, all of its memory reserved now (a full /dev/shm fails
here, not later). The block is persistent: it stays until ndshm rm.

Every element is zero, or --fill V: true/false/1/0 for bool, an integer
in range for int and uint (0x.. and 1_000 forms too), a float, a complex
as Go's strconv.ParseComplex reads it (1+2i, (1+2j)), a byte string for S.

--mode 0640 sets the block's permission bits exactly, whatever the umask,
as install -m does (default 0600, owner only).

Prints nothing, or with --json the new block as inspect --json does.`

// runCreate is `ndshm create`.
func runCreate(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "create", "create NAME --dtype D --shape S [--order C|F] [--fill V] [--mode 0640] [--json]", createAbout)
	var sf specflag.Flags
	sf.Register(f, "the array")
	fillWith := f.String("fill", "", "set every element to `V` (default zero)")
	asJSON := f.Bool("json", false, "print the new block's description as JSON")
	var mode specflag.Mode
	f.Var(&mode, "mode", specflag.ModeUsage)
	pos, err := f.Parse(args)
	if err != nil {
		return err
	}
	if err := f.Want(pos, "NAME"); err != nil {
		return err
	}
	if !sf.DType.Given() || !sf.Shape.Given() {
		return f.UsageErr("--dtype and --shape are required")
	}
	var item []byte
	if f.IsSet("fill") {
		// Parsed before the block exists, so a bad value leaves nothing.
		if item, err = elem.Parse(sf.DType.Value(), *fillWith); err != nil {
			return f.UsageErr("%v", err)
		}
	}
	name := blockName(pos[0])
	// Filled before it is named: nobody sees a half-filled block.
	// So is its mode set: nobody opens it while the umask's bits are off.
	init := func(b *ndshm.Block) error {
		if err := fault.Guard(func() error { return elem.Fill(ctx, b.Bytes(), item) }); err != nil {
			return err
		}
		return mode.Apply(b)
	}
	opts := append(mode.Opts(), ndshm.Persistent(), ndshm.Init(init))
	b, err := ndshm.Create(name, sf.Spec(), opts...)
	if err != nil {
		return err
	}
	return closeMade(e, b, *asJSON)
}

// closeMade closes a block this command made, printing inspect's JSON
// object for it first if asked to.
func closeMade(e *env, b *ndshm.Block, asJSON bool) error {
	info := b.Info()
	if err := b.Close(); err != nil {
		return err
	}
	if asJSON {
		return describe.WriteJSON(e.stdout, describe.Of(info))
	}
	return nil
}

// remove closes and unlinks a persistent block this process just made
// and could not finish. (The library's own equivalent is unexported.)
func remove(b *ndshm.Block) {
	b.Close()
	ndshm.Unlink(b.Name())
}

package main

import (
	"context"
	"errors"
	"io/fs"
	"os"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/progress"
	"github.com/ndshm/ndshm/internal/specflag"
)

const loadAbout = `
Makes the persistent block NAME holding the array in FILE, a .npy file
(any dtype, shape and order NumPy's np.save writes). If FILE is not a
valid .npy file, or is cut short, no block is left behind.

--mode 0640 sets the block's permission bits exactly, whatever the umask,
as install -m does (default 0600, owner only).

FILE "-" is standard input, as save writes standard output with "-".
While it copies, a progress bar goes to stderr if that is a terminal.

Prints nothing, or with --json the new block as inspect --json does.`

// runLoad is `ndshm load`.
func runLoad(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "load", "load FILE.npy NAME [--mode 0640] [--json]", loadAbout)
	asJSON := f.Bool("json", false, "print the new block's description as JSON")
	var mode specflag.Mode
	f.Var(&mode, "mode", specflag.ModeUsage)
	pos, err := f.Parse(args)
	if err != nil {
		return err
	}
	if err := f.Want(pos, "FILE", "NAME"); err != nil {
		return err
	}
	b, err := loadBlock(ctx, e, pos[0], blockName(pos[1]), append(mode.Opts(), ndshm.Persistent()))
	if err != nil {
		return err
	}
	// Load cannot be interrupted; a user who pressed ^C meanwhile did
	// not want the block.
	if err := ctx.Err(); err != nil {
		remove(b)
		return err
	}
	if err := mode.Apply(b); err != nil {
		remove(b)
		return err
	}
	return closeMade(e, b, *asJSON)
}

// loadBlock makes the block name from the .npy file path, or from stdin
// for "-", drawing a progress bar on a terminal stderr.
func loadBlock(ctx context.Context, e *env, path, name string, opts []ndshm.Option) (*ndshm.Block, error) {
	bar := progress.New(e.stderr, "loading")
	defer bar.Clear()
	if path == "-" {
		bar.Start(name, 0)
		return ndshm.LoadReader(progress.NewReader(ctx, e.stdin, "stdin", bar), name, opts...)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	bar.Start(name, fi.Size())
	// The progress reader stands between the file and LoadReader, so the errors
	// name no file: loadErr names it, as ndshm.Load would.
	// The reader tells LoadReader what is left of the file (progress.Reader.Len).
	r := progress.NewReader(ctx, f, path, bar)
	b, err := ndshm.LoadReader(r, name, opts...)
	return b, loadErr(path, err)
}

// loadErr names the file in a format error, as ndshm.Load does.
func loadErr(path string, err error) error {
	if errors.Is(err, ndshm.ErrFormat) || errors.Is(err, ndshm.ErrDType) {
		return &fs.PathError{Op: "load", Path: path, Err: cause(err)}
	}
	return err
}

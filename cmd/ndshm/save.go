package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/ndshm/ndshm"
)

const saveAbout = `
Writes the block NAME to FILE as a .npy file, which np.load reads back
bit-identical; FILE "-" is standard output. FILE must not exist, unless
--force, which overwrites it; a symbolic link is never followed, even
with --force. If the write fails, FILE is removed.`

// runSave is `ndshm save`.
func runSave(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "save", "save NAME FILE.npy [--force] [--dtype D --shape S [--order C|F]]", saveAbout)
	var sf specFlags
	sf.registerRead(f)
	force := f.Bool("force", false, "overwrite FILE if it exists")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := f.want(pos, "NAME", "FILE"); err != nil {
		return err
	}
	name, path := blockName(pos[0]), pos[1]
	sf.readOnly = true
	b, err := openBlock(name, f, &sf)
	if err != nil {
		return err
	}
	defer b.Close()
	if path == "-" {
		_, err := b.WriteTo(ctxWriter{ctx, e.stdout})
		return err
	}
	return saveFile(ctx, b, path, *force)
}

// saveFile writes b to a new file at path, or over an old one if force.
func saveFile(ctx context.Context, b *ndshm.Block, path string, force bool) error {
	if fi, err := os.Stat(path); err == nil {
		// Truncating the block's own file would destroy it mid-write.
		if bi, err := os.Stat("/dev/shm/" + b.Name()); err == nil && os.SameFile(fi, bi) {
			return fmt.Errorf("save: %s is the block %s itself", path, b.Name())
		}
	}
	// O_EXCL refuses a symbolic link at path; with --force O_NOFOLLOW
	// does, so that a link someone planted in a shared directory never
	// makes us truncate and write its target.
	mode := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		mode = os.O_WRONLY | os.O_CREATE | os.O_TRUNC | syscall.O_NOFOLLOW
	}
	out, err := os.OpenFile(path, mode, 0o666)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("save: %s exists (--force overwrites it)", path)
	}
	if errors.Is(err, syscall.ELOOP) {
		return fmt.Errorf("save: %s is a symbolic link: save writes no file through a link (remove it, or name the file it points to)", path)
	}
	if err != nil {
		return err
	}
	_, err = b.WriteTo(ctxWriter{ctx, out})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A partial .npy file would fool np.load; but --force may have
		// opened a device or a pipe, which are not ours to remove.
		if fi, serr := os.Lstat(path); serr == nil && fi.Mode().IsRegular() {
			os.Remove(path)
		}
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// ctxWriter writes a megabyte at a time, stopping when ctx is done, so
// that ^C interrupts the save of a large block.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (n int, err error) {
	for len(p) > 0 {
		if err := c.ctx.Err(); err != nil {
			return n, err
		}
		m, err := c.w.Write(p[:min(len(p), 1<<20)])
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}

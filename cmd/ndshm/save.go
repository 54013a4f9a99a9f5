package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/progress"
	"github.com/ndshm/ndshm/internal/specflag"
	"github.com/ndshm/ndshm/internal/sys"
)

const saveAbout = `
Writes the block NAME to FILE as a .npy file, which np.load reads back
bit-identical; FILE "-" is standard output. FILE must not exist, unless
--force, which overwrites it; a symbolic link is never followed, even
with --force. If the write fails, FILE is removed. While it writes, a
progress bar goes to stderr if that is a terminal.

--json prints what was written: {"name","path","size_bytes" (of the file)};
not with FILE -, where standard output is the .npy file.`

// runSave is `ndshm save`.
func runSave(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "save", "save NAME FILE.npy [--force] [--json] [--dtype D --shape S [--order C|F]]", saveAbout)
	var sf specflag.Flags
	sf.RegisterRead(f)
	force := f.Bool("force", false, "overwrite FILE if it exists")
	asJSON := f.Bool("json", false, "print what was written as JSON")
	pos, err := f.Parse(args)
	if err != nil {
		return err
	}
	if err := f.Want(pos, "NAME", "FILE"); err != nil {
		return err
	}
	name, path := blockName(pos[0]), pos[1]
	if path == "-" && *asJSON {
		return f.UsageErr("--json with FILE -: standard output is the .npy file")
	}
	sf.ReadOnly = true
	b, err := openBlock(name, f, &sf)
	if err != nil {
		return err
	}
	defer b.Close()
	bar := progress.New(e.stderr, "saving")
	bar.Start(name, int64(b.Spec().Size()))
	defer bar.Clear()
	if path == "-" {
		_, err := b.WriteTo(progress.NewWriter(ctx, e.stdout, bar))
		return err
	}
	n, err := saveFile(ctx, b, path, *force, bar)
	if err != nil || !*asJSON {
		return err
	}
	return describe.WriteJSON(e.stdout, saveJSON{Name: name, Path: path, SizeBytes: n})
}

// saveJSON is save --json's report.
type saveJSON struct {
	Name      string `json:"name"`
	Path      string `json:"path"`
	SizeBytes int64  `json:"size_bytes"`
}

// saveFile writes b to a new file at path, or over an old one if force.
func saveFile(ctx context.Context, b *ndshm.Block, path string, force bool, bar *progress.Bar) (int64, error) {
	if fi, err := os.Stat(path); err == nil {
		// Truncating the block's own file would destroy it mid-write.
		if bi, err := os.Stat(sys.Path(b.Name())); err == nil && os.SameFile(fi, bi) {
			return 0, fmt.Errorf("save: %s is the block %s itself", path, b.Name())
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
		return 0, fmt.Errorf("save: %s exists (--force overwrites it)", path)
	}
	if errors.Is(err, syscall.ELOOP) {
		return 0, fmt.Errorf("save: %s is a symbolic link: save writes no file through a link (remove it, or name the file it points to)", path)
	}
	if err != nil {
		return 0, err
	}
	n, err := b.WriteTo(progress.NewWriter(ctx, out, bar))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A partial .npy file would fool np.load; but --force may have
		// opened a device or a pipe, which are not ours to remove.
		if fi, serr := os.Lstat(path); serr == nil && fi.Mode().IsRegular() {
			os.Remove(path)
		}
		return 0, fmt.Errorf("save %s: %w", path, err)
	}
	return n, nil
}

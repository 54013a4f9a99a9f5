package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/human"
)

const gcAbout = `
Removes orphans: owned blocks whose creator died without closing them, so
that nothing else will ever unlink them. The creator's liveness lock, which
the kernel drops when it dies, says it is dead; its pid is never trusted.
Persistent blocks, blocks whose creator lives, and files that are not ndshm
blocks are never touched.

An orphan that live processes still map is kept: removing the name would
not free its memory, only hide it. --force removes it anyway; those
processes keep their mapping, and the memory goes with the last of them.

Prints one line per orphan and a total, or with --json an object with
"removed" and "kept" (arrays of inspect --json's objects), "freed_bytes"
(the file sizes of the removed blocks that nobody mapped) and "dry_run".
With --dry-run nothing is removed and the output says what would be.`

// runGC is `ndshm gc`.
func runGC(_ context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "gc", "gc [--dry-run] [--force] [--json]", gcAbout)
	dry := f.Bool("dry-run", false, "say what would be removed, remove nothing")
	force := f.Bool("force", false, "remove orphans even while live processes map them")
	asJSON := f.Bool("json", false, "print JSON")
	pos, err := f.Parse(args)
	if err != nil {
		return err
	}
	if err := f.Want(pos); err != nil {
		return err
	}
	opts := ndshm.GCOptions{DryRun: *dry, Force: *force}
	got, err := ndshm.GC(opts)
	// GC reports what it did even when some removal failed: print that,
	// then the error.
	r := sortGC(got, opts)
	if *asJSON {
		return errors.Join(err, r.writeJSON(e.stdout))
	}
	r.write(e.stdout)
	return err
}

// gcReport is a GC's outcome sorted for printing.
type gcReport struct {
	dry     bool
	removed []ndshm.Collected // or would be, when dry
	kept    []ndshm.Collected // mapped by live processes, no --force
	raced   []ndshm.Collected // gone or replaced before GC got to it, or its unlink failed (GC says)
	freed   int64
}

func sortGC(got []ndshm.Collected, opts ndshm.GCOptions) gcReport {
	r := gcReport{dry: opts.DryRun}
	for _, c := range got {
		switch {
		case c.Removed || (opts.DryRun && (opts.Force || len(c.Users) == 0)):
			r.removed = append(r.removed, c)
			if len(c.Users) == 0 { // else freed only when its users unmap it
				r.freed += c.FileSize
			}
		case len(c.Users) > 0 && !opts.Force:
			r.kept = append(r.kept, c)
		default:
			r.raced = append(r.raced, c)
		}
	}
	return r
}

// write prints one line per orphan and the total.
func (r gcReport) write(w io.Writer) {
	verb, keep := "removed", "kept"
	if r.dry {
		verb, keep = "would remove", "would keep"
	}
	for _, c := range r.removed {
		users := ""
		if len(c.Users) > 0 {
			users = fmt.Sprintf("; mapped by pids %s, freed when they unmap it", describe.PIDs(c.Users))
		}
		fmt.Fprintf(w, "%s %s (%s, creator pid %d dead%s)\n", verb, c.Name, human.Bytes(c.FileSize), c.CreatorPID, users)
	}
	for _, c := range r.kept {
		fmt.Fprintf(w, "%s %s: still mapped by pids %s (use --force)\n", keep, c.Name, describe.PIDs(c.Users))
	}
	for _, c := range r.raced {
		fmt.Fprintf(w, "skipped %s: removed or replaced by another process meanwhile\n", c.Name)
	}
	if r.dry {
		fmt.Fprintf(w, "%d would be removed, %s would be freed\n", len(r.removed), human.Bytes(r.freed))
		return
	}
	fmt.Fprintf(w, "%d removed, %s freed\n", len(r.removed), human.Bytes(r.freed))
}

// gcJSON is gc --json's output.
type gcJSON struct {
	Removed    []describe.Block `json:"removed"`
	Kept       []describe.Block `json:"kept"`
	FreedBytes int64            `json:"freed_bytes"`
	DryRun     bool             `json:"dry_run"`
}

func (r gcReport) writeJSON(w io.Writer) error {
	j := gcJSON{Removed: []describe.Block{}, Kept: []describe.Block{}, FreedBytes: r.freed, DryRun: r.dry}
	for _, c := range r.removed {
		j.Removed = append(j.Removed, describe.Of(c.Info))
	}
	for _, c := range r.kept {
		j.Kept = append(j.Kept, describe.Of(c.Info))
	}
	return describe.WriteJSON(w, j)
}

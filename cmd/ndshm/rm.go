package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
)

const rmAbout = `
Removes the named blocks from /dev/shm. Processes that have a block mapped
keep it until they close it; its memory is freed after the last one.

A name that is not an ndshm block (another program's shared memory, a raw
block) is refused unless --force, so that rm never removes someone else's
segment by accident. Every name is tried; each failure is reported, and
the exit status is 1 if any failed. With --json it prints an array with
an object for each name: {"name","removed","error" (null when removed)}.`

// runRm is `ndshm rm`.
func runRm(_ context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "rm", "rm NAME... [--force] [--json]", rmAbout)
	force := f.Bool("force", false, "remove names even if they are not ndshm blocks")
	asJSON := f.Bool("json", false, "print what was removed as JSON")
	names, err := f.Parse(args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return f.UsageErr("missing NAME")
	}
	var errs []error
	js := make([]rmJSON, 0, len(names))
	for _, name := range names {
		j := rmJSON{Name: blockName(name), Removed: true}
		if err := rm(j.Name, *force); err != nil {
			errs = append(errs, err)
			msg := err.Error()
			j.Removed, j.Error = false, &msg
		}
		js = append(js, j)
	}
	if *asJSON {
		if err := describe.WriteJSON(e.stdout, js); err != nil {
			return err
		}
	}
	return errors.Join(errs...) // Report prints one line per failure
}

// rmJSON is rm --json's report of one name.
type rmJSON struct {
	Name    string  `json:"name"`
	Removed bool    `json:"removed"`
	Error   *string `json:"error"`
}

// rm removes one name, checking first that it is a block unless force.
func rm(name string, force bool) error {
	if !force {
		_, err := ndshm.Stat(name)
		if errors.Is(err, ndshm.ErrFormat) || errors.Is(err, ndshm.ErrDType) {
			return fmt.Errorf("rm %s: %w; --force removes it anyway", name, cause(err))
		}
		if err != nil {
			return fmt.Errorf("rm %s: %w", name, cause(err))
		}
	}
	if err := ndshm.Unlink(name); err != nil {
		return fmt.Errorf("rm %s: %w", name, cause(err))
	}
	return nil
}

// cause drops the library's "stat NAME:" or "unlink NAME:", which would
// repeat what rm's own message says.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

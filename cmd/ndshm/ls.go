package main

import (
	"context"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
)

const lsAbout = `
Lists the ndshm blocks in the block directory ($NDSHM_DIR, default
/dev/shm), sorted by name: a table of NAME, KIND, DTYPE, SHAPE, SIZE
(data bytes), PERSISTENT, PID (the creator),
ALIVE (whether the creator still runs), ORPHAN (owned by a dead creator:
only gc removes it), USERS (pids that map it or hold it open) and AGE.
Files that are not ndshm blocks (other tools' segments, raw blocks) are
not listed.

--json prints an array of inspect --json's objects ([] for none).`

// runLs is `ndshm ls`.
func runLs(_ context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "ls", "ls [--json]", lsAbout)
	asJSON := f.Bool("json", false, "print JSON")
	pos, err := f.Parse(args)
	if err != nil {
		return err
	}
	if err := f.Want(pos); err != nil {
		return err
	}
	infos, err := ndshm.List()
	if err != nil {
		return err
	}
	return describe.WriteList(e.stdout, infos, *asJSON, time.Now())
}

package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/human"
)

const lsAbout = `
Lists the ndshm blocks in /dev/shm, sorted by name: a table of NAME,
KIND, DTYPE, SHAPE, SIZE (data bytes), PERSISTENT, PID (the creator),
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
	return writeList(e.stdout, infos, *asJSON, time.Now())
}

// writeList prints the blocks as JSON or as a table, ages as of now.
func writeList(w io.Writer, infos []ndshm.Info, asJSON bool, now time.Time) error {
	if asJSON {
		js := make([]blockJSON, 0, len(infos)) // [] rather than null for none
		for _, info := range infos {
			js = append(js, describe(info))
		}
		return writeJSON(w, js)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tDTYPE\tSHAPE\tSIZE\tPERSISTENT\tPID\tALIVE\tORPHAN\tUSERS\tAGE")
	for _, info := range infos {
		j := describe(info)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n",
			j.Name, j.Kind, j.DType, human.Shape(j.Shape), humanBytes(int64(j.SizeBytes)),
			yesNo(j.Persistent), j.CreatorPID, yesNo(j.CreatorAlive), yesNo(j.Orphan), pids(j.Users),
			humanAge(now.Sub(info.Created)))
	}
	return tw.Flush()
}

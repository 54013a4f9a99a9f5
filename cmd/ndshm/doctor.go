package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"text/tabwriter"

	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/doctor"
	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/internal/sys"
)

const doctorAbout = `
Measures, in well under two seconds, what the first write of each page of
a fresh shared-memory file costs through a new mapping on this machine:
with 4 KiB pages (a memfd), and with huge pages where it can get them (a
tmpfs mounted with huge=always or within_size, the hugetlb pool, or a
memfd advised MADV_HUGEPAGE), checked in /proc/self/smaps rather than
assumed. Then reads what decides how blocks fare: the transparent huge
page settings, the block directory's mount options, size and free space,
the hugetlb pool, systemd-logind's RemoveIPC, and the memlock and
open-files limits. Prints what they mean for ndshm, with the exact
commands that remedy them. Changes nothing; its test files are unnamed.

--dir examines another directory than the block directory ($NDSHM_DIR,
default /dev/shm), a dedicated tmpfs say.
--json prints the facts and the advice as one object (docs/JSON.md).`

// runDoctor is `ndshm doctor`.
func runDoctor(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "doctor", "doctor [--json] [--dir DIR]", doctorAbout)
	asJSON := f.Bool("json", false, "print JSON")
	dir := f.String("dir", sys.Dir, "examine the block directory `DIR`")
	pos, err := f.Parse(args)
	if err == nil {
		err = f.Want(pos)
	}
	if err != nil {
		return err
	}
	if *dir == sys.Dir && sys.DirErr() != nil {
		return sys.DirErr()
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	r := doctor.Examine(abs)
	if *asJSON {
		return describe.WriteJSON(e.stdout, r)
	}
	return writeDoctor(e.stdout, r)
}

// writeDoctor prints r for people: the facts, then the advice.
func writeDoctor(w io.Writer, r doctor.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	huge := "unavailable"
	if r.PageTouchNsHuge != nil {
		huge = fmt.Sprintf("%.1f µs per %s page (%s)", float64(*r.PageTouchNsHuge)/1e3, human.Bytes(*r.HugePageBytes), *r.HugeSource)
	}
	fmt.Fprintf(tw, "first touch, 4 KiB pages\t%s\n", orUnknown(r.PageTouchNs4K, func(ns int64) string {
		return fmt.Sprintf("%.1f µs per page", float64(ns)/1e3)
	}))
	fmt.Fprintf(tw, "first touch, huge pages\t%s\n", huge)
	fmt.Fprintf(tw, "block directory\t%s: %s, %s free of %s, options %s\n", r.ShmDir, str(r.ShmDirFSType),
		orUnknown(r.ShmDirFreeBytes, human.Bytes), orUnknown(r.ShmDirSizeBytes, human.Bytes), str(r.ShmDirMountOptions))
	fmt.Fprintf(tw, "THP enabled / shmem_enabled\t%s / %s\n", str(r.THPEnabled), str(r.ShmemEnabled))
	fmt.Fprintf(tw, "hugetlb pool\t%d free of %d pages of %s\n", r.HugetlbFreePages, r.HugetlbTotalPages, human.Bytes(r.HugetlbPageBytes))
	fmt.Fprintf(tw, "logind RemoveIPC\t%s\n", yesNoUnknown(r.RemoveIPC))
	fmt.Fprintf(tw, "open files (soft / hard)\t%s / %s\n", limitText(r.OpenFilesLimit, itoa64), limitText(r.OpenFilesMax, itoa64))
	fmt.Fprintf(tw, "memlock (soft / hard)\t%s / %s (ndshm locks no memory)\n", limitText(r.MemlockLimitBytes, human.Bytes), limitText(r.MemlockMaxBytes, human.Bytes))
	fmt.Fprintf(tw, "doctor took\t%.2f s\n", r.Seconds)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Advice) == 0 {
		_, err := fmt.Fprintln(w, "\nnothing to do: blocks get huge pages and room here")
		return err
	}
	fmt.Fprintln(w, "\nadvice:")
	for _, a := range r.Advice {
		if _, err := fmt.Fprintf(w, "- %s\n", a); err != nil {
			return err
		}
	}
	return nil
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func orUnknown(p *int64, f func(int64) string) string {
	if p == nil {
		return "unknown"
	}
	return f(*p)
}

func limitText(p *int64, f func(int64) string) string {
	if p == nil {
		return "unlimited"
	}
	return f(*p)
}

func str(p *string) string {
	if p == nil {
		return "unknown"
	}
	return *p
}

func yesNoUnknown(p *bool) string {
	switch {
	case p == nil:
		return "unknown (no logind.conf)"
	case *p:
		return "yes"
	}
	return "no"
}

package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
)

const versionAbout = `
Prints ndshm's version (ndshm.Version, which the Python package's
ndshm.__version__ equals), then the version of the Go module ndshm was
built from (a release tag, a pseudo-version made from the commit of a
build in a checkout, or "(devel)" where the build recorded none), and the
VCS commit it was built at ("unknown" if the build did not record one),
with "-dirty" if the tree had changes.
ndshm --version does the same.`

// runVersion is `ndshm version`.
func runVersion(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "version", "version", versionAbout)
	pos, err := f.Parse(args)
	if err == nil {
		err = f.Want(pos)
	}
	if err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	v, commit := buildVersion(info)
	_, err = fmt.Fprintf(e.stdout, "ndshm version %s module %s commit %s\n", ndshm.Version, v, commit)
	return err
}

// buildVersion returns the module version and commit that info, the
// binary's build information or nil, records.
func buildVersion(info *debug.BuildInfo) (version, commit string) {
	version, commit = "(devel)", "unknown"
	if info == nil {
		return version, commit
	}
	if v := info.Main.Version; v != "" {
		version = v
	}
	dirty := ""
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && s.Value != "":
			commit = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if commit != "unknown" {
		commit += dirty
	}
	return version, commit
}

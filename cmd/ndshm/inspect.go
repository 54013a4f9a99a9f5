package main

import (
	"context"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/specflag"
)

const inspectAbout = `
Describes the block NAME: its kind, dtype, shape, memory order, data size
and offset, file size, whether it is persistent or anonymous, its
creator's pid, whether that process is alive, whether the block is an
orphan (owned by a dead creator: only gc removes it), when it was made,
and the pids of the processes that map it or hold it open (users). A block
is read from its header without mapping it, unless --dtype and --shape are
given, which attach a raw block (kind "raw": no header, data at offset 0).

--json prints one object with the keys name, kind, dtype, shape, order,
count, size_bytes, data_offset, file_size_bytes, persistent, anonymous,
huge_pages (the kernel maps its data with huge pages, as a mapping made
to ask shows), creator_pid, creator_alive, orphan, created (RFC 3339, null
for a raw block) and users (an array of pids). The server protocol's block objects are the same.`

// runInspect is `ndshm inspect`.
func runInspect(_ context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "inspect", "inspect NAME [--json] [--dtype D --shape S [--order C|F]]", inspectAbout)
	var sf specflag.Flags
	sf.RegisterRead(f)
	asJSON := f.Bool("json", false, "print JSON")
	pos, err := f.Parse(args)
	if err != nil {
		return err
	}
	if err := f.Want(pos, "NAME"); err != nil {
		return err
	}
	info, err := statBlock(blockName(pos[0]), f, &sf)
	if err != nil {
		return err
	}
	if *asJSON {
		return describe.WriteJSON(e.stdout, describe.Of(info))
	}
	return describe.WriteBlock(e.stdout, describe.Of(info))
}

// statBlock describes the named block, raw if the flags say so.
func statBlock(name string, f *cmdflag.Set, sf *specflag.Flags) (ndshm.Info, error) {
	raw, err := sf.Raw(f)
	if err != nil {
		return ndshm.Info{}, err
	}
	if !raw {
		info, err := ndshm.Stat(name)
		return info, formatHint(err)
	}
	sf.ReadOnly = true
	b, err := ndshm.OpenRaw(name, sf.Spec(), sf.OpenOpts()...)
	if err != nil {
		return ndshm.Info{}, foreignHint(err)
	}
	defer b.Close()
	return b.Info(), nil
}

package ndshm

import (
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// Create makes a new named block holding a zeroed array described by s
// and maps it. It fails with fs.ErrExist if the name is taken. All of the
// block's memory is reserved now, so a full /dev/shm is an error here
// (ENOSPC), never a SIGBUS later.
//
// Where the block directory is a tmpfs that gives files huge pages
// (mounted huge=always or huge=within_size), a block of at least one huge
// page is padded to a whole number of them, its footer taking up the
// slack, so that every page of it is huge and mapped whole (see
// docs/FORMAT.md; Info.HugePages says what the kernel did).
//
// The block is owned by the returned *Block: Close unlinks it, and while
// it is open the creator holds the liveness lock that tells others it
// lives. With Persistent, the block outlives Close.
func Create(name string, s Spec, opts ...Option) (*Block, error) {
	name, err := checkName("create", name)
	if err != nil {
		return nil, err
	}
	o := optionsOf(opts)
	// Fail before reserving gigabytes; Link below is the real, atomic check.
	if sys.Exists(name) {
		return nil, pathErr("create", name, fs.ErrExist)
	}
	var align int64
	if sys.DirHuge() {
		align = sys.HugePageSize()
	}
	l, err := plan(s, o, false, align)
	if err != nil {
		return nil, pathErr("create", name, err)
	}
	fd, err := sys.CreateTemp(uint32(o.perm))
	if err != nil {
		return nil, pathErr("create", name, err)
	}
	b, err := build(fd, name, l, o, named)
	if err != nil {
		sys.Close(fd)
		return nil, pathErr("create", name, err)
	}
	if o.init != nil {
		err = o.init(b)
	}
	if err == nil {
		err = sys.Link(fd, name)
	}
	if err != nil {
		b.Close() // still unnamed: closing frees it
		return nil, pathErr("create", name, err)
	}
	return b, nil
}

// A fileLayout is a block's header, footer and file size.
type fileLayout struct {
	spec Spec
	hdr  []byte
	foot footer
	size int64
}

// plan lays out a block for s. With align above a page, a file of at
// least align bytes is padded to a multiple of align when its footer can
// take the slack, as huge pages need: the footer's fixed part stays at
// its start, so the format is unchanged.
func plan(s Spec, o options, anonymous bool, align int64) (fileLayout, error) {
	if err := s.check(); err != nil {
		return fileLayout{}, err
	}
	hdr, err := s.header().Encode(page)
	if err != nil {
		return fileLayout{}, fmt.Errorf("%w: %w", ErrDType, err)
	}
	if o.control > maxControl {
		return fileLayout{}, fmt.Errorf("%d bytes of control words, at most %d", o.control, maxControl)
	}
	f := footer{kind: o.kind, pid: os.Getpid(), created: time.Now(),
		dataOff: int64(len(hdr)), dataLen: int64(s.Size()),
		footerSize: int64(roundUp(uint64(controlOff + o.control + trailerSize)))}
	f.start, _ = sys.StartTime(f.pid)
	if o.persistent {
		f.flags |= flagPersistent
	}
	if anonymous {
		f.flags |= flagAnonymous
	}
	size := int64(roundUp(uint64(f.dataOff+f.dataLen))) + f.footerSize
	if align > page && size >= align {
		if slack := (align - size%align) % align; f.footerSize+slack <= maxFooter {
			f.footerSize += slack
			size += slack
		}
	}
	return fileLayout{s, hdr, f, size}, nil
}

// build lays the block out in the empty file fd, reserving its pages as
// k says, writes the header and footer, and maps it. The caller still
// owns fd on error.
func build(fd int, name string, l fileLayout, o options, k backing) (*Block, error) {
	size, f := l.size, l.foot
	if err := reserve(fd, size, k); err != nil {
		return nil, err
	}
	st, err := sys.Fstat(fd)
	if err != nil {
		return nil, err
	}
	mem, err := sys.Map(fd, int(size), true)
	if err != nil {
		return nil, err
	}
	if err := populate(mem, k); err != nil {
		sys.Unmap(mem)
		return nil, err
	}
	copy(mem, l.hdr)
	f.encode(mem[size-f.footerSize:])
	if !o.persistent {
		// Taken before the name exists, so nobody ever sees an owned
		// block whose creator looks dead.
		if err := sys.LockShared(fd, size-f.footerSize+livenessOff); err != nil {
			sys.Unmap(mem)
			return nil, err
		}
	}
	return newBlock(fd, name, meta{spec: l.spec, foot: f, size: size, id: st.ID}, mem, blockOpts{owned: !o.persistent}), nil
}

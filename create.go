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
	fd, err := sys.CreateTemp(uint32(o.perm))
	if err != nil {
		return nil, pathErr("create", name, err)
	}
	b, err := build(fd, name, s, o)
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

// CreateAnon makes an anonymous block: a sealed memfd with the same
// layout as a named block. It has no name, so it cannot be orphaned: the
// kernel frees it when the last descriptor and mapping are gone. Share it
// with File, or with a child process through exec.Cmd.ExtraFiles.
func CreateAnon(s Spec, opts ...Option) (*Block, error) {
	o := optionsOf(opts)
	o.persistent = true // nothing to unlink
	fd, err := sys.Memfd("ndshm")
	if err != nil {
		return nil, fmt.Errorf("ndshm: memfd: %w", err)
	}
	b, err := build(fd, "", s, o)
	if err != nil {
		sys.Close(fd)
		return nil, fmt.Errorf("ndshm: create anonymous block: %w", err)
	}
	if o.init != nil {
		if err := o.init(b); err != nil {
			b.Close()
			return nil, fmt.Errorf("ndshm: create anonymous block: %w", err)
		}
	}
	return b, nil
}

// build lays the block out in the empty file fd: reserves it, writes the
// header and footer, and maps it. The caller still owns fd on error.
func build(fd int, name string, s Spec, o options) (*Block, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	hdr, err := s.header().Encode(page)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDType, err)
	}
	if o.control > maxControl {
		return nil, fmt.Errorf("%d bytes of control words, at most %d", o.control, maxControl)
	}
	f := footer{kind: o.kind, pid: os.Getpid(), created: time.Now(),
		dataOff: int64(len(hdr)), dataLen: int64(s.Size()),
		footerSize: int64(roundUp(uint64(controlOff + o.control + trailerSize)))}
	f.start, _ = sys.StartTime(f.pid)
	if o.persistent {
		f.flags |= flagPersistent
	}
	if name == "" {
		f.flags |= flagAnonymous
	}
	size := int64(roundUp(uint64(f.dataOff+f.dataLen))) + f.footerSize
	if err := reserve(fd, size, name == ""); err != nil {
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
	sys.Populate(mem) // the creator is about to fill it
	copy(mem, hdr)
	f.encode(mem[size-f.footerSize:])
	if !o.persistent {
		// Taken before the name exists, so nobody ever sees an owned
		// block whose creator looks dead.
		if err := sys.LockShared(fd, size-f.footerSize+livenessOff); err != nil {
			sys.Unmap(mem)
			return nil, err
		}
	}
	return newBlock(fd, name, meta{spec: s, foot: f, size: size, id: st.ID}, mem, blockOpts{owned: !o.persistent}), nil
}

func reserve(fd int, size int64, seal bool) error {
	if err := sys.Reserve(fd, size); err != nil {
		return err
	}
	if seal {
		return sys.Seal(fd)
	}
	return nil
}

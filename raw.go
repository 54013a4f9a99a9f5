package ndshm

import (
	"fmt"
	"os"

	"github.com/ndshm/ndshm/internal/block"
	"github.com/ndshm/ndshm/internal/sys"
)

// OpenRaw maps a named block that has no ndshm header or footer, such as
// one made by Python's SharedMemory(create=True, size=n), as the array s
// describes, starting at byte 0. The file must hold at least s.Size()
// bytes. Nothing in the file says what it holds: the caller vouches for s.
//
// A block that does have an ndshm header and footer is never read raw:
// if it holds what s describes, OpenRaw returns it as Open would (its
// data after the header); otherwise it fails with ErrDType, naming both
// arrays. A file that ends in ndshm's trailer but does not validate fails
// with ErrFormat rather than being read raw.
//
// Like Open, OpenRaw refuses a block owned by another user unless opts
// include AllowForeign, and maps it for reading only with ReadOnly.
//
// Memory of a raw block was not reserved by ndshm: if its maker only sized
// it, a write to an untouched page of a full /dev/shm raises SIGBUS.
func OpenRaw(name string, s Spec, opts ...Option) (*Block, error) {
	name, err := checkName("open", name)
	if err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, pathErr("open", name, err)
	}
	o := optionsOf(opts)
	fd, st, err := openNamed(name, o)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	b, err := attachRaw(fd, st, name, s, !o.readOnly)
	if err != nil {
		sys.Close(fd)
	}
	return b, pathErr("open", name, err)
}

// FromFileRaw is OpenRaw for a block open as f, such as a raw block
// handed to a pool worker as a descriptor: it maps the file as the array
// s describes, from byte 0, and keeps its own duplicate of the
// descriptor (the caller may close f at once). The caller vouches for s,
// as with OpenRaw. A descriptor opened read-only is mapped read-only.
func FromFileRaw(f *os.File, s Spec) (*Block, error) {
	if err := s.check(); err != nil {
		return nil, pathErr("open", f.Name(), err)
	}
	fd, st, err := dupStat(f)
	if err != nil {
		return nil, pathErr("open", f.Name(), err)
	}
	b, err := attachRaw(fd, st, "", s, sys.Writable(fd))
	if err != nil {
		sys.Close(fd)
	}
	return b, pathErr("open", f.Name(), err)
}

// attachRaw maps the file open as fd, which fstat described as st, as
// the array s, or as what its ndshm header says if it has one. It reuses
// this process's mapping of the file if there is one; a raw file's
// header, absent, is checked again each time, since only an ndshm
// header's validation is shared. The caller still owns fd on error.
func attachRaw(fd int, st sys.File, name string, s Spec, writable bool) (*Block, error) {
	mp := block.Lookup(mapKey(st, writable))
	b, err := attachRawOn(fd, st, name, s, writable, mp)
	if err != nil {
		mp.Release()
	}
	return b, err
}

// attachRawOn is attachRaw given mp, this process's mapping of the file
// or nil. It takes over mp on success only.
func attachRawOn(fd int, st sys.File, name string, s Spec, writable bool, mp *block.Mapping) (*Block, error) {
	m, ok := sharedMeta(mp)
	var err error
	if !ok {
		m, err = metaOf(fd, st)
	}
	if err == nil {
		return attachAs(fd, name, m, s, mp, writable)
	} else if hasTrailer(fd) {
		return nil, fmt.Errorf("ends in an ndshm trailer but is not a valid block, so it is not read raw: %w", err)
	}
	size := st.Size
	if !st.Regular || size < int64(s.Size()) {
		return nil, fmt.Errorf("%w: %d-byte file cannot hold %v (%d bytes)", ErrFormat, size, s, s.Size())
	}
	f := footer{kind: KindRaw, flags: flagPersistent, dataLen: int64(s.Size())}
	m = meta{spec: s, foot: f, size: size, id: st.ID}
	if mp == nil && size > 0 {
		mem, err := sys.Map(fd, int(size), writable)
		if err != nil {
			return nil, err
		}
		mp = share(m, mem, writable, true)
	}
	return wrap(fd, name, m, mp, blockOpts{readOnly: !writable, headerless: true}), nil
}

// attachAs maps the valid ndshm block m, unless mp already maps it, if
// it holds the array s: its header, not the caller, says where the data
// is. It takes over mp on success only.
func attachAs(fd int, name string, m meta, s Spec, mp *block.Mapping, writable bool) (*Block, error) {
	if !sameArray(m.spec, s) {
		return nil, fmt.Errorf("block holds %v (its ndshm header says so), not %v: open it without a spec: %w", m.spec, s, ErrDType)
	}
	mp, err := mapShared(fd, m, mp, writable)
	if err != nil {
		return nil, err
	}
	return wrap(fd, name, m, mp, blockOpts{readOnly: !writable}), nil
}

// sameArray reports whether a and b put the same elements at the same
// bytes: the order matters only when two dimensions have more than one
// element.
func sameArray(a, b Spec) bool {
	if !a.DType.Equal(b.DType) || len(a.Shape) != len(b.Shape) {
		return false
	}
	long := 0
	for i, n := range a.Shape {
		if n != b.Shape[i] {
			return false
		}
		if n > 1 {
			long++
		}
	}
	return a.Fortran == b.Fortran || long <= 1
}

// hasTrailer reports whether the file open as fd ends in ndshm's trailer
// magic: a block of ours, however damaged, and never raw data.
func hasTrailer(fd int) bool {
	st, err := sys.Fstat(fd)
	if err != nil || !st.Regular || st.Size < int64(len(endMagic)) {
		return false
	}
	var b [len(endMagic)]byte
	n, err := sys.ReadAt(fd, b[:], st.Size-int64(len(b)))
	return err == nil && n == len(b) && string(b[:]) == endMagic
}

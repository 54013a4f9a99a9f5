package ndshm

import (
	"fmt"
	"os"

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
	fd, err := openNamed(name, o)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	b, err := attachRaw(fd, name, s, !o.readOnly)
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
	fd, err := sys.Dup(int(f.Fd()))
	if err != nil {
		return nil, pathErr("open", f.Name(), err)
	}
	b, err := attachRaw(fd, "", s, sys.Writable(fd))
	if err != nil {
		sys.Close(fd)
	}
	return b, pathErr("open", f.Name(), err)
}

// attachRaw maps the file open as fd as the array s, or as what its
// ndshm header says if it has one; the caller still owns fd on error.
func attachRaw(fd int, name string, s Spec, writable bool) (*Block, error) {
	if m, err := readMeta(fd); err == nil {
		return attachAs(fd, name, m, s, writable)
	} else if hasTrailer(fd) {
		return nil, fmt.Errorf("ends in an ndshm trailer but is not a valid block, so it is not read raw: %w", err)
	}
	st, err := sys.Fstat(fd)
	if err != nil {
		return nil, err
	}
	size := st.Size
	if !st.Regular || size < int64(s.Size()) {
		return nil, fmt.Errorf("%w: %d-byte file cannot hold %v (%d bytes)", ErrFormat, size, s, s.Size())
	}
	var mem []byte
	if size > 0 {
		if mem, err = sys.Map(fd, int(size), writable); err != nil {
			return nil, err
		}
	}
	f := footer{kind: KindRaw, flags: flagPersistent, dataLen: int64(s.Size())}
	m := meta{spec: s, foot: f, size: size, id: st.ID}
	return newBlock(fd, name, m, mem, blockOpts{readOnly: !writable}), nil
}

// attachAs maps the valid ndshm block m if it holds the array s: its
// header, not the caller, says where the data is.
func attachAs(fd int, name string, m meta, s Spec, writable bool) (*Block, error) {
	if !sameArray(m.spec, s) {
		return nil, fmt.Errorf("block holds %v (its ndshm header says so), not %v: open it without a spec: %w", m.spec, s, ErrDType)
	}
	mem, err := sys.Map(fd, int(m.size), writable)
	if err != nil {
		return nil, err
	}
	return newBlock(fd, name, m, mem, blockOpts{readOnly: !writable}), nil
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

package ndshm

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/ndshm/ndshm/internal/block"
	"github.com/ndshm/ndshm/internal/sys"
)

// Open maps an existing named block for reading and writing, or with
// ReadOnly for reading only. The block's header and footer are checked
// against the file's size before anything is mapped; a block that is
// corrupt, truncated or not ndshm's fails with ErrFormat. Opening does
// not touch the data, so it takes the same time for any size.
//
// If this process already maps the block (the same file, not merely the
// same name, at the same size, and read-write or ReadOnly alike), Open
// reuses that mapping and the header and footer validated when it was
// made, rather than reading them again: the new Block has its own
// descriptor, and its Bytes alias the same addresses as the other's.
// A mapping whose pages this process has touched costs nothing to touch
// again, while a new one pays again for each page's first touch. The
// mapping goes when the last Block sharing it is closed.
//
// A block owned by another user (neither this process's effective uid nor
// root) is refused with fs.ErrPermission unless opts include
// AllowForeign: its owner could truncate it under the mapping.
func Open(name string, opts ...Option) (*Block, error) {
	name, err := checkName("open", name)
	if err != nil {
		return nil, err
	}
	o := optionsOf(opts)
	fd, st, err := openNamed(name, o)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	b, err := attach(fd, st, name, !o.readOnly)
	return b, pathErr("open", name, err)
}

// FromFile maps the block open as f, such as an anonymous block handed
// to this process as a descriptor. It keeps its own duplicate of the
// descriptor: the caller may close f at once. A descriptor opened
// read-only is mapped read-only, as Open does with ReadOnly. Like Open,
// it reuses this process's mapping of the block if it has one, such as
// a block this process made and a peer handed back.
func FromFile(f *os.File) (*Block, error) {
	fd, st, err := dupStat(f)
	if err != nil {
		return nil, pathErr("open", f.Name(), err)
	}
	b, err := attach(fd, st, "", sys.Writable(fd))
	return b, pathErr("open", f.Name(), err)
}

// dupStat returns a duplicate of f's descriptor, the caller's, and what
// fstat says of its file.
func dupStat(f *os.File) (int, sys.File, error) {
	fd, err := sys.Dup(int(f.Fd()))
	if err != nil {
		return -1, sys.File{}, err
	}
	st, err := sys.Fstat(fd)
	if err != nil {
		sys.Close(fd)
		return -1, sys.File{}, err
	}
	return fd, st, nil
}

// attach maps the block open as fd, which fstat described as st: it
// reuses this process's mapping of the same file, size and access, and
// what was validated when it was made, if there is one (warm.go), and
// otherwise validates the block and maps it. fd is the Block's on
// success and closed on failure.
func attach(fd int, st sys.File, name string, writable bool) (*Block, error) {
	mp := block.Lookup(mapKey(st, writable))
	m, ok := sharedMeta(mp)
	var err error
	if !ok { // cold, or mapped raw: validate
		m, err = metaOf(fd, st)
	}
	if err == nil {
		mp, err = mapShared(fd, m, mp, writable)
	}
	if err != nil {
		mp.Release()
		sys.Close(fd)
		return nil, err
	}
	return wrap(fd, name, m, mp, blockOpts{readOnly: !writable}), nil
}

// openNamed opens the named block for mapping, read-write unless
// o.readOnly, refusing one that another user owns unless o allows it.
// The descriptor is the caller's; st is what fstat says of its file.
func openNamed(name string, o options) (fd int, st sys.File, err error) {
	if fd, err = sys.Open(name, !o.readOnly); err != nil {
		return -1, st, err
	}
	if st, err = sys.Fstat(fd); err == nil && !o.foreign {
		err = checkOwner(st)
	}
	if err != nil {
		sys.Close(fd)
		return -1, st, err
	}
	return fd, st, nil
}

// checkOwner refuses a file that neither this user nor root owns.
func checkOwner(st sys.File) error {
	if me := os.Geteuid(); st.UID != me && st.UID != 0 {
		return fmt.Errorf("owned by uid %d, not by this user (uid %d) or root: its owner could truncate it under the mapping (SIGBUS); pass AllowForeign to map it anyway: %w",
			st.UID, me, fs.ErrPermission)
	}
	return nil
}

// pathErr wraps a non-nil error once as an *fs.PathError.
func pathErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*fs.PathError); ok {
		return err
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

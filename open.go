package ndshm

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/ndshm/ndshm/internal/sys"
)

// Open maps an existing named block for reading and writing, or with
// ReadOnly for reading only. The block's header and footer are checked
// against the file's size before anything is mapped; a block that is
// corrupt, truncated or not ndshm's fails with ErrFormat. Opening does
// not touch the data, so it takes the same time for any size.
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
	fd, err := openNamed(name, o)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	b, err := attach(fd, name, !o.readOnly)
	return b, pathErr("open", name, err)
}

// FromFile maps the block open as f, such as an anonymous block handed
// to this process as a descriptor. It keeps its own duplicate of the
// descriptor: the caller may close f at once. A descriptor opened
// read-only is mapped read-only, as Open does with ReadOnly.
func FromFile(f *os.File) (*Block, error) {
	fd, err := sys.Dup(int(f.Fd()))
	if err != nil {
		return nil, pathErr("open", f.Name(), err)
	}
	b, err := attach(fd, "", sys.Writable(fd))
	return b, pathErr("open", f.Name(), err)
}

// attach validates the block open as fd and maps it; fd is the Block's
// on success and closed on failure.
func attach(fd int, name string, writable bool) (*Block, error) {
	m, err := readMeta(fd)
	if err == nil {
		var mem []byte
		if mem, err = sys.Map(fd, int(m.size), writable); err == nil {
			return newBlock(fd, name, m, mem, blockOpts{readOnly: !writable}), nil
		}
	}
	sys.Close(fd)
	return nil, err
}

// openNamed opens the named block for mapping, read-write unless
// o.readOnly, refusing one that another user owns unless o allows it.
// The descriptor is the caller's.
func openNamed(name string, o options) (int, error) {
	fd, err := sys.Open(name, !o.readOnly)
	if err != nil {
		return -1, err
	}
	if !o.foreign {
		if err := checkOwner(fd); err != nil {
			sys.Close(fd)
			return -1, err
		}
	}
	return fd, nil
}

// checkOwner refuses a file that neither this user nor root owns.
func checkOwner(fd int) error {
	st, err := sys.Fstat(fd)
	if err != nil {
		return err
	}
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

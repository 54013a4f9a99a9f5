package ndshm

import (
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"

	"github.com/ndshm/ndshm/internal/sys"
)

// Open maps an existing named block for reading and writing. The block's
// header and footer are checked against the file's size before anything
// is mapped; a block that is corrupt, truncated or not ndshm's fails with
// ErrFormat. Opening does not touch the data, so it takes the same time
// for any size.
//
// A block owned by another user (neither this process's effective uid nor
// root) is refused with fs.ErrPermission unless opts include
// AllowForeign: its owner could truncate it under the mapping.
func Open(name string, opts ...Option) (*Block, error) {
	name, err := checkName("open", name)
	if err != nil {
		return nil, err
	}
	fd, err := openNamed(name, opts)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	b, err := attach(fd, name)
	return b, pathErr("open", name, err)
}

// OpenFile maps the block open as f, such as an anonymous block handed
// to this process as a descriptor. It keeps its own duplicate of the
// descriptor: the caller may close f at once.
func OpenFile(f *os.File) (*Block, error) {
	fd, err := sys.Dup(int(f.Fd()))
	if err != nil {
		return nil, pathErr("open", f.Name(), err)
	}
	b, err := attach(fd, "")
	return b, pathErr("open", f.Name(), err)
}

// attach validates the block open as fd and maps it; fd is the Block's
// on success and closed on failure.
func attach(fd int, name string) (*Block, error) {
	m, err := readMeta(fd)
	if err == nil {
		var mem []byte
		if mem, err = sys.Map(fd, int(m.size), true); err == nil {
			return newBlock(fd, name, m, mem, false), nil
		}
	}
	sys.Close(fd)
	return nil, err
}

// newBlock wraps a validated, mapped block; m says what it holds.
func newBlock(fd int, name string, m meta, mem []byte, owned bool) *Block {
	s, f := m.spec, m.foot
	s.Shape = slices.Clone(s.Shape) // the caller may reuse its slice
	b := &Block{name: name, spec: s, strides: s.strides(), foot: f, mem: mem,
		owned: owned, fd: fd, id: m.id, size: m.size}
	b.data = mem[f.dataOff : f.dataOff+f.dataLen : f.dataOff+f.dataLen]
	return b
}

// File returns a new descriptor for the block, for handing to another
// process (exec.Cmd.ExtraFiles, or a unix socket), which opens it with
// OpenFile. It is a fresh open file description, so it never carries
// this process's liveness lock. The caller owns it.
func (b *Block) File() (*os.File, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fd < 0 {
		return nil, os.ErrClosed
	}
	p := "/proc/self/fd/" + strconv.Itoa(b.fd)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("ndshm: reopen block: %w", err)
	}
	return f, nil
}

// Unlink removes a block's name. Processes that have it mapped keep their
// mapping; the memory is freed when the last one closes it.
func Unlink(name string) error {
	name, err := checkName("unlink", name)
	if err != nil {
		return err
	}
	return pathErr("unlink", name, sys.Unlink(name))
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

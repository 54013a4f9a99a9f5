package ndshm

import (
	"fmt"

	"github.com/ndshm/ndshm/internal/sys"
)

// OpenRaw maps a named block that has no ndshm header or footer, such as
// one made by Python's SharedMemory(create=True, size=n), as the array s
// describes, starting at byte 0. The file must hold at least s.Size()
// bytes. Nothing in the file says what it holds: the caller vouches for s.
//
// Memory of a raw block was not reserved by ndshm: if its maker only sized
// it, a write to an untouched page of a full /dev/shm raises SIGBUS.
func OpenRaw(name string, s Spec) (*Block, error) {
	name, err := checkName("open", name)
	if err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, pathErr("open", name, err)
	}
	fd, err := sys.Open(name, true)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	b, err := attachRaw(fd, name, s)
	if err != nil {
		sys.Close(fd)
	}
	return b, pathErr("open", name, err)
}

func attachRaw(fd int, name string, s Spec) (*Block, error) {
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
		if mem, err = sys.Map(fd, int(size), true); err != nil {
			return nil, err
		}
	}
	f := footer{kind: KindRaw, flags: flagPersistent, dataLen: int64(s.Size())}
	return newBlock(fd, name, meta{spec: s, foot: f, size: size, id: st.ID}, mem, false), nil
}

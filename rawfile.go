package ndshm

import (
	"os"

	"github.com/ndshm/ndshm/internal/sys"
)

// OpenFileRaw is OpenRaw for a block open as f, such as a raw block
// handed to a pool worker as a descriptor: it maps the file as the array
// s describes, from byte 0, and keeps its own duplicate of the
// descriptor (the caller may close f at once). The caller vouches for s,
// as with OpenRaw.
func OpenFileRaw(f *os.File, s Spec) (*Block, error) {
	if err := s.check(); err != nil {
		return nil, pathErr("open", f.Name(), err)
	}
	fd, err := sys.Dup(int(f.Fd()))
	if err != nil {
		return nil, pathErr("open", f.Name(), err)
	}
	b, err := attachRaw(fd, "", s)
	if err != nil {
		sys.Close(fd)
	}
	return b, pathErr("open", f.Name(), err)
}

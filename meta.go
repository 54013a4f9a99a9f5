package ndshm

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	"github.com/ndshm/ndshm/internal/npy"
	"github.com/ndshm/ndshm/internal/sys"
)

// maxHeader bounds the .npy header of a block, page-padded.
const maxHeader = npy.MaxHeaderLen + page

// meta is what a block says about itself, validated.
type meta struct {
	spec Spec
	foot footer
	size int64 // the file's length
	id   sys.FileID
}

// readMeta reads and cross-checks the footer and header of the block
// open as fd. It reads with pread, never through a mapping, so a short or
// lying file is an error here and cannot SIGBUS us.
func readMeta(fd int) (meta, error) {
	st, err := sys.Fstat(fd)
	if err != nil {
		return meta{}, err
	}
	size := st.Size
	if !st.Regular || size < page+footerSize {
		return meta{}, fmt.Errorf("%w: %d-byte file is too small", ErrFormat, size)
	}
	m := meta{size: size, id: st.ID}
	// One read gets the trailer and, in format version 1, the footer.
	var fb [footerSize]byte
	if err := readFull(fd, fb[:], size-footerSize); err != nil {
		return meta{}, err
	}
	n, err := decodeTrailer(fb[footerSize-trailerSize:], size)
	if err != nil {
		return meta{}, err
	}
	if n != footerSize { // a longer footer: its fixed part is further back
		if err := readFull(fd, fb[:livenessOff], size-n); err != nil {
			return meta{}, err
		}
	}
	if err := m.foot.decode(fb[:], n, size); err != nil {
		return meta{}, err
	}
	m.spec, err = readSpec(fd, m.foot)
	return m, err
}

// readSpec decodes the .npy header and checks that it describes exactly
// the data the footer places after it.
func readSpec(fd int, f footer) (Spec, error) {
	buf := make([]byte, f.dataOff) // at most maxHeader, checked by decode
	if err := readFull(fd, buf, 0); err != nil {
		return Spec{}, err
	}
	h, n, err := npy.Read(bytes.NewReader(buf))
	if err != nil {
		return Spec{}, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if int64(n) != f.dataOff {
		return Spec{}, fmt.Errorf("%w: header is %d bytes, footer says %d", ErrFormat, n, f.dataOff)
	}
	s, err := specOf(h)
	if err != nil {
		return Spec{}, err
	}
	if int64(s.Size()) != f.dataLen {
		return Spec{}, fmt.Errorf("%w: %v is %d bytes, footer says %d", ErrFormat, s, s.Size(), f.dataLen)
	}
	return s, nil
}

func specOf(h npy.Header) (Spec, error) {
	dt, err := fromDescr(h.Descr)
	if err != nil {
		return Spec{}, err
	}
	s := Spec{DType: dt, Shape: slices.Clone(h.Shape), Fortran: h.Fortran}
	if err := s.check(); err != nil {
		return Spec{}, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return s, nil
}

// fdReader reads a descriptor with pread, for io.SectionReader.
type fdReader int

func (fd fdReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := sys.ReadAt(int(fd), b, off)
	if err == nil && n < len(b) {
		err = io.EOF
	}
	return n, err
}

func readFull(fd int, b []byte, off int64) error {
	if _, err := fdReader(fd).ReadAt(b, off); err != nil {
		return fmt.Errorf("%w: short read at %d: %w", ErrFormat, off, err)
	}
	return nil
}

package ndshm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ndshm/ndshm/internal/block"
	"github.com/ndshm/ndshm/internal/npy"
	"github.com/ndshm/ndshm/internal/sys"
)

// The control footer (docs/FORMAT.md): fixed layout, little-endian,
// found from the end of the file through its trailer.
const (
	page        = 4096
	footerSize  = page
	footerMagic = "NDSHMFTR"
	endMagic    = "NDSHMEND"
	version     = 1
	livenessOff = 64 // the byte the creator read-locks, alone on its cache line
	trailerSize = 16
	controlOff  = 128 // where kind-specific control words begin
	maxControl  = 1 << 24
	maxFooter   = (controlOff + maxControl + trailerSize + page - 1) &^ (page - 1)
)

// BlockKind says what a block holds, as its footer's kind word does.
type BlockKind uint32

const (
	KindRaw   = BlockKind(block.Raw) // a headerless block attached with an explicit Spec
	KindArray = BlockKind(block.Array)
	KindRing  = BlockKind(block.Ring) // package ring's
)

func (k BlockKind) String() string {
	switch k {
	case KindRaw:
		return "raw"
	case KindArray:
		return "array"
	case KindRing:
		return "ring"
	}
	return fmt.Sprintf("kind(%d)", uint32(k))
}

const (
	flagPersistent = 1 << 0
	flagAnonymous  = 1 << 1
)

// footer is the decoded fixed part of a control footer.
type footer struct {
	kind       BlockKind
	flags      uint64
	pid        int
	start      uint64 // creator's start time, clock ticks since boot
	created    time.Time
	dataOff    int64
	dataLen    int64
	footerSize int64
}

var le = binary.LittleEndian

func (f *footer) encode(b []byte) {
	copy(b, footerMagic)
	le.PutUint32(b[8:], version)
	le.PutUint32(b[12:], uint32(f.kind))
	le.PutUint64(b[16:], f.flags)
	le.PutUint64(b[24:], uint64(f.pid))
	le.PutUint64(b[32:], f.start)
	le.PutUint64(b[40:], uint64(f.created.UnixNano()))
	le.PutUint64(b[48:], uint64(f.dataOff))
	le.PutUint64(b[56:], uint64(f.dataLen))
	n := f.footerSize
	le.PutUint64(b[n-trailerSize:], uint64(n))
	copy(b[n-8:], endMagic)
}

// decodeTrailer returns the footer length the trailer claims, checked
// against the file size.
func decodeTrailer(t []byte, fileSize int64) (int64, error) {
	if string(t[8:16]) != endMagic {
		return 0, fmt.Errorf("%w: no ndshm trailer", ErrFormat)
	}
	n := le.Uint64(t[:8])
	if n < footerSize || n%page != 0 || n > maxFooter || n > uint64(fileSize) {
		return 0, fmt.Errorf("%w: footer length %d in a %d-byte file", ErrFormat, n, fileSize)
	}
	return int64(n), nil
}

// decode reads the fixed fields of a footer of length n that ends a file
// of fileSize bytes, and checks them against each other.
func (f *footer) decode(b []byte, n, fileSize int64) error {
	if string(b[:8]) != footerMagic {
		return fmt.Errorf("%w: bad footer magic", ErrFormat)
	}
	if v := le.Uint32(b[8:]); v != version {
		return fmt.Errorf("%w: footer version %d, want %d", ErrFormat, v, version)
	}
	f.kind = BlockKind(le.Uint32(b[12:]))
	f.flags = le.Uint64(b[16:])
	f.pid = int(int64(le.Uint64(b[24:])))
	f.start = le.Uint64(b[32:])
	f.created = time.Unix(0, int64(le.Uint64(b[40:])))
	off, length := le.Uint64(b[48:]), le.Uint64(b[56:])
	f.footerSize = n
	if off%page != 0 || off == 0 || off > maxHeader || length > maxSize ||
		int64(roundUp(off+length)) != fileSize-n {
		return fmt.Errorf("%w: footer says data [%d, +%d) in a %d-byte file", ErrFormat, off, length, fileSize)
	}
	f.dataOff, f.dataLen = int64(off), int64(length)
	return nil
}

func roundUp(n uint64) uint64 { return (n + page - 1) &^ (page - 1) }

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
	return metaOf(fd, st)
}

// metaOf is readMeta of the file open as fd, which fstat described as st.
func metaOf(fd int, st sys.File) (meta, error) {
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

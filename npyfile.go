package ndshm

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/ndshm/ndshm/internal/npy"
)

// Load creates the block name (as Create does, with opts) holding the
// array in the .npy file at path, copying the data once. The block gets
// its name only once it is complete; on any error there is no block.
func Load(path, name string, opts ...Option) (*Block, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := LoadReader(f, name, opts...)
	if errors.Is(err, ErrFormat) || errors.Is(err, ErrDType) {
		// The file is at fault, not the block: name the file.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		err = &fs.PathError{Op: "load", Path: path, Err: err}
	}
	return b, err
}

// LoadReader is Load from a stream holding a .npy file, such as a
// reader that reports progress. It reads the header and exactly the
// array's bytes. When r can tell how much it holds (a regular *os.File,
// a bytes.Reader) a header that claims more data than that fails before
// any memory is reserved; from another stream, when the data runs out.
func LoadReader(r io.Reader, name string, opts ...Option) (*Block, error) {
	h, hlen, err := npy.Read(r)
	if err != nil {
		return nil, npyError(err)
	}
	s, err := specOf(h)
	if err != nil {
		return nil, err
	}
	// Check what the file holds before reserving what its header claims:
	// a 200-byte file must not make us reserve 100 GiB first.
	if n, ok := remaining(r); ok && n < int64(s.Size()) {
		return nil, fileError(fmt.Sprintf("cut short: its header describes %v, %d bytes of data, but only %d bytes follow the %d-byte header",
			s, s.Size(), n, hlen))
	}
	read := func(b *Block) error {
		data := b.Bytes()
		if n, err := io.ReadFull(r, data); err != nil {
			return fileError(fmt.Sprintf("cut short: its header describes %d bytes of data, the file ends after %d", len(data), n))
		}
		return nil
	}
	// The data goes in before the name appears: nobody sees a half-loaded
	// block, and a failed or killed load leaves none.
	return Create(name, s, append(opts, Init(read))...)
}

// remaining returns how many bytes are left in r, when r can tell: a
// regular file (its size less the offset), or an in-memory reader.
func remaining(r io.Reader) (int64, bool) {
	switch r := r.(type) {
	case interface{ Len() int }:
		return int64(r.Len()), true
	case *os.File:
		fi, err := r.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, false
		}
		off, err := r.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0, false
		}
		return fi.Size() - off, true
	}
	return 0, false
}

// A fileError is a .npy file that is not one, or not a whole one. It is
// an ErrFormat, but says "file", not "block": it is the file's fault.
type fileError string

func (e fileError) Error() string        { return string(e) }
func (e fileError) Is(target error) bool { return target == ErrFormat }

// npyError explains a header that npy.Read refused.
func npyError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "npy: ")
	switch {
	case msg == "bad magic":
		return fileError(`not a .npy file (no \x93NUMPY magic at its start)`)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fileError("not a .npy file: it ends inside the .npy header (" + msg + ")")
	}
	return fileError("not a valid .npy file: " + msg)
}

// WriteTo writes the block's array to w as a .npy file, which NumPy
// reads back bit-identical. It implements io.WriterTo.
func (b *Block) WriteTo(w io.Writer) (int64, error) {
	var n int64
	// Close waits: the data stays mapped while we write it.
	err := b.file.Use(func(mem []byte) error {
		hdr, err := b.spec.header().Encode(64)
		if err != nil {
			return err
		}
		h, err := w.Write(hdr)
		n = int64(h)
		if err != nil {
			return err
		}
		d, err := w.Write(b.data(mem))
		n += int64(d)
		return err
	})
	return n, err
}

package ndshm

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

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
// array's bytes.
func LoadReader(r io.Reader, name string, opts ...Option) (*Block, error) {
	h, _, err := npy.Read(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	s, err := specOf(h)
	if err != nil {
		return nil, err
	}
	read := func(b *Block) error {
		if _, err := io.ReadFull(r, b.data); err != nil {
			return fmt.Errorf("%w: data: %v", ErrFormat, err)
		}
		return nil
	}
	// The data goes in before the name appears: nobody sees a half-loaded
	// block, and a failed or killed load leaves none.
	return Create(name, s, append(opts, Init(read))...)
}

// WriteTo writes the block's array to w as a .npy file, which NumPy
// reads back bit-identical. It implements io.WriterTo.
func (b *Block) WriteTo(w io.Writer) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock() // Close waits: the data stays mapped while we write it
	if b.fd < 0 {
		return 0, os.ErrClosed
	}
	hdr, err := b.spec.header().Encode(64)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(hdr)
	if err != nil {
		return int64(n), err
	}
	m, err := w.Write(b.data)
	return int64(n + m), err
}

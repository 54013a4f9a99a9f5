package ndshm

import (
	"bufio"
	"fmt"
	"io"
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
	h, off, err := npy.Read(bufio.NewReader(io.LimitReader(f, maxHeader)))
	if err != nil {
		return nil, &os.PathError{Op: "load", Path: path, Err: fmt.Errorf("%w: %v", ErrFormat, err)}
	}
	s, err := specOf(h)
	if err != nil {
		return nil, &os.PathError{Op: "load", Path: path, Err: err}
	}
	read := func(b *Block) error {
		_, err := f.Seek(int64(off), io.SeekStart)
		if err == nil {
			_, err = io.ReadFull(f, b.data)
		}
		if err != nil {
			return &os.PathError{Op: "load", Path: path, Err: fmt.Errorf("%w: data: %v", ErrFormat, err)}
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

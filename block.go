package ndshm

import (
	"fmt"
	"os"
	"slices"

	"github.com/ndshm/ndshm/internal/block"
	"github.com/ndshm/ndshm/internal/sys"
)

// A Block is this process's mapping of one shared-memory block: a named
// file in /dev/shm or an anonymous memfd, holding one array.
//
// The Block holds the mapping, which it shares with every other Block of
// this process open on the same file with the same access (see Open).
// Every slice and Array obtained from it aliases the shared bytes, sees
// other processes' writes, and is valid only until Close: touching it
// afterwards faults once no other Block shares the mapping. Methods are
// safe for concurrent use; the data itself is not synchronized (see the
// package documentation for the discipline).
type Block struct {
	file    *block.File // descriptor, mapping, identity, control words
	spec    Spec
	strides []int // element strides, shared read-only by every view
	foot    footer
	size    int64 // of the file
}

// The file side of a Block lives in internal/block, for this package and
// its siblings (pool, ring, lock); see that package's documentation.
func init() {
	block.Register(
		func(b any) *block.File { return b.(*Block).file },
		func(l block.Layout) any { return layout(l) })
}

// layout makes a block of kind l.Kind whose footer holds l.Control zeroed
// bytes of control words, for package ring. A block of any kind is still
// a plain array to Open, View and NumPy.
func layout(l block.Layout) Option {
	return func(o *options) { o.kind, o.control = BlockKind(l.Kind), max(l.Control, 0) }
}

// blockOpts say how newBlock's file was made or opened.
type blockOpts struct {
	owned    bool // created here and not persistent: Close unlinks it
	readOnly bool // opened O_RDONLY and mapped PROT_READ
	// headerless marks a raw file with no ndshm header, whose meta is
	// the opener's spec: it is not shared with later openers.
	headerless bool
}

// newBlock wraps a validated block newly mapped as mem, sharing the
// mapping with later openers in this process (see warm.go); m says what
// it holds.
func newBlock(fd int, name string, m meta, mem []byte, o blockOpts) *Block {
	return wrap(fd, name, m, share(m, mem, !o.readOnly, o.headerless), o)
}

// wrap makes a Block of a validated block, taking over fd and the
// reference mp; m says what it holds.
func wrap(fd int, name string, m meta, mp *block.Mapping, o blockOpts) *Block {
	s, f := m.spec, m.foot
	s.Shape = slices.Clone(s.Shape) // the caller may reuse its slice; other Blocks share m's
	p := block.Params{FD: fd, ID: m.id, Name: name, Kind: block.Kind(f.kind),
		Owned: o.owned, ReadOnly: o.readOnly, Map: mp}
	if f.footerSize > 0 {
		p.ControlOff = int(m.size - f.footerSize + controlOff)
		p.ControlEnd = int(m.size - trailerSize)
	}
	return &Block{file: block.New(p), spec: s, strides: s.strides(), foot: f, size: m.size}
}

// Name returns the block's name, or "" for an anonymous block.
func (b *Block) Name() string { return b.file.Name() }

// Spec returns the array's dtype, shape and order. The Shape slice is the
// caller's.
func (b *Block) Spec() Spec {
	s := b.spec
	s.Shape = slices.Clone(s.Shape)
	return s
}

// DType returns the element type.
func (b *Block) DType() DType { return b.spec.DType }

// Bytes returns the array's data, aliasing shared memory, valid until
// Close (nil after it). Its length is the spec's Size.
func (b *Block) Bytes() []byte { return b.data(b.file.Mem()) }

// data returns the array's bytes within the mapping mem.
func (b *Block) data(mem []byte) []byte {
	if mem == nil {
		return nil
	}
	off, end := b.foot.dataOff, b.foot.dataOff+b.foot.dataLen
	return mem[off:end:end]
}

// Record returns the bytes of element i in memory order, aliasing shared
// memory: byte access to the records of a structured dtype that has no Go
// struct. It panics if i is out of range.
func (b *Block) Record(i int) []byte {
	data, n := b.Bytes(), b.spec.DType.size
	if uint(i) >= uint(len(data)/n) {
		panic("ndshm: record index out of range")
	}
	return data[i*n : (i+1)*n : (i+1)*n]
}

// File returns a new descriptor for the block, for handing to another
// process (exec.Cmd.ExtraFiles, or a unix socket), which opens it with
// FromFile. It is a fresh open file description, so it never carries
// this process's liveness lock. The caller owns it.
func (b *Block) File() (*os.File, error) {
	fd, err := b.file.Reopen()
	if err != nil {
		if err == os.ErrClosed {
			return nil, err
		}
		return nil, fmt.Errorf("ndshm: reopen block: %w", err)
	}
	return os.NewFile(uintptr(fd), "/proc/self/fd/"+fmt.Sprint(fd)), nil
}

// Close closes the Block's descriptor, dropping the OFD locks taken on
// it, and unmaps the block from this process unless another open Block
// shares the mapping (see Open), in which case the mapping stays until
// that one is closed too. An owned block (made by Create without
// Persistent) is also unlinked, so its name goes; processes that still
// map it keep their mapping. Views of the block must not be used after
// Close, even while another Block keeps the mapping: use that Block's.
// Close is idempotent; the Block's other methods then return nil or
// os.ErrClosed.
func (b *Block) Close() error { return b.file.Close() }

// Unlink removes a block's name. Processes that have it mapped keep their
// mapping; the memory is freed when the last one closes it.
func Unlink(name string) error {
	name, err := checkName("unlink", name)
	if err != nil {
		return err
	}
	return pathErr("unlink", name, sys.Unlink(name))
}

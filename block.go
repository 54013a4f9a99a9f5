package ndshm

import (
	"slices"
	"sync"

	"github.com/ndshm/ndshm/internal/sys"
)

// A Block is this process's mapping of one shared-memory block: a named
// file in /dev/shm or an anonymous memfd, holding one array.
//
// The Block owns the mapping. Every slice and Array obtained from it
// aliases the shared bytes, sees other processes' writes, and is valid
// only until Close: touching it afterwards faults. Methods are safe for
// concurrent use; the data itself is not synchronized (see the package
// documentation for the discipline).
type Block struct {
	name    string // "" for an anonymous block
	spec    Spec
	strides []int // element strides, shared read-only by every view
	foot    footer
	mem     []byte // the whole mapping, nil for an empty raw file
	data    []byte // the array's bytes within mem
	owned   bool   // created here and not persistent: Close unlinks
	id      sys.FileID
	size    int64 // of the file

	mu sync.Mutex
	fd int // -1 once closed; holds the creator's liveness lock
}

// Name returns the block's name, or "" for an anonymous block.
func (b *Block) Name() string { return b.name }

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
func (b *Block) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.data
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

// Close unmaps the block from this process and closes its descriptor. An
// owned block (made by Create without Persistent) is also unlinked, so its
// name goes; processes that still map it keep their mapping. Views of the
// block must not be used after Close. Close is idempotent.
func (b *Block) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fd < 0 {
		return nil
	}
	var err error
	if b.owned && sys.SameFile(b.fd, b.name) {
		err = pathErr("close", b.name, sys.Unlink(b.name))
	}
	if b.mem != nil {
		err = firstErr(err, sys.Unmap(b.mem))
	}
	err = firstErr(err, sys.Close(b.fd))
	b.fd, b.mem, b.data = -1, nil, nil
	return err
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

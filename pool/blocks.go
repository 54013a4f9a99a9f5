package pool

import (
	"os"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/block"
	"github.com/ndshm/ndshm/internal/sys"
)

// A blockRef is the pool's handle on a block it has run ops on: its
// identity (which file, whatever its name is now) and a descriptor to
// hand to workers that lack it.
type blockRef struct {
	b    *ndshm.Block
	id   sys.FileID
	file *os.File
	name string
	size int  // of its data
	raw  bool // no ndshm header: workers are told the spec
	spec ndshm.Spec
}

// newBlockRef opens a descriptor of b for workers, failing with
// os.ErrClosed if b is closed.
func newBlockRef(b *ndshm.Block) (*blockRef, error) {
	f, err := b.File()
	if err != nil {
		return nil, err
	}
	bf := block.Of(b)
	return &blockRef{b: b, id: bf.ID(), file: f, name: b.Name(), size: len(b.Bytes()),
		raw: bf.Kind() == block.Raw, spec: b.Spec()}, nil
}

// ref returns the pool's reference to b. Reopening a block costs more
// than a small task, so the pool keeps references to the last keepBlocks
// blocks, as its workers keep them mapped; Release and Close drop them.
// The caller holds p.mu.
func (p *Pool) ref(b *ndshm.Block) (*blockRef, error) {
	for i, r := range p.refs {
		if r.b != b {
			continue
		}
		// A block closed since it was last used must not be worked on
		// through the pool's descriptor.
		if block.Of(b).Closed() {
			p.dropRef(i)
			return nil, os.ErrClosed
		}
		copy(p.refs[1:i+1], p.refs[:i])
		p.refs[0] = r
		return r, nil
	}
	r, err := newBlockRef(b)
	if err != nil {
		return nil, err
	}
	p.refs = append([]*blockRef{r}, p.refs...)
	if len(p.refs) > keepBlocks {
		p.dropRef(len(p.refs) - 1)
	}
	return r, nil
}

func (p *Pool) dropRef(i int) {
	p.refs[i].file.Close()
	p.refs = append(p.refs[:i], p.refs[i+1:]...)
}

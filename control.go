package ndshm

// Kind returns what the block holds, as its footer says.
func (b *Block) Kind() Kind { return b.foot.kind }

// Control returns the block's kind-specific control words (see Control
// and docs/FORMAT.md), aliasing shared memory and valid until Close (nil
// after it, and for raw blocks). It starts on a 64-byte boundary, so
// its 8-byte words can be used atomically. The kind's package owns its
// meaning: writing it by hand can wedge that package's peers.
func (b *Block) Control() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mem == nil || b.foot.footerSize == 0 {
		return nil
	}
	f := b.size - b.foot.footerSize
	return b.mem[f+controlOff : b.size-trailerSize : b.size-trailerSize]
}

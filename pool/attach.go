package pool

import (
	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/sys"
)

// keepBlocks is how many blocks a worker keeps mapped between calls.
// Mapping is cheap but filling the worker's page tables is not (about
// 6 ms per 100 MiB): a block used again skips both.
const keepBlocks = 4

// An attachment is a block a worker has mapped, under the id tasks use.
// The worker's mapping keeps the file alive, so its FileID cannot be
// reused by another file while the attachment lasts.
type attachment struct {
	id  sys.FileID
	wid uint32
	b   *ndshm.Block // the last Block it was used through, for Release
}

// attach returns the worker's id for the block, handing it over (and
// dropping the least recently used block beyond keepBlocks) if need be.
func (pr *proc) attach(ref *blockRef) (uint32, error) {
	for i, a := range pr.blocks {
		if a.id == ref.id {
			a.b = ref.b
			copy(pr.blocks[1:i+1], pr.blocks[:i])
			pr.blocks[0] = a
			return a.wid, nil
		}
	}
	if len(pr.blocks) == keepBlocks {
		if err := pr.detach(len(pr.blocks) - 1); err != nil {
			return 0, err
		}
	}
	frame := encodeAttach(pr.nextID+1, ref.name)
	if ref.raw {
		// No header: the worker learns the array from the frame.
		var err error
		if frame, err = encodeAttachRaw(pr.nextID+1, ref.name, ref.spec); err != nil {
			return 0, err
		}
	}
	pr.nextID++
	if err := pr.send(frame, ref.file); err != nil {
		return 0, err
	}
	pr.blocks = append([]attachment{{id: ref.id, wid: pr.nextID, b: ref.b}}, pr.blocks...)
	return pr.nextID, nil
}

// detach tells the worker to unmap the i'th block.
func (pr *proc) detach(i int) error {
	f := encodeDetach(pr.blocks[i].wid)
	pr.blocks = append(pr.blocks[:i], pr.blocks[i+1:]...)
	return pr.send(f[:], nil)
}

// forget detaches the blocks of refs (nil entries are skipped) and those
// last used through the Block b.
func (pr *proc) forget(refs ...*blockRef) error {
	for i := len(pr.blocks) - 1; i >= 0; i-- {
		a := pr.blocks[i]
		for _, r := range refs {
			if r != nil && (a.id == r.id || a.b == r.b) {
				if err := pr.detach(i); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

package ndshm

import (
	"slices"

	"github.com/ndshm/ndshm/internal/block"
	"github.com/ndshm/ndshm/internal/sys"
)

// Opening a block this process already maps (the same file, at the same
// size, with the same access) reuses that mapping: the first touch of
// each page through a new mapping refills the page table, which costs
// microseconds per 4 KiB page on a virtual machine even when the page is
// resident, so a warm re-open is an open, an fstat and a map lookup. The
// new Block has its own descriptor, and so its own OFD locks; it shares
// the mapping (internal/block.Mapping) and what the first opener
// validated of the header and footer, this process's private copy, never
// reread from the shared bytes, which a peer may have changed since.

// mapKey is the key of the mapping of the file st describes.
func mapKey(st sys.File, writable bool) block.Key {
	return block.Key{ID: st.ID, Size: st.Size, Write: writable}
}

// sharedMeta returns what the first opener of mp validated, or false if
// mp is nil or maps a file read raw, with no ndshm header.
func sharedMeta(mp *block.Mapping) (meta, bool) {
	m, ok := mp.Meta().(*meta)
	if !ok {
		return meta{}, false
	}
	return *m, true
}

// share makes mem, this process's new mapping of the file m describes,
// the shared one (or, if another goroutine shared one first, unmaps mem
// and uses that), with one reference for the caller. A headerless raw
// file shares no meta: a spec from an OpenRaw caller vouches for nothing.
func share(m meta, mem []byte, writable, headerless bool) *block.Mapping {
	var v any
	if !headerless {
		c := m
		c.spec.Shape = slices.Clone(m.spec.Shape) // the creator's caller may reuse its slice
		v = &c
	}
	k := block.Key{ID: m.id, Size: m.size, Write: writable}
	return block.Share(k, mem, v)
}

// mapShared maps the file open as fd, which m describes, unless mp
// already maps it; it returns the mapping with one reference.
func mapShared(fd int, m meta, mp *block.Mapping, writable bool) (*block.Mapping, error) {
	if mp != nil {
		return mp, nil
	}
	mem, err := sys.Map(fd, int(m.size), writable)
	if err != nil {
		return nil, err
	}
	return share(m, mem, writable, false), nil
}

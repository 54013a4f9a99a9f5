package block

import (
	"sync"

	"github.com/ndshm/ndshm/internal/sys"
)

// A Key says which mappings of this process may be shared: those of the
// same file, at the same size, with the same access.
type Key struct {
	ID    sys.FileID
	Size  int64
	Write bool // mapped PROT_READ|PROT_WRITE, not PROT_READ
}

// A Mapping is this process's mapping of a whole block file, shared by
// every File opened on the same Key. The first touch of each page through
// a new mapping costs a page-table fill (5-12 µs per 4 KiB page on a
// virtual machine, even for resident pages), so a process that opens a
// block it already maps reuses the warm mapping rather than making a
// cold one. The last File to let go of it unmaps it.
//
// Each File keeps its own descriptor: OFD locks (liveness, region locks)
// belong to open file descriptions, and only the mapping is shared.
type Mapping struct {
	key  Key
	mem  []byte
	meta any // what the first opener validated; read-only once shared
	refs int // guarded by maps.mu
}

// maps holds every shared mapping of this process by Key.
//
// A Key cannot name two different files over time while it is here: the
// entry holds a mapping, a mapping holds a reference to its file, and the
// file system frees a file, and so can give its inode number to a new
// one, only once no mapping or descriptor refers to it. The entry is
// removed before the mapping is unmapped, so a new file that reuses the
// inode number always finds the old entry gone. A file unlinked and
// another created under the same name has another inode: another Key.
var maps = struct {
	sync.Mutex
	m map[Key]*Mapping
}{m: make(map[Key]*Mapping)}

// Lookup returns this process's mapping of k with one more reference,
// which the caller passes to New or gives back with Release; or nil if
// there is none.
func Lookup(k Key) *Mapping {
	maps.Lock()
	defer maps.Unlock()
	m := maps.m[k]
	if m != nil {
		m.refs++
	}
	return m
}

// Share makes mem, a mapping of the whole file k names, the shared
// mapping of k, with one reference for the caller. meta is what the
// caller validated about the file, nil if nothing (a raw block), for
// later openers to reuse rather than reread the shared bytes; it must not
// change afterwards. If another opener shared a mapping of k first, Share
// unmaps mem and returns that one instead. An empty mem (an empty file)
// is not a mapping: Share returns nil.
func Share(k Key, mem []byte, meta any) *Mapping {
	if len(mem) == 0 {
		return nil
	}
	maps.Lock()
	m := maps.m[k]
	if m == nil {
		m = &Mapping{key: k, mem: mem, meta: meta}
		maps.m[k] = m
	}
	m.refs++
	maps.Unlock()
	if &m.mem[0] != &mem[0] {
		sys.Unmap(mem)
	}
	return m
}

// Mem returns the whole mapping, nil for a nil Mapping.
func (m *Mapping) Mem() []byte {
	if m == nil {
		return nil
	}
	return m.mem
}

// Meta returns what the first opener validated about the file, or nil.
func (m *Mapping) Meta() any {
	if m == nil {
		return nil
	}
	return m.meta
}

// Release gives back one reference and unmaps the mapping if it was the
// last. It does nothing on a nil Mapping.
func (m *Mapping) Release() error {
	if m == nil {
		return nil
	}
	maps.Lock()
	m.refs--
	last := m.refs == 0
	if last {
		delete(maps.m, m.key)
	}
	maps.Unlock()
	if !last {
		return nil
	}
	return sys.Unmap(m.mem)
}

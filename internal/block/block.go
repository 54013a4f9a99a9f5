// Package block is the file side of an ndshm block: its descriptor, its
// identity, its kind, its mapping and the footer's control words, and
// whether it is closed. Package ndshm builds its Block on a *File, and
// the sibling packages that need more than the public API (pool, ring,
// lock) take the *File of a Block with Of, rather than reopening the
// block and asking the kernel what ndshm already knows.
//
// An internal package cannot import the root package, so the root
// registers two hooks in its init (Register): Of, from a *ndshm.Block to
// its *File, and Option, which makes the ndshm.Option that lays a block
// of a given kind and control size out. Both are set before any code of
// a package that imports ndshm runs, so they are never nil when called
// from such a package. The alternatives cost more: an exported method
// on Block returning an internal type would show in the public API, and
// moving Block here would leave the root as aliases.
package block

import (
	"os"
	"sync"

	"github.com/ndshm/ndshm/internal/sys"
)

// Kind says what a block holds, as its footer's kind word does
// (docs/FORMAT.md). Package ndshm exports it as BlockKind.
type Kind uint32

const (
	Raw   Kind = 0 // a headerless block attached with an explicit spec
	Array Kind = 1
	Ring  Kind = 2
)

// A File is one process's open, mapped block file. It owns its
// descriptor and one reference to the mapping, which other Files of the
// same file, size and access share (see Mapping): slices it returns alias
// the mapping and are valid until Close. Its methods are safe for
// concurrent use.
type File struct {
	id    sys.FileID
	name  string // "" for an anonymous block
	kind  Kind
	owned bool   // Close unlinks name
	write bool   // opened and mapped for writing
	ctl   [2]int // control words: mem[ctl[0]:ctl[1]], empty for none
	mu    sync.Mutex
	fd    int      // -1 once closed
	m     *Mapping // shared with Files of the same Key; nil for an empty file and once closed
	mem   []byte   // m.Mem(), nil once closed
}

// Params describe a File to New.
type Params struct {
	FD    int
	ID    sys.FileID
	Name  string
	Kind  Kind
	Owned bool // created here and not persistent: Close unlinks Name
	// ReadOnly marks a file opened O_RDONLY and mapped PROT_READ.
	ReadOnly bool
	// Map is the mapping of the whole file (a reference from Lookup or
	// Share), nil if the file is empty.
	Map *Mapping
	// Control is where the kind's control words lie in Mem, if anywhere.
	ControlOff, ControlEnd int
}

// New makes a File of a validated, mapped block. It takes over p.FD and
// the reference p.Map.
func New(p Params) *File {
	return &File{id: p.ID, name: p.Name, kind: p.Kind, owned: p.Owned, write: !p.ReadOnly,
		ctl: [2]int{p.ControlOff, p.ControlEnd}, fd: p.FD, m: p.Map, mem: p.Map.Mem()}
}

// Name returns the block's name, "" for an anonymous block.
func (f *File) Name() string { return f.name }

// ID returns the identity of the block's file, whatever its name is now.
func (f *File) ID() sys.FileID { return f.id }

// Kind returns what the block holds, as its footer says.
func (f *File) Kind() Kind { return f.kind }

// Owned reports whether Close unlinks the block's name.
func (f *File) Owned() bool { return f.owned }

// Closed reports whether Close has been called.
func (f *File) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fd < 0
}

// Mem returns the whole mapping, or nil once closed (and for an empty
// raw file), valid until Close; after Close, only while another File of
// this process shares the mapping.
func (f *File) Mem() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mem
}

// Control returns the kind-specific control words, aliasing shared
// memory and valid until Close (nil after it, and for a raw block). They
// start on a 64-byte boundary, so their 8-byte words can be used
// atomically. The kind's package owns their meaning.
func (f *File) Control() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mem == nil || f.ctl[0] == f.ctl[1] {
		return nil
	}
	return f.mem[f.ctl[0]:f.ctl[1]:f.ctl[1]]
}

// Use calls fn with the mapping, holding off Close until fn returns, or
// returns os.ErrClosed if the File is closed.
func (f *File) Use(fn func(mem []byte) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fd < 0 {
		return os.ErrClosed
	}
	return fn(f.mem)
}

// Reopen returns a new descriptor for the block's file: a fresh open
// file description, so it never carries this process's liveness lock,
// and OFD locks taken on it are told apart from others. The caller owns
// it. It fails with os.ErrClosed once the File is closed.
func (f *File) Reopen() (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fd < 0 {
		return -1, os.ErrClosed
	}
	if !f.write {
		return sys.ReopenReadOnly(f.fd)
	}
	return sys.Reopen(f.fd)
}

// ReadOnly reports whether the block was opened read-only: its mapping
// faults on a write, and Reopen returns read-only descriptors.
func (f *File) ReadOnly() bool { return !f.write }

// Close closes the descriptor and lets go of the mapping, which is
// unmapped if no other File of this process shares it; an owned block's
// name is unlinked first if it still names this file. Close is
// idempotent.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fd < 0 {
		return nil
	}
	var errs []error
	if f.owned && sys.SameFile(f.fd, f.name) {
		if err := sys.Unlink(f.name); err != nil {
			errs = append(errs, &os.PathError{Op: "close", Path: f.name, Err: err})
		}
	}
	errs = append(errs, f.m.Release())
	errs = append(errs, sys.Close(f.fd))
	f.fd, f.m, f.mem = -1, nil, nil
	return firstErr(errs)
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// A Layout is the kind and the size of the control words of a block to
// create.
type Layout struct {
	Kind    Kind
	Control int // bytes of kind-specific control words
}

var (
	of     func(any) *File
	option func(Layout) any
)

// Register sets the hooks; package ndshm calls it once, in its init.
func Register(ofBlock func(any) *File, optionFor func(Layout) any) {
	of, option = ofBlock, optionFor
}

// Of returns the File of b, a *ndshm.Block. It panics for anything else.
func Of(b any) *File { return of(b) }

// Option returns the ndshm.Option (as any: assert it) that makes Create
// and CreateAnon lay out a block of l's kind with l's control words,
// zeroed.
func Option(l Layout) any { return option(l) }

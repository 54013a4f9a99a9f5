package ndshm

import (
	"io/fs"
	"time"
)

// An Option adjusts Create, CreateAnon, Open, OpenRaw, Stat or List. Each
// of them documents the options it heeds and ignores the others.
type Option func(*options)

type options struct {
	foreign    bool          // Open, OpenRaw: map a block another user owns
	readOnly   bool          // Open, OpenRaw: open O_RDONLY, map PROT_READ
	usersAge   time.Duration // Stat, List: how old a scan for users may be
	persistent bool
	perm       fs.FileMode
	kind       BlockKind
	control    int // bytes of kind-specific control words
	init       func(*Block) error
}

// optionsOf applies opts to the defaults.
func optionsOf(opts []Option) options {
	o := options{perm: 0o600, kind: KindArray}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Persistent makes a block outlive its creator: Close leaves the name in
// place and only Unlink (or `ndshm rm`) removes it.
func Persistent() Option { return func(o *options) { o.persistent = true } }

// Perm sets the block's permission bits (default 0600, owner only); the
// process umask applies, as with shm_open.
func Perm(p fs.FileMode) Option { return func(o *options) { o.perm = p.Perm() } }

// Init has Create call f with the complete block before giving it its
// name: other processes never see the block before f has filled it, and
// if f fails (or the process dies) there is no block at all. Create
// returns f's error.
func Init(f func(*Block) error) Option { return func(o *options) { o.init = f } }

// AllowForeign lets Open and OpenRaw map a block owned by another user
// (neither this process's effective uid nor root). They refuse one by
// default because its owner can truncate the file under the mapping at
// any moment, and this process then dies of SIGBUS when it touches the
// lost pages. Pass it only for blocks of a user you trust not to: the
// Block cannot guard against it. Create and CreateAnon ignore it.
func AllowForeign() Option { return func(o *options) { o.foreign = true } }

// ReadOnly makes Open and OpenRaw open the block's file read-only and
// map it PROT_READ, so a process with only read permission on the file
// (a 0644 block of another user's, say) can map and read it. Bytes and
// views of such a block must not be written: a write through them
// faults (SIGSEGV), which Go does not recover from. Its File is
// read-only too. Create and CreateAnon ignore it.
func ReadOnly() Option { return func(o *options) { o.readOnly = true } }

// Package server holds both sides of the ndshm data server's protocol
// (docs/PROTOCOL.md), as net/rpc does. A Server, behind `ndshm serve`,
// owns named blocks for its clients (loaded from .npy files, or made on
// request), hands out anonymous blocks as file descriptors, lists and
// describes blocks, and removes orphans while it runs. A Client, from
// Dial, asks it for these over a unix socket (DefaultSocket unless told
// otherwise). A request the server refuses comes back as an *Error whose
// code one table turns into a Go error on both sides: errors.Is matches
// it against what the server's own error matched (fs.ErrExist,
// fs.ErrNotExist, ...).
//
// Blocks the server owns die with it: when Serve returns they are
// unlinked, and if the server is killed they become orphans, which any
// ndshm.GC (another server's, or `ndshm gc`) removes.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/human"
)

// A Server serves ndshm blocks on a unix socket. Set its fields before
// Load or Serve and leave them alone after. Its methods are safe for
// concurrent use; the zero value serves on DefaultSocket().
type Server struct {
	Socket     string                           // listening socket path; "" means DefaultSocket()
	GCInterval time.Duration                    // how often orphans are collected while serving; 0 = 2s default; <0 never
	Logf       func(format string, args ...any) // optional event log: loads, gc removals, refusals (at most 10 lines per 10s, then a count)

	// MaxAnon bounds the size in bytes of one anonymous block a client
	// may ask for: 0 means half the memory free when Serve starts (see
	// docs/PROTOCOL.md), < 0 no bound. Whatever it says, a block for
	// which memory is not free now is refused with no_space: the server
	// is charged for its blocks and would be killed instead.
	MaxAnon int64

	// Perm is the mode of the socket file and of the named blocks the
	// server makes (Load, create requests), set exactly whatever the
	// umask, as install -m does; 0 means 0600. Other users it lets in can
	// map the blocks themselves (with ndshm.AllowForeign); the server
	// itself still answers only peers of its own uid.
	Perm fs.FileMode

	mu      sync.Mutex
	owned   map[string]*ndshm.Block // named blocks this server made
	keys    map[string]keyed        // anonymous blocks published under a key
	closed  bool                    // Close has run
	serving bool                    // Serve has been called
	anonCap int64                   // MaxAnon resolved when Serve starts
	refused refusals                // the rate limit of the log of refusals

	peerOK   func(uid int) bool // whom to talk to; nil means this process's uid (tests change it)
	usersAge time.Duration      // how old users may be; 0 means usersMaxAge (tests change it)
}

// A keyed anonymous block lives in the server while its creator's
// connection does.
type keyed struct {
	b     *ndshm.Block
	owner *conn
}

// Load creates the named block holding the .npy stream r (as
// ndshm.LoadReader does) and keeps it until Close: the server owns it, so
// it is unlinked when the server stops and becomes an orphan if the server
// dies. On error there is no block. Load may be called before or while
// Serve runs; it logs the load if r has a Name method (an *os.File does).
func (s *Server) Load(name string, r io.Reader) error {
	start := time.Now()
	b, err := ndshm.LoadReader(r, name, s.permOpts()...)
	if err != nil {
		return err
	}
	if err := s.chmod(b); err != nil {
		b.Close() // owned: closing unlinks it
		return err
	}
	if err := s.keep(b); err != nil {
		return err
	}
	d := time.Since(start)
	from := ""
	if n, ok := r.(interface{ Name() string }); ok {
		from = " from " + n.Name()
	}
	n := int64(len(b.Bytes()))
	shown := d.Round(time.Microsecond)
	if d >= 10*time.Millisecond {
		shown = d.Round(time.Millisecond)
	}
	s.logf("loaded %s%s: %s in %v (%s/s)", name, from, human.Bytes(n), shown, human.Bytes(int64(float64(n)/max(d.Seconds(), 1e-6))))
	return nil
}

// keep makes b one of the server's owned blocks, or closes it (and so
// unlinks it) when the server has closed.
func (s *Server) keep(b *ndshm.Block) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		b.Close()
		return fmt.Errorf("server: keep %s: %w", b.Name(), errClosed)
	}
	if s.owned == nil {
		s.owned = make(map[string]*ndshm.Block)
	}
	s.owned[b.Name()] = b
	return nil
}

// Close closes and unlinks every block the server owns, and closes its
// copies of keyed anonymous blocks; later Loads and requests for new
// blocks fail. Serve calls it when it returns; call it yourself after
// Loads when Serve never runs. Close is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var err error
	for name, b := range s.owned {
		err = errors.Join(err, b.Close())
		delete(s.owned, name)
	}
	for key, k := range s.keys {
		err = errors.Join(err, k.b.Close())
		delete(s.keys, key)
	}
	return err
}

// defaultGCInterval is how often a server collects orphans by default.
const defaultGCInterval = 2 * time.Second

// collect runs ndshm.GC every GCInterval until ctx is done, logging each
// orphan it removes. It never forces: an orphan that processes still map
// stays until they let go.
func (s *Server) collect(ctx context.Context) {
	every := s.GCInterval
	switch {
	case every < 0:
		return
	case every == 0:
		every = defaultGCInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		got, err := ndshm.GC(ndshm.GCOptions{})
		for _, c := range got {
			if c.Removed {
				s.logf("gc: removed orphan %s (%s, creator pid %d dead)", c.Name, human.Bytes(c.FileSize), c.CreatorPID)
			}
		}
		if err != nil {
			s.logf("gc: %v", err)
		}
	}
}

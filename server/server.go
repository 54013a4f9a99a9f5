// Package server is the ndshm data server behind `ndshm serve`: it owns
// named blocks for its clients (loaded from .npy files, or made on
// request), hands out anonymous blocks as file descriptors, lists and
// describes blocks, and removes orphans while it runs. Clients talk to it
// over a unix socket with ndshm.Dial; the protocol is docs/PROTOCOL.md.
//
// Blocks the server owns die with it: when Serve returns they are
// unlinked, and if the server is killed they become orphans, which any
// ndshm.GC (another server's, or `ndshm gc`) removes.
package server

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ndshm/ndshm"
)

// ErrRunning means another server is already answering on the socket.
var ErrRunning = errors.New("server already running")

// errClosed refuses new blocks once the server has closed.
var errClosed = errors.New("server is closed")

// A Server serves ndshm blocks on a unix socket. Set its fields before
// Load or Serve and leave them alone after. Its methods are safe for
// concurrent use; the zero value serves on ndshm.DefaultSocket().
type Server struct {
	Socket     string                           // listening socket path; "" means ndshm.DefaultSocket()
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
	s.logf("loaded %s%s: %s in %v (%s/s)", name, from, size(n), shown, size(int64(float64(n)/max(d.Seconds(), 1e-6))))
	return nil
}

// size writes a byte count for the log: "96 B", "7.6 MiB", "2 GiB".
func size(n int64) string {
	v, unit := float64(n), 0
	for v >= 1024 && unit < 4 {
		v, unit = v/1024, unit+1
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " " + [...]string{"B", "KiB", "MiB", "GiB", "TiB"}[unit]
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

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

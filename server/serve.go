package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// Serve listens on s.Socket and serves clients until ctx is done, one
// goroutine per connection, collecting orphans every GCInterval. It then
// closes every connection, closes and unlinks every block the server owns
// (Close) and removes the socket file, and returns nil. It fails at once
// with ErrRunning if another server answers on the socket; a socket file
// left by a server that died is replaced. Whatever it returns, the
// server's blocks are gone when it does. Serve may be called only once.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.start(); err != nil {
		return err
	}
	path := s.Socket
	if path == "" {
		path = DefaultSocket()
	}
	if path == DefaultSocket() {
		if err := privateDir(filepath.Dir(path)); err != nil {
			return errors.Join(err, s.Close())
		}
	}
	ln, err := listen(path)
	if err == nil {
		if err = s.chmodSocket(path); err != nil {
			ln.Close()
		}
	}
	if err != nil {
		return errors.Join(err, s.Close())
	}
	s.logf("serving on %s", path)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	conns := newConnSet()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	wg.Go(func() { s.collect(ctx) })
	err = s.accept(ctx, ln, conns, &wg)
	cancel()
	ln.Close() // removes the socket file
	conns.closeAll()
	wg.Wait()
	s.stopRefused()
	return errors.Join(err, s.Close())
}

// start marks the server as serving, once.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return fmt.Errorf("server: serve: %w", errClosed)
	case s.serving:
		return errors.New("server: Serve called twice")
	}
	s.serving = true
	s.anonCap = s.anonLimit()
	return nil
}

// accept starts a goroutine for each connection until ctx is done.
func (s *Server) accept(ctx context.Context, ln *net.UnixListener, conns *connSet, wg *sync.WaitGroup) error {
	delay := 5 * time.Millisecond
	for {
		c, err := ln.AcceptUnix()
		if ctx.Err() != nil {
			if c != nil {
				c.Close()
			}
			return nil
		}
		if errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("server: accept: %w", err)
		}
		if err != nil {
			// Out of descriptors, say: wait for some to be freed.
			s.logf("accept: %v", err)
			time.Sleep(delay)
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 5 * time.Millisecond
		cn := &conn{UnixConn: c}
		if !conns.add(cn) {
			c.Close()
			continue
		}
		wg.Go(func() {
			defer conns.remove(cn)
			s.serveConn(cn)
		})
	}
}

// listen binds the socket at path, mode 0600. A socket file already
// there is either a live server's, which is an ErrRunning, or one left by
// a server that was killed, which nothing answers on: it is removed. A
// file that is not a socket is never removed.
func listen(path string) (*net.UnixListener, error) {
	ln, err := sys.Listen(path)
	if !errors.Is(err, syscall.EADDRINUSE) {
		return ln, wrapListen(path, err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != fs.ModeSocket {
		return nil, fmt.Errorf("server: listen on %s: file exists and is not a socket", path)
	}
	c, err := sys.Dial(path)
	if err == nil {
		c.Close()
		return nil, fmt.Errorf("server: %s: %w", path, ErrRunning)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return nil, wrapListen(path, err)
	}
	// Stale: its server died without removing it.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, wrapListen(path, err)
	}
	ln, err = sys.Listen(path)
	return ln, wrapListen(path, err)
}

func wrapListen(path string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("server: listen on %s: %w", path, err)
}

// privateDir makes dir, the default socket's directory, mode 0700, or
// checks that the one already there is a directory of this user's that
// no other user may enter or write to. In a directory others can write
// to, any user could take the socket's name first and keep the server
// from starting (or, were clients less careful, pose as it).
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("server: make the socket's directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("server: the socket's directory: %w", err)
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	var why string
	switch me := os.Geteuid(); {
	case !fi.IsDir():
		why = fmt.Sprintf("is a %v, not a directory", fi.Mode().Type())
	case st == nil:
		why = "has no owner that this system reports"
	case int(st.Uid) != me:
		why = fmt.Sprintf("is owned by uid %d, not by this user (uid %d)", st.Uid, me)
	case fi.Mode().Perm()&0o077 != 0:
		why = fmt.Sprintf("has mode %04o: other users may use it", fi.Mode().Perm())
	}
	if why != "" {
		return fmt.Errorf("server: the socket's directory %s %s; remove it (a server makes it, mode 0700), or use another socket (--socket, or XDG_RUNTIME_DIR): %w",
			dir, why, fs.ErrPermission)
	}
	return nil
}

// A conn is one client's connection.
type conn struct {
	*net.UnixConn
	pid int // the client's, as it connected
}

// serveConn answers the requests of one client, in order, until it
// hangs up or the server closes the connection. A client of another
// user is hung up on at once.
func (s *Server) serveConn(c *conn) {
	defer c.Close()
	defer s.dropKeys(c)
	uid, pid, err := sys.PeerCred(c.UnixConn)
	if err != nil {
		s.logRefused("refused a connection: %v", err)
		return
	}
	if !s.allowed(uid) {
		s.logRefused("refused a connection from pid %d: uid %d is not ours", pid, uid)
		return
	}
	c.pid = pid
	buf := make([]byte, maxMessage)
	for {
		rep, f, ok := s.next(c, buf)
		if !ok {
			return // hung up, or the server is stopping
		}
		if !rep.OK {
			s.logRefused("pid %d: %s", c.pid, rep.Error)
		}
		err := s.send(c, rep, f)
		if f != nil {
			f.Close() // the client has its own now
		}
		if err != nil {
			return
		}
	}
}

// next reads the next request and answers it, reporting false when the
// connection has ended.
func (s *Server) next(c *conn, buf []byte) (reply, *os.File, bool) {
	n, files, err := sys.ReadMsg(c.UnixConn, buf)
	switch {
	case errors.Is(err, sys.ErrTruncated):
		return badRequest("request longer than %d bytes, or with too many descriptors", maxMessage), nil, true
	case err != nil:
		return reply{}, nil, false
	case len(files) > 0:
		closeFiles(files)
		return badRequest("requests carry no file descriptors"), nil, true
	}
	rep, f := s.handle(c, buf[:n])
	return rep, f, true
}

func (s *Server) allowed(uid int) bool {
	if s.peerOK != nil {
		return s.peerOK(uid)
	}
	return uid == os.Getuid()
}

// A connSet is the open connections, closed together when Serve stops.
type connSet struct {
	mu     sync.Mutex
	conns  map[*conn]bool
	closed bool
}

func newConnSet() *connSet { return &connSet{conns: make(map[*conn]bool)} }

// add adds c, or reports false once closeAll has run.
func (cs *connSet) add(c *conn) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if !cs.closed {
		cs.conns[c] = true
	}
	return !cs.closed
}

func (cs *connSet) remove(c *conn) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	delete(cs.conns, c)
}

// closeAll closes every connection, ending its reads.
func (cs *connSet) closeAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.closed = true
	for c := range cs.conns {
		c.Close()
	}
}

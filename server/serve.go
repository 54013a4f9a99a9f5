package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/ndshm/ndshm"
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
		path = ndshm.DefaultSocket()
	}
	if path == ndshm.DefaultSocket() {
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

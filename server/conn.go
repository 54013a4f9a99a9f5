package server

import (
	"errors"
	"net"
	"os"
	"sync"

	"github.com/ndshm/ndshm/internal/sys"
)

// maxMessage bounds one message, request or reply (docs/PROTOCOL.md).
const maxMessage = 64 << 10

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

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
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

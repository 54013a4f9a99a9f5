package server

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/ndshm/ndshm"
)

// anon makes an anonymous block and returns a descriptor of it for the
// client. Under a key, the server keeps its own copy, for get, while the
// client c stays connected; without one, the client's is the only copy.
func (s *Server) anon(c *conn, key string, msg []byte) (reply, *os.File) {
	sp, err := spec("anon", msg)
	if err != nil {
		return specReply(err), nil
	}
	if key != "" && s.taken(key) { // fail before making gigabytes
		return keyTaken(key), nil
	}
	if err := s.room("anon", sp, s.limit()); err != nil {
		return errReply(err), nil
	}
	b, err := ndshm.CreateAnon(sp)
	if err != nil {
		return errReply(err), nil
	}
	f, err := b.File()
	if err != nil {
		b.Close()
		return errReply(err), nil
	}
	info := b.Info()
	if key == "" {
		b.Close() // the client's descriptor keeps the memory
		return infoReply(info, nil), f
	}
	if rep := s.publish(c, key, b); !rep.OK {
		b.Close()
		f.Close()
		return rep, nil
	}
	return infoReply(info, nil), f
}

func (s *Server) limit() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.anonCap
}

func keyTaken(key string) reply {
	return errReply(fmt.Errorf("anon: key %q: %w", key, fs.ErrExist))
}

func (s *Server) taken(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.keys[key]
	return ok
}

// publish records b under key for get, unless the key was taken
// meanwhile or the server closed.
func (s *Server) publish(c *conn, key string, b *ndshm.Block) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch _, ok := s.keys[key]; {
	case s.closed:
		return errReply(fmt.Errorf("anon: %w", errClosed))
	case ok:
		return keyTaken(key)
	}
	if s.keys == nil {
		s.keys = make(map[string]keyed)
	}
	s.keys[key] = keyed{b: b, owner: c}
	return okReply
}

// get returns a new descriptor of the block published under key.
func (s *Server) get(key string) (reply, *os.File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[key]
	if !ok {
		return errReply(fmt.Errorf("get: key %q: %w", key, fs.ErrNotExist)), nil
	}
	f, err := k.b.File()
	if err != nil {
		return errReply(err), nil
	}
	return infoReply(k.b.Info(), nil), f
}

// dropKeys closes the server's copies of the blocks c published: the
// memory now lives exactly as long as the clients that hold it.
func (s *Server) dropKeys(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, k := range s.keys {
		if k.owner == c {
			k.b.Close()
			delete(s.keys, key)
		}
	}
}

package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/internal/sys"
)

// handle answers one request; a reply carrying a descriptor returns it
// as f, which the caller sends and closes.
func (s *Server) handle(c *conn, msg []byte) (rep reply, f *os.File) {
	if len(msg) == 0 {
		return badRequest("empty request"), nil
	}
	var r head
	if err := json.Unmarshal(msg, &r); err != nil {
		return badRequest("malformed request: %v", err), nil
	}
	if r.V != 1 {
		return badRequest("protocol version %d not supported (this server speaks 1)", r.V), nil
	}
	switch {
	case needsName[r.Op] && r.Name == "":
		return badRequest("%s: missing name", r.Op), nil
	case r.Op == "get" && r.Key == "":
		return badRequest("get: missing key"), nil
	}
	switch r.Op {
	case "list":
		return s.list(), nil
	case "stat":
		return infoReply(ndshm.Stat(r.Name, s.usersWithin())), nil
	case "create":
		return s.create(r.Name, msg), nil
	case "drop":
		return s.drop(r.Name), nil
	case "anon":
		return s.anon(c, r.Key, msg)
	case "get":
		return s.get(r.Key)
	}
	return badRequest("unknown op %q", r.Op), nil
}

var needsName = map[string]bool{"stat": true, "create": true, "drop": true}

// usersMaxAge is how old the users in a stat or list reply may be. A
// search of /proc for them takes milliseconds of CPU (6 ms on an idle
// machine, 15 ms with 400 clients connected): shared among the requests
// of a second, no client can make the server spend more than a few
// searches a second, however many requests it sends.
const usersMaxAge = time.Second

func (s *Server) usersWithin() ndshm.Option {
	if s.usersAge != 0 {
		return ndshm.UsersWithin(s.usersAge)
	}
	return ndshm.UsersWithin(usersMaxAge)
}

func infoReply(info ndshm.Info, err error) reply {
	if err != nil {
		return errReply(err)
	}
	info = shorten(info, blockRoom)
	return reply{OK: true, Block: &info}
}

// spec decodes the dtype, shape and order of a request.
func spec(op string, msg []byte) (ndshm.Spec, error) {
	var sp ndshm.Spec
	if err := json.Unmarshal(msg, &sp); err != nil {
		return sp, fmt.Errorf("%s: %w", op, err)
	}
	return sp, nil
}

func specReply(err error) reply {
	if errors.Is(err, ndshm.ErrDType) {
		return errReply(err)
	}
	return badRequest("%v", err)
}

func (s *Server) list() reply {
	infos, err := ndshm.List(s.usersWithin())
	if err != nil {
		return errReply(err)
	}
	blocks := make([]json.RawMessage, 0, len(infos))
	for _, info := range infos {
		b, err := encode(shorten(info, listRoom))
		if err == nil && len(b) > listRoom {
			err = fmt.Errorf("its description is %d bytes, even shortened", len(b))
		}
		if err != nil { // one block never fails the list
			s.logf("list: left out block %s: %v", info.Name, err)
			continue
		}
		blocks = append(blocks, b)
	}
	return reply{OK: true, Blocks: &blocks}
}

// create makes a named block that the server owns until drop or Close.
func (s *Server) create(name string, msg []byte) reply {
	sp, err := spec("create", msg)
	if err != nil {
		return specReply(err)
	}
	if err := s.room("create", sp, -1); err != nil {
		return errReply(err)
	}
	b, err := ndshm.Create(name, sp, s.permOpts()...)
	if err == nil {
		if err = s.chmod(b); err != nil {
			b.Close() // owned: closing unlinks it
		}
	}
	if err != nil {
		return errReply(err)
	}
	if err := s.keep(b); err != nil {
		return errReply(err)
	}
	return infoReply(b.Info(), nil)
}

// drop closes, and so unlinks, a block the server owns.
func (s *Server) drop(name string) reply {
	name = strings.TrimPrefix(name, "/") // as the block's name is kept
	s.mu.Lock()
	b, ok := s.owned[name]
	delete(s.owned, name)
	s.mu.Unlock()
	if !ok {
		return reply{Error: fmt.Sprintf("drop %s: not a block this server owns", name)}
	}
	if err := b.Close(); err != nil {
		return errReply(err)
	}
	return okReply
}

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

const (
	// memReserve is memory a new block must leave free, for the server
	// itself and everything else running.
	memReserve = 64 << 20
	// fallbackAnon is the default MaxAnon when free memory is unknown.
	fallbackAnon = 1 << 30
	// blockOverhead is the most a block's file adds to its data: a
	// header page, rounding, and a footer page.
	blockOverhead = 3 * 4096
)

// anonLimit is MaxAnon resolved: the configured limit, or half the memory
// free now, or no limit (< 0).
func (s *Server) anonLimit() int64 {
	if s.MaxAnon != 0 {
		return s.MaxAnon
	}
	if free, ok := sys.FreeMemory(); ok {
		return free / 2
	}
	return fallbackAnon
}

// room checks, before a single page is reserved, that a new block holding
// sp fits under limit (< 0: none) and in the memory free now. Blocks are
// charged to the server's memory (and cgroup): one too large would get
// the server killed instead of refused.
func (s *Server) room(op string, sp ndshm.Spec, limit int64) error {
	n := int64(sp.Size()) + blockOverhead
	if limit >= 0 && n > limit {
		return fmt.Errorf("%s: %v is %s, more than this server's limit of %s (ndshm serve --max-anon): %w",
			op, sp, human.Bytes(n), human.Bytes(limit), syscall.ENOSPC)
	}
	if free, ok := sys.FreeMemory(); ok && n > free-memReserve {
		return fmt.Errorf("%s: %v is %s, and only %s of memory is free: %w",
			op, sp, human.Bytes(n), human.Bytes(max(free, 0)), syscall.ENOSPC)
	}
	return nil
}

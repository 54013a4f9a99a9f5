package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ndshm/ndshm"
)

// handle answers one request; a reply carrying a descriptor returns it
// as f, which the caller sends and closes.
func (s *Server) handle(c *conn, msg []byte) (rep reply, f *os.File) {
	if len(msg) == 0 {
		return badRequest("empty request"), nil
	}
	var r request
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

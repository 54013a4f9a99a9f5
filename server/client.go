package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/sys"
)

// A Client is a connection to an ndshm server (`ndshm serve`, or a
// Server), speaking docs/PROTOCOL.md. It is safe for concurrent use:
// requests are sent one at a time, each with its reply. Keyed anonymous
// blocks this client makes stay available to other clients until Close.
type Client struct {
	conn   *net.UnixConn
	closed atomic.Bool

	mu  sync.Mutex // held for a whole exchange
	err error      // sticky: the connection failed
}

// Dial connects to the server listening at socket ("" means
// DefaultSocket). It refuses a server run by another user: anyone may
// create a socket in /tmp.
func Dial(socket string) (*Client, error) {
	if socket == "" {
		socket = DefaultSocket()
	}
	conn, err := sys.Dial(socket)
	if err != nil {
		return nil, fmt.Errorf("ndshm: dial server: %w", err)
	}
	uid, pid, err := sys.PeerCred(conn)
	if err == nil && uid != os.Getuid() {
		err = fmt.Errorf("server (pid %d) runs as uid %d, not %d: %w", pid, uid, os.Getuid(), fs.ErrPermission)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ndshm: dial server %s: %w", socket, err)
	}
	return &Client{conn: conn}, nil
}

// Close ends the connection. The server then forgets the keyed anonymous
// blocks this client made; blocks already received stay valid. A request
// in flight fails, and so do later ones. Close is idempotent.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if err := c.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("ndshm: client: %w", err)
	}
	return nil // or closed already, after a failed exchange
}

// List describes every ndshm block in /dev/shm, as the server sees them
// (ndshm.List on the server's machine, which is this one).
func (c *Client) List() ([]ndshm.Info, error) {
	rep, _, err := c.roundTrip(request{head: head{Op: "list"}}, false)
	if err != nil {
		return nil, err
	}
	var blocks []json.RawMessage
	if rep.Blocks != nil {
		blocks = *rep.Blocks
	}
	infos := make([]ndshm.Info, len(blocks))
	for i, b := range blocks {
		if err := json.Unmarshal(b, &infos[i]); err != nil {
			return nil, fmt.Errorf("ndshm: server: list: %w", err)
		}
	}
	return infos, nil
}

// Stat describes the named block, with its users.
func (c *Client) Stat(name string) (ndshm.Info, error) {
	return c.block(request{head: head{Op: "stat", Name: name}})
}

// Create has the server make the named block holding a zeroed array
// described by s. The server owns it: it stays until Drop, or until the
// server stops or dies (it is then an orphan, which gc removes). Attach
// to it with ndshm.Open(name).
func (c *Client) Create(name string, s ndshm.Spec) (ndshm.Info, error) {
	return c.block(withSpec(head{Op: "create", Name: name}, s))
}

// Drop has the server close and unlink a block it owns.
func (c *Client) Drop(name string) error {
	_, _, err := c.roundTrip(request{head: head{Op: "drop", Name: name}}, false)
	return err
}

// Anon has the server make an anonymous (memfd) block described by s
// and returns this process's mapping of it, which the caller owns and
// must Close. With a non-empty key, other clients can Get the block for
// as long as this client stays connected; after that it lives as long as
// the processes that hold it.
func (c *Client) Anon(s ndshm.Spec, key string) (*ndshm.Block, error) {
	return c.file(withSpec(head{Op: "anon", Key: key}, s))
}

// Get returns a mapping of the anonymous block another client published
// under key with Anon. The caller owns it and must Close it.
func (c *Client) Get(key string) (*ndshm.Block, error) {
	return c.file(request{head: head{Op: "get", Key: key}})
}

func withSpec(h head, s ndshm.Spec) request {
	shape := append([]int{}, s.Shape...)
	order := "C"
	if s.Fortran {
		order = "F"
	}
	return request{head: h, DType: s.DType.String(), Shape: &shape, Order: order}
}

func (c *Client) block(r request) (ndshm.Info, error) {
	rep, _, err := c.roundTrip(r, false)
	if err == nil && rep.Block == nil {
		err = fmt.Errorf("ndshm: server: %s reply without a block", r.Op)
	}
	if err != nil {
		return ndshm.Info{}, err
	}
	return *rep.Block, nil
}

// file makes a request whose reply carries a block's descriptor, and
// maps the block.
func (c *Client) file(r request) (*ndshm.Block, error) {
	_, f, err := c.roundTrip(r, true)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ndshm.FromFile(f)
}

// roundTrip sends r and reads its reply. With wantFile, the reply must
// carry one descriptor, which is returned; any others are closed.
func (c *Client) roundTrip(r request, wantFile bool) (reply, *os.File, error) {
	r.V = 1
	msg, err := encode(r)
	if err != nil {
		return reply{}, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed.Load():
		return reply{}, nil, fmt.Errorf("ndshm: client: %w", net.ErrClosed)
	case c.err != nil:
		return reply{}, nil, c.err
	}
	if err := sys.WriteMsg(c.conn, msg); err != nil {
		return reply{}, nil, c.fail(err)
	}
	rep, files, err := c.readReply()
	switch {
	case err != nil:
		return reply{}, nil, err
	case !rep.OK:
		err = replyError(r.Op, rep)
	case wantFile && len(files) == 1:
		return rep, files[0], nil
	case wantFile || len(files) > 0:
		err = fmt.Errorf("ndshm: server: %s reply with %d descriptors", r.Op, len(files))
	}
	closeFiles(files)
	return rep, nil, err
}

// readReply reads one reply, joining the parts of a list sent as
// several, and returns the descriptors of its last part.
func (c *Client) readReply() (reply, []*os.File, error) {
	var blocks []json.RawMessage
	buf := make([]byte, maxMessage)
	for {
		n, files, err := sys.ReadMsg(c.conn, buf)
		if err != nil {
			return reply{}, nil, c.fail(err)
		}
		var rep reply
		if err := json.Unmarshal(buf[:n], &rep); err != nil {
			closeFiles(files)
			return reply{}, nil, c.fail(err)
		}
		if rep.Blocks != nil {
			blocks = append(blocks, *rep.Blocks...) // copies: buf is reused
		}
		if !rep.OK || !rep.More {
			if blocks != nil {
				rep.Blocks = &blocks
			}
			return rep, files, nil
		}
		closeFiles(files)
	}
}

// fail makes err the client's for good: after a failed exchange the
// replies may be out of step with the requests.
func (c *Client) fail(err error) error {
	c.err = fmt.Errorf("ndshm: server connection: %w", err)
	c.conn.Close()
	return c.err
}

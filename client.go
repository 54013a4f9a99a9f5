package ndshm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/ndshm/ndshm/internal/sys"
)

// maxMessage bounds one protocol message, request or reply.
const maxMessage = 64 << 10

// DefaultSocket returns where `ndshm serve` listens unless told
// otherwise: $XDG_RUNTIME_DIR/ndshm.sock, or /tmp/ndshm-UID/ndshm.sock
// when XDG_RUNTIME_DIR is not set. Either way the socket is in a
// directory that only its user may write to, which the server makes
// (mode 0700) or checks: a socket's name in /tmp itself could be taken
// by any user first, to keep the server from starting.
func DefaultSocket() string {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return dir + "/ndshm.sock"
	}
	return "/tmp/ndshm-" + strconv.Itoa(os.Getuid()) + "/ndshm.sock"
}

// A Client is a connection to an ndshm server (`ndshm serve`, or a
// server.Server), speaking docs/PROTOCOL.md. It is safe for concurrent
// use: requests are sent one at a time, each with its reply. Keyed
// anonymous blocks this client makes stay available to other clients
// until Close.
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

// request is a request as docs/PROTOCOL.md defines it.
type request struct {
	V     int    `json:"v"`
	Op    string `json:"op"`
	Name  string `json:"name,omitempty"`
	Key   string `json:"key,omitempty"`
	DType string `json:"dtype,omitempty"`
	Shape *[]int `json:"shape,omitempty"` // a pointer, so that [] (0-d) is sent
	Order string `json:"order,omitempty"`
}

// reply is any reply. More marks a list reply continued in the next one.
type reply struct {
	OK     bool   `json:"ok"`
	Error  string `json:"error"`
	Code   string `json:"code"`
	Block  *Info  `json:"block"`
	Blocks []Info `json:"blocks"`
	More   bool   `json:"more"`
}

func withSpec(r request, s Spec) request {
	shape := append([]int{}, s.Shape...)
	r.DType, r.Shape, r.Order = s.DType.String(), &shape, order(s.Fortran)
	return r
}

// roundTrip sends r and reads its reply. With wantFile, the reply must
// carry one descriptor, which is returned; any others are closed.
func (c *Client) roundTrip(r request, wantFile bool) (reply, *os.File, error) {
	r.V = 1
	msg, err := marshal(r)
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
		err = &ServerError{Op: r.Op, Code: rep.Code, Message: rep.Error}
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
	var blocks []Info
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
		blocks = append(blocks, rep.Blocks...)
		if !rep.OK || !rep.More {
			rep.Blocks = blocks
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

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// List describes every ndshm block in /dev/shm, as the server sees them
// (ndshm.List on the server's machine, which is this one).
func (c *Client) List() ([]Info, error) {
	rep, _, err := c.roundTrip(request{Op: "list"}, false)
	if rep.Blocks == nil && err == nil {
		rep.Blocks = []Info{}
	}
	return rep.Blocks, err
}

// Stat describes the named block, with its users.
func (c *Client) Stat(name string) (Info, error) {
	return c.block(request{Op: "stat", Name: name})
}

// Create has the server make the named block holding a zeroed array
// described by s. The server owns it: it stays until Drop, or until the
// server stops or dies (it is then an orphan, which gc removes). Attach
// to it with Open(name).
func (c *Client) Create(name string, s Spec) (Info, error) {
	return c.block(withSpec(request{Op: "create", Name: name}, s))
}

// Drop has the server close and unlink a block it owns.
func (c *Client) Drop(name string) error {
	_, _, err := c.roundTrip(request{Op: "drop", Name: name}, false)
	return err
}

// Anon has the server make an anonymous (memfd) block described by s
// and returns this process's mapping of it, which the caller owns and
// must Close. With a non-empty key, other clients can Get the block for
// as long as this client stays connected; after that it lives as long as
// the processes that hold it.
func (c *Client) Anon(s Spec, key string) (*Block, error) {
	return c.file(withSpec(request{Op: "anon", Key: key}, s))
}

// Get returns a mapping of the anonymous block another client published
// under key with Anon. The caller owns it and must Close it.
func (c *Client) Get(key string) (*Block, error) {
	return c.file(request{Op: "get", Key: key})
}

func (c *Client) block(r request) (Info, error) {
	rep, _, err := c.roundTrip(r, false)
	if err == nil && rep.Block == nil {
		err = fmt.Errorf("ndshm: server: %s reply without a block", r.Op)
	}
	if err != nil {
		return Info{}, err
	}
	return *rep.Block, nil
}

// file makes a request whose reply carries a block's descriptor, and
// maps the block.
func (c *Client) file(r request) (*Block, error) {
	_, f, err := c.roundTrip(r, true)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return OpenFile(f)
}

// A ServerError is a request the server refused, with its message.
// errors.Is matches it against what the server's Code names: fs.ErrExist,
// fs.ErrNotExist, fs.ErrPermission, ErrFormat, ErrDType, syscall.ENOSPC.
type ServerError struct {
	Op      string // the request's op
	Code    string // "exist", "not_exist", "permission", "format", "dtype", "no_space", "bad_request", or ""
	Message string // the server's description of the error
}

func (e *ServerError) Error() string { return "ndshm server: " + e.Message }

// Unwrap returns the error Code names, or nil.
func (e *ServerError) Unwrap() error { return codeErrors[e.Code] }

// codeErrors maps the protocol's error codes to the errors they stand
// for; the server's table is its inverse.
var codeErrors = map[string]error{
	"exist": fs.ErrExist, "not_exist": fs.ErrNotExist, "permission": fs.ErrPermission,
	"format": ErrFormat, "dtype": ErrDType, "no_space": syscall.ENOSPC,
}

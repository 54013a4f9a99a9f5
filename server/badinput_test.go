package server_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/server"
)

// rawDial connects without the client library, to send anything at all.
func rawDial(t *testing.T, socket string) *net.UnixConn {
	t.Helper()
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: socket, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type rawReply struct {
	OK     bool              `json:"ok"`
	Error  string            `json:"error"`
	Code   string            `json:"code"`
	Blocks []json.RawMessage `json:"blocks"`
	More   bool              `json:"more"`
}

// exchange sends msg, with files attached, and reads the reply.
func exchange(t *testing.T, c *net.UnixConn, msg []byte, files ...*os.File) rawReply {
	t.Helper()
	// A deadline per exchange, not per connection: a test that sends a
	// thousand requests must not fail because the machine is busy.
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var oob []byte
	if len(files) > 0 {
		oob = rights(files)
	}
	if _, _, err := c.WriteMsgUnix(msg, oob, nil); err != nil {
		t.Fatalf("send %.40q: %v", msg, err)
	}
	buf := make([]byte, 1<<20)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("reply to %.40q: %v", msg, err)
	}
	var rep rawReply
	if err := json.Unmarshal(buf[:n], &rep); err != nil {
		t.Fatalf("reply to %.40q: %q: %v", msg, buf[:n], err)
	}
	return rep
}

func TestBadRequests(t *testing.T) {
	socket := serve(t)
	c := rawDial(t, socket)
	huge := `{"v":1,"op":"stat","name":"` + strings.Repeat("x", 100<<10) + `"}`
	name := shmtest.Name()
	for _, tc := range []struct {
		what, msg, code, says string
	}{
		{"garbage", "\x00\xff\x93NUMPY garbage", "bad_request", "malformed"},
		{"empty message", "", "bad_request", "empty"},
		{"truncated JSON", `{"v":1,"op":"li`, "bad_request", "malformed"},
		{"not an object", `[1,2,3]`, "bad_request", "malformed"},
		{"100 KiB message", huge, "bad_request", "longer than"},
		{"unknown op", `{"v":1,"op":"frobnicate"}`, "bad_request", "unknown op"},
		{"no op", `{"v":1}`, "bad_request", "unknown op"},
		{"wrong version", `{"v":2,"op":"list"}`, "bad_request", "version 2"},
		{"no version", `{"op":"list"}`, "bad_request", "version 0"},
		{"version of the wrong type", `{"v":"1","op":"list"}`, "bad_request", "malformed"},
		{"stat without a name", `{"v":1,"op":"stat"}`, "bad_request", "missing name"},
		{"create without a shape", `{"v":1,"op":"create","name":"` + name + `","dtype":"<f8"}`, "bad_request", "missing shape"},
		{"create without a dtype", `{"v":1,"op":"create","name":"` + name + `","shape":[2]}`, "dtype", "dtype"},
		{"create with a negative shape", `{"v":1,"op":"create","name":"` + name + `","dtype":"<f8","shape":[2,-3]}`, "bad_request", "negative"},
		{"create with a huge shape", `{"v":1,"op":"create","name":"` + name + `","dtype":"<f8","shape":[1099511627776,1099511627776]}`, "bad_request", "too large"},
		{"create with a bad order", `{"v":1,"op":"create","name":"` + name + `","dtype":"<f8","shape":[2],"order":"Z"}`, "bad_request", "order"},
		{"create with a bad dtype", `{"v":1,"op":"create","name":"` + name + `","dtype":"<x9","shape":[2]}`, "dtype", "x9"},
		{"create with a bad name", `{"v":1,"op":"create","name":"a/b","dtype":"<f8","shape":[2]}`, "", "invalid"},
		{"anon with a shape of strings", `{"v":1,"op":"anon","dtype":"<f8","shape":["2"]}`, "bad_request", "shape"},
		{"get without a key", `{"v":1,"op":"get"}`, "bad_request", "missing key"},
		{"get of an unknown key", `{"v":1,"op":"get","key":"no such key"}`, "not_exist", "no such key"},
		{"drop of a block the server does not own", `{"v":1,"op":"drop","name":"` + name + `"}`, "", "not a block this server owns"},
	} {
		rep := exchange(t, c, []byte(tc.msg))
		if rep.OK || rep.Code != tc.code || !strings.Contains(rep.Error, tc.says) {
			t.Errorf("%s: %+v; want code %q and an error saying %q", tc.what, rep, tc.code, tc.says)
		}
	}
	// Descriptors with a request are closed and refused.
	f, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rep := exchange(t, c, []byte(`{"v":1,"op":"list"}`), f, f); rep.OK || rep.Code != "bad_request" {
		t.Errorf("request with descriptors: %+v", rep)
	}
	if _, err := ndshm.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a bad create made %s: %v", name, err)
	}
	// The same connection, and another client, still work.
	if rep := exchange(t, c, []byte(`{"v":1,"op":"list","extra":"ignored"}`)); !rep.OK || rep.Blocks == nil {
		t.Errorf("list after bad requests: %+v", rep)
	}
	if _, err := dial(t, socket).List(); err != nil {
		t.Errorf("another client: %v", err)
	}
}

// A client of another user is hung up on before it is answered.
func TestForeignUser(t *testing.T) {
	srv := newServer(t)
	server.SetPeerCheck(srv, func(uid int) bool { return uid != os.Getuid() })
	stop := start(t, srv)
	defer stop()
	c := rawDial(t, srv.Socket)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(`{"v":1,"op":"list"}`)); err != nil {
		return // the server hung up first: refused all the same
	}
	buf := make([]byte, 1024)
	if n, err := c.Read(buf); err == nil && n > 0 {
		t.Errorf("a foreign user's request was answered: %q", buf[:n])
	}
}

func rights(files []*os.File) []byte {
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = int(f.Fd())
	}
	return syscall.UnixRights(fds...)
}

package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/sys"
)

// This file is the protocol both sides speak (docs/PROTOCOL.md): where,
// in which messages, and how a reply too long for one message is cut.
// Its error codes are in errors.go.

// DefaultSocket returns where a server listens, and where Dial connects,
// unless told otherwise: $XDG_RUNTIME_DIR/ndshm.sock, or
// /tmp/ndshm-UID/ndshm.sock when XDG_RUNTIME_DIR is not set. Either way
// the socket is in a directory that only its user may write to, which
// the server makes (mode 0700) or checks: a socket's name in /tmp itself
// could be taken by any user first, to keep the server from starting.
func DefaultSocket() string {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return dir + "/ndshm.sock"
	}
	return "/tmp/ndshm-" + strconv.Itoa(os.Getuid()) + "/ndshm.sock"
}

// maxMessage bounds one message, request or reply.
const maxMessage = 64 << 10

// head is what every request may carry besides a block's spec. The
// server decodes it first, and the dtype, shape and order separately, as
// an ndshm.Spec, in the ops that take them. Unknown keys are ignored.
type head struct {
	V    int    `json:"v"`
	Op   string `json:"op"`
	Name string `json:"name,omitempty"`
	Key  string `json:"key,omitempty"`
}

// request is a whole request, as a client sends it.
type request struct {
	head
	DType string `json:"dtype,omitempty"`
	Shape *[]int `json:"shape,omitempty"` // a pointer, so that [] (0-d) is sent
	Order string `json:"order,omitempty"`
}

// reply is any reply, as the server sends it and a client reads it.
// Blocks holds block objects the server encoded (and shortened) one by
// one; it is a pointer so that an empty list is [].
type reply struct {
	OK     bool               `json:"ok"`
	Error  string             `json:"error,omitempty"`
	Code   string             `json:"code,omitempty"`
	Block  *ndshm.Info        `json:"block,omitempty"`
	Blocks *[]json.RawMessage `json:"blocks,omitempty"`
	More   bool               `json:"more,omitempty"` // a list continued in the next reply
}

var okReply = reply{OK: true}

// encode is json.Marshal without HTML escapes: "<f8", not "\u003cf8".
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}

// send writes rep, with f attached, as one message; a list too long for
// one message goes as several, all but the last marked more.
func (s *Server) send(c *conn, rep reply, f *os.File) error {
	msg, err := encode(rep)
	if err != nil {
		msg, _ = encode(errReply(err))
	}
	if len(msg) <= maxMessage {
		return sys.WriteMsg(c.UnixConn, msg, files(f)...)
	}
	if rep.Blocks == nil {
		msg, _ = encode(errReply(fmt.Errorf("reply longer than %d bytes", maxMessage)))
		return sys.WriteMsg(c.UnixConn, msg)
	}
	parts, err := split(*rep.Blocks)
	if err != nil {
		msg, _ = encode(errReply(err))
		return sys.WriteMsg(c.UnixConn, msg)
	}
	for i, part := range parts {
		msg, _ = encode(reply{OK: true, Blocks: &part, More: i < len(parts)-1})
		if err := sys.WriteMsg(c.UnixConn, msg); err != nil {
			return err
		}
	}
	return nil
}

// split cuts a list of blocks into parts that each fit in a message.
func split(blocks []json.RawMessage) ([][]json.RawMessage, error) {
	const room = maxMessage - len(`{"ok":true,"blocks":[],"more":true}`)
	var parts [][]json.RawMessage
	var part []json.RawMessage
	n := 0
	for _, b := range blocks {
		if len(b)+1 > room {
			return nil, fmt.Errorf("a block's description is longer than %d bytes", room)
		}
		if n+len(b)+1 > room {
			parts, part, n = append(parts, part), nil, 0
		}
		part, n = append(part, b), n+len(b)+1
	}
	return append(parts, part), nil
}

// Every block's description must fit in one message, whatever its dtype:
// one legal block with a structured dtype of thousands of fields, which
// any user can make, must not break the list for every client.
const (
	// listRoom is the most one block of a list may take: a part holding
	// it alone, and the comma after it.
	listRoom = maxMessage - len(`{"ok":true,"blocks":[],"more":true}`) - 1
	// blockRoom is the most the block of a stat, create, anon or get
	// reply may take.
	blockRoom = maxMessage - len(`{"ok":true,"block":}`)
	// maxUsersShown bounds the users of a shortened description.
	maxUsersShown = 1000
)

// shorten returns info, or if its description is longer than room bytes,
// a copy marked Truncated whose dtype is an opaque void of the same
// element size (the block's header still holds the real one) and whose
// users are cut to maxUsersShown.
func shorten(info ndshm.Info, room int) ndshm.Info {
	if b, err := encode(info); err == nil && len(b) <= room {
		return info
	}
	info.Truncated = true
	if void, err := ndshm.ParseDType("|V" + strconv.Itoa(info.Spec.DType.Size())); err == nil {
		info.Spec.DType = void
	}
	if b, err := encode(info); err == nil && len(b) <= room {
		return info
	}
	info.Users = info.Users[:min(len(info.Users), maxUsersShown)]
	return info
}

func files(f *os.File) []*os.File {
	if f == nil {
		return nil
	}
	return []*os.File{f}
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/sys"
)

// request is a request as docs/PROTOCOL.md defines it. Its dtype, shape
// and order are decoded separately, as an ndshm.Spec, by the ops that
// take them. Unknown keys are ignored.
type request struct {
	V    int    `json:"v"`
	Op   string `json:"op"`
	Name string `json:"name"`
	Key  string `json:"key"`
}

// reply is any reply. Blocks is a pointer so that an empty list is [].
type reply struct {
	OK     bool               `json:"ok"`
	Error  string             `json:"error,omitempty"`
	Code   string             `json:"code,omitempty"`
	Block  *ndshm.Info        `json:"block,omitempty"`
	Blocks *[]json.RawMessage `json:"blocks,omitempty"`
	More   bool               `json:"more,omitempty"` // a list continued in the next reply
}

var okReply = reply{OK: true}

func badRequest(format string, args ...any) reply {
	return reply{Error: fmt.Sprintf(format, args...), Code: "bad_request"}
}

// errReply reports err, with the code that lets the client's errors.Is
// recognize it (the inverse of the client's table).
func errReply(err error) reply {
	code := ""
	for _, c := range []struct {
		code string
		err  error
	}{
		{"exist", fs.ErrExist}, {"not_exist", fs.ErrNotExist}, {"permission", fs.ErrPermission},
		{"format", ndshm.ErrFormat}, {"dtype", ndshm.ErrDType}, {"no_space", syscall.ENOSPC},
	} {
		if errors.Is(err, c.err) {
			code = c.code
			break
		}
	}
	return reply{Error: err.Error(), Code: code}
}

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

func files(f *os.File) []*os.File {
	if f == nil {
		return nil
	}
	return []*os.File{f}
}

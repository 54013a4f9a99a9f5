package server

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/ndshm/ndshm"
)

// ErrRunning means another server is already answering on the socket.
var ErrRunning = errors.New("server already running")

// errClosed refuses new blocks once the server has closed.
var errClosed = errors.New("server is closed")

// codes is the protocol's one table of error codes (docs/PROTOCOL.md,
// Replies) and the Go errors they stand for. The server sends the code
// of the first row whose error its own error matches (errors.Is), so a
// more specific error goes before a more general one; a client's Error
// unwraps to its code's error. Both sides read this table and nothing
// else, so a code added here is sent and understood at once. Python's
// client (python/) keeps the codes as strings: a new code must be added
// to docs/PROTOCOL.md and to its ServerError too.
var codes = [...]struct {
	code string
	err  error
}{
	{"exist", fs.ErrExist},
	{"not_exist", fs.ErrNotExist},
	{"permission", fs.ErrPermission},
	{"format", ndshm.ErrFormat},
	{"dtype", ndshm.ErrDType},
	{"no_space", syscall.ENOSPC},
}

// codeBadRequest is the code of a request the server cannot read or
// does not know: it stands for no Go error, only for a client's mistake.
const codeBadRequest = "bad_request"

// codeOf returns the code that names err, or "" for an error of no code.
func codeOf(err error) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// errorOf returns the error that code names, or nil.
func errorOf(code string) error {
	for _, c := range codes {
		if c.code == code {
			return c.err
		}
	}
	return nil
}

// errReply is the server's reply reporting err, with the code that lets
// the client's errors.Is recognize it.
func errReply(err error) reply {
	return reply{Error: err.Error(), Code: codeOf(err)}
}

func badRequest(format string, args ...any) reply {
	return reply{Error: fmt.Sprintf(format, args...), Code: codeBadRequest}
}

// An Error is a request the server refused, as a client sees it.
// errors.Is matches it against what its Code names: fs.ErrExist,
// fs.ErrNotExist, fs.ErrPermission, ndshm.ErrFormat, ndshm.ErrDType or
// syscall.ENOSPC (docs/PROTOCOL.md lists the codes).
type Error struct {
	Op      string // the request's op
	Code    string // "exist", "not_exist", "permission", "format", "dtype", "no_space", "bad_request", or ""
	Message string // the server's description of the error
}

func (e *Error) Error() string { return "ndshm server: " + e.Message }

// Unwrap returns the error Code names, or nil.
func (e *Error) Unwrap() error { return errorOf(e.Code) }

// replyError is the client's error for rep, a reply to op, or nil if rep
// is not an error.
func replyError(op string, rep reply) error {
	if rep.OK {
		return nil
	}
	return &Error{Op: op, Code: rep.Code, Message: rep.Error}
}

package flight

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"syscall"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ndshm/ndshm"
)

// codeTable pairs gRPC codes with the Go errors they stand for: the
// server picks the code an error matches, the client turns the code
// back into an error that matches the same target (errors.Is).
var codeTable = []struct {
	code codes.Code
	err  error
}{
	{codes.NotFound, fs.ErrNotExist},
	{codes.AlreadyExists, fs.ErrExist},
	{codes.PermissionDenied, fs.ErrPermission},
	{codes.InvalidArgument, ErrStream},
	{codes.InvalidArgument, ndshm.ErrFormat},
	{codes.ResourceExhausted, syscall.ENOSPC},
	{codes.Unimplemented, errors.ErrUnsupported},
	{codes.Canceled, context.Canceled},
	{codes.DeadlineExceeded, context.DeadlineExceeded},
	{codes.Unavailable, os.ErrClosed},
}

// toStatus turns a server-side error into the gRPC status it reports.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, e := range codeTable {
		if errors.Is(err, e.err) {
			return status.Error(e.code, err.Error())
		}
	}
	return status.Error(codes.Internal, err.Error())
}

// An Error is a call the server refused: its gRPC code and message.
// errors.Is matches it against the Go error its code stands for (for
// NotFound fs.ErrNotExist, for InvalidArgument ErrStream, ...).
type Error struct {
	Code codes.Code
	Msg  string
}

func (e *Error) Error() string { return "flight: " + e.Code.String() + ": " + e.Msg }

// Is matches the error the code stands for.
func (e *Error) Is(target error) bool {
	for _, c := range codeTable {
		if c.code == e.Code && c.err == target {
			return true
		}
	}
	return false
}

// fromStatus turns what a call returned into an *Error, when it is a
// status other than OK; other errors pass through.
func fromStatus(err error) error {
	st, ok := status.FromError(err)
	if err == nil || !ok {
		return err
	}
	return &Error{Code: st.Code(), Msg: st.Message()}
}

// pathErr wraps err as a name-bearing operation's error.
func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

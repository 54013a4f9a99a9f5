package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm"
)

// Every error the server reports takes the trip the protocol makes it
// take: the server's error becomes a reply, the reply goes on the wire as
// JSON, the client reads it back as an *Error, and errors.Is finds in it
// what the server started from, and nothing else the table knows.
func TestCodesRoundTrip(t *testing.T) {
	type tcase struct {
		what string
		err  error  // the server's
		code string // on the wire
		is   error  // what the client's error matches; nil for none
	}
	var cases []tcase
	for _, c := range codes {
		cases = append(cases, tcase{"wrapped " + c.code, fmt.Errorf("op x: %w", c.err), c.code, c.err})
	}
	pathErr := func(errno syscall.Errno) error {
		return fmt.Errorf("create: %w", &fs.PathError{Op: "open", Path: "/dev/shm/x", Err: errno})
	}
	cases = append(cases, []tcase{
		{"shm_open of a taken name", pathErr(syscall.EEXIST), "exist", fs.ErrExist},
		{"shm_open of no block", pathErr(syscall.ENOENT), "not_exist", fs.ErrNotExist},
		{"shm_open of another's block", pathErr(syscall.EACCES), "permission", fs.ErrPermission},
		{"an operation not permitted", pathErr(syscall.EPERM), "permission", fs.ErrPermission},
		{"a full /dev/shm", pathErr(syscall.ENOSPC), "no_space", syscall.ENOSPC},
		{"a bad block", fmt.Errorf("stat x: bad magic: %w", ndshm.ErrFormat), "format", ndshm.ErrFormat},
		{"an error of no code", errors.New("drop x: not a block this server owns"), "", nil},
		{"an errno of no code", pathErr(syscall.EIO), "", nil},
	}...)
	for _, tc := range cases {
		got := clientSees(t, errReply(tc.err))
		var e *Error
		switch {
		case !errors.As(got, &e):
			t.Errorf("%s: the client got %#v, not an *Error", tc.what, got)
			continue
		case e.Code != tc.code || e.Op != "stat" || e.Message != tc.err.Error():
			t.Errorf("%s: %+v; want code %q, op stat, message %q", tc.what, e, tc.code, tc.err)
		case tc.is == nil && errors.Unwrap(got) != nil:
			t.Errorf("%s: unwraps to %v; want nothing", tc.what, errors.Unwrap(got))
		case tc.is != nil && !errors.Is(got, tc.is):
			t.Errorf("%s: errors.Is(%v, %v) is false", tc.what, got, tc.is)
		}
		for _, c := range codes {
			if c.code != tc.code && errors.Is(got, c.err) {
				t.Errorf("%s (code %q): the client's error also matches %v, of code %q", tc.what, tc.code, c.err, c.code)
			}
		}
	}
	if got := clientSees(t, badRequest("unknown op %q", "x")); got.(*Error).Code != codeBadRequest || errors.Unwrap(got) != nil {
		t.Errorf("a bad request: %+v, unwrapping to %v; want code %q and no error", got, errors.Unwrap(got), codeBadRequest)
	}
	if got := clientSees(t, okReply); got != nil {
		t.Errorf("an ok reply: %v", got)
	}
}

// clientSees sends rep through the wire's encoding and returns the error
// a client makes of it, for a stat request.
func clientSees(t *testing.T, rep reply) error {
	t.Helper()
	msg, err := encode(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got reply
	if err := json.Unmarshal(msg, &got); err != nil {
		t.Fatal(err)
	}
	return replyError("stat", got)
}

// The table has one row per code and per error, and docs/PROTOCOL.md's
// table of codes has the same codes.
func TestCodesDocumented(t *testing.T) {
	var want []string
	for i, c := range codes {
		for _, d := range codes[:i] {
			if c.code == d.code || c.err == d.err {
				t.Errorf("codes %q and %q: the same code or error twice", d.code, c.code)
			}
		}
		want = append(want, c.code)
	}
	want = append(want, codeBadRequest)
	doc, err := os.ReadFile("../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	_, replies, _ := strings.Cut(string(doc), "\n## Replies\n")
	replies, _, _ = strings.Cut(replies, "\n## ")
	var got []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllStringSubmatch(replies, -1) {
		got = append(got, m[1])
	}
	if !slices.Equal(got, want) {
		t.Errorf("docs/PROTOCOL.md lists the codes %q; the table has %q", got, want)
	}
}

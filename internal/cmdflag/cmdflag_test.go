package cmdflag

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseInterleaved(t *testing.T) {
	for _, tc := range []struct {
		args, pos []string
		json      bool
		dtype     string
	}{
		{[]string{"A", "--dtype", "f8", "--json"}, []string{"A"}, true, "f8"},
		{[]string{"--dtype", "f8", "A", "B", "-json"}, []string{"A", "B"}, true, "f8"},
		{[]string{"A", "--", "--json", "-x"}, []string{"A", "--json", "-x"}, false, ""},
		{[]string{"--json", "--", "-A"}, []string{"-A"}, true, ""},
		{[]string{"-", "--json=false"}, []string{"-"}, false, ""},
		{nil, nil, false, ""},
	} {
		f := New(io.Discard, "test", "test", "")
		dtype := f.String("dtype", "", "")
		asJSON := f.Bool("json", false, "")
		pos, err := f.Parse(tc.args)
		if err != nil || !slices.Equal(pos, tc.pos) || *asJSON != tc.json || *dtype != tc.dtype {
			t.Errorf("Parse(%q) = %q, %v, json %v, dtype %q; want %q, json %v, dtype %q",
				tc.args, pos, err, *asJSON, *dtype, tc.pos, tc.json, tc.dtype)
		}
	}
	var out bytes.Buffer
	f := New(&out, "test", "test X", "Tests.")
	f.Int("n", 3, "the `N`")
	if _, err := f.Parse([]string{"x", "-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("Parse -h: %v", err)
	}
	if want := "usage: ndshm test X\n\nTests.\n\nflags:\n  --n N  the N (default 3)\n"; out.String() != want {
		t.Errorf("-h printed %q, want %q", out.String(), want)
	}
}

// Bad command lines are usage errors naming the command, with the short
// usage; the flag package's one-dash spelling becomes two.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "test: flag provided but not defined: --bogus"},
		{[]string{"--n"}, "test: flag needs an argument: --n"},
		{[]string{"--n", "x"}, `test: invalid value "x" for flag --n`},
		{[]string{}, "test: missing NAME"},
		{[]string{"a", "b"}, `test: unexpected argument "b"`},
	} {
		f := New(io.Discard, "test", "test NAME", "")
		f.Int("n", 0, "")
		pos, err := f.Parse(tc.args)
		if err == nil {
			err = f.Want(pos, "NAME")
		}
		var ue *UsageError
		var w bytes.Buffer
		if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: %v, want a usage error %q", tc.args, err, tc.want)
			continue
		}
		if ue.Usage(&w); !strings.HasPrefix(w.String(), "usage: ndshm test NAME\n\nflags:\n") {
			t.Errorf("%q: short usage %q", tc.args, w.String())
		}
	}
}

func TestDashes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"flag provided but not defined: -x", "flag provided but not defined: --x"},
		{"flag needs an argument: -gc-interval", "flag needs an argument: --gc-interval"},
		{`invalid value "-1" for flag -n: parse error`, `invalid value "-1" for flag --n: parse error`},
		{`invalid boolean value "-v" for -json: parse error`, `invalid boolean value "-v" for --json: parse error`},
		{"bad flag syntax: ---x", "bad flag syntax: ---x"},
	} {
		if got := dashes(tc.in); got != tc.want {
			t.Errorf("dashes(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestReport(t *testing.T) {
	usage := func(w io.Writer) { io.WriteString(w, "usage: ndshm COMMAND\n") }
	for _, tc := range []struct {
		err  error
		code int
		want string
	}{
		{nil, 0, ""},
		{errors.New("boom"), 1, "ndshm: boom\n"},
		{errors.Join(errors.New("a"), errors.New("b")), 1, "ndshm: a\nndshm: b\n"},
		{context.Canceled, 1, "ndshm: interrupted\n"},
		{&UsageError{Err: errors.New("bad")}, 2, "ndshm: bad\n"},
		{&UsageError{Err: errors.New("bad"), Usage: usage}, 2, "ndshm: bad\n\nusage: ndshm COMMAND\n"},
		{&UsageError{Usage: usage}, 2, "usage: ndshm COMMAND\n"},
	} {
		var w bytes.Buffer
		if code := Report(tc.err, &w); code != tc.code || w.String() != tc.want {
			t.Errorf("Report(%v) = %d, %q; want %d, %q", tc.err, code, w.String(), tc.code, tc.want)
		}
	}
}

// A Collector as stdout gets the Set instead of a parse.
func TestCollector(t *testing.T) {
	c := new(Collector)
	f := New(c, "test", "test", "")
	if pos, err := f.Parse([]string{"--bogus", "x"}); pos != nil || !errors.Is(err, ErrHelp) || c.Set != f {
		t.Errorf("Parse to a Collector: %q, %v, set %p, want %p", pos, err, c.Set, f)
	}
}

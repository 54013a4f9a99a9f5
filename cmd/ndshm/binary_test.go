package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
)

// TestBinary builds the command and checks what only a real process
// shows: exit statuses, and that errors reach stderr prefixed "ndshm: ".
func TestBinary(t *testing.T) {
	bin := builtNdshm(t)
	name := newName(t)
	for _, tc := range []struct {
		args        []string
		code        int
		stdout      string // a prefix
		stderr      string // a prefix
		stderrHas   string
		emptyStderr bool
	}{
		{args: nil, code: 2, stderr: "usage: ndshm COMMAND"},
		{args: []string{"help", "create"}, stdout: "usage: ndshm create NAME", emptyStderr: true},
		{args: []string{"help", "ring", "create"}, stdout: "usage: ndshm ring create NAME", emptyStderr: true},
		{args: []string{"--version"}, stdout: "ndshm version " + ndshm.Version + " module (devel) commit ", emptyStderr: true},
		{args: []string{"create", name, "--dtype", "i4", "--shape", "2,3", "--fill", "7"}, emptyStderr: true},
		{args: []string{"stats", name}, stdout: "count 6  sum 42  min 7  max 7  mean 7\n", emptyStderr: true},
		{args: []string{"create", name, "--dtype", "i4", "--shape", "1"}, code: 1, stderr: "ndshm: create " + name + ": file already exists\n"},
		{args: []string{"rm", name}, emptyStderr: true},
		{args: []string{"rm", name}, code: 1, stderr: "ndshm: rm " + name + ": no such file or directory\n"},
		{args: []string{"create"}, code: 2, stderr: "ndshm: create: missing NAME\n", stderrHas: "\nusage: ndshm create NAME"},
		{args: []string{"frobnicate"}, code: 2, stderr: "ndshm: unknown command \"frobnicate\"\n", stderrHas: "\nusage: ndshm COMMAND"},
		{args: []string{"ls", "--bogus"}, code: 2, stderr: "ndshm: ls: flag provided but not defined: --bogus\n"},
	} {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, tc.args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.HasPrefix(stdout.String(), tc.stdout) ||
			!strings.HasPrefix(stderr.String(), tc.stderr) || !strings.Contains(stderr.String(), tc.stderrHas) ||
			tc.emptyStderr && stderr.Len() > 0 {
			t.Errorf("ndshm %q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q..., stderr %q...",
				tc.args, code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
}

// A binary built with VCS stamping (GOFLAGS may turn it off) names the
// commit it was built at, as git does.
func TestVersionCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("no git checkout: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "ndshm")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, _ := exec.Command("go", "version", "-m", bin).Output(); !strings.Contains(string(out), "vcs.revision") {
		t.Skipf("go build recorded no commit in this checkout:\n%s", out)
	}
	// The version is "(devel)", or since Go 1.24 a pseudo-version made
	// from the commit, as go version -m shows it.
	commit := strings.TrimSpace(string(head))
	want := regexp.MustCompile(`^ndshm version ` + regexp.QuoteMeta(ndshm.Version) + ` module (\(devel\)|v\S+) commit ` + commit + `(-dirty)?\n$`)
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).Output()
		if err != nil || !want.Match(out) {
			t.Errorf("ndshm %s: %v, %q; want it to match %v", arg, err, out, want)
		}
	}
}

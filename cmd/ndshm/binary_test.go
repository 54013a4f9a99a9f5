package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
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
		{args: []string{"create", name, "--dtype", "i4", "--shape", "2,3", "--fill", "7"}, emptyStderr: true},
		{args: []string{"stats", name}, stdout: "count 6  sum 42  min 7  max 7  mean 7\n", emptyStderr: true},
		{args: []string{"create", name, "--dtype", "i4", "--shape", "1"}, code: 1, stderr: "ndshm: create " + name + ": file already exists\n"},
		{args: []string{"rm", name}, emptyStderr: true},
		{args: []string{"rm", name}, code: 1, stderr: "ndshm: rm " + name + ": no such file or directory\n"},
		{args: []string{"create"}, code: 2, stderr: "ndshm: create: missing NAME\n", stderrHas: "\nusage: ndshm create NAME"},
		{args: []string{"frobnicate"}, code: 2, stderr: "ndshm: unknown command \"frobnicate\"\n", stderrHas: "\nusage: ndshm COMMAND"},
		{args: []string{"ls", "--bogus"}, code: 2, stderr: "ndshm: ls: flag provided but not defined: -bogus\n"},
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

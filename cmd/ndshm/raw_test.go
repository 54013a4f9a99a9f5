package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// builtNdshm builds the command into a temporary directory, or skips.
func builtNdshm(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the command")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build with")
	}
	bin := filepath.Join(t.TempDir(), "ndshm")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// --dtype and --shape on a block that has an ndshm header never read the
// header as data: flags that agree are redundant, others an error.
func TestRawFlagsOnHeaderedBlock(t *testing.T) {
	bin := builtNdshm(t)
	name := newName(t)
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string // a substring
	}{
		{args: []string{"create", name, "--dtype", "f8", "--shape", "10", "--fill", "1"}},
		{args: []string{"stats", name, "--dtype", "f8", "--shape", "10"}, stdout: "count 10  sum 10  min 1  max 1  mean 1\n"},
		{args: []string{"stats", name, "--dtype", "f4", "--shape", "10"}, code: 1,
			stderr: "ndshm: open " + name + ": block holds <f8 (10,) order C (its ndshm header says so), not <f4 (10,) order C"},
		{args: []string{"inspect", name, "--dtype", "f8", "--shape", "10"}, stdout: "name:            " + name + "\nkind:            array\n"},
		{args: []string{"inspect", name, "--dtype", "f8", "--shape", "5,2"}, code: 1, stderr: "not <f8 (5, 2) order C"},
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
		if code != tc.code || !strings.HasPrefix(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("ndshm %q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q..., stderr with %q",
				tc.args, code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
}

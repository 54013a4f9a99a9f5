package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// --mode sets the file mode exactly, whatever the umask (as install -m
// does), on every command that makes a block.
func TestModeFlag(t *testing.T) {
	old := syscall.Umask(0o077) // would take the group bits away
	defer syscall.Umask(old)
	npy := serveNPY(t, 10)
	for _, tc := range []struct {
		args func(name string) []string
		want fs.FileMode
	}{
		{func(n string) []string {
			return []string{"create", n, "--dtype", "f8", "--shape", "3", "--mode", "0640"}
		}, 0o640},
		{func(n string) []string {
			return []string{"create", n, "--dtype", "f8", "--shape", "3", "--mode", "604"}
		}, 0o604},
		{func(n string) []string { return []string{"create", n, "--dtype", "f8", "--shape", "3"} }, 0o600},
		{func(n string) []string { return []string{"load", npy, n, "--mode", "0660"} }, 0o660},
		{func(n string) []string { return []string{"load", npy, n} }, 0o600},
		{func(n string) []string {
			return []string{"ring", "create", n, "--dtype", "u1", "--shape", "4", "--slots", "2", "--file-mode", "0644"}
		}, 0o644},
	} {
		name := newName(t)
		args := tc.args(name)
		mustRun(t, args...)
		if got := fileMode(t, "/dev/shm/"+name); got != tc.want {
			t.Errorf("ndshm %q: mode %#o, want %#o", args, got, tc.want)
		}
	}
}

func TestModeFlagErrors(t *testing.T) {
	name := newName(t)
	for _, mode := range []string{"0800", "rw", "01777", "-1"} {
		_, _, err := ndshmRun(t, "create", name, "--dtype", "f8", "--shape", "3", "--mode", mode)
		if !isUsage(err) || !strings.Contains(err.Error(), "octal") {
			t.Errorf("--mode %s: %v, want a usage error", mode, err)
		}
		if exists(name) {
			t.Fatalf("--mode %s made the block", mode)
		}
	}
}

// serve --mode sets its socket's mode and its blocks'.
func TestServeMode(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	npy := serveNPY(t, 10)
	name := newName(t)
	socket := filepath.Join(t.TempDir(), "s.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--socket", socket, "--load", name + "=" + npy,
			"--gc-interval", "0", "--mode", "0660"}, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()
	dialWait(t, socket).Close()
	if got := fileMode(t, socket); got != 0o660 {
		t.Errorf("socket mode %#o, want 0660", got)
	}
	if got := fileMode(t, "/dev/shm/"+name); got != 0o660 {
		t.Errorf("loaded block's mode %#o, want 0660", got)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v\n%s", err, &stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func fileMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

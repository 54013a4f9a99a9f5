package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/server"
)

// serveNPY writes a .npy file of n int32s, element i holding i, without
// making a named block, and returns its path.
func serveNPY(t *testing.T, n int) string {
	t.Helper()
	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Int32, Shape: []int{n}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, _ := ndshm.View[int32](b)
	xs, _ := a.Flat()
	for i := range xs {
		xs[i] = int32(i)
	}
	var buf bytes.Buffer
	b.WriteTo(&buf)
	path := filepath.Join(t.TempDir(), "x.npy")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The real binary serves its loaded blocks until SIGTERM, then removes
// them and its socket and exits 0.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "ndshm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Skipf("go build: %v\n%s", err, out)
	}
	npy := serveNPY(t, 1<<20)
	a, b := newName(t), newName(t)
	socket := filepath.Join(t.TempDir(), "ndshm.sock")
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "serve", "--socket", socket, "--load", a+"="+npy, "--load", "/"+b+"="+npy, "--gc-interval", "0")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	c := dialWait(t, socket)
	defer c.Close()
	infos, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	served := 0
	for _, info := range infos {
		if (info.Name == a || info.Name == b) && info.CreatorPID == cmd.Process.Pid && info.CreatorAlive && info.Spec.Len() == 1<<20 {
			served++
		}
	}
	if served != 2 {
		t.Errorf("list shows %d of the 2 loaded blocks: %+v", served, infos)
	}
	blk, err := ndshm.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	xs, _ := ndshm.View[int32](blk)
	flat, _ := xs.Flat()
	if flat[12345] != 12345 {
		t.Errorf("loaded block holds %d at 12345", flat[12345])
	}
	blk.Close()

	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v\n%s", err, &stderr)
	}
	for _, name := range []string{a, b} {
		if exists(name) {
			t.Errorf("%s outlived the server", name)
		}
	}
	if _, err := os.Lstat(socket); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket after the server stopped: %v", err)
	}
	log := stderr.String()
	for _, want := range []string{"loaded " + a + " from " + npy + ": 4 MiB in ", "serving on " + socket, "stopped"} {
		if !strings.Contains(log, want) || strings.Contains(log, "\r") {
			t.Errorf("log lacks %q, or has a progress bar:\n%s", want, log)
		}
	}
}

// dialWait dials socket until a server answers, for up to 10s.
func dialWait(t *testing.T, socket string) *server.Client {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		c, err := server.Dial(socket)
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("no server on %s after 10s: %v", socket, err)
		}
	}
}

// A load that fails ends serve before it serves, with no block left,
// not even those loaded before it.
func TestServeLoadFails(t *testing.T) {
	npy := serveNPY(t, 10)
	garbage := filepath.Join(t.TempDir(), "garbage.npy")
	os.WriteFile(garbage, []byte("not a .npy file"), 0o600)
	good := newName(t)
	for _, tc := range []struct {
		bad  string
		want error
	}{
		{"/no/such/file.npy", fs.ErrNotExist},
		{garbage, ndshm.ErrFormat},
	} {
		socket := filepath.Join(t.TempDir(), "ndshm.sock")
		_, _, err := ndshmRun(t, "serve", "--socket", socket, "--load", good+"="+npy, "--load", newName(t)+"="+tc.bad)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.bad) {
			t.Errorf("load of %s: %v, want %v naming the file", tc.bad, err, tc.want)
		}
		if exists(good) {
			t.Errorf("the block loaded before the failure outlived it")
		}
		if _, err := os.Lstat(socket); err == nil {
			t.Errorf("serve listened despite the failed load")
		}
	}
	for _, args := range [][]string{{"--load", "x"}, {"--load", "=x.npy"}, {"extra"}} {
		if _, _, err := ndshmRun(t, append([]string{"serve"}, args...)...); !isUsage(err) {
			t.Errorf("serve %q: %v, want a usage error", args, err)
		}
	}
}

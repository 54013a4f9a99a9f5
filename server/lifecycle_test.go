package server_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/server"
)

func TestAlreadyRunning(t *testing.T) {
	socket := serve(t)
	err := (&server.Server{Socket: socket, GCInterval: -1}).Serve(context.Background())
	if !errors.Is(err, server.ErrRunning) || !strings.Contains(err.Error(), "server already running") {
		t.Errorf("second server on %s: %v, want ErrRunning", socket, err)
	}
	if _, err := dial(t, socket).List(); err != nil {
		t.Errorf("the first server after a second tried its socket: %v", err)
	}
	// A file that is not a socket is never removed.
	path := filepath.Join(t.TempDir(), "not-a-socket")
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = (&server.Server{Socket: path, GCInterval: -1}).Serve(context.Background())
	if b, _ := os.ReadFile(path); err == nil || string(b) != "keep me" {
		t.Errorf("server on a regular file: %v, and the file holds %q", err, b)
	}
}

// Blocks made for a client that hangs up are the server's all the same;
// a keyed anonymous block goes with the connection that made it.
func TestHangups(t *testing.T) {
	socket := serve(t)
	rawDial(t, socket).Close() // not a word
	name := shmtest.Name()
	c := rawDial(t, socket)
	if _, err := c.Write([]byte(`{"v":1,"op":"create","name":"` + name + `","dtype":"|u1","shape":[10]}`)); err != nil {
		t.Fatal(err)
	}
	c.Close() // before the reply
	other := dial(t, socket)
	waitFor(t, "the hung-up client's block", func() bool { _, err := ndshm.Stat(name); return err == nil })
	if err := other.Drop(name); err != nil {
		t.Errorf("drop of a hung-up client's block: %v", err)
	}

	owner := dial(t, socket)
	a, err := owner.Anon(ndshm.Spec{DType: ndshm.Uint8, Shape: []int{4096}}, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := other.Anon(ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}}, "k"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("anon under a key in use: %v, want ErrExist", err)
	}
	b, err := other.Get("k")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a.Bytes()[4095] = 42
	if b.Bytes()[4095] != 42 || b.Name() != "" || !b.Info().Anonymous {
		t.Errorf("get: not the same anonymous block: %+v", b.Info())
	}
	owner.Close()
	waitFor(t, "the key to go with its connection", func() bool {
		_, err := other.Get("k")
		return errors.Is(err, fs.ErrNotExist)
	})
	b.Bytes()[0] = 1 // still mapped: the mappings keep the memory
}

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestLoadAfterClose(t *testing.T) {
	srv := newServer(t)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(writeNPY(t, 10))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	name := shmtest.Name()
	if err := srv.Load(name, f); err == nil {
		t.Error("Load after Close succeeded")
	}
	if _, err := ndshm.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load after Close left %s: %v", name, err)
	}
	if err := srv.Serve(context.Background()); err == nil {
		t.Error("Serve after Close succeeded")
	}
}

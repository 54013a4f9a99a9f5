package server_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/server"
)

func init() {
	// read opens the block args[0] by name and checks that it holds
	// 0, 1, 2, ... as writeNPY wrote.
	roles["read"] = func(args []string) int {
		b, err := ndshm.Open(args[0])
		if err == nil {
			err = checkCount(b)
			b.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
}

func TestServe(t *testing.T) {
	loaded, made := shmtest.Name(), shmtest.Name()
	srv := newServer(t)
	f, err := os.Open(writeNPY(t, 1000))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := srv.Load(loaded, f); err != nil {
		t.Fatal(err)
	}
	stop := start(t, srv) // not serve: this test checks the cleanup itself
	defer stop()
	c := dial(t, srv.Socket)

	if fi, err := os.Stat(srv.Socket); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket file: %v; want mode 0600", err)
	}
	// Another process opens the loaded block by name and reads it.
	if err := command("read", loaded).Run(); err != nil {
		t.Errorf("child reading %s: %v", loaded, err)
	}
	info, err := c.Create(made, ndshm.Spec{DType: ndshm.Int32, Shape: []int{3, 4}, Fortran: true})
	if err != nil || info.Name != made || !info.Spec.Fortran || info.Persistent || info.CreatorPID != os.Getpid() {
		t.Fatalf("create: %+v, %v", info, err)
	}
	b, err := ndshm.Open(made)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	checkList(t, c, map[string]bool{loaded: true, made: true})
	for _, name := range []string{loaded, made} {
		info, err := c.Stat(name)
		if err != nil || !info.CreatorAlive || info.Orphan() || info.CreatorPID != os.Getpid() {
			t.Errorf("stat %s: %+v, %v", name, info, err)
		}
	}

	for _, tc := range []struct {
		what string
		err  error
		want error
	}{
		{"create of an existing name", second(c.Create(made, ndshm.Spec{DType: ndshm.Uint8})), fs.ErrExist},
		{"stat of a missing block", second(c.Stat(shmtest.Name())), fs.ErrNotExist},
		{"create without a dtype", second(c.Create(shmtest.Name(), ndshm.Spec{Shape: []int{1}})), ndshm.ErrDType},
		{"drop of a block the server does not own", c.Drop(shmtest.Name()), nil},
	} {
		var se *server.Error
		if !errors.As(tc.err, &se) || se.Message == "" || tc.want != nil && !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want a server error matching %v", tc.what, tc.err, tc.want)
		}
	}
	if err := c.Drop(made); err != nil {
		t.Fatal(err)
	}
	if _, err := ndshm.Stat(made); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dropped block: %v", err)
	}

	if err := stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := ndshm.Stat(loaded); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("loaded block after the server stopped: %v", err)
	}
	if _, err := os.Lstat(srv.Socket); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket after the server stopped: %v", err)
	}
	if _, err := c.List(); err == nil {
		t.Error("list on a stopped server's connection succeeded")
	}
}

func second[T any](_ T, err error) error { return err }

// checkList checks that c lists exactly the blocks in want among ours.
func checkList(t *testing.T, c *server.Client, want map[string]bool) {
	t.Helper()
	infos, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, info := range infos {
		if want[info.Name] {
			got = append(got, info.Name)
		}
	}
	if len(got) != len(want) || !slices.IsSorted(got) {
		t.Errorf("list has %v of %v", got, want)
	}
}

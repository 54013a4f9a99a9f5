package server_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/server"
)

// roles are what a re-executed test binary can be asked to do. Other
// files add theirs from init functions.
var roles = map[string]func(args []string) int{}

func TestMain(m *testing.M) { shmtest.Main(m, roles) }

// newServer returns a server on a socket in a fresh directory, which
// never collects orphans: other packages' tests, running meanwhile, make
// orphans on purpose and must find them.
func newServer(t *testing.T) *server.Server {
	return &server.Server{Socket: filepath.Join(t.TempDir(), "ndshm.sock"), GCInterval: -1, Logf: t.Logf}
}

// serve runs a new server in this process until the test ends and
// returns its socket's path. Serve must then return nil.
func serve(t *testing.T) string {
	t.Helper()
	srv := newServer(t)
	stop := start(t, srv)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv.Socket
}

// start runs srv.Serve in a goroutine and waits for its socket to
// answer. stop cancels Serve and returns what it returned; it may be
// called again.
func start(t testing.TB, srv *server.Server) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			return errors.New("Serve did not return 5s after its context ended")
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if c, err := server.Dial(srv.Socket); err == nil {
			c.Close()
			return stop
		}
		select {
		case err := <-done:
			t.Fatalf("Serve: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatal("the server did not answer within 5s")
		}
	}
}

// dial connects a client for the rest of the test.
func dial(t *testing.T, socket string) *server.Client {
	t.Helper()
	c, err := server.Dial(socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// writeNPY writes a .npy file of n float64s, element i holding i, and
// returns its path. It never makes a named block.
func writeNPY(t *testing.T, n int) string {
	t.Helper()
	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Float64, Shape: []int{n}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, _ := ndshm.View[float64](b)
	xs, _ := a.Flat()
	for i := range xs {
		xs[i] = float64(i)
	}
	path := filepath.Join(t.TempDir(), "x.npy")
	f, err := os.Create(path)
	if err == nil {
		_, err = b.WriteTo(f)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// checkCount checks that a block holds 0, 1, 2, ... as writeNPY wrote.
func checkCount(b *ndshm.Block) error {
	a, err := ndshm.View[float64](b)
	if err != nil {
		return err
	}
	xs, _ := a.Flat()
	for i, x := range xs {
		if x != float64(i) {
			return errors.New("block does not hold what was loaded")
		}
	}
	return nil
}

// command is shmtest.Command, minus the second that a child built with
// the race detector sleeps before it exits (GORACE atexit_sleep_ms).
func command(role string, args ...string) *exec.Cmd {
	cmd := shmtest.Command(role, args...)
	cmd.Env = append(cmd.Env, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	return cmd
}

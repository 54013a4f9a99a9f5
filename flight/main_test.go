package flight_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// roles are what a re-executed test binary can be asked to do. Other
// files add theirs from init functions.
var roles = map[string]func(args []string) int{}

func TestMain(m *testing.M) { shmtest.Main(m, roles) }

// serve runs srv on a fresh loopback port until the test ends and
// returns its address. Serve must then return nil.
func serve(t testing.TB, srv *flight.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if srv.Logf == nil {
		srv.Logf = t.Logf
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	stop := sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return 5s after its context ended")
		}
	})
	t.Cleanup(stop)
	return ln.Addr().String()
}

// dial returns a client of addr for the rest of the test.
func dial(t testing.TB, addr string, o flight.DialOptions) *flight.Client {
	t.Helper()
	c, err := flight.Dial(addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// create makes a block named for this test, filled with a pattern of
// bytes that differs at every offset, and removes it when the test ends.
func create(t testing.TB, s ndshm.Spec) *ndshm.Block {
	t.Helper()
	b, err := ndshm.Create(shmtest.Name(), s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	fill(b.Bytes())
	return b
}

// fill writes a pattern that is not periodic in any small period.
func fill(p []byte) {
	x := uint32(2463534242)
	for i := range p {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p[i] = byte(x)
	}
}

// exists reports whether a block of this name exists.
func exists(name string) bool {
	_, err := ndshm.Stat(name)
	return !errors.Is(err, os.ErrNotExist)
}

// command is shmtest.Command, minus the second that a child built with
// the race detector sleeps before it exits.
func command(role string, args ...string) *exec.Cmd {
	cmd := shmtest.Command(role, args...)
	cmd.Env = append(cmd.Env, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	return cmd
}

package flight_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/shmtest"
)

func init() { roles["pull"] = pullRole }

// pullRole pulls args[1] from args[0] into the block args[2], and is
// killed while it does.
func pullRole(args []string) int {
	c, err := flight.Dial(args[0], flight.DialOptions{Chunk: 1 << 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	b, err := c.Pull(context.Background(), args[1], args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b.Close()
	return 0
}

// countingListener counts the bytes its connections wrote.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return countingConn{c, l.n}, err
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// TestPullerKilled kills a process in the middle of a pull: it leaves
// no block, not even an unnamed file in /dev/shm (TestMain checks).
func TestPullerKilled(t *testing.T) {
	src := create(t, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{256 << 20}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int64
	srv := &flight.Server{Chunk: 1 << 20, Logf: t.Logf}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, countingListener{ln, &sent}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	local := shmtest.Name()
	cmd := command("pull", ln.Addr().String(), src.Name(), local)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); sent.Load() < 16<<20; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the pull did not get going within 30s")
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Logf("killed after the server sent %d MiB", sent.Load()>>20)
	if exists(local) {
		ndshm.Unlink(local)
		t.Error("the killed puller left a block")
	}
}

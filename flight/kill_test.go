package flight_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/shmtest"
)

func init() { roles["push"] = pushRole }

// pushRole pushes a 256 MiB anonymous block to args[0] as args[1], and
// is killed while it does.
func pushRole(args []string) int {
	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Uint8, Shape: []int{256 << 20}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer b.Close()
	c, err := flight.Dial(args[0], flight.DialOptions{Chunk: 1 << 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	if err := c.Push(context.Background(), b, args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// countingReader counts what the server's load has read, and says when
// it passed some bytes.
type countingReader struct {
	r       io.Reader
	n       atomic.Int64
	started chan struct{}
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n.Add(int64(n)) > 8<<20 && c.started != nil {
		close(c.started)
		c.started = nil
	}
	return n, err
}

func TestPusherKilled(t *testing.T) {
	started := make(chan struct{})
	loaded := make(chan error, 1)
	srv := &flight.Server{Load: func(name string, r io.Reader) error {
		b, err := ndshm.LoadReader(&countingReader{r: r, started: started}, name, ndshm.Persistent())
		if err == nil {
			b.Close()
		}
		loaded <- err
		return err
	}}
	addr := serve(t, srv)
	name := shmtest.Name()
	cmd := command("push", addr, name)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the push did not start within 30s")
	}
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	select {
	case err := <-loaded:
		if err == nil {
			ndshm.Unlink(name)
			t.Fatal("the server published a block whose pusher was killed")
		}
		t.Logf("load: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server's load did not end 10s after its pusher died")
	}
	if exists(name) {
		ndshm.Unlink(name)
		t.Error("a block is left under the name")
	}
}

package flight_test

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/internal/stream"
	"github.com/ndshm/ndshm/ring"
)

func init() { roles["mirror-ring-server"] = ringServerRole }

// ringServerRole serves rings on the address args[0] until killed.
func ringServerRole(args []string) int {
	srv := &flight.Server{}
	flight.ServeRings(srv)
	if err := srv.ListenAndServe(context.Background(), args[0]); err != nil {
		println(err.Error())
		return 1
	}
	return 0
}

// startRingServer runs a ring server in a process of its own on addr.
func startRingServer(t *testing.T, addr string) *exec.Cmd {
	t.Helper()
	cmd := command("mirror-ring-server", addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// freePort returns a loopback address no one listens on just now.
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestMirrorServerKilled: the server killed with SIGKILL mid-stream, the
// mirror reconnects once a new server comes up on the same address, goes
// on feeding the local ring with whole frames, and counts as lost the
// frames published while no server read them.
func TestMirrorServerKilled(t *testing.T) {
	remote := makeRing(t, ring.Config{DType: ndshm.Uint32, Frame: []int{64 << 10}, Slots: 4})
	addr := freePort(t)
	srv := startRingServer(t, addr)
	c := dial(t, addr, flight.DialOptions{})
	local := shmtest.Name()
	var broke atomic.Int32
	m := startMirror(t, c, remote.Name(), local, flight.MirrorOptions{MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		OnError: func(error, time.Duration) { broke.Add(1) }})
	rd, err := openWhenThere(t, local).Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	eventually(t, "the server's reader", func() bool { return readers(remote) == 1 })

	w, err := remote.Writer()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // frames until stopped, one every 200µs at most
		defer wg.Done()
		defer w.Close()
		p, _ := stream.NewPattern(ndshm.Uint32)
		for i := uint64(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			publish(t, w, p, i, 1, 200*time.Microsecond)
		}
	}()
	defer wg.Wait()
	defer close(stop)

	p, _ := stream.NewPattern(ndshm.Uint32)
	last := int64(-1)
	recv := func(k int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for range k {
			f, err := rd.Next(ctx)
			if err != nil {
				t.Fatalf("after tag %d: %v", last, err)
			}
			if int64(f.Tag) <= last || !p.Check(f.Bytes(), f.Tag) {
				t.Fatalf("frame of tag %d after %d, pattern ok %v", f.Tag, last, p.Check(f.Bytes(), f.Tag))
			}
			last = int64(f.Tag)
		}
	}
	recv(100)
	srv.Process.Kill() // SIGKILL, mid-stream
	srv.Wait()
	eventually(t, "the mirror to notice", func() bool { return broke.Load() > 0 })
	time.Sleep(100 * time.Millisecond) // frames no one reads
	before := last
	startRingServer(t, addr)
	recv(100)
	st, err := m.stop()
	if err != nil || st.Reconnects == 0 || st.Lost == 0 {
		t.Errorf("Mirror: %+v, %v; want reconnects and lost frames", st, err)
	}
	if errors.Is(err, context.Canceled) || last <= before {
		t.Errorf("no frames after the new server came up")
	}
	t.Logf("mirror %+v, %d connection errors", st, broke.Load())
}

func init() { roles["mirror-client"] = mirrorClientRole }

// mirrorClientRole mirrors the ring args[1] of the server at args[0]
// into the local ring args[2] until killed.
func mirrorClientRole(args []string) int {
	c, err := flight.Dial(args[0], flight.DialOptions{})
	if err != nil {
		println(err.Error())
		return 1
	}
	_, err = flight.Mirror(context.Background(), c, args[1], args[2], flight.MirrorOptions{})
	println(err.Error())
	return 1
}

// TestMirrorKilled: a mirror killed with SIGKILL mid-stream lets go of
// the remote ring: the server's reader leaves, and the remote writer,
// which the mirror held back under the block policy, goes on.
func TestMirrorKilled(t *testing.T) {
	remote := makeRing(t, ring.Config{DType: ndshm.Uint8, Frame: []int{1 << 20}, Slots: 2})
	srv := &flight.Server{}
	flight.ServeRings(srv)
	addr := serve(t, srv)
	local := shmtest.Name()
	cmd := command("mirror-client", addr, remote.Name(), local)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	defer ndshm.Unlink(local) // the killed mirror's local ring, an orphan
	lr := openWhenThere(t, local)
	rd, err := lr.Reader() // a local reader that never reads: the mirror stalls
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	eventually(t, "the server's reader", func() bool { return readers(remote) == 1 })
	w, err := remote.Writer()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	p, _ := stream.NewPattern(ndshm.Uint8)
	stalled := func() bool { // the writer cannot loan within 200 ms
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		for i := 0; ; i++ {
			f, err := w.Loan(ctx)
			if err != nil {
				return true
			}
			p.Fill(f.Bytes(), uint64(i))
			w.Publish(uint64(i))
			if i > 200 {
				return false
			}
		}
	}
	if !stalled() {
		t.Fatalf("the remote writer was not held back by a mirror whose local reader reads nothing")
	}
	cmd.Process.Kill()
	cmd.Wait()
	eventually(t, "the server's reader to leave", func() bool { return readers(remote) == 0 })
	if stalled() {
		t.Errorf("the remote writer is still held back after the mirror died")
	}
}

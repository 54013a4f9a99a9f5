package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/reexec"
	"github.com/ndshm/ndshm/internal/stream"
	"github.com/ndshm/ndshm/internal/sys"
	"github.com/ndshm/ndshm/ring"
)

// The socket stream's frames: a 24-byte header, tag u64, send time i64
// (Unix ns), length u64, then the frame's bytes.
const sinkHeader = 24

// StreamSink is the role "demo-stream-sink": a consumer of the socket
// stream, its socket on fd 3.
func StreamSink([]string) int { return reexec.Exit("demo-stream-sink", streamSink()) }

// streamSocket streams s the copying way: the writer writes every frame
// into a unix socket to each of two consumer processes, which read it
// whole and check it, as the ring's consumers do.
func streamSocket(ctx context.Context, d *session, s StreamSpec) (StreamRun, error) {
	cons, conns, err := sinks(2)
	if err != nil {
		return StreamRun{}, err
	}
	defer closeAll(conns)
	ctx, stop, err := startConsumers(ctx, cons)
	for _, c := range cons {
		// The child has its own: one that dies is EPIPE here, not a hang.
		c.cmd.ExtraFiles[0].Close()
	}
	if err != nil {
		return StreamRun{}, err
	}
	defer stop()
	p, _ := stream.NewPattern(ndshm.Uint8)
	buf := make([]byte, s.frameBytes())
	p.Fill(buf, 0) // faults the buffer in before the clock starts
	run, err := pace(ctx, s, func(i int) error {
		p.Fill(buf, uint64(i))
		return fanOut(conns, uint64(i), buf)
	})
	if err != nil {
		return run, err
	}
	closeAll(conns) // the consumers' end of stream
	run.Channel, run.Writer = "unix sockets", "writer, a copy to each"
	if run.Consumers, err = collect(cons); err != nil {
		return run, err
	}
	d.step("   sockets: sent %d frames, a copy to each consumer, which read and checked every one", run.Sent)(run.Took)
	return run, nil
}

// sinks makes n socket consumers, not yet started, and the writer's ends
// of their sockets; each one's end is its command's ExtraFiles[0].
func sinks(n int) ([]*consumer, []*os.File, error) {
	var cons []*consumer
	var conns []*os.File
	for j := range n {
		mine, theirs, err := sys.Socketpair(sys.SockStream)
		if err != nil {
			for _, c := range cons {
				c.cmd.ExtraFiles[0].Close()
			}
			closeAll(conns)
			return nil, nil, err
		}
		cmd := quietRace(reexec.Command("demo-stream-sink"))
		cmd.ExtraFiles = []*os.File{theirs}
		cons = append(cons, &consumer{Who: fmt.Sprintf("Go consumer %d (reads a copy)", j+1), cmd: cmd})
		conns = append(conns, mine)
	}
	return cons, conns, nil
}

// fanOut writes frame tag to every socket at once, as a fan-out would.
func fanOut(conns []*os.File, tag uint64, frame []byte) error {
	var hdr [sinkHeader]byte
	le.PutUint64(hdr[:], tag)
	le.PutUint64(hdr[8:], uint64(time.Now().UnixNano()))
	le.PutUint64(hdr[16:], uint64(len(frame)))
	var wg sync.WaitGroup
	errs := make([]error, len(conns))
	for j, c := range conns {
		wg.Go(func() {
			if _, errs[j] = c.Write(hdr[:]); errs[j] == nil {
				_, errs[j] = c.Write(frame)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// streamSink is a socket consumer's life: read frames whole from fd 3
// until EOF, check each as ring recv --verify does, print ring recv's
// JSON report.
func streamSink() error {
	conn := os.NewFile(3, "stream")
	defer conn.Close()
	p, _ := stream.NewPattern(ndshm.Uint8)
	c := &stream.Receiver{Mode: ring.Broadcast}
	var buf []byte
	for {
		var hdr [sinkHeader]byte
		if _, err := io.ReadFull(conn, hdr[:]); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return err
		}
		n := le.Uint64(hdr[16:])
		if n > 1<<34 {
			return fmt.Errorf("a %d-byte frame", n)
		}
		if uint64(len(buf)) != n {
			buf = make([]byte, n)
		}
		if _, err := io.ReadFull(conn, buf); err != nil {
			return err
		}
		now := time.Now()
		c.AddLatency(now.Sub(time.Unix(0, int64(le.Uint64(hdr[8:])))))
		tag := le.Uint64(hdr[:])
		c.Count(tag, !p.Check(buf, tag), now)
	}
	return json.NewEncoder(os.Stdout).Encode(c.Report(0))
}

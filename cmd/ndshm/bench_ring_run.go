package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/ring"
)

// An rbenchRun sends one method's frames of one size to the peers: by a
// Broadcast/Block ring of slots, or, with sock set, by copying each
// frame through every peer's unix socket in turn, as a publisher with
// one socket per subscriber does.
type rbenchRun struct {
	size, slots int
	spin        time.Duration // the ring readers'
	sock        []byte        // the socket frame: header, then the frame
}

var rbenchSeq atomic.Int64

// run sends frames paced by p to peers; latency has the readers record
// publish→awake times (and socket readers acknowledge each frame).
func (r rbenchRun) run(ctx context.Context, peers []*rbenchPeer, p rbenchPacer, latency bool) (rbenchStats, error) {
	if r.sock != nil {
		return r.socket(ctx, peers, p, latency)
	}
	rg, err := ring.Create(fmt.Sprintf("ndshm-bench-ring-%d-%d", os.Getpid(), rbenchSeq.Add(1)),
		ring.Config{DType: ndshm.Uint8, Frame: []int{r.size}, Slots: r.slots})
	if err != nil {
		return rbenchStats{}, err
	}
	defer rg.Close()
	w, err := rg.Writer()
	if err != nil {
		return rbenchStats{}, err
	}
	defer w.Close()
	if err := rbenchStart(peers, rbenchJob{Ring: rg.Name(), Frame: r.size, Spin: r.spin, Latency: latency}); err != nil {
		return rbenchStats{}, err
	}
	st := rbenchBegin()
	if err := rbenchPublish(ctx, w, &p); err != nil {
		return st, err
	}
	w.Close() // the readers' io.EOF
	st.frames, st.rate = p.sent, p.rate()
	return st.finish(peers)
}

// rbenchPublish publishes frames as p paces them, each holding its seq
// in its first word and nothing else written.
func rbenchPublish(ctx context.Context, w *ring.Writer, p *rbenchPacer) error {
	for p.begin(); ; p.wait() {
		if err := ctx.Err(); err != nil { // Loan checks it only when it waits
			return err
		}
		f, err := w.Loan(ctx)
		if err != nil {
			return err
		}
		binary.LittleEndian.PutUint64(f.Bytes(), f.Seq)
		if err := w.Publish(f.Seq); err != nil {
			return err
		}
		if p.last() {
			return nil
		}
	}
}

// socket sends the frames through the peers' data sockets.
func (r rbenchRun) socket(ctx context.Context, peers []*rbenchPeer, p rbenchPacer, latency bool) (rbenchStats, error) {
	if err := rbenchStart(peers, rbenchJob{Frame: r.size, Latency: latency}); err != nil {
		return rbenchStats{}, err
	}
	ack, st := make([]byte, 1), rbenchBegin()
	for p.begin(); ; p.wait() {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		seq, h := p.sent, uint64(time.Now().UnixNano())
		last := p.last()
		if last {
			h |= rbenchLast
		}
		binary.LittleEndian.PutUint64(r.sock, h)
		binary.LittleEndian.PutUint64(r.sock[rbenchHeader:], uint64(seq))
		if err := rbenchSend(peers, r.sock, latency, ack); err != nil {
			return st, err
		}
		if last {
			break
		}
	}
	st.frames, st.rate = p.sent, p.rate()
	return st.finish(peers)
}

// rbenchSend writes frame to every peer in turn, then, when timing
// them, waits for every peer's ack (a byte, read into ack).
func rbenchSend(peers []*rbenchPeer, frame []byte, latency bool, ack []byte) error {
	for _, pe := range peers {
		if _, err := pe.data.Write(frame); err != nil {
			return fmt.Errorf("reader process %d: %w", pe.cmd.Process.Pid, err)
		}
	}
	for i := 0; latency && i < len(peers); i++ {
		if _, err := io.ReadFull(peers[i].data, ack); err != nil {
			return fmt.Errorf("reader process %d: %w", peers[i].cmd.Process.Pid, err)
		}
	}
	return nil
}

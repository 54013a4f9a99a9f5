package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/reexec"
	"github.com/ndshm/ndshm/internal/sys"
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

// An rbenchPacer says when a run's writer sends its frames and when it
// stops: at full speed, with a gap after each frame (for readers to fall
// asleep, or to spin), or at a fixed rate.
type rbenchPacer struct {
	d      time.Duration // send for at least this long
	min    int           // and at least this many frames
	max    int           // but never more than this many, if not 0
	gap    time.Duration // after each frame
	busy   bool          // poll through the gap rather than sleep
	period time.Duration // or from one frame's start to the next
	sent   int

	start, until, lastAt time.Time
}

func (p *rbenchPacer) begin() {
	p.start, p.sent = time.Now(), 0
	p.until = p.start.Add(p.d)
}

// last counts a frame sent and reports whether it is the run's last.
func (p *rbenchPacer) last() bool {
	p.sent++
	p.lastAt = time.Now()
	return p.max > 0 && p.sent >= p.max || p.sent >= p.min && !p.lastAt.Before(p.until)
}

// rate is the frames per second sent from the first frame to the last.
func (p *rbenchPacer) rate() float64 {
	if p.sent < 2 {
		return 0
	}
	return float64(p.sent-1) / p.lastAt.Sub(p.start).Seconds()
}

// wait waits before the next frame. It polls through a busy gap
// without yielding: a yield hands the CPU to whatever else runs, for far
// longer than the gap, and spinning readers would be asleep by the time
// the next frame comes.
func (p *rbenchPacer) wait() {
	switch {
	case p.period > 0:
		time.Sleep(time.Until(p.start.Add(time.Duration(p.sent) * p.period)))
	case p.busy:
		for end := time.Now().Add(p.gap); time.Now().Before(end); {
		}
	case p.gap > 0:
		time.Sleep(p.gap)
	}
}

// An rbenchPeer is one reader process of `ndshm bench ring`, started once
// and given a job per run (see serveRingBench).
type rbenchPeer struct {
	cmd       *exec.Cmd
	ctl, data *os.File
	enc       *json.Encoder
	dec       *json.Decoder
}

func startRbenchPeers(n int) ([]*rbenchPeer, error) {
	var peers []*rbenchPeer
	for range n {
		p, err := startRbenchPeer()
		if err != nil {
			closeRbenchPeers(peers)
			return nil, err
		}
		peers = append(peers, p)
	}
	return peers, nil
}

func startRbenchPeer() (*rbenchPeer, error) {
	ctl, ctlTheirs, err := sys.Socketpair(sys.SockStream)
	if err != nil {
		return nil, err
	}
	defer ctlTheirs.Close()
	data, dataTheirs, err := sys.Socketpair(sys.SockStream)
	if err != nil {
		ctl.Close()
		return nil, err
	}
	defer dataTheirs.Close()
	cmd := reexec.Command("ring-bench-reader")
	cmd.ExtraFiles = []*os.File{ctlTheirs, dataTheirs} // fds 3 and 4
	if err := cmd.Start(); err != nil {
		ctl.Close()
		data.Close()
		return nil, err
	}
	return &rbenchPeer{cmd: cmd, ctl: ctl, data: data, enc: json.NewEncoder(ctl), dec: json.NewDecoder(ctl)}, nil
}

// closeRbenchPeers ends the processes (they see EOF) and waits for them.
func closeRbenchPeers(peers []*rbenchPeer) error {
	for _, p := range peers {
		p.ctl.Close()
		p.data.Close()
	}
	var errs []error
	for _, p := range peers {
		if err := p.cmd.Wait(); err != nil {
			errs = append(errs, fmt.Errorf("reader process %d: %w", p.cmd.Process.Pid, err))
		}
	}
	return errors.Join(errs...)
}

// start gives every peer the job and waits until each is ready.
func rbenchStart(peers []*rbenchPeer, j rbenchJob) error {
	for _, p := range peers {
		if err := p.enc.Encode(j); err != nil {
			return fmt.Errorf("reader process %d: %w", p.cmd.Process.Pid, err)
		}
	}
	for _, p := range peers {
		if rep, err := p.reply(); err != nil {
			return err
		} else if !rep.Ready {
			return fmt.Errorf("reader process %d: not ready", p.cmd.Process.Pid)
		}
	}
	return nil
}

// rbenchStats is what a run measured: frames sent, and at what rate
// from the first to the last; the time from the first frame to the last
// reader's report; CPU time of the writer and every reader.
type rbenchStats struct {
	frames int
	rate   float64
	wall   time.Duration
	cpu    time.Duration
	lat    []time.Duration

	start time.Time
	cpu0  time.Duration
}

func rbenchBegin() rbenchStats { return rbenchStats{cpu0: sys.CPUTime(), start: time.Now()} }

// finish collects every peer's report of the run, which must have
// received all st.frames frames.
func (st rbenchStats) finish(peers []*rbenchPeer) (rbenchStats, error) {
	for _, p := range peers {
		rep, err := p.reply()
		if err != nil {
			return st, err
		}
		if rep.Frames != st.frames {
			return st, fmt.Errorf("reader process %d got %d frames of %d", p.cmd.Process.Pid, rep.Frames, st.frames)
		}
		st.cpu += rep.CPU
		for _, ns := range rep.Lat {
			st.lat = append(st.lat, time.Duration(ns))
		}
	}
	st.wall = time.Since(st.start)
	st.cpu += sys.CPUTime() - st.cpu0
	return st, nil
}

func (p *rbenchPeer) reply() (rbenchReply, error) {
	var rep rbenchReply
	err := p.dec.Decode(&rep)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	if err == nil && rep.Err != "" {
		err = errors.New(rep.Err)
	}
	if err != nil {
		return rep, fmt.Errorf("reader process %d: %w", p.cmd.Process.Pid, err)
	}
	return rep, nil
}

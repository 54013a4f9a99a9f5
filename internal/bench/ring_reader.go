package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ndshm/ndshm/internal/reexec"
	"github.com/ndshm/ndshm/internal/sys"
	"github.com/ndshm/ndshm/ring"
)

// A reader process of `ndshm bench ring` takes one job per run on the
// control socket (fd 3) and answers twice: ready once it is subscribed
// (or listening), then what it read once the run is over. Socket-copy
// frames come on the data socket (fd 4): a header word, the publish
// time in ns with rbenchLast set on the last frame, then the frame,
// whose first word is its sequence number. In both methods the writer
// stores that word and the reader checks it: the transport is what is
// measured, except that a socket reader must take in every byte.
// RingReader is the role "ring-bench-reader": a reader process of the
// ring benchmark, which takes jobs on fd 3 and a socket stream on fd 4.
func RingReader([]string) int { return reexec.Exit("ring-bench-reader", serveRingBench()) }

const (
	rbenchHeader = 8
	rbenchLast   = 1 << 63
	rbenchMaxLat = 1 << 16 // latencies a reader records per run, at most
)

type rbenchJob struct {
	Ring    string        `json:"ring,omitempty"` // the ring to read, or "" for the socket
	Frame   int           `json:"frame"`
	Spin    time.Duration `json:"spin"`
	Latency bool          `json:"latency"` // record publish→awake; ack socket frames
}

type rbenchReply struct {
	Ready  bool          `json:"ready,omitempty"`
	Frames int           `json:"frames"`
	CPU    time.Duration `json:"cpu"`
	Lat    []int64       `json:"lat,omitempty"` // ns
	Err    string        `json:"err,omitempty"`
}

// serveRingBench runs jobs until the control socket closes. A job that
// fails ends the process, after saying why: it may have left the data
// socket half read.
func serveRingBench() error {
	ctl, data := os.NewFile(3, "control"), os.NewFile(4, "data")
	defer ctl.Close()
	defer data.Close()
	dec, enc := json.NewDecoder(ctl), json.NewEncoder(ctl)
	ready := func() error { return enc.Encode(rbenchReply{Ready: true}) }
	var buf []byte // the socket frame, kept from one run to the next
	for {
		var j rbenchJob
		if err := dec.Decode(&j); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		rep, err := rbenchDo(j, data, &buf, ready)
		if err != nil {
			enc.Encode(rbenchReply{Err: err.Error()})
			return err
		}
		if err := enc.Encode(rep); err != nil {
			return err
		}
	}
}

func rbenchDo(j rbenchJob, data *os.File, buf *[]byte, ready func() error) (rbenchReply, error) {
	switch {
	case j.Frame < 8 || j.Frame > 1<<40:
		return rbenchReply{}, fmt.Errorf("frames of %d bytes", j.Frame)
	case j.Ring != "":
		return readRingJob(j, ready)
	}
	if len(*buf) != rbenchHeader+j.Frame {
		*buf = rbenchTouched(rbenchHeader + j.Frame)
	}
	return readSocketJob(j, data, *buf, ready)
}

// readRingJob reads the ring until its writer closes, touching one word
// of each frame.
func readRingJob(j rbenchJob, ready func() error) (rbenchReply, error) {
	r, err := ring.Open(j.Ring)
	if err != nil {
		return rbenchReply{}, err
	}
	defer r.Close()
	rd, err := r.Reader()
	if err != nil {
		return rbenchReply{}, err
	}
	defer rd.Close()
	rd.SetSpin(j.Spin)
	lat := rbenchLatencies(j)
	cpu := sys.CPUTime()
	if err := ready(); err != nil {
		return rbenchReply{}, err
	}
	for n := 0; ; n++ {
		f, err := rd.Next(context.Background())
		now := time.Now().UnixNano()
		if errors.Is(err, io.EOF) {
			return rbenchReply{Frames: n, CPU: sys.CPUTime() - cpu, Lat: lat}, nil
		}
		if err != nil {
			return rbenchReply{}, err
		}
		if v := binary.LittleEndian.Uint64(f.Bytes()); v != f.Seq {
			return rbenchReply{}, fmt.Errorf("frame %d holds %d", f.Seq, v)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, now-f.Time.UnixNano())
		}
	}
}

// readSocketJob reads whole frames from the socket into buf until the
// last, acknowledging each with a byte when timing them.
func readSocketJob(j rbenchJob, data *os.File, buf []byte, ready func() error) (rbenchReply, error) {
	lat := rbenchLatencies(j)
	ack := []byte{0}
	cpu := sys.CPUTime()
	if err := ready(); err != nil {
		return rbenchReply{}, err
	}
	for n := 0; ; n++ {
		if _, err := io.ReadFull(data, buf); err != nil {
			return rbenchReply{}, fmt.Errorf("socket frame %d: %w", n, err)
		}
		now := time.Now().UnixNano()
		h := binary.LittleEndian.Uint64(buf)
		if v := binary.LittleEndian.Uint64(buf[rbenchHeader:]); v != uint64(n) {
			return rbenchReply{}, fmt.Errorf("socket frame %d holds %d", n, v)
		}
		if j.Latency {
			if len(lat) < cap(lat) {
				lat = append(lat, now-int64(h&^rbenchLast))
			}
			if _, err := data.Write(ack); err != nil {
				return rbenchReply{}, err
			}
		}
		if h&rbenchLast != 0 {
			return rbenchReply{Frames: n + 1, CPU: sys.CPUTime() - cpu, Lat: lat}, nil
		}
	}
}

// rbenchLatencies is room for a run's latencies, allocated before it starts.
func rbenchLatencies(j rbenchJob) []int64 {
	if !j.Latency {
		return nil
	}
	return make([]int64, 0, rbenchMaxLat)
}

// rbenchTouched returns a buffer of n bytes whose pages are faulted in, so
// that no run pays for that.
func rbenchTouched(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 4096 {
		b[i] = 1
	}
	return b
}

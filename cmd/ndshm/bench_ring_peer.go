package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

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
	cmd := helper("ring-bench-reader")
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

func rbenchBegin() rbenchStats { return rbenchStats{cpu0: rbenchCPU(), start: time.Now()} }

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
	st.cpu += rbenchCPU() - st.cpu0
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

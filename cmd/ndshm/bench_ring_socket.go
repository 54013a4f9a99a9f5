package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// readSocketJob reads whole frames from the socket into buf until the
// last, acknowledging each with a byte when timing them.
func readSocketJob(j rbenchJob, data *os.File, buf []byte, ready func() error) (rbenchReply, error) {
	lat := rbenchLatencies(j)
	ack := []byte{0}
	cpu := rbenchCPU()
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
			return rbenchReply{Frames: n + 1, CPU: rbenchCPU() - cpu, Lat: lat}, nil
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

// rbenchCPU is the user and system time this process has used.
func rbenchCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

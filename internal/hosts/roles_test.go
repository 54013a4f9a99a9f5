package hosts_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/shmtest"
)

func TestMain(m *testing.M) {
	shmtest.Main(m, map[string]func([]string) int{
		"echo-server": echoServer,
		"echo-client": echoClient,
	})
}

// echoServer listens on args[0], prints the address it got, and echoes
// every connection until it is killed.
func echoServer(args []string) int {
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			return 1
		}
		go func() { io.Copy(c, c); c.Close() }()
	}
}

// echoClient connects to args[0], times five one-byte round trips, then
// sends args[1] bytes and checks they come back, and prints the shortest
// round trip and the bulk echo's time, in nanoseconds.
func echoClient(args []string) int {
	n, _ := strconv.Atoi(args[1])
	c, err := net.Dial("tcp", args[0])
	if err == nil {
		var rtt, bulk time.Duration
		if rtt, err = ping(c, 5); err == nil {
			bulk, err = echoBulk(c, n)
		}
		fmt.Println(rtt.Nanoseconds(), bulk.Nanoseconds())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func ping(c net.Conn, k int) (time.Duration, error) {
	best := time.Hour
	b := []byte{7}
	for range k {
		t0 := time.Now()
		if _, err := c.Write(b); err != nil {
			return 0, err
		}
		if _, err := io.ReadFull(c, b); err != nil {
			return 0, err
		}
		best = min(best, time.Since(t0))
	}
	return best, nil
}

func echoBulk(c net.Conn, n int) (time.Duration, error) {
	out := bytes.Repeat([]byte("ndshm"), n/5+1)[:n]
	in := make([]byte, n)
	t0 := time.Now()
	werr := make(chan error, 1)
	go func() { _, err := c.Write(out); werr <- err }()
	_, err := io.ReadFull(c, in)
	err = errors.Join(err, <-werr)
	if err == nil && !bytes.Equal(in, out) {
		err = errors.New("echo differs")
	}
	return time.Since(t0), err
}

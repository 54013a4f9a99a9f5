package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/ndshm/ndshm/internal/reexec"
	"github.com/ndshm/ndshm/internal/sys"
)

// tcpSide is what one side of a TCP copy measured: the copy's wall time
// and this process's CPU time during it, in nanoseconds.
type tcpSide struct {
	Took int64 `json:"took_ns"`
	CPU  int64 `json:"cpu_ns"`
}

// TCPPeer is the role "tcp-copy-peer", one side of TCPCopy: "recv ADDR
// N" listens on ADDR, prints the address it got, and reads N bytes from
// the one connection it accepts; "send ADDR N" connects to ADDR and
// writes N bytes. Each then prints its tcpSide as a JSON line.
func TCPPeer(args []string) int {
	if len(args) != 3 {
		return reexec.Exit("tcp-copy-peer", fmt.Errorf("want recv|send ADDR N, got %q", args))
	}
	n, err := strconv.ParseInt(args[2], 10, 64)
	if err != nil {
		return reexec.Exit("tcp-copy-peer", err)
	}
	// Touched before the copy, so that its page faults are not counted.
	buf := make([]byte, min(n, tcpBuf))
	for i := range buf {
		buf[i] = byte(i)
	}
	var side tcpSide
	switch args[0] {
	case "recv":
		side, err = tcpRecv(args[1], buf, n)
	case "send":
		side, err = tcpSend(args[1], buf, n)
	default:
		err = fmt.Errorf("unknown side %q", args[0])
	}
	if err == nil {
		err = json.NewEncoder(os.Stdout).Encode(side)
	}
	return reexec.Exit("tcp-copy-peer", err)
}

func tcpRecv(addr string, buf []byte, n int64) (tcpSide, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return tcpSide{}, err
	}
	defer ln.Close()
	fmt.Println(ln.Addr())
	c, err := ln.Accept()
	if err != nil {
		return tcpSide{}, err
	}
	defer c.Close()
	t0, cpu0 := time.Now(), sys.CPUTime()
	for got := int64(0); got < n; {
		k, err := c.Read(buf[:min(int64(len(buf)), n-got)])
		got += int64(k)
		if err != nil && !(err == io.EOF && got == n) {
			return tcpSide{}, fmt.Errorf("read %d of %d bytes: %w", got, n, err)
		}
	}
	return tcpSide{time.Since(t0).Nanoseconds(), (sys.CPUTime() - cpu0).Nanoseconds()}, nil
}

// tcpSend writes with plain writes of the buffer, never io.Copy, which
// could hand the kernel a file to splice instead of copying.
func tcpSend(addr string, buf []byte, n int64) (tcpSide, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return tcpSide{}, err
	}
	defer c.Close()
	t0, cpu0 := time.Now(), sys.CPUTime()
	for sent := int64(0); sent < n; {
		k, err := c.Write(buf[:min(int64(len(buf)), n-sent)])
		sent += int64(k)
		if err != nil {
			return tcpSide{}, fmt.Errorf("wrote %d of %d bytes: %w", sent, n, err)
		}
	}
	return tcpSide{time.Since(t0).Nanoseconds(), (sys.CPUTime() - cpu0).Nanoseconds()}, nil
}

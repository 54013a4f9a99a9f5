package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"time"

	"github.com/ndshm/ndshm/internal/hosts"
	"github.com/ndshm/ndshm/internal/reexec"
)

// TCPResult is one raw TCP copy of a number of bytes from one host to
// another: the ceiling that any transfer of the same bytes over the same
// link, in the same run, is compared with.
type TCPResult struct {
	Method string  `json:"method"` // "raw-tcp-copy"
	Size   int64   `json:"size_bytes"`
	Secs   float64 `json:"seconds"` // from the receiver's accept to its last byte
	Rate   float64 `json:"bytes_per_s"`
	// Copies is the copies of each byte between user and kernel memory
	// on each side: the sender's write(2) copies its buffer into the
	// socket's, the receiver's read(2) copies the socket's into its
	// buffer. A veth hands packets to the other namespace without a copy.
	Copies  int     `json:"user_copies_per_byte_each_side"`
	SendCPU float64 `json:"send_cpu_ns_per_gb"` // user+system CPU of the sending process, per 1e9 bytes
	RecvCPU float64 `json:"recv_cpu_ns_per_gb"`
}

// tcpBuf is the size of the sender's and receiver's buffers: a chunk of
// the size an RPC transfer would send at once.
const tcpBuf = 4 << 20

// TCPCopy copies n bytes over one TCP connection from a process in host
// from to a process in host to: this program re-executed in the role
// "tcp-copy-peer" (TCPPeer), which it must play. Each side counts only
// the copy itself, not its process's start. n must be at least 1.
func TCPCopy(ctx context.Context, from, to *hosts.Host, n int64) (TCPResult, error) {
	if n < 1 {
		return TCPResult{}, fmt.Errorf("tcp copy of %d bytes", n)
	}
	recv, err := startPeer(ctx, to, "recv", net.JoinHostPort(to.Addr.String(), "0"), n)
	if err != nil {
		return TCPResult{}, err
	}
	defer recv.close()
	addr, err := recv.out.ReadString('\n')
	if err != nil {
		return TCPResult{}, fmt.Errorf("tcp-copy receiver in %s: %w", to.Name, err)
	}
	send, err := startPeer(ctx, from, "send", strings.TrimSpace(addr), n)
	if err != nil {
		return TCPResult{}, err
	}
	defer send.close()
	s, err := send.result()
	if err != nil {
		return TCPResult{}, err
	}
	r, err := recv.result()
	if err != nil {
		return TCPResult{}, err
	}
	gb := float64(n) / 1e9
	secs := time.Duration(r.Took).Seconds()
	return TCPResult{Method: "raw-tcp-copy", Size: n, Secs: secs, Rate: float64(n) / secs,
		Copies: 1, SendCPU: float64(s.CPU) / gb, RecvCPU: float64(r.CPU) / gb}, nil
}

// A tcpPeer is a running "tcp-copy-peer" process.
type tcpPeer struct {
	side string // "send" or "recv"
	cmd  *exec.Cmd
	out  *bufio.Reader
	stop func() bool // stops killing it when the context ends
}

// startPeer starts a tcp-copy-peer in h, to be killed when ctx ends.
func startPeer(ctx context.Context, h *hosts.Host, side, addr string, n int64) (*tcpPeer, error) {
	cmd := h.Enter(reexec.Command("tcp-copy-peer", side, addr, fmt.Sprint(n)))
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		return nil, fmt.Errorf("tcp-copy-peer in %s: %w", h.Name, err)
	}
	stop := context.AfterFunc(ctx, func() { cmd.Process.Kill() })
	return &tcpPeer{side, cmd, bufio.NewReader(out), stop}, nil
}

// result reads what the peer measured, the last line it prints.
func (p *tcpPeer) result() (tcpSide, error) {
	var s tcpSide
	line, err := p.out.ReadString('\n')
	if err == nil {
		err = json.Unmarshal([]byte(line), &s)
	}
	if err != nil {
		return s, fmt.Errorf("tcp-copy-peer %s: %w", p.side, err)
	}
	return s, nil
}

// close kills the peer, which has printed its result or failed, and
// reaps it.
func (p *tcpPeer) close() {
	p.stop()
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

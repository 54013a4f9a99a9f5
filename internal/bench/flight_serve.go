package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ndshm/ndshm/internal/hosts"
	"github.com/ndshm/ndshm/internal/reexec"
)

// flightPort is where bench flight's server listens, in a host of its
// own: no other program shares the namespace's ports.
const flightPort = "7815"

// A flightServer is `ndshm serve --flight` in a host: this program in
// the role "ndshm", which it must play (the command line).
type flightServer struct {
	cmd  *exec.Cmd
	addr string // its Flight endpoint, host:port
	dir  string // its socket's directory, removed by stop
}

// startFlightServer runs `ndshm serve --flight` in h and waits until
// it serves.
func startFlightServer(h *hosts.Host) (*flightServer, error) {
	dir, err := os.MkdirTemp("", "ndshm-bench-flight-")
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(h.Addr.String(), flightPort)
	s := &flightServer{addr: addr, dir: dir}
	s.cmd = h.Enter(reexec.Command("ndshm", "serve", "--socket", filepath.Join(dir, "s.sock"),
		"--gc-interval", "0", "--flight", addr, "--flight-insecure"))
	s.cmd.Stderr = nil
	out, err := s.cmd.StderrPipe()
	if err == nil {
		err = s.cmd.Start()
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("ndshm serve --flight in %s: %w", h.Name, err)
	}
	r := bufio.NewReader(out)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			s.stop()
			return nil, fmt.Errorf("ndshm serve --flight in %s: %w before it served", h.Name, err)
		}
		if strings.Contains(line, "flight on ") {
			break
		}
	}
	go io.Copy(io.Discard, r) // its log, which must not block it
	return s, nil
}

// stop stops the server (SIGINT, then SIGKILL after 10 s) and removes
// its socket's directory.
func (s *flightServer) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	t := time.AfterFunc(10*time.Second, func() { s.cmd.Process.Kill() })
	s.cmd.Wait()
	t.Stop()
	os.RemoveAll(s.dir)
}

// cpu returns the user and system CPU time the server has used, from
// /proc/PID/stat: clock ticks, 10 ms each where USER_HZ is 100, as it
// is on every Linux architecture ndshm builds for.
func (s *flightServer) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, may hold spaces: count after its ')'.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %.80q", s.cmd.Process.Pid, b)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %.80q", s.cmd.Process.Pid, b)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// makeBlock makes the persistent block name of n bytes, every one 1,
// in h, with `ndshm create`: written, so its pages exist before a pull
// reads them.
func makeBlock(ctx context.Context, h *hosts.Host, name string, n int64) error {
	cmd := h.Enter(reexec.Command("ndshm", "create", name, "--dtype", "u1",
		"--shape", strconv.FormatInt(n, 10), "--fill", "1"))
	cmd.Stderr = nil
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ndshm create in %s: %v: %s", h.Name, err, out)
	}
	return ctx.Err()
}

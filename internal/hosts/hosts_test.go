package hosts_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/hosts"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// startEcho runs an echo server in h, on h's address, until the test
// ends, and returns its address.
func startEcho(t *testing.T, h *hosts.Host) string {
	t.Helper()
	cmd := h.Enter(shmtest.Command("echo-server", net.JoinHostPort(h.Addr.String(), "0")))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("echo server in %s: %v", h.Name, err)
	}
	return strings.TrimSpace(line)
}

// echo connects from h to addr and returns the shortest of five one-byte
// round trips and the time n bytes took to come back.
func echo(t *testing.T, h *hosts.Host, addr string, n int) (rtt, bulk time.Duration) {
	t.Helper()
	out, err := h.Enter(shmtest.Command("echo-client", addr, fmt.Sprint(n))).Output()
	if err != nil {
		t.Fatalf("echo from %s to %s: %v", h.Name, addr, err)
	}
	var r, b int64
	if _, err := fmt.Sscan(string(out), &r, &b); err != nil {
		t.Fatalf("echo client printed %q: %v", out, err)
	}
	return time.Duration(r), time.Duration(b)
}

func TestReach(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := hosts.New(t, n)
			last := s[n-1]
			if !strings.HasPrefix(last.Addr.String(), "198.18.") {
				t.Errorf("address %v is outside 198.18.0.0/15", last.Addr)
			}
			for _, h := range s {
				checkRoutes(t, h)
			}
			addr := startEcho(t, last)
			for _, h := range s[:n-1] {
				echo(t, h, addr, 1<<20)
			}
		})
	}
}

// TestShmPrivate: a host's /dev/shm is its own, the same for all of its
// processes, and seen neither by other hosts nor by this machine.
func TestShmPrivate(t *testing.T) {
	s := hosts.New(t, 2)
	ctx := context.Background()
	name := shmtest.Name()
	if out, err := s[0].Command(ctx, "sh", "-c", "echo x > /dev/shm/"+name).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, tc := range []struct {
		h    *hosts.Host
		want bool
	}{{s[0], true}, {s[1], false}} {
		err := tc.h.Command(ctx, "test", "-e", "/dev/shm/"+name).Run()
		if got := err == nil; got != tc.want {
			t.Errorf("%s sees /dev/shm/%s: %v, want %v (%v)", tc.h.Name, name, got, tc.want, err)
		}
	}
	if _, err := os.Stat("/dev/shm/" + name); err == nil {
		t.Errorf("/dev/shm/%s of host %s is in this machine's /dev/shm", name, s[0].Name)
	}
}

// checkRoutes: a host has no route but to the other hosts (and its own
// addresses): nothing it sends can leave for another machine. IPv6 has
// link-local routes only, which end at the other end of the link.
func checkRoutes(t *testing.T, h *hosts.Host) {
	t.Helper()
	for _, family := range []string{"-4", "-6"} {
		out, err := h.Command(context.Background(), "ip", family, "-o", "route", "show", "table", "all").Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			bad := strings.HasPrefix(r, "default")
			if family == "-4" {
				bad = bad || !strings.Contains(r, "198.18.0.") && !strings.Contains(r, " dev lo ")
			}
			if bad {
				t.Errorf("host %s has route %q", h.Name, r)
			}
		}
	}
}

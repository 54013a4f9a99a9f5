package hosts_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/hosts"
)

// TestNetemRate: a rate-limited link carries data no faster than the
// limit (both ways, since echoed data comes back through the other host's
// limit), and Netem(0, 0) lifts it.
func TestNetemRate(t *testing.T) {
	s := hosts.New(t, 2)
	addr := startEcho(t, s[1])
	const rate, n = 20_000_000, 1 << 20 // bits/s, bytes
	if err := s.Netem(0, rate); err != nil {
		t.Fatal(err)
	}
	floor := time.Duration(float64(n*8) / rate * 0.8 * float64(time.Second))
	if _, bulk := echo(t, s[0], addr, n); bulk < floor {
		t.Errorf("%d bytes echoed in %v over a %d bit/s link; want at least %v", n, bulk, rate, floor)
	}
	if err := s.Netem(0, 0); err != nil {
		t.Fatal(err)
	}
	if _, bulk := echo(t, s[0], addr, n); bulk >= floor {
		t.Errorf("%d bytes echoed in %v after lifting the limit; want under %v", n, bulk, floor)
	}
}

// TestNetemDelay: each host's packets wait the delay, so a round trip
// takes at least twice the delay. Kernels without netem skip.
func TestNetemDelay(t *testing.T) {
	s := hosts.New(t, 2)
	addr := startEcho(t, s[1])
	const delay = 20 * time.Millisecond
	err := s.Netem(delay, 0)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if rtt, _ := echo(t, s[0], addr, 1); rtt < 2*delay {
		t.Errorf("round trip %v with a %v delay each way; want at least %v", rtt, delay, 2*delay)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/reexec"
	"github.com/ndshm/ndshm/internal/sys"
)

// flightPullPeer is the role "flight-pull-peer", bench flight's puller
// (internal/bench cannot import package flight: the core does not
// depend on Arrow or gRPC). "ADDR REMOTE LOCAL" pulls the block REMOTE
// of the plaintext Flight server at ADDR into the new block LOCAL, and
// prints {"took_ns","cpu_ns"}: the time from the request until LOCAL
// was published, and this process's CPU time in it. It then removes
// LOCAL.
func flightPullPeer(args []string) int {
	if len(args) != 3 {
		return reexec.Exit("flight-pull-peer", fmt.Errorf("want ADDR REMOTE LOCAL, got %q", args))
	}
	c, err := flight.Dial(args[0], flight.DialOptions{Insecure: true})
	if err != nil {
		return reexec.Exit("flight-pull-peer", err)
	}
	defer c.Close()
	t0, cpu0 := time.Now(), sys.CPUTime()
	b, err := c.Pull(context.Background(), args[1], args[2]) // not persistent: Close removes it
	took, cpu := time.Since(t0), sys.CPUTime()-cpu0
	if err != nil {
		return reexec.Exit("flight-pull-peer", err)
	}
	if err := b.Close(); err != nil {
		return reexec.Exit("flight-pull-peer", err)
	}
	err = json.NewEncoder(os.Stdout).Encode(map[string]int64{"took_ns": took.Nanoseconds(), "cpu_ns": cpu.Nanoseconds()})
	return reexec.Exit("flight-pull-peer", err)
}

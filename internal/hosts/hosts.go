// Package hosts makes "other hosts" on this machine for tests and
// benchmarks of ndshm across machines: each host is a network namespace
// with its own address from the benchmarking range 198.18.0.0/15 and its
// own private /dev/shm, so that two hosts share neither a socket address
// nor a block name, as two machines would not.
//
// Two hosts are joined by a veth pair; three or more by a bridge in a
// namespace of their own (the hub). Addresses and routes exist only
// inside those namespaces: nothing is added to, or sent from, the root
// namespace, and nothing leaves this machine.
//
// Making hosts needs root, ip(8) and tc(8) from iproute2, and nsenter(1)
// and unshare(1) from util-linux. Each namespace's name carries the pid
// and start time of the process that made it, so that New and Start can
// remove what a crashed run left behind without touching a live run's.
package hosts

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
)

// A Host is one network namespace with a private /dev/shm. Its methods
// are safe for concurrent use; it is valid until its Set is removed.
type Host struct {
	Name string     // the network namespace's name, as ip netns list shows it
	Addr netip.Addr // its address, on Link
	Link string     // its interface to the other hosts, inside the namespace

	shm *exec.Cmd // holds the mount namespace with the private /dev/shm
}

// A Set is hosts that can reach each other, made by New or Start.
type Set []*Host

// TB is the part of testing.TB that New uses: this package is linked
// into ndshm, for ndshm bench, which must not import package testing.
type TB interface {
	Helper()
	Cleanup(func())
	Error(args ...any)
	Fatal(args ...any)
	Skip(args ...any)
}

// New makes n hosts (at least 2) for the test and removes them, with
// every process still running in them, when the test ends. Without root
// the test is skipped, or fails when CI is set: CI runs as root.
func New(t TB, n int) Set {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root, to make network namespaces")
		}
		t.Skip("making network namespaces needs root")
	}
	s, remove, err := Start(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := remove(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Start makes n hosts (at least 2), for a program rather than a test.
// The caller must call remove, once, when done: it kills every process
// left in the hosts and deletes their namespaces, and so their links,
// addresses and /dev/shm. Start first removes the hosts of runs whose
// process has died (see Sweep).
func Start(n int) (s Set, remove func() error, err error) {
	if n < 2 || n > 250 {
		return nil, nil, fmt.Errorf("hosts: %d hosts; want 2 to 250", n)
	}
	if err := Sweep(); err != nil {
		return nil, nil, err
	}
	stem, err := newStem()
	if err != nil {
		return nil, nil, err
	}
	s, err = build(stem, n)
	remove = func() error { return teardown(stem, s) }
	if err != nil {
		return nil, nil, errors.Join(err, remove())
	}
	return s, remove, nil
}

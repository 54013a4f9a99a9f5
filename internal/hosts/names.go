package hosts

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// prefix starts the name of every namespace this package makes:
// prefix PID-START-RANDOM-HOST, where PID and START (its start time in
// clock ticks since boot) name the process that made it, and RANDOM
// tells apart two sets one process made.
const prefix = "ndshmnet-"

// newStem returns the start of the names of a new set's namespaces.
func newStem() (string, error) {
	pid := os.Getpid()
	start, err := sys.StartTime(pid)
	if err != nil {
		return "", fmt.Errorf("hosts: %w", err)
	}
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s%d-%d-%s", prefix, pid, start, hex.EncodeToString(b[:])), nil
}

// ownerAlive reports whether the process that made the namespace name
// (one of ours, by its prefix) still runs. A reused pid has another
// start time.
func ownerAlive(name string) bool {
	f := strings.SplitN(strings.TrimPrefix(name, prefix), "-", 3)
	if len(f) < 3 {
		return true // not one of ours after all: leave it alone
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return true
	}
	now, err := sys.StartTime(pid)
	return err == nil && now == start
}

// namespaces lists the named network namespaces that start with p.
func namespaces(p string) ([]string, error) {
	out, err := ip("netns", "list")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		// "NAME" or "NAME (id: N)"
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], p) {
			names = append(names, f[0])
		}
	}
	return names, nil
}

// Sweep removes the hosts that runs of any process left behind when they
// died without removing them: the namespaces named with this package's
// prefix whose maker no longer runs, with any process still in them.
// Live runs' hosts, and every other namespace, are left alone.
func Sweep() error {
	names, err := namespaces(prefix)
	if err != nil {
		return err
	}
	for _, name := range names {
		if ownerAlive(name) {
			continue
		}
		// Another process's Sweep may be removing it too.
		if err := removeNamespace(name); err != nil && exists(name) {
			return err
		}
	}
	return nil
}

// exists reports whether the named network namespace is there, as ip
// netns keeps them: a file in /run/netns.
func exists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// removeNamespace kills every process in the network namespace name,
// deletes it, and waits until those processes have exited (or are
// zombies their parents must reap). Deleting the namespace deletes its
// links: a veth goes with either end.
func removeNamespace(name string) error {
	out, err := ip("netns", "pids", name)
	if err != nil {
		return err
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil {
			if p, err := os.FindProcess(pid); err == nil && p.Kill() == nil {
				pids = append(pids, pid)
			}
		}
	}
	if _, err := ip("netns", "delete", name); err != nil {
		return err
	}
	return awaitGone(pids, 10*time.Second)
}

// awaitGone waits until none of pids is a running process: a zombie has
// no namespaces left, so /proc/PID/ns/net is gone once it has exited.
func awaitGone(pids []int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, pid := range pids {
		for {
			if _, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net"); err != nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("hosts: process %d still runs %v after SIGKILL", pid, limit)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

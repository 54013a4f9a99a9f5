package main

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm/ring"
)

// SIGINT and SIGTERM cut a long command short: it cleans up (its pool's
// workers stop, the block it was making is removed) and exits 130 or 143,
// as a shell reports a process the signal killed.
func TestSignalExit(t *testing.T) {
	bin := builtNdshm(t)
	src, out, rg := newName(t), newName(t), newName(t)
	mustRun(t, "ring", "create", rg, "--dtype", "u1", "--shape", "64", "--slots", "2")
	defer os.Remove("/dev/shm/" + rg)
	mustRun(t, "create", src, "--dtype", "f8", "--shape", strconv.Itoa(64<<20), "--fill", "4")
	for _, tc := range []struct {
		args  []string
		ready func(pid int) bool // the command is in its long part
		sig   syscall.Signal
		code  int
	}{
		{[]string{"ring", "recv", rg, "--frames", "10", "--timeout", "1m"}, subscribed(rg, 1), syscall.SIGINT, 130},
		{[]string{"ring", "send", rg, "--frames", "10", "--wait-readers", "1", "--timeout", "1m"}, writing(rg), syscall.SIGTERM, 143},
		{[]string{"map", src, "--op", "sqrt", "--out", out, "--workers", "2"}, hasWorkers(2), syscall.SIGINT, 130},
		{[]string{"map", src, "--op", "sqrt", "--out", out, "--workers", "2"}, hasWorkers(2), syscall.SIGTERM, 143},
	} {
		before := shmNamesNow()
		cmd := exec.Command(bin, tc.args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for end := time.Now().Add(20 * time.Second); !tc.ready(cmd.Process.Pid) && time.Now().Before(end); {
			time.Sleep(200 * time.Microsecond)
		}
		kids := childrenOf(cmd.Process.Pid)
		cmd.Process.Signal(tc.sig)
		cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		if tc.args[0] == "map" && code == 0 {
			t.Logf("%s: the map finished before the signal", tc.args)
		} else if code != tc.code {
			t.Errorf("%s after %v: exit %d, want %d; stderr %q", tc.args, tc.sig, code, tc.code, stderr.String())
		}
		for _, k := range kids {
			if syscall.Kill(k, 0) == nil {
				t.Errorf("%s: worker %d outlived the command", tc.args, k)
			}
		}
		// Other test binaries may be making blocks: look at this test's
		// names and the command's (which carry its pid).
		left := slices.DeleteFunc(shmNamesNow(), func(n string) bool {
			ours := strings.Contains(n, "-"+strconv.Itoa(cmd.Process.Pid)) || strings.Contains(n, "-"+strconv.Itoa(os.Getpid())+"-")
			return !ours || slices.Contains(before, n)
		})
		if len(left) > 0 {
			t.Errorf("%s after %v left %v in /dev/shm", tc.args, tc.sig, left)
		}
		if code != 0 && exists(out) {
			t.Errorf("%s: an interrupted map left --out %s", tc.args, out)
		}
		os.Remove("/dev/shm/" + out)
	}
}

// subscribed reports whether the ring name has n readers.
func subscribed(name string, n int) func(int) bool {
	return func(int) bool {
		r, err := ring.Open(name)
		if err != nil {
			return false
		}
		defer r.Close()
		return len(r.Stat().Readers) >= n
	}
}

// writing reports whether the ring name has a writer.
func writing(name string) func(int) bool {
	return func(int) bool {
		r, err := ring.Open(name)
		if err != nil {
			return false
		}
		defer r.Close()
		return r.Stat().WriterPID != 0
	}
}

// hasWorkers reports whether process pid has n children.
func hasWorkers(n int) func(int) bool {
	return func(pid int) bool { return len(childrenOf(pid)) >= n }
}

// childrenOf lists the children of pid.
func childrenOf(pid int) []int {
	var kids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			k, _ := strconv.Atoi(e.Name())
			kids = append(kids, k)
		}
	}
	return kids
}

func shmNamesNow() []string {
	ents, _ := os.ReadDir("/dev/shm")
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

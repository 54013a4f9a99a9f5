package hosts_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/hosts"
	"github.com/ndshm/ndshm/internal/sys"
)

// rootState is what hosts must leave as they found it in the root
// namespaces: their links, and their mounts of hosts' tmpfs (named
// ndshm-host; other test binaries running now may mount tmpfs of their
// own).
func rootState(t *testing.T) string {
	t.Helper()
	links, err := exec.Command("ip", "-o", "link").Output()
	if err != nil {
		t.Fatal(err)
	}
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	var tmpfs []string
	for _, m := range strings.Split(string(mounts), "\n") {
		if strings.HasPrefix(m, "ndshm-host ") {
			tmpfs = append(tmpfs, m)
		}
	}
	return string(links) + strings.Join(tmpfs, "\n")
}

func netnsList(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// netnsPids lists the processes in the namespace name, none if it is
// gone.
func netnsPids(t *testing.T, name string) []int {
	t.Helper()
	out, _ := exec.Command("ip", "netns", "pids", name).Output()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		pid, _ := strconv.Atoi(f)
		pids = append(pids, pid)
	}
	return pids
}

func running(pid int) bool {
	_, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	return err == nil
}

// TestRemove: removing hosts kills what runs in them and leaves no
// namespace, link, mount or process, in the root namespaces or anywhere.
func TestRemove(t *testing.T) {
	hosts.New(t, 2) // skips without root
	before := rootState(t)
	s, remove, err := hosts.Start(3)
	if err != nil {
		t.Fatal(err)
	}
	stray := s[1].Command(context.Background(), "sleep", "60")
	if err := stray.Start(); err != nil {
		remove()
		t.Fatal(err)
	}
	var pids []int
	for _, h := range s {
		pids = append(pids, netnsPids(t, h.Name)...)
	}
	if during := rootState(t); during != before {
		t.Errorf("hosts changed the root namespaces' links or tmpfs mounts:\n%s\nwas\n%s", during, before)
	}
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	if err := stray.Wait(); err == nil {
		t.Error("a process left in a host exited 0; want killed")
	}
	stem := strings.TrimSuffix(s[0].Name, "-h0") // and -hub for the bridge
	if list := netnsList(t); slices.ContainsFunc(list, func(n string) bool { return strings.HasPrefix(n, stem) }) {
		t.Errorf("namespaces %v left after remove", list)
	}
	for _, pid := range pids {
		if running(pid) {
			t.Errorf("process %d of the hosts runs after remove", pid)
		}
	}
	if after := rootState(t); after != before {
		t.Errorf("root namespaces' links or tmpfs mounts after remove:\n%s\nwere\n%s", after, before)
	}
}

// TestSweep: Sweep removes the namespaces, and kills the processes, of
// dead makers only.
func TestSweep(t *testing.T) {
	hosts.New(t, 2) // skips without root
	dead := exec.Command("true")
	if err := dead.Start(); err != nil {
		t.Fatal(err)
	}
	deadStart, err := sys.StartTime(dead.Process.Pid)
	dead.Wait()
	self, err2 := sys.StartTime(os.Getpid())
	if err != nil || err2 != nil {
		t.Fatal(err, err2)
	}
	for _, tc := range []struct {
		name string
		kept bool
	}{
		{fmt.Sprintf("ndshmnet-%d-%d-0000dead-h0", dead.Process.Pid, deadStart), false},
		{fmt.Sprintf("ndshmnet-%d-%d-0000dead-h0", os.Getpid(), self+1), false}, // pid reused
		{fmt.Sprintf("ndshmnet-%d-%d-0000beef-h0", os.Getpid(), self), true},
		{fmt.Sprintf("ndshmnet-notours-%d", os.Getpid()), true},
	} {
		// The sleeper is in the namespace before it has the name, so that
		// a Sweep of another test binary running now kills it too.
		sleeper := exec.Command("unshare", "--net", "sleep", "60")
		if err := sleeper.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
		self, _ := os.Readlink("/proc/self/ns/net")
		for ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", sleeper.Process.Pid)); ns == self; {
			time.Sleep(time.Millisecond) // until unshare has made its namespace
			ns, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/net", sleeper.Process.Pid))
		}
		if out, err := exec.Command("ip", "netns", "attach", tc.name, fmt.Sprint(sleeper.Process.Pid)).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "delete", tc.name).Run() })
		if err := hosts.Sweep(); err != nil {
			t.Fatal(err)
		}
		if kept := slices.Contains(netnsList(t), tc.name); kept != tc.kept {
			t.Errorf("%s kept by Sweep: %v, want %v", tc.name, kept, tc.kept)
		}
		if alive := running(sleeper.Process.Pid); alive != tc.kept {
			t.Errorf("process in %s alive after Sweep: %v, want %v", tc.name, alive, tc.kept)
		}
	}
}

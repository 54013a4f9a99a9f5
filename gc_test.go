package ndshm_test

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

func init() {
	// creator makes an owned block, says so, and waits to be killed.
	roles["creator"] = func(args []string) int {
		b, err := ndshm.Create(args[0], ndshm.Spec{DType: ndshm.Uint8, Shape: []int{8192}})
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer b.Close()
		fmt.Println("ready")
		time.Sleep(time.Minute)
		return 0
	}
}

// orphan starts a creator of an owned block and kills it with SIGKILL, so
// that nothing unlinks the block, and returns its name.
func orphan(t *testing.T) string {
	t.Helper()
	name := shmtest.Name()
	cmd := shmtest.Command("creator", name)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("creator said %q", line)
	}
	info, err := ndshm.Stat(name)
	if err != nil || !info.CreatorAlive || info.Orphan() || info.CreatorPID != cmd.Process.Pid {
		t.Errorf("live creator's block: %+v, %v", info, err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	t.Cleanup(func() { ndshm.Unlink(name) })
	return name
}

func TestGCRemovesOrphans(t *testing.T) {
	dead := orphan(t)
	info, err := ndshm.Stat(dead)
	if err != nil || info.CreatorAlive || !info.Orphan() {
		t.Fatalf("after SIGKILL: %+v, %v", info, err)
	}
	live, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	kept, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}}, ndshm.Persistent())
	if err != nil {
		t.Fatal(err)
	}
	kept.Close()
	defer ndshm.Unlink(kept.Name())
	foreign := "/dev/shm/" + shmtest.Name()
	os.WriteFile(foreign, make([]byte, 20000), 0o600)
	defer os.Remove(foreign)

	dry, err := ndshm.GC(ndshm.GCOptions{DryRun: true})
	if err != nil || len(collected(dry, dead)) != 1 || collected(dry, dead)[0].Removed {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	// Other packages' test binaries may run a GC at the same time and
	// take the orphan first: what must hold is that it is gone.
	got, err := ndshm.GC(ndshm.GCOptions{})
	if c := collected(got, dead); err != nil || len(c) > 1 || len(c) == 1 && !c[0].Removed {
		t.Fatalf("gc: %+v, %v", got, err)
	}
	for _, c := range got {
		if c.Name == live.Name() || c.Name == kept.Name() {
			t.Errorf("gc collected %s", c.Name)
		}
	}
	if _, err := ndshm.Stat(dead); err == nil {
		t.Fatal("the orphan is still there")
	}
	for _, p := range []string{"/dev/shm/" + live.Name(), "/dev/shm/" + kept.Name(), foreign} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("gc removed %s", p)
		}
	}
}

// An orphan that a live process still maps is shown with its users and
// left alone, unless forced.
func TestGCMappedOrphan(t *testing.T) {
	name := orphan(t)
	b, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := ndshm.GC(ndshm.GCOptions{})
	c := collected(got, name)
	if err != nil || len(c) != 1 || c[0].Removed || !slices.Contains(c[0].Users, os.Getpid()) {
		t.Fatalf("gc of a mapped orphan: %+v, %v", got, err)
	}
	got, err = ndshm.GC(ndshm.GCOptions{Force: true})
	if c := collected(got, name); err != nil || len(c) != 1 || !c[0].Removed {
		t.Fatalf("forced gc: %+v, %v", got, err)
	}
	b.Bytes()[0] = 1 // the mapping outlives the name
}

func collected(cs []ndshm.Collected, name string) []ndshm.Collected {
	var out []ndshm.Collected
	for _, c := range cs {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

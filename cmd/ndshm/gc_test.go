package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// gcCreator, the role "gc-creator", makes the owned block args[0], says
// so, and waits to be killed: SIGKILL leaves an orphan.
func gcCreator(args []string) int {
	b, err := ndshm.Create(args[0], ndshm.Spec{DType: ndshm.Uint8, Shape: []int{8192}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer b.Close()
	fmt.Println("ready")
	time.Sleep(time.Minute)
	return 0
}

// gcOrphan makes an orphan the hard way, a creator killed with SIGKILL,
// and returns its name and the dead creator's pid.
func gcOrphan(t *testing.T) (string, int) {
	t.Helper()
	name, pid, _ := gcOrphanMapped(t, false)
	return name, pid
}

// gcOrphanMapped makes an orphan, mapped here if mapped: mapped before
// its creator dies, so that no other process's unforced GC can take it.
// The caller closes the mapping.
func gcOrphanMapped(t *testing.T, mapped bool) (string, int, *ndshm.Block) {
	t.Helper()
	name := newName(t)
	cmd := shmtest.Command("gc-creator", name)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	var b *ndshm.Block
	if line == "ready\n" && mapped {
		b, err = ndshm.Open(name)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if line != "ready\n" || err != nil {
		t.Fatalf("creator said %q; open: %v", line, err)
	}
	return name, cmd.Process.Pid, b
}

// Other test binaries run GC too, some for a second on end: an orphan of
// ours may go to theirs before ours sees it. A test then makes another,
// and fails only if its own GC never reports one for gcPatience.
const gcPatience = 10 * time.Second

func TestGC(t *testing.T) {
	persistent := newName(t)
	makeBlock(t, persistent, ndshm.Spec{DType: ndshm.Int8, Shape: []int{3}}, func(int) int8 { return 1 })
	live, err := ndshm.Create(newName(t), ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	foreign := newName(t) // another program's segment
	if err := os.WriteFile("/dev/shm/"+foreign, make([]byte, 3*4096), 0o600); err != nil {
		t.Fatal(err)
	}
	for giveUp := time.Now().Add(gcPatience); ; {
		dead, pid := gcOrphan(t)
		dry := mustRun(t, "gc", "--dry-run")
		if !exists(dead) && time.Now().Before(giveUp) {
			continue // another test binary's GC took it
		}
		out := mustRun(t, "gc")
		if exists(dead) {
			t.Fatalf("gc left the orphan %s:\n%s", dead, out)
		}
		// header page + 8192 data bytes + footer page
		what := fmt.Sprintf("%s (16 KiB, creator pid %d dead)\n", dead, pid)
		if !strings.Contains(out, "\nremoved "+what) && !strings.HasPrefix(out, "removed "+what) && time.Now().Before(giveUp) {
			continue
		}
		if !strings.Contains(dry, "would remove "+what) || !regexp.MustCompile(`\n\d+ would be removed, .+ would be freed\n$`).MatchString(dry) {
			t.Errorf("gc --dry-run printed:\n%s", dry)
		}
		if !strings.Contains(out, "removed "+what) || !regexp.MustCompile(`(^|\n)[1-9]\d* removed, .+ freed\n$`).MatchString(out) {
			t.Errorf("gc printed:\n%s\nwant a line %q and a total", out, "removed "+what)
		}
		break
	}
	for _, name := range []string{persistent, live.Name(), foreign} {
		if !exists(name) {
			t.Errorf("gc removed %s", name)
		}
	}
}

// An orphan that a live process maps is kept, and says why; --force
// would remove it.
func TestGCKeepsMapped(t *testing.T) {
	for giveUp := time.Now().Add(gcPatience); ; {
		name, pid, b := gcOrphanMapped(t, true)
		out := mustRun(t, "gc")
		forced := mustRun(t, "gc", "--dry-run", "--force")
		b.Close()
		kept := fmt.Sprintf("kept %s: still mapped by pids %d (use --force)\n", name, os.Getpid())
		if !exists(name) && time.Now().Before(giveUp) {
			continue // another binary's forced GC
		}
		if !strings.Contains(out, kept) || !exists(name) {
			t.Errorf("gc of a mapped orphan printed:\n%s\nwant %q; exists %v", out, kept, exists(name))
		}
		if !strings.Contains(forced, fmt.Sprintf("would remove %s (16 KiB, creator pid %d dead; mapped by pids %d, freed when they unmap it)\n", name, pid, os.Getpid())) {
			t.Errorf("gc --dry-run --force printed:\n%s", forced)
		}
		return
	}
}

func TestGCJSON(t *testing.T) {
	for giveUp := time.Now().Add(gcPatience); ; {
		dead, pid := gcOrphan(t)
		mapped, _, m := gcOrphanMapped(t, true)
		dry := decodeJSON[gcJSON](t, mustRun(t, "gc", "--json", "--dry-run"))
		out := mustRun(t, "gc", "--json")
		m.Close()
		got := decodeJSON[gcJSON](t, out)
		if (find(dry.Removed, dead) == nil || find(got.Removed, dead) == nil || find(got.Kept, mapped) == nil) && time.Now().Before(giveUp) {
			continue
		}
		if j := find(dry.Removed, dead); j == nil || !dry.DryRun || dry.FreedBytes < j.FileSizeBytes || find(dry.Kept, mapped) == nil {
			t.Errorf("gc --json --dry-run: %+v", dry)
		}
		j := find(got.Removed, dead)
		if j == nil || got.DryRun || j.CreatorPID != pid || j.CreatorAlive || j.Persistent ||
			j.FileSizeBytes != 4*4096 || j.DType != "|u1" || got.FreedBytes < j.FileSizeBytes {
			t.Errorf("gc --json: %s", out)
		}
		if k := find(got.Kept, mapped); k == nil || !k.Orphan || !slices.Contains(k.Users, os.Getpid()) ||
			find(got.Removed, mapped) != nil || !exists(mapped) {
			t.Errorf("gc --json of an orphan mapped here: %s", out)
		}
		return
	}
}

func find(js []describe.Block, name string) *describe.Block {
	for i := range js {
		if js[i].Name == name {
			return &js[i]
		}
	}
	return nil
}

func TestGCUsage(t *testing.T) {
	if _, _, err := ndshmRun(t, "gc", "x"); !isUsage(err) || !strings.Contains(err.Error(), `unexpected argument "x"`) {
		t.Errorf("gc x: %v", err)
	}
	out := mustRun(t, "help", "gc")
	if !strings.HasPrefix(out, "usage: ndshm gc") || !strings.Contains(out, "--dry-run") || !strings.Contains(out, "--force") {
		t.Errorf("help gc:\n%s", out)
	}
}

// The report, from made-up GC results: every kind of line, and totals
// that count only memory actually freed.
func TestGCReport(t *testing.T) {
	orphan := func(name string, size int64, users ...int) ndshm.Collected {
		return ndshm.Collected{Info: ndshm.Info{Name: name, FileSize: size, CreatorPID: 9, Users: users}}
	}
	removed := func(c ndshm.Collected) ndshm.Collected { c.Removed = true; return c }
	got := []ndshm.Collected{
		removed(orphan("a", 256<<20+8192)), orphan("b", 4096, 4, 5),
		removed(orphan("c", 1<<20, 6)), orphan("d", 1<<20), // d: another GC was first
	}
	var w strings.Builder
	sortGC(got, ndshm.GCOptions{}).write(&w)
	want := "removed a (256 MiB, creator pid 9 dead)\n" +
		"removed c (1 MiB, creator pid 9 dead; mapped by pids 6, freed when they unmap it)\n" +
		"kept b: still mapped by pids 4,5 (use --force)\n" +
		"skipped d: removed or replaced by another process meanwhile\n" +
		"2 removed, 256 MiB freed\n"
	if w.String() != want {
		t.Errorf("gc printed:\n%s\nwant:\n%s", w.String(), want)
	}
	w.Reset()
	got = []ndshm.Collected{orphan("a", 3<<20), orphan("b", 4096, 4)}
	sortGC(got, ndshm.GCOptions{DryRun: true}).write(&w)
	want = "would remove a (3 MiB, creator pid 9 dead)\n" +
		"would keep b: still mapped by pids 4 (use --force)\n" +
		"1 would be removed, 3 MiB would be freed\n"
	if w.String() != want {
		t.Errorf("gc --dry-run printed:\n%s\nwant:\n%s", w.String(), want)
	}
	w.Reset()
	if err := sortGC(nil, ndshm.GCOptions{}).writeJSON(&w); err != nil {
		t.Fatal(err)
	}
	if m := decodeJSON[map[string]any](t, w.String()); fmt.Sprint(m) != "map[dry_run:false freed_bytes:0 kept:[] removed:[]]" {
		t.Errorf("gc --json with no orphans: %s", w.String())
	}
}

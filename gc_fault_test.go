package ndshm_test

// Faults GC must survive, with real processes and SIGKILL: creators
// killed before, after and while others map their blocks; footers whose
// pid lies; GCs racing each other and creators; readers mapping what GC
// removes. Liveness comes from the creator's lock, never from a pid.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/internal/sys"
)

// faultSpec is every fault test's block: 256 KiB of a known pattern.
var faultSpec = ndshm.Spec{DType: ndshm.Uint8, Shape: []int{256 << 10}}

// faultPattern is what every fault test's block holds.
var faultPattern = func() []byte {
	p := make([]byte, faultSpec.Size())
	for i := range p {
		p[i] = byte(i*31 + 7)
	}
	return p
}()

// faultFill is an Init option: a block is named only once it holds the
// whole pattern, so a visible block that lacks it was half-built.
func faultFill(b *ndshm.Block) error {
	copy(b.Bytes(), faultPattern)
	return nil
}

// faultBad returns the first index whose byte is not the pattern's, or
// -1. (bytes.Equal first: the race detector makes a byte loop slow.)
func faultBad(p []byte) int {
	if bytes.Equal(p, faultPattern) {
		return -1
	}
	for i := range p {
		if i >= len(faultPattern) || p[i] != faultPattern[i] {
			return i
		}
	}
	return len(p)
}

func init() {
	// fault-hold NAME: create the owned block NAME, filled, say "ready",
	// and wait to be killed (or for standard input to close).
	roles["fault-hold"] = func(args []string) int {
		b, err := ndshm.Create(args[0], faultSpec, ndshm.Init(faultFill))
		if err != nil {
			fmt.Fprintln(os.Stderr, "fault-hold:", err)
			return 1
		}
		defer b.Close()
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin) // the test kills it first, or died
		return 0
	}
	// fault-churn PREFIX: create owned blocks PREFIX-0, -1, ... as fast
	// as it can until killed, keeping the last three open (so a kill
	// leaves some, and likely a Create half-done).
	roles["fault-churn"] = func(args []string) int {
		go func() {
			io.Copy(io.Discard, os.Stdin)
			os.Exit(1) // the test died: stop making blocks
		}()
		fmt.Println("ready")
		var open [3]*ndshm.Block
		for i := 0; ; i++ {
			if b := open[i%3]; b != nil {
				b.Close()
			}
			b, err := ndshm.Create(args[0]+"-"+strconv.Itoa(i), faultSpec, ndshm.Init(faultFill))
			if err != nil {
				fmt.Fprintln(os.Stderr, "fault-churn:", err)
				return 1
			}
			open[i%3] = b
		}
	}
	roles["fault-reader"] = faultReader
	roles["fault-gc"] = faultGC
}

// fault-reader NAME...: map the blocks, check them, say "mapped", then
// check them over and over. Each line on standard input asks how it
// goes: it answers "ok LOOPS", or "bad ..." and exits 1 once a check
// failed. It exits at the end of its input.
func faultReader(args []string) int {
	var blocks []*ndshm.Block
	for _, name := range args {
		b, err := ndshm.Open(name)
		if err != nil {
			fmt.Println("open:", err)
			return 1
		}
		defer b.Close()
		blocks = append(blocks, b)
	}
	var loops atomic.Int64
	var bad atomic.Value
	var stop atomic.Bool
	done := make(chan struct{})
	defer func() { stop.Store(true); <-done }() // before the Closes: no reads after unmap
	go func() {
		defer close(done)
		for !stop.Load() {
			for _, b := range blocks {
				if i := faultBad(b.Bytes()); i >= 0 {
					bad.Store(fmt.Sprintf("bad byte %d of %s after %d loops", i, b.Name(), loops.Load()))
					return
				}
			}
			loops.Add(1)
		}
	}()
	fmt.Println("mapped")
	for sc := bufio.NewScanner(os.Stdin); sc.Scan(); {
		if msg, _ := bad.Load().(string); msg != "" {
			fmt.Println(msg)
			return 1
		}
		fmt.Println("ok", loops.Load())
	}
	return 0
}

// fault-gc: run GC over and over until standard input closes; say "ok
// RUNS REMOVED", or the first error.
func faultGC([]string) int {
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	runs, removed := 0, 0
	fmt.Println("running")
	for {
		got, err := ndshm.GC(ndshm.GCOptions{})
		if err != nil {
			fmt.Println("gc:", err)
			return 1
		}
		runs++
		for _, c := range got {
			if c.Removed {
				removed++
			}
		}
		select {
		case <-done:
			fmt.Println("ok", runs, removed)
			return 0
		default:
		}
	}
}

// A faultProc is a running child in a role.
type faultProc struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	first string // the first line it said
}

// faultStart starts a child in role and waits for its first line; the
// child is killed when the test ends if it has not ended before.
func faultStart(t *testing.T, role string, args ...string) *faultProc {
	t.Helper()
	cmd := shmtest.Command(role, args...)
	// A -race child otherwise sleeps a second at exit (GORACE's atexit_sleep_ms).
	cmd.Env = append(cmd.Env, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &faultProc{cmd: cmd, in: in, out: bufio.NewReader(out)}
	t.Cleanup(func() { p.kill() })
	p.first, _ = p.out.ReadString('\n')
	return p
}

// kill ends the child with SIGKILL, as kill -9 does, and reaps it.
func (p *faultProc) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

// finish closes the child's standard input and returns the rest of what
// it says and how it exits.
func (p *faultProc) finish() (string, error) {
	p.in.Close()
	rest, _ := io.ReadAll(p.out)
	return string(rest), p.cmd.Wait()
}

// ask sends the child a line and returns its one-line answer.
func (p *faultProc) ask() string {
	io.WriteString(p.in, "?\n")
	line, _ := p.out.ReadString('\n')
	return strings.TrimSuffix(line, "\n")
}

// readerLoops asks a fault-reader how many checks it has passed, failing
// the test if one failed.
func readerLoops(t *testing.T, r *faultProc) int {
	t.Helper()
	a := r.ask()
	n, err := strconv.Atoi(strings.TrimPrefix(a, "ok "))
	if !strings.HasPrefix(a, "ok ") || err != nil {
		t.Fatalf("reader: %q", a)
	}
	return n
}

// faultHold starts a child that creates an owned, filled block and
// holds it until killed.
func faultHold(t *testing.T) (string, *faultProc) {
	t.Helper()
	name := shmtest.Name()
	removeAtEnd(t, name)
	p := faultStart(t, "fault-hold", name)
	if p.first != "ready\n" {
		t.Fatalf("creator said %q", p.first)
	}
	return name, p
}

// faultOrphan makes a filled orphan: its creator is killed with SIGKILL.
func faultOrphan(t *testing.T) (name string, pid int) {
	t.Helper()
	name, p := faultHold(t)
	p.kill()
	return name, p.cmd.Process.Pid
}

// faultTries runs try until it returns true, for 10s at most. Other test
// binaries run GC too, some for a second on end, and may take an orphan
// of ours before our own GC sees it; try returns false then.
func faultTries(t *testing.T, try func() bool) {
	t.Helper()
	for giveUp := time.Now().Add(10 * time.Second); time.Now().Before(giveUp); {
		if try() {
			return
		}
	}
	t.Fatal("for 10s, other processes' GCs took every orphan of ours first")
}

// faultGone reports whether name is absent from /dev/shm.
func faultGone(name string) bool {
	_, err := os.Lstat(shmFile(name))
	return errors.Is(err, fs.ErrNotExist)
}

// faultPut64 overwrites the footer word at off (docs/FORMAT.md) of the
// block name, as a liar or a bug elsewhere would.
func faultPut64(t *testing.T, name string, off int64, v uint64) {
	t.Helper()
	f, err := os.OpenFile(shmFile(name), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	var w [8]byte
	binary.LittleEndian.PutUint64(w[:], v)
	if _, err := f.WriteAt(w[:], st.Size()-4096+off); err != nil {
		t.Fatal(err)
	}
}

// faultFind returns what GC said of name, nil if nothing.
func faultFind(cs []ndshm.Collected, name string) *ndshm.Collected {
	i := slices.IndexFunc(cs, func(c ndshm.Collected) bool { return c.Name == name })
	if i < 0 {
		return nil
	}
	return &cs[i]
}

// A creator killed mid-Create leaves a complete block or nothing. A churn
// child creating and closing blocks is killed at random moments; every
// block left under its names must be whole (valid, with all its data),
// an orphan, and gone after a GC.
func TestGCFaultKilledMidCreate(t *testing.T) {
	var prefixes []string
	for range 20 {
		prefix := shmtest.Name()
		prefixes = append(prefixes, prefix)
		t.Cleanup(func() { faultRemoveAll(prefix) })
		p := faultStart(t, "fault-churn", prefix)
		if p.first != "ready\n" {
			t.Fatalf("churn said %q", p.first)
		}
		time.Sleep(time.Duration(rand.IntN(20_000)) * time.Microsecond)
		p.kill()
	}
	left := 0
	for _, prefix := range prefixes {
		for _, name := range faultNames(t, prefix) {
			left++
			faultCheckWhole(t, name)
		}
	}
	t.Logf("20 killed creators left %d blocks", left)
	if _, err := ndshm.GC(ndshm.GCOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range prefixes {
		if names := faultNames(t, prefix); len(names) > 0 {
			t.Errorf("gc left %v", names)
		}
	}
}

// faultNames lists the files in /dev/shm named PREFIX-N.
func faultNames(t *testing.T, prefix string) []string {
	t.Helper()
	paths, err := filepath.Glob(shmFile(prefix) + "-*")
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		paths[i] = filepath.Base(p)
	}
	return paths
}

func faultRemoveAll(prefix string) {
	paths, _ := filepath.Glob(shmFile(prefix) + "-*")
	for _, p := range paths {
		os.Remove(p)
	}
}

// faultCheckWhole fails unless name is a valid orphan holding the whole
// pattern, or gone (another GC may have been first).
func faultCheckWhole(t *testing.T, name string) {
	t.Helper()
	info, err := ndshm.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil || !info.Orphan() {
		t.Errorf("a killed creator left %s: %+v, %v", name, info, err)
		return
	}
	b, err := ndshm.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		t.Errorf("open %s: %v", name, err)
		return
	}
	defer b.Close()
	if i := faultBad(b.Bytes()); i >= 0 {
		t.Errorf("%s is half-built: byte %d is %d", name, i, b.Bytes()[i])
	}
}

// A creator killed after Create leaves an orphan, and GC removes it.
func TestGCFaultKilledAfterCreate(t *testing.T) {
	faultTries(t, func() bool {
		name, pid := faultOrphan(t)
		info, err := ndshm.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			return false
		}
		if err != nil || !info.Orphan() || info.CreatorPID != pid || info.CreatorAlive {
			t.Fatalf("the killed creator's block: %+v, %v", info, err)
		}
		return faultCollected(t, name)
	})
}

// faultCollected runs a GC and fails unless it removed name; it returns
// false if another process's GC did so first.
func faultCollected(t *testing.T, name string) bool {
	t.Helper()
	got, err := ndshm.GC(ndshm.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := faultFind(got, name)
	if c == nil && faultGone(name) {
		return false
	}
	if c == nil || !c.Removed || !faultGone(name) {
		t.Errorf("gc of the orphan %s: %+v; gone %v", name, c, faultGone(name))
	}
	return true
}

// An orphan that another live process maps is kept without Force and
// removed with it; the mapper goes on reading its data after that.
func TestGCFaultKilledWhileMapped(t *testing.T) {
	// Mapped before its creator dies: no one else's unforced GC takes it.
	name, creator := faultHold(t)
	r := faultStart(t, "fault-reader", name)
	if r.first != "mapped\n" {
		t.Fatalf("reader said %q", r.first)
	}
	creator.kill()
	got, err := ndshm.GC(ndshm.GCOptions{})
	c := faultFind(got, name)
	if err != nil || c == nil || c.Removed || !slices.Contains(c.Users, r.cmd.Process.Pid) || faultGone(name) {
		t.Fatalf("gc of an orphan that %d maps: %+v, %v", r.cmd.Process.Pid, c, err)
	}
	got, err = ndshm.GC(ndshm.GCOptions{Force: true})
	if c := faultFind(got, name); err != nil || c == nil || !c.Removed || !faultGone(name) {
		t.Fatalf("forced gc: %+v, %v", c, err)
	}
	// The reader goes on checking the data after the unlink.
	n := readerLoops(t, r)
	for deadline := time.Now().Add(5 * time.Second); readerLoops(t, r) < n+3; {
		if time.Now().After(deadline) {
			t.Fatal("reader stopped checking")
		}
		time.Sleep(time.Millisecond)
	}
	if out, err := r.finish(); err != nil || out != "" {
		t.Errorf("reader: %q, %v", out, err)
	}
}

// A footer's pid proves nothing. A block whose footer names a live,
// unrelated process (pid and start time both right) but whose liveness
// lock nobody holds is an orphan: GC collects it.
func TestGCFaultPidReuseDead(t *testing.T) {
	live := os.Getppid() // go test, or a shell: alive and no creator of ours
	start, err := sys.StartTime(live)
	if err != nil {
		t.Fatal(err)
	}
	faultTries(t, func() bool {
		name := shmtest.Name()
		removeAtEnd(t, name)
		b, err := ndshm.Create(name, faultSpec, ndshm.Persistent())
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
		faultPut64(t, name, 24, uint64(live))
		faultPut64(t, name, 32, start)
		faultPut64(t, name, 16, 0) // flags: owned, not persistent
		info, err := ndshm.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			return false
		}
		if err != nil || !info.Orphan() || info.CreatorPID != live || info.CreatorStart != start {
			t.Fatalf("block naming live pid %d with nobody holding its lock: %+v, %v", live, info, err)
		}
		return faultCollected(t, name)
	})
}

// A block whose creator holds its lock is never collected, whatever pid
// its footer names: a dead one, a garbage one, or none.
func TestGCFaultPidReuseLive(t *testing.T) {
	name := shmtest.Name()
	removeAtEnd(t, name)
	p := faultStart(t, "fault-hold", name)
	if p.first != "ready\n" {
		t.Fatalf("creator said %q", p.first)
	}
	for _, pid := range []uint64{1<<63 - 1, 0, 1 << 63, 4194304 + 1} { // beyond pid_max, 0, negative
		faultPut64(t, name, 24, pid)
		faultPut64(t, name, 32, 0)
		info, err := ndshm.Stat(name)
		if err != nil || info.Orphan() || !info.CreatorAlive {
			t.Errorf("live creator, footer pid %d: %+v, %v", int64(pid), info, err)
		}
		dry, err1 := ndshm.GC(ndshm.GCOptions{DryRun: true, Force: true})
		got, err2 := ndshm.GC(ndshm.GCOptions{})
		if c := faultFind(append(dry, got...), name); c != nil || err1 != nil || err2 != nil || faultGone(name) {
			t.Errorf("gc of a live creator's block, footer pid %d: %+v, %v, %v", int64(pid), c, err1, err2)
		}
	}
}

// Two GCs in other processes race each other and this process, which
// keeps some blocks alive and creates and closes others, while more
// creators die. No GC errs, no live block is ever removed, and every
// orphan goes.
func TestGCFaultRacingGCs(t *testing.T) {
	var orphans []string
	for range 4 {
		name, _ := faultOrphan(t)
		orphans = append(orphans, name)
	}
	live := make([]*ndshm.Block, 3)
	for i := range live {
		live[i] = faultCreate(t, shmtest.Name())
		defer live[i].Close()
	}
	gcs := []*faultProc{faultStart(t, "fault-gc"), faultStart(t, "fault-gc")}
	for _, g := range gcs {
		if g.first != "running\n" {
			t.Fatalf("gc child said %q", g.first)
		}
	}
	n, start := 0, time.Now()
	for deaths := 0; time.Since(start) < 600*time.Millisecond; n++ {
		if time.Since(start) > time.Duration(deaths+1)*200*time.Millisecond {
			name, _ := faultOrphan(t) // a creator dies mid-race
			orphans = append(orphans, name)
			deaths++
		}
		faultChurnOnce(t)
	}
	faultWaitGone(t, orphans)
	for _, g := range gcs {
		out, err := g.finish()
		if err != nil || !strings.HasPrefix(out, "ok ") {
			t.Errorf("gc child: %q, %v", out, err)
		}
		t.Logf("gc child: runs, removed: %s", strings.TrimSpace(strings.TrimPrefix(out, "ok ")))
	}
	t.Logf("%d blocks created and closed during the race", n)
	for _, b := range live {
		faultCheckLive(t, b)
	}
}

// faultCreate makes an owned, filled block in this process.
func faultCreate(t *testing.T, name string) *ndshm.Block {
	t.Helper()
	removeAtEnd(t, name)
	b, err := ndshm.Create(name, faultSpec, ndshm.Init(faultFill))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// faultChurnOnce creates a block, checks that its name still holds it,
// and closes it. (Stat would say more, but its search of /proc for users
// takes longer than the rest of the loop.)
func faultChurnOnce(t *testing.T) {
	t.Helper()
	b := faultCreate(t, shmtest.Name())
	f, err := b.File()
	if err != nil {
		t.Fatal(err)
	}
	mine, err1 := f.Stat()
	named, err2 := os.Stat(shmFile(b.Name()))
	f.Close()
	if err1 != nil || err2 != nil || !os.SameFile(mine, named) {
		t.Fatalf("a live block lost its name: %v, %v", err1, err2)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

// faultCheckLive fails unless b, created here and open, still has its
// name, its data and a live creator.
func faultCheckLive(t *testing.T, b *ndshm.Block) {
	t.Helper()
	info, err := ndshm.Stat(b.Name())
	if err != nil || !info.CreatorAlive || info.CreatorPID != os.Getpid() {
		t.Fatalf("live block %s: %+v, %v", b.Name(), info, err)
	}
	if i := faultBad(b.Bytes()); i >= 0 {
		t.Fatalf("live block %s: byte %d changed", b.Name(), i)
	}
}

// faultWaitGone waits for GCs to remove every one of names.
func faultWaitGone(t *testing.T, names []string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, name := range names {
		for !faultGone(name) {
			if time.Now().After(deadline) {
				t.Fatalf("the orphan %s outlived the racing GCs", name)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// A reader that maps an orphan, a live creator's block and a persistent
// block keeps checking them while GCs run, forced ones too: its data
// stays intact, and only the orphan's name goes.
func TestGCFaultReaderDuringGC(t *testing.T) {
	dead, creator := faultHold(t)
	live, _ := faultHold(t)
	persistent := shmtest.Name()
	removeAtEnd(t, persistent)
	b, err := ndshm.Create(persistent, faultSpec, ndshm.Persistent(), ndshm.Init(faultFill))
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	r := faultStart(t, "fault-reader", dead, live, persistent)
	if r.first != "mapped\n" {
		t.Fatalf("reader said %q", r.first)
	}
	creator.kill() // dead is an orphan from now on, mapped by the reader
	for i := range 10 {
		before := readerLoops(t, r)
		if _, err := ndshm.GC(ndshm.GCOptions{Force: i == 5}); err != nil {
			t.Fatal(err)
		}
		if after := readerLoops(t, r); after == before && i == 5 {
			t.Logf("no check ran during the forced gc (%d loops)", after)
		}
	}
	if n := readerLoops(t, r); n < 2 {
		t.Errorf("the reader checked only %d times", n)
	}
	if out, err := r.finish(); err != nil || out != "" {
		t.Errorf("reader: %q, %v", out, err)
	}
	if !faultGone(dead) || faultGone(live) || faultGone(persistent) {
		t.Errorf("after gc: orphan gone %v, live gone %v, persistent gone %v", faultGone(dead), faultGone(live), faultGone(persistent))
	}
}

// BenchmarkGC times a GC that finds and removes n orphans. The orphans
// are made without processes: persistent blocks turned owned, whose lock
// nobody holds.
func BenchmarkGC(b *testing.B) {
	for _, n := range []int{0, 10, 100, 1000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				names := faultOrphans(b, n)
				b.StartTimer()
				got, err := ndshm.GC(ndshm.GCOptions{})
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				for _, name := range names {
					if c := faultFind(got, name); c == nil || !c.Removed {
						os.Remove(shmFile(name))
						b.Fatalf("gc did not remove %s", name)
					}
				}
				b.StartTimer()
			}
		})
	}
}

// faultOrphans makes n small orphans in this process.
func faultOrphans(b *testing.B, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = shmtest.Name()
		blk, err := ndshm.Create(names[i], ndshm.Spec{DType: ndshm.Uint8, Shape: []int{1}}, ndshm.Persistent())
		if err != nil {
			b.Fatal(err)
		}
		blk.Close()
		f, err := os.OpenFile(shmFile(names[i]), os.O_RDWR, 0)
		if err != nil {
			b.Fatal(err)
		}
		_, err = f.WriteAt(make([]byte, 8), 2*4096+16) // flags: owned
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	return names
}

package lock_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/lock"
)

// roles are what a re-executed test binary can be asked to do.
var roles = map[string]func(args []string) int{
	"hold": holdRole,
	"hist": histRole,
}

func TestMain(m *testing.M) { shmtest.Main(m, roles) }

// holdRole NAME MODE LO HI: lock the regions [LO, HI) of the named block
// (MODE w or r), say "held", and hold them until standard input closes.
func holdRole(args []string) int {
	lo, _ := strconv.Atoi(args[2])
	hi, _ := strconv.Atoi(args[3])
	b, err := ndshm.Open(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "hold:", err)
		return 1
	}
	defer b.Close()
	tab, err := lock.New(b)
	if err == nil {
		if args[1] == "w" {
			err = tab.LockRange(context.Background(), lo, hi)
		} else {
			err = tab.RLockRange(context.Background(), lo, hi)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hold:", err)
		return 1
	}
	fmt.Println("held")
	io.Copy(io.Discard, os.Stdin)
	if err := tab.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "hold:", err)
		return 1
	}
	return 0
}

// command is shmtest.Command without the race detector's one-second
// sleep at exit, which would dominate these tests' running time.
func command(role string, args ...string) *exec.Cmd {
	cmd := shmtest.Command(role, args...)
	if os.Getenv("GORACE") == "" {
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	return cmd
}

// A holder is a child process holding region locks.
type holder struct {
	cmd   *exec.Cmd
	stdin io.Closer
}

// hold starts a child that locks the regions [lo, hi) of the named block
// in mode "w" or "r", and returns once it holds them.
func hold(t *testing.T, name, mode string, lo, hi int) *holder {
	t.Helper()
	cmd := command("hold", name, mode, strconv.Itoa(lo), strconv.Itoa(hi))
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd, stdin}
	t.Cleanup(func() { h.cmd.Process.Kill(); h.cmd.Wait() })
	line := make(chan string, 1)
	go func() { s, _ := bufio.NewReader(out).ReadString('\n'); line <- s }()
	select {
	case s := <-line:
		if s != "held\n" {
			t.Fatalf("holder of %s [%d, %d) said %q", mode, lo, hi, s)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("holder of %s [%d, %d) never took its lock", mode, lo, hi)
	}
	return h
}

// release has the holder let go and exit.
func (h *holder) release(t *testing.T) {
	t.Helper()
	h.stdin.Close()
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("holder: %v", err)
	}
}

// newBlock makes a named int64 block of n elements, closed (and so
// unlinked) at the end of the test.
func newBlock(t testing.TB, n int) *ndshm.Block {
	t.Helper()
	b, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Int64, Shape: []int{n}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// newTable makes a Table for b, closed at the end of the test.
func newTable(t testing.TB, b *ndshm.Block) *lock.Table {
	t.Helper()
	tab, err := lock.New(b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tab.Close() })
	return tab
}

// within returns a context that ends after d.
func within(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

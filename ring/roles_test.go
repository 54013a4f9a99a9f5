package ring_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/ring"
)

// readRole NAME N DELAY: read frames until the stream ends, holding each
// for DELAY (a slow reader) before checking every element and releasing
// it. It prints "received missed bad torn disorder", then a bitmap of the
// N sequence numbers it received.
func readRole(args []string) int {
	n, _ := strconv.Atoi(args[1])
	delay, _ := time.ParseDuration(args[2])
	r, rd, err := subscribe(args[0])
	if err != nil {
		return fail("read", err)
	}
	defer r.Close()
	defer rd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	seen := make([]byte, (n+7)/8)
	var recv, bad, torn, disorder uint64
	for prev := int64(-1); ; {
		f, err := rd.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail("read", err)
		}
		for end := time.Now().Add(delay); time.Now().Before(end); {
		}
		if !intact(f.Bytes(), f.Seq) || f.Tag != f.Seq || f.Seq >= uint64(n) {
			bad++
		} else {
			seen[f.Seq/8] |= 1 << (f.Seq % 8)
		}
		if int64(f.Seq) <= prev {
			disorder++
		}
		prev, recv = int64(f.Seq), recv+1
		if rd.Release() != nil {
			torn++
		}
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, recv, rd.Missed(), bad, torn, disorder)
	w.Write(seen)
	return fail("read", w.Flush())
}

// holdRole NAME: subscribe ("ready"), take one frame and say "held SEQ",
// then never release it on its own. Each "check" on standard input
// reports whether the frame is intact, releases it, and reads the next
// one; standard input's end closes the reader.
func holdRole(args []string) int {
	r, rd, err := subscribe(args[0])
	if err != nil {
		return fail("hold", err)
	}
	defer r.Close()
	defer rd.Close()
	fmt.Println("ready")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f, err := rd.Next(ctx)
	if err != nil {
		return fail("hold", err)
	}
	fmt.Println("held", f.Seq)
	for in := bufio.NewScanner(os.Stdin); in.Scan(); {
		fmt.Println("intact", intact(f.Bytes(), f.Seq), f.Tag == f.Seq)
		fmt.Println("release", rd.Release())
		if f, err = rd.Next(ctx); err != nil {
			return fail("hold", err)
		}
		fmt.Println("next", f.Seq, rd.Missed())
	}
	return 0
}

func subscribe(name string) (*ring.Ring, *ring.Reader, error) {
	r, err := ring.Open(name)
	if err != nil {
		return nil, nil, err
	}
	rd, err := r.Reader()
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return r, rd, nil
}

func fail(role string, err error) int {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		return 1
	}
	return 0
}

// stdinClosed returns a flag that turns true when standard input ends.
func stdinClosed() *atomic.Bool {
	var done atomic.Bool
	go func() { io.Copy(io.Discard, os.Stdin); done.Store(true) }()
	return &done
}

// writeRole NAME COUNT END: become the ring's writer ("writer HEAD"),
// publish COUNT frames (-1: until standard input ends), then END:
//
//	close  close the writer ("closed") and exit
//	loan   loan one more frame, scribble on half of it, say "loaned SEQ"
//	       and wait to be killed (or for standard input to end)
//	wait   say "done" and wait for standard input to end, then close
func writeRole(args []string) int {
	count, _ := strconv.Atoi(args[1])
	r, err := ring.Open(args[0])
	if err != nil {
		return fail("write", err)
	}
	defer r.Close()
	w, err := r.Writer()
	if err != nil {
		return fail("write", err)
	}
	defer w.Close()
	fmt.Println("writer", r.Stat().Head)
	stop := stdinClosed()
	for i := 0; i != count && !stop.Load(); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		f, err := w.Loan(ctx)
		cancel()
		if err != nil {
			return fail("write", err)
		}
		fill(f.Bytes(), f.Seq)
		w.Publish(f.Seq)
	}
	switch args[2] {
	case "close":
		err := w.Close()
		fmt.Println("closed")
		return fail("write", err)
	case "loan":
		f, err := w.Loan(context.Background())
		if err != nil {
			return fail("write", err)
		}
		fill(f.Bytes()[:len(f.Bytes())/2], 1<<40)
		fmt.Println("loaned", f.Seq)
	case "wait":
		fmt.Println("done")
	}
	for !stop.Load() {
		time.Sleep(time.Millisecond)
	}
	return 0
}

// A child is a re-executed test binary in a role, talking in lines: the
// test writes commands to its standard input and reads what it says.
type child struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan error // the result of Wait, once
}

// start runs role with args; the test's cleanup stops it if the test
// did not, so no child outlives its test.
func start(t *testing.T, role string, args ...string) *child {
	t.Helper()
	c := &child{t: t, cmd: shmtest.Command(role, args...), lines: make(chan string, 64), done: make(chan error, 1)}
	c.stdin, _ = c.cmd.StdinPipe()
	out, _ := c.cmd.StdoutPipe()
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.done <- c.cmd.Wait()
	}()
	t.Cleanup(func() { c.kill() })
	return c
}

// expect returns the child's next line, which must start with prefix,
// failing the test if none comes within 10 s.
func (c *child) expect(prefix string) string {
	c.t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok || !strings.HasPrefix(l, prefix) {
			c.t.Fatalf("%s child said %q (ok %v), want %q…", c.cmd.Args[0], l, ok, prefix)
		}
		return l
	case <-time.After(10 * time.Second):
		c.t.Fatalf("no %q from the child within 10 s", prefix)
	}
	return ""
}

func (c *child) say(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.t.Fatal(err)
	}
}

// end closes the child's standard input, which tells every role to
// finish, and returns its exit error; it fails the test after 10 s.
func (c *child) end() error {
	c.t.Helper()
	c.stdin.Close()
	return c.wait(10 * time.Second)
}

func (c *child) wait(d time.Duration) error {
	c.t.Helper()
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		return err
	case <-time.After(d):
		c.kill()
		c.t.Fatalf("child did not exit within %v", d)
	}
	return nil
}

// kill sends SIGKILL and reaps the child: the fault the tests inject.
func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.stdin.Close()
	for range c.lines { // so the reading goroutine reaches Wait
	}
	err := <-c.done
	c.done <- err
}

// spawn starts role with args and returns a function that waits for it
// and returns what it wrote; that fails the test if the child fails or
// takes longer than d in all.
func spawn(t *testing.T, d time.Duration, role string, args ...string) func() []byte {
	t.Helper()
	var out bytes.Buffer
	cmd := shmtest.Command(role, args...)
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var late atomic.Bool
	timer := time.AfterFunc(d, func() { late.Store(true); cmd.Process.Kill() })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done; done <- nil })
	return func() []byte {
		t.Helper()
		err := <-done
		done <- err
		timer.Stop()
		if late.Load() {
			t.Fatalf("%s %v: killed after %v", role, args, d)
		}
		if err != nil {
			t.Fatalf("%s %v: %v", role, args, err)
		}
		return out.Bytes()
	}
}

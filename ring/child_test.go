package ring_test

import (
	"bufio"
	"bytes"
	"io"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/shmtest"
)

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

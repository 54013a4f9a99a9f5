package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/server"
)

func init() {
	// serve runs a server on the socket args[0] holding the block args[1]
	// loaded from the .npy file args[2], says "ready", and serves until
	// it is killed.
	roles["serve"] = func(args []string) int {
		srv := &server.Server{Socket: args[0], GCInterval: -1}
		f, err := os.Open(args[2])
		if err == nil {
			err = srv.Load(args[1], f)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		go func() {
			for { // ready once the socket answers
				if c, err := server.Dial(args[0]); err == nil {
					c.Close()
					fmt.Println("ready")
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
		if err := srv.Serve(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	// creator makes the owned block args[0], says "ready", and waits to
	// be killed.
	roles["creator"] = func(args []string) int {
		if _, err := ndshm.Create(args[0], ndshm.Spec{DType: ndshm.Uint8, Shape: []int{4096}}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("ready")
		select {}
	}
}

// startReady starts cmd and waits for it to print "ready". A child
// still running when the test ends is killed.
func startReady(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("%s said %q", cmd.Args, line)
	}
}

// A server killed with SIGKILL leaves its blocks as orphans, which GC
// removes, and its socket, which the next server replaces.
func TestKilledServer(t *testing.T) {
	srv := newServer(t)
	name := shmtest.Name()
	cmd := command("serve", srv.Socket, name, writeNPY(t, 1<<16))
	startReady(t, cmd)
	t.Cleanup(func() { ndshm.Unlink(name) })
	info, err := dial(t, srv.Socket).Stat(name)
	if err != nil || info.CreatorPID != cmd.Process.Pid || !info.CreatorAlive || info.Orphan() {
		t.Fatalf("the served block: %+v, %v", info, err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	info, err = ndshm.Stat(name)
	if err != nil || !info.Orphan() || info.CreatorAlive || len(info.Users) != 0 {
		t.Fatalf("after SIGKILL: %+v, %v; want an orphan nobody maps", info, err)
	}
	got, err := ndshm.GC(ndshm.GCOptions{})
	removed := false
	for _, c := range got {
		removed = removed || c.Name == name && c.Removed
	}
	if !removed || err != nil {
		t.Errorf("gc did not remove the killed server's block: %+v, %v", got, err)
	}
	if _, err := ndshm.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after gc: %v", err)
	}
	if _, err := os.Lstat(srv.Socket); err != nil {
		t.Fatalf("the killed server's socket is gone (%v): nothing to replace", err)
	}
	stop := start(t, srv) // on the stale socket
	if _, err := dial(t, srv.Socket).List(); err != nil {
		t.Errorf("server on a stale socket: %v", err)
	}
	if err := stop(); err != nil {
		t.Error(err)
	}
}

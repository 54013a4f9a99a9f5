package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ndshm mirror, from serve --flight with a token, feeds a local ring that ring recv --verify reads while
// ring send feeds the remote one; SIGINT ends it with status 0, its
// counts, and the local ring it made removed.
func TestMirrorCommand(t *testing.T) {
	bin := builtNdshm(t)
	remote, local := newName(t), newName(t)
	mustRun(t, "ring", "create", remote, "--dtype", "u2", "--shape", "256,256", "--slots", "4")
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- run(ctx, []string{"serve", "--socket", filepath.Join(t.TempDir(), "s.sock"), "--gc-interval", "0",
			"--flight", addr, "--flight-token", "tok"}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(end) {
			t.Fatalf("serve --flight %s: not listening after 20s", addr)
		}
	}

	cmd := exec.Command(bin, "mirror", "grpc://"+addr+"/"+remote, local, "--token", "tok", "--json")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for end := time.Now().Add(20 * time.Second); !exists(local) || !subscribed(remote, 1)(0); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no local ring after 20s; stderr %q", stderr.String())
		}
	}
	recv := make(chan string, 1)
	go func() {
		out, errOut, err := ndshmRun(t, "ring", "recv", local, "--frames", "50", "--verify", "--timeout", "20s", "--json")
		if err != nil {
			t.Errorf("ring recv: %v: %s", err, errOut)
		}
		recv <- out
	}()
	for end := time.Now().Add(20 * time.Second); !subscribed(local, 1)(0) && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	mustRun(t, "ring", "send", remote, "--frames", "50")
	got := decodeJSON[map[string]any](t, <-recv)
	if got["frames"] != 50.0 || got["torn"] != 0.0 || got["lost"] != 0.0 {
		t.Errorf("ring recv of the local ring: %v", got)
	}
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("mirror after SIGINT: exit %d, want 0; stderr %q", code, stderr.String())
	}
	rep := decodeJSON[map[string]any](t, stdout.String())
	if rep["frames"] != 50.0 || rep["lost"] != 0.0 || rep["received_bytes"] != float64(50*256*256*2) {
		t.Errorf("mirror --json: %v", rep)
	}
	if _, err := os.Lstat("/dev/shm/" + local); err == nil {
		t.Errorf("mirror left the local ring it made")
	}
}

func TestMirrorUsage(t *testing.T) {
	for _, args := range [][]string{
		{"mirror", "http://127.0.0.1:1/r", "l"},
		{"mirror", "grpc://127.0.0.1/r", "l"},
		{"mirror", "grpc://127.0.0.1:1/", "l"},
		{"mirror", "grpc://127.0.0.1:1/a/b", "l"},
		{"mirror", "grpc://127.0.0.1:1/r"},
		{"mirror", "grpc://127.0.0.1:1/r", "l", "--slots", "-1"},
	} {
		if _, _, err := ndshmRun(t, args...); !isUsage(err) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
)

// freePort returns a loopback address that was free a moment ago.
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestPullPushCLI runs serve --flight in-process, pulls a block from it
// and pushes one to it, which the server then owns.
func TestPullPushCLI(t *testing.T) {
	src, local, remote := newName(t), newName(t), newName(t)
	want := makeBlock(t, src, ndshm.Spec{DType: ndshm.Int32, Shape: []int{1000, 3}}, func(i int) int32 { return int32(i * 7) })
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var serveErr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--socket", filepath.Join(t.TempDir(), "s.sock"), "--gc-interval", "0",
			"--flight", addr, "--flight-token", "tok"}, strings.NewReader(""), &bytes.Buffer{}, &serveErr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, &serveErr)
		}
		if exists(remote) {
			t.Errorf("the pushed block %s outlived the server", remote)
		}
	}()
	waitFlight(t, addr, "tok", src)
	url := "grpc://" + addr + "/" + src
	if _, _, err := ndshmRun(t, "pull", url, local, "--token", "nope"); err == nil || exists(local) {
		t.Errorf("pull with a wrong token: %v", err)
	}
	out := mustRun(t, "pull", url, local, "--token", "tok", "--json")
	if got := decodeJSON[map[string]any](t, out); got["name"] != local || got["dtype"] != "<i4" {
		t.Errorf("pull --json: %s", out)
	}
	b, err := ndshm.Open(local)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ndshm.View[int32](b)
	xs, _ := a.Flat()
	for i := range xs {
		if xs[i] != want[i] {
			t.Fatalf("pulled element %d is %d, want %d", i, xs[i], want[i])
		}
	}
	b.Close()
	out = mustRun(t, "push", local, "grpc://"+addr+"/"+remote, "--token", "tok", "--json")
	if got := decodeJSON[map[string]any](t, out); got["name"] != local || got["size_bytes"] != float64(12000) || got["url"] != "grpc://"+addr+"/"+remote {
		t.Errorf("push --json: %s", out)
	}
	info, err := ndshm.Stat(remote)
	if err != nil || info.Persistent || !info.CreatorAlive {
		t.Errorf("pushed block: %+v, %v; want the server's own", info, err)
	}
}

// waitFlight waits up to 10s for the Flight server at addr to describe name.
func waitFlight(t *testing.T, addr, token, name string) {
	t.Helper()
	c, err := flight.Dial(addr, flight.DialOptions{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err = c.Info(context.Background(), name); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Flight server on %s after 10s: %v", addr, err)
		}
	}
}

func TestServeFlightRefusesPlaintext(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "s.sock")
	_, _, err := ndshmRun(t, "serve", "--socket", socket, "--flight", "0.0.0.0:0")
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("serve --flight 0.0.0.0:0: %v, want a refusal", err)
	}
	for _, args := range [][]string{
		{"pull", "grpc://198.18.0.1:1/x"},
		{"pull", "http://127.0.0.1:1/x"},
		{"pull", "grpc://127.0.0.1:1"},
	} {
		if _, _, err := ndshmRun(t, args...); err == nil {
			t.Errorf("ndshm %s: no error", strings.Join(args, " "))
		}
	}
}

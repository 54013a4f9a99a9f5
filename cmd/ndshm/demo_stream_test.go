package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/demo"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// The demo's streaming stage, small: every consumer of either channel
// gets every frame sent, intact, and the table says so.
func TestDemoStream(t *testing.T) {
	numpy := exec.Command("/usr/bin/python3", "-c", "import numpy").Run() == nil
	if os.Getenv("CI") != "" {
		shmtest.Python(t) // in CI the Python consumer must run, not be replaced
	}
	var out bytes.Buffer
	s := demo.StreamSpec{Frame: []int{1024, 1024}, FPS: 30, Duration: 500 * time.Millisecond, Slots: 3}
	runs, err := demo.Stream(context.Background(), &out, s)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	// How many frames each channel managed in the time is the machine's
	// business; that every consumer got every one is the stage's.
	if len(runs) != 2 || runs[0].Sent < 1 || runs[1].Sent < 1 {
		t.Fatalf("runs %+v\n%s", runs, out.String())
	}
	for _, r := range runs {
		if len(r.Consumers) != 2 {
			t.Fatalf("%s: %d consumers", r.Channel, len(r.Consumers))
		}
		for _, c := range r.Consumers {
			if c.Frames != r.Sent || c.Lost != 0 || c.Torn != 0 || c.Dup != 0 || c.P50 <= 0 || c.CPU <= 0 {
				t.Errorf("%s: %s: %+v, sent %d", r.Channel, c.Who, c, r.Sent)
			}
		}
	}
	if py := runs[0].Consumers[1].Who; numpy != strings.HasPrefix(py, "Python") {
		t.Errorf("numpy %v, yet the ring's second consumer is %q", numpy, py)
	}
	for _, want := range []string{"same stream, two channels", "ndshm ring: writer, in place",
		"unix sockets: Go consumer 2", "fps of 30"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the stage's output lacks %q:\n%s", want, out.String())
		}
	}
}

// An interrupted stage leaves neither its ring nor a consumer behind.
func TestDemoStreamInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	s := demo.StreamSpec{Frame: []int{64, 1024}, FPS: 30, Duration: time.Minute, Slots: 2}
	time.AfterFunc(300*time.Millisecond, cancel)
	if _, err := demo.Stream(ctx, &out, s); err == nil {
		t.Fatalf("the stage ignored the interrupt:\n%s", out.String())
	}
	if name := fmt.Sprintf("ndshm-demo-ring-%d", os.Getpid()); exists(name) {
		t.Errorf("the interrupted stage left %s", name)
	}
	if kids := shmtest.Children(); len(kids) > 0 {
		t.Errorf("the interrupted stage left processes %v", kids)
	}
}

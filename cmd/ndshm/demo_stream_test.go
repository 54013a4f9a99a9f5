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

	"github.com/ndshm/ndshm/internal/shmtest"
)

// The demo's streaming stage, small: every consumer of either channel
// gets every frame sent, intact, and the table says so.
func TestDemoStream(t *testing.T) {
	numpy := exec.Command(python, "-c", "import numpy").Run() == nil
	if os.Getenv("CI") != "" {
		shmtest.Python(t) // in CI the Python consumer must run, not be replaced
	}
	var out bytes.Buffer
	s := streamSpec{frame: []int{1024, 1024}, fps: 30, dur: 500 * time.Millisecond, slots: 3}
	runs, err := streamStage(context.Background(), &out, s)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	// How many frames each channel managed in the time is the machine's
	// business; that every consumer got every one is the stage's.
	if len(runs) != 2 || runs[0].sent < 1 || runs[1].sent < 1 {
		t.Fatalf("runs %+v\n%s", runs, out.String())
	}
	for _, r := range runs {
		if len(r.consumers) != 2 {
			t.Fatalf("%s: %d consumers", r.channel, len(r.consumers))
		}
		for _, c := range r.consumers {
			if c.Frames != r.sent || c.Lost != 0 || c.Torn != 0 || c.Dup != 0 || c.P50 <= 0 || c.cpu <= 0 {
				t.Errorf("%s: %s: %+v, sent %d", r.channel, c.who, c, r.sent)
			}
		}
	}
	if py := runs[0].consumers[1].who; numpy != strings.HasPrefix(py, "Python") {
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
	s := streamSpec{frame: []int{64, 1024}, fps: 30, dur: time.Minute, slots: 2}
	time.AfterFunc(300*time.Millisecond, cancel)
	if _, err := streamStage(ctx, &out, s); err == nil {
		t.Fatalf("the stage ignored the interrupt:\n%s", out.String())
	}
	if name := fmt.Sprintf("ndshm-demo-ring-%d", os.Getpid()); exists(name) {
		t.Errorf("the interrupted stage left %s", name)
	}
	if kids := shmtest.Children(); len(kids) > 0 {
		t.Errorf("the interrupted stage left processes %v", kids)
	}
}

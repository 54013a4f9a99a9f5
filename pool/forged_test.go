package pool

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// A partition outside its array is refused before anything is written:
// by the parent's proof, and by a worker, should one ever be sent it.
func TestPartitionOutsideArray(t *testing.T) {
	p, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	b, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Float64, Shape: []int{10}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p.mu.Lock()
	c, err := p.prepare(false, b, nil, "fill=5")
	p.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []part{{5, 15}, {-1, 3}, {6, 4}, {10, 11}} {
		if err := checkParts([]part{bad}, 10); !errors.Is(err, errRange) {
			t.Errorf("checkParts accepted %v", bad)
		}
		pr, err := p.live(0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = pr.run(context.Background(), c, bad, 0)
		if err == nil || !strings.Contains(err.Error(), "partition outside the array") || pr.broken {
			t.Errorf("worker ran %v: %v", bad, err)
		}
	}
	for i, x := range b.Bytes() {
		if x != 0 {
			t.Fatalf("byte %d was written", i)
		}
	}
}

// A worker distrusts its pool too: a frame it cannot read ends it, with
// exit status 1 and the reason on standard error.
func TestWorkerRefusesGarbage(t *testing.T) {
	p, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, frame := range [][]byte{
		[]byte("garbage"),
		{version, typeTask, 9, 4}, // short
		encodeAttach(1, "no descriptor"),
	} {
		pr, err := p.live(0)
		if err != nil {
			t.Fatal(err)
		}
		if err := pr.send(frame, nil); err != nil {
			t.Fatal(err)
		}
		if !pr.waitExit(5*time.Second) || exitText(pr) != "exit status 1" {
			t.Errorf("after % x the worker is %s", frame, exitText(pr))
		}
		pr.broken = true // p.live replaces it
	}
}

package ring

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// A reader counts for WaitReaders only once its join has set its next:
// one counted while still joining could miss the frames a writer
// publishes right after WaitReaders returned, without counting them as
// missed. Place 1 is made to look mid-join (active, not positioned).
func TestWaitReadersCountsPositioned(t *testing.T) {
	name := shmtest.Name()
	r, err := Create(name, Config{DType: ndshm.Uint8, Frame: []int{8}, Slots: 4, Readers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rd, err := r.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if err := r.WaitReaders(context.Background(), 1); err != nil {
		t.Fatalf("a joined reader: %v", err)
	}
	joining := r.c.reader(1, rState)
	joining.Store(uint64(os.Getpid())<<32 | stateActive)
	defer joining.Store(0)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.WaitReaders(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Go WaitReaders(2) with one reader mid-join = %v, want it to time out", err)
	}
	script := "import sys, ndshm\n" +
		"r = ndshm.Ring(sys.argv[1])\n" +
		"try:\n    r.wait_readers(2, timeout=0.05)\n    print('returned')\n" +
		"except TimeoutError as e:\n    print('timeout', e)\n" +
		"r.wait_readers(1, timeout=5)\nr.close()\n"
	out, err := shmtest.PythonCommand(t, "-c", script, name).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "timeout") {
		t.Errorf("Python wait_readers(2) with one reader mid-join: %s (%v), want a timeout", out, err)
	}
}

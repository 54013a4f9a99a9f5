package main

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ndshm/ndshm/ring"
)

// top, not on a terminal, prints one snapshot: the ring among the
// blocks, its frames a second while a writer publishes, and its reader
// with this pid, its lag and its misses.
func TestTopSnapshot(t *testing.T) {
	name := newName(t)
	mustRun(t, "ring", "create", name, "--dtype", "u1", "--shape", "16", "--slots", "4", "--policy", "overwrite")
	r := subscribe(t, name)
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { publish(ctx, t, w) })
	out, _, err := ndshmRun(t, "top", "--interval", "300ms")
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatalf("ndshm top: %v", err)
	}
	if strings.Contains(out, "\033[") {
		t.Errorf("top to a pipe cleared the screen: %q", out)
	}
	if !regexp.MustCompile(`(?m)^` + name + `\s+ring\s+\|u1\s+\(4, 16\)\s+.*\s` + strconv.Itoa(os.Getpid()) + `\s*$`).MatchString(out) {
		t.Errorf("top does not list the ring with its user:\n%s", out)
	}
	m := regexp.MustCompile(`frames/s: ([0-9.]+)\nring ` + name + `:`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("top shows no rate for the ring:\n%s", out)
	}
	if fps, _ := strconv.ParseFloat(m[1], 64); fps < 10 {
		t.Errorf("top shows %v frames/s; the writer publishes ~200", fps)
	}
	// The reader read nothing: it lags, and with overwrite it misses.
	row := regexp.MustCompile(`(?m)^\s*0\s+` + strconv.Itoa(os.Getpid()) + `\s+yes\s+(\d+)\s+(\d+)\s+-\s+(\d+)\s+0\s*$`).FindStringSubmatch(out)
	if row == nil {
		t.Fatalf("top shows no row for the reader:\n%s", out)
	}
	if lag, _ := strconv.Atoi(row[2]); lag == 0 {
		t.Errorf("reader lag 0 after frames it never read:\n%s", out)
	}
}

// publish publishes frames every 5ms until ctx is done.
func publish(ctx context.Context, t *testing.T, w *ring.Writer) {
	for i := uint64(0); ctx.Err() == nil; i++ {
		if _, err := w.Loan(ctx); err != nil {
			if ctx.Err() == nil {
				t.Error(err)
			}
			return
		}
		if err := w.Publish(i); err != nil {
			t.Error(err)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTopUsage(t *testing.T) {
	for _, args := range [][]string{{"top", "x"}, {"top", "--interval", "0"}, {"top", "--interval", "-1s"}} {
		if _, _, err := ndshmRun(t, args...); !isUsage(err) {
			t.Errorf("ndshm %q: %v, want a usage error", args, err)
		}
	}
}

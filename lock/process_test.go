package lock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ndshm/ndshm/lock"
)

func TestWriteLockExcludesOtherProcess(t *testing.T) {
	b := newBlock(t, 8)
	tab := newTable(t, b)
	h := hold(t, b.Name(), "w", 3, 4)

	if ok, err := tab.TryLock(3); ok || err != nil {
		t.Fatalf("TryLock of a region another process write-locks: %v, %v", ok, err)
	}
	if ok, err := tab.TryRLock(3); ok || err != nil {
		t.Fatalf("TryRLock of a region another process write-locks: %v, %v", ok, err)
	}
	start := time.Now()
	if err := tab.Lock(within(t, 50*time.Millisecond), 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock: %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("Lock gave up after %v, before its deadline", d)
	}
	if err := tab.RLock(within(t, 20*time.Millisecond), 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("RLock: %v, want deadline exceeded", err)
	}
	// A range overlapping the held region is refused whole: region 0
	// stays free for another process.
	if err := tab.LockRange(within(t, 20*time.Millisecond), 0, 8); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockRange: %v, want deadline exceeded", err)
	}
	if err := tab.Unlock(0); !errors.Is(err, lock.ErrNotLocked) {
		t.Errorf("Unlock of region 0 after a failed range: %v", err)
	}
	hold(t, b.Name(), "w", 0, 1).release(t)

	// Neighbouring regions are independent.
	for _, r := range []int{2, 4} {
		if err := tab.Lock(within(t, time.Second), r); err != nil {
			t.Fatalf("Lock(%d) beside a held region: %v", r, err)
		}
		if err := tab.Unlock(r); err != nil {
			t.Fatal(err)
		}
	}
	h.release(t)
	if err := tab.Lock(within(t, 5*time.Second), 3); err != nil {
		t.Fatalf("Lock after the holder released: %v", err)
	}
}

func TestReadLocksShareAcrossProcesses(t *testing.T) {
	b := newBlock(t, 8)
	tab := newTable(t, b)
	h1 := hold(t, b.Name(), "r", 2, 6)

	if ok, err := tab.TryRLock(3); !ok || err != nil {
		t.Fatalf("TryRLock beside another process's reader: %v, %v", ok, err)
	}
	h2 := hold(t, b.Name(), "r", 3, 4) // a third reader
	if err := tab.RUnlock(3); err != nil {
		t.Fatal(err)
	}
	if ok, err := tab.TryLock(3); ok || err != nil {
		t.Fatalf("TryLock of a region other processes read-lock: %v, %v", ok, err)
	}
	h1.release(t)
	if ok, _ := tab.TryLock(3); ok {
		t.Fatal("TryLock while one reader remains")
	}
	if ok, _ := tab.TryLock(2); !ok {
		t.Fatal("TryLock of a region its only reader released")
	}
	h2.release(t)
	if ok, err := tab.TryLock(3); !ok || err != nil {
		t.Fatalf("TryLock after every reader left: %v, %v", ok, err)
	}
}

func TestKilledHolderReleases(t *testing.T) {
	b := newBlock(t, 8)
	tab := newTable(t, b)
	h := hold(t, b.Name(), "w", 5, 6)

	done := make(chan error, 1)
	go func() { done <- tab.Lock(within(t, 30*time.Second), 5) }()
	time.Sleep(100 * time.Millisecond) // long enough to reach the polling cap
	select {
	case err := <-done:
		t.Fatalf("Lock returned %v while the holder lives", err)
	default:
	}
	killed := time.Now()
	h.cmd.Process.Kill()
	if err := <-done; err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	d := time.Since(killed)
	t.Logf("lock taken %v after SIGKILL of its holder", d)
	if d > time.Second {
		t.Errorf("lock taken %v after SIGKILL of its holder, want promptly", d)
	}
	h.cmd.Wait()
}

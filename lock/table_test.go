package lock_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/lock"
)

// Goroutines sharing one Table exclude one another: the race detector
// checks that a plain counter is only ever touched under the lock.
func TestGoroutinesExclude(t *testing.T) {
	tab := newTable(t, newBlock(t, 1))
	ctx := context.Background()
	counter := 0
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				var err error
				if (g+i)%3 == 0 { // ranges and single regions exclude alike
					err = tab.LockRange(ctx, 0, 3)
				} else {
					err = tab.Lock(ctx, 0)
				}
				if err != nil {
					t.Error(err)
					return
				}
				counter++
				if (g+i)%3 == 0 {
					err = tab.UnlockRange(0, 3)
				} else {
					err = tab.Unlock(0)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if counter != 8000 {
		t.Fatalf("counter = %d, want 8000", counter)
	}
}

// Readers of one Table share a region; its writer excludes them.
func TestReadersShareWriterExcludes(t *testing.T) {
	tab := newTable(t, newBlock(t, 1))
	ctx := context.Background()
	var pair [2]int // the writer keeps pair[0] == pair[1]
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 500 {
				if g%3 == 0 {
					tab.Lock(ctx, 1)
					pair[0]++
					pair[1]++
					tab.Unlock(1)
					continue
				}
				tab.RLock(ctx, 1)
				if pair[0] != pair[1] {
					t.Errorf("reader saw a half-done write: %v", pair)
				}
				if i == 0 { // another reader can join
					if ok, err := tab.TryRLock(1); !ok || err != nil {
						t.Errorf("second TryRLock: %v, %v", ok, err)
					}
					tab.RUnlock(1)
				}
				tab.RUnlock(1)
			}
		})
	}
	wg.Wait()
	if pair != [2]int{1000, 1000} {
		t.Fatalf("pair = %v, want 1000 writes", pair)
	}
}

// Two Tables in one process exclude each other through the kernel; the
// counter lives in the block, where the race detector cannot look, so
// only a lost update can fail this.
func TestTablesExclude(t *testing.T) {
	b := newBlock(t, 1)
	a, err := ndshm.View[int64](b)
	if err != nil {
		t.Fatal(err)
	}
	p := a.Addr(0)
	tabs := []*lock.Table{newTable(t, b), newTable(t, b)}
	var wg sync.WaitGroup
	for g := range 4 {
		tab := tabs[g%2]
		wg.Go(func() {
			for range 2000 {
				if err := tab.Lock(context.Background(), 7); err != nil {
					t.Error(err)
					return
				}
				v := *p
				for range g * 10 { // widen the window a lost update needs
					v = *p
				}
				*p = v + 1
				tab.Unlock(7)
			}
		})
	}
	wg.Wait()
	if *p != 8000 {
		t.Fatalf("counter = %d, want 8000", *p)
	}
}

// TestDoneContextDoesNotWait: a context that ends, or has ended, ends
// a wait for a region held by the same Table with its error.
func TestDoneContextDoesNotWait(t *testing.T) {
	tab := newTable(t, newBlock(t, 1))
	if err := tab.Lock(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if err := tab.Lock(within(t, 20*time.Millisecond), 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock of a region this Table holds: %v, want deadline exceeded", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tab.RLock(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("RLock with a cancelled context: %v", err)
	}
}

// TestContextEndsWait proves that a waiter waits: it has not returned a
// while after it started, and returns promptly once the holder releases
// the region (nil) or its context is cancelled (context.Canceled). The
// holder is the waiter's own Table, whose release wakes it, or another
// Table (another open file description, as another process would hold
// it), which it polls. Then a third Table checks that the waiter holds
// the region as it asked if it got it, and nothing if it was cancelled.
func TestContextEndsWait(t *testing.T) {
	for _, tc := range []struct {
		name    string
		other   bool // the waiter uses another Table than the holder
		release bool // the holder releases; otherwise the waiter's context is cancelled
		read    bool // the waiter read-locks
		want    error
	}{
		{name: "same table, release", release: true},
		{name: "same table, cancel", want: context.Canceled},
		{name: "same table, read, release", read: true, release: true},
		{name: "other table, release", other: true, release: true},
		{name: "other table, cancel", other: true, want: context.Canceled},
		{name: "other table, read, cancel", other: true, read: true, want: context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBlock(t, 1)
			holder := newTable(t, b)
			waiter := holder
			if tc.other {
				waiter = newTable(t, b)
			}
			if err := holder.Lock(context.Background(), 0); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			wait := mustBlock(t, func() error {
				if tc.read {
					return waiter.RLock(ctx, 0)
				}
				return waiter.Lock(ctx, 0)
			})
			if tc.release {
				if err := holder.Unlock(0); err != nil {
					t.Fatal(err)
				}
			} else {
				cancel()
			}
			if err := wait(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("waiter after the %s: %v, want %v", map[bool]string{true: "release", false: "cancel"}[tc.release], err, tc.want)
			}
			// What the waiter holds now, seen from another open file
			// description: the region as it asked (read-locked: shared) if
			// it got it; if cancelled, nothing once the holder lets go.
			probe := newTable(t, b)
			if !tc.release {
				if err := holder.Unlock(0); err != nil {
					t.Fatal(err)
				}
			}
			shared, err := probe.TryRLock(0)
			if err != nil {
				t.Fatal(err)
			}
			if shared {
				if err := probe.RUnlock(0); err != nil {
					t.Fatal(err)
				}
			}
			free, err := probe.TryLock(0)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case !tc.release && (!shared || !free):
				t.Errorf("a cancelled waiter left the region held: read-lockable %v, lockable %v", shared, free)
			case tc.release && (shared != tc.read || free):
				t.Errorf("a waiter that got the region (read %v) leaves it read-lockable %v, lockable %v", tc.read, shared, free)
			}
		})
	}
}

// How long a waiter must stay blocked to count as waiting, and how soon
// it must return once released or cancelled.
const (
	quiescent = 50 * time.Millisecond
	prompt    = 2 * time.Second
)

// mustBlock runs f in a goroutine and fails the test unless f is still
// running after quiescent: it must be waiting. The returned function
// returns f's result, failing the test if f takes longer than prompt.
func mustBlock(t *testing.T, f func() error) (wait func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		t.Fatalf("waiter returned %v before the release or cancel: it did not wait", err)
	case <-time.After(quiescent):
	}
	return func() error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(prompt):
			t.Fatalf("waiter still blocked %v after the release or cancel", prompt)
			return nil
		}
	}
}

func TestRanges(t *testing.T) {
	b := newBlock(t, 1)
	tab, other := newTable(t, b), newTable(t, b)
	ctx := context.Background()
	if err := tab.LockRange(ctx, 0, 4); err != nil {
		t.Fatal(err)
	}
	if err := tab.Unlock(1); err != nil { // one region of a range
		t.Fatal(err)
	}
	want := map[int]bool{0: false, 1: true, 2: false, 3: false, 4: true}
	for r, free := range want {
		if ok, err := other.TryLock(r); ok != free || err != nil {
			t.Errorf("TryLock(%d) = %v, %v; want %v", r, ok, err, free)
		} else if ok {
			other.Unlock(r)
		}
	}
	if err := tab.UnlockRange(0, 4); !errors.Is(err, lock.ErrNotLocked) {
		t.Fatalf("UnlockRange over a released region: %v", err)
	}
	if ok, _ := other.TryLock(0); ok {
		t.Fatal("a failed UnlockRange released region 0")
	}
	if err := tab.Unlock(0); err != nil {
		t.Fatal(err)
	}
	if err := tab.UnlockRange(2, 4); err != nil {
		t.Fatal(err)
	}
	// Read counts: the last reader of a region releases it.
	tab.RLock(ctx, 1)
	if err := tab.RLockRange(ctx, 0, 3); err != nil {
		t.Fatal(err)
	}
	if err := tab.RUnlockRange(0, 3); err != nil {
		t.Fatal(err)
	}
	if ok, _ := other.TryLock(1); ok {
		t.Fatal("region 1 released while a reader remains")
	}
	if ok, _ := other.TryLock(0); !ok {
		t.Fatal("region 0 still held after its only reader left")
	}
}

// The regions at both ends of the numbering work.
func TestExtremeRegions(t *testing.T) {
	b := newBlock(t, 1)
	tab, other := newTable(t, b), newTable(t, b)
	for _, r := range []int{0, lock.MaxRegions - 1} {
		if ok, err := tab.TryLock(r); !ok || err != nil {
			t.Fatalf("TryLock(%d): %v, %v", r, ok, err)
		}
		if ok, err := other.TryRLock(r); ok || err != nil {
			t.Fatalf("other TryRLock(%d): %v, %v", r, ok, err)
		}
	}
}

// Region locks do not touch the liveness lock that tells others the
// block's creator lives.
func TestLivenessUntouched(t *testing.T) {
	b := newBlock(t, 1)
	tab := newTable(t, b)
	if err := tab.LockRange(context.Background(), 0, 64); err != nil {
		t.Fatal(err)
	}
	tab.Close()
	if info, err := ndshm.Stat(b.Name()); err != nil || !info.CreatorAlive {
		t.Fatalf("after locking and closing a Table: %+v, %v", info, err)
	}
}

func TestErrors(t *testing.T) {
	b := newBlock(t, 1)
	tab := newTable(t, b)
	ctx := context.Background()
	bad := []error{
		tab.Lock(ctx, -1),
		tab.RLock(ctx, lock.MaxRegions),
		tab.LockRange(ctx, 5, 5),
		tab.RLockRange(ctx, 5, 4),
		tab.LockRange(ctx, 0, lock.MaxRegions+1),
		tab.Unlock(-1),
		tab.RUnlockRange(-2, 0),
	}
	_, err := tab.TryLock(-1)
	bad = append(bad, err)
	for i, err := range bad {
		if !errors.Is(err, lock.ErrBadRegion) {
			t.Errorf("bad region %d: %v", i, err)
		}
	}

	tab.Lock(ctx, 3)
	tab.RLock(ctx, 4)
	unheld := []error{
		tab.Unlock(2),
		tab.RUnlock(2),
		tab.RUnlock(3), // write-locked, not read-locked
		tab.Unlock(4),  // read-locked, not write-locked
		tab.UnlockRange(3, 5),
	}
	for i, err := range unheld {
		if !errors.Is(err, lock.ErrNotLocked) {
			t.Errorf("release %d: %v, want ErrNotLocked", i, err)
		}
	}
	if tab.Unlock(3) != nil || tab.RUnlock(4) != nil {
		t.Fatal("a failed release changed the locks")
	}
}

func TestClose(t *testing.T) {
	b := newBlock(t, 1)
	tab, other := newTable(t, b), newTable(t, b)
	ctx := context.Background()
	tab.Lock(ctx, 0)
	done := make(chan error, 1)
	go func() { done <- tab.Lock(ctx, 0) }()
	time.Sleep(10 * time.Millisecond)
	if err := tab.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, os.ErrClosed) {
		t.Fatalf("waiter at Close: %v", err)
	}
	if ok, err := other.TryLock(0); !ok || err != nil {
		t.Fatalf("region of a closed Table: %v, %v", ok, err)
	}
	_, errTry := tab.TryRLock(1)
	after := []error{
		tab.Lock(ctx, 1), tab.RLock(ctx, 1), errTry, tab.Unlock(0),
		tab.RUnlock(0), tab.LockRange(ctx, 0, 2), tab.UnlockRange(0, 2),
	}
	for i, err := range after {
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("call %d after Close: %v", i, err)
		}
	}
	if err := tab.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	b.Close()
	if _, err := lock.New(b); !errors.Is(err, os.ErrClosed) {
		t.Errorf("New on a closed block: %v", err)
	}
}

// A Table outlives the Block it was made from: its locks are its own.
func TestTableOutlivesBlock(t *testing.T) {
	b := newBlock(t, 1)
	tab := newTable(t, b)
	other := newTable(t, b)
	tab.Lock(context.Background(), 0)
	b.Close()
	if ok, _ := other.TryLock(0); ok {
		t.Fatal("closing the block released the Table's lock")
	}
}

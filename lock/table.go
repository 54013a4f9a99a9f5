package lock

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/block"
	"github.com/ndshm/ndshm/internal/sys"
)

const (
	// RegionOffset is the file offset of region 0's lock byte; region r
	// locks byte RegionOffset+r. It lies far past the largest block
	// (64 TiB of data), so region locks never touch the data or the
	// footer's liveness byte.
	RegionOffset = 1 << 62

	// MaxRegions bounds region numbers: they run from 0 to MaxRegions-1,
	// so that every lock byte is a valid file offset.
	MaxRegions = 1 << 62
)

var (
	// ErrBadRegion is returned for a region number, or a range of them,
	// outside [0, MaxRegions).
	ErrBadRegion = errors.New("lock: bad region")

	// ErrNotLocked is returned for releasing a region that the Table
	// does not hold in the mode released.
	ErrNotLocked = errors.New("lock: region not locked")
)

// A Table holds region locks on one block for this process. It is its
// own open file description of the block, so Tables exclude one another
// through the kernel whether they live in one process or in many.
//
// A Table is safe for concurrent use: its goroutines exclude one another
// on each region as with a sync.RWMutex per region, so one Table may
// serve a whole process. As with sync.RWMutex, a lock belongs to the
// Table, not to a goroutine: any goroutine may release it, and a
// goroutine that locks a region it holds waits for itself. Operations
// on different regions serialize briefly on the Table (for the length of
// one fcntl call), never for the length of a wait.
type Table struct {
	mu   sync.Mutex
	fd   int           // the Table's own open file description; -1 once closed
	held map[int]int   // region -> -1 write-locked, n > 0 read-locked n times
	wake chan struct{} // closed at the next release, made when a goroutine waits
}

// New returns a Table for b's regions, holding nothing. It opens a new
// description of b's file, independent of b afterwards: closing b does
// not release the Table's locks; Close does.
func New(b *ndshm.Block) (*Table, error) {
	fd, err := block.Of(b).Reopen()
	if errors.Is(err, os.ErrClosed) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("lock: reopen block: %w", err)
	}
	return &Table{fd: fd, held: make(map[int]int)}, nil
}

// Close releases every lock the Table holds and closes its descriptor.
// Goroutines waiting on the Table return os.ErrClosed, as does every
// later call. Close is idempotent.
func (t *Table) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fd < 0 {
		return nil
	}
	err := sys.Close(t.fd)
	t.fd = -1
	clear(t.held)
	t.broadcast()
	if err != nil {
		return fmt.Errorf("lock: close: %w", err)
	}
	return nil
}

// broadcast wakes every goroutine waiting for a release. t.mu is held.
func (t *Table) broadcast() {
	if t.wake != nil {
		close(t.wake)
		t.wake = nil
	}
}

// checkRange validates the regions [lo, hi).
func checkRange(lo, hi int) error {
	switch {
	case lo < 0 || uint64(lo) >= MaxRegions:
		return fmt.Errorf("%w: %d", ErrBadRegion, lo)
	case hi <= lo || uint64(hi) > MaxRegions:
		return fmt.Errorf("%w: range [%d, %d)", ErrBadRegion, lo, hi)
	}
	return nil
}

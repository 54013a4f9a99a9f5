package flight

import (
	"sync"

	"github.com/ndshm/ndshm/internal/sys"
)

// prefault turns prefaulting on (benchmarks compare).
var prefault = true

// prefaultMin is the smallest landing worth faulting in ahead.
const prefaultMin = 8 << 20

// A prefaulter maps in the pages of a new block's memory ahead of the
// copy into it, on another thread. A new block's first touch costs a
// page fault per page (on some VMs 5-12 µs per 4 KiB page, as much as the
// network transfer itself); done alongside the receiving, it overlaps
// the wait for the network instead of adding to it.
type prefaulter struct {
	stop chan struct{}
	done sync.WaitGroup
}

// startPrefault faults in p, 4 MiB at a time, until it is done or end
// is called. p must stay mapped until end returns.
func startPrefault(p []byte) *prefaulter {
	f := &prefaulter{stop: make(chan struct{})}
	f.done.Go(func() {
		for off := 0; off < len(p); off += 4 << 20 {
			select {
			case <-f.stop:
				return
			default:
			}
			sys.Populate(p[off:min(len(p), off+4<<20)])
		}
	})
	return f
}

// end stops the prefaulting and waits for it; nil is allowed.
func (f *prefaulter) end() {
	if f == nil {
		return
	}
	close(f.stop)
	f.done.Wait()
}

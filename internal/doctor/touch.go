package doctor

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"time"
	"unsafe"

	"github.com/ndshm/ndshm/internal/sys"
)

// A source makes the fresh file of one touch run: a descriptor of size
// bytes, and whether to advise huge pages (true), advise against them
// (false) or neither (nil) on its mapping before the touch.
type source struct {
	name   string
	open   func(size int64) (int, error)
	advise *bool
}

// errNotHuge is a huge-page run's mapping that smaps says has no huge page.
var errNotHuge = errors.New("mapping not backed by huge pages")

// touchRuns measures the median cost of the first write of one byte per
// page of page bytes, through a new shared mapping of a fresh file from
// src of size bytes, over runs runs. With wantHuge, a run whose mapping
// has no huge page is an error; without, one whose mapping has one is.
func touchRuns(src source, size, page int64, runs int, wantHuge bool) (time.Duration, error) {
	per := make([]time.Duration, 0, runs)
	for range runs {
		d, b, err := touchOnce(src, size, page)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", src.name, err)
		}
		if b.Huge() != wantHuge {
			if wantHuge {
				return 0, fmt.Errorf("%s: %w", src.name, errNotHuge)
			}
			return 0, fmt.Errorf("%s: mapping unexpectedly backed by huge pages", src.name)
		}
		per = append(per, d/time.Duration(size/page))
	}
	slices.Sort(per)
	return per[len(per)/2], nil
}

// touchOnce makes a file, maps it, writes a byte to each page and returns
// how long the writes took and what smaps says backed them.
func touchOnce(src source, size, page int64) (d time.Duration, b sys.Backing, err error) {
	fd, err := src.open(size)
	if err != nil {
		return 0, b, err
	}
	defer sys.Close(fd)
	m, err := sys.Map(fd, int(size), true)
	if err != nil {
		return 0, b, fmt.Errorf("mmap: %w", err)
	}
	defer sys.Unmap(m)
	if src.advise != nil {
		if err := sys.AdviseHuge(m, *src.advise); err != nil {
			return 0, b, fmt.Errorf("madvise: %w", err)
		}
	}
	if d, err = touch(m, int(page)); err != nil {
		return 0, b, err
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, b, err
	}
	defer f.Close()
	addr := uint64(uintptr(unsafe.Pointer(&m[0])))
	b, ok, err := sys.SmapsWhere(f, func(lo, _ uint64) bool { return lo == addr })
	if err != nil || !ok {
		return 0, b, errors.New("mapping not found in /proc/self/smaps")
	}
	return d, b, nil
}

// touch writes one byte to every page of m and times it. A page the file
// system cannot supply (a full tmpfs) is an error rather than a crash.
func touch(m []byte, page int) (d time.Duration, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("fault on first touch: %v", r)
		}
	}()
	start := time.Now()
	for i := 0; i < len(m); i += page {
		m[i] = 1
	}
	return time.Since(start), nil
}

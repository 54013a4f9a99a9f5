package doctor

import (
	"fmt"
	"strings"

	"github.com/ndshm/ndshm/internal/sys"
)

const (
	smallPage = 4 << 10
	smallSize = 4 << 20  // 1024 pages a run: milliseconds even at 10 µs a page
	hugeSize  = 16 << 20 // 8 huge pages of 2 MiB a run
	smallRuns = 5
	hugeRuns  = 3
)

// measure fills in the touch costs: 4 KiB pages through a memfd told not
// to use huge pages, and huge pages from the first source that gives
// them, as smaps confirms.
func measure(r *Report) {
	no := false
	small := source{name: "memfd", open: memfd(sys.Memfd), advise: &no}
	if d, err := touchRuns(small, smallSize, smallPage, smallRuns, false); err == nil {
		ns := d.Nanoseconds()
		r.PageTouchNs4K = &ns
	}
	var why []string
	for _, h := range hugeSources(*r) {
		d, err := touchRuns(h.source, h.size, h.page, hugeRuns, true)
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		ns, page, name := d.Nanoseconds(), h.page, h.name
		r.PageTouchNsHuge, r.HugePageBytes, r.HugeSource = &ns, &page, &name
		return
	}
	if len(why) == 0 {
		why = append(why, "no source of huge pages: "+r.ShmDir+" has no huge=always|within_size, "+
			"shmem_enabled does not allow them and the hugetlb pool has no free page")
	}
	s := strings.Join(why, "; ")
	r.HugeUnavailable = &s
}

// A hugeSource is a source of huge pages and the run's sizes.
type hugeSource struct {
	source
	size, page int64
}

// hugeSources returns the sources of huge pages that r's settings say
// may work, in the order blocks would use them: the block directory,
// the hugetlb pool, then memfds advised to use transparent huge pages.
func hugeSources(r Report) []hugeSource {
	var hs []hugeSource
	if r.ShmDirHuge && (r.ShmDirFreeBytes == nil || *r.ShmDirFreeBytes >= hugeSize) {
		dir := r.ShmDir
		hs = append(hs, hugeSource{source{name: "shm_dir", open: func(size int64) (int, error) {
			return reservedTemp(dir, size)
		}}, hugeSize, 2 << 20})
	}
	if p := r.HugetlbPageBytes; r.HugetlbFreePages > 0 && p > 0 {
		n := min(r.HugetlbFreePages, hugeSize/p, 8)
		hs = append(hs, hugeSource{source{name: "hugetlb", open: memfd(sys.MemfdHuge)}, max(n, 1) * p, p})
	}
	if r.ShmemEnabled != nil && shmemAllowsHuge(*r.ShmemEnabled) {
		yes := true
		hs = append(hs, hugeSource{source{name: "shmem_madvise", open: memfd(sys.Memfd), advise: &yes}, hugeSize, 2 << 20})
	}
	return hs
}

// shmemAllowsHuge reports whether a memfd advised MADV_HUGEPAGE may get
// transparent huge pages under this shmem_enabled setting.
func shmemAllowsHuge(s string) bool {
	return s == "always" || s == "within_size" || s == "advise" || s == "force"
}

// memfd returns an opener of memfds made by create and sized.
func memfd(create func(string) (int, error)) func(int64) (int, error) {
	return func(size int64) (int, error) {
		fd, err := create("ndshm-doctor")
		if err != nil {
			return -1, fmt.Errorf("memfd_create: %w", err)
		}
		if err := sys.Truncate(fd, size); err != nil {
			sys.Close(fd)
			return -1, fmt.Errorf("ftruncate: %w", err)
		}
		return fd, nil
	}
}

// reservedTemp makes an unnamed file of size bytes in dir with its pages
// allocated, as ndshm's blocks are: sized first, so that huge=within_size
// lets the allocation use huge pages, and allocated, so that a full
// tmpfs is ENOSPC here rather than a fault at the touch.
func reservedTemp(dir string, size int64) (int, error) {
	fd, err := sys.CreateTempIn(dir, 0o600)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", dir, err)
	}
	if err := sys.Truncate(fd, size); err != nil {
		sys.Close(fd)
		return -1, fmt.Errorf("ftruncate: %w", err)
	}
	if err := sys.Reserve(fd, size); err != nil {
		sys.Close(fd)
		return -1, fmt.Errorf("fallocate: %w", err)
	}
	return fd, nil
}

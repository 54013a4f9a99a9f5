package ndshm

import "github.com/ndshm/ndshm/internal/sys"

// A backing is the kind of file a block's pages come from.
type backing int

const (
	plain     backing = iota // a sealed memfd of 4 KiB pages
	named                    // a named file in the block directory, huge or not
	hugetlb                  // a sealed memfd from the hugetlb pool
	thp                      // a sealed memfd that shmem_enabled gives huge pages as it is reserved
	thpAdvise                // a sealed memfd that gets huge pages only through a mapping's madvise
	hugeTemp                 // an unnamed, unsealable file in a huge block directory
)

// hugeEnv is what decides where an anonymous block can get huge pages.
type hugeEnv struct {
	page        int64  // a transparent huge page's size
	hugetlbFree int64  // free, unreserved pages in the hugetlb pool
	hugetlbPage int64  // their size
	shmem       string // shmem_enabled's setting
	dirHuge     bool   // the block directory is a huge tmpfs
}

// hostHuge reads this machine's hugeEnv.
func hostHuge() hugeEnv {
	free, size := sys.HugetlbFree()
	return hugeEnv{page: sys.HugePageSize(), hugetlbFree: free, hugetlbPage: size,
		shmem: sys.ShmemEnabled(), dirHuge: sys.DirHuge()}
}

// anonBackings returns the backings CreateAnon tries, best first, for a
// block whose unpadded file is size bytes; the last is always plain. A
// block smaller than a huge page gains nothing from one.
func anonBackings(e hugeEnv, size int64) []backing {
	var ks []backing
	if p := e.hugetlbPage; p > 0 && size >= p && (size+p-1)/p <= e.hugetlbFree {
		ks = append(ks, hugetlb)
	}
	if size >= e.page {
		switch e.shmem {
		case "always", "within_size", "force":
			ks = append(ks, thp)
		case "advise":
			ks = append(ks, thpAdvise)
		}
		if e.dirHuge {
			ks = append(ks, hugeTemp)
		}
	}
	return append(ks, plain)
}

package handoff

import (
	"unsafe"

	"github.com/ndshm/ndshm/internal/sys"
)

// HugeMapped says whether the mapping that holds d's first byte maps
// any of its data with huge pages, as this process's /proc/self/smaps
// reports for it (see sys.HugeAt). Pages not yet touched are not
// mapped at all, so read d first. An empty d is never huge.
func HugeMapped(d []byte) (bool, error) {
	if len(d) == 0 {
		return false, nil
	}
	return sys.HugeAt(uintptr(unsafe.Pointer(&d[0])))
}

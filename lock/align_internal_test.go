package lock

import (
	"testing"
	"unsafe"
)

// An add on a word that is not 8-byte aligned panics rather than risk a
// split-lock trap.
func TestMisalignedPanics(t *testing.T) {
	var buf [3]uint64
	p := unsafe.Add(unsafe.Pointer(&buf[0]), 4)
	for name, add := range map[string]func(){
		"AddInt64":   func() { AddInt64((*int64)(p), 1) },
		"AddFloat64": func() { AddFloat64((*float64)(p), 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s on a misaligned word did not panic", name)
				}
			}()
			add()
		}()
	}
	if buf != [3]uint64{} {
		t.Errorf("a refused add wrote memory: %x", buf)
	}
}

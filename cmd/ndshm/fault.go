package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// guard runs f, which touches a block's mapped memory, turning a memory
// fault into an error. Another process may truncate a named block after
// we mapped it; touching the pages it cut off raises SIGBUS, which would
// kill us. Under SetPanicOnFault the runtime panics instead, on this
// goroutine, and the panic is recovered here. Other panics are bugs and
// go on.
func guard(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		re, ok := r.(runtime.Error)
		addr, isFault := r.(interface{ Addr() uintptr })
		if !ok || !isFault {
			panic(r)
		}
		err = fmt.Errorf("memory fault at %#x reading the block (did another process truncate it?): %v", addr.Addr(), re)
	}()
	return f()
}

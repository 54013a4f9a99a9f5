// Package fault turns a memory fault in a block's memory into an error.
// Another process may truncate a named block after we mapped it; touching
// the pages it cut off raises SIGBUS, which would kill us. Under
// debug.SetPanicOnFault the runtime panics instead, on the goroutine that
// touched them, and the panic can be recovered. The CLI and pool workers
// report such a fault in the same words, which live here.
package fault

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Guard runs f, which touches mapped memory, turning a memory fault into
// the error Of returns. Other panics are bugs and go on.
func Guard(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if err = Of(r); err == nil {
				panic(r)
			}
		}
	}()
	return f()
}

// Of returns the error for r, a value recovered from a panic, if it is a
// memory fault under SetPanicOnFault, and nil otherwise.
func Of(r any) error {
	_, isRuntime := r.(runtime.Error)
	addr, isFault := r.(interface{ Addr() uintptr })
	if !isRuntime || !isFault {
		return nil
	}
	// The runtime calls it a nil pointer dereference, which misleads:
	// the address is in a mapping whose file got shorter.
	return fmt.Errorf("memory fault at %#x in the block's memory: did another process truncate the block? (ndshm inspect shows its size; the block must be made again)", addr.Addr())
}

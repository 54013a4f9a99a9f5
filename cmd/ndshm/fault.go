package main

import "github.com/ndshm/ndshm/internal/fault"

// guard runs f, which touches a block's mapped memory, turning a memory
// fault (another process truncated the block) into an error, not a crash.
func guard(f func() error) error { return fault.Guard(f) }

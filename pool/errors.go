package pool

import (
	"errors"
	"fmt"
)

// Errors that callers can test with errors.Is.
var (
	// ErrUnknownOp means no op of that name is registered, or none for the
	// call: Map refuses reductions and Reduce refuses ops that write. An
	// op that exists but not for the array's dtype is an ndshm.ErrDType.
	ErrUnknownOp = errors.New("unknown op")

	// ErrParams means an op string is malformed, or its parameters are
	// wrong for the op or for the array's dtype.
	ErrParams = errors.New("bad op parameters")

	// ErrWorkerDied means a worker process ended during a task: it
	// crashed, was killed, or closed its end of the channel.
	ErrWorkerDied = errors.New("died")

	// ErrTimeout means a task ran past the pool's TaskTimeout. Its
	// worker was killed, and is replaced for the next task.
	ErrTimeout = errors.New("exceeded the task deadline")

	// ErrProtocol means a worker sent something that is not a valid
	// frame. It was killed, and is replaced for the next task.
	ErrProtocol = errors.New("broke the protocol")

	// ErrClosed means the pool was closed.
	ErrClosed = errors.New("pool closed")
)

// A PartitionError is the failure of one partition of a Map, MapTo or
// Reduce. Other partitions of the same call may have completed: after a
// failed Map, rows outside the partition may hold new values and the
// partition's rows may be partly transformed.
type PartitionError struct {
	Index  int   // the partition's number, from 0
	Lo, Hi int   // its rows along axis 0, [Lo, Hi)
	Pid    int   // the worker process's pid; 0 for goroutine and serial pools
	Err    error // what went wrong
}

// Error says which partition failed and why: "partition 3 [750, 1000):
// worker 1234 died: signal: killed".
func (e *PartitionError) Error() string {
	return fmt.Sprintf("partition %d [%d, %d): %v", e.Index, e.Lo, e.Hi, e.Err)
}

// Unwrap returns Err, for errors.Is(err, ErrWorkerDied) and the like.
func (e *PartitionError) Unwrap() error { return e.Err }

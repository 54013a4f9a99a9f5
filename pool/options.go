package pool

import (
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/ndshm/ndshm/internal/reexec"
)

// An Option configures a Pool.
type Option func(*options)

type options struct {
	command func() *exec.Cmd
	timeout time.Duration
	chunk   int
}

// Command has a process pool start each worker with a command from f, a
// new one each time (workers that die are replaced): any program that
// speaks the protocol in doc.go, such as a Python worker. The pool adds
// its socket as fd 3 (before cmd.ExtraFiles), GOMAXPROCS and GORACE
// (atexit_sleep_ms=0, so that race-enabled workers exit at once) to the
// environment, and a WaitDelay. The program must be the process the
// command starts (exec, not fork, any wrapper): the pool watches and kills
// that process, and must not hand fd 3 to children of its own.
func Command(f func() *exec.Cmd) Option { return func(o *options) { o.command = f } }

// TaskTimeout bounds each task, one partition's work. A worker process
// that has not answered within d is killed (and replaced) and the call
// fails with ErrTimeout. Goroutines cannot be killed: goroutine and serial
// pools ignore it. The default is no limit.
func TaskTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// ChunkRows splits arrays into partitions of n rows along axis 0 (the
// last may be shorter) instead of one per worker: more, smaller
// partitions balance uneven work, and a failed partition has less to
// redo. Workers take partitions in order as they finish others.
func ChunkRows(n int) Option { return func(o *options) { o.chunk = max(n, 0) } }

// workerRole is the reexec role of a worker of a pool that runs its own
// binary; WorkerMain looks for it.
const workerRole = "pool-worker"

// selfCommand starts this program again as a worker.
func selfCommand() *exec.Cmd { return reexec.Command(workerRole) }

// quickRaceExit keeps a race-enabled worker from sleeping a second as it
// exits (the race runtime's atexit_sleep_ms), which every Close would
// wait for. Other binaries ignore GORACE.
func quickRaceExit() string {
	opts := os.Getenv("GORACE")
	if !strings.Contains(opts, "atexit_sleep_ms") {
		opts = strings.TrimSpace(opts + " atexit_sleep_ms=0")
	}
	return "GORACE=" + opts
}

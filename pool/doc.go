// Package pool runs partitioned, in-place map and reduce over shared
// arrays in a pool of worker processes, or of goroutines, with no copy of
// the data: each worker maps the block itself and transforms its own
// partition, a contiguous range of rows along axis 0, and only an op
// name, a block, a row range and a few numbers cross to the worker, and
// a few statistics come back.
//
//	p, err := pool.New(4)               // 4 worker processes
//	err = p.Map(ctx, b, "affine=2,1")   // b's array, in place: 2x+1
//	s, err := p.Reduce(ctx, b, "sum")   // s.Sum, s.Count, s.Min, s.Max
//	err = p.MapTo(ctx, b, out, "sqrt")  // out = sqrt(b)
//
// Goroutines(n) and Serial() have the same API in one process, so the
// cost of the process boundary can be measured (`ndshm bench map`).
//
// # Workers
//
// A worker process is this program re-executed (/proc/self/exe) with
// NDSHM_ROLE=pool-worker in its environment, which WorkerMain, called first
// thing in main, recognizes; or any program given with the Command
// option that speaks the protocol below. Each worker's GOMAXPROCS is
// max(1, NumCPU/n). A worker exits when its parent dies (EOF on its
// channel), at once even in the middle of a task. The parent watches each
// worker's pidfd and its channel: a worker that dies, or sends anything
// but well-formed frames, is seen at once, killed if need be, and
// replaced by a new one for the next task.
//
// While a task runs, the pool's goroutine for that worker waits in a
// blocking read of the worker's socket, holding an OS thread: the reply
// wakes it directly. Both sides poll for 50 µs before they block (the
// pool for a reply, a worker for its next task), yielding the CPU between
// polls, so that a run of short tasks costs no wake-ups of idle CPUs,
// which on a virtual machine take tens of microseconds: on a 2-vCPU VM a
// task's round trip takes about 8 µs (13 µs with the other CPU busy)
// instead of up to 40. The price is up to 50 µs of CPU per task on each
// side.
//
// # Ops
//
// Built-in maps: scale=a (x·a), offset=b (x+b), affine=a,b (a·x+b),
// sqrt (float dtypes only), square, clip=lo,hi, fill=v, and noop. On
// integer arrays parameters must be whole numbers in the dtype's range
// and arithmetic wraps, as NumPy's does. Built-in reductions: sum, min,
// max, mean, count and histogram=bins,lo,hi, computed in float64, NaN
// propagating as in NumPy. All of them run on int8…int64, uint8…uint64,
// float32 and float64 arrays in native byte order, C or Fortran order;
// the reductions also on bool (every byte must be 0 or 1) and float16
// arrays, whose elements they convert to float64, exactly. They are the
// kernels `ndshm stats` runs too, in a serial pool without --workers.
// Register adds ops written in Go.
//
// # Failures
//
// A worker that dies in the middle of a task is detected through EOF on
// its channel and its pidfd. The partition is redone on a new worker,
// up to three times, when that cannot change the result: for MapTo (the
// source is only read), for reductions, and for ops registered
// Idempotent. Otherwise the call fails with a *PartitionError that names
// the partition and how the worker ended ("partition 3 [750, 1000):
// worker 1234 died: signal: killed"). A worker that exceeds TaskTimeout,
// or breaks the protocol, is killed and the call fails. A cancelled
// context kills the worker processes in the middle of a task (goroutines
// finish theirs) and starts no other partition. No call returns while a
// worker is still working for it, and no call returns partial results
// without an error.
//
// # Protocol
//
// The pool and a worker talk over a SOCK_SEQPACKET unix socket, the
// worker's fd 3: every frame is one packet, so frames never need a
// length prefix, descriptors travel with them (SCM_RIGHTS), and each side
// reads EOF when the other dies. Every integer is little-endian; byte 0
// of every frame is the protocol version, 1, and byte 1 its type. Reserved
// bytes are zero. Frames are a fixed size, or a fixed head and parts
// whose lengths the head gives; a receiver checks that the packet's size
// is exactly that, and refuses anything else. Python's struct formats are
// given for each frame.
//
// Hello, worker to pool, first, 8 bytes ('<BBHI'):
//
//	0  u8  version, 1
//	1  u8  'H'
//	2  u16 reserved
//	4  u32 the worker's pid
//
// Attach, pool to worker, 8+L bytes ('<BBHI' then the name), with exactly
// one descriptor attached, open on the block; the worker maps it, checks
// its header and footer (docs/FORMAT.md) and closes the descriptor:
//
//	0  u8  version, 1
//	1  u8  'A'
//	2  u16 L, the block's name length, 0 to 255 (0 for an anonymous block)
//	4  u32 block id: nonzero, new for this worker
//	8  L bytes, the block's name, for messages only: the descriptor is the block
//
// Raw attach, pool to worker, 16+8·N+D+L bytes ('<BBHIBBBBI', N '<q's,
// then the dtype and the name), with exactly one descriptor attached, open
// on a block with no ndshm header (such as Python's SharedMemory makes):
// the array starts at byte 0 of the file, and the frame says what it is.
// The worker checks that the file holds it, maps it and closes the
// descriptor:
//
//	0  u8  version, 1
//	1  u8  'B'
//	2  u16 L, the block's name length, 0 to 255
//	4  u32 block id: nonzero, new for this worker
//	8  u8  D, the dtype's length, 1 to 16
//	9  u8  N, the number of dimensions, 0 to 32
//	10 u8  order: 0 C, 1 Fortran
//	11 u8  reserved
//	12 u32 reserved
//	16 N × i64 the shape, each at least 0
//	16+8·N D bytes, the dtype as NumPy's dtype.str spells it ("<f8")
//	then L bytes, the block's name, for messages only
//
// Detach, pool to worker, 8 bytes ('<BBHI'): the worker unmaps the block.
//
//	0  u8  version, 1
//	1  u8  'D'
//	2  u16 reserved
//	4  u32 block id
//
// Task, pool to worker, 96 bytes ('<BBBBIIIqq4d32s'):
//
//	0  u8  version, 1
//	1  u8  'T'
//	2  u8  number of parameters, 0 to 4
//	3  u8  op name length, 1 to 32
//	4  u32 sequence number, echoed in the result
//	8  u32 block id of the array
//	12 u32 block id of the destination for an out-of-place map, 0 for in place
//	16 i64 lo  \ the partition: rows [lo, hi) along axis 0 (a 0-d array
//	24 i64 hi  / has one row); the worker checks them against the array
//	32 f64 ×4  parameters, unused ones 0
//	64 32 bytes op name, ASCII, zero-padded
//
// Out of place, the worker copies rows [lo, hi) of the array into the
// destination, which has the same dtype, shape and order, and transforms
// them there. The task "noop" with block 0 and lo = hi = 0 is the
// round-trip probe: answer it at once with an empty result.
//
// Result, worker to pool, 64 + 8·nbins + E bytes ('<BBBBIQdddqIIQ', then
// nbins u64 and E bytes):
//
//	0  u8  version, 1
//	1  u8  'R'
//	2  u8  status: 0 done, 1 failed (E > 0 exactly when failed)
//	3  u8  reserved
//	4  u32 the task's sequence number
//	8  u64 count: elements visited; for built-in ops, every element of the partition
//	16 f64 sum
//	24 f64 min  \ over the elements visited; +Inf and -Inf if none,
//	32 f64 max  / NaN if any is NaN
//	40 i64 time spent in the op, ns
//	48 u32 nbins, at most 4096: the histogram's length, 0 without one
//	52 u32 E, the error text's length, at most 4096
//	56 u64 reserved
//	64 nbins × u64 histogram counts, then E bytes of UTF-8 error text
//
// Each side checks every field of every frame it gets against these
// limits. A worker answers a task frame of the right size whose fields
// break them (too many parameters, a nonzero unused one, a partition
// outside the array, an unknown op or block, a histogram of more than
// 4096 bins) with a failed result saying why, and serves on; any other
// bad frame ends it, with the reason on standard error. The pool kills a
// worker whose hello is not from its own pid, or whose result a built-in
// op could not have given.
//
// The pool sends attach and detach frames whenever it likes and one task
// at a time; the worker answers every task, in order, with one result,
// and never sends anything else after its hello. It exits when it reads
// EOF (a zero-length packet). A worker keeps up to four blocks attached
// between tasks and calls, and so their mappings warm: the pool detaches
// the least recently used. Before its first task on a block that writes
// rows without reading them (fill, a MapTo destination), a Go worker
// populates the page tables of those rows, its own partition, in one
// madvise (NDSHM_POOL_PREFAULT=0 in its environment turns that off): on
// a virtual machine that halves such a first call over a fresh mapping.
//
// A Python worker, for instance, takes fd 3 with
// socket.socket(fileno=3); reads frames with socket.recv_fds(sock, 1024,
// 1) (Python 3.9+); on an attach, maps the descriptor with mmap and
// wraps the array with numpy as python/ndshm/blocks.py does for any
// block; answers tasks with sock.send(struct.pack(...)); and is started
// by pool.Command(func() *exec.Cmd { return exec.Command("python3",
// "worker.py") }). The Python package's own worker (python/ndshm/worker.py)
// is started as exec.Command("python3", "-m", "ndshm", "worker"), with
// python/ on PYTHONPATH.
package pool

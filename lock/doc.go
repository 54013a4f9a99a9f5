// Package lock coordinates writes to a shared block that may overlap,
// across processes and goroutines.
//
// The discipline, from cheapest to dearest:
//
//   - Concurrent reads need no lock.
//   - Writes to disjoint elements, such as each worker's own
//     Array.Rows partition, need no lock.
//   - Writes that are sums (histograms, accumulators) need no lock
//     either: AddFloat64 and AddInt64 add atomically in shared memory.
//   - Any other write that may overlap another process's reads or
//     writes takes a region lock from a Table first.
//
// # Region locks
//
// A Table holds read/write locks on numbered regions of one block: what
// a region is (a row, a band of 1024 rows, a slot) is the caller's
// convention, shared by every process that locks the block. Region r is
// an OFD byte-range lock (fcntl F_OFD_SETLK) on byte RegionOffset+r of
// the block's file, far past any data, so the kernel releases it when
// its holder dies, however it dies. A peer in another language takes
// the same lock with fcntl; in Python, on a read-write fd of the block:
//
//	fcntl.fcntl(fd, fcntl.F_OFD_SETLK,
//	    struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, (1 << 62) + r, 1, 0))
//
// The Python package does so in ndshm.RegionLock, and its ndshm.add
// uses the same atomic instructions as AddInt64 and AddFloat64.
//
// # Memory ordering
//
// Taking a lock after another process released it orders its writes
// before this process's reads on the same memory: both fcntl calls take
// the kernel's lock on the file's lock list, which orders them. The race
// detector sees only the ordering between goroutines of one Table, not
// through the kernel, nor any access to mapped memory.
package lock

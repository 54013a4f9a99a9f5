// Package ndshm shares n-dimensional numeric arrays between processes
// without copying them. An array's bytes live once, in shared memory; each
// process, Go or NumPy, maps them and wraps its own typed view. What
// travels between processes is a name, a few integers and small results.
//
// # Blocks
//
// A Block is one array in one shared-memory file: named, in /dev/shm
// (Create, Open, Unlink), or anonymous, a memfd passed as a descriptor
// (CreateAnon, File, FromFile). Every block is a valid .npy file followed
// by a small control footer (docs/FORMAT.md), so NumPy attaches with
// np.load('/dev/shm/NAME', mmap_mode='r+') or python/ndshm/, and
// `cp /dev/shm/NAME x.npy` gives a valid .npy file. Blocks that plain
// Python made with no header open with OpenRaw, given their Spec.
//
// # Lifetime
//
// Close ends this Block's use: it closes its descriptor and unmaps the
// block, unless another Block of this process shares the mapping. Opening
// a block this process already maps (Open, OpenRaw, FromFile, FromFileRaw;
// the same file at the same size, both read-write or both read-only)
// reuses its mapping, reference-counted, since the first touch of each
// page through a new mapping costs microseconds on a virtual machine; the
// last Close unmaps. Each Block keeps its own descriptor, so liveness and
// region locks work as if the mapping were not shared, and the header and
// footer are validated once, when the mapping is made: a warm open trusts
// this process's copy, not the shared bytes, which a peer may have
// overwritten since. Unlink ends the name. The memory lives while any process
// still maps it or holds a descriptor, and a named block whose name was
// never unlinked lives until reboot; so a block made by Create is owned:
// its Close also unlinks it. Pass Persistent to make a block that outlives
// its creator (the CLI's create and load do), and remove it with Unlink.
// Anonymous blocks cannot outlive their users: the kernel frees them with
// the last descriptor and mapping.
//
// While an owned block is open its creator holds an OFD read lock on the
// footer's liveness byte, which the kernel drops when the creator dies,
// however it dies: Stat reports it as Info.CreatorAlive.
//
// # Aliasing
//
// Bytes, View and everything derived from them (Array.Rows, Array.Flat)
// alias the shared memory: no copy is made, writes are seen at once by
// every process that maps the block, and all of them are invalid after
// Close. Touching them then faults, or, while another Block of this
// process shares the mapping, still works until that one is closed: do
// not count on that. Nothing keeps a block mapped for the sake of its
// views: keep the Block open while you use them, and never close it from
// a finalizer.
//
// # Concurrency
//
// Block methods are safe for concurrent use. The data is not
// synchronized; the discipline is:
//
//   - concurrent reads need no lock;
//   - writes to disjoint elements (such as the Rows partitions of a
//     map) need no lock;
//   - overlapping writes that are sums need no lock either: add with
//     lock.AddFloat64 or lock.AddInt64 on Array.Addr;
//   - any other write that may overlap another process's reads or
//     writes takes a region lock from package lock (lock.Table), which
//     the kernel releases if its holder dies.
//
// Shared memory is only as trustworthy as the processes that map it:
// ndshm validates a block's header and footer before mapping it, but a
// peer may still change the data at any moment.
//
// # Caveats
//
// A named block whose file another process truncates raises SIGBUS on
// access; anonymous blocks are sealed against that. Only the file's owner
// (and root) can truncate it, so Open and OpenRaw refuse a block that
// neither this user nor root owns, with fs.ErrPermission, unless given
// AllowForeign (the CLI's --allow-foreign). Stat, List and GC read such
// blocks without mapping them; GC leaves another user's orphan alone
// unless it runs as root, since /dev/shm lets only the owner remove it. systemd-logind with
// RemoveIPC=yes (its default) deletes a normal user's /dev/shm files when
// that user's last session ends; run long-lived owners as a system user
// or set RemoveIPC=no.
package ndshm

"""ndshm: share NumPy arrays between processes through /dev/shm, with zero copies.

This is the NumPy side of ndshm.  It speaks block format version 1 (docs/FORMAT.md):
a .npy header padded to a multiple of 4096 bytes, the array data, zero padding to a
4096 boundary, and a 4096-byte control footer found from the end of the file.  So
np.load('/dev/shm/NAME', mmap_mode='r+') also opens any block.

    a = create('frame', (480, 640), 'f4')   # new block, returned as a writable view
    b = attach('frame')                     # another view of the same memory
    unlink('frame')                         # remove the name; views stay valid

Client talks to an ndshm server (`ndshm serve`, docs/PROTOCOL.md) over a unix socket:
it lists and creates blocks, and hands out anonymous (memfd) blocks as ndarrays.

Ring attaches a ring channel (made by Go's ring.Create or `ndshm ring create`): a block
whose array is (slots, *frame).  Frames move between processes in place, as read-only
views of their slot; readers and writers interoperate with Go's, futexes and all:

    for f in Ring('cam').frames():          # f.seq, f.tag, f.time_ns, f.array
        process(f.array)

Blocks are mapped with os.open + mmap.mmap, not multiprocessing.shared_memory:
SharedMemory registers every block it opens with Python's resource_tracker, which
unlinks it when the process exits even if the process merely attached it
(cpython issue 82300).  Here nothing is registered, so attaching never destroys.

Blocks created here are owned, as Go's are: the creating process holds the OFD
liveness lock on the footer's liveness byte and unlinks the block on close(name) or
at exit; if it dies (SIGKILL too) the kernel drops the lock, `ndshm ls` shows an
orphan and `ndshm gc` removes it.  create(..., persistent=True) makes a block that
lives until unlink().

Arrays cross process boundaries by name (module shared): create() and attach()
return SharedArrays, whose views pickle as (name, offset, dtype, shape, strides), not
their bytes, and unpickle as views of the same memory, with every multiprocessing
start method and ProcessPoolExecutor.  map_partitions (module partitions) is the
classic Pool pattern: in-place transform, per-chunk statistics, the parent reduces.

    def work(chunk):                            # module-level: pickled by name
        np.sqrt(chunk, out=chunk)
        return chunk.sum(), len(chunk)

    with create(None, (n,), 'f8') as a:         # auto-named, released at exit
        a[:] = np.arange(n)
        parts = map_partitions(work, a, workers=8)
        mean = sum(s for s, _ in parts) / sum(c for _, c in parts)

The same with multiprocessing.shared_memory passes (shm.name, n, lo, hi) and each
worker attaches SharedMemory(name), wraps shm.buf in an ndarray, slices [lo:hi], and
closes it; README.md shows both in full.

The modules, by concept: blocks (the block format, create/attach/info/close/unlink),
shared (SharedArray: arrays that pickle by name), partitions (map_partitions),
catalog (list and gc without a server), lock (region locks and atomic adds, as Go's
package lock), client (the server's client), ring (ring readers and writers), worker
(a Go pool's worker, `python3 -m ndshm worker`), and __main__ (the command line,
python3 -m ndshm).
"""

from .blocks import (FLAG_ANONYMOUS, FLAG_PERSISTENT, FOOTER_LEN, KIND_ARRAY, KIND_RING,
                     LIVENESS_OFF, PAGE, SHM_DIR, VERSION, attach, close, create, info, unlink)
from .client import MAX_MESSAGE, PROTOCOL_VERSION, Client, ServerError, default_socket
from .ring import Frame, Reader, Ring, TornFrame, Writer, WriterDied
from .worker import serve

__version__ = '0.1.0'   # Go's ndshm.Version (version.go); TestPythonVersion keeps them equal

__all__ = ['attach', 'create', 'close', 'unlink', 'info', 'Client', 'ServerError', 'default_socket',
           'Ring', 'Reader', 'Writer', 'Frame', 'TornFrame', 'WriterDied']

# Region locks and atomic adds, shared with Go's package lock.
from .lock import MAX_REGIONS, REGION_OFFSET, RegionLock, add
__all__ += ['RegionLock', 'add']

# ndshm.list() and ndshm.gc(): `ndshm ls --json` and `ndshm gc --json` without a server.
from .catalog import gc, list  # noqa: E402,A004 -- ndshm.list shadows the builtin only here
__all__ += ['list', 'gc']

# Arrays that know their block and pickle by name (shared); the Pool pattern (partitions).
from .shared import SharedArray
from .partitions import map_partitions, partitions
__all__ += ['SharedArray', 'map_partitions', 'partitions']


def main(argv=None):
    """The command line (python3 -m ndshm) with arguments argv; returns the exit status.

    Imported only when called: `python3 -m ndshm` runs ndshm.__main__ itself, which
    must not have been imported as a submodule first."""
    from .__main__ import main
    return main(argv)

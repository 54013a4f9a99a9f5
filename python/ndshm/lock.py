"""Locks: region locks and atomic adds on shared blocks, those of Go's package lock.

RegionLock takes the read/write lock on numbered regions of one block that Go's
lock.Table takes, on the same bytes: region r is an OFD byte-range lock (fcntl
F_OFD_SETLK) on byte REGION_OFFSET + r of the block's file, far past any data.  So a Go
process and a Python process locking one region exclude each other, readers share, and
the kernel drops a lock when its holder dies, however it dies.  What a region is (a row,
a band of rows, a slot) is the convention of the processes that share the block.

add(array, index, value) adds to one int64, uint64 or float64 element with the
hardware's atomic instructions, those Go's lock.AddInt64 and lock.AddFloat64 use, so Go
and Python adders on one element lose no update.  Python has no atomics of its own: add
calls libatomic (libatomic.so.1, GCC's runtime, package libatomic1 on Debian) through
ctypes, and raises NotImplementedError where that library is missing or would fall back
to a process-local lock.  Only add is atomic: `a[i] += v` is a read and a write, and an
add that lands between them is lost, in Go and Python alike.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import operator
import os
import struct
import threading
import time
import weakref
from typing import Any, Optional, Tuple, Union

import numpy as np

from .blocks import SHM_DIR, _open, _path

__all__ = ['REGION_OFFSET', 'MAX_REGIONS', 'RegionLock', 'add']

REGION_OFFSET = 1 << 62     # Go's lock.RegionOffset: the file offset of region 0's lock byte
MAX_REGIONS = 1 << 62       # Go's lock.MaxRegions: regions run from 0 to MAX_REGIONS-1

_F_OFD_SETLK = getattr(fcntl, 'F_OFD_SETLK', 37)
_FLOCK = struct.Struct('hhqqi4x')
# Go's polling bounds (lock/acquire.go): a release is seen about 0.1 ms late after a
# short hold and at most 2 ms late after a long one.
_MIN_BACKOFF, _MAX_BACKOFF = 20e-6, 2e-3


def _setrange(fd: int, typ: int, off: int, n: int) -> bool:
    """Set fd's OFD lock on the n bytes at off to typ without waiting, as Go's
    sys.SetRange does: False if another open file description holds a conflicting
    lock, and then nothing changed (the kernel applies a range all or nothing)."""
    try:
        fcntl.fcntl(fd, _F_OFD_SETLK, _FLOCK.pack(typ, 0, off, n, 0))
        return True
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):     # POSIX allows either for a conflict
            return False
        raise


_DEFAULT: Any = object()   # acquire's timeout: the constructor's
Block = Union[str, np.ndarray]
Region = Union[int, range]


class RegionLock:
    """A read or write lock on region (an int) or regions (a range with step 1, taken all
    at once, as Go's LockRange does) of a block, shared with Go's lock.Table.

    block is a block name, or an array from attach() or create() (or a view of one),
    whose block is found by its mapping in /proc/self/maps and reopened by its name,
    which must still name that file.  Anonymous (memfd) blocks have no name: not here.

    Each acquire opens its own description of the block's file, so two RegionLocks
    exclude each other through the kernel as two Go Tables do, in one process or in
    many; one RegionLock is a lock, not a counter: a second acquire of it, from any
    thread, waits for its release, and any thread may release it.  A write lock opens
    the file for writing, so it needs write permission; a read lock, read permission.
    Readers share; a writer excludes them; there is no writer preference, as in Go.

    Waiting polls, as Go does, at intervals growing from 20 us to 2 ms.  timeout is
    in seconds: None waits for ever, 0 tries once.  A forked child does not inherit
    the parent's held locks (the parent keeps them) and cannot release them.

        with ndshm.RegionLock('hist', 3):           # write lock, as tab.Lock(ctx, 3)
            a[3] += 1
        with ndshm.RegionLock(a, range(0, 8), write=False, timeout=1.0):
            total = a[:8].sum()
    """

    def __init__(self, block: Block, region: Region, *, write: bool = True,
                 timeout: Optional[float] = None) -> None:
        self._path = _block_path(block)
        self._lo, self._hi = _regions(region)
        self.write, self.timeout = bool(write), timeout
        self._mu = threading.Lock()     # held while the region lock is
        self._fd = -1                   # the description holding the regions, or -1
        self._opening = -1              # a description _take is locking with, or -1

    def __repr__(self) -> str:
        return '<RegionLock %s [%d, %d) %s%s>' % (self._path, self._lo, self._hi,
                                                 'write' if self.write else 'read',
                                                 ' held' if self.locked() else '')

    def locked(self) -> bool:
        """Whether this RegionLock holds its regions."""
        return self._fd >= 0

    def acquire(self, timeout: Optional[float] = _DEFAULT) -> bool:
        """Take the regions, waiting at most timeout seconds (default: the constructor's;
        None for ever, 0 for one try); return whether it took them."""
        timeout = self.timeout if timeout is _DEFAULT else timeout
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0)
        if not self._mu.acquire(timeout=-1 if timeout is None else max(timeout, 0)):
            return False
        _busy.add(self)
        try:
            self._fd = self._take(deadline)
        finally:
            if self._fd < 0:
                _busy.discard(self)
                self._mu.release()
        return self._fd >= 0

    def _take(self, deadline: Optional[float]) -> int:
        """Open a new description and lock the regions on it; -1 at the deadline."""
        self._opening = fd = _open(self._path, os.O_RDWR if self.write else os.O_RDONLY)
        typ = fcntl.F_WRLCK if self.write else fcntl.F_RDLCK
        try:
            backoff = _MIN_BACKOFF
            while not _setrange(fd, typ, REGION_OFFSET + self._lo, self._hi - self._lo):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    os.close(fd)        # its own description: closing drops what it took
                    return -1
                time.sleep(backoff if left is None else min(backoff, left))
                backoff = min(2 * backoff, _MAX_BACKOFF)
            return fd
        except BaseException:
            os.close(fd)
            raise
        finally:
            self._opening = -1

    def release(self) -> None:
        """Release the regions; RuntimeError if this RegionLock does not hold them."""
        fd = self._fd
        if fd < 0:
            raise RuntimeError('release of an unheld %r' % self)
        self._fd = -1
        try:
            # Unlock first: a descriptor that a fork copied would keep the lock past close.
            _setrange(fd, fcntl.F_UNLCK, REGION_OFFSET + self._lo, self._hi - self._lo)
        finally:
            os.close(fd)
            _busy.discard(self)
            self._mu.release()

    def __del__(self) -> None:
        # Dropped while held, it could never be released: its descriptor would hold the
        # lock until this process exits.  Closing it drops the lock.
        fd, self._fd = getattr(self, '_fd', -1), -1
        if fd >= 0:
            os.close(fd)

    def __enter__(self) -> RegionLock:
        if not self.acquire():
            raise TimeoutError('%r: not taken within %gs' % (self, self.timeout))
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# The RegionLocks that hold or are taking their regions, for _forget_held.
_busy: 'weakref.WeakSet[RegionLock]' = weakref.WeakSet()


def _forget_held() -> None:
    """In a forked child: the parent holds the locks.  Closing the child's copies of
    their descriptors leaves them held (the parent's descriptors still are)."""
    for lk in list(_busy):
        for fd in (lk._fd, lk._opening):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        lk._fd, lk._opening, lk._mu = -1, -1, threading.Lock()
    _busy.clear()


os.register_at_fork(after_in_child=_forget_held)


def _regions(region: Region) -> Tuple[int, int]:
    """The regions [lo, hi) of an int or a step-1 range, checked as Go's checkRange does."""
    if isinstance(region, range):
        if region.step != 1:
            raise ValueError('region range %r: step must be 1' % (region,))
        lo, hi = region.start, region.stop
    else:
        lo = operator.index(region)
        hi = lo + 1
    if not 0 <= lo < MAX_REGIONS or not lo < hi <= MAX_REGIONS:
        raise ValueError('bad region: [%d, %d) is not within [0, 2**62)' % (lo, hi))
    return lo, hi


def _block_path(block: Block) -> str:
    if isinstance(block, str):
        return _path(block)
    if isinstance(block, np.ndarray):
        return _mapped_path(block)
    raise TypeError('block must be a block name or an array from attach/create, not %s'
                    % type(block).__name__)


def _mapped_path(a: np.ndarray) -> str:
    """The /dev/shm path of the block that a's memory maps: the mapping's path if it still
    names the mapped file, else the name in /dev/shm that does (create() maps its block
    before naming it, so its mapping shows no name).  A SharedArray's own block name is
    tried first, which spares the search when it still names the block."""
    blk = getattr(a, '_ndshm_block', None)
    if blk is not None and blk.name is not None:
        p = _path(blk.name)
        try:
            st = os.stat(p, follow_symlinks=False)
            if (st.st_dev, st.st_ino) == (blk.dev, blk.ino):
                return p
        except OSError:
            pass
    addr = a.__array_interface__['data'][0]
    with open('/proc/self/maps', 'rb') as f:
        for line in f:
            # address perms offset major:minor inode path
            fs = line.split(None, 5)
            lo, _, hi = fs[0].partition(b'-')
            if int(lo, 16) <= addr < int(hi, 16):
                break
        else:
            raise ValueError('the array maps no file: pass a block name')
    maj, _, mnr = fs[3].partition(b':')
    dev, ino = os.makedev(int(maj, 16), int(mnr, 16)), int(fs[4])
    path = os.fsdecode(fs[5].rstrip(b'\n')) if len(fs) == 6 else ''
    if not path.startswith(SHM_DIR + '/') or ino == 0:
        raise ValueError('the array does not map a named block in %s: pass a block name' % SHM_DIR)
    with os.scandir(SHM_DIR) as it:
        names = [e.path for e in it if e.inode() == ino]
    for p in [path] + names:
        try:
            st = os.stat(p, follow_symlinks=False)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (dev, ino):
            return p
    raise FileNotFoundError(errno.ENOENT, 'the block this array maps has no name in %s '
                            '(unlinked, or anonymous): lock it by a name' % SHM_DIR, path)


# __ATOMIC_SEQ_CST: Go's atomics are sequentially consistent.
_SEQ_CST = 5
_libatomic: list = []


def _atomics() -> ctypes.CDLL:
    """libatomic's 8-byte operations, loaded once; NotImplementedError without it."""
    if not _libatomic:
        name = ctypes.util.find_library('atomic') or 'libatomic.so.1'
        try:
            lib = ctypes.CDLL(name)
            u64, p = ctypes.c_uint64, ctypes.c_void_p
            lib.__atomic_fetch_add_8.restype = u64
            lib.__atomic_fetch_add_8.argtypes = [p, u64, ctypes.c_int]
            lib.__atomic_load_8.restype = u64
            lib.__atomic_load_8.argtypes = [p, ctypes.c_int]
            lib.__atomic_compare_exchange_8.restype = ctypes.c_bool
            lib.__atomic_compare_exchange_8.argtypes = [p, p, u64, ctypes.c_int, ctypes.c_int]
            lib.__atomic_is_lock_free.restype = ctypes.c_bool
            lib.__atomic_is_lock_free.argtypes = [ctypes.c_size_t, p]
        except (OSError, AttributeError) as e:
            lib = e
        _libatomic.append(lib)
    lib = _libatomic[0]
    if isinstance(lib, Exception):
        raise NotImplementedError('ndshm.add needs libatomic.so.1 (GCC\'s runtime, Debian package '
                                  'libatomic1) for atomic instructions: %s' % lib)
    return lib


_ADDABLE = tuple(np.dtype(t) for t in ('=i8', '=u8', '=f8'))


def add(array: np.ndarray, index: Union[int, Tuple[int, ...]], value: Union[int, float]) -> Union[int, float]:
    """Atomically add value to array[index] and return the new value: the lock-free sum
    of Go's lock.AddInt64 (int64; uint64 too, modulo 2**64) and lock.AddFloat64 (float64,
    a compare-and-swap loop on the value's bits), on the same memory with the same
    instructions, so Go and Python adders on one element lose no update.

    index selects one element (ints, one per dimension); the array must be writable,
    of native byte order, and the element 8-byte aligned (ValueError otherwise; Go
    panics), as every such element of a block is.  value must fit the dtype
    (OverflowError).  Only adds are atomic: a plain read-modify-write of the element,
    in either language, may lose adds that land between its read and its write.
    NotImplementedError without libatomic.so.1.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError('add needs an ndarray, not %s' % type(array).__name__)
    if array.dtype not in _ADDABLE:
        raise TypeError('add: dtype %s; only native int64, uint64 and float64 add atomically'
                        % array.dtype)
    if not array.flags.writeable:
        raise ValueError('add: the array is read-only')
    idx = (index,) if not isinstance(index, tuple) else index
    idx = tuple(operator.index(i) for i in idx)
    if len(idx) != array.ndim:
        raise IndexError('add: index %r does not select one element of a %d-d array' % (index, array.ndim))
    addr = array[idx + (Ellipsis,)].__array_interface__['data'][0]   # a 0-d view: no copy
    if addr % 8:
        raise ValueError('add: the element at %r is not 8-byte aligned' % (index,))
    lib = _atomics()
    if not lib.__atomic_is_lock_free(8, addr):
        raise NotImplementedError('add: libatomic has no lock-free 8-byte atomics here')
    if array.dtype.kind == 'f':
        return _add_float(lib, addr, float(value))
    return _add_int(lib, addr, array.dtype.kind, operator.index(value))


def _add_int(lib: ctypes.CDLL, addr: int, kind: str, d: int) -> int:
    lo, hi = (-(1 << 63), 1 << 63) if kind == 'i' else (0, 1 << 64)
    if not lo <= d < hi:
        raise OverflowError('add: %d does not fit %s' % (d, 'int64' if kind == 'i' else 'uint64'))
    new = (lib.__atomic_fetch_add_8(addr, d & (1 << 64) - 1, _SEQ_CST) + d) & (1 << 64) - 1
    return new - (1 << 64) if kind == 'i' and new >= 1 << 63 else new


def _add_float(lib: ctypes.CDLL, addr: int, d: float) -> float:
    old = ctypes.c_uint64(lib.__atomic_load_8(addr, _SEQ_CST))
    pack, unpack = struct.Struct('=d'), struct.Struct('=Q')
    while True:
        s = pack.unpack(unpack.pack(old.value))[0] + d
        bits = unpack.unpack(pack.pack(s))[0]
        # On failure the exchange stores the current bits in old: the next try starts there.
        if lib.__atomic_compare_exchange_8(addr, ctypes.addressof(old), bits, _SEQ_CST, _SEQ_CST):
            return s

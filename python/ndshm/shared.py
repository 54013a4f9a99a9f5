"""SharedArray: the ndarray that create() and attach() return, which knows its block.

A SharedArray is an ndarray (every NumPy function takes it as one) plus the block its
memory lies in: the block's name, the file (device and inode) and the mapping.  Slices
and views of it, strided, reversed or Fortran-ordered, keep the class and the block;
an array whose memory is not the block's (a ufunc's or a reduction's result, a copy)
is not shared: ufuncs return a plain ndarray, and a copy has name None.

Pickling by name.  A view of a named block pickles as (name, file offset, dtype,
shape, strides), about 150 bytes whatever its size, not as its bytes; unpickling
attaches the block by name and rebuilds the same view, so a worker process that
receives it writes into the parent's memory:

    with ndshm.create(None, (n,), 'f8') as a:      # an auto-named, owned block
        pool.map(work, [a[lo:hi] for lo, hi in parts])   # bytes cross, not megabytes

That works with every multiprocessing start method (fork, spawn, forkserver) and with
concurrent.futures.ProcessPoolExecutor, as it is plain pickling.  Unpickling checks
that the name still names the same file; a block that was closed or unlinked since
raises FileNotFoundError naming it.  A receiver maps each block once and reuses the
mapping while any of its views lives.  np.array(a) is a plain copy, which pickles
by value as any ndarray does.

Anonymous blocks (a server's memfd blocks, a Go pool's blocks) have no name another
process could attach: pickling a view of one raises TypeError rather than silently
sending a copy whose writes would be lost; pickle np.array(a) for a copy, or share
the block through the server (Client.anon(..., key=) and Client.get(key)).
"""

from __future__ import annotations

import errno
import os
import threading
import weakref
from typing import Any, Optional

import numpy as np

_NUMPY1 = np.lib.NumpyVersion(np.__version__) < '2.0.0'    # 2 says when to give a scalar


class _Block:
    """A mapping of a block in this process: what its views share.

    name is None for an anonymous block.  [addr, addr+size) is the mapping, which
    starts at file offset 0.  created says this process made the block (so a with
    statement's exit releases it)."""

    __slots__ = ('name', 'dev', 'ino', 'addr', 'size', 'allow_foreign', 'created', 'pid',
                 '__weakref__')

    def __init__(self, name: Optional[str], dev: int, ino: int, addr: int, size: int,
                 allow_foreign: bool = False, created: bool = False) -> None:
        self.name, self.dev, self.ino, self.addr, self.size = name, dev, ino, addr, size
        self.allow_foreign, self.created, self.pid = allow_foreign, created, os.getpid()


class SharedArray(np.ndarray):
    """An ndarray over a block's memory that pickles by name (see the module's doc).

    name is the block's name (None if the memory is not a named block's), offset the
    byte offset of the array's first element in the block's file.  As a context
    manager, exit releases a block this process created (close(name) for an owned
    block, unlink for a persistent one); for an attached block it does nothing."""

    _ndshm_block: Optional[_Block] = None

    def __array_finalize__(self, obj: Any) -> None:
        blk = getattr(obj, '_ndshm_block', None)
        # A view lies in its parent's memory; a copy or a new result does not.
        self._ndshm_block = blk if blk is not None and np.may_share_memory(self, obj) else None

    def __array_wrap__(self, out: np.ndarray, context: Any = None, return_scalar: bool = False) -> Any:
        if getattr(out, '_ndshm_block', None) is not None:     # out=a: still the block
            return out
        if return_scalar or _NUMPY1 and out.ndim == 0:     # a scalar, as ndarray gives
            return out[()]
        return out.view(np.ndarray) if isinstance(out, np.ndarray) else out

    @property
    def name(self) -> Optional[str]:
        """The block's name; None for an anonymous block or memory no block holds."""
        blk = self._ndshm_block
        return None if blk is None else blk.name

    @property
    def offset(self) -> Optional[int]:
        """The byte offset of this array's first element in its block's file."""
        blk = self._ndshm_block
        return None if blk is None else self.__array_interface__['data'][0] - blk.addr

    def __enter__(self) -> 'SharedArray':
        return self

    def __exit__(self, *exc: Any) -> None:
        blk = self._ndshm_block
        if blk is not None and blk.created and blk.name is not None and blk.pid == os.getpid():
            from .blocks import _release
            _release(blk.name, blk.dev, blk.ino)

    def __reduce_ex__(self, protocol: Any) -> Any:
        blk = self._ndshm_block
        if blk is None:         # not shared memory: a plain ndarray, by value
            return self.view(np.ndarray).__reduce_ex__(protocol)
        if blk.name is None:
            raise TypeError('cannot pickle a view of an anonymous ndshm block: no other process '
                            'can attach it by name; pickle np.array(a) for a copy, or publish the '
                            'block with Client.anon(..., key=) and Client.get(key)')
        return _rebuild, (blk.name, blk.dev, blk.ino, self.offset, self.dtype, self.shape,
                          self.strides, not self.flags.writeable, blk.allow_foreign)

    def __reduce__(self) -> Any:
        return self.__reduce_ex__(2)


def _shared(a: np.ndarray, blk: Optional[_Block]) -> SharedArray:
    """a, an array over blk's mapping, as a SharedArray of blk."""
    s = a.view(SharedArray)
    s._ndshm_block = blk
    return s


# Mappings made by unpickling, by (dev, ino, readonly): each block is mapped once
# per process while any view of it lives.
_maps: 'weakref.WeakValueDictionary[tuple, np.ndarray]' = weakref.WeakValueDictionary()
_maps_lock = threading.Lock()


def _rebuild(name: str, dev: int, ino: int, offset: int, dtype: np.dtype, shape: tuple,
             strides: tuple, readonly: bool, allow_foreign: bool) -> SharedArray:
    """Unpickle a view: map the block NAME, check it is the file the view was of, and
    make the view at offset with its dtype, shape and strides."""
    with _maps_lock:
        base = _maps.get((dev, ino, readonly))
        if base is None:
            base = _map(name, dev, ino, readonly, allow_foreign)
            _maps[(dev, ino, readonly)] = base
    a = np.ndarray(shape, dtype, buffer=base, offset=offset, strides=strides)
    return _shared(a, base._ndshm_block)


def _map(name: str, dev: int, ino: int, readonly: bool, allow_foreign: bool) -> SharedArray:
    """The whole file of block NAME mapped as bytes, if it is still the file (dev, ino)."""
    import mmap
    from .blocks import _check_owner, _open, _path
    why = 'cannot unpickle a view of ndshm block %s: ' % name
    try:
        fd = _open(_path(name), os.O_RDONLY if readonly else os.O_RDWR)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, why + 'the block is gone (its owner closed or '
                                'unlinked it, or exited)', name) from None
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (dev, ino):
            raise FileNotFoundError(errno.ENOENT, why + 'the block the view was of is gone; the '
                                    'name now belongs to another block', name)
        if not allow_foreign:
            _check_owner(fd, name)
        prot = mmap.PROT_READ if readonly else mmap.PROT_READ | mmap.PROT_WRITE
        mm = mmap.mmap(fd, st.st_size, mmap.MAP_SHARED, prot)
    finally:
        os.close(fd)
    base = np.frombuffer(mm, np.uint8) if readonly else np.ndarray(st.st_size, np.uint8, buffer=mm)
    blk = _Block(name, dev, ino, base.__array_interface__['data'][0], st.st_size, allow_foreign)
    return _shared(base, blk)

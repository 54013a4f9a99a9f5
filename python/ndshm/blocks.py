"""Blocks: create, attach, info, close and unlink named blocks in SHM_DIR: $NDSHM_DIR
(an absolute path) as it was at import, else /dev/shm.

A block speaks format version 1 (docs/FORMAT.md): a .npy header padded to a multiple of
4096 bytes, the array data, zero padding to a 4096 boundary, and a 4096-byte control
footer found from the end of the file.  This module holds that format, the dtypes a
block may hold (the table Go checks too), and the ownership of blocks created here: the
OFD liveness lock their creator holds while it lives.  The arrays it returns are
SharedArrays (module shared), which know their block and pickle by name.
"""

from __future__ import annotations

import atexit
import errno
import fcntl
import io
import math
import mmap
import operator
import os
import secrets
import stat
import struct
import threading
import time
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.lib import format as npyfmt

from ._sys import SHM_DIR, _dir_huge, _held, _huge_page_size, _lock, _shm_dir, _smaps_huge, _start_time, _users
from .shared import SharedArray, _Block, _shared

Shape = Union[int, Sequence[int]]
DTypeLike = Any             # whatever np.dtype() takes


VERSION = 1
PAGE = 4096
FOOTER_LEN = 4096
KIND_ARRAY, KIND_RING = 1, 2
FLAG_PERSISTENT, FLAG_ANONYMOUS = 1, 2
LIVENESS_OFF = 64           # the footer byte an owned block's creator read-locks

# magic, version, kind, flags, creator pid, creator start time, created ns, H, N
_FOOTER = struct.Struct('<8sIIQqQqQQ')
_TRAILER = struct.Struct('<Q8s')        # L, trailer magic; the last 16 bytes
_FOOTER_MAGIC, _TRAILER_MAGIC = b'NDSHMFTR', b'NDSHMEND'


def _roundup(n: int, m: int = PAGE) -> int:
    return -(-n // m) * m


def _path(name: str) -> str:
    """Validate a block name the way shm_open does and return its path."""
    if not isinstance(name, str):
        raise TypeError('block name must be a str, not %s' % type(name).__name__)
    base = name[1:] if name.startswith('/') else name
    if (not base or base in ('.', '..') or '/' in base or '\0' in base
            or len(os.fsencode(base)) > 255):
        raise ValueError('invalid block name %r' % name)
    return os.path.join(_shm_dir(), base)


# The dtypes a block may hold: exactly those Go's ParseDType and fromDescr accept
# (dtype.go, dtype_npy.go), checked against the same table, testdata/dtypes.json.
_SIZES = {'b': (1,), 'i': (1, 2, 4, 8), 'u': (1, 2, 4, 8), 'f': (2, 4, 8), 'c': (8, 16),
          'M': (8,), 'm': (8,)}
_UNITS = ('Y', 'M', 'W', 'D', 'h', 'm', 's', 'ms', 'us', 'ns', 'ps', 'fs', 'as', 'generic')
_MAX_RECORD = 1 << 30       # Go's maxRecord: a record's bytes
_MAX_SIZE = 1 << 46         # Go's maxSize: a block's data bytes
_MAX_DIMS = 32              # NumPy 1.x's NPY_MAXDIMS, Go's npy.MaxDims
_SUPPORTED = ('ndshm blocks hold bool, int8-64, uint8-64, float16/32/64, complex64/128, '
              'datetime64/timedelta64 with a plain unit, bytes (S), void (V) and records of these')


def _check_simple(s: str) -> None:
    """Refuse a simple descr string ('<f8') as Go's ParseDType does, with its words."""
    order, rest = (s[0], s[1:]) if s[:1] in ('<', '>', '|', '=') else ('<', s)
    order = '<' if order == '=' else order
    kind, size, unit = rest[:1], rest[1:], ''
    if kind in ('M', 'm') and '[' in size:
        size, unit = size[:size.index('[')], size[size.index('['):]
    ok = len(rest) >= 2 and size.isdigit() and size.isascii() and (
        not unit or unit[-1:] == ']' and unit[1:-1] in _UNITS)
    if ok:
        n = int(size)
        ok = n in _SIZES[kind] if kind in _SIZES else kind in ('S', 'V') and 0 < n <= _MAX_RECORD
    if not ok:
        raise ValueError('unsupported dtype "%s%s": %s' % (order, rest, _SUPPORTED))


def _check_descr(d: Any) -> None:
    """Refuse a .npy descr (a string or a record's field list) that Go cannot open."""
    if isinstance(d, str):
        return _check_simple(d)
    if not d:
        raise ValueError('structured dtype with no fields: ' + _SUPPORTED)
    for f in d:
        _check_descr(f[1])


def _check_dtype(dtype: DTypeLike) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.subdtype is not None:
        raise ValueError('dtype %s is a sub-array: put its shape %r in the array\'s shape'
                         % (dtype, dtype.shape))
    _check_descr(npyfmt.dtype_to_descr(dtype))
    if dtype.itemsize == 0 or dtype.itemsize > _MAX_RECORD:
        raise ValueError('dtype %s: %d-byte elements; %s' % (dtype, dtype.itemsize, _SUPPORTED))
    return dtype


def _check_shape(shape: Shape) -> Tuple[int, ...]:
    shape = (shape,) if np.ndim(shape) == 0 else shape
    shape = tuple(operator.index(d) for d in shape)
    if any(d < 0 for d in shape):
        raise ValueError('negative dimension in shape %r' % (shape,))
    return shape


def _check_size(dtype: np.dtype, shape: Tuple[int, ...]) -> None:
    """Refuse shapes Go refuses (Spec.check): over 32 dimensions, or more than 2^46 bytes
    counting only the non-zero dimensions, as NumPy refuses them even when empty."""
    if len(shape) > _MAX_DIMS:
        raise ValueError('%d dimensions, at most %d allowed' % (len(shape), _MAX_DIMS))
    if any(d < 0 for d in shape) or dtype.itemsize * math.prod(d for d in shape if d) > _MAX_SIZE:
        raise ValueError('shape %r of %s: negative or too large (at most %d bytes)'
                         % (tuple(shape), dtype, _MAX_SIZE))


# Caps on what a block may claim, Go's (footer.go, meta.go, internal/npy): nothing a
# footer says is read or allocated before it passes them.
_MAX_HEADER = (1 << 20) + PAGE                          # npy.MaxHeaderLen + page
_MAX_FOOTER = _roundup(128 + (1 << 24) + _TRAILER.size)   # controlOff + maxControl + trailer


def _read_block(fd: int, name: str) -> Dict[str, Any]:
    """Validate the ndshm block open on fd; return its footer and header fields."""
    size = os.fstat(fd).st_size
    if size < FOOTER_LEN + PAGE:
        raise ValueError('%s: not an ndshm block (%d bytes is too small)' % (name, size))
    L, magic = _TRAILER.unpack(os.pread(fd, _TRAILER.size, size - _TRAILER.size))
    if magic != _TRAILER_MAGIC:
        raise ValueError('%s: not an ndshm block (no trailer magic)' % name)
    if L < FOOTER_LEN or L % PAGE or L > _MAX_FOOTER or L > size:
        raise ValueError('%s: footer length %d in a %d-byte file (at most %d)' % (name, L, size, _MAX_FOOTER))
    f = _FOOTER.unpack(os.pread(fd, _FOOTER.size, size - L))
    fmagic, version, kind, flags, pid, start, created, H, N = f
    if fmagic != _FOOTER_MAGIC or version != VERSION:
        raise ValueError('%s: bad footer (magic %r, version %d)' % (name, fmagic, version))
    if H == 0 or H % PAGE or H > _MAX_HEADER or N > _MAX_SIZE or _roundup(H + N) != size - L:
        raise ValueError('%s: footer says data [%d, +%d) in a %d-byte file (header at most %d bytes, '
                         'data at most %d)' % (name, H, N, size, _MAX_HEADER, _MAX_SIZE))
    head = os.pread(fd, H, 0)
    if len(head) != H:
        raise ValueError('%s: short read of the header' % name)
    try:
        fp = io.BytesIO(head)
        npy_version = npyfmt.read_magic(fp)
        read = {(1, 0): npyfmt.read_array_header_1_0,
                (2, 0): npyfmt.read_array_header_2_0}.get(npy_version)
        if read is None:
            raise ValueError('unsupported .npy version %d.%d' % npy_version)
        shape, fortran, dtype = read(fp, max_header_size=H)
        hlen = fp.tell()
        dtype = _check_dtype(dtype)
    except Exception as e:     # numpy's parser can raise tokenize errors and more
        raise ValueError('%s: bad .npy header: %s' % (name, e)) from None
    if hlen != H:
        raise ValueError('%s: .npy header is %d bytes, footer says %d' % (name, hlen, H))
    try:
        _check_size(dtype, shape)
    except ValueError as e:
        raise ValueError('%s: %s' % (name, e)) from None
    if dtype.itemsize * math.prod(shape) != N:
        raise ValueError('%s: dtype %s and shape %r do not make %d bytes'
                         % (name, dtype, shape, N))
    return dict(kind=kind, flags=flags, pid=pid, start=start, created=created, H=H, N=N, L=L, size=size,
                dtype=dtype, shape=shape, order='F' if fortran else 'C')


def _open(path: str, flags: int) -> int:
    """Open a block as Go's sys.Open does: O_NOFOLLOW (a planted symlink cannot redirect
    us), O_CLOEXEC, and O_NONBLOCK (a FIFO planted under the name cannot hang us); then
    refuse anything but a regular file."""
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError('%s is not a regular file, so not a block' % path)
    return fd


def _view(fd: int, length: int, dtype: np.dtype, shape: Tuple[int, ...], offset: int, order: str,
          readonly: bool, name: Optional[str] = None, allow_foreign: bool = False,
          created: bool = False) -> SharedArray:
    """Map the first length bytes of fd and return the array at offset, a SharedArray
    of the block name (None: anonymous), which the mapping starts."""
    if length == 0:             # an empty raw array: there is nothing to map, nor to share
        return _shared(np.ndarray(shape, dtype, buffer=b'' if readonly else bytearray(), order=order),
                       None)
    prot = mmap.PROT_READ if readonly else mmap.PROT_READ | mmap.PROT_WRITE
    mm = mmap.mmap(fd, length, mmap.MAP_SHARED, prot)
    a = np.ndarray(shape, dtype, buffer=mm, offset=offset, order=order)
    st = os.fstat(fd)
    blk = _Block(name, st.st_dev, st.st_ino, a.__array_interface__['data'][0] - offset, length,
                 allow_foreign, created)
    return _shared(a, blk)


def attach(name: str, dtype: DTypeLike = None, shape: Optional[Shape] = None,
           order: Optional[str] = None, readonly: bool = False,
           allow_foreign: bool = False) -> SharedArray:
    """Return a zero-copy ndarray (a SharedArray) over the block /dev/shm/NAME.

    An ndshm block's footer and .npy header are validated (ValueError if anything is
    inconsistent) and give the dtype, shape and order; dtype, shape and order may be
    given too, and must then agree with them (ValueError naming both otherwise).  A
    raw block (no ndshm trailer, say from SharedMemory) needs dtype and shape: the data
    starts at offset 0, in order (default 'C'), and the file must be large enough.
    The array keeps the mapping alive; it is writable unless readonly is true.
    Attaching never registers the block with resource_tracker.  The array and its
    views pickle by name (module shared); a with statement over it does nothing at exit.

    A block whose file belongs to neither this user nor root is refused
    (PermissionError) unless allow_foreign is true: its owner can truncate the file
    under the mapping, and touching the lost pages kills this process with SIGBUS.
    """
    path = _path(name)
    if (dtype is None) != (shape is None):
        raise ValueError('give both dtype and shape (raw block) or neither')
    if order not in (None, 'C', 'F'):
        raise ValueError("order must be 'C' or 'F', not %r" % (order,))
    fd = _open(path, os.O_RDONLY if readonly else os.O_RDWR)
    try:
        if not allow_foreign:
            _check_owner(fd, name)
        return _attach_fd(fd, name, dtype, shape, order, readonly, named=True,
                          allow_foreign=allow_foreign)
    finally:
        os.close(fd)


def _check_owner(fd: int, name: str) -> None:
    """Refuse a block another user (not root) owns, as Go's Open does."""
    uid, me = os.fstat(fd).st_uid, os.getuid()
    if uid not in (me, 0):
        raise PermissionError(errno.EACCES, 'block %s is owned by uid %d, neither you (uid %d) nor root: '
                              'that user can truncate it under your mapping (SIGBUS); pass '
                              'allow_foreign=True to attach it anyway' % (name, uid, me))


def _has_trailer(fd: int) -> bool:
    """Whether the file ends in ndshm's trailer magic: it claims to be an ndshm block."""
    size = os.fstat(fd).st_size
    return size >= _TRAILER.size and os.pread(fd, 8, size - 8) == _TRAILER_MAGIC


def _spec_text(dtype: np.dtype, shape: Tuple[int, ...], order: Optional[str] = None) -> str:
    d = npyfmt.dtype_to_descr(dtype)
    return '%s %r%s' % (d if isinstance(d, str) else repr(d), shape, ' order ' + order if order else '')


def _attach_fd(fd: int, name: str, dtype: DTypeLike = None, shape: Optional[Shape] = None,
               order: Optional[str] = None, readonly: bool = False, named: bool = False,
               allow_foreign: bool = False) -> SharedArray:
    """attach() of the block open as fd, which the caller still owns and may close.

    name labels errors, and is the block's name if named (else the block is anonymous:
    its arrays refuse to pickle).  The mapping does not need the descriptor.
    """
    label = name if named else None
    if dtype is not None:
        dtype, shape = _check_dtype(dtype), _check_shape(shape)
        _check_size(dtype, shape)
        if not _has_trailer(fd):
            n = dtype.itemsize * math.prod(shape)
            size = os.fstat(fd).st_size
            if size < n:
                raise ValueError('%s: %d bytes, too small for %s%r (%d bytes)'
                                 % (name, size, dtype, shape, n))
            return _view(fd, n, dtype, shape, 0, order or 'C', readonly, label, allow_foreign)
    b = _read_block(fd, name)
    if dtype is not None:   # redundant if it agrees; the header is never read as data
        if dtype != b['dtype'] or shape != b['shape']:
            raise ValueError('block %s holds %s, not %s' % (
                name, _spec_text(b['dtype'], b['shape']), _spec_text(dtype, shape)))
        if order and order != b['order'] and len(shape) > 1:
            raise ValueError('block %s holds %s, not %s' % (
                name, _spec_text(b['dtype'], b['shape'], b['order']), _spec_text(dtype, shape, order)))
    return _view(fd, b['H'] + b['N'], b['dtype'], b['shape'], b['H'], b['order'], readonly, label,
                 allow_foreign)


def _npy_header(dtype: np.dtype, shape: Tuple[int, ...], fortran: bool) -> bytes:
    """The .npy header for an array, padded so that its length is a multiple of 4096."""
    d = {'descr': npyfmt.dtype_to_descr(dtype), 'fortran_order': fortran, 'shape': shape}
    text = '{' + ''.join('%r: %r, ' % kv for kv in sorted(d.items())) + '}'
    try:
        text = text.encode('latin1')
    except UnicodeEncodeError:
        raise ValueError('dtype field names must be latin-1 for a .npy v1/v2 header') from None
    for version, fmt in ((1, '<H'), (2, '<I')):
        prefix = 8 + struct.calcsize(fmt)
        H = _roundup(prefix + len(text) + 1)
        if H - prefix < 1 << (8 * struct.calcsize(fmt)):
            pad = b' ' * (H - prefix - len(text) - 1)
            return npyfmt.magic(version, 0) + struct.pack(fmt, H - prefix) + text + pad + b'\n'
    raise ValueError('dtype too large for a .npy header')


def create(name: Optional[str] = None, shape: Optional[Shape] = None, dtype: DTypeLike = np.float64,
           order: str = 'C', fill: Any = None, persistent: bool = False,
           mode: int = 0o600) -> SharedArray:
    """Create the ndshm block /dev/shm/NAME and return a writable view of it, a
    SharedArray: its views pickle by name (module shared), its .name is the name.

    With name None a free name is made up, as SharedMemory(create=True) does:
    'ndshm-' and 16 random hex digits.  Used in a with statement, the block is
    released at exit (close(name); unlink(name) if persistent):

        with create(None, (n,), 'f8') as a:
            ...

    The data is zeroed, or set to fill.  The block is owned by this process, as
    Go's Create makes it: this process holds its liveness lock (an OFD read lock on
    the footer's liveness byte) and unlinks it on close(name) or at exit; if the
    process dies without that (SIGKILL), the block is an orphan that `ndshm gc`
    removes.  With persistent=True it lives until unlink() instead.  Views stay
    valid after the name is gone.  The name must be free (FileExistsError
    otherwise); the memory is reserved up front, so a full /dev/shm raises
    OSError(ENOSPC) here.  Where the kernel allows it the block is built unnamed
    (O_TMPFILE) and linked to its name only when complete, so no reader ever sees
    it half-written nor an owned block without its lock.

    mode is the file's permission bits (default 0o600: the owner only) less the
    process umask, as shm_open and Go's ndshm.Perm make them; setuid, setgid and
    sticky bits are dropped.
    """
    if shape is None:
        raise TypeError('create() needs a shape')
    if name is not None:
        return _create(name, shape, dtype, order, fill, persistent, mode)
    for _ in range(100):
        try:
            return _create(_auto_name(), shape, dtype, order, fill, persistent, mode)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, 'no free random block name after 100 tries', SHM_DIR)


def _auto_name() -> str:
    return 'ndshm-' + secrets.token_hex(8)


def _create(name: str, shape: Shape, dtype: DTypeLike, order: str, fill: Any, persistent: bool,
            mode: int) -> SharedArray:
    path = _path(name)
    dtype, shape = _check_dtype(dtype), _check_shape(shape)
    _check_size(dtype, shape)
    if order not in ('C', 'F'):
        raise ValueError("order must be 'C' or 'F', not %r" % (order,))
    mode = operator.index(mode)
    if not 0 <= mode <= 0o7777:
        raise ValueError('mode %#o is not a file mode (0 to 0o7777)' % mode)
    header = _npy_header(dtype, shape, order == 'F')
    H, N = len(header), dtype.itemsize * math.prod(shape)
    F = _roundup(H + N)
    L, p = FOOTER_LEN, _huge_page_size()
    if F + L >= p and _huge_dir():    # whole huge pages; the footer takes the slack (docs/FORMAT.md)
        L += -(F + L) % p
    footer = bytearray(L)
    _FOOTER.pack_into(footer, 0, _FOOTER_MAGIC, VERSION, KIND_ARRAY, FLAG_PERSISTENT if persistent else 0,
                      os.getpid(), _start_time(), time.time_ns(), H, N)
    _TRAILER.pack_into(footer, L - _TRAILER.size, L, _TRAILER_MAGIC)

    fd, tmpfile = _create_file(path, mode & 0o777)
    kept = False
    try:
        os.ftruncate(fd, F + L)     # sized first: huge=within_size gives huge pages below the size
        os.posix_fallocate(fd, 0, F + L)
        os.pwrite(fd, header, 0)
        os.pwrite(fd, footer, F)
        if not persistent:      # before the name exists: nobody sees it lockless
            _lock(fd, F + LIVENESS_OFF, fcntl.F_RDLCK)
        a = _view(fd, H + N, dtype, shape, H, order, False, os.path.basename(path), created=True)
        if fill is not None:
            a[...] = fill
        if tmpfile:     # a dir fd makes os.link use linkat(AT_SYMLINK_FOLLOW) before 3.14
            proc = os.open('/proc/self/fd', os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.link(str(fd), path, src_dir_fd=proc, follow_symlinks=True)
            except FileExistsError:
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), path) from None
            finally:
                os.close(proc)
        if not persistent:
            _own(path, fd)
            kept = True
        return a
    except BaseException:
        if not tmpfile:
            try:
                st, mine = os.stat(path), os.fstat(fd)
                if (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino):
                    os.unlink(path)
            except OSError:
                pass
        raise
    finally:
        if not kept:
            os.close(fd)


def _create_file(path: str, perm: int) -> Tuple[int, bool]:
    """A new file for a block: unnamed in SHM_DIR (O_TMPFILE) where the kernel allows
    it, else created exclusively at path.  Returns it and whether it is unnamed."""
    if hasattr(os, 'O_TMPFILE') and os.path.isdir('/proc/self/fd'):
        try:
            return os.open(_shm_dir(), os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, perm), True
        except OSError:
            pass
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, perm), False


# Owned blocks: path -> the descriptor whose open file description holds the liveness
# lock.  A raw int, never a file object whose finalizer could close it and drop the lock.
_owned: Dict[str, int] = {}
_owned_lock = threading.Lock()
_owner_pid = os.getpid()


def _own(path: str, fd: int) -> None:
    with _owned_lock:
        _owned[path] = fd


def _same_file(fd: int, path: str) -> bool:
    try:
        a, b = os.fstat(fd), os.lstat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def close(name: str) -> bool:
    """End this process's ownership of the block it created as NAME: unlink the name
    (unless it now names another file) and drop the liveness lock.  Views stay valid.
    Returns whether it unlinked; a block this process does not own is left alone."""
    path = _path(name)
    with _owned_lock:
        fd = _owned.pop(path, None)
    if fd is None:
        return False
    try:
        if _same_file(fd, path):
            try:
                os.unlink(path)
                return True
            except FileNotFoundError:
                pass
        return False
    finally:
        os.close(fd)


@atexit.register
def _close_all() -> None:
    """At exit, the owner unlinks its owned blocks (a forked child owns none)."""
    if os.getpid() != _owner_pid:
        return
    for path in list(_owned):
        try:
            close(os.path.basename(path))
        except OSError:
            pass


def _forget_owned() -> None:
    """In a forked child: the parent owns the blocks.  Closing the child's copies of
    the descriptors keeps the lock (the parent's descriptor still holds it)."""
    global _owner_pid, _owned_lock
    _owner_pid, _owned_lock = os.getpid(), threading.Lock()
    for fd in _owned.values():
        try:
            os.close(fd)
        except OSError:
            pass
    _owned.clear()


os.register_at_fork(after_in_child=_forget_owned)


def _release(name: str, dev: int, ino: int) -> None:
    """Release the block NAME this process created, if NAME still names that file
    (dev, ino): close it if owned, else (persistent) unlink it."""
    if close(name):
        return
    path = _path(name)
    try:
        st = os.lstat(path)
        if (st.st_dev, st.st_ino) == (dev, ino):
            os.unlink(path)
    except FileNotFoundError:
        pass


def unlink(name: str) -> None:
    """Remove the name /dev/shm/NAME.  Mapped views stay valid until dropped.
    An owned block of this process is also released (see close)."""
    path = _path(name)
    with _owned_lock:
        fd = _owned.pop(path, None)
    if fd is not None:
        os.close(fd)
    os.unlink(path)


def info(name: str) -> Dict[str, Any]:
    """Describe the ndshm block NAME as a dict with the keys and meanings of
    `ndshm inspect --json` (docs/JSON.md, "A block object"): name, kind ('array',
    'ring'), dtype (NumPy's descriptor; a record's field list as its Python literal),
    shape, order, count (elements), size_bytes (data bytes), data_offset,
    file_size_bytes, persistent, anonymous, huge_pages (the kernel maps its data with huge
    pages, as a mapping made for the question shows in /proc/self/smaps), creator_pid,
    creator_alive (the creator
    runs: it holds the liveness lock, or for a persistent block a process with its pid
    and start time runs), orphan (owned by a creator that died: only gc removes
    it), created (RFC 3339 in local time, nanoseconds as Go prints them) and users
    (the pids that map the block or hold it open, from a search of /proc that costs
    milliseconds, as Go's Stat makes it)."""
    b, fid = _describe(name)
    b['users'] = _users(*fid)
    return b


def _describe(name: str) -> Tuple[Dict[str, Any], Tuple[int, int]]:
    """info(name) with 'users' still empty, and the file's (st_dev, st_ino) to search
    /proc for them (catalog searches once for every block)."""
    path = _path(name)
    fd = _open(path, os.O_RDONLY)
    try:
        b = _read_block(fd, name)
        st = os.fstat(fd)
        persistent = bool(b['flags'] & FLAG_PERSISTENT)
        if persistent:  # no lock holder: the creator's pid and start time, as Go's Stat
            alive = b['pid'] > 0 and _start_time(str(b['pid'])) == b['start']
        else:
            alive = _held(fd, b['size'] - b['L'] + LIVENESS_OFF)
        huge = _huge_file(fd, b['size'])
    finally:
        os.close(fd)    # before info's search, which must not count this process for it
    descr = npyfmt.dtype_to_descr(b['dtype'])
    anonymous = bool(b['flags'] & FLAG_ANONYMOUS)
    return {'name': os.path.basename(path), 'kind': _KINDS.get(b['kind'], 'kind(%d)' % b['kind']),
            'dtype': descr if isinstance(descr, str) else repr(descr),
            'shape': list(b['shape']), 'order': b['order'], 'count': math.prod(b['shape']),
            'size_bytes': b['N'], 'data_offset': b['H'], 'file_size_bytes': b['size'],
            'persistent': persistent, 'anonymous': anonymous, 'huge_pages': huge,
            'creator_pid': b['pid'],
            'creator_alive': alive, 'orphan': not (persistent or anonymous or alive),
            'created': _rfc3339(b['created']), 'users': []}, (st.st_dev, st.st_ino)


_KINDS = {KIND_ARRAY: 'array', KIND_RING: 'ring'}     # Go's BlockKind.String


_huge_dirs: Dict[str, bool] = {}


def _huge_dir() -> bool:
    """_dir_huge of the block directory, read once per process, as Go reads it."""
    d = _shm_dir()
    if d not in _huge_dirs:
        _huge_dirs[d] = _dir_huge(d)
    return _huge_dirs[d]


def _huge_file(fd: int, size: int) -> bool:
    """Whether the block open as fd (size bytes, validated) has its pages huge, asked as
    Go's Stat asks: through a read-only mapping made for the question, with one byte read
    where its first whole huge page starts (a read fault maps a huge page whole), then
    /proc/self/smaps. The mapping is gone before info searches /proc for users."""
    try:
        mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
    except (OSError, ValueError):
        return False
    try:
        a = np.frombuffer(mm, np.uint8)
        base, p = a.ctypes.data, _huge_page_size()
        off = (p - base % p) % p
        if off + p <= a.size:
            int(a[off])
        del a
        return _smaps_huge(base)
    finally:
        mm.close()


def _rfc3339(ns: int) -> str:
    """ns since the epoch as Go's time.Unix(0, ns).Format(time.RFC3339Nano) prints it:
    local time, the fraction's trailing zeros dropped, 'Z' for a zero offset."""
    sec, frac = divmod(ns, 10**9)
    t = time.localtime(sec)
    off = t.tm_gmtoff // 60
    zone = 'Z' if off == 0 else '%s%02d:%02d' % ('-' if off < 0 else '+', abs(off) // 60, abs(off) % 60)
    f = ('.%09d' % frac).rstrip('0') if frac else ''
    return time.strftime('%Y-%m-%dT%H:%M:%S', t) + f + zone

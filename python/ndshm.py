"""ndshm: share NumPy arrays between processes through /dev/shm, with zero copies.

This is the NumPy side of ndshm. It speaks block format version 1 (docs/FORMAT.md):
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
"""

import argparse
import ast
import atexit
import ctypes
import errno
import fcntl
import io
import json
import math
import mmap
import operator
import os
import socket as _socket
import stat
import struct
import sys
import threading
import time
import weakref

import numpy as np
from numpy.lib import format as npyfmt

__all__ = ['attach', 'create', 'close', 'unlink', 'info', 'Client', 'ServerError', 'default_socket',
           'Ring', 'Reader', 'Writer', 'Frame', 'TornFrame', 'WriterDied']

SHM_DIR = '/dev/shm'
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


def _roundup(n, m=PAGE):
    return -(-n // m) * m


def _path(name):
    """Validate a block name the way shm_open does and return its path."""
    if not isinstance(name, str):
        raise TypeError('block name must be a str, not %s' % type(name).__name__)
    base = name[1:] if name.startswith('/') else name
    if (not base or base in ('.', '..') or '/' in base or '\0' in base
            or len(os.fsencode(base)) > 255):
        raise ValueError('invalid block name %r' % name)
    return os.path.join(SHM_DIR, base)


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


def _check_simple(s):
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


def _check_descr(d):
    """Refuse a .npy descr (a string or a record's field list) that Go cannot open."""
    if isinstance(d, str):
        return _check_simple(d)
    if not d:
        raise ValueError('structured dtype with no fields: ' + _SUPPORTED)
    for f in d:
        _check_descr(f[1])


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.subdtype is not None:
        raise ValueError('dtype %s is a sub-array: put its shape %r in the array\'s shape'
                         % (dtype, dtype.shape))
    _check_descr(npyfmt.dtype_to_descr(dtype))
    if dtype.itemsize == 0 or dtype.itemsize > _MAX_RECORD:
        raise ValueError('dtype %s: %d-byte elements; %s' % (dtype, dtype.itemsize, _SUPPORTED))
    return dtype


def _check_shape(shape):
    shape = (shape,) if np.ndim(shape) == 0 else shape
    shape = tuple(operator.index(d) for d in shape)
    if any(d < 0 for d in shape):
        raise ValueError('negative dimension in shape %r' % (shape,))
    return shape


def _check_size(dtype, shape):
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


def _read_block(fd, name):
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
    fmagic, version, kind, flags, pid, _start, created, H, N = f
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
    return dict(kind=kind, flags=flags, pid=pid, created=created, H=H, N=N, L=L, size=size,
                dtype=dtype, shape=shape, order='F' if fortran else 'C')


def _open(path, flags):
    """Open a block as Go's sys.Open does: O_NOFOLLOW (a planted symlink cannot redirect
    us), O_CLOEXEC, and O_NONBLOCK (a FIFO planted under the name cannot hang us); then
    refuse anything but a regular file."""
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError('%s is not a regular file, so not a block' % path)
    return fd


def _view(fd, length, dtype, shape, offset, order, readonly):
    if length == 0:             # an empty raw array: there is nothing to map
        return np.ndarray(shape, dtype, buffer=b'' if readonly else bytearray(), order=order)
    prot = mmap.PROT_READ if readonly else mmap.PROT_READ | mmap.PROT_WRITE
    mm = mmap.mmap(fd, length, mmap.MAP_SHARED, prot)
    return np.ndarray(shape, dtype, buffer=mm, offset=offset, order=order)


def attach(name, dtype=None, shape=None, order=None, readonly=False, allow_foreign=False):
    """Return a zero-copy ndarray over the block /dev/shm/NAME.

    An ndshm block's footer and .npy header are validated (ValueError if anything is
    inconsistent) and give the dtype, shape and order; dtype, shape and order may be
    given too, and must then agree with them (ValueError naming both otherwise).  A
    raw block (no ndshm trailer, say from SharedMemory) needs dtype and shape: the data
    starts at offset 0, in order (default 'C'), and the file must be large enough.
    The array keeps the mapping alive; it is writable unless readonly is true.
    Attaching never registers the block with resource_tracker.

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
        return _attach_fd(fd, name, dtype, shape, order, readonly)
    finally:
        os.close(fd)


def _check_owner(fd, name):
    """Refuse a block another user (not root) owns, as Go's Open does."""
    uid, me = os.fstat(fd).st_uid, os.getuid()
    if uid not in (me, 0):
        raise PermissionError(errno.EACCES, 'block %s is owned by uid %d, neither you (uid %d) nor root: '
                              'that user can truncate it under your mapping (SIGBUS); pass '
                              'allow_foreign=True to attach it anyway' % (name, uid, me))


def _has_trailer(fd):
    """Whether the file ends in ndshm's trailer magic: it claims to be an ndshm block."""
    size = os.fstat(fd).st_size
    return size >= _TRAILER.size and os.pread(fd, 8, size - 8) == _TRAILER_MAGIC


def _spec_text(dtype, shape, order=None):
    d = npyfmt.dtype_to_descr(dtype)
    return '%s %r%s' % (d if isinstance(d, str) else repr(d), shape, ' order ' + order if order else '')


def _attach_fd(fd, name, dtype=None, shape=None, order=None, readonly=False):
    """attach() of the block open as fd, which the caller still owns and may close.

    name only labels errors.  The mapping does not need the descriptor.
    """
    if dtype is not None:
        dtype, shape = _check_dtype(dtype), _check_shape(shape)
        _check_size(dtype, shape)
        if not _has_trailer(fd):
            n = dtype.itemsize * math.prod(shape)
            size = os.fstat(fd).st_size
            if size < n:
                raise ValueError('%s: %d bytes, too small for %s%r (%d bytes)'
                                 % (name, size, dtype, shape, n))
            return _view(fd, n, dtype, shape, 0, order or 'C', readonly)
    b = _read_block(fd, name)
    if dtype is not None:   # redundant if it agrees; the header is never read as data
        if dtype != b['dtype'] or shape != b['shape']:
            raise ValueError('block %s holds %s, not %s' % (
                name, _spec_text(b['dtype'], b['shape']), _spec_text(dtype, shape)))
        if order and order != b['order'] and len(shape) > 1:
            raise ValueError('block %s holds %s, not %s' % (
                name, _spec_text(b['dtype'], b['shape'], b['order']), _spec_text(dtype, shape, order)))
    return _view(fd, b['H'] + b['N'], b['dtype'], b['shape'], b['H'], b['order'], readonly)


def _start_time():
    """Field 22 of /proc/self/stat: start time in clock ticks since boot, or 0."""
    try:
        with open('/proc/self/stat', 'rb') as f:
            fields = f.read().rpartition(b')')[2].split()
        return int(fields[22 - 3])      # fields[0] is field 3, the state
    except (OSError, IndexError, ValueError):
        return 0


def _npy_header(dtype, shape, fortran):
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


def create(name, shape, dtype, order='C', fill=None, persistent=False):
    """Create the ndshm block /dev/shm/NAME and return a writable view of it.

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
    """
    path = _path(name)
    dtype, shape = _check_dtype(dtype), _check_shape(shape)
    _check_size(dtype, shape)
    if order not in ('C', 'F'):
        raise ValueError("order must be 'C' or 'F', not %r" % (order,))
    header = _npy_header(dtype, shape, order == 'F')
    H, N = len(header), dtype.itemsize * math.prod(shape)
    F = _roundup(H + N)
    footer = bytearray(FOOTER_LEN)
    _FOOTER.pack_into(footer, 0, _FOOTER_MAGIC, VERSION, KIND_ARRAY, FLAG_PERSISTENT if persistent else 0,
                      os.getpid(), _start_time(), time.time_ns(), H, N)
    _TRAILER.pack_into(footer, FOOTER_LEN - _TRAILER.size, FOOTER_LEN, _TRAILER_MAGIC)

    fd, tmpfile = None, hasattr(os, 'O_TMPFILE') and os.path.isdir('/proc/self/fd')
    if tmpfile:
        try:
            fd = os.open(SHM_DIR, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600)
        except OSError:
            tmpfile = False
    if fd is None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
    kept = False
    try:
        os.posix_fallocate(fd, 0, F + FOOTER_LEN)
        os.pwrite(fd, header, 0)
        os.pwrite(fd, footer, F)
        if not persistent:      # before the name exists: nobody sees it lockless
            _lock(fd, F + LIVENESS_OFF, fcntl.F_RDLCK)
        a = _view(fd, H + N, dtype, shape, H, order, False)
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


# Owned blocks: path -> the descriptor whose open file description holds the liveness
# lock.  A raw int, never a file object whose finalizer could close it and drop the lock.
_owned = {}
_owned_lock = threading.Lock()
_owner_pid = os.getpid()


def _own(path, fd):
    with _owned_lock:
        _owned[path] = fd


def _same_file(fd, path):
    try:
        a, b = os.fstat(fd), os.lstat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def close(name):
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
def _close_all():
    """At exit, the owner unlinks its owned blocks (a forked child owns none)."""
    if os.getpid() != _owner_pid:
        return
    for path in list(_owned):
        try:
            close(os.path.basename(path))
        except OSError:
            pass


def _forget_owned():
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


def unlink(name):
    """Remove the name /dev/shm/NAME.  Mapped views stay valid until dropped.
    An owned block of this process is also released (see close)."""
    path = _path(name)
    with _owned_lock:
        fd = _owned.pop(path, None)
    if fd is not None:
        os.close(fd)
    os.unlink(path)


def info(name):
    """Return the footer fields and header of the ndshm block NAME as a dict."""
    path = _path(name)
    fd = _open(path, os.O_RDONLY)
    try:
        b = _read_block(fd, name)
    finally:
        os.close(fd)
    descr = npyfmt.dtype_to_descr(b['dtype'])
    return {'name': os.path.basename(path), 'kind': b['kind'],
            'dtype': descr if isinstance(descr, str) else repr(descr),
            'shape': list(b['shape']), 'order': b['order'], 'nbytes': b['N'],
            'data_offset': b['H'], 'persistent': bool(b['flags'] & FLAG_PERSISTENT),
            'creator_pid': b['pid'], 'created_ns': b['created']}


# The server protocol, docs/PROTOCOL.md: one JSON object per SOCK_SEQPACKET packet.
PROTOCOL_VERSION = 1
MAX_MESSAGE = 64 << 10
_MAX_FDS = 4            # room for more descriptors than a reply carries, to close strays


class ServerError(Exception):
    """A request the ndshm server refused.  str(e) is the server's message; e.code is
    its error code ('exist', 'not_exist', 'permission', 'format', 'dtype', 'no_space',
    'bad_request', or '') and e.op the request's op."""

    def __init__(self, message, code='', op=''):
        super().__init__(message)
        self.code, self.op = code, op


def default_socket():
    """Where `ndshm serve` listens unless told otherwise: $XDG_RUNTIME_DIR/ndshm.sock, or
    /tmp/ndshm-UID/ndshm.sock, in a directory only that user may write to (as Go's DefaultSocket)."""
    d = os.environ.get('XDG_RUNTIME_DIR')
    return os.path.join(d, 'ndshm.sock') if d else '/tmp/ndshm-%d/ndshm.sock' % os.getuid()


def _descr(dtype):
    """The dtype as the protocol sends it: '<f8', or the literal of a record's field list."""
    d = npyfmt.dtype_to_descr(_check_dtype(dtype))
    return d if isinstance(d, str) else repr(d)


class Client:
    """A connection to an ndshm server (`ndshm serve`).

        with Client() as c:
            c.create('frame', (480, 640), 'f4')   # the server owns it; attach('frame') maps it
            a = c.anon((1000,), 'f8', key='job')   # an anonymous block, mapped here
            b = c.get('job')                       # another view of it (usually elsewhere)

    Requests are answered in order; a lock lets threads share a client.  Anonymous
    blocks published with a key stay available to get() only while this client is
    connected; arrays already received stay valid for as long as they live.
    """

    def __init__(self, socket=None):
        path = socket or default_socket()
        self._lock = threading.Lock()
        self._sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
        try:
            try:
                self._sock.connect(path)
            except (FileNotFoundError, ConnectionRefusedError) as e:
                raise type(e)(e.errno, 'no ndshm server at %s (%s): start one with `ndshm serve%s`, '
                              'or pass the socket of a running one as Client(socket=PATH)'
                              % (path, e.strerror, '' if path == default_socket() else ' --socket ' + path)) from None
            # Anyone may create a socket in /tmp: talk only to our own user's server.
            cred = self._sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED,
                                         struct.calcsize('3i'))
            pid, uid, _gid = struct.unpack('3i', cred)
            if uid != os.getuid():
                raise PermissionError('ndshm server %s (pid %d) runs as uid %d, not %d'
                                      % (path, pid, uid, os.getuid()))
        except BaseException:
            self._sock.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """End the connection; the server forgets the keys this client published."""
        self._sock.close()

    def list(self):
        """Every ndshm block in /dev/shm, as a list of block dicts (inspect --json's keys)."""
        return self._call({'op': 'list'})[0].get('blocks') or []

    def stat(self, name):
        """The named block's dict, with the pids that use it."""
        return self._call({'op': 'stat', 'name': name})[0]['block']

    def create(self, name, shape, dtype, order='C'):
        """Have the server create and own the named block; return its dict.

        It lives until drop() or until the server stops; attach(name) maps it."""
        return self._call(self._spec({'op': 'create', 'name': name}, shape, dtype, order))[0]['block']

    def drop(self, name):
        """Have the server close and unlink a block it owns."""
        self._call({'op': 'drop', 'name': name})

    def anon(self, shape, dtype, order='C', key=None):
        """A new anonymous (memfd) block from the server, as a writable ndarray.

        With a key, other clients can get() it while this client stays connected.
        It is freed when the last array and descriptor for it are gone."""
        req = self._spec({'op': 'anon'}, shape, dtype, order)
        if key is not None:
            req['key'] = key
        return self._map(req)

    def get(self, key):
        """The anonymous block another client published under key, as an ndarray."""
        return self._map({'op': 'get', 'key': key})

    @staticmethod
    def _spec(req, shape, dtype, order):
        if order not in ('C', 'F'):
            raise ValueError("order must be 'C' or 'F', not %r" % (order,))
        req.update(dtype=_descr(dtype), shape=list(_check_shape(shape)), order=order)
        return req

    def _map(self, req):
        """Make a request whose reply carries a block's descriptor; map the block."""
        fd = self._call(req, want_fd=True)[1][0]
        try:
            return _attach_fd(fd, '%s block from the server' % req['op'])
        finally:
            os.close(fd)

    def _call(self, req, want_fd=False):
        """Send req; return the reply and the descriptors it carried (one if want_fd)."""
        req = dict(req, v=PROTOCOL_VERSION)
        msg = json.dumps(req).encode()
        if len(msg) > MAX_MESSAGE:
            raise ValueError('request of %d bytes is over the %d-byte limit' % (len(msg), MAX_MESSAGE))
        with self._lock:
            try:
                self._sock.send(msg)
                rep, fds = self._receive()
            except BaseException:       # a reply may be left unread: out of step for good
                self._sock.close()
                raise
        if not rep.get('ok') or len(fds) != (1 if want_fd else 0):
            for fd in fds:
                os.close(fd)
            if not rep.get('ok'):
                raise ServerError(rep.get('error') or 'unknown error', rep.get('code') or '', req['op'])
            raise ConnectionError('ndshm server: %s reply with %d descriptors' % (req['op'], len(fds)))
        return rep, fds

    def _receive(self):
        """Read one reply, joining a list continued over several packets ("more").
        Descriptors count only on the last packet; strays are closed."""
        blocks = []
        while True:
            # Close-on-exec from the start: a thread forking meanwhile must not inherit them.
            data, fds, flags, _ = _socket.recv_fds(self._sock, MAX_MESSAGE, _MAX_FDS,
                                                   getattr(_socket, 'MSG_CMSG_CLOEXEC', 0))
            try:
                rep = self._decode(data, flags)
            except BaseException:
                for fd in fds:
                    os.close(fd)
                raise
            blocks += rep.get('blocks') or []
            if not (rep.get('ok') and rep.get('more')):
                if blocks:
                    rep['blocks'] = blocks
                return rep, fds
            for fd in fds:
                os.close(fd)

    @staticmethod
    def _decode(data, flags):
        if not data:
            raise ConnectionError('ndshm server closed the connection')
        if flags & (_socket.MSG_TRUNC | _socket.MSG_CTRUNC):
            raise ConnectionError('ndshm server sent an oversized reply')
        rep = json.loads(data)
        if not isinstance(rep, dict):
            raise ConnectionError('ndshm server sent %r, not a reply object' % (rep,))
        return rep


# Rings (docs/FORMAT.md, "Rings"): a block of kind 2 whose array is (slots, *frame), with
# cursors in its footer.  Ring follows the protocol of the Go package ring word for word.
#
# Every control word is loaded and stored whole through a memoryview cast to u64 or u32:
# CPython copies an item with one naturally aligned move, which x86-64 makes atomic, and
# x86-64 keeps stores in order and loads in order (TSO).  What TSO does not give is a
# store followed by a load of another word in that order; where the protocol needs that
# (a reader's hold against the writer's claim, joining, the writer's "I sleep" flag),
# _Futex.fence supplies a locked instruction in the kernel.  Waiting uses the futex words
# directly through ctypes; without futexes (NDSHM_FUTEX=0, or an unknown CPU) everything
# polls, and Go peers then wait up to a tick (20 ms) for the wake-ups Python cannot send.
_TICK = 0.020               # the longest sleep: how soon a dead peer or a deadline is noticed
_POLL = 0.0005              # the polling interval without futexes
_RING_MAGIC, _RING_VERSION = b'NDSHMRNG', 2   # 2: streams
_RING_CONFIG = struct.Struct('<8sIIIII4xQ')  # magic, version, mode, policy, slots, readers, frame bytes
_LINE = 64
# Byte offsets in the control area, which starts 128 bytes into the footer.
_HEAD, _WAITERS, _FREED, _WWAITS, _WRITER, _QNEXT, _READERS = (i * _LINE for i in range(1, 8))
_R_STATE, _R_NEXT, _R_HOLD, _R_MISSED, _R_RECV, _R_ASLEEP = 0, 8, 16, 24, 32, 40  # in a reader's line
_S_SEQ, _S_TAG, _S_TIME, _S_CLAIM, _S_STREAM, _S_INDEX = 0, 8, 16, 24, 32, 40  # in a slot's line
_BUSY = 1 << 63             # in a slot's seq: the writer is filling it
_W_NONE, _W_LIVE, _W_CLOSED = 0, 1, 2   # the writer word: state | stream << 2 | pid << 32
_MAX_STREAM = (1 << 30) - 1
_END = object()             # _try's answer at the end of the reader's stream


def _writer_word(w):
    """(state, stream, pid) of the writer word."""
    return w & 3, (w >> 2) & _MAX_STREAM, w >> 32
_WRITER_LOCK = 1 << 61      # OFD lock bytes: the writer's, then reader place i's at +1+i
_MODES, _POLICIES = ('broadcast', 'queue'), ('block', 'overwrite')
_F_OFD_GETLK = getattr(fcntl, 'F_OFD_GETLK', 36)
_F_OFD_SETLK = getattr(fcntl, 'F_OFD_SETLK', 37)
_FLOCK = struct.Struct('hhqqi4x')
_TSO = os.uname().machine in ('x86_64', 'i686', 'i386')


class TornFrame(RuntimeError):
    """A frame was overwritten while its reader held it (Overwrite policy): what was read
    from it may mix two frames.  The reader has released it and can go on."""


class WriterDied(EOFError):
    """The ring's writer died without closing the stream."""


def _lock(fd, off, typ=fcntl.F_WRLCK):
    """Set (or with F_UNLCK drop) fd's OFD lock on byte off; False if another holds it."""
    try:
        fcntl.fcntl(fd, _F_OFD_SETLK, _FLOCK.pack(typ, 0, off, 1, 0))
        return True
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise


def _held(fd, off):
    """Whether any open file description holds a lock on byte off (a holder lives)."""
    typ = _FLOCK.unpack(fcntl.fcntl(fd, _F_OFD_GETLK, _FLOCK.pack(fcntl.F_WRLCK, 0, off, 1, 0)))[0]
    return typ != fcntl.F_UNLCK


class _Futex:
    """FUTEX_WAIT, FUTEX_WAKE and atomic adds (FUTEX_WAKE_OP) on 32-bit words by address.

    Never FUTEX_PRIVATE_FLAG on ring words: a private futex is keyed by address space, so
    another process's wake would never reach it."""
    NR = {'x86_64': 202, 'aarch64': 98}
    WAIT, WAKE, WAKE_OP, PRIVATE, ALL = 0, 1, 5, 128, 1 << 30

    def __init__(self):
        nr = self.NR.get(os.uname().machine)
        if nr is None:
            raise OSError(errno.ENOSYS, 'no futex syscall number for ' + os.uname().machine)
        f = ctypes.CDLL(None, use_errno=True).syscall
        f.restype, f.argtypes = ctypes.c_long, [ctypes.c_long] * 7
        self._nr, self._call = nr, f
        self._scratch = ctypes.c_uint32()
        self.fence()

    def wait(self, addr, val, seconds):
        """Sleep while the word at addr is val, at most seconds; callers re-check."""
        ts = (ctypes.c_long * 2)(int(seconds), int(seconds % 1 * 1e9))
        self._call(self._nr, addr, self.WAIT, val, ctypes.addressof(ts), 0, 0)

    def wake(self, addr):
        self._call(self._nr, addr, self.WAKE, self.ALL, 0, 0, 0)

    def _op(self, addr, op, arg, wake, flags=0):
        """FUTEX_WAKE_OP: atomically apply op (0 set, 1 add) with a 12-bit signed arg to the
        word at addr, then wake up to wake of its sleepers.  A locked instruction: a full fence."""
        if self._call(self._nr, addr, self.WAKE_OP | flags, wake, 0, addr, op << 28 | (arg & 0xfff) << 12) < 0:
            e = ctypes.get_errno()
            raise OSError(e, 'futex: ' + os.strerror(e))

    def add(self, addr, n, wake=0):
        self._op(addr, 1, n, wake)

    def store(self, addr, v):
        self._op(addr, 0, v, 0)

    def fence(self):
        self._op(ctypes.addressof(self._scratch), 1, 0, 0, self.PRIVATE)


_futex_state = []


def _futex():
    """The process's _Futex, or None to poll (NDSHM_FUTEX=0, or no usable futex)."""
    if not _futex_state:
        f = None
        if os.environ.get('NDSHM_FUTEX', '1') != '0':
            try:
                f = _Futex()
            except (OSError, AttributeError, ImportError):
                pass
        _futex_state.append(f)
    return _futex_state[0]


class _Closing:
    """A context manager that closes itself, also when dropped."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:       # at interpreter exit the kernel drops the locks anyway
            pass


class Frame:
    """One frame a Reader received: array is a read-only zero-copy view of its slot,
    valid until the reader's next frame, release() or close(); seq counts from 0 over
    the ring's life, across streams; stream numbers the ring's writers from 1; index is
    the frame's position in its stream, from 0; tag is the writer's; time_ns is when it
    was published (Unix ns)."""
    __slots__ = ('seq', 'stream', 'index', 'slot', 'tag', 'time_ns', 'array')

    def __init__(self, seq, stream, index, slot, tag, time_ns, array):
        self.seq, self.stream, self.index, self.slot = seq, stream, index, slot
        self.tag, self.time_ns, self.array = tag, time_ns, array

    def __repr__(self):
        return 'Frame(seq=%d, stream=%d, index=%d, slot=%d, tag=%d, time_ns=%d)' % (
            self.seq, self.stream, self.index, self.slot, self.tag, self.time_ns)


class Ring(_Closing):
    """A ring channel of frames (docs/FORMAT.md, "Rings"), attached by name.

        with Ring('cam') as r:
            for f in r.frames(timeout=5):       # subscribe; a clean end of stream ends the loop
                use(f.seq, f.array)             # a read-only view of the slot, no copy

        with Ring('cam') as r, r.writer() as w:
            slot, a = w.loan()                  # a free slot, as a writable view
            a[...] = image
            w.publish(tag=7)

    slots is the whole (slots, *frame) array; frame_shape, dtype, mode ('broadcast' or
    'queue') and policy ('block' or 'overwrite') describe it.  Python reads broadcast rings
    only; it writes both kinds.  Readers and writers need not close: the kernel drops
    their locks when the process ends, and Go peers reclaim their places.  close() closes
    the readers and writer made from this Ring too.
    """

    def __init__(self, name):
        path = _path(name)
        fd = _open(path, os.O_RDWR)
        try:
            b = _read_block(fd, name)
            if b['kind'] != KIND_RING:
                raise ValueError('%s: a kind %d block, not a ring' % (name, b['kind']))
            ctl = b['size'] - b['L'] + 128
            cfg = self._config(name, b, os.pread(fd, _RING_CONFIG.size, ctl), b['L'] - 128 - 16)
            mm = mmap.mmap(fd, b['size'], mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        except BaseException:
            os.close(fd)
            raise
        try:
            mm.madvise(getattr(mmap, 'MADV_POPULATE_WRITE', 23))   # no page faults per frame
        except (OSError, ValueError):
            pass
        # The control area's address, for futexes; the c_char (an export that would keep
        # mm.close from working) is let go at once.
        self._addr = ctypes.addressof(ctypes.c_char.from_buffer(mm, ctl))
        self.name, self._path, self._fd, self._mm = os.path.basename(path), path, fd, mm
        self.mode, self.policy = _MODES[cfg[0]], _POLICIES[cfg[1]]
        self._nslots, self._nreaders, self.frame_bytes = cfg[2], cfg[3], cfg[4]
        self.dtype, self.frame_shape = b['dtype'], tuple(b['shape'][1:])
        self.slots = np.ndarray(b['shape'], b['dtype'], buffer=mm, offset=b['H'])
        self._ro = self.slots.view()
        self._ro.flags.writeable = False
        mv = memoryview(mm)[ctl:b['size'] - 16]
        self._q, self._d, self._mv = mv.cast('Q'), mv.cast('I'), mv
        self._peers = weakref.WeakSet()     # readers and writer to close with the ring

    @staticmethod
    def _config(name, b, raw, clen):
        """The ring's config, checked against its block as the Go package checks it."""
        magic, ver, mode, pol, S, R, B = _RING_CONFIG.unpack(raw)
        shape = b['shape']
        if magic != _RING_MAGIC or ver != _RING_VERSION:
            raise ValueError('%s: no ring control words (magic %r, version %d)' % (name, magic, ver))
        if mode > 1 or pol > 1 or not 1 <= S <= 65535 or not 1 <= R <= 64:
            raise ValueError('%s: ring mode %d, policy %d, %d slots, %d readers' % (name, mode, pol, S, R))
        if not shape or shape[0] != S or b['order'] != 'C' or B * S != b['N']:
            raise ValueError('%s: a ring of %d slots of %d bytes holds a %s%r %s-order array'
                             % (name, S, B, b['dtype'], shape, b['order']))
        if _READERS + _LINE * (R + 2 * S) > clen:
            raise ValueError('%s: %d bytes of ring control words, too few' % (name, clen))
        return mode, pol, S, R, B

    def __repr__(self):
        if self._q is None:
            return '<ndshm.Ring %r closed>' % self.name
        return '<ndshm.Ring %r %s %s %s%r>' % (self.name, self.mode, self.policy, self.dtype, self.slots.shape)

    # Control words: byte offsets into the control area.
    def _ld(self, off):
        return self._q[off >> 3]

    def _st(self, off, v):
        self._q[off >> 3] = v

    def _ld32(self, off):
        return self._d[off >> 2]

    def _st32(self, off, v):
        self._d[off >> 2] = v

    def _reader_off(self, i):
        return _READERS + i * _LINE

    def _slot_off(self, k):
        return _READERS + (self._nreaders + k) * _LINE

    def _log_off(self, seq):
        return _READERS + (self._nreaders + self._nslots + seq % self._nslots) * _LINE

    def _reopen(self):
        """A new open file description of the ring: OFD locks are told apart by them."""
        self._check_open()
        return os.open('/proc/self/fd/%d' % self._fd, os.O_RDWR | os.O_CLOEXEC)

    def _check_open(self):
        if self._q is None:
            raise ValueError('ring %s is closed' % self.name)

    def _forget_sleeper(self, o, fx):
        """Take the dead reader at place offset o out of the sleeper count if it died asleep
        (else every publish pays a wake for it).  The caller holds the place's lock."""
        if self._ld(o + _R_ASLEEP):
            self._st(o + _R_ASLEEP, 0)
            if fx:
                fx.add(self._addr + _WAITERS, -1)

    def _notify_writer(self, fx):
        """Tell a writer waiting for a free slot that one may have freed: bump freed and
        wake it.  Doing so whether or not wwaits says it sleeps costs one system call, as
        many as the fence that looking at wwaits after the caller's stores would need."""
        if fx:
            fx.add(self._addr + _FREED, 1, _Futex.ALL)

    def reader(self):
        """Subscribe: a Reader of every frame published from now on (broadcast rings only)."""
        rd = Reader(self)
        self._peers.add(rd)
        return rd

    def writer(self):
        """Become the ring's writer (FileExistsError while another writer lives)."""
        w = Writer(self)
        self._peers.add(w)
        return w

    def frames(self, timeout=None):
        """Subscribe now and return an iterator of Frames that ends at the end of the stream
        (the current writer's, or if none writes now, the next writer's).

        Each frame is released when the next is asked for (so use f.array before that, or
        copy it).  timeout bounds each wait for a frame (TimeoutError); a writer that died
        raises WriterDied, a frame overwritten while held TornFrame.  Leaving the loop early
        gives the reader place up."""
        rd = self.reader()

        def gen():
            with rd:
                while True:
                    f = rd.recv(timeout)
                    if f is None:
                        return
                    yield f
        return gen()

    def wait_readers(self, n, timeout=None):
        """Wait until at least n readers are subscribed (polling every millisecond)."""
        self._check_open()
        end = None if timeout is None else time.monotonic() + timeout
        while self._positioned() < n:
            if end is not None and time.monotonic() >= end:
                raise TimeoutError('ring %s: waited %gs for %d readers to subscribe, %d did'
                                   % (self.name, timeout, n, self._positioned()))
            time.sleep(0.001)

    def _positioned(self):
        """Readers whose join is complete (state bit 1): every later frame reaches them."""
        return sum(self._ld(self._reader_off(i)) >> 1 & 1 for i in range(self._nreaders))

    def stat(self):
        """A snapshot of the cursors, as the Go package's Stat (and `ndshm ring stat --json`)."""
        self._check_open()
        head, w = self._ld(_HEAD), self._ld(_WRITER)
        st = {'name': self.name, 'mode': self.mode, 'policy': self.policy, 'slots': self._nslots,
              'frame_bytes': self.frame_bytes, 'head': head,
              'writer': ('none', 'live', 'closed', 'unknown')[w & 3], 'stream': _writer_word(w)[1]}
        if w >> 32:
            st['writer_pid'] = w >> 32
        if st['writer'] == 'live' and not _held(self._fd, _WRITER_LOCK):
            st['writer'] = 'dead'
        if self.mode == 'queue' and self._ld(_QNEXT):
            st['queue_next'] = self._ld(_QNEXT)
        st['readers'] = []
        for i in range(self._nreaders):
            o = self._reader_off(i)
            s = self._ld(o + _R_STATE)
            if not s & 1:
                continue
            nxt = self._ld(o + _R_NEXT)
            cur = self._ld(_QNEXT) if self.mode == 'queue' else nxt
            st['readers'].append({
                'place': i, 'pid': s >> 32, 'alive': _held(self._fd, _WRITER_LOCK + 1 + i),
                'next': nxt, 'lag': max(head - cur, 0), 'holding': self._ld(o + _R_HOLD) - 1,
                'missed': self._ld(o + _R_MISSED), 'received': self._ld(o + _R_RECV)})
        return st

    def close(self):
        """Close the readers and writer made here, and this handle.  The mapping goes when
        the last view of it (slots, a frame's array) is gone."""
        for p in list(self._peers):
            p.close()
        if self._q is None:
            return
        for v in (self._q, self._d, self._mv):
            v.release()
        # Never mm.close(): arrays made with np.ndarray(buffer=mm) hold no buffer export, so
        # it would succeed and unmap memory they still show (a segfault when read).  Every
        # view refers to mm; the last reference to go unmaps it.
        self._q = self._d = self._mv = self.slots = self._ro = self._mm = None
        os.close(self._fd)


class Reader(_Closing):
    """A subscription to a broadcast ring: every frame published after it joined, in order.

        with ring.reader() as rd:
            for f in rd:            # releases the previous frame; stops at the end of stream
                ...

    recv(timeout) is the same one frame at a time (None at the end of the stream).  A ring
    carries one stream per writer: a reader that joins while a writer lives reads to the
    end of its stream; one that joins between streams waits for the next writer; after
    the end of a stream, the next recv (or iteration) waits for the next stream.
    Under the Overwrite policy a reader that falls behind skips frames and counts them
    in missed; torn counts frames overwritten while held.  Not for use by several threads.
    """

    def __init__(self, ring):
        if ring.mode != 'broadcast':
            raise ValueError('ring %s is a queue: Python reads broadcast rings only (taking a '
                             'frame from a queue needs a 64-bit compare-and-swap)' % ring.name)
        fd = ring._reopen()
        try:
            for i in range(ring._nreaders):
                if _lock(fd, _WRITER_LOCK + 1 + i):
                    break
            else:
                raise OSError(errno.EBUSY, 'all %d reader places taken' % ring._nreaders, ring._path)
        except BaseException:
            os.close(fd)
            raise
        self._r, self._fd, self._i, self._fx = ring, fd, i, _futex()
        self._o = ring._reader_off(i)
        self._held, self._seq, self.missed, self.received, self.torn = -1, 0, 0, 0, 0
        self._over = ring.policy == 'overwrite'
        self._stream = self._last = 0   # the stream read (0: between), the one seen end
        self._join()

    def _join(self):
        """Take place i, whose lock we hold.  Its cursor gates the writer (at 0, everything)
        before it is active, and is moved to the head only after: a writer that missed the
        join cannot have run past the head."""
        r, o = self._r, self._o
        r._forget_sleeper(o, self._fx)     # a dead predecessor's
        for f in (_R_HOLD, _R_MISSED, _R_RECV, _R_NEXT):
            r._st(o + f, 0)
        r._st(o + _R_STATE, os.getpid() << 32 | 1)
        if self._fx:
            self._fx.fence()    # active before the head is read
        w = r._ld(_WRITER)      # before the head: see _wait
        self._next = r._ld(_HEAD)
        r._st(o + _R_NEXT, self._next)
        state, s, _ = _writer_word(w)
        if state == _W_LIVE and _held(self._fd, _WRITER_LOCK) and r._ld(_WRITER) == w:
            self._stream = s    # its end is ours, even if no frame comes first
        else:
            self._last = s      # wait for the next writer
        r._st(o + _R_STATE, os.getpid() << 32 | 3)   # positioned: wait_readers counts it now
        r._notify_writer(self._fx)

    def __iter__(self):
        return self

    def __next__(self):
        f = self.recv()
        if f is None:
            raise StopIteration
        return f

    def recv(self, timeout=None):
        """Release the frame held, wait for the next one and hold it: a Frame, or None once
        its stream has ended and every frame of it is read.  Raises TimeoutError after timeout
        seconds, WriterDied if the writer died, TornFrame (after releasing) if the frame
        held was overwritten meanwhile."""
        if self._fd < 0:
            raise ValueError('reader of ring %s is closed' % self._r.name)
        self.release()
        end = None if timeout is None else time.monotonic() + timeout
        idle = False
        while True:
            f = self._try()
            if f is _END:
                return None
            if f is not None:
                return f
            if self._wait(end, idle):
                return None
            idle = True

    def _try(self):
        """Hold the next frame if it is published; None if not.  Every number read from the
        ring is checked before it indexes anything (ValueError if the ring is corrupt)."""
        r, n, over = self._r, self._r._nslots, self._over
        while True:
            cur, h = self._next, r._ld(_HEAD)
            if cur > h:
                raise ValueError('ring %s: reader at frame %d, past the writer\'s %d' % (r.name, cur, h))
            if cur >= h:
                return None
            if not _TSO and self._fx:
                self._fx.fence()    # acquire: nothing below is read before the head
            if h - cur > n:
                if not over:
                    raise ValueError('ring %s: reader at frame %d, writer at %d, with %d slots'
                                     % (r.name, cur, h, n))
                self._skip(cur, h - n)
                continue
            e = r._ld(r._log_off(cur))
            if e >> 16 > cur + 1 and over:  # overwritten since
                self._skip(cur, cur + 1)
                continue
            k = e & 0xffff
            if e >> 16 != cur + 1 or k >= n:
                raise ValueError('ring %s: log entry %#x for frame %d' % (r.name, e, cur))
            s = r._slot_off(k)
            st = r._ld(s + _S_STREAM)   # before the seq, which a new frame's marks busy first
            if r._ld(s + _S_SEQ) == cur + 1 and st != self._stream and 1 <= st <= _MAX_STREAM:
                if self._stream:        # a later stream's frame: ours has ended
                    self._last, self._stream = self._stream, 0
                    return _END
                self._stream = st
            r._st(self._o + _R_HOLD, cur + 1)
            if over and self._fx:
                self._fx.fence()    # the hold is seen before the claim is looked at
            if r._ld(s + _S_CLAIM) or r._ld(s + _S_SEQ) != cur + 1:
                r._st(self._o + _R_HOLD, 0)
                if not over:
                    raise ValueError('ring %s: slot %d does not hold frame %d' % (r.name, k, cur))
                self._skip(cur, cur + 1)    # being overwritten
                continue
            self._held, self._seq = k, cur
            return Frame(cur, self._stream, r._ld(s + _S_INDEX), k, r._ld(s + _S_TAG),
                         r._ld(s + _S_TIME), r._ro[k, ...])

    def _skip(self, cur, to):
        self._next = to
        self._r._st(self._o + _R_NEXT, to)
        self.missed += to - cur
        self._r._st(self._o + _R_MISSED, self.missed)

    def _wait(self, end, idle):
        """Sleep until the head may have moved past the cursor.  True at the end of the
        stream; raises at a deadline or if the writer died (looked for only once a sleep
        has passed with no frame: it costs a system call)."""
        r, cur, fx = self._r, self._next, self._fx
        d = _TICK if end is None else min(_TICK, end - time.monotonic())
        if fx:  # counted before flagged, unflagged before uncounted (see Go's Reader.wait)
            fx.add(r._addr + _WAITERS, 1)
            r._st(self._o + _R_ASLEEP, 1)
        try:
            w = r._ld(_WRITER)      # before the head: its state is true of every frame below
            h = r._ld(_HEAD)
            gone = self._stream_end(w, h <= cur, idle)
            if h <= cur and gone is None and d > 0:
                if fx:
                    fx.wait(r._addr + _HEAD, h & 0xffffffff, d)
                else:
                    time.sleep(min(d, _POLL))
        finally:
            if fx:
                r._st(self._o + _R_ASLEEP, 0)
                fx.add(r._addr + _WAITERS, -1)
        if gone is not None:
            if gone:
                return True
            raise WriterDied('ring %s: writer (pid %d) died' % (r.name, w >> 32))
        if r._ld(_HEAD) > cur:
            return False
        if end is not None and time.monotonic() >= end:
            if not self._stream:
                raise TimeoutError('ring %s: no writer started a stream within the timeout' % r.name)
            raise TimeoutError('ring %s: no frame %d within the timeout' % (r.name, cur))
        return False

    def _stream_end(self, w, drained, idle):
        """Look at the writer word w (as Go's Reader.streamEnd): between streams, join a
        live writer's once drained (every frame below the head read).  In a stream that is
        drained: True if it was closed or another followed, False if its writer died, None
        while it may write.  Either end leaves the reader between streams."""
        state, s, _ = _writer_word(w)
        if not drained:
            return None
        if not self._stream:
            if state == _W_LIVE and s != self._last:
                self._stream = s
            return None
        if s != self._stream or state == _W_CLOSED:
            self._last, self._stream = self._stream, 0
            return True
        if state == _W_LIVE and idle:
            if not _held(self._fd, _WRITER_LOCK) and self._r._ld(_WRITER) == w:
                self._last, self._stream = self._stream, 0
                return False
        return None

    def release(self):
        """Give the held frame back to the writer (a no-op if none is held).  Under the
        Overwrite policy, raises TornFrame if the frame changed while it was held."""
        k = self._held
        if k < 0:
            return
        r, o = self._r, self._o
        torn = self._over and r._ld(r._slot_off(k) + _S_SEQ) != self._seq + 1
        if not _TSO and self._fx:
            self._fx.fence()    # release: the frame is read before it is given back
        self._next = self._seq + 1
        r._st(o + _R_NEXT, self._next)
        r._st(o + _R_HOLD, 0)
        self._held, self.received = -1, self.received + 1
        r._st(o + _R_RECV, self.received)
        r._notify_writer(self._fx)
        if torn:
            self.torn += 1
            raise TornFrame('ring %s: frame %d in slot %d was overwritten while held'
                            % (r.name, self._seq, k))

    def close(self):
        """Release the frame held and give the reader place up."""
        if self._fd < 0:
            return
        try:
            self.release()
        except TornFrame:
            pass
        finally:
            r = self._r
            r._st(self._o + _R_STATE, 0)
            r._notify_writer(self._fx)
            os.close(self._fd)
            self._fd = -1
            r._peers.discard(self)


class Writer(_Closing):
    """The ring's one writer, across all processes: loan a free slot, fill it in place,
    publish it.  Each writer starts a new stream (self.stream; frames indexed from 0 in it,
    sequence numbers going on from the last writer's); one that died is replaced.  close()
    ends the stream: its readers see the end after its last frame.

        slot, a = w.loan(timeout=1)     # a writable view of slot; w.seq is its frame number
        a[...] = data
        w.publish(tag)

    Under the Block policy loan waits until readers release the oldest frame; under
    Overwrite it takes the slot of the oldest frame no reader holds.  Not thread-safe."""

    def __init__(self, ring):
        fd = ring._reopen()
        if not _lock(fd, _WRITER_LOCK):
            os.close(fd)
            raise FileExistsError(errno.EEXIST, 'ring has a live writer (pid %d)'
                                  % (ring._ld(_WRITER) >> 32), ring._path)
        self._r, self._fd, self._fx, self._loan, self._gate = ring, fd, _futex(), -1, 0
        self.seq = ring._ld(_HEAD)
        self._slot_seq = []     # seq+1 of the frame in each slot, 0 if none
        for k in range(ring._nslots):
            o = ring._slot_off(k)
            s = ring._ld(o + _S_SEQ)
            if s & _BUSY or s > self.seq:   # a dead writer's unpublished frame
                s = 0
                ring._st(o + _S_SEQ, 0)
            self._slot_seq.append(s)
        self._reclaimed = time.monotonic()
        prev = _writer_word(ring._ld(_WRITER))[1]
        self.stream, self.index = prev + 1 if prev < _MAX_STREAM else 1, 0
        ring._st(_WRITER, os.getpid() << 32 | self.stream << 2 | _W_LIVE)

    def loan(self, timeout=None):
        """(slot, array): a free slot for frame self.seq and a writable view of it, the
        writer's until publish.  Loaning again before publish returns the same slot.
        TimeoutError if no slot frees within timeout seconds."""
        if self._fd < 0:
            raise ValueError('writer of ring %s is closed' % self._r.name)
        if self._loan < 0:
            self._loan = self._claim(None if timeout is None else time.monotonic() + timeout)
        return self._loan, self._r.slots[self._loan, ...]

    def publish(self, tag=0):
        """Hand the loaned frame to the readers, stamped with tag and the time, and wake
        them.  Returns its sequence number."""
        r, k, s = self._r, self._loan, self.seq
        if k < 0:
            raise ValueError('ring %s: publish with no frame on loan' % r.name)
        o = r._slot_off(k)
        r._st(o + _S_TAG, tag)
        r._st(o + _S_TIME, time.time_ns())
        r._st(o + _S_STREAM, self.stream)
        r._st(o + _S_INDEX, self.index)
        if not _TSO and self._fx:
            self._fx.fence()    # release: the frame and its stamps before its number
        r._st(o + _S_SEQ, s + 1)
        r._st(r._log_off(s), (s + 1) << 16 | k)
        self._slot_seq[k], self.seq, self._loan, self.index = s + 1, s + 1, -1, self.index + 1
        r._st(_HEAD, s + 1)
        if self._fx:    # always: reading the sleeper count first would need a fence anyway
            self._fx.wake(r._addr + _HEAD)
        return s

    def _claim(self, end):
        """The slot for frame self.seq, marked busy."""
        r = self._r
        while True:
            k = self._wait(end)
            o = r._slot_off(k)
            if r.policy == 'overwrite':
                # We store the claim, then load the holds; a reader stores its hold, then
                # loads the claim.  With a fence on each side one of us sees the other.
                r._st(o + _S_CLAIM, 1)
                if self._fx:
                    self._fx.fence()
                if self._held(self._slot_seq[k]):
                    r._st(o + _S_CLAIM, 0)
                    continue
            r._st(o + _S_SEQ, _BUSY | self.seq)
            r._st(o + _S_CLAIM, 0)
            return k

    def _wait(self, end):
        """A free slot, sleeping on the freed word (which readers bump as they release)
        while there is none, and reclaiming dead readers' places after each tick."""
        r, fx = self._r, self._fx
        while True:
            k = self._free()
            if k >= 0:
                return k
            if fx:
                fx.store(r._addr + _WWAITS, 1)  # seen before we look again (a locked op)
            else:
                r._st32(_WWAITS, 1)
            f = r._ld32(_FREED)
            k = self._free()
            if k >= 0:
                r._st32(_WWAITS, 0)
                return k
            d = _TICK if end is None else min(_TICK, end - time.monotonic())
            if d > 0:
                if fx:
                    fx.wait(r._addr + _FREED, f, d)
                else:
                    time.sleep(min(d, _POLL))
            r._st32(_WWAITS, 0)
            if end is not None and time.monotonic() >= end:
                raise TimeoutError('ring %s: no free slot for frame %d' % (r.name, self.seq))
            if time.monotonic() - self._reclaimed >= _TICK:
                self._reclaim()

    def _free(self):
        """The slot frame self.seq may be written to now, or -1."""
        if self._r.policy == 'overwrite':
            return self._oldest_free()
        k = self.seq % len(self._slot_seq)  # Block never skips a slot: frames fill them in turn
        return k if self._consumed(self._slot_seq[k]) else -1

    def _consumed(self, v):
        """Whether the frame whose seq+1 is v is done with, under Block."""
        r = self._r
        if v == 0:
            return True
        if r.mode == 'queue':
            return r._ld(_QNEXT) >= v and not self._held(v)
        if v <= self._gate:
            return True
        gate = self.seq     # with no reader, nothing waits to be read
        for i in range(r._nreaders):
            o = r._reader_off(i)
            if r._ld(o + _R_STATE) & 1:
                gate = min(gate, r._ld(o + _R_NEXT))
        self._gate = gate
        return v <= gate

    def _holds(self):
        r = self._r
        return {r._ld(o + _R_HOLD) for o in map(r._reader_off, range(r._nreaders))
                if r._ld(o + _R_STATE) & 1}

    def _held(self, v):
        return v != 0 and v in self._holds()

    def _oldest_free(self):
        """The slot of the oldest frame no reader holds, or -1.  A reader passed over while
        it holds the oldest frame for a tick may have died: its place is reclaimed."""
        holds, ss = self._holds(), self._slot_seq
        k, oldest = -1, 0
        for j, v in enumerate(ss):
            if v < ss[oldest]:
                oldest = j
            if (k < 0 or v < ss[k]) and (v == 0 or v not in holds):
                k = j
        if k != oldest and time.monotonic() - self._reclaimed >= _TICK:
            self._reclaim()
        return k

    def _reclaim(self):
        """Free the places of readers marked active whose lock nobody holds: they died.
        Taking the lock ourselves first keeps a reader that joins meanwhile from being reset."""
        r = self._r
        for i in range(r._nreaders):
            o = r._reader_off(i)
            if r._ld(o + _R_STATE) & 1 and _lock(self._fd, _WRITER_LOCK + 1 + i):
                r._forget_sleeper(o, self._fx)
                r._st(o + _R_HOLD, 0)
                r._st(o + _R_STATE, 0)
                _lock(self._fd, _WRITER_LOCK + 1 + i, fcntl.F_UNLCK)
                self._gate = 0
        self._reclaimed = time.monotonic()

    def close(self):
        """End the stream.  A frame on loan is dropped.  Idempotent."""
        if self._fd < 0:
            return
        r = self._r
        if self._loan >= 0:     # half-written over an older frame: neither is left
            r._st(r._slot_off(self._loan) + _S_SEQ, 0)
            self._slot_seq[self._loan], self._loan = 0, -1
        r._st(_WRITER, os.getpid() << 32 | self.stream << 2 | _W_CLOSED)
        if self._fx:
            self._fx.wake(r._addr + _HEAD)
        os.close(self._fd)
        self._fd = -1
        r._peers.discard(self)


def _pattern(dtype, i):
    """Element of frame i in ring send's test pattern (cmd/ndshm/ring_pattern.go): i as the
    dtype stores it (low bits for integers, float(i), i+0j, i mod 2 for bool)."""
    if dtype.fields is not None or dtype.kind not in 'biufcMm':
        raise ValueError('the test pattern is not defined for dtype %s' % dtype)
    if dtype.kind == 'b':
        return np.array(i & 1, dtype)
    if dtype.kind in 'fc':
        return np.array(float(i)).astype(dtype)
    return np.array(i & (1 << 64) - 1, np.uint64).view(np.int64).astype(dtype)


def _check_pattern(a, i):
    """Whether frame a holds pattern i: in full up to 1 MiB, else its first and last 64 KiB
    and 1024 elements that move from frame to frame, as the Go side checks."""
    v, flat = _pattern(a.dtype, i), a.reshape(-1)
    if flat.nbytes <= 1 << 20:
        return bool((flat == v).all())
    n = (64 << 10) // a.itemsize
    stride = flat.size // 1024
    return bool((flat[:n] == v).all() and (flat[-n:] == v).all()
                and (flat[i * 7919 % stride::stride][:1024] == v).all())


def _ring_recv(name, frames=0, verify=False, timeout=None):
    """ring-recv: the report ndshm ring recv --json prints, and whether it found no fault."""
    n = gaps = dup = torn = 0
    last = first = prev = None
    lat = []
    with Ring(name) as r, r.reader() as rd:
        if verify:
            _pattern(r.dtype, 0)
        while not frames or n < frames:
            f = rd.recv(timeout)
            if f is None:
                break
            now = time.time_ns()
            lat.append((now - f.time_ns) / 1e3)
            bad = verify and not _check_pattern(f.array, f.tag)
            try:
                rd.release()
            except TornFrame:
                bad = True      # overwritten while we looked at it
            torn += bad
            if first is None:
                first = now
            elif f.seq <= last:
                dup += 1
            elif f.seq > last + 1:
                gaps += f.seq - last - 1
            n, prev, last = n + 1, now, f.seq if last is None else max(last, f.seq)
        missed = rd.missed
    lat.sort()
    q = lambda p: lat[min(int(p * len(lat)), len(lat) - 1)] if lat else 0.0
    rep = {'frames': n, 'lost': max(gaps, missed), 'dup': dup, 'torn': torn,
           'fps': (n - 1) / ((prev - first) / 1e9) if n > 1 and prev > first else 0.0,
           'p50_us': q(0.5), 'p99_us': q(0.99), 'missed': missed}
    return rep, not (verify and (torn or dup))


def _ring_send(name, frames, readers=0, timeout=None):
    """ring-send: publish frames of the test pattern (frame i holds i, tag i), then close."""
    with Ring(name) as r, r.writer() as w:
        _pattern(r.dtype, 0)
        if readers:
            r.wait_readers(readers, timeout)
        t0 = time.perf_counter()
        for i in range(frames):
            _, a = w.loan(timeout)
            a[...] = _pattern(r.dtype, i)
            w.publish(i)
        w.close()
        took = time.perf_counter() - t0
        fps = frames / took if took > 0 else 0.0
        return {'frames': frames, 'seconds': took, 'fps': fps,
                'mib_s': fps * r.frame_bytes / (1 << 20), 'frame_bytes': r.frame_bytes}


def _parse_duration(text):
    """Seconds from '2.5', '2.5s', '300ms', '40us', '1m' (as Go's flags write them)."""
    s = text
    for unit, mul in (('ms', 1e-3), ('us', 1e-6), ('µs', 1e-6), ('ns', 1e-9), ('s', 1), ('m', 60), ('h', 3600)):
        if s.endswith(unit):
            s, m = s[:-len(unit)], mul
            break
    else:
        m = 1
    try:
        d = float(s) * m
    except ValueError:
        d = -1
    if not d >= 0:
        raise argparse.ArgumentTypeError('bad duration %r (want e.g. 2.5, 300ms, 5s)' % text)
    return d or None


# The pool worker (pool/doc.go): `ndshm.py worker`, started by a Go pool with
# pool.Command, speaks the frame protocol on fd 3 and runs the built-in ops with NumPy.
_HELLO, _ATTACH, _TASK = struct.Struct('<BBHI'), struct.Struct('<BBHI'), struct.Struct('<BBBBIIIqq4d32s')
_RAW_ATTACH = struct.Struct('<BBHIBBBBI')     # then N '<q's, the dtype, the name
_RESULT = struct.Struct('<BBBBIQdddqIIQ')
_INF = float('inf')
_MAPS = {
    'scale': lambda v, p: np.multiply(v, p[0], out=v),
    'offset': lambda v, p: np.add(v, p[0], out=v),
    'affine': lambda v, p: np.add(np.multiply(v, p[0], out=v), p[1], out=v),
    'sqrt': lambda v, p: np.sqrt(v, out=v),
    'square': lambda v, p: np.multiply(v, v, out=v),
    'clip': lambda v, p: np.clip(v, p[0], p[1], out=v),
    'fill': lambda v, p: v.fill(p[0]),
    'noop': lambda v, p: None,
}
_PARAMS = dict(scale='a', offset='b', affine='a,b', clip='lo,hi', fill='v', histogram='bins,lo,hi')
_WHOLE_INTS = ('scale', 'offset', 'affine', 'clip', 'fill')   # on integer arrays
_REDUCE = ('sum', 'min', 'max', 'mean', 'count', 'histogram')
# The protocol's limits (pool/frame.go): a worker refuses what its pool could not send.
_MAX_BINS, _MAX_ERR, _MAX_PARAMS, _MAX_OP, _MAX_NAME = 4096, 4096, 4, 32, 255


def _check_params(op, p, dtype):
    """The parameter checks of Go's built-ins (pool/builtin.go), with their words."""
    names = _PARAMS.get(op, '')
    want = len(names.split(',')) if names else 0
    if len(p) != want:
        if not want:
            raise ValueError('%s takes no parameters' % op)
        raise ValueError('%s takes %d parameter(s), %s=%s' % (op, want, op, names))
    if op in _WHOLE_INTS and dtype.kind in 'iu':
        bits = 8 * dtype.itemsize
        lo, end = (-2.0 ** (bits - 1), 2.0 ** (bits - 1)) if dtype.kind == 'i' else (0.0, 2.0 ** bits)
        for name, v in zip(names.split(','), p):
            if not (math.isfinite(v) and v == math.floor(v) and lo <= v < end):
                raise ValueError('%s %s: %g is not a whole number in the range of %s' % (op, name, v, dtype.str))
    if op == 'clip' and (math.isnan(p[0]) or math.isnan(p[1]) or p[0] > p[1]):
        raise ValueError('clip needs lo <= hi, got %g, %g' % (p[0], p[1]))
    if op == 'histogram':
        bins, lo, hi = p
        if not (math.isfinite(bins) and bins == math.floor(bins) and 1 <= bins <= _MAX_BINS):
            raise ValueError('histogram bins must be a whole number from 1 to %d, got %g' % (_MAX_BINS, bins))
        if not lo < hi or math.isinf(hi - lo):
            raise ValueError('histogram needs finite lo < hi, got %g, %g' % (lo, hi))


def _rows(a, lo, hi):
    """Rows [lo, hi) along axis 0 of a (a 0-d array has one row), checked."""
    a = a.reshape(1) if a.ndim == 0 else a
    if not 0 <= lo <= hi <= a.shape[0]:
        raise ValueError('partition outside the array: rows [%d, %d) of an array of %d'
                         % (lo, hi, a.shape[0]))
    return a[lo:hi]


def _run(blocks, src, dst, lo, hi, op, params):
    """One task: return (count, sum, min, max, hist) or raise."""
    if op not in _MAPS and op not in _REDUCE:
        raise ValueError('unknown op %r (the Python worker runs %s)'
                         % (op, ', '.join(sorted(_MAPS) + list(_REDUCE))))
    def get(i):
        b = blocks.get(i)
        if not isinstance(b, np.ndarray):
            raise ValueError(b or 'no block with id %d' % i)
        return b
    a = get(src)
    if a.dtype.kind not in 'iuf' or not a.dtype.isnative or (op == 'sqrt' and a.dtype.kind != 'f'):
        raise ValueError('no kernel %r for dtype %s' % (op, a.dtype))
    _check_params(op, params, a.dtype)
    v = _rows(a, lo, hi)
    if dst:
        d = get(dst)
        if d.dtype != a.dtype or d.shape != a.shape or d.flags.f_contiguous != a.flags.f_contiguous:
            raise ValueError('destination %s%r does not match source %s%r' % (d.dtype, d.shape, a.dtype, a.shape))
        w = _rows(d, lo, hi)
        w[...] = v
        v = w
    if lo == hi:
        return 0, 0.0, 0.0, 0.0, None
    n, s, mn, mx, hist = v.size, 0.0, _INF, -_INF, None
    if op in _MAPS:
        with np.errstate(all='ignore'):     # integers wrap, as in Go
            _MAPS[op](v, [a.dtype.type(x) for x in params])
    elif op == 'count':
        mn = mx = math.nan
    elif op == 'histogram':     # in float64, as the Go kernel and numpy on float64 do
        bins, edges = int(params[0]), (params[1], params[2])
        hist = np.zeros(bins, np.uint64)
        flat = v.ravel(order='K')
        for i in range(0, flat.size, 1 << 20):
            hist += np.histogram(flat[i:i + (1 << 20)].astype(np.float64), bins, edges)[0].astype(np.uint64)
    elif v.size:
        s, mn, mx = float(np.sum(v, dtype=np.float64)), float(np.min(v)), float(np.max(v))
    return n, s, mn, mx, hist


def _result(seq, stats=None, err='', elapsed=0):
    n, s, mn, mx, hist = stats or (0, 0.0, 0.0, 0.0, None)
    e = err.encode('utf-8', 'replace')[:_MAX_ERR].decode('utf-8', 'ignore').encode() if err else b''
    h = b'' if hist is None else np.asarray(hist, '<u8').tobytes()
    if len(h) > 8 * _MAX_BINS:      # _check_params prevents it; never send what a pool refuses
        raise ValueError('a histogram of %d bins, at most %d' % (len(h) // 8, _MAX_BINS))
    return _RESULT.pack(1, ord('R'), 1 if e else 0, 0, seq, n, s, mn, mx, elapsed,
                        len(h) // 8, len(e), 0) + h + e


def serve(fd=3):
    """Be a pool worker on fd: hello, then attach, detach and task frames until EOF.

    Every frame is checked against the protocol (pool/doc.go) as Go's worker checks it:
    a malformed one ends the worker (ConnectionError); a task whose op, block,
    partition or parameters are wrong gets a failed result."""
    sock = _socket.socket(fileno=fd)
    sock.send(_HELLO.pack(1, ord('H'), 0, os.getpid()))
    blocks = {}         # id -> ndarray, or the error text of a block that would not open
    while True:
        # One byte more than the longest frame a pool sends (a raw attach), so a longer one is seen.
        data, fds, flags, _ = _socket.recv_fds(sock, _RAW_ATTACH.size + 8 * _MAX_DIMS + 16 + _MAX_NAME + 1, 1,
                                               getattr(_socket, 'MSG_CMSG_CLOEXEC', 0))
        try:
            if not data and not fds:
                return 0
            if flags & (_socket.MSG_TRUNC | _socket.MSG_CTRUNC) or len(data) < 2 or data[0] != 1 \
                    or (fds and data[1] not in b'AB'):
                raise ConnectionError('malformed frame %r with %d descriptors' % (data[:16], len(fds)))
            if data[1] == ord('A'):
                _serve_attach(blocks, data, fds)
            elif data[1] == ord('B'):
                _serve_raw_attach(blocks, data, fds)
            elif data[1] == ord('D'):
                if len(data) != _HELLO.size or data[2:4] != b'\0\0':
                    raise ConnectionError('malformed detach frame %r' % data[:16])
                blocks.pop(_HELLO.unpack(data)[3], None)
            elif data[1] == ord('T'):
                sock.send(_serve_task(blocks, data))
            else:
                raise ConnectionError('malformed frame %r' % data[:16])
        finally:
            for f in fds:
                os.close(f)


def _serve_attach(blocks, data, fds):
    if len(data) < _ATTACH.size:
        raise ConnectionError('malformed attach frame %r' % data[:16])
    _, _, L, bid = _ATTACH.unpack_from(data)
    if not bid or L > _MAX_NAME or len(data) != _ATTACH.size + L or len(fds) != 1 or bid in blocks:
        raise ConnectionError('malformed attach of block %d (%d-byte name in %d bytes, %d descriptors)'
                              % (bid, L, len(data), len(fds)))
    _attach_into(blocks, bid, fds[0], data[8:])


def _serve_raw_attach(blocks, data, fds):
    """A block with no header: the frame gives its dtype, shape and order."""
    if len(data) < _RAW_ATTACH.size:
        raise ConnectionError('malformed raw attach frame %r' % data[:16])
    _, _, L, bid, D, N, order, r1, r2 = _RAW_ATTACH.unpack_from(data)
    at = _RAW_ATTACH.size + 8 * N
    if not bid or L > _MAX_NAME or not 1 <= D <= 16 or N > _MAX_DIMS or order > 1 or r1 or r2 \
            or len(data) != at + D + L or len(fds) != 1 or bid in blocks:
        raise ConnectionError('malformed raw attach of block %d (%d bytes, %d descriptors)'
                              % (bid, len(data), len(fds)))
    shape = struct.unpack_from('<%dq' % N, data, _RAW_ATTACH.size)
    if min(shape, default=0) < 0:
        raise ConnectionError('malformed raw attach of block %d: shape %r' % (bid, shape))
    dtype = data[at:at + D].decode('ascii', 'replace')
    _attach_into(blocks, bid, fds[0], data[at + D:], dtype, shape, 'F' if order else 'C')


def _attach_into(blocks, bid, fd, name, *spec):
    """Map fd as block bid, or keep why it would not map for the tasks that name it."""
    name = name.decode('utf-8', 'replace') or 'anonymous block'
    try:
        blocks[bid] = _attach_fd(fd, name, *spec)
    except Exception as e:
        blocks[bid] = 'block %r: %s' % (name, e)


def _serve_task(blocks, data):
    """The result frame for a task frame."""
    if len(data) != _TASK.size:
        raise ConnectionError('malformed task frame of %d bytes' % len(data))
    _, _, np_, nl, seq, src, dst, lo, hi, *rest = _TASK.unpack(data)
    name = rest[4]
    if np_ > _MAX_PARAMS or not 1 <= nl <= _MAX_OP or any(name[nl:]) or any(rest[np_:4]):
        raise ConnectionError('malformed task: %d parameters, a %d-byte op name %r, unused parameters %r'
                              % (np_, nl, name, rest[np_:4] if np_ <= 4 else ()))
    op, t0 = name[:nl].decode('ascii', 'replace'), time.perf_counter_ns()
    if op == 'noop' and src == 0 and lo == hi == 0:
        return _result(seq)     # the round-trip probe
    try:
        return _result(seq, _run(blocks, src, dst, lo, hi, op, list(rest[:np_])),
                       elapsed=time.perf_counter_ns() - t0)
    except Exception as e:
        return _result(seq, err='%s: %s' % (type(e).__name__, e))


def _stats(a):
    if a.dtype.kind not in 'biuf':
        raise ValueError('stats needs a real numeric array, not %s' % a.dtype)
    s = float(np.sum(a, dtype=np.float64))
    out = {'count': int(a.size), 'sum': s, 'min': None, 'max': None, 'mean': None}
    if a.size:
        out.update(min=float(np.min(a)), max=float(np.max(a)), mean=s / a.size)
    # JSON has no NaN or infinity: report them as null
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v
            for k, v in out.items()}


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(1, 'ndshm.py: %s\n' % message)


def _parse_shape(s):
    try:
        return tuple(int(d) for d in s.split(',') if d.strip())
    except ValueError:
        raise argparse.ArgumentTypeError('bad shape %r (want e.g. 3,4)' % s) from None


def _parse_fill(s):
    try:
        return ast.literal_eval(s)
    except (ValueError, SyntaxError):
        return float(s)         # nan, inf


def main(argv=None):
    p = _Parser(prog='ndshm.py', description='ndshm blocks in /dev/shm, NumPy side.')
    sub = p.add_subparsers(dest='cmd', required=True)
    stats = sub.add_parser('stats', help='count, sum, min, max, mean as float64 (JSON)')
    create_ = sub.add_parser('create', help='create a persistent block')
    sub.add_parser('info', help='footer and header fields (JSON)').add_argument('name')
    sub.add_parser('unlink', help='remove a block name').add_argument('name')
    sub.add_parser('worker', help='serve a Go pool as a worker on fd 3 (pool.Command)')
    for c in (stats, create_):      # stats: --dtype and --shape attach a raw block
        c.add_argument('name')
        c.add_argument('--dtype', required=c is create_)
        c.add_argument('--shape', type=_parse_shape, required=c is create_, help='e.g. 3,4')
        c.add_argument('--order', choices='CF', help='default: the header\'s, or C for a raw block')
    create_.add_argument('--fill', type=_parse_fill, help='a Python literal, nan or inf')
    recv = sub.add_parser('ring-recv', help='receive frames from a broadcast ring; report as '
                          'ndshm ring recv --json does (exit 1 if --verify finds torn or duplicate frames)')
    send = sub.add_parser('ring-send', help='publish frames of the test pattern (frame i holds i, tag i), '
                          'then close the stream; report as ndshm ring send --json does')
    for c in (recv, send):
        c.add_argument('name')
        c.add_argument('--frames', type=int, default=0, help='frames to take or send (recv default: until the end)')
        c.add_argument('--timeout', type=_parse_duration, default=30.0,
                       help='bound each wait (for a writer, a frame, readers, a free slot), e.g. 5s; '
                       '0: never (default 30s)')
    recv.add_argument('--verify', action='store_true', help="check ring send's test pattern against each tag")
    send.add_argument('--wait-readers', type=int, default=0, metavar='N', help='first wait for N readers')
    args = p.parse_args(argv)
    if args.cmd.startswith('ring-') and (args.frames < 0 or getattr(args, 'wait_readers', 0) < 0):
        p.error('--frames and --wait-readers cannot be negative')
    if args.cmd == 'worker':
        try:
            return serve()
        except (OSError, ConnectionError) as e:
            print('ndshm.py worker %d: %s' % (os.getpid(), e), file=sys.stderr)
            return 1
    try:
        if args.cmd == 'stats':
            a = attach(args.name, args.dtype, args.shape, args.order, readonly=True)
            print(json.dumps(_stats(a), allow_nan=False))
        elif args.cmd == 'info':
            print(json.dumps(info(args.name)))
        elif args.cmd == 'create':
            create(args.name, args.shape, args.dtype, args.order or 'C', args.fill, persistent=True)
        elif args.cmd == 'ring-recv':
            rep, ok = _ring_recv(args.name, args.frames, args.verify, args.timeout)
            print(json.dumps(rep))
            if rep['frames'] < args.frames:
                print('ndshm.py: ring %s: the stream ended after %d of --frames %d frames'
                      % (args.name, rep['frames'], args.frames), file=sys.stderr)
                return 1
            return 0 if ok else 1
        elif args.cmd == 'ring-send':
            print(json.dumps(_ring_send(args.name, args.frames, args.wait_readers, args.timeout)))
        else:
            unlink(args.name)
    except (OSError, ValueError, TypeError, EOFError) as e:   # TimeoutError is an OSError
        print('ndshm.py: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

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

Blocks are mapped with os.open + mmap.mmap, not multiprocessing.shared_memory:
SharedMemory registers every block it opens with Python's resource_tracker, which
unlinks it when the process exits even if the process merely attached it
(cpython issue 82300).  Here nothing is registered, so attaching never destroys.
Python cannot hold the creator's liveness lock reliably beyond its own life, so
blocks created here are persistent: they live until unlink().
"""

import argparse
import ast
import errno
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

import numpy as np
from numpy.lib import format as npyfmt

__all__ = ['attach', 'create', 'unlink', 'info', 'Client', 'ServerError', 'default_socket']

SHM_DIR = '/dev/shm'
VERSION = 1
PAGE = 4096
FOOTER_LEN = 4096
KIND_ARRAY, KIND_RING = 1, 2
FLAG_PERSISTENT, FLAG_ANONYMOUS = 1, 2

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


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise ValueError('dtype %s holds Python objects; it cannot be shared' % dtype)
    if dtype.itemsize == 0:
        raise ValueError('dtype %s has no size' % dtype)
    return dtype


def _check_shape(shape):
    shape = (shape,) if np.ndim(shape) == 0 else shape
    shape = tuple(operator.index(d) for d in shape)
    if any(d < 0 for d in shape):
        raise ValueError('negative dimension in shape %r' % (shape,))
    return shape


def _read_block(fd, name):
    """Validate the ndshm block open on fd; return its footer and header fields."""
    size = os.fstat(fd).st_size
    if size < FOOTER_LEN + PAGE:
        raise ValueError('%s: not an ndshm block (%d bytes is too small)' % (name, size))
    L, magic = _TRAILER.unpack(os.pread(fd, _TRAILER.size, size - _TRAILER.size))
    if magic != _TRAILER_MAGIC:
        raise ValueError('%s: not an ndshm block (no trailer magic)' % name)
    if L < FOOTER_LEN or L % PAGE or L > size - PAGE:
        raise ValueError('%s: bad footer length %d for a %d-byte file' % (name, L, size))
    f = _FOOTER.unpack(os.pread(fd, _FOOTER.size, size - L))
    fmagic, version, kind, flags, pid, _start, created, H, N = f
    if fmagic != _FOOTER_MAGIC or version != VERSION:
        raise ValueError('%s: bad footer (magic %r, version %d)' % (name, fmagic, version))
    if H == 0 or H % PAGE or H + N > size - L:
        raise ValueError('%s: data [%d, %d) does not fit before the footer at %d'
                         % (name, H, H + N, size - L))
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
    if any(d < 0 for d in shape) or dtype.itemsize * math.prod(shape) != N:
        raise ValueError('%s: dtype %s and shape %r do not make %d bytes'
                         % (name, dtype, shape, N))
    return dict(kind=kind, flags=flags, pid=pid, created=created, H=H, N=N,
                dtype=dtype, shape=shape, order='F' if fortran else 'C')


def _open(path, flags):
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError('%s is not a regular file' % path)
    return fd


def _view(fd, length, dtype, shape, offset, order, readonly):
    if length == 0:             # an empty raw array: there is nothing to map
        return np.ndarray(shape, dtype, buffer=b'' if readonly else bytearray(), order=order)
    prot = mmap.PROT_READ if readonly else mmap.PROT_READ | mmap.PROT_WRITE
    mm = mmap.mmap(fd, length, mmap.MAP_SHARED, prot)
    return np.ndarray(shape, dtype, buffer=mm, offset=offset, order=order)


def attach(name, dtype=None, shape=None, order='C', readonly=False):
    """Return a zero-copy ndarray over the block /dev/shm/NAME.

    Without dtype and shape the block must be an ndshm block; its footer and .npy
    header are validated (ValueError if anything is inconsistent) and give the
    dtype, shape and order.  With dtype and shape it is a raw block: the data
    starts at offset 0 in the given order, and the file must be large enough.
    The array keeps the mapping alive; it is writable unless readonly is true.
    Attaching never registers the block with resource_tracker.
    """
    path = _path(name)
    if (dtype is None) != (shape is None):
        raise ValueError('give both dtype and shape (raw block) or neither')
    if order not in ('C', 'F'):
        raise ValueError("order must be 'C' or 'F', not %r" % (order,))
    fd = _open(path, os.O_RDONLY if readonly else os.O_RDWR)
    try:
        return _attach_fd(fd, name, dtype, shape, order, readonly)
    finally:
        os.close(fd)


def _attach_fd(fd, name, dtype=None, shape=None, order='C', readonly=False):
    """attach() of the block open as fd, which the caller still owns and may close.

    name only labels errors.  The mapping does not need the descriptor.
    """
    if dtype is None:
        b = _read_block(fd, name)
        dtype, shape, order, offset, n = b['dtype'], b['shape'], b['order'], b['H'], b['N']
    else:
        dtype, shape, offset = _check_dtype(dtype), _check_shape(shape), 0
        n = dtype.itemsize * math.prod(shape)
        size = os.fstat(fd).st_size
        if size < n:
            raise ValueError('%s: %d bytes, too small for %s%r (%d bytes)'
                             % (name, size, dtype, shape, n))
    return _view(fd, offset + n, dtype, shape, offset, order, readonly)


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


def create(name, shape, dtype, order='C', fill=None):
    """Create the ndshm block /dev/shm/NAME and return a writable view of it.

    The data is zeroed, or set to fill.  The block is persistent (it lives until
    unlink).  The name must be free (FileExistsError otherwise); the memory is
    reserved up front, so a full /dev/shm raises OSError(ENOSPC) here.  Where the
    kernel allows it the block is built unnamed (O_TMPFILE) and linked to its
    name only when complete, so no reader ever sees it half-written.
    """
    path = _path(name)
    dtype, shape = _check_dtype(dtype), _check_shape(shape)
    if order not in ('C', 'F'):
        raise ValueError("order must be 'C' or 'F', not %r" % (order,))
    header = _npy_header(dtype, shape, order == 'F')
    H, N = len(header), dtype.itemsize * math.prod(shape)
    F = _roundup(H + N)
    footer = bytearray(FOOTER_LEN)
    _FOOTER.pack_into(footer, 0, _FOOTER_MAGIC, VERSION, KIND_ARRAY, FLAG_PERSISTENT,
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
    try:
        os.posix_fallocate(fd, 0, F + FOOTER_LEN)
        os.pwrite(fd, header, 0)
        os.pwrite(fd, footer, F)
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
        os.close(fd)


def unlink(name):
    """Remove the name /dev/shm/NAME.  Mapped views stay valid until dropped."""
    os.unlink(_path(name))


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
    """Where `ndshm serve` listens unless told otherwise."""
    d = os.environ.get('XDG_RUNTIME_DIR')
    return os.path.join(d, 'ndshm.sock') if d else '/tmp/ndshm-%d.sock' % os.getuid()


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
            self._sock.connect(path)
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


# The pool worker (pool/doc.go): `ndshm.py worker`, started by a Go pool with
# pool.Command, speaks the frame protocol on fd 3 and runs the built-in ops with NumPy.
_HELLO, _ATTACH, _TASK = struct.Struct('<BBHI'), struct.Struct('<BBHI'), struct.Struct('<BBBBIIIqq4d32s')
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
_NPARAMS = dict(scale=1, offset=1, affine=2, clip=2, fill=1, histogram=3)
_REDUCE = ('sum', 'min', 'max', 'mean', 'count', 'histogram')


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
    if len(params) != _NPARAMS.get(op, 0):
        raise ValueError('%s takes %d parameter(s), got %d' % (op, _NPARAMS.get(op, 0), len(params)))
    def get(i):
        b = blocks.get(i)
        if not isinstance(b, np.ndarray):
            raise ValueError(b or 'no block with id %d' % i)
        return b
    a = get(src)
    if a.dtype.kind not in 'iuf' or not a.dtype.isnative or (op == 'sqrt' and a.dtype.kind != 'f'):
        raise ValueError('no kernel %r for dtype %s' % (op, a.dtype))
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
    e = err.encode('utf-8', 'replace')[:4096].decode('utf-8', 'ignore').encode() if err else b''
    h = b'' if hist is None else np.asarray(hist, '<u8').tobytes()
    return _RESULT.pack(1, ord('R'), 1 if e else 0, 0, seq, n, s, mn, mx, elapsed,
                        len(h) // 8, len(e), 0) + h + e


def serve(fd=3):
    """Be a pool worker on fd: hello, then attach, detach and task frames until EOF."""
    sock = _socket.socket(fileno=fd)
    sock.send(_HELLO.pack(1, ord('H'), 0, os.getpid()))
    blocks = {}         # id -> ndarray, or the error text of a block that would not open
    while True:
        data, fds, _, _ = _socket.recv_fds(sock, 1024, 1, getattr(_socket, 'MSG_CMSG_CLOEXEC', 0))
        try:
            if not data and not fds:
                return 0
            if len(data) < 2 or data[0] != 1 or (fds and data[1] != ord('A')):
                raise ConnectionError('malformed frame %r with %d descriptors' % (data[:16], len(fds)))
            if data[1] in b'AD' and len(data) >= 8:
                _, typ, L, bid = _HELLO.unpack_from(data)
                if typ == ord('D') and len(data) == 8:
                    blocks.pop(bid, None)
                    continue
                if typ != ord('A') or not bid or len(data) != 8 + L or len(fds) != 1 or bid in blocks:
                    raise ConnectionError('malformed attach of block %d' % bid)
                name = data[8:].decode('utf-8', 'replace') or 'anonymous block'
                try:
                    blocks[bid] = _attach_fd(fds[0], name)
                except Exception as e:
                    blocks[bid] = 'block %r: %s' % (name, e)
            elif data[1] == ord('T') and len(data) == _TASK.size:
                _, _, np_, nl, seq, src, dst, lo, hi, *rest = _TASK.unpack(data)
                params, name = rest[:np_], rest[4]
                if np_ > 4 or not 1 <= nl <= 32 or any(name[nl:]):
                    raise ConnectionError('malformed task')
                op, t0 = name[:nl].decode('ascii', 'replace'), time.perf_counter_ns()
                if op == 'noop' and src == 0 and lo == hi == 0:
                    sock.send(_result(seq))     # the round-trip probe
                    continue
                try:
                    r = _result(seq, _run(blocks, src, dst, lo, hi, op, params),
                                elapsed=time.perf_counter_ns() - t0)
                except Exception as e:
                    r = _result(seq, err='%s: %s' % (type(e).__name__, e))
                sock.send(r)
            else:
                raise ConnectionError('malformed frame %r' % data[:16])
        finally:
            for f in fds:
                os.close(f)


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
        c.add_argument('--order', choices='CF', default='C')
    create_.add_argument('--fill', type=_parse_fill, help='a Python literal, nan or inf')
    args = p.parse_args(argv)
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
            create(args.name, args.shape, args.dtype, args.order, args.fill)
        else:
            unlink(args.name)
    except (OSError, ValueError, TypeError) as e:
        print('ndshm.py: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

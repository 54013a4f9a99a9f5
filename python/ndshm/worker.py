"""The pool worker: serve() is `python3 -m ndshm worker`, a worker process of a Go pool."""

from __future__ import annotations

import math
import os
import socket as _socket
import struct
import time
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from .blocks import _MAX_DIMS, _attach_fd

# A worker's blocks by id: an array, or why the block would not map.
_Blocks = Dict[int, Union[np.ndarray, str]]
# A task's result: count, sum, min, max and a histogram's counts (or None).
_Stats = Tuple[int, float, float, float, Optional[np.ndarray]]


# The pool worker (pool/doc.go): `python3 -m ndshm worker`, started by a Go pool with
# pool.Command, speaks the frame protocol on fd 3 and runs the built-in ops with NumPy.
_HELLO, _ATTACH, _TASK = struct.Struct('<BBHI'), struct.Struct('<BBHI'), struct.Struct('<BBBBIIIqq4d32s')
_RAW_ATTACH = struct.Struct('<BBHIBBBBI')     # then N '<q's, the dtype, the name
_RESULT = struct.Struct('<BBBBIQdddqIIQ')
_INF = float('inf')
_MAPS: dict[str, Callable[[np.ndarray, Sequence[np.generic]], object]] = {
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


def _check_params(op: str, p: Sequence[float], dtype: np.dtype) -> None:
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


def _rows(a: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Rows [lo, hi) along axis 0 of a (a 0-d array has one row), checked."""
    a = a.reshape(1) if a.ndim == 0 else a
    if not 0 <= lo <= hi <= a.shape[0]:
        raise ValueError('partition outside the array: rows [%d, %d) of an array of %d'
                         % (lo, hi, a.shape[0]))
    return a[lo:hi]


def _run(blocks: _Blocks, src: int, dst: int, lo: int, hi: int, op: str, params: Sequence[float]) -> _Stats:
    """One task: return (count, sum, min, max, hist) or raise."""
    if op not in _MAPS and op not in _REDUCE:
        raise ValueError('unknown op %r (the Python worker runs %s)'
                         % (op, ', '.join(sorted(_MAPS) + list(_REDUCE))))
    def get(i: int) -> np.ndarray:
        b = blocks.get(i)
        if not isinstance(b, np.ndarray):
            raise ValueError(b or 'no block with id %d' % i)
        return b
    a = get(src)
    _check_kernel(op, a.dtype)
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
        flat = _exact(v).ravel(order='K')
        for i in range(0, flat.size, 1 << 20):
            hist += np.histogram(flat[i:i + (1 << 20)].astype(np.float64), bins, edges)[0].astype(np.uint64)
    else:
        s, mn, mx = _stats(v)
    return n, s, mn, mx, hist


def _check_kernel(op: str, dtype: np.dtype) -> None:
    """Refuse the dtypes Go's pool has no kernel of op for (pool/kernels.go): maps run on
    int8-64, uint8-64, float32 and float64 (sqrt on floats only), reductions on bool and
    float16 too; all in native byte order."""
    converted = dtype.kind == 'b' or dtype.kind == 'f' and dtype.itemsize == 2
    if dtype.kind not in 'biuf' or not dtype.isnative or (converted and op not in _REDUCE) \
            or (op == 'sqrt' and dtype.kind != 'f'):
        raise ValueError('no kernel %r for dtype %s' % (op, dtype))


def _exact(v: np.ndarray) -> np.ndarray:
    """v as an array whose elements convert to float64 exactly, as Go's converted kernels
    see bool: its bytes, of which any but 0 and 1 is refused (ndshm.ErrDType in Go), rather
    than counted as true.  Other dtypes are v itself."""
    if v.dtype.kind != 'b':
        return v
    u = v.view(np.uint8).ravel(order='K')
    bad = u > 1
    if bad.any():
        raise ValueError('dtype mismatch: a bool array holds the byte %d, not 0 or 1' % u[bad.argmax()])
    return u


def _stats(v: np.ndarray) -> tuple[float, float, float]:
    """(sum, min, max) of v in float64, as Go's statsK: NaN if an element is NaN; for no
    elements 0, inf, -inf.  Also `python3 -m ndshm stats`'s kernel."""
    if not v.size:
        return 0.0, _INF, -_INF
    v = _exact(v)
    return float(np.sum(v, dtype=np.float64)), float(np.min(v)), float(np.max(v))


def _result(seq: int, stats: _Stats | None = None, err: str = '', elapsed: int = 0) -> bytes:
    n, s, mn, mx, hist = stats or (0, 0.0, 0.0, 0.0, None)
    e = err.encode('utf-8', 'replace')[:_MAX_ERR].decode('utf-8', 'ignore').encode() if err else b''
    h = b'' if hist is None else np.asarray(hist, '<u8').tobytes()
    if len(h) > 8 * _MAX_BINS:      # _check_params prevents it; never send what a pool refuses
        raise ValueError('a histogram of %d bins, at most %d' % (len(h) // 8, _MAX_BINS))
    return _RESULT.pack(1, ord('R'), 1 if e else 0, 0, seq, n, s, mn, mx, elapsed,
                        len(h) // 8, len(e), 0) + h + e


def serve(fd: int = 3) -> int:
    """Be a pool worker on fd: hello, then attach, detach and task frames until EOF.

    Every frame is checked against the protocol (pool/doc.go) as Go's worker checks it:
    a malformed one ends the worker (ConnectionError); a task whose op, block,
    partition or parameters are wrong gets a failed result."""
    sock = _socket.socket(fileno=fd)
    sock.send(_HELLO.pack(1, ord('H'), 0, os.getpid()))
    blocks: _Blocks = {}    # id -> ndarray, or the error text of a block that would not open
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


def _serve_attach(blocks: _Blocks, data: bytes, fds: list[int]) -> None:
    if len(data) < _ATTACH.size:
        raise ConnectionError('malformed attach frame %r' % data[:16])
    _, _, L, bid = _ATTACH.unpack_from(data)
    if not bid or L > _MAX_NAME or len(data) != _ATTACH.size + L or len(fds) != 1 or bid in blocks:
        raise ConnectionError('malformed attach of block %d (%d-byte name in %d bytes, %d descriptors)'
                              % (bid, L, len(data), len(fds)))
    _attach_into(blocks, bid, fds[0], data[8:])


def _serve_raw_attach(blocks: _Blocks, data: bytes, fds: list[int]) -> None:
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


def _attach_into(blocks: _Blocks, bid: int, fd: int, name: bytes, *spec: object) -> None:
    """Map fd as block bid, or keep why it would not map for the tasks that name it."""
    text = name.decode('utf-8', 'replace') or 'anonymous block'
    try:
        blocks[bid] = _attach_fd(fd, text, *spec)
    except Exception as e:
        blocks[bid] = 'block %r: %s' % (text, e)


def _serve_task(blocks: _Blocks, data: bytes) -> bytes:
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

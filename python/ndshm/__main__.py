"""The command line, python3 -m ndshm: create, info, stats and unlink blocks, send and
receive ring frames (as ndshm ring send/recv --json report them), and be a Go pool's
worker.  Run `python3 -m ndshm -h` for the commands."""

import argparse
import ast
import json
import math
import os
import sys
import time

import numpy as np
from numpy.lib import format as npyfmt

from . import __version__
from .blocks import _path, attach, create, info, unlink
from .ring import Ring, TornFrame
from .worker import _check_kernel, _stats as _reduce, serve


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
    lat.sort()      # nearest rank, as Go's ring recv takes its quantiles
    q = lambda p: lat[min(max(int(len(lat) * p + 0.5) - 1, 0), len(lat) - 1)] if lat else 0.0
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
                'bytes_per_s': fps * r.frame_bytes, 'frame_bytes': r.frame_bytes}


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


def _stats(name, a):
    """stats: ndshm stats --json's report, from the pool worker's kernel (as Go's stats
    runs the pool's), so the two agree."""
    try:
        _check_kernel('mean', a.dtype)
    except ValueError:
        raise ValueError('stats needs a bool, int, uint or float array in native byte order, '
                         'not %s' % a.dtype) from None
    s, mn, mx = _reduce(a)
    descr = npyfmt.dtype_to_descr(a.dtype)
    out = {'name': name, 'dtype': descr, 'count': int(a.size), 'sum': s, 'min': mn, 'max': mx,
           'mean': s / a.size if a.size else math.nan}
    # JSON has no NaN or infinity: report them as null
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v
            for k, v in out.items()}


_PROG = 'python3 -m ndshm'     # how errors name this program


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(1, '%s: %s\n' % (_PROG, message))


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


def _parse_mode(s):
    try:
        return int(s, 8)
    except ValueError:
        raise argparse.ArgumentTypeError('bad mode %r (want octal, e.g. 0640)' % s) from None


def main(argv=None):
    p = _Parser(prog=_PROG, description='ndshm blocks in /dev/shm, NumPy side.')
    p.add_argument('--version', action='version', version='ndshm version ' + __version__)
    sub = p.add_subparsers(dest='cmd', required=True)
    stats = sub.add_parser('stats', help='count, sum, min, max, mean as float64 (JSON, as ndshm stats --json)')
    create_ = sub.add_parser('create', help='create a persistent block')
    sub.add_parser('info', help='the block as ndshm inspect --json describes it (JSON)').add_argument('name')
    sub.add_parser('unlink', help='remove a block name').add_argument('name')
    sub.add_parser('worker', help='serve a Go pool as a worker on fd 3 (pool.Command)')
    for c in (stats, create_):      # stats: --dtype and --shape attach a raw block
        c.add_argument('name')
        c.add_argument('--dtype', required=c is create_)
        c.add_argument('--shape', type=_parse_shape, required=c is create_, help='e.g. 3,4')
        c.add_argument('--order', choices='CF', help='default: the header\'s, or C for a raw block')
    create_.add_argument('--fill', type=_parse_fill, help='a Python literal, nan or inf')
    create_.add_argument('--mode', type=_parse_mode, default=0o600,
                         help='permission bits in octal, less the umask (default 0600)')
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
            print('%s worker %d: %s' % (_PROG, os.getpid(), e), file=sys.stderr)
            return 1
    try:
        if args.cmd == 'stats':
            a = attach(args.name, args.dtype, args.shape, args.order, readonly=True)
            print(json.dumps(_stats(os.path.basename(_path(args.name)), a), allow_nan=False))
        elif args.cmd == 'info':
            print(json.dumps(info(args.name)))
        elif args.cmd == 'create':
            create(args.name, args.shape, args.dtype, args.order or 'C', args.fill, persistent=True,
                   mode=args.mode)
        elif args.cmd == 'ring-recv':
            rep, ok = _ring_recv(args.name, args.frames, args.verify, args.timeout)
            print(json.dumps(rep))
            if rep['frames'] < args.frames:
                print('%s: ring %s: the stream ended after %d of --frames %d frames'
                      % (_PROG, args.name, rep['frames'], args.frames), file=sys.stderr)
                return 1
            return 0 if ok else 1
        elif args.cmd == 'ring-send':
            print(json.dumps(_ring_send(args.name, args.frames, args.wait_readers, args.timeout)))
        else:
            unlink(args.name)
    except (OSError, ValueError, TypeError, EOFError) as e:   # TimeoutError is an OSError
        print('%s: %s' % (_PROG, e), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

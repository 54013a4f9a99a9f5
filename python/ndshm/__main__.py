"""The command line, python3 -m ndshm: Go's ndshm verbs and flags, NumPy side.

ls, inspect, create, rm, gc, stats, ring send/recv/stat and version, spelled as Go's
`ndshm` spells them, print with --json what Go's print (docs/JSON.md).  Run
`python3 -m ndshm --help` for the commands and where this CLI differs from Go's.
Earlier spellings stay as hidden commands for their callers: info, unlink, ring-send,
ring-recv (these two always print JSON) and worker (a Go pool's worker, pool.Command).
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import math
import os
import re
import sys
import time
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence, Tuple

import numpy as np
from numpy.lib import format as npyfmt

from . import __version__, catalog
from .blocks import _open, _path, _read_block, attach, create, info, unlink
from .ring import Ring, TornFrame
from .worker import _check_kernel, _stats as _reduce, serve

Block = Dict[str, Any]      # a block object, as inspect --json prints it


def _pattern(dtype: np.dtype, i: int) -> np.ndarray:
    """Element of frame i in ring send's test pattern (cmd/ndshm/ring_pattern.go): i as the
    dtype stores it (low bits for integers, float(i), i+0j, i mod 2 for bool)."""
    if dtype.fields is not None or dtype.kind not in 'biufcMm':
        raise ValueError('the test pattern is not defined for dtype %s' % dtype)
    if dtype.kind == 'b':
        return np.array(i & 1, dtype)
    if dtype.kind in 'fc':
        return np.array(float(i)).astype(dtype)
    return np.array(i & (1 << 64) - 1, np.uint64).view(np.int64).astype(dtype)


def _check_pattern(a: np.ndarray, i: int) -> bool:
    """Whether frame a holds pattern i: in full up to 1 MiB, else its first and last 64 KiB
    and 1024 elements that move from frame to frame, as the Go side checks."""
    v, flat = _pattern(a.dtype, i), a.reshape(-1)
    if flat.nbytes <= 1 << 20:
        return bool((flat == v).all())
    n = (64 << 10) // a.itemsize
    stride = flat.size // 1024
    return bool((flat[:n] == v).all() and (flat[-n:] == v).all()
                and (flat[i * 7919 % stride::stride][:1024] == v).all())


def _ring_recv(name: str, frames: int = 0, verify: bool = False,
               timeout: Optional[float] = None) -> Tuple[Dict[str, Any], bool]:
    """ring recv: the report ndshm ring recv --json prints, and whether it found no fault."""
    n = gaps = dup = torn = 0
    last = first = prev = None
    lat: List[float] = []
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


def _ring_send(name: str, frames: int, readers: int = 0, timeout: Optional[float] = None,
               rate: float = 0.0) -> Dict[str, Any]:
    """ring send: publish frames of the test pattern (frame i holds i, tag i), at most rate
    a second if rate, then close the stream.  frames 0: until interrupted (SIGINT)."""
    sent = 0
    with Ring(name) as r, r.writer() as w:
        _pattern(r.dtype, 0)
        if readers:
            r.wait_readers(readers, timeout)
        t0 = time.perf_counter()
        try:
            while not frames or sent < frames:
                if rate:
                    time.sleep(max(t0 + sent / rate - time.perf_counter(), 0))
                _, a = w.loan(timeout)
                a[...] = _pattern(r.dtype, sent)
                w.publish(sent)
                sent += 1
        except KeyboardInterrupt:
            if frames:
                raise
        w.close()
        took = time.perf_counter() - t0
        fps = sent / took if took > 0 else 0.0
        return {'frames': sent, 'seconds': took, 'fps': fps,
                'bytes_per_s': fps * r.frame_bytes, 'frame_bytes': r.frame_bytes}


def _parse_duration(text: str) -> Optional[float]:
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


def _stats(name: str, a: np.ndarray) -> Dict[str, Any]:
    """stats: count, sum, min, max and mean from the pool worker's kernel (as Go's stats
    runs the pool's), so the two agree; NaN and ±Inf as they are (see _null)."""
    try:
        _check_kernel('mean', a.dtype)
    except ValueError:
        raise ValueError('stats needs a bool, int, uint or float array in native byte order, '
                         'not %s' % a.dtype) from None
    s, mn, mx = _reduce(a)
    descr = npyfmt.dtype_to_descr(a.dtype)
    return {'name': name, 'dtype': descr, 'count': int(a.size), 'sum': s, 'min': mn, 'max': mx,
            'mean': s / a.size if a.size else math.nan}


def _null(d: Dict[str, Any]) -> Dict[str, Any]:
    """d with NaN and ±Inf as None: JSON has neither, and ndshm's JSON writes null."""
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in d.items()}


def _g(x: float) -> str:
    """x as Go's strconv.FormatFloat(x, 'g', -1, 64) writes it: 24, 2.5, 1e+21, NaN, +Inf."""
    if math.isnan(x):
        return 'NaN'
    if math.isinf(x):
        return '+Inf' if x > 0 else '-Inf'
    r = repr(float(x))
    return r[:-2] if r.endswith('.0') else r


_PROG = 'python3 -m ndshm'     # how errors name this program

_DIFFERS = ("differs from Go's ndshm: no serve, map, reduce, top, bench, demo, load, save, completion "
            "or ring create (use the Go tool); no stats --workers, inspect --dtype/--shape, "
            "ring recv --spin; create --mode is less the umask; human output is close to Go's, "
            "--json prints the same JSON")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, '%s: %s\n' % (_PROG, message))     # 2: a usage error, as Go's


def _parse_shape(s: str) -> Tuple[int, ...]:
    """A shape as Go's --shape takes it: 3,4 or (3, 4); '' for a scalar."""
    try:
        return tuple(int(d) for d in s.strip().strip('()').split(',') if d.strip())
    except ValueError:
        raise argparse.ArgumentTypeError('bad shape %r (want e.g. 3,4)' % s) from None


def _parse_fill(s: str) -> Any:
    """A fill value: a Python literal, true/false, nan, inf, or a complex written 1+2i."""
    low = s.strip().lower()
    if low in ('true', 'false'):
        return low == 'true'
    try:
        return ast.literal_eval(s.replace('i', 'j') if low.endswith('i') and low[:-1] else s)
    except (ValueError, SyntaxError):
        try:
            return float(s)         # nan, inf
        except ValueError:
            raise argparse.ArgumentTypeError('bad fill value %r' % s) from None


def _parse_mode(s: str) -> int:
    try:
        return int(s, 8)
    except ValueError:
        raise argparse.ArgumentTypeError('bad mode %r (want octal, e.g. 0640)' % s) from None


def _print_json(v: Any) -> None:
    """Print v as Go's commands print JSON: indented by two spaces, '<' as itself."""
    print(json.dumps(v, indent=2, ensure_ascii=False, allow_nan=False))


def _bytes(n: int) -> str:
    """n bytes as Go's human.Bytes writes them: 96 B, 12 KiB, 1.5 MiB."""
    if n < 1024:
        return '%d B' % n
    v, unit = n / 1024, 0
    while v >= 1024 and unit < 4:
        v, unit = v / 1024, unit + 1
    s = '%.1f' % v
    return (s[:-2] if s.endswith('.0') else s) + ' ' + ('KiB', 'MiB', 'GiB', 'TiB', 'PiB')[unit]


def _shape(shape: Sequence[int]) -> str:
    return '(%s)' % ', '.join(map(str, shape)) if len(shape) != 1 else '(%d,)' % shape[0]


def _pids(pids: Sequence[int]) -> str:
    return ','.join(map(str, pids)) or '-'


def _yes(b: bool) -> str:
    return 'yes' if b else 'no'


def _age(created: str) -> str:
    """The age of a block made at created (RFC 3339), in Go's ls's rough units."""
    try:
        t = datetime.datetime.fromisoformat(re.sub(r'\.\d+', '', created).replace('Z', '+00:00'))
    except ValueError:
        return '-'
    s = max(int((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()), 0)
    for unit, n in (('d', 86400), ('h', 3600), ('m', 60)):
        if s >= n:
            return '%d%s' % (s // n, unit)
    return '%ds' % s


def _table(rows: List[List[str]]) -> None:
    """Print rows as columns two spaces apart, as Go's tabwriter does."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print('  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def _write_block(b: Block) -> None:
    """A block as inspect prints it: aligned "key: value" lines in the JSON's order."""
    show = dict(b, shape=_shape(b['shape']), users=_pids(b['users']),
                size_bytes='%d (%s)' % (b['size_bytes'], _bytes(b['size_bytes'])),
                file_size_bytes='%d (%s)' % (b['file_size_bytes'], _bytes(b['file_size_bytes'])))
    w = max(map(len, show)) + 2
    for k, v in show.items():
        v = str(v).lower() if isinstance(v, bool) else '-' if v is None else v
        print(('%s:' % k).ljust(w) + str(v))


def _cmd_ls(a: argparse.Namespace) -> int:
    blocks = catalog.list()
    if a.json:
        _print_json(blocks)
        return 0
    rows = [['NAME', 'KIND', 'DTYPE', 'SHAPE', 'SIZE', 'HUGE', 'PERSISTENT', 'PID', 'ALIVE', 'ORPHAN', 'USERS', 'AGE']]
    for b in blocks:
        rows.append([b['name'], b['kind'], b['dtype'], _shape(b['shape']), _bytes(b['size_bytes']),
                     _yes(b['huge_pages']), _yes(b['persistent']), str(b['creator_pid']),
                     _yes(b['creator_alive']), _yes(b['orphan']), _pids(b['users']), _age(b['created'])])
    _table(rows)
    return 0


def _cmd_inspect(a: argparse.Namespace) -> int:
    b = info(a.name)
    _print_json(b) if a.json else _write_block(b)
    return 0


def _cmd_create(a: argparse.Namespace) -> int:
    create(a.name, a.shape, a.dtype, a.order or 'C', a.fill, persistent=True, mode=a.mode)
    if a.json:
        _print_json(info(a.name))
    return 0


def _rm_one(name: str, force: bool) -> None:
    """Remove one name, first checking that it is an ndshm block unless force."""
    if not force:
        try:
            fd = _open(_path(name), os.O_RDONLY)
        except OSError as e:
            raise OSError(e.errno, 'rm %s: %s' % (name, _lower(e.strerror))) from None
        try:
            _read_block(fd, name)
        except ValueError as e:
            raise ValueError('rm %s: %s; --force removes it anyway' % (name, e)) from None
        finally:
            os.close(fd)
    try:
        unlink(name)
    except OSError as e:
        raise OSError(e.errno, 'rm %s: %s' % (name, _lower(e.strerror))) from None


def _lower(s: Optional[str]) -> str:
    """An OS error's text as Go writes it: 'no such file or directory'."""
    return (s or '')[:1].lower() + (s or '')[1:]


def _cmd_rm(a: argparse.Namespace) -> int:
    out, failed = [], False
    for name in a.names:
        try:
            _rm_one(name, a.force)
            out.append({'name': os.path.basename(_path(name)), 'removed': True, 'error': None})
        except (OSError, ValueError, TypeError) as e:
            msg = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            out.append({'name': name.lstrip('/'), 'removed': False, 'error': msg})
            print('%s: %s' % (_PROG, msg), file=sys.stderr)
            failed = True
    if a.json:
        _print_json(out)
    return 1 if failed else 0


def _cmd_gc(a: argparse.Namespace) -> int:
    err = None
    try:
        rep = catalog.gc(dry_run=a.dry_run, force=a.force)
    except OSError as e:    # the report of what was done comes first, then the error
        rep, err = getattr(e, 'report'), e
    if a.json:
        _print_json(rep)
    else:
        _write_gc(rep)
    if err is not None:
        raise err
    return 0


def _write_gc(rep: Dict[str, Any]) -> None:
    dry = rep['dry_run']
    verb, keep = ('would remove', 'would keep') if dry else ('removed', 'kept')
    for b in rep['removed']:
        users = ('; mapped by pids %s, freed when they unmap it' % _pids(b['users'])) if b['users'] else ''
        print('%s %s (%s, creator pid %d dead%s)' % (verb, b['name'], _bytes(b['file_size_bytes']),
                                                     b['creator_pid'], users))
    for b in rep['kept']:
        print('%s %s: still mapped by pids %s (use --force)' % (keep, b['name'], _pids(b['users'])))
    n, freed = len(rep['removed']), _bytes(rep['freed_bytes'])
    print('%d would be removed, %s would be freed' % (n, freed) if dry else '%d removed, %s freed' % (n, freed))


def _cmd_stats(a: argparse.Namespace) -> int:
    if (a.dtype is None) != (a.shape is None):
        raise ValueError('give both --dtype and --shape (a raw block) or neither')
    arr = attach(a.name, a.dtype, a.shape, a.order, readonly=True, allow_foreign=a.allow_foreign)
    s = _stats(os.path.basename(_path(a.name)), arr)
    if a.json:
        _print_json(_null(s))
    else:
        print('count %d  sum %s  min %s  max %s  mean %s'
              % (s['count'], _g(s['sum']), _g(s['min']), _g(s['max']), _g(s['mean'])))
    return 0


def _report(a: argparse.Namespace, rep: Dict[str, Any]) -> None:
    """A ring report as JSON: one line for the old spellings, whose callers read one."""
    print(json.dumps(rep)) if getattr(a, 'one_line', False) else _print_json(rep)


def _cmd_ring_send(a: argparse.Namespace) -> int:
    rep = _ring_send(a.name, a.frames, a.wait_readers, a.timeout, a.rate)
    if a.json:
        _report(a, rep)
    else:
        print('sent %d frames of %s in %.3fs: %.1f frames/s, %.1f MiB/s' % (
            rep['frames'], _bytes(rep['frame_bytes']), rep['seconds'], rep['fps'], rep['bytes_per_s'] / (1 << 20)))
    return 0


def _cmd_ring_recv(a: argparse.Namespace) -> int:
    with Ring(a.name) as r:
        frame_bytes = r.frame_bytes
    rep, ok = _ring_recv(a.name, a.frames, a.verify, a.timeout)
    if a.json:
        _report(a, rep)
    else:
        print('received %d frames of %s: %.1f frames/s, %.1f MiB/s; latency p50 %.0fµs p99 %.0fµs; '
              'lost %d, duplicated %d, torn %d, missed %d' % (
                  rep['frames'], _bytes(frame_bytes), rep['fps'], rep['fps'] * frame_bytes / (1 << 20),
                  rep['p50_us'], rep['p99_us'], rep['lost'], rep['dup'], rep['torn'], rep['missed']))
    if rep['frames'] < a.frames:
        print('%s: ring %s: the stream ended after %d of --frames %d frames'
              % (_PROG, a.name, rep['frames'], a.frames), file=sys.stderr)
        return 1
    return 0 if ok else 1


def _cmd_ring_stat(a: argparse.Namespace) -> int:
    with Ring(a.name) as r:
        st = r.stat()
    if a.json:
        _print_json(st)
        return 0
    line = 'writer: %s' % st['writer']
    if st.get('writer_pid'):
        line += ' (pid %d)' % st['writer_pid']
    if st['stream']:
        line += ', stream %d' % st['stream']
    line += ', %d frames published' % st['head']
    if st.get('queue_next'):
        line += ', next to claim %d' % st['queue_next']
    print('ring %s: %s, %s, %d slots of %s' % (st['name'], st['mode'], st['policy'], st['slots'],
                                              _bytes(st['frame_bytes'])))
    print(line)
    if not st['readers']:
        print('no readers subscribed')
        return 0
    keys = ['place', 'pid', 'alive', 'next', 'lag', 'holding', 'missed', 'received']
    _table([keys] + [[_yes(r[k]) if k == 'alive' else '-' if k == 'holding' and r[k] < 0 else str(r[k])
                      for k in keys] for r in st['readers']])
    return 0


def _cmd_version(a: argparse.Namespace) -> int:
    print('ndshm version %s (Python, %s)' % (__version__, sys.executable))
    return 0


def _cmd_worker(a: argparse.Namespace) -> int:
    try:
        return serve()
    except (OSError, ConnectionError) as e:
        print('%s worker %d: %s' % (_PROG, os.getpid(), e), file=sys.stderr)
        return 1


def _cmd_info(a: argparse.Namespace) -> int:
    print(json.dumps(info(a.name)))
    return 0


def _cmd_unlink(a: argparse.Namespace) -> int:
    unlink(a.name)
    return 0


def _add(sub: Any, name: str, func: Callable[[argparse.Namespace], int], about: Optional[str],
         usage: Optional[str] = None) -> argparse.ArgumentParser:
    """A command's parser; about None hides it from the list (an old spelling)."""
    kw: Dict[str, Any] = {} if about is None else {'help': about, 'description': about}
    if usage:
        kw['usage'] = '%s %s' % (_PROG, usage)
    c = sub.add_parser(name, **kw)
    c.set_defaults(func=func)
    return c


def _json_flag(c: argparse.ArgumentParser, what: str = 'print JSON') -> None:
    c.add_argument('--json', action='store_true', help=what)


def _raw_flags(c: argparse.ArgumentParser, required: bool = False) -> None:
    c.add_argument('--dtype', required=required, metavar='D', help='the NumPy dtype D, such as f8, <i4, uint8')
    c.add_argument('--shape', type=_parse_shape, required=required, metavar='S',
                   help="sizes such as 3,4 or (3, 4); '' for a scalar")
    c.add_argument('--order', choices='CF', metavar='C|F', help='C row-major (default), F column-major')


def _ring_flags(c: argparse.ArgumentParser, send: bool) -> None:
    c.add_argument('name', metavar='NAME')
    c.add_argument('--frames', type=int, default=0, metavar='K',
                   help='send K frames, then close the stream (default: until interrupted)' if send
                   else 'stop after K frames (default: at the end of the stream)')
    c.add_argument('--timeout', type=_parse_duration, default=30.0, metavar='D',
                   help='give up after waiting D for %s (default 30s; 0: never)'
                   % ('readers or a free slot' if send else 'a writer or a frame'))
    if send:
        c.add_argument('--wait-readers', type=int, default=0, metavar='N',
                       help='first wait until N readers have subscribed (default 0)')
        c.add_argument('--rate', type=float, default=0.0, metavar='FPS',
                       help='publish at most FPS frames a second (default 0: as fast as the ring takes them)')
    else:
        c.add_argument('--verify', action='store_true', help="check ring send's test pattern in every frame")


def _parser() -> _Parser:
    p = _Parser(prog=_PROG, description='ndshm keeps NumPy-compatible n-d arrays in /dev/shm, shared '
                'between processes with zero copies; this is its Python command line.',
                epilog='Run "%s COMMAND --help" for a command\'s flags.  This CLI %s.' % (_PROG, _DIFFERS))
    p.add_argument('--version', action='store_true', help="print ndshm's version and exit")
    sub = p.add_subparsers(dest='cmd', metavar='COMMAND')
    c = _add(sub, 'create', _cmd_create, 'make a persistent block holding a zeroed or filled array',
             'create NAME --dtype D --shape S [--order C|F] [--fill V] [--mode 0640] [--json]')
    c.add_argument('name', metavar='NAME')
    _raw_flags(c, required=True)
    c.add_argument('--fill', type=_parse_fill, metavar='V', help='set every element to V: a Python literal, '
                   'true/false, nan, inf, 1+2i (default zero)')
    c.add_argument('--mode', type=_parse_mode, default=0o600, metavar='MODE',
                   help='permission bits in octal, less the umask (Go sets them exactly) (default 0600)')
    _json_flag(c, "print the new block's description as JSON")
    c = _add(sub, 'gc', _cmd_gc, 'remove orphans: owned blocks whose creator died',
             'gc [--dry-run] [--force] [--json]')
    c.add_argument('--dry-run', action='store_true', help='say what would be removed, remove nothing')
    c.add_argument('--force', action='store_true', help='remove orphans even while live processes map them')
    _json_flag(c)
    c = _add(sub, 'inspect', _cmd_inspect, 'describe a block: dtype, shape, size, creator', 'inspect NAME [--json]')
    c.add_argument('name', metavar='NAME')
    _json_flag(c)
    _json_flag(_add(sub, 'ls', _cmd_ls, 'list the ndshm blocks in /dev/shm', 'ls [--json]'))
    ring = _add(sub, 'ring', _no_ring_cmd, 'feed, read and inspect ring channels of frames (no ring create)',
                'ring COMMAND [arguments]')
    rsub = ring.add_subparsers(dest='ring_cmd', metavar='COMMAND')
    c = _add(rsub, 'recv', _cmd_ring_recv, 'receive frames, check the test pattern, report rate and latency',
             'ring recv NAME [--frames K] [--verify] [--timeout D] [--json]')
    _ring_flags(c, send=False)
    _json_flag(c, 'print the report as JSON')
    c = _add(rsub, 'send', _cmd_ring_send, 'publish test-pattern frames, then close the stream',
             'ring send NAME [--frames K] [--rate FPS] [--wait-readers N] [--timeout D] [--json]')
    _ring_flags(c, send=True)
    _json_flag(c, 'print the summary as JSON')
    c = _add(rsub, 'stat', _cmd_ring_stat, "the writer's position and every reader's place",
             'ring stat NAME [--json]')
    c.add_argument('name', metavar='NAME')
    _json_flag(c, "print the ring's state as JSON")
    c = _add(sub, 'rm', _cmd_rm, 'remove blocks by name', 'rm NAME... [--force] [--json]')
    c.add_argument('names', nargs='+', metavar='NAME')
    c.add_argument('--force', action='store_true', help='remove names even if they are not ndshm blocks')
    _json_flag(c, 'print what was removed as JSON')
    c = _add(sub, 'stats', _cmd_stats, 'count, sum, min, max and mean of a numeric block',
             'stats NAME [--json] [--dtype D --shape S [--order C|F]]')
    c.add_argument('name', metavar='NAME')
    _raw_flags(c)
    c.add_argument('--allow-foreign', action='store_true', help='map a block another user owns (SIGBUS risk)')
    _json_flag(c, 'print JSON (NaN and ±Inf as null)')
    _add(sub, 'version', _cmd_version, "print ndshm's version")
    c = _add(sub, 'help', _no_cmd, 'show this list, or "help COMMAND" for a command\'s flags')
    c.add_argument('topic', nargs='*', metavar='COMMAND')
    _old_spellings(sub)
    return p


def _old_spellings(sub: Any) -> None:
    """Hidden commands of earlier versions, kept for their callers: info (inspect --json),
    unlink (rm without the format check), ring-send and ring-recv (ring send/recv --json),
    and worker (a Go pool's worker on fd 3, pool.Command)."""
    _add(sub, 'info', _cmd_info, None).add_argument('name')
    _add(sub, 'unlink', _cmd_unlink, None).add_argument('name')
    _add(sub, 'worker', _cmd_worker, None)
    for name, func, send in (('ring-send', _cmd_ring_send, True), ('ring-recv', _cmd_ring_recv, False)):
        c = _add(sub, name, func, None)
        _ring_flags(c, send)
        c.set_defaults(json=True, one_line=True)


def _no_cmd(a: argparse.Namespace) -> int:
    raise AssertionError('handled in main')


_no_ring_cmd = _no_cmd


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line with arguments argv (default sys.argv[1:]); returns the exit status."""
    p = _parser()
    args = p.parse_args(argv)
    if args.version:
        return _cmd_version(args)
    if args.cmd in (None, 'help'):
        topic = getattr(args, 'topic', [])
        if topic:
            p.parse_args(topic + ['--help'])
        p.print_help(sys.stdout if args.cmd else sys.stderr)
        return 0 if args.cmd else 2
    if args.cmd == 'ring' and args.ring_cmd is None:
        p.parse_args(['ring', '--help'])
    if min(getattr(args, 'frames', 0), getattr(args, 'wait_readers', 0), getattr(args, 'rate', 0)) < 0:
        p.error('--frames, --rate and --wait-readers cannot be negative')
    try:
        return args.func(args)
    except (OSError, ValueError, TypeError, EOFError) as e:   # TimeoutError is an OSError
        print('%s: %s' % (_PROG, e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == '__main__':
    sys.exit(main())

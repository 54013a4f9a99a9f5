"""Ring channels: Ring attaches one by name; Reader receives its frames, Writer publishes them.

A ring (made by Go's ring.Create or `ndshm ring create`) is a block whose array is
(slots, *frame).  Frames move between processes in place, as read-only views of their
slot; readers and writers interoperate with Go's, futexes and all.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import mmap
import os
import struct
import time
import weakref
from typing import Any, Iterator, Tuple, TypeVar

import numpy as np

from ._sys import _TSO, _Futex, _futex, _held, _lock
from .blocks import KIND_RING, _open, _path, _read_block


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
_END: Any = object()        # _try's answer at the end of the reader's stream


_C = TypeVar('_C', bound='_Closing')


def _writer_word(w: int) -> tuple[int, int, int]:
    """(state, stream, pid) of the writer word."""
    return w & 3, (w >> 2) & _MAX_STREAM, w >> 32
_WRITER_LOCK = 1 << 61      # OFD lock bytes: the writer's, then reader place i's at +1+i
_MODES, _POLICIES = ('broadcast', 'queue'), ('block', 'overwrite')


class TornFrame(RuntimeError):
    """A frame was overwritten while its reader held it ('overwrite' policy): what was read
    from it may mix two frames.  The reader has released it and can go on."""


class WriterDied(EOFError):
    """The ring's writer died without closing the stream."""


class _Closing:
    """A context manager that closes itself, also when dropped."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
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

    seq: int
    stream: int
    index: int
    slot: int
    tag: int
    time_ns: int
    array: np.ndarray

    def __init__(self, seq: int, stream: int, index: int, slot: int, tag: int, time_ns: int,
                 array: np.ndarray) -> None:
        self.seq, self.stream, self.index, self.slot = seq, stream, index, slot
        self.tag, self.time_ns, self.array = tag, time_ns, array

    def __repr__(self) -> str:
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

    name: str
    mode: str
    policy: str
    frame_bytes: int
    frame_shape: Tuple[int, ...]
    dtype: np.dtype
    slots: np.ndarray
    _q: memoryview      # None once closed, as are _d, _mv, slots, _ro and _mm
    _d: memoryview
    _mv: memoryview

    def __init__(self, name: str) -> None:
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
        self._peers: weakref.WeakSet[Reader | Writer] = weakref.WeakSet()     # readers and writer to close with the ring

    @staticmethod
    def _config(name: str, b: dict[str, Any], raw: bytes, clen: int) -> tuple[int, int, int, int, int]:
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

    def __repr__(self) -> str:
        if self._q is None:
            return '<ndshm.Ring %r closed>' % self.name
        return '<ndshm.Ring %r %s %s %s%r>' % (self.name, self.mode, self.policy, self.dtype, self.slots.shape)

    # Control words: byte offsets into the control area.
    def _ld(self, off: int) -> int:
        return self._q[off >> 3]

    def _st(self, off: int, v: int) -> None:
        self._q[off >> 3] = v

    def _ld32(self, off: int) -> int:
        return self._d[off >> 2]

    def _st32(self, off: int, v: int) -> None:
        self._d[off >> 2] = v

    def _reader_off(self, i: int) -> int:
        return _READERS + i * _LINE

    def _slot_off(self, k: int) -> int:
        return _READERS + (self._nreaders + k) * _LINE

    def _log_off(self, seq: int) -> int:
        return _READERS + (self._nreaders + self._nslots + seq % self._nslots) * _LINE

    def _reopen(self) -> int:
        """A new open file description of the ring: OFD locks are told apart by them."""
        self._check_open()
        return os.open('/proc/self/fd/%d' % self._fd, os.O_RDWR | os.O_CLOEXEC)

    def _check_open(self) -> None:
        if self._q is None:
            raise ValueError('ring %s is closed' % self.name)

    def _forget_sleeper(self, o: int, fx: _Futex | None) -> None:
        """Take the dead reader at place offset o out of the sleeper count if it died asleep
        (else every publish pays a wake for it).  The caller holds the place's lock."""
        if self._ld(o + _R_ASLEEP):
            self._st(o + _R_ASLEEP, 0)
            if fx:
                fx.add(self._addr + _WAITERS, -1)

    def _notify_writer(self, fx: _Futex | None) -> None:
        """Tell a writer waiting for a free slot that one may have freed: bump freed and
        wake it.  Doing so whether or not wwaits says it sleeps costs one system call, as
        many as the fence that looking at wwaits after the caller's stores would need."""
        if fx:
            fx.add(self._addr + _FREED, 1, _Futex.ALL)

    def reader(self) -> Reader:
        """Subscribe: a Reader of every frame published from now on (broadcast rings only)."""
        rd = Reader(self)
        self._peers.add(rd)
        return rd

    def writer(self) -> Writer:
        """Become the ring's writer (FileExistsError while another writer lives)."""
        w = Writer(self)
        self._peers.add(w)
        return w

    def frames(self, timeout: float | None = None) -> Iterator[Frame]:
        """Subscribe now and return an iterator of Frames that ends at the end of the stream
        (the current writer's, or if none writes now, the next writer's).

        Each frame is released when the next is asked for (so use f.array before that, or
        copy it).  timeout bounds each wait for a frame (TimeoutError); a writer that died
        raises WriterDied, a frame overwritten while held TornFrame.  Leaving the loop early
        gives the reader place up."""
        rd = self.reader()

        def gen() -> Iterator[Frame]:
            with rd:
                while True:
                    f = rd.recv(timeout)
                    if f is None:
                        return
                    yield f
        return gen()

    def wait_readers(self, n: int, timeout: float | None = None) -> None:
        """Wait until at least n readers are subscribed (polling every millisecond)."""
        self._check_open()
        end = None if timeout is None else time.monotonic() + timeout
        while self._positioned() < n:
            if end is not None and time.monotonic() >= end:
                raise TimeoutError('ring %s: waited %gs for %d readers to subscribe, %d did'
                                   % (self.name, timeout, n, self._positioned()))  # type: ignore[str-format]
            time.sleep(0.001)

    def _positioned(self) -> int:
        """Readers whose join is complete (state bit 1): every later frame reaches them."""
        return sum(self._ld(self._reader_off(i)) >> 1 & 1 for i in range(self._nreaders))

    def stat(self) -> dict[str, Any]:
        """A snapshot of the cursors, as the Go package's Stat (and `ndshm ring stat --json`)."""
        self._check_open()
        head, w = self._ld(_HEAD), self._ld(_WRITER)
        st: dict[str, Any] = {'name': self.name, 'mode': self.mode, 'policy': self.policy, 'slots': self._nslots,
              'frame_bytes': self.frame_bytes, 'head': head,
              'writer': ('none', 'live', 'closed', 'unknown')[w & 3]}
        if st['writer'] == 'live' and not _held(self._fd, _WRITER_LOCK):
            st['writer'] = 'dead'
        if w >> 32:     # keys in Go's order; writer_pid and queue_next only when not 0
            st['writer_pid'] = w >> 32
        st['stream'] = _writer_word(w)[1]
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

    def close(self) -> None:
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
        self._q = self._d = self._mv = self.slots = self._ro = self._mm = None  # type: ignore[assignment]
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
    Under the 'overwrite' policy a reader that falls behind skips frames and counts them
    in missed; torn counts frames overwritten while held.  Not for use by several threads.
    """

    def __init__(self, ring: Ring) -> None:
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

    def _join(self) -> None:
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

    def __iter__(self) -> Reader:
        return self

    def __next__(self) -> Frame:
        f = self.recv()
        if f is None:
            raise StopIteration
        return f

    def recv(self, timeout: float | None = None) -> Frame | None:
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

    def _try(self) -> Frame | None:
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

    def _skip(self, cur: int, to: int) -> None:
        self._next = to
        self._r._st(self._o + _R_NEXT, to)
        self.missed += to - cur
        self._r._st(self._o + _R_MISSED, self.missed)

    def _wait(self, end: float | None, idle: bool) -> bool:
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

    def _stream_end(self, w: int, drained: bool, idle: bool) -> bool | None:
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

    def release(self) -> None:
        """Give the held frame back to the writer (a no-op if none is held).  Under the
        'overwrite' policy, raises TornFrame if the frame changed while it was held."""
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

    def close(self) -> None:
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

    Under the 'block' policy (Go's ring.Backpressure) loan waits until readers release the
    oldest frame; under 'overwrite' it takes the slot of the oldest frame no reader holds.
    Not thread-safe."""

    def __init__(self, ring: Ring) -> None:
        fd = ring._reopen()
        if not _lock(fd, _WRITER_LOCK):
            os.close(fd)
            raise FileExistsError(errno.EEXIST, 'ring has a live writer (pid %d)'
                                  % (ring._ld(_WRITER) >> 32), ring._path)
        self._r, self._fd, self._fx, self._loan, self._gate = ring, fd, _futex(), -1, 0
        self.seq = ring._ld(_HEAD)
        self._slot_seq: list[int] = []    # seq+1 of the frame in each slot, 0 if none
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

    def loan(self, timeout: float | None = None) -> tuple[int, np.ndarray]:
        """(slot, array): a free slot for frame self.seq and a writable view of it, the
        writer's until publish.  Loaning again before publish returns the same slot.
        TimeoutError if no slot frees within timeout seconds."""
        if self._fd < 0:
            raise ValueError('writer of ring %s is closed' % self._r.name)
        if self._loan < 0:
            self._loan = self._claim(None if timeout is None else time.monotonic() + timeout)
        return self._loan, self._r.slots[self._loan, ...]

    def publish(self, tag: int = 0) -> int:
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

    def _claim(self, end: float | None) -> int:
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

    def _wait(self, end: float | None) -> int:
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

    def _free(self) -> int:
        """The slot frame self.seq may be written to now, or -1."""
        if self._r.policy == 'overwrite':
            return self._oldest_free()
        k = self.seq % len(self._slot_seq)  # 'block' never skips a slot: frames fill them in turn
        return k if self._consumed(self._slot_seq[k]) else -1

    def _consumed(self, v: int) -> bool:
        """Whether the frame whose seq+1 is v is done with, under the 'block' policy."""
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

    def _holds(self) -> set[int]:
        r = self._r
        return {r._ld(o + _R_HOLD) for o in map(r._reader_off, range(r._nreaders))
                if r._ld(o + _R_STATE) & 1}

    def _held(self, v: int) -> bool:
        return v != 0 and v in self._holds()

    def _oldest_free(self) -> int:
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

    def _reclaim(self) -> None:
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

    def close(self) -> None:
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

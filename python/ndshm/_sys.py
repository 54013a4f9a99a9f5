"""The Linux calls ndshm makes beyond os and mmap: OFD locks (fcntl F_OFD_SETLK and
F_OFD_GETLK, on the liveness byte of owned blocks and a ring's writer and reader places),
futexes and atomic adds through ctypes (ring waits and wake-ups), the process start
time a block's footer records, and the search of /proc for a block's users."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import re
import stat
import struct


_F_OFD_GETLK = getattr(fcntl, 'F_OFD_GETLK', 36)
_F_OFD_SETLK = getattr(fcntl, 'F_OFD_SETLK', 37)
_FLOCK = struct.Struct('hhqqi4x')
_TSO = os.uname().machine in ('x86_64', 'i686', 'i386')


def _dir_from_env(v: str):
    """The block directory NDSHM_DIR names, as Go's sys.Dir reads it: unset or empty is
    /dev/shm; a relative value is an error at each use (returned, not raised here), never
    a silent /dev/shm, where processes that honour the variable would miss the blocks."""
    if not v:
        return '/dev/shm', None
    if not os.path.isabs(v):
        return '/dev/shm', 'NDSHM_DIR=%r is not an absolute path' % v
    return os.path.normpath(v), None


# Where named blocks live: $NDSHM_DIR as it was when ndshm was imported, or /dev/shm.
SHM_DIR, _SHM_DIR_ERROR = _dir_from_env(os.environ.get('NDSHM_DIR', ''))


def _shm_dir() -> str:
    """SHM_DIR, or ValueError if NDSHM_DIR is relative."""
    if _SHM_DIR_ERROR:
        raise ValueError(_SHM_DIR_ERROR)
    return SHM_DIR


def _start_time(pid: str = 'self') -> int:
    """Field 22 of /proc/PID/stat (this process's by default): start time in clock
    ticks since boot, or 0 if there is no such process."""
    try:
        with open('/proc/%s/stat' % pid, 'rb') as f:
            fields = f.read().rpartition(b')')[2].split()
        return int(fields[22 - 3])      # fields[0] is field 3, the state
    except (OSError, IndexError, ValueError):
        return 0


def _lock(fd: int, off: int, typ: int = fcntl.F_WRLCK) -> bool:
    """Set (or with F_UNLCK drop) fd's OFD lock on byte off; False if another holds it."""
    try:
        fcntl.fcntl(fd, _F_OFD_SETLK, _FLOCK.pack(typ, 0, off, 1, 0))
        return True
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise


def _held(fd: int, off: int) -> bool:
    """Whether any open file description holds a lock on byte off (a holder lives)."""
    typ = _FLOCK.unpack(fcntl.fcntl(fd, _F_OFD_GETLK, _FLOCK.pack(fcntl.F_WRLCK, 0, off, 1, 0)))[0]
    return typ != fcntl.F_UNLCK


def _users(dev: int, ino: int) -> list[int]:
    """The pids that map the file (dev, ino) shared or hold it open (see _users_of)."""
    return _users_of({(dev, ino)}).get((dev, ino), [])


def _users_of(ids: set[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """The pids that map each file (dev, ino) of ids shared or hold it open, from one pass
    over /proc, as Go's sys.Users finds them (internal/sys/users.go): in the order of Go's
    os.ReadDir("/proc"), by name.  Files no process uses are absent.  Processes this user
    may not inspect are missed."""
    if not ids:
        return {}
    try:
        names = sorted(os.listdir('/proc'))
    except OSError:
        return {}
    out: dict[tuple[int, int], list[int]] = {}
    for p in names:
        if p.isdigit():
            for fid in _maps(p, ids) | _holds(p, ids):
                out.setdefault(fid, []).append(int(p))
    return out


def _maps(pid: str, ids: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The files of ids that pid maps shared ('s' in the permissions)."""
    inodes = {str(ino).encode() for _, ino in ids}
    seen = set()
    try:
        with open('/proc/%s/maps' % pid, 'rb') as f:
            for line in f:
                # address perms offset major:minor inode path
                fs = line.split(None, 5)
                if len(fs) < 6 or fs[1][3:4] != b's' or fs[4] not in inodes:
                    continue
                maj, _, mnr = fs[3].partition(b':')
                fid = (os.makedev(int(maj, 16), int(mnr, 16)), int(fs[4]))
                if fid in ids:
                    seen.add(fid)
    except (OSError, ValueError):
        pass
    return seen


def _holds(pid: str, ids: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The files of ids that pid holds open.  Only shared memory is statted: statting any
    other file could block on a dead network mount."""
    d = '/proc/%s/fd/' % pid
    seen: set[tuple[int, int]] = set()
    try:
        fds = os.listdir(d)
    except OSError:
        return seen
    for fd in fds:
        try:
            if not os.readlink(d + fd).startswith((SHM_DIR + '/', '/memfd:')):
                continue
            st = os.stat(d + fd)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) in ids:
            seen.add((st.st_dev, st.st_ino))
    return seen


class _Futex:
    """FUTEX_WAIT, FUTEX_WAKE and atomic adds (FUTEX_WAKE_OP) on 32-bit words by address.

    Never FUTEX_PRIVATE_FLAG on ring words: a private futex is keyed by address space, so
    another process's wake would never reach it."""
    NR = {'x86_64': 202, 'aarch64': 98}
    WAIT, WAKE, WAKE_OP, PRIVATE, ALL = 0, 1, 5, 128, 1 << 30

    def __init__(self) -> None:
        nr = self.NR.get(os.uname().machine)
        if nr is None:
            raise OSError(errno.ENOSYS, 'no futex syscall number for ' + os.uname().machine)
        f = ctypes.CDLL(None, use_errno=True).syscall
        f.restype, f.argtypes = ctypes.c_long, [ctypes.c_long] * 7
        self._nr, self._call = nr, f
        self._scratch = ctypes.c_uint32()
        self.fence()

    def wait(self, addr: int, val: int, seconds: float) -> None:
        """Sleep while the word at addr is val, at most seconds; callers re-check."""
        ts = (ctypes.c_long * 2)(int(seconds), int(seconds % 1 * 1e9))
        self._call(self._nr, addr, self.WAIT, val, ctypes.addressof(ts), 0, 0)

    def wake(self, addr: int) -> None:
        self._call(self._nr, addr, self.WAKE, self.ALL, 0, 0, 0)

    def _op(self, addr: int, op: int, arg: int, wake: int, flags: int = 0) -> None:
        """FUTEX_WAKE_OP: atomically apply op (0 set, 1 add) with a 12-bit signed arg to the
        word at addr, then wake up to wake of its sleepers.  A locked instruction: a full fence."""
        if self._call(self._nr, addr, self.WAKE_OP | flags, wake, 0, addr, op << 28 | (arg & 0xfff) << 12) < 0:
            e = ctypes.get_errno()
            raise OSError(e, 'futex: ' + os.strerror(e))

    def add(self, addr: int, n: int, wake: int = 0) -> None:
        self._op(addr, 1, n, wake)

    def store(self, addr: int, v: int) -> None:
        self._op(addr, 0, v, 0)

    def fence(self) -> None:
        self._op(ctypes.addressof(self._scratch), 1, 0, 0, self.PRIVATE)


_futex_state: list[_Futex | None] = []


def _futex() -> _Futex | None:
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


def _huge_page_size() -> int:
    """A transparent huge page's size (hpage_pmd_size), 2 MiB if the kernel does not say."""
    try:
        with open('/sys/kernel/mm/transparent_hugepage/hpage_pmd_size') as f:
            return int(f.read()) or 2 << 20
    except (OSError, ValueError):
        return 2 << 20


def _smaps_huge(addr: int) -> bool:
    """Whether this process's mapping that holds addr has any of its pages huge, as
    /proc/self/smaps says (Go's sys.HugeAt): hugetlb pages (KernelPageSize), or
    transparent huge pages mapped whole (ShmemPmdMapped, FilePmdMapped)."""
    page = pmd = 0
    inside = False
    with open('/proc/self/smaps') as f:
        for line in f:
            key, sep, val = line.partition(':')
            if not sep or ' ' in key or '-' in key:     # a mapping's header line
                if inside:
                    break
                lo, _, hi = line.split(' ', 1)[0].partition('-')
                try:
                    inside = int(lo, 16) <= addr < int(hi, 16)
                except ValueError:
                    inside = False
                continue
            if not inside:
                continue
            try:
                kb = int(val.strip().removesuffix('kB'))
            except ValueError:
                continue
            if key == 'KernelPageSize':
                page = kb << 10
            elif key in ('ShmemPmdMapped', 'FilePmdMapped'):
                pmd += kb << 10
    return page >= 2 << 20 or pmd > 0


def _dir_huge(d: str) -> bool:
    """Whether d is on a tmpfs that gives files sized whole huge pages (huge=always or
    huge=within_size, any tmpfs under shmem_enabled=force, none under deny), as Go's
    sys.DirHuge tells from /proc/self/mounts: the mount that holds d is the one whose
    mount point is the longest prefix of d, the last of those stacked on one point."""
    real = os.path.realpath(d)
    best = None
    try:
        with open('/proc/self/mounts') as f:
            for line in f:
                fields = line.split()
                if len(fields) < 4:
                    continue
                point = re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), fields[1])
                rel = os.path.relpath(real, point)
                if rel != '..' and not rel.startswith('../') and (best is None or len(point) >= len(best[0])):
                    best = (point, fields[2], fields[3].split(','))
        with open('/sys/kernel/mm/transparent_hugepage/shmem_enabled') as f:
            shmem = next((w[1:-1] for w in f.read().split() if w.startswith('[')), '')
    except OSError:
        return False
    if best is None or best[1] != 'tmpfs' or shmem == 'deny':
        return False
    return shmem == 'force' or 'huge=always' in best[2] or 'huge=within_size' in best[2]

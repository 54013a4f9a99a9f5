"""The catalog of SHM_DIR ($NDSHM_DIR, default /dev/shm): list every ndshm block, and collect orphans, without a server.

list() and gc() return what `ndshm ls --json` and `ndshm gc --json` print (docs/JSON.md):
the block dicts of info(), one schema for one block everywhere.  gc() removes exactly
what Go's ndshm.GC removes (gc.go): owned blocks whose creator is dead (the kernel
dropped its liveness lock; its pid is never trusted), never a persistent or anonymous
block, never one whose creator lives, never a file without ndshm's format, never an
orphan that live processes still map unless force, never another user's block unless
this process is root.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Tuple

from ._sys import _held, _shm_dir, _users_of
from .blocks import FLAG_PERSISTENT, LIVENESS_OFF, SHM_DIR, _describe, _open, _read_block, _same_file

Block = Dict[str, Any]          # a block object: info()'s dict, `ndshm inspect --json`'s
_FileID = Tuple[int, int]       # (st_dev, st_ino)


def _scan() -> List[Tuple[Block, _FileID]]:
    """Every ndshm block in SHM_DIR with the file it was read from, sorted by name.

    Files without ndshm's format, gone meanwhile or not ours to read are skipped, as
    Go's List skips them; other errors end the listing.  The file id is taken before
    _describe() reads the block: if the name was replaced between the two, the id names the
    older file, and gc's check against it only makes it skip the block."""
    found = []
    with os.scandir(_shm_dir()) as it:
        ents = sorted((e for e in it if e.is_file(follow_symlinks=False)), key=lambda e: e.name)
    for e in ents:
        try:
            st = os.lstat(e.path)
            b, fid = _describe(e.name)
        except (ValueError, FileNotFoundError, PermissionError):
            continue    # not ours, gone, or not ours to read
        found.append((b, fid, (st.st_dev, st.st_ino)))
    users = _users_of({fid for _, fid, _ in found})     # one search of /proc for all
    for b, fid, _ in found:
        b['users'] = users.get(fid, [])
    return [(b, sid) for b, _, sid in found]


def list() -> List[Block]:      # noqa: A001 -- ndshm.list, as `ndshm ls`
    """Describe every ndshm block in SHM_DIR, sorted by name, as `ndshm ls --json` does:
    a list of info()'s dicts.  Files that are not ndshm blocks (other tools' segments,
    raw blocks) are left out.  The users of every block come from one search of /proc."""
    return [b for b, _ in _scan()]


def gc(dry_run: bool = False, force: bool = False,
       match: Optional[Callable[[str], bool]] = None) -> Dict[str, Any]:
    """Remove orphans, owned blocks whose creator is dead, as `ndshm gc` does, and return
    what `ndshm gc --json` prints: {'removed': [block...], 'kept': [block...],
    'freed_bytes': int, 'dry_run': bool}.

    An orphan that live processes map is kept unless force (unlinking it would not
    free its memory, only hide it).  With dry_run nothing is removed and the dict says
    what would be.  match, if given, limits the collection to the orphans whose names it
    accepts (one application's blocks, or one test's), as Go's GCOptions.Match.  An orphan that went or was replaced meanwhile, or that belongs to
    another user, is in neither list.  If an unlink fails for another reason, every
    other orphan is still tried, then the first such OSError is raised with the report
    as its .report attribute.  Safe to run alongside other collectors and creators:
    each block is checked again, on a descriptor of its own, just before its unlink."""
    rep: Dict[str, Any] = {'removed': [], 'kept': [], 'freed_bytes': 0, 'dry_run': dry_run}
    failed = None
    for b, fid in _scan():
        if not b['orphan'] or match is not None and not match(b['name']):
            continue
        removed = False
        if not dry_run and (not b['users'] or force):
            try:
                removed = _collect(b['name'], fid)
            except OSError as e:
                failed = failed or e
        if removed or dry_run and (force or not b['users']):
            rep['removed'].append(b)
            if not b['users']:      # else freed only when its users unmap it
                rep['freed_bytes'] += b['file_size_bytes']
        elif b['users'] and not force:
            rep['kept'].append(b)
    if failed is not None:
        failed.report = rep     # type: ignore[attr-defined]
        raise failed
    return rep


def _collect(name: str, fid: _FileID) -> bool:
    """Unlink the orphan NAME if the name still holds the file fid, that file is another
    user's only when we are root, and its creator is still dead; whether it unlinked."""
    path = os.path.join(SHM_DIR, name)
    try:
        fd = _open(path, os.O_RDONLY)
    except (FileNotFoundError, ValueError):
        return False    # another collector was first
    try:
        st = os.fstat(fd)
        euid = os.geteuid()
        if (st.st_dev, st.st_ino) != fid or euid not in (0, st.st_uid):
            return False    # replaced, or another user's: unlink would fail
        try:
            blk = _read_block(fd, name)
        except ValueError:
            return False
        live = blk['size'] - blk['L'] + LIVENESS_OFF
        if blk['flags'] & FLAG_PERSISTENT or _held(fd, live) or not _same_file(fd, path):
            return False
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
        return True
    finally:
        os.close(fd)


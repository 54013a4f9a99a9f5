"""map_partitions: the classic shared-memory Pool pattern in one call.

The parent makes the array in a block, workers each get a contiguous chunk of axis 0
as a view of the same memory (pickled by name: bytes cross, not the data), transform
it in place and return something small; the parent reduces those:

    import ndshm, numpy as np

    def work(chunk):                  # module-level: the pool pickles it by name
        np.sqrt(chunk, out=chunk)     # in place: the parent sees it
        return chunk.sum(), len(chunk)

    if __name__ == '__main__':
        with ndshm.create(None, (50_000_000,), 'f8') as a:
            a[:] = np.arange(len(a))
            parts = ndshm.map_partitions(work, a, workers=8)
            mean = sum(s for s, _ in parts) / sum(n for _, n in parts)
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any, Callable, List, Optional, Tuple, TypeVar

from .shared import SharedArray

R = TypeVar('R')


def partitions(n: int, k: int) -> List[Tuple[int, int]]:
    """[lo, hi) bounds of k contiguous chunks of range(n), sizes differing by at most
    one (as np.array_split makes them); fewer chunks if n < k, none if n == 0."""
    k = max(1, min(k, n))
    q, r = divmod(n, k)
    bounds, lo = [], 0
    for i in range(k if n else 0):
        hi = lo + q + (i < r)
        bounds.append((lo, hi))
        lo = hi
    return bounds


def map_partitions(fn: Callable[[SharedArray], R], array: SharedArray, workers: Optional[int] = None,
                   pool: Any = None, chunks: Optional[int] = None) -> List[R]:
    """Run fn(array[lo:hi]) for contiguous chunks of axis 0 in worker processes and
    return their results, in chunk order.

    array must be a view of a named block (what create() and attach() return, or a
    view of one): each chunk crosses to its worker by name, so fn works on the
    parent's memory and may write to it.  Any other array raises TypeError rather than
    have each worker transform a copy.  fn must be picklable, so a module-level
    function (not a lambda or a closure); its results are pickled back, so keep them
    small (statistics, not arrays).

    pool is a multiprocessing pool or a concurrent.futures executor (anything with
    map(fn, iterable)) that the caller made and still owns; without one, a
    multiprocessing.Pool of workers processes (default os.cpu_count()) is started and
    stopped around the call.  chunks is how many chunks (default: workers, or the
    pool's size, or os.cpu_count())."""
    if not isinstance(array, SharedArray) or array.name is None:
        raise TypeError('map_partitions needs an array in a named ndshm block (from ndshm.create '
                        'or ndshm.attach, or a view of one), not %s: workers would transform '
                        'copies' % _describe(array))
    if array.ndim == 0:
        raise ValueError('map_partitions splits axis 0; a 0-d array has none')
    size = workers or getattr(pool, '_processes', None) or getattr(pool, '_max_workers', None)
    parts = [array[lo:hi] for lo, hi in partitions(array.shape[0], chunks or size or os.cpu_count() or 1)]
    if pool is not None:
        return list(pool.map(fn, parts))
    p = multiprocessing.Pool(workers)
    try:
        results = p.map(fn, parts)
        p.close()
    except BaseException:
        p.terminate()
        raise
    finally:
        p.join()
    return results


def _describe(a: Any) -> str:
    if isinstance(a, SharedArray):
        return 'an array of an anonymous block or a copy'
    return 'a %s' % type(a).__name__

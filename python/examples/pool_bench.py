"""The classic shared-memory Pool example, timed three ways in one run.

The job: a float64 array of SIZE MiB; each worker takes a contiguous chunk, transforms
it in place (sqrt) and returns its sum; the parent reduces the sums.  Three ways:

  ndshm        the array is an ndshm block; map_partitions sends each chunk by name
  by-value     a plain ndarray's chunks go through the pool, pickled by value, and the
               transformed chunks come back the same way into the parent's array
  shared_memory  multiprocessing.shared_memory: workers get (name, lo, hi) and attach

One pool (fork) serves all three, started before the clock, so the times are the
data's journey and the work.  Each way runs twice: 'fresh' (first touch of its
memory in the workers) and 'warm'.  Every way must end with the same array and sum.

    /usr/bin/python3 python/examples/pool_bench.py [--mib 400] [--workers N]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from multiprocessing import resource_tracker, shared_memory
from typing import Callable, Dict, List, Tuple

import numpy as np

import ndshm


def ndshm_work(chunk: np.ndarray) -> float:
    np.sqrt(chunk, out=chunk)
    return float(chunk.sum())


def value_work(chunk: np.ndarray) -> Tuple[float, np.ndarray]:
    np.sqrt(chunk, out=chunk)
    return float(chunk.sum()), chunk          # the worker's copy must come back


def shm_work(args: Tuple[str, int, int, int]) -> float:
    name, n, lo, hi = args
    shm = shared_memory.SharedMemory(name=name)
    try:
        a = np.ndarray((n,), np.float64, buffer=shm.buf)
        chunk = a[lo:hi]
        np.sqrt(chunk, out=chunk)
        s = float(chunk.sum())
        del a, chunk
    finally:
        shm.close()
    return s


def run_ndshm(pool, a: np.ndarray, workers: int) -> float:
    return sum(ndshm.map_partitions(ndshm_work, a, pool=pool, chunks=workers))


def run_value(pool, a: np.ndarray, workers: int) -> float:
    bounds = ndshm.partitions(len(a), workers)
    total = 0.0
    for (lo, hi), (s, chunk) in zip(bounds, pool.map(value_work, [a[lo:hi] for lo, hi in bounds])):
        a[lo:hi] = chunk
        total += s
    return total


def run_shm(pool, a: np.ndarray, workers: int, name: str) -> float:
    bounds = ndshm.partitions(len(a), workers)
    return sum(pool.map(shm_work, [(name, len(a), lo, hi) for lo, hi in bounds]))


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--mib', type=float, default=400, help='array size in MiB (default 400)')
    ap.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    opt = ap.parse_args(argv)
    n = int(opt.mib * (1 << 20)) // 8
    init = np.arange(n, dtype=np.float64)
    want = np.sqrt(init)
    results: Dict[str, List[float]] = {}
    ctx = mp.get_context('fork')
    # The workers must share this process's resource_tracker: one of their own would
    # unlink the shared_memory block when its worker exits (cpython issue 82300).
    resource_tracker.ensure_running()
    with ctx.Pool(opt.workers) as pool:
        pool.map(abs, range(opt.workers))      # the workers are up before the clock
        with ndshm.create(None, (n,), 'f8') as a:
            results['ndshm'] = timed(lambda: run_ndshm(pool, a, opt.workers), a, init, want)
        plain = np.empty(n)
        results['by-value'] = timed(lambda: run_value(pool, plain, opt.workers), plain, init, want)
        shm = shared_memory.SharedMemory(create=True, size=n * 8)
        try:
            b = np.ndarray((n,), np.float64, buffer=shm.buf)
            results['shared_memory'] = timed(lambda: run_shm(pool, b, opt.workers, shm.name), b, init, want)
            del b
        finally:
            shm.close()
            shm.unlink()
    print('pool example: %g MiB float64, %d workers, sqrt in place + per-chunk sums' % (opt.mib, opt.workers))
    for k, (fresh, warm) in results.items():
        print('%-14s fresh %8.3f s   warm %8.3f s' % (k, fresh, warm))
    return 0


def timed(run: Callable[[], float], a: np.ndarray, init: np.ndarray, want: np.ndarray) -> List[float]:
    """Two timed runs of run (each from a freshly filled a); checks a and the sum."""
    times = []
    for _ in range(2):
        a[:] = init
        t = time.perf_counter()
        total = run()
        times.append(time.perf_counter() - t)
        if not np.array_equal(a, want) or not np.isclose(total, want.sum()):
            raise SystemExit('wrong result: sum %r, want %r' % (total, want.sum()))
    return times


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

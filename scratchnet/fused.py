"""Elementwise work in cache-sized blocks on every core: fewer passes over memory, both cores busy.

A NumPy expression of several steps, such as Adam's update, makes one pass over whole arrays per
step. When the arrays are larger than the CPU's caches (the wide network's 1.9 million parameters are
7.5 MB per array, and Adam touches five of them), every pass goes to main memory again, on one core.
`blocked` runs the *same* NumPy kernel on slices of its arrays instead: each block is small enough to
stay in cache while all the kernel's steps pass over it, so memory sees the arrays about once per
step, and the blocks are shared between threads (NumPy releases the GIL inside its loops), so both
cores work. The kernel stays the readable NumPy formulation; an elementwise kernel gives exactly the
same numbers block by block as on the whole arrays (``tests/test_fused.py`` checks this).

Small arrays (the seed network's) are passed to the kernel whole, on the calling thread: handing work
to another thread costs more than it saves there.

What was tried and measured against this (``benchmarks/elementwise.py``, docs/performance.md): numexpr,
which compiles an expression into one pass over blocks on all cores. On this project's machines its
interpreter is slower than NumPy's vectorised loops for every piece of the step, so it is not used.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

BLOCK_ELEMENTS = 1 << 16
"""Elements per block: 65,536 float32 values are 256 KB per array, so the few arrays of a kernel stay
in the L2 and L3 caches between its steps."""

PARALLEL_MIN = 1 << 18
"""Arrays with fewer elements than this run whole on the calling thread (the seed network's 79,620
parameters and its 128 × 100 activations do)."""

_pool, _pool_size = None, 0
_pool_lock = threading.Lock()


def threads():
    """The number of threads `blocked` uses: ``SCRATCHNET_THREADS`` if set, else the CPUs this process
    may run on."""
    value = os.environ.get("SCRATCHNET_THREADS")
    if value:
        return max(1, int(value))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _executor(n):
    """The worker threads, made on first use (``n`` at least)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < n:
            _pool, _pool_size = ThreadPoolExecutor(max_workers=n, thread_name_prefix="scratchnet"), n
        return _pool


def blocked(kernel, arrays, *args, block=None, parallel_min=None):
    """``kernel(*arrays, *args)`` computed block by block on all threads.

    Parameters
    ----------
    kernel : callable ``kernel(*arrays, *args)`` that works elementwise, in place, on its arrays
        (each output element depends only on the same element of the inputs)
    arrays : sequence of ndarray, all with the same first dimension ``n`` (flat ``(P,)`` or ``(B, n)``);
        they are sliced along that first dimension, so a row block of a ``(B, n)`` array is a view
    args : scalars handed to every call unchanged
    block : int, elements per block (default `BLOCK_ELEMENTS`)
    parallel_min : int, below this many elements in ``arrays[0]`` the kernel runs once, whole, on the
        calling thread (default `PARALLEL_MIN`); so it does when `threads` is 1

    Returns
    -------
    None; the kernel writes its results into its arrays
    """
    first = arrays[0]
    parallel_min = PARALLEL_MIN if parallel_min is None else parallel_min
    n_threads = 1 if first.size < parallel_min or len(first) < 2 else threads()
    if n_threads == 1:
        kernel(*arrays, *args)
        return
    block = BLOCK_ELEMENTS if block is None else block
    rows = max(1, block // max(1, first.size // len(first)))         # rows of one block
    starts = list(range(0, len(first), rows))
    groups = [starts[i * len(starts) // n_threads:(i + 1) * len(starts) // n_threads] for i in range(n_threads)]

    def run(group):
        for start in group:
            kernel(*(a[start:start + rows] for a in arrays), *args)

    futures = [_executor(n_threads).submit(run, group) for group in groups[1:] if group]
    run(groups[0])
    for future in futures:
        future.result()

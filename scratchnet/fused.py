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

Large arrays may have a *compiled twin* instead: ``blocked(kernel, arrays, ..., compiled="adam")`` runs
`compiled_kernel` ``"adam"``, the same update written as one numba loop (one pass over memory instead of
NumPy's ten, split between numba's threads), when the arrays are large (`PARALLEL_MIN`) and numba is
there. It gives the NumPy kernel's float32 numbers to the bit (the same operations in the same order,
no fast-math; ``tests/test_compiled.py``), so the NumPy kernel stays the readable reference and the
test oracle. Small arrays never import numba (the seed network's training pays no compile time).
``SCRATCHNET_COMPILED=0`` turns the compiled twins off.

What was tried and measured against this (``benchmarks/elementwise.py``, ``benchmarks/fusion.py``,
docs/performance.md): numexpr, which compiles an expression into one pass over blocks on all cores. On
this project's machines its interpreter is slower than NumPy's vectorised loops for every piece of the
step, so it is not used. numba's twins of σ, σ′ and softmax–cross-entropy make no whole epoch faster,
so only Adam has one.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

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


def compiled_enabled():
    """Whether compiled twins may run: ``SCRATCHNET_COMPILED`` unset or anything but ``0``."""
    return os.environ.get("SCRATCHNET_COMPILED", "1") != "0"


_compiled, _compiled_lock, _launch_lock = {}, threading.Lock(), threading.Lock()


def compiled_kernel(name):
    """The compiled twin ``name`` (``"adam"``), compiled on first use (``cache=True``: later processes load
    it from numba's cache); None without numba.

    numba's ``workqueue`` threading layer is chosen unless ``NUMBA_THREADING_LAYER`` says otherwise: its
    threads sleep between launches, where OpenMP's spin and, on a machine with few cores, take them from
    the BLAS threads of the next matrix product (the seed network's epoch ran ten times slower with
    OpenMP's layer). workqueue allows one launch at a time, so `blocked` launches under a lock.
    """
    with _compiled_lock:
        if name not in _compiled:
            _compiled[name] = _build(name)
        return _compiled[name]


def _build(name):
    try:
        import numba
    except ImportError:
        return None
    if "NUMBA_THREADING_LAYER" not in os.environ:
        numba.config.THREADING_LAYER = "workqueue"
    if name != "adam":
        raise KeyError(f"no compiled twin named {name!r}")

    @numba.njit(cache=True, nogil=True, parallel=True)
    def adam(W, g, M, V, u, b1, b2, c1, e):
        """`scratchnet.optimizers.adam_update` in one pass: ``M ← β1 M + g``, ``V ← β2 V + g²``,
        ``W ← W - c1 M / (√V + e)``. ``W, g, M, V, u (P,)`` float32 (``u`` unused); the same float32
        operations in the same order as the NumPy kernel, so the same bits."""
        b1, b2, c1, e = np.float32(b1), np.float32(b2), np.float32(c1), np.float32(e)
        for i in numba.prange(W.shape[0]):
            m = b1 * M[i] + g[i]
            v = b2 * V[i] + g[i] * g[i]
            M[i] = m
            V[i] = v
            W[i] -= c1 * (m / (np.sqrt(v) + e))

    def launch(*arrays_and_args):
        n = min(threads(), numba.config.NUMBA_NUM_THREADS)
        with _launch_lock:
            numba.set_num_threads(n)
            adam(*arrays_and_args)

    return launch


def blocked(kernel, arrays, *args, block=None, parallel_min=None, compiled=None):
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
        calling thread (default `PARALLEL_MIN`); so it does when `threads` is 1 (unless compiled)
    compiled : str, optional, the name of the kernel's compiled twin (`compiled_kernel`), which runs
        instead of the blocks from `parallel_min` elements on, for float32 arrays (float64 ones take
        the NumPy blocks), when numba is installed and `compiled_enabled`

    Returns
    -------
    None; the kernel writes its results into its arrays
    """
    first = arrays[0]
    parallel_min = PARALLEL_MIN if parallel_min is None else parallel_min
    if compiled is not None and first.size >= parallel_min and first.dtype == np.float32 and compiled_enabled():
        twin = compiled_kernel(compiled)
        if twin is not None:
            twin(*arrays, *args)
            return
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

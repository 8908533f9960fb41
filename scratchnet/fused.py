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

Adam's update also has a *compiled twin*: ``blocked(kernel, arrays, ..., compiled="adam")`` runs
`compiled_kernel` ``"adam"`` instead, the same update written as one numba loop (one pass over memory
instead of NumPy's ten, vectorised by LLVM), for float32 arrays of every size when numba is there. It
gives the NumPy kernel's float32 numbers to the bit (the same operations in the same order, no
fast-math; ``tests/test_compiled.py``), so the NumPy kernel stays the readable reference and the test
oracle. ``SCRATCHNET_COMPILED=0`` in the environment of a process turns the compiled twins off (and
numba is then never imported); `use_compiled` switches them within a running one.

What was tried and measured against this (``benchmarks/elementwise.py``, ``benchmarks/fusion.py``,
docs/performance.md): numexpr, which compiles an expression into one pass over blocks on all cores. On
this project's machines its interpreter is slower than NumPy's vectorised loops for every piece of the
step, so it is not used. A numba loop parallelised with ``prange`` over both cores was slower than the
serial vectorised one at both networks' sizes (Adam's pass is limited by memory, not by arithmetic).
Nor did the serial twin gain from running in two parts on two threads inside a training step: faster
alone on the wide network, it made whole epochs at two BLAS threads slower, timed in turns (probably
the second part competing with OpenBLAS's threads, which spin for a while after each product).
"""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

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


_enabled = os.environ.get("SCRATCHNET_COMPILED", "1") != "0"


def compiled_enabled():
    """Whether compiled twins may run: ``SCRATCHNET_COMPILED`` unset or anything but ``0`` when this module
    was imported, unless `use_compiled` changed it since. (Read once: an ``os.environ`` lookup costs
    more than `fast` itself, which runs several times per training step; `benchmarks/fusion.py` times both.)"""
    return _enabled


@contextmanager
def use_compiled(on):
    """Within the block, compiled twins run (``on`` true) or not, for the whole process, whatever
    ``SCRATCHNET_COMPILED`` said; for tests and benchmarks that compare both ways in one process. Not
    for use while other threads train: they would switch mid-run (the results are the same bits either way)."""
    global _enabled
    saved, _enabled = _enabled, bool(on)
    try:
        yield
    finally:
        _enabled = saved


_compiled, _compiled_lock = {}, threading.Lock()


_F32, _U8 = np.dtype(np.float32), np.dtype(np.uint8)
TWINS = {"adam": (_F32,), "softmax_cross_entropy_delta": (_F32,), "sigmoid_derivative": (_F32,),
         "scale_pixels": (_U8, _F32), "average_weights": (_F32, _F32)}
"""The NumPy references that have a compiled twin, by name, with the dtypes of the arrays `fast` is
given for them: `scratchnet.optimizers.adam_update`, `scratchnet.losses.softmax_cross_entropy_delta`,
`scratchnet.activations.sigmoid_derivative`, `scratchnet.network.scale_pixels` (uint8 pixels into a float32
``[1 x]``) and `scratchnet.training.average_weights`; each gives the reference's numbers to the bit. The
softmax has none, on purpose: numba's ``exp`` differs from NumPy's in the last bit, and a pass with
labels (a training step) must give the same ŷ as one without (a prediction); σ has none either, NumPy's
vectorised ``exp`` being as fast as numba's scalar one; nor the epoch's shifted images
(`scratchnet.augment`): a compiled loop moving them image by image took as long as NumPy's nine slice
assignments, timed in turns in one process (commit 65ee351 had it)."""


def compiled_kernel(name):
    """The compiled twin ``name`` (one of `TWINS`), compiled on first use (``cache=True``: later
    processes load it from numba's cache); None without numba.

    Each twin is a serial loop compiled with ``error_model="numpy"``: a division by zero gives IEEE's
    ``inf`` as NumPy's does, instead of Python's exception, whose check in every iteration would stop
    LLVM from vectorising the loop (Adam's twin then ran 2× slower than NumPy's ten passes; vectorised
    it runs 4× faster, `benchmarks/fusion.py`). A twin holds no lock and no state, so any number of
    threads may run it at once on their own arrays.
    """
    if name in _compiled:                           # loaded already (or None): no lock needed to read
        return _compiled[name]
    if name not in TWINS:
        raise KeyError(f"no compiled twin named {name!r}")
    with _compiled_lock:
        if name not in _compiled:
            _compiled[name] = _build(name)
        return _compiled[name]


def fast(reference, *arrays):
    """The function to call for the NumPy ``reference`` on ``arrays``: its compiled twin when it has one
    (`TWINS`), ``arrays`` have the twin's dtypes (in order), twins are on (`compiled_enabled`) and numba is
    there; else ``reference`` itself. Both take the same arguments and give the same results, to the bit."""
    name = reference.__name__                       # called on every step: a few µs matter here
    dtypes = TWINS.get(name)
    if dtypes is None or len(arrays) != len(dtypes):
        return reference
    for a, d in zip(arrays, dtypes):
        if a.dtype != d:
            return reference
    twin = compiled_kernel(name) if compiled_enabled() else None
    return reference if twin is None else twin


def warm_up():
    """Load every compiled twin (compiling it the first time after an install) for the argument types a
    float32 training step passes them, so that the step itself does not pay for it; returns the seconds
    this took, about 1 s in a fresh process (importing numba and starting LLVM) and 0 when the twins are
    off or were loaded already. `scratchnet.training.train` calls it before its clock starts."""
    if not compiled_enabled():
        return 0.0
    start = time.perf_counter()
    yhat, delta = np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32)
    H = np.ones((2, 4), np.float32)[:, 1:]                   # a trace's H_l: a view of [1 H_l]
    y, flat = np.zeros(2, np.intp), np.zeros(4, np.float32)
    pixels, one_x = np.zeros((2, 3), np.uint8), np.zeros((2, 4), np.float32)
    calls = {"adam": (flat, flat, flat, flat, flat, 0.9, 0.999, 1e-3, 1e-8),
             "softmax_cross_entropy_delta": (yhat, y, delta),
             "sigmoid_derivative": (H, delta),
             "scale_pixels": (pixels, one_x),
             "average_weights": (flat, flat.copy(), 0.5, flat)}
    for name, args in calls.items():
        twin = compiled_kernel(name)
        if twin is None:
            return 0.0
        twin(*args)
    return time.perf_counter() - start


def _build(name):
    try:
        import numba
    except ImportError:
        return None
    jit = numba.njit(cache=True, nogil=True, error_model="numpy")
    return {"adam": _adam, "softmax_cross_entropy_delta": _softmax_cross_entropy_delta,
            "sigmoid_derivative": _sigmoid_derivative, "scale_pixels": _scale_pixels,
            "average_weights": _average_weights}[name](jit)


def _adam(jit):
    @jit
    def adam(W, g, M, V, u, b1, b2, c1, e):
        """`scratchnet.optimizers.adam_update` in one pass: ``M ← β1 M + g``, ``V ← β2 V + g²``,
        ``W ← W - c1 M / (√V + e)``. ``W, g, M, V, u (P,)`` float32 (``u``, the NumPy kernel's scratch
        space, is not touched); the same float32 operations in the same order as the NumPy kernel, so
        the same bits in ``W``, ``M`` and ``V``."""
        b1, b2, c1, e = np.float32(b1), np.float32(b2), np.float32(c1), np.float32(e)
        for i in range(W.shape[0]):
            m = b1 * M[i] + g[i]
            v = b2 * V[i] + g[i] * g[i]
            M[i] = m
            V[i] = v
            W[i] -= c1 * (m / (np.sqrt(v) + e))

    return adam


def _softmax_cross_entropy_delta(jit):
    @jit
    def rows(yhat, y, out):
        """``out = (yhat - onehot(y)) / B``, as the NumPy kernel: ``yhat - 1`` on the label, then ``× 1/B``."""
        B, K = yhat.shape
        r = np.float32(1.0 / B)
        for i in range(B):
            for k in range(K):
                out[i, k] = yhat[i, k] * r
            out[i, y[i]] = (yhat[i, y[i]] - np.float32(1.0)) * r

    def softmax_cross_entropy_delta(yhat, y, out=None):
        """`scratchnet.losses.softmax_cross_entropy_delta` in one pass: ``δ_L = (ŷ - y) / B``. The labels
        must lie in ``[0, K)``: nothing checks them here."""
        out = np.empty_like(yhat) if out is None else out
        rows(yhat, y, out)
        return out

    return softmax_cross_entropy_delta


def _sigmoid_derivative(jit):
    @jit
    def rows(H, delta):
        """``delta *= H (1 - H)``, as the NumPy kernel: ``delta · H``, then ``· (1 - H)``."""
        B, n = H.shape
        for i in range(B):
            for j in range(n):
                h = H[i, j]
                delta[i, j] = delta[i, j] * h * (np.float32(1.0) - h)

    def sigmoid_derivative(H, delta):
        """`scratchnet.activations.sigmoid_derivative` in one pass: ``delta *= H (1 - H)``."""
        rows(H, delta)
        return delta

    return sigmoid_derivative


def _scale_pixels(jit):
    @jit
    def rows(X, out):
        """``out[:, 1:] = X · (1/255)`` in float32, ``out[:, 0] = 1``, as the NumPy kernel: cast, then scale."""
        B, n = X.shape
        r = np.float32(1 / 255)
        for i in range(B):
            out[i, 0] = np.float32(1.0)
            for j in range(n):
                out[i, j + 1] = np.float32(X[i, j]) * r

    def scale_pixels(X, out):
        """`scratchnet.network.scale_pixels` in one pass: ``out = [1 x]``, ``x = X / 255``. The shapes are
        checked here, as NumPy's broadcasting would: the compiled loop does not check its indices."""
        if X.ndim != 2 or out.shape != (X.shape[0], X.shape[1] + 1):
            raise ValueError(f"[1 x] for pixels of shape {X.shape} must have shape "
                             f"({X.shape[0] if X.ndim else '?'}, n + 1), got {out.shape}")
        rows(X, out)
        return out

    return scale_pixels


def _average_weights(jit):
    @jit
    def average_weights(average, params, d, scratch):
        """`scratchnet.training.average_weights` in one pass: ``W̄ ← d W̄ + (1 − d) W``. ``average``,
        ``params`` ``(P,)`` float32 (``scratch``, the NumPy kernel's workspace, is not touched); each
        product rounded to float32 before the sum, as the NumPy kernel's, so the same bits."""
        a, c = np.float32(d), np.float32(1 - d)
        for i in range(average.shape[0]):
            average[i] = average[i] * a + params[i] * c

    return average_weights


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
        instead, whole, for float32 arrays of any size (float64 ones take the NumPy path), when numba is
        installed and `compiled_enabled`

    Returns
    -------
    None; the kernel writes its results into its arrays
    """
    first = arrays[0]
    parallel_min = PARALLEL_MIN if parallel_min is None else parallel_min
    if compiled is not None and first.dtype == np.float32 and compiled_enabled():
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


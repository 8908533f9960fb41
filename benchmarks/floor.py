"""The compute floor: the FLOP of a training epoch and the rate at which this machine's BLAS does them.

A training step of a batch of ``B`` rows is, for its matrix work, exactly the products the seed's
notation writes (``W_l`` has shape ``(n_{l-1} + 1, n_l)``, row 0 the bias, ``W̄_l = W_l[1:]``)::

    z_l     = [1 H_{l-1}] W_l          (B, n_{l-1}+1) @ (n_{l-1}+1, n_l)      forward
    ∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l         (n_{l-1}+1, B) @ (B, n_l)              weight gradient
    δ_l W̄_lᵀ                           (B, n_l) @ (n_l, n_{l-1})              input gradient, l ≥ 2

The bias rows are part of the first two products and are counted; the input gradient uses ``W̄_l``
and has no bias row. Activations, the loss and the optimiser are elementwise work and are not counted.

**The floor** of an epoch is its FLOP divided by the float32 rate of a large square product (the peak
this machine's BLAS reaches): no implementation that does these products can be faster.
"""

import math
import time

import numpy as np

SQUARE = 2048
"""Side of the square float32 GEMM that measures the machine's peak rate."""


def matmul_shapes(sizes, B):
    """The matrix products of one training step of a batch of ``B`` rows, in the seed's notation.

    Parameters
    ----------
    sizes : sequence of int, ``[n_0, …, n_L]``
    B : int, rows in the batch

    Returns
    -------
    list of dict with ``name``, ``kind`` (``forward``, ``weight gradient``, ``input gradient``),
    ``m, k, n`` (an ``(m, k) @ (k, n)`` product) and ``transpose`` (which operand is a transposed view:
    ``[1 H]ᵀ`` in the weight gradient, ``W̄ᵀ`` in the input gradient)
    """
    shapes = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        shapes.append(dict(name=f"[1 H{l - 1}] W{l}", kind="forward", m=B, k=n_in + 1, n=n_out,
                           transpose=None))
        shapes.append(dict(name=f"[1 H{l - 1}]ᵀ δ{l}", kind="weight gradient", m=n_in + 1, k=B, n=n_out,
                           transpose="a"))
        if l >= 2:
            shapes.append(dict(name=f"δ{l} W̄{l}ᵀ", kind="input gradient", m=B, k=n_out, n=n_in,
                               transpose="b"))
    return shapes


def flops(shape):
    """FLOP of one ``(m, k) @ (k, n)`` product: a multiply and an add per term, ``2 m k n``."""
    return 2 * shape["m"] * shape["k"] * shape["n"]


def flops_per_image(sizes):
    """Matrix FLOP of one training image: forward and weight gradient (bias rows included), and the
    input gradients of layers ≥ 2.

    For the seed network ``[784, 100, 10, 10]`` this is 320,680.
    """
    return sum(flops(s) for s in matmul_shapes(sizes, 1))


def time_matmul(m, k, n, transpose=None, dtype=np.float32, rng=None, min_seconds=0.05, window=1e-3,
                min_windows=20):
    """Seconds per call of ``np.matmul(a, b, out=c)`` with ``a (m, k)``, ``b (k, n)``, ``c (m, n)``.

    ``transpose`` ``"a"`` or ``"b"`` makes that operand a transposed view, as the backward pass uses it.
    The calls run for at least ``min_seconds`` in windows of about ``window`` seconds (at least one call
    and at least ``min_windows`` windows); the fastest window's mean is kept: the rate the BLAS reaches
    when nothing else disturbs it, which a shared machine still shows between interruptions (on a busy
    machine a multithreaded product often waits a whole scheduler time slice for one of its threads).
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    a = rng.random((k, m), dtype=dtype).T if transpose == "a" else rng.random((m, k), dtype=dtype)
    b = rng.random((n, k), dtype=dtype).T if transpose == "b" else rng.random((k, n), dtype=dtype)
    c = np.empty((m, n), dtype)
    once = math.inf
    for _ in range(3):
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        once = min(once, max(time.perf_counter() - start, 1e-7))
    repeats = max(1, int(window / once))
    best, spent, windows = math.inf, 0.0, 0
    while spent < min_seconds or windows < min_windows:
        start = time.perf_counter()
        for _ in range(repeats):
            np.matmul(a, b, out=c)
        elapsed = time.perf_counter() - start
        best, spent, windows = min(best, elapsed / repeats), spent + elapsed, windows + 1
    return best


def peak_gflops(side=SQUARE, dtype=np.float32):
    """The float32 rate, in GFLOP/s, of a ``side``-sided square product: the machine's peak."""
    seconds = time_matmul(side, side, side, None, dtype, np.random.default_rng(0), min_seconds=0.5)
    return 2 * side ** 3 / seconds / 1e9


def measure_gemm(sizes, B, n_train, dtype=np.float32):
    """The float32 rate of each product of a step at its real shapes.

    Returns
    -------
    dict with ``shapes`` (each of `matmul_shapes` with ``seconds_per_call``, ``gflops`` and
    ``calls_per_epoch``) and ``seconds_per_epoch`` (the epoch's products alone at these rates, the
    last partial batch counted as a full one)
    """
    steps = -(-n_train // B)
    rng = np.random.default_rng(0)
    shapes = []
    for s in matmul_shapes(sizes, B):
        seconds = time_matmul(s["m"], s["k"], s["n"], s["transpose"], dtype, rng)
        shapes.append({**s, "seconds_per_call": seconds, "gflops": flops(s) / seconds / 1e9,
                       "calls_per_epoch": steps})
    return {"shapes": shapes,
            "seconds_per_epoch": sum(s["seconds_per_call"] * s["calls_per_epoch"] for s in shapes)}


def floor_seconds(sizes, n_images, gflops):
    """The floor: seconds for the matrix FLOP of ``n_images`` training images at ``gflops`` GFLOP/s."""
    return flops_per_image(sizes) * n_images / (gflops * 1e9)


def gemm_seconds_by_kind(gemm):
    """Seconds per epoch of the step's matrix products alone, by kind (forward, weight gradient, …)."""
    kinds = {}
    for x in gemm["shapes"]:
        kinds[x["kind"]] = kinds.get(x["kind"], 0.0) + x["seconds_per_call"] * x["calls_per_epoch"]
    return kinds

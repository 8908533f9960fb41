"""`scratchnet.fused.compiled_kernel`: numba's one-pass Adam gives the NumPy reference's numbers, to the bit.

The reference is `scratchnet.optimizers.adam_update` (ten NumPy passes) on whole arrays. The compiled twin
does the same float32 operations in the same order, so equality is exact: a wrong coefficient, a
skipped element or a contraction into a fused multiply-add would all show. Small arrays and float64
keep the NumPy path, and the seed network's training never imports numba (it would pay the compile time
and gain nothing, `benchmarks/fusion.py`).
"""

import math
import subprocess
import sys
import threading

import numpy as np
import pytest

from scratchnet import fused
from scratchnet.optimizers import Adam, adam_update

pytest.importorskip("numba")

WIDE_PARAMS = 785 * 1024 + 1025 * 1024 + 1025 * 10      # the wide network 784 → 1024 → 1024 → 10
ARGS = (0.9, 0.999, 1.3e-3, 3.2e-7)


@pytest.fixture(params=[1, 2])
def threads(request, monkeypatch):
    monkeypatch.setenv("SCRATCHNET_THREADS", str(request.param))
    return request.param


def _adam_state(P, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal(P).astype(dtype)
    g = (rng.standard_normal(P) * 1e-2).astype(dtype)
    M = (rng.standard_normal(P) * 1e-2).astype(dtype)
    V = (rng.random(P) * 1e-4).astype(dtype)
    return W, g, M, V, np.empty(P, dtype)


def _reference_steps(W, g, steps, lr=1e-3):
    """``steps`` Adam steps by the NumPy kernel on whole arrays, as `Adam.step` computes its scalars."""
    M, V, u = np.zeros_like(W), np.zeros_like(W), np.empty_like(W)
    for t in range(1, steps + 1):
        c2 = math.sqrt((1 - 0.999) / (1 - 0.999 ** t))
        c1 = lr * (1 - 0.9) / ((1 - 0.9 ** t) * c2)
        adam_update(W, g, M, V, u, 0.9, 0.999, c1, 1e-8 / c2)
    return W, M, V


def test_compiled_adam_equals_the_numpy_kernel_to_the_bit(threads):
    ref = _adam_state(WIDE_PARAMS)
    adam_update(*ref, *ARGS)
    got = _adam_state(WIDE_PARAMS)
    fused.compiled_kernel("adam")(*got, *ARGS)
    for r, g in zip(ref[:4], got[:4]):                           # W, g, M, V
        np.testing.assert_array_equal(g, r)
    assert not np.array_equal(got[0], _adam_state(WIDE_PARAMS)[0])   # it did update W


def test_adam_on_a_large_network_takes_the_compiled_path(threads, monkeypatch):
    calls = []
    twin = fused.compiled_kernel("adam")
    monkeypatch.setattr(fused, "compiled_kernel", lambda name: lambda *a: (calls.append(name), twin(*a)))
    W, g = _adam_state(WIDE_PARAMS)[:2]
    W_ref, g_ref = W.copy(), g.copy()
    opt = Adam(W)
    for _ in range(3):
        opt.step(W, g, 1e-3)
    W_ref, M_ref, V_ref = _reference_steps(W_ref, g_ref, 3)
    assert calls == ["adam"] * 3
    np.testing.assert_array_equal(W, W_ref)
    np.testing.assert_array_equal(opt.M, M_ref)
    np.testing.assert_array_equal(opt.V, V_ref)


@pytest.mark.parametrize("case", ["small", "float64", "switched off"])
def test_small_float64_or_switched_off_keep_the_numpy_path(case, monkeypatch):
    monkeypatch.setattr(fused, "compiled_kernel", lambda name: pytest.fail("the compiled twin ran"))
    P, dtype = (fused.PARALLEL_MIN - 1, np.float32) if case == "small" else (WIDE_PARAMS, np.float32)
    if case == "float64":
        dtype = np.float64
    if case == "switched off":
        monkeypatch.setenv("SCRATCHNET_COMPILED", "0")
    W, g = _adam_state(P, dtype=dtype)[:2]
    W_ref = W.copy()
    Adam(W).step(W, g, 1e-3)
    np.testing.assert_array_equal(W, _reference_steps(W_ref, g, 1)[0])


def test_concurrent_steps_equal_serial_ones(monkeypatch):
    # workqueue, numba's threading layer here, allows one launch at a time: fused launches under a lock
    monkeypatch.setenv("SCRATCHNET_THREADS", "2")
    states = [_adam_state(WIDE_PARAMS, seed=s)[:2] for s in range(4)]
    expected = [_reference_steps(W.copy(), g, 5)[0] for W, g in states]
    errors = []

    def run(W, g):
        try:
            opt = Adam(W)
            for _ in range(5):
                opt.step(W, g, 1e-3)
        except Exception as error:          # reported below, in the test's thread
            errors.append(error)

    workers = [threading.Thread(target=run, args=s) for s in states]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors
    for (W, _), W_ref in zip(states, expected):
        np.testing.assert_array_equal(W, W_ref)


def test_training_the_seed_network_never_imports_numba():
    code = ("import sys, numpy as np, scratchnet as sn\n"
            "from scratchnet.training import Recipe, train\n"
            "rng = np.random.default_rng(0)\n"
            "X = rng.integers(0, 256, (256, 784), dtype=np.uint8); y = rng.integers(0, 10, 256)\n"
            "train(sn.seed_network(), X, y, Recipe(epochs=1))\n"
            "print('numba' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"

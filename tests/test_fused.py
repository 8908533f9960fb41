"""`scratchnet.fused.blocked`: the blocked, multithreaded path gives the reference's numbers.

The reference is the NumPy kernel called once on whole arrays. An elementwise kernel computes each
element from the same elements of its inputs, so block by block it must give the same float32 numbers,
to the bit; the tests assert exact equality (a block skipped, done twice or misaligned would show).
"""

import math

import numpy as np
import pytest

from scratchnet import fused
from scratchnet.activations import sigmoid, sigmoid_derivative
from scratchnet.optimizers import Adam, Momentum, adam_update

WIDE_PARAMS = 785 * 1024 + 1025 * 1024 + 1025 * 10      # the wide network 784 → 1024 → 1024 → 10


@pytest.fixture(params=[1, 2, 3])
def threads(request, monkeypatch):
    monkeypatch.setenv("SCRATCHNET_THREADS", str(request.param))
    return request.param


def _adam_state(P, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal(P).astype(np.float32)
    g = (rng.standard_normal(P) * 1e-2).astype(np.float32)
    M = (rng.standard_normal(P) * 1e-2).astype(np.float32)
    V = (rng.random(P) * 1e-4).astype(np.float32)
    return W, g, M, V, np.empty(P, np.float32)


def test_blocked_adam_update_equals_the_whole_array_reference(threads):
    args = (0.9, 0.999, 1.3e-3, 3.2e-7)
    ref = _adam_state(WIDE_PARAMS)
    adam_update(*ref, *args)                                     # the reference: ten passes, whole arrays
    got = _adam_state(WIDE_PARAMS)
    fused.blocked(adam_update, got, *args, block=10_000, parallel_min=0)   # blocks that do not divide P
    for r, g in zip(ref[:4], got[:4]):                           # W, g, M, V
        np.testing.assert_array_equal(g, r)


def test_adam_step_on_a_large_network_equals_the_reference(threads):
    # the optimiser's own path (blocked above PARALLEL_MIN) against the kernel on whole arrays, 3 steps
    W, g, M, V, u = _adam_state(fused.PARALLEL_MIN + 12_345)
    W_ref = W.copy()
    opt = Adam(W)
    M_ref, V_ref = np.zeros_like(W), np.zeros_like(W)
    for t in range(1, 4):
        opt.step(W, g, 1e-3)
        c2 = math.sqrt((1 - 0.999) / (1 - 0.999 ** t))         # Python floats, as Adam.step
        c1 = 1e-3 * (1 - 0.9) / ((1 - 0.9 ** t) * c2)
        adam_update(W_ref, g, M_ref, V_ref, u, 0.9, 0.999, c1, 1e-8 / c2)
    np.testing.assert_array_equal(W, W_ref)
    np.testing.assert_array_equal(opt.M, M_ref)
    np.testing.assert_array_equal(opt.V, V_ref)


def test_momentum_step_on_a_large_network_equals_the_reference(threads):
    rng = np.random.default_rng(1)
    P = fused.PARALLEL_MIN * 2 + 7
    W = rng.standard_normal(P).astype(np.float32)
    g = rng.standard_normal(P).astype(np.float32)
    W_ref, v = W.copy(), np.zeros_like(W)
    opt = Momentum(W)
    for _ in range(3):
        opt.step(W, g, 0.01)
        v = np.float32(0.9) * v - np.float32(0.01) * g
        W_ref = W_ref + v
    np.testing.assert_allclose(W, W_ref, rtol=2e-7, atol=1e-7)   # float32 rounding of the same sums


def test_blocked_rows_of_a_strided_view(threads):
    # the forward pass writes H = σ(z) over z in place in columns 1: of [1 H]: a non-contiguous view
    rng = np.random.default_rng(2)
    one_H = np.ones((300, 2049), np.float32)
    one_H[:, 1:] = rng.standard_normal((300, 2048)).astype(np.float32) * 6
    z = one_H[:, 1:]
    ref = sigmoid(z.copy())
    fused.blocked(sigmoid, (z, z), block=50_000, parallel_min=0)
    np.testing.assert_array_equal(z, ref)
    assert np.all(one_H[:, 0] == 1)                              # the column of ones untouched
    delta = rng.standard_normal((300, 2048)).astype(np.float32)
    ref = sigmoid_derivative(z, delta.copy())
    fused.blocked(sigmoid_derivative, (z, delta), block=50_000, parallel_min=0)
    np.testing.assert_array_equal(delta, ref)


def test_small_arrays_run_whole_on_the_calling_thread():
    calls = []
    fused.blocked(lambda a: calls.append(a.shape), (np.zeros(100),))
    assert calls == [(100,)]


def test_every_block_is_done_exactly_once(threads):
    a = np.zeros(1_000_003, np.int64)

    def count(x):
        x += 1

    fused.blocked(count, (a,), block=4096, parallel_min=0)
    assert a.min() == 1 and a.max() == 1


def test_an_error_in_a_worker_reaches_the_caller(monkeypatch):
    monkeypatch.setenv("SCRATCHNET_THREADS", "2")

    def fail(x):
        if x[0] > 0:                                             # only the blocks after the first
            raise ValueError("bad block")

    with pytest.raises(ValueError, match="bad block"):
        fused.blocked(fail, (np.arange(1_000_000),), block=1000, parallel_min=0)


def test_threads_follow_the_environment(monkeypatch):
    monkeypatch.setenv("SCRATCHNET_THREADS", "3")
    assert fused.threads() == 3
    monkeypatch.delenv("SCRATCHNET_THREADS")
    assert fused.threads() >= 1

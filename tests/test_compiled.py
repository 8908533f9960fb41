"""`scratchnet.fused.compiled_kernel`: numba's one-pass Adam gives the NumPy reference's numbers, to the bit.

The reference is `scratchnet.optimizers.adam_update` (ten NumPy passes) on whole arrays. The compiled twin
does the same float32 operations in the same order, so equality is exact: a wrong coefficient, a
skipped element or a contraction into a fused multiply-add would all show. Every float32 network takes
it (the seed network's Adam too), and the twins of δ_L, σ′, the input's ``[1 x]`` and the moving
average of the weights give NumPy's bits too; float64 and ``SCRATCHNET_COMPILED=0`` keep the NumPy path,
and with the switch off numba is never imported.
"""

import math
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import scratchnet as sn
from scratchnet import fused
from scratchnet.activations import sigmoid_derivative
from scratchnet.losses import softmax_cross_entropy, softmax_cross_entropy_delta
from scratchnet.network import scale_pixels
from scratchnet.optimizers import Adam, adam_update
from scratchnet.training import average_weights

WIDE_PARAMS = 785 * 1024 + 1025 * 1024 + 1025 * 10      # the wide network 784 → 1024 → 1024 → 10
SEED_PARAMS = 785 * 100 + 101 * 10 + 11 * 10            # the seed network 784 → 100 → 10 → 10
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


@pytest.mark.parametrize("P", [SEED_PARAMS, WIDE_PARAMS, 1, 7, 8, 9, 31])   # vector loop and its remainder
def test_compiled_adam_equals_the_numpy_kernel_to_the_bit(P):
    ref = _adam_state(P)
    adam_update(*ref, *ARGS)
    got = _adam_state(P)
    fused.compiled_kernel("adam")(*got, *ARGS)
    for r, g in zip(ref[:4], got[:4]):                           # W, g, M, V
        np.testing.assert_array_equal(g, r)
    assert not np.array_equal(got[0], _adam_state(P)[0])         # it did update W


def test_a_zero_denominator_gives_numpys_inf_not_an_exception():
    W, g, M, V, u = (np.zeros(16, np.float32) for _ in range(5))
    M[3] = 1.0                                                   # M / (√0 + 0) = inf, as in NumPy
    ref = [a.copy() for a in (W, g, M, V, u)]
    with np.errstate(divide="ignore", invalid="ignore"):
        adam_update(*ref, 0.9, 0.999, 1.0, 0.0)
    fused.compiled_kernel("adam")(W, g, M, V, u, 0.9, 0.999, 1.0, 0.0)
    np.testing.assert_array_equal(W, ref[0])
    assert np.isneginf(W[3]) and np.isnan(W[0])                 # 0/0 is NaN in both


@pytest.mark.parametrize("P", [SEED_PARAMS, WIDE_PARAMS])
def test_adam_on_float32_networks_takes_the_compiled_path(P, threads, monkeypatch):
    calls = []
    twin = fused.compiled_kernel("adam")
    monkeypatch.setattr(fused, "compiled_kernel", lambda name: lambda *a: (calls.append(name), twin(*a)))
    W, g = _adam_state(P)[:2]
    W_ref, g_ref = W.copy(), g.copy()
    opt = Adam(W)
    for _ in range(3):
        opt.step(W, g, 1e-3)
    W_ref, M_ref, V_ref = _reference_steps(W_ref, g_ref, 3)
    assert calls == ["adam"] * 3
    np.testing.assert_array_equal(W, W_ref)
    np.testing.assert_array_equal(opt.M, M_ref)
    np.testing.assert_array_equal(opt.V, V_ref)


@pytest.mark.parametrize("case", ["float64", "switched off"])
@pytest.mark.parametrize("P", [SEED_PARAMS, WIDE_PARAMS])
def test_float64_or_switched_off_keep_the_numpy_path(case, P, monkeypatch):
    monkeypatch.setattr(fused, "compiled_kernel", lambda name: pytest.fail("the compiled twin ran"))
    dtype = np.float64 if case == "float64" else np.float32
    W, g = _adam_state(P, dtype=dtype)[:2]
    W_ref = W.copy()
    with fused.use_compiled(case != "switched off"):
        Adam(W).step(W, g, 1e-3)
    np.testing.assert_array_equal(W, _reference_steps(W_ref, g, 1)[0])


def test_concurrent_steps_equal_serial_ones():
    # the twin releases the GIL and keeps no state: four threads step four networks at once
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


def _train_in_a_fresh_process(env):
    code = ("import sys, numpy as np, scratchnet as sn\n"
            "from scratchnet.training import Recipe, train\n"
            "rng = np.random.default_rng(0)\n"
            "X = rng.integers(0, 256, (256, 784), dtype=np.uint8); y = rng.integers(0, 10, 256)\n"
            "net = sn.seed_network()\n"
            "train(net, X, y, Recipe(epochs=2))\n"
            "print('numba' in sys.modules, net.params.tobytes().hex())\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=env).stdout.split()


def test_switched_off_training_never_imports_numba_and_gives_the_same_weights():
    env = {k: v for k, v in os.environ.items() if k != "SCRATCHNET_COMPILED"}
    compiled_imports, compiled_weights = _train_in_a_fresh_process(env)
    numpy_imports, numpy_weights = _train_in_a_fresh_process({**env, "SCRATCHNET_COMPILED": "0"})
    assert (compiled_imports, numpy_imports) == ("True", "False")
    compiled_weights, numpy_weights = (np.frombuffer(bytes.fromhex(w), np.float32)
                                       for w in (compiled_weights, numpy_weights))
    # two epochs of the default recipe (±1-pixel shifts: every twin runs), the same bits
    np.testing.assert_array_equal(compiled_weights, numpy_weights)
    assert not np.array_equal(compiled_weights, sn.seed_network().params)   # and they did train


def _logits_and_labels(B, K, seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((B, K)) * scale).astype(np.float32)
    z[0, :] += 80.0                                               # a row whose e^z would overflow unshifted
    return z, rng.integers(0, K, B)


def _assert_delta_twin_is_exact(twin, B, K):
    z, y = _logits_and_labels(B, K)
    yhat = softmax_cross_entropy(z, y)[1]
    ref = softmax_cross_entropy_delta(yhat, y, out=np.empty_like(yhat))
    np.testing.assert_array_equal(twin(yhat, y, out=np.empty_like(yhat)), ref)


@pytest.mark.parametrize("B, K", [(128, 10), (1, 2), (37, 26)])
def test_compiled_delta_equals_numpy_to_the_bit(B, K):
    _assert_delta_twin_is_exact(fused.compiled_kernel("softmax_cross_entropy_delta"), B, K)


def test_a_twin_that_forgets_the_mean_is_caught():
    # the seed learner's own slip, δ_L = ŷ − y without the 1/B, planted in a twin: the comparison fails
    def planted(yhat, y, out):
        return fused.compiled_kernel("softmax_cross_entropy_delta")(yhat, y, out=out) * len(y)
    with pytest.raises(AssertionError):
        _assert_delta_twin_is_exact(planted, 128, 10)


@pytest.mark.parametrize("n", [100, 10, 1024, 3])
def test_compiled_sigmoid_derivative_equals_numpy_to_the_bit(n):
    rng = np.random.default_rng(n)
    one_H = np.ones((128, n + 1), np.float32)
    one_H[:, 1:] = rng.random((128, n), dtype=np.float32)
    H = one_H[:, 1:]                                              # the strided view a trace holds
    delta = rng.standard_normal((128, n)).astype(np.float32)
    ref = sigmoid_derivative(H, delta.copy())
    got = fused.compiled_kernel("sigmoid_derivative")(H, delta.copy())
    np.testing.assert_array_equal(got, ref)


def test_the_network_takes_the_twins_for_float32_and_numpy_for_float64(monkeypatch):
    calls = []
    real = fused.compiled_kernel
    monkeypatch.setattr(fused, "compiled_kernel", lambda name: (calls.append(name), real(name))[1])
    rng = np.random.default_rng(0)
    X, y = rng.integers(0, 256, (16, 784), dtype=np.uint8), rng.integers(0, 10, 16)
    t32 = sn.seed_network().trace(X, y)
    assert calls == ["scale_pixels", "softmax_cross_entropy_delta", "sigmoid_derivative", "sigmoid_derivative"]
    calls.clear()
    t64 = sn.seed_network(dtype="float64").trace(X, y)
    assert calls == []
    for l in (1, 2, 3):                                          # the same pass, to float32 rounding
        np.testing.assert_allclose(t32.dW[l], t64.dW[l], rtol=1e-3, atol=1e-6)
    with fused.use_compiled(False):                              # and the twins' pass is NumPy's, bit for bit
        t_numpy = sn.seed_network().trace(X, y)
    np.testing.assert_array_equal(t32.gradient, t_numpy.gradient)
    assert t32.loss == t_numpy.loss


def test_warm_up_loads_the_twins_once_and_not_when_switched_off():
    code = ("import sys, numpy as np\n"
            "from scratchnet import fused\n"
            "first, second = fused.warm_up(), fused.warm_up()\n"
            "print(first > 0, second < first / 10, 'numba' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k != "SCRATCHNET_COMPILED"}
    run = lambda e: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,  # noqa: E731
                                   env=e).stdout.split()
    assert run(env) == ["True", "True", "True"]
    assert run({**env, "SCRATCHNET_COMPILED": "0"}) == ["False", "False", "False"]



def _pixels(B, n, seed=0):
    X = np.random.default_rng(seed).integers(0, 256, (B, n), dtype=np.uint8)
    X[0, :2] = 0, 255                                             # the two ends of the range
    return X


def _garbage(B, n):
    """What np.empty may hand out: signalling NaNs, which warn when multiplied."""
    return np.full((B, n), 0x7FA00000, np.uint32).view(np.float32)


@pytest.mark.filterwarnings("error")                            # a fresh array's garbage must not warn
@pytest.mark.parametrize("B, n", [(128, 784), (1, 2), (37, 9)])
def test_compiled_scale_pixels_equals_numpy_to_the_bit(B, n):
    X = _pixels(B, n)
    ref = scale_pixels(X, _garbage(B, n + 1))
    got = fused.compiled_kernel("scale_pixels")(X, _garbage(B, n + 1))
    np.testing.assert_array_equal(got, ref)
    assert (got[:, 0] == 1).all() and got[0, 2] == 1 and got[0, 1] == 0
    strided = _pixels(2 * B, n + 3)[::2, 3:]                      # a learner's view, not contiguous
    np.testing.assert_array_equal(fused.compiled_kernel("scale_pixels")(strided, got),
                                  scale_pixels(strided, ref))


@pytest.mark.parametrize("shape", [(128, 784), (127, 785), (128, 786)])
def test_the_pixel_twin_refuses_a_wrong_output_shape_as_numpy_does(shape):
    # its loop does not check indices: a wrong [1 x] would be written out of bounds, not refused
    X, out = _pixels(128, 784), np.zeros(shape, np.float32)
    with pytest.raises(ValueError):
        scale_pixels(X, out)
    with pytest.raises(ValueError, match="must have shape"):
        fused.compiled_kernel("scale_pixels")(X, out)


def test_a_pixel_twin_that_divides_by_256_is_caught():
    X = _pixels(128, 784)
    planted = np.ones((128, 785), np.float32)
    planted[:, 1:] = X.astype(np.float32) / 256
    with pytest.raises(AssertionError):
        np.testing.assert_array_equal(planted, scale_pixels(X, np.empty((128, 785), np.float32)))


def test_the_network_scales_uint8_pixels_with_the_twin_and_other_integers_with_numpy(monkeypatch):
    calls = []
    real = fused.compiled_kernel
    monkeypatch.setattr(fused, "compiled_kernel", lambda name: (calls.append(name), real(name))[1])
    X, net = _pixels(16, 784), sn.seed_network()
    one_x = net.as_input(X, ones=True)
    assert calls == ["scale_pixels"]
    calls.clear()
    np.testing.assert_array_equal(net.as_input(X.astype(np.int64), ones=True), one_x)
    assert calls == []
    np.testing.assert_array_equal(one_x[:, 1:], net.as_input(X))   # with and without the ones, the same x


@pytest.mark.parametrize("P", [SEED_PARAMS, 5, WIDE_PARAMS])
def test_compiled_average_equals_numpy_to_the_bit(P):
    rng = np.random.default_rng(P)
    W = rng.standard_normal(P).astype(np.float32)
    ref = rng.standard_normal(P).astype(np.float32)
    got = ref.copy()
    scratch = np.empty_like(W)
    twin = fused.compiled_kernel("average_weights")
    for step, d in enumerate([0.1, 2 / 11, 0.5, 0.998, 0.998]):      # the warm-up of d, then the recipe's
        W += np.float32(1e-3) * step
        average_weights(ref, W, d, scratch)
        twin(got, W, d, scratch)
    np.testing.assert_array_equal(got, ref)


def test_an_average_twin_that_rounds_once_is_caught():
    # d W̄ + (1 − d) W in float64, rounded once: off by a bit here and there, and the comparison sees it
    rng = np.random.default_rng(0)
    A, W = (rng.standard_normal(SEED_PARAMS).astype(np.float32) for _ in range(2))
    planted = (0.998 * A.astype(np.float64) + (1 - 0.998) * W.astype(np.float64)).astype(np.float32)
    ref = A.copy()
    average_weights(ref, W, 0.998, np.empty_like(W))
    with pytest.raises(AssertionError):
        np.testing.assert_array_equal(planted, ref)


def test_use_compiled_switches_for_the_block_only():
    before = fused.compiled_enabled()
    with pytest.raises(RuntimeError):
        with fused.use_compiled(False):
            assert not fused.compiled_enabled()
            assert fused.fast(sigmoid_derivative, np.zeros((2, 2), np.float32)) is sigmoid_derivative
            raise RuntimeError("a failing test inside the block")
    assert fused.compiled_enabled() == before                   # restored, even after an exception
    with fused.use_compiled(True):
        assert fused.fast(sigmoid_derivative, np.zeros((2, 2), np.float32)) is not sigmoid_derivative

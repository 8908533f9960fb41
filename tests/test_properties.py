"""Property-based tests: on random architectures the analytic gradients equal finite differences and
PyTorch autograd, and the activations stay finite on huge inputs.

Hypothesis draws the architecture (1 to 4 hidden layers of width 1 to 30, activations mixed from
sigmoid, tanh and relu), the batch size (1 to 16) and a seed for the weights and the data. ReLU kinks:
a central difference whose step switches a ReLU unit on or off is detected by `gradient_check` and left
out (counted in ``kinks``); with continuous random data that happens to a tiny fraction of entries.
"""

import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scratchnet as sn
from scratchnet.activations import sigmoid, softmax
from scratchnet.losses import cross_entropy

architectures = st.builds(
    lambda hidden, n_0, n_L, acts: ([n_0, *hidden, n_L], [*acts[:len(hidden)], "softmax"]),
    hidden=st.lists(st.integers(1, 30), min_size=1, max_size=4),
    n_0=st.integers(1, 30),
    n_L=st.integers(1, 30),
    acts=st.lists(st.sampled_from(["sigmoid", "tanh", "relu"]), min_size=4, max_size=4),
)


def random_problem(architecture, B, seed):
    """A float64 network with its usual initialisation plus random biases, and a batch ``X (B, n_0)``
    of standard normal inputs with random labels."""
    sizes, activations = architecture
    rng = np.random.default_rng(seed)
    net = sn.Network(sizes, activations, rng=rng, dtype="float64")
    for W in net.weights:
        W[0] = rng.normal(0, 0.2, W.shape[1])
    X = rng.normal(size=(B, sizes[0]))
    y = rng.integers(0, sizes[-1], size=B)
    return net, X, y, rng


@settings(max_examples=30, deadline=None)
@given(architecture=architectures, B=st.integers(1, 16), seed=st.integers(0, 2**32 - 1))
def test_analytic_gradients_equal_finite_differences(architecture, B, seed):
    net, X, y, rng = random_problem(architecture, B, seed)
    report = sn.gradient_check(net, X, y, full=True, rng=rng)
    assert report.passed, str(report)
    checked = sum(layer.checked for layer in report.layers)
    kinks = sum(layer.kinks for layer in report.layers)
    assert checked + kinks == net.params.size
    assert kinks <= 0.01 * net.params.size


@settings(max_examples=40, deadline=None)
@given(architecture=architectures, B=st.integers(1, 16), seed=st.integers(0, 2**32 - 1))
def test_analytic_gradients_equal_pytorch_autograd(architecture, B, seed):
    pytest.importorskip("torch")
    from scratchnet.reference_torch import TORCH_RTOL, compare_with_torch
    net, X, y, _ = random_problem(architecture, B, seed)
    comparison = compare_with_torch(net, X, y)
    assert comparison.passed, str(comparison)
    assert comparison.max_rel_error <= TORCH_RTOL == 1e-10


def test_seed_network_equals_pytorch_autograd():
    pytest.importorskip("torch")
    from scratchnet.reference_torch import compare_with_torch
    rng = np.random.default_rng(0)
    net = sn.Network([784, 100, 10, 10], ["sigmoid", "sigmoid", "softmax"], rng=rng)
    X, y = rng.random((16, 784)), rng.integers(0, 10, 16)
    comparison = compare_with_torch(net, X, y)
    assert comparison.max_rel_error <= 1e-10, str(comparison)
    assert comparison.loss == pytest.approx(comparison.torch_loss, rel=1e-14)


# ---------------------------------------------------------------- stability on huge inputs

@contextlib.contextmanager
def no_overflow():
    """Any warning, overflow, division by zero or invalid operation raises. Underflow is allowed: e^-10⁴
    rounding to 0 is the right answer to float precision."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise",
                                                under="ignore"):
        warnings.simplefilter("error")
        yield


huge = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
                  elements=st.floats(-1e4, 1e4))


@settings(max_examples=60, deadline=None)
@given(z=huge, dtype=st.sampled_from([np.float32, np.float64]))
def test_sigmoid_and_softmax_are_stable_on_huge_inputs(z, dtype):
    z = z.astype(dtype)
    with no_overflow():
        H = sigmoid(z)
        yhat = softmax(z)
        loss = cross_entropy(z, np.zeros(len(z), dtype=int))
    assert np.all((H >= 0) & (H <= 1))
    assert np.all(np.isfinite(yhat)) and np.all(yhat >= 0)
    np.testing.assert_allclose(yhat.sum(axis=1), 1, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert np.isfinite(loss) and loss >= 0
    assert np.all(H[z > 40] == 1) and np.all(H[z < -800] == 0)


@settings(max_examples=30, deadline=None)
@given(architecture=architectures, B=st.integers(1, 16), seed=st.integers(0, 2**32 - 1),
       scale=st.sampled_from([1e2, 1e3, 1e4]), dtype=st.sampled_from(["float32", "float64"]))
def test_network_loss_and_gradients_stay_finite_on_huge_inputs(architecture, B, seed, scale, dtype):
    sizes, activations = architecture
    rng = np.random.default_rng(seed)
    net = sn.Network(sizes, activations, rng=rng, dtype=dtype)
    X = rng.uniform(-scale, scale, size=(B, sizes[0]))
    y = rng.integers(0, sizes[-1], size=B)
    with no_overflow():
        loss, grads = net.loss_and_grads(X, y)
    assert np.isfinite(loss) and loss >= 0
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_pytorch_comparison_sees_an_error_of_one_part_in_a_hundred_million():
    pytest.importorskip("torch")
    from scratchnet.reference_torch import compare_with_torch

    class SlightlyOff(sn.Network):
        def loss_and_grads(self, X, y, out=None):
            loss, grads = super().loss_and_grads(X, y, out)
            grads[1][3, 4] *= 1 + 1e-8
            return loss, grads

    rng = np.random.default_rng(0)
    net = SlightlyOff([20, 10, 8, 5], ["tanh", "relu", "softmax"], rng=rng)
    comparison = compare_with_torch(net, rng.normal(size=(6, 20)), rng.integers(0, 5, 6))
    assert not comparison.passed
    assert comparison.layers[1]["worst"] == [3, 4]
    assert comparison.layers[1]["max_rel_error"] == pytest.approx(1e-8, rel=1e-3)
    assert comparison.layers[0]["max_rel_error"] <= 1e-10

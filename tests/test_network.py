"""Forward shapes, the seed's notation, stability, and a finite-difference check of the backward pass."""

import warnings

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.activations import ACTIVATIONS, derivative_at
from scratchnet.errors import ScratchnetError
from scratchnet.losses import one_hot


def test_seed_network_shapes_and_repr(seed_net64):
    assert [W.shape for W in seed_net64.weights] == [(785, 100), (101, 10), (11, 10)]
    assert repr(seed_net64) == "Network(784 → 100 σ → 10 σ → 10 softmax, float64)"
    assert np.all(seed_net64.weights[0][0] == 0)                 # bias rows start at 0
    assert seed_net64.params.size == 785 * 100 + 101 * 10 + 11 * 10
    assert np.shares_memory(seed_net64.weights[1], seed_net64.params)


def test_forward_shapes_and_probabilities(seed_net64, rng):
    X = rng.random((7, 784))
    Hs = seed_net64.forward(X)
    assert [H.shape for H in Hs] == [(7, 784), (7, 100), (7, 10), (7, 10)]
    np.testing.assert_allclose(Hs[-1].sum(axis=1), 1.0)
    assert np.all((Hs[1] > 0) & (Hs[1] < 1))


def test_forward_is_z_equals_one_H_times_W(seed_net64, rng):
    """The code's H W[1:] + W[0] is exactly the seed's [1 H] W."""
    X = rng.random((3, 784))
    for W in seed_net64.weights:
        W[0] = rng.normal(size=W.shape[1])
    H0, H1, H2, yhat = seed_net64.forward(X)
    W1, W2, W3 = seed_net64.weights
    ones = np.ones((3, 1))
    sigma = lambda z: 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(H1, sigma(np.hstack([ones, H0]) @ W1), rtol=1e-12)
    np.testing.assert_allclose(H2, sigma(np.hstack([ones, H1]) @ W2), rtol=1e-12)
    z3 = np.hstack([ones, H2]) @ W3
    np.testing.assert_allclose(yhat, np.exp(z3) / np.exp(z3).sum(1, keepdims=True), rtol=1e-12)


def test_uint8_pixels_are_scaled(seed_net64, rng):
    X = rng.integers(0, 256, (4, 784), dtype=np.uint8)
    np.testing.assert_allclose(seed_net64.predict_proba(X), seed_net64.predict_proba(X / 255.0))


def test_predict_in_chunks_equals_one_batch(seed_net64, rng):
    X = rng.random((50, 784))
    np.testing.assert_allclose(seed_net64.predict_proba(X, batch_size=7), seed_net64.forward(X)[-1])


def test_same_seed_same_weights_and_float32_default():
    a = sn.Network([5, 4, 3], ["tanh", "softmax"], seed=3)
    b = sn.Network([5, 4, 3], ["tanh", "softmax"], rng=np.random.default_rng(3))
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.array_equal(a.params, sn.Network([5, 4, 3], ["tanh", "softmax"], seed=4).params)


def test_initialisation_scales():
    net = sn.Network([400, 300, 200, 10], ["sigmoid", "relu", "softmax"], seed=0, dtype="float64")
    W1, W2, _ = net.weights
    assert np.abs(W1[1:]).max() <= np.sqrt(6 / 700)                       # Glorot uniform
    assert abs(W1[1:].std() - np.sqrt(6 / 700) / np.sqrt(3)) < 0.01 * np.sqrt(6 / 700)
    assert abs(W2[1:].std() - np.sqrt(2 / 300)) < 0.03 * np.sqrt(2 / 300)  # He normal


def numerical_gradient(net, X, y, l, i, j, eps=1e-6):
    W = net.weights[l]
    old = W[i, j]
    W[i, j] = old + eps
    plus, _ = net.loss_and_grads(X, y)
    W[i, j] = old - eps
    minus, _ = net.loss_and_grads(X, y)
    W[i, j] = old
    return (plus - minus) / (2 * eps)


def max_relative_error(net, X, y, rng, per_layer=40):
    """Largest relative error of loss_and_grads against central differences, per layer."""
    _, grads = net.loss_and_grads(X, y)
    errors = []
    for l, G in enumerate(grads):
        rows = np.concatenate([[0] * 5, rng.integers(0, G.shape[0], per_layer)])   # bias row included
        cols = rng.integers(0, G.shape[1], len(rows))
        err = 0.0
        for i, j in zip(rows, cols):
            n = numerical_gradient(net, X, y, l, i, j)
            # relative error, with gradients below 1e-4 judged on an absolute scale: central
            # differences carry a rounding error of about 1e-16 · L / eps ≈ 1e-10
            err = max(err, abs(G[i, j] - n) / max(abs(G[i, j]), abs(n), 1e-4))
        errors.append(err)
    return errors


def test_seed_network_gradients_match_finite_differences(seed_net64, rng):
    X, y = rng.random((8, 784)), rng.integers(0, 10, 8)
    errors = max_relative_error(seed_net64, X, y, rng)
    assert max(errors) < 1e-5, errors


class ForgetsSigmaPrime(sn.Network):
    """Planted bug: the backward pass skips σ'(z2) when going from δ3 to δ2."""

    def _backward(self, Hs, y, grads, buf):
        original = self.activations
        self.activations = ("sigmoid", "identity", "softmax")
        from scratchnet import activations
        activations.DERIVATIVES["identity"] = lambda H, delta: delta
        try:
            super()._backward(Hs, y, grads, buf)
        finally:
            self.activations = original
            del activations.DERIVATIVES["identity"]


def test_the_gradient_test_catches_a_planted_bug(rng):
    net = ForgetsSigmaPrime([784, 100, 10, 10], ["sigmoid", "sigmoid", "softmax"], seed=0, dtype="float64")
    X, y = rng.random((8, 784)), rng.integers(0, 10, 8)
    errors = max_relative_error(net, X, y, rng)
    assert errors[2] < 1e-5            # W3 is before the bug
    assert errors[1] > 1e-2 and errors[0] > 1e-2


def test_gradient_is_the_matrix_form_of_the_derivation(seed_net64, rng):
    """∂L/∂W2 = [1 H1]ᵀ ((ŷ - y)/B W̄3ᵀ ⊙ H2(1-H2)), written out with one-hot y."""
    X, y = rng.random((6, 784)), rng.integers(0, 10, 6)
    _, (dW1, dW2, dW3) = seed_net64.loss_and_grads(X, y)
    H0, H1, H2, yhat = seed_net64.forward(X)
    W3 = seed_net64.weights[2]
    delta3 = (yhat - one_hot(y, 10)) / 6
    delta2 = (delta3 @ W3[1:].T) * H2 * (1 - H2)
    np.testing.assert_allclose(dW3, np.hstack([np.ones((6, 1)), H2]).T @ delta3, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(dW2, np.hstack([np.ones((6, 1)), H1]).T @ delta2, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "softmax"])
def test_activations_are_stable_on_huge_inputs(name):
    z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            H = ACTIVATIONS[name](z.copy())
    assert np.all(np.isfinite(H))


def test_sigmoid_keeps_relative_precision_of_tiny_outputs():
    z = np.array([[-30.0, -700.0, 30.0]])
    H = ACTIVATIONS["sigmoid"](z)
    np.testing.assert_allclose(H[0, :2], np.exp([-30.0, -700.0]) / (1 + np.exp([-30.0, -700.0])), rtol=1e-14)
    np.testing.assert_allclose(derivative_at("sigmoid", np.array([[0.0]])), [[0.25]])


def test_loss_is_finite_for_extreme_logits():
    net = sn.Network([2, 3], ["softmax"], dtype="float64")
    net.weights[0][1:] = [[1e4, -1e4, 0], [0, 0, 0]]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, _ = net.loss_and_grads(np.array([[1.0, 0.0]]), np.array([1]))
    assert loss == pytest.approx(2e4)


def test_bad_configurations_are_refused():
    with pytest.raises(ScratchnetError, match="activations"):
        sn.Network([784, 100, 10], ["sigmoid"])
    with pytest.raises(ScratchnetError, match="unknown hidden activation"):
        sn.Network([784, 100, 10], ["swish", "softmax"])
    with pytest.raises(ScratchnetError, match="softmax"):
        sn.Network([784, 100, 10], ["sigmoid", "sigmoid"])
    with pytest.raises(ScratchnetError, match="float32 or float64"):
        sn.Network([784, 10], ["softmax"], dtype="float16")
    net = sn.Network([4, 3], ["softmax"])
    with pytest.raises(ScratchnetError, match="shape"):
        net.loss_and_grads(np.zeros((2, 5)), np.array([0, 1]))
    with pytest.raises(ScratchnetError, match="labels"):
        net.loss_and_grads(np.zeros((2, 4)), np.array([0, 3]))

"""Forward shapes, the seed's notation, the loss on extreme inputs, the backward pass written out as the
derivation's matrix products, and the public methods other modules use."""

import numpy as np
import pytest

import scratchnet as sn
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
    t = seed_net64.forward(X)
    assert [t.H[l].shape for l in range(4)] == [(7, 784), (7, 100), (7, 10), (7, 10)]
    assert [t.z[l].shape for l in range(1, 4)] == [(7, 100), (7, 10), (7, 10)]
    assert [t.one_H[l].shape for l in range(3)] == [(7, 785), (7, 101), (7, 11)]
    np.testing.assert_allclose(t.yhat.sum(axis=1), 1.0)
    assert np.all((t.H[1] > 0) & (t.H[1] < 1)) and t.loss is None


def test_forward_is_z_equals_one_H_times_W(seed_net64, rng):
    """The code's H W[1:] + W[0] is exactly the seed's [1 H] W."""
    X = rng.random((3, 784))
    for W in seed_net64.weights:
        W[0] = rng.normal(size=W.shape[1])
    t = seed_net64.forward(X)
    H0, H1, H2, yhat = (t.H[l] for l in range(4))
    W1, W2, W3 = seed_net64.weights
    np.testing.assert_array_equal(t.one_H[1], np.hstack([np.ones((3, 1)), H1]))
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
    np.testing.assert_allclose(seed_net64.predict_proba(X, batch_size=7), seed_net64.forward(X).yhat)


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


# Finite-difference checks of the seed network, and of a planted σ′ bug on it, are in test_gradcheck.py
# (one central-difference implementation, `scratchnet.gradcheck`).


def test_gradient_is_the_matrix_form_of_the_derivation(seed_net64, rng):
    """∂L/∂W2 = [1 H1]ᵀ ((ŷ - y)/B W̄3ᵀ ⊙ H2(1-H2)), written out with one-hot y."""
    X, y = rng.random((6, 784)), rng.integers(0, 10, 6)
    _, (dW1, dW2, dW3) = seed_net64.loss_and_grads(X, y)
    t = seed_net64.forward(X)
    H0, H1, H2, yhat = (t.H[l] for l in range(4))
    W3 = seed_net64.weights[2]
    delta3 = (yhat - one_hot(y, 10)) / 6
    delta2 = (delta3 @ W3[1:].T) * H2 * (1 - H2)
    np.testing.assert_allclose(dW3, np.hstack([np.ones((6, 1)), H2]).T @ delta3, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(dW2, np.hstack([np.ones((6, 1)), H1]).T @ delta2, rtol=1e-10, atol=1e-15)


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


# ---------------------------------------------------------------- the public API other modules use

def test_seed_network_and_its_architecture_text():
    net = sn.seed_network(seed=3, dtype="float64")
    assert net.sizes == sn.SEED_SIZES == (784, 100, 10, 10)
    assert net.activations == sn.SEED_ACTIVATIONS
    assert [W.shape for W in net.weights] == [(785, 100), (101, 10), (11, 10)]
    assert sn.architecture_text(net.sizes, net.activations) == "784 → 100 σ → 10 σ → 10 softmax"
    assert repr(net) == "Network(784 → 100 σ → 10 σ → 10 softmax, float64)"
    assert sn.architecture_text([4, 3, 2], ["relu", "softmax"]) == "4 → 3 relu → 2 softmax"


def test_a_trace_holds_the_pass_by_its_names_and_delta_is_the_derivations(seed_net64, rng):
    """trace.delta is δ_l = ∂L/∂z_l as the derivation defines it, and trace.dW[l] = [1 H_{l-1}]ᵀ δ_l."""
    X, y = rng.random((5, 784)), rng.integers(0, 10, 5)
    t = seed_net64.trace(X, y)
    W2, W3 = seed_net64.weights[1], seed_net64.weights[2]
    delta3 = (t.yhat - one_hot(y, 10)) / 5
    delta2 = (delta3 @ W3[1:].T) * t.H[2] * (1 - t.H[2])
    np.testing.assert_allclose(t.delta[3], delta3, rtol=1e-12)
    np.testing.assert_allclose(t.delta[2], delta2, rtol=1e-10, atol=1e-18)
    np.testing.assert_allclose(t.dW[2], t.one_H[1].T @ t.delta[2], rtol=1e-12)
    assert np.allclose(t.z[2], t.H[1] @ W2[1:] + W2[0], rtol=1e-12)         # [1 H1] W2 = H1 W̄2 + bias row
    loss, grads = seed_net64.loss_and_grads(X, y)                           # the thin wrapper agrees
    assert loss == t.loss and all(np.array_equal(g, t.dW[l]) for l, g in enumerate(grads, start=1))
    assert np.shares_memory(t.dW[2], t.gradient) and t.gradient.shape == seed_net64.params.shape


def test_a_pass_can_start_inside_the_network(seed_net64, rng):
    X, y = rng.random((4, 784)), rng.integers(0, 10, 4)
    t = seed_net64.trace(X, y)
    inner = seed_net64.trace(t.H[2], y, start=3)
    assert set(inner.z) == {3} and set(inner.dW) == {3} and set(inner.H) == {2, 3}
    np.testing.assert_allclose(inner.yhat, t.yhat, rtol=1e-13)
    np.testing.assert_allclose(inner.dW[3], t.dW[3], rtol=1e-13)
    with pytest.raises(ScratchnetError, match="H1 must have shape"):
        seed_net64.forward(X, start=2)


def test_a_workspace_is_reused_in_place_and_must_fit(seed_net64, rng):
    work = seed_net64.workspace(3)
    X = rng.random((3, 784))
    t = seed_net64.forward(X, into=work)
    assert t is work
    first = t.yhat.copy()
    seed_net64.forward(X[::-1].copy(), into=work)
    np.testing.assert_allclose(work.yhat, first[::-1], rtol=1e-13)
    with pytest.raises(ScratchnetError, match="workspace"):
        seed_net64.forward(rng.random((4, 784)), into=work)


def test_one_network_serves_many_threads_at_once_with_the_serial_answers(rng):
    """No scratch state in a network: 8 threads on one network give exactly the serial gradients
    (with the old shared buffers, about 1 in 2 answers was wrong)."""
    import threading
    net = sn.seed_network(seed=0, dtype="float64")
    batches = [(rng.random((int(B), 784)), rng.integers(0, 10, int(B))) for B in rng.integers(1, 5, 64)]
    serial = [net.loss_and_grads(X, y) for X, y in batches]
    barrier = threading.Barrier(8)

    def worker(k):
        barrier.wait()
        for _ in range(5):
            for i in range(k, len(batches), 8):
                loss, grads = net.loss_and_grads(*batches[i])
                if not (loss == serial[i][0] and all(np.array_equal(g, s) for g, s in zip(grads, serial[i][1]))):
                    wrong.append(i)
    wrong = []
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert wrong == [], f"{len(wrong)} of {5 * len(batches)} concurrent answers differ from the serial ones"


def test_astype_is_an_independent_copy_in_the_other_dtype(seed_net64):
    seed_net64.metadata["recipe"] = {"lr": 0.1}
    net32 = seed_net64.astype("float32")
    assert net32.dtype == np.float32 and net32.params.dtype == np.float32
    assert all(np.shares_memory(W, net32.params) for W in net32.weights)
    assert not np.shares_memory(net32.params, seed_net64.params)
    assert np.allclose(net32.params, seed_net64.params, rtol=1e-6)
    net32.weights[2][0, 0] = 5.0
    net32.metadata["recipe"]["lr"] = 1.0
    assert seed_net64.weights[2][0, 0] != 5.0 and seed_net64.metadata["recipe"]["lr"] == 0.1
    with pytest.raises(ScratchnetError, match="float32 or float64"):
        seed_net64.astype("int8")


def test_as_input_and_check_labels(seed_net64):
    x = seed_net64.as_input(np.full((2, 784), 255, np.uint8))
    assert x.dtype == np.float64 and np.all(x == 1.0)
    assert seed_net64.check_labels(np.array([0, 9]), 2).tolist() == [0, 9]
    with pytest.raises(ScratchnetError, match="labels must lie in"):
        seed_net64.check_labels(np.array([0, 10]), 2)
    with pytest.raises(ScratchnetError, match="input must have shape"):
        seed_net64.as_input(np.zeros((2, 783)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("pixels", ["uint8", "float"])
def test_as_input_with_ones_is_one_column_then_the_same_numbers(dtype, pixels):
    net = sn.seed_network(dtype=dtype)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (5, 784)).astype(np.uint8)
    if pixels == "float":
        X = X / 255.0
    one_x = net.as_input(X, out=np.full((5, 785), np.nan, dtype), ones=True)
    assert one_x.dtype == np.dtype(dtype) and one_x.shape == (5, 785)
    assert np.all(one_x[:, 0] == 1)
    np.testing.assert_array_equal(one_x[:, 1:], net.as_input(X))          # bit for bit the plain scaling
    np.testing.assert_array_equal(net.as_input(X, ones=True), one_x)


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
def test_a_pass_keeps_its_column_of_ones_and_the_exact_hidden_outputs(hidden):
    # f_l runs over whole rows of [0 z_l] into [1 H_l]; column 0 must be the ones again afterwards
    from scratchnet.activations import ACTIVATIONS
    net = sn.Network([784, 30, 20, 10], [hidden, hidden, "softmax"], seed=1)
    rng = np.random.default_rng(2)
    t = net.workspace(7)
    for _ in range(2):                                          # a reused workspace, as the trainer's
        t = net.forward(rng.integers(0, 256, (7, 784)).astype(np.uint8), rng.integers(0, 10, 7), into=t)
    for l in (0, 1, 2):
        assert np.all(t.one_H[l][:, 0] == 1)
    for l in (1, 2):
        np.testing.assert_array_equal(t.z[l], t.one_H[l - 1] @ net.weights[l - 1])
        np.testing.assert_array_equal(t.H[l], ACTIVATIONS[hidden].function(np.array(t.z[l])))

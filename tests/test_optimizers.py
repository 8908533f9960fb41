"""Optimisers and the training loop on tiny problems."""

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.augment import gather_shifted
from scratchnet.errors import ScratchnetError
from scratchnet.optimizers import OPTIMIZERS, Adam
from scratchnet.schedules import cosine
from scratchnet.training import Recipe, train


@pytest.mark.parametrize("name, lr", [("sgd", 0.1), ("momentum", 0.05), ("adam", 0.05)])
def test_optimisers_minimise_a_quadratic(name, lr):
    """f(w) = ½ Σ a_i (w_i - t_i)², gradient a (w - t): every optimiser must reach t."""
    a = np.array([1.0, 3.0, 0.5, 2.0])
    target = np.array([1.0, -2.0, 0.5, 3.0])
    w = np.zeros(4)
    opt = OPTIMIZERS[name](w)
    for _ in range(2000):
        opt.step(w, a * (w - target), lr)
    np.testing.assert_allclose(w, target, atol=1e-3)


def test_adam_matches_the_paper():
    rng = np.random.default_rng(0)
    w = rng.normal(size=5)
    w_ref, m, v = w.copy(), np.zeros(5), np.zeros(5)
    opt = Adam(w)
    for t in range(1, 6):
        g = rng.normal(size=5)
        opt.step(w, g, 0.01)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w_ref -= 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12)


def test_cosine_schedule():
    assert cosine(0.1, 0, 100) == pytest.approx(0.1)
    assert cosine(0.1, 50, 100) == pytest.approx(0.05)
    assert cosine(0.1, 100, 100) == pytest.approx(0.0)


def blobs(rng, n=600):
    """Two-dimensional-ish toy data in 16 'pixels': 4 classes, separable."""
    y = rng.integers(0, 4, n)
    centres = rng.integers(0, 256, (4, 16))
    X = np.clip(centres[y] + rng.normal(0, 20, (n, 16)), 0, 255).astype(np.uint8)
    return X, y


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.5), ("momentum", 0.1), ("adam", 0.01)])
def test_training_learns_a_toy_problem(rng, optimizer, lr):
    X, y = blobs(rng)
    net = sn.Network([16, 8, 4], ["tanh", "softmax"], seed=0)
    before = net.evaluate(X, y)[0]
    result = train(net, X, y, Recipe(epochs=15, batch_size=32, optimizer=optimizer, lr=lr, shift=0))
    loss, accuracy = net.evaluate(X, y)
    assert loss < before / 3 and accuracy > 0.95
    assert [h.epoch for h in result.history] == list(range(1, 16))
    assert result.history[-1].train_loss < result.history[0].train_loss


def test_training_is_reproducible(rng):
    X, y = blobs(rng)
    runs = []
    for _ in range(2):
        net = sn.Network([16, 8, 4], ["sigmoid", "softmax"], seed=0)
        train(net, X, y, Recipe(epochs=2, batch_size=50, shift=1, seed=5))
        runs.append(net.params.copy())
    np.testing.assert_array_equal(*runs)


def test_validation_keeps_best_weights_and_stops_early(rng):
    X, y = blobs(rng)
    net = sn.Network([16, 8, 4], ["relu", "softmax"], seed=0)
    result = train(net, X[:500], y[:500], Recipe(epochs=40, batch_size=32, lr=0.5, optimizer="sgd", shift=0,
                                                 patience=3), X_val=X[500:], y_val=y[500:])
    assert all(h.val_accuracy is not None for h in result.history)
    best = max(h.val_accuracy for h in result.history)
    assert net.evaluate(X[500:], y[500:])[1] == pytest.approx(best)
    if result.stopped_early:
        assert len(result.history) - result.best_epoch == 3


def test_divergence_is_reported(rng):
    X, y = blobs(rng)
    net = sn.Network([16, 8, 4], ["relu", "softmax"], seed=0)
    with pytest.raises(ScratchnetError, match="diverged"), np.errstate(all="ignore"):
        train(net, X, y, Recipe(epochs=3, optimizer="sgd", lr=1e38, shift=0))


def test_shifts_move_whole_images(rng):
    X = np.zeros((1, 784), np.uint8)
    X[0, 14 * 28 + 14] = 255                             # one bright pixel at (14, 14)
    out = np.empty((200, 784), np.uint8)
    gather_shifted(X, np.zeros(200, int), 2, rng, out)
    ys, xs = np.divmod(out.argmax(axis=1), 28)
    assert set(ys) == set(range(12, 17)) and set(xs) == set(range(12, 17))   # all 25 shifts occur
    assert np.all(out.sum(axis=1) == 255)


@pytest.mark.parametrize("field, value, message", [
    ("epochs", 0, "epochs must be at least 1, got 0"), ("batch_size", 0, "batch size must be at least 1, got 0"),
    ("optimizer", "rmsprop", "optimizer 'rmsprop' is unknown"), ("lr", -1.0, "must be a positive number, got -1.0"),
    ("shift", -1, "shift must be 0 or more pixels, got -1"),
])
def test_bad_recipes(field, value, message):
    # the library names the setting (field), never a command-line flag; the CLI maps it to its option
    with pytest.raises(ScratchnetError, match=message) as error:
        Recipe(**{field: value}).check()
    assert error.value.field == field and "--" not in str(error.value)

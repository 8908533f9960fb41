"""The moving average of the weights in `scratchnet.training.train` (``Recipe.average``).

After every optimiser step k, ``W̄ ← d W̄ + (1 − d) W`` with ``d = min(average, (1 + k) / (10 + k))`` and
``W̄_0 = W_0``; between epochs the network holds W̄ (validation, ``on_epoch``, ``on_checkpoint``, the
best validation epoch, the end of the run), and each epoch goes on from the optimiser's own weights.
Resuming from a checkpoint is in tests/test_resume.py.
"""

import numpy as np
import pytest
from conftest import assert_one_line_error

import scratchnet as sn
from scratchnet.errors import ScratchnetError
from scratchnet.lab.live import read_recipe
from scratchnet.training import Recipe, TrainingState, average_weights, train

from benchmarks.recipes import Trial, train_trial


@pytest.fixture(scope="module")
def digits():
    """600 uint8 28 × 28 images of 10 blurry classes (each a bright square somewhere), and their labels."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, 10, 600)
    X = rng.integers(0, 60, (600, 28, 28))
    for i, k in enumerate(y):
        r, c = divmod(int(k), 4)
        X[i, 3 + 6 * r:9 + 6 * r, 3 + 6 * c:9 + 6 * c] += 150
    return X.reshape(600, 784).astype(np.uint8), y


def small_net(dtype="float32"):
    return sn.Network([784, 16, 10], ["sigmoid", "softmax"], seed=2, dtype=dtype)


RECIPE = Recipe(epochs=3, batch_size=64, lr=1e-2, shift=1, seed=4)          # 10 steps an epoch on 600 images


def test_the_average_follows_its_formula_step_by_step(digits):
    """W̄ after every step against a loop written from the formula, with d's warm-up spelled out."""
    X, y = digits
    net = small_net()
    state = TrainingState.start(net, RECIPE)
    W = [net.params.copy()]                                     # W_0, W_1, …: the optimiser's weights
    seen = []                                                   # W̄_1, W̄_2, …: the trainer's average

    def on_batch(epoch, b, n, **_):
        W.append(net.params.copy())
        seen.append(state.average.copy())

    train(net, X, y, RECIPE, on_batch=on_batch, state=state)
    assert len(seen) == 30 and state.step == 30
    expected = W[0].copy()
    for k in range(1, 31):
        d = min(0.998, (1 + k) / (10 + k))
        assert d == {1: 2 / 11, 2: 3 / 12, 30: 31 / 40}.get(k, d)
        expected = np.float32(d) * expected + np.float32(1 - d) * W[k]      # each product rounded to float32
        np.testing.assert_array_equal(seen[k - 1], expected)
    exact = W[0].astype(np.float64)                                         # and in exact arithmetic
    for k in range(1, 31):
        d = min(0.998, (1 + k) / (10 + k))
        exact = d * exact + (1 - d) * W[k]
    np.testing.assert_allclose(seen[-1], exact, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(net.params, seen[-1])                     # the run ends with W̄
    assert np.abs(net.params - W[-1]).max() > 1e-3                          # which is not W_30


def test_the_warm_up_forgets_the_random_start(digits):
    """After 30 steps the start's weight in W̄ is Π d_k = Π (1 + k)/(10 + k), about 2·10⁻⁸: W̄ has moved
    with the weights. Without the warm-up (d = 0.998 from the first step) it would still be
    0.998³⁰ ≈ 0.94, and W̄ would have moved a few per cent of the way."""
    X, y = digits
    net = small_net()
    W0 = net.params.copy()
    seen = []
    train(net, X, y, RECIPE, on_batch=lambda *a, **k: seen.append(net.params.copy()))
    assert np.prod([(1 + k) / (10 + k) for k in range(1, 31)]) < 1e-7
    assert np.linalg.norm(net.params - W0) > 0.5 * np.linalg.norm(seen[-1] - W0)


def test_average_weights_is_the_formula_in_place():
    rng = np.random.default_rng(0)
    average, params = rng.standard_normal(1001).astype(np.float32), rng.standard_normal(1001).astype(np.float32)
    expected = np.float32(0.3) * average + np.float32(0.7) * params
    kept = id(average)
    average_weights(average, params, 0.3, np.empty_like(params))
    assert id(average) == kept
    np.testing.assert_array_equal(average, expected)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_average_off_gives_the_optimisers_weights_as_before(digits, dtype):
    """``average=0`` is the trainer as it was (benchmarks/recipes.py's `train_trial` with ``ema`` 0 is a
    copy of its loop), and holds no average."""
    X, y = digits
    off = Recipe(**{**RECIPE.to_dict(), "average": 0})
    net, before = small_net(dtype), small_net(dtype)
    state = TrainingState.start(net, off)
    assert state.average is None
    train(net, X, y, off, state=state)
    assert state.average is None and state.raw_params is None
    train_trial(before, X, y, Trial(off), on_epoch=lambda weights: None)
    np.testing.assert_array_equal(net.params, before.params)
    averaged = small_net(dtype)
    train(averaged, X, y, RECIPE)
    assert np.abs(averaged.params - net.params).max() > 1e-3


def test_train_gives_train_trials_bits(digits):
    """benchmarks/recipes.py measured the average with `train_trial`; the trainer gives its bits, epoch by
    epoch (``on_epoch`` sees W̄) and at the end, so docs/recipes.md's figures are the library's."""
    X, y = digits
    net, trial_net = small_net(), small_net()
    ours, theirs = [], []
    train(net, X, y, RECIPE, on_epoch=lambda row: ours.append(net.params.copy()))
    train_trial(trial_net, X, y, Trial(RECIPE, ema=0.998), on_epoch=lambda weights: theirs.append(weights.copy()))
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(net.params, trial_net.params)


def test_validation_on_epoch_and_the_best_epoch_see_the_average(digits):
    X, y = digits
    recipe = Recipe(**{**RECIPE.to_dict(), "epochs": 4, "patience": 0})
    net = small_net()
    state = TrainingState.start(net, recipe)
    rows, held, raws = [], [], []

    def on_epoch(row):
        rows.append(row)
        held.append(net.params.copy())
        assert np.array_equal(net.params, state.average)                   # the network holds W̄
        assert (row.val_loss, row.val_accuracy) == net.evaluate(X[500:], y[500:])

    def on_checkpoint(s):
        raws.append(s.raw_params.copy())

    result = train(net, X[:500], y[:500], recipe, X_val=X[500:], y_val=y[500:], on_epoch=on_epoch,
                   on_checkpoint=on_checkpoint, state=state)
    assert [r.val_accuracy for r in rows] == [r.val_accuracy for r in result.history]
    best = result.best_epoch
    np.testing.assert_array_equal(state.best_params, held[best - 1])
    np.testing.assert_array_equal(net.params, held[best - 1])             # the best epoch's W̄ at the end
    assert all(np.abs(h - r).max() > 1e-4 for h, r in zip(held, raws))     # W̄ is not the optimiser's W


def test_train_loss_is_the_optimisers_not_the_averages(digits):
    """The history's train loss and accuracy are measured on the steps' own batches, as without the
    average: the same numbers as a run with ``average=0``."""
    X, y = digits
    on, off = small_net(), small_net()
    a = train(on, X, y, RECIPE).history
    b = train(off, X, y, Recipe(**{**RECIPE.to_dict(), "average": 0.0})).history
    assert [(h.train_loss, h.train_accuracy) for h in a] == [(h.train_loss, h.train_accuracy) for h in b]


def test_a_state_and_a_recipe_that_disagree_about_the_average_are_refused(digits):
    X, y = digits
    off = Recipe(**{**RECIPE.to_dict(), "average": 0.0})
    with pytest.raises(ScratchnetError) as e:
        train(small_net(), X, y, RECIPE, state=TrainingState.start(small_net(), off))
    assert e.value.field == "average" and "\n" not in str(e.value)


def test_old_recipe_dicts_load_with_the_average_off():
    """Model files and checkpoints written before ``average`` existed were trained without one."""
    old = Recipe().to_dict()
    del old["average"]
    assert Recipe.from_dict(old) == Recipe(average=0.0)
    assert Recipe.from_dict(Recipe().to_dict()).average == 0.998
    new = Recipe().to_dict()
    for broken in ({k: v for k, v in old.items() if k != "lr"}, {**old, "colour": "red"},
                   {**new, "colour": "red"}, {k: v for k, v in new.items() if k != "seed"}, [("epochs", 3)]):
        with pytest.raises(ScratchnetError, match="exactly the fields"):
            Recipe.from_dict(broken)


@pytest.mark.parametrize("value", [1, 1.0, 1.5, -0.1, float("nan"), float("inf"), "0.9", True, None])
def test_bad_averages_are_refused_in_one_line(value):
    with pytest.raises(ScratchnetError) as e:
        Recipe(average=value).check()
    message = str(e.value)
    assert e.value.field == "average" and "\n" not in message and "--" not in message
    assert message.startswith("average ") and repr(value) in message


@pytest.mark.parametrize("value", [0, 0.0, 0.5, 0.999, np.float64(0.9)])
def test_good_averages_are_taken(value):
    Recipe(average=value).check()


def test_the_command_line_takes_average_and_records_it(invoke, tmp_path, monkeypatch):
    import tinydata
    from scratchnet.data import checksums
    data = tinydata.make(tmp_path / "data", n_train=200, n_test=50)
    monkeypatch.setitem(checksums.SHA256, "mnist", tinydata.checksums(data))
    monkeypatch.setenv("SCRATCHNET_DATA", str(data))
    assert "--average" in invoke("train", "--help").stdout
    assert_one_line_error(invoke("train", "--average", "1"), 2, "--average")
    assert_one_line_error(invoke("train", "--average", "-0.5"), 2, "--average")
    for value, out in ((None, "default.npz"), ("0", "off.npz"), ("0.9", "nine.npz")):
        args = ["train", "--epochs", "1", "--out", tmp_path / out]
        result = invoke(*args, *(["--average", value] if value else []))
        assert result.returncode == 0, result.stderr
    assert [sn.load(tmp_path / out).metadata["recipe"]["average"] for out in ("default.npz", "off.npz", "nine.npz")] \
        == [0.998, 0.0, 0.9]


def test_the_labs_recipe_reader_keeps_the_default_and_takes_average():
    assert read_recipe({})[0].average == Recipe().average
    assert read_recipe({"average": 0})[0].average == 0.0
    assert read_recipe({"average": 0.99})[0].average == 0.99
    for bad in (1, -0.1, "0.9", True):
        with pytest.raises(ScratchnetError, match="average"):
            read_recipe({"average": bad})


def test_the_memory_check_counts_the_average_s_copies(monkeypatch):
    # the average holds W̄, its scratch array and the raw weights between epochs: three more copies of
    # the parameters, so a machine with room for the run without them refuses the run with them
    from scratchnet import memory
    from scratchnet.experiment import Run, Setup
    from scratchnet.network import layer_shapes

    setup = Setup()
    params = sum(a * b for a, b in layer_shapes(setup.sizes))
    without = memory.training_bytes(setup.sizes, 128, 60000, 10000, "float32", 3)
    monkeypatch.setattr(memory, "available_bytes", lambda: without + params * 4)   # one copy to spare
    Run.new(setup, Recipe(average=0), out=None)                                     # fits
    with pytest.raises(ScratchnetError, match="would need about"):
        Run.new(setup, Recipe(), out=None)                                          # 3 copies more: refused

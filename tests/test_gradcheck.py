"""`gradient_check` passes correct networks and fails planted bugs on the layer where they are."""

import json

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.errors import ScratchnetError
from scratchnet.gradcheck import FULL_LIMIT, RTOL, SAMPLE, gradient_check, weight_difference, weight_entries

from conftest import planted

SEED = ([784, 100, 10, 10], ["sigmoid", "sigmoid", "softmax"])
SMALL = ([12, 9, 7, 5], ["sigmoid", "sigmoid", "softmax"])


def batch(net, B, rng):
    """``X (B, n_0)`` uniform in [0, 1) and random labels, as the command line draws them."""
    return rng.random((B, net.sizes[0])), rng.integers(0, net.sizes[-1], size=B)


# ---------------------------------------------------------------- correct networks pass

def test_seed_network_passes_with_a_sample_of_W1(rng):
    net = sn.Network(*SEED, seed=0)
    X, y = batch(net, 16, rng)
    report = gradient_check(net, X, y, rng=rng)
    assert report.passed, report
    W1, W2, W3 = report.layers
    assert (W1.checked, W1.size) == (100 + SAMPLE, 785 * 100)          # the bias row and 1,000 more
    assert (W2.checked, W3.checked) == (101 * 10, 11 * 10)             # small matrices in full
    for layer in report.layers:
        # rounding noise of a central difference is ~ε_mach·|L|/eps ≈ 5e-10; the floor is 10 times that
        assert 0 < layer.max_abs_error < report.atol / 3
        assert layer.max_rel_error < RTOL / 3


@pytest.mark.parametrize("activations", [["tanh", "tanh", "softmax"], ["relu", "sigmoid", "softmax"],
                                         ["relu", "relu", "softmax"], ["sigmoid", "tanh", "softmax"]])
def test_other_activations_pass_in_full(activations, rng):
    net = sn.Network(SMALL[0], activations, rng=rng, dtype="float64")
    for W in net.weights:                    # non-zero biases, so the bias rows are really exercised
        W[0] = rng.normal(0, 0.3, W.shape[1])
    X, y = batch(net, 8, rng)
    report = gradient_check(net, X, y, full=True, rng=rng)
    assert report.passed, report
    assert [layer.checked + layer.kinks for layer in report.layers] == [W.size for W in net.weights]


def test_full_checks_every_entry_of_a_large_matrix(rng):
    net = sn.Network([200, 60, 3], ["sigmoid", "softmax"], rng=rng)     # W1 201×60 = 12,060 entries
    X, y = batch(net, 4, rng)
    assert gradient_check(net, X, y, rng=rng).layers[0].checked == 60 + SAMPLE
    report = gradient_check(net, X, y, full=True, rng=rng)
    assert report.passed and report.layers[0].checked == 201 * 60 > FULL_LIMIT


def test_float32_network_is_checked_in_float64_and_left_unchanged(rng):
    net = sn.Network(*SMALL, seed=3)                                    # float32
    before = net.params.copy()
    X, y = batch(net, 5, rng)
    report = gradient_check(net, X, y, rng=rng)
    assert report.passed, report
    assert net.params.dtype == np.float32 and np.array_equal(net.params, before)


def test_integer_pixels_are_scaled_like_the_network_does(rng):
    net = sn.Network(*SMALL, seed=4)
    X = rng.integers(0, 256, size=(6, 12), dtype=np.uint8)
    y = rng.integers(0, 5, size=6)
    assert gradient_check(net, X, y, rng=rng).passed


def test_no_global_random_state_is_used(rng):
    np.random.seed(7)
    state = np.random.get_state()[1].copy()
    net = sn.Network([200, 60, 3], ["sigmoid", "softmax"], seed=0)    # W1 is sampled
    X, y = batch(net, 2, rng)
    a = gradient_check(net, X, y, seed=5)
    b = gradient_check(net, X, y, rng=np.random.default_rng(5))
    assert np.array_equal(np.random.get_state()[1], state)
    assert a.layers[0].worst == b.layers[0].worst                          # same seed, same sample


def test_sample_contains_the_bias_row_and_distinct_entries():
    idx = weight_entries((785, 100), rng=np.random.default_rng(0))
    assert len(idx) == 100 + SAMPLE and len(np.unique(idx)) == len(idx)
    assert set(range(100)) <= set(idx.tolist()) and idx.max() < 785 * 100
    other = weight_entries((785, 100), rng=np.random.default_rng(1))
    assert not np.array_equal(idx, other)
    assert np.array_equal(weight_entries((101, 10)), np.arange(1010))


def test_astype_float64_keeps_the_class_and_is_independent():
    net = ForgetsSigmaPrime(*SMALL, seed=0)
    copy = net.astype("float64")
    assert type(copy) is ForgetsSigmaPrime and copy.params.dtype == np.float64
    copy.weights[0][0, 0] = 99.0
    assert copy.params[0] == 99.0 and net.params[0] != 99.0


# ---------------------------------------------------------------- planted bugs fail on the right layer

ForgetsSigmaPrime = planted(drop_derivative_at=2)


@pytest.mark.parametrize("bug, failing", [
    (dict(drop_derivative_at=2), [1, 2]),       # δ_2 wrong: ∂L/∂W2 and everything below it
    (dict(drop_derivative_at=1), [1]),
    (dict(keep_bias_row_at=3), [1, 2]),         # δ_2 takes the bias row of W3
    (dict(keep_bias_row_at=2), [1]),
    (dict(forget_mean=True), [1, 2, 3]),        # every gradient B times too large
])
def test_planted_bug_fails_on_the_right_layers(bug, failing, rng):
    net = planted(**bug)(*SMALL, rng=rng)
    X, y = batch(net, 8, rng)
    report = gradient_check(net, X, y, rng=rng)
    assert not report.passed
    assert report.failing_layers == failing, report
    assert "FAIL" in str(report)
    for layer in report.layers:
        assert (layer.max_rel_error > 1e-3) == (layer.layer in failing)


def test_planted_bug_in_the_seed_network_fails_on_W1_and_W2(rng):
    net = ForgetsSigmaPrime(*SEED, seed=0)
    X, y = batch(net, 16, rng)
    report = gradient_check(net, X, y, rng=rng)
    assert report.failing_layers == [1, 2]
    assert report.layers[1].failed > 0.9 * report.layers[1].checked     # nearly every entry of W2


def test_forgotten_mean_is_invisible_with_a_batch_of_one(rng):
    """With B = 1 the factor 1/B is 1: check with B > 1, as the command line does by default."""
    net = planted(forget_mean=True)(*SMALL, rng=rng)
    X, y = batch(net, 1, rng)
    assert gradient_check(net, X, y, rng=rng).passed


class OneEntryOff(sn.Network):
    """A correct network whose gradient has one entry multiplied by ``1 + error``."""

    where = (0, 0, 0)
    error = 1e-3

    def loss_and_grads(self, X, y, out=None):
        loss, grads = super().loss_and_grads(X, y, out)
        l, i, j = self.where
        grads[l][i, j] *= 1 + self.error
        return loss, grads


def entry_at_quantile(grad, q, rows=slice(None)):
    """``(i, j)`` of the entry of ``grad[rows]`` whose ``|g|`` is at quantile ``q``."""
    g = np.abs(grad[rows])
    k = np.argsort(g, axis=None)[int(q * (g.size - 1))]
    i, j = np.unravel_index(k, g.shape)
    return (i + (rows.start or 0), j)


@pytest.mark.parametrize("sizes, layer, rows, full", [
    (SEED[0], 0, slice(0, 1), False),       # the bias row of W1, always checked
    (SEED[0], 1, slice(None), False),       # W2 and W3 are checked in full
    (SEED[0], 2, slice(None), False),
    ([784, 16, 10], 0, slice(1, None), True),   # a weight of a sampled W1: only full=True surely sees it
])
def test_one_entry_off_by_a_tenth_of_a_percent_is_caught(sizes, layer, rows, full, rng):
    net = OneEntryOff(sizes, ["sigmoid"] * (len(sizes) - 2) + ["softmax"], seed=0, dtype="float64")
    X, y = batch(net, 4, rng)
    _, grads = sn.Network.loss_and_grads(net, X, y)
    i, j = entry_at_quantile(grads[layer], 0.25, rows)          # an ordinary entry, not the largest,
    g = grads[layer][i, j]
    assert abs(g) > 1e-5                                        # and not tiny
    net.where = (layer, i, j)
    report = gradient_check(net, X, y, full=full, rng=rng)
    assert report.failing_layers == [layer + 1], report
    bad = report.layers[layer]
    assert bad.failed == 1 and bad.worst == (i, j)
    assert bad.analytic == pytest.approx(g * 1.001, rel=1e-9)
    assert bad.max_rel_error == pytest.approx(1e-3 * abs(g) / max(abs(g), report.g_floor), rel=1e-2)
    net.error = 0.0
    assert gradient_check(net, X, y, full=full, rng=rng).passed


def test_a_nan_gradient_fails(rng):
    class NaNEntry(OneEntryOff):
        where, error = (1, 2, 3), np.nan
    net = NaNEntry(*SMALL, rng=rng)
    X, y = batch(net, 4, rng)
    report = gradient_check(net, X, y, rng=rng)
    assert report.failing_layers == [2] and report.layers[1].worst == (2, 3)


# ---------------------------------------------------------------- ReLU kinks

def test_steps_across_a_relu_kink_are_detected_and_left_out(rng):
    net = sn.Network([6, 4, 3], ["relu", "softmax"], rng=rng, dtype="float64")
    net.weights[0][:, 0] = 0            # unit 1 of layer 1 sits exactly on its kink: z = 0 for every row
    X, y = batch(net, 5, rng)
    base = sn.gradcheck._loss_and_pattern(net, X, y)[1]
    _, kink = weight_difference(net, net.weights[0], 3, 0, X, y, 1e-6, base)
    assert kink
    _, kink = weight_difference(net, net.weights[0], 3, 1, X, y, 1e-6, base)
    assert not kink
    report = gradient_check(net, X, y, rng=rng)
    assert report.passed, report
    assert report.layers[0].kinks == 7                              # column 0 of W1 (bias + 6 weights)
    assert report.layers[0].checked == 7 * 4 - 7


# ---------------------------------------------------------------- the report

def test_report_renders_as_a_table_and_as_json(rng):
    net = sn.Network(*SMALL, seed=0)
    X, y = batch(net, 3, rng)
    report = gradient_check(net, X, y, rng=rng)
    text = str(report)
    header, rows = report.table()
    assert len(rows) == 3 and rows[0][0] == "W1 13×9" and rows[2][-1] == "pass"
    assert text.splitlines()[0].split()[:2] == ["layer", "checked"]
    assert "PASS" in text and f"atol {report.atol:.1e}" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["passed"] is True and [d["checked"] for d in data["layers"]] == [117, 70, 40]


def test_bad_arguments_are_refused(rng):
    net = sn.Network(*SMALL, seed=0)
    X, y = batch(net, 3, rng)
    with pytest.raises(ScratchnetError, match="eps"):
        gradient_check(net, X, y, eps=0)
    with pytest.raises(ScratchnetError, match="input must have shape"):
        gradient_check(net, X[:, :5], y)
    with pytest.raises(ScratchnetError, match="labels"):
        gradient_check(net, X, y + 10)

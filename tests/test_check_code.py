"""`sn.check_code`: correct code in every convention and bias notation passes at B = 4 and B = 1; a
planted mistake per diagnosis code is named at the right layer; the seed learner's own formula, typed as
code, is named; the truth it judges against is the network's (and, for mse, finite differences')."""

import importlib.util
import os

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.codecheck import LearnerCodeError
from scratchnet.codecheck.passes import backward, forward
from scratchnet.codecheck.point import random_point
from scratchnet.codecheck.spec import make_spec
from scratchnet.finite_differences import central_difference

from conftest import planted

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "learner_code")


def fixture(name, function="backprop"):
    """The function ``function`` of the fixture file ``name`` (imported here, to run in this process)."""
    spec = importlib.util.spec_from_file_location(f"learner_{name.replace('/', '_')}", os.path.join(HERE, name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function)


CORRECT = [
    ("correct_row.py", {}),
    ("correct_column.py", {"convention": "column"}),
    ("correct_separate_row.py", {"bias": "separate"}),
    ("correct_separate_column.py", {"bias": "separate", "convention": "column", "activations": ["tanh", "tanh"]}),
    ("correct_none_einsum.py", {"bias": "none", "activations": ["relu", "relu"]}),
    ("correct_loops.py", {}),
    ("correct_mse.py", {"loss": "mse", "bias": "separate"}),
    ("correct_class.py", {"sizes": [784, 32, 16, 12, 10], "activations": ["tanh", "relu", "sigmoid"]}),
    ("correct_nielsen.py", {"loss": "mse", "bias": "separate", "convention": "column"}),
]


@pytest.mark.parametrize("name, options", CORRECT, ids=[c[0] for c in CORRECT])
def test_correct_code_passes_at_B_and_at_one(name, options):
    result = sn.check_code(fixture(name), **options)
    assert result.verdict == "correct", str(result)
    assert result.exit_code == 0
    assert set(result.runs) == {4, 1} and all(r.verdict == "correct" for r in result.runs.values())
    assert result.first_wrong_layer is None and result.diagnoses == []
    assert all(r.status == "right" for r in result.runs[4].layers)


def test_correct_code_passes_at_other_seeds_and_batches():
    for seed, batch in ((1, 1), (2, 7), (3, 32)):
        result = sn.check_code(fixture("correct_row.py"), batch=batch, seed=seed)
        assert result.verdict == "correct" and result.batch == batch


PLANTED = [   # file, options, codes, first wrong layer, layers wrong only because of it, vanishes at B = 1
    ("batch_factor.py", {}, ["batch_factor"], 3, {2: 3, 1: 3}, True),
    ("sign.py", {}, ["sign"], 3, {2: 3, 1: 3}, False),
    ("update.py", {}, ["update"], 3, {2: 3, 1: 3}, False),
    ("activation_derivative_output.py", {}, ["activation_derivative"], 3, {2: 3, 1: 3}, False),
    ("activation_derivative_hidden.py", {}, ["activation_derivative"], 2, {}, False),
    ("bias_row.py", {}, ["bias_row"], 2, {}, False),
    ("bias_row_gradient.py", {}, ["bias_row"], 3, {}, False),
    ("batch_sum.py", {}, ["batch_sum"], 3, {}, True),
    ("bias_mean.py", {}, ["batch_factor"], 3, {}, True),
    ("missing_transpose.py", {}, ["missing_transpose"], 2, {1: 2}, False),
    ("updated_weights.py", {}, ["updated_weights"], 2, {}, False),
    ("not_computed.py", {}, ["not_computed"], 1, {}, False),
    ("transposed.py", {"bias": "none"}, ["transposed"], 3, {}, False),
    ("wrong_layer.py", {"sizes": [784, 100, 10, 10, 10]}, ["wrong_layer"], 4, {}, False),
]


@pytest.mark.parametrize("name, options, codes, first, inherited, vanishes", PLANTED, ids=[p[0] for p in PLANTED])
def test_a_planted_mistake_is_named_at_its_layer(name, options, codes, first, inherited, vanishes):
    result = sn.check_code(os.path.join(HERE, "planted", name), **options)      # run from the file
    assert result.verdict == "wrong_value" and result.exit_code == 1, str(result)
    assert result.diagnoses == codes, str(result)
    assert result.first_wrong_layer == first
    assert result.inherited == inherited
    assert result.vanishes_at_one is vanishes
    assert result.mistakes[0].layer == first and result.mistakes[0].hints
    assert result.main.unexplained is None
    right_below = [r.layer for r in result.main.layers if r.status == "right"]
    assert all(l > first for l in right_below) or not inherited


def test_a_fitted_number_is_reported():
    update = sn.check_code(os.path.join(HERE, "planted", "update.py"))
    assert update.mistakes[0].value == pytest.approx(-0.5)
    assert "update step" in update.mistakes[0].words and "η = 0.5" in update.mistakes[0].words
    early = sn.check_code(os.path.join(HERE, "planted", "updated_weights.py"))
    assert [m.value for m in early.mistakes] == pytest.approx([0.1, 0.1])


def test_the_right_formula_is_in_the_learners_convention():
    row = sn.check_code(os.path.join(HERE, "planted", "missing_transpose.py"))
    assert ("δ2", "(δ3 W3[1:]ᵀ) ⊙ σ'(z2)") in row.mistakes[0].corrected
    assert ("∂L/∂W2", "[1 H1]ᵀ δ2") in row.mistakes[0].corrected

    column = fixture("correct_separate_column.py")
    result = sn.check_code(lambda w, X, Y: {**column(w, X, Y), "db2": 2 * column(w, X, Y)["db2"]},
                           bias="separate", convention="column", activations=["tanh", "tanh"])
    assert result.diagnoses == ["scale"] and result.mistakes[0].value == pytest.approx(2.0), str(result)
    assert result.first_wrong_layer == 2 and result.inherited == {}
    assert ("∂L/∂W2", "δ2 H1ᵀ") in result.mistakes[0].corrected


# ---------------------------------------------------------------- the seed learner's own code

def test_the_seed_learners_bias_row_is_named_at_their_line():
    result = sn.check_code(os.path.join(HERE, "seed_learner.py"))
    assert result.verdict == "shape_error" and result.exit_code == 1
    assert result.diagnoses == ["bias_row"]
    crash = result.runs[4].crash
    assert crash.where == "seed_learner.py:37" and "W3.T" in crash.text
    assert crash.operation == "matmul" and crash.shapes == ((10,), (11,))


def test_the_seed_learners_crash_in_html_has_no_empty_layer_table():
    html = sn.check_code(os.path.join(HERE, "seed_learner.py"))._repr_html_()
    assert "your code stopped at <code>seed_learner.py:37</code>" in html and "bias_row" in html
    assert "<table" not in html                                   # no layer was judged: no empty table


def test_the_seed_learners_matrix_product_is_named():
    result = sn.check_code(os.path.join(HERE, "seed_learner.py:backprop_sliced"))
    assert result.verdict == "shape_error"
    assert result.diagnoses[0] == "elementwise_product"
    assert result.first_wrong_layer == 2
    layer2 = next(r for r in result.runs[4].layers if r.layer == 2)
    assert layer2.status == "shape_error" and layer2.problem.got == (101, 4)
    assert result.runs[1].layers[1].problem.got == (101, 1)            # at B = 1, as they wrote it: 101×1
    assert any("⊙" in h or "elementwise" in h for h in result.mistakes[0].hints)


# ---------------------------------------------------------------- the network's own planted bugs

def _network_backprop(cls):
    """A learner's function that is a `Network` subclass's own backward pass (the seed's notation)."""
    def backprop(weights, X, Y):
        net = cls(sn.SEED_SIZES, sn.SEED_ACTIVATIONS, dtype="float64")
        for W, V in zip(net.weights, weights):
            W[...] = V
        return net.loss_and_grads(X, Y.argmax(axis=1))[1]
    return backprop


@pytest.mark.parametrize("bug, codes, first", [
    ({"drop_derivative_at": 1}, ["activation_derivative"], 1),
    ({"drop_derivative_at": 2}, ["activation_derivative"], 2),
    ({"keep_bias_row_at": 2}, ["bias_row"], 1),
    ({"keep_bias_row_at": 3}, ["bias_row"], 2),
    ({"forget_mean": True}, ["batch_factor"], 3),
])
def test_a_planted_bug_in_each_layer_of_the_seed_network_is_found_there(bug, codes, first):
    result = sn.check_code(_network_backprop(planted(**bug)))
    assert result.diagnoses == codes and result.first_wrong_layer == first, str(result)
    assert sn.check_code(_network_backprop(planted())).verdict == "correct"


# ---------------------------------------------------------------- the truth and the tolerance

@pytest.mark.parametrize("options", [{}, {"bias": "none"}, {"activations": ["tanh", "relu"]}])
def test_the_mistake_free_pass_is_the_networks_own(options):
    spec = make_spec(**options)
    fwd = forward(spec, random_point(spec, 5, np.random.default_rng(3)))
    dW, deltas = backward(fwd)
    for l in range(1, spec.L + 1):
        np.testing.assert_allclose(dW[l], fwd.truth["dW"][l], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(deltas[l], fwd.truth["delta"][l], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("output", ["sigmoid", "linear"])
def test_the_mse_truth_agrees_with_finite_differences(output):
    spec = make_spec([6, 5, 4, 3], ["tanh", "sigmoid"], loss="mse", output=output)
    point = random_point(spec, 3, np.random.default_rng(0))
    dW, _ = backward(forward(spec, point))

    def loss():                               # written apart: (1/2B) Σ ‖ŷ − y‖²
        H = point.X
        for l, W in enumerate(point.Ws, start=1):
            z = np.hstack([np.ones((len(H), 1)), H]) @ W
            H = {"tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
                 "linear": lambda v: v}[spec.activation(l)](z)
        return 0.5 * np.sum((H - point.Y) ** 2) / len(H)
    for l, W in enumerate(point.Ws, start=1):
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                numeric, _, _ = central_difference(loss, W, (i, j))
                assert abs(numeric - dW[l][i, j]) <= 1e-8 + 1e-6 * abs(numeric)


def test_small_errors_are_not_waved_through_and_rounding_is():
    right = fixture("correct_row.py")
    for factor, verdict in ((1 + 1e-4, "wrong_value"), (1 + 1e-12, "correct")):
        result = sn.check_code(lambda w, X, Y: [g * (factor if l == 2 else 1) for l, g in
                                                enumerate(right(w, X, Y), start=1)])
        assert result.verdict == verdict, (factor, str(result))
    early = sn.check_code(os.path.join(HERE, "planted", "updated_weights.py"))
    layer2 = early.runs[4].layers[1]
    assert layer2.status == "wrong" and layer2.norm_error < 0.1          # a few per cent, still wrong
    assert layer2.tolerance.rtol == 1e-6


def test_float32_code_is_judged_at_float32_rounding():
    right = fixture("correct_row.py")
    result = sn.check_code(lambda w, X, Y: [g.astype(np.float32) for g in
                                            right([W.astype(np.float32) for W in w], X.astype(np.float32),
                                                  Y.astype(np.float32))])
    assert result.verdict == "correct", str(result)
    assert result.runs[4].layers[0].tolerance.rtol > 1e-6


def test_numbers_no_mistake_gives_are_said_to_be_so():
    right = fixture("correct_row.py")
    noise = np.random.default_rng(0)

    def noisy(w, X, Y):
        grads = right(w, X, Y)
        grads[1] = grads[1] + noise.normal(0, 1e-3, grads[1].shape)
        return grads
    result = sn.check_code(noisy)
    assert result.verdict == "wrong_value" and result.diagnoses == []
    assert result.main.unexplained == 2 and result.first_wrong_layer == 2
    assert any("no known mistake" in line for line in result.summary())


# ---------------------------------------------------------------- what the code gets and returns

def test_the_code_gets_copies():
    seen = []

    def vandal(weights, X, Y):
        grads = fixture("correct_row.py")(weights, X, Y)
        seen.append(weights[0][1, 1])
        for W in weights:
            W[...] = 0
        X[...] = 0
        return grads
    assert sn.check_code(vandal).verdict == "correct"
    assert seen[0] != 0 and seen[1] != 0


@pytest.mark.parametrize("shape", ["flat", "row", "column"])
def test_a_bias_gradient_may_be_any_of_the_three_shapes(shape):
    right = fixture("correct_separate_row.py")
    reshape = {"flat": lambda b: b.ravel(), "row": lambda b: b.reshape(1, -1), "column": lambda b: b.reshape(-1, 1)}
    result = sn.check_code(lambda w, X, Y: [(dW, reshape[shape](db)) for dW, db in right(w, X, Y)], bias="separate")
    assert result.verdict == "correct"


def test_grads_as_a_dict_with_any_usual_key():
    right = fixture("correct_row.py")
    for key in ("W{}", "dW{}", "dW_{}", "grad_W{}"):
        result = sn.check_code(lambda w, X, Y: {key.format(l): g for l, g in enumerate(right(w, X, Y), start=1)})
        assert result.verdict == "correct", key


def test_shape_errors_of_the_returned_gradients_are_named():
    right = fixture("correct_row.py")
    cases = {"transposed": lambda g: g.T, "bias_row": lambda g: g[1:]}
    for code, change in cases.items():
        result = sn.check_code(lambda w, X, Y: [change(g) if l == 2 else g for l, g in
                                                enumerate(right(w, X, Y), start=1)])
        assert result.verdict == "shape_error" and result.diagnoses == [code], code
        assert result.first_wrong_layer == 2
    unsummed = fixture("correct_separate_row.py")
    result = sn.check_code(lambda w, X, Y: [(dW, np.tile(db, (len(X), 1)) / len(X)) for dW, db in unsummed(w, X, Y)],
                           bias="separate")
    assert result.verdict == "shape_error" and "batch_sum" in result.diagnoses
    assert result.runs[1].verdict == "correct"                          # one example: nothing to sum


# ---------------------------------------------------------------- code that cannot be checked, in this process

def test_an_exception_shows_the_learners_own_line():
    def backprop(weights, X, Y):
        return [W[None] for W in weights][5]                    # IndexError, here
    with pytest.raises(LearnerCodeError) as e:
        sn.check_code(backprop)
    assert e.value.kind == "raised" and "IndexError" in str(e.value)
    assert e.value.line.startswith("test_check_code.py:") and "scratchnet" not in str(e.value).replace(
        "test_check_code", "")
    assert e.value.exit_code == 2


@pytest.mark.parametrize("returned, kind", [
    (None, "returned_none"), ([np.zeros(1)], "wrong_count"), ("grads", "not_arrays"),
    ([np.full((785, 100), np.nan), np.zeros((101, 10)), np.zeros((11, 10))], "not_finite"),
])
def test_garbage_is_one_clear_error(returned, kind):
    with pytest.raises(LearnerCodeError) as e:
        sn.check_code(lambda w, X, Y: returned)
    assert e.value.kind == kind and "\n" not in str(e.value)


def test_code_that_never_returns_is_stopped():
    def forever(weights, X, Y):
        while True:
            pass
    with pytest.raises(LearnerCodeError) as e:
        sn.check_code(forever, timeout=0.5)
    assert e.value.kind == "timeout" and "0.5 s" in str(e.value)


def test_bad_options_are_refused():
    for options, field in (({"bias": "both"}, "bias"), ({"batch": 0}, "batch"), ({"loss": "ce", "output": "linear"},
                           "output"), ({"activations": ["swish", "sigmoid"]}, "activations"),
                           ({"timeout": -1}, "timeout")):
        with pytest.raises(sn.ScratchnetError) as e:
            sn.check_code(fixture("correct_row.py"), **options)
        assert e.value.field == field


# ---------------------------------------------------------------- renderings

def test_text_json_and_html_render_the_same_data():
    result = sn.check_code(os.path.join(HERE, "planted", "missing_transpose.py"))
    text = str(result)
    assert "first wrong layer" in text and "missing_transpose" in text and "wrong only because of layer 2" in text
    data = result.to_json()
    assert data["verdict"] == "wrong_value" and data["first_wrong_layer"] == 2
    assert data["diagnoses"] == ["missing_transpose"] and data["inherited"] == {"1": 2}
    assert [r["layer"] for r in data["layers"]] == [3, 2, 1]
    assert data["layers"][1]["shape"] == [101, 10] and data["layers"][1]["where"].startswith("W2[")
    assert data["layers"][1]["max_abs_error"] > 1e-3 and data["layers"][0]["right"] is True
    html = result._repr_html_()
    assert "missing_transpose" in html and "<table" in html and "W3[1:]" in html
    assert repr(result).startswith("CodeCheckResult(")

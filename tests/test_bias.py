"""The textbook notation, `--bias separate`: z = H W + b (row) or z = W h + b (column), names b1 … bL."""

import json

import numpy as np
import pytest

from scratchnet.cli import main
from scratchnet.derivation.bindings import random_point
from scratchnet.derivation.check import check
from scratchnet.derivation.derive import derive
from scratchnet.derivation.equations import gradient_formula
from scratchnet.derivation.evaluate import Environment, check_names, evaluate
from scratchnet.derivation.formula import FormulaError, parse
from scratchnet.derivation.render import derivation_text
from scratchnet.derivation.truth import true_gradient
from scratchnet.derivation.verify import compare
from scratchnet.errors import ScratchnetError

SMALL, SIG = (7, 5, 4, 6), ("sigmoid", "sigmoid", "softmax")
RIGHT = {   # wrt → (row, column), mean loss
    "W2": ("H1^T (((yhat - y) W3^T) * H2 * (1 - H2)) / B", "((W3^T (yhat - y)) * H2 * (1 - H2)) H1^T / B"),
    "b2": ("sum(((yhat - y) W3^T) * H2 * (1 - H2)) / B", "sum((W3^T (yhat - y)) * H2 * (1 - H2)) / B"),
    "b3": ("ones^T (yhat - y) / B", "(yhat - y) ones / B"),
}


def value(formula, point):
    env = Environment.from_point(point)
    tree = parse(formula)
    check_names(tree, formula, env)
    return evaluate(tree, env, formula).value


@pytest.mark.parametrize("convention", ["row", "column"])
def test_the_names_are_the_same_network_without_the_bias_row(convention):
    point = random_point(SMALL, SIG, 3, convention, np.random.default_rng(0), bias="separate")
    W2 = point.weights[1]
    assert point.shape_of("W2") == ((5, 4) if convention == "row" else (4, 5))
    assert point.shape_of("W3") == ((4, 6) if convention == "row" else (6, 4))
    assert point.shape_of("b3") == ((1, 6) if convention == "row" else (6, 1)) and point.shape_of("ones") == (3, 1)
    np.testing.assert_array_equal(point.to_row(value("b2", point)), W2[:1])
    z2 = "H1 W2 + b2" if convention == "row" else "W2 H1 + b2"          # the bias broadcasts over the batch
    np.testing.assert_allclose(value(z2, point), value("z2", point), atol=1e-14)


@pytest.mark.parametrize("convention", ["row", "column"])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("wrt", list(RIGHT))
def test_right_formulas_are_correct(convention, batch, wrt):
    f = RIGHT[wrt][convention == "column"]
    r = check(f, wrt, SMALL, SIG, convention, batch, bias="separate", seed=1)
    assert r.verdict == "correct", r.message
    assert r.expected_shape == random_point(SMALL, SIG, batch, convention, bias="separate").shape_of(wrt)


@pytest.mark.parametrize("convention", ["row", "column"])
@pytest.mark.parametrize("batch", [1, 4])
def test_every_gradient_formula_is_correct_and_agrees_with_finite_differences(convention, batch):
    acts = ("tanh", "relu", "softmax")
    wrts = ["W1", "W2", "W3", "b1", "b2", "b3", "z1", "z3", "H0", "H2"]
    for wrt in wrts:
        r = check(gradient_formula(wrt, acts, convention, "separate"), wrt, SMALL, acts, convention, batch,
                  bias="separate", seed=4)
        assert r.verdict == "correct", (wrt, r.message)
    rng = np.random.default_rng(2)
    point = random_point(SMALL, acts, batch, convention, rng, bias="separate")
    for wrt in ("W2", "b2", "b3"):
        truth = true_gradient(point, wrt)
        assert compare(point, wrt, truth, rng)["max_rel_error"] < 1e-6
        assert compare(point, wrt, truth * 1.001, rng)["max_rel_error"] > 1e-4


@pytest.mark.parametrize("convention", ["row", "column"])
def test_a_batch_matrix_for_the_summed_bias_is_batch_sum(convention):
    r = check("(yhat - y) / B", "b3", SMALL, SIG, convention, 4, bias="separate")
    assert (r.verdict, r.diagnoses) == ("shape_error", ["batch_sum"])
    assert "sum(δ_l)" in r.hints[0] and "summed over the batch" in r.message
    r = check("sum(yhat - y)", "b3", SMALL, SIG, convention, 4, bias="separate")
    assert (r.verdict, r.diagnoses) == ("wrong_value", ["batch_factor"])
    assert check("(yhat - y)", "b3", SMALL, SIG, convention, 1, bias="separate").verdict == "correct"


def test_the_row_notation_has_no_b_and_the_separate_one_no_bias_row():
    with pytest.raises(ScratchnetError, match="separate-bias notation") as info:
        check("yhat - y", "b3", SMALL, SIG)
    assert info.value.field == "wrt"
    with pytest.raises(FormulaError, match="separate-bias notation"):
        check("b3", "z3", SMALL, SIG)
    r = check("H1^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2))", "W2", SMALL, SIG, bias="separate")
    assert r.verdict == "shape_error"                      # W3[1:] drops a row the separate W3 does not have


def test_factor_dz_db_is_the_identity():
    r = check("1", factor="dz2/db2", sizes=SMALL, activations=SIG, bias="separate")
    assert (r.verdict, r.diagnoses, r.expected_shape) == ("shape_error", ["diagonal_jacobian"], (4, 4))
    assert "identity" in r.derivation
    assert check("diag(ones^T z2 * 0 + 1)", factor="dz2/db2", sizes=SMALL, activations=SIG,
                 bias="separate").verdict == "correct"
    r = check("W3^T", factor="dz3/dH2", sizes=SMALL, activations=SIG, bias="separate")
    assert r.verdict == "correct" and r.derivation == "W3^T"


@pytest.mark.parametrize("convention", ["row", "column"])
def test_derive_shows_and_verifies_the_separate_bias_equations(convention):
    d = derive(SMALL, ("tanh", "sigmoid", "softmax"), convention, batch=3, seed=1, bias="separate")
    assert d.verified and d.step("db2").formula == "sum(delta2)"
    assert d.step("dW2").formula == ("H1^T delta2" if convention == "row" else "delta2 H1^T")
    assert d.step("z2").formula == ("H1 W2 + b2" if convention == "row" else "W2 H1 + b2")
    assert d.step("db2").shape_batch == ((1, 4) if convention == "row" else (4, 1))
    text = derivation_text(d)
    assert "∂L/∂b₂ = sum(δ₂)" in text and "separate bias" in text and "Why a sum" in text
    assert "W̄" not in text


def test_cli_bias_separate(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", "--bias", "separate", "--wrt", "b2", "--batch", "3", "--json",
              "sum(((yhat - y) W3^T) * H2 * (1 - H2)) / B"])
    obj = json.loads(capsys.readouterr().out)
    assert info.value.code == 0 and obj["verdict"] == "correct" and obj["bias"] == "separate"
    with pytest.raises(SystemExit) as info:
        main(["check", "--bias", "separate", "--factor", "dz2/db2", "1"])
    assert info.value.code == 1 and "diagonal_jacobian" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["derive", "--bias", "separate", "--layers", "5,4,3", "--convention", "column"])
    out = capsys.readouterr().out
    assert info.value.code == 0 and "∂L/∂b₁ = sum(δ₁)" in out and "verified." in out

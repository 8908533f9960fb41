"""`check --factor dA/dB`: each Jacobian factor of the learner's chain, its verdict and its diagnosis."""

import json

import numpy as np
import pytest

from scratchnet.derivation.bindings import random_point
from scratchnet.derivation.check import DIAGNOSES, JACOBIAN_CONVENTION, check
from scratchnet.derivation.jacobians import parse_factor, true_factor
from scratchnet.errors import ScratchnetError
from scratchnet.finite_differences import numerical_jacobian

SMALL, SIG = (7, 5, 4, 6), ("sigmoid", "sigmoid", "softmax")


# ---------------------------------------------------------------- the seed's three claims

def test_the_seeds_claim_dz3_dH2_is_W3T_is_a_bias_row_shape_error():
    r = check("W3^T", factor="dz3/dH2")
    assert (r.verdict, r.diagnoses, r.exit_code) == ("shape_error", ["bias_row"], 1)
    assert r.shape == (10, 11) and r.expected_shape == (10, 10)       # W3ᵀ is 10×11 because of the bias row
    assert r.corrected == "W3[1:]^T" and r.derivation == "W3[1:]^T"
    assert check(r.corrected, factor="dz3/dH2").verdict == "correct"
    assert "bias row" in r.hints[0] and "the whole W_l has one row too many" in r.hints[0]


def test_the_seeds_claim_dH2_dz2_is_H2_1_minus_H2_is_a_diagonal_jacobian():
    r = check("H2(1-H2)", factor="dH2/dz2")
    assert (r.verdict, r.diagnoses) == ("shape_error", ["diagonal_jacobian"])
    assert r.expected_shape == (10, 10) and "diagonal of ∂H2/∂z2" in r.message
    assert "as a vector it enters the chain by ⊙" in r.hints[0]
    assert r.derivation == "diag(sigma'(z2))"
    for right in ("diag(sigma'(z2))", "diag(H2 * (1 - H2))"):
        assert check(right, factor="dH2/dz2").verdict == "correct"
    assert check("H2 * (1 - H2)", factor="dH2/dz2").diagnoses == ["diagonal_jacobian"]


def test_the_seeds_claim_dz2_dW2_is_1_H1_is_third_order():
    r = check("[1 H1]", factor="dz2/dW2")
    assert (r.verdict, r.diagnoses) == ("shape_error", ["third_order"])
    assert r.expected_shape == (10, 101, 10) and r.shape == (1, 101)
    assert "third-order tensor" in r.message and "entries are right" in r.message
    assert "∂L/∂W2 = [1 H1]^T delta2" in r.message
    assert "∂z_k/∂W_ij = [1 H]_i [j = k]" in r.hints[0] and "outer product" in r.hints[0]
    assert "entries are right" not in check("H1", factor="dz2/dW2").message   # only [1 H1] holds them


# ---------------------------------------------------------------- every factor, both conventions

RIGHT = {   # factor → (row formula, column formula)
    "dz3/dH2": ("W3[1:]^T", "W3[:, 1:]"),
    "dH2/dz2": ("diag(sigma'(z2))", "diag(sigma'(z2))"),
    "dyhat/dz3": ("diag(yhat) - yhat^T yhat", "diag(yhat) - yhat yhat^T"),
    "dz3/dz2": ("W3[1:]^T diag(sigma'(z2))", "W3[:, 1:] diag(sigma'(z2))"),
    "dH2/dH1": ("diag(sigma'(z2)) W2[1:]^T", "diag(sigma'(z2)) W2[:, 1:]"),
    "dL/dz3": ("yhat - y", "yhat - y"),
}


@pytest.mark.parametrize("convention", ["row", "column"])
@pytest.mark.parametrize("factor", list(RIGHT))
def test_the_true_factors_are_correct_and_agree_with_finite_differences(convention, factor):
    formula = RIGHT[factor][convention == "column"]
    r = check(formula, factor=factor, sizes=SMALL, activations=SIG, convention=convention, seed=3)
    assert r.verdict == "correct", r.message
    point = random_point(SMALL, SIG, 1, convention, np.random.default_rng(4))
    f = parse_factor(factor, point.L)
    if not f.is_gradient:                   # J[i, j] = ∂A_i/∂B_j, measured through the forward pass
        J = true_factor(point, f).value
        net = point.network
        if f.denominator == "H2":
            H2 = point.H[2].copy()
            numeric = numerical_jacobian(lambda: net.forward(H2, start=3).z[3], H2)
        elif f.denominator == "H1":
            H1 = point.H[1].copy()
            numeric = numerical_jacobian(lambda: net.forward(H1, start=2).H[2], H1)
        else:
            z = point.z[int(f.denominator[1:])].copy()
            top = {"dH2/dz2": lambda: 1 / (1 + np.exp(-z)),
                   "dyhat/dz3": lambda: np.exp(z) / np.exp(z).sum(),
                   "dz3/dz2": lambda: net.forward(1 / (1 + np.exp(-z)), start=3).z[3]}[factor]
            numeric = numerical_jacobian(top, z)
        np.testing.assert_allclose(J, numeric, atol=1e-8)


MISTAKES = {   # (row formula, column formula, factor) → (verdict, diagnoses)
    ("W3[1:]", "W3[:, 1:]^T", "dz3/dH2"): ("shape_error", ["transposed"]),          # 4×6 for 6×4
    ("-W3[1:]^T", "-W3[:, 1:]", "dz3/dH2"): ("wrong_value", ["sign"]),
    ("W2[1:]^T", "W2[:, 1:]", "dz3/dH2"): ("shape_error", ["wrong_layer"]),
    ("W3^T", "W3", "dz3/dH2"): ("shape_error", ["bias_row"]),
    ("sigma'(z2)", "sigma'(z2)", "dH2/dz2"): ("shape_error", ["diagonal_jacobian"]),
    ("diag(sigma'(z1))", "diag(sigma'(z1))", "dH2/dz2"): ("shape_error", ["activation_derivative"]),
    ("yhat * (1 - yhat)", "yhat * (1 - yhat)", "dyhat/dz3"): ("shape_error", ["softmax_jacobian"]),
    ("diag(yhat * (1 - yhat))", "diag(yhat * (1 - yhat))", "dyhat/dz3"): ("wrong_value", ["softmax_jacobian"]),
    ("diag(z3) - z3^T z3", "diag(z3) - z3 z3^T", "dyhat/dz3"): ("wrong_value", ["softmax_jacobian"]),
    ("H1^T", "H1", "dz2/dW2"): ("shape_error", ["third_order"]),
}


@pytest.mark.parametrize("convention", ["row", "column"])
@pytest.mark.parametrize("case", list(MISTAKES))
def test_each_factor_mistake_gets_its_diagnosis(convention, case):
    row, column, factor = case
    r = check(row if convention == "row" else column, factor=factor, sizes=SMALL, activations=SIG,
              convention=convention, seed=5)
    assert (r.verdict, r.diagnoses) == MISTAKES[case], r.message
    assert set(r.diagnoses) <= set(DIAGNOSES) and len(r.hints) == len(r.diagnoses)
    assert r.jacobian_note == JACOBIAN_CONVENTION
    if r.corrected:
        assert check(r.corrected, factor=factor, sizes=SMALL, activations=SIG, convention=convention,
                     seed=5).verdict == "correct"


def test_softmax_jacobian_hint_gives_the_full_matrix_in_each_convention():
    row = check("yhat * (1 - yhat)", factor="dyhat/dz3")
    col = check("yhat * (1 - yhat)", factor="dyhat/dz3", convention="column")
    assert "diag(ŷ) − ŷᵀŷ" in row.hints[0] and "diag(ŷ) − ŷŷᵀ" in col.hints[0]
    assert "collapses to ŷ − y" in row.hints[0]


@pytest.mark.parametrize("factor, words", [
    ("dH2/dz3", "does not depend on"),
    ("dz3", "dA/dB"),
    ("dz9/dH2", "not a quantity"),
    ("dW2/dz2", "numerator"),
    ("dz2/db2", "not a quantity"),            # b2 exists only with a separate bias
])
def test_bad_factors_are_one_line_errors(factor, words):
    with pytest.raises(ScratchnetError, match=words) as info:
        check("W3^T", factor=factor)
    assert "\n" not in str(info.value) and info.value.field == "factor" and "--" not in str(info.value)


def test_a_factor_is_one_examples_jacobian():
    with pytest.raises(ScratchnetError, match="one example"):
        check("W3[1:]^T", factor="dz3/dH2", batch=4)
    r = check("(yhat - y) / B", factor="dL/dz3", batch=4)         # dL/dB is a gradient: any batch
    assert r.verdict == "correct" and r.factor == "∂L/∂z3"


def test_cli_factor_states_the_convention_and_exits_like_check(invoke):
    code, out, _ = _parts(invoke(*["check", "--factor", "dH2/dz2", "H2(1-H2)"]))
    assert code == 1 and "J[i, j] = ∂A_i/∂B_j" in out and "∂L/∂B = ∂L/∂A · J" in out
    assert "∂L/∂B = Jᵀ ∂L/∂A" in out                          # the column convention's counterpart
    assert "diagonal_jacobian" in out and "The true factor: ∂H2/∂z2 = diag(sigma'(z2))" in out
    code, out, _ = _parts(invoke(*["check", "--factor", "dz3/dH2", "--json", "W3[1:]^T"]))
    obj = json.loads(out)
    assert code == 0 and obj["verdict"] == "correct" and obj["factor"] == "∂z3/∂H2"
    assert obj["jacobian_note"] == JACOBIAN_CONVENTION and obj["trace"][-1]["shape"] == [10, 10]
    code, out, err = _parts(invoke(*["check", "--factor", "dH1/dz2", "x"]))
    assert code == 2 and "does not depend" in err and "--factor" in err and "Traceback" not in err


def _parts(result):
    """``(exit code, standard output, standard error)`` of an `invoke` result."""
    return result.returncode, result.stdout, result.stderr


def test_z_times_its_own_derivative_is_an_activation_derivative_mistake():
    # a learner read g'(z1) as z1 times (1 - a1²) (DeepLearning.AI board, W3 A1)
    for formula, verdict in (("(W2^T (yhat - y) / B) * (z1 (1 - H1^2))", "shape_error"),
                             ("(W2^T (yhat - y) / B) * (z1 * (1 - H1^2))", "wrong_value")):
        r = check(formula, "z1", (2, 4, 2), ("tanh", "softmax"), "column", 3, bias="separate")
        assert (r.verdict, r.diagnoses) == (verdict, ["activation_derivative"]), r.message
        assert check(r.corrected, "z1", (2, 4, 2), ("tanh", "softmax"), "column", 3,
                     bias="separate").verdict == "correct"


@pytest.mark.parametrize("spelling", ["dz3/dH2", "∂z_3/∂H_2", r"\partial z_3/\partial H_{2}",
                                      r"\frac{\partial z_3}{\partial H_2}"])
def test_factor_spellings_plain_and_latex(spelling):
    assert check("W3[1:]^T", factor=spelling).verdict == "correct"


def test_a_pasted_left_hand_side_chooses_the_gradient_or_factor_and_a_claimed_shape_is_judged():
    seed = r"\frac{\partial L}{\partial W_2} = [1\ H_1]^T(\hat{y}-y)W_3^TH_2(1-H_2) \in \mathbb{R}^{101\times1}"
    r = check(seed)
    assert r.wrt == "W2" and r.factor is None and r.claimed_shape == (101, 1)
    assert set(r.diagnoses) == {"bias_row", "elementwise_product", "regrouping"}
    assert "The shape you claimed, 101×1, is not that of ∂L/∂W2, which is 101×10" in r.message
    r = check(r"\frac{\partial z_3}{\partial H_2} = W_3^T \in \mathbb{R}^{10\times10}")
    assert r.factor == "∂z3/∂H2" and r.diagnoses == ["bias_row"] and "10×10, is right" in r.message
    with pytest.raises(ScratchnetError, match="left-hand side is ∂L/∂W2"):    # never judged as another
        check(r"\frac{\partial L}{\partial W_2} = x", wrt="W1")
    assert check("[1 H1]^T (yhat - y)").wrt == "W2"                                   # plain text: W2

"""`scratchnet check`: each verdict and each diagnosis, in both conventions and with batches."""

import json

import numpy as np
import pytest

from scratchnet.derivation.bindings import random_point
from scratchnet.derivation.check import check
from scratchnet.derivation.equations import gradient_formula
from scratchnet.derivation.verify import compare
from scratchnet.derivation.truth import true_gradient
from scratchnet.errors import ScratchnetError

from conftest import assert_one_line_error

SEED = "[1 H1]^T (yhat - y) W3^T H2(1-H2)"
CORRECTED = "[1 H1]^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2))"
SMALL, SIG = (7, 5, 4, 6), ("sigmoid", "sigmoid", "softmax")

# ∂L/∂W2 of the small sigmoid network, right and with one planted mistake each, in both conventions.
FORMULAS = {
    "row": {
        "right": "[1 H1]^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2)) / B",
        "bias_row": "[1 H1]^T (((yhat - y) W3^T) * H2 * (1 - H2)) / B",
        "missing_ones": "H1^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2)) / B",
        "elementwise_product": "[1 H1]^T (((yhat - y) W3[1:]^T) * (H2 (1 - H2))) / B",
        "transposed": "(((yhat - y) W3[1:]^T) * H2 * (1 - H2))^T [1 H1] / B",
        "sign": "[1 H1]^T (((y - yhat) W3[1:]^T) * H2 * (1 - H2)) / B",
        "no_1/B": "[1 H1]^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2))",
        "missing_sigma'": "[1 H1]^T ((yhat - y) W3[1:]^T) / B",
        "sigma'_wrong_layer": "[1 H1]^T (((yhat - y) W3[1:]^T) * sigma'(z1)) / B",
        "other": "[1 H1]^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2)) * 2 / B",
    },
    "column": {
        "right": "((W3[:, 1:]^T (yhat - y)) * H2 * (1 - H2)) [1; H1]^T / B",
        "bias_row": "((W3^T (yhat - y)) * H2 * (1 - H2)) [1; H1]^T / B",
        "missing_ones": "((W3[:, 1:]^T (yhat - y)) * H2 * (1 - H2)) H1^T / B",
        "elementwise_product": "((W3[:, 1:]^T (yhat - y)) * (H2 (1 - H2))) [1; H1]^T / B",
        "transposed": "[1; H1] ((W3[:, 1:]^T (yhat - y)) * H2 * (1 - H2))^T / B",
        "sign": "((W3[:, 1:]^T (y - yhat)) * H2 * (1 - H2)) [1; H1]^T / B",
        "no_1/B": "((W3[:, 1:]^T (yhat - y)) * H2 * (1 - H2)) [1; H1]^T",
        "missing_sigma'": "(W3[:, 1:]^T (yhat - y)) [1; H1]^T / B",
        "sigma'_wrong_layer": "((W3[:, 1:]^T (yhat - y)) * sigma'(z1)) [1; H1]^T / B",
        "other": "((W3[:, 1:]^T (yhat - y)) * H2 * (1 - H2)) [1; H1]^T * 2 / B",
    },
}
EXPECTED = {   # mistake → (verdict, diagnoses)
    "right": ("correct", []),
    "bias_row": ("shape_error", ["bias_row"]),
    "missing_ones": ("shape_error", ["bias_row"]),
    "elementwise_product": ("correct?", ["elementwise_product"]),
    "transposed": ("shape_error", ["transposed"]),
    "sign": ("wrong_value", ["sign"]),
    "no_1/B": ("wrong_value", ["batch_factor"]),
    "missing_sigma'": ("wrong_value", ["activation_derivative"]),
    "sigma'_wrong_layer": ("shape_error", ["activation_derivative"]),
    "other": ("wrong_value", []),
}


def test_the_seed_formula_is_a_shape_error_with_both_diagnoses():
    r = check(SEED, "W2")
    assert r.verdict == "shape_error" and r.exit_code == 1
    assert set(r.diagnoses) == {"bias_row", "elementwise_product", "regrouping"}   # ⊙ of 101×10 and 1×10 is a broadcast
    assert r.expected_shape == (101, 10) and r.shape is None and r.max_abs_error is None
    assert r.failure.text == "[1 H1]^T (yhat - y) W3^T H2" and r.failure.shapes == ((101, 11), (1, 10))
    assert "W3 → W3[1:]" in r.repairs
    assert check(r.corrected, "W2").verdict == "correct"          # the repaired formula really is right


def test_the_corrected_seed_formula_is_correct_and_needs_1_over_B_in_a_batch():
    r = check(CORRECTED, "W2")
    assert r.verdict == "correct" and r.diagnoses == [] and r.exit_code == 0 and r.max_abs_error < 1e-15
    r4 = check(CORRECTED, "W2", batch=4)
    assert r4.verdict == "wrong_value" and r4.diagnoses == ["batch_factor"] and "4 times" in r4.message
    assert check(CORRECTED + " / B", "W2", batch=4).verdict == "correct"


@pytest.mark.parametrize("convention", ["row", "column"])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("mistake", list(EXPECTED))
def test_each_verdict_and_diagnosis(convention, batch, mistake):
    r = check(FORMULAS[convention][mistake], "W2", SMALL, SIG, convention, batch, seed=5)
    verdict, diagnoses = EXPECTED[mistake]
    if mistake == "no_1/B" and batch == 1:
        verdict, diagnoses = "correct", []                           # at B = 1 the factor is 1
    if mistake == "elementwise_product":
        verdict = "shape_error"                                       # H2 (1 - H2) never fits as a product
    assert (r.verdict, r.diagnoses) == (verdict, diagnoses), r.message
    assert r.exit_code == (0 if verdict == "correct" else 1)
    if mistake == "other":                                           # says what was tried, never "no repair exists"
        assert "makes it ∂L/∂W2 for every batch size" in r.message and "ones" not in r.message
    if verdict == "wrong_value":
        assert r.max_abs_error > 1e-6


@pytest.mark.parametrize("convention", ["row", "column"])
def test_a_sigma_prime_of_the_wrong_activation_is_found(convention):
    acts = ("sigmoid", "tanh", "softmax")        # layer 2 is tanh; H2 * (1 - H2) is the sigmoid's σ'
    f = FORMULAS[convention]["right"]
    r = check(f, "W2", SMALL, acts, convention, batch=2)
    assert r.verdict == "wrong_value" and r.diagnoses == ["activation_derivative"]
    assert "tanh'(z2)" in r.corrected
    assert check(r.corrected, "W2", SMALL, acts, convention, batch=2).verdict == "correct"


@pytest.mark.parametrize("convention", ["row", "column"])
@pytest.mark.parametrize("batch", [1, 3])
def test_the_derivations_formula_is_correct_for_every_gradient(convention, batch):
    acts = ("relu", "tanh", "sigmoid", "softmax")
    sizes = (6, 5, 4, 3, 7)
    wrts = [f"W{l}" for l in range(1, 5)] + [f"z{l}" for l in range(1, 5)] + [f"H{l}" for l in range(4)]
    for wrt in wrts:
        r = check(gradient_formula(wrt, acts, convention), wrt, sizes, acts, convention, batch, seed=2)
        assert r.verdict == "correct", (wrt, r.message)


def test_gradients_wrt_z_and_H_and_batch_factor_there():
    assert check("(yhat - y) / B", "z3", batch=5).verdict == "correct"
    r = check("yhat - y", "z3", batch=5)
    assert r.verdict == "wrong_value" and r.diagnoses == ["batch_factor"]
    r = check("(yhat - y) W3^T / B", "H2", batch=2)
    assert r.verdict == "shape_error" and r.diagnoses == ["bias_row"]
    r = check("W3[:, 1:]^T (y - yhat) / B", "H2", convention="column", batch=2)
    assert r.verdict == "wrong_value" and r.diagnoses == ["sign"]


@pytest.mark.parametrize("convention", ["row", "column"])
@pytest.mark.parametrize("wrt", ["W1", "W3", "z1", "z2", "H0", "H2"])
def test_the_truth_agrees_with_finite_differences(convention, wrt):
    rng = np.random.default_rng(1)
    point = random_point(SMALL, ("tanh", "sigmoid", "softmax"), 3, convention, rng)
    truth = true_gradient(point, wrt)
    assert truth.shape == point.shape_of(wrt)
    assert compare(point, wrt, truth, rng)["max_rel_error"] < 1e-6
    assert compare(point, wrt, truth * 1.001, rng)["max_rel_error"] > 1e-4   # and it can fail


def test_cli_json_and_exit_codes(invoke):
    code, out, _ = _parts(invoke(*["check", "--wrt", "W2", "--json", SEED]))
    obj = json.loads(out)
    assert code == 1 and obj["verdict"] == "shape_error"
    assert {"verdict", "shape", "expected_shape", "max_abs_error", "diagnoses", "message"} <= set(obj)
    assert obj["expected_shape"] == [101, 10] and set(obj["diagnoses"]) == {"bias_row", "elementwise_product", "regrouping"}
    code, out, _ = _parts(invoke(*["check", "--wrt", "W2", "--json", CORRECTED]))
    assert code == 0 and json.loads(out)["verdict"] == "correct"
    code, out, _ = _parts(invoke(*["check", "--wrt", "W2", "--batch", "4", "--json", CORRECTED]))
    assert code == 1 and json.loads(out)["diagnoses"] == ["batch_factor"]


def test_cli_human_output_shows_shapes_the_failure_and_a_hint(invoke):
    code, out, _ = _parts(invoke(*["check", "--wrt", "W2", SEED]))
    assert code == 1
    assert "[1 H1]^T (yhat - y) W3^T  101×11" in " ".join(out.split("\n"))
    assert "✗ [1 H1]^T (yhat - y) W3^T H2" in out and "11 ≠ 1" in out
    assert "Hint:" in out and "diagonal" in out


@pytest.mark.parametrize("args, words", [
    (["check", "--wrt", "W2", "[1 H1]^T (yhat - y) W4^T"], "unknown name 'W4'"),
    (["check", "--wrt", "W2", "[1 H1]^T (yhat - y"], "expected ')'"),
    (["check", "--wrt", "W7", "x"], "W7"),
    (["check", "--activations", "sigmoid,softmax", "x"], "activations"),
    (["check", "--convention", "diagonal", "x"], "convention"),
    (["derive", "--format", "pdf"], "format"),
])
def test_cli_usage_errors_exit_2(args, words, invoke):
    code, out, err = _parts(invoke(*args))
    assert code == 2 and words in err and "Traceback" not in err
    if "W4" in words:
        assert err.splitlines()[-1].index("^") == err.splitlines()[-2].index("W4")


@pytest.mark.parametrize("args", [["check", "--layers", "784,10000000000,10", "x"],
                                  ["check", "--batch", "10000000000", "x"],
                                  ["derive", "--batch", "10000000000"],
                                  ["derive", "--chain", "W1", "--layers", "100000000,100000,10"]])
def test_networks_and_batches_past_memory_are_refused_before_allocating(args, invoke):
    """Not a usage error: exit 1 with one line naming the memory, as gradcheck and train do."""
    assert_one_line_error(invoke(*args), 1, "would need about")
    assert "Invalid value" not in invoke(*args).stderr


def _parts(result):
    """``(exit code, standard output, standard error)`` of an `invoke` result."""
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("convention, formula", [("row", "[1 H1]^T delta2"), ("column", "delta2 [1; H1]^T")])
def test_delta_names_stand_for_the_true_delta_so_the_derivations_advice_can_be_typed(convention, formula):
    assert check(formula, "W2", SMALL, SIG, convention, batch=3).verdict == "correct"
    r = check(formula.replace("delta2", "delta1"), "W2", SMALL, SIG, convention, batch=3)
    assert r.verdict == "shape_error"


def test_what_derive_prints_can_be_typed_back(invoke):
    r = check("[1 H1]ᵀ ((ŷ − y) W̄3ᵀ ⊙ σ′(z2))", "W2")              # W̄3 is W3[1:]
    assert r.verdict == "correct"
    assert check("((W̄3ᵀ (yhat - y)) * sigma'(z2)) [1; H1]^T", "W2", convention="column").verdict == "correct"
    code, out, _ = _parts(invoke("check", "--wrt", "W3", "-[1 H2]^T (y - yhat)"))   # a leading minus
    assert code == 0 and "Verdict: correct" in out


def test_a_bracket_of_the_other_convention_gets_a_hint():
    r = check("[1 H1]^T (yhat - y) W3^T H2(1-H2)", "W2", convention="column")
    assert r.diagnoses == [] and any("[1; H] stacks a 1 above it" in h for h in r.hints)


def test_the_result_prints_as_the_command_does(invoke):
    """``print(sn.check(...))`` in plain Python shows what ``scratchnet check`` prints; repr stays short."""
    result = check(SEED, "W2")
    shown = invoke("check", "--wrt", "W2", SEED).stdout
    assert str(result) == shown.rstrip("\n")
    assert "diagnoses: elementwise_product, bias_row" in str(result)
    assert len(repr(result)) < 200 and "shape_error" in repr(result)


def test_a_pasted_left_hand_side_that_contradicts_the_target_is_refused(invoke):
    pasted = r"\frac{\partial L}{\partial W_3} = [1\ H_2]^T(\hat{y}-y)"
    assert check(pasted).verdict == "correct" and check(pasted, "W3").verdict == "correct"
    with pytest.raises(ScratchnetError, match=r"left-hand side is ∂L/∂W3, but it is being checked as ∂L/∂W2"):
        check(pasted, "W2")
    with pytest.raises(ScratchnetError, match=r"checked as ∂H2/∂z2"):
        check(r"\frac{\partial z_3}{\partial H_2} = W_3[1:]^T", factor="dH2/dz2")
    assert_one_line_error(invoke("check", "--wrt", "W2", pasted), 2, "--wrt", "check it as ∂L/∂W3")

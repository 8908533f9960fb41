"""Repairs that real learners' formulas needed (tests/fixtures/mistakes/, issue 20), each shown on the
formula it was found with and on its variants in the other convention and bias notation: the diagnosis is
named, and the repaired formula is the gradient at B = 1 and at B = 4."""

import pytest

from scratchnet.derivation.check import check
from scratchnet.derivation.hints import hints

RELU = dict(sizes=(2, 3, 2), activations=("relu", "softmax"), bias="separate")


def _repaired_is_right(result, wrt, **net):
    """The repair is the gradient at B = 1 and at B = 4 (with the mean's 1/B, which a δ already carries)."""
    for B in (1, 4):
        formula = result.corrected if B == 1 or "delta" in result.corrected else f"({result.corrected}) / B"
        assert check(formula, wrt, batch=B, **net).verdict == "correct", (B, result.corrected)


def test_a_product_read_as_the_hadamard_product_it_stands_for_is_named_even_if_it_fits_at_another_batch():
    """``(W2ᵀ δ) relu′(z1) xᵀ``: at B = 1 the 3×1 by 3×1 product can only be ⊙, but at B = 3 the 3×3 by 3×3
    product would fit as a matrix product. The repair is the ⊙ made explicit, which holds at every B
    (before, the check asked the unrepaired product to hold at B = 3 and fell back on inserting and removing
    a σ′ factor, diagnosing activation_derivative)."""
    net = dict(RELU, convention="column")
    result = check("(W2^T (yhat - y)) relu'(z1) x^T", "W1", **net)
    assert (result.verdict, result.diagnoses) == ("shape_error", ["elementwise_product"]), result.message
    assert result.corrected == "((W2^T (yhat - y)) * relu'(z1)) x^T"
    _repaired_is_right(result, "W1", **net)


def test_a_chain_written_as_the_jacobians_came_is_turned_around_and_given_its_hadamard_product():
    """The Cross Validated learner's ``δ3 W3 (1,1,1)ᵀ a1ᵀ`` in columns: W2ᵀ δ first, then ⊙, then xᵀ."""
    net = dict(RELU, convention="column")
    result = check("(yhat - y) W2 relu'(z1) x^T", "W1", **net)
    assert (result.verdict, result.diagnoses) == ("shape_error", ["elementwise_product", "factor_order"])
    assert result.corrected == "((W2^T (yhat - y)) * relu'(z1)) x^T"
    assert "W_lᵀ δ_l" in result.hints[result.diagnoses.index("factor_order")]
    _repaired_is_right(result, "W1", **net)


@pytest.mark.parametrize("convention, bias, formula, carried", [
    ("column", "separate", "(yhat - y) * H1 * (1 - H1)", "W2^T (yhat - y)"),
    ("row", "separate", "(yhat - y) * H1 * (1 - H1)", "(yhat - y) W2^T"),
    ("column", "row", "(yhat - y) * H1 * (1 - H1)", "W2[:, 1:]^T (yhat - y)"),
    ("row", "row", "(yhat - y) * H1 * (1 - H1)", "(yhat - y) W2[1:]^T"),
    ("column", "separate", "-(y - yhat) * sigmoid'(z1)", "W2^T"),
])
def test_the_output_error_used_for_a_hidden_layer_is_carried_back_through_the_weights(convention, bias, formula,
                                                                                   carried):
    """Stack Overflow 46395467: ``delta_hidden = error * sigmoid(hidden, True)``, the output's error where
    the hidden layer's (``W2ᵀ error``, computed a line above) belongs: ``wrong_layer``, repaired by
    carrying it back through W2 (W2's bias row or column left out in the bias-row notation)."""
    net = dict(sizes=(2, 3, 2), activations=("sigmoid", "softmax"), convention=convention, bias=bias)
    result = check(formula, "z1", **net)
    assert result.diagnoses == ["wrong_layer"], result.message
    assert carried in result.corrected
    _repaired_is_right(result, "z1", **net)


def test_the_output_error_is_not_carried_back_where_it_already_was():
    """A right δ1 stays correct, and one with the transpose left out is not 'repaired' by a second W2."""
    net = dict(sizes=(2, 3, 2), activations=("sigmoid", "softmax"), convention="column", bias="separate")
    assert check("(W2^T (yhat - y)) * H1 * (1 - H1)", "z1", **net).verdict == "correct"
    wrong = check("(W2 (yhat - y)) * H1 * (1 - H1)", "z1", **dict(net, sizes=(2, 2, 2)))
    assert wrong.diagnoses == ["missing_transpose"], wrong.message


@pytest.mark.parametrize("convention, outer, back", [("row", "H_(l-1)ᵀ δ_l", "δ_l W_lᵀ"),
                                                     ("column", "δ_l H_(l-1)ᵀ", "W_lᵀ δ_l")])
def test_the_factor_order_hint_names_both_products_in_the_convention_in_use(convention, outer, back):
    text = hints("factor_order", "∂L/∂W1", convention, 1, 2, "separate")
    assert outer in text and back in text and f"{convention} convention" in text


@pytest.mark.parametrize("convention, formula, corrected", [
    ("column", "delta2 H1", "delta2 H1^T"),
    ("row", "H1 delta2", "H1^T delta2"),
    ("column", r"\frac{\partial J}{\partial W^{(2)}} = \delta^{(2)} H^{(1)}", "delta2 H1^T"),
])
def test_an_outer_product_with_its_transpose_left_out_is_named(convention, formula, corrected):
    """Mathematics Stack Exchange 2970202: 'the gradient of W h with respect to W should be h, right?'"""
    net = dict(sizes=(3, 4, 2), activations=("sigmoid", "softmax"), convention=convention, bias="separate")
    result = check(formula, "W2", **net)
    assert (result.verdict, result.diagnoses) == ("shape_error", ["missing_transpose"]), result.message
    assert result.corrected == corrected
    _repaired_is_right(result, "W2", **net)


def test_a_row_times_a_column_that_only_broadcasts_is_a_transpose_left_out():
    """Mathematics Stack Exchange 4036083: k_i = (k_{i+1}ᵀ W_i) ∘ f′(W_i z_{i−1}), the wrong layer's weights
    and a row where the column convention has a column; the ⊙-turned-matrix-product-read-as-⊙-again
    detour (matrix_product + elementwise_product) is not offered."""
    net = dict(sizes=(3, 4, 4, 2), activations=("sigmoid", "sigmoid", "softmax"), convention="column",
               bias="separate")
    result = check("(delta2^T W1) * sigmoid'(z1)", "z1", **net)
    assert (result.verdict, result.diagnoses) == ("shape_error", ["wrong_layer", "missing_transpose"])
    assert result.corrected == "(delta2^T W2)^T * sigma'(z1)"
    _repaired_is_right(result, "z1", **net)


@pytest.mark.parametrize("convention, formula", [
    ("row", "sigmoid(1 - sigmoid((yhat - y) W2^T / B))"),
    ("column", "sigmoid(1 - sigmoid(W2^T (yhat - y) / B))"),
    ("row", "sigmoid'(((yhat - y) / B) W2^T)"),
])
def test_a_function_wrapped_around_the_signal_is_the_signal_times_the_derivative(convention, formula):
    """GitHub yizt/numpy_neural_network #3: ``sigmoid_backward(next_dz) = σ(1 − σ(next_dz))``."""
    net = dict(sizes=(3, 4, 2), activations=("sigmoid", "softmax"), convention=convention, bias="separate",
               batch=4)
    result = check(formula, "z1", **net)
    assert (result.verdict, result.diagnoses) == ("wrong_value", ["activation_derivative"]), result.message
    assert result.corrected.endswith("* sigma'(z1)")
    assert check(result.corrected, "z1", **net).verdict == "correct"
    assert check(result.corrected, "z1", **dict(net, batch=1)).verdict == "correct"

"""The formula language: parsing, precedence, spellings, shapes, and errors that point at the character."""

import numpy as np
import pytest

from scratchnet.derivation.bindings import random_point
from scratchnet.derivation.evaluate import Environment, check_names, evaluate
from scratchnet.derivation.formula import BinOp, Concat, FormulaError, Slice, parse
from scratchnet.derivation.notation import render

SIZES, ACTS = (7, 5, 4, 6), ("sigmoid", "tanh", "softmax")


def env_for(convention="row", batch=1):
    point = random_point(SIZES, ACTS, batch, convention, np.random.default_rng(3))
    return Environment.from_point(point)


def value(formula, env):
    tree = parse(formula)
    check_names(tree, formula, env)
    ev = evaluate(tree, env, formula)
    assert ev.failure is None, ev.failure.message
    return ev.value


def test_juxtaposition_is_a_matrix_product_with_the_precedence_of_star():
    tree = parse("H2(1-H2)")
    assert isinstance(tree, BinOp) and tree.op == "matmul"
    tree = parse("a b * c")                                  # (a b) * c, as @ and * in Python
    assert tree.op == "mul" and tree.left.op == "matmul"
    tree = parse("a * b c")
    assert tree.op == "matmul" and tree.left.op == "mul"
    tree = parse("a - b c")
    assert tree.op == "-" and tree.right.op == "matmul"


def test_brackets_slices_and_transposes():
    tree = parse("[1 H1]^T")
    assert isinstance(tree.operand, Concat) and len(tree.operand.rows[0]) == 2
    assert len(parse("[1; H1]").rows) == 2
    assert parse("W3[1:]").items == (slice(1, None),)
    assert parse("W3[:, 1:]").items == (slice(None), slice(1, None))
    assert isinstance(parse("W3 [1 H2]"), BinOp)              # a space before [ : a product with a concat
    assert isinstance(parse("W3[1:]^T").operand, Slice)


@pytest.mark.parametrize("formula", [
    "[1 H1]^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2)) / B",
    "((W3[:, 1:]^T (yhat - y)) * tanh'(z2)) [1; H1]^T",
    "-(yhat - y) @ diag(sigma'(z2)) + 2 * H2^2",
    "[1 x]^T (y - softmax(z3)) / B",
])
def test_render_round_trips(formula):
    once = render(parse(formula))
    assert render(parse(once)) == once


@pytest.mark.parametrize("convention", ["row", "column"])
def test_unicode_spellings_mean_the_same(convention):
    env = env_for(convention, batch=3)
    ascii_ = value("((yhat - y) * tanh'(z3)) * 2 - y / B", env)
    unicode = value("((ŷ − y) ⊙ tanh′(z₃)) .* 2 - y/B", env)
    np.testing.assert_allclose(ascii_, unicode)
    np.testing.assert_allclose(value("W2.T", env), value("W₂ᵀ", env))
    np.testing.assert_allclose(value("W2^T", env), value("W_2^{T}", env))
    np.testing.assert_allclose(value("x", env), value("H0", env))


def test_shapes_in_both_conventions():
    row, col = env_for("row", 3), env_for("column", 3)
    assert value("[1 H1]", row).shape == (3, 6) and value("[1; H1]", col).shape == (6, 3)
    assert value("W3[1:]", row).shape == (4, 6) and value("W3[:, 1:]", col).shape == (6, 4)
    np.testing.assert_allclose(value("[1 H1] W2", row), value("z2", row))
    np.testing.assert_allclose(value("W2 [1; H1]", col), value("z2", col))
    np.testing.assert_allclose(value("sigma(z1)", row), value("H1", row))
    np.testing.assert_allclose(value("softmax(z3)", col), value("yhat", col))
    np.testing.assert_allclose(value("diag(H1[:1]) ", row), np.diag(value("H1", row)[0]))
    assert value("B", row) == 3


def test_the_first_shape_failure_is_reported_with_the_trace_before_it():
    env = env_for("row", 1)
    f = "[1 H1]^T (yhat - y) W3^T H2(1-H2)"
    ev = evaluate(parse(f), env, f)
    assert ev.value is None and ev.failure.text == "[1 H1]^T (yhat - y) W3^T H2"
    assert ev.failure.shapes == ((6, 5), (1, 4))
    assert [e.text for e in ev.trace][-2:] == ["[1 H1]^T (yhat - y) W3^T", "H2"]
    ev = evaluate(parse("H2(1-H2)"), env, "H2(1-H2)")
    assert ev.failure.elementwise_would_fit
    ev = evaluate(parse("H2(1-H2)"), env, "H2(1-H2)", auto_elementwise=True)
    assert ev.failure is None and len(ev.substituted) == 1


@pytest.mark.parametrize("formula, start, words", [
    ("[1 H1]^T (yhat - y", 18, "expected ')'"),
    ("[1 H1]^T (yhat - y) W3^T)", 24, "unmatched ')'"),
    ("W3^ H2", 2, "'^' must be followed"),
    ("H1 $ H2", 3, "unexpected character '$'"),
    ("[1 H1", 0, "'[' is never closed"),
    ("W3[1:", 5, "expected ']'"),
    ("g' W2", 1, "prime"),                 # g is not a name of the network: a derivative of what?
    ("H1 ' W2", 3, "prime"),               # a prime after a space transposes nothing
    ("sigma z2", 6, "needs its argument in parentheses"),
    ("", 0, "empty"),
    ("(yhat - ) y", 8, "missing operand"),
    ("W3[1.5:]", 3, "whole numbers"),
    ("H1 W2 +", 7, "ends too early"),
])
def test_parse_errors_point_at_the_character(formula, start, words):
    with pytest.raises(FormulaError) as info:
        parse(formula)
    e = info.value
    assert e.start == start, (e.start, e.message)
    assert words in e.message
    caret_line = str(e).splitlines()[-1]
    assert caret_line.index("^") == 2 + start               # two spaces of indent, then the caret


@pytest.mark.parametrize("formula, name, hint", [
    ("[1 H1]^T (yhat - y) W4^T", "W4", "W1…W3"),
    ("H3 W3", "H3", "yhat"),
    ("delta2 W2", "delta2", "--wrt z2"),
    ("q", "q", "this network has"),
])
def test_unknown_names_point_at_the_name(formula, name, hint):
    env = env_for()
    with pytest.raises(FormulaError) as info:
        check_names(parse(formula), formula, env)
    e = info.value
    assert formula[e.start:e.end] == name and repr(name) in e.message and hint in e.message


def test_f_prime_needs_a_hidden_layers_z():
    env = env_for()
    for formula, words in (("f'(H2)", "f'(z2)"), ("f'(z3)", "fused")):
        with pytest.raises(FormulaError, match=words.replace("(", r"\(").replace(")", r"\)")):
            check_names(parse(formula), formula, env)
    np.testing.assert_allclose(value("f'(z2)", env), value("tanh'(z2)", env))
    np.testing.assert_allclose(value("tanh'(z2)", env), value("1 - H2^2", env))
    np.testing.assert_allclose(value("f'(z1)", env), value("H1 * (1 - H1)", env))


def test_the_caret_counts_a_combining_mark_as_no_column():
    with pytest.raises(FormulaError) as info:
        parse("W̄3 $ H2")
    formula_line, caret_line = str(info.value).splitlines()[1:]
    assert caret_line.index("^") == 5 and formula_line.count(" ") - 2 == 2   # under '$', after "W̄3 "


@pytest.mark.parametrize("primed, plain", [
    ("H1' H1", "H1^T H1"),
    ("[1 H2]' (yhat - y)", "[1 H2]^T (yhat - y)"),
    ("(yhat - y)' [1 H2]", "(yhat - y)^T [1 H2]"),
    ("W3[1:]'", "W3[1:]^T"),
    ("sigma'(z2)'", "sigma'(z2)^T"),
])
def test_a_prime_is_a_transpose_where_nothing_else_can_be_meant(primed, plain):
    """Issue 20: MATLAB's ' after a name of the network or a closing bracket; after a function, σ′."""
    env = env_for(batch=3)
    np.testing.assert_array_equal(value(primed, env), value(plain, env))
    assert render(parse(primed), "formula") == render(parse(plain), "formula")

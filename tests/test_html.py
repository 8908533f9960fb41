"""Notebook HTML: check results, derivations and gradient checks render as escaped HTML tables."""

from types import SimpleNamespace

import numpy as np
import pytest

from scratchnet.derivation.check import check
from scratchnet.derivation.derive import derive
from scratchnet.derivation.formula import Name
from scratchnet.derivation.evaluate import shape_text
from scratchnet.derivation.html import check_html, derivation_html
from scratchnet.gradcheck import gradient_check
from scratchnet.html import escape, gradcheck_html, math
from scratchnet.network import Network


def test_a_check_shows_its_trace_verdict_and_diagnoses():
    result = check("[1 H1]^T (yhat - y) W3^T H2(1-H2)", wrt="W2")
    page = check_html(result)
    assert "shape error" in page and "<table" in page
    for entry in result.trace:
        if entry.text != "1":
            assert f"<code>{escape(entry.text)}</code>" in page
    assert "101×11" in page and "101×10" in page                # a trace shape and the true shape
    assert "background:#fff8c5" in page                        # the failing row is shaded
    for code in result.diagnoses:
        assert f"<strong>{code}</strong>" in page
    assert escape(result.corrected) in page


def test_a_correct_formula_renders_as_correct_with_its_math():
    page = check_html(check("[1 H1]^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2))", wrt="W2"))
    assert "correct" in page and "<math" in page


def test_user_text_is_escaped_everywhere():
    evil = "<script>alert(1)</script>"
    fake = SimpleNamespace(
        formula=evil, wrt="W2", factor=None, convention="row", batch=1, verdict="wrong_value", shape=(2, 2),
        expected_shape=(2, 2), message=evil, diagnoses=["sign"], hints=[evil], corrected=evil,
        derivation=None, failure=SimpleNamespace(text=evil, message=evil), jacobian_note=evil,
        trace=[SimpleNamespace(node=Name("W2"), text=evil, shape=(2, 2), note=evil)])
    page = check_html(fake)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_math_falls_back_to_escaped_code():
    page = math(r"\frac{<b>", fallback="<b>")                 # unbalanced: latex2mathml cannot read it
    assert "<b>" not in page
    assert "<math" in math(r"\frac{\partial L}{\partial W_{2}}")


def test_a_derivation_lists_every_step_with_shapes_and_checks():
    d = derive((4, 3, 2), ("sigmoid", "softmax"))
    page = derivation_html(d)
    assert page.count("<tr>") == len(d.steps) + 1
    assert "✓ finite differences agree" in page and "✗" not in page
    assert escape(d.architecture()) in page
    assert d._repr_html_() == page


def test_a_gradient_check_renders_its_table_and_verdict():
    net = Network((5, 4, 3), ("sigmoid", "softmax"), rng=np.random.default_rng(0), dtype="float64")
    rng = np.random.default_rng(1)
    X, y = rng.uniform(size=(6, 5)), rng.integers(0, 3, size=6)
    report = gradient_check(net, X, y)
    page = gradcheck_html(report)
    assert "PASS" in page and page.count("<tr>") == len(report.layers) + 1
    assert "W1 6×4" in page and "W2 5×3" in page


@pytest.mark.parametrize("what", ["check", "gradcheck"])
def test_results_show_themselves_in_a_notebook(what):
    if what == "check":
        obj = check("[1 H2]^T (yhat - y)", wrt="W3")
        expected = check_html(obj)
    else:
        net = Network((3, 2, 2), ("sigmoid", "softmax"), rng=np.random.default_rng(0), dtype="float64")
        obj = gradient_check(net, np.full((2, 3), 0.5), np.array([0, 1]))
        expected = gradcheck_html(obj)
    assert obj._repr_html_() == expected


def test_the_chain_view_lists_each_factor_and_agrees_with_the_delta_form():
    from scratchnet.derivation.chain import chain
    from scratchnet.derivation.html import chain_html
    view = chain("W2", sizes=(5, 4, 3, 2), activations=("sigmoid", "tanh", "softmax"))
    page = chain_html(view)
    assert page.count("<tr>") == len(view.factors) + 1
    assert ">agree<" in page and "third-order tensor" in page
    for factor in view.factors:
        assert escape(shape_text(factor.shape)) in page
    assert view._repr_html_() == page

"""LaTeX input: pasted LaTeX reads as the plain formula language, and errors and the trace point into it."""

import numpy as np
import pytest

from scratchnet.derivation.bindings import random_point
from scratchnet.derivation.evaluate import Environment, check_names, evaluate
from scratchnet.derivation.formula import FormulaError, parse, walk
from scratchnet.derivation.latex import looks_like_latex, parse_any, to_plain
from scratchnet.derivation.notation import render

SEED_LATEX = r"[1\ H_1]^T(\hat{y}-y)W_3^TH_2(1-H_2)"
SEED_PLAIN = "[1 H1]^T (yhat - y) W3^T H2(1-H2)"


def same_tree(latex, plain):
    return render(parse_any(latex)) == render(parse(plain))


@pytest.mark.parametrize("latex, plain", [
    (SEED_LATEX, SEED_PLAIN),
    (r"$[1\ H_1]^T(\hat{y}-y)W_3^TH_2(1-H_2) \in \mathbb{R}^{101\times1}$", SEED_PLAIN),
    (r"\frac{\partial L}{\partial W_2} = [1\,H_{1}]^\top \left(\left((\hat y-y)W_3^{T}\right)\odot\sigma'(z_2)\right)",
     "[1 H1]^T (((yhat - y) W3^T) * sigma'(z2))"),
    (r"\frac{1}{B}[1\ H_1]^T \delta", "(1/B) [1 H1]^T delta"),
    (r"\operatorname{diag}(\hat{y}) - \hat{y}^\top\hat{y}", "diag(yhat) - yhat^T yhat"),
    (r"\begin{bmatrix}1 & H_1\end{bmatrix}^{\mathsf{T}}", "[1 H1]^T"),
    (r"\begin{bmatrix}1 \\ x\end{bmatrix}", "[1; x]"),
    (r"W^{[2]T} \delta^{(3)} \circ \sigma^{\prime}(z^{(2)})", "W2^T delta3 * sigma'(z2)"),
    (r"\mathbf{W}_3^T H_2H_1", "W3^T H2 H1"),
    (r"\text{ReLU}'(z_1) \cdot x", "relu'(z1) @ x"),
    (r"W_3[1:]^T", "W3[1:]^T"),
    (r"{H_1}^T\,(1-H_1)^2", "(H1)^T (1 - H1)^2"),
])
def test_latex_reads_as_the_plain_language(latex, plain):
    assert same_tree(latex, plain)


def test_the_seed_is_read_as_the_seed_meant_it():
    tree = parse_any(SEED_LATEX)
    # juxtaposition is a matrix product, left to right: (((([1 H1]^T (yhat-y)) W3^T) H2) (1-H2))
    assert tree.op == "matmul" and tree.left.op == "matmul"
    assert SEED_LATEX[tree.right.start:tree.right.end] == "(1-H_2)"


def test_node_spans_point_into_the_latex_the_user_typed():
    env = Environment.from_point(random_point((784, 100, 10, 10), ("sigmoid", "sigmoid", "softmax"), 1, "row",
                                              np.random.default_rng(0)))
    tree = parse_any(SEED_LATEX)
    check_names(tree, SEED_LATEX, env)
    ev = evaluate(tree, env, SEED_LATEX)
    texts = [entry.text for entry in ev.trace]
    assert r"[1\ H_1]^T" in texts and r"(\hat{y}-y)" in texts and "W_3^T" in texts
    assert ev.failure is not None and ev.failure.text == r"[1\ H_1]^T(\hat{y}-y)W_3^TH_2"


def test_an_unsupported_command_gets_a_caret_and_the_supported_list():
    with pytest.raises(FormulaError) as info:
        parse_any(r"[1\ H_1]^T \partial L")
    error = info.value
    assert r"\partial" in error.message and r"\odot" in error.message and r"\hat{y}" in error.message
    text = r"[1\ H_1]^T \partial L"
    assert (error.start, error.end) == (text.index("\\partial"), text.index("\\partial") + len("\\partial"))
    assert error.pointer().splitlines()[1].strip() == "^" * len("\\partial")


@pytest.mark.parametrize("text, bad", [
    (r"H_1^{-1}", "^{-1}"),
    (r"(\hat{y}-y", ""),
    (r"\hat{z}_2", r"\hat{z}"),
    (r"\sum_i H_1", r"\sum"),
])
def test_errors_point_into_the_original_text(text, bad):
    with pytest.raises(FormulaError) as info:
        parse_any(text)
    error = info.value
    assert error.formula == text
    if bad:
        assert text[error.start:error.end] == bad


def test_an_unknown_name_is_reported_in_the_users_spelling():
    env = Environment.from_point(random_point((5, 4, 3), ("sigmoid", "softmax"), 1, "row", np.random.default_rng(1)))
    text = r"W_{7}^T \hat{y}"
    tree = parse_any(text)
    with pytest.raises(FormulaError) as info:
        check_names(tree, text, env)
    assert "'W_{7}'" in info.value.message


def test_plain_formulas_stay_plain_and_latex_is_recognised():
    assert not looks_like_latex(SEED_PLAIN) and looks_like_latex(SEED_LATEX)
    assert render(parse_any(SEED_PLAIN)) == render(parse(SEED_PLAIN))
    assert render(parse_any("W_3^TH_2")) == "W3^T H2"          # plain would reject ^TH; LaTeX reads it


def test_the_left_hand_side_and_a_shape_claim_are_set_aside():
    t = to_plain(r"\frac{\partial L}{\partial W_2} = [1\ H_1]^T\delta_2 \in \mathbb{R}^{101\times 10}")
    assert t.derivative.name == "dL/dW2" and t.claimed_shape == (101, 10)
    assert t.plain.strip() == "[1 H1]ᵀdelta2"


def test_very_long_latex_is_refused_in_one_line():
    with pytest.raises(FormulaError, match="too long"):
        parse_any("\\hat{y}" * 1000)


def test_the_check_reads_the_seeds_latex_as_its_plain_spelling():
    from scratchnet.derivation.check import check
    plain, latex = check(SEED_PLAIN, wrt="W2"), check(SEED_LATEX, wrt="W2")
    assert (latex.verdict, latex.diagnoses) == (plain.verdict, plain.diagnoses) == \
        ("shape_error", ["elementwise_product", "bias_row", "regrouping"])
    assert latex.failure.text == r"[1\ H_1]^T(\hat{y}-y)W_3^TH_2"


def test_deep_nesting_is_refused_in_one_line():
    with pytest.raises(FormulaError, match="nested"):
        parse_any("{" * 1500 + "x" + "}" * 1500)


def test_random_latex_never_raises_anything_but_a_formula_error():
    from scratchnet.errors import ScratchnetError
    pieces = ["\\", "{", "}", "^", "_", "T", "H", "1", "W", "\\hat", "\\frac", "\\left", "\\right", "(", ")",
              "[", "]", " ", "\\ ", "\\odot", "\\sigma", "'", "$", "\\begin{bmatrix}", "\\end{bmatrix}", "&",
              "\\\\", "y", "\\top", "\\mathbf", "\\operatorname", "diag", ":", ",", "-", "=", "\\in",
              "\\mathbb{R}", "\\times", "\\delta", ".", "x", "B", "/", "ᵀ", "\\prime", "\\text", "\\big"]
    rng = np.random.default_rng(0)
    for _ in range(3000):
        text = "".join(rng.choice(pieces, size=rng.integers(1, 14)))
        try:
            tree = parse_any(text)
        except ScratchnetError as error:
            assert 0 <= error.start <= len(text)
            continue
        assert all(0 <= n.start <= n.end <= len(text) for n in walk(tree) if n.start >= 0)


def test_the_separate_bias_notation_reads_from_latex():
    from scratchnet.derivation.check import check
    text = r"\operatorname{sum}\left(\frac{\hat{y}-y}{B}\right)"
    result = check(text, wrt="b3", bias="separate", batch=4)
    assert result.verdict == "correct"
    assert result.trace[-1].text == text
    wrong = check(r"\frac{\hat{y}-y}{B}", wrt="b_3", bias="separate", batch=4)
    assert (wrong.verdict, wrong.diagnoses) == ("shape_error", ["batch_sum"])


@pytest.mark.parametrize("latex", [r"\bar{W}_3^T", r"\overline{W_3}^\top", r"\bar W_{3}^{T}"])
def test_a_barred_weight_matrix_is_the_matrix_without_its_bias(latex):
    assert to_plain(latex).plain == "Wbar3ᵀ"
    with pytest.raises(FormulaError, match="weight matrix"):
        parse_any(r"\bar{x}")


def test_a_pasted_left_hand_side_and_shape_claim_reach_the_check():
    from scratchnet.derivation.check import check
    bar = check(r"[1\ H_1]^T\left((\hat{y}-y)\bar{W}_3^T\odot\sigma'(z_2)\right)", wrt="W2")
    assert bar.verdict == "correct"
    pasted = check(r"$\frac{\partial L}{\partial W_2} = " + SEED_LATEX + r" \in \mathbb{R}^{101\times1}$")
    assert (pasted.wrt, pasted.verdict, pasted.diagnoses) == ("W2", "shape_error", ["elementwise_product", "bias_row", "regrouping"])
    assert "101×1" in pasted.message and "101×10" in pasted.message

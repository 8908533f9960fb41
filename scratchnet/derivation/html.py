"""HTML for notebooks: a checked formula and a derivation, as Jupyter shows them (``_repr_html_``).

* `check_html`: the verdict, the formula as math, the shape trace as a table (each subexpression in the
  learner's own notation, the failing one shaded), the diagnoses with their hints, the corrected formula;
* `derivation_html`: every forward and backward equation as math, with its shapes for one example and a
  batch and whether finite differences confirmed it.

User text is always escaped (`scratchnet.html.escape`); math goes through `scratchnet.html.math`.
"""

from ..html import badge, bullets, escape, math, table
from ..quantity import lookup
from ..quantity import parse as parse_name
from .evaluate import shape_text
from .formula import FormulaError, Num
from .latex import parse_any
from .notation import name_text, render


def _formula_math(text):
    """A formula (the learner's, in either language, or a corrected one or the derivation's) as MathML
    (parsed, then written as LaTeX), or as code if it does not parse."""
    try:
        tree = parse_any(text)
    except FormulaError:
        return f"<code>{escape(text)}</code>"
    return math(render(tree, "latex"), fallback=text)


def _target_latex(result):
    factor = getattr(result, "factor", None)
    return parse_name(factor if factor else f"dL/d{result.wrt}").text("latex")


def check_html(result):
    """A `CheckResult` (a gradient or a ``factor`` check) as HTML.

    Parameters
    ----------
    result : check.CheckResult

    Returns
    -------
    str
    """
    factor = getattr(result, "factor", None)
    what = "∂" + factor[1:].replace("/d", "/∂") if factor else f"∂L/∂{result.wrt}"
    head = (f"<p>{badge(result.verdict.replace('_', ' '), result.verdict)}: checking "
            f"{math(_target_latex(result), fallback=what)} = {_formula_math(result.formula)} "
            f"({escape(result.convention)} convention, batch B = {escape(result.batch)})</p>")
    rows, failing = [], None
    for entry in result.trace:
        if isinstance(entry.node, Num):
            continue
        rows.append((f"<code>{escape(entry.text)}</code>", shape_text(entry.shape), entry.note))
    failure = result.failure
    if failure is not None:
        failing = len(rows)
        rows.append((f"<code>{escape(failure.text)}</code>", "does not fit", failure.message))
    trace = table(("subexpression", "shape", "note"), rows, raw_columns=(0,), highlight=failing) if rows else ""
    gives = (f"The formula gives {escape(shape_text(result.shape))}" if result.shape is not None
             else "The formula has no shape (an operation's shapes do not fit)")
    shapes = f"<p>{gives}; the true {escape(what)} is {escape(shape_text(result.expected_shape))}.</p>"
    parts = [head, trace, shapes, f"<p>{escape(result.message)}</p>"]
    note = getattr(result, "jacobian_note", None)
    if note:
        parts.append(f"<p><em>{escape(note)}</em></p>")
    if result.diagnoses:
        items = [f"<strong>{escape(code)}</strong>: {escape(hint)}"
                 for code, hint in zip(result.diagnoses, result.hints or [""] * len(result.diagnoses))]
        parts.append("<p>Diagnoses</p>" + bullets(items, raw=True))
    if result.corrected:
        parts.append(f"<p>Corrected: {_formula_math(result.corrected)} <code>{escape(result.corrected)}</code></p>")
    if result.derivation:
        parts.append(f"<p>From the derivation: {_formula_math(result.derivation)}</p>")
    return "<div>" + "".join(parts) + "</div>"


def _step_lhs(step):
    if lookup(step.name) is None and step.name.startswith("d"):          # dW3, db3: a gradient
        return parse_name("dL/" + step.name).text("latex")
    return name_text(step.name, "latex")


def _verified(step):
    if step.kind != "backward":
        return ""
    return "✓ finite differences agree" if step.verified else "✗ finite differences disagree"


def derivation_html(derivation):
    """A `Derivation` as HTML: one row per equation.

    Parameters
    ----------
    derivation : derive.Derivation

    Returns
    -------
    str
    """
    rows = []
    for step in derivation.steps:
        rhs = math(render(step.tree, "latex"), fallback=step.formula) if step.tree is not None \
            else f"<code>{escape(step.formula)}</code>"
        equation = f"{math(_step_lhs(step), fallback=step.name)} = {rhs}"
        one = shape_text(step.shape_one) if step.shape_one is not None else ""
        batch = shape_text(step.shape_batch) if step.shape_batch is not None else ""
        rows.append((escape(step.kind), equation, escape(one), escape(batch), escape(_verified(step)),
                     escape(", ".join(step.facts))))
    title = (f"<p>Derivation for {escape(derivation.architecture())} ({escape(derivation.convention)} convention, "
             f"bias {escape(getattr(derivation, 'bias', 'row'))}); shapes for one example and for a batch of "
             f"B = {escape(derivation.symbolic_batch)}: "
             f"{badge('verified', 'correct') if derivation.verified else badge('not verified', 'fail')}</p>")
    header = ("", "equation", "shape (B = 1)", "shape (batch)", "check", "why")
    return "<div>" + title + table(header, rows, raw_columns=(0, 1, 2, 3, 4, 5)) + "</div>"


def chain_html(view):
    """A `chain.ChainView` (``derive --chain W2``) as HTML: the learner's chain factor by factor, each
    Jacobian with its true shape, formula and finite-difference error, then the δ form and how far apart
    the two are.

    Parameters
    ----------
    view : chain.ChainView

    Returns
    -------
    str
    """
    rows = []
    for f in view.factors:
        formula = f.formula
        shown = _formula_math(formula) if f.J is not None else escape(formula)
        fd = f"{f.fd_error:.1e}" if f.fd_error is not None else "not measured"
        rows.append((math(_factor_latex(f), fallback=f.symbol()), escape(shape_text(f.shape)), shown,
                     escape(fd), escape(f.note)))
    target = math(rf"\frac{{\partial L}}{{\partial {name_text(view.wrt, 'latex')}}}", fallback=f"dL/d{view.wrt}")
    verdict = badge("agree", "correct") if view.agrees else badge("disagree", "fail")
    table_html = table(("factor", "true shape", "formula", "finite differences", "note"), rows,
                       raw_columns=(0, 1, 2, 3, 4))
    return (f"<div><p>The chain for {target} at one random example ({escape(view.convention)} convention, "
            f"bias {escape(view.bias)}), read left to right:</p>{table_html}"
            f"<p>The δ form the code uses: {_formula_math(view.delta_form)}. The chain and the δ form "
            f"{verdict}: they differ by {view.difference_delta_form:.1e}, and the chain and the network's "
            f"backward pass by {view.difference_backward:.1e}.</p>"
            + bullets(list(getattr(view, "notes", []))) + "</div>")


def _factor_latex(factor):
    top = "L" if factor.numerator == "L" else name_text(factor.numerator, "latex")
    return rf"\frac{{\partial {top}}}{{\partial {name_text(factor.denominator, 'latex')}}}"

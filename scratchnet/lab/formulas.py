"""Formulas and the derivation as MathML for the page (browsers render MathML natively, offline).

The LaTeX comes from the derivation package's own renderers (`scratchnet.derivation.render.step_latex`,
`notation.render`), the same text ``scratchnet derive --format markdown`` prints, and so do the
explanations (`render.facts`); latex2mathml turns the LaTeX into MathML here, on the server, so the page
needs no math library.
"""

from functools import lru_cache

from latex2mathml.converter import convert

from ..derivation import derive
from ..derivation.formula import parse
from ..derivation.notation import render
from ..derivation.render import facts, step_latex


def mathml(latex, display="inline"):
    """MathML ``<math>`` markup of a LaTeX formula."""
    return convert(latex, display=display)


def _parse(formula):
    try:
        from ..derivation.latex import parse_any          # LaTeX input too, when the parser has it
    except ImportError:
        return parse(formula)
    return parse_any(formula)


def formula_mathml(formula):
    """MathML of a formula in the formula language (or LaTeX); raises `FormulaError` if unparsable."""
    return mathml(render(_parse(formula), "latex"))


def _shape(shape, symbolic):
    return " × ".join("B" if d == symbolic else str(d) for d in shape)


@lru_cache(maxsize=8)
def derivation(sizes, activations, convention="row"):
    """Every step of `scratchnet.derivation.derive` for a network, as JSON for the page.

    Returns ``{"architecture", "convention", "verified", "steps": [{"kind", "name", "formula",
    "latex", "mathml", "shape_one", "shape_batch", "facts", "verified"}]}``: ``shape_one`` for one
    example, ``shape_batch`` with ``B`` rows, ``facts`` the explanations `scratchnet derive` prints under
    the step (``[{"key", "text"}]``).
    """
    d = derive(tuple(sizes), tuple(activations), convention=convention, batch=4, seed=0)
    words = facts(convention)
    steps = []
    for s in d.steps:
        latex = step_latex(s)
        steps.append({"kind": s.kind, "name": s.name, "formula": s.formula, "latex": latex,
                      "mathml": mathml(latex), "shape_one": _shape(s.shape_one, None),
                      "shape_batch": _shape(s.shape_batch, d.symbolic_batch),
                      "facts": [{"key": f, "text": words[f][0]} for f in s.facts],
                      "verified": s.verified if s.kind == "backward" else None})
    return {"architecture": d.architecture(), "convention": convention, "verified": d.verified,
            "steps": steps}

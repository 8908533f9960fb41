"""Formulas and the derivation as MathML for the page (browsers render MathML natively, offline).

The LaTeX comes from the derivation package's own renderer (`scratchnet.derivation.notation.render`),
the same text ``scratchnet derive --format markdown`` prints; latex2mathml turns it into MathML here, on
the server, so the page needs no math library.
"""

from functools import lru_cache

from latex2mathml.converter import convert

from ..derivation import derive
from ..derivation.formula import parse
from ..derivation.notation import name_text, render


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


def _lhs(name):
    """The left-hand side of a derivation step, in LaTeX: ``z_{1}``, ``\\delta_{3} = ∂L/∂z_3``, ``∂L/∂W_3``."""
    if name.startswith("delta"):
        return rf"{name_text(name, 'latex')} = \frac{{\partial L}}{{\partial z_{{{name[5:]}}}}}"
    if name.startswith("dW") or name.startswith("dH"):
        return rf"\frac{{\partial L}}{{\partial {name_text(name[1:], 'latex')}}}"
    return name_text(name, "latex")


def _shape(shape, symbolic):
    return " × ".join("B" if d == symbolic else str(d) for d in shape)


@lru_cache(maxsize=8)
def derivation(sizes, activations, convention="row"):
    """Every step of `scratchnet.derivation.derive` for a network, as JSON for the page.

    Returns ``{"architecture", "convention", "verified", "steps": [{"kind", "name", "formula",
    "latex", "mathml", "shape_one", "shape_batch", "facts", "verified"}]}``: ``shape_one`` for one
    example, ``shape_batch`` with ``B`` rows.
    """
    d = derive(tuple(sizes), tuple(activations), convention=convention, batch=4, seed=0)
    steps = []
    for s in d.steps:
        latex = f"{_lhs(s.name)} = {render(s.tree, 'latex')}"
        steps.append({"kind": s.kind, "name": s.name, "formula": s.formula, "latex": latex,
                      "mathml": mathml(latex), "shape_one": _shape(s.shape_one, None),
                      "shape_batch": _shape(s.shape_batch, d.symbolic_batch), "facts": list(s.facts),
                      "verified": s.verified if s.kind == "backward" else None})
    return {"architecture": d.architecture(), "convention": convention, "verified": d.verified,
            "steps": steps}

"""Formulas and the derivation as MathML for the page (browsers render MathML natively, offline).

The LaTeX comes from the derivation package's own renderers (`scratchnet.derivation.render.step_latex`,
`notation.render`), the same text ``scratchnet derive --format markdown`` prints, and so do the
explanations (`render.facts`); latex2mathml turns the LaTeX into MathML here, on the server, so the page
needs no math library.
"""

import re
from functools import lru_cache

from latex2mathml.converter import convert

from ..derivation import derive
from ..derivation.formula import parse
from ..derivation.notation import render
from ..derivation.render import facts, step_latex
from ..html import escape
from . import explain

_PRIME = re.compile(r"<msup>(<mi>[^<]*</mi>)(?:<mrow>)?<mi>&#x02032;</mi>(?:</mrow>)?</msup>")


def _attached_prime(markup):
    """``σ′`` as one identifier: latex2mathml writes a prime as a superscript ′ over σ, which browsers
    draw as a raised prime floating apart from the σ (the glyph is a superscript already)."""
    return _PRIME.sub(lambda m: m.group(1).replace("</mi>", "&#x02032;</mi>"), markup)


def mathml(latex, display="inline"):
    """MathML ``<math>`` markup of a LaTeX formula."""
    return _attached_prime(convert(latex, display=display))


def prose_html(text):
    """Text with ``$…$`` LaTeX pieces (as `scratchnet.derivation.render.facts` writes them) as HTML: the
    words escaped, each piece MathML."""
    parts = text.split("$")
    return "".join(mathml(part) if k % 2 else escape(part) for k, part in enumerate(parts))


_SUBSCRIPT = re.compile(r"_(?:\{([^{}]*)\}|\(([^()]*)\)|([A-Za-z0-9]+))")
_PRIME_TEXT = re.compile(r"(?<![A-Za-z])([σf])'")


def hint_html(text):
    """A hint of `scratchnet.derivation.hints` (plain text, as the command line prints it) as HTML for
    the page: ``W_l``, ``H_{l-1}``, ``n_(l-1)`` with real subscripts (``H<sub>l−1</sub>``), ``^T`` as ᵀ,
    ``σ'`` as σ′, and the minus sign −; nothing else changes."""
    def sub(m):
        inner = next(g for g in m.groups() if g is not None)
        return f"<sub>{inner.replace('-', '−')}</sub>"
    return _SUBSCRIPT.sub(sub, escape(_PRIME_TEXT.sub(r"\1′", text.replace("^T", "ᵀ"))))


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
    "latex", "mathml", "shape_one", "shape_batch", "facts", "verified"}], "pictures"}``: ``shape_one``
    for one example, ``shape_batch`` with ``B`` rows, ``facts`` the explanations `scratchnet derive`
    prints under the step (``[{"key", "text", "html"}]``, ``html`` with the math as MathML);
    ``pictures`` is `explain.pictures` with each ``"latex"`` caption also as ``"caption"`` MathML: what
    the page's grids and heat maps are, before any digit is drawn.
    """
    d = derive(tuple(sizes), tuple(activations), convention=convention, batch=4, seed=0)
    words = facts(convention)
    steps = []
    for s in d.steps:
        latex = step_latex(s)
        steps.append({"kind": s.kind, "name": s.name, "formula": s.formula, "latex": latex,
                      "mathml": mathml(latex), "shape_one": _shape(s.shape_one, None),
                      "shape_batch": _shape(s.shape_batch, d.symbolic_batch),
                      "facts": [{"key": f, "text": words[f][0], "html": prose_html(words[f][1])}
                                for f in s.facts],
                      "verified": s.verified if s.kind == "backward" else None})
    pictures = explain.pictures(tuple(sizes), tuple(activations))
    captioned = {key: ([_captioned(p) for p in value] if isinstance(value, list) else
                       _captioned(value) if isinstance(value, dict) else value)
                 for key, value in pictures.items()}
    return {"architecture": d.architecture(), "convention": convention, "verified": d.verified,
            "steps": steps, "pictures": captioned}


def _captioned(picture):
    return {**picture, "caption": mathml(picture["latex"])}

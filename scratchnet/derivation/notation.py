"""Write a syntax tree back out: as formula text (to show a corrected formula), as Unicode (terminal) or as
LaTeX (markdown and LaTeX documents).

Parentheses are added only where the grammar of `formula` needs them, so ``parse(to_formula(tree))``
gives the same tree.
"""

from ..activations import ACTIVATIONS
from ..quantity import Quantity, lookup
from .formula import BinOp, Call, Concat, Name, Neg, Num, Power, Slice, Transpose

_LEVEL = {"+": 1, "-": 1, "matmul": 2, "mul": 2, "/": 2}


def function_text(func, style):
    """A function's name (without prime) in ``style``: activations from `ACTIVATIONS` (``sigma``, ``σ``,
    ``\\sigma``), and ``diag``, ``sum``, ``f``."""
    if func in ACTIVATIONS:
        a = ACTIVATIONS[func]
        return {"formula": a.spelling, "unicode": a.symbol, "latex": a.latex}[style]
    if func in ("diag", "sum") and style == "latex":
        return rf"\operatorname{{{func}}}"
    return func


def level(node):
    """Binding strength: 1 sums, 2 products, 3 unary minus, 4 postfix, 5 atoms."""
    if isinstance(node, BinOp):
        return _LEVEL[node.op]
    if isinstance(node, Neg):
        return 3
    if isinstance(node, (Transpose, Power, Slice)):
        return 4
    return 5


def name_text(name, style):
    """One bound name in the given style (``formula``, ``unicode`` or ``latex``): a quantity's own spelling
    (`quantity.Quantity.text`), other names (``ones``, ``B``) as they are."""
    q = lookup(name)
    if q is None:
        return name
    if q.kind == "L":
        return "L"
    return q.text(style)


def _number(value):
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _slice_text(item):
    if isinstance(item, int):
        return str(item)
    return f"{'' if item.start is None else item.start}:{'' if item.stop is None else item.stop}"


def is_bias_slice(node):
    """True for ``W_l[1:]`` and ``W_l[:, 1:]``: a weight matrix without its bias row (column)."""
    if not (isinstance(node, Slice) and isinstance(node.operand, Name)):
        return False
    q = lookup(node.operand.name)
    if q is None or q.kind != "W":
        return False
    items = node.items
    drop = slice(1, None)
    return items == (drop,) or items == (slice(None, None), drop) or items == (drop, slice(None, None))


def render(node, style="formula"):
    """The tree as text in ``style``: ``formula`` (the input language), ``unicode`` or ``latex``."""
    return _render(node, style)


def _wrap(node, style, minimum):
    text = _render(node, style)
    if level(node) < minimum:
        return r"\left(" + text + r"\right)" if style == "latex" else f"({text})"
    return text


def _base(node, style, minimum):
    """The operand of a superscript; in LaTeX a superscript on a superscript (``W^\\top`` transposed again,
    ``H^2`` transposed) is braced, ``{W_{2}^\\top}^\\top``, since ``a^b^c`` is not LaTeX."""
    text = _wrap(node, style, minimum)
    if style == "latex" and isinstance(node, (Transpose, Power)):
        return "{" + text + "}"
    return text


def _render(node, style):
    if isinstance(node, Num):
        return _number(node.value)
    if isinstance(node, Name):
        return name_text(node.name, style)
    if isinstance(node, Neg):
        return "-" + _wrap(node.operand, style, 3) if style != "unicode" else "−" + _wrap(node.operand, style, 3)
    if isinstance(node, BinOp):
        lvl = _LEVEL[node.op]
        if node.op == "/" and style == "latex":
            return r"\frac{" + _render(node.left, style) + "}{" + _render(node.right, style) + "}"
        left = _wrap(node.left, style, lvl)
        if lvl == 2 and isinstance(node.left, BinOp) and node.left.op in ("matmul", "mul") \
                and node.op in ("matmul", "mul") and node.left.op != node.op:
            left = _wrap(node.left, style, 3)            # (a b) ⊙ c: keep the grouping visible
        right = _wrap(node.right, style, lvl + 1)
        if node.op in "+-":
            sign = "−" if node.op == "-" and style == "unicode" else node.op
            return f"{left} {sign} {right}"
        if node.op == "/":
            return f"{left}/{right}" if style == "unicode" else f"{left} / {right}"
        if node.op == "mul":
            return f"{left} {dict(formula='*', unicode='⊙', latex=chr(92) + 'odot')[style]} {right}"
        if style == "formula" and node.spelling == "@":
            return f"{left} @ {right}"
        return f"{left}\\, {right}" if style == "latex" else f"{left} {right}"
    if isinstance(node, Transpose):
        mark = dict(formula="^T", unicode="ᵀ", latex=r"^\top")[style]
        return _base(node.operand, style, 4) + mark
    if isinstance(node, Power):
        exp = _number(node.exponent)
        return _base(node.operand, style, 5) + (f"^{{{exp}}}" if style == "latex" else f"^{exp}")
    if isinstance(node, Slice):
        if style != "formula" and is_bias_slice(node):
            return Quantity("Wbar", lookup(node.operand.name).layer).text(style)
        items = ", ".join(_slice_text(item) for item in node.items)
        return f"{_wrap(node.operand, style, 5)}[{items}]"
    if isinstance(node, Concat):
        if style == "latex":
            rows = [r"\ ".join(_wrap(item, style, 3) for item in row) for row in node.rows]
            if len(rows) == 1:
                return "[" + rows[0] + "]"
            return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"
        return "[" + "; ".join(" ".join(_wrap(item, style, 3) for item in row) for row in node.rows) + "]"
    if isinstance(node, Call):
        base = node.func.rstrip("'")
        prime = "'" if node.func.endswith("'") else ""
        name = function_text(base, style)
        if prime and style == "unicode":
            prime = "′"
        arg = _render(node.arg, style)
        if style == "latex":
            return rf"{name}{prime}\left({arg}\right)"
        return f"{name}{prime}({arg})"
    raise TypeError(f"cannot render {type(node).__name__}")

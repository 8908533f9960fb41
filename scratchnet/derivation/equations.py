"""The backward equations as formulas in the formula language, for either convention.

With ``delta`` names they are the derivation's steps (``[1 H1]^T delta2``); expanded, they are the full
formula of any gradient, which `check` shows as the answer and the tests check as ``correct``.

Row convention (the seed's)::

    δ_L     = (ŷ − y) / B
    ∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l
    ∂L/∂H_l = δ_{l+1} W_{l+1}[1:]ᵀ
    δ_l     = (δ_{l+1} W_{l+1}[1:]ᵀ) ⊙ f_l'(z_l)

Column convention: ``δ_L = (ŷ − y)/B``, ``∂L/∂W_l = δ_l [1; H_{l-1}]ᵀ``,
``∂L/∂H_l = W_{l+1}[:, 1:]ᵀ δ_{l+1}``, ``δ_l = (W_{l+1}[:, 1:]ᵀ δ_{l+1}) ⊙ f_l'(z_l)``.

Separate bias (``bias="separate"``, ``z = H W + b`` or ``z = W h + b``): ``∂L/∂W_l = H_{l-1}ᵀ δ_l``
(column: ``δ_l H_{l-1}ᵀ``), ``∂L/∂b_l = sum(δ_l)`` (the sum over the batch axis), and ``W_l`` carries
the gradient back whole: ``∂L/∂H_l = δ_{l+1} W_{l+1}ᵀ`` (column: ``W_{l+1}ᵀ δ_{l+1}``).
"""

from ..activations import ACTIVATIONS
from ..quantity import lookup


def _h(l):
    return "x" if l == 0 else f"H{l}"


def derivative_factor(activations, l):
    """``f_l'(z_l)`` in the formula language, e.g. ``sigma'(z2)``."""
    return f"{ACTIVATIONS[activations[l - 1]].derivative_spelling}(z{l})"


def pre_activation(l, convention, bias="row"):
    """``z_l`` from ``H_{l-1}``: ``[1 H1] W2``, ``W2 [1; H1]``, ``H1 W2 + b2`` or ``W2 H1 + b2``."""
    h = _h(l - 1)
    if bias == "separate":
        return f"{h} W{l} + b{l}" if convention == "row" else f"W{l} {h} + b{l}"
    return f"[1 {h}] W{l}" if convention == "row" else f"W{l} [1; {h}]"


def delta_L():
    """``δ_L`` of the mean loss."""
    return "(yhat - y) / B"


def weight_gradient(l, delta, convention, bias="row"):
    """``∂L/∂W_l`` given the text of ``δ_l``."""
    h = _h(l - 1) if bias == "separate" else (f"[1 {_h(l - 1)}]" if convention == "row" else f"[1; {_h(l - 1)}]")
    return f"{h}^T {delta}" if convention == "row" else f"{delta} {h}^T"


def bias_gradient(l, delta):
    """``∂L/∂b_l`` given the text of ``δ_l``: the sum of ``δ_l`` over the batch (separate bias only)."""
    return f"sum({_unwrap(delta)})"


def _unwrap(text):
    """``(a (b) c)`` → ``a (b) c`` when the outer parentheses enclose the whole text."""
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for k, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth == 0 and k < len(text) - 1:
            return text
    return text[1:-1]


def input_gradient(l, delta, convention, bias="row"):
    """``∂L/∂H_{l-1}`` given the text of ``δ_l``: the bias row (column) of ``W_l`` is dropped."""
    W = f"W{l}" if bias == "separate" else (f"W{l}[1:]" if convention == "row" else f"W{l}[:, 1:]")
    return f"{delta} {W}^T" if convention == "row" else f"{W}^T {delta}"


def previous_delta(l, delta, convention, activations, bias="row"):
    """``δ_{l-1}`` given the text of ``δ_l``."""
    return f"({input_gradient(l, delta, convention, bias)}) * {derivative_factor(activations, l - 1)}"


def _wrap(text):
    return text if text.startswith("(") and text.endswith(")") and text.count("(") == 1 else f"({text})"


def gradient_formula(wrt, activations, convention="row", bias="row"):
    """The full formula of ``∂L/∂wrt`` (``W_l``, ``b_l``, ``z_l`` or ``H_l``) with every δ written out,
    and the ``1/B`` of the mean loss at the end.

    >>> gradient_formula("W2", ["sigmoid", "sigmoid", "softmax"])
    "[1 H1]^T (((yhat - y) W3[1:]^T) * sigma'(z2)) / B"
    """
    L = len(activations)
    q = lookup(wrt)
    kind, l = q.kind, q.layer
    target = l if kind != "H" else l + 1
    delta = "(yhat - y)"
    for k in range(L, target, -1):
        delta = f"({previous_delta(k, delta, convention, activations, bias)})"
    if kind == "W":
        delta = weight_gradient(l, delta, convention, bias)
    elif kind == "b":
        delta = bias_gradient(l, delta)
    elif kind == "H":
        delta = input_gradient(l + 1, delta, convention, bias)
    elif delta.startswith("((") or target == L:
        delta = delta[1:-1] if target != L else delta
    return f"{delta} / B"

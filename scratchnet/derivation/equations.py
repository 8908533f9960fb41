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
"""

_DERIVATIVE = {"sigmoid": "sigma'", "tanh": "tanh'", "relu": "relu'"}


def _h(l):
    return "x" if l == 0 else f"H{l}"


def derivative_factor(activations, l):
    """``f_l'(z_l)`` in the formula language, e.g. ``sigma'(z2)``."""
    return f"{_DERIVATIVE[activations[l - 1]]}(z{l})"


def delta_L():
    """``δ_L`` of the mean loss."""
    return "(yhat - y) / B"


def weight_gradient(l, delta, convention):
    """``∂L/∂W_l`` given the text of ``δ_l``."""
    if convention == "row":
        return f"[1 {_h(l - 1)}]^T {delta}"
    return f"{delta} [1; {_h(l - 1)}]^T"


def input_gradient(l, delta, convention):
    """``∂L/∂H_{l-1}`` given the text of ``δ_l``: the bias row (column) of ``W_l`` is dropped."""
    if convention == "row":
        return f"{delta} W{l}[1:]^T"
    return f"W{l}[:, 1:]^T {delta}"


def previous_delta(l, delta, convention, activations):
    """``δ_{l-1}`` given the text of ``δ_l``."""
    return f"({input_gradient(l, delta, convention)}) * {derivative_factor(activations, l - 1)}"


def _wrap(text):
    return text if text.startswith("(") and text.endswith(")") and text.count("(") == 1 else f"({text})"


def gradient_formula(wrt, activations, convention="row"):
    """The full formula of ``∂L/∂wrt`` (``W_l``, ``z_l`` or ``H_l``) with every δ written out, and the
    ``1/B`` of the mean loss at the end.

    >>> gradient_formula("W2", ["sigmoid", "sigmoid", "softmax"])
    "[1 H1]^T (((yhat - y) W3[1:]^T) * sigma'(z2)) / B"
    """
    L = len(activations)
    kind, l = wrt[0], int(wrt[1:])
    target = l if kind != "H" else l + 1
    delta = "(yhat - y)"
    for k in range(L, target, -1):
        delta = f"({previous_delta(k, delta, convention, activations)})"
    if kind == "W":
        delta = weight_gradient(l, delta, convention)
    elif kind == "H":
        delta = input_gradient(l + 1, delta, convention)
    elif delta.startswith("((") or target == L:
        delta = delta[1:-1] if target != L else delta
    return f"{delta} / B"

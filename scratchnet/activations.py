"""Activation functions and their derivatives.

Small pure functions, in the style of scikit-learn's `_base.py`, gathered in one table
``ACTIVATIONS[name]`` (an `Activation` record: names, symbol, spellings, LaTeX, function, derivative):

* ``ACTIVATIONS[name].function(z, out=None) -> H`` computes ``H = f(z)`` elementwise. ``z`` and ``H``
  are ``(B, n)``; ``out`` may be ``z`` itself (the forward pass overwrites ``z`` with ``H``).
* ``ACTIVATIONS[name].derivative(H, delta)`` multiplies ``delta`` in place by ``f'(z)``, written from the
  layer's *output* ``H`` (so ``z`` need not be kept): ``σ'(z) = H (1 - H)``, ``tanh'(z) = 1 - H²``,
  ``relu'(z) = [H > 0]``. ``H`` and ``delta`` are ``(B, n)``.

Because ``f`` acts elementwise, its Jacobian ``∂H/∂z`` is diagonal, and multiplying a row vector by a
diagonal matrix is the same as an elementwise (Hadamard) product: that is why the backward pass
writes ``delta * σ'(z)`` and never a matrix product with ``σ'(z)``.

``softmax`` is the output activation; its derivative is never applied on its own, because the
cross-entropy loss fuses with it into ``∂L/∂z = ŷ - y`` (see `losses.py`).
"""

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np


def sigmoid(z, out=None):
    """Logistic function ``σ(z) = 1 / (1 + e^{-z})``, in place and stable for any input.

    Only an exp, an add and a reciprocal, with no subtraction of nearly equal numbers, so every output
    keeps full relative precision, tiny ones included. For very negative ``z`` (below about -88 in
    float32, -709 in float64) ``e^{-z}`` overflows to ``inf`` and ``1 / (1 + inf) = 0`` is the correct
    limit, so that one overflow is expected and not reported.

    Parameters
    ----------
    z : ndarray (B, n)
    out : ndarray (B, n), optional (may be ``z``)

    Returns
    -------
    H : ndarray (B, n), values in [0, 1]
    """
    with np.errstate(over="ignore"):
        out = np.negative(z, out=out)
        np.exp(out, out=out)
        out += 1
        return np.reciprocal(out, out=out)


def tanh(z, out=None):
    """Hyperbolic tangent. ``z (B, n) -> H (B, n)``, values in [-1, 1]."""
    return np.tanh(z, out=out)


def relu(z, out=None):
    """Rectified linear unit ``max(z, 0)``. ``z (B, n) -> H (B, n)``."""
    return np.maximum(z, 0, out=out)


def softmax(z, out=None):
    """Row-wise softmax ``ŷ_k = e^{z_k} / Σ_j e^{z_j}``, shifted by the row maximum so no exp overflows.

    Parameters
    ----------
    z : ndarray (B, K)
    out : ndarray (B, K), optional (may be ``z``)

    Returns
    -------
    yhat : ndarray (B, K), each row sums to 1
    """
    out = np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def sigmoid_derivative(H, delta):
    """``delta *= σ'(z) = H (1 - H)``. ``H, delta (B, n)``; returns ``delta``."""
    delta *= H
    delta *= 1 - H
    return delta


def tanh_derivative(H, delta):
    """``delta *= tanh'(z) = 1 - H²``. ``H, delta (B, n)``; returns ``delta``."""
    delta *= 1 - H * H
    return delta


def relu_derivative(H, delta):
    """``delta *= relu'(z) = [z > 0]``, read from ``H > 0``. ``H, delta (B, n)``; returns ``delta``."""
    delta[H <= 0] = 0
    return delta


@dataclass(frozen=True)
class Activation:
    """Everything scratchnet knows about one activation function, in one record.

    Attributes
    ----------
    name : str, the canonical name (``"sigmoid"``), used in model files and on the command line
    symbol : str, the short Unicode name (``"σ"``) used by ``Network.__repr__`` and the derivation
    spelling : str, how a formula writes it (``"sigma"``); the derivative is ``spelling + "'"``
    spellings : tuple of str, every name the formula language accepts for it
    latex : str, its LaTeX command (``\\sigma``)
    function : ``f(z, out=None) -> H``, elementwise (row-wise for softmax), ``(B, n) -> (B, n)``
    derivative : ``f'(H, delta) -> delta``, multiplies ``delta (B, n)`` in place by ``f'(z)`` written
        from the output ``H (B, n)``; None for softmax, whose derivative only enters fused with the loss
    derivative_text : str, ``f'(z)`` written from the output, as a formula (``"H (1 - H)"``)
    """

    name: str
    symbol: str
    spelling: str
    spellings: tuple
    latex: str
    function: Callable
    derivative: Optional[Callable]
    derivative_text: str

    @property
    def derivative_spelling(self):
        """The derivative's name in the formula language, e.g. ``"sigma'"``."""
        return self.spelling + "'"


ACTIVATIONS = {a.name: a for a in (
    Activation("sigmoid", "σ", "sigma", ("sigma", "sigmoid", "σ"), r"\sigma", sigmoid, sigmoid_derivative,
               "H (1 - H)"),
    Activation("tanh", "tanh", "tanh", ("tanh",), r"\tanh", tanh, tanh_derivative, "1 - H²"),
    Activation("relu", "relu", "relu", ("relu",), r"\operatorname{relu}", relu, relu_derivative, "[H > 0]"),
    Activation("softmax", "softmax", "softmax", ("softmax",), r"\operatorname{softmax}", softmax, None,
               "diag(ŷ) - ŷᵀŷ"),
)}
"""The one table of activations: name → `Activation`. Every other module reads names, symbols,
spellings, LaTeX, functions and derivatives from here."""

HIDDEN = tuple(name for name, a in ACTIVATIONS.items() if a.derivative is not None)
"""Activations allowed on hidden layers."""

OUTPUTS = ("softmax",)
"""Activations allowed on the output layer (fused with cross-entropy)."""


def derivative_at(name, z):
    """``f'(z)`` for a hidden activation, evaluated from ``z`` (used by the derivation and checker).

    Parameters
    ----------
    name : str, one of `HIDDEN`
    z : ndarray (B, n)

    Returns
    -------
    ndarray (B, n)
    """
    a = ACTIVATIONS[name]
    return a.derivative(a.function(z), np.ones_like(z))

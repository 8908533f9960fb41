"""Activation functions and their derivatives.

Two registries of small pure functions, in the style of scikit-learn's `_base.py`:

* ``ACTIVATIONS[name](z, out=None) -> H`` computes ``H = f(z)`` elementwise. ``z`` and ``H`` are
  ``(B, n)``; ``out`` may be ``z`` itself (the forward pass overwrites ``z`` with ``H``).
* ``DERIVATIVES[name](H, delta)`` multiplies ``delta`` in place by ``f'(z)``, written from the
  layer's *output* ``H`` (so ``z`` need not be kept): ``σ'(z) = H (1 - H)``, ``tanh'(z) = 1 - H²``,
  ``relu'(z) = [H > 0]``. ``H`` and ``delta`` are ``(B, n)``.

Because ``f`` acts elementwise, its Jacobian ``∂H/∂z`` is diagonal, and multiplying a row vector by a
diagonal matrix is the same as an elementwise (Hadamard) product: that is why the backward pass
writes ``delta * σ'(z)`` and never a matrix product with ``σ'(z)``.

``softmax`` is the output activation; its derivative is never applied on its own, because the
cross-entropy loss fuses with it into ``∂L/∂z = ŷ - y`` (see `losses.py`).
"""

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


ACTIVATIONS = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "softmax": softmax}

DERIVATIVES = {"sigmoid": sigmoid_derivative, "tanh": tanh_derivative, "relu": relu_derivative}

HIDDEN = tuple(DERIVATIVES)
"""Activations allowed on hidden layers."""

OUTPUTS = ("softmax",)
"""Activations allowed on the output layer (fused with cross-entropy)."""

SYMBOLS = {"sigmoid": "σ", "tanh": "tanh", "relu": "relu", "softmax": "softmax"}
"""Short names used by ``Network.__repr__`` and the derivation."""


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
    return DERIVATIVES[name](ACTIVATIONS[name](z), np.ones_like(z))

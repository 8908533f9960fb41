"""The true gradient a formula is compared with, read from the network's own `Trace` of the pass in float64.

The loss is the **mean** cross-entropy over the batch, ``L = -(1/B) Σ_i Σ_k y_ik log ŷ_ik``, the loss the
network trains on. So every gradient carries the ``1/B`` of ``δ_L = (ŷ - y)/B``: a formula for a batch
of ``B > 1`` must divide by ``B`` somewhere (at ``B = 1`` the factor is 1).

* ``∂L/∂W_l`` is ``trace.dW[l]`` of `Network.trace`.
* ``∂L/∂z_l = δ_l (B, n_l)`` is ``trace.delta[l]``.
* ``∂L/∂H_l = δ_{l+1} W̄_{l+1}ᵀ (B, n_l)`` for ``l < L``: ``z_{l+1}`` is linear in ``H_l`` through the
  rows ``W_{l+1}[1:]``.
* In the separate-bias notation ``∂L/∂W_l`` is ``grads[l-1][1:]`` and ``∂L/∂b_l = grads[l-1][0]``
  ``(1, n_l)``: the sum of ``δ_l`` over the batch.

One backward pass of the point's batch gives all of them.
"""

import re

from ..errors import ScratchnetError
from .formula import canonical_name


def wrt_names(L, bias="row"):
    """The names a gradient may be taken with respect to, for ``L`` weight layers."""
    biases = [f"b{l}" for l in range(1, L + 1)] if bias == "separate" else []
    return [f"W{l}" for l in range(1, L + 1)] + biases + [f"z{l}" for l in range(1, L + 1)] + \
        [f"H{l}" for l in range(L)]


def parse_wrt(text, L, bias="row"):
    """Canonical name of what a gradient is taken with respect to (``W2``, ``b2``, ``z_3``, ``H1``,
    ``x``); raises `ScratchnetError` if unknown."""
    name = canonical_name(str(text).strip())
    if name not in wrt_names(L, bias):
        hint = ""
        if re.fullmatch(r"b\d+", name) and bias == "row":
            hint = "; the biases b1, b2, … are names of the separate-bias notation (bias separate)"
        elif re.fullmatch(r"[WzHb]\d+", name):
            hint = f"; this network has W1…W{L}, z1…z{L} and H0 (x) … H{L - 1}"
        elif name == "yhat":
            hint = "; the gradient with respect to the softmax input is the one with respect to z" + str(L)
        raise ScratchnetError(f"cannot take the gradient with respect to {text!r}{hint}", field="wrt")
    return name


def deltas(point):
    """``δ_l = ∂L/∂z_l`` of the mean loss for ``l = 1 … L``, row convention: a dict ``l → (B, n_l)``."""
    return point.network.trace(point.X, point.labels).delta


def true_gradient(point, wrt):
    """``∂L/∂wrt`` of the mean loss at ``point``, in the point's convention (shape of ``wrt`` there).

    Parameters
    ----------
    point : Point
    wrt : str, canonical name ``W_l``, ``b_l``, ``z_l`` or ``H_l`` (as `parse_wrt` gives it)

    Returns
    -------
    ndarray, shaped like the array bound to ``wrt``
    """
    kind, l = wrt[0], int(wrt[1:])
    if kind in "Wb":
        G = point.network.trace(point.X, point.labels).dW[l]
        if point.bias == "separate":
            G = G[1:] if kind == "W" else G[:1]
        return point.oriented(G.copy())
    d = deltas(point)
    if kind == "z":
        return point.oriented(d[l])
    if kind == "H" and l < point.L:
        return point.oriented(d[l + 1] @ point.weights[l][1:].T)
    raise ScratchnetError(f"cannot take the gradient with respect to {wrt!r}")

"""How close the learner's gradient must be to the truth, derived as `gradient_check`'s tolerances are.

Here both sides are exact formulas evaluated in floating point (no finite difference, so no truncation
error): the learner's numbers differ from the float64 truth only by the rounding of their own arithmetic.
An entry of ``∂L/∂W_l`` is a sum of products through the chain; its rounding error is at most a few
units of ``ε`` (the machine epsilon of the arrays they return, ``2.2e-16`` in float64) times the number
of terms times the size of the terms. Hence, for every entry, with gradient_check's constants::

    passes when  |a − t| ≤ max(atol_l, rtol · max(|a|, |t|))
    rtol   = max(RTOL, ATOL_ULPS · ε · √n)                     RTOL = 1e-6, ATOL_ULPS = 10
    atol_l = ATOL_ULPS · ε · n · S_l,   S_l = max |[1 H_{l-1}]|ᵀ |δ_l|

with ``n = max(n_l) + 1`` the longest sum of one product and ``S_l`` the largest sum of absolute terms
of layer ``l``'s own outer product. In float64 that is ``rtol = 1e-6`` (gradient_check's, 1000 times
below an error of 0.1 %) and ``atol`` near ``1e-12 · S_l``: a gradient 2 % off is wrong, however it
came about. A learner computing in float32 gets ``ε = 1.2e-7`` (``rtol`` 3e-5 for the seed network).

The forward pass (`forward_tolerances`) is judged the same way. ``z_l = [1 H_{l-1}] W_l`` is a sum of
``m = n_{l-1} + 1`` products and rounds by at most ``m · ε · T_l`` (``T_l = max |[1 H_{l-1}]| |W_l|``, the
largest sum of absolute terms); the error the learner's own ``H_{l-1}`` already carries reaches ``z_l``
multiplied by at most ``C_l = max_j Σ_i |W_l[1:]|_ij``; and ``f_l`` passes an error in ``z`` on times at
most its largest slope ``s_l`` (`SLOPES`: σ 1/4, tanh and relu 1, softmax 1/2, whose rows of absolute
Jacobian sum to ``2ŷ_k(1 − ŷ_k)``). Its own rounding is relative, a few ``ε``, within ``rtol``. Hence::

    atol_l = s_l · (ATOL_ULPS · ε · m · T_l + C_l · atol_{l-1}),   atol_0 = 0

with the same ``rtol``: in float64 an activation 0.1 % off is wrong. A forward pass computed in float32
is judged far more loosely (``atol`` about 1e-2 at the seed's ŷ), since worst-case float32 rounding
through 785 inputs may come that close.
"""

from dataclasses import dataclass

import numpy as np

from ..gradcheck import ATOL_ULPS, RTOL


@dataclass(frozen=True)
class Tolerance:
    """``rtol`` and ``atol`` for one layer's gradient or activation (see the module docstring)."""

    rtol: float
    atol: float

    def to_json(self):
        return {"rtol": self.rtol, "atol": self.atol}


def tolerances(fwd, deltas, eps):
    """``{l: Tolerance}`` for the true ``δ_l`` (``deltas``) and the learner's machine epsilon ``eps``."""
    n = max(fwd.spec.sizes) + 1
    rtol = max(RTOL, ATOL_ULPS * eps * np.sqrt(n))
    return {l: Tolerance(rtol, float(ATOL_ULPS * eps * n * np.max(np.abs(fwd.one_H(l - 1)).T @ np.abs(d))))
            for l, d in deltas.items()}


SLOPES = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "softmax": 0.5, "linear": 1.0}
"""The largest factor by which each activation passes an error in ``z`` on (max-norm)."""


def forward_tolerances(fwd, eps):
    """``{l: Tolerance}`` for the learner's ``H_l (B, n_l)``, l = 1 … L (``H_L = ŷ``), at the true forward
    values ``fwd`` and the learner's machine epsilon ``eps`` (see the module docstring)."""
    rtol = max(RTOL, ATOL_ULPS * eps * np.sqrt(max(fwd.spec.sizes) + 1))
    out, atol = {}, 0.0
    for l in range(1, fwd.spec.L + 1):
        W = np.abs(fwd.Ws[l - 1])
        m = fwd.spec.sizes[l - 1] + 1
        terms = float(np.max(np.abs(fwd.one_H(l - 1)) @ W))
        atol = SLOPES[fwd.spec.activation(l)] * (ATOL_ULPS * eps * m * terms + float(np.max(W[1:].sum(axis=0))) * atol)
        out[l] = Tolerance(rtol, atol)
    return out


@dataclass(frozen=True)
class Comparison:
    """One layer's gradient against another: the largest ``|a − t|``, the largest relative error
    ``|a − t| / max(|a|, |t|, atol/rtol)``, its canonical entry ``worst``, whether every entry passed, and
    the relative error of the whole matrix ``‖a − t‖ / ‖t‖`` (the number cs231n's checks print)."""

    max_abs_error: float
    max_rel_error: float
    worst: tuple
    passed: bool
    norm_error: float = 0.0


def compare(a, t, tol, first_row=0):
    """Compare ``a`` with ``t`` (canonical, same shape) from row ``first_row`` on (1 without biases)."""
    a, t = a[first_row:], t[first_row:]
    diff = np.abs(a - t)
    size = np.maximum(np.abs(a), np.abs(t))
    rel = diff / np.maximum(size, tol.atol / tol.rtol)
    k = np.unravel_index(int(np.argmax(rel)), rel.shape)
    passed = bool(np.all(diff <= np.maximum(tol.atol, tol.rtol * size)))
    norm = float(np.linalg.norm(t))
    norm_error = float(np.linalg.norm(a - t)) / norm if norm > 0 else float(np.linalg.norm(a - t))
    return Comparison(float(np.max(diff)), float(np.max(rel)), (int(k[0]) + first_row, int(k[1])), passed,
                      norm_error)

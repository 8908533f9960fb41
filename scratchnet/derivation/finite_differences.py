"""Central finite differences of the mean loss, the independent check on every backward equation.

``∂L/∂a ≈ (L(a + ε) − L(a − ε)) / 2ε`` with ``ε = 1e-6`` in float64: the truncation error is
``O(ε²)`` and the rounding error about ``1e-16 · |L| / ε ≈ 1e-10``, so an equation that is right agrees
to about 1e-9 and one that is wrong is off by the size of the gradient itself.
"""

import numpy as np

from ..activations import ACTIVATIONS
from ..losses import cross_entropy
from .bindings import forward_from

EPS = 1e-6
MAX_ENTRIES = 400


def loss_at(point, wrt, value):
    """The mean loss with one quantity replaced, row convention.

    Parameters
    ----------
    point : Point
    wrt : str, ``W_l``, ``z_l`` or ``H_l`` (canonical)
    value : ndarray shaped like that quantity in the row convention

    Returns
    -------
    float
    """
    kind, l = wrt[0], int(wrt[1:])
    weights, acts = list(point.weights), point.activations
    if kind == "W":
        weights[l - 1] = value
        zs, _ = forward_from(weights, acts, point.H[l - 1], l)
    elif kind == "H":
        zs, _ = forward_from(weights, acts, value, l + 1)
    else:
        if l == point.L:
            return cross_entropy(value, point.labels)
        H = ACTIVATIONS[acts[l - 1]].function(value.copy())
        zs, _ = forward_from(weights, acts, H, l + 1)
    return cross_entropy(zs[point.L], point.labels)


def entries_to_check(shape, rng, limit=MAX_ENTRIES):
    """Indices to check: all of them up to ``limit``, else a random sample that includes row 0."""
    total = shape[0] * shape[1]
    if total <= limit:
        return [np.unravel_index(k, shape) for k in range(total)]
    flat = rng.choice(total, size=limit, replace=False)
    picks = [np.unravel_index(k, shape) for k in flat]
    bias = [(0, j) for j in rng.choice(shape[1], size=min(shape[1], limit // 10), replace=False)]
    return bias + picks[:limit - len(bias)]


def numerical_gradient(point, wrt, rng, limit=MAX_ENTRIES):
    """Central differences of the mean loss with respect to some entries of ``wrt``.

    Returns
    -------
    entries : list of (i, j) in the row convention
    values : ndarray (len(entries),)
    """
    kind, l = wrt[0], int(wrt[1:])
    base = {"W": lambda: point.weights[l - 1], "z": lambda: point.z[l], "H": lambda: point.H[l]}[kind]()
    A = np.array(base, dtype=np.float64)
    entries = entries_to_check(A.shape, rng, limit)
    values = np.empty(len(entries))
    for k, idx in enumerate(entries):
        keep = A[idx]
        A[idx] = keep + EPS
        up = loss_at(point, wrt, A)
        A[idx] = keep - EPS
        down = loss_at(point, wrt, A)
        A[idx] = keep
        values[k] = (up - down) / (2 * EPS)
    return entries, values


def compare(point, wrt, analytic, rng, limit=MAX_ENTRIES):
    """Measured error of an analytic gradient (in the point's convention) against finite differences.

    Returns
    -------
    dict with ``checked`` (entries compared), ``total`` (entries in all), ``max_abs_error`` and
    ``max_rel_error`` (the largest absolute error over the largest ``|∂L/∂·|`` checked)
    """
    G = analytic if point.convention == "row" else analytic.T
    entries, numeric = numerical_gradient(point, wrt, rng, limit)
    exact = np.array([G[idx] for idx in entries])
    err = float(np.max(np.abs(exact - numeric))) if len(entries) else 0.0
    scale = max(float(np.max(np.abs(numeric))), 1e-300)
    return {"checked": len(entries), "total": int(G.size), "max_abs_error": err, "max_rel_error": err / scale}

"""The derivation's independent check: central finite differences of the mean loss at a `Point`.

``∂L/∂a ≈ (L(a + ε) − L(a − ε)) / 2ε`` (`scratchnet.finite_differences`, ``ε = 1e-6`` in float64): the
truncation error is ``O(ε²)`` and the rounding error about ``1e-16 · |L| / ε ≈ 1e-10``, so an equation
that is right agrees to about 1e-9 and one that is wrong is off by the size of the gradient itself.

The loss is recomputed with the network's own forward pass, `Network.forward`, from the layer
where the perturbed quantity enters.
"""

import numpy as np

from ..activations import ACTIVATIONS
from ..finite_differences import numerical_gradient, sample_entries
from ..losses import cross_entropy
from ..quantity import lookup

LIMIT = 400
"""Matrices with at most this many entries are checked in full; larger ones on a sample of this size
(plus the bias row of a weight matrix)."""


def perturbable(point, wrt):
    """The row-convention array that finite differences perturb for ``wrt``, and the loss it feeds.

    A weight matrix (or, in the separate-bias notation, its bias-free rows ``W_l[1:]`` or its bias row
    ``b_l = W_l[0]``) is a view into the network's own weights, perturbed in place and restored; ``z_l``
    and ``H_l`` are fresh copies.

    Returns
    -------
    A : ndarray, row convention
    loss : callable () → float, the mean loss with ``A`` as it stands
    """
    q = lookup(wrt)
    kind, l = q.kind, q.layer
    net, labels, L = point.network, point.labels, point.L
    if kind in "Wb":
        W = net.weights[l - 1]
        A = W if kind == "W" and point.bias == "row" else (W[1:] if kind == "W" else W[:1])
        H = point.H[l - 1]
        return A, lambda: cross_entropy(net.forward(H, start=l).z[L], labels)
    A = np.array(point.z[l] if kind == "z" else point.H[l], dtype=np.float64)
    if kind == "z" and l == L:
        return A, lambda: cross_entropy(A, labels)
    if kind == "z":
        f = ACTIVATIONS[point.activations[l - 1]].function
        return A, lambda: cross_entropy(net.forward(f(A.copy()), start=l + 1).z[L], labels)
    return A, lambda: cross_entropy(net.forward(A, start=l + 1).z[L], labels)


def compare(point, wrt, analytic, rng, limit=LIMIT):
    """Measured error of an analytic gradient (in the point's convention) against finite differences.

    Parameters
    ----------
    point : Point
    wrt : str, canonical ``W_l``, ``b_l``, ``z_l`` or ``H_l``
    analytic : ndarray shaped like ``wrt`` in the point's convention
    rng : numpy.random.Generator, draws the sample of a large matrix

    Returns
    -------
    dict with ``checked`` (entries compared), ``total`` (entries in all), ``max_abs_error`` and
    ``max_rel_error`` (the largest absolute error over the largest ``|∂L/∂·|`` checked)
    """
    G = point.to_row(analytic)
    A, loss = perturbable(point, wrt)
    flat = sample_entries(A.shape, limit, limit, rng, bias_row=lookup(wrt).kind == "W" and point.bias == "row")
    numeric = numerical_gradient(loss, A, flat)
    exact = G.ravel()[flat]
    err = float(np.max(np.abs(exact - numeric))) if len(flat) else 0.0
    scale = max(float(np.max(np.abs(numeric))), 1e-300)
    return {"checked": len(flat), "total": int(G.size), "max_abs_error": err, "max_rel_error": err / scale}

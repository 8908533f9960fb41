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

from ..errors import ScratchnetError
from ..quantity import lookup


def deltas(point):
    """``δ_l = ∂L/∂z_l`` of the mean loss for ``l = 1 … L``, row convention: a dict ``l → (B, n_l)``."""
    return point.network.trace(point.X, point.labels).delta


def true_gradient(point, wrt):
    """``∂L/∂wrt`` of the mean loss at ``point``, in the point's convention (shape of ``wrt`` there).

    Parameters
    ----------
    point : Point
    wrt : str, canonical name ``W_l``, ``b_l``, ``z_l`` or ``H_l`` (as `quantity.wrt` gives it)

    Returns
    -------
    ndarray, shaped like the array bound to ``wrt``
    """
    q = lookup(wrt)
    kind, l = q.kind, q.layer
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

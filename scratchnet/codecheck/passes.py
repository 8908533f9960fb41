"""The forward pass at the point, and the backward pass in float64 with (or without) known mistakes.

The forward values are the network's own (`Network.trace` in float64, hidden layers and ``z_L``); the
output and ``δ_L`` follow the loss. For the cross-entropy loss the **truth** is the trace itself: its
``δ_l`` and ``∂L/∂W_l``. For the mean squared error (which `Network` does not have) the truth is
`backward` without mistakes, which the tests hold against finite differences.

`backward` is the seed's backward pass, written so that any step can be replaced by a known mistake
(see `mistakes`); a mistake's site is ``("delta", l)`` (how ``δ_l`` is computed, which spoils every
layer below) or ``("dW", l)`` (how ``∂L/∂W_l`` is computed from ``δ_l``, which spoils that layer only)::

    δ_L     = (ŷ − y) / B                     (ce)      (ŷ − y) ⊙ f'(z_L) / B     (mse)
    ∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l                                    (n_{l-1}+1, n_l)
    δ_{l-1} = (δ_l W_l[1:]ᵀ) ⊙ f'(z_{l-1})                        (B, n_{l-1})
"""

from dataclasses import dataclass

import numpy as np

from ..activations import derivative_at, sigmoid
from ..network import Network


@dataclass
class Forward:
    """``z[l] (B, n_l)`` for l = 1 … L, ``H[l]`` for l = 0 … L (``H[0] = x``, ``H[L] = ŷ``), the
    labels one-hot ``Y (B, n_L)`` and the weights ``Ws``; ``truth`` holds the network's own ``delta``
    and ``dW`` for the cross-entropy loss (None for mse)."""

    spec: object
    Ws: tuple
    z: dict
    H: dict
    Y: np.ndarray
    truth: dict = None

    @property
    def B(self):
        return len(self.Y)

    def one_H(self, l):
        """``[1 H_l] (B, n_l + 1)``."""
        return np.hstack([np.ones((self.B, 1)), self.H[l]])

    def derivative(self, l):
        """``f_l'(z_l) (B, n_l)`` of layer ``l`` (the output's too, for mse)."""
        name = self.spec.activation(l)
        if name == "linear":
            return np.ones_like(self.z[l])
        if l == self.spec.L and name == "sigmoid":
            return self.H[l] * (1 - self.H[l])
        return derivative_at(name, self.z[l])


def forward(spec, point):
    """The `Forward` of ``point`` (float64), through `Network.trace`."""
    net = Network(spec.sizes, list(spec.hidden) + ["softmax"], dtype="float64")
    for W, V in zip(net.weights, point.Ws):
        W[...] = V
    t = net.trace(point.X, point.labels)
    L = spec.L
    z = {l: np.array(t.z[l]) for l in range(1, L + 1)}
    H = {l: np.array(t.H[l]) for l in range(L)}
    truth = None
    if spec.loss == "ce":
        H[L] = np.array(t.H[L])
        truth = {"delta": {l: np.array(t.delta[l]) for l in range(1, L + 1)},
                 "dW": {l: np.array(t.dW[l]) for l in range(1, L + 1)}}
    else:
        H[L] = sigmoid(z[L].copy()) if spec.output == "sigmoid" else z[L].copy()
    return Forward(spec, point.Ws, z, H, point.Y, truth)


@dataclass
class Step:
    """What a mistake sees where it replaces one step: the layer ``l``, the forward values, ``delta`` (the
    δ_l computed so far: for a ``dW`` site δ_l, for a ``delta`` site δ_{l+1}, None at l = L) and the
    right value of the step, ``right``."""

    fwd: Forward
    l: int
    delta: np.ndarray
    right: np.ndarray
    dW_next: np.ndarray = None       # ∂L/∂W_{l+1} as computed (for weights updated too early)


def delta_L(fwd):
    """``δ_L (B, n_L)`` of the mean loss."""
    d = (fwd.H[fwd.spec.L] - fwd.Y) / fwd.B
    return d if fwd.spec.loss == "ce" else d * fwd.derivative(fwd.spec.L)


def backward(fwd, mistakes=()):
    """``{l: ∂L/∂W_l}`` and ``{l: δ_l}`` with each of ``mistakes`` (``(site, l) → f(Step) -> array``)
    in place of its step."""
    L, Ws = fwd.spec.L, fwd.Ws
    by_site = dict(mistakes)
    delta = delta_L(fwd)
    if ("delta", L) in by_site:
        delta = by_site[("delta", L)](Step(fwd, L, None, delta))
    deltas, dW = {L: delta}, {}
    for l in range(L, 0, -1):
        right = fwd.one_H(l - 1).T @ delta                                  # ∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l
        dW[l] = by_site[("dW", l)](Step(fwd, l, delta, right)) if ("dW", l) in by_site else right
        if l > 1:
            right = (delta @ Ws[l - 1][1:].T) * fwd.derivative(l - 1)        # δ_{l-1} = (δ_l W̄_lᵀ) ⊙ f'(z_{l-1})
            if ("delta", l - 1) in by_site:
                right = by_site[("delta", l - 1)](Step(fwd, l - 1, delta, right, dW[l]))
            delta = deltas[l - 1] = right
    return dW, deltas


def truth(fwd):
    """The true ``({l: ∂L/∂W_l}, {l: δ_l})``: the network's trace for ce, `backward` for mse."""
    if fwd.truth is not None:
        return fwd.truth["dW"], fwd.truth["delta"]
    return backward(fwd)

"""The lab's current network and the answers about one digit: forward pass, backward pass, one step.

Every number comes from the library's public methods: `Network.forward_from` for the activations and
pre-activations ``z_l``, `Network.loss_and_grads` for the gradients, `Network.forward` for the
probabilities around a step, a `scratchnet.optimizers` SGD for the single step. This module only shapes them into JSON.

For one example (``B = 1``) the bias row of ``∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l`` is ``1 · δ_l``, so each
``δ_l`` is read off row 0 of its weight gradient rather than computed again.
"""

import threading

import numpy as np

from ..network import architecture_text, seed_network
from ..optimizers import OPTIMIZERS


def as_list(a, digits=None):
    """A NumPy array as a flat list of Python floats (rounded to ``digits`` decimals when given)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    return (np.round(a, digits) if digits is not None else a).tolist()


def matrix(a, digits=6):
    """``{"shape": [r, c], "values": [...]}``: a matrix row by row."""
    a = np.asarray(a)
    return {"shape": list(a.shape), "values": as_list(a, digits)}


class LabModel:
    """The network every section of the page uses, and where it came from.

    ``source`` says so in words ("loaded from model.npz", "a fresh seed network (untrained)", "trained in
    the lab (finished)");
    ``version`` grows each time the network is replaced, so caches (the mistakes) know when to refresh.
    """

    def __init__(self, net=None, source="a fresh seed network (untrained)", trained=False):
        self.net = net if net is not None else seed_network(seed=0)
        self.source = source
        self.trained = trained
        self.version = 0
        self._lock = threading.Lock()

    def replace(self, net, source, trained=True):
        """Make ``net`` the lab's network."""
        with self._lock:
            self.net, self.source, self.trained = net, source, trained
            self.version += 1

    def describe(self):
        """``{"architecture", "sizes", "activations", "dtype", "source", "trained", "version", ...}``."""
        net = self.net
        meta = net.metadata or {}
        return {"architecture": architecture_text(net.sizes, net.activations), "sizes": list(net.sizes), "activations": list(net.activations),
                "dtype": net.dtype.name, "source": self.source, "trained": self.trained,
                "version": self.version, "test_accuracy": meta.get("test_accuracy"),
                "recipe": meta.get("recipe")}


def _layers(net, x):
    """``(Hs, zs)`` for one input ``x (n_0,)``: ``Hs = [H_0, …, ŷ]`` rows and ``zs = {l: z_l}``, from one
    forward pass (`Network.forward_from`, which keeps the pre-activations)."""
    zs, Hs = net.forward_from(net.as_input(x.reshape(1, -1)), start=1)
    return [Hs[l][0] for l in range(net.n_layers + 1)], {l: z[0] for l, z in zs.items()}


def _activation_names(L):
    return [f"H{l}" for l in range(1, L)] + ["yhat"]


def predict(net, x):
    """The forward pass for one input ``x (784,)`` in 0…1, as the API answers it.

    Returns ``{"digit", "probabilities" (10), "input" (784), "activations": {"H1", "H2", "yhat"},
    "z": {"z1", "z2", "z3"}}``.
    """
    Hs, zs = _layers(net, x)
    L = net.n_layers
    yhat = Hs[L]
    return {"digit": int(np.argmax(yhat)),
            "probabilities": as_list(yhat),
            "input": as_list(x, 4),
            "activations": {name: as_list(H, 6) if name != "yhat" else as_list(H)
                            for name, H in zip(_activation_names(L), Hs[1:])},
            "z": {f"z{l}": as_list(z, 6) for l, z in zs.items()}}


def backprop(net, x, label, unit=None):
    """The backward pass for one input ``x (784,)`` and its true ``label``.

    Returns the forward pass (as `predict`) plus ``"label"``, ``"loss"``, ``"deltas"`` (``δ_l``, each
    ``{"shape": [1, n_l], "values"}``), ``"gradients"`` (``∂L/∂W_l`` for every layer but the first,
    ``(n_{l-1}+1, n_l)`` row by row, row 0 the bias) and ``"W1_unit"``: ``∂L/∂W1[:, unit]``, the first
    layer's gradient for one hidden unit (its bias entry and 784 input weights, a 28×28 picture); the
    unit defaults to the one with the largest ``|δ1|``.
    """
    out = predict(net, x)
    loss, grads = net.loss_and_grads(x.reshape(1, -1), np.array([label]))
    L = net.n_layers
    deltas = {f"delta{l}": grads[l - 1][0:1] for l in range(1, L + 1)}     # bias row of ∂L/∂W_l = δ_l
    if unit is None:
        unit = int(np.argmax(np.abs(deltas["delta1"][0])))
    if not 0 <= unit < net.sizes[1]:
        raise ValueError(f"unit must be 0…{net.sizes[1] - 1}")
    column = grads[0][:, unit]
    out.update(label=int(label), loss=float(loss),
               deltas={name: matrix(d, 8) for name, d in deltas.items()},
               gradients={f"W{l}": matrix(grads[l - 1], 8) for l in range(2, L + 1)},
               W1_unit={"unit": unit, "shape": [net.sizes[0] + 1, 1], "bias": float(column[0]),
                        "values": as_list(column[1:], 8)})
    return out


def one_step(net, x, label, lr):
    """One plain gradient step ``W ← W − lr ∂L/∂W`` on this one example, taken on a copy of ``net``.

    Returns ``{"lr", "label", "loss_before", "loss_after", "before" (10), "after" (10)}``: the
    probabilities before and after the step.
    """
    X, y = x.reshape(1, -1), np.array([label])
    twin = net.astype(net.dtype.name)                  # a copy: the lab's network is left alone
    loss_before, grads = twin.loss_and_grads(X, y)
    before = twin.forward(X)[-1][0]
    flat = np.concatenate([g.ravel() for g in grads])
    OPTIMIZERS["sgd"](twin.params).step(twin.params, flat, lr)
    loss_after, _ = twin.loss_and_grads(X, y)
    after = twin.forward(X)[-1][0]
    return {"lr": lr, "label": int(label), "loss_before": float(loss_before), "loss_after": float(loss_after),
            "before": as_list(before), "after": as_list(after)}

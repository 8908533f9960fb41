"""The lab's current network and the answers about one digit: forward pass, backward pass, one step.

Every number comes from one `scratchnet.trace.Trace` of the library's own pass (`Network.forward`,
`Network.backward`): ``z_l``, ``H_l``, ``δ_l`` and ``∂L/∂W_l`` are read from it by name, and a
`scratchnet.optimizers` SGD takes the single step. Each request makes its own trace, so concurrent
requests never share an array. This module only shapes the numbers into JSON; the formulas the page
shows with them come from `scratchnet.lab.explain`, made from the same trace.
"""

import threading

import numpy as np

from ..network import architecture_text, seed_network
from ..optimizers import OPTIMIZERS
from . import explain


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


def _activation_names(L):
    return [f"H{l}" for l in range(1, L)] + ["yhat"]


def _forward_json(net, x, t):
    """The forward half of trace ``t`` of one input ``x (n_0,)`` as the API answers it."""
    L = net.n_layers
    yhat = t.yhat[0]
    return {"digit": int(np.argmax(yhat)),
            "probabilities": as_list(yhat),
            "input": as_list(x),                    # unrounded: sent back as "pixels", it is the same x
            "explain": explain.forward(net, t),
            "activations": {name: as_list(t.H[l][0], 6) if name != "yhat" else as_list(t.H[l][0])
                            for l, name in enumerate(_activation_names(L), start=1)},
            "z": {f"z{l}": as_list(t.z[l][0], 6) for l in range(1, L + 1)}}


def predict(net, x):
    """The forward pass for one input ``x (784,)`` in 0…1, as the API answers it.

    Returns ``{"digit", "probabilities" (10), "input" (784), "activations": {"H1", "H2", "yhat"},
    "z": {"z1", "z2", "z3"}, "explain"}``: ``input`` is ``x`` exactly (the page sends it back as
    ``"pixels"`` for the backward pass and the step), ``explain`` the formulas of every unit with their
    numbers (`explain.forward`).
    """
    return _forward_json(net, x, net.forward(x.reshape(1, -1)))


def backprop(net, x, label=None, unit=None):
    """The forward and backward pass for one input ``x (784,)`` and its true ``label`` (the network's own
    answer when None), from one `Trace`.

    Returns the forward pass (as `predict`) plus ``"label"``, ``"loss"``, ``"deltas"`` (``δ_l``, each
    ``{"shape": [1, n_l], "values"}``), ``"gradients"`` (``∂L/∂W_l`` for every layer but the first,
    ``(n_{l-1}+1, n_l)`` row by row, row 0 the bias) and ``"W1_unit"``: ``∂L/∂W1[:, unit]``, the first
    layer's gradient for one hidden unit (its bias entry and 784 input weights, a 28×28 picture); the
    unit defaults to the one with the largest ``|δ1|``. ``"explain"`` holds the forward formulas (as
    `predict`) and the backward ones (`explain.backward`: the loss, every δ and gradient cell, scales).
    """
    if unit is not None and not 0 <= unit < net.sizes[1]:
        raise ValueError(f"unit must be 0…{net.sizes[1] - 1}")
    t = net.forward(x.reshape(1, -1))
    if label is None:
        label = int(np.argmax(t.yhat[0]))
    net.backward(t, np.array([label]))
    L = net.n_layers
    if unit is None:
        unit = int(np.argmax(np.abs(t.delta[1][0])))
    column = t.dW[1][:, unit]
    out = _forward_json(net, x, t)
    out.update(label=int(label), loss=float(t.loss),
               deltas={f"delta{l}": matrix(t.delta[l], 8) for l in range(1, L + 1)},
               gradients={f"W{l}": matrix(t.dW[l], 8) for l in range(2, L + 1)},
               W1_unit={"unit": unit, "shape": [net.sizes[0] + 1, 1], "bias": float(column[0]),
                        "values": as_list(column[1:], 8)})
    out["explain"].update(explain.backward(net, t, unit))
    return out


def one_step(net, x, label, lr):
    """One plain gradient step ``W ← W − lr ∂L/∂W`` on this one example, taken on a copy of ``net``.

    Returns ``{"lr", "label", "loss_before", "loss_after", "before" (10), "after" (10), "text"}``: the
    probabilities before and after the step, and the step in words (`explain.step_text`).
    """
    X, y = x.reshape(1, -1), np.array([label])
    twin = net.astype(net.dtype.name)                  # a copy: the lab's network is left alone
    before = twin.trace(X, y)
    OPTIMIZERS["sgd"](twin.params).step(twin.params, before.gradient, lr)
    after = twin.forward(X, y)
    return {"lr": lr, "label": int(label), "loss_before": float(before.loss), "loss_after": float(after.loss),
            "before": as_list(before.yhat[0]), "after": as_list(after.yhat[0]),
            "text": explain.step_text(int(label), before.yhat[0], after.yhat[0], before.loss, after.loss, lr)}

"""The lab's current network and the answers about one digit: forward pass, backward pass, one step.

Every number comes from one `scratchnet.trace.Trace` of the library's own pass (`Network.forward`,
`Network.backward`): ``z_l``, ``H_l``, ``δ_l`` and ``∂L/∂W_l`` are read from it by name, and a
`scratchnet.optimizers` SGD takes the single step. Each request makes its own trace, so concurrent
requests never share an array. This module only shapes the numbers into JSON; the formulas the page
shows with them come from `scratchnet.lab.explain`, made from the same trace.

Classes are named as the model names them (`scratchnet.data.model_class_names`: the folder names of
``train --data``, the names given to ``import``, MNIST's digits, Fashion-MNIST's clothes): every answer
that gives a class as an index (``"digit"``, ``"label"``), which the page needs to pick an output, gives
its name beside it (``"class"``, ``"label_name"``), and ``"class_names"`` lists all ``K`` of them.
"""

import json
import threading

import numpy as np

from ..data import DATASETS, load_mnist, model_class_names
from ..data.classes import CLASS_NAMES
from ..data.loading import from_spec
from ..metrics import confident_mistakes
from ..errors import ScratchnetError
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
        """``{"architecture", "sizes", "activations", "dtype", "source", "trained", "version", ...,
        "class_names"}``."""
        net = self.net
        meta = net.metadata or {}
        return {"architecture": architecture_text(net.sizes, net.activations), "sizes": list(net.sizes), "activations": list(net.activations),
                "dtype": net.dtype.name, "source": self.source, "trained": self.trained,
                "version": self.version, "test_accuracy": meta.get("test_accuracy"),
                "recipe": meta.get("recipe"), "class_names": list(model_class_names(net))}


def _activation_names(L):
    return [f"H{l}" for l in range(1, L)] + ["yhat"]


def check_label(net, label):
    """Raise `ScratchnetError` (``field="label"``) unless ``label`` is one of ``net``'s classes ``0 … K-1``."""
    K = net.sizes[-1]
    if not 0 <= label < K:
        names = model_class_names(net)
        raise ScratchnetError(f"label {label} is not a class of this network: its {K} classes are 0…{K - 1} "
                              f"({', '.join(names[:3])}{', …' if K > 3 else ''})", field="label")


def _forward_json(net, x, t):
    """The forward half of trace ``t`` of one input ``x (n_0,)`` as the API answers it."""
    L = net.n_layers
    yhat = t.yhat[0]
    names = model_class_names(net)
    k = int(np.argmax(yhat))
    return {"digit": k, "class": names[k], "class_names": list(names),
            "probabilities": as_list(yhat),
            "input": as_list(x),                    # unrounded: sent back as "pixels", it is the same x
            "explain": explain.forward(net, t),
            "activations": {name: as_list(t.H[l][0], 6) if name != "yhat" else as_list(t.H[l][0])
                            for l, name in enumerate(_activation_names(L), start=1)},
            "z": {f"z{l}": as_list(t.z[l][0], 6) for l in range(1, L + 1)}}


def predict(net, x):
    """The forward pass for one input ``x (784,)`` in 0…1, as the API answers it.

    Returns ``{"digit", "class", "class_names" (K), "probabilities" (K), "input" (784), "activations":
    {"H1", "H2", "yhat"}, "z": {"z1", "z2", "z3"}, "explain"}``: ``digit`` is the index of the most
    probable class and ``class`` its name; ``input`` is ``x`` exactly (the page sends it back as
    ``"pixels"`` for the backward pass and the step), ``explain`` the formulas of every unit with their
    numbers (`explain.forward`).
    """
    return _forward_json(net, x, net.forward(x.reshape(1, -1)))


def backprop(net, x, label=None, unit=None):
    """The forward and backward pass for one input ``x (784,)`` and its true ``label`` (the network's own
    answer when None), from one `Trace`.

    Returns the forward pass (as `predict`) plus ``"label"`` (an index) and ``"label_name"``, ``"loss"``, ``"deltas"`` (``δ_l``, each
    ``{"shape": [1, n_l], "values"}``), ``"gradients"`` (``∂L/∂W_l`` for every layer but the first,
    ``(n_{l-1}+1, n_l)`` row by row, row 0 the bias) and ``"W1_unit"``: ``∂L/∂W1[:, unit]``, the first
    layer's gradient for one hidden unit (its bias entry and 784 input weights, a 28×28 picture); the
    unit defaults to the one with the largest ``|δ1|``. ``"explain"`` holds the forward formulas (as
    `predict`) and the backward ones (`explain.backward`: the loss, every δ and gradient cell, scales).
    """
    if unit is not None and not 0 <= unit < net.sizes[1]:
        raise ValueError(f"unit must be 0…{net.sizes[1] - 1}")
    if label is not None:
        check_label(net, label)
    t = net.forward(x.reshape(1, -1))
    if label is None:
        label = int(np.argmax(t.yhat[0]))
    net.backward(t, np.array([label]))
    L = net.n_layers
    if unit is None:
        unit = int(np.argmax(np.abs(t.delta[1][0])))
    column = t.dW[1][:, unit]
    out = _forward_json(net, x, t)
    out.update(label=int(label), label_name=model_class_names(net)[label], loss=float(t.loss),
               deltas={f"delta{l}": matrix(t.delta[l], 8) for l in range(1, L + 1)},
               gradients={f"W{l}": matrix(t.dW[l], 8) for l in range(2, L + 1)},
               W1_unit={"unit": unit, "shape": [net.sizes[0] + 1, 1], "bias": float(column[0]),
                        "values": as_list(column[1:], 8)})
    out["explain"].update(explain.backward(net, t, unit))
    return out


def one_step(net, x, label, lr):
    """One plain gradient step ``W ← W − lr ∂L/∂W`` on this one example, taken on a copy of ``net``.

    Returns ``{"lr", "label", "label_name", "class_names" (K), "loss_before", "loss_after", "before" (K),
    "after" (K), "text"}``: the probabilities before and after the step, and the step in words (`explain.step_text`).
    """
    check_label(net, label)
    X, y = x.reshape(1, -1), np.array([label])
    twin = net.astype(net.dtype.name)                  # a copy: the lab's network is left alone
    before = twin.trace(X, y)
    OPTIMIZERS["sgd"](twin.params).step(twin.params, before.gradient, lr)
    after = twin.forward(X, y)
    return {"lr": lr, "label": int(label), "label_name": model_class_names(net)[label],
            "class_names": list(model_class_names(net)), "loss_before": float(before.loss), "loss_after": float(after.loss),
            "before": as_list(before.yhat[0]), "after": as_list(after.yhat[0]),
            "text": explain.step_text(int(label), before.yhat[0], after.yhat[0], before.loss, after.loss, lr)}


def test_set_key(net):
    """Which test set ``net``'s mistakes are looked for in: ``("recorded", spec)`` for a model trained on
    your own data (its model file records the data, ``train --data``; ``spec`` as JSON text), or
    ``("dataset", name)`` for MNIST or Fashion-MNIST when its classes are theirs. Raises `ScratchnetError`
    for a network with neither (an imported network of ``K ≠ 10`` classes, say): no test set is known."""
    meta = net.metadata or {}
    spec = meta.get("data")
    if isinstance(spec, dict):
        return ("recorded", json.dumps({"spec": spec, "sha256": meta.get("data_sha256")}, sort_keys=True))
    dataset = meta.get("dataset", "mnist")
    K = net.sizes[-1]
    if dataset in DATASETS and len(CLASS_NAMES[dataset]) == K:
        return ("dataset", dataset)
    names = model_class_names(net)
    raise ScratchnetError(f"no test set is known for this network's {K} classes ({', '.join(names[:4])}"
                          f"{', …' if K > 4 else ''}): its model file records no data it was trained on; "
                          "train it with scratchnet train --data FOLDER to see its mistakes and train it here", field="data")


def recorded_data(key):
    """The `TrainingData` of a `test_set_key` ``("recorded", …)``, read again (from the cache, usually)
    as ``scratchnet evaluate`` does; refused if the data has changed since."""
    record = json.loads(key[1])
    data = from_spec(record["spec"])
    if record["sha256"] is not None and data.sha256() != record["sha256"]:
        raise ScratchnetError(f"the data this network was trained on ({record['spec'].get('data')}) has changed "
                              "since (its SHA-256 differs), so its test set is not the one it was tested on",
                              field="data")
    return data


def recorded_test_set(key):
    """``(X (N, n_0) uint8, y (N,))``: the test set of a `test_set_key` ``("recorded", …)`` (`recorded_data`)."""
    data = recorded_data(key)
    return data.test.X, data.test.y


def training_data(net, data_dir=None):
    """``(X, y, X_test, y_test)``, pixels 0…255: what a lab run of ``net`` trains and is tested on, the
    data its mistakes come from (`test_set_key`): your own, as its model file records it, else MNIST's
    or Fashion-MNIST's. Raises `ScratchnetError` when neither is known."""
    key = test_set_key(net)
    if key[0] == "recorded":
        data = recorded_data(key)
        return data.train.X, data.train.y, data.test.X, data.test.y
    return (*load_mnist("train", key[1], data_dir), *load_mnist("test", key[1], data_dir))


def mistakes(net, X, y, n):
    """The ``n`` most confident mistakes of ``net`` on the test set ``X (N, n_0)`` (0…255), ``y (N,)``.

    Returns ``{"n_test", "n_wrong", "class_names", "mistakes": [{"index", "label", "label_name", "digit",
    "class", "confidence", "pixels" (n_0, in 0…1)}]}``: ``label`` is the true class's index and
    ``label_name`` its name, ``digit`` and ``class`` the network's answer, most confident first.
    """
    names = model_class_names(net)
    P = net.predict_proba(X)
    pred = P.argmax(axis=1)
    chosen = confident_mistakes(y, P, n)
    return {"n_test": int(len(y)), "n_wrong": int(np.count_nonzero(pred != y)), "class_names": list(names),
            "mistakes": [{"index": int(i), "label": int(y[i]), "label_name": names[y[i]], "digit": int(pred[i]),
                          "class": names[pred[i]], "confidence": float(P[i, pred[i]]),
                          "pixels": as_list(X[i] / 255.0, 4)} for i in chosen]}

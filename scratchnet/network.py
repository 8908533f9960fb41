"""A multilayer perceptron in the seed's notation.

Row vectors throughout. A layer computes ``z_l = [1 H_{l-1}] W_l`` and ``H_l = f_l(z_l)``, where
``[1 H]`` puts a column of ones before ``H`` and ``W_l`` has shape ``(n_{l-1} + 1, n_l)`` with row 0 the
bias. ``H_0 = x`` is the input and ``H_L = ŷ = softmax(z_L)`` the output. For the seed network
``784 → 100 σ → 10 σ → 10 softmax``: ``W1 (785, 100)``, ``W2 (101, 10)``, ``W3 (11, 10)``.

The code keeps ``[1 H_l]`` itself: each layer's output is written into columns ``1:`` of a buffer whose
column 0 holds ones, so ``z_l = [1 H_{l-1}] W_l`` and ``∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l`` are each one matrix
product, bias row included, exactly as written. The backward pass for a mini-batch of ``B`` rows (mean
loss) is::

    δ_L     = (Ŷ - Y) / B                              (B, n_L)
    ∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l                         (n_{l-1}+1, n_l)
    δ_{l-1} = (δ_l W̄_lᵀ) ⊙ f'(z_{l-1}),  W̄_l = W_l[1:]  (B, n_{l-1})

All weights live in one flat array ``params`` and ``weights[l-1]`` is a view of it, so an optimiser
updates every layer with a handful of vector operations. What this module leaves out: regularisation,
dropout, other losses.
"""

import copy

import numpy as np

from .activations import ACTIVATIONS, HIDDEN, OUTPUTS, softmax
from .errors import ScratchnetError
from .losses import log_loss, softmax_cross_entropy, softmax_cross_entropy_delta

DTYPES = ("float32", "float64")


SEED_SIZES = (784, 100, 10, 10)
"""Layer sizes of the seed network: 784 inputs → 100 σ → 10 σ → 10 softmax."""

SEED_ACTIVATIONS = ("sigmoid", "sigmoid", "softmax")
"""Activations of the seed network, one per layer."""


def architecture_text(sizes, activations):
    """An architecture as text, e.g. ``784 → 100 σ → 10 σ → 10 softmax`` for the seed network."""
    return " → ".join([str(sizes[0])] + [f"{n} {ACTIVATIONS[a].symbol}" for n, a in zip(sizes[1:], activations)])


def layer_shapes(sizes):
    """Shapes ``(n_{l-1} + 1, n_l)`` of ``W_1 … W_L`` for layer sizes ``[n_0, …, n_L]``."""
    return [(n_in + 1, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def flat_views(flat, shapes):
    """Split a flat array into consecutive C-ordered views of the given shapes."""
    views, start = [], 0
    for shape in shapes:
        size = shape[0] * shape[1]
        views.append(flat[start:start + size].reshape(shape))
        start += size
    return views


class _Buffers:
    """Arrays for one batch size, allocated once and reused by every training step.

    ``one_H[l]`` is ``[1 H_l]``, ``(B, n_l + 1)`` with column 0 all ones, for ``l = 0 … L-1``: the input is
    written into ``one_H[0][:, 1:]``, and the forward pass writes ``z_l`` and then ``H_l = f(z_l)`` into
    ``one_H[l][:, 1:]``. ``zL`` and ``yhat`` are ``(B, n_L)``; ``delta[l]`` is ``(B, n_l)``.
    """

    def __init__(self, sizes, B, dtype):
        self.one_H = [np.ones((B, n + 1), dtype) for n in sizes[:-1]]
        self.zL = np.empty((B, sizes[-1]), dtype)
        self.yhat = np.empty((B, sizes[-1]), dtype)
        self.delta = {l: np.empty((B, n), dtype) for l, n in enumerate(sizes[1:], start=1)}


class Network:
    """A multilayer perceptron ``n_0 → n_1 f_1 → … → n_L softmax`` with cross-entropy loss.

    Parameters
    ----------
    sizes : sequence of int, ``[n_0, …, n_L]``, e.g. ``[784, 100, 10, 10]``
    activations : sequence of str, one per layer: hidden ones from ``sigmoid``, ``tanh``, ``relu``;
        the last must be ``softmax``
    seed : int, optional
        Seed for the initialisation (used when ``rng`` is not given).
    rng : numpy.random.Generator, optional
    dtype : ``"float32"`` (training default) or ``"float64"``

    Initialisation: Glorot uniform ``U(±sqrt(6 / (n_in + n_out)))`` for sigmoid, tanh and softmax
    layers, He normal ``N(0, 2 / n_in)`` for ReLU layers; the bias row starts at 0.
    """

    def __init__(self, sizes, activations, *, seed=0, rng=None, dtype="float32"):
        sizes = [int(n) for n in sizes]
        activations = [str(a).lower() for a in activations]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ScratchnetError(f"layer sizes must be at least two positive integers, got {sizes}")
        if len(activations) != len(sizes) - 1:
            raise ScratchnetError(
                f"{len(sizes) - 1} layers need {len(sizes) - 1} activations, got {len(activations)} "
                f"({','.join(activations)}); give one per layer, e.g. sigmoid,sigmoid,softmax")
        for a in activations[:-1]:
            if a not in HIDDEN:
                raise ScratchnetError(f"unknown hidden activation {a!r}; choose from {', '.join(HIDDEN)}")
        if activations[-1] not in OUTPUTS:
            raise ScratchnetError(f"the output activation must be softmax, got {activations[-1]!r}")
        if str(dtype) not in DTYPES:
            raise ScratchnetError(f"dtype must be float32 or float64, got {dtype!r}")
        self.sizes = tuple(sizes)
        self.activations = tuple(activations)
        self.dtype = np.dtype(str(dtype))
        self.shapes = layer_shapes(self.sizes)
        self.params = np.zeros(sum(r * c for r, c in self.shapes), self.dtype)
        self.weights = flat_views(self.params, self.shapes)
        self._buffers = {}
        self.metadata = {}
        """Free-form information kept with the model file (recipe, history, metrics)."""
        self.initialize(rng if rng is not None else np.random.default_rng(seed))

    def initialize(self, rng):
        """Draw fresh weights (Glorot or He, bias rows 0) from the generator ``rng``."""
        for W, act in zip(self.weights, self.activations):
            n_in, n_out = W.shape[0] - 1, W.shape[1]
            if act == "relu":
                W[1:] = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
            else:
                limit = np.sqrt(6.0 / (n_in + n_out))
                W[1:] = rng.uniform(-limit, limit, size=(n_in, n_out))
            W[0] = 0

    @property
    def n_layers(self):
        """Number of weight layers ``L``."""
        return len(self.weights)

    def __repr__(self):
        return f"Network({architecture_text(self.sizes, self.activations)}, {self.dtype.name})"

    def astype(self, dtype):
        """An independent copy of this network in ``dtype`` (``"float32"`` or ``"float64"``).

        The copy keeps the class (so a subclass's own backward pass comes along), the weights converted to
        ``dtype`` and a copy of ``metadata``; it shares no array with this network.
        """
        if str(dtype) not in DTYPES:
            raise ScratchnetError(f"dtype must be float32 or float64, got {dtype!r}")
        other = copy.copy(self)
        other.dtype = np.dtype(str(dtype))
        other.params = np.array(self.params, dtype=other.dtype)        # always a fresh array
        other.weights = flat_views(other.params, other.shapes)
        other._buffers = {}
        other.metadata = copy.deepcopy(self.metadata)
        return other

    # ------------------------------------------------------------------ forward

    def as_input(self, X, out=None):
        """Check ``X (B, n_0)`` and return it in the network's dtype (in ``out`` when given); integer
        pixels are scaled by 1/255, the one place where that scaling is written."""
        X = self._check_shape(X)
        if out is None:
            out = np.empty(X.shape, self.dtype)
        if X.dtype.kind in "iu":
            return np.multiply(X, self.dtype.type(1 / 255), out=out)
        out[...] = X
        return out

    def _check_shape(self, X):
        """``X`` as an array, if it is ``(B, n_0)``."""
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ScratchnetError(f"input must have shape (B, {self.sizes[0]}), got {X.shape}")
        return X

    def check_labels(self, y, B):
        """``y`` as an array, if it is ``B`` integer labels in ``[0, n_L)``; else a `ScratchnetError`."""
        y = np.asarray(y)
        if y.shape != (B,) or not np.issubdtype(y.dtype, np.integer):
            raise ScratchnetError(f"labels must be {B} integers, got shape {y.shape} of {y.dtype}")
        if B and (y.min() < 0 or y.max() >= self.sizes[-1]):
            raise ScratchnetError(f"labels must lie in [0, {self.sizes[-1]}), got {y.min()}..{y.max()}")
        return y

    def _buffers_for(self, B):
        if B not in self._buffers:
            if len(self._buffers) >= 2:  # a training run uses two sizes: B and the last partial batch
                self._buffers.pop(next(iter(self._buffers)))
            self._buffers[B] = _Buffers(self.sizes, B, self.dtype)
        return self._buffers[B]

    def _forward(self, X, buf):
        """Hidden layers and output logits, into the buffers.

        ``X (B, n_0)``: floats, or integer pixels (scaled by 1/255 on the way in). Returns
        ``Hs = [H_0, …, H_{L-1}]`` (views of the buffers) and ``z_L (B, n_L)``. The output activation is
        applied by the caller: `softmax` to predict, fused with the loss to train.
        """
        Hs = [self.as_input(X, out=buf.one_H[0][:, 1:])]   # x into [1 x]
        for l, (W, f) in enumerate(zip(self.weights, self.activations), start=1):
            if l == self.n_layers:
                np.matmul(buf.one_H[l - 1], W, out=buf.zL)      # z_L = [1 H_{L-1}] W_L
            else:
                z = buf.one_H[l][:, 1:]
                np.matmul(buf.one_H[l - 1], W, out=z)           # z_l = [1 H_{l-1}] W_l
                Hs.append(ACTIVATIONS[f].function(z, out=z))             # H_l = f(z_l), written over z_l
        return Hs, buf.zL

    def forward(self, X):
        """All layer outputs for a batch.

        Parameters
        ----------
        X : ndarray (B, n_0)

        Returns
        -------
        list of ndarray: ``[H_0 = X, H_1 (B, n_1), …, ŷ (B, n_L)]`` (fresh arrays)
        """
        X = self._check_shape(X)
        Hs, zL = self._forward(X, _Buffers(self.sizes, len(X), self.dtype))
        return [np.ascontiguousarray(H) for H in Hs] + [softmax(zL)]

    def logits(self, X):
        """The output layer's pre-activation ``z_L (B, n_L)`` for ``X (B, n_0)`` (a fresh array)."""
        X = self._check_shape(X)
        _, zL = self._forward(X, _Buffers(self.sizes, len(X), self.dtype))
        return zL

    def forward_from(self, H, start=1):
        """Pre-activations and outputs of layers ``start … L`` from ``H_{start-1} (B, n_{start-1})``.

        The derivation's forward pass, one layer at a time: ``z_l = [1 H_{l-1}] W_l`` and ``H_l = f_l(z_l)``
        (``H_L = ŷ = softmax(z_L)``), with the column of ones built explicitly. Used to evaluate a formula
        at a point and to take finite differences through a hidden layer.

        Returns
        -------
        zs, Hs : dicts of fresh arrays, ``zs[l] (B, n_l)`` for ``l ≥ start`` and ``Hs[l] (B, n_l)`` for
            ``l ≥ start - 1`` (``Hs[start - 1]`` is ``H`` itself)
        """
        if not 1 <= start <= self.n_layers:
            raise ScratchnetError(f"layer must be 1 … {self.n_layers}, got {start}")
        H = np.asarray(H)
        if H.ndim != 2 or H.shape[1] != self.sizes[start - 1]:
            raise ScratchnetError(f"H{start - 1} must have shape (B, {self.sizes[start - 1]}), got {H.shape}")
        zs, Hs = {}, {start - 1: H}
        for l in range(start, self.n_layers + 1):
            one_H = np.concatenate([np.ones((len(H), 1), H.dtype), Hs[l - 1]], axis=1)   # [1 H_{l-1}]
            zs[l] = one_H @ self.weights[l - 1]                                         # z_l = [1 H_{l-1}] W_l
            Hs[l] = ACTIVATIONS[self.activations[l - 1]].function(zs[l].copy())         # H_l = f_l(z_l)
        return zs, Hs

    def predict_proba(self, X, batch_size=8192):
        """Class probabilities ``ŷ (B, n_L)`` for ``X (B, n_0)``, computed in large batches."""
        X = self._check_shape(X)
        out = np.empty((len(X), self.sizes[-1]), self.dtype)
        for i in range(0, len(X), batch_size):
            chunk = X[i:i + batch_size]
            _, zL = self._forward(chunk, self._buffers_for(len(chunk)))
            softmax(zL, out=out[i:i + batch_size])
        return out

    def predict(self, X, batch_size=8192):
        """Predicted labels ``(B,)`` for ``X (B, n_0)``."""
        return self.predict_proba(X, batch_size).argmax(axis=1)

    def evaluate(self, X, y, batch_size=8192):
        """Mean cross-entropy loss and accuracy on ``X (N, n_0)``, ``y (N,)``; returns ``(loss, accuracy)``."""
        X = np.asarray(X)
        y = self.check_labels(y, len(X))
        if len(X) == 0:
            raise ScratchnetError("cannot evaluate on an empty data set")
        P = self.predict_proba(X, batch_size)
        return log_loss(P, y), float(np.mean(P.argmax(axis=1) == y))

    # ------------------------------------------------------------------ backward

    def loss_and_grads(self, X, y, out=None, with_output=False):
        """Mean cross-entropy loss of a batch and its gradient with respect to every ``W_l``.

        Parameters
        ----------
        X : ndarray (B, n_0), floats (integer pixels are scaled by 1/255)
        y : ndarray (B,), integer labels
        out : list of ndarray shaped like ``weights``, optional
            Where to write the gradients (the trainer passes views of one flat array). When omitted,
            fresh arrays are returned.
        with_output : bool
            Also return ``ŷ (B, n_L)`` (a buffer that the next call overwrites).

        Returns
        -------
        loss : float
        grads : list of ndarray, ``grads[l-1] = ∂L/∂W_l`` with the shape of ``W_l``
        """
        X = self._check_shape(X)
        B = len(X)
        buf = self._buffers_for(B)
        y = self.check_labels(y, B)
        if out is None:
            out = flat_views(np.empty_like(self.params), self.shapes)
        Hs, zL = self._forward(X, buf)
        loss, yhat = softmax_cross_entropy(zL, y, out=buf.yhat)   # ŷ = softmax(z_L), L = mean CE
        Hs.append(yhat)
        self._backward(Hs, y, out, buf)
        return (loss, out, Hs[-1]) if with_output else (loss, out)

    def _backward(self, Hs, y, grads, buf):
        """Write ``∂L/∂W_l`` into ``grads`` after the forward pass ``Hs = [H_0, …, ŷ]``; ``y (B,)`` labels."""
        L = self.n_layers
        delta = softmax_cross_entropy_delta(Hs[L], y, out=buf.delta[L])         # δ_L = (Ŷ - Y) / B
        for l in range(L, 0, -1):
            np.matmul(buf.one_H[l - 1].T, delta, out=grads[l - 1])              # ∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l
            if l > 1:
                back = np.matmul(delta, self.weights[l - 1][1:].T, out=buf.delta[l - 1])  # δ_l W̄_lᵀ: no bias row
                delta = ACTIVATIONS[self.activations[l - 2]].derivative(Hs[l - 1], back)    # ⊙ f'(z_{l-1})


def seed_network(seed=0, dtype="float32", rng=None):
    """The seed network ``784 → 100 σ → 10 σ → 10 softmax``, freshly initialised (see `Network`)."""
    return Network(SEED_SIZES, SEED_ACTIVATIONS, seed=seed, rng=rng, dtype=dtype)

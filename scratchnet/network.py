"""A multilayer perceptron in the seed's notation.

Row vectors throughout. A layer computes ``z_l = [1 H_{l-1}] W_l`` and ``H_l = f_l(z_l)``, where
``[1 H]`` puts a column of ones before ``H`` and ``W_l`` has shape ``(n_{l-1} + 1, n_l)`` with row 0 the
bias. ``H_0 = x`` is the input and ``H_L = ŷ = softmax(z_L)`` the output. For the seed network
``784 → 100 σ → 10 σ → 10 softmax``: ``W1 (785, 100)``, ``W2 (101, 10)``, ``W3 (11, 10)``.

A pass is a value: `Network.forward` and `Network.backward` fill a `scratchnet.trace.Trace`, which
holds every ``z_l``, ``H_l``, ``δ_l`` and ``∂L/∂W_l`` of a batch by those names. The trace keeps ``[1 H_l]``
itself: each layer's output is written into columns ``1:`` of an array whose column 0 holds ones, so
``z_l = [1 H_{l-1}] W_l`` and ``∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l`` are each one matrix product, bias row included,
exactly as written. The network holds no scratch arrays: the caller owns the trace (the trainer reuses
one; every request makes its own), so any number of threads may use one network at once. The backward
pass for a mini-batch of ``B`` rows (mean loss) is::

    δ_L     = (Ŷ - Y) / B                              (B, n_L)
    ∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l                         (n_{l-1}+1, n_l)
    δ_{l-1} = (δ_l W̄_lᵀ) ⊙ f'(z_{l-1}),  W̄_l = W_l[1:]  (B, n_{l-1})

All weights live in one flat array ``params`` and ``weights[l-1]`` is a view of it, so an optimiser
updates every layer with a handful of vector operations. The formulas are the NumPy functions of
`scratchnet.losses` and `scratchnet.activations`; for float32 passes ``δ_L`` and σ′ run as their
compiled twins, and so does the uint8 → float32 ``[1 x]`` of the input (`scratchnet.fused.fast`: one
loop each instead of several NumPy calls, the same bits). What this module leaves out: regularisation,
dropout, other losses.
"""

import copy

import numpy as np

from .activations import ACTIVATIONS, HIDDEN, OUTPUTS, softmax
from .errors import ScratchnetError
from .fused import fast
from .layout import flat_views, layer_shapes
from .losses import cross_entropy, log_loss, softmax_cross_entropy, softmax_cross_entropy_delta
from .trace import Trace

DTYPES = ("float32", "float64")


SEED_SIZES = (784, 100, 10, 10)
"""Layer sizes of the seed network: 784 inputs → 100 σ → 10 σ → 10 softmax."""

SEED_ACTIVATIONS = ("sigmoid", "sigmoid", "softmax")
"""Activations of the seed network, one per layer."""


def scale_pixels(X, out):
    """``out = [1 x]`` with ``x = X / 255``: integer pixels ``X (B, n)`` cast into columns ``1:`` of
    ``out (B, n + 1)``, the whole array scaled in one contiguous pass (scaling a strided view costs a pass
    per row), then column 0 set to 1; returns ``out``. Each pixel is rounded once, ``X · (1/255)`` in
    ``out``'s dtype."""
    out[:, 0] = 0                                   # not whatever a fresh array held (NaN would warn)
    out[:, 1:] = X
    np.multiply(out, out.dtype.type(1 / 255), out=out)
    out[:, 0] = 1
    return out


def architecture_text(sizes, activations):
    """An architecture as text, e.g. ``784 → 100 σ → 10 σ → 10 softmax`` for the seed network."""
    return " → ".join([str(sizes[0])] + [f"{n} {ACTIVATIONS[a].symbol}" for n, a in zip(sizes[1:], activations)])


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
        other.metadata = copy.deepcopy(self.metadata)
        return other

    # ------------------------------------------------------------------ forward

    def as_input(self, X, out=None, ones=False):
        """Check ``X (B, n_0)`` and return it in the network's dtype (in ``out`` when given); integer
        pixels are scaled by 1/255 (here and in `scale_pixels`, the only places that scaling is written).

        With ``ones=True`` the result is ``[1 x] (B, n_0 + 1)``, the column of ones first (a trace's
        ``one_H[0]``); integer pixels then go through `scale_pixels` (its compiled twin for uint8 pixels
        into float32, the same bits in one pass).
        """
        X = self._check_shape(X)
        B, n = X.shape
        if out is None:
            out = np.empty((B, n + 1) if ones else (B, n), self.dtype)
        if X.dtype.kind in "iu" and ones:
            return fast(scale_pixels, X, out)(X, out)                     # [1 x], x = X / 255
        if X.dtype.kind in "iu":
            return np.multiply(X, self.dtype.type(1 / 255), out=out)
        if ones:
            out[:, 0] = 1
            out[:, 1:] = X
        else:
            out[...] = X
        return out

    def _check_shape(self, X, start=1):
        """``X`` as an array, if it is ``(B, n_{start-1})``."""
        X = np.asarray(X)
        n = self.sizes[start - 1]
        if X.ndim != 2 or X.shape[1] != n:
            what = "input" if start == 1 else f"H{start - 1}"
            raise ScratchnetError(f"{what} must have shape (B, {n}), got {X.shape}")
        return X

    def check_labels(self, y, B):
        """``y`` as an array, if it is ``B`` integer labels in ``[0, n_L)``; else a `ScratchnetError`."""
        y = np.asarray(y)
        if y.shape != (B,) or y.dtype.kind not in "iu":                  # integers (np.issubdtype: 1 µs more)
            raise ScratchnetError(f"labels must be {B} integers, got shape {y.shape} of {y.dtype}")
        if B and (y.min() < 0 or y.max() >= self.sizes[-1]):
            raise ScratchnetError(f"labels must lie in [0, {self.sizes[-1]}), got {y.min()}..{y.max()}")
        return y

    def workspace(self, B, start=1):
        """An empty `Trace` for passes of ``B`` rows from layer ``start``, to reuse with ``into=``."""
        if not 1 <= start <= self.n_layers:
            raise ScratchnetError(f"layer must be 1 … {self.n_layers}, got {start}")
        return Trace(self.sizes, B, self.dtype, start)

    def _workspace_for(self, B, start, into):
        if into is None:
            return self.workspace(B, start)
        if not into.fits(self.sizes, B, self.dtype, start):
            raise ScratchnetError(f"this workspace holds {into.B} rows from layer {into.start}, not {B} rows "
                                  f"from layer {start}; make one with workspace({B}, start={start})")
        return into

    def forward(self, X, y=None, *, start=1, into=None):
        """The forward pass of a batch, as a `Trace`.

        Parameters
        ----------
        X : ndarray (B, n_{start-1}): the input ``x`` (floats, or integer pixels scaled by 1/255 on the
            way in), or a hidden layer's output ``H_{start-1}`` when ``start > 1``
        y : ndarray (B,), optional
            Integer labels; when given the trace's ``loss`` is set too (sharing the softmax's exp pass).
        start : int, the first layer to compute (1: from the input)
        into : Trace, optional, a workspace from `workspace` to overwrite (else a fresh trace)

        Returns
        -------
        Trace with ``z[l]``, ``H[l]`` and ``one_H[l] = [1 H_l]`` for the layers from ``start`` on, and
        ``yhat = H[L] = softmax(z_L)``
        """
        X = self._check_shape(X, start)
        t = self._workspace_for(len(X), start, into)
        if start == 1:
            self.as_input(X, out=t.one_H[0], ones=True)                        # x into [1 x]
        else:
            t.H[start - 1][...] = X
        L = self.n_layers
        for l in range(start, L + 1):
            np.matmul(t.one_H[l - 1], self.weights[l - 1], out=t.z[l])         # z_l = [1 H_{l-1}] W_l
            if l < L:                                  # H_l = f_l(z_l), over whole rows of [0 z_l] and [1 H_l]:
                ACTIVATIONS[self.activations[l - 1]].function(t.z_rows[l], out=t.one_H[l])
                t.one_H[l][:, 0] = 1                   # column 0 holds f_l(0); the ones again
        if y is None:
            softmax(t.z[L], out=t.H[L])                                        # ŷ = softmax(z_L)
            t.loss, t.y = None, None
        else:
            t.y = self.check_labels(y, len(X))
            t.loss, _ = softmax_cross_entropy(t.z[L], t.y, out=t.H[L])         # ŷ, and L = mean CE
        return t

    def predict_proba(self, X, batch_size=8192):
        """Class probabilities ``ŷ (B, n_L)`` for ``X (B, n_0)``, computed in large batches."""
        X = self._check_shape(X)
        out = np.empty((len(X), self.sizes[-1]), self.dtype)
        work = {}
        for i in range(0, len(X), batch_size):
            chunk = X[i:i + batch_size]
            t = self.forward(chunk, into=work.get(len(chunk)))
            work[len(chunk)] = t
            out[i:i + len(chunk)] = t.yhat
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

    def trace(self, X, y, *, start=1, into=None):
        """The forward and backward pass of a batch with labels ``y (B,)``, as a `Trace` (see `forward`):
        also ``loss``, ``delta[l] = δ_l`` and ``dW[l] = ∂L/∂W_l`` for the layers from ``start`` on."""
        return self.backward(self.forward(X, y, start=start, into=into))

    def backward(self, trace, y=None, dW=None):
        """The backward pass into ``trace`` after `forward`, for the mean loss over its ``B`` rows::

            δ_L     = (Ŷ - Y) / B
            ∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l
            δ_{l-1} = (δ_l W̄_lᵀ) ⊙ f'(z_{l-1}),  W̄_l = W_l[1:] (the bias row dropped)

        Parameters
        ----------
        trace : Trace filled by `forward`
        y : ndarray (B,), the labels (may be left out if `forward` was given them)
        dW : dict ``l → ndarray``, optional, where to write ``∂L/∂W_l`` instead of ``trace.dW``

        Returns
        -------
        trace, with ``loss``, ``delta`` and ``dW`` set
        """
        if y is not None and (trace.y is None or y is not trace.y):
            trace.y = self.check_labels(y, trace.B)
            trace.loss = cross_entropy(trace.z[self.n_layers], trace.y)
        if trace.y is None:
            raise ScratchnetError("the backward pass needs the labels y")
        dW = trace.dW if dW is None else dW
        L, t = self.n_layers, trace
        delta = fast(softmax_cross_entropy_delta, t.H[L])(t.H[L], t.y, out=t.delta[L])   # δ_L = (Ŷ - Y) / B
        for l in range(L, t.start - 1, -1):
            np.matmul(t.one_H[l - 1].T, delta, out=dW[l])                                 # ∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l
            if l > t.start:
                back = np.matmul(delta, self.weights[l - 1][1:].T, out=t.delta[l - 1])    # δ_l W̄_lᵀ: no bias row
                derivative = fast(ACTIVATIONS[self.activations[l - 2]].derivative, back)
                delta = derivative(t.H[l - 1], back)                                        # ⊙ f'(z_{l-1})
        return t

    def loss_and_grads(self, X, y, out=None, with_output=False, into=None):
        """Mean cross-entropy loss of a batch and its gradient with respect to every ``W_l`` (a thin
        wrapper around `trace`).

        A loop over many batches of one size should pass a workspace (``into=net.workspace(B)``): a
        fresh trace is fresh memory, and writing it the first time costs about as much as the seed
        network's whole pass at ``B = 128``.

        Parameters
        ----------
        X : ndarray (B, n_0), floats (integer pixels are scaled by 1/255)
        y : ndarray (B,), integer labels
        out : list of ndarray shaped like ``weights``, optional
            Where to write the gradients. When omitted, fresh arrays are returned.
        with_output : bool
            Also return ``ŷ (B, n_L)``.
        into : Trace, optional, a workspace to reuse (see `forward`)

        Returns
        -------
        loss : float
        grads : list of ndarray, ``grads[l-1] = ∂L/∂W_l`` with the shape of ``W_l``
        """
        t = self.forward(X, y, into=into)
        self.backward(t, dW=None if out is None else dict(enumerate(out, start=1)))
        grads = t.grads if out is None else out
        return (t.loss, grads, t.yhat) if with_output else (t.loss, grads)


def seed_network(seed=0, dtype="float32", rng=None):
    """The seed network ``784 → 100 σ → 10 σ → 10 softmax``, freshly initialised (see `Network`)."""
    return Network(SEED_SIZES, SEED_ACTIVATIONS, seed=seed, rng=rng, dtype=dtype)

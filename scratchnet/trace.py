"""A `Trace`: one forward and backward pass of a batch, as a value, in the seed's names.

A network computes; a trace remembers. `Network.forward` fills the forward half of a trace and
`Network.backward` the backward half, so that everything the derivation writes down is there to read,
by the names it is written with (the seed network, a batch of ``B`` rows)::

    trace.H[0]      x                      (B, 784)     the input, scaled to 0…1
    trace.z[1]      z1 = [1 x] W1          (B, 100)
    trace.H[1]      H1 = σ(z1)             (B, 100)     trace.one_H[1] is [1 H1]  (B, 101)
    trace.z[3]      z3 = [1 H2] W3         (B, 10)
    trace.H[3]      ŷ = softmax(z3)        (B, 10)      also trace.yhat
    trace.loss      L, the mean cross-entropy
    trace.delta[3]  δ3 = (ŷ − y) / B       (B, 10)
    trace.dW[2]     ∂L/∂W2 = [1 H1]ᵀ δ2    (101, 10)

Layers are numbered from 1 as in the derivation, so the containers are dicts keyed by ``l``. A trace
that starts inside the network (``start > 1``, for finite differences through a hidden layer) has
``H[start-1]`` as its input and only the layers from ``start`` on.

**The workspace belongs to the caller.** A trace owns every array of its pass, and a network holds
none, so one network can be read by any number of threads at once, each with its own trace. A caller
that runs many passes of one batch size (the trainer) allocates a trace once with `Network.workspace`
and passes it back with ``into=``; every pass then overwrites it in place. The arrays are::

    one_H[l]  (B, n_l + 1)  [1 H_l] for l = start-1 … L-1: column 0 is ones and H[l] is its view [:, 1:]
    z_rows[l] (B, n_l + 1)  for a hidden layer l = start … L-1: z[l] is its view [:, 1:], column 0 is 0;
                            laid out as [1 H_l] is, so f_l maps whole rows of one onto the other in
                            contiguous passes (writing into a strided view costs a pass per row)
    z[l]      (B, n_l)      l = start … L
    H[L]      (B, n_L)      ŷ
    delta[l]  (B, n_l)      δ_l = ∂L/∂z_l, l = start … L
    gradient  (P,)          every ∂L/∂W_l, flat in the order of ``Network.params``; dW[l] are views of it
"""

import numpy as np

from .errors import ScratchnetError
from .layout import flat_views, layer_shapes


class Trace:
    """The arrays of one pass of a batch of ``B`` rows through a network of layer sizes ``sizes``.

    Make one with `Network.workspace` (or let `Network.forward` and `Network.trace` make a fresh one);
    read it by the attributes in the module docstring. ``loss`` is None until the labels are known,
    ``y`` the labels ``(B,)`` of the last backward pass.
    """

    def __init__(self, sizes, B, dtype, start=1):
        sizes, L = tuple(int(n) for n in sizes), len(sizes) - 1
        if not 1 <= start <= L:
            raise ScratchnetError(f"a pass starts at a layer 1 … {L}, got {start}")
        dtype = np.dtype(dtype)
        self.sizes, self.B, self.dtype, self.start = sizes, int(B), dtype, start
        self.one_H = {l: np.empty((B, sizes[l] + 1), dtype) for l in range(start - 1, L)}
        for one_H in self.one_H.values():
            one_H[:, 0] = 1                                  # the column of ones; the rest is written by a pass
        self.H = {l: one_H[:, 1:] for l, one_H in self.one_H.items()}
        self.z_rows = {l: np.zeros((B, sizes[l] + 1), dtype) for l in range(start, L)}
        self.z = {l: z_rows[:, 1:] for l, z_rows in self.z_rows.items()}
        self.z[L] = np.empty((B, sizes[L]), dtype)
        self.H[L] = np.empty((B, sizes[L]), dtype)
        self.delta = {l: np.empty((B, sizes[l]), dtype) for l in range(start, L + 1)}
        shapes = layer_shapes(sizes)
        self.gradient = np.empty(sum(r * c for r, c in shapes), dtype)
        self.dW = {l: W for l, W in enumerate(flat_views(self.gradient, shapes), start=1) if l >= start}
        self.loss = None
        self.y = None

    @property
    def L(self):
        """Number of weight layers."""
        return len(self.sizes) - 1

    @property
    def x(self):
        """The input of the pass, ``H[start-1] (B, n_{start-1})`` (``x`` itself when ``start`` is 1)."""
        return self.H[self.start - 1]

    @property
    def yhat(self):
        """``ŷ = H[L] (B, n_L)``, the softmax output."""
        return self.H[self.L]

    @property
    def grads(self):
        """``[∂L/∂W_start, …, ∂L/∂W_L]``, the gradients as a list (views of ``gradient``)."""
        return [self.dW[l] for l in range(self.start, self.L + 1)]

    def fits(self, sizes, B, dtype, start=1):
        """Whether this trace can hold a pass of ``B`` rows through a network of ``sizes`` in ``dtype``."""
        return (self.sizes == tuple(sizes) and self.B == B and self.dtype == np.dtype(dtype)
                and self.start == start)

    def __repr__(self):
        return f"Trace(B={self.B}, layers {self.start}…{self.L}, loss={self.loss})"

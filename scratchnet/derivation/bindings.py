"""A random point of a configured network, and the names a formula may use, bound to its arrays.

The point is drawn once from a ``numpy.random.Generator``: weights as `Network` initialises them, then
random bias rows (a bias of exactly 0 would hide mistakes about it), inputs uniform in [0, 1) and random
labels. Everything is float64, and every forward quantity comes from the network's own forward pass,
`Network.forward` (``z_l = [1 H_{l-1}] W_l``).

Names and their arrays (``n_l`` units in layer ``l``, ``L`` weight layers, ``B`` examples, ``K = n_L``):

=============  ===========================  ===============================
name           row convention (the seed's)  column convention
=============  ===========================  ===============================
``x``, ``H0``  ``(B, n_0)``                 ``(n_0, B)``
``H_l``        ``(B, n_l)``, l < L          ``(n_l, B)``
``z_l``        ``(B, n_l)``                 ``(n_l, B)``
``W_l``        ``(n_{l-1}+1, n_l)``         ``(n_l, n_{l-1}+1)``
``yhat``/``ŷ`` ``(B, K)``                   ``(K, B)``
``y``          ``(B, K)`` one-hot           ``(K, B)`` one-hot
``W̄_l``        ``W_l[1:]``                  ``W_l[:, 1:]`` (the weights without the bias)
``ones``       ``(B, 1)``                   ``(B, 1)``
``B``          the batch size, a number     the batch size, a number
=============  ===========================  ===============================

In the column convention every array is the transpose of its row-convention twin, so ``z = W [1; H]``.

Two bias notations (``bias``): ``"row"`` (the seed's) folds the bias into row 0 of ``W_l`` as above;
``"separate"`` (Nielsen, cs231n, most textbooks) binds ``W_l`` to the bias-free rows ``W_l[1:]``
(``(n_{l-1}, n_l)``, row convention) and ``b_l`` to the bias row ``W_l[0]`` (``(1, n_l)``), so that
``z = H W + b`` (row) or ``z = W h + b`` (column, ``W_l`` is ``(n_l, n_{l-1})`` and ``b_l`` ``(n_l, 1)``).
It is the same network; only the names differ.
"""

from dataclasses import dataclass

import numpy as np

from ..errors import ScratchnetError
from ..losses import one_hot
from ..memory import require_network
from ..network import Network

CONVENTIONS = ("row", "column")
BIASES = ("row", "separate")

@dataclass(frozen=True)
class Point:
    """A network and one batch, with every forward quantity, all float64 and in the row convention.

    Attributes
    ----------
    network : Network (float64)
    X : ndarray (B, n_0);  labels : ndarray (B,) int;  Y : ndarray (B, K) one-hot
    z : list, ``z[l]`` is ``(B, n_l)`` for ``l = 1 … L`` (``z[0]`` is None)
    H : list, ``H[l]`` is ``(B, n_l)`` for ``l = 0 … L``; ``H[0] = X`` and ``H[L] = ŷ``
    convention : ``"row"`` or ``"column"``, how `names` presents the arrays
    bias : ``"row"`` (``W_l`` holds the bias in row 0) or ``"separate"`` (``W_l`` and ``b_l``)
    """

    network: Network
    X: np.ndarray
    labels: np.ndarray
    Y: np.ndarray
    z: list
    H: list
    convention: str = "row"
    bias: str = "row"

    @property
    def sizes(self):
        return self.network.sizes

    @property
    def activations(self):
        return self.network.activations

    @property
    def L(self):
        return self.network.n_layers

    @property
    def B(self):
        return len(self.X)

    @property
    def weights(self):
        """Row-convention weights ``W_l (n_{l-1}+1, n_l)``, ``weights[l-1]``, bias in row 0."""
        return self.network.weights

    def oriented(self, A):
        """A row-convention array in this point's convention (transposed for ``column``)."""
        return A if self.convention == "row" else A.T

    def to_row(self, A):
        """An array in this point's convention back in the row convention."""
        return A if self.convention == "row" else A.T

    def names(self):
        """Every bindable name (canonical spelling) → its array in this convention, or the number ``B``."""
        out = {"B": float(self.B), "yhat": self.oriented(self.H[self.L]), "y": self.oriented(self.Y),
               "ones": np.ones((self.B, 1))}
        for l in range(self.L):
            out[f"H{l}"] = self.oriented(self.H[l])
        for l in range(1, self.L + 1):
            out[f"z{l}"] = self.oriented(self.z[l])
            W = self.weights[l - 1]
            if self.bias == "row":
                out[f"W{l}"] = self.oriented(W)
            else:
                out[f"W{l}"] = self.oriented(W[1:])
                out[f"b{l}"] = self.oriented(W[:1])
            out[f"Wbar{l}"] = self.oriented(W[1:])             # W̄_l, as derive prints it
        return out

    def shape_of(self, name):
        """Shape of a bound name in this convention (``()`` for ``B``)."""
        return np.shape(self.names()[name])


def random_point(sizes, activations, batch=1, convention="row", rng=None, seed=0, bias="row"):
    """Draw a network and a batch of ``batch`` examples from ``rng`` (or ``default_rng(seed)``).

    Parameters
    ----------
    sizes : sequence of int, ``[n_0, …, n_L]``
    activations : sequence of str, one per layer, the last ``softmax``
    batch : int, ``B ≥ 1``
    convention : ``"row"`` or ``"column"``
    rng : numpy.random.Generator, optional
    bias : ``"row"`` or ``"separate"``

    Returns
    -------
    Point
    """
    if convention not in CONVENTIONS:
        raise ScratchnetError(f"convention must be row or column, got {convention!r}")
    if bias not in BIASES:
        raise ScratchnetError(f"bias must be row or separate, got {bias!r}")
    if int(batch) < 1:
        raise ScratchnetError(f"the batch size must be at least 1, got {batch}")
    sizes = [int(n) for n in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ScratchnetError(f"layer sizes must be at least two positive integers, got {sizes}")
    require_network(sizes, int(batch), "float64")              # refuse before allocating anything
    rng = rng if rng is not None else np.random.default_rng(seed)
    net = Network(sizes, activations, rng=rng, dtype="float64")
    for W in net.weights:
        W[0] = rng.normal(0.0, 0.5, size=W.shape[1])
    B = int(batch)
    X = rng.uniform(0.0, 1.0, size=(B, net.sizes[0]))
    labels = rng.integers(0, net.sizes[-1], size=B)
    t = net.forward(X)
    L = net.n_layers
    return Point(net, X, labels, one_hot(labels, net.sizes[-1]), [None] + [t.z[l] for l in range(1, L + 1)],
                 [np.ascontiguousarray(t.H[l]) for l in range(L + 1)], convention, bias)

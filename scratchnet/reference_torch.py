"""A reference for the gradients: the same network written in PyTorch, differentiated by autograd.

PyTorch is optional (``pip install torch==2.13.0``, the CPU build, or the ``[torch]`` extra) and is
imported only when a function here is called. The reference model is the derivation written literally,
in float64::

    z_l = [1 H_{l-1}] W_l         (the column of ones is built, unlike in `network.py`)
    H_l = f_l(z_l),   L = mean cross-entropy of softmax(z_L)   (``torch.nn.functional.cross_entropy``)

and ``loss.backward()`` gives ``∂L/∂W_l``. Two float64 computations of the same sums differ only by
rounding, so scratchnet's gradients must agree with it to `TORCH_RTOL` = 1e-10 relative error.
"""

from dataclasses import dataclass

import numpy as np

from .errors import ScratchnetError

TORCH_RTOL = 1e-10
"""Largest relative error allowed between scratchnet's and autograd's gradients (both float64)."""

TORCH_FLOOR = 1e-4
"""The relative error of an entry of ``∂L/∂W_l`` is ``|a - t| / max(|a|, |t|, TORCH_FLOOR · max|t|)``,
``max|t|`` the layer's largest entry. Each entry is assembled from sums (over the batch, and over the
units of the layer above in ``δ``) whose terms are about as large as the layer's largest entries, and
float64 leaves an absolute error of a few units in the last place of those terms however much they
cancel: ~1e-16 · max|t|. An entry a million times smaller than max|t| therefore carries ~1e-10 relative
error in *both* programs (measured: up to 2e-10 on MNIST-sized networks), an artefact of cancellation,
not a disagreement. Measured against the floor, that error is at most ~1e-12, 100 times inside the limit.

The 1e-10 agreement also needs a softmax that is not saturated: when ``ŷ_y`` is within ~1e-6 of 1, both
programs compute ``ŷ_y - 1`` from numbers of size 1 and the whole gradient is that small, so its relative
error is ~1e-16 / 1e-6 in either program."""

TORCH_MISSING = ("PyTorch is not installed; install it with pip install torch==2.13.0 "
                 "(the CPU build) or the [torch] extra")


class TorchNotInstalled(ScratchnetError):
    """PyTorch, needed only for the autograd comparison, cannot be imported."""


def import_torch():
    """The ``torch`` module, or `TorchNotInstalled` with a message that says how to install it."""
    try:
        import torch
    except ImportError:
        raise TorchNotInstalled(TORCH_MISSING) from None
    return torch


def torch_loss_and_grads(sizes, activations, weights, X, y):
    """Mean cross-entropy loss and ``∂L/∂W_l`` by PyTorch autograd, in float64.

    Parameters
    ----------
    sizes : sequence of int ``[n_0, …, n_L]``; activations : sequence of str, one per layer
    weights : list of ndarray, ``W_l`` of shape ``(n_{l-1} + 1, n_l)``, row 0 the bias
    X : ndarray (B, n_0), floats; y : ndarray (B,), integer labels

    Returns
    -------
    loss : float
    grads : list of ndarray (float64), shaped like ``weights``
    """
    torch = import_torch()
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    Ws = [torch.tensor(np.asarray(W, dtype=np.float64), requires_grad=True) for W in weights]
    H = torch.tensor(np.asarray(X, dtype=np.float64))
    ones = torch.ones((H.shape[0], 1), dtype=torch.float64)
    for l, (W, f) in enumerate(zip(Ws, activations), start=1):
        z = torch.cat([ones, H], dim=1) @ W                      # z_l = [1 H_{l-1}] W_l
        H = z if l == len(Ws) else act[f](z)                     # H_l = f(z_l); softmax is in the loss
    loss = torch.nn.functional.cross_entropy(z, torch.as_tensor(np.asarray(y), dtype=torch.int64))
    loss.backward()
    return float(loss.item()), [W.grad.numpy().copy() for W in Ws]


@dataclass(frozen=True)
class TorchComparison:
    """scratchnet's ``loss_and_grads`` against PyTorch autograd, both in float64.

    ``layers`` holds, per ``W_l``, a dict with ``layer``, ``max_abs_error``, ``max_rel_error`` and the
    ``worst`` entry; ``loss_rel_error`` compares the two losses.
    """

    loss: float
    torch_loss: float
    loss_rel_error: float
    layers: tuple
    rtol: float = TORCH_RTOL

    @property
    def max_rel_error(self):
        return max([self.loss_rel_error] + [r["max_rel_error"] for r in self.layers])

    @property
    def passed(self):
        return bool(self.max_rel_error <= self.rtol)

    def lines(self):
        """Two lines: the relative error of each layer and of the loss, and the verdict."""
        parts = [f"W{r['layer']} {r['max_rel_error']:.1e}" for r in self.layers]
        verdict = "PASS" if self.passed else "FAIL"
        return [f"autograd rel err: {', '.join(parts)}, loss {self.loss_rel_error:.1e}",
                f"{verdict}: PyTorch autograd (float64) agrees to {self.max_rel_error:.1e} relative "
                f"error (limit {self.rtol:g})" if self.passed else
                f"{verdict}: PyTorch autograd (float64) differs by {self.max_rel_error:.1e} relative "
                f"error (limit {self.rtol:g})"]

    def __str__(self):
        return "\n".join(self.lines())

    def to_dict(self):
        return {"passed": self.passed, "rtol": self.rtol, "max_rel_error": self.max_rel_error,
                "loss": self.loss, "torch_loss": self.torch_loss,
                "loss_rel_error": self.loss_rel_error, "layers": list(self.layers)}


def compare_with_torch(net, X, y):
    """Compare ``net.loss_and_grads(X, y)`` (run in float64) with `torch_loss_and_grads`.

    Parameters
    ----------
    net : Network, any dtype (a float64 copy is compared); X : ndarray (B, n_0); y : ndarray (B,)

    Returns
    -------
    TorchComparison
    """
    import_torch()
    net64 = net.astype("float64")
    X = net64.as_input(X)
    loss, grads = net64.loss_and_grads(X, y)
    torch_loss, torch_grads = torch_loss_and_grads(net64.sizes, net64.activations, net64.weights, X, y)
    layers = []
    for l, (a, t) in enumerate(zip(grads, torch_grads), start=1):
        abs_error = np.abs(a - t)
        floor = max(TORCH_FLOOR * np.abs(t).max(), np.finfo(np.float64).tiny)
        rel_error = abs_error / np.maximum(np.maximum(np.abs(a), np.abs(t)), floor)
        worst = np.unravel_index(int(np.argmax(rel_error)), a.shape)
        layers.append({"layer": l, "max_abs_error": float(abs_error.max()),
                       "max_rel_error": float(rel_error.max()), "worst": [int(worst[0]), int(worst[1])]})
    loss_rel_error = abs(loss - torch_loss) / max(abs(loss), abs(torch_loss), np.finfo(np.float64).tiny)
    return TorchComparison(loss=float(loss), torch_loss=torch_loss, loss_rel_error=float(loss_rel_error),
                           layers=tuple(layers))

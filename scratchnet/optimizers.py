"""Optimisers that update all weights at once, as one flat vector.

The network keeps every ``W_l`` as a view of one flat array ``params`` and the trainer writes every
``∂L/∂W_l`` into one flat array ``grads``, so an update is a handful of in-place vector operations no
matter how many layers there are. Each optimiser keeps its state (velocity, moments) in flat arrays of
the same length, allocated once.

``OPTIMIZERS[name](params)`` builds one; ``opt.step(params, grads, lr)`` updates ``params`` in place.
"""

import math

import numpy as np

from .fused import blocked


def sgd_update(W, g, u, lr):
    """``W ← W - lr g``. ``W, g, u (P,)``; ``u`` is scratch space."""
    np.multiply(g, -lr, out=u)
    W += u


def momentum_update(W, g, v, u, mu, lr):
    """``v ← μ v - lr g``, ``W ← W + v``. ``W, g, v, u (P,)``; ``u`` is scratch space."""
    v *= mu
    np.multiply(g, lr, out=u)
    v -= u
    W += v


def adam_update(W, g, M, V, u, b1, b2, c1, e):
    """One Adam step in ten passes: ``M ← β1 M + g``, ``V ← β2 V + g²``, ``W ← W - c1 M / (√V + e)``.

    ``W, g, M, V, u (P,)``, ``u`` scratch space; the scalars are Python floats (so float32 arrays stay
    float32): ``e = ε / c2`` and ``c1`` as in `Adam`.
    """
    M *= b1
    M += g                                   # M ← β1 M + g
    np.multiply(g, g, out=u)
    V *= b2
    V += u                                   # V ← β2 V + g²
    np.sqrt(V, out=u)
    u += e
    np.divide(M, u, out=u)
    u *= c1
    W -= u                                   # W ← W - c1 M / (√V + ε/c2)


class SGD:
    """Plain gradient descent: ``W ← W - lr ∂L/∂W``."""

    def __init__(self, params):
        self.update = np.zeros_like(params)    # scratch space; zeros, so a checkpoint saves finite numbers

    def step(self, params, grads, lr):
        """Update ``params (P,)`` in place from ``grads (P,)``."""
        blocked(sgd_update, (params, grads, self.update), lr)


class Momentum:
    """Heavy-ball momentum: ``v ← μ v - lr ∂L/∂W``, ``W ← W + v``."""

    def __init__(self, params, mu=0.9):
        self.mu = mu
        self.v = np.zeros_like(params)
        self.update = np.zeros_like(params)    # scratch space; zeros, so a checkpoint saves finite numbers

    def step(self, params, grads, lr):
        """Update ``params (P,)`` in place from ``grads (P,)``."""
        blocked(momentum_update, (params, grads, self.v, self.update), self.mu, lr)


class Adam:
    """Adam (Kingma & Ba, 2015).

    The paper's update, with ``t`` the step count::

        m ← β1 m + (1-β1) g,   v ← β2 v + (1-β2) g²,   W ← W - lr m̂ / (√v̂ + ε),
        m̂ = m / (1-β1^t),      v̂ = v / (1-β2^t)

    The moments are stored without their ``(1-β)`` factors, ``M = m / (1-β1)`` and ``V = v / (1-β2)``, and
    the constant factors are folded into two scalars, so a step is ten passes over the flat arrays
    (`adam_update`)::

        M ← β1 M + g,   V ← β2 V + g²,   W ← W - c1 M / (√V + ε / c2),
        c2 = √((1-β2) / (1-β2^t)),   c1 = lr (1-β1) / ((1-β1^t) c2)

    which is the same update, number for number (``tests/test_optimizers.py`` checks it against the paper).
    For float32 weights the update runs as its compiled twin, one vectorised numba pass
    (`scratchnet.fused.compiled_kernel`); without numba (or with ``SCRATCHNET_COMPILED=0``) large
    networks run the NumPy kernel block by block on every core (`scratchnet.fused.blocked`). The
    numbers are the same, to the bit.
    """

    def __init__(self, params, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.M = np.zeros_like(params)
        self.V = np.zeros_like(params)
        self.t = 0
        self.update = np.zeros_like(params)    # scratch space; zeros, so a checkpoint saves finite numbers

    def step(self, params, grads, lr):
        """Update ``params (P,)`` in place from ``grads (P,)``."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        c2 = math.sqrt((1 - b2) / (1 - b2 ** self.t))        # Python floats: float32 stays float32
        c1 = lr * (1 - b1) / ((1 - b1 ** self.t) * c2)
        blocked(adam_update, (params, grads, self.M, self.V, self.update), b1, b2, c1, self.eps / c2,
                compiled="adam")                                  # float32: one compiled pass


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}

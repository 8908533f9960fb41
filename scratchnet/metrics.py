"""Classification metrics from a confusion matrix: counts, per-class precision, recall and F1.

Notation: ``C[i, j]`` is the number of examples whose true class is ``i`` and whose predicted class is
``j``. For class ``k``::

    TP_k = C[k, k]                       (correct, class k)
    precision_k = TP_k / Σ_i C[i, k]     (of all predicted k, the share that really are k)
    recall_k    = TP_k / Σ_j C[k, j]     (of all true k, the share predicted k)
    F1_k        = 2 precision_k recall_k / (precision_k + recall_k)

A ratio whose denominator is zero (a class never predicted, or never present) is reported as 0, as
scikit-learn does by default.
"""

from dataclasses import dataclass

import numpy as np

from .errors import ScratchnetError


def confusion_matrix(y_true, y_pred, n_classes=10):
    """Counts of (true, predicted) pairs.

    Parameters
    ----------
    y_true, y_pred : array of int (N,), labels in ``[0, n_classes)``
    n_classes : int

    Returns
    -------
    C : ndarray of int64 (n_classes, n_classes), ``C[i, j]`` = number with true ``i`` predicted ``j``
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ScratchnetError(f"true and predicted labels must be two vectors of one length, "
                              f"got shapes {y_true.shape} and {y_pred.shape}")
    for name, y in (("true", y_true), ("predicted", y_pred)):
        if len(y) and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes):
            raise ScratchnetError(f"{name} labels must be integers in [0, {n_classes})")
    flat = y_true.astype(np.int64) * n_classes + y_pred.astype(np.int64)   # one index per cell
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _ratio(num, den):
    """``num / den`` elementwise, 0 where ``den`` is 0."""
    num = np.asarray(num, np.float64)
    den = np.asarray(den, np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


@dataclass
class ClassReport:
    """Per-class metrics, each an array ``(K,)``, and the overall accuracy."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    """Number of true examples of each class, ``Σ_j C[k, j]``."""
    accuracy: float

    def rows(self):
        """One dict per class: ``class`` (the label), ``precision``, ``recall``, ``f1``, ``support``."""
        return [{"class": k, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                for k, (p, r, f, s) in enumerate(zip(self.precision, self.recall, self.f1, self.support))]

    @property
    def macro(self):
        """Unweighted means over the classes: ``(precision, recall, f1)``."""
        return float(self.precision.mean()), float(self.recall.mean()), float(self.f1.mean())


def per_class(C):
    """Precision, recall and F1 of every class from a confusion matrix ``C (K, K)``; returns `ClassReport`."""
    C = np.asarray(C)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ScratchnetError(f"a confusion matrix must be square, got shape {C.shape}")
    tp = np.diag(C)
    predicted = C.sum(axis=0)           # Σ_i C[i, k]
    actual = C.sum(axis=1)              # Σ_j C[k, j]
    precision = _ratio(tp, predicted)
    recall = _ratio(tp, actual)
    f1 = _ratio(2 * precision * recall, precision + recall)
    total = C.sum()
    accuracy = float(tp.sum() / total) if total else 0.0
    return ClassReport(precision, recall, f1, actual.astype(np.int64), accuracy)


def confident_mistakes(y, P, n=None):
    """Indices of the misclassified examples, the most confident mistake first.

    Parameters
    ----------
    y : ndarray (N,), true labels
    P : ndarray (N, K), predicted probabilities ``ŷ``
    n : int, optional, return at most this many

    Returns
    -------
    ndarray (k,) of int: the ``i`` with ``argmax P[i] != y[i]``, sorted by ``max P[i]`` descending (ties
    keep the data set's order)
    """
    P = np.asarray(P)
    predicted = P.argmax(axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(y))
    order = wrong[np.argsort(-P[wrong, predicted[wrong]], kind="stable")]
    return order if n is None else order[:n]

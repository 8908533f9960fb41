"""Your own data: a labelled set of pictures as arrays, its class names, and the checks every loader shares.

A `DataSet` is what every loader (`load_folder`, `load_csv`, `load_npz`, `load_idx`) returns::

    X            uint8 (N, n_0)   pixels 0…255 row by row (a 28×28 picture is 784 of them)
    y            int64 (N,)       labels 0…K-1, label k meaning class_names[k]
    class_names  K str            e.g. ("0", …, "9"), or a folder's class folders ("cat", "dog")

Class names come from the data: the folder names, the text labels of a CSV, an ``.npz``'s ``class_names``,
or, for numbered labels, the numbers themselves (``"0" … "K-1"``; the labels must number the classes
without gaps). Anything wrong is one `BadData` line naming the file and the row or picture.

`scratchnet.data.loading` picks the loader from the path and loads a training set with its test set.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ScratchnetError

MAX_CLASSES = 1000
"""Most classes a data set may have."""
MAX_NAME = 100
"""Longest class name, in characters."""


class BadData(ScratchnetError):
    """Data that cannot be trained on; the message names the file and the row or picture."""

    def __init__(self, message):
        super().__init__(message, field="data")


@dataclass
class DataSet:
    """A labelled set of ``N`` pictures (see the module docstring for the arrays' shapes)."""

    X: np.ndarray
    y: np.ndarray
    class_names: tuple
    source: str
    """The path the set was read from, as given."""
    sha256: str
    """SHA-256 of the file's bytes (of every picture's path and bytes, for a folder)."""
    skipped: tuple = field(default=())
    """Pictures left out with ``skip_bad`` (their paths)."""

    def __len__(self):
        return len(self.y)

    @property
    def n_inputs(self):
        return self.X.shape[1]

    @property
    def n_classes(self):
        return len(self.class_names)

    def subset(self, rows, source=None):
        """The rows ``rows`` (an index array) as a new `DataSet` with the same classes."""
        return DataSet(self.X[rows], self.y[rows], self.class_names, source or self.source, self.sha256,
                       self.skipped)

    def __repr__(self):
        return (f"DataSet({self.source!r}: {len(self):,} pictures of {self.n_inputs} pixels, "
                f"{self.n_classes} classes {', '.join(self.class_names[:5])}"
                f"{', …' if self.n_classes > 5 else ''})")


# --------------------------------------------------------------------------- class names and labels

def check_class_names(names, where):
    """Refuse class names that cannot name a model's outputs: fewer than two, too many, empty, too long,
    repeated, or differing only in case (``Cat`` and ``cat``, which a Mac or Windows disk holds as one)."""
    names = tuple(names)
    if len(names) < 2:
        raise BadData(f"{where} holds a single class ({', '.join(names) or 'none'}); a classifier needs at "
                      "least two")
    if len(names) > MAX_CLASSES:
        raise BadData(f"{where} holds {len(names):,} classes; scratchnet takes at most {MAX_CLASSES}")
    seen = {}
    for name in names:
        if not name.strip() or len(name) > MAX_NAME or "\n" in name:
            raise BadData(f"{where}: the class name {name[:40]!r} is empty, a line break or longer than "
                          f"{MAX_NAME} characters")
        key = name.casefold()
        if key in seen:
            if seen[key] == name:
                raise BadData(f"{where}: the class {name!r} appears twice")
            raise BadData(f"{where}: the classes {seen[key]!r} and {name!r} differ only in case; merge or "
                          "rename one")
        seen[key] = name
    return names


def numbered_classes(labels, where, line_of):
    """Class names ``"0" … "K-1"`` for integer labels ``(N,)``; refused when a label is negative or leaves
    a gap (a class with no rows). ``line_of(i)`` says where row ``i`` is, e.g. ``"train.csv line 3"``."""
    labels = np.asarray(labels)
    if len(labels) == 0:
        raise BadData(f"{where} holds no rows")
    if labels.min() < 0:
        i = int(np.argmax(labels < 0))
        raise BadData(f"{line_of(i)}: label {labels[i]} is negative; numbered labels are 0, 1, 2, …")
    if labels.max() >= MAX_CLASSES:
        i = int(np.argmax(labels >= MAX_CLASSES))
        raise BadData(f"{line_of(i)}: label {labels[i]} is outside the classes (at most {MAX_CLASSES} "
                      "classes, numbered 0, 1, 2, …)")
    present = np.bincount(labels.astype(np.int64), minlength=int(labels.max()) + 1)
    missing = np.flatnonzero(present == 0)
    if len(missing):
        i = int(np.argmax(labels > missing[0]))
        raise BadData(f"{line_of(i)}: label {labels[i]} is outside the classes 0…{missing[0] - 1} (no row "
                      f"has label {missing[0]}; numbered labels must count 0, 1, 2, … without gaps)")
    names = tuple(str(k) for k in range(len(present)))
    return labels.astype(np.int64), check_class_names(names, where)


def text_classes(labels, where):
    """Integer labels and sorted class names for text labels ``(N,)`` such as ``"cat"``, ``"dog"``."""
    names, y = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    return y.astype(np.int64), check_class_names([str(n) for n in names], where)


def check_pixels(X, line_of):
    """``X (N, n_0)`` as uint8, if every value is a whole number in 0…255 (else one line naming the row)."""
    X = np.asarray(X)
    if X.dtype == np.uint8:
        return X
    if X.dtype.kind == "f":
        bad = ~np.isfinite(X).all(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            raise BadData(f"{line_of(i)}: a pixel is NaN or infinite; pixels are whole numbers 0…255")
    if X.dtype.kind not in "fiub":
        raise BadData(f"{line_of(0)}: pixels are {X.dtype} values, not numbers 0…255")
    bad = ((X < 0) | (X > 255)).any(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        value = X[i][(X[i] < 0) | (X[i] > 255)][0]
        raise BadData(f"{line_of(i)}: pixel value {value:g} is outside 0…255")
    if X.dtype.kind == "f":
        bad = (X != np.round(X)).any(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            value = X[i][X[i] != np.round(X[i])][0]
            raise BadData(f"{line_of(i)}: pixel value {value:g} is not a whole number 0…255")
    return X.astype(np.uint8)


def with_classes_of(test, train):
    """``test`` relabelled with ``train``'s class numbers, so that class ``k`` means the same in both.

    Refused when the pictures differ in size or the test set holds a class the training set lacks."""
    return relabel(test, train.class_names, train.n_inputs, f"the training data {train.source}")


def relabel(test, class_names, n_inputs, what):
    """``test`` with its labels renumbered to ``class_names`` (the classes of ``what``, e.g. a model),
    if its pictures have ``n_inputs`` pixels and every class of it is one of ``class_names``."""
    if test.n_inputs != n_inputs:
        raise BadData(f"{test.source} has pictures of {test.n_inputs} pixels, but {what} takes {n_inputs}; "
                      "give test data of the same size")
    index = {name: k for k, name in enumerate(class_names)}
    lacking = [name for name in test.class_names if name not in index]
    if lacking:
        where = np.flatnonzero(np.isin(test.y, [test.class_names.index(n) for n in lacking]))
        shown = ", ".join(repr(n) for n in lacking[:5]) + (", …" if len(lacking) > 5 else "")
        raise BadData(f"{test.source} holds the class{'es' if len(lacking) > 1 else ''} {shown} "
                      f"({len(where):,} pictures), which {what} lacks "
                      f"(its classes: {', '.join(class_names[:12])}{', …' if len(class_names) > 12 else ''})")
    mapping = np.array([index[name] for name in test.class_names], dtype=np.int64)
    return DataSet(test.X, mapping[test.y], tuple(class_names), test.source, test.sha256, test.skipped)


def split(data, fraction, seed=0):
    """``(train, test)``: a random ``fraction`` of ``data``'s rows held out as a test set.

    The split is drawn from ``numpy.random.default_rng(seed)``, so the same data and seed give the same
    split (``evaluate`` repeats it). Both parts must keep at least one row.
    """
    if not 0 < fraction < 1:
        raise ScratchnetError(f"the test split must be a share between 0 and 1, e.g. 0.2, got {fraction}",
                              field="test_split")
    n_test = int(round(fraction * len(data)))
    if n_test < 1 or n_test >= len(data):
        raise BadData(f"{data.source} has {len(data):,} pictures, too few to hold out {fraction:g} of them "
                      "as a test set; give more data or --test-data")
    order = np.random.default_rng(seed).permutation(len(data))
    test_rows, train_rows = np.sort(order[:n_test]), np.sort(order[n_test:])
    train = data.subset(train_rows)
    if len(np.unique(train.y)) < 2:
        raise BadData(f"{data.source}: the training part of the split holds a single class")
    return train, data.subset(test_rows)


PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
"""What a class folder's pictures may be."""

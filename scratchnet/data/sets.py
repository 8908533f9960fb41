"""Your own data: a labelled set of pictures as arrays, its class names, and the checks every loader shares.

A `DataSet` is what every loader (`load_folder`, `load_csv`, `load_npz`, `load_idx`) returns::

    X            uint8 (N, n_0)   pixels 0…255 row by row (a 28×28 picture is 784 of them)
    y            int64 (N,)       labels 0…K-1, label k meaning class_names[k]
    class_names  K str            e.g. ("0", …, "9"), or a folder's class folders ("cat", "dog")

Class names come from the data: the folder names, the text labels of a CSV, an ``.npz``'s ``class_names``,
or, for numbered labels, the numbers themselves (``"0" … "K-1"``; the labels must number the classes
without gaps). Anything wrong is one `BadData` line naming the file and the row or picture.

`load_data` picks the loader from the path; `training_data` loads a training set and its test set (a
second path, or a share held out of the first) and checks that they fit each other.
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


# --------------------------------------------------------------------------- choosing the loader

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def kind_of(path):
    """``"folder"``, ``"csv"``, ``"npz"`` or ``"idx"`` for a data path, by what it is and its name."""
    path = Path(path)
    if not path.exists():
        raise ScratchnetError(f"data {path} does not exist; give a folder of class folders, a .csv, an .npz "
                              "or an IDX file", field="data")
    name = path.name.lower().removesuffix(".gz")
    if path.is_dir():
        if any(p.is_dir() and not p.name.startswith(".") for p in path.iterdir()):
            return "folder"
        if any("idx3" in p.name.lower() for p in path.iterdir()):
            return "idx"
        return "folder"                           # no class folders: load_folder says so
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".npz"):
        return "npz"
    if "idx" in name or name.endswith(".ubyte"):
        return "idx"
    raise ScratchnetError(f"cannot tell what kind of data {path} is; give a folder of class folders, a .csv, "
                          "an .npz or an IDX file (…-idx3-ubyte)", field="data")


def load_data(path, *, skip_bad=False, cache=True, on_progress=None, on_message=None):
    """Load a data set from a folder of class folders, a ``.csv``, an ``.npz`` or IDX files.

    Parameters
    ----------
    path : a folder of class folders of pictures (`load_folder`), a Kaggle-layout CSV (`load_csv`), an
        ``.npz`` with ``X``, ``y`` and optionally ``class_names`` (`load_npz`), or an IDX images file (or a
        folder holding one) with its labels file beside it (`load_idx`)
    skip_bad : leave out unreadable pictures (folders only) instead of refusing the data
    cache : keep the converted arrays in the cache, keyed by the data's SHA-256, and reuse them
    on_progress : callable ``(done, total)``, optional, as the data is read
    on_message : callable ``(str)``, optional, hears what was skipped or reused

    Returns
    -------
    DataSet
    """
    from . import arrays, csvfile, folder
    loaders = {"folder": folder.load_folder, "csv": csvfile.load_csv, "npz": arrays.load_npz,
               "idx": arrays.load_idx}
    kind = kind_of(path)
    options = {"skip_bad": skip_bad} if kind == "folder" else {}
    return loaders[kind](path, cache=cache, on_progress=on_progress, on_message=on_message, **options)


@dataclass
class TrainingData:
    """A training set and its test set, with the same classes; ``spec`` says how to load them again."""

    train: DataSet
    test: DataSet
    spec: dict
    """``{"data", "test_data", "test_split", "split_seed", "skip_bad"}`` (paths absolute)."""

    @property
    def class_names(self):
        return self.train.class_names

    @property
    def n_inputs(self):
        return self.train.n_inputs

    @property
    def n_classes(self):
        return self.train.n_classes

    @property
    def name(self):
        """The training data's file or folder name, e.g. ``digits`` or ``train.csv``."""
        return Path(self.spec["data"]).name

    def sha256(self):
        """``{"data": …, "test_data": …}``: the content hashes of the files read."""
        out = {"data": self.train.sha256}
        if self.spec.get("test_data"):
            out["test_data"] = self.test.sha256
        return out

    def check_sizes(self, sizes):
        """Refuse layer sizes that do not start with the input size or end with the class count."""
        check_sizes(sizes, self.n_inputs, self.n_classes, self.train.source)


def check_sizes(sizes, n_inputs, n_classes, what):
    """Refuse layer sizes ``[n_0, …, n_L]`` unless ``n_0`` is the data's input size and ``n_L`` its number of
    classes (``field="sizes"``)."""
    sizes = list(sizes)
    if sizes and sizes[0] == n_inputs and sizes[-1] == n_classes:
        return
    wanted = [n_inputs] + sizes[1:-1] + [n_classes]
    raise ScratchnetError(f"{what} has {n_inputs} inputs and {n_classes} classes, but the layer sizes are "
                          f"{','.join(map(str, sizes))}; start with {n_inputs} and end with {n_classes}, "
                          f"e.g. {','.join(map(str, wanted))}", field="sizes")


def training_data(data, test_data=None, test_split=None, *, split_seed=0, skip_bad=False, cache=True,
                  on_progress=None, on_message=None):
    """Load training data and its test set: ``test_data`` (a path) or ``test_split`` (a share of ``data``,
    default 0.2 when neither is given), with the test set's classes checked against the training set's.

    ``on_progress`` is called as ``(what, done, total)``, ``what`` the path being read. Returns a
    `TrainingData`.
    """
    if test_data is not None and test_split is not None:
        raise ScratchnetError("give a test set or a test split, not both", field="test_split")

    def progress_of(path):
        return None if on_progress is None else (lambda done, total: on_progress(str(path), done, total))

    full = load_data(data, skip_bad=skip_bad, cache=cache, on_progress=progress_of(data), on_message=on_message)
    if test_data is not None:
        test = load_data(test_data, skip_bad=skip_bad, cache=cache, on_progress=progress_of(test_data),
                         on_message=on_message)
        train, test = full, with_classes_of(test, full)
        fraction = None
    else:
        fraction = 0.2 if test_split is None else float(test_split)
        train, test = split(full, fraction, split_seed)
    spec = {"data": str(Path(data).absolute()),
            "test_data": None if test_data is None else str(Path(test_data).absolute()),
            "test_split": fraction, "split_seed": split_seed, "skip_bad": bool(skip_bad)}
    return TrainingData(train, test, spec)


def from_spec(spec, *, cache=True, on_progress=None, on_message=None):
    """The `TrainingData` that ``spec`` (a `TrainingData.spec`, e.g. from a model file) describes."""
    if not isinstance(spec, dict) or not isinstance(spec.get("data"), str):
        raise ScratchnetError("the record of the data trained on is damaged; give the data again")
    return training_data(spec["data"], spec.get("test_data"), spec.get("test_split") if not spec.get("test_data")
                         else None, split_seed=int(spec.get("split_seed") or 0),
                         skip_bad=bool(spec.get("skip_bad")), cache=cache, on_progress=on_progress,
                         on_message=on_message)

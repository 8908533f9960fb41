"""Pictures that are already arrays: an ``.npz`` with ``X``, ``y`` (and ``class_names``), or IDX files.

``.npz``: ``X`` ``(N, n_0)`` or ``(N, h, w)``, whole numbers 0…255 (any integer or float dtype); ``y``
``(N,)``, integer labels (numbering ``class_names`` when it is given, else ``0 … K-1`` without gaps) or
text labels; ``class_names`` ``(K,)`` text, optional. It is read with ``np.load(allow_pickle=False)``:
an array of Python objects is refused, never unpickled, and the arrays' sizes (from the zip directory)
must fit in memory before anything is read.

IDX (MNIST's own format): an images file such as ``train-images-idx3-ubyte`` (raw or ``.gz``) and its
labels file beside it, found by name (``images`` → ``labels``, ``idx3`` → ``idx1``); or a folder holding
one such pair (or several, one of them named ``train``).
"""

import zipfile
from pathlib import Path

import numpy as np

from ..errors import ScratchnetError
from ..memory import require
from . import converted
from .idx import read_idx
from .sets import BadData, DataSet, check_class_names, check_pixels, numbered_classes, text_classes


def _check_file(path):
    path = Path(path)
    if not path.is_file():
        raise ScratchnetError(f"{path} does not exist or is not a file", field="data")
    try:
        return converted.Hasher().add_file(path).hexdigest()
    except PermissionError:
        raise ScratchnetError(f"cannot read {path}: permission denied", field="data") from None
    except OSError as e:
        raise ScratchnetError(f"cannot read {path}: {e.strerror or e}", field="data") from None


def _labels(y, names, name):
    """Integer labels and class names from ``y (N,)`` and the optional ``class_names`` of the file."""
    line_of = lambda i: f"{name}: y[{i}]"               # noqa: E731
    if y.dtype.kind in "US":
        text = y.astype(str)
        if names is None:
            return text_classes(text, name)
        index = {n: k for k, n in enumerate(names)}
        unknown = np.flatnonzero(~np.isin(text, list(names)))
        if len(unknown):
            i = int(unknown[0])
            raise BadData(f"{line_of(i)} = {text[i][:40]!r} is not one of its class_names")
        return np.array([index[t] for t in text], np.int64), names
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.argmax(bad))
            raise BadData(f"{line_of(i)} = {y[i]} is not a whole number")
    elif y.dtype.kind not in "iub":
        raise BadData(f"{name}: y holds {y.dtype} values; labels are whole numbers or text")
    if names is None:
        return numbered_classes(y.astype(np.int64), name, line_of)
    outside = np.flatnonzero((y < 0) | (y >= len(names)))
    if len(outside):
        i = int(outside[0])
        raise BadData(f"{line_of(i)} = {y[i]:g} is outside the classes 0…{len(names) - 1} (class_names has "
                      f"{len(names)})")
    return y.astype(np.int64), names


def _pictures(X, name, N):
    if X.ndim not in (2, 3) or len(X) != N or X.shape[0] == 0 or X[0].size == 0:
        raise BadData(f"{name}: X is {X.shape}; it must be (N, n_0) or (N, height, width) with the N = {N} of y")
    return check_pixels(X.reshape(len(X), -1), lambda i: f"{name}: X[{i}]")


def load_npz(path, *, cache=True, on_progress=None, on_message=None):
    """Load an ``.npz`` with ``X``, ``y`` and optionally ``class_names`` (see the module docstring) as a
    `DataSet`. Already arrays, it is not cached (``cache`` is accepted for symmetry)."""
    name = str(path)
    sha = _check_file(path)
    try:
        with zipfile.ZipFile(path) as z:
            sizes = {info.filename.removesuffix(".npy"): info.file_size for info in z.infolist()}
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BadData(f"{name} is not a readable .npz file (not a zip archive, or cut short)") from None
    for needed in ("X", "y"):
        if needed not in sizes:
            raise BadData(f"{name} has no array {needed!r} (it holds {', '.join(sorted(sizes)) or 'nothing'}); "
                          "save it with np.savez(path, X=pictures, y=labels, class_names=names)")
    require(2 * sum(sizes.get(k, 0) for k in ("X", "y", "class_names")), f"loading {name}",
            hint="give a smaller data set")
    arrays = {}
    try:
        with np.load(path, allow_pickle=False) as f:
            for key in ("X", "y", "class_names"):
                if key in sizes:
                    arrays[key] = f[key]
    except ValueError as e:
        if "allow_pickle" in str(e) or "pickle" in str(e):
            raise BadData(f"{name} holds Python objects, which are never loaded (no pickle); save plain "
                          "arrays of numbers, and class names as a text array") from None
        raise BadData(f"{name} holds an array that cannot be read ({str(e)[:80]})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise BadData(f"{name} is damaged or cut short ({type(e).__name__})") from None
    y = arrays["y"]
    if y.ndim != 1 or len(y) == 0:
        raise BadData(f"{name}: y is {y.shape}; it must be one label per picture, (N,)")
    names = None
    if "class_names" in arrays:
        cn = arrays["class_names"]
        if cn.dtype.kind not in "US" or cn.ndim != 1:
            raise BadData(f"{name}: class_names is {cn.dtype} {cn.shape}; it must be a list of text")
        names = check_class_names([str(n) for n in cn.astype(str)], f"{name}'s class_names")
    y, names = _labels(y, names, name)
    X = _pictures(arrays["X"], name, len(y))
    if on_progress is not None:
        on_progress(1, 1)
    return DataSet(X, y, tuple(names), name, sha)


def find_idx_pair(path):
    """``(images, labels)`` paths for an IDX images file or a folder holding one (see the module docstring)."""
    path = Path(path)
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if "idx3" in p.name.lower() and p.is_file())
        if len(images) > 1:
            train = [p for p in images if "train" in p.name.lower()]
            if len(train) != 1:
                raise ScratchnetError(f"{path} holds several IDX images files ({', '.join(p.name for p in images)});"
                                      " give the one to use", field="data")
            images = train
        if not images:
            raise ScratchnetError(f"{path} holds no IDX images file (…-idx3-ubyte)", field="data")
        path = images[0]
    name = path.name
    if "idx1" in name.lower():
        raise ScratchnetError(f"{path} is an IDX labels file; give its images file (…-idx3-ubyte)", field="data")
    candidate = name.replace("images", "labels").replace("idx3", "idx1")
    for labels in (path.with_name(candidate), path.with_name(candidate.removesuffix(".gz")),
                   path.with_name(candidate.removesuffix(".gz") + ".gz")):
        if candidate != name and labels.is_file():
            return path, labels
    raise ScratchnetError(f"no labels file beside {path}: expected {path.with_name(candidate)}", field="data")


def load_idx(path, *, cache=True, on_progress=None, on_message=None):
    """Load IDX images and their labels (see the module docstring) as a `DataSet`; class names are the
    labels' numbers."""
    images_path, labels_path = find_idx_pair(path)
    sha = converted.Hasher()
    for p in (images_path, labels_path):
        sha.add_text(p.name).add_text(_check_file(p))
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim not in (2, 3) or labels.ndim != 1 or len(images) != len(labels):
        raise BadData(f"{images_path} holds {images.shape} and {labels_path} holds {labels.shape}; expected N "
                      "pictures and N labels")
    y, names = numbered_classes(labels.astype(np.int64), str(labels_path), lambda i: f"{labels_path}: label {i}")
    if on_progress is not None:
        on_progress(1, 1)
    return DataSet(images.reshape(len(images), -1), y, names, str(images_path), sha.hexdigest())

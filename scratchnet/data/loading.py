"""Choosing the loader from a path, and a training set with its test set that fit each other.

`load_data` picks the loader (`load_folder`, `load_csv`, `load_npz`, `load_idx`) from what the path is;
`training_data` loads a training set and its test set (a second path, or a share held out of the first)
and checks that their classes agree; `from_spec` loads them again from a model file's record.
"""

from dataclasses import dataclass
from pathlib import Path

from ..errors import ScratchnetError
from . import arrays, csvfile, folder
from .sets import DataSet, split, with_classes_of

# --------------------------------------------------------------------------- choosing the loader

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

"""Beyond Python: the point as files for code in MATLAB, Julia, JavaScript …, and their gradients back.

`export_point` writes the weights, the batch ``X`` and the one-hot ``Y`` of one random point, in the
learner's notation, as ``.npy`` and ``.csv`` (comma-separated, one matrix row per line), with a
``README.txt`` of the shapes and ``checkcode.json`` (what the point is). The learner computes their
gradients with their own code and saves them beside it as ``dW1.csv`` … (or ``.npy``; with a separate
bias also ``db1`` …); `check_saved` reads them back and checks them as `check_code` checks a function.
Nothing is overwritten, and no file is read with pickle.
"""

import json
import os

import numpy as np

from ..errors import ScratchnetError
from .analyse import analyse
from .failures import LearnerCodeError
from .notation import learner_inputs
from .point import Point, random_point
from .result import CodeCheckResult
from .runner import Outcome
from .spec import make_spec

FORMAT = "scratchnet-check-code-point"
VERSION = 1
MAX_FILE_BYTES = 200_000_000


def _names(spec):
    names = []
    for l in range(1, spec.L + 1):
        names.append(f"W{l}")
        if spec.bias == "separate":
            names.append(f"b{l}")
    return names + ["X", "Y"]


def export_point(directory, sizes, activations=None, *, bias="row", convention="row", batch=4, loss="ce",
                 output=None, seed=0):
    """Write the point of ``check_code``'s options (at batch ``batch``) into ``directory`` (created if
    needed; refused if it already holds any of the files). Returns the list of paths written."""
    spec = make_spec(sizes, activations, bias, convention, loss, output)
    if not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ScratchnetError(f"the batch must be a positive number of examples, got {batch!r}", field="batch")
    point = random_point(spec, int(batch), np.random.default_rng(seed))
    weights, X, Y = learner_inputs(spec, point)
    arrays = {}
    for l, w in enumerate(weights, start=1):
        if isinstance(w, tuple):
            arrays[f"W{l}"], arrays[f"b{l}"] = w
        else:
            arrays[f"W{l}"] = w
    arrays["X"], arrays["Y"] = X, Y
    files = [f"{n}.{ext}" for n in arrays for ext in ("npy", "csv")] + ["README.txt", "checkcode.json"]
    os.makedirs(directory, exist_ok=True)
    taken = [f for f in files if os.path.exists(os.path.join(directory, f))]
    if taken:
        raise ScratchnetError(f"{directory} already holds {', '.join(taken[:3])}: export into an empty folder",
                              field="export")
    written = []
    for name, a in arrays.items():
        np.save(os.path.join(directory, f"{name}.npy"), a)
        np.savetxt(os.path.join(directory, f"{name}.csv"), np.atleast_2d(a) if a.ndim == 1 else a,
                   delimiter=",", fmt="%.17g")
        written += [os.path.join(directory, f"{name}.{ext}") for ext in ("npy", "csv")]
    meta = {"format": FORMAT, "version": VERSION, "sizes": list(spec.sizes),
            "activations": list(spec.hidden) + [spec.output], "bias": spec.bias, "convention": spec.convention,
            "loss": spec.loss, "batch": int(batch), "seed": seed}
    with open(os.path.join(directory, "checkcode.json"), "w") as f:
        json.dump(meta, f, indent=2)
    with open(os.path.join(directory, "README.txt"), "w", encoding="utf-8") as f:
        f.write(_readme(spec, arrays, directory))
    return written + [os.path.join(directory, "checkcode.json"), os.path.join(directory, "README.txt")]


def _readme(spec, arrays, directory):
    grads = ", ".join(f"d{n} {'×'.join(map(str, arrays[n].shape))}" for n in arrays if n not in ("X", "Y"))
    lines = [f"A random point for checking your gradients: {spec.text()}, {spec.notation()} "
             f"({spec.convention} convention).", ""]
    lines += [f"  {n}.csv / {n}.npy  {'×'.join(map(str, a.shape))}" for n, a in arrays.items()]
    lines += ["", "X is the batch, Y its one-hot labels"
              + (" (one row per example)." if spec.row else " (one column per example)."),
              ("The loss is the mean cross-entropy of a softmax output." if spec.loss == "ce" else
               f"The loss is (1/2B) Σ ‖ŷ − y‖² with a {spec.output} output."),
              "", f"Save your gradients here with the same shapes: {grads}",
              "as .csv (comma-separated, one row per line) or .npy, then run",
              "", f"    scratchnet check-code --grads {directory}", ""]
    return "\n".join(lines)


def _read(directory, name, required=True):
    for ext in ("npy", "csv"):
        path = os.path.join(directory, f"{name}.{ext}")
        if os.path.exists(path):
            if os.path.getsize(path) > MAX_FILE_BYTES:
                raise LearnerCodeError(f"{path} is larger than {MAX_FILE_BYTES // 10**6} MB", "not_arrays")
            try:
                if ext == "npy":
                    return np.load(path, allow_pickle=False)
                return np.loadtxt(path, delimiter=",", ndmin=2)
            except (ValueError, OSError) as e:
                raise LearnerCodeError(f"cannot read {path} as numbers: {str(e).splitlines()[0][:160]}",
                                       "not_arrays") from None
    if required:
        raise LearnerCodeError(f"{directory} has no {name}.csv or {name}.npy", "wrong_count")
    return None


def check_saved(directory):
    """Check the gradients saved in ``directory`` beside a point from `export_point`; a `CodeCheckResult`
    at the exported batch size."""
    meta_path = os.path.join(directory, "checkcode.json")
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise ScratchnetError(f"{directory} has no checkcode.json: export a point into it first with --export",
                              field="grads") from None
    except (OSError, ValueError) as e:
        raise ScratchnetError(f"cannot read {meta_path}: {e}", field="grads") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ScratchnetError(f"{meta_path} is not a check-code point (version {VERSION})", field="grads")
    spec = make_spec(meta["sizes"], meta["activations"], meta["bias"], meta["convention"], meta["loss"])
    arrays = {n: _read(directory, n) for n in _names(spec)}
    point = _point(spec, arrays, directory)
    returned = []
    for l in range(1, spec.L + 1):
        dW = _read(directory, f"dW{l}")
        returned.append((dW, _read(directory, f"db{l}")) if spec.bias == "separate" else dW)
    run = analyse(spec, point, Outcome(returned=returned))
    return CodeCheckResult(spec, point.B, {point.B: run}, source=f"the gradients in {directory}",
                           seed=meta.get("seed"))


def _point(spec, arrays, directory):
    """The canonical `Point` from the exported arrays (as the learner's code saw them)."""
    Ws = []
    for l in range(1, spec.L + 1):
        W = np.asarray(arrays[f"W{l}"], dtype=np.float64)
        expected = spec.weight_shape(l)
        if W.shape != expected:
            raise ScratchnetError(f"W{l} in {directory} is {W.shape}, not the exported {expected}", field="grads")
        C = np.zeros((spec.sizes[l - 1] + 1, spec.sizes[l]))
        block = W if spec.row else W.T
        if spec.bias == "row":
            C[...] = block
        else:
            C[1:] = block
        if spec.bias == "separate":
            C[0] = np.asarray(arrays[f"b{l}"], dtype=np.float64).reshape(-1)
        Ws.append(C)
    X = np.asarray(arrays["X"], dtype=np.float64)
    Y = np.asarray(arrays["Y"], dtype=np.float64)
    X, Y = (X, Y) if spec.row else (X.T, Y.T)
    return Point(tuple(Ws), X, Y.argmax(axis=1), Y)

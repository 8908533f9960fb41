"""Model files: the weights and a JSON metadata entry in one ``.npz``, written atomically.

Layout: arrays ``W1 … WL`` (``W_l`` of shape ``(n_{l-1}+1, n_l)``, row 0 the bias) and ``metadata``, the
UTF-8 bytes of a JSON object (a uint8 array). The metadata holds ``format``, ``format_version``,
``sizes``, ``activations``, ``dtype`` and whatever the trainer adds (recipe, data checksums, history,
metrics).

Loading never unpickles (``allow_pickle=False``) and checks every array against the metadata, so a model
file can never run code, and a damaged or foreign file is refused with a `ScratchnetError`.
"""

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import ScratchnetError
from .network import Network, layer_shapes

FORMAT = "scratchnet-model"
FORMAT_VERSION = 1


def save(net, path, metadata=None):
    """Write ``net`` and ``metadata`` (a JSON-serialisable dict) to ``path``; returns the `Path`.

    The file is written to a temporary name in the same folder and renamed over ``path`` only when
    complete, so an interrupted save never leaves a half-written model behind.
    """
    path = Path(path)
    meta = dict(metadata or {})
    meta.update(format=FORMAT, format_version=FORMAT_VERSION, sizes=list(net.sizes),
                activations=list(net.activations), dtype=net.dtype.name)
    arrays = {f"W{l}": W for l, W in enumerate(net.weights, start=1)}
    arrays["metadata"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ScratchnetError(f"cannot save the model: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _refuse(path, why):
    raise ScratchnetError(f"{path} is not a usable scratchnet model: {why}")


def load(path):
    """Read a model file written by `save`; returns a `Network` with its ``metadata`` dict."""
    path = Path(path)
    if not path.is_file():
        raise ScratchnetError(f"model file {path} does not exist; train one with 'scratchnet train'")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        _refuse(path, f"not a readable .npz file ({type(e).__name__})")
    if "metadata" not in arrays or arrays["metadata"].dtype != np.uint8 or arrays["metadata"].ndim != 1:
        _refuse(path, "no metadata entry")
    try:
        meta = json.loads(arrays.pop("metadata").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        _refuse(path, "its metadata is not valid JSON")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        _refuse(path, "its metadata does not say it is a scratchnet model")
    if meta.get("format_version") != FORMAT_VERSION:
        _refuse(path, f"format version {meta.get('format_version')!r} is not supported "
                      f"(this scratchnet reads version {FORMAT_VERSION})")
    sizes, activations, dtype = meta.get("sizes"), meta.get("activations"), meta.get("dtype")
    if not (isinstance(sizes, list) and all(isinstance(n, int) and not isinstance(n, bool) for n in sizes)
            and isinstance(activations, list) and all(isinstance(a, str) for a in activations)):
        _refuse(path, "its metadata lacks valid 'sizes' and 'activations'")
    try:
        net = Network(sizes, activations, dtype=dtype, seed=0)
    except ScratchnetError as e:
        _refuse(path, str(e))
    expected = {f"W{l}": shape for l, shape in enumerate(layer_shapes(sizes), start=1)}
    if set(arrays) != set(expected):
        _refuse(path, f"it holds arrays {sorted(arrays)}, expected {sorted(expected)}")
    for name, shape in expected.items():
        W = arrays[name]
        if W.shape != shape or W.dtype.kind != "f":
            _refuse(path, f"{name} is {W.dtype} {W.shape}, expected float {shape}")
        if not np.all(np.isfinite(W)):
            _refuse(path, f"{name} holds NaN or infinite values")
    for W, name in zip(net.weights, expected):
        W[...] = arrays[name]
    net.metadata = meta
    return net

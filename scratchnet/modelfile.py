"""Model files: the weights and a JSON metadata entry in one ``.npz``, written atomically.

Layout: arrays ``W1 … WL`` (``W_l`` of shape ``(n_{l-1}+1, n_l)``, row 0 the bias) and ``metadata``, the
UTF-8 bytes of a JSON object (a uint8 array). The metadata holds ``format``, ``format_version``,
``sizes``, ``activations``, ``dtype`` and whatever the trainer adds (recipe, data checksums, history,
metrics, and ``class_names``: one name per output, read with `scratchnet.data.model_class_names`).

A model file may come from anywhere, so reading one trusts nothing in it (`Archive`):

- nothing is ever unpickled: an array's header is read first and anything but plain floats (or the
  metadata's bytes) is refused before its data is touched;
- the metadata is at most `MAX_METADATA_BYTES`, nested at most `MAX_DEPTH` levels, and every field
  scratchnet uses is checked for its type;
- the shapes the metadata claims are compared with each array's header and with the array's size in the
  zip directory *before* anything is allocated, and a member may not expand more than `MAX_EXPANSION`
  times its compressed size (NumPy writes them uncompressed), so a file of a few kilobytes cannot make
  scratchnet allocate gigabytes; what is left must fit in the memory available.

Anything wrong is a `ScratchnetError` whose message names the file and the problem.
"""

import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .atomic import folder_of, write_atomic
from .errors import ScratchnetError
from .memory import human, require
from .network import DTYPES, Network, layer_shapes
from .training import Epoch

FORMAT = "scratchnet-model"
FORMAT_VERSION = 1
MAX_METADATA_BYTES = 4_000_000
"""Largest metadata entry read (a 1,000-epoch history takes about 200 kB)."""
MAX_DEPTH = 16
"""Deepest nesting of lists and objects accepted in the metadata (scratchnet writes 3)."""
MAX_EXPANSION = 8
"""Largest ratio of a member's size to its compressed size (random-looking weights compress ~1.1×)."""
MAX_MEMBERS = 1000
"""Most arrays in one file."""
MAX_UNITS = 2 ** 31
"""Largest layer size accepted from a file."""
MAX_CLASS_NAME = 200
"""Longest class name accepted from a file, in characters."""


def save(net, path, metadata=None):
    """Write ``net`` and ``metadata`` (a JSON-serialisable dict) to ``path``; returns the `Path`.

    The file is written to a temporary name in the same folder and renamed over ``path`` only when
    complete, so an interrupted save never leaves a half-written model behind.
    """
    meta = dict(metadata or {})
    meta.update(format=FORMAT, format_version=FORMAT_VERSION, sizes=list(net.sizes),
                activations=list(net.activations), dtype=net.dtype.name)
    arrays = {f"W{l}": W for l, W in enumerate(net.weights, start=1)}
    return write_npz(path, arrays, meta, "the model")


def write_npz(path, arrays, meta, what):
    """Write ``arrays`` and the JSON ``meta`` (as the uint8 entry ``metadata``) to ``path`` atomically."""
    folder = folder_of(path)
    if not folder.is_dir():
        raise ScratchnetError(f"cannot save {what}: folder {folder} does not exist")
    arrays = dict(arrays, metadata=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
    return write_atomic(path, lambda f: np.savez(f, **arrays))


def _depth(obj):
    """Nesting depth of lists and dicts in a JSON value, without recursion."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


class Archive:
    """An ``.npz`` file opened for checked reading: its zip directory is read, none of its arrays yet.

    Parameters
    ----------
    path : path of the file
    kind : what the file should be, for messages (``"model"``, ``"checkpoint"``)

    Use as a context manager; `metadata` reads and parses the JSON entry, `read` one array after checking
    its header and size against what the caller expects.
    """

    def __init__(self, path, kind="model"):
        path = Path(path)
        self.path, self.kind = path, kind
        if not path.exists():
            raise ScratchnetError(f"{kind} file {path} does not exist")
        if not path.is_file():
            raise ScratchnetError(f"{path} is not a {kind} file (it is a folder or a device)")
        try:
            self.zip = zipfile.ZipFile(path)
        except PermissionError:
            raise ScratchnetError(f"cannot read {path}: permission denied") from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError,
                KeyError, OverflowError, IndexError):
            self.refuse("not a readable .npz file (not a zip archive, or cut short)")
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            self.close()
            self.refuse(f"it holds {len(infos)} entries; a scratchnet file holds a few")
        if sum(info.compress_size for info in infos) > path.stat().st_size:
            self.close()
            self.refuse("its zip directory claims more data than the file holds")
        self.members = {}
        for info in infos:
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            if name in self.members:
                self.close()
                self.refuse(f"it holds the entry {name!r} twice")
            self.members[name] = info

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if hasattr(self, "zip"):
            self.zip.close()

    def refuse(self, why):
        raise ScratchnetError(f"{self.path} is not a usable scratchnet {self.kind}: {why}")

    def check_format(self, meta, name, version):
        """Refuse metadata whose ``format`` is not ``name`` or whose ``format_version`` is not ``version``."""
        if meta.get("format") != name:
            self.refuse(f"its metadata does not say it is a scratchnet {self.kind}")
        if meta.get("format_version") != version:
            self.refuse(f"format version {str(meta.get('format_version'))[:20]!r} is not supported "
                        f"(this scratchnet reads version {version})")

    def _open(self, name, max_bytes):
        """The member ``name`` opened, its npy header parsed: ``(file, shape, dtype, fortran_order)``,
        after checking that its declared sizes are sane and at most ``max_bytes``."""
        info = self.members[name]
        if info.file_size > max_bytes:
            self.refuse(f"{name} would take {human(info.file_size)}, more than the {human(max_bytes)} "
                        "its header and the metadata allow")
        if info.file_size > MAX_EXPANSION * info.compress_size + 4096:
            self.refuse(f"{name} would expand from {human(info.compress_size)} to {human(info.file_size)}; "
                        "scratchnet files are not compressed like that")
        try:
            f = self.zip.open(info)
            version = np.lib.format.read_magic(f)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f"npy version {version}")
            shape, fortran_order, dtype = read_header(f)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError,
                SyntaxError, TypeError, KeyError, OverflowError, MemoryError, RecursionError, zlib.error):
            self.refuse(f"its entry {name} is not a readable array (damaged, or not written by NumPy)")
        return f, shape, dtype, fortran_order

    def _data(self, f, name, shape, dtype, fortran_order):
        """The array's data, once its header is known to promise exactly what the zip directory says."""
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if f.tell() + nbytes != self.members[name].file_size:
            self.refuse(f"{name} claims {dtype} {tuple(shape)}, which does not match its size in the file")
        try:
            data = f.read(nbytes)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error):
            self.refuse(f"its entry {name} is damaged (it cannot be decompressed)")
        if len(data) != nbytes:
            self.refuse(f"its entry {name} is truncated")
        return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran_order else "C")

    def metadata(self):
        """The JSON object stored in the entry ``metadata``, checked for size and nesting."""
        if "metadata" not in self.members:
            self.refuse("no metadata entry")
        f, shape, dtype, fortran_order = self._open("metadata", MAX_METADATA_BYTES)
        with f:
            if dtype != np.uint8 or len(shape) != 1:
                self.refuse(f"its metadata entry is not text but {dtype} {tuple(shape)}")
            raw = self._data(f, "metadata", shape, dtype, fortran_order)
        try:
            meta = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError):          # includes JSONDecodeError and 5,000-digit ints
            self.refuse("its metadata is not valid JSON (or holds a number too long to read)")
        except RecursionError:
            self.refuse(f"its metadata is nested deeper than {MAX_DEPTH} levels")
        if _depth(meta) > MAX_DEPTH:
            self.refuse(f"its metadata is nested deeper than {MAX_DEPTH} levels")
        if not isinstance(meta, dict):
            self.refuse("its metadata is not a JSON object")
        return meta

    def check_names(self, expected):
        """Refuse unless the arrays (besides ``metadata``) are exactly the names in ``expected``."""
        names = set(self.members) - {"metadata"}
        if names != set(expected):
            self.refuse(f"it holds arrays {sorted(names)}, expected {sorted(expected)}")

    def check(self, name, shape, kinds="f", itemsizes=(4, 8)):
        """Refuse unless the array ``name``'s header says ``shape`` and a dtype of kind ``kinds`` and its
        size in the zip directory agrees; reads the header only. Returns ``(file, dtype, fortran_order)``,
        the file open at the start of the data (the caller closes it)."""
        shape = tuple(shape)
        if name not in self.members:
            self.refuse(f"it lacks the array {name}")
        limit = 65536 + int(np.prod(shape, dtype=object)) * max(itemsizes)
        f, got_shape, dtype, fortran_order = self._open(name, limit)
        if dtype.kind not in kinds or dtype.itemsize not in itemsizes or dtype.hasobject:
            f.close()
            what = "Python objects, which are never loaded" if dtype.hasobject else f"{dtype} values"
            self.refuse(f"{name} holds {what}; expected float {shape}")
        if tuple(got_shape) != shape:
            f.close()
            self.refuse(f"{name} is {dtype} {tuple(got_shape)}, expected float {shape}")
        if f.tell() + int(np.prod(shape, dtype=object)) * dtype.itemsize != self.members[name].file_size:
            f.close()
            self.refuse(f"{name} claims {dtype} {shape}, which does not match its size in the file")
        return f, dtype, fortran_order

    def read(self, name, shape, kinds="f", itemsizes=(4, 8)):
        """The array ``name``, if its header says ``shape`` and a dtype of kind ``kinds``; else refused.

        Nothing but the header is read until the header and the zip directory agree with ``shape``, so
        what the caller allocates is bounded by what it expects.
        """
        f, dtype, fortran_order = self.check(name, shape, kinds, itemsizes)
        with f:
            W = self._data(f, name, tuple(shape), dtype, fortran_order)
        if W.dtype.kind == "f" and not np.all(np.isfinite(W)):
            self.refuse(f"{name} holds NaN or infinite values")
        return W


def check_architecture(archive, meta):
    """``(sizes, activations, dtype)`` from ``meta``, refused through ``archive`` unless they are lists of
    sane layer sizes and activation names and a known dtype."""
    sizes, activations, dtype = meta.get("sizes"), meta.get("activations"), meta.get("dtype")
    if not (isinstance(sizes, list) and 2 <= len(sizes) <= MAX_MEMBERS
            and all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_UNITS for n in sizes)
            and isinstance(activations, list) and all(isinstance(a, str) for a in activations)):
        archive.refuse("its metadata lacks valid 'sizes' and 'activations'")
    if dtype not in DTYPES:
        archive.refuse(f"its dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    return sizes, activations, dtype


def read_network(archive, sizes, activations, dtype):
    """Build a `Network` and fill its weights from ``archive``'s arrays ``W1 … WL``, after checking that
    every header and size in the file agrees with ``sizes`` and that the weights fit in memory."""
    shapes = layer_shapes(sizes)
    names = [f"W{l}" for l in range(1, len(shapes) + 1)]
    for name, shape in zip(names, shapes):
        if name not in archive.members:
            archive.refuse(f"it lacks the array {name}")
        if archive.members[name].file_size < shape[0] * shape[1] * 4:
            archive.refuse(f"its metadata claims layer sizes {sizes}, but {name} holds only "
                           f"{human(archive.members[name].file_size)}, too little for {shape}")
    for name, shape in zip(names, shapes):                  # every header and size, before allocating
        archive.check(name, shape)[0].close()
    nbytes = sum(r * c for r, c in shapes) * np.dtype(dtype).itemsize
    require(3 * nbytes, f"loading {archive.path}", hint="it was made on a larger machine")
    try:
        net = Network(sizes, activations, dtype=dtype, seed=0)
    except ScratchnetError as e:
        archive.refuse(str(e))
    for W, name, shape in zip(net.weights, names, shapes):
        W[...] = archive.read(name, shape)
    return net


def check_history(archive, history):
    """A training history is a list of dicts of numbers (or null), with at least the epoch and loss."""
    allowed = set(Epoch.__dataclass_fields__)
    ok = isinstance(history, list) and all(
        isinstance(h, dict) and {"epoch", "train_loss", "train_accuracy"} <= set(h) <= allowed
        and all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in h.values())
        for h in history)
    if not ok:
        archive.refuse("its training history is not a list of epochs with numbers")


def check_class_names(archive, names, K):
    """The class names kept with a model: a list of ``K`` distinct non-empty texts, one per output."""
    if not (isinstance(names, list) and len(names) == K
            and all(isinstance(n, str) and 0 < len(n) <= MAX_CLASS_NAME for n in names)
            and len(set(names)) == K):
        archive.refuse(f"its metadata's 'class_names' is not a list of {K} distinct names, one per output")


def load(path):
    """Read a model file written by `save`; returns a `Network` with its ``metadata`` dict."""
    path = Path(path)
    if not path.exists():
        raise ScratchnetError(f"model file {path} does not exist; train one with 'scratchnet train'")
    with Archive(path, "model") as archive:
        meta = archive.metadata()
        archive.check_format(meta, FORMAT, FORMAT_VERSION)
        sizes, activations, dtype = check_architecture(archive, meta)
        if "history" in meta:
            check_history(archive, meta["history"])
        for key in ("dataset", "scratchnet_version", "created"):
            if key in meta and not isinstance(meta[key], str):
                archive.refuse(f"its metadata's {key!r} is not text")
        if "recipe" in meta and not isinstance(meta["recipe"], dict):
            archive.refuse("its metadata's 'recipe' is not an object")
        if "class_names" in meta:
            check_class_names(archive, meta["class_names"], sizes[-1])
        if "data" in meta and not isinstance(meta["data"], dict):
            archive.refuse("its metadata's 'data' is not an object")
        archive.check_names([f"W{l}" for l in range(1, len(sizes))])
        net = read_network(archive, sizes, activations, dtype)
    net.metadata = meta
    return net

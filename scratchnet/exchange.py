"""A network's weights in and out: to and from JSON, ``.npz`` or one CSV per array, in the layout you use.

scratchnet keeps the seed's layout, ``z_l = [1 H_{l-1}] W_l`` with the bias as row 0 of ``W_l``. Other code
writes the same layer in one of four ways, chosen by ``bias`` and ``convention``::

    bias      convention   arrays                          the layer
    separate  row          W_l (n_{l-1}, n_l), b_l (n_l,)   z = H W_l + b_l       (scikit-learn's coefs_, intercepts_)
    separate  column       W_l (n_l, n_{l-1}), b_l (n_l,)   z = W_l h + b_l       (PyTorch's nn.Linear)
    row       row          W_l (n_{l-1}+1, n_l)             z = [1 H] W_l          (the seed's, scratchnet's own)
    row       column       W_l (n_l, n_{l-1}+1)             z = W_l [1; h]         (bias in column 0)

The inputs are the pixels scaled to 0…1 (``x = pixels / 255``), a row of ``n_0`` per picture; each hidden
layer applies its activation, the last one softmax.

`export_weights` writes a `Network` as ``FILE.json`` (the arrays as nested lists beside ``sizes``,
``activations``, ``class_names``, ``bias``, ``convention``), ``FILE.npz`` (the arrays and a ``metadata``
JSON text) or ``DIR/`` (``W1.csv``, ``b1.csv``, … and ``model.json``). `import_weights` reads any of the
three (or a learner's own ``.npz`` or JSON holding just ``W1, b1, …``) and checks everything before it
builds a network: the array names, the number of layers against the activations, that the shapes chain,
that every value is finite, and the size of the file and of the network; an ``.npz`` is read with
``np.load(allow_pickle=False)`` after its zip directory's sizes are checked, so nothing is unpickled and a
small file cannot claim gigabytes. Importing what was exported gives back every array bit for bit.
"""

import json
import re
import zipfile
from pathlib import Path

import numpy as np

from .atomic import write_atomic
from .data.classes import model_class_names
from .errors import ScratchnetError
from .memory import human, require
from .network import DTYPES, Network

FORMAT = "scratchnet-weights"
FORMAT_VERSION = 1
BIASES = ("separate", "row")
CONVENTIONS = ("row", "column")
MAX_FILE_BYTES = 256 * 2 ** 20
"""Largest JSON or CSV weights file read (a JSON of a million weights takes about 20 MB)."""
MAX_PARAMS = 2 ** 28
"""Most weights in an imported network."""
MAX_LAYERS = 100
META_KEYS = ("format", "format_version", "sizes", "activations", "class_names", "bias", "convention", "dtype",
             "input")
INPUT = "x = pixels / 255, one row of n_0 per picture"
NAME = re.compile(r"^([Wb])([1-9][0-9]*)$")


class BadWeights(ScratchnetError):
    """Weights that cannot become a network; the message names the file and the array."""

    def __init__(self, message, field="weights"):
        super().__init__(message, field=field)


def _check_choice(value, choices, field):
    if value not in choices:
        raise ScratchnetError(f"{field} must be one of {', '.join(choices)}, got {value!r}", field=field)


# --------------------------------------------------------------------------- the layouts

def to_arrays(net, bias="separate", convention="row"):
    """The weights of ``net`` in the layout ``bias``, ``convention`` (see the module docstring):
    ``{"W1": …, "b1": …, …}`` (no ``b_l`` with ``bias="row"``), fresh arrays in the network's dtype."""
    _check_choice(bias, BIASES, "bias")
    _check_choice(convention, CONVENTIONS, "convention")
    arrays = {}
    for l, W in enumerate(net.weights, start=1):
        if bias == "row":
            arrays[f"W{l}"] = np.array(W if convention == "row" else W.T, order="C")
        else:
            arrays[f"W{l}"] = np.array(W[1:] if convention == "row" else W[1:].T, order="C")
            arrays[f"b{l}"] = np.array(W[0])
    return arrays


def _layers(arrays, bias, where):
    """The number of layers ``L``, after checking the names are exactly ``W1 … WL`` (and ``b1 … bL``)."""
    numbers = {"W": set(), "b": set()}
    for name in arrays:
        m = NAME.match(name)
        if not m:
            raise BadWeights(f"{where}: unexpected array {name!r}; the arrays are named W1, b1, W2, b2, …")
        numbers[m.group(1)].add(int(m.group(2)))
    L = len(numbers["W"])
    if L == 0:
        raise BadWeights(f"{where} holds no weights W1, W2, …")
    if L > MAX_LAYERS:
        raise BadWeights(f"{where} holds {L} layers; scratchnet takes at most {MAX_LAYERS}")
    if numbers["W"] != set(range(1, L + 1)):
        missing = min(set(range(1, L + 1)) - numbers["W"])
        raise BadWeights(f"{where} lacks W{missing} (it has {', '.join(f'W{l}' for l in sorted(numbers['W']))})")
    if bias == "separate" and numbers["b"] != set(range(1, L + 1)):
        missing = sorted(set(range(1, L + 1)) - numbers["b"])
        if missing:
            raise BadWeights(f"{where} lacks the bias b{missing[0]}; give every layer's bias b1 … b{L}, or "
                             "--bias row if each W_l holds its bias")
        raise BadWeights(f"{where} holds b{max(numbers['b'])} but only {L} weight matrices")
    if bias == "row" and numbers["b"]:
        raise BadWeights(f"{where} holds separate biases (b{min(numbers['b'])}); give --bias separate, or leave "
                         "them out when each W_l holds its bias")
    return L


def _expected(l, n_in, bias, convention):
    rows = n_in + (1 if bias == "row" else 0)
    return (rows, "n_l") if convention == "row" else ("n_l", rows)


def from_arrays(arrays, activations, bias="separate", convention="row", where="the weights", dtype=None):
    """A `Network` with the weights ``arrays`` (``{"W1": …, "b1": …}``) in the layout ``bias``,
    ``convention``; everything is checked first (see the module docstring). ``dtype`` defaults to the
    arrays' own (float64 for other numbers)."""
    _check_choice(bias, BIASES, "bias")
    _check_choice(convention, CONVENTIONS, "convention")
    L = _layers(arrays, bias, where)
    activations = [str(a).lower() for a in activations]
    if len(activations) != L:
        raise BadWeights(f"{where} holds {L} layer{'s' if L > 1 else ''} (W1 … W{L}), but {len(activations)} "
                         f"activations were given ({','.join(activations)}); give one per layer, softmax last",
                         field="activations")
    mats, sizes = [], []
    for l in range(1, L + 1):
        W = np.asarray(arrays[f"W{l}"])
        if W.dtype.kind not in "fiu" or W.dtype.hasobject:
            raise BadWeights(f"{where}: W{l} holds {W.dtype} values, not numbers")
        if W.ndim != 2 or 0 in W.shape:
            raise BadWeights(f"{where}: W{l} is {W.shape}; a weight matrix has two dimensions")
        if convention == "column":
            W = W.T
        n_in = W.shape[0] - (1 if bias == "row" else 0)
        if n_in < 1:
            raise BadWeights(f"{where}: W{l} is {W.shape[::-1] if convention == 'column' else W.shape}, too small "
                             "to hold a bias row and weights")
        if l == 1:
            sizes.append(n_in)
        elif n_in != sizes[-1]:
            shape = tuple(np.shape(arrays[f"W{l}"]))
            want = _expected(l, sizes[-1], bias, convention)
            hint = ("; if your W_l are (out, in), as PyTorch's nn.Linear, give --convention column"
                    if convention == "row" else "; if your W_l are (in, out), as scikit-learn's coefs_, give "
                    "--convention row")
            raise BadWeights(f"{where}: W{l} is {shape}, but W{l - 1} gives {sizes[-1]} outputs, so W{l} should be "
                             f"({want[0]}, {want[1]}) with --convention {convention} --bias {bias}{hint}")
        sizes_out = W.shape[1]
        if bias == "separate":
            b = np.asarray(arrays[f"b{l}"])
            if b.dtype.kind not in "fiu" or b.dtype.hasobject:
                raise BadWeights(f"{where}: b{l} holds {b.dtype} values, not numbers")
            if b.size != sizes_out or (b.ndim == 2 and 1 not in b.shape) or b.ndim > 2:
                hint = ""
                if b.size == W.shape[0]:
                    hint = ("; if your W_l are (out, in), as PyTorch's nn.Linear, give --convention column"
                            if convention == "row" else "; if your W_l are (in, out), as scikit-learn's "
                            "coefs_, give --convention row")
                raise BadWeights(f"{where}: b{l} is {b.shape}, but W{l} gives {sizes_out} outputs; b{l} should "
                                 f"be ({sizes_out},){hint}")
            W = np.vstack([b.reshape(1, -1), W])
        mats.append(W)
        sizes.append(sizes_out)
    if sum(W.size for W in mats) > MAX_PARAMS:
        raise BadWeights(f"{where} holds {sum(W.size for W in mats):,} weights; scratchnet imports at most "
                         f"{MAX_PARAMS:,}")
    for l, W in enumerate(mats, start=1):
        if not np.all(np.isfinite(W)):
            bad = "b" if bias == "separate" and not np.all(np.isfinite(W[0])) else "W"
            raise BadWeights(f"{where}: {bad}{l} holds NaN or infinite values")
    if dtype is None:
        dtype = "float32" if all(np.asarray(arrays[k]).dtype == np.float32 for k in arrays) else "float64"
    if str(dtype) not in DTYPES:
        raise ScratchnetError(f"dtype must be float32 or float64, got {dtype!r}", field="dtype")
    require(4 * sum(W.size for W in mats) * np.dtype(dtype).itemsize, f"importing {where}")
    try:
        net = Network(sizes, activations, dtype=dtype, seed=0)
    except ScratchnetError as e:
        raise BadWeights(f"{where}: {e}", field="activations") from None
    for W, M in zip(net.weights, mats):
        W[...] = M
    return net


# --------------------------------------------------------------------------- export

def _metadata(net, bias, convention):
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "sizes": list(net.sizes),
            "activations": list(net.activations), "class_names": list(model_class_names(net)),
            "bias": bias, "convention": convention, "dtype": net.dtype.name, "input": INPUT}


def kind_of(path):
    """``"json"``, ``"npz"`` or ``"dir"`` for an export or import path."""
    trailing_slash = str(path).endswith(("/", "\\"))
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".json", ".npz") and not trailing_slash:
        return suffix[1:]
    if trailing_slash or path.is_dir() or suffix == "":
        return "dir"
    raise ScratchnetError(f"cannot tell the format of {path}: give FILE.json, FILE.npz or a folder DIR/",
                          field="out")


def export_weights(net, path, bias="separate", convention="row"):
    """Write ``net``'s weights in the layout ``bias``, ``convention`` to ``path`` (``.json``, ``.npz`` or a
    folder, by its name; see the module docstring). Returns the `Path` written; every file is written
    atomically."""
    _check_choice(bias, BIASES, "bias")
    _check_choice(convention, CONVENTIONS, "convention")
    kind, path = kind_of(path), Path(path)
    arrays, meta = to_arrays(net, bias, convention), _metadata(net, bias, convention)
    if kind == "json":
        _check_parent(path)
        text = json.dumps({**meta, **{k: v.tolist() for k, v in arrays.items()}})
        return write_atomic(path, lambda f: f.write(text.encode("utf-8")))
    if kind == "npz":
        _check_parent(path)
        blob = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        return write_atomic(path, lambda f: np.savez(f, metadata=blob, **arrays))
    if path.exists() and not path.is_dir():
        raise ScratchnetError(f"cannot export to {path}/: it is a file", field="out")
    _check_parent(path)
    path.mkdir(exist_ok=True)
    digits = "%.9g" if net.dtype == np.float32 else "%.17g"     # enough digits to read back bit for bit
    for name, A in arrays.items():
        def write(f, A=A):
            np.savetxt(f, A.reshape(1, -1) if A.ndim == 1 else A, delimiter=",", fmt=digits)
        write_atomic(path / f"{name}.csv", write)
    write_atomic(path / "model.json", lambda f: f.write(json.dumps(meta, indent=1).encode("utf-8")))
    return path


def _check_parent(path):
    folder = Path(path).parent if str(Path(path).parent) else Path(".")
    if not folder.is_dir():
        raise ScratchnetError(f"cannot write {path}: folder {folder} does not exist", field="out")


# --------------------------------------------------------------------------- import

def _read_bytes(path, limit=MAX_FILE_BYTES):
    try:
        size = path.stat().st_size
        if size > limit:
            raise BadWeights(f"{path} is {human(size)}; weights files read here are at most {human(limit)}")
        return path.read_bytes()
    except PermissionError:
        raise ScratchnetError(f"cannot read {path}: permission denied", field="weights") from None
    except IsADirectoryError:
        raise ScratchnetError(f"{path} is a folder", field="weights") from None


def _parse_json(data, where):
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadWeights(f"{where} is not valid JSON") from None
    if not isinstance(obj, dict):
        raise BadWeights(f"{where} is not a JSON object with W1, b1, …")
    return obj


def _json_array(value, name, where):
    try:
        A = np.array(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise BadWeights(f"{where}: {name} is not a list of numbers (ragged, or holds text)") from None
    return A


def _read_json(path):
    require(24 * path.stat().st_size, f"reading {path}")                  # Python lists of floats
    obj = _parse_json(_read_bytes(path), str(path))
    meta = {k: obj.pop(k) for k in list(obj) if k in META_KEYS}
    arrays = {k: _json_array(v, k, str(path)) for k, v in obj.items()}
    return arrays, meta


def _read_npz(path):
    where = str(path)
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BadWeights(f"{where} is not a readable .npz file (not a zip archive, or cut short)") from None
    if len(infos) > 4 * MAX_LAYERS:
        raise BadWeights(f"{where} holds {len(infos)} arrays; a network's weights are a few")
    total = sum(i.file_size for i in infos)
    if total > 8 * MAX_PARAMS + 2 ** 20:
        raise BadWeights(f"{where} would take {human(total)}, more than a network scratchnet imports")
    require(2 * total, f"reading {where}")
    arrays, meta = {}, {}
    try:
        with np.load(path, allow_pickle=False) as f:
            for name in f.files:
                if name == "metadata":
                    blob = f[name]
                    if blob.dtype != np.uint8 or blob.ndim != 1:
                        raise BadWeights(f"{where}: its metadata is not JSON text")
                    meta = _parse_json(blob.tobytes(), f"{where}'s metadata")
                elif name == "class_names":
                    names = f[name]
                    if names.dtype.kind not in "US" or names.ndim != 1:
                        raise BadWeights(f"{where}: class_names is {names.dtype} {names.shape}, not a list of text")
                    meta["class_names"] = [str(n) for n in names.astype(str)]
                else:
                    arrays[name] = f[name]
    except ValueError as e:
        if "pickle" in str(e):
            raise BadWeights(f"{where} holds Python objects, which are never loaded (no pickle); save plain "
                             "arrays of numbers with np.savez") from None
        raise BadWeights(f"{where} holds an array that cannot be read ({str(e)[:80]})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise BadWeights(f"{where} is damaged or cut short ({type(e).__name__})") from None
    return arrays, {k: v for k, v in meta.items() if k in META_KEYS}


def _read_dir(path):
    arrays, meta = {}, {}
    if (path / "model.json").is_file():
        meta = {k: v for k, v in _parse_json(_read_bytes(path / "model.json"), str(path / "model.json")).items()
                if k in META_KEYS}
    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
    if not files:
        raise BadWeights(f"{path} holds no W1.csv, b1.csv, …")
    total = sum(p.stat().st_size for p in files)
    if total > MAX_FILE_BYTES:
        raise BadWeights(f"the CSV files in {path} take {human(total)}; at most {human(MAX_FILE_BYTES)} are read")
    for p in files:
        try:
            A = np.loadtxt(p, delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError:
            raise BadWeights(f"{p} is not a table of numbers separated by commas (ragged, or holds text)") from None
        arrays[p.stem] = A.ravel() if p.stem.startswith("b") else A
    return arrays, meta


def read_weights(path):
    """``(arrays, meta)`` of a weights file or folder: its arrays by name, and whatever of `META_KEYS`
    it says about itself (empty for a learner's own file)."""
    path = Path(path)
    if not path.exists():
        raise ScratchnetError(f"{path} does not exist", field="weights")
    kind = kind_of(path)
    if kind == "dir" and not path.is_dir():
        raise ScratchnetError(f"{path} is not a folder", field="weights")
    if kind != "dir" and not path.is_file():
        raise ScratchnetError(f"{path} is not a file", field="weights")
    return {"json": _read_json, "npz": _read_npz, "dir": _read_dir}[kind](path)


def _setting(name, given, meta, default, where):
    saved = meta.get(name)
    if saved is not None and given is not None and saved != given:
        raise ScratchnetError(f"{where} says its {name} is {saved}, but {given} was given; leave it out to use "
                              "the file's", field=name)
    return given if given is not None else (saved if saved is not None else default)


def import_weights(path, activations=None, bias=None, convention=None, class_names=None, dtype=None):
    """A `Network` from a weights file or folder (see the module docstring), with ``metadata`` holding its
    ``class_names`` and where it was imported from.

    Parameters
    ----------
    path : ``FILE.json``, ``FILE.npz`` or ``DIR/`` of CSV files, with arrays ``W1, b1, …`` (or ``W1, …``)
    activations : one per layer, softmax last; default: what the file says (an export of scratchnet's)
    bias, convention : the layout (see the module docstring); default: what the file says, else
        ``"separate"`` and ``"row"``
    class_names : K names of the outputs; default: the file's, else ``"0" … "K-1"``
    dtype : ``"float32"`` or ``"float64"``; default: the arrays' own (float64 from JSON)
    """
    where = str(path)
    arrays, meta = read_weights(path)
    bias = _setting("bias", bias, meta, "separate", where)
    convention = _setting("convention", convention, meta, "row", where)
    _check_choice(bias, BIASES, "bias")
    _check_choice(convention, CONVENTIONS, "convention")
    if activations is None:
        activations = meta.get("activations")
        if not (isinstance(activations, list) and all(isinstance(a, str) for a in activations)):
            raise ScratchnetError(f"{where} does not say its activations; give them, one per layer, e.g. "
                                  "relu,softmax", field="activations")
    if dtype is None and meta.get("dtype") in DTYPES:
        dtype = meta["dtype"]
    net = from_arrays(arrays, activations, bias, convention, where, dtype)
    names = class_names if class_names is not None else meta.get("class_names")
    K = net.sizes[-1]
    if names is None:
        names = [str(k) for k in range(K)]
    if not (isinstance(names, (list, tuple)) and len(names) == K and all(isinstance(n, str) and n for n in names)
            and len(set(names)) == K):
        raise BadWeights(f"{where}: the class names are not {K} distinct names, one per output", field="class_names")
    net.metadata = {"class_names": list(names), "imported_from": str(Path(path).absolute()),
                    "imported_layout": {"bias": bias, "convention": convention}}
    return net

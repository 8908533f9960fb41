"""Between the seed's notation and the learner's: their weights, batch and labels from a `Point`, and
their gradients back into the seed's form ``∂L/∂W_l (n_{l-1}+1, n_l)`` (row 0: the bias), whatever
structure they come in.

A learner's ``grads`` may be a list (or tuple) with one entry per layer, or a dict keyed ``W1``, ``b1``,
… (also ``dW1``, ``dW_1``, ``grad_W1``, ``nabla_W1``); with a separate bias each entry is a pair
``(dW_l, db_l)``. A bias gradient may be ``(n,)``, ``(1, n)`` or ``(n, 1)``. See `spec` for the shapes.
"""

import re
from dataclasses import dataclass, field

import numpy as np

from .failures import LearnerCodeError


def learner_weight(spec, W):
    """The learner's form of the canonical ``W (n_{l-1}+1, n_l)``: an array, or a pair ``(W, b)``."""
    if spec.bias == "row":
        return np.array(W if spec.row else W.T)
    if spec.bias == "separate":
        return (np.array(W[1:]), np.array(W[0])) if spec.row else (np.array(W[1:].T), np.array(W[0][:, None]))
    return np.array(W[1:] if spec.row else W[1:].T)


def learner_inputs(spec, point):
    """``(weights, X, Y)`` as the learner's function takes them (fresh arrays)."""
    weights = [learner_weight(spec, W) for W in point.Ws]
    X, Y = (point.X, point.Y) if spec.row else (point.X.T, point.Y.T)
    return weights, np.array(X), np.array(Y)


def entry_name(spec, l, i, j):
    """The learner's own name of the canonical entry ``[i, j]`` of ``∂L/∂W_l``: ``W2[3, 5]`` or ``b2[5]``."""
    if spec.bias == "separate" and i == 0:
        return f"b{l}[{j}]"
    if spec.bias != "row":
        i -= 1
    return f"W{l}[{i}, {j}]" if spec.row else f"W{l}[{j}, {i}]"


@dataclass(frozen=True)
class ShapeProblem:
    """A gradient of the wrong shape: its ``name`` (``W2``, ``b2``), the shape ``got`` and the one
    ``expected``, and the diagnosis ``codes`` its shape alone suggests, with ``words`` saying why."""

    layer: int
    name: str
    got: tuple
    expected: tuple
    codes: tuple = ()
    words: str = ""
    raw: object = field(default=None, compare=False, repr=False)

    def to_json(self):
        return {"layer": self.layer, "name": self.name, "got": list(self.got), "expected": list(self.expected),
                "codes": list(self.codes), "words": self.words}


@dataclass
class Grads:
    """The learner's gradients in canonical form: ``layers[l]`` (or None where the shape is wrong),
    ``problems[l]`` the `ShapeProblem` of each wrong-shaped layer, ``eps`` the machine epsilon of the
    least precise array they returned."""

    layers: dict
    problems: dict
    eps: float


def _key(name):
    m = re.fullmatch(r"(?:d|grad_?|nabla_?|delta_?)?_?([wb])_?(\d+)", str(name).strip().lower())
    return (m.group(1), int(m.group(2))) if m else None


def real_array(value, what, tag):
    """``value`` (an array, a number or a rectangular list) as a finite real array; `LearnerCodeError`
    (``not_arrays``, ``not_finite``) naming it ``what`` otherwise."""
    if isinstance(value, list):
        try:
            value = np.array(value, dtype=float)
        except (TypeError, ValueError):
            raise LearnerCodeError(f"{what} is a list that is not a rectangular array of numbers (B = {tag})",
                                   "not_arrays") from None
    if not isinstance(value, (np.ndarray, np.generic, float, int)) or isinstance(value, bool):
        raise LearnerCodeError(f"{what} is {_describe(value)}, not an array (B = {tag})", "not_arrays")
    a = np.asarray(value)
    if a.dtype.kind not in "iuf":
        raise LearnerCodeError(f"{what} is an array of {a.dtype}, not of real numbers (B = {tag})", "not_arrays")
    if not np.all(np.isfinite(a)):
        bad = int(np.count_nonzero(~np.isfinite(a)))
        raise LearnerCodeError(f"{what} has {bad} NaN or infinite entr{'y' if bad == 1 else 'ies'} (B = {tag}): "
                               f"look for a division by zero, a log of 0 or an overflowing exp", "not_finite")
    return a


def _describe(value):
    if value is None:
        return "None"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)}"
    return getattr(value, "type_name", None) and f"a {value.type_name}" or f"a {type(value).__name__}"


def _entries(spec, returned, tag):
    """``[(dW_l, db_l or None)]`` per layer from any accepted structure; `LearnerCodeError` otherwise."""
    L, separate = spec.L, spec.bias == "separate"
    want = (f"a list of {L} pairs (dW_l, db_l), or a dict with W1, b1, …" if separate
            else f"a list of {L} arrays dW1 … dW{L}, or a dict with W1 …")
    if returned is None:
        raise LearnerCodeError(f"your function returned None (B = {tag}): did it forget 'return grads'? It "
                               f"should return {want}", "returned_none")
    if isinstance(returned, dict):
        found = {}
        for name, value in returned.items():
            key = _key(name)
            if key is not None and 1 <= key[1] <= L:
                found[key] = value
        missing = [f"{k}{l}" for l in range(1, L + 1) for k in ("W", "b")[:1 + separate] if (k.lower(), l) not in found]
        if missing:
            raise LearnerCodeError(f"your function returned a dict without {', '.join(missing)} (keys: "
                                   f"{', '.join(map(str, list(returned)[:8]))}); it should return {want}",
                                   "wrong_count")
        return [(found[("w", l)], found.get(("b", l))) for l in range(1, L + 1)]
    if isinstance(returned, (np.ndarray,)) or not isinstance(returned, (list, tuple)):
        raise LearnerCodeError(f"your function returned {_describe(returned)} (B = {tag}); it should return "
                               f"{want}", "not_arrays")
    if len(returned) != L:
        raise LearnerCodeError(f"your function returned {len(returned)} item{'s' * (len(returned) != 1)} for a "
                               f"network of {L} layers (B = {tag}); it should return {want}", "wrong_count")
    out = []
    for l, item in enumerate(returned, start=1):
        if separate:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise LearnerCodeError(f"entry {l} of what your function returned is {_describe(item)}, not a "
                                       f"pair (dW{l}, db{l}) (B = {tag}); with a separate bias it should return "
                                       f"{want}", "wrong_count")
            out.append((item[0], item[1]))
        else:
            out.append((item, None))
    return out


def _weight_codes(spec, l, got, expected, B):
    """The diagnosis codes a wrong shape of ``∂L/∂W_l`` suggests by itself, and why."""
    n_out = spec.sizes[l]
    if got == expected[::-1]:
        return ("transposed",), "it has the transpose of the right shape"
    if len(got) == 2 and spec.bias == "row":
        plain = (expected[0] - 1, expected[1]) if spec.row else (expected[0], expected[1] - 1)
        extra = (expected[0], expected[1] + 1) if spec.row else (expected[0] + 1, expected[1])
        if got == plain:
            return ("bias_row",), "it has no bias " + ("row" if spec.row else "column") + ": the ones of " \
                + ("[1 H]" if spec.row else "[1; H]") + " give it"
        if got == extra:
            return ("bias_row",), "δ has one column too many: the bias " + ("row" if spec.row else "column") + \
                " of the next layer's W was not dropped when carrying δ back"
    if len(got) == 2 and n_out > 1 and (1 in got or B in got) and (expected[0] in got or expected[1] in got):
        return ("elementwise_product",), (f"one of its sides is {1 if 1 in got else B} where {n_out} units "
                                          f"belong: a matrix product where ⊙ belongs sums the units (or the "
                                          f"examples) away")
    return (), ""


def read_grads(spec, returned, tag, B):
    """The learner's returned object as `Grads`; `LearnerCodeError` for a structure it cannot be."""
    entries = _entries(spec, returned, tag)
    layers, problems, eps = {}, {}, np.finfo(np.float64).eps
    for l, (dW, db) in enumerate(entries, start=1):
        dW = real_array(dW, f"dW{l}", tag)
        if dW.dtype.kind == "f":
            eps = max(eps, float(np.finfo(dW.dtype).eps))
        expected = spec.weight_shape(l)
        canonical = np.zeros((spec.sizes[l - 1] + 1, spec.sizes[l]))
        if dW.shape != expected:
            codes, words = _weight_codes(spec, l, dW.shape, expected, B)
            problems[l] = ShapeProblem(l, f"W{l}", dW.shape, expected, codes, words, dW)
            layers[l] = None
            continue
        block = dW.astype(np.float64) if spec.row else dW.astype(np.float64).T
        if spec.bias == "row":
            canonical[...] = block
        else:
            canonical[1:] = block
        if spec.bias == "separate":
            if db is None:
                raise LearnerCodeError(f"no bias gradient b{l} (B = {tag})", "wrong_count")
            db = real_array(db, f"db{l}", tag)
            n = spec.sizes[l]
            if db.size == n and db.ndim <= 2 and (db.ndim < 2 or 1 in db.shape):
                canonical[0] = db.reshape(n).astype(np.float64)
            else:
                batch_shape = (B, n) if spec.row else (n, B)
                codes, words = ((("batch_sum",), "one entry per example and unit: the examples are not summed")
                                if B > 1 and db.shape == batch_shape else ((), ""))
                problems[l] = ShapeProblem(l, f"b{l}", db.shape, spec.bias_shape(l), codes, words, db)
                layers[l] = None
                continue
        layers[l] = canonical
    return Grads(layers, problems, eps)

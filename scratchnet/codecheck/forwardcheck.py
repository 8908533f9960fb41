"""The learner's forward pass, ``forward(weights, X) -> [H1, …, H_{L-1}, ŷ]``, compared layer by layer with
the true one before any gradient: a wrong forward pass makes every gradient wrong.

The truth is `passes.forward` (the network's own trace in float64), the tolerance
`tolerance.forward_tolerances`. Each ``H_l`` is oriented like ``X``: ``(B, n_l)`` in the row convention,
``(n_l, B)`` in the column one (a ``(n_l,)`` vector is taken at ``B = 1``); the list may be a tuple. A bare
array is taken as ``ŷ`` alone, which is compared at the output only.

A wrong ``H_l`` is **inherited** when the layer, given the learner's own ``H_{l-1}``, computes it right
(it is wrong only because a layer before it is); otherwise it is wrong itself, and it is compared with
the numbers each cheap known mistake gives from that same ``H_{l-1}`` (`MISTAKES`): the bias not used,
the ones appended instead of prepended, the activation missing, applied twice, another one, ``σ(−z)``,
the softmax over the batch, a square weight transposed. Where none matches, it says so.
"""

from dataclasses import dataclass, field

import numpy as np

from ..activations import ACTIVATIONS
from .analyse import crash_report
from .failures import LearnerCodeError
from .notation import real_array
from .spec import symbol
from .tolerance import compare, forward_tolerances


def layer_name(spec, l):
    """``H1``, ``H2``, …, and ``ŷ`` for the output ``l = L``."""
    return "ŷ" if l == spec.L else f"H{l}"


def _input_name(l):
    return "x" if l == 1 else f"H{l - 1}"


def _apply(name, z):
    """``f(z)`` for an activation name (``linear``: ``z``), on a copy; ``(B, n) -> (B, n)``."""
    z = np.array(z, dtype=np.float64)
    return z if name == "linear" else ACTIVATIONS[name].function(z)


def _softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def right_formula(spec, l):
    """The right ``H_l`` in the learner's convention and bias notation, e.g. ``H2 = σ([1 H1] W2)``."""
    name, prev, f = layer_name(spec, l), _input_name(l), spec.activation(l)
    inner = {("row", "row"): f"[1 {prev}] W{l}", ("row", "column"): f"W{l} [1; {prev}]",
             ("separate", "row"): f"{prev} W{l} + b{l}", ("separate", "column"): f"W{l} {prev} + b{l}",
             ("none", "row"): f"{prev} W{l}", ("none", "column"): f"W{l} {prev}"}[(spec.bias, spec.convention)]
    text = f"{name} = {inner}" if f == "linear" else f"{name} = {symbol(f)}({inner})"
    if f == "softmax":
        text += " (each example's classes sum to 1: " + ("each row)" if spec.row else "each column)")
    return text


# ---------------------------------------------------------------- the known mistakes of one layer

def _bias_words(spec, l):
    prev = _input_name(l)
    if spec.bias == "separate":
        return f"z{l} = {prev} W{l} without + b{l}: the bias is not added" if spec.row else \
            f"z{l} = W{l} {prev} without + b{l}: the bias is not added"
    if spec.row:
        return (f"z{l} = {prev} W{l}[1:] without the bias row W{l}[0]: the ones of [1 {prev}] are not prepended "
                f"(or row 0 of W{l} is skipped)")
    return (f"z{l} = W{l}[:, 1:] {prev} without the bias column W{l}[:, 0]: the ones of [1; {prev}] are not "
            f"stacked on (or column 0 of W{l} is skipped)")


def _bias_last_words(spec, l):
    prev = _input_name(l)
    if spec.row:
        return f"[{prev} 1] W{l}: the ones appended, where the bias is row 0 of W{l} and [1 {prev}] belongs"
    return f"W{l} [{prev}; 1]: the ones stacked last, where the bias is column 0 of W{l} and [1; {prev}] belongs"


def _softmax_axis_words(spec, whole):
    if whole:
        return ("the softmax normalised by one sum over the whole batch, where each example's classes sum to 1 ("
                + ("axis=1" if spec.row else "axis=0") + ", keepdims=True)")
    if spec.row:
        return ("the softmax over the batch (axis 0: each column sums to 1) where it belongs over each example's "
                "classes (axis=1: each row sums to 1)")
    return ("the softmax over the batch (axis 1: each row sums to 1) where it belongs over each example's "
            "classes (axis=0: each column sums to 1)")


def _candidates(spec, l, H_prev, W):
    """``[(code, words, H_l)]``: what each known mistake of layer ``l`` computes from ``H_prev (B, n_{l-1})``
    and the canonical ``W (n_{l-1}+1, n_l)``."""
    f, name = spec.activation(l), layer_name(spec, l)
    z = W[0] + H_prev @ W[1:]
    out = []
    if spec.bias != "none":
        out.append(("missing_bias", _bias_words(spec, l), _apply(f, H_prev @ W[1:])))
    if spec.bias == "row":
        out.append(("bias_last", _bias_last_words(spec, l), _apply(f, H_prev @ W[:-1] + W[-1])))
    if f != "linear":
        what = "the logits z" if f == "softmax" else "z"
        out.append(("activation_missing", f"{name} is {what}{l}: {symbol(f)} is not applied", z.copy()))
        out.append(("activation_twice", f"{symbol(f)} applied twice: {name} = {symbol(f)}({symbol(f)}(z{l}))",
                    _apply(f, _apply(f, z))))
    if f == "softmax":
        out.append(("softmax_axis", _softmax_axis_words(spec, False), _softmax(z, 0)))
        e = np.exp(z - z.max())
        out.append(("softmax_axis", _softmax_axis_words(spec, True), e / e.sum()))
    if f == "sigmoid":
        out.append(("sign", f"σ(−z{l}) = 1/(1 + e^z{l}): the sign of the exponent (σ(z) = 1/(1 + e^−z))",
                    _apply(f, -z)))
    for g in ("sigmoid", "tanh", "relu", "softmax"):
        if g != f and (f != "linear" or g != "softmax"):
            out.append(("wrong_activation", f"{symbol(g)}(z{l}) where {symbol(f) if f != 'linear' else 'z'}"
                        f"{'' if f == 'linear' else f'(z{l})'} belongs", _apply(g, z)))
    if W.shape[0] - 1 == W.shape[1]:
        block = f"W{l}[1:]" if spec.bias == "row" and spec.row else f"W{l}[:, 1:]" if spec.bias == "row" else f"W{l}"
        out.append(("transposed", f"{block}ᵀ where {block} belongs (it is square, so the shapes fit)",
                    _apply(f, W[0] + H_prev @ W[1:].T)))
    return out


# ---------------------------------------------------------------- reading what forward returned

@dataclass(frozen=True)
class ForwardShape:
    """An ``H_l`` of the wrong shape: ``got`` and ``expected`` (the learner's orientation) and why."""

    got: tuple
    expected: tuple
    words: str

    def to_json(self):
        return {"got": list(self.got), "expected": list(self.expected), "words": self.words}


def _shape_words(spec, got, expected, n, B):
    if got == expected[::-1]:
        return "it is oriented like the " + ("column" if spec.row else "row") + " convention's"
    if len(got) == 2 and spec.row and got == (B, n + 1) or not spec.row and got == (n + 1, B):
        return "it has one unit too many: return H, not [1 H] with its ones"
    return ""


def read_activations(spec, returned, tag, B):
    """The learner's returned object as ``({l: canonical H_l (B, n_l)}, {l: ForwardShape}, eps)``: every
    layer from a list or tuple of ``L`` arrays, or ``{L: ŷ}`` from a bare array. `LearnerCodeError` for
    None, the wrong count, something that is not arrays, NaN."""
    L = spec.L
    want = f"the list [{', '.join(layer_name(spec, l) for l in range(1, L + 1))}] (the hidden activations and the " \
           f"output, each oriented like X)"
    if returned is None:
        raise LearnerCodeError(f"your forward returned None (B = {tag}): did it forget 'return'? It should return "
                               f"{want}", "returned_none")
    if isinstance(returned, np.ndarray) and returned.dtype != object:
        entries = {L: returned}
    elif isinstance(returned, (list, tuple)):
        if len(returned) != L:
            extra = ""
            if len(returned) == L + 1:
                extra = " (X first as H0? leave it out)"
            elif len(returned) == 2 * L:
                extra = " (the z's too? return the activations only)"
            raise LearnerCodeError(f"your forward returned {len(returned)} item{'s' * (len(returned) != 1)} for "
                                   f"a network of {L} layers{extra} (B = {tag}); it should return {want}",
                                   "wrong_count")
        entries = dict(enumerate(returned, start=1))
    else:
        kind = f"a {getattr(returned, 'type_name', type(returned).__name__)}"
        raise LearnerCodeError(f"your forward returned {kind} (B = {tag}); it should return {want}", "not_arrays")
    layers, problems, eps = {}, {}, float(np.finfo(np.float64).eps)
    for l, value in entries.items():
        a = real_array(value, f"{layer_name(spec, l)} (what your forward returned)", tag)
        if a.dtype.kind == "f":
            eps = max(eps, float(np.finfo(a.dtype).eps))
        n = spec.sizes[l]
        expected = (B, n) if spec.row else (n, B)
        if B == 1 and a.shape == (n,):
            a = a.reshape(expected)
        if a.shape != expected:
            problems[l] = ForwardShape(a.shape, expected, _shape_words(spec, a.shape, expected, n, B))
            continue
        layers[l] = a.astype(np.float64) if spec.row else a.astype(np.float64).T
    return layers, problems, eps


# ---------------------------------------------------------------- the comparison

@dataclass
class ForwardLayer:
    """One ``H_l`` at one batch size. ``status``: ``right``; ``wrong`` (a mistake of its own, named in
    ``code`` and ``words``); ``unexplained`` (wrong itself, no known mistake gives it); ``inherited``
    (right given the learner's own ``H_{l-1}``); ``shape_error``; ``not_returned`` (only ŷ came back).
    The errors and ``where`` (the worst entry, in the learner's orientation) are against the truth."""

    layer: int
    name: str
    shape: tuple
    status: str
    max_abs_error: float = None
    max_rel_error: float = None
    norm_error: float = None
    where: str = None
    yours: float = None
    true: float = None
    tolerance: object = None
    code: str = None
    words: str = None
    right_formula: str = None
    problem: ForwardShape = None

    @property
    def own_mistake(self):
        return self.status in ("wrong", "unexplained")

    def to_json(self):
        return {"layer": self.layer, "name": self.name, "shape": list(self.shape), "status": self.status,
                "right": self.status == "right", "max_abs_error": self.max_abs_error,
                "max_rel_error": self.max_rel_error, "norm_error": self.norm_error, "where": self.where,
                "yours": self.yours, "true": self.true,
                "tolerance": self.tolerance.to_json() if self.tolerance else None, "code": self.code,
                "words": self.words, "right_formula": self.right_formula,
                "shape_problem": self.problem.to_json() if self.problem else None}


@dataclass
class ForwardRun:
    """The forward pass checked at one batch size ``B``: verdict, the layers from ``H1`` to ``ŷ``, a shape
    mismatch inside the code (an `analyse.CrashReport`) and whether only ŷ came back."""

    B: int
    verdict: str
    layers: list = field(default_factory=list)
    crash: object = None
    output_only: bool = False

    @property
    def first_wrong_layer(self):
        """The smallest ``l`` whose ``H_l`` is wrong (value or shape), or None; with ŷ alone, ``L`` only
        when a known mistake of the output layer explains ŷ from the true ``H_{L-1}``."""
        for r in self.layers:
            if r.status in ("right", "not_returned"):
                continue
            if self.output_only and r.status == "unexplained":
                return None
            return r.layer
        return None

    @property
    def diagnoses(self):
        out = []
        for r in self.layers:
            if r.code and r.code not in out:
                out.append(r.code)
        return out

    def to_json(self):
        return {"batch": self.B, "verdict": self.verdict, "first_wrong_forward_layer": self.first_wrong_layer,
                "output_only": self.output_only, "diagnoses": self.diagnoses,
                "layers": [r.to_json() for r in self.layers],
                "shape_error_in_code": self.crash.to_json() if self.crash else None}


def _where(spec, name, b, j):
    return f"{name}[{b}, {j}]" if spec.row else f"{name}[{j}, {b}]"


def check_forward(spec, fwd, outcome):
    """The `ForwardRun` of one call of the learner's forward (`runner.Outcome`) against the true forward
    values ``fwd`` (`passes.Forward`); a NumPy shape mismatch inside it is its ``shape_error``. Raises `LearnerCodeError` for anything else the code raised or returned that is not activations."""
    B, L = fwd.B, spec.L
    if outcome.crash is not None:
        report = crash_report(spec, outcome.crash, B)
        if report is None:
            raise outcome.crash.error(B, "forward")
        return ForwardRun(B, "shape_error", crash=report)
    layers, problems, eps = read_activations(spec, outcome.returned, str(B), B)
    tols = forward_tolerances(fwd, eps)
    output_only = set(layers) | set(problems) == {L} and L > 1
    out = []
    for l in range(1, L + 1):
        name = layer_name(spec, l)
        shape = (B, spec.sizes[l]) if spec.row else (spec.sizes[l], B)
        if l in problems:
            out.append(ForwardLayer(l, name, shape, "shape_error", problem=problems[l]))
            continue
        if l not in layers:
            out.append(ForwardLayer(l, name, shape, "not_returned"))
            continue
        a = layers[l]
        c = compare(a, fwd.H[l], tols[l])
        b, j = c.worst
        report = ForwardLayer(l, name, shape, "right", c.max_abs_error, c.max_rel_error, c.norm_error,
                              _where(spec, name, b, j), float(a[b, j]), float(fwd.H[l][b, j]), tols[l])
        if not c.passed:
            H_prev = layers.get(l - 1, fwd.H[l - 1]) if l > 1 else fwd.H[0]
            W = fwd.Ws[l - 1]
            given = _apply(spec.activation(l), W[0] + H_prev @ W[1:])
            if l - 1 in layers and compare(a, given, tols[l]).passed:
                report.status = "inherited"
            else:
                report.status, report.right_formula = "unexplained", right_formula(spec, l)
                for code, words, value in _candidates(spec, l, H_prev, W):
                    if compare(a, value, tols[l]).passed:
                        report.status, report.code, report.words = "wrong", code, words
                        break
        out.append(report)
    verdict = "correct"
    if problems:
        verdict = "shape_error"
    elif any(r.status not in ("right", "not_returned") for r in out):
        verdict = "wrong_value"
    return ForwardRun(B, verdict, out, output_only=output_only)

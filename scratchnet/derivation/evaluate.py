"""Evaluate a formula's syntax tree on bound arrays, recording the shape of every subexpression.

Evaluation stops at the first operation whose shapes do not fit and reports it as a `ShapeFailure`;
the trace up to there is kept so the learner sees the shapes that led to it. With
``auto_elementwise=True`` (used only by the diagnosis search) a matrix product whose shapes do not fit,
but whose two factors have the same shape, is computed as an elementwise product and the node is
recorded; and no elementwise operation may broadcast (a ``101×10`` matrix ⊙ a ``1×10`` row is a shape
failure there), so that a repair is a product of matching shapes that holds for every batch size.

A formula whose value cannot be computed at all — a division by zero, a result that overflows to
``inf`` or ``nan``, an intermediate array of more than `MAX_ENTRIES` entries, more than `MAX_TOTAL_ENTRIES`
entries built in all, more than `MAX_WORK` multiply-adds, or more than `MAX_SECONDS` — raises
`FormulaError` pointing at the subexpression. So every formula is answered in bounded time and memory.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from ..activations import ACTIVATIONS, HIDDEN, derivative_at
from ..quantity import lookup, suggest
from .formula import Call, FormulaError, Name, walk
from .notation import render

MAX_ENTRIES = 20_000_000
"""Entries an intermediate array may have (160 MB of float64); ``x^T x`` of a 784-pixel input has 614,656."""

MAX_TOTAL_ENTRIES = 30_000_000
"""Entries all the arrays of one evaluation may have together (240 MB of float64): every subexpression's
value is kept for the trace and the diagnosis."""

MAX_WORK = 400_000_000
"""Multiply-adds of all the matrix products of one evaluation (well under a second); the seed's answer at
B = 32 needs about 50,000, ``x^T x`` at B = 32 about 20 million."""

MAX_SECONDS = 3.0
"""Seconds one evaluation may take."""


def shape_text(shape):
    """``(101, 10)`` → ``101×10``; ``()`` → ``scalar``."""
    return "×".join(str(n) for n in shape) if shape else "scalar"


def broadcasts(a, b):
    """Whether two shapes combine elementwise (equal, a scalar, or NumPy broadcasting of a 1)."""
    if not a or not b:
        return True
    return all(x == y or x == 1 or y == 1 for x, y in zip(a, b))


def matmul_fits(a, b):
    """Whether shapes ``a`` and ``b`` can be matrix-multiplied (a scalar scales anything)."""
    return not a or not b or a[1] == b[0]


@dataclass
class TraceEntry:
    """One subexpression: its text, its shape, and a note (e.g. that it was read as ⊙)."""

    node: object
    text: str
    shape: tuple
    note: str = ""


@dataclass
class ShapeFailure:
    """The first operation whose shapes do not fit."""

    node: object
    text: str
    message: str
    shapes: tuple = ()
    elementwise_would_fit: bool = False


@dataclass
class FormulaEvaluation:
    """Result of evaluating a tree: ``value`` (None on failure), the trace, the failure if any, the
    matrix-product nodes computed as elementwise ones, and every node's value by ``uid``."""

    value: object
    trace: list
    failure: ShapeFailure = None
    substituted: list = field(default_factory=list)
    values: dict = field(default_factory=dict)

    @property
    def shape(self):
        return np.shape(self.value) if self.failure is None else None


class _Failed(Exception):
    pass


class Environment:
    """What a formula is evaluated against: bound names, the convention, and each layer's activation.

    Parameters
    ----------
    names : dict, canonical name → ndarray (2-D, in the convention) or float
    convention : ``"row"`` or ``"column"``
    activations : sequence of str, ``activations[l-1]`` is layer ``l``'s
    """

    def __init__(self, names, convention, activations):
        self.names = names
        self.convention = convention
        self.activations = tuple(activations)

    @classmethod
    def from_point(cls, point, extra=None):
        """The names of ``point``, plus ``extra`` (e.g. the derivation's ``delta_l``, name → array)."""
        return cls({**point.names(), **(extra or {})}, point.convention, point.activations)

    @property
    def batch_axis(self):
        """The axis that runs over the examples: 0 in the row convention, 1 in the column one."""
        return 0 if self.convention == "row" else 1

    def describe_names(self):
        """A short list of the names bound here, for error messages."""
        L = len(self.activations)
        parts = ["x (H0)"] + [f"H{l}" for l in range(1, L)] + [f"z1…z{L}", f"W1…W{L}"]
        if "b1" in self.names:
            parts.append(f"b1…b{L}")
        parts += ["yhat (ŷ)", "y", "ones", "B"]
        deltas = sorted(n for n in self.names if n.startswith("delta"))
        return ", ".join(parts + deltas)


def check_names(tree, formula, env):
    """Raise `FormulaError` at the first unknown name or misused function in ``tree``."""
    L = len(env.activations)
    for node in walk(tree):
        if isinstance(node, Name) and node.name not in env.names:
            raw = formula[node.start:node.end] if node.start >= 0 else node.name
            q, bias = lookup(node.name), "separate" if "b1" in env.names else "row"
            hint = f"; this network has {env.describe_names()}"
            if q is not None and q.kind == "delta":
                hint = f"; δ is not a name here: write it out, or check it alone with --wrt z{q.layer}"
            elif q is not None and q.problem(L, bias):
                hint = f"; {q.problem(L, bias)}"
            elif suggest(raw):
                hint = f"; did you mean {suggest(raw)}?"
            raise FormulaError(f"unknown name {raw!r}{hint}", formula, node.start, node.end)
        if isinstance(node, Call) and node.func == "f'":
            arg = node.arg
            q = lookup(arg.name) if isinstance(arg, Name) else None
            if (q is None or q.kind != "z") and len(set(env.activations[:-1])) != 1:
                raise FormulaError("f' takes a layer's pre-activation, as in f'(z2), when the hidden layers' "
                                   "activations differ", formula, arg.start, arg.end)
            if q is not None and q.kind == "z" and q.layer == L:
                raise FormulaError(
                    f"the output layer's softmax derivative is fused with the loss: write yhat - y "
                    f"for ∂L/∂z{L} instead", formula, node.start, node.end)


def _text(node, formula):
    if formula is not None and node.start >= 0:
        return formula[node.start:node.end]
    return render(node, "formula")


def _short(text, width=60):
    """``text`` cut to ``width`` characters for a one-line message."""
    return text if len(text) <= width else text[:width - 1] + "…"


def evaluate(tree, env, formula=None, auto_elementwise=False, broadcast=None):
    """Evaluate ``tree`` on ``env``; never raises for shapes (see `FormulaEvaluation.failure`).

    Parameters
    ----------
    tree : formula.Node
    env : Environment
    formula : str, optional, the source (for the text of each subexpression)
    auto_elementwise : bool, read a misfitting matrix product as elementwise where both factors have the
        same shape
    broadcast : bool, let an elementwise operation broadcast a row or column over a matrix (default: only
        without ``auto_elementwise``)

    Returns
    -------
    FormulaEvaluation

    Raises
    ------
    FormulaError
        A division by zero, a value that is not finite, or an array too large to compute.
    """
    result = FormulaEvaluation(None, [])
    try:
        with np.errstate(all="ignore"):          # overflow and 0/0 are caught as values that are not finite
            strict = auto_elementwise if broadcast is None else not broadcast
            result.value = _Evaluator(env, formula, auto_elementwise, result, strict).run(tree)
    except _Failed:
        result.value = None
    return result


class _Evaluator:
    def __init__(self, env, formula, auto, result, strict):
        self.env, self.formula, self.auto, self.result, self.strict = env, formula, auto, result, strict
        self.entries, self.work, self.started = 0, 0, time.monotonic()

    def spend(self, node, entries, work=0):
        """Count an array of ``entries`` (and ``work`` multiply-adds) against the evaluation's budget."""
        self.afford(node, entries, work)
        self.entries += entries
        self.work += work

    def afford(self, node, entries, work=0):
        """Refuse (a `FormulaError` at ``node``) before building what the budget cannot pay for."""
        if self.entries + entries > MAX_TOTAL_ENTRIES:
            self.refuse(node, f"the formula builds more than {MAX_TOTAL_ENTRIES:,} entries in all; it is too "
                              f"large to evaluate")
        if self.work + work > MAX_WORK:
            self.refuse(node, f"the formula's matrix products need more than {MAX_WORK:,} multiply-adds; it is "
                              f"too large to evaluate")
        if time.monotonic() - self.started > MAX_SECONDS:
            self.refuse(node, f"the formula takes more than {MAX_SECONDS:g} seconds to evaluate")

    def fail(self, node, message, shapes=(), elementwise=False):
        self.result.failure = ShapeFailure(node, _text(node, self.formula), message, shapes, elementwise)
        raise _Failed

    def refuse(self, node, message):
        """The value cannot be computed at all: a `FormulaError` at ``node``."""
        if self.formula is not None and node.start >= 0:
            raise FormulaError(message, self.formula, node.start, node.end)
        text = render(node, "formula")
        raise FormulaError(message, text, 0, len(text))

    def record(self, node, value, note=""):
        self.spend(node, int(np.size(value)))
        if not np.all(np.isfinite(value)):
            self.refuse(node, f"'{_short(_text(node, self.formula))}' is not finite at a random point (it overflows "
                              f"or divides zero by zero)")
        self.result.values[node.uid] = value
        text = _text(node, self.formula) if self.formula is not None else None   # the search needs no text
        self.result.trace.append(TraceEntry(node, text, np.shape(value), note))
        return value

    def run(self, node):
        method = getattr(self, "eval_" + type(node).__name__)
        return method(node)

    def eval_Num(self, node):
        return self.record(node, float(node.value))

    def eval_Name(self, node):
        value = self.env.names[node.name]
        return self.record(node, value if np.ndim(value) else float(value))

    def eval_Neg(self, node):
        return self.record(node, -self.run(node.operand))

    def eval_Transpose(self, node):
        value = self.run(node.operand)
        return self.record(node, value.T if np.ndim(value) else value)

    def eval_Power(self, node):
        return self.record(node, np.power(self.run(node.operand), node.exponent))

    def eval_Slice(self, node):
        value = self.run(node.operand)
        if not np.ndim(value):
            self.fail(node, "a number cannot be sliced")
        items = [i if isinstance(i, slice) else slice(i, i + 1 if i != -1 else None) for i in node.items]
        try:
            out = value[tuple(items)]
        except (IndexError, OverflowError, ValueError):
            self.fail(node, f"the slice does not fit a {shape_text(value.shape)} array")
        if out.size == 0:
            self.fail(node, f"the slice of a {shape_text(value.shape)} array is empty")
        return self.record(node, out)

    def eval_BinOp(self, node):
        a = self.run(node.left)
        b = self.run(node.right)
        sa, sb = np.shape(a), np.shape(b)
        both = f"{shape_text(sa)} and {shape_text(sb)}"
        if node.op == "matmul":
            if matmul_fits(sa, sb):
                if sa and sb and sa[0] * sb[1] > MAX_ENTRIES:
                    self.refuse(node, f"the matrix product of {both} would have {sa[0] * sb[1]:,} entries, "
                                      f"more than the {MAX_ENTRIES:,} a formula may build")
                if sa and sb:
                    self.afford(node, sa[0] * sb[1], sa[0] * sa[1] * sb[1])   # before computing it
                    self.work += sa[0] * sa[1] * sb[1]
                return self.record(node, a * b if not sa or not sb else a @ b)
            elementwise = broadcasts(sa, sb)
            if self.auto and sa == sb:
                self.result.substituted.append(node)
                return self.record(node, a * b, "read as ⊙")
            hint = " (an elementwise product ⊙ would fit)" if elementwise else ""
            self.fail(node, f"the matrix product of {both} needs the inner sizes to agree "
                            f"({sa[1]} ≠ {sb[0]}){hint}", (sa, sb), elementwise)
        what = {"mul": "an elementwise product", "+": "a sum", "-": "a difference", "/": "a quotient"}
        if not broadcasts(sa, sb):
            self.fail(node, f"{what[node.op]} needs equal shapes (or a 1 that broadcasts), got {both}",
                      (sa, sb))
        if self.strict and sa and sb and sa != sb and 1 not in (np.prod(sa), np.prod(sb)):
            self.fail(node, f"{what[node.op]} of {both} only works by broadcasting", (sa, sb))
        self.afford(node, int(np.prod(np.broadcast_shapes(sa, sb))))
        if node.op == "mul":
            out = a * b
        elif node.op == "+":
            out = a + b
        elif node.op == "-":
            out = a - b
        else:
            if np.any(np.asarray(b) == 0):
                where = "" if not np.ndim(b) else f": '{_short(_text(node.right, self.formula))}' has an entry 0"
                self.refuse(node, f"'{_short(_text(node, self.formula))}' divides by zero{where}")
            out = a / b
        note = "broadcast" if sa and sb and sa != sb else ""
        return self.record(node, out, note)

    def eval_Concat(self, node):
        rows = [[self.run(item) for item in row] for row in node.rows]
        blocks = []
        for row in rows:
            arrays = [v for v in row if np.ndim(v)]
            if not arrays:
                blocks.append(None)                         # numbers only: sized below
                continue
            heights = {a.shape[0] for a in arrays}
            if len(heights) > 1:
                self.fail(node, "items side by side need the same number of rows, got "
                          + " and ".join(shape_text(a.shape) for a in arrays))
            h = heights.pop()
            blocks.append(np.concatenate([v if np.ndim(v) else np.full((h, 1), v) for v in row], axis=1))
        widths = {b.shape[1] for b in blocks if b is not None}
        for k, row in enumerate(rows):
            if blocks[k] is None:                           # [1; H]: a row of ones as wide as H
                width = next(iter(widths)) if len(row) == 1 and len(widths) == 1 else None
                blocks[k] = np.full((1, width), row[0]) if width else np.array([row], dtype=np.float64)
        if len({b.shape[1] for b in blocks}) > 1:
            self.fail(node, "rows stacked with ';' need the same number of columns, got "
                      + " and ".join(shape_text(b.shape) for b in blocks))
        return self.record(node, np.concatenate(blocks, axis=0))

    def layer_derivative(self, node):
        """The derivative ``f'`` of ``f'(arg)`` stands for: that of ``z_l``'s layer, or for an expression the
        hidden layers' one activation (when they all share it)."""
        q = lookup(node.arg.name) if isinstance(node.arg, Name) else None
        hidden = set(self.env.activations[:-1])
        if q is not None and q.kind == "z" and 1 <= q.layer < len(self.env.activations):
            return self.env.activations[q.layer - 1] + "'"
        if len(hidden) == 1 and (q is None or q.kind != "z"):
            return hidden.pop() + "'"
        self.fail(node, "f' takes a hidden layer's pre-activation, as in f'(z2)")

    def eval_Call(self, node):
        if node.func == "f'":
            func = self.layer_derivative(node)
        else:
            func = node.func
        value = self.run(node.arg)
        if func == "diag":
            if np.ndim(value) == 0 or min(value.shape) != 1:
                self.fail(node, f"diag takes a vector (1×n or n×1), got {shape_text(np.shape(value))}")
            if value.size ** 2 > MAX_ENTRIES:
                self.refuse(node, f"diag of {value.size:,} entries would have {value.size ** 2:,} entries")
            return self.record(node, np.diag(value.ravel()))
        if func == "sum":
            if np.ndim(value) == 0:
                self.fail(node, "sum adds up the rows (row convention) or columns (column convention) of a "
                                "batch, not a number")
            return self.record(node, value.sum(axis=self.env.batch_axis, keepdims=True))
        if func == "softmax":
            if np.ndim(value) == 0:
                self.fail(node, "softmax takes a vector or a batch, not a number")
            rowwise = value if self.env.convention == "row" else value.T
            out = ACTIVATIONS["softmax"].function(rowwise.copy())
            return self.record(node, out if self.env.convention == "row" else out.T)
        array = np.atleast_2d(np.asarray(value, dtype=np.float64))
        if func.endswith("'"):
            out = derivative_at(func[:-1], array.copy()) if func[:-1] in HIDDEN else None
        else:
            out = ACTIVATIONS[func].function(array.copy())
        return self.record(node, out if np.ndim(value) else float(out[0, 0]))

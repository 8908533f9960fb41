"""Check a learner's formula for a gradient, or for one factor of their chain: shapes first, then the
value at a random point.

Verdicts:

* ``correct``: every shape fits and the value equals the truth (to float64 rounding);
* ``shape_error``: some operation's shapes do not fit, or the result has the wrong shape;
* ``wrong_value``: the shape is right and the value is not.

A **gradient** (``wrt``) is that of the **mean** cross-entropy over the batch (see `truth`), so for
``B > 1`` a formula must carry the ``1/B`` (write ``/B``); without it the verdict is ``wrong_value`` with
the diagnosis ``batch_factor``. At ``B = 1`` the factor is 1 and either form is correct.

A **factor** (``factor="dz3/dH2"``) is one Jacobian of the learner's chain for one example, in the
convention `JACOBIAN_CONVENTION` states (see `jacobians`). ``∂z_l/∂W_l`` is a third-order tensor: no
formula is it, and the answer explains its contraction with ``δ_l`` instead (``third_order``).

Diagnoses come from `repairs.search`: the fewest named repairs that turn the formula into the truth
(or its transpose, negative, ``B``-multiple, batch sum or diagonal). When none does, the message says
the value is wrong for another reason.
"""

from dataclasses import dataclass, field

import numpy as np

from .. import quantity
from ..errors import ScratchnetError
from ..quantity import Quantity, lookup
from ..network import SEED_ACTIVATIONS, SEED_SIZES
from .bindings import random_point
from .equations import gradient_formula, weight_gradient
from .evaluate import Environment, check_names, evaluate, shape_text
from .formula import Concat, FormulaError, Name, tokenize, walk
from . import check_text
from .latex import looks_like_latex, parse_any, to_plain
from .hints import HINT_CODES, NOTES, READINGS, hints
from .jacobians import parse_factor, tensor_content, tensor_entry, true_factor
from .notation import render
from .repairs import (CODES, Relation, SearchStats, gradient_relations, jacobian_relations, matches, search,
                      truth_scale)
from .truth import deltas, true_gradient

EXIT_CODES = {"correct": 0, "shape_error": 1, "wrong_value": 1}

DIAGNOSES = CODES
"""Every diagnosis code `check` can give, for gradients and factors (see `repairs`)."""

JACOBIAN_CONVENTION = (
    "Convention: the Jacobian ∂A/∂B is the matrix J with J[i, j] = ∂A_i/∂B_j (rows follow A). In the row "
    "convention it is the factor a row gradient multiplies on the right, ∂L/∂B = ∂L/∂A · J, so the chain "
    "reads left to right; in the column convention the same J acts transposed on column gradients, "
    "∂L/∂B = Jᵀ ∂L/∂A, read right to left.")


def read_formula(formula):
    """Parse the plain formula language or LaTeX (`latex.parse_any`); spans index ``formula`` itself."""
    return parse_any(formula)


def read_claims(formula):
    """What a pasted formula says about itself: the `quantity.Derivative` on its left-hand side
    (``\\frac{\\partial L}{\\partial W_2} = …`` or ``dL/dW2 = …``) and the shape it claims
    (``… \\in \\mathbb{R}^{101\\times 1}`` → ``(101, 1)``); ``(None, None)`` when it says neither.

    Raises
    ------
    FormulaError
        a left-hand side that cannot be read as a derivative (it is never silently ignored).
    """
    if not isinstance(formula, str) or not (looks_like_latex(formula) or "=" in formula):
        return None, None
    try:
        translation = to_plain(formula)
    except FormulaError:
        return None, None                    # the formula itself was read another way
    return translation.derivative, translation.claimed_shape


@dataclass
class CheckResult:
    """What `check` found. ``trace`` lists every subexpression's shape up to ``failure`` (if any).

    ``factor`` is the checked Jacobian (``"∂z3/∂H2"``) or None for a gradient (``wrt``);
    ``jacobian_note`` states the Jacobian convention for a factor; ``claimed_shape`` is the shape a
    pasted LaTeX formula claims for itself (``\\in \\mathbb{R}^{101\\times 1}``), if any.
    """

    formula: str
    wrt: str
    convention: str
    batch: int
    verdict: str
    shape: tuple
    expected_shape: tuple
    max_abs_error: float
    diagnoses: list
    message: str
    trace: list = field(default_factory=list)
    failure: object = None
    corrected: str = None
    repairs: list = field(default_factory=list)
    hints: list = field(default_factory=list)
    derivation: str = None
    factor: str = None
    bias: str = "row"
    jacobian_note: str = None
    claimed_shape: tuple = None
    batch_note: str = None

    @property
    def exit_code(self):
        return EXIT_CODES[self.verdict]

    def __repr__(self):
        return (f"CheckResult({self.target}, verdict={self.verdict!r}, diagnoses={list(self.diagnoses)!r}, "
                f"shape={self.shape!r}, expected_shape={self.expected_shape!r})")

    def __str__(self):
        return "\n".join(self.lines())

    def rows(self):
        """The result as ``(kind, text)`` rows, the lines ``scratchnet check`` prints without their
        prefixes (`check_text.rows`)."""
        return check_text.rows(self)

    def diagnoses_text(self):
        """What follows the verdict on its line: ``"  diagnoses: bias_row, …"``, or ``""``."""
        return check_text.diagnoses_text(self)

    def lines(self):
        """The result as the lines ``scratchnet check`` prints (`rows` with their prefixes)."""
        return check_text.lines(self)

    @property
    def target(self):
        """What the formula was checked as: ``∂L/∂W2`` or a factor such as ``∂z3/∂H2``."""
        return self.factor if self.factor is not None else f"∂L/∂{self.wrt}"

    def to_json(self):
        """The object ``scratchnet check --json`` prints (and the lab answers): `check_text.to_json`."""
        return check_text.to_json(self)

    def _repr_html_(self):
        """The result as HTML in a notebook (`html`)."""
        from .html import check_html
        return check_html(self)


def _refuse_a_contradicting_left_side(derivative, wrt, target, L, bias):
    """A pasted left-hand side (``∂L/∂W3 = …``) that names something other than what is being checked
    (``wrt``, or the factor ``target``) is refused, rather than judged as the other thing."""
    said = parse_factor(derivative.name, L, bias)
    if said.is_gradient and target is None:
        same, asked, field = said.denominator == wrt, f"∂L/∂{wrt}", "wrt"
    else:
        asked_factor = target if target is not None else parse_factor(f"dL/d{wrt}", L, bias)
        same = (said.numerator, said.denominator) == (asked_factor.numerator, asked_factor.denominator)
        asked, field = asked_factor.symbol(), "factor" if target is not None else "wrt"
    if not same:
        raise ScratchnetError(f"the formula's left-hand side is {said.symbol()}, but it is being checked as "
                              f"{asked}: check it as {said.symbol()}, or leave the left-hand side out",
                              field=field)


def check(formula, wrt=None, sizes=SEED_SIZES, activations=SEED_ACTIVATIONS, convention="row", batch=1,
          seed=0, rng=None, factor=None, bias="row"):
    """Check ``formula`` as ``∂L/∂wrt`` of the mean loss, or as the Jacobian ``factor``.

    Parameters
    ----------
    formula : str, in the formula language (see `formula`) or LaTeX (see `latex`); ``delta_l`` (δ_l)
        stands for the true ``∂L/∂z_l`` of the mean loss
    wrt : str, ``W_l``, ``b_l`` (separate bias), ``z_l`` or ``H_l`` (``x`` = ``H0``); ignored with
        ``factor``. When neither is given: what a pasted LaTeX left-hand side names
        (``\\frac{\\partial L}{\\partial W_2} = …``), else ``W2``
    sizes, activations : the network, default the seed's ``784 → 100 σ → 10 σ → 10 softmax``
    convention : ``"row"`` (``z = [1 H] W``) or ``"column"`` (``z = W [1; H]``)
    batch : int, ``B`` (a factor is checked for one example, ``B = 1``)
    seed : int, seeds ``numpy.random.default_rng`` when ``rng`` is not given
    rng : numpy.random.Generator, optional
    factor : str, optional, ``dA/dB`` for A, B among ``L``, ``yhat``, ``z_l``, ``H_l``, ``W_l``, ``b_l``
    bias : ``"row"`` (the bias is row 0 of ``W_l``) or ``"separate"`` (``z = H W + b``, names ``b_l``)

    Returns
    -------
    CheckResult

    Raises
    ------
    FormulaError
        The formula cannot be parsed, names something unknown, or cannot be computed (a division by
        zero); the message points at it.
    ScratchnetError
        A bad ``wrt``, ``factor``, network or batch size.
    """
    tree = read_formula(formula)
    derivative, claimed = read_claims(formula)
    if wrt is None and factor is None:
        if derivative is None:
            wrt = "W2"
        elif derivative.is_gradient:
            wrt = derivative.by.name
        else:
            factor = derivative.name
    rng = rng if rng is not None else np.random.default_rng(seed)
    point = random_point(sizes, activations, batch, convention, rng, bias=bias)
    env = Environment.from_point(point, _bound_deltas(tree, point))
    target = None
    if factor is not None:
        target = parse_factor(factor, point.L, bias)
        if target.is_gradient:
            wrt = target.denominator
    wrt = quantity.wrt(wrt, point.L, bias).name if target is None or target.is_gradient else None
    if derivative is not None:
        _refuse_a_contradicting_left_side(derivative, wrt, target, point.L, bias)
    check_names(tree, formula, env)
    if target is not None and not target.is_gradient:
        result = _check_factor(formula, tree, point, env, target)
    else:
        result = _check_gradient(formula, tree, point, env, wrt, target)
    if claimed is not None:
        result.claimed_shape = tuple(claimed)
        right = tuple(claimed) == tuple(result.expected_shape)
        result.message += (f". The shape you claimed, {shape_text(claimed)}, is "
                           + ("right" if right else f"not that of {result.target}, which is "
                              f"{shape_text(result.expected_shape)}"))
    return result


def _bound_deltas(tree, point):
    """``delta_l`` (δ_l) → the true ``∂L/∂z_l`` of the mean loss in the convention, when the formula uses
    a δ: the derivation's own answers are written with them (``[1 H1]^T delta2``)."""
    if not any(isinstance(node, Name) and (lookup(node.name) or Quantity("y")).kind == "delta"
               for node in walk(tree)):
        return None
    return {f"delta{l}": point.oriented(d) for l, d in deltas(point).items()}


def _check_gradient(formula, tree, point, env, wrt, target):
    truth = true_gradient(point, wrt)
    expected = truth.shape
    ev = evaluate(tree, env, formula)
    B = point.B
    scale = truth_scale(truth)
    shape, error = ev.shape, None
    if ev.failure is None and np.ndim(ev.value) and ev.value.shape == expected:
        error = float(np.max(np.abs(ev.value - truth)))
    if ev.failure is not None or shape != expected:
        verdict = "shape_error"
    elif matches(ev.value, truth, scale):
        verdict = "correct"
    else:
        verdict = "wrong_value"
    result = CheckResult(formula, wrt, point.convention, B, verdict, shape, expected, error, [], "", ev.trace,
                         ev.failure, bias=point.bias)
    if target is not None:
        result.factor = target.symbol()
        result.jacobian_note = "∂L/∂B of the scalar loss is the gradient itself, shaped like B."
    what = f"∂L/∂{wrt}"
    other = _OtherBatch(point, wrt, tree)
    if verdict == "correct":
        exception = other.exception(tree, env)
        if exception is None:
            result.message = (f"correct: the formula is {what} ({shape_text(expected)}); at a random point "
                              f"it agrees to {error:.1e}, and at B = {other.point.B} too")
            return result
        result.verdict, result.diagnoses, result.batch_note = exception
    relations = gradient_relations(truth, B, env.batch_axis, summed=lookup(wrt).kind == "b")
    stats = SearchStats()
    found = search(tree, env, relations, scale, accept=other.holds, stats=stats)
    codes = list(result.diagnoses)
    _diagnose(result, ev, found, what, point)
    result.diagnoses = [c for c in DIAGNOSES if c in set(codes) | set(result.diagnoses)]
    result.hints = [hints(code, what, point.convention, point.B, point.L, point.bias) for code in result.diagnoses]
    if found is None:
        result.hints += _convention_hints(tree, point)
    if _x_as_times(formula):
        result.hints.append(READINGS["x_as_times"])
    result.derivation = gradient_formula(wrt, point.activations, point.convention, point.bias)
    result.message = _message(result, ev, expected, found, what, stats)
    return result


class _OtherBatch:
    """The same network at another batch size (``B = 3`` when checking one example, else ``B = 1``): a
    repair, and a ``correct`` verdict, must hold there too, with matching shapes."""

    def __init__(self, point, wrt, tree):
        B = 3 if point.B == 1 else 1
        self.other_B = point.B
        self.point = random_point(point.sizes, point.activations, B, point.convention,
                                  np.random.default_rng(20_201), bias=point.bias)
        self.env = Environment.from_point(self.point, _bound_deltas(tree, self.point))
        self.truth = true_gradient(self.point, wrt)
        self.relations = gradient_relations(self.truth, B, self.env.batch_axis, summed=lookup(wrt).kind == "b")
        self.scale = truth_scale(self.truth)

    def holds(self, tree, relation, auto_elementwise=True):
        """Whether ``tree`` stands in ``relation`` (up to the ``1/B``, which is 1 at ``B = 1``) here too."""
        ev = evaluate(tree, self.env, auto_elementwise=auto_elementwise, broadcast=False)
        if ev.failure is not None:
            return False
        batch = {"batch_factor", "batch_sum"}                # both vanish at B = 1
        want = set(relation.codes) - batch
        return any(set(r.codes) - batch == want and r.holds(ev.value, self.scale)
                   for r in self.relations)

    def exception(self, tree, env):
        """Why a formula that equals the truth is still not it: None, or ``(verdict, diagnoses, note)``
        when it needs broadcasting (``broadcast``) or fails at this other batch size."""
        strict = evaluate(tree, env, broadcast=False)
        if strict.failure is not None:
            return ("shape_error", ["broadcast"],
                    f"it agrees only by broadcasting: {strict.failure.text}: {strict.failure.message}")
        if self.holds(tree, Relation((), "", self.truth), auto_elementwise=False):
            return None
        ev = evaluate(tree, self.env, broadcast=False)
        B = self.point.B
        if ev.failure is not None:
            return ("shape_error", ["one_example"],
                    f"it is right at B = {self.other_B}, but at B = {B} its shapes do not fit ({ev.failure.message})")
        return "wrong_value", ["one_example"], f"it is right at B = {self.other_B}, but not at B = {B}"


_BEFORE_TIMES = ("NAME", "NUM", "RPAREN", "RBRACK", "TRANSPOSE")
_AFTER_TIMES = ("NAME", "NUM", "FUNC", "LPAREN", "LBRACK")


def _x_as_times(formula):
    """Whether a plain formula has an ``x`` standing alone between two factors (``[1 H2]^T x (yhat - y)``),
    as a times sign would: it is read as the input."""
    if looks_like_latex(formula):
        return False                               # LaTeX has \times, and x there is a name
    try:
        tokens = tokenize(formula)
    except FormulaError:
        return False
    return any(a.kind in _BEFORE_TIMES and b.kind == "NAME" and b.text == "x" and b.space_before
               and c.space_before and c.kind in _AFTER_TIMES for a, b, c in zip(tokens, tokens[1:], tokens[2:]))


def _convention_hints(tree, point):
    """A hint when the formula writes ``[1 H]`` the other convention's way and nothing else explains it."""
    row = point.convention == "row"
    for node in walk(tree):
        if isinstance(node, Concat) and len(node.children()) == 2 and (len(node.rows) == 2) == row:
            return [("In the row convention H is a row and [1 H] puts a 1 before it; [1; H] stacks "
                     "them, which is the column convention's way." if row else
                     "In the column convention H is a column and [1; H] stacks a 1 above it; [1 H] "
                     "(the row convention's way) puts ones beside it instead.")]
    return []


def _diagnose(result, ev, found, what, point):
    """Fill in diagnoses, repairs, the corrected formula and the hints from the search."""
    if found is not None:
        result.diagnoses = list(found.codes)
        result.repairs = [r.description for r in found.repairs]
        if found.repairs or "elementwise_product" in found.codes:
            result.corrected = render(found.tree, "formula")
    elif ev.failure is not None and ev.failure.elementwise_would_fit:
        result.diagnoses = ["elementwise_product"]
    result.hints = [hints(code, what, point.convention, point.B, point.L, point.bias)
                    for code in result.diagnoses]
    if found is not None and found.note in NOTES:
        code, words = NOTES[found.note]
        result.hints[result.diagnoses.index(code)] += words


def _check_factor(formula, tree, point, env, factor):
    if point.B != 1:
        raise ScratchnetError(f"a factor is the Jacobian {factor.symbol()} of one example (batch 1); "
                              f"for a batch, check the gradient ∂L/∂{factor.denominator} instead", field="batch")
    truth = true_factor(point, factor)
    what = factor.symbol()
    ev = evaluate(tree, env, formula)
    shape = ev.shape
    result = CheckResult(formula, factor.denominator, point.convention, 1, "shape_error", shape, truth.shape,
                         None, [], "", ev.trace, ev.failure, factor=what, bias=point.bias,
                         jacobian_note=JACOBIAN_CONVENTION)
    if factor.is_tensor:
        return _third_order(result, ev, point, factor, truth)
    J = truth.value
    scale = truth_scale(J)
    if ev.failure is None and shape == J.shape:
        result.max_abs_error = float(np.max(np.abs(ev.value - J)))
        result.verdict = "correct" if matches(ev.value, J, scale) else "wrong_value"
    result.derivation = truth.formula
    if result.verdict == "correct":
        result.message = (f"correct: the formula is the Jacobian {what} ({shape_text(J.shape)}); at a random "
                          f"point it agrees to {result.max_abs_error:.1e}")
        return result
    relations = jacobian_relations(J, truth.softmax)
    if truth.softmax:
        relations += _softmax_at_z(point)
    found = search(tree, env, relations, scale)
    _diagnose(result, ev, found, what, point)
    if "diagonal_jacobian" in result.diagnoses and "elementwise_product" in result.diagnoses and \
            not any(r.code == "elementwise_product" for r in found.repairs):
        result.diagnoses.remove("elementwise_product")     # the vector reading is the diagonal's story
        result.hints = [hints(code, what, point.convention, 1, point.L, point.bias) for code in result.diagnoses]
    result.message = _message(result, ev, truth.shape, found, what)
    return result


def _softmax_at_z(point):
    """The softmax Jacobian's formula taken at ``z_L`` instead of ``ŷ``: ``diag(z) − zᵀz`` and its
    diagonal ``z ⊙ (1 − z)`` (as a vector or a diagonal matrix): also ``softmax_jacobian``."""
    z = point.z[point.L][0]
    d = z * (1 - z)
    words = "the softmax Jacobian's formula at z instead of ŷ, not "
    return [Relation(("softmax_jacobian",), words, expected, note="softmax_at_z")
            for expected in (np.diag(z) - np.outer(z, z), np.diag(d), d[None, :], d[:, None])]


def _third_order(result, ev, point, factor, truth):
    """``∂A/∂W_l``: a tensor that no formula is; say what its entries are and what to write instead."""
    l = factor.by.layer
    result.diagnoses = ["third_order"]
    result.hints = [hints("third_order", factor.symbol(), point.convention, 1, point.L, point.bias)]
    gradient = weight_gradient(l, f"delta{l}", point.convention, point.bias)
    result.derivation = f"{truth.formula}; contracted with δ{l}: ∂L/∂W{l} = {gradient}"
    given = shape_text(ev.shape) if ev.failure is None else "a formula whose shapes do not fit"
    content = ""
    if ev.failure is None and factor.numerator == f"z{l}" and np.ndim(ev.value):
        entries = tensor_content(point, l)
        if any(matches(ev.value, e, truth_scale(entries)) for e in (entries, entries.T)):
            content = (f" Its entries are right, though: they are the tensor's nonzero entries, "
                       f"∂z_k/∂W_ij = {tensor_entry(point, l)}.")
    result.message = (f"shape error: {factor.symbol()} is a third-order tensor "
                      f"({shape_text(truth.shape)}), and {given} cannot be it.{content} Contract it with "
                      f"δ{l} instead: ∂L/∂W{l} = {gradient}")
    return result


SEARCHED = ("the bias row, the ⊙, a σ′ factor, a layer number, a transpose, the order of two factors, the "
            "grouping of a product, the sign and the 1/B")
"""What the repair search tries, as the message says it."""


def _message(result, ev, expected, found, what, stats=None):
    """One paragraph: what failed, which repairs make it the truth, and the right formula."""
    if result.batch_note:
        head = f"not {what} for every batch size: {result.batch_note}"
    elif ev.failure is not None:
        head = f"shape error at '{ev.failure.text}': {ev.failure.message}"
    elif result.verdict == "shape_error":
        head = (f"shape error: the formula gives {shape_text(result.shape)}, but {what} is "
                f"{shape_text(expected)}")
    else:
        head = (f"wrong value: the shape {shape_text(expected)} is right, but the value differs from "
                f"{what} by up to {result.max_abs_error:.3g}")
    if found is None:
        if stats is not None and stats.stopped == "too_large":
            return f"{head}. The formula is too long for the checker to search for repairs"
        searched = f"no combination of up to three repairs of {SEARCHED} makes it {what} for every batch size"
        if stats is not None and stats.stopped == "pool":
            searched = (f"no single repair or pair of repairs of {SEARCHED} makes it {what} for every batch "
                        f"size (with this many candidates, not every three are tried)")
        elif stats is not None and stats.stopped == "budget":
            searched = (f"the checker's search for repairs ({SEARCHED}) stopped at its budget without "
                        f"finding one, so the mistake may still be one of these")
        return f"{head}. {searched[0].upper()}{searched[1:]}"
    fixes = [r.description for r in found.repairs]
    if ev.failure is not None and "elementwise_product" in found.codes and \
            not any(r.code == "elementwise_product" for r in found.repairs):
        fixes.append("the matrix products that do not fit read as ⊙")
    said = f"{head}. With " + "; ".join(fixes) + ", it" if fixes else f"{head}. It"
    if found.relation:
        return f"{said} is {found.relation}{what}"
    return f"{said} is {what}: {result.corrected}"

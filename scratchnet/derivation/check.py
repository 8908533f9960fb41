"""Check a learner's formula for a gradient: shapes first, then the value at a random point.

Verdicts:

* ``correct``: every shape fits and the value equals the true gradient (to float64 rounding);
* ``shape_error``: some operation's shapes do not fit, or the result has the wrong shape;
* ``wrong_value``: the shape is right and the value is not.

The truth is the gradient of the **mean** cross-entropy over the batch (see `truth`), so for ``B > 1``
a formula must carry the ``1/B`` (write ``/B``); without it the verdict is ``wrong_value`` with the
diagnosis ``batch_factor``. At ``B = 1`` the factor is 1 and either form is correct.

Diagnoses come from `repairs.search`: the fewest named repairs that turn the formula into the gradient
(or its transpose, negative, ``B``-multiple). When none does, the message says the value is wrong for
another reason.
"""

from dataclasses import dataclass, field

import numpy as np

from ..network import SEED_ACTIVATIONS, SEED_SIZES
from .bindings import random_point
from .equations import gradient_formula
from .evaluate import Environment, check_names, evaluate, shape_text
from .formula import parse
from .notation import render
from .repairs import matches, search
from .truth import parse_wrt, true_gradient

EXIT_CODES = {"correct": 0, "shape_error": 1, "wrong_value": 1}


def hints(code, wrt, convention, B, L):
    """One sentence per diagnosis code, in the words of the derivation."""
    row = convention == "row"
    wbar = "W_l[1:]" if row else "W_l[:, 1:]"
    ones = "[1 H_{l-1}]" if row else "[1; H_{l-1}]"
    outer = "[1 H_{l-1}]^T δ_l" if row else "δ_l [1; H_{l-1}]^T"
    back = "(δ_{l+1} W_{l+1}[1:]^T) * f'(z_l)" if row else "(W_{l+1}[:, 1:]^T δ_{l+1}) * f'(z_l)"
    return {
        "elementwise_product":
            "σ'(z) enters by an elementwise (Hadamard) product: an elementwise activation has a diagonal "
            "Jacobian, and multiplying by diag(σ'(z)) is the same as ⊙ σ'(z). Write * (or diag(·) for "
            "an explicit matrix).",
        "bias_row":
            f"The bias row of W_l multiplies the constant 1, not H_{{l-1}}, so no gradient flows back "
            f"through it: carry the gradient back with {wbar}. The gradient of W_l itself needs {ones}: "
            f"its ones give the bias row's gradient.",
        "transposed":
            f"The result is the transpose of ∂L/∂{wrt}: ∂L/∂W_l = {outer} has the shape of W_l.",
        "sign":
            f"The result is minus the gradient: ∂L/∂z{L} = ŷ − y (not y − ŷ), and the update subtracts it.",
        "batch_factor":
            f"The result is off by a factor of B = {B}: the loss is the mean over the batch, so "
            f"δ_{L} = (ŷ − y)/B, and a matrix product over the batch adds up the B examples.",
        "activation_derivative":
            f"A σ' factor is missing, extra, or at the wrong layer: δ_l = {back}, with f the activation "
            f"of layer l and z_l that layer's own pre-activation.",
    }[code]


@dataclass
class CheckResult:
    """What `check` found. ``trace`` lists every subexpression's shape up to ``failure`` (if any)."""

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

    @property
    def exit_code(self):
        return EXIT_CODES[self.verdict]

    def to_json(self):
        """The object ``scratchnet check --json`` prints."""
        return {"verdict": self.verdict,
                "shape": list(self.shape) if self.shape is not None else None,
                "expected_shape": list(self.expected_shape),
                "max_abs_error": self.max_abs_error,
                "diagnoses": list(self.diagnoses),
                "message": self.message,
                "wrt": self.wrt, "convention": self.convention, "batch": self.batch,
                "corrected": self.corrected, "derivation": self.derivation}


def check(formula, wrt="W2", sizes=SEED_SIZES, activations=SEED_ACTIVATIONS, convention="row", batch=1,
          seed=0, rng=None):
    """Check ``formula`` as a formula for ``∂L/∂wrt`` of the mean loss.

    Parameters
    ----------
    formula : str, in the formula language (see `formula`)
    wrt : str, ``W_l``, ``z_l`` or ``H_l`` (``x`` = ``H0``)
    sizes, activations : the network, default the seed's ``784 → 100 σ → 10 σ → 10 softmax``
    convention : ``"row"`` (``z = [1 H] W``) or ``"column"`` (``z = W [1; H]``)
    batch : int, ``B``
    seed : int, seeds ``numpy.random.default_rng`` when ``rng`` is not given
    rng : numpy.random.Generator, optional

    Returns
    -------
    CheckResult

    Raises
    ------
    FormulaError
        The formula cannot be parsed or names something unknown (the message points at it).
    ScratchnetError
        A bad ``wrt``, network or batch size.
    """
    tree = parse(formula)
    rng = rng if rng is not None else np.random.default_rng(seed)
    point = random_point(sizes, activations, batch, convention, rng)
    wrt = parse_wrt(wrt, point.L)
    env = Environment.from_point(point)
    check_names(tree, formula, env)
    truth = true_gradient(point, wrt)
    expected = truth.shape
    ev = evaluate(tree, env, formula)
    B = point.B

    shape, error = ev.shape, None
    if ev.failure is None and np.ndim(ev.value) and ev.value.shape == expected:
        error = float(np.max(np.abs(ev.value - truth)))
    if ev.failure is not None or shape != expected:
        verdict = "shape_error"
    elif matches(ev.value, truth, truth):
        verdict = "correct"
    else:
        verdict = "wrong_value"

    result = CheckResult(formula, wrt, convention, B, verdict, shape, expected, error, [], "", ev.trace,
                         ev.failure)
    if verdict == "correct":
        result.message = (f"correct: the formula is ∂L/∂{wrt} ({shape_text(expected)}); at a random point "
                          f"it agrees to {error:.1e}")
        return result

    found = search(tree, env, truth, B)
    if found is not None:
        result.diagnoses = list(found.codes)
        result.repairs = [r.description for r in found.repairs]
        if found.repairs or "elementwise_product" in found.codes:
            result.corrected = render(found.tree, "formula")
    elif ev.failure is not None and ev.failure.elementwise_would_fit:
        result.diagnoses = ["elementwise_product"]
    result.derivation = gradient_formula(wrt, point.activations, convention)
    L = point.L
    result.hints = [hints(code, wrt, convention, B, L) for code in result.diagnoses]
    result.message = _message(result, ev, expected, found)
    return result


def _message(result, ev, expected, found):
    """One paragraph: what failed, which repairs make it the gradient, and the derivation's formula."""
    wrt = result.wrt
    if ev.failure is not None:
        head = f"shape error at '{ev.failure.text}': {ev.failure.message}"
    elif result.verdict == "shape_error":
        head = (f"shape error: the formula gives {shape_text(result.shape)}, but ∂L/∂{wrt} is "
                f"{shape_text(expected)}")
    else:
        head = (f"wrong value: the shape {shape_text(expected)} is right, but the value differs from "
                f"∂L/∂{wrt} by up to {result.max_abs_error:.3g}")
    if found is None:
        return (f"{head}. It is wrong for another reason: no repair of the bias row, the ⊙, a σ' factor, "
                f"the transpose, the sign or the 1/B makes it ∂L/∂{wrt}")
    fixes = [r.description for r in found.repairs]
    if ev.failure is not None and "elementwise_product" in found.codes and \
            not any(r.code == "elementwise_product" for r in found.repairs):
        fixes.append("the matrix products that do not fit read as ⊙")
    said = f"{head}. With " + "; ".join(fixes) + ", it" if fixes else f"{head}. It"
    if found.relation:
        return f"{said} is {found.relation}∂L/∂{wrt}"
    return f"{said} is ∂L/∂{wrt}: {result.corrected}"

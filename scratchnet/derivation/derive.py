"""The derivation of backpropagation for a configured network, every step evaluated and verified.

`derive` builds the forward pass and every backward equation as formulas (see `equations`), evaluates
each at a random point once for one example (``B = 1``) and once for a batch of ``B``, records the shape
of every factor, and compares each backward result with central finite differences of the mean loss.
The three facts that untangle the seed question are attached to the steps where they arise:

* ``hadamard``: an elementwise activation has a diagonal Jacobian, so it enters by ``⊙``;
* ``outer``: ``∂z/∂W`` is a third-order tensor, so the chain rule collapses to ``[1 H]ᵀ δ``;
* ``bias``: the bias row has no input behind it, so it is dropped on the way back;
* ``bias_sum`` (separate-bias notation): ``b`` is added to every example, so its gradient is the sum
  of ``δ`` over the batch; ``textbook`` (the seed's notation): the same two gradients inside ``[1 H]ᵀ δ``.

Rendering to text, markdown or LaTeX is in `render`.
"""

from dataclasses import dataclass, field

import numpy as np

from ..activations import ACTIVATIONS
from ..network import SEED_ACTIVATIONS, SEED_SIZES, architecture_text
from .bindings import random_point
from .equations import (bias_gradient, delta_L, input_gradient, pre_activation, previous_delta,
                        weight_gradient)
from .evaluate import Environment, evaluate
from .formula import BinOp, parse, walk
from .verify import compare

TOLERANCE = 1e-6
"""A backward equation passes when its largest error is below this fraction of its largest entry."""


@dataclass
class Step:
    """One equation. ``name`` is what it defines (``z1``, ``H1``, ``yhat``, ``delta3``, ``dW3``, ``db3``,
    ``dH2``), ``formula`` its right-hand side in the formula language, ``wrt`` the quantity finite
    differences vary (backward steps only)."""

    kind: str
    name: str
    formula: str
    tree: object = None
    wrt: str = None
    shape_one: tuple = None
    shape_batch: tuple = None
    ledger_one: list = field(default_factory=list)
    ledger_batch: list = field(default_factory=list)
    check_one: dict = None
    check_batch: dict = None
    facts: list = field(default_factory=list)

    @property
    def verified(self):
        checks = [c for c in (self.check_one, self.check_batch) if c is not None]
        return all(c["max_rel_error"] <= TOLERANCE for c in checks)


@dataclass
class Derivation:
    """All steps for one network, convention, bias notation and batch size."""

    sizes: tuple
    activations: tuple
    convention: str
    batch: int
    seed: int
    steps: list
    symbolic_batch: int
    bias: str = "row"

    @property
    def verified(self):
        return all(s.verified for s in self.steps if s.kind == "backward")

    @property
    def L(self):
        return len(self.activations)

    def architecture(self):
        """``784 → 100 σ → 10 σ → 10 softmax``."""
        return architecture_text(self.sizes, self.activations)

    def step(self, name):
        return next(s for s in self.steps if s.name == name)

    def __str__(self):
        from .render import derivation_text
        return derivation_text(self)

    def __repr__(self):
        return (f"Derivation({self.architecture()}, {self.convention} convention, bias {self.bias}, "
                f"{len(self.steps)} steps, verified={self.verified})")

    def _repr_html_(self):
        """The derivation as HTML in a notebook (`html`)."""
        from .html import derivation_html
        return derivation_html(self)


def _symbolic_batch(sizes):
    """A batch size that no layer width (or width + 1) equals, so it can be printed as ``B``."""
    k = 2
    while k in sizes or k - 1 in sizes:
        k += 1
    return k


def _ledger(tree, value_of):
    """Each operation of the tree with its operands' shapes: ``(left node or None, op, right node,
    left shape, right shape, result shape)``; ``left`` is None when it is the previous entry."""
    out, previous = [], None
    for node in walk(tree):
        if not isinstance(node, BinOp):
            continue
        left = None if node.left is previous else node.left
        out.append((left, node.op, node.right, value_of(node.left), value_of(node.right), value_of(node)))
        previous = node
    return out


def steps_for(activations, convention, bias="row"):
    """The equations of the derivation (forward then backward) for ``len(activations)`` layers."""
    L = len(activations)
    steps = []
    for l in range(1, L + 1):
        steps.append(Step("forward", f"z{l}", pre_activation(l, convention, bias)))
        func = ACTIVATIONS[activations[l - 1]].spelling
        steps.append(Step("forward", "yhat" if l == L else f"H{l}", f"{func}(z{l})"))
    steps.append(Step("backward", f"delta{L}", delta_L(), wrt=f"z{L}", facts=["softmax", "batch"]))
    told = set()

    def first(fact):
        new = fact not in told
        told.add(fact)
        return [fact] if new else []

    for l in range(L, 0, -1):
        steps.append(Step("backward", f"dW{l}", weight_gradient(l, f"delta{l}", convention, bias),
                          wrt=f"W{l}", facts=first("outer") + (first("textbook") if bias == "row" else [])))
        if bias == "separate":
            steps.append(Step("backward", f"db{l}", bias_gradient(l, f"delta{l}"), wrt=f"b{l}",
                              facts=first("bias_sum")))
        if l > 1:
            steps.append(Step("backward", f"dH{l - 1}", input_gradient(l, f"delta{l}", convention, bias),
                              wrt=f"H{l - 1}", facts=first("bias") if bias == "row" else []))
            steps.append(Step("backward", f"delta{l - 1}",
                              previous_delta(l, f"delta{l}", convention, activations, bias), wrt=f"z{l - 1}",
                              facts=first("hadamard")))
    return steps


def _evaluate_steps(steps, point, verify, rng):
    """Evaluate every step at ``point`` in order, each ``delta_l`` bound to the value of its own step;
    returns a list of ``(shape, ledger, check)`` per step."""
    deltas = {}
    results = []
    for s in steps:
        env = Environment.from_point(point, extra=deltas)
        ev = evaluate(s.tree, env, s.formula)
        if ev.failure is not None:
            raise AssertionError(f"the derivation's own step {s.name} = {s.formula} failed: {ev.failure.message}")
        ledger = _ledger(s.tree, lambda n: np.shape(ev.values[n.uid]))
        check = None
        if s.kind == "backward":
            if s.name.startswith("delta"):
                deltas[s.name] = ev.value
            if verify:
                check = compare(point, s.wrt, ev.value, rng)
        results.append((np.shape(ev.value), ledger, check))
    return results


def derive(sizes=SEED_SIZES, activations=SEED_ACTIVATIONS, convention="row", batch=4, seed=0, rng=None,
           verify=True, bias="row"):
    """The derivation of every gradient of a network, evaluated for one example and for a batch.

    Parameters
    ----------
    sizes, activations : the network (default the seed's, `SEED_SIZES` and `SEED_ACTIVATIONS`)
    convention : ``"row"`` (``z = [1 H] W``) or ``"column"`` (``z = W [1; H]``)
    batch : int, the ``B`` of the batch evaluation (one example is always evaluated too)
    seed : int, seeds the generator when ``rng`` is not given
    rng : numpy.random.Generator, optional
    verify : bool, compare each backward equation with finite differences
    bias : ``"row"`` (the bias is row 0 of ``W_l``) or ``"separate"`` (``z = H W + b``, names ``b_l``)

    Returns
    -------
    Derivation
    """
    rng = rng if rng is not None else np.random.default_rng(seed)
    batch = int(batch)
    one = random_point(sizes, activations, 1, convention, rng, bias=bias)
    many = random_point(sizes, activations, batch, convention, rng, bias=bias)
    sizes, activations = one.sizes, one.activations
    symbolic = _symbolic_batch(sizes)
    shapes_only = random_point(sizes, activations, symbolic, convention, np.random.default_rng(0), bias=bias)
    steps = steps_for(activations, convention, bias)
    for s in steps:
        s.tree = parse(s.formula)
    for s, (shape, ledger, check) in zip(steps, _evaluate_steps(steps, one, verify, rng)):
        s.shape_one, s.ledger_one, s.check_one = shape, ledger, check
    batch_results = _evaluate_steps(steps, many, verify, rng) if batch != 1 else None
    for s, (shape, ledger, _) in zip(steps, _evaluate_steps(steps, shapes_only, False, rng)):
        s.shape_batch, s.ledger_batch = shape, ledger
    if batch_results:
        for s, (_, _, check) in zip(steps, batch_results):
            s.check_batch = check
    return Derivation(tuple(sizes), tuple(activations), convention, batch, seed, steps, symbolic, bias)


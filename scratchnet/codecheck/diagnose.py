"""Name the mistake: compare the learner's gradients with the numbers each known mistake produces, layer
by layer from the output back.

The search is greedy and top-down. The highest layer whose gradient differs from the model (at first the
truth) is where a mistake must be; every `mistakes.candidate` for that layer is run through the whole
backward pass (with the mistakes already found above it), its number fitted if it has one, and kept if it
gives the learner's gradient of that layer exactly (to the tolerance). Among those, the one that also
explains the most layers below wins (a mistake in ``δ_l`` spoils them; one in ``∂L/∂W_l`` does not); then
the next layer that still differs is searched, up to `MAX_MISTAKES`. A layer no candidate explains ends
the search: it is reported as wrong for a reason no known mistake matches.
"""

from dataclasses import dataclass, field

import numpy as np

from .mistakes import Candidate, candidates, constant_codes
from .passes import backward
from .tolerance import compare

MAX_MISTAKES = 3


@dataclass(frozen=True)
class Found:
    """A mistake found: its codes, ``site`` and ``layer``, the fitted number ``value`` (or None) and
    ``words``, what the learner's code does there."""

    codes: tuple
    site: str
    layer: int
    value: float
    words: str

    def to_json(self):
        return {"codes": list(self.codes), "site": self.site, "layer": self.layer, "value": self.value,
                "words": self.words}


@dataclass
class Search:
    """What `search` found: the mistakes (top-down), the layer nothing explains (or None) and the model's
    gradients with every found mistake in place."""

    found: list = field(default_factory=list)
    unexplained: int = None
    model: dict = None


def _run(fwd, mistakes):
    steps = [((c.site, c.layer), (lambda s, c=c, p=p: c.compute(s, p))) for c, p in mistakes]
    return backward(fwd, steps)[0]


def _scaled(c):
    return Candidate(c.codes, c.site, c.layer, c.words, lambda s, p, c=c: p * c.compute(s, None), "c")


def _fit(fwd, mistakes, cand, l, target, first_row):
    """The least-squares number of ``cand`` for the learner's ``∂L/∂W_l`` (every pass is linear in it)."""
    d0 = _run(fwd, mistakes + [(cand, 0.0)])[l][first_row:]
    d1 = _run(fwd, mistakes + [(cand, 1.0)])[l][first_row:]
    v, r = (d1 - d0).ravel(), (target[first_row:] - d0).ravel()
    den = float(v @ v)
    return None if den == 0 or not np.isfinite(den) else float(v @ r) / den


def _name(cand, value, B, L):
    """The codes and words of a candidate that matched with the number ``value``."""
    if cand.param == "eta":
        return cand.codes, f"{cand.words}, with η = {value:.4g}"
    if cand.param != "c":
        return cand.codes, cand.words
    whole = cand.site == "delta" and cand.layer == L and not cand.codes
    named = constant_codes(value, B, whole)
    if named is None:
        return (None, None) if cand.codes in ((), ("bias_scale",)) else (cand.codes, cand.words)
    codes, said = named
    if cand.codes == ("bias_scale",):
        if codes == ("bias_row",):
            return codes, f"{cand.words} is left at 0: the ones of [1 H] that give it are missing"
        extra = (": a mean over the batch, where δ already carries the 1/B of the mean loss"
                 if codes == ("batch_factor",) and value < 1 else "")
        return codes, f"{cand.words} is {said} the right one{extra}"
    if codes == ("bias_row",):
        return None, None
    if not cand.codes and whole:
        if codes == ("update",):
            return codes, (f"every gradient is {said} ∂L/∂W: an update step −η ∂L/∂W with η = {-value:.4g} "
                           f"(a learning rate folded in), not the gradient")
        if "sign" in codes:
            return codes, (f"every gradient is {said} ∂L/∂W: y − ŷ where ŷ − y belongs"
                           + (" (an update's direction, with the 1/B left out)" if "batch_factor" in codes
                              and value < -1 else ""))
        if codes == ("batch_factor",) and value > 1:
            return codes, f"every gradient is {said} ∂L/∂W: the 1/B of the mean loss is left out"
        if codes == ("scale",):
            return codes, f"every gradient is {said} ∂L/∂W: a constant factor folded in (a learning rate?)"
        return codes, f"every gradient is {said} ∂L/∂W"
    if not cand.codes:
        return codes, f"{cand.words} is {said} the right one"
    return tuple(cand.codes) + tuple(c for c in codes if c not in cand.codes), f"{cand.words}, and {said} that"


def search(fwd, grads, tols, spec):
    """A `Search` of the learner's canonical ``grads.layers`` (None where the shape was wrong)."""
    first_row = 1 if spec.bias == "none" else 0
    B, L = fwd.B, spec.L

    def matches(l, model):
        a = grads.layers.get(l)
        return a is not None and compare(a, model[l], tols[l], first_row).passed

    mistakes, result = [], Search()
    model = _run(fwd, mistakes)
    for _ in range(MAX_MISTAKES):
        wrong = [l for l in range(L, 0, -1) if grads.layers.get(l) is not None and not matches(l, model)]
        if not wrong:
            break
        l = wrong[0]
        best = None
        for order, cand in enumerate(candidates(spec, fwd, l)):
            for version in ([cand] if cand.param else [cand, _scaled(cand)]):
                value = None
                if version.param:
                    value = _fit(fwd, mistakes, version, l, grads.layers[l], first_row)
                    if value is None:
                        continue
                pred = _run(fwd, mistakes + [(version, value)])
                if not matches(l, pred):
                    continue
                codes, words = _name(version, value, B, L)
                if codes is None:
                    continue
                below = 0
                for k in range(l - 1, 0, -1):
                    if not matches(k, pred):
                        break
                    below += 1
                key = (-below, len(codes), order)
                if best is None or key < best[0]:
                    best = (key, version, value, Found(tuple(codes), version.site, l, value, words), pred)
                break
        if best is None:
            result.unexplained = l
            break
        _, version, value, found, model = best
        mistakes.append((version, value))
        result.found.append(found)
    result.model = model
    return result

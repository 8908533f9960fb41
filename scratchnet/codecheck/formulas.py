"""The right formula for a layer in the learner's own convention and bias notation, and the hint for each
diagnosis code: the derivation's own (`scratchnet.derivation.equations` and `check.hints`), plus the
hints of the three codes that only running code has."""

from ..derivation import parse
from ..derivation.check import hints as formula_hints
from ..derivation.equations import bias_gradient, previous_delta, weight_gradient


_SPELLINGS = (("delta", "δ"), ("^T", "ᵀ"), ("yhat", "ŷ"), ("sigma'", "σ'"), (" * ", " ⊙ "))


def pretty(text):
    """One of the derivation's formulas (formula language) with its Greek letters and ᵀ, but the slices
    as the learner writes them (``W3[:, 1:]``, not ``W̄3``): ``delta2`` → ``δ2``, ``^T`` → ``ᵀ``."""
    parse(text)                                 # the derivation's own formulas always parse
    for plain, symbol in _SPELLINGS:
        text = text.replace(plain, symbol)
    return text


def _bias(spec):
    return "separate" if spec.bias == "none" else spec.bias


def _delta_L(spec):
    L = spec.L
    if spec.loss == "ce":
        return "(yhat - y) / B"
    if spec.output == "sigmoid":
        return f"(yhat - y) * sigma'(z{L}) / B"
    return "(yhat - y) / B"


def corrected(spec, l, site):
    """The right formulas at the step a mistake was found: ``δ_l`` (for a ``delta`` site) and
    ``∂L/∂W_l`` (and ``∂L/∂b_l``), as ``[(left, right)]`` in Unicode."""
    activations = list(spec.hidden) + ["softmax"]
    out = []
    if site == "delta":
        right = _delta_L(spec) if l == spec.L else previous_delta(l + 1, f"delta{l + 1}", spec.convention,
                                                                    activations, _bias(spec))
        out.append((f"δ{l}", pretty(right)))
    out.append((f"∂L/∂W{l}", pretty(weight_gradient(l, f"delta{l}", spec.convention, _bias(spec)))))
    if spec.bias == "separate":
        out.append((f"∂L/∂b{l}", pretty(bias_gradient(l, f"delta{l}"))
                    + (" (over the batch: a sum of rows)" if spec.row else " (over the batch: a sum of columns)")))
    return out


OWN_HINTS = {
    "not_computed": ("Every entry is 0: the gradient of this layer was never computed (a np.zeros placeholder, "
                     "or a loop that stops one layer early: range(L, 1, -1) leaves out layer 1)."),
    "update": ("Return the gradient ∂L/∂W itself, ŷ − y at the output (y − ŷ is its negative), without the "
               "learning rate: the optimiser applies W ← W − η ∂L/∂W, and a checker (or Adam) needs the "
               "gradient, not the step."),
    "scale": ("A constant factor multiplies the gradient: look for a learning rate, a 2 from "
              "differentiating a square, or a 1/n of another size than the batch's B."),
    "updated_weights": ("Carry δ back through the weights as they were in the forward pass: compute every "
                        "gradient first, then update all the weights (W_l changed in place before δ_{l-1} "
                        "was computed from it). A tiny error, but not rounding: it grows with η."),
}


def hint(spec, code, what, B):
    """One sentence for ``code``: `scratchnet.derivation.check.hints`, or `OWN_HINTS`."""
    if code in OWN_HINTS:
        return OWN_HINTS[code]
    try:
        return formula_hints(code, what, spec.convention, B, spec.L, _bias(spec))
    except KeyError:
        return None

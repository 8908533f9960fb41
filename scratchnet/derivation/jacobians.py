"""The true Jacobian factors of the learner's chain, ``∂A/∂B``, for one example.

**Convention.** The Jacobian of a vector ``A`` (``m`` entries) by a vector ``B`` (``n`` entries) is the
``m×n`` matrix ``J[i, j] = ∂A_i/∂B_j``: its rows follow ``A``. In the row convention (the seed's) it is
the factor that a row gradient multiplies on the right, ``∂L/∂B = ∂L/∂A · J``, so the learner's chain
reads left to right: ``∂L/∂W2 = ∂L/∂ŷ · ∂ŷ/∂z3 · ∂z3/∂H2 · ∂H2/∂z2 · ∂z2/∂W2``. The column
convention's counterpart is the same ``J``, used transposed and read right to left on column gradients:
``∂L/∂B = Jᵀ ∂L/∂A`` (which is why ``W_lᵀ δ`` appears there).

The elementary factors (row convention; ``W̄_l = W_l[1:]``, in the column convention ``W_l[:, 1:]``):

=====================  ==============================  ==========================================
factor                 J                               shape (seed network)
=====================  ==============================  ==========================================
``∂z_l/∂H_{l-1}``      ``W̄_lᵀ`` (column: ``W̄_l``)     ``n_l × n_{l-1}``  (∂z3/∂H2: 10×10)
``∂H_l/∂z_l``          ``diag(f′(z_l))``               ``n_l × n_l``, diagonal
``∂ŷ/∂z_L``            ``diag(ŷ) − ŷᵀŷ``               ``K × K``, full: softmax is not elementwise
``∂z_l/∂b_l``          ``I``                           ``n_l × n_l`` (separate-bias notation)
``∂z_l/∂W_l``          a third-order tensor            ``n_l × (n_{l-1}+1) × n_l``: ``∂z_k/∂W_ij = [1 H]_i [j = k]``
                                                       (column: ``n_l × n_l × (n_{l-1}+1)``, ``[i = k] [1; H]_j``)
=====================  ==============================  ==========================================

A longer factor such as ``∂z3/∂z2`` is the product of the elementary ones along the way. ``∂L/∂B`` of
the scalar loss is the gradient itself (see `truth`).
"""

from dataclasses import dataclass

import numpy as np

from ..activations import ACTIVATIONS, derivative_at
from ..errors import ScratchnetError
from ..quantity import Derivative, Quantity, lookup
from ..quantity import parse as parse_name


@dataclass
class Factor:
    """A factor ``∂A/∂B`` to check: canonical names ``numerator`` and ``denominator``, their text as the
    learner wrote it (``text``); ``of`` and ``by`` are the same as `quantity.Quantity` objects."""

    numerator: str
    denominator: str
    text: str

    @property
    def of(self):
        return lookup(self.numerator)

    @property
    def by(self):
        return lookup(self.denominator)

    @property
    def is_gradient(self):
        return self.of.kind == "L"

    @property
    def is_tensor(self):
        return self.by.kind == "W"

    def symbol(self):
        """``∂z3/∂H2``."""
        return f"∂{self.numerator}/∂{self.denominator}"


def _position(q, L):
    """Where a quantity sits in the forward pass: x = H0 → z1 → H1 → … → z_L → ŷ → L."""
    if q.kind == "L":
        return 2 * L + 1
    if q.kind == "yhat":
        return 2 * L
    return q.position


def parse_factor(text, L, bias="row"):
    """Read a factor: ``dz3/dH2``, ``∂z_3/∂H_2``, ``\\frac{\\partial z_3}{\\partial H_2}``,
    ``dyhat/dz3``, ``dL/dW2``, ``dz2/db2`` (separate bias). Raises `ScratchnetError` (``field`` is
    ``"factor"``) for anything else, or for a factor that is 0 because ``A`` does not depend on ``B``.

    Returns
    -------
    Factor
    """
    raw = str(text).strip()
    shaped = "/" in raw or "frac" in raw
    d = parse_name(raw, field="factor") if shaped else None
    if not isinstance(d, Derivative):
        raise ScratchnetError(f"a factor is written dA/dB, such as dz3/dH2 or dH2/dz2, got {raw!r}",
                              field="factor")
    for q in (d.of, d.by):
        if q.kind not in ("L", "yhat", "z", "H", "W", "b") or q.problem(L, bias):
            biases = f", b1…b{L}" if bias == "separate" else ""
            why = f" ({q.problem(L, bias)})" if q.problem(L, bias) else ""
            raise ScratchnetError(f"{q.text('formula')!r} is not a quantity of this network{why}; use L, yhat, "
                                  f"z1…z{L}, H0 (x) … H{L - 1}, W1…W{L}{biases}", field="factor")
    A, B = d.of, d.by
    if B.kind == "L" or A.kind in "Wb":
        raise ScratchnetError(f"in {raw}, the numerator is what is differentiated (L, yhat, z_l or "
                              f"H_l), the denominator what it is differentiated by", field="factor")
    if _position(A, L) <= _position(B, L):
        raise ScratchnetError(f"in {raw}, {A.name} does not depend on {B.name} (it comes before it in the "
                              f"forward pass), so the derivative is 0; did you mean d{B.name}/d{A.name}?",
                              field="factor")
    return Factor(A.name, B.name, raw)


@dataclass
class TrueFactor:
    """The true factor: ``value`` (None for a tensor), its ``shape`` and its ``formula`` in the formula
    language of the convention (or words where the language has no spelling, such as ``I``), plus
    ``softmax`` when it is the softmax's full Jacobian."""

    value: object
    shape: tuple
    formula: str
    softmax: bool = False


def _bar(l, point):
    """``W̄_l`` as a formula: the weights without the bias row (column)."""
    if point.bias == "separate":
        return f"W{l}"
    return f"W{l}[1:]" if point.convention == "row" else f"W{l}[:, 1:]"


def _elementary(point, upper):
    """The Jacobian from the quantity just below ``upper`` (``z_l`` → ``H_l``/``ŷ``, ``H_{l-1}`` →
    ``z_l``) to ``upper``: ``(lower name, J, formula, softmax?)``."""
    L, row = point.L, point.convention == "row"
    if upper == "yhat":
        yhat = point.H[L][0]
        J = np.diag(yhat) - np.outer(yhat, yhat)
        return f"z{L}", J, "diag(yhat) - yhat^T yhat" if row else "diag(yhat) - yhat yhat^T", True
    q = lookup(upper)
    kind, l = q.kind, q.layer
    if kind == "H":
        a = ACTIVATIONS[point.activations[l - 1]]
        return f"z{l}", np.diag(derivative_at(a.name, point.z[l].copy())[0]), \
            f"diag({a.derivative_spelling}(z{l}))", False
    W = point.weights[l - 1]
    transpose = "^T" if row else ""
    return f"H{l - 1}", W[1:].T.copy(), _bar(l, point) + transpose, False


def true_factor(point, factor):
    """The Jacobian ``∂A/∂B`` of ``factor`` at ``point`` (one example), as a `TrueFactor`.

    For ``∂z_l/∂W_l`` (and any ``∂A/∂W_l``) only the shape: ``(m, *W_l.shape)`` in the point's
    convention, a third-order tensor.
    """
    A, B, by = factor.numerator, factor.denominator, factor.by
    m = point.sizes[-1] if factor.of.kind == "yhat" else point.sizes[factor.of.layer]
    if by.kind == "W":
        l = by.layer
        shape = (m,) + point.oriented(point.weights[l - 1][1:] if point.bias == "separate"
                                      else point.weights[l - 1]).shape
        return TrueFactor(None, shape, f"a third-order tensor, ∂z_k/∂W_ij = {tensor_entry(point, l)}")
    J, formulas, softmax = None, [], False
    upper = A
    stop = Quantity.pre(by.layer).name if by.kind == "b" else B
    while upper != stop:
        lower, E, text, is_softmax = _elementary(point, upper)
        J = E if J is None else J @ E
        formulas.append(f"({text})" if is_softmax else text)
        softmax = softmax or is_softmax
        upper = lower
    alone = len(formulas) == 1
    text = formulas[0][1:-1] if alone and softmax else " ".join(formulas)
    if by.kind == "b":
        n = point.sizes[by.layer]
        if J is None:
            return TrueFactor(np.eye(n), (n, n), f"I (the {n}×{n} identity)")
        return TrueFactor(J, J.shape, text + " (times ∂z/∂b = I)")
    return TrueFactor(J, J.shape, text, softmax and alone)


def tensor_entry(point, l):
    """The entries of ``∂z_l/∂W_l`` as text, in the point's convention and bias notation:
    ``[1 H1]_i [j = k]`` (row), ``[i = k] [1; H1]_j`` (column), ``H1`` for a separate bias."""
    if point.convention == "row":
        ones = f"H{l - 1}" if point.bias == "separate" else f"[1 H{l - 1}]"
        return f"{ones}_i [j = k]"
    ones = f"H{l - 1}" if point.bias == "separate" else f"[1; H{l - 1}]"
    return f"[i = k] {ones}_j"


def tensor_content(point, l):
    """The nonzero entries of ``∂z_l/∂W_l``: ``[1 H_{l-1}]`` (or ``H_{l-1}`` with a separate bias) of the
    example, in the point's convention, as a row or column vector."""
    H = point.H[l - 1]
    v = H if point.bias == "separate" else np.concatenate([np.ones((1, 1)), H], axis=1)
    return point.oriented(v)

"""The learner's own chain for ``∂L/∂W_l``, factor by factor, next to the δ form the code uses.

The seed's learner writes ``∂L/∂W2 = ∂L/∂ŷ · ∂ŷ/∂z3 · ∂z3/∂H2 · ∂H2/∂z2 · ∂z2/∂W2``. `chain` evaluates
every factor at a random point for one example — each Jacobian with its true shape and formula
(`jacobians`), each checked against central finite differences (`finite_differences`) — multiplies the
matrix factors left to right into ``δ_l = ∂L/∂z_l``, contracts ``δ_l`` with the third-order tensor
``∂z_l/∂W_l``, and compares the result with the δ form ``[1 H_{l-1}]ᵀ δ_l`` and with the network's own
backward pass. The two agree to float64 rounding: the chain and the δ form are one computation.
"""

from dataclasses import dataclass, field

import numpy as np

from .. import quantity
from ..activations import ACTIVATIONS
from ..errors import ScratchnetError
from ..finite_differences import numerical_jacobian
from ..network import SEED_ACTIVATIONS, SEED_SIZES, architecture_text
from ..quantity import lookup
from .bindings import random_point
from .equations import bias_gradient, weight_gradient
from .evaluate import Environment, evaluate
from .formula import parse
from .jacobians import Factor, true_factor
from .notation import name_text, render

TENSOR_CHECK_LIMIT = 20_000
"""A tensor factor ``∂z_l/∂W_l`` is checked by finite differences when ``W_l`` has at most this many
entries (one forward pass of the layer per entry and side)."""


@dataclass
class ChainFactor:
    """One factor ``∂A/∂B``: its ``shape``, its ``formula`` (formula language, or words for a tensor),
    its value ``J`` (None for a tensor), the largest error of ``J`` against finite differences (None if
    not measured) and a ``note``."""

    numerator: str
    denominator: str
    shape: tuple
    formula: str
    J: object
    fd_error: object
    note: str = ""

    def symbol(self, style="unicode"):
        return f"∂{name_text(self.numerator, style)}/∂{name_text(self.denominator, style)}"


@dataclass
class ChainView:
    """The chain for ``∂L/∂wrt`` at one random example (see the module docstring).

    ``delta`` is ``δ_l (1, n_l)`` as the product of the matrix factors; ``chain_gradient`` the
    contraction with the last factor, ``delta_form`` the value of the δ form (both in the convention),
    and the two differences measure how far apart the chain, the δ form and the network's backward pass
    are.
    """

    wrt: str
    sizes: tuple
    activations: tuple
    convention: str
    bias: str
    seed: int
    factors: list
    delta: np.ndarray
    chain_gradient: np.ndarray
    delta_form: str
    delta_form_value: np.ndarray
    difference_delta_form: float
    difference_backward: float
    notes: list = field(default_factory=list)

    @property
    def agrees(self):
        """Whether the chain equals the δ form and the backward pass to float64 rounding."""
        scale = max(float(np.max(np.abs(self.delta_form_value))), 1e-300)
        return max(self.difference_delta_form, self.difference_backward) <= 1e-10 * scale + 1e-15

    def text(self):
        """Terminal text (Unicode)."""
        return chain_text(self)

    def __str__(self):
        return self.text()

    def __repr__(self):
        return (f"ChainView(∂L/∂{self.wrt}, {len(self.factors)} factors, agrees={self.agrees}, "
                f"{architecture_text(self.sizes, self.activations)})")

    def to_json(self):
        return {"wrt": self.wrt, "convention": self.convention, "bias": self.bias, "seed": self.seed,
                "architecture": architecture_text(self.sizes, self.activations),
                "factors": [{"factor": f.symbol("formula"), "shape": list(f.shape), "formula": f.formula,
                             "finite_difference_error": f.fd_error, "note": f.note} for f in self.factors],
                "delta_form": self.delta_form, "difference_delta_form": self.difference_delta_form,
                "difference_backward": self.difference_backward, "agrees": self.agrees}

    def _repr_html_(self):
        """The chain as HTML in a notebook (`html`)."""
        from .html import chain_html
        return chain_html(self)


def _layer_path(L, l):
    """The matrix factors from the loss down to ``z_l``: ``[(A, B), …]``."""
    path = [("L", "yhat"), ("yhat", f"z{L}")]
    for k in range(L, l, -1):
        path += [(f"z{k}", f"H{k - 1}"), (f"H{k - 1}", f"z{k - 1}")]
    return path


def _numerical(point, A, B):
    """``∂A/∂B`` by central differences through the network's forward pass (one example)."""
    net, L = point.network, point.L
    y = point.Y[0]
    if A == "L":
        yhat = point.H[L][:1].copy()
        return numerical_jacobian(lambda: -np.sum(y * np.log(yhat)), yhat)
    if A == "yhat":
        z = point.z[L][:1].copy()
        return numerical_jacobian(lambda: ACTIVATIONS["softmax"].function(z.copy()), z)
    a, by = lookup(A), lookup(B).kind
    k = a.layer
    if a.kind == "H":
        z = point.z[k][:1].copy()
        return numerical_jacobian(lambda: ACTIVATIONS[point.activations[k - 1]].function(z.copy()), z)
    if by == "H":
        H = point.H[k - 1][:1].copy()
        return numerical_jacobian(lambda: net.forward(H, start=k).z[k], H)
    W = net.weights[k - 1]
    A_view = W if by == "W" and point.bias == "row" else (W[1:] if by == "W" else W[:1])
    H = point.H[k - 1][:1]
    J = numerical_jacobian(lambda: net.forward(H, start=k).z[k], A_view)
    return J.reshape((J.shape[0],) + A_view.shape)


def _path_factors(point, l):
    """The matrix factors from the loss down to ``z_l``: ``∂L/∂ŷ``, ``∂ŷ/∂z_L``, ``∂z_L/∂H_{L−1}``, …,
    ``∂H_l/∂z_l``, each with its formula, its value at ``point`` and its error against finite differences."""
    row, L = point.convention == "row", point.L
    factors = []
    for A, B in _layer_path(L, l):
        if A == "L":
            y, yhat = point.Y[:1], point.H[L][:1]
            J, shape, formula = -y / yhat, point.oriented(y).shape, "-y / yhat"
            note = f"the loss's gradient by ŷ, a {'row' if row else 'column'} (per example)"
        else:
            truth = true_factor(point, Factor(A, B, f"d{A}/d{B}"))
            J, shape, formula, note = truth.value, truth.shape, truth.formula, ""
            if A == "yhat":
                fused = "∂L/∂ŷ · ∂ŷ/∂z" if row else "(∂ŷ/∂z)ᵀ ∂L/∂ŷ"
                note = f"full: softmax is not elementwise; {fused} = ŷ − y (they fuse)"
            elif lookup(A).kind == "H":
                note = "diagonal: multiplying by it is ⊙ " + render(parse(truth.formula[5:-1]), "unicode")
            elif point.bias == "row":
                note = (f"the bias {'row (row 0)' if row else 'column (column 0)'} of W is dropped: it "
                        f"multiplies the constant 1")
        error = float(np.max(np.abs(_numerical(point, A, B) - J)))
        factors.append(ChainFactor(A, B, shape, formula, J, error, note))
    return factors


def _bias_link(point, l, name, delta):
    """The last link for a separate bias ``b_l``: ``∂z_l/∂b_l`` (the identity), and what it gives:
    ``(factor, δ_l ∂z_l/∂b_l, the gradient's formula)``."""
    last = true_factor(point, Factor(f"z{l}", name, f"dz{l}/d{name}"))
    error = float(np.max(np.abs(_numerical(point, f"z{l}", name)[:, 0] - last.value)))
    factor = ChainFactor(f"z{l}", name, last.shape, last.formula, last.value, error, "b is added to z as it stands")
    return factor, delta @ last.value, bias_gradient(l, f"delta{l}")


def _weight_link(point, l, name, delta):
    """The last link for ``W_l``: ``∂z_l/∂W_l``, a third-order tensor no formula is, and its contraction
    with ``δ_l``: ``(factor, Σ_k δ_k ∂z_k/∂W_ij, the gradient's formula)``."""
    row, bias = point.convention == "row", point.bias
    inputs = point.H[l - 1][:1] if bias == "separate" else np.concatenate([[[1.0]], point.H[l - 1][:1]], axis=1)
    T = np.einsum("i,jk->kij", inputs[0], np.eye(point.sizes[l]))    # T[k, i, j] = [1 H]_i [j = k]
    W = point.weights[l - 1]
    fd = None
    if (W if bias == "row" else W[1:]).size <= TENSOR_CHECK_LIMIT:
        fd = float(np.max(np.abs(_numerical(point, f"z{l}", name) - T)))
    h = name_text(f"H{l - 1}", "unicode")
    ones = h if bias == "separate" else (f"[1 {h}]" if row else f"[1; {h}]")
    if row:
        entry = f"{ones}_i [j = k]"
        contraction = f"Σ_k δ_k {ones}_i [j = k] = {ones}_i δ_j, the outer product {ones}ᵀ δ"
    else:
        entry = f"[i = k] {ones}_j"
        contraction = f"Σ_k δ_k [i = k] {ones}_j = δ_i {ones}_j, the outer product δ {ones}ᵀ"
    factor = ChainFactor(f"z{l}", name, (T if row else T.transpose(0, 2, 1)).shape,
                         f"a third-order tensor, ∂z_k/∂W_ij = {entry}", None, fd, f"contracted with δ: {contraction}")
    chained = np.einsum("k,kij->ij", delta[0], T)                    # (∂L/∂W)_ij = Σ_k δ_k ∂z_k/∂W_ij
    return factor, chained, weight_gradient(l, f"delta{l}", point.convention, bias)


def chain(wrt="W2", sizes=SEED_SIZES, activations=SEED_ACTIVATIONS, convention="row", bias="row", seed=0,
          rng=None):
    """The learner's chain for ``∂L/∂wrt`` (``W_l``, or ``b_l`` with ``bias="separate"``), evaluated.

    Parameters
    ----------
    wrt : str, ``W_l`` or ``b_l``
    sizes, activations : the network (default the seed's)
    convention : ``"row"`` or ``"column"``; the Jacobians are the same ``J[i, j] = ∂A_i/∂B_j`` in both
    bias : ``"row"`` or ``"separate"``
    seed : int, seeds the generator when ``rng`` is not given
    rng : numpy.random.Generator, optional

    Returns
    -------
    ChainView
    """
    rng = rng if rng is not None else np.random.default_rng(seed)
    point = random_point(sizes, activations, 1, convention, rng, bias=bias)
    L = point.L
    names = f"W1…W{L}" + (f" or b1…b{L}" if bias == "separate" else "")
    try:
        q = quantity.wrt(wrt, L, bias, field="chain")
    except ScratchnetError:
        q = None
    if q is None or q.kind not in ("W", "b"):
        near = quantity.suggest(wrt)
        raise ScratchnetError(f"the chain view takes a weight matrix of this network, {names}; got {wrt!r}"
                              + (f"; did you mean {near}?" if near else ""), field="chain")
    name, l = q.name, q.layer
    factors = _path_factors(point, l)
    delta = None
    for factor in factors:
        delta = factor.J if delta is None else delta @ factor.J           # δ_l (1, n_l), row, in the end
    if q.kind == "b":
        last, chained, form = _bias_link(point, l, name, delta)
    else:
        last, chained, form = _weight_link(point, l, name, delta)
    factors.append(last)
    env = Environment.from_point(point, extra={f"delta{l}": point.oriented(delta)})
    ev = evaluate(parse(form), env, form)
    chained = point.oriented(chained)
    G = point.network.trace(point.X, point.labels).dW[l]
    if bias == "separate":
        G = G[1:] if q.kind == "W" else G[:1]
    return ChainView(name, tuple(point.sizes), tuple(point.activations), convention, bias, seed, factors,
                     delta, chained, form, ev.value, float(np.max(np.abs(chained - ev.value))),
                     float(np.max(np.abs(chained - point.oriented(G)))))


def _shape(shape):
    return "×".join(map(str, shape))


def chain_text(view):
    """The chain as terminal text: each factor, the running δ, the contraction, and the agreement.

    Row convention: the chain reads left to right, ``∂L/∂ŷ · ∂ŷ/∂z3 · …``. Column convention: the same
    Jacobians act transposed on column gradients, right to left, ``… (∂ŷ/∂z3)ᵀ ∂L/∂ŷ``.
    """
    l = lookup(view.wrt).layer
    row = view.convention == "row"
    sym = "∂L/∂" + name_text(view.wrt, "unicode")
    factor_syms = [f.symbol() for f in view.factors]
    delta = name_text(f"delta{l}", "unicode")
    if row:
        chain_line = f"  {sym} = " + " · ".join(factor_syms)
        matrix_part = " · ".join(factor_syms[:-1])
        rule = "a row gradient multiplies it on the right, ∂L/∂B = ∂L/∂A · J: the chain reads left to right."
    else:
        transposed = [f"({s})ᵀ" for s in factor_syms[1:-1]][::-1] + [factor_syms[0]]
        matrix_part = " ".join(transposed)
        chain_line = f"  {sym} = {delta} contracted with {factor_syms[-1]}, where {delta} = {matrix_part}"
        rule = ("in the column convention it acts transposed on a column gradient, ∂L/∂B = Jᵀ ∂L/∂A: the "
                "chain reads right to left.")
    lines = [f"The chain rule for {sym} in {architecture_text(view.sizes, view.activations)}, factor by "
             f"factor, at a random example (seed {view.seed}, {view.convention} convention):",
             chain_line,
             f"Each Jacobian is J[i, j] = ∂A_i/∂B_j (rows follow A); {rule}", ""]
    width = max(len(s) for s in factor_syms)
    for f in view.factors:
        formula = f.formula if f.J is None or "I (" in f.formula else render(parse(f.formula.split(" (")[0]), "unicode")
        checked = ("" if f.fd_error is None else f"   finite differences: {f.fd_error:.1e}")
        lines.append(f"  {f.symbol():<{width}} = {formula}    {_shape(f.shape)}{checked}")
        if f.note:
            lines.append(f"  {'':<{width}}   ▸ {f.note}")
    n = view.delta.shape[1]
    lines += ["", f"  {matrix_part} = {delta} = ∂L/∂{name_text('z' + str(l), 'unicode')}, "
                  f"{'1×' + str(n) if row else str(n) + '×1'} (the matrix factors multiplied out)",
              f"  {delta} contracted with {factor_syms[-1]} gives {sym}, {_shape(view.chain_gradient.shape)}",
              f"The δ form the code uses: {sym} = {render(parse(view.delta_form), 'unicode')}",
              f"Chain vs δ form: largest difference {view.difference_delta_form:.1e}; chain vs the network's "
              f"backward pass: {view.difference_backward:.1e}.",
              "The chain and the δ form agree." if view.agrees else "THE CHAIN AND THE δ FORM DISAGREE."]
    return "\n".join(lines)

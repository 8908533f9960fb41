"""The page's words and numbers for one example: every formula the lab shows, with its numbers, made from
one `scratchnet.trace.Trace`.

The page draws what this module writes; it derives nothing. For each picture of the page (a grid of unit
cells, a heat map) there are two parts:

* `pictures(sizes, activations)`, what does not depend on the digit: the picture's caption as LaTeX (the
  page gets it as MathML from `scratchnet.lab.formulas.derivation`), its
  shape in words, how its cells are laid out and labelled (digits for the output layer, unit numbers from
  0 elsewhere);
* `forward` and `backward`, what does: the values to colour the cells with, their largest ``|value|``
  (a diverging picture's scale), and each cell's formula with its numbers, as a template and its fields::

      {"cell": "H₂[{k}] = σ(z₂[{k}]) = σ({z}) = {v}\\n…",
       "fields": {"z": {"by": "k", "values": ["−4.520", …]}, "v": {"by": "k", "values": ["0.0108", …]}}}

  The page fills ``{i}``, ``{j}`` and ``{k}`` with the cell's row, column and index (``k = i·cols + j``)
  and ``{name}`` with ``fields[name].values[<the cell's "by" index>]``; nothing else. A heat map whose
  row 0 is the bias has a ``"first_row"`` template for it.

Numbers are written once, by `number` (four decimals, or three significant digits in exponent form
below 1e-3 and from 1e4 on, with the minus sign − everywhere: ``−2.98e−4``). Names are spelled by
`scratchnet.quantity` (``H₂``, ``δ₃``, ``ŷ``, ``W̄₃``, ``∂L/∂W₂``); σ′ and its formula come from
`scratchnet.activations.ACTIVATIONS`. Everything is for one example (``B = 1``): row 0 of the trace.
"""

from functools import lru_cache

import numpy as np

from ..activations import ACTIVATIONS
from ..quantity import Derivative, Quantity, gradient_targets

MINUS = "\u2212"
SHARED_SCALE = 1.0
"""The shared colour scale's ±limit: ``|δ_L| = |ŷ − y| ≤ 1`` for one example, and with activations in
0…1 no ``∂L/∂W_L`` entry is larger (a larger value anywhere widens it to that value)."""


def number(v, digits=4):
    """``v`` as the page shows it: ``0.0108``, ``−4.5203``, ``−2.98e−4``, ``1.23e4``; zero is ``0``."""
    v = float(v)
    if v == 0:
        return "0"
    if not np.isfinite(v):
        return "NaN" if np.isnan(v) else ("∞" if v > 0 else MINUS + "∞")
    if abs(v) < 1e-3 or abs(v) >= 1e4:
        mantissa, exponent = f"{v:.2e}".split("e")
        text = f"{mantissa}e{int(exponent)}"
    else:
        text = f"{v:.{digits}f}"
        if float(text) == 0:
            text = text.lstrip("-")
    return text.replace("-", MINUS)


def numbers(values, digits=4):
    """`number` of every entry of an array, row by row (the common case without a call each)."""
    fixed, out = f"{{:.{digits}f}}".format, []
    for v in np.asarray(values, dtype=np.float64).ravel().tolist():
        m = abs(v)
        out.append("0" if v == 0 else fixed(v).replace("-", MINUS) if 1e-3 <= m < 1e4 else number(v, digits))
    return out


def percent(p):
    """A probability as a percentage with one decimal: ``99.5 %``."""
    return f"{100 * float(p):.1f} %"


def _u(q):
    return q.text("unicode")


def _input(l):
    """``x`` or ``H_{l-1}``: what layer ``l`` reads."""
    return Quantity.activation(l - 1)


def _out(l, L):
    return Quantity.named("yhat") if l == L else Quantity.activation(l)


def _field(by, values, digits=4):
    return {"by": by, "values": numbers(values, digits)}


def _times(*shapes):
    """``1×101 · 101×10 → 1×10`` for the shapes of a product and its result (the last one)."""
    text = " · ".join(f"{r}×{c}" for r, c in shapes[:-1])
    return f"{text} → {shapes[-1][0]}×{shapes[-1][1]}"


def _grid_layout(n, output):
    """Rows × 10 columns (one row for 10 or fewer), labelled by digit (the output layer) or unit number."""
    cols = min(n, 10)
    rows = -(-n // cols)
    return {"n": n, "layout": [rows, cols], "what": "digit" if output else "unit",
            "col_labels": [str(c) for c in range(cols)],
            "row_labels": [str(r * cols) for r in range(rows)] if rows > 1 else []}


def _shape_words(n):
    return f"1×{n}" + (f", as {-(-n // 10)}×10" if n > 10 else "")


@lru_cache(maxsize=8)
def pictures(sizes, activations):
    """What the page's pictures are, for a network of layer ``sizes`` and ``activations``.

    Returns ``{"probabilities_title", "layers": [H1 … ŷ], "deltas": [δ_L … δ1], "gradients":
    [∂L/∂W_L … ∂L/∂W2], "W1_unit"}``; each entry ``{"id", "quantity"`` (its `Quantity` or `Derivative` as
    JSON), ``"latex"`` (its caption), ``"shape"`` (words), and for grids of cells ``"n"`` (cells), ``"layout"
    [rows, cols], "what" ("digit" or "unit"), "col_labels", "row_labels"}``; ``"targets"``, what a
    formula's gradient may be taken with respect to (`scratchnet.quantity.gradient_targets`, as JSON),
    ``"bias_targets"`` the separate biases b_L … b1 also, and ``"links"`` the Jacobians of one link
    (`_links`), what the check box offers as a factor.
    """
    sizes, L = tuple(sizes), len(sizes) - 1
    yhat = Quantity.named("yhat")
    layers = []
    for l in range(1, L + 1):
        q, a = _out(l, L), ACTIVATIONS[activations[l - 1]]
        latex = rf"{q.text('latex')} = {a.latex}\left({Quantity.pre(l).text('latex')}\right)"
        layers.append({"id": q.name, "quantity": q.to_json(), "latex": latex,
                       "shape": _shape_words(sizes[l]), **_grid_layout(sizes[l], l == L)})
    deltas = []
    for l in range(L, 0, -1):
        q = Quantity.delta(l)
        d = Derivative(Quantity.named("L"), Quantity.pre(l))
        deltas.append({"id": q.name, "quantity": q.to_json(), "latex": f"{q.text('latex')} = {d.text('latex')}",
                       "shape": _shape_words(sizes[l]), **_grid_layout(sizes[l], l == L)})
    gradients = []
    for l in range(L, 1, -1):
        d = Derivative(Quantity.named("L"), Quantity.weight(l))
        gradients.append({"id": d.by.name, "quantity": d.to_json(), "latex": d.text("latex"),
                          "shape": f"{sizes[l - 1] + 1}×{sizes[l]}, row 0 the bias",
                          "layout": [sizes[l - 1] + 1, sizes[l]]})
    d1 = Derivative(Quantity.named("L"), Quantity.weight(1))
    side = int(round(sizes[0] ** 0.5))
    w1 = {"id": "W1_unit", "quantity": d1.to_json(), "latex": d1.text("latex") + r"[:,\, j]",
          "shape": f"1 + {sizes[0]}: the bias, and the {sizes[0]} input weights as {side}×{side}",
          "layout": [side, side]}
    targets = sorted((q for q in gradient_targets(L) if q.layer), key=lambda q: ("WzH".index(q.kind), -q.layer))
    return {"probabilities_title": f"{_u(yhat)} = softmax({_u(Quantity.pre(L))}): the {sizes[L]} probabilities",
            "layers": layers, "deltas": deltas, "gradients": gradients, "W1_unit": w1,
            "targets": [q.to_json() for q in targets],
            "bias_targets": [Quantity("b", l).to_json() for l in range(L, 0, -1)],
            "links": [d.to_json() for d in _links(L)]}


def _links(L):
    """The links of the learner's chain, from the loss back, as `scratchnet check --factor` takes them:
    ∂ŷ/∂z_L, then for each layer ∂z_l/∂W_l, ∂z_l/∂b_l (separate bias), ∂z_l/∂H_{l-1} and ∂H_{l-1}/∂z_{l-1}."""
    out = [Derivative(Quantity.named("yhat"), Quantity.pre(L))]
    for l in range(L, 0, -1):
        z = Quantity.pre(l)
        out += [Derivative(z, Quantity("W", l)), Derivative(z, Quantity("b", l))]
        if l > 1:
            out += [Derivative(z, Quantity("H", l - 1)), Derivative(Quantity("H", l - 1), Quantity.pre(l - 1))]
    return out


def _product(l, sizes):
    """``z_l = [1 H_{l-1}] W_l   (1×… · …×… → 1×…)``."""
    n_in = sizes[l - 1] + 1
    return (f"{_u(Quantity.pre(l))} = [1 {_u(_input(l))}] {_u(Quantity.weight(l))}   "
            f"({_times((1, n_in), (n_in, sizes[l]), (1, sizes[l]))})")


def forward(net, t):
    """The formulas of the forward half of trace ``t`` (one example) with their numbers.

    Returns ``{"layers": [H1 … ŷ]}``, each ``{"id", "cell", "fields"}`` (module docstring; the values
    themselves are the answer's ``activations[id]``):
    ``H_l[k] = f(z_l[k]) = f(z) = H`` and, for ŷ, the softmax with its denominator
    ``exp(z_L[k]) / Σⱼ exp(z_L[j]) = exp(z) / S = e / S = ŷ``.
    """
    sizes, L = net.sizes, net.n_layers
    layers = []
    for l in range(1, L + 1):
        q, z, H = _out(l, L), t.z[l][0], t.H[l][0]
        zl = _u(Quantity.pre(l))
        if l < L:
            f = ACTIVATIONS[net.activations[l - 1]].symbol
            cell = f"{_u(q)}[{{k}}] = {f}({zl}[{{k}}]) = {f}({{z}}) = {{v}}\n{_product(l, sizes)}"
            fields = {"z": _field("k", z, 3), "v": _field("k", H)}
        else:
            shift = float(np.max(z)) if np.max(z) > 700 else 0.0      # exp overflows past 709
            e = np.exp(z.astype(np.float64) - shift)
            S = float(e.sum())
            shifted = f" − {number(shift, 3)}" if shift else ""
            cell = (f"{_u(q)}[{{k}}] = softmax({zl})[{{k}}] = exp({zl}[{{k}}]{shifted}) / Σⱼ exp({zl}[j]{shifted})"
                    f" = exp({{z}}{shifted}) / {number(S)} = {{e}} / {number(S)} = {{v}}\n{_product(l, sizes)}")
            fields = {"z": _field("k", z, 3), "e": _field("k", e), "v": _field("k", H)}
        layers.append({"id": q.name, "cell": cell, "fields": fields})
    return {"layers": layers}


def _scale(values):
    m = float(np.max(np.abs(values))) if np.size(values) else 0.0
    return {"max": m, "text": number(m, 3)}


def _backward_dL_dH(net, t, l):
    """``δ_{l+1} W̄_{l+1}ᵀ = ∂L/∂H_l (n_l,)``, the factor of ``δ_l`` before ``f′(z_l)``."""
    return t.delta[l + 1][0] @ net.weights[l][1:].T


def backward(net, t, unit):
    """The formulas of the backward half of trace ``t`` (one example, after `Network.backward`) with
    their numbers; ``unit`` is the hidden unit whose ``∂L/∂W1`` column is shown.

    Returns ``{"loss", "deltas": [δ_L … δ1], "gradients": [∂L/∂W_L … ∂L/∂W2], "W1_unit", "W1_bias",
    "shared_scale"}``: ``loss`` is ``L = −log ŷ[y] = …``; each picture ``{"id", "scale": {"max", "text"},
    "cell", "fields"}`` (its values are the answer's ``deltas[id]``, ``gradients[id]``, ``W1_unit``) (plus ``"first_row"`` for a heat map with its bias row); ``W1_bias`` the
    sentence under the ∂L/∂W1 picture; ``shared_scale`` ``{"max", "text", "why"}``, the one scale for all
    pictures when the learner asks for it.
    """
    sizes, L = net.sizes, net.n_layers
    label = int(t.y[0])
    yhat = Quantity.named("yhat")
    p = float(t.yhat[0, label])
    loss = f"L = −log {_u(yhat)}[{label}] = −log {number(p)} = {number(t.loss)}"
    deltas = []
    for l in range(L, 0, -1):
        q, d = Quantity.delta(l), t.delta[l][0]
        dl = _u(q)
        if l == L:
            y = np.zeros(sizes[L])
            y[label] = 1
            cell = (f"{dl}[{{k}}] = {_u(yhat)}[{{k}}] − y[{{k}}] = {{p}} − {{y}} = {{v}}\n"
                    f"{dl} = ∂L/∂{_u(Quantity.pre(l))} = {_u(yhat)} − y   (1×{sizes[L]}, one example: B = 1)")
            fields = {"p": _field("k", t.yhat[0]), "y": {"by": "k", "values": [str(int(v)) for v in y]},
                      "v": _field("k", d)}
        else:
            a = ACTIVATIONS[net.activations[l - 1]]
            prime = f"{a.symbol}′"
            zl, Hl, nxt = _u(Quantity.pre(l)), _u(Quantity.activation(l)), _u(Quantity.delta(l + 1))
            back = f"{nxt} {_u(Quantity('Wbar', l + 1))}ᵀ"
            g = _backward_dL_dH(net, t, l)
            fprime = a.derivative(t.H[l][:1].astype(np.float64), np.ones((1, sizes[l])))[0]
            cell = (f"{dl}[{{k}}] = ({back})[{{k}}] · {prime}({zl}[{{k}}]) = {{g}} · {{f}} = {{v}}\n"
                    f"{prime}({zl}[{{k}}]) = {a.derivative_text.replace('-', MINUS)} with H = {Hl}[{{k}}] = {{h}}\n"
                    f"{dl} = ({back}) ⊙ {prime}({zl})   "
                    f"({_times((1, sizes[l + 1]), (sizes[l + 1], sizes[l]), (1, sizes[l]))})")
            fields = {"g": _field("k", g), "f": _field("k", fprime), "h": _field("k", t.H[l][0]),
                      "v": _field("k", d)}
        deltas.append({"id": q.name, "scale": _scale(d),
                       "cell": cell, "fields": fields})
    gradients = []
    for l in range(L, 1, -1):
        dW = t.dW[l]
        rows, cols = dW.shape
        name = _u(Derivative(Quantity.named("L"), Quantity.weight(l)))
        h, dl = _u(_input(l)), _u(Quantity.delta(l))
        equation = f"{name} = [1 {h}]ᵀ {dl}   ({_times((rows, 1), (1, cols), (rows, cols))})"
        cell = (f"{name}[{{i}}, {{j}}] = [1 {h}][{{i}}] · {dl}[{{j}}] = {h}[{{h}}] · {dl}[{{j}}]"
                f" = {{a}} · {{b}} = {{v}}\n{equation}")
        first = (f"{name}[0, {{j}}] = [1 {h}][0] · {dl}[{{j}}] = 1 · {{b}} = {{v}}   "
                 f"(row 0, the bias: its input is the 1 of [1 {h}])\n{equation}")
        fields = {"h": {"by": "i", "values": [""] + [str(i) for i in range(rows - 1)]},
                  "a": {"by": "i", "values": ["1"] + numbers(t.H[l - 1][0])},
                  "b": _field("j", t.delta[l][0]), "v": _field("k", dW)}
        gradients.append({"id": Quantity.weight(l).name, "scale": _scale(dW), "cell": cell, "first_row": first, "fields": fields})
    column = t.dW[1][:, unit]
    name = _u(Derivative(Quantity.named("L"), Quantity.weight(1)))
    x, d1 = _u(Quantity.activation(0)), _u(Quantity.delta(1))
    side = int(round(sizes[0] ** 0.5))
    w1 = {"id": "W1_unit", "unit": int(unit), "scale": _scale(column[1:]),
          "cell": (f"{name}[{{r}}, {unit}] = {x}[{{k}}] · {d1}[{unit}] = {{x}} · {number(t.delta[1][0, unit])}"
                   f" = {{v}}   (pixel row {{i}}, column {{j}}; row {{r}} of {name} is pixel {{k}})"),
          "fields": {"r": {"by": "k", "values": [str(k + 1) for k in range(sizes[0])]},
                     "x": _field("k", t.H[0][0]), "v": _field("k", column[1:])}}
    W1_bias = (f"bias: {name}[0, {unit}] = {d1}[{unit}] = {number(column[0])}; pixel (r, c) is "
               f"{x}[{side}r + c] · {d1}[{unit}]: only inked pixels get a gradient.")
    largest = max([SHARED_SCALE] + [p["scale"]["max"] for p in deltas + gradients + [w1]])
    shared = {"max": largest, "text": number(largest, 3),
              "why": (f"one scale for every picture and every digit: ±{number(largest, 3)}, "
                      f"as |{_u(Quantity.delta(L))}| = |{_u(yhat)} − y| ≤ 1")
              if largest == SHARED_SCALE else
              f"one scale for every picture: ±{number(largest, 3)}, the largest |value| shown"}
    return {"loss": loss, "deltas": deltas, "gradients": gradients, "W1_unit": w1, "W1_bias": W1_bias,
            "shared_scale": shared}


def step_text(label, before, after, loss_before, loss_after, lr):
    """``ŷ[2]: 12.3 % → 45.6 %; loss 2.0941 → 0.7851 with η = 1.``: one gradient step in words."""
    return (f"{_u(Quantity.named('yhat'))}[{label}]: {percent(before[label])} → {percent(after[label])}; "
            f"loss {number(loss_before)} → {number(loss_after)} with η = {lr:g}.")

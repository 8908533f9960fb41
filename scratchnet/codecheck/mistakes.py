"""The known mistakes of a backward pass, each as the float64 numbers it produces at one step.

A `Candidate` replaces one step of `passes.backward` — how ``δ_l`` is computed (site ``"delta"``) or how
``∂L/∂W_l`` is computed from it (site ``"dW"``) — by what a learner's code does instead. Its ``codes``
are the diagnosis codes of `scratchnet.derivation.check` (``bias_row``, ``activation_derivative``,
``missing_transpose``, ``transposed``, ``wrong_layer``, ``batch_sum``, ``sign``, ``batch_factor``) plus
four that only running code has (and ``matrix_product``, ``*`` where a matrix product belongs, which only
NumPy's broadcast mismatch shows: `analyse`): ``not_computed`` (a gradient left at zero), ``update`` (a learning rate and a minus sign folded in: an update step,
not a gradient), ``scale`` (some other constant factor) and ``updated_weights`` (δ carried back through
weights this very step has already updated).

Some mistakes have a number in them (a factor ``c``, a learning rate ``η``): every pass is linear in it,
so `diagnose` fits it to the learner's own numbers and `constant_codes` names it (``c = −1`` is ``sign``,
``c = B`` or ``1/B`` is ``batch_factor``, …). Every candidate without a number is also tried times a
fitted ``c``, so that ``(y − ŷ) ⊙ ŷ(1 − ŷ)`` without the ``1/B`` is found as three codes at once.
"""

from dataclasses import dataclass

import numpy as np

from ..activations import ACTIVATIONS, HIDDEN
from .spec import symbol


@dataclass(frozen=True)
class Candidate:
    """One known mistake at ``(site, layer)``: ``compute(step, p)`` returns the step's value (``p`` the
    fitted number when ``param`` is ``"c"`` or ``"eta"``, else ignored); ``words`` says what the code did."""

    codes: tuple
    site: str
    layer: int
    words: str
    compute: object
    param: str = None


def _f(spec, l):
    return symbol(spec.activation(l))


def _wbar(spec, l, wrong=False):
    """``W3[1:]`` in the learner's notation (``W3[:-1]`` with ``wrong``)."""
    if spec.bias != "row":
        return f"W{l}"
    if spec.row:
        return f"W{l}[:-1]" if wrong else f"W{l}[1:]"
    return f"W{l}[:, :-1]" if wrong else f"W{l}[:, 1:]"


def _back(spec, l, W):
    """``δ_l Wᵀ`` (row) or ``Wᵀ δ_l`` (column), as text."""
    return f"δ{l} {W}ᵀ" if spec.row else f"{W}ᵀ δ{l}"


def _ones(spec, l):
    h = "x" if l == 0 else f"H{l}"
    if spec.bias != "row":
        return h
    return f"[1 {h}]" if spec.row else f"[1; {h}]"


def _outer(spec, h, l):
    return f"{h}ᵀ δ{l}" if spec.row else f"δ{l} {h}ᵀ"


def _rule(name, of):
    """An activation's derivative written from its output, applied to ``of``: ``H2(1 − H2)``."""
    return {"sigmoid": f"{of}(1 − {of})", "tanh": f"1 − {of}²", "relu": f"[{of} > 0]"}[name]


def _rule_value(name, A):
    a = ACTIVATIONS[name]
    return a.derivative(A, np.ones_like(A))


def top(spec, fwd):
    """Candidates for ``δ_L``."""
    L, out = spec.L, []
    yhat = fwd.H[L]
    if spec.loss == "ce":
        out.append(Candidate(("activation_derivative",), "delta", L,
                             f"δ{L} = (ŷ − y) ⊙ ŷ(1 − ŷ)/B: a sigmoid's derivative on top of softmax with cross-"
                             f"entropy, whose δ{L} is (ŷ − y)/B alone",
                             lambda s, p: s.right * yhat * (1 - yhat)))
        out.append(Candidate(("activation_derivative",), "delta", L,
                             f"δ{L} = (ŷ − y) ⊙ σ'(z{L})/B: a σ' factor that softmax with cross-entropy does "
                             f"not have", lambda s, p: s.right * _rule_value("sigmoid", ACTIVATIONS["sigmoid"]
                                                                             .function(s.fwd.z[L].copy()))))
    elif spec.output == "sigmoid":
        bare = (yhat - fwd.Y) / fwd.B
        out.append(Candidate(("activation_derivative",), "delta", L,
                             f"δ{L} = (ŷ − y)/B without ⊙ σ'(z{L}): the output's derivative is left out (that is "
                             f"the δ of cross-entropy, not of the squared error)", lambda s, p: bare))
        out.append(Candidate(("activation_derivative",), "delta", L,
                             f"σ'(ŷ) in place of σ'(z{L}): the derivative taken at the output instead of z{L}",
                             lambda s, p: bare * _rule_value("sigmoid", ACTIVATIONS["sigmoid"].function(yhat.copy()))))
    else:
        out.append(Candidate(("activation_derivative",), "delta", L,
                             f"δ{L} = (ŷ − y) ⊙ ŷ(1 − ŷ)/B: a sigmoid's derivative, but the output is linear",
                             lambda s, p: s.right * yhat * (1 - yhat)))
    return out


def hidden(spec, fwd, k):
    """Candidates for ``δ_k`` of a hidden layer ``k``."""
    f, name, nxt = _f(spec, k), spec.activation(k), k + 1
    right_d = fwd.derivative(k)
    Ws = fwd.Ws
    g = lambda s: s.delta @ Ws[nxt - 1][1:].T                           # noqa: E731 - δ_{k+1} W̄_{k+1}ᵀ
    out = [Candidate(("activation_derivative",), "delta", k,
                     f"δ{k} = {_back(spec, nxt, _wbar(spec, nxt))} without ⊙ {f}'(z{k}): the activation's "
                     f"derivative is left out", lambda s, p: g(s)),
           Candidate(("activation_derivative",), "delta", k,
                     f"{f}'(z{k}) applied twice", lambda s, p: s.right * right_d)]
    out.append(Candidate(("activation_derivative",), "delta", k,
                         f"{f}'(H{k}) in place of {f}'(z{k}): the derivative taken at the layer's output H{k} = "
                         f"{f}(z{k}) instead of at z{k}",
                         lambda s, p: g(s) * _rule_value(name, ACTIVATIONS[name].function(s.fwd.H[k].copy()))))
    for other in HIDDEN:
        D = _rule_value(other, fwd.z[k])
        if not np.allclose(D, right_d):
            out.append(Candidate(("activation_derivative",), "delta", k,
                                 f"{_rule(other, f'z{k}')} in place of {f}'(z{k}): "
                                 + (f"the derivative written from the output ({_rule(other, f'H{k}')}) but given "
                                    f"z{k}" if other == name else f"the {other} rule applied to z{k}"),
                                 lambda s, p, D=D: g(s) * D))
        D = _rule_value(other, fwd.H[k])
        if other != name and not np.allclose(D, right_d):
            out.append(Candidate(("activation_derivative",), "delta", k,
                                 f"{_rule(other, f'H{k}')} ({other}'s derivative) in place of {f}'(z{k}) "
                                 f"({name}'s)", lambda s, p, D=D: g(s) * D))
    if name == "tanh":
        H = fwd.H[k]
        mixed = 1 - H @ H.T                                # (B, B): 1 − A Aᵀ (row) = 1 − Aᵀ A (column), examples mixed
        words = (f"(1 − H{k} H{k}ᵀ) · ({_back(spec, nxt, _wbar(spec, nxt))})" if spec.row else
                 f"({_back(spec, nxt, _wbar(spec, nxt))}) · (1 − H{k}ᵀ H{k})")
        out.append(Candidate(("elementwise_product",), "delta", k,
                             f"δ{k} = {words}: tanh's derivative 1 − H{k}² and its ⊙ both written as matrix "
                             f"products (np.dot), which mix the batch's examples", lambda s, p: mixed @ g(s)))
    D_next = fwd.derivative(nxt) if nxt < spec.L or spec.loss == "mse" else None   # softmax + ce: no σ' there
    if D_next is not None and np.all(np.abs(D_next) > 1e-12) and not np.allclose(D_next, 1):
        out.append(Candidate(("activation_derivative",), "delta", k,
                             f"δ{nxt} carried back without its own {_f(spec, nxt)}'(z{nxt}): the signal before "
                             f"⊙ {_f(spec, nxt)}'(z{nxt}) (∂L/∂H{nxt}) went back through W{nxt} instead of δ{nxt}",
                             lambda s, p: ((s.delta / D_next) @ Ws[nxt - 1][1:].T) * right_d))
    for j in range(1, spec.L):
        if j != k and spec.sizes[j] == spec.sizes[k]:
            D = fwd.derivative(j)
            out.append(Candidate(("activation_derivative",), "delta", k,
                                 f"{_f(spec, j)}'(z{j}) of layer {j} in place of {f}'(z{k})",
                                 lambda s, p, D=D: g(s) * D))
    if spec.bias == "row":
        out.append(Candidate(("bias_row",), "delta", k,
                             f"δ{nxt} carried back through {_wbar(spec, nxt, wrong=True)}: the last "
                             + ("row" if spec.row else "column") + f" of W{nxt} dropped instead of its bias "
                             + ("row, row 0" if spec.row else "column, column 0"),
                             lambda s, p: (s.delta @ Ws[nxt - 1][:-1].T) * right_d))
    Wb = Ws[nxt - 1][1:]
    if Wb.shape[0] == Wb.shape[1]:
        out.append(Candidate(("missing_transpose",), "delta", k,
                             f"δ{nxt} carried back through {_wbar(spec, nxt)} without ᵀ (it is square, so the "
                             f"shapes fit)", lambda s, p: (s.delta @ Wb) * right_d))
    for j in range(1, spec.L + 1):
        if j != nxt and Ws[j - 1][1:].shape == Wb.shape:
            out.append(Candidate(("wrong_layer",), "delta", k,
                                 f"δ{nxt} carried back through W{j} instead of W{nxt}",
                                 lambda s, p, j=j: (s.delta @ Ws[j - 1][1:].T) * right_d))
    out.append(Candidate(("updated_weights",), "delta", k,
                         f"δ{nxt} carried back through W{nxt} after this very step had updated it "
                         f"(W{nxt} − η ∂L/∂W{nxt}): the weights change under the backward pass",
                         lambda s, p: (s.delta @ (Ws[nxt - 1][1:] - p * s.dW_next[1:]).T) * right_d, "eta"))
    return out


def weight(spec, fwd, l):
    """Candidates for ``∂L/∂W_l`` given ``δ_l``."""
    out = []
    n_in, n_out = spec.sizes[l - 1], spec.sizes[l]
    W = f"∂L/∂W{l}"
    out.append(Candidate(("not_computed",), "dW", l, f"{W} is all zeros: a placeholder, or a gradient never "
                         f"computed", lambda s, p: np.zeros_like(s.right)))
    if spec.bias == "row" and n_in + 1 == n_out or spec.bias != "row" and n_in == n_out:
        out.append(Candidate(("transposed",), "dW", l, f"{W} transposed (the matrix is square, so the shape fits)",
                             lambda s, p: s.right.T if spec.bias == "row" else np.vstack([s.right[:1], s.right[1:].T])))
    if spec.bias != "none":
        b = f"∂L/∂b{l}" if spec.bias == "separate" else f"the bias {'row' if spec.row else 'column'} of {W}"
        out.append(Candidate(("bias_scale",), "dW", l, b,
                             lambda s, p: np.vstack([p * s.right[:1], s.right[1:]]), "c"))
        for which, pick in (("first", 0), ("last", -1)):
            out.append(Candidate(("batch_sum",), "dW", l,
                                 f"{b} from the {which} example's δ{l} only, not summed over the batch",
                                 lambda s, p, pick=pick: np.vstack([s.delta[pick][None, :], s.right[1:]])))
    for j in range(0, spec.L):
        if j != l - 1 and spec.sizes[j] == n_in:
            out.append(Candidate(("wrong_layer",), "dW", l,
                                 f"{W} = {_outer(spec, _ones(spec, j), l)}: the input of layer {j + 1}, not of "
                                 f"layer {l}", lambda s, p, j=j: s.fwd.one_H(j).T @ s.delta))
    return out


def candidates(spec, fwd, l):
    """Every candidate mistake whose first wrong gradient is that of layer ``l``: how ``δ_l`` is computed,
    then how ``∂L/∂W_l`` is."""
    first = top(spec, fwd) if l == spec.L else hidden(spec, fwd, l)
    first.insert(0, Candidate((), "delta", l, f"δ{l}", lambda s, p: p * s.right, "c"))
    return first + [Candidate((), "dW", l, f"∂L/∂W{l}", lambda s, p: p * s.right, "c")] + weight(spec, fwd, l)


def constant_codes(c, B, whole):
    """The codes and words of a fitted constant ``c`` (``whole``: it scales every gradient, from ``δ_L``).
    ``None`` when ``c`` is 1 (no mistake)."""
    near = lambda v: abs(c - v) <= 1e-6 * max(1.0, abs(v))            # noqa: E731
    if near(1.0):
        return None
    if near(0.0):
        return ("bias_row",), "left at 0"
    for value, codes, words in ((-1.0, ("sign",), "minus"),
                                (float(B), ("batch_factor",), f"B = {B:g} times"),
                                (1.0 / B, ("batch_factor",), f"1/B = 1/{B:g} times"),
                                (-float(B), ("sign", "batch_factor"), f"−B = −{B:g} times"),
                                (-1.0 / B, ("sign", "batch_factor"), f"−1/B = −1/{B:g} times")):
        if B == 1 and "batch_factor" in codes:
            continue
        if near(value):
            return codes, words
    if c < 0 and whole:
        return ("update",), f"−{-c:.6g} times"
    return ("scale",), f"{c:.6g} times"

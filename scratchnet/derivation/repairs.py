"""Small, named repairs of a formula, each tied to one diagnosis code, and the search that tries them.

A diagnosis is *computed*: the checker rewrites the learner's tree with a repair (or two, or three),
evaluates it at the same random point, and keeps the smallest set of repairs whose result equals the
true gradient, or its transpose, its negative, or ``B`` times or ``1/B`` times it. The codes:

* ``elementwise_product``: a matrix product whose shapes do not fit, read as ``⊙`` (or a fitting
  matrix product of two same-shaped factors replaced by ``⊙``);
* ``bias_row``: a full ``W_l`` replaced by ``W_l[1:]`` (row) or ``W_l[:, 1:]`` (column); a bare ``H``
  replaced by ``[1 H]`` / ``[1; H]``; a ``[1 H]`` of the wrong convention turned around;
* ``activation_derivative``: a ``σ′(z_k)`` factor inserted after a subexpression shaped like ``z_k``; a
  factor (or run of factors) whose value is some activation's derivative at some layer, replaced by the
  right layer's ``f′(z)`` or removed;
* ``transposed``, ``sign``, ``batch_factor``: how the repaired value relates to the truth.
"""

import itertools
import time
from dataclasses import dataclass, fields, replace

import numpy as np

from ..activations import ACTIVATIONS, HIDDEN, derivative_at
from .evaluate import evaluate
from .formula import BinOp, Call, Concat, Name, Node, Num, Slice, walk
from .notation import level, render

CODES = ("elementwise_product", "bias_row", "transposed", "sign", "batch_factor", "activation_derivative")


@dataclass(eq=False)
class Repair:
    """Replace the node ``target`` (a uid) by ``build(node)``; ``code`` is the diagnosis it stands for."""

    code: str
    target: int
    build: object
    description: str


def _rebuild(node, repairs_by_uid):
    """Copy of ``node`` with repairs applied bottom-up (uids are kept, so later repairs still find targets)."""
    changes = {}
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Node):
            changes[f.name] = _rebuild(value, repairs_by_uid)
        elif f.name == "rows":
            changes[f.name] = tuple(tuple(_rebuild(item, repairs_by_uid) for item in row) for row in value)
    new = replace(node, **changes) if changes else node
    if new.uid in repairs_by_uid:
        new = repairs_by_uid[new.uid].build(new)
    return new


def apply(tree, repairs):
    """The tree with every repair applied; None if two repairs target the same node."""
    by_uid = {}
    for r in repairs:
        if r.target in by_uid:
            return None
        by_uid[r.target] = r
    return _rebuild(tree, by_uid)


# ---------------------------------------------------------------------------------------------- chains

def _is_product_joint(node, substituted):
    return isinstance(node, BinOp) and (node.op == "mul" or (node.op == "matmul" and node.uid in substituted))


def flatten(node, substituted):
    """Factors and joints of a left-nested elementwise product ``f1 ⊙ f2 ⊙ …`` (a matrix product that was
    read as ⊙ counts). Returns ``(factors, joints)``, ``joints[k]`` joining ``factors[k+1]``."""
    factors, joints = [], []
    while _is_product_joint(node, substituted):
        factors.append(node.right)
        joints.append(node)
        node = node.left
    factors.append(node)
    return factors[::-1], joints[::-1]


def _chain(factors, joints):
    node = factors[0]
    for factor, joint in zip(factors[1:], joints):
        node = BinOp(joint.op, node, factor, joint.spelling, uid=joint.uid)
    return node


def _window_builder(window_uids, replacement, substituted):
    """Build function for a chain root: drop the factors in ``window_uids`` and put ``replacement``
    (a node, or None to remove them) where the first of them stood."""

    def build(root):
        factors, joints = flatten(root, substituted)
        uids = [f.uid for f in factors]
        if not window_uids <= set(uids):
            return root                                     # another repair changed this chain
        first = next(k for k, u in enumerate(uids) if u in window_uids)
        keep = [k for k, u in enumerate(uids) if u not in window_uids]
        new_factors, new_joints = [], []
        for k in range(len(factors)):
            if k == first and replacement is not None:
                new_factors.append(replacement)
            elif k in keep:
                new_factors.append(factors[k])
            else:
                continue
            if len(new_factors) > 1:
                new_joints.append(joints[k - 1] if k > 0 else BinOp("mul", Num(1.0), Num(1.0), "*"))
        if not new_factors:
            return Num(1.0)
        return _chain(new_factors, new_joints)

    return build


# ---------------------------------------------------------------------------------------------- candidates

def _derivative(layer, env):
    """``f_l'(z_l)`` as a node, in the layer's own activation."""
    name = env.activations[layer - 1]
    return Call(name + "'", Name(f"z{layer}"))


def _derivative_values(env):
    """Every activation derivative at every hidden layer: at ``z`` (right), at ``H`` (wrong), and written
    from the output by some activation's rule, such as ``H ⊙ (1 − H)`` (right only for a sigmoid layer):
    ``(layer, activation, how) → array`` in the convention."""
    out = {}
    L = len(env.activations)
    for k in range(1, L):
        H = np.array(env.names[f"H{k}"], dtype=np.float64)
        for g in HIDDEN:
            for at in ("z", "H"):
                out[(k, g, at)] = derivative_at(g, np.array(env.names[f"{at}{k}"], dtype=np.float64))
            out[(k, g, "output rule")] = ACTIVATIONS[g].derivative(H, np.ones_like(H))
    return out


def candidates(tree, env, evaluation):
    """All single repairs worth trying on ``tree``, given its evaluation with ``auto_elementwise``."""
    out = []
    values, substituted = dict(evaluation.values), {n.uid for n in evaluation.substituted}
    for node in walk(tree):                 # subexpressions the whole formula never reached
        if node.uid not in values:
            sub = evaluate(node, env, auto_elementwise=True)
            if sub.failure is None:
                values[node.uid] = sub.value
                substituted |= {n.uid for n in sub.substituted}
    column = env.convention == "column"
    L = len(env.activations)
    parents = {}
    for node in walk(tree):
        for child in node.children():
            parents[child.uid] = node

    for node in walk(tree):
        parent = parents.get(node.uid)
        # bias_row: W_l → W_l without its bias row (column)
        if isinstance(node, Name) and node.name.startswith("W") and not isinstance(parent, Slice):
            items = (slice(None), slice(1, None)) if column else (slice(1, None),)
            out.append(Repair("bias_row", node.uid, lambda n, items=items: Slice(n, items),
                              f"{node.name} → {render(Slice(node, items))}"))
        # bias_row: H → [1 H]
        if isinstance(node, Name) and node.name.startswith("H") and not isinstance(parent, Concat):
            def with_ones(n):
                return Concat(((Num(1.0),), (n,)) if column else ((Num(1.0), n),))
            out.append(Repair("bias_row", node.uid, with_ones,
                              f"{render(node)} → {render(with_ones(node))}"))
        # bias_row: [1 H] of the other convention
        if isinstance(node, Concat):
            flat = node.children()
            if len(flat) == 2 and isinstance(flat[0], Num):
                flipped = ((flat[0],), (flat[1],)) if len(node.rows) == 1 else ((flat[0], flat[1]),)
                out.append(Repair("bias_row", node.uid, lambda n, rows=flipped: Concat(rows),
                                  f"{render(node)} → {render(Concat(flipped))}"))
        # elementwise_product: a fitting matrix product of two same-shaped factors
        if isinstance(node, BinOp) and node.op == "matmul" and node.uid not in substituted:
            sa, sb = np.shape(values.get(node.left.uid, 0.0)), np.shape(values.get(node.right.uid, 0.0))
            if sa and sb and sa == sb:
                out.append(Repair("elementwise_product", node.uid,
                                  lambda n: BinOp("mul", n.left, n.right, "*", uid=n.uid),
                                  f"{render(node)} → {render(BinOp('mul', node.left, node.right, '*'))}"))

    # activation_derivative: insert f'(z_k) after a subexpression shaped like z_k
    for node in walk(tree):
        if isinstance(node, Num) or node.uid not in values or not np.ndim(values[node.uid]):
            continue
        for k in range(1, L):
            if np.shape(values[node.uid]) == np.shape(env.names[f"z{k}"]):
                d = _derivative(k, env)
                out.append(Repair("activation_derivative", node.uid,
                                  lambda n, k=k: BinOp("mul", n, _derivative(k, env), "*"),
                                  f"{render(node)} → {render(BinOp('mul', node, d, '*'))}"))

    # activation_derivative: a run of factors equal to some derivative, at the wrong layer, of the wrong
    # function, taken at H instead of z, or one too many
    known = _derivative_values(env)
    seen = set()
    for node in walk(tree):
        factors, _ = flatten(node, substituted)
        for i in range(len(factors)):
            for j in range(i, min(i + 3, len(factors))):
                window = factors[i:j + 1]
                if any(f.uid not in values for f in window):
                    continue
                key = (node.uid, tuple(f.uid for f in window))
                if key in seen:
                    continue
                seen.add(key)
                try:
                    product = np.prod(np.broadcast_arrays(*[values[f.uid] for f in window]), axis=0) \
                        if len(window) > 1 else values[window[0].uid]
                except ValueError:
                    continue
                if not np.ndim(product):
                    continue
                for (k, g, at), D in known.items():
                    if D.shape != product.shape or not np.allclose(product, D, rtol=1e-9, atol=1e-12):
                        continue
                    text = " * ".join(f"({render(f)})" if level(f) < 3 else render(f) for f in window)
                    uids = frozenset(f.uid for f in window)
                    root = node if len(factors) > 1 else window[0]
                    subs = substituted
                    for j2 in range(1, L):
                        if (j2, g, at) == (j2, env.activations[j2 - 1], "z") and j2 == k:
                            continue
                        repl = _derivative(j2, env)
                        if len(factors) > 1:
                            build = _window_builder(uids, repl, subs)
                        else:
                            build = (lambda n, j2=j2: _derivative(j2, env))
                        out.append(Repair("activation_derivative", root.uid, build,
                                          f"{text} → {render(repl)}"))
                    if len(factors) > 1 and len(window) < len(factors):
                        out.append(Repair("activation_derivative", node.uid,
                                          _window_builder(uids, None, subs), f"{text} removed"))
    unique = {}
    for r in out:
        unique.setdefault((r.code, r.description), r)
    return list(unique.values())


# ---------------------------------------------------------------------------------------------- search

def relations(truth, B):
    """How a value may relate to the truth: ``(codes, words, expected array)``, simplest first."""
    out = []
    scales = [((), "", 1.0)]
    if B > 1:
        scales += [(("batch_factor",), f"{B:g} times ", float(B)), (("batch_factor",), f"1/{B:g} times ",
                                                                    1.0 / B)]
    for sign_codes, sign_words, sign in (((), "", 1.0), (("sign",), "minus ", -1.0)):
        for t_codes, t_words, transpose in (((), "", False), (("transposed",), "the transpose of ", True)):
            for b_codes, b_words, factor in scales:
                T = truth.T if transpose else truth
                out.append((b_codes + sign_codes + t_codes, sign_words + b_words + t_words, sign * factor * T))
    return sorted(out, key=lambda r: len(r[0]))


def matches(value, expected, truth):
    """Whether ``value`` equals ``expected`` to within float64 rounding (relative to the truth's size)."""
    if np.shape(value) != np.shape(expected):
        return False
    scale = float(np.max(np.abs(truth))) if np.size(truth) else 1.0
    return float(np.max(np.abs(value - expected))) <= 1e-7 * scale + 1e-14


def _as_elementwise(node):
    return Repair("elementwise_product", node.uid, lambda n: BinOp("mul", n.left, n.right, "*", uid=n.uid),
                  f"{render(node)} read as ⊙")


@dataclass
class Diagnosis:
    """The smallest repair found: the codes, the repairs, the corrected tree (matrix products read as ⊙
    made explicit), how the result relates to the gradient (words, empty when equal) and its value."""

    codes: list
    repairs: list
    tree: object
    relation: str
    value: object


def search(tree, env, truth, B, max_repairs=3, budget_s=3.0, max_evaluations=6000):
    """Find the fewest repairs (0 to ``max_repairs``) that make ``tree`` equal the truth up to a relation.

    Returns
    -------
    Diagnosis or None
    """
    base = evaluate(tree, env, auto_elementwise=True)
    pool = candidates(tree, env, base)
    started, evaluations = time.monotonic(), 0
    rels = relations(truth, B)
    for size in range(max_repairs + 1):
        if size == 3 and len(pool) > 40:
            break
        best = None
        for combo in itertools.combinations(pool, size):
            repaired = apply(tree, combo) if combo else tree
            if repaired is None:
                continue
            evaluations += 1
            if evaluations > max_evaluations or time.monotonic() - started > budget_s:
                return best[1] if best else None
            ev = base if not combo else evaluate(repaired, env, auto_elementwise=True)
            if ev.failure is not None:
                continue
            for codes, words, expected in rels:
                if matches(ev.value, expected, truth):
                    found = [r.code for r in combo] + list(codes)
                    if ev.substituted:
                        found.append("elementwise_product")
                    ordered = [c for c in CODES if c in found]
                    if best is None or len(codes) < best[0]:
                        explicit = apply(repaired, [_as_elementwise(n) for n in ev.substituted])
                        best = (len(codes), Diagnosis(ordered, list(combo), explicit, words, ev.value))
                    break
            if best is not None and best[0] == 0:
                return best[1]
        if best is not None:
            return best[1]
    return None

"""Small, named repairs of a formula, each tied to one diagnosis code, and the search that tries them.

A diagnosis is *computed*: the checker rewrites the learner's tree with a repair (or two, or three),
evaluates it at the same random point, and keeps the smallest set of repairs whose result stands in a
known `Relation` to the truth: equal, or its transpose, its negative, ``B`` or ``1/B`` times it, summed
over the batch, or (for a Jacobian) its diagonal. The repairs, one small generator each:

* `bias_row_weights`, `bias_row_ones`, `bias_row_turned` (``bias_row``): a full ``W_l`` replaced by
  ``W_l[1:]`` (row) or ``W_l[:, 1:]`` (column); a bare ``H`` by ``[1 H]`` / ``[1; H]``; a ``[1 H]`` of
  the other convention turned around (the seed's bias-row notation only);
* `elementwise_products` (``elementwise_product``): a fitting matrix product of two same-shaped factors
  replaced by ``⊙`` (a product that does not fit is read as ``⊙`` by the evaluation itself);
* `missing_derivatives`, `derivative_factors`, `derivative_times_argument` (``activation_derivative``):
  a ``σ′(z_k)`` factor inserted after a subexpression shaped like ``z_k``; a factor (or run of factors)
  whose value is some activation's derivative at some layer replaced by the right layer's ``f′(z)``, or
  removed; ``z_k f′(z_k)`` (``z`` times its own derivative) read as ``f′(z_k)``;
* `wrong_layers` (``wrong_layer``): a weight matrix, pre-activation or activation named with another
  layer's number; the output's error ``ŷ − y`` used where the layer below's gradient belongs,
  not yet carried back through ``W_Lᵀ`` (`output_error_carried_back`);
* `transposes` (``missing_transpose``): a weight matrix (or ``W_l[1:]``) used without ``ᵀ`` where its
  transpose belongs, or with one where it does not;
* `outer_product_transposes` (``missing_transpose``): ``δ h`` that does not fit → ``δ hᵀ``, the outer
  product's transpose left out;
* `row_for_column` (``missing_transpose``): a row ⊙ a column, which only broadcasts, with one of them
  transposed;
* `factor_orders` (``factor_order``): the two factors of a matrix product in the wrong order, ``δ H``
  for ``Hᵀ δ``: ``a b`` → ``b a`` or ``bᵀ a``;
* `regroupings` (``regrouping``): the factors of a product chain ``f1 f2 … fn`` (as the learner wrote the
  Jacobians, left to right) grouped another way, keeping their order and operators, with a matrix product
  whose shapes do not fit read as ⊙ where its two factors have the same shape: ``[1 H1]ᵀ (ŷ − y) W̄3ᵀ H2 …``
  → ``[1 H1]ᵀ (((ŷ − y) W̄3ᵀ) ⊙ H2 ⊙ …)``, the outer product taken last. A regrouping counts as one repair
  and combines with the others; only a formula whose products do not fit as written (or fit only by
  broadcasting) is regrouped;
* `diagonal_products` (``elementwise_product``): ``g diag(v)`` → ``g ⊙ v``;
* `derivative_arguments` (``activation_derivative``): ``σ′(g)`` of the backpropagated signal → ``g ⊙ σ′(z)``,
  ``f′(expr)`` → ``f′(z)``, the activation ``σ(z)`` where its derivative ``σ′(z)`` belongs.
* `signal_inside_a_function` (``activation_derivative``): a function wrapped around the signal deeper
  down, ``σ(1 − σ(g))`` → ``g ⊙ σ′(z)``.

Every repaired formula is evaluated without broadcasting (`evaluate`'s ``auto_elementwise``), and a
caller may ask (``accept``) that it also hold at another batch size: no repair works only by broadcasting.

The relations add ``transposed``, ``sign``, ``batch_factor``, ``batch_sum``, ``diagonal_jacobian`` and
``softmax_jacobian``. The checker adds ``broadcast`` (a formula equal to the truth only by broadcasting) and
``one_example`` (right for one example, not for a batch).
"""

import itertools
import time
from dataclasses import dataclass, field, fields, replace

import numpy as np

from ..activations import ACTIVATIONS, HIDDEN, derivative_at
from ..quantity import Quantity, lookup
from .evaluate import evaluate
from .formula import BinOp, Call, Concat, FormulaError, Name, Node, Num, Slice, Transpose, walk
from .notation import level, render

CODES = ("elementwise_product", "matrix_product", "diagonal_jacobian", "softmax_jacobian", "third_order", "bias_row",
         "wrong_layer", "missing_transpose", "factor_order", "regrouping", "broadcast", "one_example", "transposed", "sign",
         "batch_factor", "batch_sum", "activation_derivative")
"""Every diagnosis code, in the order they are listed."""

MAX_SEARCH_NODES = 80
"""Formulas with more nodes than this are not searched for repairs (the search grows with the square of
the formula); the seed's answer has 17 nodes."""

BUDGET_S = 2.0
"""CPU seconds the search may take, candidates included; past it, the best diagnosis so far (or none)."""


_repair_ids = itertools.count(1)


@dataclass(eq=False)
class Repair:
    """Replace the node ``target`` (a uid) by ``build(node)``; ``code`` is the diagnosis it stands for."""

    code: str
    target: int
    build: object
    description: str
    uid: int = field(default_factory=lambda: next(_repair_ids))


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


# ---------------------------------------------------------------------------------------------- context

@dataclass
class Context:
    """What every repair generator reads, computed once per formula.

    ``values`` maps a node's uid to its value (with misfitting matrix products read as ⊙), including
    subexpressions the whole formula never reached; ``substituted`` holds the uids of the products read
    as ⊙; ``parents`` maps a uid to its parent node; ``bias_row`` says whether ``W_l`` carries its bias in
    row 0 (the seed's notation) rather than in a separate ``b_l``.
    """

    tree: object
    env: object
    values: dict
    substituted: set
    parents: dict
    bias_row: bool

    @property
    def column(self):
        return self.env.convention == "column"

    @property
    def L(self):
        return len(self.env.activations)


def context(tree, env, evaluation):
    """The `Context` of ``tree`` given its evaluation with ``auto_elementwise``."""
    values, substituted = dict(evaluation.values), {n.uid for n in evaluation.substituted}
    for node in walk(tree):                 # subexpressions the whole formula never reached
        if node.uid not in values:
            try:
                sub = evaluate(node, env, auto_elementwise=True)
            except FormulaError:
                continue
            if sub.failure is None:
                values[node.uid] = sub.value
                substituted |= {n.uid for n in sub.substituted}
    parents = {child.uid: node for node in walk(tree) for child in node.children()}
    return Context(tree, env, values, substituted, parents, "b1" not in env.names)


def _derivative(layer, env):
    """``f_l'(z_l)`` as a node, in the layer's own activation."""
    return Call(env.activations[layer - 1] + "'", Name(f"z{layer}"))


def _layer_name(node):
    """``(kind, layer)`` of a name such as ``W3`` or ``z2`` (`quantity.lookup`), else None."""
    q = lookup(node.name) if isinstance(node, Name) else None
    if q is not None and q.kind in ("W", "H", "z", "b"):
        return q.kind, q.layer
    return None


def _kind(node):
    """``"W"``, ``"H"``, ``"z"`` or ``"b"`` for a layer's name, else None."""
    named = _layer_name(node)
    return named[0] if named else None


# ---------------------------------------------------------------------------------------------- repairs

def bias_row_weights(ctx):
    """``W_l`` → ``W_l[1:]`` (row) or ``W_l[:, 1:]`` (column): the bias row does not carry a gradient back."""
    if not ctx.bias_row:
        return
    items = (slice(None), slice(1, None)) if ctx.column else (slice(1, None),)
    for node in walk(ctx.tree):
        if _kind(node) == "W" and not isinstance(ctx.parents.get(node.uid), Slice):
            yield Repair("bias_row", node.uid, lambda n: Slice(n, items),
                         f"{node.name} → {render(Slice(node, items))}")


def bias_row_ones(ctx):
    """``H`` → ``[1 H]`` (row) or ``[1; H]`` (column): the gradient of ``W_l`` needs the ones."""
    if not ctx.bias_row:
        return

    def with_ones(n):
        return Concat(((Num(1.0),), (n,)) if ctx.column else ((Num(1.0), n),))

    for node in walk(ctx.tree):
        if _kind(node) == "H" and not isinstance(ctx.parents.get(node.uid), (Concat, Call)):
            yield Repair("bias_row", node.uid, with_ones, f"{render(node)} → {render(with_ones(node))}")


def bias_row_turned(ctx):
    """A ``[1 H]`` of the other convention turned around: ``[1 H]`` ↔ ``[1; H]``."""
    if not ctx.bias_row:
        return
    for node in walk(ctx.tree):
        if isinstance(node, Concat):
            flat = node.children()
            if len(flat) == 2 and isinstance(flat[0], Num):
                rows = ((flat[0],), (flat[1],)) if len(node.rows) == 1 else ((flat[0], flat[1]),)
                yield Repair("bias_row", node.uid, lambda n, rows=rows: Concat(rows),
                             f"{render(node)} → {render(Concat(rows))}")


def elementwise_products(ctx):
    """A fitting matrix product of two same-shaped factors (``H2ᵀ H2`` of 1×1 vectors, square matrices)
    replaced by ``⊙``."""
    for node in walk(ctx.tree):
        if isinstance(node, BinOp) and node.op == "matmul" and node.uid not in ctx.substituted:
            sa = np.shape(ctx.values.get(node.left.uid, 0.0))
            sb = np.shape(ctx.values.get(node.right.uid, 0.0))
            if sa and sb and sa == sb:
                yield Repair("elementwise_product", node.uid,
                             lambda n: BinOp("mul", n.left, n.right, "*", uid=n.uid),
                             f"{render(node)} → {render(BinOp('mul', node.left, node.right, '*'))}")


def matrix_products(ctx):
    """An elementwise product ``a * b`` of two matrices of different shapes → a matrix product, as it is or
    with the factors swapped or one transposed (``A1 * dZ`` → ``dZ A1ᵀ``): ``*`` where ``np.dot`` belongs,
    which at one example may even broadcast a column times a row into the right outer product."""
    for node in walk(ctx.tree):
        if not (isinstance(node, BinOp) and node.op == "mul"):
            continue
        sa = np.shape(ctx.values.get(node.left.uid, 0.0))
        sb = np.shape(ctx.values.get(node.right.uid, 0.0))
        if len(sa) != 2 or len(sb) != 2 or sa == sb or 1 in (sa[0] * sa[1], sb[0] * sb[1]):
            continue
        for swap, t_left, t_right in ((False, False, False), (False, False, True), (False, True, False),
                                      (True, False, False), (True, False, True), (True, True, False)):
            def build(n, swap=swap, t_left=t_left, t_right=t_right):
                a, b = (n.right, n.left) if swap else (n.left, n.right)
                return BinOp("matmul", Transpose(a) if t_left else a, Transpose(b) if t_right else b, "",
                             uid=n.uid)
            yield Repair("matrix_product", node.uid, build, f"{render(node)} → {render(build(node))}")


def diagonal_products(ctx):
    """``g diag(v)`` (or ``diag(v) g``) → ``g ⊙ v``: multiplying by a diagonal matrix is an elementwise
    product with its diagonal, and only that form holds for a batch."""
    for node in walk(ctx.tree):
        if not (isinstance(node, BinOp) and node.op == "matmul"):
            continue
        for side in ("left", "right"):
            d = getattr(node, side)
            if isinstance(d, Call) and d.func == "diag":
                other = node.right if side == "left" else node.left
                new = BinOp("mul", other, d.arg, "*")
                yield Repair("elementwise_product", node.uid,
                             lambda n, side=side: BinOp("mul", n.right if side == "left" else n.left,
                                                        getattr(n, side).arg, "*", uid=n.uid),
                             f"{render(node)} → {render(new)}")


def missing_derivatives(ctx):
    """``f_k'(z_k)`` inserted (by ⊙) after a subexpression shaped like ``z_k``."""
    for node in walk(ctx.tree):
        value = ctx.values.get(node.uid)
        if isinstance(node, Num) or value is None or not np.ndim(value) or isinstance(ctx.parents.get(node.uid), Call):
            continue                                        # a function's argument stays as it is
        for k in range(1, ctx.L):
            if np.shape(value) == np.shape(ctx.env.names[f"z{k}"]):
                d = _derivative(k, ctx.env)
                yield Repair("activation_derivative", node.uid,
                             lambda n, k=k: BinOp("mul", n, _derivative(k, ctx.env), "*"),
                             f"{render(node)} → {render(BinOp('mul', node, d, '*'))}")


def _derivative_values(env):
    """Every activation derivative at every hidden layer: at ``z`` (right), at ``H`` (wrong), and written
    from the output by some activation's rule, such as ``H ⊙ (1 − H)`` (right only for a sigmoid layer):
    ``(layer, activation, how) → array`` in the convention."""
    out = {}
    for k in range(1, len(env.activations)):
        H = np.array(env.names[f"H{k}"], dtype=np.float64)
        z = np.array(env.names[f"z{k}"], dtype=np.float64)
        for g in HIDDEN:
            for at in ("z", "H"):
                out[(k, g, at)] = derivative_at(g, np.array(env.names[f"{at}{k}"], dtype=np.float64))
            out[(k, g, "output rule")] = ACTIVATIONS[g].derivative(H, np.ones_like(H))
            out[(k, g, "output rule at z")] = ACTIVATIONS[g].derivative(z.copy(), np.ones_like(z))  # z(1 − z)
            out[(k, g, "activation")] = ACTIVATIONS[g].function(z.copy())      # σ(z) where σ'(z) belongs
    L = len(env.activations)
    yhat = np.array(env.names["yhat"], dtype=np.float64)       # σ' at the softmax output: never a factor
    zL = np.array(env.names[f"z{L}"], dtype=np.float64)
    for g in HIDDEN:
        out[(L, g, "output rule")] = ACTIVATIONS[g].derivative(yhat.copy(), np.ones_like(yhat))
        out[(L, g, "z")] = derivative_at(g, zL.copy())
    return out


def _window_product(ctx, window):
    """The elementwise product of the values of ``window`` (factors of one chain), or None."""
    if any(f.uid not in ctx.values for f in window):
        return None
    if len(window) == 1:
        return ctx.values[window[0].uid]
    values = [ctx.values[f.uid] for f in window]
    if len({np.shape(v) for v in values}) > 1:
        return None                                         # a product of matching shapes only
    return np.prod(values, axis=0)


def derivative_factors(ctx):
    """A run of up to three factors of an elementwise chain whose value is some derivative — at the wrong
    layer, of the wrong activation, taken at ``H`` instead of ``z`` — replaced by each hidden layer's own
    ``f'(z)``; or such a run removed (one too many)."""
    known = _derivative_values(ctx.env)
    for node in walk(ctx.tree):
        if _is_product_joint(ctx.parents.get(node.uid), ctx.substituted):
            continue                                        # only whole chains, from their root
        factors, _ = flatten(node, ctx.substituted)
        for i in range(len(factors)):
            for j in range(i, min(i + 3, len(factors))):
                window = factors[i:j + 1]
                product = _window_product(ctx, window)
                if product is None or not np.ndim(product):
                    continue
                for (k, g, at), D in known.items():
                    if D.shape != product.shape or not np.allclose(product, D, rtol=1e-9, atol=1e-12):
                        continue
                    text = " * ".join(f"({render(f)})" if level(f) < 3 else render(f) for f in window)
                    uids = frozenset(f.uid for f in window)
                    for right in range(1, ctx.L):
                        if right == k and (g, at) == (ctx.env.activations[right - 1], "z"):
                            continue                        # already the right derivative
                        repl = _derivative(right, ctx.env)
                        if len(window) > 1:
                            build, target = _window_builder(uids, repl, ctx.substituted), node.uid
                        else:
                            build, target = (lambda n, right=right: _derivative(right, ctx.env)), window[0].uid
                        yield Repair("activation_derivative", target, build, f"{text} → {render(repl)}")
                    if len(factors) > 1 and len(window) < len(factors):
                        yield Repair("activation_derivative", node.uid,
                                     _window_builder(uids, None, ctx.substituted), f"{text} removed")


def derivative_times_argument(ctx):
    """``z_k f'(z_k)`` (or ``H_k``, by a matrix or elementwise product) → ``f'(z_k)``: ``f'(z)`` is a
    function of ``z``, not ``z`` times something."""
    known = _derivative_values(ctx.env)
    for node in walk(ctx.tree):
        if not (isinstance(node, BinOp) and node.op in ("matmul", "mul")):
            continue
        for bare, other in ((node.left, node.right), (node.right, node.left)):
            named = _layer_name(bare)
            value = ctx.values.get(other.uid)
            if named is None or named[0] not in "zH" or value is None or not np.ndim(value):
                continue
            if any(k == named[1] and D.shape == np.shape(value) and np.allclose(value, D, rtol=1e-9, atol=1e-12)
                   for (k, _, _), D in known.items()):
                yield Repair("activation_derivative", node.uid, lambda n, right=other is node.right:
                             n.right if right else n.left, f"{render(node)} → {render(other)}")


def derivative_arguments(ctx):
    """A function where a layer's derivative belongs: ``σ′(g)`` of the backpropagated signal → ``g ⊙ σ′(z_k)``
    and ``f′(expr)`` of an expression → ``f′(z_k)``; the activation itself, ``σ(z_k)`` or ``relu(z_k)``, →
    its derivative ``σ′(z_k)`` (for each hidden layer ``k`` of that shape)."""
    for node in walk(ctx.tree):
        if not isinstance(node, Call) or node.func in ("diag", "sum", "softmax"):
            continue
        derivative = node.func.endswith("'")
        arg = _layer_name(node.arg)
        shape = np.shape(ctx.values.get(node.arg.uid, 0.0))
        for k in range(1, ctx.L):
            if shape != np.shape(ctx.env.names[f"z{k}"]):
                continue
            d = _derivative(k, ctx.env)
            if derivative and arg != ("z", k):
                yield Repair("activation_derivative", node.uid, lambda n, k=k: _derivative(k, ctx.env),
                             f"{render(node)} → {render(d)}")
                if arg is None or arg[0] != "z":
                    yield Repair("activation_derivative", node.uid,
                                 lambda n, k=k: BinOp("mul", n.arg, _derivative(k, ctx.env), "*"),
                                 f"{render(node)} → {render(BinOp('mul', node.arg, d, '*'))}")
            elif not derivative:
                yield Repair("activation_derivative", node.uid, lambda n, k=k: _derivative(k, ctx.env),
                             f"{render(node)} → {render(d)}")


def _is_signal(node):
    """Whether ``node`` carries the backpropagated signal: it names ``yhat`` or a ``delta_l``."""
    return any(isinstance(n, Name) and (n.name == "yhat" or n.name.startswith("delta")) for n in walk(node))


def signal_inside_a_function(ctx):
    """A function wrapped around the backpropagated signal, ``σ(1 − σ(g))`` or ``σ′(g ⊙ …)``, where the
    signal times the layer's derivative belongs → ``g ⊙ f′(z_k)``, for each subexpression ``g`` of the
    signal inside it shaped like ``z_k`` (code ``activation_derivative``). The plain ``σ′(g)`` is
    `derivative_arguments`'."""
    for node in walk(ctx.tree):
        if not isinstance(node, Call) or node.func in ("diag", "sum", "softmax") or not _is_signal(node.arg):
            continue
        shape = np.shape(ctx.values.get(node.uid, 0.0))
        inner = [g for g in walk(node.arg) if g is not node.arg and not isinstance(g, (Name, Num))
                 and _is_signal(g) and np.shape(ctx.values.get(g.uid, 0.0)) == shape]
        for k in range(1, ctx.L):
            if shape != np.shape(ctx.env.names[f"z{k}"]):
                continue
            for g in inner:
                new = BinOp("mul", g, _derivative(k, ctx.env), "*")
                yield Repair("activation_derivative", node.uid, lambda n, new=new: new,
                             f"{render(node)} → {render(new)}")


def wrong_layers(ctx):
    """``W_k``, ``z_k``, ``H_k`` (or ``b_k``) → the same quantity of another layer; a derivative's own
    argument is left to `derivative_factors`."""
    limits = {"W": range(1, ctx.L + 1), "b": range(1, ctx.L + 1), "z": range(1, ctx.L + 1),
              "H": range(0, ctx.L)}
    for node in walk(ctx.tree):
        named = _layer_name(node)
        if named is None or isinstance(ctx.parents.get(node.uid), Call) or node.name not in ctx.env.names:
            continue
        kind, k = named
        for other in limits[kind]:
            if other != k:
                new = Quantity(kind, other).name
                yield Repair("wrong_layer", node.uid, lambda n, new=new: Name(new),
                             f"{render(node)} → {render(Name(new))}")


def output_error_carried_back(ctx):
    """The output's error ``ŷ − y`` (or ``(ŷ − y)/B``, either sign) where the layer below's gradient belongs
    → carried back through the output's weights: ``(ŷ − y) W_Lᵀ`` (row) or ``W_Lᵀ (ŷ − y)`` (column), with
    ``W_L[1:]`` / ``W_L[:, 1:]`` in the bias-row notation. The hidden layer's δ is the output's δ taken
    back through ``W_L`` first, not the output's error itself (code ``wrong_layer``)."""
    L = ctx.L
    if L < 2 or "yhat" not in ctx.env.names:
        return
    error = np.asarray(ctx.env.names["yhat"], dtype=np.float64) - np.asarray(ctx.env.names["y"], dtype=np.float64)
    B = error.shape[ctx.env.batch_axis]
    items = ((slice(None), slice(1, None)) if ctx.column else (slice(1, None),)) if ctx.bias_row else None
    for node in walk(ctx.tree):
        value, parent = ctx.values.get(node.uid), ctx.parents.get(node.uid)
        if value is None or np.shape(value) != error.shape or isinstance(parent, Call) or \
                isinstance(parent, BinOp) and parent.op == "matmul" and (_is_weight(parent.left) or
                                                                        _is_weight(parent.right)):
            continue                                        # a function's argument, or already carried back
        if not any(matches(value, c * error, 1.0) for c in (1.0, -1.0, 1.0 / B, -1.0 / B)):
            continue

        def build(n):
            W = Name(f"W{L}")
            W = Transpose(Slice(W, items) if items else W)
            return BinOp("matmul", W, n, "") if ctx.column else BinOp("matmul", n, W, "")

        yield Repair("wrong_layer", node.uid, build, f"{render(node)} → {render(build(node))}")


def _is_weight(node):
    if isinstance(node, Slice):
        node = node.operand
    return _kind(node) == "W"


def transposes(ctx):
    """``W_l`` (or ``W_l[1:]``) → ``W_lᵀ``, and ``W_lᵀ`` → ``W_l``."""
    for node in walk(ctx.tree):
        if not _is_weight(node) or isinstance(ctx.parents.get(node.uid), Slice):
            continue
        parent = ctx.parents.get(node.uid)
        if isinstance(parent, Transpose):
            yield Repair("missing_transpose", parent.uid, lambda n: n.operand,
                         f"{render(parent)} → {render(node)}")
        else:
            yield Repair("missing_transpose", node.uid, lambda n: Transpose(n),
                         f"{render(node)} → {render(Transpose(node))}")


def outer_product_transposes(ctx):
    """A matrix product ``a b`` that does not fit → ``a bᵀ`` (or ``aᵀ b``) where that fits: the outer
    product ``δ hᵀ`` written ``δ h`` (\"the gradient of W h with respect to W should be h, right?\");
    weights are left to `transposes` (code ``missing_transpose``)."""
    for node in walk(ctx.tree):
        if not (isinstance(node, BinOp) and node.op == "matmul"):
            continue
        sa = np.shape(ctx.values.get(node.left.uid, 0.0))
        sb = np.shape(ctx.values.get(node.right.uid, 0.0))
        if len(sa) != 2 or len(sb) != 2 or sa[1] == sb[0]:
            continue
        for side, fits in (("right", sa[1] == sb[1]), ("left", sa[0] == sb[0])):
            factor = getattr(node, side)
            if not fits or _is_weight(factor) or isinstance(factor, Transpose) and _is_weight(factor.operand):
                continue

            def build(n, side=side):
                left, right = (n.left, Transpose(n.right)) if side == "right" else (Transpose(n.left), n.right)
                return BinOp("matmul", left, right, n.spelling, uid=n.uid)
            yield Repair("missing_transpose", node.uid, build, f"{render(node)} → {render(build(node))}")


def row_for_column(ctx):
    """``r ⊙ c`` of a row ``1×n`` and a column ``m×1`` (which only broadcasts, into an ``m×n`` matrix) →
    ``rᵀ ⊙ c`` or ``r ⊙ cᵀ``: a gradient written as a row where the convention has a column (or the
    other way round), ``(k_{i+1}ᵀ W_{i+1}) ⊙ f′(z_i)`` for ``(W_{i+1}ᵀ k_{i+1}) ⊙ f′(z_i)`` (code
    ``missing_transpose``)."""
    for node in walk(ctx.tree):
        if not (isinstance(node, BinOp) and node.op == "mul"):
            continue
        sa = np.shape(ctx.values.get(node.left.uid, 0.0))
        sb = np.shape(ctx.values.get(node.right.uid, 0.0))
        if len(sa) != 2 or len(sb) != 2 or not ((sa[0] == 1 < sa[1] and sb[1] == 1 < sb[0]) or
                                                 (sb[0] == 1 < sb[1] and sa[1] == 1 < sa[0])):
            continue
        for side in ("left", "right"):
            def build(n, side=side):
                left, right = (Transpose(n.left), n.right) if side == "left" else (n.left, Transpose(n.right))
                return BinOp("mul", left, right, n.spelling, uid=n.uid)
            yield Repair("missing_transpose", node.uid, build, f"{render(node)} → {render(build(node))}")


def factor_orders(ctx):
    """A matrix product ``a b`` → ``b a`` or ``bᵀ a``: the factors of an outer product in the wrong order
    (also where ``a b`` does not fit and was read as ⊙: ``δ hᵀ`` for ``hᵀ δ``)."""
    for node in walk(ctx.tree):
        if isinstance(node, BinOp) and node.op == "matmul":
            for transposed in (False, True):       # (the flag, not the factor: a factor may be a ᵀ already)
                def build(n, transposed=transposed):
                    return BinOp("matmul", Transpose(n.right) if transposed else n.right, n.left, "", uid=n.uid)
                yield Repair("factor_order", node.uid, build, f"{render(node)} → {render(build(node))}")


MAX_CHAIN = 8
"""Factors of a product chain that `regroupings` regroups (the seed's batch formula has 5)."""

MAX_GROUPINGS = 24
"""Groupings kept per part of a chain (the number of groupings grows as the Catalan numbers)."""


def _product_chain(node):
    """The factors of a maximal product (``matmul`` and ``mul`` joints, through the learner's parentheses),
    in order, and the joints between them: ``(factors, ops)``, ``ops[k]`` between factors k and k+1."""
    if isinstance(node, BinOp) and node.op in ("matmul", "mul"):
        fl, ol = _product_chain(node.left)
        fr, orr = _product_chain(node.right)
        return fl + fr, ol + [node.op] + orr
    return [node], []


def _joined(op, sa, sb):
    """How ``op`` (the learner's) joins shapes ``sa`` and ``sb`` without broadcasting: ``"matmul"``,
    ``"mul"`` (a misfitting matrix product read as ⊙ when both have the same shape, or a number's
    product) or None; and the resulting shape."""
    if not sa or not sb:
        return "mul", sa or sb
    if op == "matmul" and sa[1] == sb[0]:
        return "matmul", (sa[0], sb[1])
    if sa == sb:
        return "mul", sa
    return None, None


def _groupings(shapes, ops):
    """Every grouping of factors with ``shapes`` and the learner's ``ops`` whose shapes fit, as nested
    tuples ``(left, op, right)`` of factor indices, with the result's shape: ``[(structure, shape)]``."""
    n = len(shapes)
    table = {(i, i): [(i, shapes[i])] for i in range(n)}
    for width in range(2, n + 1):
        for i in range(0, n - width + 1):
            j, out = i + width - 1, []
            for k in range(i, j):                           # the last product joins [i..k] and [k+1..j]
                for left, sl in table[(i, k)]:
                    for right, sr in table[(k + 1, j)]:
                        op, shape = _joined(ops[k], sl, sr)
                        if op is not None:
                            out.append(((left, op, right), shape))
                if len(out) >= MAX_GROUPINGS:
                    break
            table[(i, j)] = out[:MAX_GROUPINGS]
    return table[(0, n - 1)]


def _build(structure, factors):
    if isinstance(structure, int):
        return factors[structure]
    left, op, right = structure
    return BinOp(op, _build(left, factors), _build(right, factors), "*" if op == "mul" else "")


def _same_grouping(structure, node):
    """Whether ``structure`` is the learner's own grouping of ``node``'s chain, with the same operators."""
    if isinstance(structure, int):
        return not (isinstance(node, BinOp) and node.op in ("matmul", "mul"))
    left, op, right = structure
    return isinstance(node, BinOp) and node.op == op and _same_grouping(left, node.left) and \
        _same_grouping(right, node.right)


def _matmuls(structure):
    if isinstance(structure, int):
        return 0
    left, op, right = structure
    return _matmuls(left) + (op == "matmul") + _matmuls(right)


def regroupings(tree, env, limit=MAX_GROUPINGS):
    """``tree`` with one product chain (of 3 to `MAX_CHAIN` factors) grouped another way whose shapes fit
    without broadcasting: a list of ``(tree, read_as_mul, repair)``, where ``read_as_mul`` says whether a
    matrix product of the learner's became ⊙ and ``repair`` describes the regrouping."""
    out = []
    parents = {child.uid: node for node in walk(tree) for child in node.children()}
    for root in walk(tree):
        parent = parents.get(root.uid)
        if not (isinstance(root, BinOp) and root.op in ("matmul", "mul")) or \
                (isinstance(parent, BinOp) and parent.op in ("matmul", "mul")):
            continue                                        # only whole chains
        factors, ops = _product_chain(root)
        if not 3 <= len(factors) <= MAX_CHAIN:
            continue
        shapes = []
        for f in factors:
            ev = _evaluate(f, env)
            if ev is None or ev.failure is not None:
                break
            shapes.append(np.shape(ev.value))
        if len(shapes) < len(factors):
            continue
        for structure, _ in _groupings(shapes, ops):
            if _same_grouping(structure, root):
                continue
            new = _build(structure, factors)
            repair = Repair("regrouping", root.uid, lambda n, new=new: new,
                            f"{render(root)} regrouped as {render(new)}")
            repaired = apply(tree, [repair])
            if repaired is not None:
                out.append((repaired, _matmuls(structure) < ops.count("matmul"), repair))
            if len(out) >= limit:
                return out
    return out


GENERATORS = (bias_row_weights, bias_row_ones, bias_row_turned, elementwise_products, matrix_products,
              diagonal_products,
              missing_derivatives,
              derivative_factors, derivative_times_argument, derivative_arguments, signal_inside_a_function,
              wrong_layers,
              output_error_carried_back, transposes, outer_product_transposes, row_for_column,
              factor_orders)
"""Every repair generator, in the order their repairs are tried."""


def candidates(ctx):
    """All single repairs worth trying, one of each description, in the order of `GENERATORS`."""
    unique = {}
    for generate in GENERATORS:
        for r in generate(ctx):
            unique.setdefault((r.code, r.description), r)
    return list(unique.values())


# ---------------------------------------------------------------------------------------------- relations

@dataclass(frozen=True)
class Relation:
    """A way a value may stand to the truth: ``reduce(value)`` equals ``expected``. ``codes`` are the
    diagnoses it stands for (none for equality), ``words`` how a message says it ("minus "), ``note`` a
    key of `hints.NOTES` that adds to a code's hint (``"softmax_at_z"``), or None."""

    codes: tuple
    words: str
    expected: np.ndarray
    reduce: object = None
    note: str = None

    def holds(self, value, scale):
        if self.reduce is not None:
            if not np.ndim(value):
                return False
            value = self.reduce(value)
        return matches(value, self.expected, scale)


def gradient_relations(truth, B, batch_axis=0, summed=False):
    """How a value may relate to a gradient: sign, transpose, a factor ``B`` or ``1/B``, and (for a
    gradient summed over the batch, ``summed``) a ``B×n`` value whose sum over the batch is it.
    Simplest first."""
    scales = [((), "", 1.0)]
    if B > 1:
        scales += [(("batch_factor",), f"{B:g} times ", float(B)), (("batch_factor",), f"1/{B:g} times ", 1.0 / B)]
    sums = [((), "", None)]
    if summed and B > 1:
        per = "row" if batch_axis == 0 else "column"
        sums.append((("batch_sum",), f"one {per} per example of what, summed over the batch, is ",
                     lambda v: v.sum(axis=batch_axis, keepdims=True)))
    out = []
    for sign_codes, sign_words, sign in (((), "", 1.0), (("sign",), "minus ", -1.0)):
        for t_codes, t_words, transpose in (((), "", False), (("transposed",), "the transpose of ", True)):
            for b_codes, b_words, factor in scales:
                for s_codes, s_words, reduce in sums:
                    if transpose and reduce is not None:
                        continue
                    T = truth.T if transpose else truth
                    out.append(Relation(b_codes + sign_codes + t_codes + s_codes,
                                        sign_words + b_words + t_words + s_words, sign * factor * T, reduce))
    return sorted(out, key=lambda r: len(r.codes))


def jacobian_relations(J, softmax=False):
    """How a value may relate to a Jacobian ``J (m, n)``: sign and transpose; and, where ``J`` is square,
    its diagonal given as a vector (``diagonal_jacobian``, or ``softmax_jacobian`` when ``J`` is the
    softmax's full Jacobian, whose diagonal alone — as a vector or as ``diag(·)`` — is not it)."""
    out = []
    for sign_codes, sign_words, sign in (((), "", 1.0), (("sign",), "minus ", -1.0)):
        out.append(Relation(sign_codes, sign_words, sign * J))
        if J.shape[0] != J.shape[1] or not np.allclose(J, J.T, rtol=0, atol=0):
            out.append(Relation(sign_codes + ("transposed",), sign_words + "the transpose of ", sign * J.T))
        if J.shape[0] == J.shape[1]:
            d = sign * np.diag(J)
            diagonal = not np.any(J - np.diag(np.diag(J)))
            code = ("softmax_jacobian",) if softmax else (("diagonal_jacobian",) if diagonal else None)
            if code is None:
                continue
            out.append(Relation(sign_codes + code, sign_words + "the diagonal of ", d[None, :]))
            out.append(Relation(sign_codes + code, sign_words + "the diagonal of ", d[:, None]))
            if diagonal and np.all(d == d[0]):              # c·I, e.g. ∂z/∂b = I given as 1
                out.append(Relation(sign_codes + code, sign_words + "the number on the diagonal of ",
                                    np.array(d[0])))
            if softmax:
                out.append(Relation(sign_codes + code, sign_words + "the diagonal part of ", np.diag(d)))
    return sorted(out, key=lambda r: len(r.codes))


def matches(value, expected, scale):
    """Whether ``value`` equals ``expected`` to within float64 rounding, relative to ``scale`` (the size of
    the truth)."""
    if np.shape(value) != np.shape(expected):
        return False
    return float(np.max(np.abs(value - expected))) <= 1e-7 * scale + 1e-14


def truth_scale(truth):
    """The size of the truth that `matches` measures errors against."""
    return float(np.max(np.abs(truth))) if np.size(truth) else 1.0


# ---------------------------------------------------------------------------------------------- search

def _as_elementwise(node):
    return Repair("elementwise_product", node.uid, lambda n: BinOp("mul", n.left, n.right, "*", uid=n.uid),
                  f"{render(node)} read as ⊙")


@dataclass
class Diagnosis:
    """The smallest repair found: the codes, the repairs, the corrected tree (matrix products read as ⊙
    made explicit), how the result relates to the truth (words, empty when equal), its value and the
    relation's `Relation.note`."""

    codes: list
    repairs: list
    tree: object
    relation: str
    value: object
    note: str = None


def _evaluate(tree, env):
    try:
        return evaluate(tree, env, auto_elementwise=True)
    except FormulaError:                   # a repair may divide by zero: not a candidate
        return None


@dataclass
class SearchStats:
    """How a search ended: ``evaluations`` tried, and ``stopped`` — None when every combination up to the
    limit was tried, else why not (``"budget"``: time or evaluations ran out; ``"too_large"``: the formula
    has more than `MAX_SEARCH_NODES` nodes; ``"pool"``: too many single repairs to combine three)."""

    evaluations: int = 0
    stopped: str = None


def search(tree, env, relations, scale, max_repairs=3, budget_s=BUDGET_S, max_evaluations=6000, accept=None,
           stats=None):
    """Find the fewest repairs (0 to ``max_repairs``; a regrouping counts as one) after which ``tree``
    stands in one of ``relations`` to the truth (the fewest relation codes among those). Repaired
    formulas are evaluated without broadcasting.

    Parameters
    ----------
    tree : formula.Node
    env : Environment
    relations : list of `Relation`, simplest first
    scale : float, the size of the truth (`truth_scale`)
    accept : callable (repaired tree, relation) → bool, optional: a further test a repair must pass (the
        caller checks it at another batch size)
    stats : SearchStats, optional, filled in with how the search ended

    Returns
    -------
    Diagnosis or None (also for a formula of more than `MAX_SEARCH_NODES` nodes, or past the budget)
    """
    stats = stats if stats is not None else SearchStats()
    if sum(1 for _ in walk(tree)) > MAX_SEARCH_NODES:
        stats.stopped = "too_large"
        return None
    started = time.process_time()
    base = _evaluate(tree, env)
    if base is None:
        return None
    pool = candidates(context(tree, env, base))

    fitted = set()                       # combinations whose repaired formula fits: not regrouped

    def variants(combo):
        """The repaired tree, or its regroupings: ``(tree, extra repairs, read as ⊙ by regrouping)``. Only a
        repaired formula whose shapes do not fit is regrouped."""
        repaired = apply(tree, combo) if combo else tree
        if repaired is None:
            return
        if not regroup:
            yield repaired, [], False
            return
        if frozenset(r.uid for r in combo) in fitted:
            return
        for grouped, mul, repair in regroupings(repaired, env):
            yield grouped, [repair], mul

    best = None
    misfit = base.failure is not None        # only a formula whose products do not fit as written is regrouped
    for size in range(max_repairs + 1):
        for regroup in (False, True):
            n = size - regroup
            if n < 0 or regroup and not misfit:
                continue
            if n == 3 and len(pool) > 40 or n == 2 and regroup and len(pool) > 60:
                stats.stopped = stats.stopped or "pool"
                continue
            for combo in itertools.combinations(pool, n):
                for repaired, extra, mul in variants(combo):
                    stats.evaluations += 1
                    if stats.evaluations > max_evaluations or time.process_time() - started > budget_s:
                        stats.stopped = "budget"
                        return best[1] if best else None
                    ev = base if not combo and not extra else _evaluate(repaired, env)
                    if ev is None or ev.failure is not None:
                        continue
                    if ev.substituted and any(r.code == "matrix_product" and r.target in
                                              {n.uid for n in ev.substituted} for r in combo):
                        continue                    # a ⊙ made a matrix product only to be read as ⊙ again
                    if not regroup:
                        fitted.add(frozenset(r.uid for r in combo))
                    for rel in relations:
                        if not rel.holds(ev.value, scale):
                            continue
                        explicit = apply(repaired, [_as_elementwise(n) for n in ev.substituted]) \
                            if ev.substituted else repaired
                        if accept is not None and not accept(explicit, rel):
                            continue                # (the ⊙ it was read with made explicit: at B = 3 the
                        found = [r.code for r in list(combo) + extra] + list(rel.codes)   # product may fit)
                        if ev.substituted or mul:
                            found.append("elementwise_product")
                        ordered = [c for c in CODES if c in found]
                        if best is None or len(rel.codes) < best[0]:
                            best = (len(rel.codes), Diagnosis(ordered, list(combo) + extra, explicit, rel.words,
                                                              ev.value, rel.note))
                        break
                    if best is not None and best[0] == 0:
                        return best[1]
            if best is not None:
                return best[1]
    return None

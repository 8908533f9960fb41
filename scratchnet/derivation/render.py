"""Write a `Derivation` out as terminal text (Unicode), markdown (LaTeX math) or a LaTeX document:
`derivation_text`, `derivation_markdown`, `derivation_latex`."""

from .notation import name_text, render as render_tree


def _fragments(convention, bias):
    """The pieces of notation the explanations are written with, in ``convention`` and ``bias``, as a dict
    of plain strings: ``*_u`` in Unicode, ``*_l`` in LaTeX (`facts` puts them into sentences)."""
    row = convention == "row"
    f = {"row": row, "bias_what": "row 0" if row else "column 0"}
    f["ones_u"], f["ones_l"] = ("1ᵀ δ", r"\mathbf{1}^\top \delta") if row else ("δ 1", r"\delta\,\mathbf{1}")
    if bias == "separate":
        f["outer"] = (("H_{l−1}ᵀ δ_l, n_{l−1}×1 times 1×n_l", r"H_{l-1}^\top \delta_l",
                       r"$n_{l-1}\times 1$ times $1\times n_l$") if row else
                      ("δ_l H_{l−1}ᵀ, n_l×1 times 1×n_{l−1}", r"\delta_l H_{l-1}^\top",
                       r"$n_l\times 1$ times $1\times n_{l-1}$"))
        f["batch_u"] = "Hᵀ is n×B and δ is B×n_l" if row else "δ is n_l×B and Hᵀ is B×n"
        f["batch_l"] = (r"$H^\top$ is $n\times B$ and $\delta$ is $B\times n_l$" if row else
                        r"$\delta$ is $n_l\times B$ and $H^\top$ is $B\times n$")
        f["h_u"], f["h_l"] = "H", "H"
    elif row:
        f["outer"] = ("[1 H_{l−1}]ᵀ δ_l, (n_{l−1}+1)×1 times 1×n_l", r"[1\ H_{l-1}]^\top \delta_l",
                      r"$(n_{l-1}+1)\times 1$ times $1\times n_l$")
        f["batch_u"] = "[1 H]ᵀ is (n+1)×B and δ is B×n_l"
        f["batch_l"] = r"$[1\ H]^\top$ is $(n+1)\times B$ and $\delta$ is $B\times n_l$"
        f["h_u"], f["h_l"] = "[1 H]", r"[1\ H]"
    else:
        f["outer"] = ("δ_l [1; H_{l−1}]ᵀ, n_l×1 times 1×(n_{l−1}+1)", r"\delta_l [1;\ H_{l-1}]^\top",
                      r"$n_l\times 1$ times $1\times(n_{l-1}+1)$")
        f["batch_u"] = "δ is n_l×B and [1; H]ᵀ is B×(n+1)"
        f["batch_l"] = r"$\delta$ is $n_l\times B$ and $[1;\ H]^\top$ is $B\times(n+1)$"
        f["h_u"], f["h_l"] = "[1; H]", r"[1;\ H]"
    if row:
        f["back_u"], f["back_l"] = ("δ_l W̄_lᵀ with W̄_l = W_l[1:]",
                                    r"$\delta_l \bar W_l^\top$ with $\bar W_l = W_l[1{:}]$")
        f["had_u"], f["had_l"] = ("g · diag(σ′(z)) = g ⊙ σ′(z)",
                                  r"$g\,\operatorname{diag}(\sigma'(z)) = g \odot \sigma'(z)$")
        # ∂z_k/∂W_ij and its contraction with δ in the convention's indices (W_l is n_in×n_out)
        f["entry_u"], f["result_u"] = f"{f['h_u']}_i·[j = k]", f"{f['h_u']}_i δ_j"
        f["entry_l"], f["result_l"] = rf"{f['h_l']}_i\,[j = k]", rf"{f['h_l']}_i\,\delta_j"
        f["split_u"] = "Hᵀ δ_l and sum(δ_l) = 1ᵀ δ_l"
        f["split_l"] = r"$H^\top \delta_l$ and $\mathbf{1}^\top \delta_l$"
    else:
        f["back_u"], f["back_l"] = ("W̄_lᵀ δ_l with W̄_l = W_l[:, 1:]",
                                    r"$\bar W_l^\top \delta_l$ with $\bar W_l = W_l[:, 1{:}]$")
        f["had_u"], f["had_l"] = ("diag(σ′(z)) g = σ′(z) ⊙ g",
                                  r"$\operatorname{diag}(\sigma'(z))\,g = \sigma'(z) \odot g$")
        # the same with W_l n_out×n_in
        f["entry_u"], f["result_u"] = f"[i = k]·{f['h_u']}_j", f"δ_i {f['h_u']}_j"
        f["entry_l"], f["result_l"] = rf"[i = k]\,{f['h_l']}_j", rf"\delta_i\,{f['h_l']}_j"
        f["split_u"] = "δ_l Hᵀ and sum(δ_l) = δ_l 1"
        f["split_l"] = r"$\delta_l H^\top$ and $\delta_l \mathbf{1}$"
    return f


def facts(convention, bias="row"):
    """The explanations, keyed by fact (``softmax``, ``batch``, ``outer``, ``textbook``, ``bias``,
    ``hadamard``, ``bias_sum``), as ``(unicode text, LaTeX text)``."""
    f = _fragments(convention, bias)
    row, outer_u, h_u, h_l = f["row"], f["outer"], f["h_u"], f["h_l"]
    ones_u, ones_l, bias_what = f["ones_u"], f["ones_l"], f["bias_what"]
    back_u, back_l, had_u, had_l = f["back_u"], f["back_l"], f["had_u"], f["had_l"]
    batch_u, batch_l, split_u, split_l = f["batch_u"], f["batch_l"], f["split_u"], f["split_l"]
    entry_u, result_u, entry_l, result_l = f["entry_u"], f["result_u"], f["entry_l"], f["result_l"]
    return {
        "textbook": (
            f"In the textbook notation {'z = H W + b' if row else 'z = W h + b'} (a separate bias) the same "
            f"gradient comes in two parts, {split_u}: the "
            f"{'rows 1: and row 0' if row else 'columns 1: and column 0'} of {outer_u[0].split(',')[0]}, "
            f"since the ones of {h_u} add up δ over the batch.",
            rf"In the textbook notation ${'z = H W + b' if row else 'z = W h + b'}$ the same gradient comes in "
            rf"two parts, {split_l}: the {'rows $1{:}$ and row 0' if row else 'columns $1{:}$ and column 0'} of "
            rf"${outer_u[1]}$, since the ones of ${h_l}$ add up $\delta$ over the batch."),
        "bias_sum": (
            f"Why a sum: b_l is added to every example of the batch (z = H W + b broadcasts it), so each "
            f"example's δ_l reaches it: ∂L/∂b_l = sum(δ_l) over the batch = {ones_u}, one entry per unit. "
            f"For one example it is δ_l itself.",
            rf"Why a sum: $b_l$ is added to every example of the batch, so each example's $\delta_l$ "
            rf"reaches it: $\partial L/\partial b_l = \sum_i \delta_{{l,i}} = {ones_l}$, one entry per unit. "
            rf"For one example it is $\delta_l$ itself."),
        "softmax": (
            "Softmax and cross-entropy fuse: for one example ∂L/∂z_L = ŷ − y, so the softmax Jacobian is "
            "never formed.",
            r"Softmax and cross-entropy fuse: for one example $\partial L/\partial z_L = \hat y - y$, so "
            r"the softmax Jacobian is never formed."),
        "batch": (
            "For a batch the loss is the mean over B examples, L = −(1/B) Σ_i Σ_k y_ik log ŷ_ik, so every "
            "example's δ carries 1/B; one example is B = 1.",
            r"For a batch the loss is the mean over $B$ examples, "
            r"$L = -\frac{1}{B}\sum_i\sum_k y_{ik}\log \hat y_{ik}$, so every example's $\delta$ carries "
            r"$1/B$; one example is $B = 1$."),
        "outer": (
            f"Why an outer product: z_l depends on a whole matrix W_l, so ∂z_l/∂W_l is a third-order "
            f"tensor, ∂z_k/∂W_ij = {entry_u}. Contracting it with δ_l leaves ∂L/∂W_ij = {result_u}, "
            f"the outer product {outer_u[0]}: exactly W_l's shape. For a batch, {batch_u}, and the "
            f"matrix product adds up the B examples' outer products.",
            rf"Why an outer product: $z_l$ depends on a whole matrix $W_l$, so "
            rf"$\partial z_l/\partial W_l$ is a third-order tensor, $\partial z_k/\partial W_{{ij}} = "
            rf"{entry_l}$. Contracting it with $\delta_l$ leaves $\partial L/\partial W_{{ij}} = "
            rf"{result_l}$, the outer product ${outer_u[1]}$, {outer_u[2]}: exactly $W_l$'s shape. "
            rf"For a batch, {batch_l}, and the matrix product adds up the $B$ examples' outer products."),
        "bias": (
            f"Why W̄: {bias_what} of W_l is the bias; it multiplies the constant 1 of [1 H], not any "
            f"entry of H, so the bias has no input behind it and is dropped on the way back: "
            f"∂L/∂H_{{l−1}} = {back_u}. Keeping it would give one entry too many.",
            rf"Why $\bar W$: {bias_what} of $W_l$ is the bias; it multiplies the constant 1 of $[1\ H]$, "
            rf"not any entry of $H$, so the bias has no input behind it and is dropped on the way back: "
            rf"$\partial L/\partial H_{{l-1}} = $ {back_l}. Keeping it would give one entry too many."),
        "hadamard": (
            f"Why ⊙: H = σ(z) acts elementwise, so its Jacobian ∂H/∂z = diag(σ′(z)) is diagonal, and "
            f"multiplying by a diagonal matrix scales each entry: {had_u}. So σ′(z) = H ⊙ (1 − H) enters "
            f"as a Hadamard product, never as a matrix product with the vector σ′(z).",
            rf"Why $\odot$: $H = \sigma(z)$ acts elementwise, so its Jacobian "
            rf"$\partial H/\partial z = \operatorname{{diag}}(\sigma'(z))$ is diagonal, and multiplying by "
            rf"a diagonal matrix scales each entry: {had_l}. So $\sigma'(z) = H \odot (1 - H)$ enters as a "
            rf"Hadamard product, never as a matrix product with the vector $\sigma'(z)$."),
    }


def _lhs(step, style):
    def n(name):
        return name_text(name, style)
    kind = step.name
    if kind.startswith("delta"):
        l = kind[5:]
        if style == "latex":
            return rf"\delta_{{{l}}} = \frac{{\partial L}}{{\partial z_{{{l}}}}}"
        return f"{n(kind)} = ∂L/∂{n('z' + l)}"
    if kind[:2] in ("dW", "dH", "db"):
        target = kind[1:]
        if style == "latex":
            return rf"\frac{{\partial L}}{{\partial {n(target)}}}"
        return f"∂L/∂{n(target)}"
    return n(kind)


def step_latex(step):
    """One step's whole equation in LaTeX, ``lhs = rhs``, e.g.
    ``\\frac{\\partial L}{\\partial W_{2}} = [1\\ H_{1}]^\\top\\, \\delta_{2}``."""
    return f"{_lhs(step, 'latex')} = {render_tree(step.tree, 'latex')}"


def _shape(shape, symbolic, style):
    parts = ["B" if d == symbolic else str(d) for d in shape] if shape else ["1", "1"]
    return (r" \times " if style == "latex" else "×").join(parts)


_OPS = {"unicode": {"matmul": "·", "mul": "⊙", "/": "/", "+": "+", "-": "−"},
        "latex": {"matmul": r"\cdot", "mul": r"\odot", "/": "/", "+": "+", "-": "-"}}


def _ledger_text(ledger, symbolic, style):
    parts = []
    for left, op, right, sl, sr, s in ledger:
        def item(node, shape):
            text = render_tree(node, style)
            sh = _shape(shape, symbolic, style) if shape else ("1" if style != "latex" else "1")
            if not shape:
                return text
            return rf"\underbrace{{{text}}}_{{{sh}}}" if style == "latex" else f"{text} [{sh}]"
        arrow = r"\to" if style == "latex" else "→"
        head = item(left, sl) + " " if left is not None else ""
        parts.append(f"{head}{_OPS[style][op]} {item(right, sr)} {arrow} {_shape(s, symbolic, style)}")
    return ("; " if style != "latex" else r";\quad ").join(parts)


def _check_text(step, derivation, style):
    out = []
    for B, c in ((1, step.check_one), (derivation.batch, step.check_batch)):
        if c is None:
            continue
        sample = f"all {c['total']}" if c["checked"] == c["total"] else f"{c['checked']} of {c['total']}"
        rel = f"{c['max_rel_error']:.1e}"
        if style == "latex":
            mantissa, exponent = rel.split("e")
            rel = rf"${mantissa} \times 10^{{{int(exponent)}}}$"
        out.append(f"B = {B}: {sample} entries, max relative error {rel}")
    mark = ("✓" if step.verified else "✗") if style != "latex" else (r"$\checkmark$" if step.verified else "FAILED")
    verdict = "finite differences agree" if step.verified else "finite differences DISAGREE"
    return f"{mark} {verdict} — " + "; ".join(out)


def derivation_text(derivation):
    """Terminal text with Unicode symbols."""
    d, notes = derivation, facts(derivation.convention, derivation.bias)
    conv = ("row convention (the seed's): vectors are rows, z = [1 H] W, W_l is (n_{l−1}+1)×n_l, row 0 "
            "the bias" if d.convention == "row" else
            "column convention: vectors are columns, z = W [1; H], W_l is n_l×(n_{l−1}+1), column 0 the bias")
    if d.bias == "separate":
        conv = ("row convention with a separate bias: vectors are rows, z = H W + b, W_l is n_{l−1}×n_l, b_l "
                "is 1×n_l" if d.convention == "row" else
                "column convention with a separate bias: vectors are columns, z = W h + b, W_l is n_l×n_{l−1}, "
                "b_l is n_l×1")
    lines = [f"Backpropagation for {d.architecture()}", conv,
             f"Shapes for one example and for a batch of B; every backward equation is evaluated at a "
             f"random point (seed {d.seed}) for B = 1"
             + (f" and B = {d.batch}" if d.batch != 1 else "") + " and compared with finite differences.", ""]
    for kind, title in (("forward", "Forward pass"), ("backward", "Backward pass")):
        lines.append(title)
        for s in d.steps:
            if s.kind != kind:
                continue
            lines.append(f"  {_lhs(s, 'unicode')} = {render_tree(s.tree, 'unicode')}"
                         f"    ∈ {_shape(s.shape_one, None, 'unicode')} | {_shape(s.shape_batch, d.symbolic_batch, 'unicode')}")
            if s.ledger_one:
                lines.append(f"      one example : {_ledger_text(s.ledger_one, None, 'unicode')}")
                lines.append(f"      batch of B  : {_ledger_text(s.ledger_batch, d.symbolic_batch, 'unicode')}")
            if s.check_one is not None:
                lines.append(f"      verified    : {_check_text(s, d, 'unicode')}")
            for f in s.facts:
                lines.append(f"      ▸ {notes[f][0]}")
        if kind == "forward":
            lines.append("  L = −(1/B) Σ_i Σ_k y_ik log ŷ_ik    (mean cross-entropy; one example: B = 1)")
        lines.append("")
    lines.append("All backward equations verified." if d.verified else "SOME BACKWARD EQUATION FAILED ITS CHECK.")
    return "\n".join(lines)


def _latex_steps(d, notes, display):
    out = []
    for kind, title in (("forward", "Forward pass"), ("backward", "Backward pass")):
        out.append(("## " if display == "markdown" else r"\section*{") + title + ("" if display == "markdown" else "}"))
        out.append("")
        for s in d.steps:
            if s.kind != kind:
                continue
            one = _shape(s.shape_one, None, "latex")
            many = _shape(s.shape_batch, d.symbolic_batch, "latex")
            eq = rf"{_lhs(s, 'latex')} = {render_tree(s.tree, 'latex')} \in \mathbb{{R}}^{{{one}}}"
            out.append(f"$$\n{eq}\n$$" if display == "markdown" else rf"\[ {eq} \]")
            items = []
            if s.ledger_one:
                items.append(rf"one example: ${_ledger_text(s.ledger_one, None, 'latex')}$")
                items.append(rf"batch of $B$: ${_ledger_text(s.ledger_batch, d.symbolic_batch, 'latex')}$")
            else:
                items.append(rf"shape: ${one}$ for one example, ${many}$ for a batch")
            if s.check_one is not None:
                items.append(_check_text(s, d, "latex"))
            if display == "markdown":
                out += [f"- {i}" for i in items] + [f"> {notes[f][1]}\n" for f in s.facts] + [""]
            else:
                out += [r"\begin{itemize}"] + [rf"\item {i}" for i in items] + [r"\end{itemize}"]
                out += [rf"\noindent {notes[f][1]}" + "\n" for f in s.facts]
        if kind == "forward":
            eq = r"L = -\frac{1}{B}\sum_{i=1}^{B}\sum_k y_{ik}\log \hat y_{ik}"
            out.append(f"$$\n{eq}\n$$\n" if display == "markdown" else rf"\[ {eq} \]")
    return out


def _header(d, style):
    conv = (r"row convention: vectors are rows, $z = [1\ H]\,W$, $W_l \in \mathbb{R}^{(n_{l-1}+1)\times n_l}$ "
            r"with row 0 the bias" if d.convention == "row" else
            r"column convention: vectors are columns, $z = W\,[1;\ H]$, "
            r"$W_l \in \mathbb{R}^{n_l\times(n_{l-1}+1)}$ with column 0 the bias")
    if d.bias == "separate":
        conv = (r"row convention with a separate bias: $z = H W + b$, $W_l \in \mathbb{R}^{n_{l-1}\times n_l}$, "
                r"$b_l \in \mathbb{R}^{1\times n_l}$" if d.convention == "row" else
                r"column convention with a separate bias: $z = W h + b$, "
                r"$W_l \in \mathbb{R}^{n_l\times n_{l-1}}$, $b_l \in \mathbb{R}^{n_l\times 1}$")
    arch = d.architecture().replace("σ", r"$\sigma$").replace("→", r"$\to$")
    checked = "$B = 1$" + (f" and $B = {d.batch}$" if d.batch != 1 else "")
    return (f"Backpropagation for {arch}, {conv}. Every backward equation is evaluated at a random point "
            f"(seed {d.seed}) for {checked} and compared with central finite differences.")


def derivation_markdown(derivation):
    """Markdown with LaTeX math (``$…$`` and ``$$…$$``)."""
    d = derivation
    lines = ["# Backpropagation, derived and verified", "", _header(d, "markdown"), ""]
    lines += _latex_steps(d, facts(d.convention, d.bias), "markdown")
    lines.append("All backward equations verified." if d.verified else "**Some backward equation failed its check.**")
    return "\n".join(lines) + "\n"


def derivation_latex(derivation):
    """A complete LaTeX document (``amsmath``, ``amssymb``)."""
    d = derivation
    lines = [r"\documentclass{article}", r"\usepackage{amsmath,amssymb}", r"\usepackage[margin=2cm]{geometry}",
             r"\begin{document}", r"\section*{Backpropagation, derived and verified}", _header(d, "latex"), ""]
    lines += _latex_steps(d, facts(d.convention, d.bias), "latex")
    lines += ["All backward equations verified." if d.verified else r"\textbf{Some backward equation failed.}",
              r"\end{document}"]
    return "\n".join(lines) + "\n"


RENDERERS = {"text": derivation_text, "markdown": derivation_markdown, "latex": derivation_latex}

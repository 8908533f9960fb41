"""The hint for each diagnosis code: a few sentences in the derivation's words, as data keyed by code.

`hints` fills in a code's parameters (the convention, the bias notation, ``B``, the output layer ``L`` and
what was checked, ``∂L/∂W2`` or ``∂z3/∂H2``). The checker's result keeps the codes; text, JSON, HTML and
the lab all take the hint from here.
"""

def hints(code, what, convention, B, L, bias="row"):
    """The hint for diagnosis ``code``, in the words of the derivation; ``what`` is ``∂L/∂W2`` or a
    factor such as ``∂z3/∂H2``. Every code of `HINT_CODES` has one."""
    return _templates(what, convention, B, L, bias)[code]


def _templates(what, convention, B, L, bias):
    """Every hint, keyed by diagnosis code, with its parameters filled in."""
    row = convention == "row"
    wbar = "W_l[1:]" if row else "W_l[:, 1:]"
    ones = "[1 H_{l-1}]" if row else "[1; H_{l-1}]"
    outer = "[1 H_{l-1}]^T δ_l" if row else "δ_l [1; H_{l-1}]^T"
    back = "(δ_{l+1} W_{l+1}[1:]^T) * f'(z_l)" if row else "(W_{l+1}[:, 1:]^T δ_{l+1}) * f'(z_l)"
    if bias == "separate":
        outer = "H_{l-1}^T δ_l" if row else "δ_l H_{l-1}^T"
        back = "(δ_{l+1} W_{l+1}^T) * f'(z_l)" if row else "(W_{l+1}^T δ_{l+1}) * f'(z_l)"
    summed = "sum(δ_l), or ones^T δ_l" if row else "sum(δ_l), or δ_l ones"
    h1 = "H" if bias == "separate" else ("[1 H]" if row else "[1; H]")
    return {
        "elementwise_product":
            "σ'(z) enters by an elementwise (Hadamard) product: an elementwise activation has a diagonal "
            "Jacobian, and multiplying by diag(σ'(z)) is the same as ⊙ σ'(z). Write * (or diag(·) for "
            "an explicit matrix).",
        "matrix_product":
            "A gradient of a weight matrix is an outer product, and a gradient goes back through W_l by a "
            "matrix product: write them as products of matrices (juxtaposition or @; np.dot in code), not * "
            "(⊙), which multiplies entry by entry. With one example a column * a row even broadcasts into "
            "their outer product, so only a batch shows the difference.",
        "diagonal_jacobian":
            "H = σ(z) acts elementwise (H_i depends on z_i alone), so ∂H/∂z is the n×n diagonal matrix "
            "diag(σ'(z)), not a vector. Your vector is its diagonal: as a vector it enters the chain by ⊙ "
            "(g · diag(σ'(z)) = g ⊙ σ'(z)); as the factor itself write diag(…).",
        "softmax_jacobian":
            "softmax is not elementwise: every ŷ_i depends on every z_j, so ∂ŷ/∂z is the full K×K matrix "
            + ("diag(ŷ) − ŷᵀŷ" if row else "diag(ŷ) − ŷŷᵀ") + "; ŷ ⊙ (1 − ŷ) is only its diagonal. With the "
            "cross-entropy loss the product ∂L/∂ŷ · ∂ŷ/∂z collapses to ŷ − y, so it is never needed alone.",
        "third_order":
            f"{what} is a third-order tensor, not a matrix: z_l depends on a whole matrix W_l, and "
            + (f"∂z_k/∂W_ij = {h1}_i [j = k] (n_l × (n_(l-1)+1) × n_l entries). Contracting it with "
               f"δ_l = ∂L/∂z_l gives Σ_k δ_k {h1}_i [j = k] = {h1}_i δ_j" if row else
               f"∂z_k/∂W_ij = [i = k] {h1}_j (n_l × n_l × (n_(l-1)+1) entries). Contracting it with "
               f"δ_l = ∂L/∂z_l gives Σ_k δ_k [i = k] {h1}_j = δ_i {h1}_j")
            + f", the outer product {outer}: write ∂L/∂W_l = {outer} instead of a factor ∂z_l/∂W_l "
              f"(check it as the gradient of W_l).",
        "bias_row":
            f"The bias row of W_l multiplies the constant 1, not H_{{l-1}}, so no gradient flows back "
            f"through it: carry the gradient back with {wbar} (the Jacobian ∂z_l/∂H_{{l-1}} is "
            f"{'W_l[1:]ᵀ' if row else 'W_l[:, 1:]'}; the whole W_l has one {'row' if row else 'column'} too "
            f"many). The gradient of W_l itself needs {ones}: its ones give the bias row's gradient.",
        "missing_transpose":
            "Going back through W_l needs W_lᵀ (row: δ_l W_lᵀ; column: W_lᵀ δ_l): ∂z_l/∂H_(l-1) has its rows "
            "indexed by z_l, so a gradient meets it transposed. A square W_l fits either way; only the "
            f"values tell. The gradient of W_l is an outer product, {outer}: one of its two vectors enters "
            "transposed, so that the result has W_l's shape.",
        "factor_order":
            "The two factors of a matrix product are in the wrong order (the chain rule's factors written as "
            "the Jacobians came). In the " + ("row convention, where a gradient is a row, the gradient of a "
            "weight matrix is the outer product H_(l-1)ᵀ δ_l (the input on the left) and going back through "
            "W_l is δ_l W_lᵀ" if row else "column convention, where a gradient is a column, the gradient of "
            "a weight matrix is the outer product δ_l H_(l-1)ᵀ (δ on the left) and going back through W_l is "
            "W_lᵀ δ_l") + ": each has the shape of what it is the gradient of.",
        "wrong_layer":
            "A quantity of another layer: z_l = f(H_(l-1) W_l) involves only layer l's weights W_l, its "
            "input H_(l-1) and, through f', its own z_l; count the layers again. A hidden layer's δ_l is "
            f"the next layer's δ carried back through its weights, {back}, not the next layer's error "
            "itself.",
        "transposed":
            f"The result is the transpose of {what}"
            + (": ∂L/∂W_l = " + outer + " has the shape of W_l." if what.startswith("∂L/∂W") else
               ": a Jacobian's rows follow the numerator, J[i, j] = ∂A_i/∂B_j." if not what.startswith("∂L")
               else "."),
        "sign":
            f"The result is minus {what}: ∂L/∂z{L} = ŷ − y (not y − ŷ), and the update subtracts it.",
        "batch_factor":
            f"The result is off by a factor of B = {B}: the loss is the mean over the batch, so "
            f"δ_{L} = (ŷ − y)/B, and a matrix product over the batch adds up the B examples.",
        "batch_sum":
            f"b_l is added to every example of the batch, so its gradient adds up the examples' δ_l: "
            f"∂L/∂b_l = {summed}, one entry per unit, not one row per example.",
        "regrouping":
            "The same factors, grouped another way: with a batch (or an outer product) the order of the "
            "products matters. Carry δ back first, row by row (" + ("δ_l = (δ_{l+1} W̄_{l+1}ᵀ) ⊙ f'(z_l)" if row
            else "δ_l = (W̄_{l+1}ᵀ δ_{l+1}) ⊙ f'(z_l)") + "), and take the outer product with the layer's "
            "input last (" + outer + "); a product chain written left to right as the Jacobians came "
            "multiplies the outer product in too early.",
        "broadcast":
            "An elementwise product (or sum) of two different shapes only works by NumPy broadcasting, "
            "stretching a row over the rows of a matrix: it happens to give the right numbers for one "
            "example, but not for a batch, and it is not a Hadamard product. Every ⊙ in a gradient joins "
            "two arrays of the same shape.",
        "one_example":
            "The formula is right for one example but not for a batch: diag(σ′(z)) and an outer product of "
            "two vectors are per-example forms. For a batch of B rows, σ′(z) enters by ⊙ (row by row), and "
            "the outer product becomes a matrix product that adds up the examples ("
            + outer + ", then / B).",
        "activation_derivative":
            f"A σ' factor is missing, extra, or at the wrong layer: δ_l = {back}, with f the activation "
            f"of layer l and z_l that layer's own pre-activation (f'(z) is a function of z, not z times "
            f"something).",
    }


HINT_CODES = tuple(_templates("∂L/∂W2", "row", 2, 3, "row"))
"""Every code that has a hint (every diagnosis code)."""

NOTES = {"softmax_at_z": ("softmax_jacobian", " And it is taken at the output ŷ = softmax(z), not at z itself.")}
"""What a relation's `repairs.Relation.note` adds, and to which code's hint."""

READINGS = {"x_as_times": ("x is read as the input x (H0), not as a times sign: write a matrix product as A B or "
                           "A @ B, and ⊙ as *.")}
"""A hint about how the formula was read, keyed by what `check` noticed (``x_as_times``: an ``x`` standing
alone between two factors)."""

"""What the learner's ``backprop`` is meant to compute: the network, the bias notation, the convention and
the loss. One `Spec` is made (and checked) once; every other module of `codecheck` reads it.

Shapes of the learner's own arrays (``n = sizes``, layer ``l`` from ``n_{l-1}`` to ``n_l``)::

    bias      convention  weights[l-1]                       X         Y
    row       row         W_l (n_{l-1}+1, n_l), row 0 bias   (B, n_0)  (B, n_L)
    row       column      W_l (n_l, n_{l-1}+1), column 0     (n_0, B)  (n_L, B)
    separate  row         (W_l (n_{l-1}, n_l), b_l (n_l,))
    separate  column      (W_l (n_l, n_{l-1}), b_l (n_l, 1))
    none      row/column  W_l (n_{l-1}, n_l) / (n_l, n_{l-1})
"""

from dataclasses import dataclass

from ..activations import ACTIVATIONS, HIDDEN
from ..errors import ScratchnetError
from ..network import SEED_SIZES, architecture_text

BIASES = ("row", "separate", "none")
CONVENTIONS = ("row", "column")
LOSSES = ("ce", "mse")
MSE_OUTPUTS = ("sigmoid", "linear")

LOSS_TEXT = {
    "ce": "the mean cross-entropy of a softmax output, L = −(1/B) Σ_b Σ_k y_bk log ŷ_bk",
    "mse": "the mean squared error, L = (1/2B) Σ_b ‖ŷ_b − y_b‖² (Nielsen's quadratic cost)",
}


@dataclass(frozen=True)
class Spec:
    """The network ``sizes`` (``[n_0, …, n_L]``) with hidden ``activations`` (one per hidden layer, from
    `activations.HIDDEN`), the loss (``"ce"`` with a softmax output, or ``"mse"`` with a ``"sigmoid"`` or
    ``"linear"`` output), and how the learner writes it: ``bias`` and ``convention``."""

    sizes: tuple
    hidden: tuple
    bias: str = "row"
    convention: str = "row"
    loss: str = "ce"
    output: str = "softmax"

    @property
    def L(self):
        return len(self.sizes) - 1

    @property
    def row(self):
        return self.convention == "row"

    def activation(self, l):
        """The activation of layer ``l`` (1 … L)."""
        return self.hidden[l - 1] if l < self.L else self.output

    def text(self):
        """``784 → 100 σ → 10 σ → 10 softmax`` (with the output the loss uses)."""
        out = {"softmax": "softmax", "sigmoid": "sigmoid", "linear": "linear"}[self.output]
        arch = architecture_text(self.sizes[:-1], self.hidden) if self.L > 1 else str(self.sizes[0])
        return f"{arch} → {self.sizes[-1]} {out}"

    def notation(self):
        """``z = [1 H] W`` and its siblings: how the learner's layer is written."""
        return {("row", "row"): "z = [1 H] W", ("row", "column"): "z = W [1; h]",
                ("separate", "row"): "z = H W + b", ("separate", "column"): "z = W h + b",
                ("none", "row"): "z = H W", ("none", "column"): "z = W h"}[(self.bias, self.convention)]

    def weight_shape(self, l):
        """The shape of the learner's ``W_l`` (without ``b_l``)."""
        n_in, n_out = self.sizes[l - 1] + (self.bias == "row"), self.sizes[l]
        return (n_in, n_out) if self.row else (n_out, n_in)

    def bias_shape(self, l):
        """The shape of the learner's ``b_l`` (separate bias), as given to their code."""
        return (self.sizes[l],) if self.row else (self.sizes[l], 1)


def make_spec(sizes=SEED_SIZES, activations=None, bias="row", convention="row", loss="ce", output=None):
    """A checked `Spec`.

    Parameters
    ----------
    sizes : sequence of int, ``[n_0, …, n_L]``
    activations : sequence of str, one per layer (the last is the output's: ``softmax`` for ``ce``,
        ``sigmoid`` or ``linear`` for ``mse``), or only the hidden ones; default sigmoid hidden layers
    bias : ``"row"``, ``"separate"`` or ``"none"``
    convention : ``"row"`` or ``"column"``
    loss : ``"ce"`` or ``"mse"``
    output : ``"sigmoid"`` or ``"linear"`` for ``mse`` (default sigmoid); must be softmax (or None) for ce
    """
    sizes = tuple(int(n) for n in sizes)
    if len(sizes) < 2 or min(sizes) < 1:
        raise ScratchnetError(f"layer sizes must be at least two positive integers, got {list(sizes)}",
                              field="layers")
    if bias not in BIASES:
        raise ScratchnetError(f"bias must be one of {', '.join(BIASES)}, got {bias!r}", field="bias")
    if convention not in CONVENTIONS:
        raise ScratchnetError(f"convention must be row or column, got {convention!r}", field="convention")
    if loss not in LOSSES:
        raise ScratchnetError(f"loss must be ce or mse, got {loss!r}", field="loss")
    L = len(sizes) - 1
    if activations is None:
        activations = ["sigmoid"] * (L - 1)
    activations = [str(a).lower() for a in activations]
    if len(activations) == L:
        last = activations.pop()
        if output is None and last != "softmax":
            output = last
        elif last not in ("softmax", output):
            raise ScratchnetError(f"the output activation is given twice: {last} and {output}", field="output")
    if len(activations) != L - 1:
        raise ScratchnetError(f"{L} layers need {L - 1} hidden activations (or {L} with the output's), got "
                              f"{len(activations)}", field="activations")
    for a in activations:
        if a not in HIDDEN:
            raise ScratchnetError(f"unknown hidden activation {a!r}; choose from {', '.join(HIDDEN)}",
                                  field="activations")
    if loss == "ce":
        if output not in (None, "softmax"):
            raise ScratchnetError(f"the cross-entropy loss goes with a softmax output, not {output}; for a "
                                  f"{output} output use the mse loss", field="output")
        output = "softmax"
    else:
        output = "sigmoid" if output is None else output
        if output not in MSE_OUTPUTS:
            raise ScratchnetError(f"the mse output must be sigmoid or linear, got {output!r}", field="output")
    return Spec(sizes, tuple(activations), bias, convention, loss, output)


def symbol(activation):
    """``σ`` for sigmoid, the activation's own symbol otherwise (``linear`` for the identity)."""
    return ACTIVATIONS[activation].symbol if activation in ACTIVATIONS else activation

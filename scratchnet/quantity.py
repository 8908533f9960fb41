"""The names of the derivation as a type: ``W2``, ``b2``, ``z_3``, ``H1``, ``x``, ``yhat``, ``δ2`` and the
derivatives ``dL/dW2``, ``∂L/∂z3``, ``\\frac{\\partial L}{\\partial W_2}``.

API::

    q = parse("z_3")                  # Quantity(kind="z", layer=3); parse("dL/dW2") → Derivative
    q.name, q.kind, q.layer           # "z3", "z", 3      (x is H0: name "H0", kind "H", layer 0)
    q.text("formula"|"unicode"|"latex")   # "z3", "z₃", "z_{3}"; x → "x", "x", "x"
    q.validate(L, bias="row", field=None) # ScratchnetError(.field) if the network has no such quantity
    q.to_json()                       # {"name", "kind", "layer", "formula", "unicode", "latex"}
    d = parse("∂L/∂W_2")              # Derivative(of=Quantity("L"), by=Quantity("W", 2))
    d.symbol()                        # "∂L/∂W2" (as messages say it); d.text(style) as for a quantity
    lookup("W3")                      # Quantity or None, never raises (for names already bound)
    suggest("w2")                     # "W2": a near miss, or None
    wrt("W_2", L, bias)               # the Quantity a gradient is taken with respect to, validated
    names_for(L, bias)                # every name a formula may use for this network, as Quantities
    gradient_targets(L, bias)         # W1…WL, b1…bL (separate bias), z1…zL, H0…H_{L-1}
    Quantity.weight(2), .bias(2), .pre(3), .activation(1), .delta(2), .named("yhat") — constructors

Every parse error is a `ScratchnetError` with ``field`` (the caller's setting, default ``"name"``) and, for a
near miss, a suggestion: ``w2`` → did you mean W2? ``yaht`` → yhat.

Spellings read (all give the same quantity): ``W2``, ``W_2``, ``W_{2}``, ``W₂``, ``W^{(2)}``, ``W^{[2]}``,
``W^2`` is *not* a layer (it is a power); ``x`` = ``H0`` = ``H_0`` = ``a^{[0]}``; ``a_l`` (Nielsen, Ng) is
``H_l``; ``yhat``, ``ŷ``, ``y_hat``, ``\\hat{y}``; ``delta2``, ``δ2``, ``δ_2``, ``\\delta_2``, ``\\delta^{(2)}``;
``Wbar2``, ``W̄2``, ``\\bar{W}_2`` (W_2 without its bias row); ``\\mathbf{W}_2``, ``\\boldsymbol{…}``,
``\\mathrm{…}``, ``\\rm …`` are read through. A loss written ``J``, ``C`` or ``E`` is ``L``.

Kinds and their layers (``L`` weight layers): ``W`` 1…L; ``b`` 1…L (only in the separate-bias notation);
``z`` 1…L; ``H`` 0…L-1 (``H_L`` is ``yhat``); ``delta`` 1…L; ``Wbar`` 1…L; ``yhat``, ``y``, ``L`` no layer.
"""

import difflib
import functools
import re
from dataclasses import dataclass

from .errors import ScratchnetError

LAYERED = ("W", "b", "z", "H", "delta", "Wbar")
"""Kinds that carry a layer number."""
PLAIN = ("yhat", "y", "L")
"""Kinds without one: the output, the labels, the loss."""
LOSS_NAMES = ("L", "J", "C", "E")
"""How learners name the loss (cs229's J, Nielsen's C, E for error); all are ``L``."""

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_UNSUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_HEADS = {"W": "W", "w": None, "b": "b", "z": "z", "H": "H", "h": None, "a": "H", "delta": "delta",
          "δ": "delta", "Wbar": "Wbar", "W\u0304": "Wbar"}
_UNICODE_HEAD = {"W": "W", "b": "b", "z": "z", "H": "H", "delta": "δ", "Wbar": "W\u0304"}
_LATEX_HEAD = {"W": "W", "b": "b", "z": "z", "H": "H", "delta": r"\delta", "Wbar": r"\bar{W}"}
_STYLE = re.compile(r"\\(?:mathbf|boldsymbol|bm|mathrm|mathit|mathsf|text|textrm|textit|vec|operatorname)"
                    r"\s*\{([^{}]*)\}")
_RM = re.compile(r"\\(?:rm|bf|it)\b\s*")
_LAYER_SUPER = re.compile(r"\^\s*\{?\s*[(\[]\s*(\d+)\s*[)\]]\s*\}?")
_SUBSCRIPT = re.compile(r"_\s*\{?\s*(\d+)\s*\}?")
_FRACTION = re.compile(r"^\\[dt]?frac\s*\{(.*)\}\s*\{(.*)\}$")
_RATIO = re.compile(r"^[d∂]\s*(.+?)\s*/\s*[d∂]\s*(.+)$")


@dataclass(frozen=True)
class Quantity:
    """One named quantity of the derivation: ``kind`` (see `LAYERED`, `PLAIN`) and ``layer`` (None for
    ``yhat``, ``y``, ``L``)."""

    kind: str
    layer: int = None

    # -- constructors
    @classmethod
    def weight(cls, l):
        return cls("W", int(l))

    @classmethod
    def bias(cls, l):
        return cls("b", int(l))

    @classmethod
    def pre(cls, l):
        """``z_l``, the pre-activation of layer ``l``."""
        return cls("z", int(l))

    @classmethod
    def activation(cls, l):
        """``H_l`` (``H_0`` is the input ``x``)."""
        return cls("H", int(l))

    @classmethod
    def delta(cls, l):
        return cls("delta", int(l))

    @classmethod
    def named(cls, kind):
        """``yhat``, ``y`` or ``L``."""
        return cls(kind)

    # -- spellings
    @property
    def name(self):
        """The canonical name the formula language binds: ``W2``, ``H0`` (for x), ``delta2``, ``yhat``."""
        return self.kind if self.layer is None else f"{self.kind}{self.layer}"

    def text(self, style="formula"):
        """``formula`` (the plain input language), ``unicode`` (terminal) or ``latex``; ``H0`` is ``x``."""
        if self.kind == "H" and self.layer == 0:
            return "x"
        if self.kind == "yhat":
            return {"formula": "yhat", "unicode": "ŷ", "latex": r"\hat{y}"}[style]
        if self.layer is None:
            return self.kind
        if style == "formula":
            return self.name
        if style == "unicode":
            return _UNICODE_HEAD[self.kind] + str(self.layer).translate(_SUB)
        return f"{_LATEX_HEAD[self.kind]}_{{{self.layer}}}"

    def __str__(self):
        return self.name

    def to_json(self):
        return {"name": self.name, "kind": self.kind, "layer": self.layer, "formula": self.text("formula"),
                "unicode": self.text("unicode"), "latex": self.text("latex")}

    # -- where it sits
    @property
    def is_weight(self):
        return self.kind in ("W", "Wbar")

    @property
    def position(self):
        """Where it sits in the forward pass, x = H0 → z1 → H1 → … → z_L → ŷ → L; needs no L for layered
        kinds (``yhat`` and ``L`` are placed by `Derivative.depends`)."""
        return {"H": 2 * (self.layer or 0), "z": 2 * (self.layer or 0) - 1, "W": 2 * (self.layer or 0) - 1.5,
                "b": 2 * (self.layer or 0) - 1.5, "delta": 2 * (self.layer or 0) - 1}.get(self.kind)

    def validate(self, L, bias="row", field=None):
        """This quantity, if a network of ``L`` weight layers in the ``bias`` notation has it; else a
        `ScratchnetError` with ``field`` saying what it has."""
        problem = self.problem(L, bias)
        if problem:
            raise ScratchnetError(f"{self.name}: {problem}", field=field)
        return self

    def problem(self, L, bias="row"):
        """Why a network of ``L`` weight layers in the ``bias`` notation has no such quantity (one clause),
        or None when it has."""
        if self.layer is None:
            return None
        if self.kind == "b" and bias != "separate":
            return (f"the biases b1, b2, … are names of the separate-bias notation (bias separate); here the "
                    f"bias is row 0 of W{self.layer}")
        low, high = (0, L - 1) if self.kind == "H" else (1, L)
        if low <= self.layer <= high:
            return None
        if self.kind == "H" and self.layer == L:
            return f"the output of this network is yhat (ŷ), and its hidden layers are H1…H{L - 1}"
        return f"this network has {_range(self.kind, low, high)}"


def _range(kind, low, high):
    head = kind
    if kind == "H":
        return f"H0 (x) … H{high}" if high > 0 else "H0 (x)"
    return f"{head}{low}…{head}{high}" if high > low else f"{head}{low}"


@dataclass(frozen=True)
class Derivative:
    """``∂of/∂by``: ``of`` is what is differentiated (``L``, ``yhat``, ``z_l``, ``H_l``), ``by`` what by."""

    of: Quantity
    by: Quantity

    @property
    def is_gradient(self):
        """Whether it is the gradient of the scalar loss, ``∂L/∂…``."""
        return self.of.kind == "L"

    @property
    def name(self):
        return f"d{self.of.name}/d{self.by.name}"

    def symbol(self):
        """``∂L/∂W2``, ``∂z3/∂H2``: how the checker's messages name it."""
        return f"∂{self.of.name}/∂{self.by.name}"

    def text(self, style="formula"):
        if style == "latex":
            return rf"\frac{{\partial {self.of.text('latex')}}}{{\partial {self.by.text('latex')}}}"
        d = "d" if style == "formula" else "∂"
        return f"{d}{self.of.text(style)}/{d}{self.by.text(style)}"

    def __str__(self):
        return self.name

    def to_json(self):
        return {"name": self.name, "of": self.of.to_json(), "by": self.by.to_json(),
                "formula": self.text("formula"), "unicode": self.text("unicode"), "latex": self.text("latex")}


# ---------------------------------------------------------------------------------------------- parsing

def _clean(text):
    """Strip math delimiters, styles (``\\mathbf{W}``, ``\\rm``), braces around a whole name and spaces."""
    s = str(text).strip().strip("$").strip()
    for a, b in ((r"\(", ""), (r"\)", ""), (r"\partial", "∂"), (r"\delta", "δ"), (r"\hat{y}", "ŷ"),
                 (r"\hat y", "ŷ"), (r"\widehat{y}", "ŷ"), ("y\u0302", "ŷ"), ("\u0302y", "ŷ")):
        s = s.replace(a, b)
    previous = None
    while previous != s:
        previous = s
        s = _STYLE.sub(r"\1", s)
        s = _RM.sub("", s)
        s = re.sub(r"\\(?:bar|overline)\s*\{\s*W\s*\}", "W\u0304", s)
        s = re.sub(r"\\(?:bar|overline)\s*\{\s*W\s*_\s*\{?\s*(\d+)\s*\}?\s*\}", "W\u0304\\1", s)
    return s.strip()


def _one(raw, field):
    """One quantity from cleaned text, or None."""
    s = raw.replace(" ", "").translate(_UNSUB)
    s = _LAYER_SUPER.sub(r"\1", s)                           # W^{(2)}, a^{[2]}: layer numbers on top
    s = _SUBSCRIPT.sub(r"\1", s)                             # W_2, W_{2}
    s = s.replace("{", "").replace("}", "")                  # {\rm W}_2, {W}_2
    if s in ("ŷ", "yhat", "y_hat", "yhat_", "hat{y}"):
        return Quantity("yhat")
    if s == "y":
        return Quantity("y")
    if s in LOSS_NAMES:
        return Quantity("L")
    if s == "x":
        return Quantity("H", 0)
    s = s.replace("Wbar", "W\u0304").replace("_", "")
    match = re.fullmatch(r"(W\u0304|delta|δ|[WbzHa])(\d+)", s)
    if not match:
        return None
    return Quantity(_HEADS[match.group(1)], int(match.group(2)))


@functools.lru_cache(maxsize=4096)
def lookup(name):
    """The `Quantity` a name spells (``"W3"``, ``"z_2"``, ``"x"``, ``"δ2"``), or None for anything else
    (``"ones"``, ``"B"``, a derivative): for code that holds a name the formula language bound."""
    if not isinstance(name, str) or len(name) > 40:
        return None
    q = _one(_clean(name), None)
    return q


def suggest(raw):
    """A known name close to ``raw`` (``w2`` → ``W2``, ``yaht`` → ``yhat``), or None."""
    return _suggest(str(raw))


def _suggest(raw):
    """A nearby spelling of a known name, or None: ``w2`` → ``W2``, ``yaht`` → ``yhat``, ``Z3`` → ``z3``."""
    s = raw.replace(" ", "")
    for candidate in (s.upper(), s.lower(), s[:1].upper() + s[1:], s[:1].lower() + s[1:]):
        q = _one(candidate, None)
        if q is not None and candidate != s:
            return q.text("formula") if q.kind != "H" or q.layer else "x"
    known = ["yhat", "delta", "x", "y", "L"]
    close = difflib.get_close_matches(s.rstrip("0123456789_").lower(), known, n=1, cutoff=0.6)
    if close:
        digits = s[len(s.rstrip("0123456789")):]
        word = close[0] + (digits if close[0] == "delta" else "")
        if word != s:
            return word
    return None


def parse(text, field="name"):
    """Read a quantity or a derivative in any spelling the module docstring lists.

    Returns
    -------
    Quantity or Derivative

    Raises
    ------
    ScratchnetError
        (with ``field``) for text that names nothing of the derivation, with a suggestion for a near miss.
    """
    if not isinstance(text, str):
        raise ScratchnetError(f"a name must be text, got {type(text).__name__}", field=field)
    cleaned = _clean(text)
    if len(cleaned) > 200:
        raise ScratchnetError(f"{cleaned[:40]!r}… is too long for a name", field=field)
    fraction = _FRACTION.match(cleaned)
    if fraction:
        cleaned = f"{fraction.group(1).strip()}/{fraction.group(2).strip()}"
    ratio = _RATIO.match(cleaned)
    if ratio:
        of, by = (_one(_strip_braces(part), field) for part in ratio.groups())
        if of is None or by is None:
            bad = ratio.group(1) if of is None else ratio.group(2)
            raise _unknown(text, bad, field, derivative=True)
        return Derivative(of, by)
    q = _one(cleaned, field)
    if q is None:
        raise _unknown(text, cleaned, field)
    return q


def _strip_braces(part):
    part = part.strip()
    while part.startswith("{") and part.endswith("}"):
        part = part[1:-1].strip()
    return part


def _unknown(text, part, field, derivative=False):
    hint = _suggest(part)
    said = f"{text!r}" if str(text).strip() == part else f"{part!r} in {text!r}"
    what = ("a derivative is written dA/dB, ∂A/∂B or \\frac{\\partial A}{\\partial B} for A, B among L, yhat, "
            "z_l, H_l, W_l, b_l" if derivative else
            "the names are W_l, b_l, z_l, H_l (x = H0), delta_l (δ_l), yhat (ŷ), y, and dL/dW_l for a derivative")
    return ScratchnetError(f"{said} is not a name of the derivation"
                           + (f"; did you mean {hint}?" if hint else f": {what}"), field=field)


def quantity(text, L=None, bias="row", field="name"):
    """`parse` for one quantity (not a derivative), validated against ``L`` layers when given."""
    q = parse(text, field)
    if isinstance(q, Derivative):
        raise ScratchnetError(f"{text!r} is a derivative; a quantity such as W2 or z3 is expected here",
                              field=field)
    return q.validate(L, bias, field) if L is not None else q


GRADIENT_KINDS = ("W", "b", "z", "H")


def gradient_targets(L, bias="row"):
    """What a gradient of the loss may be taken with respect to: W1…WL, b1…bL (separate bias), z1…zL,
    H0…H_{L-1}."""
    out = [Quantity("W", l) for l in range(1, L + 1)]
    if bias == "separate":
        out += [Quantity("b", l) for l in range(1, L + 1)]
    out += [Quantity("z", l) for l in range(1, L + 1)] + [Quantity("H", l) for l in range(L)]
    return out


def wrt(text, L, bias="row", field="wrt"):
    """The quantity a gradient is taken with respect to (``W2``, ``b2``, ``z_3``, ``H1``, ``x``, or
    ``dL/dW2``); a `ScratchnetError` (``field``) for anything else, saying what this network has."""
    q = text if isinstance(text, Quantity) else parse(str(text).strip(), field)
    if isinstance(q, Derivative):
        if not q.is_gradient:
            raise ScratchnetError(f"{q.symbol()} is not a gradient of the loss; give what the gradient is "
                                  f"taken with respect to, such as W2", field=field)
        q = q.by
    if q.kind == "yhat":
        raise ScratchnetError(f"cannot take the gradient with respect to {text!r}; the gradient with respect "
                              f"to the softmax input is the one with respect to z{L}", field=field)
    if q.kind not in GRADIENT_KINDS:
        raise ScratchnetError(f"cannot take the gradient with respect to {text!r}; this network has "
                              f"W1…W{L}, z1…z{L} and H0 (x) … H{L - 1}", field=field)
    problem = q.problem(L, bias)
    if problem:
        raise ScratchnetError(f"cannot take the gradient with respect to {text!r}: {problem}", field=field)
    return q


def names_for(L, bias="row"):
    """Every name a formula may use for a network of ``L`` weight layers, as `Quantity` objects: x (H0),
    H1…H_{L-1}, z1…zL, W1…WL, b1…bL (separate bias), yhat, y, delta1…deltaL."""
    out = [Quantity("H", l) for l in range(L)] + [Quantity("z", l) for l in range(1, L + 1)]
    out += [Quantity("W", l) for l in range(1, L + 1)]
    if bias == "separate":
        out += [Quantity("b", l) for l in range(1, L + 1)]
    return out + [Quantity("yhat"), Quantity("y")] + [Quantity("delta", l) for l in range(1, L + 1)]

"""The formula language: a tokenizer and a recursive-descent parser that builds a small syntax tree.

A learner writes a gradient the way it sits on paper, e.g. ``[1 H1]^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2))``.

Grammar (lowest precedence first; every binary operator is left-associative)::

    expr     := product (('+' | '-') product)*
    product  := unary (('@' | juxtaposition | '*' | '⊙' | '.*' | '/') unary)*
    unary    := '-' unary | postfix
    postfix  := primary ('^T' | 'ᵀ' | '.T' | '^' NUMBER | '[' slices ']')*
    primary  := NUMBER | NAME | FUNCTION '(' expr ')' | '(' expr ')' | '[' rows ']'
    rows     := items (';' items)*          items := expr ((',' | space) expr)*

Matrix product (``A B`` or ``A @ B``), elementwise product and division share one precedence level and
group from the left, exactly as ``@``, ``*`` and ``/`` do in Python: ``A B * C`` is ``(A B) * C``. So
``H2(1-H2)`` is a *matrix* product of ``H2`` and ``(1-H2)``. Inside ``[ ]`` a space separates items
(``[1 H1]``), so a matrix product there needs ``@`` or parentheses. A slice follows its operand with no
space: ``W3[1:]``, ``W3[:, 1:]``.

Every node keeps ``start``/``end``, its span in the source, so an error can point at the character.
"""

import itertools
from dataclasses import dataclass, field

from ..errors import ScratchnetError

_uids = itertools.count(1)


class FormulaError(ScratchnetError):
    """A formula that cannot be parsed or names something unknown.

    ``str(error)`` is the message followed by the formula and a caret line under the offending span.
    """

    def __init__(self, message, formula, start, end=None):
        self.message = message
        self.formula = formula
        self.start = max(0, min(start, len(formula)))
        self.end = max(self.start + 1, end if end is not None else self.start + 1)
        super().__init__(f"{message} (at character {self.start + 1})\n{self.pointer()}")

    def pointer(self):
        """Two lines: the formula, and carets under the offending span."""
        width = max(1, min(self.end, len(self.formula) + 1) - self.start)
        return f"  {self.formula}\n  {' ' * self.start}{'^' * width}"


# ---------------------------------------------------------------------------------------------- nodes

@dataclass(eq=False)
class Node:
    """Base of the syntax tree. ``start``/``end`` is the source span (-1 for nodes made by a repair)."""

    start: int = field(default=-1, kw_only=True)
    end: int = field(default=-1, kw_only=True)
    uid: int = field(default_factory=lambda: next(_uids), kw_only=True)

    def children(self):
        return ()


@dataclass(eq=False)
class Num(Node):
    value: float


@dataclass(eq=False)
class Name(Node):
    """A bound name in canonical spelling: ``H0`` (for ``x``), ``H1``, ``z2``, ``W3``, ``yhat``, ``y``, ``B``,
    ``delta2`` (only where the derivation binds it)."""

    name: str


@dataclass(eq=False)
class Neg(Node):
    operand: Node

    def children(self):
        return (self.operand,)


@dataclass(eq=False)
class BinOp(Node):
    """``op`` is ``'+'``, ``'-'``, ``'matmul'`` (juxtaposition or ``@``), ``'mul'`` (``*``, ``⊙``, ``.*``) or ``'/'``.
    ``spelling`` keeps how the learner wrote it (``''`` for juxtaposition)."""

    op: str
    left: Node
    right: Node
    spelling: str = ""

    def children(self):
        return (self.left, self.right)


@dataclass(eq=False)
class Transpose(Node):
    operand: Node

    def children(self):
        return (self.operand,)


@dataclass(eq=False)
class Power(Node):
    """Elementwise power by a number, ``H2^2``."""

    operand: Node
    exponent: float

    def children(self):
        return (self.operand,)


@dataclass(eq=False)
class Slice(Node):
    """``operand[rows]`` or ``operand[rows, cols]``; each item is a ``slice`` or an ``int``."""

    operand: Node
    items: tuple

    def children(self):
        return (self.operand,)


@dataclass(eq=False)
class Concat(Node):
    """``[a b; c d]``: rows of items, each row joined side by side, the rows stacked. A number is
    stretched to a column (in a row) or a row (in a column) of that value."""

    rows: tuple

    def children(self):
        return tuple(item for row in self.rows for item in row)


@dataclass(eq=False)
class Call(Node):
    """``func(arg)``; ``func`` is canonical: ``sigmoid``, ``tanh``, ``relu``, ``softmax``, ``diag``, or a
    derivative ``sigmoid'``, ``tanh'``, ``relu'``, ``f'`` (the derivative of the layer's own activation)."""

    func: str
    arg: Node

    def children(self):
        return (self.arg,)


def walk(node):
    """All nodes of a tree, children before their parent."""
    for child in node.children():
        yield from walk(child)
    yield node


# ---------------------------------------------------------------------------------------------- tokens

FUNCTIONS = {"sigma": "sigmoid", "sigmoid": "sigmoid", "σ": "sigmoid", "tanh": "tanh", "relu": "relu",
             "softmax": "softmax", "diag": "diag"}
DERIVATIVE_FUNCTIONS = {"sigmoid", "tanh", "relu", "f"}
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_NAME_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZσδŷ")
_NAME_REST = _NAME_START | set("0123456789_₀₁₂₃₄₅₆₇₈₉")
_PRIMES = "'′"


@dataclass
class Token:
    kind: str        # NUM NAME FUNC OP LPAREN RPAREN LBRACK RBRACK COMMA SEMI COLON TRANSPOSE POW END
    text: str
    start: int
    end: int
    space_before: bool
    value: object = None


def canonical_name(raw):
    """``x``→``H0``, ``ŷ``/``y_hat``→``yhat``, ``W_3``/``W₃``→``W3``, ``δ2``→``delta2``; others unchanged."""
    name = raw.translate(_SUBSCRIPTS).replace("y\u0302", "ŷ").replace("_", "")
    if name in ("ŷ", "yhat"):
        return "yhat"
    if name == "x":
        return "H0"
    if name.startswith("δ"):
        return "delta" + name[1:]
    return name


def tokenize(formula):
    """Split a formula into tokens; raises `FormulaError` at the first character that fits nothing."""
    tokens, i, n = [], 0, len(formula)
    space = False
    while i < n:
        c = formula[i]
        if c.isspace():
            space, i = True, i + 1
            continue
        start = i
        if c.isdigit() or (c == "." and i + 1 < n and formula[i + 1].isdigit()):
            while i < n and (formula[i].isdigit() or formula[i] == "."):
                i += 1
            text = formula[start:i]
            try:
                value = float(text)
            except ValueError:
                raise FormulaError(f"'{text}' is not a number", formula, start, i) from None
            tokens.append(Token("NUM", text, start, i, space, value))
        elif c in _NAME_START:
            while i < n and (formula[i] in _NAME_REST or formula[i] == "\u0302"):
                i += 1
            raw = formula[start:i]
            if i < n and formula[i] in _PRIMES:          # sigma'(z2), f'(z2): a derivative
                base = FUNCTIONS.get(raw, raw)
                if base not in DERIVATIVE_FUNCTIONS:
                    raise FormulaError(
                        f"'{raw}{formula[i]}': a prime marks the derivative of sigma, tanh, relu or f "
                        f"(write a transpose as ^T)", formula, i, i + 1)
                i += 1
                tokens.append(Token("FUNC", formula[start:i], start, i, space, base + "'"))
            elif raw in FUNCTIONS:
                tokens.append(Token("FUNC", raw, start, i, space, FUNCTIONS[raw]))
            else:
                tokens.append(Token("NAME", raw, start, i, space, canonical_name(raw)))
        elif c == "^":
            rest = formula[i + 1:]
            if rest.startswith("T") and not (len(rest) > 1 and rest[1] in _NAME_REST):
                i += 2
                tokens.append(Token("TRANSPOSE", "^T", start, i, space))
            elif rest.startswith("{T}") or rest.startswith("⊤") or rest.startswith("{⊤}"):
                i += 1 + (3 if rest.startswith("{") else 1)
                tokens.append(Token("TRANSPOSE", formula[start:i], start, i, space))
            else:
                j = i + 1
                while j < n and (formula[j].isdigit() or formula[j] == "."):
                    j += 1
                if j == i + 1:
                    raise FormulaError("'^' must be followed by T (transpose) or a number (power)",
                                       formula, start, i + 2)
                tokens.append(Token("POW", formula[start:j], start, j, space, float(formula[i + 1:j])))
                i = j
        elif c == "ᵀ":
            i += 1
            tokens.append(Token("TRANSPOSE", c, start, i, space))
        elif c == ".":
            nxt = formula[i + 1] if i + 1 < n else ""
            if nxt == "*":
                i += 2
                tokens.append(Token("OP", ".*", start, i, space, "mul"))
            elif nxt == "T" and not (i + 2 < n and formula[i + 2] in _NAME_REST):
                i += 2
                tokens.append(Token("TRANSPOSE", ".T", start, i, space))
            else:
                raise FormulaError("'.' must start .T (transpose), .* (elementwise product) or a number",
                                   formula, start)
        elif c in "+-−":
            i += 1
            tokens.append(Token("OP", c, start, i, space, "-" if c in "-−" else "+"))
        elif c in "*⊙∘":
            i += 1
            tokens.append(Token("OP", c, start, i, space, "mul"))
        elif c == "@":
            i += 1
            tokens.append(Token("OP", c, start, i, space, "matmul"))
        elif c in "/":
            i += 1
            tokens.append(Token("OP", c, start, i, space, "/"))
        elif c in "()[],;:":
            i += 1
            kind = {"(": "LPAREN", ")": "RPAREN", "[": "LBRACK", "]": "RBRACK", ",": "COMMA",
                    ";": "SEMI", ":": "COLON"}[c]
            tokens.append(Token(kind, c, start, i, space))
        elif c in _PRIMES:
            raise FormulaError("a prime marks a derivative, as in sigma'(z2); write a transpose as ^T",
                               formula, start)
        else:
            raise FormulaError(f"unexpected character {c!r}", formula, start)
        space = False
    tokens.append(Token("END", "", n, n, space))
    return tokens


# ---------------------------------------------------------------------------------------------- parser

_PRIMARY_START = ("NUM", "NAME", "FUNC", "LPAREN", "LBRACK")


class _Parser:
    def __init__(self, formula):
        self.formula = formula
        self.tokens = tokenize(formula)
        self.i = 0
        self.in_brackets = False     # a space separates items at the top level of [ ]

    @property
    def tok(self):
        return self.tokens[self.i]

    def error(self, message, tok=None):
        tok = tok or self.tok
        return FormulaError(message, self.formula, tok.start, max(tok.end, tok.start + 1))

    def take(self, kind, what):
        tok = self.tok
        if tok.kind != kind:
            found = "the end of the formula" if tok.kind == "END" else repr(tok.text)
            raise self.error(f"expected {what}, found {found}")
        self.i += 1
        return tok

    def parse(self):
        if self.tok.kind == "END":
            raise self.error("the formula is empty")
        node = self.expr()
        if self.tok.kind != "END":
            if self.tok.kind == "RPAREN":
                raise self.error("unmatched ')'")
            if self.tok.kind == "RBRACK":
                raise self.error("unmatched ']'")
            raise self.error(f"unexpected {self.tok.text!r}")
        return node

    def expr(self):
        node = self.product()
        while self.tok.kind == "OP" and self.tok.value in ("+", "-"):
            op = self.tok
            self.i += 1
            right = self.product()
            node = BinOp(op.value, node, right, op.text, start=node.start, end=right.end)
        return node

    def product(self):
        node = self.unary()
        while True:
            tok = self.tok
            if tok.kind == "OP" and tok.value in ("mul", "matmul", "/"):
                self.i += 1
                spelling = tok.text
            elif tok.kind in _PRIMARY_START and not (self.in_brackets and tok.space_before) \
                    and not (tok.kind == "LBRACK" and not tok.space_before):
                spelling = ""                                   # juxtaposition: a matrix product
            else:
                return node
            op = "matmul" if spelling in ("", "@") else ("/" if spelling == "/" else "mul")
            right = self.unary()
            node = BinOp(op, node, right, spelling, start=node.start, end=right.end)

    def unary(self):
        if self.tok.kind == "OP" and self.tok.value == "-":
            tok = self.tok
            self.i += 1
            operand = self.unary()
            return Neg(operand, start=tok.start, end=operand.end)
        if self.tok.kind == "OP" and self.tok.value == "+":
            self.i += 1
            return self.unary()
        return self.postfix()

    def postfix(self):
        node = self.primary()
        while True:
            tok = self.tok
            if tok.kind == "TRANSPOSE":
                self.i += 1
                node = Transpose(node, start=node.start, end=tok.end)
            elif tok.kind == "POW":
                self.i += 1
                node = Power(node, tok.value, start=node.start, end=tok.end)
            elif tok.kind == "LBRACK" and not tok.space_before:
                node = self.slice(node)
            else:
                return node

    def slice(self, operand):
        self.take("LBRACK", "'['")
        items = [self.slice_item()]
        while self.tok.kind == "COMMA":
            self.i += 1
            items.append(self.slice_item())
        if len(items) > 2:
            raise self.error("a slice has at most two parts, rows and columns: W3[1:] or W3[:, 1:]")
        end = self.take("RBRACK", "']' to close the slice").end
        return Slice(operand, tuple(items), start=operand.start, end=end)

    def slice_int(self):
        sign = 1
        if self.tok.kind == "OP" and self.tok.value == "-":
            sign = -1
            self.i += 1
        tok = self.tok
        if tok.kind != "NUM" or not float(tok.value).is_integer() or "." in tok.text:
            raise self.error("a slice takes whole numbers, as in W3[1:] or W3[:, 1:]")
        self.i += 1
        return sign * int(tok.value)

    def slice_item(self):
        start = stop = None
        if self.tok.kind not in ("COLON",):
            start = self.slice_int()
            if self.tok.kind != "COLON":
                return start
        self.take("COLON", "':'")
        if self.tok.kind not in ("COMMA", "RBRACK", "END"):
            stop = self.slice_int()
        return slice(start, stop)

    def primary(self):
        tok = self.tok
        if tok.kind == "NUM":
            self.i += 1
            return Num(tok.value, start=tok.start, end=tok.end)
        if tok.kind == "NAME":
            self.i += 1
            return Name(tok.value, start=tok.start, end=tok.end)
        if tok.kind == "FUNC":
            self.i += 1
            if self.tok.kind != "LPAREN":
                raise self.error(f"{tok.text} needs its argument in parentheses, as in {tok.text}(z2)")
            self.i += 1
            arg = self.nested(self.expr)
            end = self.take("RPAREN", f"')' to close {tok.text}(").end
            return Call(tok.value, arg, start=tok.start, end=end)
        if tok.kind == "LPAREN":
            self.i += 1
            if self.tok.kind == "RPAREN":
                raise self.error("empty parentheses")
            inner = self.nested(self.expr)
            end = self.take("RPAREN", "')'").end
            inner.start, inner.end = tok.start, end          # the span includes the parentheses
            return inner
        if tok.kind == "LBRACK":
            return self.concat()
        if tok.kind == "END":
            raise self.error("the formula ends too early: an operand is missing")
        if tok.kind == "RPAREN":
            raise self.error("unmatched ')' or a missing operand before it")
        raise self.error(f"unexpected {tok.text!r}: an operand is missing here")

    def nested(self, parse):
        saved, self.in_brackets = self.in_brackets, False
        try:
            return parse()
        finally:
            self.in_brackets = saved

    def concat(self):
        open_tok = self.take("LBRACK", "'['")
        if self.tok.kind == "RBRACK":
            raise self.error("empty brackets: write [1 H1] for a column of ones before H1")
        saved, self.in_brackets = self.in_brackets, True
        try:
            rows, row = [], [self.expr()]
            while True:
                if self.tok.kind == "COMMA":
                    self.i += 1
                    row.append(self.expr())
                elif self.tok.kind == "SEMI":
                    self.i += 1
                    rows.append(tuple(row))
                    row = [self.expr()]
                elif self.tok.kind in _PRIMARY_START:
                    row.append(self.expr())
                else:
                    break
            rows.append(tuple(row))
        finally:
            self.in_brackets = saved
        if self.tok.kind == "END":
            raise FormulaError("'[' is never closed", self.formula, open_tok.start)
        end = self.take("RBRACK", "']'").end
        return Concat(tuple(rows), start=open_tok.start, end=end)


def parse(formula):
    """Parse a formula into its syntax tree; raises `FormulaError` pointing at the offending character."""
    if not isinstance(formula, str):
        raise ScratchnetError(f"a formula must be text, got {type(formula).__name__}")
    return _Parser(formula).parse()

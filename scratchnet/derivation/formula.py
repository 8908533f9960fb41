"""The formula language: a tokenizer and a recursive-descent parser that builds a small syntax tree.

A learner writes a gradient the way it sits on paper, e.g. ``[1 H1]^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2))``.

Grammar (lowest precedence first; every binary operator is left-associative)::

    expr     := product (('+' | '-') product)*
    product  := unary (('@' | juxtaposition | '*' | '⊙' | '.*' | '/') unary)*
    unary    := '-' unary | postfix
    postfix  := primary ('^T' | 'ᵀ' | '.T' | "'" | '^' NUMBER | '[' slices ']')*
    primary  := NUMBER | NAME | FUNCTION '(' expr ')' | '(' expr ')' | '[' rows ']'
    rows     := items (';' items)*          items := expr ((',' | space) expr)*

Matrix product (``A B`` or ``A @ B``), elementwise product and division share one precedence level and
group from the left, exactly as ``@``, ``*`` and ``/`` do in Python: ``A B * C`` is ``(A B) * C``. So
``H2(1-H2)`` is a *matrix* product of ``H2`` and ``(1-H2)``. Inside ``[ ]`` a space separates items
(``[1 H1]``), so a matrix product there needs ``@`` or parentheses. A slice follows its operand with no
space: ``W3[1:]``, ``W3[:, 1:]``. A prime is MATLAB's transpose where nothing else can be meant: right
after a closing bracket or parenthesis, or after a name of the network (``W3'``, ``[1 H2]'``); after a
function name it is the derivative (``sigma'(z2)``, ``f'(z1)``).

Every node keeps ``start``/``end``, its span in the source, so an error can point at the character.

Limits, so that any text is answered in bounded time and memory (a `FormulaError` beyond them): at most
`MAX_LENGTH` characters, brackets, parentheses and unary signs nested at most `MAX_NESTING` deep, and a
syntax tree at most `MAX_DEPTH` deep (a chain of ``+`` or ``^T`` is a deep tree).
"""

import itertools
import unicodedata
from dataclasses import dataclass, field

from ..activations import ACTIVATIONS, HIDDEN
from ..errors import ScratchnetError
from ..quantity import lookup

MAX_LENGTH = 2000
"""Characters in a formula; the seed's answer has 33."""

MAX_NESTING = 50
"""Levels of ``( )``, ``[ ]``, function calls and unary signs inside one another."""

MAX_DEPTH = 200
"""Depth of the syntax tree: operators applied one after another, such as 200 ``+`` or ``^T``."""

_uids = itertools.count(1)
_POINTER_WIDTH = 72


class FormulaError(ScratchnetError):
    """A formula that cannot be parsed or names something unknown.

    ``str(error)`` is the message followed by the formula and a caret line under the offending span.
    """

    def __init__(self, message, formula, start, end=None):
        self.message = " ".join(str(message).split())          # always one line
        self.formula = formula
        self.start = max(0, min(start, len(formula)))
        self.end = max(self.start + 1, end if end is not None else self.start + 1)
        super().__init__(f"{self.message} (at character {self.start + 1})\n{self.pointer()}")

    def pointer(self):
        """Two lines: the formula (a window of it around the error if it is long, with every space,
        tab or line break shown as one space), and carets under the offending span."""
        text = "".join(c if c.isprintable() else " " for c in self.formula)
        start, end = self.start, min(self.end, len(text) + 1)
        left = 0
        if len(text) > _POINTER_WIDTH:
            left = max(0, min(start - _POINTER_WIDTH // 3, len(text) - _POINTER_WIDTH))
            shown = text[left:left + _POINTER_WIDTH]
            prefix, suffix = ("…" if left > 0 else ""), ("…" if left + _POINTER_WIDTH < len(text) else "")
            text, left = prefix + shown + suffix, left - len(prefix)
        width = max(1, min(end - start, len(text) - (start - left) + 1))
        pad = display_width(text[:start - left])             # a combining mark (W̄, ŷ) takes no column
        width = max(1, display_width(text[start - left:start - left + width]))
        return f"  {text}\n  {' ' * pad}{'^' * width}"

    def to_json(self):
        """``{"error": message, "start": …, "end": …}``: 0-based, end exclusive, into the formula."""
        return {"error": self.message, "start": self.start, "end": min(self.end, len(self.formula))}


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
    """A bound name in canonical spelling: ``H0`` (for ``x``), ``H1``, ``z2``, ``W3``, ``b3`` (separate
    bias), ``yhat``, ``y``, ``ones``, ``B``, ``delta2`` (only where the derivation binds it)."""

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
    """``func(arg)``; ``func`` is canonical: an activation's name (``sigmoid``, ``tanh``, ``relu``,
    ``softmax``), ``diag``, ``sum`` (over the batch axis), or a derivative ``sigmoid'``, ``tanh'``,
    ``relu'``, ``f'`` (the derivative of the layer's own activation)."""

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

FUNCTIONS = {spelling: a.name for a in ACTIVATIONS.values() for spelling in a.spellings}
FUNCTIONS.update(diag="diag", sum="sum")
"""Every function spelling → its canonical name (activations from `ACTIVATIONS`, plus ``diag`` and
``sum``, the sum over the batch axis)."""
DERIVATIVE_FUNCTIONS = set(HIDDEN) | {"f"}
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


def display_width(text):
    """Columns a text takes in a terminal, counting combining marks as none."""
    return sum(1 for c in text if not unicodedata.combining(c))


def canonical_name(raw):
    """The name a formula binds for what ``raw`` spells (`quantity.lookup`): ``x``→``H0``,
    ``ŷ``/``y_hat``→``yhat``, ``W_3``/``W₃``→``W3``, ``W̄3``→``Wbar3``, ``δ2``→``delta2``, ``a2``→``H2``;
    other names (``ones``, ``B``, unknown ones) without their underscores."""
    q = lookup(raw)
    if q is not None and q.kind != "L":
        return q.name
    return raw.translate(_SUBSCRIPTS).replace("_", "")


_SINGLE = {"+": ("OP", "+"), "-": ("OP", "-"), "−": ("OP", "-"), "*": ("OP", "mul"), "⊙": ("OP", "mul"),
           "∘": ("OP", "mul"), "@": ("OP", "matmul"), "/": ("OP", "/"), "ᵀ": ("TRANSPOSE", None),
           "(": ("LPAREN", None), ")": ("RPAREN", None), "[": ("LBRACK", None), "]": ("RBRACK", None),
           ",": ("COMMA", None), ";": ("SEMI", None), ":": ("COLON", None)}
"""Characters that are a token by themselves: their kind and value."""


def tokenize(formula):
    """Split a formula into tokens; raises `FormulaError` at the first character that fits nothing.

    Each kind of token has its scanner (`_number`, `_name`, `_caret`, `_dot`, `_prime`); a scanner takes
    the formula, where the token starts, whether a space came before it and the tokens so far, and returns
    the new tokens and where the next one starts."""
    tokens, i, n = [], 0, len(formula)
    space = False
    while i < n:
        c = formula[i]
        if c.isspace():
            space, i = True, i + 1
            continue
        if c.isdigit() or (c == "." and i + 1 < n and formula[i + 1].isdigit()):
            scan = _number
        elif c in _NAME_START:
            scan = _name
        elif c in _SINGLE:
            scan = _single
        else:
            scan = {"^": _caret, ".": _dot}.get(c, _prime if c in _PRIMES else _unexpected)
        new, i = scan(formula, i, space, tokens)
        tokens += new
        space = False
    tokens.append(Token("END", "", n, n, space))
    return tokens


def _number(formula, i, space, tokens):
    """``2``, ``0.5``, ``.5``."""
    start, n = i, len(formula)
    while i < n and (formula[i].isdigit() or formula[i] == "."):
        i += 1
    text = formula[start:i]
    try:
        value = float(text)
    except ValueError:
        raise FormulaError(f"'{text}' is not a number", formula, start, i) from None
    return [Token("NUM", text, start, i, space, value)], i


def _name(formula, i, space, tokens):
    """A name (``W3``, ``ŷ``, ``delta2``) or a function (``sigma``); a prime after a function is its
    derivative (``sigma'``), after a name of the network its transpose (``W3'``, MATLAB's)."""
    start, n = i, len(formula)
    while i < n and (formula[i] in _NAME_REST or formula[i] in "\u0302\u0304"):
        i += 1
    raw = formula[start:i]
    primed = i < n and formula[i] in _PRIMES
    if primed and raw not in FUNCTIONS and lookup(raw) is not None:
        return [Token("NAME", raw, start, i, space, canonical_name(raw)),
                Token("TRANSPOSE", formula[i], i, i + 1, False)], i + 1
    if primed:
        base = FUNCTIONS.get(raw, raw)
        if base not in DERIVATIVE_FUNCTIONS:
            raise FormulaError(f"'{raw}{formula[i]}': a prime marks the derivative of sigma, tanh, relu or f "
                               f"(write a transpose as ^T)", formula, i, i + 1)
        return [Token("FUNC", formula[start:i + 1], start, i + 1, space, base + "'")], i + 1
    if raw in FUNCTIONS:
        return [Token("FUNC", raw, start, i, space, FUNCTIONS[raw])], i
    return [Token("NAME", raw, start, i, space, canonical_name(raw))], i


def _caret(formula, i, space, tokens):
    """``^T``, ``^{T}``, ``^⊤`` (a transpose) or ``^2`` (an elementwise power)."""
    start, n, rest = i, len(formula), formula[i + 1:]
    if rest.startswith("T") and not (len(rest) > 1 and rest[1] in _NAME_REST):
        return [Token("TRANSPOSE", "^T", start, i + 2, space)], i + 2
    if rest.startswith("{T}") or rest.startswith("⊤") or rest.startswith("{⊤}"):
        i += 1 + (3 if rest.startswith("{") else 1)
        return [Token("TRANSPOSE", formula[start:i], start, i, space)], i
    j = i + 1
    while j < n and (formula[j].isdigit() or formula[j] == "."):
        j += 1
    try:
        power = float(formula[i + 1:j])
    except ValueError:
        raise FormulaError("'^' must be followed by T (transpose) or a number (power)",
                           formula, start, max(j, i + 2)) from None
    return [Token("POW", formula[start:j], start, j, space, power)], j


def _dot(formula, i, space, tokens):
    """``.*`` (an elementwise product) or ``.T`` (a transpose)."""
    nxt = formula[i + 1] if i + 1 < len(formula) else ""
    if nxt == "*":
        return [Token("OP", ".*", i, i + 2, space, "mul")], i + 2
    if nxt == "T" and not (i + 2 < len(formula) and formula[i + 2] in _NAME_REST):
        return [Token("TRANSPOSE", ".T", i, i + 2, space)], i + 2
    raise FormulaError("'.' must start .T (transpose), .* (elementwise product) or a number", formula, i)


def _single(formula, i, space, tokens):
    """An operator, a bracket or a separator: one character."""
    kind, value = _SINGLE[formula[i]]
    return [Token(kind, formula[i], i, i + 1, space, value)], i + 1


def _prime(formula, i, space, tokens):
    """A prime right after a closing bracket or parenthesis (``(yhat - y)'``, ``[1 H2]'``): only a
    transpose can be meant. A prime anywhere else that no name took is an error."""
    if tokens and tokens[-1].kind in ("RPAREN", "RBRACK", "TRANSPOSE") and not space:
        return [Token("TRANSPOSE", formula[i], i, i + 1, space)], i + 1
    raise FormulaError("a prime marks a derivative, as in sigma'(z2); write a transpose as ^T", formula, i)


def _unexpected(formula, i, space, tokens):
    raise FormulaError(f"unexpected character {formula[i]!r}", formula, i)


# ---------------------------------------------------------------------------------------------- parser

_PRIMARY_START = ("NUM", "NAME", "FUNC", "LPAREN", "LBRACK")


class _Parser:
    def __init__(self, formula):
        self.formula = formula
        self.tokens = tokenize(formula)
        self.i = 0
        self.in_brackets = False     # a space separates items at the top level of [ ]
        self.nesting = 0             # brackets, parentheses, calls and unary signs open around here

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
        if self.tok.kind == "OP" and self.tok.value in ("-", "+"):
            tok = self.tok
            self.i += 1
            with self.deeper():
                operand = self.unary()
            return Neg(operand, start=tok.start, end=operand.end) if tok.value == "-" else operand
        return self.postfix()

    def deeper(self):
        """Context for one more level of nesting; too many is a `FormulaError` at the current token."""
        parser = self

        class _Level:
            def __enter__(self):
                parser.nesting += 1
                if parser.nesting > MAX_NESTING:
                    raise parser.error(f"the formula is nested more than {MAX_NESTING} levels deep")

            def __exit__(self, *exc):
                parser.nesting -= 1

        return _Level()

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
            with self.deeper():
                return parse()
        finally:
            self.in_brackets = saved

    def concat(self):
        open_tok = self.take("LBRACK", "'['")
        if self.tok.kind == "RBRACK":
            raise self.error("empty brackets: write [1 H1] for a column of ones before H1")
        saved, self.in_brackets = self.in_brackets, True
        try:
            self.nesting += 1
            if self.nesting > MAX_NESTING:
                raise self.error(f"the formula is nested more than {MAX_NESTING} levels deep", open_tok)
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
            self.nesting -= 1
        if self.tok.kind == "END":
            raise FormulaError("'[' is never closed", self.formula, open_tok.start)
        end = self.take("RBRACK", "']'").end
        return Concat(tuple(rows), start=open_tok.start, end=end)


def depth(tree):
    """The depth of a syntax tree (a lone name is 1), without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((child, d + 1) for child in node.children())
    return deepest


def _too_deep(tree):
    """The first node (outermost) at which the tree is deeper than `MAX_DEPTH`, or None."""
    stack = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        if d > MAX_DEPTH:
            return node
        stack.extend((child, d + 1) for child in node.children())
    return None


def parse(formula):
    """Parse a formula into its syntax tree; raises `FormulaError` pointing at the offending character.

    Raises `FormulaError` too for a formula beyond the limits (`MAX_LENGTH`, `MAX_NESTING`,
    `MAX_DEPTH`), and `ScratchnetError` for something that is not text.
    """
    if not isinstance(formula, str):
        raise ScratchnetError(f"a formula must be text, got {type(formula).__name__}")
    if len(formula) > MAX_LENGTH:
        raise FormulaError(f"the formula is {len(formula):,} characters long; at most {MAX_LENGTH:,} are "
                           f"accepted", formula, MAX_LENGTH, len(formula))
    tree = _Parser(formula).parse()
    node = _too_deep(tree)
    if node is not None:
        raise FormulaError(f"the formula applies more than {MAX_DEPTH} operations one after another; "
                           f"split it into shorter formulas", formula, node.start, node.end)
    return tree

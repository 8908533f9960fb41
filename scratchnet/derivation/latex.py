"""LaTeX input: read a formula pasted from a question, such as ``[1\\ H_1]^T(\\hat{y}-y)W_3^TH_2(1-H_2)``.

LaTeX is translated into the plain formula language of `formula`, character by character, and every
character of the translation remembers the span of the LaTeX it came from. The plain text is parsed by
the one parser, and then every node's ``start``/``end`` is moved back onto the LaTeX, so error carets, the
names in error messages and the shape trace's subexpression texts are all in the learner's own notation.

What is read (anything else is an error with a caret under it and this list):

==========================================  ==============================================
LaTeX                                       plain language
==========================================  ==============================================
``H_1``, ``W_{3}``, ``\\delta_2``, ``W^{(2)}``, ``W^{[2]}``   ``H1``, ``W3``, ``delta2``, ``W2``, ``W2``
``\\hat{y}``, ``\\hat y``, ``\\widehat{y}``     ``yhat``
``\\bar{W}_3``, ``\\overline{W_3}``             ``Wbar3``: W_3 without its bias row (column)
``^T``, ``^\\top``, ``^{T}``, ``^\\intercal``, ``^{\\mathsf{T}}``  transpose
``^2``, ``^{2}``                              power
``\\odot``, ``\\circ``, ``\\ast``, ``*``          elementwise product
juxtaposition, ``\\cdot``, ``\\times``          matrix product (as in the plain language)
``\\sigma``, ``\\tanh``, ``\\sigma'``, ``\\sigma^{\\prime}``, ``f'``  functions and derivatives
``\\operatorname{diag}``, ``\\mathrm{…}``, ``\\rm{…}``, ``\\text{…}``  a function by its name (``diag``, ``relu``, ``softmax``)
``\\mathbf{…}``, ``\\boldsymbol{…}``, ``\\bm{…}``, ``\\vec{…}``  their content
``\\frac{a}{b}``, ``\\dfrac``, ``\\tfrac``          ``((a)/(b))``
``\\left(`` … ``\\right)``, ``\\big(``, ``\\lbrack``  the bracket itself
``{…}``                                       ``(…)``
``\\begin{bmatrix} 1 & h \\\\ … \\end{bmatrix}``  ``[1, h; …]``
``\\,``, ``\\ ``, ``\\;``, ``\\:``, ``~``, ``\\quad``  a space (inside ``[ ]`` a space separates items)
``$``, ``\\(``, ``\\)``, ``\\[``, ``\\]``            nothing (math delimiters)
==========================================  ==============================================

As in LaTeX, ``^`` and ``_`` take one character or one ``{group}``: ``W_3^TH_2`` is ``W3ᵀ H2``. Two
pasted-along parts are read and set aside: a left-hand side up to the last top-level ``=`` (``\\frac{\\partial
L}{\\partial W_2} =``) and a trailing shape claim ``\\in \\mathbb{R}^{101\\times 1}``; `Translation` keeps both.
"""

import re
from dataclasses import dataclass, field

from ..errors import ScratchnetError
from ..quantity import Derivative, Quantity
from ..quantity import parse as parse_name
from .formula import MAX_NESTING, FormulaError, parse, walk

_SPACES = {",": " ", ";": " ", ":": " ", " ": " ", "!": "", "quad": " ", "qquad": " ", "enspace": " ",
           "thinspace": " ", "medspace": " ", "thickspace": " "}
_SIZING = {"left", "right", "middle", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl",
           "biggr", "Biggl", "Biggr"}
_DELIMITERS = {"lbrack": "[", "rbrack": "]", "lparen": "(", "rparen": ")"}
_OPERATORS = {"odot": "⊙", "circ": "⊙", "ast": "*", "cdot": "@", "times": "@"}
_FUNCTIONS = {"sigma": "sigma", "tanh": "tanh", "diag": "diag"}
_NAMED_FUNCTIONS = {"diag": "diag", "relu": "relu", "softmax": "softmax", "sigmoid": "sigmoid",
                    "sigma": "sigma", "tanh": "tanh", "sum": "sum"}
_NAMES = {"delta": "delta"}
_STYLES = {"mathbf", "boldsymbol", "bm", "vec", "mathrm", "rm", "bf", "mathit", "text", "textrm", "textit", "mathsf",
           "operatorname", "mathnormal"}
_HATS = {"hat", "widehat"}
_BARS = {"bar", "overline"}
_BARRED = re.compile(r"^([A-Za-z])(?:_\{?\s*(\d+)\s*\}?)?$")
_FRACTIONS = {"frac", "dfrac", "tfrac"}
_TRANSPOSE_MARKS = {"T", r"\top", r"\intercal", r"\mathsf{T}", r"\mathrm{T}", r"\rm T", r"\mathsf T", "{T}",
                    r"{\top}", "top"}
_PRIME_MARKS = {r"\prime", "'", r"{\prime}", "{'}"}
_MATRICES = {"bmatrix", "pmatrix", "matrix", "Bmatrix", "vmatrix"}

SUPPORTED = ("H_1, W_{3}, \\delta_2, W^{(2)}; \\hat{y}; \\bar{W}_3; ^T, ^\\top, ^{T}, ^\\intercal; ^2; \\odot, \\circ, *; "
             "juxtaposition, \\cdot, \\times (matrix product); \\sigma, \\tanh, \\sigma', f'; "
             "\\operatorname{diag}, \\mathrm{relu}, \\text{softmax}; \\mathbf{…}, \\boldsymbol{…}, \\rm{…}; "
             "\\frac{…}{…}; \\left( \\right), \\big( \\big); {…}; \\begin{bmatrix}…\\end{bmatrix}; "
             "\\, \\  \\; \\quad ~ (spaces); $ … $")

MAX_LENGTH = 4000
"""Longer LaTeX is refused before it is translated (the plain language has its own limits)."""

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_σδŷ₀₁₂₃₄₅₆₇₈₉")
_OPERAND_END = _NAME_CHARS | set(")]ᵀ'")
_LAYER_INDEX = re.compile(r"^\s*[(\[]\s*(\d+)\s*[)\]]\s*(T|\\top|\\intercal)?\s*$")
_SHAPE_CLAIM = re.compile(r"^\\in\s*\\mathbb\s*\{?\s*R\s*\}?\s*\^\s*\{?\s*(\d+)\s*(?:(?:\\times|\\cdot|x|×|,)"
                          r"\s*(\d+))?\s*\}?\s*$")


class _Unsupported(Exception):
    def __init__(self, message, start, end):
        super().__init__(message)
        self.message, self.start, self.end = message, start, end


@dataclass
class Translation:
    """A LaTeX formula in the plain language, with where each plain character came from.

    Attributes
    ----------
    source : str, the LaTeX as given
    plain : str, the same formula in the plain language
    spans : list of (int, int), ``spans[i]`` is the source span of ``plain[i]``
    lhs : str or None, a left-hand side set aside (the text before the last top-level ``=``)
    claim : str or None, a trailing ``\\in \\mathbb{R}^{m\\times n}`` set aside
    claimed_shape : tuple of int or None, the shape that claim states
    """

    source: str
    plain: str
    spans: list = field(default_factory=list)
    lhs: str = None
    claim: str = None
    claimed_shape: tuple = None

    def source_span(self, start, end):
        """The source span ``(start, end)`` covered by ``plain[start:end]`` (an empty or end span maps to
        the nearest source position)."""
        n = len(self.plain)
        if start >= n or not self.spans:
            stop = self.spans[-1][1] if self.spans else len(self.source)
            return stop, stop + 1
        covered = self.spans[start:max(end, start + 1)]
        return min(s for s, _ in covered), max(e for _, e in covered)

    @property
    def derivative(self):
        """The `quantity.Derivative` the set-aside left-hand side names, or None when there is none:
        ``\\frac{\\partial L}{\\partial W_2}``, ``\\frac{\\partial J}{\\partial \\mathbf{W}^{[2]}}``, ``∂L/∂{W_2}``,
        ``dL/dW2``, ``dW2`` and ``\\nabla_{W_2} L`` (∂L/∂W2), ``\\delta_2`` (∂L/∂z2).

        Raises
        ------
        FormulaError
            a left-hand side that none of these reads, pointing at it (never silently ignored).
        """
        if not self.lhs:
            return None
        return read_lhs(self.lhs, self.source)


_NABLA = re.compile(r"^\\nabla\s*_\s*(\{.*\}|\S+?)\s*(L|J|C|E|\\mathcal\s*\{?\s*L\s*\}?)?$")


def read_lhs(lhs, source=None):
    """The `quantity.Derivative` a left-hand side names (see `Translation.derivative`).

    Raises
    ------
    FormulaError
        ``lhs`` names no derivative, pointing at it in ``source`` (default ``lhs``).
    """
    text = re.sub(r"\\mathcal\s*\{?\s*L\s*\}?", "L", lhs.strip().strip("$").strip())
    nabla = _NABLA.match(text)
    attempts = [text]
    if nabla:
        attempts.insert(0, f"dL/d{nabla.group(1)}")
    for attempt in attempts:
        try:
            said = parse_name(attempt, field="formula")
        except ScratchnetError:
            continue
        if isinstance(said, Derivative):
            return said
        if said.kind == "delta":                                     # δ_l = ∂L/∂z_l
            return Derivative(Quantity("L"), Quantity.pre(said.layer))
    if re.match(r"^d[A-Za-zδ\\]", text):                            # dW2, dz_2: Ng's code names
        try:
            said = parse_name(text[1:], field="formula")
        except ScratchnetError:
            said = None
        if isinstance(said, Quantity) and said.kind in ("W", "b", "z", "H"):
            return Derivative(Quantity("L"), said)
    source = source if source is not None else lhs
    start = max(0, source.find(lhs.strip()))
    raise FormulaError(f"the left-hand side {lhs.strip()!r} cannot be read as a derivative; write it as "
                       f"\\frac{{\\partial L}}{{\\partial W_2}} or dL/dW2, or leave it out",
                       source, start, start + len(lhs.strip()))


def looks_like_latex(text):
    """Whether ``text`` uses something only LaTeX has: a backslash, a ``$`` or a brace."""
    return any(c in text for c in "\\${}")


def parse_any(text):
    """Parse ``text`` in the plain language or in LaTeX; node spans index ``text`` itself.

    Plain text is parsed by `formula.parse`. Text with a backslash, ``$`` or brace is read as LaTeX, and so
    is text the plain parser rejects but LaTeX reads (``W_3^TH_2``: in LaTeX ``^`` takes one character).

    Raises
    ------
    FormulaError
        pointing into ``text``.
    """
    if not isinstance(text, str) or not looks_like_latex(text):
        try:
            return parse(text)
        except FormulaError as plain_error:
            try:
                return parse_latex(text)
            except FormulaError:
                raise plain_error from None
    return parse_latex(text)


def parse_latex(text):
    """Parse a LaTeX formula (see the module docstring); node spans index ``text``.

    Raises
    ------
    FormulaError
        an unsupported command (with the list of what is supported) or a parse error, pointing into ``text``.
    """
    translation = to_plain(text)
    try:
        tree = parse(translation.plain)
    except FormulaError as error:
        start, end = translation.source_span(error.start, error.end)
        raise FormulaError(error.message, text, start, end) from None
    for node in walk(tree):
        if node.start >= 0:
            node.start, node.end = translation.source_span(node.start, node.end)
    return tree


def to_plain(text):
    """Translate LaTeX into the plain formula language, keeping a position map.

    Returns
    -------
    Translation

    Raises
    ------
    FormulaError
        an unsupported command or construct, pointing into ``text``.
    """
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is too long ({len(text)} characters; at most {MAX_LENGTH})", text, 0,
                           len(text))
    try:
        return _Translator(text).run()
    except _Unsupported as error:
        raise FormulaError(error.message, text, error.start, error.end) from None


# ---------------------------------------------------------------------------------------------- translator

class _Translator:
    def __init__(self, source):
        self.src = source
        self.chars, self.spans = [], []
        self.kinds = []                 # per plain character: 'name', 'num', 'sep' or 'other'
        self.stack = []                 # open brackets of the output: '[' or '('
        self.depth = 0                  # groups and arguments being read, one inside another

    # -- output
    def emit(self, text, start, end, kind="other"):
        if not text:
            return
        if self.chars and self._merges(text, kind):
            sep = "@" if self.stack and self.stack[-1] == "[" else " "
            self._put(sep, end=start, start=start, kind="sep")
        self._put(text, start, end, kind)

    def _merges(self, text, kind):
        """Whether ``text`` would run into the previous output in the plain tokenizer."""
        last, last_kind = self.chars[-1], self.kinds[-1]
        if last_kind == "num" and kind == "name" and not text[0].isdigit():
            return False
        if last in _NAME_CHARS and (text[0] in _NAME_CHARS or (last_kind == "num" and text[0] == ".")):
            return True
        return False

    def _put(self, text, start, end, kind):
        for c in text:
            self.chars.append(c)
            self.spans.append((start, end))
            self.kinds.append(kind)

    def space(self, start, end):
        if self.chars and self.chars[-1] != " ":
            self._put(" ", start, end, "space")

    def open_bracket(self, char, start, end, concat=True):
        if char == "[" and concat and self.chars and self._last_visible() in _OPERAND_END \
                and self.chars[-1] != " ":
            sep = "@" if self.stack and self.stack[-1] == "[" else " "
            self._put(sep, start, start, "sep")      # a product with a [1 H], never a slice
        self._put(char, start, end, "other")
        self.stack.append("[" if char == "[" and concat else "(")

    def close_bracket(self, char, start, end):
        if self.stack:
            self.stack.pop()
        self._put(char, start, end, "other")

    def _last_visible(self):
        return self.chars[-1] if self.chars else ""

    # -- reading
    def run(self):
        src = self.src
        body_start, body_end = 0, len(src)
        lhs = claim = shape = None
        eq = self._top_level(lambda i: src[i] == "=", 0, len(src))
        if eq:
            body_start = eq[-1] + 1
            lhs = src[:eq[-1]].strip()
        ins = self._top_level(lambda i: src.startswith("\\in", i) and not src[i + 3:i + 4].isalpha(),
                              body_start, len(src))
        if ins:
            body_end = ins[0]
            claim = src[ins[0]:].strip().rstrip("$").strip()
            match = _SHAPE_CLAIM.match(claim)
            if match:
                shape = tuple(int(g) for g in match.groups() if g is not None)
        self.sequence(body_start, body_end)
        plain = "".join(self.chars)
        return Translation(src, plain, list(self.spans), lhs, claim, shape)

    def _top_level(self, test, start, end):
        """Positions in ``[start, end)`` outside every brace, bracket and parenthesis where ``test`` holds."""
        depth, hits, i, src = 0, [], start, self.src
        while i < end:
            c = src[i]
            if c == "\\" and i + 1 < end and not src[i + 1].isalpha():
                if depth == 0 and test(i):
                    hits.append(i)
                i += 2
                continue
            if c in "{([":
                depth += 1
            elif c in "})]":
                depth -= 1
            elif depth == 0 and test(i):
                hits.append(i)
            i += 1
        return hits

    def command_at(self, i):
        """The command starting at backslash ``i``: ``(name, end)``; a non-letter command is one character."""
        src, j = self.src, i + 1
        if j >= len(src):
            raise _Unsupported("a lone backslash at the end", i, i + 1)
        if not src[j].isalpha():
            return src[j], j + 1
        while j < len(src) and src[j].isalpha():
            j += 1
        return src[i + 1:j], j

    def group(self, i, end):
        """The argument at ``i``: a ``{…}`` group or one character or one command.
        Returns ``(content_start, content_end, next_i)``."""
        src = self.src
        while i < end and src[i] in " \t\n":
            i += 1
        if i >= end:
            raise _Unsupported("an argument is missing here", max(0, end - 1), end)
        if src[i] == "{":
            depth, j = 0, i
            while j < end:
                if src[j] == "\\":
                    j += 2
                    continue
                if src[j] == "{":
                    depth += 1
                elif src[j] == "}":
                    depth -= 1
                    if depth == 0:
                        return i + 1, j, j + 1
                j += 1
            raise _Unsupported("'{' is never closed", i, i + 1)
        if src[i] == "\\":
            _, j = self.command_at(i)
            return i, j, j
        return i, i + 1, i + 1

    def sequence(self, i, end):
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _Unsupported(f"the formula is nested more than {MAX_NESTING} levels deep", i, i + 1)
        while i < end:
            i = self.item(i, end)
        self.depth -= 1

    def item(self, i, end):
        src = self.src
        c = src[i]
        if c in " \t\n\r~":
            self.space(i, i + 1)
            return i + 1
        if c == "$":
            return i + 1
        if c.isalpha() or c in "σδŷ":
            j = i
            while j < end and (src[j].isalnum() or src[j] in "σδŷ\u0302"):
                j += 1
            return self.name_suffix(src[i:j], i, j, end)
        if c.isdigit() or (c == "." and i + 1 < end and src[i + 1].isdigit()):
            j = i
            while j < end and (src[j].isdigit() or src[j] == "."):
                j += 1
            self.emit(src[i:j], i, j, "num")
            return j
        if c == "\\":
            return self.command(i, end)
        if c == "{":
            start, stop, nxt = self.group(i, end)
            if stop > start and src[start:stop].strip():
                self.open_bracket("(", i, i + 1)
                self.sequence(start, stop)
                self.close_bracket(")", stop, nxt)
            return nxt
        if c == "}":
            raise _Unsupported("unmatched '}'", i, i + 1)
        if c == "^":
            return self.superscript(i, end)
        if c == "_":
            raise _Unsupported("a subscript must follow a name, as in W_3", i, i + 1)
        if c == "[":
            return self.bracket(i, i + 1, end)
        if c in "(":
            self.open_bracket("(", i, i + 1)
            return i + 1
        if c in ")]":
            self.close_bracket(c, i, i + 1)
            return i + 1
        if c == "&":
            self._put(",", i, i + 1, "other")
            return i + 1
        self._put(c, i, i + 1, "other")
        return i + 1

    def bracket(self, start, after, end, concat=None):
        """An opening ``[`` (at ``start``; the text after it starts at ``after``): a slice when a ``:``
        comes before its ``]``, else a ``[1 H]``."""
        if concat is None:
            depth, j, concat = 0, after, True
            while j < end:
                if self.src[j] in "[({":
                    depth += 1
                elif self.src[j] in "])}":
                    if depth == 0:
                        break
                    depth -= 1
                elif self.src[j] == ":" and depth == 0:
                    concat = False
                    break
                j += 1
        self.open_bracket("[", start, after, concat)
        return after

    def name_suffix(self, name, start, i, end):
        """A name read from ``start``; take its subscripts and a layer superscript such as ``^{(2)}``."""
        src, transpose = self.src, None
        while i < end:
            if src[i] == "_":
                s, e, nxt = self.group(i + 1, end)
                content = re.sub(r"\\(mathrm|rm|text|mathit)\s*\{([^{}]*)\}", r"\2", src[s:e]).replace(" ", "")
                if not content or not content.isalnum():
                    raise _Unsupported("a subscript must be a layer number or a name, as in W_3 or W_{3}",
                                       i, nxt)
                name += content
                i = nxt
            elif src[i] == "^":
                s, e, nxt = self.group(i + 1, end)
                match = _LAYER_INDEX.match(src[s:e])
                if not match:
                    break
                name += match.group(1)
                if match.group(2):
                    transpose = (i, nxt)
                i = nxt
            else:
                break
        if name.lower() in _NAMED_FUNCTIONS:                    # ReLU, Softmax: the function
            name = _NAMED_FUNCTIONS[name.lower()]
        self.emit(name, start, i, "name")
        if transpose:
            self._put("ᵀ", transpose[0], transpose[1], "other")
        return i

    def superscript(self, i, end):
        s, e, nxt = self.group(i + 1, end)
        arg = self.src[s:e].strip()
        braced = self.src[i + 1:nxt].strip()
        if arg in _TRANSPOSE_MARKS or braced in _TRANSPOSE_MARKS or arg == r"\top":
            self._put("ᵀ", i, nxt, "other")
        elif arg in _PRIME_MARKS or braced in _PRIME_MARKS:
            self._put("'", i, nxt, "other")
        elif re.fullmatch(r"\d+(\.\d+)?", arg):
            self._put("^" + arg, i, nxt, "other")
        else:
            raise _Unsupported(f"'^{braced}' is not supported: a superscript is a transpose (^T, ^\\top), a "
                               f"prime (^\\prime), a power (^2) or a layer index after a name (W^{{(2)}}); "
                               f"supported: {SUPPORTED}", i, nxt)
        return nxt

    def command(self, i, end):
        """The command at backslash ``i``, read into tokens; returns where reading goes on."""
        name, j = self.command_at(i)
        if name in _SPACES:
            if _SPACES[name]:
                self.space(i, j)
            return j
        if name in ("(", ")", "[", "]"):
            return j                                            # \( \) \[ \]: math delimiters
        if name in _SIZING:
            return self._sized(name, i, j, end)
        if name in _DELIMITERS:
            return self._delimiter(_DELIMITERS[name], i, j, j, end)
        if name in _OPERATORS:
            self._put(_OPERATORS[name], i, j, "other")
            return j
        if name in _FUNCTIONS:
            self.emit(_FUNCTIONS[name], i, j, "name")
            return j
        if name in _NAMES:
            return self.name_suffix(_NAMES[name], i, j, end)
        if name in _HATS or name in _BARS:
            return self._accented(name, i, j, end)
        if name in _STYLES:
            return self._styled(name, i, j, end)
        if name in _FRACTIONS:
            return self._fraction(i, j, end)
        if name == "begin":
            return self._matrix(i, j, end)
        if name == "\\":
            self._put(";", i, j, "other")
            return j
        if name in ("{", "}", "|"):
            raise _Unsupported(f"'\\{name}' is not supported; use ( ) or [ ]; supported: {SUPPORTED}", i, j)
        raise _Unsupported(f"unsupported LaTeX command \\{name}; supported: {SUPPORTED}", i, j)

    def _sized(self, name, i, j, end):
        """``\\left`` / ``\\right`` (ending at ``j``) and the delimiter after it, or ``.`` for none."""
        src, k = self.src, j
        while k < end and src[k] == " ":
            k += 1
        if k < end and src[k] == ".":
            return k + 1                                        # \left. \right.: no delimiter
        if k < end and src[k] == "\\":
            inner, k2 = self.command_at(k)
            if inner in _DELIMITERS:
                return self._delimiter(_DELIMITERS[inner], i, k2, k2, end)
            raise _Unsupported(f"\\{name}\\{inner}: only ( ) [ ] can follow \\{name}; "
                               f"supported: {SUPPORTED}", k, k2)
        if k < end and src[k] in "()[]":
            return self._delimiter(src[k], i, k + 1, k + 1, end)
        raise _Unsupported(f"\\{name} must be followed by a bracket ( ) [ ] or '.'", i, j)

    def _accented(self, name, i, j, end):
        """``\\hat{y}`` (the output ŷ) or ``\\bar{W}_l`` (W_l without its bias row); nothing else."""
        s, e, nxt = self.group(j, end)
        inner = _strip_styles(self.src[s:e])
        if name in _HATS:
            if inner != "y":
                raise _Unsupported(f"\\{name} is read only over y (\\hat{{y}}, the network's output)", i, nxt)
            return self.name_suffix("yhat", i, nxt, end)
        match = _BARRED.match(inner)
        if not match or match.group(1) != "W":
            raise _Unsupported(f"\\{name} is read only over a weight matrix (\\bar{{W}}_3: W_3 without its "
                               f"bias row)", i, nxt)
        return self.name_suffix("Wbar" + (match.group(2) or ""), i, nxt, end)

    def _styled(self, name, i, j, end):
        """``\\mathbf{W}``, ``\\rm{relu}``, …: a style over a name, a number or a function's name."""
        src = self.src
        s, e, nxt = self.group(j, end)
        inner = _strip_styles(src[s:e])
        if inner.lower() in _NAMED_FUNCTIONS and inner not in ("y",):
            self.emit(_NAMED_FUNCTIONS[inner.lower()], i, nxt, "name")
            return nxt
        if re.fullmatch(r"\d+", inner):
            self.emit(inner, i, nxt, "num")
            return nxt
        if re.fullmatch(r"[A-Za-z]+\d*", inner):
            return self.name_suffix(inner, i, nxt, end)
        if inner == r"\delta":
            return self.name_suffix("delta", i, nxt, end)
        raise _Unsupported(f"\\{name}{{{src[s:e]}}}: a style is read over a name, a number or a function "
                           f"name (diag, relu, softmax, sigmoid, tanh)", i, nxt)

    def _fraction(self, i, j, end):
        """``\\frac{a}{b}`` as ``((a) / (b))``."""
        src = self.src
        s1, e1, n1 = self.group(j, end)
        s2, e2, n2 = self.group(n1, end)
        self.open_bracket("(", i, n2)
        self.open_bracket("(", s1 - 1 if src[s1 - 1:s1] == "{" else s1, s1)
        self.sequence(s1, e1)
        self.close_bracket(")", e1, n1)
        self._put("/", i, j, "other")
        self.open_bracket("(", s2 - 1 if src[s2 - 1:s2] == "{" else s2, s2)
        self.sequence(s2, e2)
        self.close_bracket(")", e2, n2)
        self.close_bracket(")", i, n2)
        return n2

    def _matrix(self, i, j, end):
        """``\\begin{bmatrix} … \\end{bmatrix}`` (or pmatrix) as ``[ … ]``, rows split by ``;``."""
        src = self.src
        s, e, nxt = self.group(j, end)
        env = src[s:e].strip()
        if env not in _MATRICES:
            raise _Unsupported(f"\\begin{{{env}}}: only a bmatrix or pmatrix is read; supported: "
                               f"{SUPPORTED}", i, nxt)
        closing = src.find(r"\end", nxt, end)
        if closing < 0:
            raise _Unsupported(f"\\begin{{{env}}} is never ended", i, nxt)
        _, _, after = self.group(closing + 4, end)
        self.open_bracket("[", i, nxt)
        self.sequence(nxt, closing)
        self.close_bracket("]", closing, after)
        return after

    def _delimiter(self, char, start, after_tok, after, end):
        if char == "[":
            return self.bracket(start, after, end)
        if char == "(":
            self.open_bracket("(", start, after_tok)
        else:
            self.close_bracket(char, start, after_tok)
        return after


def _strip_styles(text):
    """``\\mathbf{y}`` → ``y``; spaces removed."""
    previous = None
    text = text.strip()
    while previous != text:
        previous = text
        text = re.sub(r"\\(?:mathbf|boldsymbol|bm|vec|mathrm|rm|bf|mathit|text|operatorname|mathsf)\s*\{([^{}]*)\}",
                      r"\1", text).strip()
        if text.startswith("{") and text.endswith("}"):
            text = text[1:-1].strip()
    return text.replace(" ", "")

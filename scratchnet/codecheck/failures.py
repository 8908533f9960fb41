"""What can go wrong when the learner's code runs, as data.

* `LearnerCodeError` (exit 2): the code could not be checked at all — its file does not import, has no
  such function, raises, never returns, returns None, the wrong number of arrays, NaN or something that
  is not arrays. The message is one line; ``line`` is the learner's own ``file:line`` where it helps.
* `Crash`: an exception raised inside the learner's code, with the frames of *their* files only (never
  scratchnet's or NumPy's); a NumPy shape mismatch among them is the learner's ``shape_error`` (exit 1),
  read by `shape_mismatch`.
"""

import re
from dataclasses import dataclass, field

from ..errors import ScratchnetError

EXIT_CODE = 2
"""The exit status of code that could not be checked."""


class LearnerCodeError(ScratchnetError):
    """The learner's code could not be checked (exit 2). ``kind`` is one of ``import``,
    ``missing_function``, ``raised``, ``timeout``, ``returned_none``, ``wrong_count``, ``not_finite``,
    ``not_arrays``; ``line`` the learner's ``file:line`` (or None)."""

    exit_code = EXIT_CODE

    def __init__(self, message, kind, line=None):
        super().__init__(message, field="code")
        self.kind = kind
        self.line = line

    def to_json(self):
        return {"error": str(self), "kind": self.kind, "line": self.line}


@dataclass(frozen=True)
class Frame:
    """One frame of the learner's traceback: ``file``, ``line``, ``function`` and the source ``text``."""

    file: str
    line: int
    function: str
    text: str

    def where(self):
        import os
        return f"{os.path.basename(self.file)}:{self.line}"


@dataclass(frozen=True)
class Crash:
    """An exception in the learner's code: its type's name, message and the learner's own frames."""

    type_name: str
    message: str
    frames: tuple = field(default_factory=tuple)

    @property
    def last(self):
        return self.frames[-1] if self.frames else None

    def error(self, batch, who="code"):
        """This crash as the one-line `LearnerCodeError` (the learner's last line, their exception);
        ``who`` names the function (``code``, ``forward``)."""
        where = f" at {self.last.where()} ({self.last.text.strip()})" if self.last else ""
        message = self.message.strip().splitlines()[0] if self.message.strip() else ""
        said = f"{self.type_name}: {message}" if message else self.type_name
        return LearnerCodeError(f"your {who} raised {said[:200]}{where[:160]}, with B = {batch}", "raised",
                                self.last.where() if self.last else None)


_BROADCAST = re.compile(r"operands could not be broadcast together with shapes? ((?:\([\d, ]*\)\s*)+)")
_MATMUL = re.compile(r"matmul: Input operand \d has a mismatch in its core dimension \d.*\(size (\d+) is different "
                     r"from (\d+)\)")
_DOT = re.compile(r"shapes (\([\d, ]*\)) and (\([\d, ]*\)) not aligned")
_SHAPE = re.compile(r"\(([\d, ]*)\)")


def _shapes(text):
    return [tuple(int(v) for v in m.group(1).replace(" ", "").split(",") if v) for m in _SHAPE.finditer(text)]


@dataclass(frozen=True)
class ShapeMismatch:
    """A NumPy shape mismatch inside the learner's code: the operation (``broadcast``, ``matmul`` or
    ``dot``), the shapes NumPy names (for matmul only the two sizes that differ) and the crash."""

    operation: str
    shapes: tuple
    crash: Crash


def shape_mismatch(crash):
    """The `ShapeMismatch` a crash is, or None when it is some other error."""
    if crash.type_name != "ValueError":
        return None
    m = _BROADCAST.search(crash.message)
    if m:
        return ShapeMismatch("broadcast", tuple(_shapes(m.group(1))), crash)
    m = _DOT.search(crash.message)
    if m:
        return ShapeMismatch("dot", (_shapes(m.group(1))[0], _shapes(m.group(2))[0]), crash)
    m = _MATMUL.search(crash.message)
    if m:
        return ShapeMismatch("matmul", ((int(m.group(1)),), (int(m.group(2)),)), crash)
    return None

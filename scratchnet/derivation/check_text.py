"""The text and JSON of a `check.CheckResult`, from the result's data (its HTML is in `html`).

`rows` gives each printed line as ``(kind, text)`` so that a renderer (the command line's colours) styles a
line by its kind, never by reading it; `lines` adds `ROW_PREFIX`; `to_json` is what ``scratchnet check
--json`` prints and the lab answers.
"""

from .evaluate import shape_text
from .formula import display_width

ROW_PREFIX = {"trace": "  ", "failure": "  ✗ ", "verdict": "Verdict: ", "hint": "Hint: "}
"""How each kind of `rows` row starts when printed as text."""


def rows(result):
    """The result as ``(kind, text)`` rows, the lines ``scratchnet check`` prints without their
    prefixes (`ROW_PREFIX`): ``expected`` (the expected shape), ``note`` (the convention for a
    factor), ``heading``, ``trace`` (one subexpression's shape, up to the failure), ``failure``,
    ``verdict`` (the verdict and `diagnoses_text`), ``message``, ``hint`` and ``derivation`` (the
    derivation's own formula). A renderer styles a row by its kind, never by its text."""
    bias = ", separate bias" if result.bias == "separate" else ""
    out = [("expected", f"{result.target} ({result.convention} convention{bias}, B = {result.batch}) should be "
                        f"{shape_text(result.expected_shape)}.")]
    if result.jacobian_note:
        out.append(("note", result.jacobian_note))
    out.append(("heading", "Shapes, subexpression by subexpression:"))
    shown = [e for e in result.trace if type(e.node).__name__ != "Num"]
    width = max((display_width(e.text) for e in shown), default=0)
    for entry in shown:
        note = f"  ({entry.note})" if entry.note else ""
        pad = " " * (width - display_width(entry.text))       # W̄, ŷ: a combining mark takes no column
        out.append(("trace", f"{entry.text}{pad}  {shape_text(entry.shape)}{note}"))
    if result.failure is not None:
        out.append(("failure", f"{result.failure.text}: {result.failure.message}"))
    out.append(("verdict", result.verdict + diagnoses_text(result)))
    out.append(("message", result.message))
    out += [("hint", hint) for hint in result.hints]
    if result.verdict != "correct" and result.factor is not None and result.factor != f"∂L/∂{result.wrt}":
        out.append(("derivation", f"The true factor: {result.factor} = {result.derivation}"))
    elif result.verdict != "correct":
        out.append(("derivation", f"The derivation gives: ∂L/∂{result.wrt} = {result.derivation}"))
    return out


def diagnoses_text(result):
    """What follows the verdict on its line: ``"  diagnoses: bias_row, …"``, or ``""``."""
    return f"  diagnoses: {', '.join(result.diagnoses)}" if result.diagnoses else ""


def lines(result):
    """The result as the lines ``scratchnet check`` prints (`rows` with their prefixes)."""
    return [ROW_PREFIX.get(kind, "") + text for kind, text in rows(result)]


def to_json(result):
    """The object ``scratchnet check --json`` prints (and the lab answers)."""
    return {"verdict": result.verdict,
            "shape": list(result.shape) if result.shape is not None else None,
            "expected_shape": list(result.expected_shape),
            "max_abs_error": result.max_abs_error,
            "diagnoses": list(result.diagnoses),
            "message": result.message,
            "wrt": result.wrt, "factor": result.factor, "convention": result.convention, "bias": result.bias,
            "batch": result.batch, "corrected": result.corrected, "derivation": result.derivation,
            "hints": list(result.hints), "jacobian_note": result.jacobian_note,
            "claimed_shape": list(result.claimed_shape) if result.claimed_shape is not None else None,
            "trace": [{"text": e.text, "shape": list(e.shape), "note": e.note} for e in result.trace
                      if type(e.node).__name__ != "Num"],
            "failure": None if result.failure is None else {"text": result.failure.text,
                                                            "message": result.failure.message}}

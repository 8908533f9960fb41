"""HTML for notebooks: small shared helpers, and the gradient check's report as a table.

Jupyter shows an object through its ``_repr_html_``; the result classes of `gradient_check`, `check` and
`derive` return what the functions here (and in `derivation.html`) build. Everything a user typed, and every
number, goes through `escape`. Formulas are shown as MathML when `latex2mathml` is installed (the
``notebook`` extra) and as plain text in ``<code>`` otherwise, so nothing here needs it to work.
"""

import html as _html

VERDICT_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "correct": "#1a7f37", "shape_error": "#cf222e",
                   "wrong_value": "#bc4c00"}
TABLE_STYLE = "border-collapse:collapse;margin:0.4em 0"
CELL_STYLE = "border:1px solid #d0d7de;padding:2px 8px;text-align:left;vertical-align:top"


def escape(value):
    """Any value as HTML-safe text (``<``, ``>``, ``&`` and quotes escaped)."""
    return _html.escape(str(value), quote=True)


def math(latex, fallback=None):
    """A LaTeX formula as inline MathML, or ``fallback`` (plain text, escaped) in ``<code>`` when
    `latex2mathml` is missing or cannot read it."""
    try:
        from latex2mathml.converter import convert
        return convert(latex)
    except Exception:                                    # missing package or a formula it cannot read
        return f"<code>{escape(fallback if fallback is not None else latex)}</code>"


def badge(word, key=None):
    """A coloured word, e.g. the verdict."""
    colour = VERDICT_COLOURS.get(key or word, "#57606a")
    return f'<strong style="color:{colour}">{escape(word)}</strong>'


def table(header, rows, raw_columns=(), highlight=None):
    """An HTML table. Cells are escaped except in ``raw_columns`` (already HTML, e.g. MathML); the row
    at index ``highlight`` is shaded."""
    head = "".join(f'<th style="{CELL_STYLE}">{escape(h)}</th>' for h in header)
    body = []
    for k, row in enumerate(rows):
        shade = ' style="background:#fff8c5"' if k == highlight else ""
        cells = "".join(f'<td style="{CELL_STYLE}">{cell if j in raw_columns else escape(cell)}</td>'
                        for j, cell in enumerate(row))
        body.append(f"<tr{shade}>{cells}</tr>")
    return f'<table style="{TABLE_STYLE}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def bullets(items, raw=False):
    """A ``<ul>``; items are escaped unless ``raw``."""
    if not items:
        return ""
    return "<ul>" + "".join(f"<li>{item if raw else escape(item)}</li>" for item in items) + "</ul>"


def gradcheck_html(report):
    """A `GradCheckReport` as HTML: the per-layer table, the worst entries and the verdict.

    Parameters
    ----------
    report : gradcheck.GradCheckReport

    Returns
    -------
    str
    """
    header, rows = report.table()
    verdict = "pass" if report.passed else "fail"
    lines = report.summary()
    return (f"<div><p>Gradient check of {escape(report.network)}: {badge(verdict.upper(), verdict)}</p>"
            f"{table(header, rows)}"
            f"{bullets(report.worst_entries())}"
            f"<p>{'<br>'.join(escape(line) for line in lines)}</p></div>")

"""A `CodeCheckResult` as HTML for a notebook: the verdict, one table row per layer from the output back
(the first wrong one shaded), each mistake with its right formula and hint. All text escaped."""

from ..html import badge, bullets, escape, table


def result_html(result):
    """``result`` (a `CodeCheckResult`) as an HTML fragment."""
    run = result.main
    head = (f"<p>{badge(result.verdict.replace('_', ' '), result.verdict)} {escape(result.header())} "
            f"(judged at B = {run.B})</p>")
    rows, shaded = [], None
    for k, r in enumerate(run.layers):
        if r.layer == run.first_wrong_layer:
            shaded = k
        if r.status == "shape_error":
            rows.append((f"W{r.layer}", f"{r.problem.got} not {r.problem.expected}", "shape error", ""))
        else:
            why = {"inherited": f"wrong only because of layer {r.because_of}", "unexplained": "wrong (no known mistake)",
                   "wrong_below": "wrong"}.get(r.status, r.status)
            rows.append((f"W{r.layer}", f"{r.max_abs_error:.2g}", why, r.where or ""))
    body = table(("layer", "max error", "", "worst entry"), rows, highlight=shaded)
    notes = bullets(result.summary())
    mistakes = []
    for d in result.mistakes:
        items = [f"<b>{escape(', '.join(d.codes))}</b>: {escape(d.words)}"]
        items += [f"right: <code>{escape(a)} = {escape(b)}</code>" for a, b in d.corrected]
        items += [f"hint: {escape(h)}" for h in d.hints]
        mistakes.append(bullets(items, raw=True))
    crash = ""
    if run.crash is not None:
        crash = f"<p>your code stopped at <code>{escape(run.crash.where)}</code>: <code>{escape(run.crash.text)}</code>" \
                f" — {escape(run.crash.message)}</p>"
    return "<div class='scratchnet-check-code'>" + head + crash + body + notes + "".join(mistakes) + "</div>"

"""A `CodeCheckResult` as HTML for a notebook: the verdict, one table row per layer from the output back
(the first wrong one shaded), each mistake with its right formula and hint. All text escaped."""

from ..html import badge, bullets, escape, table


def result_html(result):
    """``result`` (a `CodeCheckResult`) as an HTML fragment."""
    run = result.main
    head = (f"<p>{badge(result.verdict.replace('_', ' '), result.verdict)} {escape(result.header())} "
            f"(judged at B = {run.B})</p>")
    head += _forward_html(result)
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
    body = table(("layer", "max error", "", "worst entry"), rows, highlight=shaded) if rows else ""   # a crash: no layers
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


def _forward_html(result):
    """The forward pass (when one was given): one line when right, else the headline and a row per layer."""
    if not result.forward:
        return ""
    if not result.forward_wrong:
        return "<p>Forward pass: right at every layer.</p>"
    run = result.forward_main
    rows = []
    for r in run.layers:
        if r.status == "shape_error":
            rows.append((r.name, f"{r.problem.got} not {r.problem.expected}", "shape error", ""))
        elif r.status == "not_returned":
            rows.append((r.name, "", "not returned", ""))
        else:
            why = {"wrong": f"wrong: {r.code}", "unexplained": "wrong (no known mistake)",
                   "inherited": "wrong only because of the layer before"}.get(r.status, r.status)
            rows.append((r.name, f"{r.max_abs_error:.2g}", why, r.where or ""))
    first = run.first_wrong_layer
    shaded = next((k for k, r in enumerate(run.layers) if r.layer == first), None)
    notes = [f"{r.name}: {r.words}" for r in run.layers if r.words]
    notes += [f"right: {r.right_formula}" for r in run.layers if r.own_mistake]
    return (f"<p><b>{escape(result.forward_headline())}</b></p>"
            + table(("activation", "max error", "", "worst entry"), rows, highlight=shaded) + bullets(notes))

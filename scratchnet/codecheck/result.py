"""`CodeCheckResult`: what `check_code` found, as data, with its text (`lines`), JSON (`to_json`) and
HTML (`_repr_html_`) renderings of that same data."""

from dataclasses import dataclass

from .analyse import shape_found
from .formulas import corrected, hint
from .spec import LOSS_TEXT

EXIT_CODES = {"correct": 0, "shape_error": 1, "wrong_value": 1}
_RANK = {"correct": 0, "wrong_value": 1, "shape_error": 2}


def _shape(s):
    return "×".join(map(str, s)) if s else "?"


@dataclass
class Diagnosis:
    """One mistake named: ``codes``, the ``layer`` and ``site`` (``delta``: how δ_l is computed; ``dW``:
    how ∂L/∂W_l is; ``shape``: the returned shape; ``code``: a shape mismatch inside the code),
    ``words``, the fitted ``value`` (a factor or learning rate, or None), the right formulas there in
    the learner's convention and one hint per code."""

    codes: tuple
    layer: int
    site: str
    words: str
    value: float
    corrected: list
    hints: list
    batch: int

    def to_json(self):
        return {"codes": list(self.codes), "layer": self.layer, "site": self.site, "words": self.words,
                "value": self.value, "batch": self.batch,
                "corrected": [{"left": a, "right": b} for a, b in self.corrected], "hints": list(self.hints)}


def _judged(runs, batch):
    """The run a result is judged by: at ``batch``, unless that one is right and the one at B = 1 is not."""
    wrong_only_at_one = runs[batch].verdict == "correct" and runs.get(1, runs[batch]).verdict != "correct"
    return runs[1] if wrong_only_at_one else runs[batch]


class CodeCheckResult:
    """The check of a learner's backward pass at ``batch`` (``runs[B]``) and at one example (``runs[1]``),
    and of their forward pass when they gave one (``forward[B]``, `forwardcheck.ForwardRun`).

    ``verdict`` is the worst of them all (a wrong forward pass makes it ``wrong_value`` at least);
    ``first_wrong_layer`` the largest ``l`` whose gradient is wrong, ``first_wrong_forward_layer`` the
    smallest ``l`` whose ``H_l`` is; ``diagnoses`` the codes of the gradients' mistakes named,
    ``mistakes`` the `Diagnosis` of each.
    """

    def __init__(self, spec, batch, runs, source=None, printed="", seed=0, forward=None):
        self.spec, self.batch, self.runs, self.source, self.printed, self.seed = spec, batch, runs, source, printed, seed
        self.forward = forward
        verdicts = [r.verdict for r in runs.values()] + [r.verdict for r in (forward or {}).values()]
        self.verdict = max(verdicts, key=_RANK.get)
        self.main = _judged(runs, batch)
        self.forward_main = _judged(forward, batch) if forward else None
        self.mistakes = self._mistakes(self.main)

    # ------------------------------------------------------------------ the data

    @property
    def exit_code(self):
        return EXIT_CODES[self.verdict]

    @property
    def first_wrong_layer(self):
        return self.main.first_wrong_layer

    @property
    def forward_wrong(self):
        """A forward pass was given and is wrong (value or shape) at some batch size."""
        return bool(self.forward) and any(r.verdict != "correct" for r in self.forward.values())

    @property
    def first_wrong_forward_layer(self):
        """The smallest ``l`` whose ``H_l`` (``ŷ`` for ``l = L``) is wrong, or None (also without a forward)."""
        return self.forward_main.first_wrong_layer if self.forward_main else None

    @property
    def diagnoses(self):
        out = []
        for d in self.mistakes:
            out += [c for c in d.codes if c not in out]
        return out

    @property
    def vanishes_at_one(self):
        """Wrong at ``B`` and right at ``B = 1``: a mistake in how the batch is summed or averaged."""
        return 1 in self.runs and self.batch != 1 and self.runs[self.batch].verdict != "correct" \
            and self.runs[1].verdict == "correct"

    @property
    def only_at_one(self):
        return 1 in self.runs and self.batch != 1 and self.runs[self.batch].verdict == "correct" \
            and self.runs[1].verdict != "correct"

    @property
    def inherited(self):
        """``{l: m}``: layer ``l`` is wrong only because of the mistake at layer ``m``."""
        return {r.layer: r.because_of for r in self.main.layers if r.status == "inherited"}

    def _mistakes(self, run):
        spec, out = self.spec, []
        for f in run.found:
            what = f"∂L/∂W{f.layer}"
            out.append(Diagnosis(f.codes, f.layer, f.site, f.words, f.value, corrected(spec, f.layer, f.site),
                                 [h for h in (hint(spec, c, what, run.B) for c in f.codes) if h], run.B))
        for site, layer, codes, words in shape_found(run):
            l = layer if layer is not None else None
            fix = corrected(spec, l, "delta") if l is not None else []
            what = f"∂L/∂W{l}" if l is not None else "∂L/∂W"
            out.append(Diagnosis(codes, l, site, words, None, fix,
                                 [h for h in (hint(spec, c, what, run.B) for c in codes) if h], run.B))
        return sorted(out, key=lambda d: -(d.layer if d.layer is not None else spec.L + 1))

    # ------------------------------------------------------------------ renderings

    def header(self):
        s = self.spec
        return (f"{self.source or 'your code'}: {s.text()}, {s.notation()} ({s.convention} convention), "
                f"{LOSS_TEXT[s.loss]}")

    def layer_lines(self, run):
        out = []
        for r in run.layers:
            name = f"W{r.layer} ({_shape(r.expected_shape)})"
            if r.status == "shape_error":
                p = r.problem
                out.append(f"  {name:<16} shape error: {p.name} is {_shape(p.got)}, not {_shape(p.expected)}")
                continue
            err = (f"‖yours − true‖/‖true‖ = {r.norm_error:.2g}, worst at {r.where} (yours {r.yours:.6g}, "
                   f"true {r.true:.6g})")
            text = {"right": f"right       max error {r.max_abs_error:.1e}",
                    "wrong": f"WRONG       {err}",
                    "inherited": f"wrong only because of layer {r.because_of}: {err}",
                    "unexplained": f"WRONG       {err}; no known mistake gives these numbers",
                    "wrong_below": f"wrong       {err} (below the unexplained layer)"}[r.status]
            if r.layer == run.first_wrong_layer:
                text += "   ← first wrong layer"
            out.append(f"  {name:<16} {text}")
        return out

    def forward_headline(self):
        """The sentence a wrong forward pass puts first, or None."""
        if not self.forward_wrong:
            return None
        run, l = self.forward_main, self.forward_main.first_wrong_layer
        if run.crash is not None:
            return f"Your forward pass stopped at {run.crash.where}: every gradient below depends on it."
        if l is None:
            return ("Your forward pass is wrong at ŷ: every gradient depends on it (return the list of every "
                    "layer's activations to see from which layer on).")
        name = f"H{l}" if l < self.spec.L else "ŷ"
        return (f"Your forward pass is wrong from {name} on: every gradient below depends on it."
                if l < self.spec.L else "Your forward pass is wrong at ŷ: every gradient depends on it.")

    def forward_lines(self):
        """The forward pass's lines: one when it is right, else every layer from the input on, the other
        batch size and the mistakes named with the right formula."""
        runs, run = self.forward, self.forward_main
        names = ", ".join(r.name for r in run.layers) if run.layers else "every layer"
        if not self.forward_wrong:
            at = f"B = {self.batch}" + (" and at B = 1" if 1 in runs and self.batch != 1 else "")
            what = "ŷ (the only layer returned)" if run.output_only else f"every layer ({names})"
            return [f"Forward pass: right at {what}, at {at}.", ""]
        out = [f"Forward pass at B = {run.B}, from the input on:"]
        if run.crash is not None:
            out.append(f"  your forward stopped at {run.crash.where}: {run.crash.text}")
            out.append(f"  NumPy: {run.crash.message}")
        first = run.first_wrong_layer
        for r in run.layers:
            name = f"{r.name} ({_shape(r.shape)})"
            if r.status == "shape_error":
                p = r.problem
                text = f"shape error: {r.name} is {_shape(p.got)}, not {_shape(p.expected)}" + \
                    (f": {p.words}" if p.words else "")
            elif r.status == "not_returned":
                text = "not returned (only ŷ came back)"
            else:
                err = (f"‖yours − true‖/‖true‖ = {r.norm_error:.2g}, worst at {r.where} (yours {r.yours:.6g}, "
                       f"true {r.true:.6g})")
                previous = "x" if r.layer == 1 else f"H{r.layer - 1}"
                text = {"right": f"right       max error {r.max_abs_error:.1e}",
                        "wrong": f"WRONG       {err}",
                        "unexplained": f"WRONG       {err}; no known mistake gives these numbers",
                        "inherited": f"wrong only because of {previous}: {err}"}[r.status]
            if r.layer == first:
                text += "   ← first wrong layer"
            out.append(f"  {name:<16} {text}")
        for B, other in runs.items():
            if B == run.B:
                continue
            if other.verdict == "correct":
                out.append(f"At B = {B}: right in every layer.")
            else:
                l = other.first_wrong_layer
                out.append(f"At B = {B}: {other.verdict}" + (f", first wrong layer {run.layers[l - 1].name}"
                                                            if l else ""))
        for r in run.layers:
            if r.status == "wrong":
                out.append(f"Mistake in {r.name} ({r.code}): {r.words}")
            if r.own_mistake:
                out.append(f"  right: {r.right_formula}")
        if run.crash is not None and run.crash.words:
            out.append(f"Mistake where your forward stopped ({', '.join(run.crash.codes)}): {run.crash.words}")
        judged = next((r for r in run.layers if r.layer == first and r.tolerance is not None), None)
        if judged is not None:
            out.append(f"An entry of {judged.name} passes when |yours − true| ≤ max(atol, rtol·max(|yours|, |true|)), "
                       f"rtol {judged.tolerance.rtol:.1g}, atol {judged.tolerance.atol:.1e} (the rounding of your "
                       f"arithmetic up to {judged.name}).")
        if run.output_only and first is None:
            out.append(f"No known mistake of the output layer gives your ŷ from the true H{self.spec.L - 1}: "
                       f"return [H1, …, ŷ] to see from which layer it is wrong.")
        out.append("")
        return out

    def lines(self):
        """The result as the lines ``scratchnet check-code`` prints."""
        run = self.main
        other = [B for B in self.runs if B != run.B]
        headline = self.forward_headline()
        out = [self.header()] + ([headline] if headline else []) + [
            f"Checked at random weights and a random batch of B = {self.batch}"
            + (" and of B = 1" if 1 in self.runs and self.batch != 1 else "")
            + f" (seed {self.seed}), against the true " + ("forward pass and " if self.forward else "")
            + "gradients in float64.", ""]
        if self.forward:
            out += self.forward_lines()
        out.append(f"At B = {run.B}, from the output back:")
        if run.crash is not None:
            c = run.crash
            out.append(f"  your code stopped at {c.where}: {c.text}")
            out.append(f"  NumPy: {c.message}")
        out += self.layer_lines(run)
        for B in other:
            r = self.runs[B]
            if r.verdict == "correct":
                out.append(f"At B = {B}: right in every layer.")
            else:
                out.append(f"At B = {B}: {r.verdict}" + (f", first wrong layer {r.first_wrong_layer}"
                                                        if r.first_wrong_layer else ""))
        out.append("")
        forward_codes = self.forward_main.diagnoses if self.forward_main else []
        out.append(f"Verdict: {self.verdict}" + (f"  forward: {', '.join(forward_codes)}" if forward_codes else "")
                   + (f"  diagnoses: {', '.join(self.diagnoses)}" if self.diagnoses else ""))
        out += self.summary()
        hinted = set()
        for d in self.mistakes:
            where = {"delta": f"in δ{d.layer}", "dW": f"in ∂L/∂W{d.layer}", "shape": f"in the shape of layer "
                     f"{d.layer}'s gradient", "crash": "where your code stopped"}[d.site]
            out.append(f"Mistake {where} ({', '.join(d.codes)}): {d.words}")
            for left, right in d.corrected:
                out.append(f"  right: {left} = {right}")
            out += [f"  Hint: {h}" for h in d.hints if h not in hinted]
            hinted.update(d.hints)
        tol = next((r.tolerance for r in run.layers if r.tolerance is not None), None)
        if tol is not None and any(r.verdict != "correct" for r in self.runs.values()):
            out.append(f"An entry passes when |yours − true| ≤ max(atol, rtol·max(|yours|, |true|)), rtol "
                       f"{tol.rtol:.1g} and atol the rounding of your arithmetic ({tol.atol:.1e} at layer "
                       f"{run.layers[0].layer}).")
        if self.printed.strip() and self.verdict != "correct":
            shown = self.printed.strip().splitlines()[-5:]
            out.append("Your code printed (last lines):")
            out += [f"  | {line}" for line in shown]
        return out

    def summary(self):
        """The sentences under the verdict: the first wrong layer, what came of it, B = 1."""
        run, out = self.main, []
        if self.forward_wrong:
            out.append(self.forward_headline())
            if all(r.verdict == "correct" for r in self.runs.values()):
                out.append("Your gradients are right at the true forward values: fix the forward pass your "
                           "training runs.")
                return out
        if self.verdict == "correct":
            return [f"Every gradient is right at B = {self.batch}" + (" and at B = 1." if 1 in self.runs and
                                                                    self.batch != 1 else ".")]
        first = run.first_wrong_layer
        if first is not None:
            line = f"First wrong layer: {first} (∂L/∂W{first})."
            inherited = sorted(self.inherited, reverse=True)
            if inherited:
                names = ", ".join(map(str, inherited))
                line += f" Layer{'s' if len(inherited) > 1 else ''} {names} {'are' if len(inherited) > 1 else 'is'} " \
                        f"wrong only because of it: fix layer {first} first."
            out.append(line)
        if run.unexplained is not None and self.forward_wrong:
            out.append(f"At layer {run.unexplained} no known mistake of a backward pass gives your numbers, and "
                       f"your forward pass is wrong: if your backprop uses it, that may be why. Fix the forward "
                       f"pass first, then check again.")
        elif run.unexplained is not None:
            out.append(f"At layer {run.unexplained} no known mistake (bias row, σ' factor, ⊙, transpose, layer "
                       f"number, sign, 1/B, batch sum, learning rate, early update) gives your numbers: it is "
                       f"wrong for another reason.")
        if self.vanishes_at_one and "matrix_product" in self.diagnoses:
            out.append("At B = 1 every gradient is right: with one example the elementwise product broadcasts "
                       "to the outer product, which a batch cannot do.")
        elif self.vanishes_at_one:
            out.append("At B = 1 every gradient is right: the mistake is in how the batch is summed or "
                       "averaged, which one example cannot show.")
        if self.only_at_one:
            out.append(f"Right at B = {self.batch} but not at B = 1: look for a squeeze, a sum over the wrong "
                       f"axis or shapes that only work for several examples.")
        return out

    def __str__(self):
        return "\n".join(self.lines())

    def __repr__(self):
        return (f"CodeCheckResult({self.source}, verdict={self.verdict!r}, diagnoses={self.diagnoses!r}, "
                f"first_wrong_layer={self.first_wrong_layer!r}"
                + (f", first_wrong_forward_layer={self.first_wrong_forward_layer!r})" if self.forward else ")"))

    def forward_json(self):
        """The ``forward`` object of the JSON (None without a forward pass)."""
        if not self.forward:
            return None
        run = self.forward_main
        return {"verdict": max((r.verdict for r in self.forward.values()), key=_RANK.get),
                "right": not self.forward_wrong, "first_wrong_forward_layer": run.first_wrong_layer,
                "diagnoses": run.diagnoses, "output_only": run.output_only, "judged_at_batch": run.B,
                "layers": [r.to_json() for r in run.layers],
                "shape_error_in_code": run.crash.to_json() if run.crash else None,
                "batches": {str(B): r.to_json() for B, r in self.forward.items()}}

    def to_json(self):
        """The object ``scratchnet check-code --json`` prints."""
        s = self.spec
        return {"verdict": self.verdict, "exit_code": self.exit_code, "diagnoses": self.diagnoses,
                "first_wrong_layer": self.first_wrong_layer,
                "first_wrong_forward_layer": self.first_wrong_forward_layer, "forward": self.forward_json(),
                "inherited": {str(k): v for k, v in self.inherited.items()},
                "layers": [r.to_json() for r in self.main.layers],
                "mistakes": [d.to_json() for d in self.mistakes],
                "unexplained_layer": self.main.unexplained,
                "vanishes_at_batch_1": self.vanishes_at_one, "only_at_batch_1": self.only_at_one,
                "batch": self.batch, "judged_at_batch": self.main.B,
                "batches": {str(B): r.to_json() for B, r in self.runs.items()},
                "network": s.text(), "sizes": list(s.sizes), "activations": list(s.hidden) + [s.output],
                "bias": s.bias, "convention": s.convention, "loss": s.loss, "seed": self.seed,
                "source": self.source, "summary": self.summary()}

    def _repr_html_(self):
        from .html import result_html
        return result_html(self)

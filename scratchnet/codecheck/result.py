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


class CodeCheckResult:
    """The check of a learner's backward pass at ``batch`` (``runs[B]``) and at one example (``runs[1]``).

    ``verdict`` is the worse of the two; ``first_wrong_layer`` the largest ``l`` whose gradient is wrong;
    ``diagnoses`` the codes of the mistakes named, ``mistakes`` the `Diagnosis` of each.
    """

    def __init__(self, spec, batch, runs, source=None, printed="", seed=0):
        self.spec, self.batch, self.runs, self.source, self.printed, self.seed = spec, batch, runs, source, printed, seed
        self.verdict = max((r.verdict for r in runs.values()), key=_RANK.get)
        wrong_only_at_one = runs[batch].verdict == "correct" and runs.get(1, runs[batch]).verdict != "correct"
        self.main = runs[1] if wrong_only_at_one else runs[batch]
        self.mistakes = self._mistakes(self.main)

    # ------------------------------------------------------------------ the data

    @property
    def exit_code(self):
        return EXIT_CODES[self.verdict]

    @property
    def first_wrong_layer(self):
        return self.main.first_wrong_layer

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

    def lines(self):
        """The result as the lines ``scratchnet check-code`` prints."""
        run = self.main
        other = [B for B in self.runs if B != run.B]
        out = [self.header(), f"Checked at random weights and a random batch of B = {self.batch}"
               + (" and of B = 1" if 1 in self.runs and self.batch != 1 else "")
               + f" (seed {self.seed}), against the true gradients in float64.", ""]
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
        out.append(f"Verdict: {self.verdict}" + (f"  diagnoses: {', '.join(self.diagnoses)}" if self.diagnoses else ""))
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
        if tol is not None and self.verdict != "correct":
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
        if run.unexplained is not None:
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
                f"first_wrong_layer={self.first_wrong_layer!r})")

    def to_json(self):
        """The object ``scratchnet check-code --json`` prints."""
        s = self.spec
        return {"verdict": self.verdict, "exit_code": self.exit_code, "diagnoses": self.diagnoses,
                "first_wrong_layer": self.first_wrong_layer,
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

"""One batch size's verdict: the learner's outcome at a point, read, compared layer by layer with the
truth, and searched for the known mistakes (`diagnose`). `check.check_code` runs it at ``B`` and at 1."""

from dataclasses import dataclass, field


from .diagnose import search
from .failures import shape_mismatch
from .notation import entry_name, read_grads
from .passes import forward, truth
from .tolerance import compare, tolerances


@dataclass
class LayerReport:
    """One layer's gradient at one batch size. ``status`` is ``right``, ``wrong`` (a mistake of its own),
    ``inherited`` (wrong only because of the mistake at layer ``because_of``), ``unexplained`` (wrong, and
    no known mistake gives its numbers), ``wrong_below`` (wrong, below an unexplained layer) or
    ``shape_error``; the errors and ``where`` (the worst entry, in the learner's names, with ``yours`` and
    ``true`` there) are against the truth."""

    layer: int
    shape: tuple
    expected_shape: tuple
    status: str
    max_abs_error: float = None
    max_rel_error: float = None
    where: str = None
    yours: float = None
    true: float = None
    because_of: int = None
    tolerance: object = None
    problem: object = None
    norm_error: float = None

    def to_json(self):
        return {"layer": self.layer, "name": f"W{self.layer}", "shape": list(self.shape) if self.shape else None,
                "expected_shape": list(self.expected_shape), "status": self.status,
                "right": self.status == "right", "max_abs_error": self.max_abs_error,
                "max_rel_error": self.max_rel_error, "norm_error": self.norm_error, "where": self.where, "yours": self.yours, "true": self.true,
                "because_of": self.because_of,
                "tolerance": self.tolerance.to_json() if self.tolerance else None,
                "shape_problem": self.problem.to_json() if self.problem else None}


@dataclass
class CrashReport:
    """A NumPy shape mismatch inside the learner's code: where (their file and line), the operation, the
    shapes and the codes they suggest (with why)."""

    where: str
    text: str
    operation: str
    shapes: tuple
    message: str
    codes: tuple
    words: str

    def to_json(self):
        return {"where": self.where, "line": self.text, "operation": self.operation,
                "shapes": [list(s) for s in self.shapes], "message": self.message, "codes": list(self.codes),
                "words": self.words}


@dataclass
class BatchRun:
    """The check at one batch size ``B``: verdict, the layers (from ``L`` down), the mistakes found, the
    first layer no mistake explains, a crash inside the code (a shape mismatch) and the learner's dtype."""

    B: int
    verdict: str
    layers: list = field(default_factory=list)
    found: list = field(default_factory=list)
    unexplained: int = None
    crash: CrashReport = None
    eps: float = None

    @property
    def first_wrong_layer(self):
        """The largest ``l`` whose gradient is wrong (value or shape), or None."""
        return next((r.layer for r in self.layers if r.status != "right"), None)

    def to_json(self):
        return {"batch": self.B, "verdict": self.verdict, "first_wrong_layer": self.first_wrong_layer,
                "layers": [r.to_json() for r in self.layers], "mistakes": [f.to_json() for f in self.found],
                "unexplained_layer": self.unexplained, "shape_error_in_code": self.crash.to_json() if self.crash
                else None}


def _crash_codes(spec, m, B):
    """What the shapes of a NumPy mismatch suggest: ``(codes, words)``. Sizes one apart are the bias row's
    only in the notation that has one (``bias="row"``)."""
    sizes = set(spec.sizes)
    shapes = [s for s in m.shapes if s]
    bias_row = spec.bias == "row"
    if m.operation in ("dot", "matmul") and len(shapes) == 2:
        a, b = shapes
        if m.operation == "dot" and a == b and len(a) == 2:
            return ("elementwise_product",), (f"a matrix product of two {a[0]}×{a[1]} arrays: an elementwise "
                                              f"factor such as σ'(z) enters by ⊙ (*), not by a matrix product")
        if bias_row and len(a) == 1 and len(b) == 1 and abs(a[0] - b[0]) == 1 and {a[0], b[0]} & sizes:
            return ("bias_row",), (f"sizes {a[0]} and {b[0]} differ by one: the bias row (or the ones of "
                                   f"[1 H]) is kept on one side and not the other")
        if m.operation == "dot" and len(a) == 2 and len(b) == 2 and (a[1] == b[1] or a[0] == b[0]):
            return ("missing_transpose",), "the product fits with one of its factors transposed"
    if m.operation == "broadcast" and len(shapes) == 2 and all(len(s) == 2 for s in shapes):
        a, b = shapes
        if bias_row and (a[0] == b[0] and abs(a[1] - b[1]) == 1 or a[1] == b[1] and abs(a[0] - b[0]) == 1):
            return ("bias_row",), (f"{a} against {b}: one side has the bias's extra column (δ W carried back "
                                   f"with the bias row kept, or [1 H] where H belongs)")
        if a[1] == b[0] or b[1] == a[0]:
            return ("matrix_product",), (f"an elementwise product (*) of {a} and {b}, whose shapes fit a matrix "
                                         f"product: np.dot or @ belongs there")
        if a[0] == b[0] or a[1] == b[1]:
            return ("matrix_product",), (f"an elementwise product (*) of {a} and {b}, which share a side: a matrix "
                                         f"product with one of them transposed fits (np.dot or @, in the order "
                                         f"the formula has them)")
    return (), ""


def crash_report(spec, crash, B):
    """The `CrashReport` of a NumPy shape mismatch inside the learner's code, or None for another error."""
    m = shape_mismatch(crash)
    if m is None:
        return None
    codes, words = _crash_codes(spec, m, B)
    last = crash.last
    return CrashReport(last.where() if last else "?", last.text.strip() if last else "", m.operation, m.shapes,
                       crash.message.strip().splitlines()[0], codes, words)


def analyse(spec, point, outcome, fwd=None):
    """The `BatchRun` of one call (`runner.Outcome`) at ``point`` (whose true forward values ``fwd`` may
    be given); raises `LearnerCodeError` when the code raised something other than a shape mismatch, or
    returned something that is not gradients."""
    B = point.B
    if outcome.crash is not None:
        report = crash_report(spec, outcome.crash, B)
        if report is None:
            raise outcome.crash.error(B)
        return BatchRun(B, "shape_error", crash=report)
    grads = read_grads(spec, outcome.returned, str(B), B)
    fwd = fwd if fwd is not None else forward(spec, point)
    dW, deltas = truth(fwd)
    tols = tolerances(fwd, deltas, grads.eps)
    first_row = 1 if spec.bias == "none" else 0
    found = search(fwd, grads, tols, spec) if any(v is not None for v in grads.layers.values()) else None
    own = {f.layer: f for f in found.found} if found else {}
    layers, wrong_above = [], None
    for l in range(spec.L, 0, -1):
        expected = spec.weight_shape(l)
        if grads.layers[l] is None:
            problem = grads.problems[l]
            layers.append(LayerReport(l, problem.got, problem.expected, "shape_error", problem=problem))
            continue
        a = grads.layers[l]
        c = compare(a, dW[l], tols[l], first_row)
        i, j = c.worst
        report = LayerReport(l, expected, expected, "right", c.max_abs_error, c.max_rel_error,
                             entry_name(spec, l, i, j), float(a[i, j]), float(dW[l][i, j]), tolerance=tols[l],
                             norm_error=c.norm_error)
        if not c.passed:
            if l in own:
                report.status = "wrong"
            elif found.unexplained is not None and l == found.unexplained:
                report.status = "unexplained"
            elif found.unexplained is not None and l < found.unexplained:
                report.status = "wrong_below"
            else:
                above = [f.layer for f in found.found if f.layer > l and f.site == "delta"]
                report.status, report.because_of = ("inherited", min(above)) if above else ("unexplained", None)
        layers.append(report)
    verdict = "correct"
    if any(r.status == "shape_error" for r in layers):
        verdict = "shape_error"
    elif any(r.status != "right" for r in layers):
        verdict = "wrong_value"
    run = BatchRun(B, verdict, layers, [f for f in found.found] if found else [],
                   found.unexplained if found else None, eps=grads.eps)
    return run


def shape_found(run):
    """Codes the shape errors of a run suggest (their own or of a crash), as `diagnose.Found`-like dicts."""
    out = []
    if run.crash is not None and run.crash.codes:
        out.append(("crash", None, run.crash.codes, run.crash.words))
    for r in run.layers:
        if r.problem is not None and r.problem.codes:
            got, want = ("×".join(map(str, s)) for s in (r.problem.got, r.problem.expected))
            out.append(("shape", r.layer, r.problem.codes, f"{r.problem.name} is {got}, not {want}: "
                        f"{r.problem.words}"))
    return out



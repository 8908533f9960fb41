"""Gradient checking: prove every ``∂L/∂W_l`` of a network against central finite differences.

For one weight ``w = W_l[i, j]`` the numerical derivative is the central difference

    n = (L(w + ε) - L(w - ε)) / 2ε

and the analytic one, ``a``, is entry ``[i, j]`` of ``grads[l-1]`` from `Network.loss_and_grads`. The
check runs in float64 whatever the network's dtype: it copies the network with ``Network.astype`` (which
keeps its class, so a subclass's own backward pass is the one checked). It therefore proves the *formulas* of the
backward pass; float32 rounding during training is a separate matter.

How far apart may a correct ``a`` and ``n`` be? Two errors separate them (``ε = eps``):

* **Truncation.** Taylor's theorem gives ``n = ∂L/∂w + ε²/6 · ∂³L/∂w³ + O(ε⁴)``. With ``ε = 1e-6``
  that is a *relative* error of about ``1e-12 · |L'''/L'|``, far below ``RTOL = 1e-6``.
* **Rounding.** Each float64 evaluation of ``L`` is off by a few units in the last place of the numbers
  it adds up (``m + log Σ e^{z-m} - z_y``), i.e. by about ``ε_mach · S`` with ``ε_mach = 2.2e-16`` and
  ``S = max(1, |L|, max |z_L|)``. Dividing the difference of two such values by ``2ε`` gives an
  *absolute* error of about ``ε_mach · S / ε`` (``5e-10`` for the seed network at ``ε = 1e-6``; measured:
  at most 0.9 times that). It does not shrink with the gradient, so a purely relative test would fail
  every entry whose gradient is close to 0.

Hence the test, for every checked entry::

    relative error  r = |a - n| / max(|a|, |n|, g_floor)     passes when  r ≤ RTOL = 1e-6
    g_floor = ATOL / RTOL,   ATOL = 10 · ε_mach · S / ε

which is the same as ``|a - n| ≤ max(ATOL, RTOL · max(|a|, |n|))``: an absolute floor ten times the
rounding noise for small gradients, and a relative test for the others. ``g_floor`` is the size of
gradient below which finite differences cannot measure a relative error of ``RTOL``. A wrong entry is
caught once ``|a - n|`` exceeds the floor: an entry off by 0.1 % is caught when ``|∂L/∂w| > 1000·ATOL``
(``5e-6`` for the seed network, whose gradients are mostly ``1e-4 … 1e-1``).

ReLU has a kink at 0. When a step of ``±ε`` switches some ReLU unit on or off, the central difference
straddles the kink and measures neither one-sided slope; such entries are detected (the on/off pattern
of every ReLU layer is compared with the unperturbed one), left out of the errors and counted as
``kinks``.

Matrices with at most 10,000 entries are checked in full; larger ones on all of row 0 (the bias row)
plus 1,000 other entries drawn without replacement from the generator passed in. ``full=True`` checks
every entry. See ``docs/gradcheck.md`` for how to read a report.
"""

from dataclasses import dataclass

import numpy as np

from .errors import ScratchnetError
from .finite_differences import central_difference, sample_entries
from .losses import cross_entropy

RTOL = 1e-6
"""Relative tolerance: 1000 times below an error of 0.1 %, 10⁶ times above the truncation error."""

ATOL_ULPS = 10
"""The absolute floor in units of the rounding noise ``ε_mach · S / eps`` of a central difference."""

FULL_LIMIT = 10_000
"""Weight matrices with at most this many entries are checked in full."""

SAMPLE = 1_000
"""Entries drawn at random (besides the bias row) from a larger weight matrix."""


def weight_entries(shape, full=False, rng=None):
    """Row-major flat indices of the entries of a weight matrix ``(n_in + 1, n_out)`` to check.

    Every entry when ``full`` or when there are at most `FULL_LIMIT`; otherwise all of row 0 (the bias
    row) and `SAMPLE` other entries drawn without replacement by ``rng`` (a ``numpy.random.Generator``),
    sorted (`finite_differences.sample_entries`). Returns an int array.
    """
    return sample_entries(shape, np.inf if full else FULL_LIMIT, SAMPLE, rng)


def _loss_and_pattern(net, X, y):
    """Loss ``L`` of a batch, computed as `Network.loss_and_grads` does; the on/off pattern of every ReLU
    layer, a list of boolean ``(B, n_l)`` arrays ``H_l > 0``; and the logits ``z_L (B, n_L)``."""
    t = net.forward(X)
    pattern = [t.H[l] > 0 for l, f in enumerate(net.activations[:-1], start=1) if f == "relu"]
    zL = t.z[net.n_layers]
    return cross_entropy(zL, y), pattern, zL


def weight_difference(net, W, i, j, X, y, eps, pattern=None):
    """The central difference of the loss for ``w = W[i, j]``, a view into ``net``'s weights (restored).

    `finite_differences.central_difference` divides by the step actually taken, ``fl(w + ε) - fl(w - ε)``.
    Returns the derivative and whether the step switched a ReLU unit on or off, compared with ``pattern``
    (the unperturbed pattern from `_loss_and_pattern`).
    """
    derivative, (_, pattern_plus, _), (_, pattern_minus, _) = central_difference(
        lambda: _loss_and_pattern(net, X, y), W, (i, j), eps)
    kink = pattern is not None and not all(
        np.array_equal(p, q) and np.array_equal(p, r)
        for p, q, r in zip(pattern, pattern_plus, pattern_minus))
    return derivative, kink


@dataclass(frozen=True)
class LayerCheck:
    """The check of one weight matrix ``W_l``: one row of a `GradCheckReport`.

    ``max_abs_error`` is the largest ``|a - n|``, ``max_rel_error`` the largest relative error ``r`` (see
    the module docstring), ``worst`` the ``(row, column)`` of the entry with that ``r`` and ``analytic``,
    ``numeric`` the two derivatives there. ``failed`` counts entries with ``r > rtol``, ``kinks``
    entries left out because their step crossed a ReLU kink.
    """

    layer: int
    shape: tuple
    checked: int
    size: int
    max_abs_error: float
    max_rel_error: float
    worst: tuple
    analytic: float
    numeric: float
    failed: int
    kinks: int

    @property
    def passed(self):
        return self.failed == 0

    @property
    def name(self):
        return f"W{self.layer}"

    def to_dict(self):
        return {"layer": self.layer, "name": self.name, "shape": list(self.shape),
                "checked": self.checked, "size": self.size, "max_abs_error": self.max_abs_error,
                "max_rel_error": self.max_rel_error,
                "worst": list(self.worst) if self.worst is not None else None,
                "analytic": self.analytic, "numeric": self.numeric, "failed": self.failed,
                "kinks": self.kinks, "passed": self.passed}


@dataclass(frozen=True)
class GradCheckReport:
    """What `gradient_check` found: ``layers`` holds one `LayerCheck` per weight matrix.

    ``passed`` is true when every checked entry of every layer is within the tolerance. ``str(report)``
    is a plain-text table; ``table()`` gives the same cells for other renderers (the command line uses
    rich), ``summary()`` the lines under it, ``to_dict()`` everything as JSON-ready values.
    """

    network: str
    layers: tuple
    loss: float
    batch: int
    eps: float
    rtol: float
    atol: float
    full: bool

    @property
    def passed(self):
        return all(layer.passed for layer in self.layers)

    @property
    def failing_layers(self):
        """Numbers ``l`` of the layers whose ``∂L/∂W_l`` failed."""
        return [layer.layer for layer in self.layers if not layer.passed]

    @property
    def g_floor(self):
        """Gradients smaller than this are judged by the absolute floor ``atol``."""
        return self.atol / self.rtol

    def _repr_html_(self):
        """The report as an HTML table, for Jupyter (`scratchnet.html.gradcheck_html`)."""
        from .html import gradcheck_html
        return gradcheck_html(self)

    HEADER = ("layer", "checked", "max |a-n|", "max rel err", "worst entry", "result")

    def table(self):
        """The header and one tuple of cell strings per layer."""
        rows = []
        for r in self.layers:
            checked = f"{r.checked:,}" if r.checked == r.size else f"{r.checked:,}/{r.size:,}"
            if r.kinks:
                checked += f" +{r.kinks} kinks"
            worst = f"[{r.worst[0]}, {r.worst[1]}]" if r.worst is not None else "-"
            result = "pass" if r.passed else f"FAIL {r.failed:,}"
            rows.append((f"{r.name} {r.shape[0]}×{r.shape[1]}", checked, f"{r.max_abs_error:.1e}",
                         f"{r.max_rel_error:.1e}", worst, result))
        return self.HEADER, rows

    def worst_entries(self):
        """One line per layer: the analytic and numeric derivative at its worst entry."""
        return [f"{r.name}[{r.worst[0]}, {r.worst[1]}]: analytic {r.analytic:+.10e}, "
                f"numeric {r.numeric:+.10e}" for r in self.layers if r.worst is not None]

    def summary(self):
        """Lines to print under the table: the batch, the test applied and the verdict."""
        lines = [f"{self.network}, checked in float64",
                 f"batch of {self.batch}, loss {self.loss:.6f}, eps {self.eps:g}",
                 "an entry passes when |a-n| <= max(atol, rtol*max(|a|,|n|)):",
                 f"  rtol {self.rtol:g}, atol {self.atol:.1e} ({ATOL_ULPS:g} x the float64 rounding of a "
                 f"central difference)"]
        if self.passed:
            lines.append("PASS: every checked gradient entry agrees with finite differences")
        else:
            bad, top = self.failing_layers, self.failing_layers[-1]
            names = ", ".join(f"W{l}" for l in bad)
            lines.append(f"look first at δ_{top} and ∂L/∂W{top}: an error there spoils every layer "
                         f"below it too")
            what = f"the gradient of {names} disagrees" if len(bad) == 1 else \
                f"the gradients of {names} disagree"
            lines.append(f"FAIL: {what} with finite differences")
        return lines

    def __str__(self):
        header, rows = self.table()
        widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
                 for line in [header, *rows]]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines + [""] + self.worst_entries() + self.summary())

    def to_dict(self):
        return {"network": self.network, "passed": self.passed, "loss": self.loss,
                "batch": self.batch, "eps": self.eps, "rtol": self.rtol, "atol": self.atol,
                "full": self.full, "layers": [layer.to_dict() for layer in self.layers]}


def gradient_check(net, X, y, eps=1e-6, full=False, rng=None, seed=0):
    """Compare every ``∂L/∂W_l`` of ``net.loss_and_grads`` with central finite differences, in float64.

    Parameters
    ----------
    net : Network (or a subclass; its own backward pass is checked), any dtype
    X : ndarray (B, n_0), inputs (integer pixels are scaled by 1/255, as the network does)
    y : ndarray (B,), integer labels
    eps : float, the step ``ε`` of the central difference
    full : bool, check every entry even of matrices with more than 10,000 entries
    rng : numpy.random.Generator, optional, draws the sample of large matrices
    seed : int, seeds a Generator when ``rng`` is not given

    Returns
    -------
    GradCheckReport, one row per weight matrix; ``report.passed`` is the verdict.

    The network passed in is not changed.
    """
    if not eps > 0:
        raise ScratchnetError(f"eps must be a positive step, got {eps!r}")
    rng = rng if rng is not None else np.random.default_rng(seed)
    net64 = net.astype("float64")          # keeps the class: a subclass's own backward pass is checked
    X = net64.as_input(X)
    y = net64.check_labels(y, len(X))
    if len(X) == 0:
        raise ScratchnetError("gradient_check needs a batch of at least one example")
    loss, grads = net64.loss_and_grads(X, y)
    L, pattern, zL = _loss_and_pattern(net64, X, y)
    S = max(1.0, abs(L), float(np.max(np.abs(zL))))          # size of the numbers L is summed from
    atol = ATOL_ULPS * np.finfo(np.float64).eps * S / eps
    if "relu" not in net64.activations[:-1]:
        pattern = None                                       # no kinks to look for
    layers = [_check_layer(net64, l, np.array(grads[l - 1], dtype=np.float64), X, y, eps, atol,
                           weight_entries(net64.weights[l - 1].shape, full, rng), pattern)
              for l in range(1, net64.n_layers + 1)]
    return GradCheckReport(network=repr(net), layers=tuple(layers), loss=float(loss), batch=len(X),
                           eps=float(eps), rtol=RTOL, atol=float(atol), full=bool(full))


def _check_layer(net, l, dW, X, y, eps, atol, flat, pattern):
    """Check the entries ``flat`` (row-major indices) of ``dW = ∂L/∂W_l`` (analytic); a `LayerCheck`."""
    W = net.weights[l - 1]
    rows, cols = np.divmod(flat, W.shape[1])
    a = dW[rows, cols]                                                  # analytic
    n = np.empty(len(flat))                                             # numeric
    kink = np.zeros(len(flat), dtype=bool)
    for k, (i, j) in enumerate(zip(rows, cols)):
        n[k], kink[k] = weight_difference(net, W, i, j, X, y, eps, pattern)
    a, n, rows, cols = a[~kink], n[~kink], rows[~kink], cols[~kink]
    abs_error = np.abs(a - n)
    rel_error = abs_error / np.maximum(np.maximum(np.abs(a), np.abs(n)), atol / RTOL)
    if len(a) == 0:
        return LayerCheck(l, W.shape, 0, W.size, 0.0, 0.0, None, 0.0, 0.0, 0, int(kink.sum()))
    w = int(np.argmax(rel_error))                                       # a NaN counts as the worst
    return LayerCheck(layer=l, shape=W.shape, checked=len(a), size=W.size,
                      max_abs_error=float(np.max(abs_error)), max_rel_error=float(np.max(rel_error)),
                      worst=(int(rows[w]), int(cols[w])), analytic=float(a[w]), numeric=float(n[w]),
                      failed=int(np.count_nonzero(~(rel_error <= RTOL))), kinks=int(kink.sum()))

"""``scratchnet gradcheck``: prove a network's gradients against finite differences (and PyTorch).

Thin: it builds a network and a random batch from ``--seed``, calls `scratchnet.gradient_check` (and
`scratchnet.reference_torch.compare_with_torch` for ``--against torch``) and prints the report.
"""

import click
import numpy as np

from ..gradcheck import gradient_check
from ..memory import require_network
from ..network import SEED_ACTIVATIONS, SEED_SIZES, Network
from ..reference_torch import TorchNotInstalled, compare_with_torch, import_torch
from ._output import emit_json, stderr, stdout
from ._params import ACTIVATION_NAMES, LAYER_SIZES


class TorchMissing(click.ClickException):
    """``--against torch`` without PyTorch installed: one line, exit status 2."""

    exit_code = 2


@click.command("gradcheck", short_help="Check every dL/dW_l by finite differences.")
@click.option("--layers", type=LAYER_SIZES, default=",".join(map(str, SEED_SIZES)), show_default=True,
              help="Layer sizes n_0,…,n_L, input first and classes last.")
@click.option("--activations", type=ACTIVATION_NAMES, default=None,
              help="One activation per layer (sigmoid, tanh, relu), softmax last "
                   f"[default: sigmoid hidden layers, then softmax: {','.join(SEED_ACTIVATIONS)}].")
@click.option("--batch", default=16, show_default=True, type=click.IntRange(min=1),
              help="Rows B in the random batch.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seeds the weights, the batch (X uniform in [0, 1), random labels) and the sample.")
@click.option("--eps", default=1e-6, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Step of the central difference.")
@click.option("--full", is_flag=True, help="Check every entry, also of matrices over 10,000 entries.")
@click.option("--against", type=click.Choice(["torch"]), default=None,
              help="Also compare with PyTorch autograd in float64 (needs torch==2.13.0).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
def command(layers, activations, batch, seed, eps, full, against, as_json):
    """Check every gradient dL/dW_l of a network against central finite differences.

    Exits 0 when every checked entry agrees within the documented thresholds (docs/gradcheck.md),
    1 when one does not.
    """
    if against == "torch":
        try:
            import_torch()
        except TorchNotInstalled as e:
            raise TorchMissing(str(e)) from None
    if activations is None:                     # sigmoid hidden layers and softmax, as in the seed
        activations = ["sigmoid"] * (len(layers) - 2) + ["softmax"]
    require_network(layers, batch, "float64")  # refuse what cannot fit before allocating it
    rng = np.random.default_rng(seed)
    net = Network(layers, activations, rng=rng)
    X = rng.random((batch, layers[0]))
    y = rng.integers(0, layers[-1], size=batch)

    if as_json:
        report = gradient_check(net, X, y, eps=eps, full=full, rng=rng)
    else:
        with stderr.status(f"checking the gradients of {net!r} …"):
            report = gradient_check(net, X, y, eps=eps, full=full, rng=rng)
    comparison = None
    if against == "torch":
        comparison = compare_with_torch(net, X, y)
    passed = report.passed and (comparison is None or comparison.passed)

    if as_json:
        emit_json({"passed": passed, "gradcheck": report.to_dict(),
                   "torch": comparison.to_dict() if comparison is not None else None})
    else:
        _print_report(report, comparison)
    return 0 if passed else 1


def _print_report(report, comparison):
    from rich.markup import escape
    from rich.table import Table

    header, rows = report.table()
    table = Table(*map(escape, header), title="∂L/∂W_l: backward pass a vs central differences n")
    for row in rows:
        style = "green" if row[-1] == "pass" else "bold red"
        table.add_row(*map(escape, row[:-1]), f"[{style}]{escape(row[-1])}[/]")
    stdout.print(table)
    *notes, verdict = report.worst_entries() + report.summary()
    lines = [(line, None) for line in notes] + [(verdict, report.passed)]
    if comparison is not None:
        detail, torch_verdict = comparison.lines()
        lines += [(detail, None), (torch_verdict, comparison.passed)]
    for line, passed in lines:
        style = None if passed is None else "bold green" if passed else "bold red"
        stdout.print(line, style=style, markup=False)

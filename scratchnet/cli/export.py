"""``scratchnet export MODEL --out FILE.json|FILE.npz|DIR/``: a model's weights in the layout you use.

Thin: it loads the model and calls `scratchnet.exchange.export_weights`.
"""

import click

from ..errors import ScratchnetError
from ..exchange import BIASES, CONVENTIONS, export_weights, kind_of
from ..modelfile import load
from . import _output


@click.command("export", short_help="Write a model's weights as JSON, .npz or CSV files.")
@click.argument("model", type=click.Path(dir_okay=False, readable=False))
@click.option("--out", required=True, type=click.Path(), metavar="FILE.json|FILE.npz|DIR/",
              help="Where to write: one JSON file, one .npz, or a folder of CSV files (one per array).")
@click.option("--bias", type=click.Choice(BIASES), default="separate", show_default=True,
              help="separate: W1, b1, W2, b2, …; row: W1, W2, … with the bias as row 0 (column 0 with "
                   "--convention column), the seed's layout.")
@click.option("--convention", type=click.Choice(CONVENTIONS), default="row", show_default=True,
              help="row: W_l is (n_{l-1}, n_l), z = H W + b (scikit-learn); column: W_l is (n_l, n_{l-1}), "
                   "z = W h + b (PyTorch's nn.Linear).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(model, out, bias, convention, as_json):
    """Write MODEL's weights, architecture, activations and class names to FILE.json, FILE.npz or DIR/
    (W1.csv, b1.csv, … and model.json). The inputs are the pixels / 255, one row per picture; see the
    README for a ten-line NumPy forward pass that reproduces 'scratchnet evaluate' from the JSON."""
    net = load(model)
    try:
        kind = kind_of(out)
        path = export_weights(net, out, bias=bias, convention=convention)
    except ScratchnetError as e:
        if e.field == "out":
            raise click.BadParameter(str(e), param_hint="'--out'") from None
        raise
    names = ", ".join(f"W{l}" + ("" if bias == "row" else f", b{l}") for l in range(1, net.n_layers + 1))
    if as_json:
        _output.emit_json({"model": model, "out": str(path), "format": kind, "bias": bias,
                           "convention": convention, "arrays": names.split(", ")})
        return
    _output.stdout.print(f"{net} from {model}", markup=False)
    _output.stdout.print(f"wrote {names} ({'bias ' + bias}, {convention} convention) to {path}", markup=False)

"""``scratchnet import WEIGHTS --out MODEL --activations …``: your own network's weights as a scratchnet model.

Thin: it calls `scratchnet.exchange.import_weights`, then saves the model with `scratchnet.modelfile.save`.
"""

import click

from ..errors import ScratchnetError
from ..exchange import BIASES, CONVENTIONS, import_weights
from ..experiment import check_output_path
from ..modelfile import save
from . import _output
from ._params import ACTIVATION_NAMES

OPTIONS = {"activations": "--activations", "bias": "--bias", "convention": "--convention",
           "class_names": "--class-names", "dtype": "--dtype", "out": "--out"}


@click.command("import", short_help="Make a scratchnet model of your own network's weights.")
@click.argument("weights", type=click.Path(readable=False), metavar="WEIGHTS")
@click.option("--out", required=True, type=click.Path(dir_okay=False), metavar="MODEL",
              help="The model file to write (.npz).")
@click.option("--activations", type=ACTIVATION_NAMES, default=None,
              help="One activation per layer, softmax last, e.g. relu,softmax [default: what WEIGHTS says, "
                   "for a file from 'scratchnet export'].")
@click.option("--bias", type=click.Choice(BIASES), default=None,
              help="separate: arrays W1, b1, …; row: W1, … each with its bias as row 0 (column 0 with "
                   "--convention column) [default: what WEIGHTS says, else separate].")
@click.option("--convention", type=click.Choice(CONVENTIONS), default=None,
              help="row: W_l is (n_{l-1}, n_l) as scikit-learn's coefs_; column: W_l is (n_l, n_{l-1}) as "
                   "PyTorch's nn.Linear.weight [default: what WEIGHTS says, else row].")
@click.option("--class-names", default=None, metavar="NAME,NAME,…",
              help="The names of the outputs [default: what WEIGHTS says, else 0,1,…].")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default=None,
              help="[default: the arrays' own; float64 from JSON]")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(weights, out, activations, bias, convention, class_names, dtype, as_json):
    """Check the weights in WEIGHTS (.npz, .json, or a folder of W1.csv, b1.csv, …) and save them as a
    scratchnet model: 'evaluate', 'predict', 'derive', the report and the lab then work on your network.
    Checked: the array names, the layer count against --activations, that the shapes chain, that every
    value is finite, and the size. Nothing is unpickled."""
    names = None if class_names is None else [n.strip() for n in class_names.split(",")]
    try:
        check_output_path(out)
        net = import_weights(weights, activations=activations, bias=bias, convention=convention,
                             class_names=names, dtype=dtype)
    except ScratchnetError as e:
        if e.field in OPTIONS and e.field != "out":
            raise click.BadParameter(str(e), param_hint=f"'{OPTIONS[e.field]}'") from None
        raise
    path = save(net, out, net.metadata)
    if as_json:
        _output.emit_json({"weights": weights, "model": str(path), "sizes": list(net.sizes),
                           "activations": list(net.activations), "class_names": net.metadata["class_names"]})
        return
    _output.stdout.print(f"{net} from {weights}", markup=False)
    _output.stdout.print(f"saved {path}; try: scratchnet evaluate {path}", markup=False)

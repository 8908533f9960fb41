"""``scratchnet check-code FILE.py[:FUNCTION]``: check a learner's own backprop code, layer by layer.

Thin: it parses the options, calls `scratchnet.codecheck.check_code` and prints the result. Exit status:
0 correct, 1 shape_error or wrong_value, 2 code that cannot be checked (it does not import, lacks the
function, raises, hangs, returns None, NaN or the wrong number of arrays) or a bad option; with --json
the answer, or the error, is one JSON object. ``--forward FUNCTION`` also checks the forward pass of the
same file, first. ``--export DIR`` and ``--grads DIR`` do the same for code
in another language, through files.
"""

import sys

import click

from ..codecheck import LearnerCodeError, check_code, check_saved, export_point
from ..codecheck.spec import BIASES, MSE_OUTPUTS
from ..errors import ScratchnetError
from ..network import SEED_SIZES
from ._output import emit_json, stdout
from ._params import ACTIVATION_NAMES, LAYER_SIZES

_OPTIONS = {"export": "--export", "grads": "--grads", "batch": "--batch", "bias": "--bias", "activations": "--activations", "layers": "--layers",
            "output": "--output", "loss": "--loss", "timeout": "--timeout", "convention": "--convention",
            "forward": "--forward"}


@click.command("check-code", short_help="Check your own backprop code, layer by layer.")
@click.argument("target", metavar="FILE.py[:FUNCTION]", required=False)
@click.option("--layers", type=LAYER_SIZES, default=",".join(map(str, SEED_SIZES)), show_default=True,
              help="Layer sizes n_0,…,n_L, input first.")
@click.option("--activations", type=ACTIVATION_NAMES, default=None,
              help="The hidden layers' activations (sigmoid, tanh, relu), optionally with the output's last "
                   "[default: sigmoid].")
@click.option("--bias", type=click.Choice(BIASES), default="row", show_default=True,
              help="row: weights = [W1, …], row 0 of W_l the bias, z = [1 H] W (the seed's); separate: "
                   "weights = [(W1, b1), …]; none: no biases.")
@click.option("--convention", type=click.Choice(["row", "column"]), default="row", show_default=True,
              help="row: X is (B, n_0), z = [1 H] W; column: X is (n_0, B), z = W [1; h].")
@click.option("--batch", default=4, show_default=True, type=click.IntRange(min=1, max=1024),
              help="B of the random batch (B = 1 is always tried too).")
@click.option("--loss", type=click.Choice(["ce", "mse"]), default="ce", show_default=True,
              help="ce: mean cross-entropy of a softmax output; mse: (1/2B) Σ ‖ŷ − y‖².")
@click.option("--output", type=click.Choice(MSE_OUTPUTS), default=None,
              help="The output activation with --loss mse [default: sigmoid].")
@click.option("--seed", default=0, show_default=True, type=int, help="Seeds the random weights and batch.")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Seconds your code may take.")
@click.option("--forward", "forward", default=None, metavar="FUNCTION",
              help="Also check FUNCTION(weights, X) -> [H1, …, ŷ] of the same FILE.py (your forward pass), "
                   "layer by layer, first.")
@click.option("--export", "export_dir", default=None, metavar="DIR",
              help="Instead: write the point (weights, X, Y) as .npy and .csv into DIR, for code in another "
                   "language.")
@click.option("--grads", "grads_dir", default=None, metavar="DIR",
              help="Instead: check the gradients saved in DIR (dW1.csv … or .npy, db1 … with --bias separate) "
                   "beside a point from --export.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(target, layers, activations, bias, convention, batch, loss, output, seed, timeout, forward,
            export_dir, grads_dir, as_json):
    """Run FUNCTION(weights, X, Y) -> grads from FILE.py (FUNCTION defaults to backprop) at random
    weights and a random batch, and compare its gradients with the true ones, layer by layer from the
    output back: the first wrong layer, the layers wrong only because of it, and the mistake named.

    \b
        scratchnet check-code my_net.py
        scratchnet check-code my_net.py:gradients --bias separate --convention column
        scratchnet check-code my_net.py --forward forward
        scratchnet check-code nielsen.py --loss mse --bias separate --json
        scratchnet check-code --export point/ ; (your MATLAB code) ; scratchnet check-code --grads point/
    """
    given = [name for name, v in (("FILE.py", target), ("--export", export_dir), ("--grads", grads_dir)) if v]
    if len(given) != 1:
        raise click.UsageError("give one of FILE.py[:FUNCTION], --export DIR or --grads DIR"
                               + (f", not {' and '.join(given)}" if given else ""))
    if forward is not None and target is None:
        raise click.UsageError("--forward FUNCTION names a function of FILE.py: give FILE.py[:FUNCTION] too")
    try:
        if export_dir is not None:
            written = export_point(export_dir, layers, activations, bias=bias, convention=convention,
                                   batch=batch, loss=loss, output=output, seed=seed)
            if as_json:
                emit_json({"written": written})
            else:
                stdout.print(f"wrote {len(written)} files into {export_dir}; see {written[-1]}", markup=False)
            return 0
        if grads_dir is not None:
            result = check_saved(grads_dir)
        else:
            result = check_code(target, layers, activations, bias=bias, convention=convention, batch=batch,
                                loss=loss, output=output, seed=seed, timeout=timeout, forward=forward)
    except LearnerCodeError as e:
        if as_json:
            emit_json(e.to_json())
        click.echo(f"scratchnet: error: {e}", err=True)
        sys.exit(e.exit_code)
    except ScratchnetError as e:
        option = _OPTIONS.get(e.field)
        if option is None:
            raise
        raise click.BadParameter(str(e), param_hint=option) from None
    if as_json:
        emit_json(result.to_json())
    else:
        for line in result.lines():
            stdout.print(line, markup=False, soft_wrap=True)
    return result.exit_code

"""``scratchnet derive``: print the backpropagation derivation of a network, every step verified.

Thin: it parses the options, calls `scratchnet.derivation.derive` (or `chain` for ``--chain W2``) and
prints one of its renderings.
"""

import click

from ..derivation.chain import chain
from ..derivation.derive import derive
from ..derivation.render import RENDERERS
from ..errors import ScratchnetError
from ..network import SEED_SIZES
from ._params import ACTIVATION_NAMES, LAYER_SIZES


def network_options(function):
    """``--layers``, ``--activations``, ``--convention`` and ``--seed``, shared with ``check``."""
    options = [
        click.option("--layers", type=LAYER_SIZES, default=",".join(map(str, SEED_SIZES)), show_default=True,
                     help="Layer sizes n_0,…,n_L, input first and classes last."),
        click.option("--activations", type=ACTIVATION_NAMES, default=None,
                     help="One activation per layer (sigmoid, tanh, relu), softmax last "
                          "[default: sigmoid hidden layers, then softmax]."),
        click.option("--convention", type=click.Choice(["row", "column"]), default="row", show_default=True,
                     help="row: vectors are rows, z = [1 H] W (the seed's); column: z = W [1; H]."),
        click.option("--bias", type=click.Choice(["row", "separate"]), default="row", show_default=True,
                     help="row: the bias is row 0 of W_l, z = [1 H] W (the seed's); separate: "
                          "z = H W + b (row) or z = W h + b (column), with names b1 … bL."),
        click.option("--seed", default=0, show_default=True, type=int,
                     help="Seeds the random point (weights, batch, labels)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def resolve_activations(layers, activations):
    """The seed's default (sigmoid hidden layers, softmax output), or the given list checked against
    ``layers``; a mismatch is a usage error (exit 2)."""
    if activations is None:
        return ["sigmoid"] * (len(layers) - 2) + ["softmax"]
    if len(activations) != len(layers) - 1:
        raise click.BadParameter(f"{len(layers) - 1} layers need {len(layers) - 1} activations, got "
                                 f"{len(activations)} ({','.join(activations)})", param_hint="--activations")
    if activations[-1] != "softmax" or "softmax" in activations[:-1]:
        raise click.BadParameter("softmax must be the last activation, and only the last",
                                 param_hint="--activations")
    return activations


@click.command("derive", short_help="Derive backpropagation, every step verified.")
@network_options
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True,
              help="text (Unicode, for the terminal), markdown (with LaTeX math) or latex (a document).")
@click.option("--batch", default=4, show_default=True, type=click.IntRange(min=1),
              help="B of the batch evaluation (one example, B = 1, is always evaluated too).")
@click.option("--chain", "chain_wrt", default=None, metavar="W_l",
              help="Instead: the learner's chain for dL/dW_l (or b_l), factor by factor, each Jacobian with "
                   "its shape, next to the δ form, evaluated at a random example.")
def command(layers, activations, convention, bias, seed, fmt, batch, chain_wrt):
    """Derive backpropagation for a network and verify every step.

    Prints the forward pass and each backward equation with the shape of every factor, for one example
    and for a batch of B (with the 1/B of the mean loss), explains the diagonal Jacobian, the outer
    product and the dropped bias row where they arise, and checks each equation against finite
    differences at a random point. Exits 1 if an equation fails its check. With --chain W2 it prints
    the chain dL/dyhat · dyhat/dz3 · dz3/dH2 · dH2/dz2 · dz2/dW2 instead, and shows that it equals the
    δ form (exit 1 if it does not).
    """
    activations = resolve_activations(layers, activations)
    try:
        if chain_wrt is not None:
            view = chain(chain_wrt, layers, activations, convention=convention, bias=bias, seed=seed)
            click.echo(view.text())
            return 0 if view.agrees else 1
        derivation = derive(layers, activations, convention=convention, batch=batch, seed=seed, bias=bias)
    except ScratchnetError as e:
        option = {"chain": "--chain", "batch": "--batch", "bias": "--bias", "convention": "--convention"}.get(e.field)
        if option is None:
            raise                                  # not about one option (e.g. memory): one line, exit 1
        raise click.BadParameter(str(e), param_hint=option) from None
    click.echo(RENDERERS[fmt](derivation), nl=fmt == "text")
    return 0 if derivation.verified else 1

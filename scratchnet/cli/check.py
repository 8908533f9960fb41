"""``scratchnet check --wrt W2 "FORMULA"``: check a learner's gradient formula, shapes then value;
``scratchnet check --factor dz3/dH2 "FORMULA"``: check one Jacobian factor of their chain.

Thin: it parses the options, calls `scratchnet.derivation.check` and prints the result. Exit status:
0 correct, 1 shape_error or wrong_value, 2 an unparsable formula, unknown name or bad option (the
message points at the offending character or name; with --json it is one JSON object with "error").
"""

import sys

import click

from ..derivation.check import check
from ..derivation.check_text import ROW_PREFIX
from ..derivation.formula import FormulaError
from ..errors import ScratchnetError
from ._output import emit_json, stdout
from .derive import network_options, resolve_activations

_VERDICT_STYLE = {"correct": "bold green", "shape_error": "bold red", "wrong_value": "bold red"}


def _formula_error(e, as_json):
    if as_json:
        emit_json(e.to_json())
    click.echo(f"scratchnet: error: {e.message} (at character {e.start + 1})", err=True)
    click.echo(e.pointer(), err=True)
    return 2


def _print_human(result):
    """The result's rows, the failing subexpression's ✗ and the verdict in colour (chosen by each row's
    kind and the result's verdict, never by reading the text)."""
    for kind, text in result.rows():
        if kind == "failure":
            stdout.print("  [red]✗[/] ", end="")
            stdout.print(text, markup=False, soft_wrap=True)
        elif kind == "verdict":
            stdout.print(f"Verdict: [{_VERDICT_STYLE[result.verdict]}]{result.verdict}[/]", end="")
            stdout.print(result.diagnoses_text(), markup=False, soft_wrap=True)
        else:
            stdout.print(ROW_PREFIX.get(kind, "") + text, markup=False, soft_wrap=True)


class _FormulaCommand(click.Command):
    """A command whose argument, FORMULA, may start with a minus sign (``-[1 H2]^T (y - yhat)``) wherever
    it stands among the options: an argument that starts with a single ``-``, is none of the options and
    is not an option's value is passed after ``--``, so that it is not read as options."""

    def parse_args(self, ctx, args):
        if "--" in args:
            return super().parse_args(ctx, args)
        takes_value = {name: False for name in self.get_help_option_names(ctx)}
        for param in self.params:
            if isinstance(param, click.Option):
                takes_value.update({name: not param.is_flag for name in param.opts + param.secondary_opts})
        options, formulas, i = [], [], 0
        while i < len(args):
            arg = args[i]
            name = arg.split("=", 1)[0]
            if name in takes_value:
                options.append(arg)
                if takes_value[name] and "=" not in arg and i + 1 < len(args):
                    options.append(args[i + 1])
                    i += 1
            elif arg.startswith("-") and not arg.startswith("--") and len(arg) > 1:
                formulas.append(arg)
            else:
                options.append(arg)
            i += 1
        return super().parse_args(ctx, [*options, "--", *formulas] if formulas else options)


@click.command("check", cls=_FormulaCommand, short_help="Check your gradient or Jacobian formula.")
@click.option("--wrt", default=None,
              help="What the formula is the gradient of L with respect to: W_l, b_l (--bias separate), "
                   "z_l or H_l (x = H0) [default: what a pasted LaTeX left-hand side names, else W2].")
@click.option("--factor", default=None, metavar="dA/dB",
              help="Instead: check FORMULA as one Jacobian factor of the chain, dA/dB for A, B among L, "
                   "yhat, z_l, H_l, W_l, b_l (e.g. dz3/dH2); J[i, j] = dA_i/dB_j, rows follow A.")
@network_options
@click.option("--batch", default=1, show_default=True, type=click.IntRange(min=1),
              help="B: rows in the random batch (the loss is the mean, so for B > 1 write /B).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.argument("formula")
def command(wrt, factor, layers, activations, convention, bias, seed, batch, as_json, formula):
    """Check FORMULA as a formula for the gradient dL/d(WRT) of the mean loss, or as a factor.

    Works out the shape of every subexpression, then compares the value with the truth at a random
    point, and diagnoses the usual mistakes (bias_row, elementwise_product, transposed, sign,
    batch_factor, batch_sum, activation_derivative, wrong_layer; for a factor also diagonal_jacobian,
    softmax_jacobian, third_order). FORMULA may be LaTeX, and may start with a minus sign. Examples:

    \b
        scratchnet check --wrt W2 "[1 H1]^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2))"
        scratchnet check --factor dH2/dz2 "H2(1-H2)"
        scratchnet check --wrt W2 "[1 H1]^T delta2"
    """
    activations = resolve_activations(layers, activations)
    try:
        result = check(formula, wrt, layers, activations, convention=convention, batch=batch, seed=seed,
                       factor=factor, bias=bias)
    except FormulaError as e:
        sys.exit(_formula_error(e, as_json))
    except ScratchnetError as e:
        option = {"factor": "--factor", "wrt": "--wrt", "batch": "--batch", "bias": "--bias"}.get(e.field)
        if option is None:
            raise                                  # not about one option (e.g. memory): one line, exit 1
        raise click.BadParameter(str(e), param_hint=option) from None
    if as_json:
        emit_json(result.to_json())
    else:
        _print_human(result)
    return result.exit_code

"""``scratchnet check --wrt W2 "FORMULA"``: check a learner's gradient formula, shapes then value.

Thin: it parses the options, calls `scratchnet.derivation.check` and prints the result. Exit status:
0 correct, 1 shape_error or wrong_value, 2 an unparsable formula, unknown name or bad option (the
message points at the offending character or name).
"""

import sys

import click

from ..derivation.check import check
from ..derivation.evaluate import shape_text
from ..derivation.formula import FormulaError, Num
from ..errors import ScratchnetError
from ._output import emit_json, stdout
from .derive import network_options, resolve_activations

_VERDICT_STYLE = {"correct": "bold green", "shape_error": "bold red", "wrong_value": "bold red"}


def _formula_error(e):
    click.echo(f"scratchnet: error: {e.message} (at character {e.start + 1})", err=True)
    click.echo(e.pointer(), err=True)
    return 2


def _print_human(result):
    out = stdout
    out.print(f"∂L/∂{result.wrt} ({result.convention} convention, B = {result.batch}) should be "
              f"{shape_text(result.expected_shape)}.")
    out.print("Shapes, subexpression by subexpression:")
    width = max((len(e.text) for e in result.trace), default=0)
    for entry in result.trace:
        if isinstance(entry.node, Num):
            continue
        note = f"  ({entry.note})" if entry.note else ""
        out.print(f"  {entry.text:<{width}}  {shape_text(entry.shape)}{note}", markup=False)
    if result.failure is not None:
        out.print(f"  [red]✗[/] {result.failure.text}", end="")
        out.print(f": {result.failure.message}", markup=False)
    out.print(f"Verdict: [{_VERDICT_STYLE[result.verdict]}]{result.verdict}[/]"
              + (f"  diagnoses: {', '.join(result.diagnoses)}" if result.diagnoses else ""))
    out.print(result.message, markup=False, soft_wrap=True)
    for hint in result.hints:
        out.print(f"Hint: {hint}", markup=False, soft_wrap=True)
    if result.verdict != "correct":
        out.print(f"The derivation gives: ∂L/∂{result.wrt} = {result.derivation}", markup=False, soft_wrap=True)


@click.command("check")
@click.option("--wrt", default="W2", show_default=True,
              help="What the formula is the gradient of L with respect to: W_l, z_l or H_l (x = H0).")
@network_options
@click.option("--batch", default=1, show_default=True, type=click.IntRange(min=1),
              help="B: rows in the random batch (the loss is the mean, so for B > 1 write /B).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.argument("formula")
def command(wrt, layers, activations, convention, seed, batch, as_json, formula):
    """Check FORMULA as a formula for the gradient dL/d(WRT) of the mean loss.

    Works out the shape of every subexpression, then compares the value with the true gradient at a
    random point, and diagnoses the usual mistakes (bias_row, elementwise_product, transposed, sign,
    batch_factor, activation_derivative). Example:

        scratchnet check --wrt W2 "[1 H1]^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2))"
    """
    activations = resolve_activations(layers, activations)
    try:
        result = check(formula, wrt, layers, activations, convention=convention, batch=batch, seed=seed)
    except FormulaError as e:
        sys.exit(_formula_error(e))
    except ScratchnetError as e:
        raise click.BadParameter(str(e), param_hint="--wrt" if "gradient" in str(e) else None) from None
    if as_json:
        emit_json(result.to_json())
    else:
        _print_human(result)
    return result.exit_code

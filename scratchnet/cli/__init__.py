"""The ``scratchnet`` command line: thin wrappers that parse options, call the library and print.

Each command lives in its own module in this package and exposes a click command named ``command``.
Errors the user can cause end as one line on standard error and a non-zero exit, never a traceback
(``--debug`` anywhere on the line shows it).
"""

import json
import sys

import click

from ..errors import ScratchnetError
from . import _signals


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="scratchnet")
def cli():
    """scratchnet: a neural network from scratch in NumPy that trains on real MNIST,
    proves its own gradients and checks a learner's chain rule."""


def _register():
    from . import check, check_code, data, derive, evaluate, export, gradcheck, import_weights, lab, predict, train
    for module in (train, evaluate, data, gradcheck, predict, derive, check, check_code, lab, export, import_weights):
        cli.add_command(module.command)


_register()


def _error(message, code, as_json=False):
    """The one line on standard error; with ``--json`` also ``{"error": message}`` on standard output, so a
    program reading the JSON learns what went wrong (as ``check --json`` does for a formula)."""
    if as_json:
        click.echo(json.dumps({"error": message}))
    click.echo(f"scratchnet: error: {message}", err=True)
    return code


def main(argv=None):
    """Entry point of the ``scratchnet`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    as_json = "--json" in argv
    try:
        with _signals.handled():              # SIGTERM too becomes an exception: clean-ups run, exit 143
            result = cli.main(args=argv, prog_name="scratchnet", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as e:      # bare ``scratchnet``: show the help
        click.echo(e.format_message())
        return sys.exit(0)
    except click.UsageError as e:
        ctx = e.ctx
        where = f"scratchnet {ctx.info_name} --help" if ctx is not None and ctx.parent is not None \
            else "scratchnet --help"
        if debug:
            raise
        return sys.exit(_error(f"{e.format_message()} (see '{where}')", 2, as_json))
    except click.ClickException as e:
        if debug:
            raise
        return sys.exit(_error(e.format_message(), e.exit_code, as_json))
    except click.Abort as e:                  # click's wrapping of a KeyboardInterrupt
        return sys.exit(_error("interrupted", _signals.exit_code(e.__cause__ or e)))
    except ScratchnetError as e:
        if debug:
            raise
        return sys.exit(_error(str(e), 1, as_json))
    except KeyboardInterrupt as e:
        return sys.exit(_error("interrupted", _signals.exit_code(e)))
    except OSError as e:
        if debug:
            raise
        return sys.exit(_error(f"{e.strerror or e}: {e.filename or ''}".rstrip(": "), 1, as_json))
    sys.exit(result if isinstance(result, int) else 0)

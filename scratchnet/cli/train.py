"""``scratchnet train``: train a network (by default the seed network) on MNIST or your own data (``--data``)
and save it; ``--resume`` goes on with an interrupted run.

Thin: it parses the options into a `scratchnet.experiment.Setup` and `scratchnet.training.Recipe` (whose
defaults are this command's), runs `scratchnet.experiment.Run`, shows progress and translates the
library's errors, which name settings (``lr``), into this command's options (``--lr``).
"""

import sys
from pathlib import Path

import click
from click.core import ParameterSource
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..data.checksums import DATASETS
from ..errors import ScratchnetError
from ..data.classes import CLASS_NAMES
from ..data.loading import check_sizes
from ..experiment import Conflict, Run, Setup, UnfinishedRun, check_output_path
from ..optimizers import OPTIMIZERS
from ..schedules import SCHEDULES
from ..training import Diverged, Recipe
from . import _datasets, _output, _signals
from ._params import ACTIVATION_NAMES, LAYER_SIZES
from .derive import resolve_activations

DEFAULT, SETUP = Recipe(), Setup()

FLAGS = {"sizes": "--layers", "activations": "--activations", "epochs": "--epochs",
         "batch_size": "--batch-size", "optimizer": "--optimizer", "lr": "--lr", "schedule": "--schedule",
         "seed": "--seed", "shift": "--shift", "average": "--average", "val_split": "--val-split",
         "patience": "--patience", "dataset": "--dataset", "dtype": "--dtype", "n_train": "--n-train", "out": "--out",
         "checkpoint": "--checkpoint", "data_dir": "--data-dir", "data": "--data", "test_split": "--test-split"}
"""The option of each library setting, for error messages."""

PATHS = ("out", "checkpoint", "data_dir", "data")


@click.command("train", short_help="Train a network on MNIST or your own data and save it.")
@click.option("--data", "data_path", type=click.Path(readable=False), default=None, metavar="PATH",
              help="Your own training data instead of --dataset: a folder of class folders of pictures, a "
                   "CSV (label,pixel0,…), an .npz (X, y, class_names) or an IDX images file.")
@click.option("--test-data", type=click.Path(readable=False), default=None, metavar="PATH",
              help="With --data: the test set, in any of those forms [default: --test-split 0.2].")
@click.option("--test-split", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
              metavar="F", help="With --data: hold out this share of it as the test set [default: 0.2].")
@click.option("--skip-bad", is_flag=True,
              help="With --data: leave out pictures that cannot be read instead of stopping.")
@click.option("--layers", type=LAYER_SIZES, default=",".join(map(str, SETUP.sizes)), show_default=True,
              help="Layer sizes n_0,…,n_L: the data's input size first, its number of classes last.")
@click.option("--activations", type=ACTIVATION_NAMES, default=None,
              help="One activation per layer; the last must be softmax [default: sigmoid hidden layers, "
                   "then softmax].")
@click.option("--epochs", type=click.IntRange(min=1), default=DEFAULT.epochs, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=DEFAULT.batch_size, show_default=True)
@click.option("--optimizer", type=click.Choice(list(OPTIMIZERS)), default=DEFAULT.optimizer, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=DEFAULT.lr, show_default=True,
              help="Learning rate at the start of the schedule.")
@click.option("--schedule", type=click.Choice(list(SCHEDULES)), default=DEFAULT.schedule, show_default=True)
@click.option("--seed", type=int, default=DEFAULT.seed, show_default=True,
              help="Seed of the initialisation, shuffling and shifts.")
@click.option("--augment/--no-augment", default=DEFAULT.shift > 0, show_default=True,
              help="Random shifts of the training images.")
@click.option("--shift", type=click.IntRange(min=1, max=4), default=DEFAULT.shift or 1, show_default=True,
              help="Largest shift in pixels, with --augment.")
@click.option("--average", type=click.FloatRange(0, 1, max_open=True), default=DEFAULT.average, show_default=True,
              metavar="D", help="Decay of the moving average of the weights, updated after every step, that is "
                                "validated and saved in place of the weights (0: off, the weights themselves).")
@click.option("--val-split", type=click.IntRange(min=0), default=SETUP.val_split, show_default=True,
              help="Hold out the last N training images for monitoring and early stopping.")
@click.option("--patience", type=click.IntRange(min=0), default=DEFAULT.patience, show_default=True,
              help="With --val-split: stop after N epochs without a better validation accuracy (0: never).")
@click.option("--n-train", type=click.IntRange(min=0), default=SETUP.n_train, show_default=True,
              help="Train on the first N training images only, for a quick trial (0: all).")
@click.option("--dataset", type=click.Choice(list(DATASETS)), default=SETUP.dataset, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder of the IDX files [default: $SCRATCHNET_DATA or the user cache].")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default=SETUP.dtype, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default="model.npz", show_default=True,
              help="Where to save the model (with --resume: default, where the interrupted run would have).")
@click.option("--checkpoint", type=click.Path(dir_okay=False), default=None,
              help="Where to keep the checkpoint saved after every epoch [default: beside --out, "
                   "model.npz → model.ckpt.npz; with --resume: the checkpoint resumed].")
@click.option("--resume", type=click.Path(dir_okay=False, readable=False), default=None, metavar="CHECKPOINT",
              help="Go on with the interrupted run saved in CHECKPOINT; the other settings come from it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object; progress goes to stderr.")
@click.pass_context
def command(ctx, data_path, test_data, test_split, skip_bad, layers, activations, epochs, batch_size, optimizer,
            lr, schedule, seed, augment, shift, average, val_split, patience, n_train, dataset, data_dir, dtype,
            out, checkpoint, resume, as_json):
    """Train a network on MNIST (or your own data, --data) and save it (default: the seed network
    784 → 100 σ → 10 σ → 10 softmax).

    --data takes a folder of class folders of pictures (each made MNIST-like as 'predict' does; the folder
    names are the class names), a CSV in the layout of Kaggle's digit recognizer, an .npz with X, y and
    class_names, or IDX files; the model keeps the class names.

    After every epoch the whole state of the run is saved to a checkpoint; Ctrl-C (or SIGTERM) stops the
    run, and 'scratchnet train --resume model.ckpt.npz' finishes it, bit for bit as if never stopped.
    """
    with _signals.handled():
        _command(ctx, data_path, test_data, test_split, skip_bad, layers, activations, epochs, batch_size,
                 optimizer, lr, schedule, seed, augment, shift, average, val_split, patience, n_train, dataset,
                 data_dir, dtype, out, checkpoint, resume, as_json)


def _own_data(ctx, data_path, test_data, test_split, skip_bad, dataset, out):
    """The `TrainingData` of --data (None without it), read after checking --out can be written."""
    def typed(name):
        return ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)
    if data_path is None:
        for name, flag in (("test_data", "--test-data"), ("test_split", "--test-split"), ("skip_bad", "--skip-bad")):
            if typed(name):
                raise click.UsageError(f"{flag} goes with --data (your own training data)")
        return None
    if typed("dataset"):
        raise click.UsageError("give --data (your own data) or --dataset, not both")
    if test_data is not None and test_split is not None:
        raise click.UsageError("give --test-data or --test-split, not both")
    try:
        check_output_path(out)                       # before a long conversion, not after it
    except ScratchnetError as e:
        _translate(e)
    return _datasets.load_training(data_path, test_data, test_split, skip_bad)


def _check_layers(layers, data, dataset):
    """The layer list against the data, before anything else is said about the network."""
    try:
        if data is not None:
            data.check_sizes(layers)
        else:
            check_sizes(layers, 784, len(CLASS_NAMES[dataset]), dataset)
    except ScratchnetError as e:
        _translate(e)


def _command(ctx, data_path, test_data, test_split, skip_bad, layers, activations, epochs, batch_size,
             optimizer, lr, schedule, seed, augment, shift, average, val_split, patience, n_train, dataset,
             data_dir, dtype, out, checkpoint, resume, as_json):
    def given(name):
        """Whether the user typed option ``name`` (rather than leaving its default)."""
        return ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)

    data = None
    if resume is not None:
        if data_path is not None or test_data is not None or test_split is not None:
            raise click.UsageError("--resume reads the data again from where the interrupted run did; leave "
                                   "out --data, --test-data and --test-split")
        activations = resolve_activations(layers, activations) if activations is not None else SETUP.activations
    else:
        data = _own_data(ctx, data_path, test_data, test_split, skip_bad, dataset, out)
        _check_layers(layers, data, dataset)
        activations = resolve_activations(layers, activations)
    setup = Setup(sizes=tuple(layers), activations=tuple(activations), dtype=dtype,
                  dataset=data.name if data is not None else dataset, val_split=val_split, n_train=n_train)
    recipe = Recipe(epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, schedule=schedule,
                    shift=shift if augment else 0, average=average, patience=patience, seed=seed)

    try:
        if resume is not None:
            run = Run.resume(resume, given=_given_settings(setup, recipe, given),
                             out=out if given("out") else None, checkpoint=checkpoint)
        else:
            run = Run.new(setup, recipe, out=out, checkpoint=checkpoint, data=data)
    except Conflict as e:
        flag = FLAGS.get(e.field, e.field)
        raise click.UsageError(
            f"{flag} {_text(e.given)} contradicts the checkpoint {resume}, whose run uses {flag} "
            f"{_text(e.saved)}; leave {flag} out to resume that run, or start a new run without --resume"
        ) from None
    except UnfinishedRun as e:
        raise ScratchnetError(f"{e.path} holds an unfinished run; finish it with 'scratchnet train --resume "
                              f"{e.path}', or delete it (or give another --checkpoint) to start afresh") from None
    except ScratchnetError as e:
        _translate(e)
    _train(run, data_dir, as_json)


def _given_settings(setup, recipe, given):
    """The settings the user typed (not defaults), by library name, to compare with a checkpoint's."""
    settings = {}
    for name, flag in FLAGS.items():
        if name in PATHS or name == "shift" or not (hasattr(setup, name) or hasattr(recipe, name)) \
                or not given(flag.lstrip("-").replace("-", "_")):
            continue
        settings[name] = getattr(setup, name) if hasattr(setup, name) else getattr(recipe, name)
    if given("augment") or given("shift"):
        settings["shift"] = recipe.shift
    return settings


def _text(value):
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def _translate(e):
    """Re-raise a library error about a setting as an error about its option."""
    if e.field in FLAGS and e.field not in PATHS:
        raise click.BadParameter(str(e), param_hint=f"'{FLAGS[e.field]}'") from None
    if e.field == "data_dir":
        raise ScratchnetError(f"{e} (--data-dir or $SCRATCHNET_DATA)") from None
    raise e


def _test_set_words(run, n_test):
    """``on 10,000 mnist test images`` or ``on 600 test pictures held out of digits (--test-split 0.2)``."""
    if run.data is None:
        return f"on {n_test:,} {run.setup.dataset} test images"
    spec = run.data.spec
    if spec.get("test_data"):
        return f"on {n_test:,} test pictures from {run.data.test.source}"
    return f"on {n_test:,} test pictures held out of {run.data.train.source} (--test-split {spec['test_split']:g})"


def _train(run, data_dir, as_json):
    console = _output.stderr if as_json else _output.stdout
    epochs = run.recipe.epochs
    progress = Progress(TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=_output.stderr, transient=True,
                        disable=not _output.stderr.is_terminal)
    task = progress.add_task("train", total=1, epoch=f"{run.epochs_done + 1}/{epochs}", start=False)
    # The epoch lines go above the live bar: through the bar's own console when both streams are the
    # same terminal (two consoles writing to one screen would overwrite each other), else to stdout.
    epoch_console = progress.console if console.is_terminal and not progress.disable else console

    def on_batch(epoch, b, n, **_):
        if b == 1:                                   # a fresh bar (and clock) for each epoch
            if not progress.live.is_started:
                progress.start()
            progress.reset(task, total=n, completed=b, epoch=f"{epoch}/{epochs}")
        elif b == n or b % 16 == 0:
            progress.update(task, completed=b)

    def on_epoch(row):
        val = "" if row.val_accuracy is None else \
            f"  val loss {row.val_loss:.4f}  val acc {row.val_accuracy:.4f}"
        epoch_console.print(f"epoch {row.epoch:3d}/{epochs}  train loss {row.train_loss:.4f}  "
                            f"train acc {row.train_accuracy:.4f}{val}  lr {row.lr:.2e}  {row.seconds:.2f} s",
                            markup=False)

    def on_message(text):
        _output.stderr.print(text, markup=False, soft_wrap=True)

    try:
        try:
            if run.resumed_from is not None:
                on_message(f"resuming {run.resumed_from} after epoch {run.epochs_done} of {epochs}")
            summary = run.execute(data_dir, on_batch=on_batch, on_epoch=on_epoch, on_message=on_message)
        finally:
            progress.stop()
    except KeyboardInterrupt as e:
        _interrupted(run, e)
    except Diverged as e:
        default = DEFAULT.lr
        suggestion = (f"the default --lr {default:g} trains the seed network well" if e.lr > default
                      else f"e.g. --lr {e.lr / 10:g}")
        raise ScratchnetError(f"training diverged at epoch {e.epoch}, step {e.step}: the loss went from "
                              f"{e.start_loss:.3g} to {e.loss:.3g}; no model saved; try a smaller --lr "
                              f"({suggestion})") from None
    except ScratchnetError as e:
        _translate(e)
    net = summary.pop("network")
    if as_json:
        _output.emit_json({**summary, "class_names": net.metadata.get("class_names")})
        return
    best = f" (weights of epoch {summary['best_epoch']}, best on validation)" if summary["best_epoch"] else ""
    epochs_done = f"{summary['epochs']} epoch" + ("" if summary["epochs"] == 1 else "s")
    warm_up = (f" (and {summary['warm_up_seconds']:.1f} s before them loading the compiled kernels)"
               if summary["warm_up_seconds"] >= 0.05 else "")
    console.print(f"{net}: {epochs_done} in {summary['seconds']:.1f} s{warm_up}{best}")
    console.print(f"test accuracy {summary['test_accuracy']:.4f}  test loss {summary['test_loss']:.4f}  "
                  f"{_test_set_words(run, summary['n_test'])}")
    if run.data is not None:
        names = run.data.class_names
        console.print(f"classes: {', '.join(names[:20])}{', …' if len(names) > 20 else ''}", markup=False)
    console.print(f"saved {summary['model']}")


def _interrupted(run, interrupt):
    """One line on how to go on, then exit 130 (SIGINT) or 143 (SIGTERM)."""
    if run.checkpoint is not None and Path(run.checkpoint).is_file():
        done = run.state.epoch if run.state is not None else run.epochs_done
        line = (f"scratchnet: interrupted; epoch {done} of {run.recipe.epochs} is saved in {run.checkpoint}; "
                f"resume with: scratchnet train --resume {run.checkpoint}")
    else:
        line = "scratchnet: interrupted before the first epoch finished; nothing was saved"
    if sys.stderr.isatty():
        line = "\n" + line                   # below the terminal's echo of ^C, not after it
    click.echo(line, err=True)
    sys.exit(_signals.exit_code(interrupt))

"""``scratchnet train``: train a network (by default the seed network) and save it."""

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..data.checksums import DATASETS
from ..experiment import SEED_ACTIVATIONS, SEED_LAYERS, run_training
from ..optimizers import OPTIMIZERS
from ..schedules import SCHEDULES
from ..training import Recipe
from . import _output
from ._params import ACTIVATION_NAMES, LAYER_SIZES

DEFAULT = Recipe()


@click.command("train")
@click.option("--layers", type=LAYER_SIZES, default=",".join(map(str, SEED_LAYERS)), show_default=True,
              help="Layer sizes n_0,…,n_L.")
@click.option("--activations", type=ACTIVATION_NAMES, default=",".join(SEED_ACTIVATIONS), show_default=True,
              help="One activation per layer; the last must be softmax.")
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
@click.option("--shift", type=click.IntRange(min=1, max=4), default=DEFAULT.shift or 2, show_default=True,
              help="Largest shift in pixels, with --augment.")
@click.option("--val-split", type=click.IntRange(min=0), default=0, show_default=True,
              help="Hold out the last N training images for monitoring and early stopping.")
@click.option("--patience", type=click.IntRange(min=0), default=5, show_default=True,
              help="With --val-split: stop after N epochs without a better validation accuracy (0: never).")
@click.option("--dataset", type=click.Choice(list(DATASETS)), default="mnist", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder of the IDX files [default: $SCRATCHNET_DATA or the user cache].")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default="model.npz", show_default=True,
              help="Where to save the model.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object; progress goes to stderr.")
def command(layers, activations, epochs, batch_size, optimizer, lr, schedule, seed, augment, shift,
            val_split, patience, dataset, data_dir, dtype, out, as_json):
    """Train a network on MNIST and save it (default: the seed network 784 → 100 σ → 10 σ → 10 softmax)."""
    recipe = Recipe(epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, schedule=schedule,
                    shift=shift if augment else 0, patience=patience if val_split else 0, seed=seed)
    console = _output.stderr if as_json else _output.stdout
    progress = Progress(TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=_output.stderr, transient=True,
                        disable=not _output.stderr.is_terminal)
    task = progress.add_task("train", total=1, epoch=1)

    def on_batch(epoch, b, n):
        if b == 1 or b == n or b % 16 == 0:
            progress.update(task, completed=b, total=n, epoch=epoch)

    def on_epoch(row):
        val = "" if row.val_accuracy is None else \
            f"  val loss {row.val_loss:.4f}  val acc {row.val_accuracy:.4f}"
        console.print(f"epoch {row.epoch:3d}/{epochs}  loss {row.train_loss:.4f}  "
                               f"acc {row.train_accuracy:.4f}{val}  lr {row.lr:.2e}  {row.seconds:.2f} s")

    with progress:
        summary = run_training(layers, activations, recipe, dataset=dataset, data_dir=data_dir,
                               val_split=val_split, dtype=dtype, out=out, on_batch=on_batch,
                               on_epoch=on_epoch)
    net = summary.pop("network")
    if as_json:
        _output.emit_json(summary)
        return
    best = f" (weights of epoch {summary['best_epoch']}, best on validation)" if summary["best_epoch"] else ""
    console.print(f"{net}: {summary['epochs']} epochs in {summary['seconds']:.1f} s{best}")
    console.print(f"test accuracy {summary['test_accuracy']:.4f}  test loss {summary['test_loss']:.4f}  "
                  f"on {summary['n_test']:,} {dataset} test images")
    console.print(f"saved {summary['model']}")

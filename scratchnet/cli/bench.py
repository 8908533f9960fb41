"""``scratchnet bench``: time scratchnet against PyTorch, scikit-learn and the compute floor (issue 6)."""

import click
from rich.table import Table

from .. import bench
from . import _output

DEFAULT = bench.Settings()


@click.command("bench")
@click.option("--epochs", type=click.IntRange(min=1), default=DEFAULT.epochs, show_default=True,
              help="Timed epochs per framework, after one warm-up epoch; the median is reported.")
@click.option("--batch-size", type=click.IntRange(min=1), default=DEFAULT.batch_size, show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads for NumPy's BLAS and PyTorch [default: the CPUs this process may use].")
@click.option("--n-train", type=click.IntRange(min=1), default=None,
              help="Time on the first N training images only [default: all 60,000].")
@click.option("--train-epochs", type=click.IntRange(min=1), default=None,
              help="Epochs of the default recipe for the memory and 98 % runs [default: the recipe's].")
@click.option("--skip-torch", is_flag=True, help="Do not time PyTorch.")
@click.option("--skip-sklearn", is_flag=True, help="Do not time scikit-learn.")
@click.option("--skip-memory", is_flag=True, help="Do not measure the peak memory of scratchnet train.")
@click.option("--skip-accuracy", is_flag=True, help="Do not measure the time to 98 % test accuracy.")
@click.option("--no-profile", is_flag=True, help="Do not profile a scratchnet epoch with pyinstrument.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the markdown report here and its plot to images/ beside it, "
                   "e.g. docs/benchmarks.md.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object; progress goes to stderr.")
def command(epochs, batch_size, threads, n_train, train_epochs, skip_torch, skip_sklearn, skip_memory,
            skip_accuracy, no_profile, out, as_json):
    """Seconds per epoch of scratchnet, PyTorch and scikit-learn on the seed network, the GEMM floor,
    peak memory of scratchnet train and the time to 98 % test accuracy."""
    settings = bench.Settings(epochs=epochs, batch_size=batch_size, threads=threads, n_train=n_train,
                              train_epochs=train_epochs, torch=not skip_torch, sklearn=not skip_sklearn,
                              memory=not skip_memory, accuracy=not skip_accuracy, profile=not no_profile)
    settings.check()
    results = bench.run_benchmark(settings, progress=lambda m: _output.stderr.print(f"measuring {m} …"))
    if out is not None:
        command_line = bench.reproduce_command(settings, out)
        results["report"] = [str(p) for p in bench.write_report(results, out, command_line)]
    if as_json:
        _output.emit_json(results)
        return
    m = results["machine"]
    console = _output.stdout
    console.print(f"{results['network']}, batch {batch_size}, float32, {results['settings']['n_train']:,} "
                  f"images, {m['threads']} threads on {m['cpu']} ({m['cpus']} CPUs); BLAS {m['blas_runtime']}")
    for title, header, rows in (
            ("seconds per epoch", ("what", "median s", "range s", "how"), bench.epoch_rows(results)),
            ("issue 6 targets", ("measure", "value", "target", "status"), bench.target_rows(results))):
        table = Table(title=title, title_justify="left")
        for h in header:
            table.add_column(h)
        for row in rows:
            table.add_row(*row, style={"met": "green", "not met": "red"}.get(row[-1]))
        console.print(table)
    if out is not None:
        console.print(f"wrote {results['report'][0]} and {results['report'][1]}")

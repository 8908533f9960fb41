"""``scratchnet evaluate MODEL``: accuracy and loss of a saved model on a test set, by class name."""

import click

from ..data import load_mnist, model_class_names
from ..data.checksums import DATASETS
from ..data.sets import relabel
from ..errors import ScratchnetError
from ..modelfile import load
from . import _datasets, _output


def _test_set(net, model, data, dataset, data_dir, skip_bad):
    """``(X, y, words, dataset)``: the test set and how to say what it is."""
    meta = net.metadata
    if data is not None:
        test = relabel(_datasets.load_test(data, skip_bad), model_class_names(net), net.sizes[0], model)
        return test.X, test.y, f"test pictures from {data}", test.source
    spec = meta.get("data")
    if spec is not None and dataset is None:
        recorded = _datasets.load_recorded(spec)
        if recorded.sha256() != meta.get("data_sha256"):
            raise ScratchnetError(f"the data {model} was trained on ({spec.get('data')}) has changed since (its "
                                  "SHA-256 differs); give --data to evaluate on a test set as it is now")
        test = recorded.test
        where = (f"test pictures from {test.source}" if spec.get("test_data") else
                 f"test pictures held out of {recorded.train.source} (--test-split {spec.get('test_split'):g})")
        return test.X, test.y, where, recorded.name
    dataset = dataset or meta.get("dataset", "mnist")
    if dataset not in DATASETS:
        raise ScratchnetError(f"{model} was trained on {dataset!r}, not MNIST; give its test set with --data")
    X, y = load_mnist("test", dataset, data_dir)
    return X, y, f"{dataset} test images", dataset


@click.command("evaluate", short_help="Test accuracy and loss of a saved model.")
@click.argument("model", type=click.Path(dir_okay=False, readable=False))     # the loader says what is wrong
@click.option("--data", type=click.Path(readable=False), default=None, metavar="PATH",
              help="Your own test set (a folder of class folders, a CSV, an .npz or IDX files) [default: the "
                   "model's own test set: the one it was trained with, or MNIST's].")
@click.option("--skip-bad", is_flag=True, help="With --data: leave out pictures that cannot be read.")
@click.option("--dataset", type=click.Choice(list(DATASETS)), default=None,
              help="Data set to evaluate on [default: the one the model was trained on].")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder of the IDX files [default: $SCRATCHNET_DATA or the user cache].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), default=None,
              help="Also write pictures and report.md (per-class metrics) into this folder.")
def command(model, data, skip_bad, dataset, data_dir, as_json, report_dir):
    """Report a saved model's accuracy and loss on its test set (or on --data), by class name."""
    if data is not None and dataset is not None:
        raise click.UsageError("give --data (your own test set) or --dataset, not both")
    net = load(model)
    X, y, words, dataset = _test_set(net, model, data, dataset, data_dir, skip_bad)
    names = model_class_names(net)
    ev = paths = None
    if report_dir:
        from ..report import write_report
        ev, paths = write_report(net, X, y, report_dir, model_name=model, dataset=dataset)
        loss, accuracy = ev.loss, ev.accuracy
    else:
        loss, accuracy = net.evaluate(X, y)
    if as_json:
        extra = {} if ev is None else {"report": str(paths["report.md"]), "per_class": ev.classes.rows(),
                                       "confusion_matrix": ev.C}
        _output.emit_json({"model": model, "dataset": dataset, "accuracy": accuracy, "loss": loss, "n": len(y),
                           "class_names": list(names), **extra})
        return
    _output.stdout.print(f"{net} from {model}", markup=False)
    _output.stdout.print(f"test accuracy {accuracy:.4f}  test loss {loss:.4f}  on {len(y):,} {words}", markup=False)
    if ev is not None:
        from ._report_tables import confusion_table, per_class_table
        _output.stdout.print(per_class_table(ev.classes, names))
        _output.stdout.print(confusion_table(ev.C, names))
        _output.stdout.print(f"report written to {paths['report.md']} with "
                             + ", ".join(name for name in paths if name != "report.md"))

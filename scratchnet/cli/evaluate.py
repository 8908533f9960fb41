"""``scratchnet evaluate MODEL``: accuracy and loss of a saved model on a test set."""

import click

from ..data import load_mnist
from ..data.checksums import DATASETS
from ..modelfile import load
from . import _output


@click.command("evaluate", short_help="Test accuracy and loss of a saved model.")
@click.argument("model", type=click.Path(dir_okay=False, readable=False))     # the loader says what is wrong
@click.option("--dataset", type=click.Choice(list(DATASETS)), default=None,
              help="Data set to evaluate on [default: the one the model was trained on].")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder of the IDX files [default: $SCRATCHNET_DATA or the user cache].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), default=None,
              help="Also write pictures and report.md (per-class metrics) into this folder.")
def command(model, dataset, data_dir, as_json, report_dir):
    """Report a saved model's accuracy and loss on the test set."""
    net = load(model)
    dataset = dataset or net.metadata.get("dataset", "mnist")
    X, y = load_mnist("test", dataset, data_dir)
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
                           **extra})
        return
    _output.stdout.print(f"{net} from {model}")
    _output.stdout.print(f"test accuracy {accuracy:.4f}  test loss {loss:.4f}  on {len(y):,} {dataset} test images")
    if ev is not None:
        from ..data.classes import class_names
        from ._report_tables import confusion_table, per_class_table
        names = class_names(dataset, net.sizes[-1])
        _output.stdout.print(per_class_table(ev.classes, names))
        _output.stdout.print(confusion_table(ev.C, names))
        _output.stdout.print(f"report written to {paths['report.md']} with "
                             + ", ".join(name for name in paths if name != "report.md"))

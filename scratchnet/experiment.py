"""A whole training run as the command line does it: data, network, training, test, model file.

Kept in the library (not in ``cli``) so that scripts, tests and benchmarks run exactly what
``scratchnet train`` runs.
"""

import time
from pathlib import Path

import numpy as np

from . import __version__
from .data import load_mnist
from .data.checksums import SHA256
from .errors import ScratchnetError
from .modelfile import load, save
from .network import Network
from .training import Recipe, train

SEED_LAYERS = (784, 100, 10, 10)
SEED_ACTIVATIONS = ("sigmoid", "sigmoid", "softmax")


def check_output_path(out):
    """Refuse, before any training, an ``--out`` that could not be written or would overwrite a
    file that is not a scratchnet model."""
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ScratchnetError(f"cannot save the model to {out}: folder {folder} does not exist")
    if out.exists():
        if out.is_dir():
            raise ScratchnetError(f"cannot save the model to {out}: it is a folder; give a file name")
        try:
            load(out)
        except ScratchnetError:
            raise ScratchnetError(
                f"{out} exists and is not a scratchnet model; choose another --out so it is not "
                "overwritten") from None


def run_training(sizes=SEED_LAYERS, activations=SEED_ACTIVATIONS, recipe=None, *, dataset="mnist",
                 data_dir=None, val_split=0, dtype="float32", out="model.npz", on_batch=None,
                 on_epoch=None):
    """Train a network on a data set, report it on the test set and save it.

    Returns
    -------
    dict with ``test_accuracy``, ``test_loss``, ``n_test``, ``epochs``, ``epoch_seconds``,
    ``seconds``, ``model``, ``history``, ``recipe``, ``best_epoch``, ``stopped_early``, ``network``
    """
    recipe = recipe or Recipe()
    recipe.check()
    if out is not None:
        check_output_path(out)
    net = Network(sizes, activations, seed=recipe.seed, dtype=dtype)
    X, y = load_mnist("train", dataset, data_dir)
    if net.sizes[0] != X.shape[1] or net.sizes[-1] != 10:
        raise ScratchnetError(f"{dataset} has {X.shape[1]} inputs and 10 classes, but --layers is "
                              f"{','.join(map(str, net.sizes))}; start with {X.shape[1]} and end with 10")
    if not 0 <= val_split < len(X):
        raise ScratchnetError(f"--val-split must be between 0 and {len(X) - 1}, got {val_split}")
    X_val = y_val = None
    if val_split:
        X, X_val, y, y_val = X[:-val_split], X[-val_split:], y[:-val_split], y[-val_split:]
    result = train(net, X, y, recipe, X_val, y_val, on_batch=on_batch, on_epoch=on_epoch)
    X_test, y_test = load_mnist("test", dataset, data_dir)
    test_loss, test_accuracy = net.evaluate(X_test, y_test)
    history = [vars(h) for h in result.history]
    summary = {
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "n_test": len(y_test),
        "epochs": len(history),
        "epoch_seconds": [h["seconds"] for h in history],
        "seconds": float(np.sum([h["seconds"] for h in history])),
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "val_split": val_split,
        "recipe": recipe.to_dict(),
        "history": history,
    }
    metadata = {
        "scratchnet_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "dataset": dataset,
        "data_sha256": SHA256[dataset],
        **{k: v for k, v in summary.items() if k != "epoch_seconds"},
    }
    net.metadata = metadata
    summary["model"] = str(save(net, out, metadata)) if out is not None else None
    summary["network"] = net
    return summary

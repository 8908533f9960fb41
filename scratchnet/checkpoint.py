"""Checkpoints: the whole state of an unfinished training run in one ``.npz``, written after every epoch.

A checkpoint holds the network's weights and everything in a `scratchnet.training.TrainingState`: the
optimiser's arrays (Adam's moments) and numbers (its step count), the random generator's state (it draws
the shuffles and the shifts), the epoch and step reached, the history, the best validation epoch and its
weights, and the moving average of the weights. Beside these, ``run``, a JSON object the caller fills
with what else it needs to go on (the recipe, the network and the data it trains on, where the model
goes).

Layout: arrays ``params`` (the flat weights the optimiser steps), ``average`` (their moving average,
when the recipe keeps one: the network holds it between epochs), ``best_params`` (when there is a
validation set), ``optimizer.<name>`` (each array of the optimiser) and ``metadata`` (JSON, as in a model
file). A checkpoint without ``average`` (every one written before the average existed) is a run without
one: its recipe, read with `scratchnet.training.Recipe.from_dict`, has ``average`` 0. It is
written atomically (`scratchnet.atomic.write_atomic`) and read with the same checks as a model file
(`scratchnet.modelfile.Archive`): nothing is unpickled, and no size is trusted before it is checked.
"""

from pathlib import Path

import numpy as np

from .errors import ScratchnetError
from .memory import require
from .modelfile import FORMAT as MODEL_FORMAT
from .modelfile import Archive, check_architecture, check_history, write_npz
from .network import Network, layer_shapes
from .optimizers import OPTIMIZERS
from .training import Epoch, TrainingState

FORMAT = "scratchnet-checkpoint"
FORMAT_VERSION = 1


def path_for(out):
    """The default checkpoint beside a model file: ``model.npz`` → ``model.ckpt.npz``."""
    out = Path(out)
    stem = out.name[:-4] if out.name.endswith(".npz") else out.name
    return out.with_name(f"{stem}.ckpt.npz")


def _optimizer_parts(optimizer):
    """The optimiser's state as ``(arrays, numbers)``: its array attributes and its numeric ones."""
    arrays = {k: v for k, v in vars(optimizer).items() if isinstance(v, np.ndarray)}
    numbers = {k: v for k, v in vars(optimizer).items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return arrays, numbers


def save(path, net, state, run):
    """Write a checkpoint of ``net`` and ``state`` (a `TrainingState`) with the JSON object ``run``.

    Returns the `Path`. The write is atomic: an interrupted save leaves the previous checkpoint.
    """
    arrays, numbers = _optimizer_parts(state.optimizer)
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "sizes": list(net.sizes), "activations": list(net.activations), "dtype": net.dtype.name,
        "optimizer": {"name": type(state.optimizer).__name__, "numbers": numbers, "arrays": sorted(arrays)},
        "rng": state.rng.bit_generator.state,
        "epoch": state.epoch, "step": state.step, "history": [vars(h) for h in state.history],
        "best_epoch": state.best_epoch, "best_accuracy": state.best_accuracy,
        "start_loss": state.start_loss, "stopped_early": state.stopped_early,
        "run": run,
    }
    params = net.params if state.raw_params is None else state.raw_params    # the optimiser's, not W̄
    out = {"params": params, **{f"optimizer.{k}": v for k, v in arrays.items()}}
    if state.best_params is not None:
        out["best_params"] = state.best_params
    if state.average is not None:
        out["average"] = state.average
    return write_npz(path, out, meta, "the checkpoint")


def _number(x, integer=False):
    return isinstance(x, int if integer else (int, float)) and not isinstance(x, bool)


def load(path):
    """Read a checkpoint written by `save`.

    Returns
    -------
    (net, state, run) : the `Network` with the checkpoint's weights (their moving average, if it has one,
        as between the epochs of a run; the optimiser's weights are then ``state.raw_params``), the
        `TrainingState` to pass to
        `scratchnet.training.train`, and the ``run`` object as saved (the caller checks its contents)
    """
    path = Path(path)
    if not path.exists():
        raise ScratchnetError(f"checkpoint {path} does not exist")
    with Archive(path, "checkpoint") as archive:
        meta = archive.metadata()
        if meta.get("format") == MODEL_FORMAT:
            archive.refuse("it is a trained model, not a checkpoint; a run is resumed from the .ckpt.npz "
                           "file that an interrupted run leaves beside its model (a finished run removes it)")
        archive.check_format(meta, FORMAT, FORMAT_VERSION)
        sizes, activations, dtype = check_architecture(archive, meta)
        opt = meta.get("optimizer")
        names = {o.__name__: o for o in OPTIMIZERS.values()}
        if not (isinstance(opt, dict) and opt.get("name") in names and isinstance(opt.get("numbers"), dict)
                and isinstance(opt.get("arrays"), list)):
            archive.refuse("its optimiser state is missing or unknown")
        n_params = sum(r * c for r, c in layer_shapes(sizes))
        itemsize = np.dtype(dtype).itemsize
        if "params" not in archive.members or archive.members["params"].file_size < n_params * itemsize:
            archive.refuse(f"its metadata claims layer sizes {sizes}, which its weights do not hold")
        archive.check("params", (n_params,))[0].close()       # its header and size, before allocating
        require(8 * n_params * itemsize, f"resuming from {path}", hint="it was made on a larger machine")
        try:
            net = Network(sizes, activations, dtype=dtype, seed=0)
        except ScratchnetError as e:
            archive.refuse(str(e))
        optimizer = names[opt["name"]](net.params)
        arrays, numbers = _optimizer_parts(optimizer)
        if sorted(arrays) != opt["arrays"] or set(numbers) != set(opt["numbers"]) \
                or not all(_number(v) for v in opt["numbers"].values()):
            archive.refuse("its optimiser state does not match the optimiser")
        expected = ["params", *(f"optimizer.{k}" for k in arrays)]
        expected += [name for name in ("best_params", "average") if name in archive.members]
        archive.check_names(expected)
        net.params[...] = archive.read("params", net.params.shape)
        for k, a in arrays.items():
            a[...] = archive.read(f"optimizer.{k}", a.shape)
        for k, v in opt["numbers"].items():
            setattr(optimizer, k, type(numbers[k])(v))
        best_params = archive.read("best_params", net.params.shape).astype(net.dtype) \
            if "best_params" in archive.members else None
        average = raw_params = None
        if "average" in archive.members:                 # the network holds W̄, as between epochs
            average = archive.read("average", net.params.shape).astype(net.dtype)
            raw_params = net.params.copy()
            net.params[...] = average

        rng = np.random.Generator(np.random.PCG64())
        try:
            rng.bit_generator.state = meta.get("rng")
        except (TypeError, ValueError, KeyError, OverflowError):
            archive.refuse("its random generator state is damaged")
        check_history(archive, meta.get("history"))
        try:
            history = [Epoch(**h) for h in meta["history"]]
        except TypeError:
            archive.refuse("its history lacks fields")
        epoch, step, best_epoch = meta.get("epoch"), meta.get("step"), meta.get("best_epoch")
        start_loss, best_accuracy = meta.get("start_loss"), meta.get("best_accuracy")
        if not (_number(epoch, True) and _number(step, True) and epoch == len(history) and step >= 0
                and (best_epoch is None or _number(best_epoch, True)) and _number(best_accuracy)
                and (start_loss is None or _number(start_loss))
                and isinstance(meta.get("stopped_early"), bool) and isinstance(meta.get("run"), dict)):
            archive.refuse("its progress record (epoch, step, history) is damaged")
    state = TrainingState(rng=rng, optimizer=optimizer, epoch=epoch, step=step, history=history,
                          best_epoch=best_epoch, best_accuracy=float(best_accuracy), best_params=best_params,
                          start_loss=None if start_loss is None else float(start_loss),
                          stopped_early=meta["stopped_early"], average=average, raw_params=raw_params)
    return net, state, meta["run"]

"""A whole training run as the command line does it: data, network, training, test, model file.

Kept in the library (not in ``cli``) so that scripts, tests and benchmarks run exactly what
``scratchnet train`` runs: the command's defaults are `Setup()` and `Recipe()`.

A run is checked before any work (the model's and the checkpoint's folders can be written, the arrays fit
in memory), saves a checkpoint after every epoch (`scratchnet.checkpoint`), can be resumed from it
(`resume_training`) to exactly the bits an uninterrupted run gives, and removes the checkpoint once the
model is saved. A run that diverges (`scratchnet.training.Diverged`) saves nothing and removes its
checkpoint; an existing model file is left as it was.
"""

import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from . import __version__
from . import checkpoint as checkpoints
from .atomic import check_folder_writable, folder_of
from .data import load_mnist
from .data.checksums import SHA256
from .data.classes import CLASS_NAMES
from .data.loading import check_sizes, from_spec
from .errors import ScratchnetError
from .memory import require, training_bytes
from .modelfile import load, save
from .network import SEED_ACTIVATIONS, SEED_SIZES, Network, architecture_text
from .training import Diverged, Recipe, train

N_TRAIN = 60_000
"""Training images in MNIST and Fashion-MNIST (used to estimate memory before the data is loaded)."""
N_TEST = 10_000


@dataclass
class Setup:
    """What a run trains, and on what, besides the `Recipe`; the defaults are ``scratchnet train``'s."""

    sizes: tuple = SEED_SIZES
    activations: tuple = SEED_ACTIVATIONS
    dtype: str = "float32"
    dataset: str = "mnist"
    val_split: int = 0
    """Hold out the last ``val_split`` training images for validation and early stopping."""
    n_train: int = 0
    """Train on the first ``n_train`` training images only (0: all of them)."""

    def to_dict(self):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d):
        """A `Setup` from a dict such as `to_dict` gives, with every field's type checked."""
        if not isinstance(d, dict) or set(d) != {f.name for f in fields(cls)}:
            raise ScratchnetError(f"a setup needs exactly the fields {', '.join(f.name for f in fields(cls))}")
        ok = (isinstance(d["sizes"], list) and all(type(n) is int for n in d["sizes"])
              and isinstance(d["activations"], list) and all(isinstance(a, str) for a in d["activations"])
              and all(isinstance(d[k], str) for k in ("dtype", "dataset"))
              and all(type(d[k]) is int and d[k] >= 0 for k in ("val_split", "n_train")))
        if not ok:
            raise ScratchnetError("a setup field has the wrong type")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


class Conflict(ScratchnetError):
    """A setting given when resuming differs from the checkpoint's: ``field``, ``given``, ``saved``."""

    def __init__(self, field, given, saved):
        self.given, self.saved = given, saved
        super().__init__(f"{field} {given!r} contradicts the checkpoint, whose run uses {saved!r}",
                         field=field)


class UnfinishedRun(ScratchnetError):
    """A new run would overwrite the checkpoint of an unfinished one at ``path``."""

    def __init__(self, path):
        self.path = path
        super().__init__(f"{path} holds an unfinished run; resume it, or delete it to start afresh",
                         field="checkpoint")


def check_output_path(out, what="save the model to"):
    """Refuse, before any training, an ``out`` that could not be written or would overwrite a file that
    is not a scratchnet model."""
    out = Path(out)
    folder = folder_of(out)
    if not folder.is_dir():
        raise ScratchnetError(f"cannot {what} {out}: folder {folder} does not exist", field="out")
    if out.is_dir():
        raise ScratchnetError(f"cannot {what} {out}: it is a folder; give a file name", field="out")
    check_folder_writable(folder, f"{what} {out}")
    if out.exists():
        try:
            load(out)
        except ScratchnetError:
            raise ScratchnetError(f"{out} exists and is not a scratchnet model; choose another file name "
                                  "so it is not overwritten", field="out") from None


def _check_checkpoint_path(path, resuming_from=None):
    path = Path(path)
    folder = folder_of(path)
    if not folder.is_dir():
        raise ScratchnetError(f"cannot keep the checkpoint {path}: folder {folder} does not exist",
                              field="checkpoint")
    if path.is_dir():
        raise ScratchnetError(f"cannot keep the checkpoint {path}: it is a folder", field="checkpoint")
    check_folder_writable(folder, f"keep the checkpoint {path}")
    if path.exists() and (resuming_from is None or path.resolve() != Path(resuming_from).resolve()):
        try:
            checkpoints.load(path)
        except ScratchnetError:
            raise ScratchnetError(f"{path} exists and is not a scratchnet checkpoint; choose another "
                                  "file name so it is not overwritten", field="checkpoint") from None
        raise UnfinishedRun(path)


def _check_sizes(setup, data):
    """The layer sizes start with the data's input size and end with its class count (else field "sizes")."""
    if data is not None:
        data.check_sizes(setup.sizes)
    elif setup.dataset in CLASS_NAMES:
        check_sizes(setup.sizes, 784, len(CLASS_NAMES[setup.dataset]), setup.dataset)


def _data(setup, data_dir, on_message, data=None):
    """The training (and validation) images of a setup, loaded and split; ``data`` (a
    `scratchnet.data.TrainingData`) instead of ``setup.dataset`` when given."""
    if data is not None:
        X, y = data.train.X, data.train.y
    else:
        X, y = load_mnist("train", setup.dataset, data_dir, log=on_message)
    _check_sizes(setup, data)
    if not 0 <= setup.n_train <= len(X):
        raise ScratchnetError(f"the number of training images must be between 1 and {len(X)} "
                              f"(0: all), got {setup.n_train}", field="n_train")
    if setup.n_train:
        X, y = X[:setup.n_train], y[:setup.n_train]
    if not 0 <= setup.val_split < len(X):
        raise ScratchnetError(f"the validation split must be between 0 and {len(X) - 1} images, "
                              f"got {setup.val_split}", field="val_split")
    if setup.val_split:
        return X[:-setup.val_split], y[:-setup.val_split], X[-setup.val_split:], y[-setup.val_split:]
    return X, y, None, None


def _check_memory(setup, recipe, data=None):
    n = setup.n_train or (len(data.train) if data is not None else N_TRAIN)
    copies = {"adam": 3, "momentum": 2, "sgd": 1}.get(recipe.optimizer, 3)
    if recipe.average:                               # W̄, its scratch array, the raw weights between epochs
        copies += 3
    what = f"training {architecture_text(setup.sizes, setup.activations)} with batches of {recipe.batch_size}"
    if any(s > 2 ** 40 for s in setup.sizes) or recipe.batch_size > 2 ** 40:
        raise ScratchnetError(f"{what} is far too large for any machine's memory; "
                              "use smaller layers or a smaller batch")
    require(training_bytes(setup.sizes, min(recipe.batch_size, n), n, N_TEST, setup.dtype, copies,
                           best_copy=setup.val_split > 0), what)


class Run:
    """A training run, checked and ready: build one with `Run.new` or `Run.resume`, then `execute` it.

    Attributes: ``net``, ``state`` (a `TrainingState`, or None before the first epoch), ``setup``,
    ``recipe``, ``out`` (where the model goes, or None), ``checkpoint`` (where the checkpoint goes, or
    None), ``resumed_from`` (the checkpoint it was read from, or None), ``data`` (the
    `scratchnet.data.TrainingData` trained and tested on instead of ``setup.dataset``, or None).
    """

    def __init__(self, net, state, setup, recipe, out, checkpoint, resumed_from=None, data=None):
        self.net, self.state, self.setup, self.recipe = net, state, setup, recipe
        self.out, self.checkpoint, self.resumed_from = out, checkpoint, resumed_from
        self.data = data

    @property
    def epochs_done(self):
        """Epochs finished before `execute` (non-zero for a resumed run)."""
        return 0 if self.state is None else self.state.epoch

    @classmethod
    def new(cls, setup=None, recipe=None, *, out="model.npz", checkpoint=None, data=None):
        """A fresh run; refused now if its layer sizes do not fit the data, its files could not be written
        or its arrays cannot fit in memory. ``data``: a `scratchnet.data.TrainingData` (your own data) to
        train and test on instead of ``setup.dataset``.

        ``out`` None: the model is not saved and no checkpoint is kept. ``checkpoint`` defaults to the
        file beside ``out`` (``model.npz`` → ``model.ckpt.npz``); one there already is refused
        (`UnfinishedRun`), so a new run never overwrites an interrupted one.
        """
        setup, recipe = setup or Setup(), recipe or Recipe()
        _check_sizes(setup, data)
        recipe.check()
        if out is not None:
            check_output_path(out)
            checkpoint = Path(checkpoint) if checkpoint is not None else checkpoints.path_for(out)
            _check_checkpoint_path(checkpoint)
        else:
            checkpoint = None
        _check_memory(setup, recipe, data)
        net = Network(setup.sizes, setup.activations, seed=recipe.seed, dtype=setup.dtype)
        return cls(net, None, setup, recipe, out, checkpoint, data=data)

    @classmethod
    def resume(cls, path, *, given=None, out=None, checkpoint=None):
        """The run saved in the checkpoint ``path``, ready to go on.

        ``given``: settings (fields of `Setup` and `Recipe`) the caller asked for; each must equal the
        checkpoint's, else `Conflict`. ``out`` defaults to where the interrupted run would have saved its
        model, ``checkpoint`` to ``path`` itself.
        """
        path = Path(path)
        net, state, run = checkpoints.load(path)
        try:
            setup, recipe = Setup.from_dict(run.get("setup")), Recipe.from_dict(run.get("recipe"))
            saved_out = run.get("out")
            if not isinstance(saved_out, str) or not saved_out:
                raise ScratchnetError("no model path")
            if (list(setup.sizes), list(setup.activations), setup.dtype) != \
                    (list(net.sizes), list(net.activations), net.dtype.name):
                raise ScratchnetError("the network does not match its setup")
        except (ScratchnetError, TypeError) as e:
            raise ScratchnetError(f"{path} is not a usable scratchnet checkpoint: its run record is "
                                  f"damaged ({e})") from None
        for name, value in (given or {}).items():
            saved = getattr(setup, name) if hasattr(setup, name) else getattr(recipe, name)
            if isinstance(saved, tuple):
                value = tuple(value)
            if value != saved:
                raise Conflict(name, value, saved)
        out = Path(out) if out is not None else Path(saved_out)
        checkpoint = Path(checkpoint) if checkpoint is not None else path
        check_output_path(out)
        _check_checkpoint_path(checkpoint, resuming_from=path)
        data = from_spec(run["data"]) if run.get("data") is not None else None     # own data: read again
        _check_memory(setup, recipe, data)
        return cls(net, state, setup, recipe, out, checkpoint, resumed_from=path, data=data)

    def execute(self, data_dir=None, on_batch=None, on_epoch=None, on_message=None):
        """Load the data, train, test, save the model and remove the checkpoint.

        Parameters
        ----------
        data_dir : folder of the IDX files (default: ``SCRATCHNET_DATA`` or the user cache)
        on_batch : callable ``(epoch, batch_index, n_batches)``
        on_epoch : callable ``(Epoch)``, called once the epoch's checkpoint is saved
        on_message : callable ``(str)``, for what happens before training (fetching the data)

        Returns
        -------
        dict with ``test_accuracy``, ``test_loss``, ``n_test``, ``epochs``, ``epoch_seconds``,
        ``seconds``, ``warm_up_seconds`` (loading the compiled kernels, before the first epoch), ``model``, ``history``, ``recipe``, ``setup``, ``best_epoch``, ``stopped_early``,
        ``network`` (and ``resumed_from`` for a resumed run)
        """
        net, setup, recipe, checkpoint = self.net, self.setup, self.recipe, self.checkpoint
        data = self.data
        X, y, X_val, y_val = _data(setup, data_dir, on_message, data)
        record = {"setup": setup.to_dict(), "recipe": recipe.to_dict(),
                  "out": str(Path(self.out).absolute()) if self.out is not None else None,
                  "data": data.spec if data is not None else None}

        def on_checkpoint(state):
            self.state = state
            if checkpoint is not None:
                checkpoints.save(checkpoint, net, state, record)
            if on_epoch is not None:
                on_epoch(state.history[-1])

        try:
            result = train(net, X, y, recipe, X_val, y_val, on_batch=on_batch, state=self.state,
                           on_checkpoint=on_checkpoint)
        except Diverged:
            if checkpoint is not None:
                Path(checkpoint).unlink(missing_ok=True)
            raise
        if data is not None:
            X_test, y_test = data.test.X, data.test.y
        else:
            X_test, y_test = load_mnist("test", setup.dataset, data_dir, log=on_message)
        test_loss, test_accuracy = net.evaluate(X_test, y_test)
        history = [vars(h) for h in result.history]
        summary = {
            "test_accuracy": test_accuracy,
            "test_loss": test_loss,
            "n_test": len(y_test),
            "epochs": len(history),
            "epoch_seconds": [h["seconds"] for h in history],
            "seconds": float(np.sum([h["seconds"] for h in history])),
            "warm_up_seconds": result.warm_up_seconds,
            "best_epoch": result.best_epoch,
            "stopped_early": result.stopped_early,
            "val_split": setup.val_split,
            "setup": setup.to_dict(),
            "recipe": recipe.to_dict(),
            "history": history,
        }
        metadata = {
            "scratchnet_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "dataset": setup.dataset,
            "data_sha256": data.sha256() if data is not None else SHA256[setup.dataset],
            "class_names": list(data.class_names if data is not None else CLASS_NAMES[setup.dataset]),
            **({"data": data.spec} if data is not None else {}),
            **{k: v for k, v in summary.items() if k not in ("epoch_seconds", "warm_up_seconds")},
        }
        net.metadata = metadata
        summary["model"] = str(save(net, self.out, metadata)) if self.out is not None else None
        if checkpoint is not None:
            Path(checkpoint).unlink(missing_ok=True)
        if self.resumed_from is not None:
            summary["resumed_from"] = str(self.resumed_from)
        summary["network"] = net
        return summary


def run_training(setup=None, recipe=None, *, data_dir=None, out="model.npz", checkpoint=None,
                 on_batch=None, on_epoch=None, on_message=None):
    """Train a network on a data set, report it on the test set and save it: `Run.new` then
    `Run.execute` (see both for the parameters and the returned dict)."""
    return Run.new(setup, recipe, out=out, checkpoint=checkpoint).execute(data_dir, on_batch, on_epoch,
                                                                          on_message)


def resume_training(path, *, given=None, data_dir=None, out=None, checkpoint=None, on_batch=None,
                    on_epoch=None, on_message=None):
    """Go on with the run saved in the checkpoint ``path``, to the model an uninterrupted run gives:
    `Run.resume` then `Run.execute`."""
    return Run.resume(path, given=given, out=out, checkpoint=checkpoint).execute(data_dir, on_batch,
                                                                                on_epoch, on_message)

"""Mini-batch training: shuffle (and shift) an epoch, step through it in batches, keep a history.

One epoch::

    rows ← a random permutation of the training set
    X_e  ← X[rows], each image shifted by up to ``shift`` pixels        (uint8, one pass)
    for each batch b of B rows:
        t      ← net.trace(X_e[b], y_b)                 (a Trace: uint8 scaled by 1/255 into [1 x];
                                                        t.loss, and t.gradient, every ∂L/∂W_l in one flat array)
        params ← optimiser step with t.gradient and the scheduled learning rate

Images stay uint8 until a batch is converted; the trainer keeps its own workspace (one `Trace` per batch
size), so the batch, the gradients and every activation are allocated once. The test set is never seen here: pass a validation set for monitoring and early stopping.

Everything the rest of a run depends on after an epoch (the weights, the optimiser's moments and step
count, the random generator of shuffles and shifts, the history, the best validation epoch) is one
`TrainingState`. ``train`` hands it to ``on_checkpoint`` after every epoch, and a run started again from
that state (``train(..., state=...)``) ends with exactly the same bits as one never stopped.
"""

import time
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from . import fused
from .augment import gather_shifted
from .errors import ScratchnetError
from .optimizers import OPTIMIZERS
from .schedules import SCHEDULES

DIVERGENCE_FACTOR = 4.0
"""A run has diverged when an epoch's mean loss exceeds this many times the loss of the run's first batch,
or when any batch's loss is NaN or infinite. The first loss of a fresh network is about ln n_L (2.3 for ten
classes); a mean four times that means the network is confidently wrong on most images, which a learning
rate that is too large causes and a good run does not come back from. (The check is on the epoch's mean,
not on each batch: with small batches a single confidently wrong image can exceed it in a good run.)"""


@dataclass
class Recipe:
    """Everything that decides how a network is trained (saved in the model file).

    These defaults are the defaults of ``scratchnet train`` and of `scratchnet.experiment.run_training`.
    """

    epochs: int = 30
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 3e-3
    schedule: str = "cosine"
    shift: int = 1
    """Largest random shift in pixels per axis (0: no augmentation)."""
    patience: int = 5
    """With a validation set: stop after this many epochs without a better validation accuracy (0: never).
    Without one it has no effect."""
    seed: int = 0

    def check(self):
        """Raise `ScratchnetError` (with ``field`` set) for a value no run could use."""
        def refuse(name, message):
            raise ScratchnetError(f"{name.replace('_', ' ')} {message}", field=name)

        for name in ("epochs", "batch_size", "shift", "patience", "seed"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                refuse(name, f"must be a whole number, got {value!r}")
        if self.epochs < 1:
            refuse("epochs", f"must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            refuse("batch_size", f"must be at least 1, got {self.batch_size}")
        if self.optimizer not in OPTIMIZERS:
            refuse("optimizer", f"{self.optimizer!r} is unknown; choose from {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            refuse("schedule", f"{self.schedule!r} is unknown; choose from {', '.join(SCHEDULES)}")
        if not (isinstance(self.lr, (int, float, np.floating)) and self.lr > 0 and np.isfinite(self.lr)):
            refuse("lr", f"(learning rate) must be a positive number, got {self.lr}")
        if self.shift < 0:
            refuse("shift", f"must be 0 or more pixels, got {self.shift}")
        if self.patience < 0:
            refuse("patience", f"must be 0 or more epochs, got {self.patience}")

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        """A checked `Recipe` from a dict such as `to_dict` gives (e.g. read back from a file)."""
        if not isinstance(d, dict) or set(d) != {f.name for f in fields(cls)}:
            raise ScratchnetError(f"a recipe needs exactly the fields {', '.join(f.name for f in fields(cls))}")
        recipe = cls(**d)
        recipe.check()
        return recipe


@dataclass
class Epoch:
    """One row of the training history."""

    epoch: int
    train_loss: float
    train_accuracy: float
    lr: float
    """Learning rate at the epoch's first step."""
    seconds: float
    val_loss: float | None = None
    val_accuracy: float | None = None


@dataclass
class Result:
    """What `train` returns: the per-epoch history and which epoch's weights the network holds."""

    history: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    warm_up_seconds: float = 0.0
    """Seconds spent loading the compiled kernels before the first epoch (`scratchnet.fused.warm_up`),
    counted in no epoch's ``seconds``."""


class Diverged(ScratchnetError):
    """The loss became NaN or infinite or climbed far above its start; the run cannot go on."""

    def __init__(self, epoch, step, loss, start_loss, lr):
        self.epoch, self.step, self.loss, self.start_loss, self.lr = epoch, step, loss, start_loss, lr
        super().__init__(f"training diverged at epoch {epoch}, step {step}: the loss went from "
                         f"{start_loss:.3g} at the start to {loss:.3g}; try a smaller learning rate than {lr:g}",
                         field="lr")


@dataclass
class TrainingState:
    """Everything a run needs to go on after a finished epoch, besides the network's weights.

    ``epoch`` epochs are done and ``step`` optimiser steps taken; ``rng`` draws the next epoch's shuffle
    and shifts; ``optimizer`` holds its moments and step count; ``best_params`` are the weights of the
    best validation epoch so far (``None`` without a validation set); ``start_loss`` is the first batch's
    loss, the yardstick of the divergence check.
    """

    rng: np.random.Generator
    optimizer: object
    epoch: int = 0
    step: int = 0
    history: list = field(default_factory=list)
    best_epoch: int | None = None
    best_accuracy: float = -1.0
    best_params: np.ndarray | None = None
    start_loss: float | None = None
    stopped_early: bool = False

    @classmethod
    def start(cls, net, recipe):
        """The state of a run that has not begun: generator seeded from the recipe, optimiser at zero."""
        return cls(rng=np.random.default_rng(recipe.seed), optimizer=OPTIMIZERS[recipe.optimizer](net.params))

    def finished(self, recipe):
        """Whether the run has nothing left to do."""
        return self.stopped_early or self.epoch >= recipe.epochs


def train(net, X, y, recipe, X_val=None, y_val=None, on_batch=None, on_epoch=None, state=None,
          on_checkpoint=None):
    """Train ``net`` in place on ``X (N, n_0)`` uint8 pixels and ``y (N,)`` labels.

    Parameters
    ----------
    net : Network
    X : ndarray uint8 (N, n_0); ``n_0`` must be a square number for shifts
    y : ndarray int (N,)
    recipe : Recipe
    X_val, y_val : optional validation set; with it, each epoch reports validation loss and accuracy,
        and the network ends with the weights of its best validation epoch
    on_batch : callable ``(epoch, batch_index, n_batches, loss=…, accuracy=…)``, optional (progress
        display): ``loss`` and ``accuracy`` are the epoch's running means over the batches so far. Raising
        an exception from it stops the run (the last checkpoint stays valid)
    on_epoch : callable ``(Epoch)``, optional
    state : TrainingState, optional: go on from this state (``net`` must hold the weights saved with it);
        by default a fresh run starts
    on_checkpoint : callable ``(TrainingState)``, optional, called after every epoch once the state is
        complete (to save a checkpoint)

    Returns
    -------
    Result

    Raises `Diverged` when a batch's loss becomes NaN or infinite or an epoch's mean loss exceeds
    `DIVERGENCE_FACTOR` times the first batch's; the network's weights are then useless.
    """
    recipe.check()
    X, y = np.asarray(X), np.asarray(y).astype(np.intp)
    if X.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != net.sizes[0] or len(y) != len(X) or not len(X):
        raise ScratchnetError(f"training data must be uint8 (N, {net.sizes[0]}) with N ≥ 1 labels")
    side = int(round(np.sqrt(net.sizes[0])))
    if recipe.shift and side * side != net.sizes[0]:
        raise ScratchnetError(f"shifts need square images, but the input has {net.sizes[0]} pixels",
                              field="shift")
    s = state if state is not None else TrainingState.start(net, recipe)
    warm_up_seconds = fused.warm_up() if net.dtype == np.float32 else 0.0      # before any epoch's clock
    N, B = len(X), min(recipe.batch_size, len(X))
    steps_per_epoch = -(-N // B)
    total_steps = recipe.epochs * steps_per_epoch
    schedule = SCHEDULES[recipe.schedule]
    workspaces = {}                                  # one Trace per batch size: B, and the last partial batch
    X_epoch = np.empty_like(X)
    y_epoch = np.empty(N, np.intp)

    while not s.finished(recipe):
        epoch = s.epoch + 1
        start = time.perf_counter()
        rows = s.rng.permutation(N)
        gather_shifted(X, rows, recipe.shift, s.rng, X_epoch)
        np.take(y, rows, out=y_epoch)
        loss_sum, correct, lr_start = 0.0, 0, schedule(recipe.lr, s.step, total_steps)
        for b, i in enumerate(range(0, N, B)):
            n = min(B, N - i)
            t = net.trace(X_epoch[i:i + n], y_epoch[i:i + n], into=workspaces.get(n))
            workspaces[n], loss = t, t.loss
            if not loss < np.inf:                               # NaN or infinite
                raise Diverged(epoch, s.step + 1, loss, s.start_loss or loss, recipe.lr)
            if s.start_loss is None:
                s.start_loss = loss
            correct += int(np.count_nonzero(t.yhat.argmax(axis=1) == y_epoch[i:i + n]))
            loss_sum += loss * n
            s.optimizer.step(net.params, t.gradient, schedule(recipe.lr, s.step, total_steps))
            s.step += 1
            if on_batch is not None:
                on_batch(epoch, b + 1, steps_per_epoch, loss=loss_sum / (i + n), accuracy=correct / (i + n))
        row = Epoch(epoch, loss_sum / N, correct / N, lr_start, time.perf_counter() - start)
        if not (row.train_loss <= DIVERGENCE_FACTOR * s.start_loss and np.isfinite(net.params).all()):
            raise Diverged(epoch, s.step, row.train_loss, s.start_loss, recipe.lr)
        if X_val is not None:
            row.val_loss, row.val_accuracy = net.evaluate(X_val, y_val)
            if row.val_accuracy > s.best_accuracy:
                s.best_accuracy, s.best_epoch = row.val_accuracy, epoch
                s.best_params = net.params.copy()
        s.history.append(row)
        s.epoch = epoch
        if recipe.patience and s.best_epoch is not None and epoch - s.best_epoch >= recipe.patience:
            s.stopped_early = True
        if on_epoch is not None:
            on_epoch(row)
        if on_checkpoint is not None:
            on_checkpoint(s)
    if s.best_params is not None:
        net.params[:] = s.best_params
    return Result(history=list(s.history), best_epoch=s.best_epoch, stopped_early=s.stopped_early,
                  warm_up_seconds=warm_up_seconds)

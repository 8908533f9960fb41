"""Mini-batch training: shuffle (and shift) an epoch, step through it in batches, keep a history.

One epoch::

    rows ← a random permutation of the training set
    X_e  ← X[rows], each image shifted by up to ``shift`` pixels        (uint8, one pass)
    for each batch b of B rows:
        t      ← net.trace(X_e[b], y_b)                 (a Trace: uint8 scaled by 1/255 into [1 x];
                                                        t.loss, and t.gradient, every ∂L/∂W_l in one flat array)
        params ← optimiser step with t.gradient and the scheduled learning rate
        W̄      ← d W̄ + (1 − d) params,  d = min(average, (1 + k) / (10 + k)) after step k   (W̄ starts as
                                                        the initial weights; ``average`` 0: no W̄)
    the network holds W̄ until the next epoch starts from the optimiser's own weights again:
    validation, ``on_epoch``, ``on_checkpoint`` and the end of the run see W̄

The exponential moving average W̄ of the weights is a better model than the weights themselves while
the rate is still large: the optimiser's weights jitter around a minimum, their average sits nearer its
middle (docs/recipes.md: with ``average`` 0.998 the default recipe first reaches 98 % test accuracy at
epoch 9–10 instead of 12–14, and ends at the same accuracy). The warm-up of ``d`` keeps the early
average from remembering the random start: after step k it weighs about the last (10 + k) / 9 steps,
until ``d`` reaches ``average`` (for 0.998 at step 4,490, then about the last 500 steps). The history's
train loss and accuracy are those of the optimiser's weights, measured during the epoch.

Images stay uint8 until a batch is converted; the trainer keeps its own workspace (one `Trace` per batch
size), so the batch, the gradients and every activation are allocated once. The test set is never seen here: pass a validation set for monitoring and early stopping.

Everything the rest of a run depends on after an epoch (the weights and their moving average, the
optimiser's moments and step count, the random generator of shuffles and shifts, the history, the best
validation epoch) is one `TrainingState`. ``train`` hands it to ``on_checkpoint`` after every epoch,
and a run started again from that state (``train(..., state=...)``) ends with exactly the same bits as
one never stopped.
"""

import time
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from . import fused
from .augment import gather_shifted
from .errors import ScratchnetError
from .fused import fast
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
    average: float = 0.998
    """Decay of the moving average of the weights that is validated, reported between epochs and kept at
    the end, in place of the weights themselves (0: no average, the weights themselves)."""
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
        if not (isinstance(self.average, (int, float, np.integer, np.floating)) and not isinstance(self.average, bool)
                and 0 <= self.average < 1):
            refuse("average", f"(the moving average's decay) must be a number from 0 (off) up to but not "
                              f"including 1, got {self.average!r}")

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        """A checked `Recipe` from a dict such as `to_dict` gives (e.g. read back from a file).

        A dict with exactly the fields of a recipe written before ``average`` existed (every field but
        it) gets ``average=0``: that is how those networks were trained."""
        names = {f.name for f in fields(cls)}
        if isinstance(d, dict) and set(d) == names - {"average"}:
            d = {**d, "average": 0.0}
        if not isinstance(d, dict) or set(d) != names:
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


def average_weights(average, params, d, scratch):
    """One step of the moving average of the weights, in place: ``W̄ ← d W̄ + (1 − d) W``.

    ``average`` W̄, ``params`` W and ``scratch`` (workspace, overwritten) are ``(P,)`` arrays of one
    float dtype, ``d`` a float in [0, 1); each product is rounded to that dtype before the sum. For
    float32 the trainer runs its compiled twin (`scratchnet.fused.fast`: one pass, the same bits).
    """
    average *= d                                     # d W̄
    np.multiply(params, 1 - d, out=scratch)          # (1 − d) W
    average += scratch


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
    loss, the yardstick of the divergence check. With the recipe's ``average``, ``average`` is the moving
    average W̄ of the weights (in the network's dtype), which the network holds between epochs, and
    ``raw_params`` the optimiser's own weights W that the next epoch goes on from (None before the first
    epoch has ended); both are None without an average.
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
    average: np.ndarray | None = None
    raw_params: np.ndarray | None = None

    @classmethod
    def start(cls, net, recipe):
        """The state of a run that has not begun: generator seeded from the recipe, optimiser at zero,
        the moving average (with the recipe's ``average``) at the initial weights, ``W̄_0 = W_0``."""
        return cls(rng=np.random.default_rng(recipe.seed), optimizer=OPTIMIZERS[recipe.optimizer](net.params),
                   average=net.params.copy() if recipe.average else None)

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
        display): ``loss`` and ``accuracy`` are the epoch's running means over the batches so far; ``net``
        holds the optimiser's own weights then. Raising an exception from it stops the run (the last
        checkpoint stays valid) and leaves ``net`` with those weights
    on_epoch : callable ``(Epoch)``, optional
    state : TrainingState, optional: go on from this state (``net`` must hold the weights saved with it);
        by default a fresh run starts
    on_checkpoint : callable ``(TrainingState)``, optional, called after every epoch once the state is
        complete (to save a checkpoint)

    With the recipe's ``average`` (the default), the moving average W̄ of the weights is updated after
    every step, and from the end of each epoch until the next one starts ``net`` holds W̄: the validation
    set is evaluated on it, the best validation epoch keeps it, and ``on_epoch`` and ``on_checkpoint`` see
    it, so a caller that evaluates ``net`` there evaluates the averaged network. The optimiser's own
    weights wait in ``state.raw_params`` and the next epoch goes on from them. The run ends with W̄ (or
    the best validation epoch's W̄). Without an average, ``net`` always holds the optimiser's weights.

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
    if (s.average is None) != (recipe.average == 0):
        has = "has no" if s.average is None else "has a"
        raise ScratchnetError(f"the training state {has} moving average of the weights, but the recipe's average "
                              f"is {recipe.average:g}; resume a run with the recipe it was started with",
                              field="average")
    warm_up_seconds = fused.warm_up() if net.dtype == np.float32 else 0.0      # before any epoch's clock
    N, B = len(X), min(recipe.batch_size, len(X))
    steps_per_epoch = -(-N // B)
    total_steps = recipe.epochs * steps_per_epoch
    schedule = SCHEDULES[recipe.schedule]
    workspaces = {}                                  # one Trace per batch size: B, and the last partial batch
    X_epoch = np.empty_like(X)
    y_epoch = np.empty(N, np.intp)
    if s.average is not None:
        scratch = np.empty_like(net.params)          # the average's workspace, (1 − d) W
        average_step = fast(average_weights, s.average, net.params)    # its compiled twin, for float32

    while not s.finished(recipe):
        epoch = s.epoch + 1
        start = time.perf_counter()
        if s.raw_params is not None:                 # the network held W̄ since the last epoch
            net.params[:] = s.raw_params
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
            if s.average is not None:                # W̄ ← d W̄ + (1 − d) W, with the warm-up of d
                d = min(recipe.average, (1 + s.step) / (10 + s.step))
                average_step(s.average, net.params, d, scratch)
            if on_batch is not None:
                on_batch(epoch, b + 1, steps_per_epoch, loss=loss_sum / (i + n), accuracy=correct / (i + n))
        row = Epoch(epoch, loss_sum / N, correct / N, lr_start, time.perf_counter() - start)
        if not (row.train_loss <= DIVERGENCE_FACTOR * s.start_loss and np.isfinite(net.params).all()):
            raise Diverged(epoch, s.step, row.train_loss, s.start_loss, recipe.lr)
        if s.average is not None:                    # until the next epoch, the network holds W̄
            if s.raw_params is None:
                s.raw_params = net.params.copy()
            else:
                s.raw_params[:] = net.params
            net.params[:] = s.average
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
    elif s.average is not None:
        net.params[:] = s.average
    return Result(history=list(s.history), best_epoch=s.best_epoch, stopped_early=s.stopped_early,
                  warm_up_seconds=warm_up_seconds)

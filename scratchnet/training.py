"""Mini-batch training: shuffle (and shift) an epoch, step through it in batches, keep a history.

One epoch::

    rows ← a random permutation of the training set
    X_e  ← X[rows], each image shifted by up to ``shift`` pixels        (uint8, one pass)
    for each batch b of B rows:
        L, ∂L/∂W = net.loss_and_grads(X_e[b], y_b)     (uint8 scaled by 1/255 into [1 x]; gradients
                                                        written into one flat array)
        params  ← optimiser step with the scheduled learning rate

Images stay uint8 until a batch is converted; the batch, the gradients and every activation buffer are
allocated once. The test set is never seen here: pass a validation set for monitoring and early stopping.
"""

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .augment import gather_shifted
from .errors import ScratchnetError
from .network import flat_views
from .optimizers import OPTIMIZERS
from .schedules import SCHEDULES


@dataclass
class Recipe:
    """Everything that decides a training run (saved in the model file)."""

    epochs: int = 30
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 3e-3
    schedule: str = "cosine"
    shift: int = 1
    """Largest random shift in pixels per axis (0: no augmentation)."""
    patience: int = 0
    """With a validation set: stop after this many epochs without a better validation accuracy (0: never)."""
    seed: int = 0

    def check(self):
        """Raise `ScratchnetError` for a value no run could use."""
        if self.epochs < 1:
            raise ScratchnetError(f"--epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ScratchnetError(f"--batch-size must be at least 1, got {self.batch_size}")
        if self.optimizer not in OPTIMIZERS:
            raise ScratchnetError(f"unknown optimizer {self.optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise ScratchnetError(f"unknown schedule {self.schedule!r}; choose from {', '.join(SCHEDULES)}")
        if not (self.lr > 0 and np.isfinite(self.lr)):
            raise ScratchnetError(f"--lr must be a positive number, got {self.lr}")
        if self.shift < 0:
            raise ScratchnetError(f"the shift must be 0 or more pixels, got {self.shift}")

    def to_dict(self):
        return asdict(self)


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


def train(net, X, y, recipe, X_val=None, y_val=None, on_batch=None, on_epoch=None):
    """Train ``net`` in place on ``X (N, n_0)`` uint8 pixels and ``y (N,)`` labels.

    Parameters
    ----------
    net : Network
    X : ndarray uint8 (N, n_0); ``n_0`` must be a square number for shifts
    y : ndarray int (N,)
    recipe : Recipe
    X_val, y_val : optional validation set; with it, each epoch reports validation loss and accuracy,
        and the network ends with the weights of its best validation epoch
    on_batch : callable ``(epoch, batch_index, n_batches)``, optional (progress display)
    on_epoch : callable ``(Epoch)``, optional

    Returns
    -------
    Result
    """
    recipe.check()
    X, y = np.asarray(X), np.asarray(y).astype(np.intp)
    if X.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != net.sizes[0] or len(y) != len(X):
        raise ScratchnetError(f"training data must be uint8 (N, {net.sizes[0]}) with N labels")
    side = int(round(np.sqrt(net.sizes[0])))
    if recipe.shift and side * side != net.sizes[0]:
        raise ScratchnetError(f"shifts need square images, but the input has {net.sizes[0]} pixels")
    rng = np.random.default_rng(recipe.seed)
    N, B = len(X), min(recipe.batch_size, len(X))
    steps_per_epoch = -(-N // B)
    total_steps = recipe.epochs * steps_per_epoch
    optimizer = OPTIMIZERS[recipe.optimizer](net.params)
    schedule = SCHEDULES[recipe.schedule]
    grads_flat = np.empty_like(net.params)
    grads = flat_views(grads_flat, net.shapes)
    X_epoch = np.empty_like(X)
    y_epoch = np.empty(N, np.intp)
    result, best_accuracy, best_params, step = Result(), -1.0, None, 0

    for epoch in range(1, recipe.epochs + 1):
        start = time.perf_counter()
        rows = rng.permutation(N)
        gather_shifted(X, rows, recipe.shift, rng, X_epoch)
        np.take(y, rows, out=y_epoch)
        loss_sum, correct, lr_start = 0.0, 0, schedule(recipe.lr, step, total_steps)
        for b, i in enumerate(range(0, N, B)):
            n = min(B, N - i)
            loss, _, yhat = net.loss_and_grads(X_epoch[i:i + n], y_epoch[i:i + n], out=grads, with_output=True)
            correct += int(np.count_nonzero(yhat.argmax(axis=1) == y_epoch[i:i + n]))
            loss_sum += loss * n
            optimizer.step(net.params, grads_flat, schedule(recipe.lr, step, total_steps))
            step += 1
            if on_batch is not None:
                on_batch(epoch, b + 1, steps_per_epoch)
        seconds = time.perf_counter() - start
        row = Epoch(epoch, loss_sum / N, correct / N, lr_start, seconds)
        if X_val is not None:
            row.val_loss, row.val_accuracy = net.evaluate(X_val, y_val)
            if row.val_accuracy > best_accuracy:
                best_accuracy, best_params, result.best_epoch = row.val_accuracy, net.params.copy(), epoch
        if not (np.isfinite(row.train_loss) and np.isfinite(net.params).all()):
            raise ScratchnetError(f"training diverged at epoch {epoch} (loss is {row.train_loss}); "
                                  "try a smaller --lr")
        result.history.append(row)
        if on_epoch is not None:
            on_epoch(row)
        if recipe.patience and result.best_epoch is not None and epoch - result.best_epoch >= recipe.patience:
            result.stopped_early = True
            break
    if best_params is not None:
        net.params[:] = best_params
    return result

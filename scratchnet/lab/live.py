"""A training run started from the page, in a background thread, reported as a list of events.

The run calls `scratchnet.training.train` (the trainer of ``scratchnet train``) on a copy of a network;
its callbacks append small events to ``run.events``, which the server streams to the page as
server-sent events. Only a few events per epoch are made, so streaming costs the trainer almost
nothing: a ``progress`` point every ``every`` batches (the running loss and accuracy of the epoch so
far), an ``epoch`` row at the end of each epoch, and a ``weights`` picture of the first layer at most
once a second. When the run ends (finished, stopped or failed) its network becomes the lab's.

Event types (each a dict with ``"type"``)::

    start     recipe, examples, steps_per_epoch
    progress  epoch, batch, n_batches, loss, accuracy (the trainer's running means over the epoch so
              far), seconds
    epoch     the training history row (epoch, train_loss, train_accuracy, lr, seconds)
    weights   W1 as int8 codes: for each of the n_1 hidden units, its 784 input weights divided by
              that unit's largest |weight|, times 127 (base64, unit by unit)
    done      status ("finished", "stopped" or "failed"), message, epochs, callback_seconds (time spent
              making the events above), thread_cpu_seconds (the run's thread's CPU time: loading
              the data and training)
"""

import base64
import threading
import time
from dataclasses import asdict

import numpy as np
from threadpoolctl import ThreadpoolController

from ..data import load_mnist
from ..errors import ScratchnetError
from ..training import Recipe, train
from ..network import seed_network

POINTS_PER_EPOCH = 10
"""About this many progress points per epoch."""
WEIGHTS_EVERY_S = 1.0
"""Shortest interval between two first-layer pictures, seconds."""
MAX_EXAMPLES = 60000


class _Stop(Exception):
    """Raised from the batch callback to end a run when Stop is pressed."""


def weights_picture(W1):
    """The first layer ``W1 (n_0+1, n_1)`` as ``{"units", "side", "codes"}``: per hidden unit, its input
    weights (bias row left out) scaled by the unit's largest ``|w|`` to int8 codes −127…127, base64."""
    W = np.asarray(W1[1:], dtype=np.float64).T                    # (n_1, n_0): one row per hidden unit
    scale = np.abs(W).max(axis=1, keepdims=True)
    codes = np.round(W / np.where(scale > 0, scale, 1) * 127).astype(np.int8)
    return {"units": W.shape[0], "side": int(round(np.sqrt(W.shape[1]))),
            "codes": base64.b64encode(codes.tobytes()).decode("ascii")}


def read_recipe(body):
    """A `Recipe` and the number of training examples from the page's form (a dict); raises
    `ScratchnetError` for a value no run could use."""
    def number(key, kind, default, low, high):
        value = body.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
            raise ScratchnetError(f'"{key}" must be {"an integer" if kind is int else "a number"}')
        if not low <= value <= high:
            raise ScratchnetError(f'"{key}" must lie in {low}…{high}, got {value}')
        return kind(value)

    recipe = Recipe(epochs=number("epochs", int, 1, 1, 100),
                    batch_size=number("batch_size", int, 128, 1, 4096),
                    optimizer=str(body.get("optimizer", "adam")),
                    lr=number("lr", float, 3e-3, 1e-6, 100),
                    schedule=str(body.get("schedule", "cosine")),
                    shift=number("shift", int, 1, 0, 4),
                    seed=number("seed", int, 0, 0, 2**31 - 1))
    recipe.check()
    return recipe, number("examples", int, MAX_EXAMPLES, 100, MAX_EXAMPLES)


class TrainingRun:
    """One run: start it with `start`, end it early with `stop`; ``events`` grows while it runs."""

    def __init__(self, recipe, examples, net, data_dir=None, on_done=None, blas_threads=None):
        self.recipe, self.examples, self.data_dir = recipe, examples, data_dir
        self.blas_threads = blas_threads
        self.net = net
        self.events = []
        self.status = "running"
        self._over = False
        self.callback_seconds = 0.0
        """Time spent making progress and weights events (what streaming costs the trainer)."""
        self.thread_cpu_seconds = 0.0
        """CPU time of the run's thread (loading the data and training)."""
        self.on_done = on_done
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scratchnet-lab-training", daemon=True)

    @classmethod
    def fresh(cls, recipe, examples, data_dir=None, on_done=None, start_from=None, blas_threads=None):
        """A run from new seed-network weights (seeded by the recipe), or from a copy of ``start_from``;
        ``blas_threads``: BLAS threads while it trains (None: as they are)."""
        net = start_from.astype(start_from.dtype.name) if start_from is not None else \
            seed_network(seed=recipe.seed)
        return cls(recipe, examples, net, data_dir, on_done, blas_threads)

    @property
    def running(self):
        """True until the run has ended and its ``done`` event is out."""
        return not self._over

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        """Ask the run to end after the current batch."""
        self._stop.set()

    def join(self, timeout=None):
        self._thread.join(timeout)

    def _emit(self, type_, **fields):
        self.events.append({"type": type_, **fields})

    def _run(self):
        status, message = "failed", ""
        cpu = time.thread_time()
        try:
            X, y = load_mnist("train", data_dir=self.data_dir)
            X, y = X[:self.examples], y[:self.examples]
            with ThreadpoolController().limit(limits=self.blas_threads):
                self._train(X, y)
            status, message = "finished", f"trained {self.recipe.epochs} epochs on {len(X):,} images"
        except _Stop:
            status, message = "stopped", "by the Stop button; the network has the weights of the last batch"
        except ScratchnetError as e:
            message = str(e)
        except Exception as e:                                  # keep the server up; say what happened
            message = f"{type(e).__name__}: {e}"
        self._emit("weights", **weights_picture(self.net.weights[0]))
        self.thread_cpu_seconds = time.thread_time() - cpu
        self.status = status
        if self.on_done is not None and status != "failed":
            self.on_done(self)                              # the lab adopts the network before anyone hears
        self._emit("done", status=status, message=message,
                   epochs=sum(1 for e in self.events if e["type"] == "epoch"),
                   callback_seconds=self.callback_seconds, thread_cpu_seconds=self.thread_cpu_seconds)
        self._over = True                                   # after "done": a stream ends only once it has it

    def _train(self, X, y):
        recipe, net = self.recipe, self.net
        B = min(recipe.batch_size, len(X))
        steps = -(-len(X) // B)
        every = max(1, steps // POINTS_PER_EPOCH)
        self._emit("start", recipe=asdict(recipe), examples=len(X), steps_per_epoch=steps)
        self._emit("weights", **weights_picture(net.weights[0]))
        started = time.perf_counter()
        last_picture = [started]

        def on_batch(epoch, b, n, loss, accuracy):
            if self._stop.is_set():
                raise _Stop                                    # the trainer's supported way to end a run
            if b % every and b != n:
                return
            now = time.perf_counter()
            self._emit("progress", epoch=epoch, batch=b, n_batches=n, loss=float(loss),
                       accuracy=float(accuracy), seconds=now - started)
            if now - last_picture[0] >= WEIGHTS_EVERY_S:
                last_picture[0] = now
                self._emit("weights", **weights_picture(net.weights[0]))
            self.callback_seconds += time.perf_counter() - now

        def on_epoch(row):
            self._emit("epoch", **asdict(row))

        train(net, X, y, recipe, on_batch=on_batch, on_epoch=on_epoch)

"""Training runs started from the page: queued fairly, run in background threads, reported as events.

A run calls `scratchnet.training.train` (the trainer of ``scratchnet train``) on a copy of a network: the
learner's own (to continue) or fresh weights. Runs wait in one `TrainingQueue` with a fixed number of
slots (one fewer than the cores, at least one, so that a core is left for predictions), first come first
served; a learner has at most one run, and may stop it, queued or going, from any of their tabs.

A run's callbacks append small events to its `EventLog`, which the server streams to every tab of the
learner as server-sent events. The log is bounded: all epoch rows, the latest `MAX_PROGRESS` progress
points and only the latest weights picture are kept, so a tab that (re)connects is sent a few tens of
kilobytes whatever the run's length. Event types (each a dict with ``"type"``)::

    queued    position (1: next), start_from (words: where the run starts)
    start     recipe, examples, held_out, steps_per_epoch, start_from
    progress  epoch, batch, n_batches, step, loss, accuracy (means over the batches since the last point),
              val_loss, val_accuracy (on `HELD_OUT` training images never trained on), seconds
    epoch     the training history row (epoch, train_loss, train_accuracy, lr, seconds)
    weights   W1 as int8 codes: for each of the n_1 hidden units, its 784 input weights divided by
              that unit's largest |weight|, times 127 (base64, unit by unit)
    done      status ("finished", "stopped" or "failed"), message, start_from, epochs, batches,
              test_accuracy (None when the run never changed the network), n_test (test images),
              callback_seconds, thread_cpu_seconds

A stopped run keeps the network as it was after its last finished batch, and says how far it got; a run
stopped before its first batch leaves the learner's network as it was. Only a run that finished at least
one epoch is called trained.
"""

import base64
import collections
import copy
import os
import sys
import threading
import time
from dataclasses import asdict

import numpy as np

from ..data import load_mnist
from ..errors import ScratchnetError
from ..training import Recipe, train
from ..network import Network, seed_network

KEPT_METADATA = ("class_names", "dataset", "data", "data_sha256")
"""What a run from new weights keeps of the network it is made like: its classes and where its data is."""
POINTS_PER_EPOCH = 10
"""About this many progress points per epoch."""
WEIGHTS_EVERY_S = 1.0
"""Shortest interval between two first-layer pictures, seconds."""
MAX_EXAMPLES = 59000
"""Most training images a run uses; the last `HELD_OUT` of the 60,000 are kept for its held-out curve."""
HELD_OUT = 1000
"""Training images held out of every lab run, for the chart's held-out curve."""
MAX_PROGRESS = 400
"""Progress points a run's event log keeps (the latest)."""


def counted(n, one, many=None):
    """``1 epoch``, ``461 batches``, ``59,000 images``: a count and its noun (``many``, or ``one`` + s),
    singular for one."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


class _Stop(Exception):
    """Raised from the batch callback to end a run when Stop is pressed."""


class EventLog:
    """A run's events with ids 0, 1, 2, …, bounded as the module docstring says; thread-safe."""

    def __init__(self):
        self._events = collections.OrderedDict()
        self._progress = collections.deque()
        self._weights = None
        self.next_id = 0
        self._lock = threading.Lock()

    def append(self, event):
        with self._lock:
            i, self.next_id = self.next_id, self.next_id + 1
            self._events[i] = event
            if event["type"] == "progress":
                self._progress.append(i)
                if len(self._progress) > MAX_PROGRESS:
                    self._events.pop(self._progress.popleft(), None)
            elif event["type"] == "weights":
                if self._weights is not None:
                    self._events.pop(self._weights, None)
                self._weights = i
            return i

    def since(self, last_id):
        """``[(id, event)]`` of the kept events after ``last_id``, oldest first. Any integer is read: one
        below 0, or one this log never issued (a forged or stale id), replays every kept event."""
        with self._lock:
            last_id = int(last_id)
            if not -1 <= last_id < self.next_id:
                last_id = -1
            if last_id == self.next_id - 1:
                return []
            return [(i, e) for i, e in self._events.items() if i > last_id]

    def of_type(self, type_):
        """The kept events of one type, oldest first."""
        with self._lock:
            return [e for e in self._events.values() if e["type"] == type_]

    def __len__(self):
        return self.next_id


class TrainingQueue:
    """Runs waiting for one of ``slots`` worker threads, first come first served."""

    def __init__(self, slots=1):
        self.slots = max(1, int(slots))
        self._waiting = collections.deque()
        self._cond = threading.Condition()
        self._workers = []
        self._closed = False

    def submit(self, run):
        """Queue ``run``; it starts as soon as a slot is free."""
        with self._cond:
            if self._closed:
                raise ScratchnetError("the lab is shutting down; no new runs")
            self._waiting.append(run)
            if len(self._workers) < self.slots:
                worker = threading.Thread(target=self._work, name="scratchnet-lab-training", daemon=True)
                self._workers.append(worker)
                worker.start()
            self._cond.notify()
            self._tell_positions()

    def position(self, run):
        """1 for the next run to start, 2 after it, …; 0 when ``run`` is not waiting."""
        with self._cond:
            try:
                return self._waiting.index(run) + 1
            except ValueError:
                return 0

    def cancel(self, run):
        """Take ``run`` out of the queue; True if it was waiting."""
        with self._cond:
            try:
                self._waiting.remove(run)
            except ValueError:
                return False
            self._tell_positions()
            return True

    def waiting(self):
        with self._cond:
            return len(self._waiting)

    def close(self):
        """Stop every run, waiting or going, and let the workers end."""
        with self._cond:
            self._closed = True
            waiting, self._waiting = list(self._waiting), collections.deque()
            self._cond.notify_all()
        for run in waiting:
            run.stop()

    def _tell_positions(self):
        for k, run in enumerate(self._waiting, start=1):
            run.waiting_at(k)

    def _work(self):
        _yield_to_requests()
        while True:
            with self._cond:
                while not self._waiting and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                run = self._waiting.popleft()
                self._tell_positions()
            run.execute()


TRAINING_NICENESS = 10
"""How much lower than the requests' threads a training thread runs (Linux niceness, per thread)."""


def _yield_to_requests():
    """Lower the calling thread's scheduling priority by `TRAINING_NICENESS` where the system allows one
    thread's own (Linux): when the cores are busy, learners' predictions and backward passes go first and
    the runs take what is left; on an idle machine a run is as fast as before."""
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + TRAINING_NICENESS)
    except OSError:                                   # not permitted here: the runs keep the usual priority
        pass


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
                    average=number("average", float, Recipe.average, 0, 0.9999),
                    seed=number("seed", int, 0, 0, 2**31 - 1))
    recipe.check()
    return recipe, number("examples", int, MAX_EXAMPLES, 100, MAX_EXAMPLES)



class TrainingRun:
    """One learner's run: `TrainingQueue.submit` it, end it early with `stop`; ``events`` grows while
    it runs. ``on_done(run)`` is called (before the ``done`` event) when the run has changed the network.
    """

    def __init__(self, recipe, examples, net, start_from, data_dir=None, on_done=None, queue=None, data=None):
        self.recipe, self.examples, self.data_dir = recipe, examples, data_dir
        self.data = data or self._mnist
        """``data() -> (X, y, X_test, y_test)``, called in the run's thread: what it trains and is tested on
        (default MNIST's training and test sets)."""
        self.net = net
        self.start_from = start_from
        """Words for where the run starts: the learner's network, or fresh weights."""
        self.events = EventLog()
        self.status = "queued"
        self.batches = 0
        """Batches finished (each changed the network)."""
        self.epochs = 0
        """Epochs finished."""
        self.test_accuracy = None
        self.n_test = 0
        """Test images ``test_accuracy`` was measured on (after the run)."""
        self._over = False
        self.callback_seconds = 0.0
        """Time spent making progress and weights events (what streaming costs the trainer)."""
        self.thread_cpu_seconds = 0.0
        """CPU time of the run's thread (loading the data and training)."""
        self.on_done = on_done
        self.queue = queue
        self._stop = threading.Event()
        self._ended = threading.Event()
        self._position = None

    @classmethod
    def fresh(cls, recipe, examples, data_dir=None, on_done=None, start_from=None, queue=None, words=None,
              like=None, data=None):
        """A run from new weights (seeded by the recipe), or from a copy of ``start_from``, which ``words``
        name (``"your network (loaded from model.npz)"``). New weights have the architecture of ``like``
        (and keep its class names and the record of its data), by default the seed network's."""
        if start_from is not None:
            net, words = start_from.astype(start_from.dtype.name), words or "your network"
        elif like is not None:
            net = Network(like.sizes, like.activations, seed=recipe.seed, dtype="float32")
            net.metadata = {k: copy.deepcopy(v) for k, v in (like.metadata or {}).items() if k in KEPT_METADATA}
            words = f"fresh weights (seed {recipe.seed})"
        else:
            net, words = seed_network(seed=recipe.seed), f"fresh weights (seed {recipe.seed})"
        return cls(recipe, examples, net, words, data_dir, on_done, queue, data)

    def _mnist(self):
        return (*load_mnist("train", data_dir=self.data_dir), *load_mnist("test", data_dir=self.data_dir))

    @property
    def running(self):
        """True until the run has ended and its ``done`` event is out (queued runs too)."""
        return not self._over

    @property
    def position(self):
        """Place in the queue (1: next), 0 once the run has started."""
        return self.queue.position(self) if self.queue is not None and self.status == "queued" else 0

    def waiting_at(self, k):
        """Called by the queue when the run's place changes."""
        if k != self._position:
            self._position = k
            self._emit("queued", position=k, start_from=self.start_from)

    def start(self, queue=None):
        """Queue the run (in ``queue``, or a queue of its own with one slot)."""
        self.queue = queue or self.queue or TrainingQueue(1)
        self.queue.submit(self)
        return self

    def stop(self):
        """End the run after the current batch; a queued run leaves the queue at once."""
        self._stop.set()
        if self.status == "queued" and self.queue is not None and self.queue.cancel(self):
            self._finish("stopped", "stopped before it started: your network is unchanged")

    def join(self, timeout=None):
        """Wait until the run has ended; True if it has."""
        return self._ended.wait(timeout)

    def _emit(self, type_, **fields):
        self.events.append({"type": type_, **fields})

    def state(self):
        """``{"status", "position", "start_from", "recipe", "examples", "batches", "epochs",
        "test_accuracy", "n_test", "history"}``: what a tab shows of the run."""
        return {"status": self.status, "position": self.position, "start_from": self.start_from,
                "recipe": asdict(self.recipe), "examples": self.examples, "batches": self.batches,
                "epochs": self.epochs, "test_accuracy": self.test_accuracy, "n_test": self.n_test,
                "history": self.events.of_type("epoch")}

    def execute(self):
        """Train (in the calling thread, a queue worker); always ends with a ``done`` event."""
        if self._stop.is_set():
            return self._finish("stopped", "stopped before it started: your network is unchanged")
        self.status = "running"
        status, message = "failed", ""
        cpu = time.thread_time()
        try:
            X, y, X_test, y_test = self.data()
            k = min(HELD_OUT, len(X) // 10)                     # (fewer for a small data folder)
            n = min(self.examples, len(X) - k)
            held = (X[len(X) - k:], y[len(X) - k:])
            self._train(X[:n], y[:n], held)
            status = "finished"
            message = f"trained {counted(self.recipe.epochs, 'epoch')} on {counted(n, 'image')}"
        except _Stop:
            status = "stopped"
            message = (f"stopped in epoch {self.epochs + 1} after {counted(self.batches, 'batch', 'batches')}: the network has the "
                       "weights of the last finished batch" if self.batches else
                       "stopped before its first batch: your network is unchanged")
        except ScratchnetError as e:
            message = str(e)
        except Exception as e:                                  # keep the server up; say what happened
            message = f"{type(e).__name__}: {e}"
        if self.batches and status != "failed":
            try:
                self.test_accuracy = self.net.evaluate(X_test, y_test)[1]
                self.n_test = len(y_test)
                self.net.metadata["test_accuracy"] = self.test_accuracy
            except ScratchnetError:
                self.test_accuracy = None
        self.thread_cpu_seconds = time.thread_time() - cpu
        self._finish(status, message)

    def _finish(self, status, message):
        if self.batches:
            self._emit("weights", **weights_picture(self.net.weights[0]))
        self.status = status
        if self.on_done is not None and self.batches and status != "failed":
            self.on_done(self)                              # the learner adopts the network before anyone hears
        self._emit("done", status=status, message=message, start_from=self.start_from, epochs=self.epochs,
                   batches=self.batches, test_accuracy=self.test_accuracy, n_test=self.n_test,
                   callback_seconds=self.callback_seconds,
                   thread_cpu_seconds=self.thread_cpu_seconds)
        self._over = True                                   # after "done": a stream ends only once it has it
        self._ended.set()

    def _train(self, X, y, held):
        recipe, net = self.recipe, self.net
        B = min(recipe.batch_size, len(X))
        steps = -(-len(X) // B)
        every = max(1, steps // POINTS_PER_EPOCH)
        self._emit("start", recipe=asdict(recipe), examples=len(X), held_out=len(held[1]),
                   steps_per_epoch=steps, start_from=self.start_from)
        self._emit("weights", **weights_picture(net.weights[0]))
        started = time.perf_counter()
        last_picture = [started]
        window = {"sum": 0.0, "correct": 0.0, "seen": 0}       # the epoch's totals at the last point

        def on_batch(epoch, b, n, loss, accuracy):
            self.batches += 1                                  # the batch's step has been taken
            if self._stop.is_set():
                raise _Stop                                    # the trainer's supported way to end a run
            if b != n and (b % every or n - b < every // 2):      # (the epoch's last point takes a short tail:
                return                                         #  a window of a few batches is noise, a dip)
            now = time.perf_counter()
            seen = min(b * B, len(X))
            if b <= every:                                     # a new epoch: its totals start again
                window.update(sum=0.0, correct=0.0, seen=0)
            k = seen - window["seen"]
            mean_loss = (loss * seen - window["sum"]) / k
            mean_accuracy = (accuracy * seen - window["correct"]) / k
            window.update(sum=loss * seen, correct=accuracy * seen, seen=seen)
            val_loss, val_accuracy = net.evaluate(*held)
            self._emit("progress", epoch=epoch, batch=b, n_batches=n, step=self.batches, loss=float(mean_loss),
                       accuracy=float(mean_accuracy), val_loss=float(val_loss), val_accuracy=float(val_accuracy),
                       seconds=now - started)
            if now - last_picture[0] >= WEIGHTS_EVERY_S:
                last_picture[0] = now
                self._emit("weights", **weights_picture(net.weights[0]))
            self.callback_seconds += time.perf_counter() - now

        def on_epoch(row):
            self.epochs += 1
            self._emit("epoch", **asdict(row))

        train(net, X, y, recipe, on_batch=on_batch, on_epoch=on_epoch)

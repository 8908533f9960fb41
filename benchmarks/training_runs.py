"""Measures of a real training run: peak memory of ``scratchnet train``, the time to 98 % test accuracy
with the default recipe, and a profile of one epoch (where scratchnet's time goes)."""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import scratchnet as sn
from scratchnet.training import Recipe, train

from .timing import thread_env

ACCURACY_GOAL = 0.98


class MeasureError(Exception):
    """A measurement could not be taken (its message says why, in one line)."""


# ---------------------------------------------------------------------------------------- memory

def peak_memory_of_train(extra_args=(), threads=None):
    """Peak resident memory in bytes of ``scratchnet train`` (default recipe) run as a subprocess.

    The command is the real entry point, ``scratchnet.cli.main``, with ``--out`` in a temporary folder;
    ``extra_args`` are appended (e.g. ``["--epochs", "1"]``). The peak is the child's own ``VmHWM`` from
    ``/proc/self/status``, written at exit. (The child's ``ru_maxrss`` would not do: Linux carries the
    resident size of the forking parent, this benchmark with PyTorch loaded, into it.)
    """
    with tempfile.TemporaryDirectory() as tmp:
        args = ["train", "--out", str(Path(tmp) / "model.npz"), *map(str, extra_args)]
        hwm = Path(tmp) / "vmhwm.txt"
        command = [sys.executable, "-c", _REPORT_VMHWM.format(path=str(hwm)), *args]
        env = thread_env(threads) if threads else None
        with open(Path(tmp) / "stderr.txt", "w+") as err:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
            if process.wait() != 0:
                err.seek(0)
                lines = err.read().strip().splitlines() or ["(no message)"]
                raise MeasureError(f"scratchnet {' '.join(args[:1] + args[3:])} failed while "
                                   f"measuring its memory: {lines[-1]}")
        peak_kib = int(hwm.read_text().split()[1])            # "VmHWM:  151904 kB"
    return {"peak_bytes": peak_kib * 1024, "command": "scratchnet " + " ".join(["train", *args[3:]])}


_REPORT_VMHWM = """
import atexit
def report():
    with open("/proc/self/status") as f, open({path!r}, "w") as out:
        out.write(next(line for line in f if line.startswith("VmHWM")))
atexit.register(report)
from scratchnet.cli import main
main()
"""


# ---------------------------------------------------------------------------------------- 98 %

class _Reached(Exception):
    """Raised from the epoch callback to end training once the goal is reached."""


def time_to_accuracy(X, y, X_test, y_test, recipe, goal=ACCURACY_GOAL):
    """Cumulative training seconds of ``recipe`` on the seed network until the test accuracy first
    reaches ``goal``.

    The test set is evaluated after each epoch, outside the timed part (``Epoch.seconds``); training
    stops at the first epoch that reaches the goal.

    Returns
    -------
    dict with ``reached``, ``seconds`` (until the goal, or of all epochs), ``epoch``, ``accuracy`` (of
    that epoch, or the best seen), ``goal``, ``recipe`` and ``history`` (per epoch: seconds, test
    accuracy)
    """
    net = sn.seed_network(seed=recipe.seed, dtype="float32")
    history = []

    def on_epoch(row):
        _, accuracy = net.evaluate(X_test, y_test)
        history.append({"epoch": row.epoch, "seconds": row.seconds, "test_accuracy": accuracy})
        if accuracy >= goal:
            raise _Reached

    try:
        train(net, X, y, recipe, on_epoch=on_epoch)
        reached = False
    except _Reached:
        reached = True
    best = max(history, key=lambda h: h["test_accuracy"])
    return {"goal": goal, "reached": reached, "seconds": sum(h["seconds"] for h in history),
            "epoch": history[-1]["epoch"] if reached else None,
            "accuracy": history[-1]["test_accuracy"] if reached else best["test_accuracy"],
            "recipe": recipe.to_dict(), "history": history}


# ---------------------------------------------------------------------------------------- profile

def _category(function, file):
    """What a profiled scratchnet function spends its time on (NumPy's C calls are counted in the
    Python function that makes them)."""
    base = Path(file or "").name
    if base == "activations.py":
        return "activations σ, softmax, σ′"
    if base == "fused.py":
        return "compiled twins and their dispatch (fused.py: Adam, δ_L, σ′, [1 x], the average)"
    if base == "losses.py":
        return "loss and softmax-CE gradient"
    if base == "optimizers.py":
        return "optimiser (Adam)"
    if base in ("augment.py", "schedules.py"):
        return "epoch shuffle and gather" if base == "augment.py" else "learning-rate schedule"
    if base == "network.py":
        if "forward" in function:
            return "forward pass (matmuls, code inlined there)"
        if "backward" in function:
            return "backward pass (matmuls, code inlined there)"
        return "input checks and buffers (network.py)"
    if base == "training.py":
        return "training loop (batch conversion, accuracy count, Python)"
    return None


PROFILE_INTERVAL = 0.000137
"""Sampling interval of the profile in seconds: well below one training step (~0.5 ms) and not a round
fraction of it, so that the samples do not lock onto the same phase of every step (aliasing)."""


def profile_epoch(X, y, batch_size, lr, seed, interval=PROFILE_INTERVAL):
    """Profile one epoch of the seed network (after a warm-up epoch) with pyinstrument; None without it.

    Returns
    -------
    dict with ``seconds`` (the profiled epoch), ``interval``, ``categories`` and ``functions`` (lists of
    ``{"name", "seconds", "share"}``, largest first): each sample's time goes to the innermost scratchnet
    function on its stack, so time in NumPy's C code counts for the scratchnet line that called it
    """
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    net = sn.seed_network(seed=seed, dtype="float32")
    recipe = Recipe(epochs=1, batch_size=batch_size, optimizer="adam", lr=lr, schedule="constant", shift=0,
                    seed=seed)
    train(net, X, y, recipe)                      # warm-up: buffers, BLAS threads, caches
    profiler = Profiler(interval=interval)
    profiler.start()
    start = time.perf_counter()
    train(net, X, y, recipe)
    seconds = time.perf_counter() - start
    profiler.stop()
    by_function, by_category = {}, {}

    def walk(frame, owner):
        if not frame.is_synthetic:
            category = _category(frame.function, frame.file_path)
            if category is not None:
                owner = (f"{Path(frame.file_path).name}:{frame.function}", category)
        self_time = frame.time - sum(c.time for c in frame.children)
        if owner is not None and self_time > 0:
            by_function[owner] = by_function.get(owner, 0.0) + self_time
        for child in frame.children:
            walk(child, owner)

    root = profiler.last_session.root_frame()
    if root is not None:
        walk(root, None)
    for (_, category), t in by_function.items():
        by_category[category] = by_category.get(category, 0.0) + t
    total = sum(by_category.values()) or 1.0

    def rows(table, name):
        return [{"name": name(k), "seconds": t, "share": t / total}
                for k, t in sorted(table.items(), key=lambda kv: -kv[1])]

    return {"seconds": seconds, "interval": interval,
            "categories": rows(by_category, lambda k: k),
            "functions": rows(by_function, lambda k: k[0])}

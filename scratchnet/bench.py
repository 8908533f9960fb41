"""Measuring: how fast scratchnet trains, against PyTorch, scikit-learn and this machine's compute floor.

One run of `run_benchmark` measures, on the same data and settings (the seed network
``784 → 100 σ → 10 σ → 10 softmax``, Adam, batch 128, float32, no augmentation, the MNIST training images):

- **seconds per epoch** of scratchnet (`training.train`, read from its history), of an idiomatic PyTorch
  CPU loop and of scikit-learn's ``MLPClassifier`` (each when installed): the median of several epochs
  after one warm-up epoch;
- **the float32 GEMM rate** of NumPy's BLAS: for every matrix product of a training step at its real
  shapes, and for a large square product (the machine's peak);
- **the FLOP count of an epoch**, derived from the layer sizes (`matmul_shapes`), and from it **the
  floor**: FLOP / peak GEMM rate;
- **peak resident memory** of the real ``scratchnet train`` command with its default recipe, in a
  subprocess;
- **time to 98 % test accuracy** with the default recipe (cumulative training seconds, test set
  evaluated after each epoch, outside the timed part);
- optionally, **a pyinstrument profile** of one scratchnet epoch, grouped by what the time is spent on.

`target_rows` compares the numbers with the targets of issue 6 and `render_markdown` / `plot` write
``docs/benchmarks.md`` and its figure. Speed is checked here, never by a timed test.
"""

import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .errors import ScratchnetError
from .experiment import SEED_ACTIVATIONS, SEED_LAYERS
from .network import Network
from .training import Recipe, train

TARGETS = {"pytorch": 0.40, "sklearn": 0.45, "floor": 2.0, "memory_mb": 400.0, "seconds_to_98": 15.0}
"""Issue 6: scratchnet's seconds per epoch ≤ 0.40 × PyTorch's and ≤ 0.45 × scikit-learn's, ≤ 2 × the
floor; peak memory of the default ``scratchnet train`` ≤ 400 MB; 98 % test accuracy in ≤ 15 s."""

ACCURACY_GOAL = 0.98
SQUARE = 2048
"""Side of the square float32 GEMM that measures the machine's peak rate."""
MB = 1e6


@dataclass
class Settings:
    """What one benchmark run measures, and how."""

    epochs: int = 5
    """Timed epochs per framework (the median is reported), after `warmup` untimed ones."""
    warmup: int = 1
    batch_size: int = 128
    threads: int | None = None
    """Threads for BLAS and PyTorch; None: the CPUs this process may run on."""
    n_train: int | None = None
    """Use only the first N training images (None: all 60,000)."""
    lr: float = 2e-3
    seed: int = 0
    torch: bool = True
    sklearn: bool = True
    memory: bool = True
    accuracy: bool = True
    profile: bool = True
    train_epochs: int | None = None
    """Epochs of the default recipe for the memory and 98 % runs (None: the default, `Recipe().epochs`)."""

    def check(self):
        if self.epochs < 1 or self.warmup < 0:
            raise ScratchnetError(f"--epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ScratchnetError(f"--batch-size must be at least 1, got {self.batch_size}")
        if self.threads is not None and self.threads < 1:
            raise ScratchnetError(f"--threads must be at least 1, got {self.threads}")
        if self.n_train is not None and self.n_train < self.batch_size:
            raise ScratchnetError(f"--n-train must be at least the batch size {self.batch_size}, "
                                  f"got {self.n_train}")
        if self.train_epochs is not None and self.train_epochs < 1:
            raise ScratchnetError(f"--train-epochs must be at least 1, got {self.train_epochs}")


# ---------------------------------------------------------------------------------------- FLOP count

def matmul_shapes(sizes, B):
    """The matrix products of one training step of a batch of ``B`` rows, in the seed's notation.

    For each layer ``l``: the forward product ``H_{l-1} W̄_l`` (``(B, n_{l-1}) @ (n_{l-1}, n_l)``), the
    weight gradient ``H_{l-1}ᵀ δ_l`` (``(n_{l-1}, B) @ (B, n_l)``) and, for ``l ≥ 2``, the input gradient
    ``δ_l W̄_lᵀ`` (``(B, n_l) @ (n_l, n_{l-1})``). Bias rows, activations and the optimiser are
    elementwise work and are not counted.

    Returns
    -------
    list of dict with ``name``, ``kind`` (``forward``, ``weight gradient``, ``input gradient``),
    ``m, k, n`` (an ``(m, k) @ (k, n)`` product) and ``transpose`` (which operand is a transposed view)
    """
    shapes = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        shapes.append(dict(name=f"H{l - 1} W{l}", kind="forward", m=B, k=n_in, n=n_out, transpose=None))
        shapes.append(dict(name=f"H{l - 1}ᵀ δ{l}", kind="weight gradient", m=n_in, k=B, n=n_out,
                           transpose="a"))
        if l >= 2:
            shapes.append(dict(name=f"δ{l} W{l}ᵀ", kind="input gradient", m=B, k=n_out, n=n_in,
                               transpose="b"))
    return shapes


def flops(shape):
    """FLOP of one ``(m, k) @ (k, n)`` product: a multiply and an add per term, ``2 m k n``."""
    return 2 * shape["m"] * shape["k"] * shape["n"]


def flops_per_image(sizes):
    """Matrix FLOP of one training image (forward, weight gradients, input gradients of layers ≥ 2).

    For the seed network ``[784, 100, 10, 10]`` this is 320,200.
    """
    return sum(flops(s) for s in matmul_shapes(sizes, 1))


# ---------------------------------------------------------------------------------------- threads

def default_threads():
    """The number of CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@contextmanager
def limit_threads(threads):
    """Limit NumPy's BLAS (and OpenMP) to ``threads`` threads while the block runs (needs threadpoolctl;
    without it the limit is left to the environment variables)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        context = nullcontext()
    else:
        context = threadpool_limits(limits=threads)
    with context:
        yield


def thread_env(threads):
    """Environment for a subprocess whose BLAS and OpenMP use ``threads`` threads."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    return env


# ---------------------------------------------------------------------------------------- GEMM rate

def time_matmul(m, k, n, transpose=None, dtype=np.float32, rng=None, min_seconds=0.05, window=1e-3):
    """Seconds per call of ``np.matmul(a, b, out=c)`` with ``a (m, k)``, ``b (k, n)``, ``c (m, n)``.

    ``transpose`` ``"a"`` or ``"b"`` makes that operand a transposed view, as the backward pass uses it.
    The calls run for at least ``min_seconds`` in windows of about ``window`` seconds (at least one call
    and at least 5 windows); the fastest window's mean is kept: the rate the BLAS reaches when nothing
    else disturbs it, which a shared machine still shows between interruptions.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    a = rng.random((k, m), dtype=dtype).T if transpose == "a" else rng.random((m, k), dtype=dtype)
    b = rng.random((n, k), dtype=dtype).T if transpose == "b" else rng.random((k, n), dtype=dtype)
    c = np.empty((m, n), dtype)
    np.matmul(a, b, out=c)
    start = time.perf_counter()
    np.matmul(a, b, out=c)
    once = max(time.perf_counter() - start, 1e-7)
    repeats = max(1, int(window / once))
    best, spent, windows = math.inf, 0.0, 0
    while spent < min_seconds or windows < 5:
        start = time.perf_counter()
        for _ in range(repeats):
            np.matmul(a, b, out=c)
        elapsed = time.perf_counter() - start
        best, spent, windows = min(best, elapsed / repeats), spent + elapsed, windows + 1
    return best


def measure_gemm(sizes, B, n_train, dtype=np.float32, square=SQUARE):
    """The float32 GEMM rate at a step's shapes and for a ``square``-sided product.

    Returns
    -------
    dict with ``square`` (``side``, ``gflops``), ``shapes`` (each of `matmul_shapes` with
    ``seconds_per_call``, ``gflops`` and ``calls_per_epoch``) and ``seconds_per_epoch`` (the epoch's
    products alone at these rates, the last partial batch counted as a full one)
    """
    steps = -(-n_train // B)
    rng = np.random.default_rng(0)
    shapes = []
    for s in matmul_shapes(sizes, B):
        seconds = time_matmul(s["m"], s["k"], s["n"], s["transpose"], dtype, rng)
        shapes.append({**s, "seconds_per_call": seconds, "gflops": flops(s) / seconds / 1e9,
                       "calls_per_epoch": steps})
    seconds = time_matmul(square, square, square, None, dtype, rng, min_seconds=0.5)
    return {
        "square": {"side": square, "gflops": 2 * square ** 3 / seconds / 1e9},
        "shapes": shapes,
        "seconds_per_epoch": sum(s["seconds_per_call"] * s["calls_per_epoch"] for s in shapes),
    }


# ---------------------------------------------------------------------------------------- epochs

def _summary(seconds, warmup):
    timed = list(seconds[warmup:])
    return {"epoch_seconds": [float(s) for s in seconds], "warmup": warmup,
            "median": statistics.median(timed), "min": min(timed), "max": max(timed)}


def time_scratchnet(X, y, settings):
    """Seconds of each epoch of `training.train` on the seed network (warm-up epochs included)."""
    net = Network(SEED_LAYERS, SEED_ACTIVATIONS, seed=settings.seed, dtype="float32")
    recipe = Recipe(epochs=settings.warmup + settings.epochs, batch_size=settings.batch_size,
                    optimizer="adam", lr=settings.lr, schedule="constant", shift=0, seed=settings.seed)
    result = train(net, X, y, recipe)
    return [row.seconds for row in result.history]


def time_pytorch(X, y, settings, threads):
    """Seconds of each epoch of an idiomatic PyTorch CPU loop for the same network, or None without torch.

    ``nn.Sequential`` of ``Linear``/``Sigmoid`` layers, ``CrossEntropyLoss`` on the logits,
    ``torch.optim.Adam``; the images are one float32 tensor in memory (already divided by 255) and each
    epoch takes batches of a fresh random permutation of the rows.
    """
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(settings.seed)
    layers = []
    for l, (n_in, n_out) in enumerate(zip(SEED_LAYERS[:-1], SEED_LAYERS[1:]), start=1):
        layers.append(torch.nn.Linear(n_in, n_out))
        if l < len(SEED_LAYERS) - 1:
            layers.append(torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    X_t = torch.from_numpy(np.asarray(X, np.float32) / np.float32(255))
    y_t = torch.from_numpy(np.asarray(y, np.int64))
    generator = torch.Generator().manual_seed(settings.seed)
    N, B = len(X_t), settings.batch_size
    seconds = []
    for _ in range(settings.warmup + settings.epochs):
        start = time.perf_counter()
        rows = torch.randperm(N, generator=generator)
        for i in range(0, N, B):
            batch = rows[i:i + B]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(X_t[batch]), y_t[batch])
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    return seconds


def time_sklearn(X, y, settings):
    """Seconds of each epoch of scikit-learn's ``MLPClassifier`` for the same network, or None without it.

    ``MLPClassifier((100, 10), activation="logistic", solver="adam", batch_size=128)`` with the same
    learning rate and no L2 penalty (``alpha=0``, as scratchnet). An epoch is one ``partial_fit`` call
    on the whole set: one shuffled pass in mini-batches, exactly what each iteration of ``fit`` does,
    but without ``fit``'s convergence bookkeeping; each call also checks its input once (a pass over X),
    which is part of its cost. The images are float32 in [0, 1], so scikit-learn trains in float32.
    """
    try:
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    hidden = tuple(SEED_LAYERS[1:-1])
    model = MLPClassifier(hidden, activation="logistic", solver="adam", batch_size=settings.batch_size,
                          learning_rate_init=settings.lr, alpha=0.0, shuffle=True,
                          random_state=settings.seed)
    Xf = np.asarray(X, np.float32) / np.float32(255)
    classes = np.arange(SEED_LAYERS[-1])
    seconds = []
    for _ in range(settings.warmup + settings.epochs):
        start = time.perf_counter()
        model.partial_fit(Xf, y, classes=classes)
        seconds.append(time.perf_counter() - start)
    return seconds


# ---------------------------------------------------------------------------------------- memory, 98 %

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
                raise ScratchnetError(f"scratchnet {' '.join(args[:1] + args[3:])} failed while "
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


class _Reached(Exception):
    """Raised from the epoch callback to end training once the goal is reached."""


def time_to_accuracy(X, y, X_test, y_test, recipe, goal=ACCURACY_GOAL, seed_layers=SEED_LAYERS):
    """Cumulative training seconds of ``recipe`` until the test accuracy first reaches ``goal``.

    The test set is evaluated after each epoch, outside the timed part (``Epoch.seconds``); training
    stops at the first epoch that reaches the goal.

    Returns
    -------
    dict with ``reached``, ``seconds`` (until the goal, or of all epochs), ``epoch``, ``accuracy`` (of
    that epoch, or the best seen), ``goal`` and ``history`` (per epoch: seconds, test accuracy)
    """
    net = Network(seed_layers, SEED_ACTIVATIONS, seed=recipe.seed, dtype="float32")
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
    if base == "losses.py":
        return "loss and softmax-CE gradient"
    if base == "optimizers.py":
        return "optimiser (Adam)"
    if base in ("augment.py", "schedules.py"):
        return "epoch shuffle and gather" if base == "augment.py" else "learning-rate schedule"
    if base == "network.py":
        if "forward" in function:
            return "forward pass (matmuls, bias, code inlined there)"
        if "backward" in function:
            return "backward pass (matmuls, bias sums, code inlined there)"
        return "input checks and buffers (network.py)"
    if base == "training.py":
        return "training loop (batch conversion, accuracy count, Python)"
    return None


PROFILE_INTERVAL = 0.000137
"""Sampling interval of the profile in seconds: well below one training step (~0.5 ms) and not a round
fraction of it, so that the samples do not lock onto the same phase of every step (aliasing)."""


def profile_epoch(X, y, settings, interval=PROFILE_INTERVAL):
    """Profile one scratchnet epoch (after a warm-up epoch) with pyinstrument; None without it.

    Returns
    -------
    dict with ``seconds`` (the profiled epoch), ``categories`` and ``functions`` (lists of
    ``{"name", "seconds", "share"}``, largest first): each sample's time goes to the innermost scratchnet
    function on its stack, so time in NumPy's C code counts for the scratchnet line that called it
    """
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    net = Network(SEED_LAYERS, SEED_ACTIVATIONS, seed=settings.seed, dtype="float32")
    recipe = Recipe(epochs=1, batch_size=settings.batch_size, optimizer="adam", lr=settings.lr,
                    schedule="constant", shift=0, seed=settings.seed)
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


# ---------------------------------------------------------------------------------------- machine

def machine_info(threads):
    """The machine, libraries and thread count a run used."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = "unknown"
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{info.get('name')} {info.get('version')}"
    except Exception:       # older NumPy has no mode="dicts"; the threadpoolctl line below still says
        pass
    try:
        from threadpoolctl import threadpool_info
        pools = [f"{p['internal_api']} {p.get('version')} ({p.get('architecture')}, "
                 f"{p['num_threads']} threads by default)" for p in threadpool_info()
                 if p.get("user_api") == "blas"]
        blas_runtime = "; ".join(pools) or "none found"
    except ImportError:
        blas_runtime = "threadpoolctl not installed"
    versions = {"python": platform.python_version(), "numpy": np.__version__, "scratchnet": __version__}
    for name in ("torch", "sklearn"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = None
    return {"cpu": cpu, "cpus": os.cpu_count(), "cpus_usable": default_threads(), "threads": threads,
            "platform": platform.platform(), "blas": blas, "blas_runtime": blas_runtime,
            "versions": versions, "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


# ---------------------------------------------------------------------------------------- the run

def run_benchmark(settings=None, progress=None):
    """Measure everything in this module's docstring; returns one JSON-ready dict.

    ``progress`` is an optional callable ``(message)`` told what is being measured.
    """
    from .data import load_mnist

    settings = settings or Settings()
    settings.check()
    say = progress or (lambda message: None)
    threads = settings.threads or default_threads()
    X, y = load_mnist("train")
    if settings.n_train is not None:
        X, y = X[:settings.n_train], y[:settings.n_train]
    N = len(X)
    out = {"settings": asdict(settings) | {"threads": threads, "n_train": N},
           "machine": machine_info(threads), "network": "784 → 100 σ → 10 σ → 10 softmax",
           "flop_per_image": flops_per_image(SEED_LAYERS)}
    out["flop_per_epoch"] = out["flop_per_image"] * N
    frameworks = {}
    with limit_threads(threads):
        say(f"GEMM rate (float32, {threads} threads)")
        out["gemm"] = measure_gemm(SEED_LAYERS, settings.batch_size, N)
        out["floor_seconds"] = out["flop_per_epoch"] / (out["gemm"]["square"]["gflops"] * 1e9)
        say(f"scratchnet: {settings.warmup} + {settings.epochs} epochs of {N:,} images")
        frameworks["scratchnet"] = _summary(time_scratchnet(X, y, settings), settings.warmup)
        for name, wanted, timer in (("pytorch", settings.torch, lambda: time_pytorch(X, y, settings, threads)),
                                    ("sklearn", settings.sklearn, lambda: time_sklearn(X, y, settings))):
            if not wanted:
                frameworks[name] = {"skipped": "not asked for"}
                continue
            say(f"{name}: {settings.warmup} + {settings.epochs} epochs")
            seconds = timer()
            frameworks[name] = {"skipped": "not installed"} if seconds is None else \
                _summary(seconds, settings.warmup)
        out["profile"] = None
        if settings.profile:
            say("profile of one scratchnet epoch (pyinstrument)")
            out["profile"] = profile_epoch(X, y, settings)
        out["accuracy"] = None
        if settings.accuracy:
            recipe = Recipe() if settings.train_epochs is None else Recipe(epochs=settings.train_epochs)
            say(f"time to {ACCURACY_GOAL:.0%} test accuracy (default recipe, up to {recipe.epochs} epochs)")
            X_test, y_test = load_mnist("test")
            out["accuracy"] = time_to_accuracy(X, y, X_test, y_test, recipe)
    out["frameworks"] = frameworks
    out["memory"] = None
    if settings.memory:
        extra = [] if settings.train_epochs is None else ["--epochs", settings.train_epochs]
        say("peak memory of scratchnet train " + " ".join(map(str, extra)))
        out["memory"] = peak_memory_of_train(extra, threads)
    sn = frameworks["scratchnet"]["median"]
    out["ratios"] = {name: sn / frameworks[name]["median"] if "median" in frameworks[name] else None
                     for name in ("pytorch", "sklearn")}
    out["ratios"]["floor"] = sn / out["floor_seconds"]
    out["machine"]["load_average_after"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    return out


# ---------------------------------------------------------------------------------------- rendering

FRAMEWORK_NAMES = {"scratchnet": "scratchnet", "pytorch": "PyTorch (CPU)", "sklearn": "scikit-learn"}


def _met(value, target):
    return "—" if value is None else ("met" if value <= target else "not met")


def target_rows(results):
    """The comparison with issue 6's targets: a list of ``(measure, value, target, status)`` strings,
    ``status`` being ``met``, ``not met`` or ``—`` (not measured)."""
    r, rows = results["ratios"], []
    for key, label in (("pytorch", "scratchnet / PyTorch"), ("sklearn", "scratchnet / scikit-learn"),
                       ("floor", "scratchnet / floor")):
        value = r.get(key)
        rows.append((label, "—" if value is None else f"{value:.2f}×", f"≤ {TARGETS[key]:.2f}×",
                     _met(value, TARGETS[key])))
    memory = results.get("memory")
    mb = None if memory is None else memory["peak_bytes"] / MB
    rows.append(("peak memory of `scratchnet train`", "—" if mb is None else f"{mb:.0f} MB",
                 f"≤ {TARGETS['memory_mb']:.0f} MB", _met(mb, TARGETS["memory_mb"])))
    acc = results.get("accuracy")
    label = f"time to {ACCURACY_GOAL:.0%} test accuracy"
    if acc is None:
        rows.append((label, "—", f"≤ {TARGETS['seconds_to_98']:.0f} s", "—"))
    elif acc["reached"]:
        rows.append((label, f"{acc['seconds']:.1f} s (epoch {acc['epoch']})",
                     f"≤ {TARGETS['seconds_to_98']:.0f} s", _met(acc["seconds"], TARGETS["seconds_to_98"])))
    else:
        rows.append((label, f"not reached (best {acc['accuracy']:.2%} after {acc['seconds']:.1f} s)",
                     f"≤ {TARGETS['seconds_to_98']:.0f} s", "not met"))
    return rows


def epoch_rows(results):
    """Seconds per epoch: a list of ``(what, median, range, note)`` strings, the floor last."""
    rows = []
    for key, name in FRAMEWORK_NAMES.items():
        f = results["frameworks"].get(key, {"skipped": "not measured"})
        if "median" in f:
            timed = len(f["epoch_seconds"]) - f["warmup"]
            rows.append((name, f"{f['median']:.3f}", f"{f['min']:.3f} – {f['max']:.3f}",
                         f"median of {timed} epoch{'s' * (timed != 1)} after {f['warmup']} warm-up"))
        else:
            rows.append((name, "—", "—", f"skipped ({f['skipped']})"))
    g = results["gemm"]
    rows.append(("the step's GEMMs alone", f"{g['seconds_per_epoch']:.3f}", "—",
                 "every matmul of an epoch at its real shape and measured rate"))
    rows.append(("floor", f"{results['floor_seconds']:.3f}", "—",
                 f"{results['flop_per_epoch'] / 1e9:.1f} GFLOP at {g['square']['gflops']:.0f} GFLOP/s"))
    return rows


def gemm_seconds_by_kind(gemm):
    """Seconds per epoch of the step's matrix products alone, by kind (forward, weight gradient, …)."""
    kinds = {}
    for x in gemm["shapes"]:
        kinds[x["kind"]] = kinds.get(x["kind"], 0.0) + x["seconds_per_call"] * x["calls_per_epoch"]
    return kinds


def _md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def reproduce_command(settings, out):
    """The ``scratchnet bench`` command line that repeats a run with these settings."""
    default, parts = Settings(), ["scratchnet bench"]
    for name in ("epochs", "batch_size", "n_train", "train_epochs"):
        if getattr(settings, name) != getattr(default, name):
            parts.append(f"--{name.replace('_', '-')} {getattr(settings, name)}")
    for name, flag in (("torch", "--skip-torch"), ("sklearn", "--skip-sklearn"), ("memory", "--skip-memory"),
                       ("accuracy", "--skip-accuracy"), ("profile", "--no-profile")):
        if not getattr(settings, name):
            parts.append(flag)
    if settings.threads is not None:
        parts.append(f"--threads {settings.threads}")
    parts.append(f"--out {out}")
    return " ".join(parts)


def _busy_note(machine):
    """A warning line when other work shared the machine (load average above half its CPUs)."""
    load, after = machine.get("load_average"), machine.get("load_average_after")
    if not load or max(load[0], (after or load)[0]) <= 0.5 * machine["cpus"]:
        return []
    return [f"**Noisy run**: other work shared the machine (1-minute load average {load[0]:.1f} at the start, "
            f"{(after or load)[0]:.1f} at the end, on {machine['cpus']} CPUs), so every number here is "
            "slowed by an unknown amount and the ratios are unreliable; re-run the command above on a "
            "quiet machine before quoting them.", ""]


def render_markdown(results, image=None, command=None):
    """``docs/benchmarks.md``: the tables, the figure ``image`` (a path relative to the document), the
    GEMM rates, the profile, the machine and the command that reproduces it."""
    m, s, g = results["machine"], results["settings"], results["gemm"]
    v = m["versions"]
    load = m.get("load_average")
    lines = [
        "# Benchmarks",
        "",
        "Generated by `scratchnet bench` (`scratchnet/bench.py`); do not edit by hand, re-run instead:",
        "",
        f"    {command or 'scratchnet bench --out docs/benchmarks.md'}",
        "",
        f"Seed network {results['network']}, Adam (lr {s['lr']}), batch {s['batch_size']}, float32, no "
        f"augmentation, {s['n_train']:,} MNIST training images, {s['threads']} threads for every framework.",
        "",
        f"Machine: {m['cpu']}, {m['cpus']} CPUs ({m['cpus_usable']} usable); {m['platform']}; "
        f"BLAS {m['blas']} — at run time {m['blas_runtime']}; Python {v['python']}, NumPy {v['numpy']}, "
        f"PyTorch {v.get('torch') or 'not installed'}, scikit-learn {v.get('sklearn') or 'not installed'}."
        + (f" Load average at the start {load[0]:.2f}, at the end {m['load_average_after'][0]:.2f} "
           f"(on {m['cpus']} CPUs; above 0 means other work shared the machine)." if load else ""),
        "",
        *_busy_note(m),
        "## Against issue 6's targets",
        "",
        _md_table(("measure", "value", "target", "status"), target_rows(results)),
        "",
        "## Seconds per epoch",
        "",
        _md_table(("what", "median s/epoch", "range", "how"), epoch_rows(results)),
        "",
    ]
    if image:
        lines += [f"![seconds per epoch]({image})", ""]
    lines += [
        f"The floor is the epoch's matrix FLOP ({results['flop_per_image']:,} per image: forward, weight "
        "gradients and input gradients of layers ≥ 2, derived from the layer sizes) divided by the float32 "
        f"rate of a {g['square']['side']}² GEMM. At the step's own shapes the BLAS is slower; the row "
        "\"the step's GEMMs alone\" is the time of the epoch's products at their measured rates.",
        "",
        "### GEMM rates (NumPy, float32)",
        "",
        _md_table(("product", "kind", "shape (m×k · k×n)", "µs per call", "GFLOP/s", "calls per epoch"),
                  [(x["name"], x["kind"], f"{x['m']}×{x['k']} · {x['k']}×{x['n']}",
                    f"{x['seconds_per_call'] * 1e6:.1f}", f"{x['gflops']:.1f}", f"{x['calls_per_epoch']:,}")
                   for x in g["shapes"]]
                  + [("square", "peak", f"{g['square']['side']}² · {g['square']['side']}²", "—",
                      f"{g['square']['gflops']:.1f}", "—")]),
        "",
        "## How each framework is timed",
        "",
        "- **scratchnet**: `training.train` with `Recipe(batch_size, optimizer=\"adam\", schedule=\"constant\","
        " shift=0)`; seconds per epoch from its history (shuffle, per-batch uint8 → float32 conversion, "
        "forward, backward, Adam, loss and accuracy bookkeeping).",
        "- **PyTorch**: `nn.Sequential(Linear, Sigmoid, Linear, Sigmoid, Linear)`, `CrossEntropyLoss`, "
        "`torch.optim.Adam`, `torch.set_num_threads(threads)`; the images are one float32 tensor already "
        "divided by 255, batches are slices of `torch.randperm`; no loss or accuracy bookkeeping.",
        "- **scikit-learn**: `MLPClassifier((100, 10), activation=\"logistic\", solver=\"adam\", "
        "batch_size=128, alpha=0)` with the same learning rate; one epoch is one `partial_fit` call on the "
        "whole float32 set (one shuffled pass, what each iteration of `fit` does, plus its input check).",
        "- Each framework gets warm-up epochs first; the median of the timed epochs is reported.",
        "",
    ]
    mem, acc = results.get("memory"), results.get("accuracy")
    if mem:
        lines += [f"Peak memory: `{mem['command']}` run as a subprocess, its `ru_maxrss` "
                  f"({mem['peak_bytes'] / MB:.0f} MB, 1 MB = 10⁶ bytes).", ""]
    if acc:
        lines += [f"Time to {acc['goal']:.0%}: the default recipe (up to {acc['recipe']['epochs']} epochs, batch "
                  f"{acc['recipe']['batch_size']}, {acc['recipe']['schedule']} schedule, shifts of "
                  f"{acc['recipe']['shift']} px), test set evaluated after each epoch outside the timed part; "
                  "cumulative training seconds until the first epoch at or above the goal.", "",
                  _md_table(("epoch", "seconds", "test accuracy"),
                            [(h["epoch"], f"{h['seconds']:.2f}", f"{h['test_accuracy']:.4f}")
                             for h in acc["history"]]), ""]
    prof = results.get("profile")
    if prof:
        lines += [
            "## Where scratchnet's epoch goes (pyinstrument)",
            "",
            f"One epoch after a warm-up, sampled every {prof['interval'] * 1e3:.3g} ms "
            f"({prof['seconds']:.3f} s with the profiler on, against the unprofiled median above: the "
            "profiler's hook on every call inflates many small calls most). NumPy's C calls (matmul, ufuncs) are not "
            "Python frames, so their time counts for the scratchnet function that makes them; compare "
            "the forward and backward rows with the GEMM table above to see how much of them is matrix "
            "work.",
            "",
            _md_table(("what", "seconds", "share"),
                      [(c["name"], f"{c['seconds']:.3f}", f"{c['share']:.0%}") for c in prof["categories"]]),
            "",
            "The same epoch's matrix products run alone at the measured rates (GEMM table), by kind:",
            "",
            _md_table(("GEMMs", "seconds per epoch"),
                      [(kind, f"{t:.3f}") for kind, t in gemm_seconds_by_kind(g).items()]),
            "",
            _md_table(("function", "seconds", "share"),
                      [(f"`{c['name']}`", f"{c['seconds']:.3f}", f"{c['share']:.0%}")
                       for c in prof["functions"][:12]]),
            "",
        ]
    return "\n".join(lines)


def plot(results, path):
    """Bars of the median seconds per epoch (range as error bars) with the floor and GEMM-only lines."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names, medians, low, high = [], [], [], []
    for key, name in FRAMEWORK_NAMES.items():
        f = results["frameworks"].get(key, {})
        if "median" in f:
            names.append(name)
            medians.append(f["median"])
            low.append(f["median"] - f["min"])
            high.append(f["max"] - f["median"])
    fig = Figure(figsize=(10, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bars = ax.bar(names, medians, yerr=[low, high], capsize=6,
                  color=["#d62728", "#1f77b4", "#ff7f0e"][:len(names)])
    for bar, value, above in zip(bars, medians, high):
        ax.annotate(f"{value:.3f} s", (bar.get_x() + bar.get_width() / 2, value + above), ha="center",
                    va="bottom", xytext=(0, 4), textcoords="offset points")
    ax.axhline(results["floor_seconds"], color="black", linestyle="--",
               label=f"floor {results['floor_seconds']:.3f} s (FLOP / peak GEMM rate)")
    ax.axhline(2 * results["floor_seconds"], color="grey", linestyle=":", label="2 × floor (target)")
    ax.axhline(results["gemm"]["seconds_per_epoch"], color="green", linestyle="-.",
               label=f"the step's GEMMs alone {results['gemm']['seconds_per_epoch']:.3f} s")
    s, m = results["settings"], results["machine"]
    ax.set_ylabel("seconds per epoch (median)")
    ax.set_title(f"One epoch of {s['n_train']:,} MNIST images, batch {s['batch_size']}, float32, "
                 f"{s['threads']} threads — {m['cpu']}")
    ax.legend(loc="upper right")
    # head room above the tallest bar and its label, so the legend never covers them
    ax.set_ylim(0, max([m + h for m, h in zip(medians, high)] + [2 * results["floor_seconds"],
                                                                 results["gemm"]["seconds_per_epoch"]]) * 1.6)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, facecolor="white")
    return path


def write_report(results, out, command=None):
    """Write the markdown ``out`` and its figure ``images/benchmarks.png`` next to it; returns both paths."""
    out = Path(out)
    if not out.parent.is_dir():
        raise ScratchnetError(f"cannot write {out}: folder {out.parent} does not exist")
    image = plot(results, out.parent / "images" / (out.stem + ".png"))
    out.write_text(render_markdown(results, f"images/{image.name}", command) + "\n", encoding="utf-8")
    return out, image

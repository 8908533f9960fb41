"""Timing: seconds per training epoch of scratchnet and of its peers on the same network and data.

Every peer trains the same multilayer perceptron (sigmoid hidden layers, softmax output with
cross-entropy, Adam, float32, batches of ``B`` rows of a fresh random permutation each epoch) on the
same MNIST images, each written the way a user of that library would write it for speed:

- **scratchnet**: `scratchnet.training.train` (the library's own loop; its history has the seconds);
- **JAX**: the whole epoch one ``jax.jit``-compiled function, ``lax.scan`` over the batches, Adam from
  optax, the images on the device once; the compile time is measured apart (ahead of time, with
  ``.lower().compile()``), so no epoch includes it;
- **PyTorch**: an idiomatic CPU loop, ``nn.Sequential`` + ``torch.optim.Adam``;
- **scikit-learn**: ``MLPClassifier`` with one ``partial_fit`` call per epoch.

`time_epochs` sets the peers up and takes their epochs in turns (one epoch of each, round after round),
so that a slow stretch of a shared machine slows every peer alike and the ratios of one run stay fair.
Also here: how many threads, and the machine.
"""

import os
import platform
import statistics
import sys
import threading
import time
from contextlib import contextmanager, nullcontext
from importlib import metadata
from pathlib import Path

import numpy as np

import scratchnet as sn
from scratchnet.training import Recipe, train

PEERS = ("scratchnet", "jax", "pytorch", "sklearn")
NAMES = {"scratchnet": "scratchnet", "jax": "JAX (jit, lax.scan)", "pytorch": "PyTorch (CPU)",
         "sklearn": "scikit-learn"}


def _check_network(sizes, activations):
    if tuple(activations) != ("sigmoid",) * (len(sizes) - 2) + ("softmax",):
        raise ValueError(f"the peers are written for sigmoid hidden layers and a softmax output, "
                         f"got {activations}")


def summary(timed, warmup):
    """Add ``median``, ``min``, ``max`` of the epochs after ``warmup`` to a timer's result."""
    seconds = timed["epoch_seconds"][warmup:]
    return {**timed, "epoch_seconds": [float(s) for s in timed["epoch_seconds"]], "warmup": warmup,
            "median": statistics.median(seconds), "min": min(seconds), "max": max(seconds)}


# ---------------------------------------------------------------------------------------- the peers
#
# Each ``start_*`` function sets a peer up (network, optimiser, data in that library's form) and returns
# a runner: ``runner.epoch()`` trains one epoch and returns its seconds, ``runner.info`` holds anything
# else measured (JAX's compile time), ``runner.close()`` lets it go. Runners let `time_epochs` take the
# peers' epochs in turns, so a slow minute of a shared machine slows every peer alike.

class _Stop(Exception):
    """Raised inside scratchnet's epoch callback to end a runner early."""


class ScratchnetRunner:
    """`scratchnet.training.train` (the library's own loop) one epoch at a time.

    ``train`` runs in a worker thread whose epoch callback waits for the next ``epoch()`` call, so its
    optimiser state, buffers and shuffled-epoch array live across epochs exactly as in one ``train``
    call. The seconds are ``train``'s own (``Epoch.seconds``: shuffle, per-batch uint8 → float32
    conversion, forward, backward, Adam, loss and accuracy bookkeeping); the wait is outside them.
    """

    def __init__(self, X, y, sizes, activations, epochs, batch_size, lr, seed):
        self.net = sn.Network(sizes, activations, seed=seed, dtype="float32")
        recipe = Recipe(epochs=epochs, batch_size=batch_size, optimizer="adam", lr=lr,
                        schedule="constant", shift=0, average=0.0, seed=seed)   # the peers' algorithm: no average
        self.info, self._seconds, self._error, self._stop = {}, [], None, False
        self._go, self._done = threading.Semaphore(0), threading.Semaphore(0)
        self._thread = threading.Thread(target=self._run, args=(X, y, recipe), daemon=True)
        self._thread.start()

    def _run(self, X, y, recipe):
        try:
            self._wait()
            train(self.net, X, y, recipe, on_epoch=self._on_epoch)
        except _Stop:
            pass
        except Exception as error:        # handed to the caller of epoch()
            self._error = error
        self._done.release()

    def _wait(self):
        self._go.acquire()
        if self._stop:
            raise _Stop

    def _on_epoch(self, row):
        self._seconds.append(row.seconds)
        self._done.release()
        self._wait()

    def epoch(self):
        if not self._thread.is_alive():
            raise RuntimeError("this scratchnet runner has finished all its epochs")
        self._go.release()
        self._done.acquire()
        if self._error is not None:
            raise self._error
        return self._seconds[-1]

    def close(self):
        self._stop = True
        self._go.release()
        self._thread.join()


def start_scratchnet(X, y, sizes, activations, epochs, batch_size, lr, seed, threads):
    """A `ScratchnetRunner` for at most ``epochs`` epochs."""
    return ScratchnetRunner(X, y, sizes, activations, epochs, batch_size, lr, seed)


class _Runner:
    """A peer's epoch as a function: ``epoch()`` times one call of ``run_epoch``."""

    def __init__(self, run_epoch, info=None):
        self._run_epoch, self.info = run_epoch, info or {}

    def epoch(self):
        start = time.perf_counter()
        self._run_epoch()
        return time.perf_counter() - start

    def close(self):
        self._run_epoch = None


def _import_jax(threads):
    """Import JAX for the CPU, its XLA thread pool limited to ``threads`` when fewer than the CPUs
    (XLA reads its flags once, at import; a JAX already imported keeps its own)."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if threads is not None and threads < default_threads() and "jax" not in sys.modules:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen="
                                   f"{'true' if threads > 1 else 'false'} "
                                   f"intra_op_parallelism_threads={threads}").strip()
    import jax
    import optax
    return jax, optax


def start_jax(X, y, sizes, activations, epochs, batch_size, lr, seed, threads):
    """A jit-compiled JAX epoch, or None without jax and optax.

    The images go to the device once as float32 (divided by 255). One compiled function runs a whole
    epoch: a permutation of the rows, ``lax.scan`` of the training step over the full batches, then
    one step on the last partial batch, so every image is seen once as in the other peers. The step is
    ``jax.grad`` of the mean ``optax.softmax_cross_entropy_with_integer_labels`` and an
    ``optax.adam`` update. ``info["compile_seconds"]``: tracing and compiling the epoch ahead of time
    (``jax.jit(epoch).lower(...).compile()``), so that no timed epoch includes it.
    """
    _check_network(sizes, activations)
    try:
        jax, optax = _import_jax(threads)
    except ImportError:
        return None
    jnp, lax = jax.numpy, jax.lax

    key = jax.random.PRNGKey(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):     # Glorot uniform, bias 0, as scratchnet
        key, k = jax.random.split(key)
        limit = float(np.sqrt(6.0 / (n_in + n_out)))
        params.append({"W": jax.random.uniform(k, (n_in, n_out), jnp.float32, -limit, limit),
                       "b": jnp.zeros(n_out, jnp.float32)})

    def logits(params, x):
        for layer in params[:-1]:
            x = jax.nn.sigmoid(x @ layer["W"] + layer["b"])
        return x @ params[-1]["W"] + params[-1]["b"]

    def loss(params, x, labels):
        return optax.softmax_cross_entropy_with_integer_labels(logits(params, x), labels).mean()

    optimizer = optax.adam(lr)

    def step(carry, batch):
        params, state = carry
        grads = jax.grad(loss)(params, *batch)
        updates, state = optimizer.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), None

    N, B = len(X), batch_size
    full = N // B

    def epoch(params, state, X, y, key):
        rows = jax.random.permutation(key, N)
        X_e, y_e = X[rows], y[rows]
        carry, _ = lax.scan(step, (params, state),
                            (X_e[:full * B].reshape(full, B, -1), y_e[:full * B].reshape(full, B)))
        if N % B:
            carry, _ = step(carry, (X_e[full * B:], y_e[full * B:]))
        return carry

    X_d = jax.device_put(np.asarray(X, np.float32) / np.float32(255))
    y_d = jax.device_put(np.asarray(y, np.int32))
    carry = [params, optimizer.init(params)]
    start = time.perf_counter()
    compiled = jax.jit(epoch).lower(*carry, X_d, y_d, key).compile()
    compile_seconds = time.perf_counter() - start
    count = [0]

    def run_epoch():
        count[0] += 1
        carry[:] = compiled(*carry, X_d, y_d, jax.random.fold_in(key, count[0]))
        jax.block_until_ready(carry)

    return _Runner(run_epoch, {"compile_seconds": compile_seconds})


def start_pytorch(X, y, sizes, activations, epochs, batch_size, lr, seed, threads):
    """An idiomatic PyTorch CPU loop, or None without torch.

    ``nn.Sequential`` of ``Linear``/``Sigmoid`` layers, ``CrossEntropyLoss`` on the logits,
    ``torch.optim.Adam``; the images are one float32 tensor in memory (already divided by 255) and each
    epoch takes batches of a fresh random permutation of the rows.
    """
    _check_network(sizes, activations)
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    layers = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        layers.append(torch.nn.Linear(n_in, n_out))
        if l < len(sizes) - 1:
            layers.append(torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    X_t = torch.from_numpy(np.asarray(X, np.float32) / np.float32(255))
    y_t = torch.from_numpy(np.asarray(y, np.int64))
    generator = torch.Generator().manual_seed(seed)
    N, B = len(X_t), batch_size

    def run_epoch():
        rows = torch.randperm(N, generator=generator)
        for i in range(0, N, B):
            batch = rows[i:i + B]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(X_t[batch]), y_t[batch])
            loss.backward()
            optimizer.step()

    return _Runner(run_epoch)


def start_sklearn(X, y, sizes, activations, epochs, batch_size, lr, seed, threads):
    """scikit-learn's ``MLPClassifier``, or None without it.

    ``MLPClassifier(sizes[1:-1], activation="logistic", solver="adam")`` with the same batch size and
    learning rate and no L2 penalty (``alpha=0``, as scratchnet). An epoch is one ``partial_fit`` call
    on the whole set: one shuffled pass in mini-batches, exactly what each iteration of ``fit`` does,
    without ``fit``'s convergence bookkeeping; each call also checks its input once (a pass over X),
    which is part of its cost. The images are float32 in [0, 1], so scikit-learn trains in float32.
    """
    _check_network(sizes, activations)
    try:
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    model = MLPClassifier(tuple(sizes[1:-1]), activation="logistic", solver="adam", batch_size=batch_size,
                          learning_rate_init=lr, alpha=0.0, shuffle=True, random_state=seed)
    Xf = np.asarray(X, np.float32) / np.float32(255)
    classes = np.arange(sizes[-1])
    return _Runner(lambda: model.partial_fit(Xf, y, classes=classes))


STARTERS = {"scratchnet": start_scratchnet, "jax": start_jax, "pytorch": start_pytorch,
            "sklearn": start_sklearn}


def time_epochs(peers, X, y, sizes, activations, warmup, epochs, batch_size, lr, seed, threads,
                progress=None):
    """Seconds per epoch of each of ``peers`` on the same network and data, the epochs taken in turns.

    Each peer is set up, then runs ``warmup`` untimed epochs; then come ``epochs`` rounds, each one
    epoch of every peer, the order shifted by one each round. Interleaved this way, a slow stretch of a
    shared machine lands on every peer, and the ratios of one run stay fair.

    Returns
    -------
    dict peer → ``{"epoch_seconds", "warmup", "median", "min", "max", …info}``, or ``{"skipped": why}``
    """
    say = progress or (lambda message: None)
    runners, results = {}, {}
    try:
        for name in peers:
            say(f"{NAMES[name]}: setting up")
            runner = STARTERS[name](X, y, sizes, activations, warmup + epochs, batch_size, lr, seed, threads)
            if runner is None:
                results[name] = {"skipped": "not installed"}
                continue
            runners[name] = runner
            results[name] = {"epoch_seconds": [runner.epoch() for _ in range(warmup)], **runner.info}
        order = list(runners)
        for r in range(epochs):
            say(f"round {r + 1} of {epochs}: one epoch of each of {', '.join(order)}")
            for name in order[r % len(order):] + order[:r % len(order)]:
                results[name]["epoch_seconds"].append(runners[name].epoch())
    finally:
        for runner in runners.values():
            runner.close()
    return {name: summary(r, warmup) if "epoch_seconds" in r else r for name, r in results.items()}


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
    """Environment for a subprocess whose BLAS and OpenMP use ``threads`` threads, OpenBLAS unpinned
    (`unpinned_env`)."""
    env = unpinned_env()
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "SCRATCHNET_THREADS"):
        env[name] = str(threads)
    return env


# ---------------------------------------------------------------------------------------- OpenBLAS's kernel

PINNING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
"""Variables that make OpenBLAS use another kernel than the one it would pick for this CPU (a machine
may set them for old OpenBLAS builds that crash on newer CPUs). A user's NumPy runs without them, so
the benchmarks' worker processes do too (`unpinned_env`); tests and CI keep whatever they are given."""

REMOVED = "SCRATCHNET_BENCH_UNPINNED"
"""Set in a worker's environment to the ``NAME=value`` pairs removed from its caller's (comma-separated)."""


def unpinned_env(env=None):
    """A copy of ``env`` (default: this process's environment) without the `PINNING` variables; what
    was removed is noted in `REMOVED`."""
    env = dict(os.environ if env is None else env)
    removed = [f"{name}={env.pop(name)}" for name in PINNING if name in env]
    if removed:
        env[REMOVED] = ",".join(filter(None, [env.get(REMOVED, ""), *removed]))
    return env


def pinned():
    """The `PINNING` variables set in this process's environment (OpenBLAS read them when it loaded)."""
    return [name for name in PINNING if name in os.environ]


def run_unpinned(script, argv=None):
    """Run ``python script argv…`` in a worker process whose environment has no `PINNING` variable;
    returns its exit status. A benchmark script's ``__main__`` calls this when `pinned` is not empty,
    because OpenBLAS picks its kernel once, when NumPy is imported."""
    import subprocess

    argv = sys.argv[1:] if argv is None else list(argv)
    return subprocess.call([sys.executable, str(script), *argv], env=unpinned_env())


def blas_kernel():
    """The kernel each loaded BLAS uses, from threadpoolctl's ``architecture`` field (``"SkylakeX"``,
    ``"Haswell"``, …), e.g. ``"openblas: Haswell"``; ``"unknown"`` without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    kernels = [f"{p['internal_api']}: {p.get('architecture') or 'unknown'}" for p in threadpool_info()
               if p.get("user_api") == "blas"]
    return "; ".join(kernels) or "none found"


def kernel_summary():
    """One line for a script's output: the BLAS kernel, the CPU's vector extensions, any pinning left."""
    pins = ", ".join(f"{name}={os.environ[name]}" for name in pinned())
    removed = os.environ.get(REMOVED, "")
    return (f"BLAS kernel {blas_kernel()} on a CPU with {cpu_vector_extensions()}; "
            + (f"pinned by {pins}" if pins else f"run without {removed}" if removed else "no pinning in the environment"))


def cpu_vector_extensions():
    """The widest vector extensions this CPU exposes (``"AVX-512"``, ``"AVX2"``, …), from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse2", "SSE2")):
                    if flag in flags:
                        return name
    except OSError:
        pass
    return "unknown"


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
    versions = {"python": platform.python_version(), "numpy": np.__version__, "scratchnet": sn.__version__}
    for name, distribution in (("numexpr", "numexpr"), ("numba", "numba"), ("jax", "jax"), ("optax", "optax"),
                               ("torch", "torch"), ("sklearn", "scikit-learn")):
        try:                                        # without importing: XLA reads its flags at import
            versions[name] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"cpu": cpu, "cpus": os.cpu_count(), "cpus_usable": default_threads(), "threads": threads,
            "platform": platform.platform(), "blas": blas, "blas_runtime": blas_runtime,
            "blas_kernel": blas_kernel(), "vector_extensions": cpu_vector_extensions(),
            "pinning": {"set": {name: os.environ[name] for name in pinned()},
                        "removed": os.environ.get(REMOVED, "")},
            "versions": versions, "load_average": load_average()}


def load_average():
    """The 1-, 5- and 15-minute load averages, or None where the system has none."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None

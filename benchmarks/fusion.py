"""Does a compiled fused kernel earn its place? numba against the NumPy reference, piece by piece and
in whole epochs.

    python benchmarks/fusion.py                    # pieces, compile time, whole epochs (about 5 minutes)
    python benchmarks/fusion.py --skip-epochs      # pieces and compile time only
    python benchmarks/fusion.py --all-pieces --threads 1   # also every kernel swapped in; one thread

The NumPy formulas of `scratchnet.activations`, `scratchnet.losses` and `scratchnet.optimizers` stay
the readable reference. Here each elementwise piece of a training step is also written as one numba
loop (one pass over memory instead of NumPy's several), compiled with ``cache=True``:

- **σ**: ``H = 1 / (1 + e^{-z})``;
- **σ′ ⊙**: ``δ ← δ ⊙ H (1 − H)``;
- **softmax + cross-entropy + δ_L**: per row, ``ŷ = softmax(z)``, ``L_i = log Σ e^s − s[y_i]`` and
  ``δ_L = (ŷ − y) / B``, one pass;
- **Adam**: ``M ← β1 M + g``, ``V ← β2 V + g²``, ``W ← W − c1 M / (√V + e)``, one pass over 7 array touches;
  serial, and with ``parallel=True`` (``prange``: the pass split between numba's threads).

Every kernel is compiled with ``error_model="numpy"``, as the library's twins are: with numba's default
("python") every float division checks for zero to raise ZeroDivisionError, and that check in the loop
stops LLVM from vectorising it (Adam's serial loop then ran at half NumPy's speed; vectorised, at 4×).

It prints (1) each piece's microseconds per call, NumPy and numba timed in turns, median and minimum
of the rounds; (2) numba's compile time (an empty cache, in a fresh process) and its cache load time
(a second fresh process), apart from everything else, for this script's kernels and for the library's
own twins (`scratchnet.fused.warm_up`: Adam, δ_L, σ′, the input's ``[1 x]`` and the weight average);
(3) whole training epochs (`scratchnet.training.train`, Adam, batch 128, float32, no shifts, the default
weight average) of the seed and the wide network, in
turns: the library as shipped against the library with ``SCRATCHNET_COMPILED=0`` (NumPy only), and
with ``--all-pieces`` also this script's σ′, softmax–cross-entropy and Adam kernels swapped in
(`numba_kernels`, for that measurement only).

numba's threading layer is ``workqueue`` here (unless ``NUMBA_THREADING_LAYER`` is set) for the
``prange`` kernel: with OpenMP's, whose threads spin after a launch, the seed network's epoch ran ten
times slower on 2 cores, its threads fighting OpenBLAS's for them. The measured decision (the library's
twins are serial: Adam, δ_L, σ′, ``[1 x]`` and the average, each the NumPy reference's bits; no softmax twin, whose ``exp``
would differ from NumPy's in the last bit) is in docs/performance.md; ``tests/test_compiled.py`` holds
the twins to the NumPy references, to the bit.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np                                                              # noqa: E402

from benchmarks import timing                                                    # noqa: E402
from benchmarks.elementwise import (ADAM_ARGS, SEED_PARAMS, WIDE_PARAMS, adam_arrays,  # noqa: E402
                                    adam_numpy, compare, sigmoid_derivative_numpy, sigmoid_numpy,
                                    softmax_ce_numpy)

F32 = np.float32


def numba_kernels(parallel=True):
    """The numba kernels: ``{name: function}`` (``sigmoid``, ``sigmoid_derivative``, ``softmax_ce_delta``,
    ``adam``, ``adam_parallel``), compiled lazily with ``cache=True``; None without numba."""
    try:
        import numba
    except ImportError:
        return None
    if "NUMBA_THREADING_LAYER" not in os.environ:
        numba.config.THREADING_LAYER = "workqueue"              # for the prange kernel

    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def sigmoid(z, out):
        """``out = 1 / (1 + e^{-z})``; ``z, out (B, n)``, ``out`` may be ``z``."""
        B, n = z.shape
        one = np.float32(1.0)
        for i in range(B):
            for j in range(n):
                out[i, j] = one / (one + np.exp(-z[i, j]))
        return out

    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def sigmoid_derivative(H, delta):
        """``delta *= H (1 - H)``; ``H, delta (B, n)``."""
        B, n = H.shape
        one = np.float32(1.0)
        for i in range(B):
            for j in range(n):
                h = H[i, j]
                delta[i, j] = delta[i, j] * h * (one - h)
        return delta

    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def softmax_ce_delta(z, y, yhat, delta):
        """``yhat = softmax(z)``, ``delta = (yhat - onehot(y)) / B``; returns the mean cross-entropy."""
        B, K = z.shape
        total_loss = 0.0
        r = np.float32(1.0) / np.float32(B)
        for i in range(B):
            m = z[i, 0]
            for k in range(1, K):
                m = max(m, z[i, k])
            s = np.float32(0.0)
            for k in range(K):
                e = np.exp(z[i, k] - m)
                yhat[i, k] = e
                s += e
            total_loss += np.log(s) - (z[i, y[i]] - m)
            for k in range(K):
                p = yhat[i, k] / s
                yhat[i, k] = p
                delta[i, k] = p * r
            delta[i, y[i]] = (yhat[i, y[i]] - np.float32(1.0)) * r
        return total_loss / B

    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def adam(W, g, M, V, b1, b2, c1, e):
        """One Adam pass: ``M ← b1 M + g``, ``V ← b2 V + g²``, ``W ← W - c1 M / (√V + e)``."""
        b1, b2, c1, e = np.float32(b1), np.float32(b2), np.float32(c1), np.float32(e)
        for i in range(W.shape[0]):
            m = b1 * M[i] + g[i]
            v = b2 * V[i] + g[i] * g[i]
            M[i] = m
            V[i] = v
            W[i] -= c1 * (m / (np.sqrt(v) + e))

    @numba.njit(cache=True, nogil=True, parallel=True, error_model="numpy")
    def adam_parallel(W, g, M, V, b1, b2, c1, e):
        """`adam` with the pass split between numba's threads (two functions: numba's cache tells
        functions apart by name and line)."""
        b1, b2, c1, e = np.float32(b1), np.float32(b2), np.float32(c1), np.float32(e)
        for i in numba.prange(W.shape[0]):
            m = b1 * M[i] + g[i]
            v = b2 * V[i] + g[i] * g[i]
            M[i] = m
            V[i] = v
            W[i] -= c1 * (m / (np.sqrt(v) + e))

    return {"sigmoid": sigmoid, "sigmoid_derivative": sigmoid_derivative, "softmax_ce_delta": softmax_ce_delta,
            "adam": adam, "adam_parallel": adam_parallel if parallel else None}


def warm(kernels):
    """Compile (or load from the cache) every kernel once, for float32 arrays; returns seconds taken."""
    start = time.perf_counter()
    z = np.ones((4, 3), F32)
    kernels["sigmoid"](z, z.copy())
    kernels["sigmoid_derivative"](z, z.copy())
    kernels["softmax_ce_delta"](z, np.zeros(4, np.intp), z.copy(), z.copy())
    w = np.ones(8, F32)
    for name in ("adam", "adam_parallel"):
        if kernels.get(name) is not None:
            kernels[name](w, w.copy(), w.copy(), w.copy(), 0.9, 0.999, 1e-3, 1e-8)
    return time.perf_counter() - start


# ---------------------------------------------------------------------------------------- substitution

@contextmanager
def substituted(kernels, adam="adam"):
    """Within the block, `scratchnet.training.train` runs the numba kernels instead of NumPy's: the
    sigmoid's derivative in the activation table (σ itself stays NumPy's, which is faster), the softmax–cross-entropy of the forward
    pass (its δ_L computed in the same pass and copied by the backward pass's δ_L) and Adam's update.
    For this measurement only; the library keeps its NumPy formulas."""
    import scratchnet.network as network
    import scratchnet.optimizers as optimizers
    from scratchnet.activations import ACTIVATIONS

    derivative, ce, adam_kernel = kernels["sigmoid_derivative"], kernels["softmax_ce_delta"], kernels[adam]
    saved = (ACTIVATIONS["sigmoid"], network.softmax_cross_entropy, network.softmax_cross_entropy_delta,
             optimizers.adam_update, optimizers.blocked)
    pending = {}

    def softmax_cross_entropy(z, y, out=None):
        delta = pending.setdefault(z.shape, np.empty_like(z))
        loss = ce(z, y, out, delta)
        return float(loss), out

    def softmax_cross_entropy_delta(yhat, y, out=None):
        np.copyto(out, pending[yhat.shape])                    # δ_L, computed in the forward pass
        return out

    def adam_update(W, g, M, V, u, b1, b2, c1, e):
        adam_kernel(W, g, M, V, b1, b2, c1, e)

    ACTIVATIONS["sigmoid"] = replace(saved[0], derivative=derivative)     # σ itself: NumPy's is faster
    network.softmax_cross_entropy, network.softmax_cross_entropy_delta = softmax_cross_entropy, \
        softmax_cross_entropy_delta
    optimizers.adam_update = adam_update
    optimizers.blocked = lambda kernel, arrays, *args, **_: kernel(*arrays, *args)    # numba splits the pass itself
    try:
        yield
    finally:
        ACTIVATIONS["sigmoid"], network.softmax_cross_entropy, network.softmax_cross_entropy_delta, \
            optimizers.adam_update, optimizers.blocked = saved


# ---------------------------------------------------------------------------------------- measures

def pieces(kernels, rng):
    """``[(piece, size, {way: call})]``: NumPy's reference and numba's kernel of each piece."""
    out = []
    args = ADAM_ARGS
    for label, P in (("seed", SEED_PARAMS), ("wide", WIDE_PARAMS)):
        W, g, M, V, u = adam_arrays(rng, P)
        ways = {"NumPy": lambda W=W, g=g, M=M, V=V, u=u: adam_numpy(W, g, M, V, u, *args),
                "numba": lambda W=W, g=g, M=M, V=V: kernels["adam"](W, g, M, V, *args)}
        if kernels.get("adam_parallel") is not None:
            ways["numba parallel"] = lambda W=W, g=g, M=M, V=V: kernels["adam_parallel"](W, g, M, V, *args)
        out.append(("Adam update", f"{label}: {P:,} parameters", ways))
    for label, n in (("seed", 100), ("wide", 1024)):
        one_H = np.ones((128, n + 1), F32)
        z = (rng.standard_normal((128, n)) * 4).astype(F32)
        H = one_H[:, 1:]                                   # the forward pass writes H into [1 H]
        delta = rng.standard_normal((128, n)).astype(F32)
        out.append(("σ", f"{label}: 128 × {n}", {"NumPy": lambda z=z, H=H: sigmoid_numpy(z, H),
                                                 "numba": lambda z=z, H=H: kernels["sigmoid"](z, H)}))
        out.append(("σ′ ⊙ δ", f"{label}: 128 × {n}",
                    {"NumPy": lambda H=H, d=delta: sigmoid_derivative_numpy(H, d),
                     "numba": lambda H=H, d=delta: kernels["sigmoid_derivative"](H, d)}))
    z = (rng.standard_normal((128, 10)) * 3).astype(F32)
    y = rng.integers(0, 10, 128).astype(np.intp)
    yhat, delta = np.empty_like(z), np.empty_like(z)
    out.append(("softmax + cross-entropy + δ_L", "128 × 10",
                {"NumPy": lambda: softmax_ce_numpy(z, y, yhat, delta),
                 "numba": lambda: kernels["softmax_ce_delta"](z, y, yhat, delta)}))
    out += library_pieces(rng)
    return out


def library_pieces(rng):
    """The library's own twins of `scratchnet.network.scale_pixels` and
    `scratchnet.training.average_weights` against their NumPy references (`pieces`' format)."""
    from scratchnet import fused
    from scratchnet.network import scale_pixels
    from scratchnet.training import average_weights

    X = rng.integers(0, 256, (128, 784), dtype=np.uint8)
    one_x = np.empty((128, 785), F32)
    twin = fused.compiled_kernel("scale_pixels")
    out = [("[1 x] from uint8 pixels", "128 × 784", {"NumPy": lambda: scale_pixels(X, one_x),
                                                    "numba": lambda: twin(X, one_x)})]
    average = fused.compiled_kernel("average_weights")
    for label, P in (("seed", SEED_PARAMS), ("wide", WIDE_PARAMS)):
        A, W, scratch = (rng.standard_normal(P).astype(F32) for _ in range(3))
        out.append(("weight average", f"{label}: {P:,} parameters",
                    {"NumPy": lambda A=A, W=W, s=scratch: average_weights(A, W, 0.998, s),
                     "numba": lambda A=A, W=W, s=scratch: average(A, W, 0.998, s)}))
    return out


_COMPILE = """
import sys, time
sys.path.insert(0, {root!r})
start = time.perf_counter()
from benchmarks.fusion import numba_kernels, warm
kernels = numba_kernels()
imported = time.perf_counter() - start
print(imported, warm(kernels))
import numpy as np
from scratchnet import fused
print(fused.warm_up())
"""


def compile_seconds():
    """numba's cost before the first step, in fresh processes sharing one empty cache folder: ``{"import",
    "compile", "import_cached", "load_cached"}`` seconds (importing numba; compiling every kernel; the
    same in a second process that finds them cached), and ``library_compile``, ``library_load_cached``:
    the library's `scratchnet.fused.warm_up`, every twin, in those processes)."""
    root = str(Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(timing.unpinned_env(), NUMBA_CACHE_DIR=cache)
        runs = []
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", _COMPILE.format(root=root)], env=env, capture_output=True,
                                 text=True, check=True).stdout.split()
            runs.append([float(x) for x in out])
    return {"import": runs[0][0], "compile": runs[0][1], "import_cached": runs[1][0], "load_cached": runs[1][1],
            "library_compile": runs[0][2], "library_load_cached": runs[1][2]}


def _in_turns(ways, rounds, n_seed, n_wide):
    """One-epoch runs of `scratchnet.training.train` in turns, each inside its way's context (round 0
    warms up and compiles): ``{network: (architecture, images, {way: [seconds]}, {way: network})}``.
    ``ways``: ``{name: callable returning a context manager}``."""
    import scratchnet as sn
    from scratchnet.training import Recipe, train

    X, y = sn.load_mnist("train")
    out = {}
    names = list(ways)
    for label, sizes, n in (("seed", sn.SEED_SIZES, n_seed), ("wide", (784, 1024, 1024, 10), n_wide)):
        if n == 0:
            continue
        nets = {way: sn.Network(sizes, sn.SEED_ACTIVATIONS, seed=0) for way in names}
        recipe = Recipe(epochs=1, batch_size=128, lr=2e-3, schedule="constant", shift=0)
        seconds = {way: [] for way in names}
        for r in range(rounds + 1):
            for way in (names if r % 2 else names[::-1]):
                with ways[way]():
                    t = train(nets[way], X[:n], y[:n], recipe).history[0].seconds
                if r:
                    seconds[way].append(t)
        out[label] = (sn.architecture_text(sizes, sn.SEED_ACTIVATIONS), n, seconds, nets)
    return out


def epochs(kernels, rounds, n_seed, n_wide, adam="adam"):
    """Seconds per epoch, NumPy's kernels against numba's, in turns: ``{network: (architecture, images,
    {way: [seconds]})}``."""
    ways = {"NumPy": nullcontext, "numba": lambda: substituted(kernels, adam)}
    return {label: (arch, n, seconds) for label, (arch, n, seconds, _) in
            _in_turns(ways, rounds, n_seed, n_wide).items()}


def library_epochs(rounds, n_seed, n_wide):
    """Seconds per epoch of the library as shipped (``"compiled"``) against ``SCRATCHNET_COMPILED=0``
    (``"NumPy"``), in turns: ``{network: (architecture, images, {way: [seconds]}, same_bits)}``, where
    ``same_bits`` says whether both ways ended with the same weights."""
    from scratchnet import fused

    ways = {"NumPy": lambda: fused.use_compiled(False), "compiled": lambda: fused.use_compiled(True)}
    return {label: (arch, n, seconds, bool(np.array_equal(nets["NumPy"].params, nets["compiled"].params)))
            for label, (arch, n, seconds, nets) in _in_turns(ways, rounds, n_seed, n_wide).items()}


def dispatch_microseconds():
    """µs per call of `scratchnet.fused.fast` (which picks a twin, several times per training step) and
    of one ``os.environ`` lookup (what `fast` paid on every call while it read ``SCRATCHNET_COMPILED``
    there), best of 5 rounds."""
    import timeit

    from scratchnet import fused
    from scratchnet.activations import sigmoid_derivative

    fused.warm_up()
    H = np.zeros((2, 2), F32)
    calls = {"fast": lambda: fused.fast(sigmoid_derivative, H),
             "os.environ.get": lambda: os.environ.get("SCRATCHNET_COMPILED", "1")}
    return {name: min(timeit.repeat(call, number=20000, repeat=5)) / 20000 * 1e6 for name, call in calls.items()}


def main(argv=None):
    p = argparse.ArgumentParser(prog="fusion", description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=15, help="rounds of turns per piece [15]")
    p.add_argument("--epoch-rounds", type=int, default=5, help="timed epochs per way and network [5]")
    p.add_argument("--n-seed", type=int, default=60000, help="images per seed-network epoch [60000]")
    p.add_argument("--n-wide", type=int, default=16384, help="images per wide-network epoch (0: none) [16384]")
    p.add_argument("--threads", type=int, default=None, help="BLAS and numba threads [the CPUs]")
    p.add_argument("--skip-epochs", action="store_true", help="only the pieces and the compile time")
    p.add_argument("--all-pieces", action="store_true",
                   help="also whole epochs with every numba kernel of this script swapped in")
    a = p.parse_args(argv)
    threads = a.threads or timing.default_threads()
    os.environ["SCRATCHNET_THREADS"] = str(threads)
    kernels = numba_kernels()
    if kernels is None:
        p.exit(2, "fusion: error: numba is not installed (pip install numba)\n")
    import numba
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    print(f"{timing.kernel_summary()}; numba {numba.__version__}, {numba.get_num_threads()} threads "
          f"({numba.config.THREADING_LAYER} layer); "
          f"load average {' '.join(f'{x:.2f}' for x in timing.load_average() or [])}")
    c = compile_seconds()
    print(f"numba, fresh process, empty cache: import {c['import']:.2f} s, compiling the kernels {c['compile']:.2f} s; "
          f"second process, cached: import {c['import_cached']:.2f} s, loading the kernels {c['load_cached']:.2f} s; "
          f"the library's twins (fused.warm_up, numba already imported): compiling {c['library_compile']:.2f} s, "
          f"loading them cached {c['library_load_cached']:.3f} s")
    warm(kernels)
    d = dispatch_microseconds()
    print(f"fused.fast picks a twin in {d['fast']:.2f} µs per call; one os.environ lookup takes "
          f"{d['os.environ.get']:.2f} µs")
    with timing.limit_threads(threads):
        rng = np.random.default_rng(0)
        print(f"µs per call, median (min) of {a.rounds} rounds")
        for piece, size, ways in pieces(kernels, rng):
            calls = max(1, int(0.02 / max(min(timing_once(w) for w in ways.values()), 1e-7)))
            results = compare(ways, a.rounds, calls)
            base = results["NumPy"][0]
            for way, (median, low) in results.items():
                print(f"  {piece:<31}{size:<28}{way:<15}{median:>9.1f}{low:>9.1f}  {base / median:5.2f}× as fast")
        if not a.skip_epochs:
            print(f"seconds per training epoch (Adam, batch 128, float32, no shifts), median (min) of "
                  f"{a.epoch_rounds}, in turns; the library as shipped against SCRATCHNET_COMPILED=0")
            for label, (arch, n, seconds, same) in library_epochs(a.epoch_rounds, a.n_seed, a.n_wide).items():
                np_s, nb_s = (statistics.median(seconds[w]) for w in ("NumPy", "compiled"))
                print(f"  {label} {arch}, {n:,} images: NumPy only {np_s:.3f} ({min(seconds['NumPy']):.3f}) s, "
                      f"as shipped {nb_s:.3f} ({min(seconds['compiled']):.3f}) s: {np_s / nb_s - 1:+.1%} faster; "
                      f"the same weights after {a.epoch_rounds + 1} epochs: {'yes' if same else 'NO'}")
        if a.all_pieces:
            print(f"every numba kernel of this script swapped in (σ′, softmax-CE + δ_L, serial Adam), "
                  f"against SCRATCHNET_COMPILED=0, median (min) of {a.epoch_rounds}")
            from scratchnet import fused
            with fused.use_compiled(False):
                measured = epochs(kernels, a.epoch_rounds, a.n_seed, a.n_wide)
            for label, (arch, n, seconds) in measured.items():
                np_s, nb_s = (statistics.median(seconds[w]) for w in ("NumPy", "numba"))
                print(f"  {label} {arch}, {n:,} images: NumPy {np_s:.3f} ({min(seconds['NumPy']):.3f}) s, "
                      f"numba {nb_s:.3f} ({min(seconds['numba']):.3f}) s: {np_s / nb_s - 1:+.1%} faster with numba")
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in timing.load_average() or [])}")


def timing_once(call):
    call()
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(timing.run_unpinned(__file__) if timing.pinned() else main())

"""The elementwise pieces of a training step, each written three ways, timed side by side.

    python benchmarks/elementwise.py              # about a minute
    python benchmarks/elementwise.py --rounds 41  # steadier medians on a busy machine

For each piece (Adam's update, the sigmoid, its derivative, softmax with cross-entropy and its
gradient) at the seed network's and the wide network's sizes:

- **NumPy**: the readable reference, one NumPy call per step of the formula over whole arrays (the
  formulations of `scratchnet.optimizers.Adam`, `scratchnet.activations` and `scratchnet.losses`);
- **numexpr**: the same formula as numexpr expressions, each one pass over the arrays on every core;
- **blocked**: the NumPy reference run by `scratchnet.fused.blocked` on cache-sized blocks on every
  core (forced on here, whatever the array size, to show where it pays).

The three ways of one piece are timed in turns, round after round (each round calls each way
``--calls`` times and keeps the mean), and the median and minimum over the rounds are printed in
microseconds per call, with each way's speed relative to NumPy.

With ``--training``, it times whole training epochs instead (`scratchnet.training.train`, Adam, batch
128, float32) of the seed and the wide network, with the blocked path off (``SCRATCHNET_THREADS=1``:
every kernel on whole arrays, on one thread, the code before `scratchnet.fused`) and on, in turns.
Used for docs/performance.md.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np                                                              # noqa: E402

from scratchnet.fused import blocked                                            # noqa: E402

try:
    import numexpr
except ImportError:                                                             # pragma: no cover
    numexpr = None

F32 = np.float32
SEED_PARAMS = 785 * 100 + 101 * 10 + 11 * 10              # 79,620
WIDE_PARAMS = 785 * 1024 + 1025 * 1024 + 1025 * 10        # 1,863,690


# ---------------------------------------------------------------------------------------- the pieces

def adam_numpy(W, g, M, V, u, b1, b2, c1, e):
    """`scratchnet.optimizers.Adam.step`'s ten passes (M, V unscaled; c1, e = ε/c2 folded)."""
    M *= b1
    M += g
    np.multiply(g, g, out=u)
    V *= b2
    V += u
    np.sqrt(V, out=u)
    u += e
    np.divide(M, u, out=u)
    u *= c1
    W -= u


def adam_numexpr(W, g, M, V, u, b1, b2, c1, e):
    """The same update as three numexpr passes (one per array it writes)."""
    numexpr.evaluate("b1 * M + g", local_dict=dict(b1=F32(b1), M=M, g=g), out=M)
    numexpr.evaluate("b2 * V + g * g", local_dict=dict(b2=F32(b2), V=V, g=g), out=V)
    numexpr.evaluate("W - c1 * M / (sqrt(V) + e)", local_dict=dict(W=W, c1=F32(c1), M=M, V=V, e=F32(e)), out=W)


def sigmoid_numpy(z, out):
    """`scratchnet.activations.sigmoid`: ``1 / (1 + e^{-z})`` in four in-place passes."""
    np.negative(z, out=out)
    np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)


def sigmoid_numexpr(z, out):
    numexpr.evaluate("1 / (1 + exp(-z))", local_dict=dict(z=z), out=out)


def sigmoid_derivative_numpy(H, delta):
    """`scratchnet.activations.sigmoid_derivative`: ``delta *= H (1 - H)``."""
    delta *= H
    delta *= 1 - H


def sigmoid_derivative_numexpr(H, delta):
    numexpr.evaluate("delta * H * (1 - H)", local_dict=dict(delta=delta, H=H), out=delta)


def softmax_ce_numpy(z, y, yhat, delta):
    """`scratchnet.losses.softmax_cross_entropy` then `softmax_cross_entropy_delta`."""
    s = np.subtract(z, z.max(axis=1, keepdims=True), out=yhat)
    s_true = s[np.arange(len(y)), y]
    np.exp(s, out=s)
    total = s.sum(axis=1, keepdims=True)
    s /= total
    loss = float(np.mean(np.log(total[:, 0]) - s_true))
    np.copyto(delta, s)
    delta[np.arange(len(y)), y] -= 1
    delta *= 1.0 / len(y)
    return loss


def softmax_ce_numexpr(z, y, yhat, delta):
    m = z.max(axis=1, keepdims=True)
    numexpr.evaluate("exp(z - m)", local_dict=dict(z=z, m=m), out=yhat)
    total = yhat.sum(axis=1, keepdims=True)
    numexpr.evaluate("yhat / total", local_dict=dict(yhat=yhat, total=total), out=yhat)
    rows = np.arange(len(y))
    loss = float(np.mean(np.log(total[:, 0]) + m[:, 0] - z[rows, y]))
    numexpr.evaluate("yhat * r", local_dict=dict(yhat=yhat, r=F32(1 / len(y))), out=delta)
    delta[rows, y] -= F32(1 / len(y))
    return loss


# ---------------------------------------------------------------------------------------- timing

def _time(call, calls):
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def compare(ways, rounds, calls):
    """``{name: (median µs, min µs)}`` for each ``name → call`` in ``ways``, timed in turns."""
    for call in ways.values():
        call()                                                  # warm up: threads, caches
    seconds = {name: [] for name in ways}
    for r in range(rounds):
        names = list(ways)
        for name in names[r % len(names):] + names[:r % len(names)]:
            seconds[name].append(_time(ways[name], calls))
    return {name: (statistics.median(s) * 1e6, min(s) * 1e6) for name, s in seconds.items()}


ADAM_ARGS = (0.9, 0.999, 1e-3, 1e-8 / 0.03)
"""``(β1, β2, c1, e)`` of the Adam pieces' calls."""


def adam_arrays(rng, P):
    """``(W, g, M, V, u)`` float32 ``(P,)``: weights, a gradient of about 1e-2, zero moments, scratch."""
    W = rng.standard_normal(P).astype(F32)
    g = (rng.standard_normal(P) * 1e-2).astype(F32)
    return W, g, np.zeros(P, F32), np.zeros(P, F32), np.empty(P, F32)


def pieces(rng):
    """``[(piece, size text, {way: call})]`` for every piece at the seed's and the wide network's sizes."""
    out = []
    args = ADAM_ARGS
    for label, P in (("seed", SEED_PARAMS), ("wide", WIDE_PARAMS)):
        W, g, M, V, u = adam_arrays(rng, P)
        ways = {"NumPy": lambda W=W, g=g, M=M, V=V, u=u: adam_numpy(W, g, M, V, u, *args),
                "blocked": lambda W=W, g=g, M=M, V=V, u=u: blocked(adam_numpy, (W, g, M, V, u), *args,
                                                                   parallel_min=0)}
        if numexpr is not None:
            ways["numexpr"] = lambda W=W, g=g, M=M, V=V, u=u: adam_numexpr(W, g, M, V, u, *args)
        out.append(("Adam update", f"{label}: {P:,} parameters", ways))
    for label, n in (("seed", 100), ("wide", 1024)):
        z = rng.standard_normal((128, n)).astype(F32) * 4
        H = np.empty_like(z)
        sigmoid_numpy(z, H)
        delta = rng.standard_normal((128, n)).astype(F32)
        ways = {"NumPy": lambda z=z, H=H: sigmoid_numpy(z, H),
                "blocked": lambda z=z, H=H: blocked(sigmoid_numpy, (z, H), parallel_min=0)}
        if numexpr is not None:
            ways["numexpr"] = lambda z=z, H=H: sigmoid_numexpr(z, H)
        out.append(("sigmoid", f"{label}: 128 × {n}", ways))
        ways = {"NumPy": lambda H=H, d=delta: sigmoid_derivative_numpy(H, d),
                "blocked": lambda H=H, d=delta: blocked(sigmoid_derivative_numpy, (H, d), parallel_min=0)}
        if numexpr is not None:
            ways["numexpr"] = lambda H=H, d=delta: sigmoid_derivative_numexpr(H, d)
        out.append(("sigmoid derivative", f"{label}: 128 × {n}", ways))
    z = rng.standard_normal((128, 10)).astype(F32) * 3
    y = rng.integers(0, 10, 128)
    yhat, delta = np.empty_like(z), np.empty_like(z)
    ways = {"NumPy": lambda: softmax_ce_numpy(z, y, yhat, delta)}
    if numexpr is not None:
        ways["numexpr"] = lambda: softmax_ce_numexpr(z, y, yhat, delta)
    out.append(("softmax + cross-entropy + δ_L", "128 × 10 (both networks)", ways))
    return out


def training_epochs(rounds, n_seed, n_wide):
    """Seconds per epoch of the seed and the wide network, blocked path off and on, in turns."""
    import scratchnet as sn
    from scratchnet.training import Recipe, train

    X, y = sn.load_mnist("train")
    threads = os.environ.get("SCRATCHNET_THREADS")
    print(f"seconds per training epoch (Adam, batch 128, float32), median (min) of {rounds} rounds")
    for label, sizes, n in (("seed", sn.SEED_SIZES, n_seed), ("wide", (784, 1024, 1024, 10), n_wide)):
        nets = {"off": sn.Network(sizes, sn.SEED_ACTIVATIONS, seed=0), "on": sn.Network(sizes, sn.SEED_ACTIVATIONS, seed=0)}
        seconds = {"off": [], "on": []}
        recipe = Recipe(epochs=1, batch_size=128, lr=2e-3, schedule="constant", shift=0)
        for r in range(rounds + 1):                                 # round 0 warms up
            for way in (("off", "on") if r % 2 else ("on", "off")):
                if way == "off":
                    os.environ["SCRATCHNET_THREADS"] = "1"
                elif threads is None:
                    os.environ.pop("SCRATCHNET_THREADS", None)
                else:
                    os.environ["SCRATCHNET_THREADS"] = threads
                t = train(nets[way], X[:n], y[:n], recipe).history[0].seconds
                if r:
                    seconds[way].append(t)
        off, on = statistics.median(seconds["off"]), statistics.median(seconds["on"])
        print(f"{label} {sn.architecture_text(sizes, sn.SEED_ACTIVATIONS)}, {n:,} images: "
              f"blocked off {off:.3f} ({min(seconds['off']):.3f}) s, on {on:.3f} ({min(seconds['on']):.3f}) s, "
              f"{off / on:.2f}× as fast")
    if threads is None:
        os.environ.pop("SCRATCHNET_THREADS", None)
    else:
        os.environ["SCRATCHNET_THREADS"] = threads


def adam_memory_floor(P=WIDE_PARAMS, rounds=15):
    """The least time an Adam step over ``P`` float32 parameters can take when it streams from memory.

    Whatever fuses it, a step reads ``g, M, V, W`` and writes ``M, V, W``: 7 × 4 bytes per parameter. The
    rate is that of `np.copyto` between two 64 MB arrays (one read and one write per element), the
    fastest of ``rounds`` tries. Returns ``(GB/s, seconds per step)``.
    """
    a = np.ones(16 << 20, F32)
    b = np.empty_like(a)
    best = min(_time(lambda: np.copyto(b, a), 1) for _ in range(rounds))
    rate = 2 * a.nbytes / best
    return rate / 1e9, 7 * 4 * P / rate


def main(argv=None):
    p = argparse.ArgumentParser(prog="elementwise", description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=15, help="rounds of turns per piece [15]")
    p.add_argument("--calls", type=int, default=0, help="calls per way and round [0: about 20 ms worth]")
    p.add_argument("--training", action="store_true", help="time whole training epochs, blocked path off and on")
    p.add_argument("--n-seed", type=int, default=60000, help="images per seed-network epoch with --training [60000]")
    p.add_argument("--n-wide", type=int, default=60000, help="images per wide-network epoch with --training [60000]")
    a = p.parse_args(argv)
    if a.rounds < 1 or a.calls < 0 or min(a.n_seed, a.n_wide) < 128:
        p.exit(2, "elementwise: error: --rounds must be at least 1, --calls at least 0, --n-* at least 128\n")
    if a.training:
        training_epochs(a.rounds, a.n_seed, a.n_wide)
        return
    rng = np.random.default_rng(0)
    print(f"µs per call, median (min) of {a.rounds} rounds; numexpr "
          f"{numexpr.__version__ if numexpr else 'not installed'} with {numexpr.get_num_threads() if numexpr else 0} "
          f"threads; blocked with {__import__('scratchnet.fused', fromlist=['threads']).threads()} threads")
    print(f"{'piece':<32}{'size':<28}{'way':<9}{'median':>10}{'min':>10}  vs NumPy")
    for piece, size, ways in pieces(rng):
        calls = a.calls or max(1, int(0.02 / max(_time(ways["NumPy"], 3), 1e-7)))
        results = compare(ways, a.rounds, calls)
        base = results["NumPy"][0]
        for way, (median, low) in results.items():
            print(f"{piece:<32}{size:<28}{way:<9}{median:>10.1f}{low:>10.1f}  {base / median:5.2f}× as fast")
    rate, seconds = adam_memory_floor()
    print(f"memory: {rate:.1f} GB/s streaming (np.copyto of 64 MB, fastest of 15, one thread); an Adam step over "
          f"the wide network's {WIDE_PARAMS:,} parameters moves 7 × 4 bytes each: at least {seconds * 1e6:.0f} µs")


if __name__ == "__main__":
    main()

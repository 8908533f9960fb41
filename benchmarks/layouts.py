"""Which memory layout makes a step's matrix products fastest? The weights and ``[1 H]`` in C or Fortran
order, every product of one training step timed in each layout, in turns.

    python benchmarks/layouts.py                 # seed and wide network, the CPUs' threads
    python benchmarks/layouts.py --threads 1

A step of a network with layers ``l = 1 … L`` makes these products (the network's own, `scratchnet.network`):

- forward ``z_l = [1 H_{l-1}] W_l``;
- weight gradient ``∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l``, written into the layout of ``W_l`` (the gradient is one
  flat array laid out like the weights);
- input gradient ``δ_l W̄_lᵀ`` for ``l ≥ 2``, ``W̄_l = W_l[1:]``.

A layout is the order of every ``W_l`` (C: rows contiguous, what the library keeps; F: columns
contiguous, i.e. ``W_lᵀ`` stored row by row) and of every ``[1 H_l]`` (C, what the library keeps, or F).
BLAS takes either order without a copy (a transposed view is the other order), so which operand is
transposed is decided by the layout. Each layout's step products are timed as one unit, the layouts in
turns round after round; the median and minimum over rounds are printed, with the ratio to the
library's layout (C, C).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np                                                              # noqa: E402

from benchmarks import timing                                                   # noqa: E402

F32 = np.float32
NETWORKS = {"seed": (784, 100, 10, 10), "wide": (784, 1024, 1024, 10)}
LAYOUTS = (("C", "C"), ("F", "C"), ("C", "F"), ("F", "F"))
"""(order of the weights, order of [1 H]); the first is the library's."""


def step_products(sizes, B, w_order, h_order, rng):
    """The products of one step of ``sizes`` at batch ``B`` in a layout, as one callable."""
    L = len(sizes) - 1
    W = [np.asarray(rng.standard_normal((n_in + 1, n_out)) * 0.05, F32, order=w_order)
         for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    dW = [np.empty(w.shape, F32, order=w_order) for w in W]
    one_H = [np.asarray(rng.random((B, n + 1)), F32, order=h_order) for n in sizes[:-1]]
    z = [np.empty((B, n), F32) for n in sizes[1:]]
    delta = [np.asarray(rng.standard_normal((B, n)), F32) for n in sizes[1:]]
    back = [np.empty((B, n), F32) for n in sizes[1:-1]]

    def run():
        for l in range(L):
            np.matmul(one_H[l], W[l], out=z[l])                       # z_l = [1 H_{l-1}] W_l
        for l in range(L - 1, -1, -1):
            np.matmul(one_H[l].T, delta[l], out=dW[l])                # ∂L/∂W_l = [1 H_{l-1}]ᵀ δ_l
            if l:
                np.matmul(delta[l], W[l][1:].T, out=back[l - 1])      # δ_l W̄_lᵀ
    return run


def measure(sizes, B, rounds, calls, rng):
    """``{layout: [seconds per step]}``, the layouts timed in turns."""
    runs = {layout: step_products(sizes, B, *layout, rng) for layout in LAYOUTS}
    for run in runs.values():
        run()
    seconds = {layout: [] for layout in LAYOUTS}
    for r in range(rounds):
        order = LAYOUTS[r % len(LAYOUTS):] + LAYOUTS[:r % len(LAYOUTS)]
        for layout in order:
            start = time.perf_counter()
            for _ in range(calls):
                runs[layout]()
            seconds[layout].append((time.perf_counter() - start) / calls)
    return seconds


def main(argv=None):
    p = argparse.ArgumentParser(prog="layouts", description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=None, help="BLAS threads [the CPUs]")
    p.add_argument("--rounds", type=int, default=15, help="rounds of turns [15]")
    p.add_argument("--batch-size", type=int, default=128, help="[128]")
    a = p.parse_args(argv)
    threads = a.threads or timing.default_threads()
    rng = np.random.default_rng(0)
    with timing.limit_threads(threads):
        print(f"{timing.kernel_summary()}; {threads} BLAS threads; load average "
              f"{' '.join(f'{x:.2f}' for x in timing.load_average() or [])}")
        print(f"µs per step for all the step's products, median (min) of {a.rounds} rounds, batch {a.batch_size}")
        print("| network | weights | [1 H] | µs per step | ÷ library's layout |")
        print("|---|---|---|---|---|")
        for name, sizes in NETWORKS.items():
            calls = 200 if name == "seed" else 5
            seconds = measure(sizes, a.batch_size, a.rounds, calls, rng)
            base = statistics.median(seconds[LAYOUTS[0]])
            for (w, h), s in seconds.items():
                med = statistics.median(s)
                print(f"| {name} | {w} | {h} | {med * 1e6:.0f} ({min(s) * 1e6:.0f}) | {med / base:.2f}× |",
                      flush=True)
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in timing.load_average() or [])}")


if __name__ == "__main__":
    sys.exit(timing.run_unpinned(__file__) if timing.pinned() else main())

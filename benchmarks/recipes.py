"""Why the default recipe: test accuracy of the seed network under a few recipes and seeds, and how soon
each first reaches 98 %.

    python benchmarks/recipes.py                       # every recipe below (about 8 minutes on 2 cores)
    python benchmarks/recipes.py --only default,20     # the recipes whose names contain one of these

Each row trains 784 → 100 σ → 10 σ → 10 softmax from scratch with `scratchnet.training.train` for each
seed. After every epoch the test set is evaluated outside the timed part (``Epoch.seconds``), only to
note the first epoch at or above 98 %; nothing in training reads it. The row gives the final test
accuracy per seed and their mean, that first epoch per seed, and the training seconds until it and of
the whole run (seed 0). The tables in ``docs/recipes.md`` come from this script.
"""

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np                                                              # noqa: E402

import scratchnet as sn                                                         # noqa: E402
from scratchnet.training import Recipe, train                                   # noqa: E402

from benchmarks import timing                                                   # noqa: E402

GOAL = 0.98
RECIPES = {
    "default: Adam 3e-3 cosine, batch 128, ±1 px, 30 epochs": Recipe(),
    "no shifts": Recipe(shift=0),
    "±2 px shifts": Recipe(shift=2),
    "±2 px shifts, batch 64, lr 2e-3": Recipe(shift=2, batch_size=64, lr=2e-3),
    "constant learning rate": Recipe(schedule="constant", lr=1e-3),
    "20 epochs": Recipe(epochs=20),
    "15 epochs": Recipe(epochs=15),
    "lr 5e-3": Recipe(lr=5e-3),
    "lr 5e-3, 20 epochs": Recipe(lr=5e-3, epochs=20),
    "batch 256, lr 5e-3": Recipe(batch_size=256, lr=5e-3),
}
SEEDS = (0, 1, 2)


def run(recipe, seed, X, y, X_test, y_test):
    """Train the seed network with ``recipe`` and ``seed``; returns ``(final test accuracy, first epoch at
    or above GOAL or None, training seconds until it or None, training seconds of the run)``."""
    recipe = Recipe(**{**recipe.to_dict(), "seed": seed})
    net = sn.seed_network(seed=seed)
    seconds, reached = [0.0], []

    def on_epoch(row):
        seconds[0] += row.seconds
        if not reached and net.evaluate(X_test, y_test)[1] >= GOAL:
            reached.append((row.epoch, seconds[0]))

    train(net, X, y, recipe, on_epoch=on_epoch)
    epoch, until = reached[0] if reached else (None, None)
    return net.evaluate(X_test, y_test)[1], epoch, until, seconds[0]


def main(argv=None):
    p = argparse.ArgumentParser(prog="recipes", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="", help="comma-separated parts of recipe names to run [all]")
    a = p.parse_args(argv)
    parts = [s.strip() for s in a.only.split(",") if s.strip()]
    chosen = {name: r for name, r in RECIPES.items() if not parts or any(s in name for s in parts)}
    if not chosen:
        p.exit(2, f"recipes: error: no recipe name contains any of {parts}; names: {', '.join(RECIPES)}\n")
    X, y = sn.load_mnist("train")
    X_test, y_test = sn.load_mnist("test")
    print(f"{timing.kernel_summary()}; {timing.default_threads()} CPUs; load average "
          f"{' '.join(f'{x:.2f}' for x in timing.load_average() or [])}")
    seeds = ", ".join(map(str, SEEDS))
    print(f"| recipe | test accuracy, seeds {seeds} | mean | first epoch ≥ {GOAL:.0%}, seeds {seeds} "
          f"| training s to {GOAL:.0%} (seed 0) | training s (seed 0) |")
    print("|---|---|---|---|---|---|")
    for name, recipe in chosen.items():
        runs = [run(recipe, seed, X, y, X_test, y_test) for seed in SEEDS]
        accuracies = [r[0] for r in runs]
        first = ", ".join("—" if r[1] is None else str(r[1]) for r in runs)
        until = "—" if runs[0][2] is None else f"{runs[0][2]:.1f}"
        print(f"| {name} | {', '.join(f'{x:.4f}' for x in accuracies)} | {np.mean(accuracies):.4f} | {first} "
              f"| {until} | {runs[0][3]:.1f} |", flush=True)
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in timing.load_average() or [])}")


if __name__ == "__main__":
    sys.exit(timing.run_unpinned(__file__) if timing.pinned() else main())

"""Why the default recipe: test accuracy of the seed network under a few recipes and seeds, and how soon
each first reaches 98 %.

    python benchmarks/recipes.py                       # every recipe below (about 20 minutes on 2 cores)
    python benchmarks/recipes.py --only default,20     # the recipes whose names contain one of these

Each row trains 784 → 100 σ → 10 σ → 10 softmax from scratch with `scratchnet.training.train` for each
seed; a `Recipe` row takes the library's defaults for what it leaves out, so since the trainer gained
the weight average (`Recipe.average`, 0.998) those rows train with it (the tables in docs/recipes.md
say which rows were measured before). A `Trial` row tries what the library could not do then (issue 21): shifting only a fraction of each
epoch's images, and evaluating an exponential moving average of the weights in place of the weights. It
trains with `train_trial`, a copy of the trainer's loop with those two additions, which gives the same
bits as `train` when both are off. After every epoch the test set is evaluated outside the timed part
(``Epoch.seconds``), only to note the first epoch at or above 98 %; nothing in training reads it. The
row gives the final test accuracy per seed and their mean, that first epoch per seed, and the training
seconds until it and of the whole run (seed 0). The tables in ``docs/recipes.md`` come from this script.
"""

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np                                                              # noqa: E402

import scratchnet as sn                                                         # noqa: E402
from scratchnet.augment import gather_shifted                                   # noqa: E402
from scratchnet.optimizers import OPTIMIZERS                                    # noqa: E402
from scratchnet.schedules import SCHEDULES                                      # noqa: E402
from scratchnet.training import Recipe, average_weights, train                  # noqa: E402

from benchmarks import timing                                                   # noqa: E402

GOAL = 0.98


@dataclass(frozen=True)
class Trial:
    """A recipe with what the trainer lacks (see `train_trial`): a shifted fraction and another warm-up of
    the average (the average itself is the trainer's since `Recipe.average`; here ``ema``)."""

    recipe: Recipe
    shift_fraction: float = 1.0
    """Fraction of each epoch's images that are shifted; the others are seen as they are."""
    ema: float = 0.0
    """Decay ``d`` of the moving average of the weights that is evaluated (0: the weights themselves)."""
    warm: int = 10
    """The average's warm-up: ``d_k = min(ema, (1 + k) / (warm + k))`` (the trainer's is 10)."""


def train_trial(net, X, y, trial, on_epoch):
    """`scratchnet.training.train`'s loop (no validation set) with ``trial``'s two additions.

    Shifts: after ``gather_shifted``, each image is put back unshifted with probability
    ``1 - shift_fraction`` (one uniform draw per image from the run's generator).

    Weight average, after optimiser step ``k = 1, 2, …``::

        d_k    = min(d, (1 + k) / (w + k))           (a short memory while the weights move fast; w = 10)
        W̄_k    = d_k W̄_{k-1} + (1 - d_k) W_k,   W̄_0 = W_0

    ``on_epoch(W̄)`` is called after every epoch with the averaged weights (the weights themselves when
    ``ema`` is 0); at the end ``net`` holds ``W̄``.
    """
    recipe = trial.recipe
    X, y = np.asarray(X), np.asarray(y).astype(np.intp)
    rng = np.random.default_rng(recipe.seed)
    optimizer = OPTIMIZERS[recipe.optimizer](net.params)
    schedule = SCHEDULES[recipe.schedule]
    N, B = len(X), recipe.batch_size
    total_steps = recipe.epochs * -(-N // B)
    X_epoch, y_epoch, workspaces = np.empty_like(X), np.empty(N, np.intp), {}
    average, scratch, step = net.params.copy(), np.empty_like(net.params), 0
    for _ in range(recipe.epochs):
        rows = rng.permutation(N)
        gather_shifted(X, rows, recipe.shift, rng, X_epoch)
        if recipe.shift and trial.shift_fraction < 1:
            plain = rng.random(N) >= trial.shift_fraction
            X_epoch[plain] = X[rows[plain]]
        np.take(y, rows, out=y_epoch)
        for i in range(0, N, B):
            n = min(B, N - i)
            t = net.trace(X_epoch[i:i + n], y_epoch[i:i + n], into=workspaces.get(n))
            workspaces[n] = t
            optimizer.step(net.params, t.gradient, schedule(recipe.lr, step, total_steps))
            step += 1
            average_weights(average, net.params, min(trial.ema, (1 + step) / (trial.warm + step)), scratch)
        on_epoch(average if trial.ema else net.params)
    if trial.ema:
        net.params[:] = average


RECIPES = {
    "default: Adam 3e-3 cosine, batch 128, ±1 px, 30 epochs": Recipe(),
    "no shifts": Recipe(shift=0),
    "±2 px shifts": Recipe(shift=2),
    "±2 px shifts, batch 64, lr 2e-3": Recipe(shift=2, batch_size=64, lr=2e-3),
    "constant learning rate": Recipe(schedule="constant", lr=1e-3),
    "20 epochs": Recipe(epochs=20),
    "15 epochs": Recipe(epochs=15),
    "lr 5e-3": Recipe(lr=5e-3),
    "lr 4e-3": Recipe(lr=4e-3),
    "average warm-up 3": Trial(Recipe(average=0), ema=0.998, warm=3),
    "average warm-up 30": Trial(Recipe(average=0), ema=0.998, warm=30),
    "average 0.995": Recipe(average=0.995),
    "average 0.999": Recipe(average=0.999),
    "average 0.9995": Recipe(average=0.9995),
    "lr 5e-3, 20 epochs": Recipe(lr=5e-3, epochs=20),
    "batch 256, lr 5e-3": Recipe(batch_size=256, lr=5e-3),
    "7 epochs, lr 1e-2": Recipe(epochs=7, lr=1e-2),
    "10 epochs, lr 1e-2": Recipe(epochs=10, lr=1e-2),
    "7 epochs, batch 64, lr 6e-3": Recipe(epochs=7, batch_size=64, lr=6e-3),
    "batch 64, lr 3e-3": Recipe(batch_size=64),
    "weight average 0.998": Trial(Recipe(), ema=0.998),
    "75 % shifted, weight average 0.998": Trial(Recipe(), shift_fraction=0.75, ema=0.998),
    "batch 64, weight average 0.998": Trial(Recipe(batch_size=64), ema=0.998),
    "batch 64, 75 % shifted, weight average 0.998": Trial(Recipe(batch_size=64), shift_fraction=0.75, ema=0.998),
    "batch 64, lr 4e-3, 75 % shifted, weight average 0.998":
        Trial(Recipe(batch_size=64, lr=4e-3), shift_fraction=0.75, ema=0.998),
}
SEEDS = (0, 1, 2)


def run(recipe, seed, X, y, X_test, y_test):
    """Train the seed network with ``recipe`` (a `Recipe` or a `Trial`) and ``seed``; returns ``(final test
    accuracy, first epoch at or above GOAL or None, training seconds until it or None, training seconds
    of the run)``. A `Trial`'s seconds include its weight average and are not the trainer's."""
    net = sn.seed_network(seed=seed)
    seconds, reached = [0.0], []
    if isinstance(recipe, Trial):
        trial = Trial(Recipe(**{**recipe.recipe.to_dict(), "seed": seed}), recipe.shift_fraction, recipe.ema,
                      recipe.warm)
        judge, clock, epoch = sn.seed_network(seed=seed), [time.perf_counter()], [0]

        def on_weights(weights):
            seconds[0] += time.perf_counter() - clock[0]
            epoch[0] += 1
            judge.params[:] = weights
            if not reached and judge.evaluate(X_test, y_test)[1] >= GOAL:
                reached.append((epoch[0], seconds[0]))
            clock[0] = time.perf_counter()

        train_trial(net, X, y, trial, on_weights)
    else:
        def on_epoch(row):
            seconds[0] += row.seconds
            if not reached and net.evaluate(X_test, y_test)[1] >= GOAL:
                reached.append((row.epoch, seconds[0]))

        train(net, X, y, Recipe(**{**recipe.to_dict(), "seed": seed}), on_epoch=on_epoch)
    epoch, until = reached[0] if reached else (None, None)
    return net.evaluate(X_test, y_test)[1], epoch, until, seconds[0]


def main(argv=None):
    p = argparse.ArgumentParser(prog="recipes", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="", help="comma-separated parts of recipe names to run, or whole names "
                   "(that recipe alone) [all]")
    a = p.parse_args(argv)
    parts = [s.strip() for s in a.only.split(",") if s.strip()]
    exact = {s for s in parts if s in RECIPES}                  # a whole name picks that recipe alone
    chosen = {name: r for name, r in RECIPES.items()
              if not parts or name in exact or any(s in name for s in parts if s not in exact)}
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

"""Why the default recipe: test accuracy of the seed network under a few recipes and seeds.

    python benchmarks/recipes.py            # about 3 minutes on 2 cores

Each row trains 784 → 100 σ → 10 σ → 10 softmax from scratch with `scratchnet.training.train` (the
test set is only used for the final number) and prints the test accuracy for each seed. The table in
``docs/recipes.md`` comes from this script.
"""

import time

import numpy as np

import scratchnet as sn
from scratchnet.training import Recipe, train

RECIPES = {
    "default: Adam 3e-3 cosine, batch 128, ±1 px, 30 epochs": Recipe(),
    "no shifts": Recipe(shift=0),
    "±2 px shifts": Recipe(shift=2),
    "±2 px shifts, batch 64, lr 2e-3": Recipe(shift=2, batch_size=64, lr=2e-3),
    "constant learning rate": Recipe(schedule="constant", lr=1e-3),
}
SEEDS = (0, 1, 2)


def main():
    X, y = sn.load_mnist("train")
    X_test, y_test = sn.load_mnist("test")
    print(f"| recipe | test accuracy, seeds {', '.join(map(str, SEEDS))} | mean | training s (seed 0) |")
    print("|---|---|---|---|")
    for name, recipe in RECIPES.items():
        accuracies, seconds = [], None
        for seed in SEEDS:
            recipe.seed = seed
            net = sn.Network([784, 100, 10, 10], ["sigmoid", "sigmoid", "softmax"], seed=seed)
            start = time.perf_counter()
            train(net, X, y, recipe)
            seconds = seconds or time.perf_counter() - start
            accuracies.append(net.evaluate(X_test, y_test)[1])
        print(f"| {name} | {', '.join(f'{a:.4f}' for a in accuracies)} | {np.mean(accuracies):.4f} "
              f"| {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()

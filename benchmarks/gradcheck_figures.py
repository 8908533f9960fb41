"""The figures quoted in ``docs/gradcheck.md``, measured. Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/gradcheck_figures.py [--skip-full]

1. Rounding noise: the largest ``|a - n|`` of correct networks, in units of ``ε_mach · S / eps`` (the
   unit in which ``atol = 10`` of them is set).
2. Why a purely relative test fails: the relative error ``|a - n| / max(|a|, |n|)`` of every entry of
   the seed network's ``W2``, and its smallest gradient.
3. The share of entries large enough for a 0.1 % error in them to exceed ``atol``.
4. PyTorch agreement on MNIST-sized networks, with the relative-error floor at 1e-4 (what
   ``reference_torch`` uses) and at 1e-6 of the layer's largest entry.
5. The time of ``gradient_check(full=True)`` on the seed network (all 79,510 entries).

The network and the batch are those of ``scratchnet gradcheck`` (``--seed 0``, batch of 16) unless
said otherwise.
"""

import argparse
import os
import platform
import time

import numpy as np

import scratchnet as sn
from scratchnet.finite_differences import numerical_gradient

SEED = (list(sn.SEED_SIZES), list(sn.SEED_ACTIVATIONS))


def cli_problem(sizes=SEED[0], activations=SEED[1], seed=0, B=16):
    """The network (float32, as the command line builds it) and batch of ``scratchnet gradcheck``."""
    rng = np.random.default_rng(seed)
    net = sn.Network(sizes, activations, rng=rng)
    return net, rng.random((B, sizes[0])), rng.integers(0, sizes[-1], size=B), rng


def central_differences(net, l, X, y, eps=1e-6):
    """Analytic and numeric ``∂L/∂W_l`` for every entry of ``W_l`` of a float64 network."""
    _, grads = net.loss_and_grads(X, y)
    W = net.weights[l - 1]
    n = numerical_gradient(lambda: net.loss_and_grads(X, y)[0], W, np.arange(W.size), eps)
    return grads[l - 1].copy(), n.reshape(W.shape)


def rounding_noise():
    print("1. largest |a-n| in units of eps_mach * S / eps (atol is 10 of them)")
    for sizes, acts in [SEED, ([20, 30, 30, 5], ["tanh", "relu", "softmax"]),
                        ([30, 30, 30, 30, 30, 30], ["sigmoid", "tanh", "sigmoid", "tanh", "softmax"])]:
        net, X, y, rng = cli_problem(sizes, acts)
        report = sn.gradient_check(net, X, y, rng=rng)
        units = [f"{layer.max_abs_error / (report.atol / 10):.2f}" for layer in report.layers]
        print(f"   {report.network}: {', '.join(units)}  passed={report.passed}")


def pure_relative():
    net, X, y, _ = cli_problem()
    a, n = central_differences(net.astype("float64"), 2, X, y)
    rel = np.abs(a - n) / np.maximum(np.abs(a), np.abs(n))
    k = np.unravel_index(np.argmax(rel), rel.shape)
    print(f"2. W2 of the seed network, purely relative error: max {rel.max():.1e} at |a| = "
          f"{abs(a[k]):.1e} (|a-n| = {abs(a - n)[k]:.1e}); smallest |a| {np.abs(a).min():.1e}; "
          f"largest |a-n| {np.abs(a - n).max():.1e}")


def resolvable():
    net, X, y, rng = cli_problem()
    report = sn.gradient_check(net, X, y, rng=rng)
    _, grads = net.astype("float64").loss_and_grads(X, y)
    shares = [f"W{l} {np.mean(np.abs(g) > 1000 * report.atol):.2%}" for l, g in enumerate(grads, 1)]
    print(f"3. entries with |g| > 1000 * atol = {1000 * report.atol:.1e} (a 0.1 % error exceeds atol): "
          f"{', '.join(shares)}")


def torch_floor(seeds=range(40)):
    from scratchnet.reference_torch import torch_loss_and_grads
    worst = {1e-4: 0.0, 1e-6: 0.0}
    for seed in seeds:
        for sizes, acts in [([784, 64, 32, 10], ["relu", "tanh", "softmax"]), SEED,
                            ([784, 128, 64, 10], ["relu", "relu", "softmax"])]:
            net, X, y, _ = cli_problem(sizes, acts, seed)
            net = net.astype("float64")
            _, grads = net.loss_and_grads(X, y)
            _, torch_grads = torch_loss_and_grads(net.sizes, net.activations, net.weights, X, y)
            for a, t in zip(grads, torch_grads):
                for floor in worst:
                    rel = np.abs(a - t) / np.maximum(np.maximum(np.abs(a), np.abs(t)), floor * np.abs(t).max())
                    worst[floor] = max(worst[floor], rel.max())
    print(f"4. scratchnet vs PyTorch, {3 * len(seeds)} MNIST-sized networks, largest relative error with "
          f"the floor at 1e-4 of the layer's largest entry: {worst[1e-4]:.1e}; at 1e-6: {worst[1e-6]:.1e}")


def full_time():
    net, X, y, rng = cli_problem()
    start = time.perf_counter()
    report = sn.gradient_check(net, X, y, full=True, rng=rng)
    seconds = time.perf_counter() - start
    print(f"5. full check of the seed network: {sum(r.checked for r in report.layers):,} entries in "
          f"{seconds:.1f} s; max |a-n| {max(r.max_abs_error for r in report.layers):.1e}, atol "
          f"{report.atol:.1e}, passed={report.passed}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-full", action="store_true", help="skip the full check (step 5)")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"numpy {np.__version__}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    rounding_noise()
    pure_relative()
    resolvable()
    try:
        torch_floor()
    except sn.ScratchnetError as e:
        print(f"4. skipped: {e}")
    if not args.skip_full:
        full_time()

"""Where one training epoch's time goes: batch conversion, forward + backward, optimiser step.

Runs one epoch of the seed network (Adam, batch 128, float32, no shifts) twice, timing each part of
each step with ``time.perf_counter``, after a warm-up epoch of `scratchnet.training.train`. It also
times the epoch's matrix products alone at their real shapes. Usage::

    python benchmarks/step_breakdown.py

Used for the before/after table in ``docs/performance.md``; to reproduce a "before" row, check out
the commit named there and run the same script (it only uses the public ``Network`` and optimiser API,
``loss_and_grads(X_uint8_batch, y, out=grads)``, which every version has had).
"""

import time

import numpy as np

import scratchnet as sn
from scratchnet.network import flat_views
from scratchnet.optimizers import Adam
from scratchnet.training import Recipe, train


def main():
    X, y = sn.load_mnist("train")
    y = y.astype(np.intp)
    net = sn.Network([784, 100, 10, 10], ["sigmoid", "sigmoid", "softmax"], seed=0)
    warm = train(net, X, y, Recipe(epochs=2, shift=0, schedule="constant"))
    print(f"train() epochs: {', '.join(f'{h.seconds:.3f}' for h in warm.history)} s")
    grads_flat = np.empty_like(net.params)
    grads = flat_views(grads_flat, net.shapes)
    adam = Adam(net.params)
    for _ in range(2):
        t_grad = t_adam = 0.0
        start = time.perf_counter()
        for i in range(0, len(X), 128):
            a = time.perf_counter()
            net.loss_and_grads(X[i:i + 128], y[i:i + 128], out=grads)   # uint8 in: scaled inside
            b = time.perf_counter()
            adam.step(net.params, grads_flat, 1e-3)
            c = time.perf_counter()
            t_grad += b - a
            t_adam += c - b
        total = time.perf_counter() - start
        print(f"epoch {total:.3f} s = conversion + forward + backward {t_grad:.3f} s "
              f"+ Adam {t_adam:.3f} s + loop {total - t_grad - t_adam:.3f} s")
    x = np.ones((128, 785), np.float32)
    x[:, 1:] = X[:128] / 255
    W1, delta = net.weights[0], np.ones((128, 100), np.float32)
    products = [lambda: x @ W1, lambda: x.T @ delta]
    for f in products:
        f()
    start = time.perf_counter()
    for _ in range(469):
        for f in products:
            f()
    print(f"the two 785×100 products alone, 469 times: {time.perf_counter() - start:.3f} s")
    start = time.perf_counter()
    for i in range(0, len(X), 128):
        np.multiply(X[i:i + 128], np.float32(1 / 255), out=x[:len(X[i:i + 128]), 1:])
    print(f"uint8 → float32 conversion of every batch alone: {time.perf_counter() - start:.3f} s")
    rows, shuffled = np.random.default_rng(0).permutation(len(X)), np.empty_like(X)
    np.take(X, rows, axis=0, out=shuffled)           # the trainer reuses its buffer: warm it first
    start = time.perf_counter()
    np.take(X, rows, axis=0, out=shuffled)
    print(f"the epoch's shuffle (one gather of the uint8 images) alone: {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()

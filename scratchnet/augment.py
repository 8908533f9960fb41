"""Data augmentation: random shifts of a few pixels, done for a whole epoch at once.

Each image is moved by ``(dy, dx)`` drawn uniformly from ``{-s, …, s}²``, the uncovered border filled
with 0 (background). Images with the same shift are moved together with one slice assignment, so an
epoch costs ``(2s+1)²`` NumPy calls, not one per image.
"""

import numpy as np


def gather_shifted(X, rows, max_shift, rng, out):
    """``out[i] = shift(X[rows[i]])`` with a random shift of at most ``max_shift`` pixels per axis.

    Parameters
    ----------
    X : ndarray uint8 (N, side²), square images flattened row by row
    rows : ndarray int (M,), which images to take, in order (e.g. a permutation)
    max_shift : int ``s ≥ 0``; 0 just gathers
    rng : numpy.random.Generator
    out : ndarray uint8 (M, side²)

    Returns
    -------
    out
    """
    if max_shift == 0:
        return np.take(X, rows, axis=0, out=out)
    side = int(round(np.sqrt(X.shape[1])))
    images, moved = X.reshape(len(X), side, side), out.reshape(len(out), side, side)
    s, k = max_shift, 2 * max_shift + 1
    shift = rng.integers(0, k * k, size=len(rows))            # one code per image: (dy+s)·k + (dx+s)
    order = np.argsort(shift, kind="stable")
    bounds = np.searchsorted(shift[order], np.arange(k * k + 1))
    moved.fill(0)
    for code in range(k * k):
        i = order[bounds[code]:bounds[code + 1]]
        dy, dx = code // k - s, code % k - s
        dst_y, src_y = slice(max(dy, 0), side + min(dy, 0)), slice(max(-dy, 0), side + min(-dy, 0))
        dst_x, src_x = slice(max(dx, 0), side + min(dx, 0)), slice(max(-dx, 0), side + min(-dx, 0))
        moved[i, dst_y, dst_x] = images[rows[i], src_y, src_x]
    return out

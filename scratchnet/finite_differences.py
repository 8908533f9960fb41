"""Central finite differences: the one home of ``(f(a + ε) − f(a − ε)) / 2ε`` in scratchnet.

`gradient_check` proves a network's backward pass with it, the derivation verifies each of its
equations with it, and the tests use it. A callable ``f`` reads an array ``A`` that is perturbed in
place, one entry at a time, and always restored::

    ∂f/∂A[i, j] ≈ (f(A + ε e_ij) − f(A − ε e_ij)) / (fl(a + ε) − fl(a − ε))

The denominator is the step actually taken after rounding ``a ± ε``, not ``2ε``. Truncation error is
``ε²/6 · f'''``; rounding error is about ``ε_mach · |f| / ε`` (see `gradcheck` for the tolerances that
follow from both).

Which entries to try: every entry of a small matrix, else all of row 0 (the bias row in the seed's
notation, ``W_l[0]``) and a sample of the others drawn from a ``numpy.random.Generator``.
"""

import numpy as np

from .errors import ScratchnetError

EPS = 1e-6
"""The default step ``ε`` in float64."""


def central_difference(f, A, index, eps=EPS):
    """The central difference of ``f`` with respect to the entry ``A[index]``.

    Parameters
    ----------
    f : callable with no arguments, reading ``A``; returns the value ``f`` (a float), or a tuple whose
        first item is that value (the rest is handed back, e.g. the on/off pattern of ReLU units)
    A : ndarray of float64, any shape, perturbed in place and restored (a view into weights works)
    index : tuple, the entry
    eps : float, the step

    Returns
    -------
    derivative : float
    plus, minus : what ``f`` returned at ``A[index] + ε`` and at ``A[index] − ε``
    """
    a = A[index]
    try:
        A[index] = a + eps
        up = A[index]
        plus = f()
        A[index] = a - eps
        down = A[index]
        minus = f()
    finally:
        A[index] = a
    value = (_first(plus) - _first(minus)) / (up - down)
    return float(value), plus, minus


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def numerical_gradient(f, A, entries, eps=EPS):
    """Central differences of the scalar ``f`` at several entries of ``A``.

    Parameters
    ----------
    f : callable, () → float, reading ``A``
    A : ndarray, perturbed in place and restored
    entries : sequence of index tuples (or an int array of flat, row-major indices)
    eps : float

    Returns
    -------
    ndarray (len(entries),)
    """
    entries = _as_index_tuples(entries, A.shape)
    return np.array([central_difference(f, A, idx, eps)[0] for idx in entries], dtype=np.float64)


def numerical_jacobian(f, A, eps=EPS):
    """The Jacobian ``J[i, j] = ∂f_i/∂A_j`` of a vector-valued ``f`` by central differences.

    Parameters
    ----------
    f : callable, () → ndarray (any shape, flattened to ``m`` outputs), reading ``A``
    A : ndarray (any shape, flattened to ``n`` inputs in row-major order), perturbed and restored

    Returns
    -------
    ndarray (m, n)
    """
    columns = []
    for idx in np.ndindex(A.shape):
        a = A[idx]
        try:
            A[idx] = a + eps
            up, plus = A[idx], np.array(f(), dtype=np.float64).ravel()
            A[idx] = a - eps
            down, minus = A[idx], np.array(f(), dtype=np.float64).ravel()
        finally:
            A[idx] = a
        columns.append((plus - minus) / (up - down))
    return np.stack(columns, axis=1)


def sample_entries(shape, limit, sample, rng=None, bias_row=True):
    """Row-major flat indices of the entries of a matrix ``(rows, cols)`` to check.

    Every entry when there are at most ``limit``; otherwise all of row 0 (the bias row of a weight
    matrix; left out with ``bias_row=False``) and ``sample`` other entries drawn without replacement by
    ``rng`` (a ``numpy.random.Generator``), sorted.

    Returns
    -------
    ndarray of int
    """
    rows, cols = shape
    size = rows * cols
    if size <= limit:
        return np.arange(size)
    if rng is None:
        raise ScratchnetError("sampling the entries of a large matrix needs a numpy Generator")
    if not bias_row:
        return np.sort(rng.choice(size, size=min(sample, size), replace=False))
    others = cols + rng.choice(size - cols, size=min(sample, size - cols), replace=False)
    return np.concatenate([np.arange(cols), np.sort(others)])


def _as_index_tuples(entries, shape):
    if isinstance(entries, np.ndarray) and entries.ndim == 1 and entries.dtype.kind in "iu":
        return [tuple(int(i) for i in np.unravel_index(k, shape)) for k in entries]
    return [tuple(idx) for idx in entries]

"""Where a network's weights live: the shapes of ``W_1 … W_L`` and their views of one flat array.

All weights (and, in a `scratchnet.trace.Trace`, all gradients) live in one flat array, and ``W_l`` is a
C-ordered view of a slice of it, so an optimiser updates every layer with a handful of vector operations.
"""


def layer_shapes(sizes):
    """Shapes ``(n_{l-1} + 1, n_l)`` of ``W_1 … W_L`` for layer sizes ``[n_0, …, n_L]``."""
    return [(n_in + 1, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def flat_views(flat, shapes):
    """Split a flat array into consecutive C-ordered views of the given shapes."""
    views, start = [], 0
    for rows, cols in shapes:
        views.append(flat[start:start + rows * cols].reshape(rows, cols))
        start += rows * cols
    return views

"""scratchnet.finite_differences: the one home of central differences."""

import numpy as np
import pytest

from scratchnet.errors import ScratchnetError
from scratchnet.finite_differences import (central_difference, numerical_gradient, numerical_jacobian,
                                           sample_entries)


def test_central_difference_of_a_cubic_is_exact_to_truncation_and_restores_the_array():
    A = np.array([[0.3, -1.2], [2.0, 0.5]])
    before = A.copy()
    d, plus, minus = central_difference(lambda: float(np.sum(A ** 3)), A, (1, 0), eps=1e-5)
    assert d == pytest.approx(3 * 2.0 ** 2, abs=1e-8)           # truncation ε²/6 · 6 = 1e-10
    assert plus > minus and np.array_equal(A, before)


def test_a_tuple_hands_back_the_rest_and_the_array_is_restored_when_f_raises():
    A = np.zeros((1, 3))
    d, plus, minus = central_difference(lambda: (A.sum(), A.copy()), A, (0, 2))
    assert d == pytest.approx(1.0) and plus[1][0, 2] > 0 > minus[1][0, 2]

    def boom():
        raise RuntimeError
    with pytest.raises(RuntimeError):
        central_difference(boom, A, (0, 1))
    assert not A.any()


def test_gradient_and_jacobian_of_a_linear_map():
    rng = np.random.default_rng(0)
    M, x = rng.normal(size=(4, 3)), rng.normal(size=(1, 3))
    J = numerical_jacobian(lambda: (x @ M.T).ravel(), x)
    np.testing.assert_allclose(J, M, atol=1e-8)                  # J[i, j] = ∂(Mx)_i/∂x_j = M[i, j]
    g = numerical_gradient(lambda: float(np.sum(x @ M.T)), x, np.arange(3))
    np.testing.assert_allclose(g, M.sum(axis=0), atol=1e-8)
    assert numerical_gradient(lambda: float(np.sum(x @ M.T)), x, [(0, 1)])[0] == pytest.approx(M[:, 1].sum())


def test_sample_entries_takes_all_of_a_small_matrix_else_the_bias_row_and_a_sample():
    assert np.array_equal(sample_entries((3, 4), 12, 5), np.arange(12))
    idx = sample_entries((50, 20), 100, 30, np.random.default_rng(1))
    assert len(idx) == 50 and set(range(20)) <= set(idx) and len(set(idx)) == 50
    assert np.all(np.diff(idx[20:]) > 0) and idx.max() < 1000
    plain = sample_entries((50, 20), 100, 30, np.random.default_rng(1), bias_row=False)
    assert len(plain) == 30 and len(set(plain)) == 30
    with pytest.raises(ScratchnetError, match="Generator"):
        sample_entries((50, 20), 100, 30)

"""The one table of activations: each function, its derivative written from the output, and the names
and spellings the rest of scratchnet reads from it."""

import warnings

import numpy as np
import pytest

from scratchnet.activations import ACTIVATIONS, HIDDEN, OUTPUTS, derivative_at
from scratchnet.finite_differences import numerical_jacobian


def test_the_table_is_consistent():
    assert HIDDEN == ("sigmoid", "tanh", "relu") and OUTPUTS == ("softmax",)
    for name, a in ACTIVATIONS.items():
        assert a.name == name and a.spelling in a.spellings and a.latex.startswith("\\")
        assert (a.derivative is None) == (name in OUTPUTS)
    spellings = [s for a in ACTIVATIONS.values() for s in a.spellings]
    assert len(spellings) == len(set(spellings))                     # a spelling names one function
    assert ACTIVATIONS["sigmoid"].symbol == "σ" and ACTIVATIONS["sigmoid"].derivative_spelling == "sigma'"


@pytest.mark.parametrize("name", HIDDEN)
def test_derivative_from_the_output_is_the_diagonal_of_the_jacobian(name):
    """``f'(z)`` written from ``H = f(z)`` equals the numerical Jacobian of ``f``, which is diagonal."""
    z = np.array([[-2.0, -0.3, 0.4, 1.7]])
    f = ACTIVATIONS[name].function
    J = numerical_jacobian(lambda: f(z.copy()), z)
    assert np.allclose(J, np.diag(np.diag(J)), atol=1e-9)              # elementwise: a diagonal Jacobian
    assert np.allclose(derivative_at(name, z)[0], np.diag(J), rtol=1e-6, atol=1e-9)


def test_a_wrong_derivative_would_be_caught():
    """The test above can fail: H (1 - H) is not tanh's derivative."""
    z = np.array([[-2.0, -0.3, 0.4, 1.7]])
    J = numerical_jacobian(lambda: ACTIVATIONS["tanh"].function(z.copy()), z)
    sigmoid_rule = ACTIVATIONS["sigmoid"].derivative(ACTIVATIONS["tanh"].function(z.copy()), np.ones_like(z))
    assert not np.allclose(sigmoid_rule[0], np.diag(J), rtol=1e-3)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "softmax"])
def test_activations_are_stable_on_huge_inputs(name):
    z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            H = ACTIVATIONS[name].function(z.copy())
    assert np.all(np.isfinite(H))


def test_sigmoid_keeps_relative_precision_of_tiny_outputs():
    z = np.array([[-30.0, -700.0, 30.0]])
    H = ACTIVATIONS["sigmoid"].function(z)
    np.testing.assert_allclose(H[0, :2], np.exp([-30.0, -700.0]) / (1 + np.exp([-30.0, -700.0])), rtol=1e-14)
    np.testing.assert_allclose(derivative_at("sigmoid", np.array([[0.0]])), [[0.25]])

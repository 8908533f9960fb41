"""Shared fixtures."""

import numpy as np
import pytest

import scratchnet as sn


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def seed_net64():
    """The seed network 784 → 100 σ → 10 σ → 10 softmax in float64."""
    return sn.Network([784, 100, 10, 10], ["sigmoid", "sigmoid", "softmax"], seed=0, dtype="float64")

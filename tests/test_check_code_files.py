"""``check-code --export DIR`` / ``--grads DIR``: gradients computed outside Python, through .csv and .npy
files, checked as a function's are; nothing overwritten."""

import json
import os

import numpy as np

from conftest import assert_one_line_error


def _csv(path):
    return np.loadtxt(path, delimiter=",", ndmin=2)


def _foreign_backprop(d, ext="csv", forget_sigma_prime_at=None):
    """Gradients as code in another language would compute them: from the exported CSV files alone
    (separate biases, column convention), written back as dW1.csv, db1.csv … (or .npy)."""
    W = [_csv(os.path.join(d, f"W{l}.csv")) for l in (1, 2, 3)]
    b = [_csv(os.path.join(d, f"b{l}.csv")) for l in (1, 2, 3)]
    X, Y = _csv(os.path.join(d, "X.csv")), _csv(os.path.join(d, "Y.csv"))
    H = [X]
    for l in range(3):
        z = W[l] @ H[-1] + b[l]
        H.append(np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0) if l == 2 else 1 / (1 + np.exp(-z)))
    delta = (H[3] - Y) / X.shape[1]
    for l in (3, 2, 1):
        save = (lambda n, a: np.savetxt(os.path.join(d, f"{n}.csv"), a, delimiter=",")) if ext == "csv" else \
            (lambda n, a: np.save(os.path.join(d, f"{n}.npy"), a))
        save(f"dW{l}", delta @ H[l - 1].T)
        save(f"db{l}", delta.sum(axis=1))
        if l > 1:
            back = W[l - 1].T @ delta
            delta = back if l - 1 == forget_sigma_prime_at else back * H[l - 1] * (1 - H[l - 1])


def test_exported_point_and_saved_gradients_round_trip(invoke, tmp_path):
    d = str(tmp_path / "point")
    result = invoke("check-code", "--export", d, "--bias", "separate", "--convention", "column", "--json")
    assert result.returncode == 0
    written = json.loads(result.stdout)["written"]
    assert os.path.join(d, "README.txt") in written and os.path.join(d, "W1.csv") in written
    assert "W1.csv / W1.npy  100×784" in open(os.path.join(d, "README.txt"), encoding="utf-8").read()
    assert np.array_equal(np.load(os.path.join(d, "X.npy")), _csv(os.path.join(d, "X.csv")))
    _foreign_backprop(d)
    result = invoke("check-code", "--grads", d, "--json")
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["verdict"] == "correct"


def test_a_mistake_in_saved_gradients_is_named(invoke, tmp_path):
    d = str(tmp_path / "point")
    assert invoke("check-code", "--export", d, "--bias", "separate", "--convention", "column").returncode == 0
    _foreign_backprop(d, ext="npy", forget_sigma_prime_at=2)
    result = invoke("check-code", "--grads", d, "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["diagnoses"] == ["activation_derivative"] and data["first_wrong_layer"] == 2
    assert data["inherited"] == {"1": 2}


def test_nothing_is_overwritten_and_missing_files_are_named(invoke, tmp_path):
    d = str(tmp_path / "point")
    assert invoke("check-code", "--export", d).returncode == 0
    before = open(os.path.join(d, "W1.csv")).read()
    assert_one_line_error(invoke("check-code", "--export", d, "--seed", "5"), 2, "already holds W1.npy")
    assert open(os.path.join(d, "W1.csv")).read() == before
    assert_one_line_error(invoke("check-code", "--grads", d), 2, "has no dW1.csv or dW1.npy")
    assert_one_line_error(invoke("check-code", "--grads", str(tmp_path)), 2, "has no checkcode.json")
    assert_one_line_error(invoke("check-code"), 2, "give one of FILE.py[:FUNCTION], --export DIR or --grads DIR")

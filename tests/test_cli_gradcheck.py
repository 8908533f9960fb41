"""``scratchnet gradcheck``: the table, the verdict, the exit status and one-line errors."""

import json
import sys

import pytest

import scratchnet as sn
from scratchnet.cli import main
from scratchnet.reference_torch import TORCH_MISSING

from conftest import assert_one_line_error

SMALL = ["--layers", "12,9,7,5", "--batch", "4"]


@pytest.fixture
def run(invoke):
    """``run(*args)`` runs ``scratchnet gradcheck ARGS``; returns (exit status, stdout, stderr)."""
    def gradcheck(*args):
        result = invoke("gradcheck", *args)
        return result.returncode, result.stdout, result.stderr
    return gradcheck


def test_seed_network_passes_by_default(run):
    code, out, _ = run()
    assert code == 0, out
    assert "W1 785×100" in out and "1,100/78,500" in out and "W3 11×10" in out
    assert "784 → 100 σ → 10 σ → 10 softmax" in out
    assert out.strip().splitlines()[-1].startswith("PASS")


def test_json_reports_every_layer(run):
    code, out, _ = run(*SMALL, "--activations", "tanh,relu,softmax", "--json")
    data = json.loads(out)
    assert code == 0 and data["passed"] is True and data["torch"] is None
    layers = data["gradcheck"]["layers"]
    assert [layer["checked"] + layer["kinks"] for layer in layers] == [13 * 9, 10 * 7, 8 * 5]
    assert all(layer["max_rel_error"] <= data["gradcheck"]["rtol"] for layer in layers)


def test_full_checks_every_entry_of_a_large_matrix(run):
    code, out, _ = run("--layers", "200,60,3", "--batch", "2", "--full", "--json")
    assert code == 0 and json.loads(out)["gradcheck"]["layers"][0]["checked"] == 201 * 60


def test_same_seed_same_report_other_seed_other_report(run):
    a = json.loads(run(*SMALL, "--json", "--seed", "3")[1])
    b = json.loads(run(*SMALL, "--json", "--seed", "3")[1])
    c = json.loads(run(*SMALL, "--json", "--seed", "4")[1])
    assert a == b and a["gradcheck"]["loss"] != c["gradcheck"]["loss"]


def test_a_wrong_gradient_exits_1(run, monkeypatch):
    correct = sn.Network.loss_and_grads

    def one_entry_off(self, X, y, out=None):
        loss, grads = correct(self, X, y, out)
        grads[1][2, 3] *= 1.001
        return loss, grads

    monkeypatch.setattr(sn.Network, "loss_and_grads", one_entry_off)
    code, out, _ = run(*SMALL)
    assert code == 1
    assert "FAIL 1" in out and "[2, 3]" in out
    assert out.strip().splitlines()[-1] == "FAIL: the gradient of W2 disagrees with finite differences"


def test_against_torch_agrees_to_1e_10(run):
    pytest.importorskip("torch")
    code, out, _ = run("--against", "torch", "--json")
    data = json.loads(out)
    assert code == 0 and data["passed"] is True
    assert data["torch"]["max_rel_error"] <= 1e-10
    code, out, _ = run(*SMALL, "--against", "torch")
    assert code == 0 and "PASS: PyTorch autograd (float64) agrees" in out


def test_against_torch_without_torch_says_how_to_install_it(invoke, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)        # makes `import torch` fail
    result = invoke("gradcheck", *SMALL, "--against", "torch")
    assert_one_line_error(result, 2, TORCH_MISSING)
    assert "pip install torch==2.13.0" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("args, expected_code, fragment", [
    (["--layers", "784,abc,10"], 2, "--layers"),
    (["--layers", "784"], 2, "--layers"),
    (["--activations", "sigmoid,swish,softmax"], 2, "swish"),
    (["--batch", "0"], 2, "--batch"),
    (["--eps", "0"], 2, "--eps"),
    (["--against", "jax"], 2, "jax"),
    (["--layers", "12,9,5", "--activations", "sigmoid,sigmoid,softmax"], 1, "2 activations"),
    (["--layers", "12,9,5", "--activations", "sigmoid,relu"], 1, "softmax"),
    (["--layers", "784,20000000,10"], 1, "GB of memory"),              # ~500 GB with its copies
    (["--layers", "784,100,10", "--batch", "100000000"], 1, "smaller batch"),
    (["--layers", "784,1000000000000000,10"], 1, "far too large"),
])
def test_bad_options_give_one_line(invoke, args, expected_code, fragment):
    assert_one_line_error(invoke("gradcheck", *args), expected_code, fragment)

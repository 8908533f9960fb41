"""Training on your own data (issue 19), from the command line and from Python: a folder of class folders,
a CSV and an .npz train; the model keeps the class names, and evaluate, the report and predict show them;
the layer list is checked against the data first, and its activations are picked as derive does."""

import json

import numpy as np
import pytest

import scratchnet as sn
from conftest import assert_one_line_error
from owndata import mnist, write_csv, write_folder
from scratchnet.experiment import Run, Setup
from scratchnet.training import Recipe

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SCRATCHNET_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def pets(tmp_path_factory):
    """Three classes of real MNIST digits as pictures named after animals: 'cat' is 0, 'dog' 1, 'emu' 7."""
    root = tmp_path_factory.mktemp("pets")
    X, y = mnist(3000)
    keep = np.isin(y, [0, 1, 7])
    X, y = X[keep][:600], np.searchsorted([0, 1, 7], y[keep][:600])
    write_folder(root / "train", X, y, names=["cat", "dog", "emu"], formats=("png", "jpeg"))
    Xt, yt = mnist(400, "test")
    keep = np.isin(yt, [0, 1, 7])
    write_folder(root / "test", Xt[keep], np.searchsorted([0, 1, 7], yt[keep]), names=["cat", "dog", "emu"],
                 formats=("png",))
    return root


def test_folder_trains_and_keeps_its_class_names_through_evaluate_report_and_predict(invoke, pets, tmp_path):
    model = tmp_path / "pets.npz"
    result = invoke("train", "--data", pets / "train", "--test-data", pets / "test", "--layers", "784,32,3",
                    "--epochs", "3", "--out", model, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["class_names"] == ["cat", "dog", "emu"]
    assert summary["test_accuracy"] > 0.9                       # 0, 1 and 7 are easy to tell apart
    net = sn.load(model)
    assert sn.data.model_class_names(net) == ("cat", "dog", "emu")
    assert net.sizes == (784, 32, 3) and net.activations == ("sigmoid", "softmax")

    ev = invoke("evaluate", model, "--json")                   # its own test set, read again from the cache
    assert ev.returncode == 0, ev.stderr
    ev = json.loads(ev.stdout)
    assert ev["accuracy"] == summary["test_accuracy"] and ev["n"] == summary["n_test"]
    assert ev["class_names"] == ["cat", "dog", "emu"]

    report = invoke("evaluate", model, "--report", tmp_path / "report")
    assert report.returncode == 0, report.stderr
    md = (tmp_path / "report" / "report.md").read_text()
    assert "| emu |" in md and "| **dog** |" in md and "| 7 |" not in md

    picture = next((pets / "test" / "emu").glob("*.png"))
    pred = invoke("predict", model, picture, "--json")
    assert pred.returncode == 0, pred.stderr
    row = json.loads(pred.stdout)[0]
    assert row["class"] == "emu" and row["digit"] == 2 and len(row["probabilities"]) == 3
    text = invoke("predict", model, picture)
    assert ": emu " in text.stdout and "(then " in text.stdout


def test_csv_and_npz_train_from_the_command_line(invoke, tmp_path):
    X, y = mnist(1000)
    write_csv(tmp_path / "train.csv", X, y)
    np.savez(tmp_path / "digits.npz", X=X, y=y, class_names=np.array(NAMES))
    for data in ("train.csv", "digits.npz"):
        out = tmp_path / f"{data}.model.npz"
        result = invoke("train", "--data", tmp_path / data, "--test-split", "0.25", "--layers", "784,32,10",
                        "--epochs", "2", "--out", out)
        assert result.returncode == 0, result.stderr
        assert "on 250 test pictures held out of" in result.stdout
        names = sn.data.model_class_names(sn.load(out))
        assert names == (tuple("0123456789") if data.endswith("csv") else tuple(NAMES))
    ev = invoke("evaluate", tmp_path / "train.csv.model.npz", "--data", tmp_path / "train.csv")
    assert ev.returncode == 0 and "on 1,000 test pictures from" in ev.stdout, ev.stderr
    # the CSV's classes are "0" … "9", which the model of the .npz (named zero … nine) does not have
    ev = invoke("evaluate", tmp_path / "digits.npz.model.npz", "--data", tmp_path / "train.csv")
    assert_one_line_error(ev, 1, "train.csv holds the classes '0', '1'", "digits.npz.model.npz lacks",
                          "its classes: zero, one")


def test_the_same_run_from_python(tmp_path):
    X, y = mnist(800)
    write_folder(tmp_path / "digits", X, y, names=NAMES, formats=("png",))
    data = sn.data.training_data(tmp_path / "digits", test_split=0.2)
    assert data.class_names == tuple(sorted(NAMES))
    setup = Setup(sizes=(784, 32, 10), activations=("sigmoid", "softmax"), dataset=data.name)
    summary = Run.new(setup, Recipe(epochs=2), out=tmp_path / "m.npz", data=data).execute()
    net = sn.load(tmp_path / "m.npz")
    assert net.metadata["class_names"] == list(data.class_names)
    loss, accuracy = net.evaluate(data.test.X, data.test.y)
    assert accuracy == summary["test_accuracy"] and summary["n_test"] == 160


def test_layers_784_100_10_picks_its_activations(invoke, tmp_path):
    X, y = mnist(300)
    write_csv(tmp_path / "train.csv", X, y)
    result = invoke("train", "--data", tmp_path / "train.csv", "--layers", "784,20,10", "--epochs", "1",
                    "--out", tmp_path / "m.npz")
    assert result.returncode == 0, result.stderr
    assert sn.load(tmp_path / "m.npz").activations == ("sigmoid", "softmax")


def test_a_layer_list_that_does_not_fit_the_data_is_told_so_first(invoke, tmp_path):
    X, y = mnist(300)
    keep = y < 3
    write_csv(tmp_path / "three.csv", X[keep], y[keep])
    # the wrong number of activations too, but the layers are what is said first
    result = invoke("train", "--data", tmp_path / "three.csv", "--layers", "784,20,10",
                    "--activations", "relu,relu,softmax", "--out", tmp_path / "m.npz")
    assert_one_line_error(result, 2, "--layers", "784 inputs and 3 classes", "end with 3", "784,20,3")
    result = invoke("train", "--layers", "785,100,10", "--out", tmp_path / "m.npz")
    assert_one_line_error(result, 2, "mnist has 784 inputs and 10 classes", "start with 784")
    assert not (tmp_path / "m.npz").exists()

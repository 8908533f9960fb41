"""The lab serves a model of your own classes with their names (issue 19): a network trained with
``scratchnet train --data FOLDER`` (the folder names are the class names), imported, or made in Python.

Through the JSON API (Starlette's test client): /api/model, /api/predict, /api/backprop, /api/step and
/api/mistakes name the classes as `scratchnet.data.model_class_names` does, for any number of classes;
``scratchnet lab`` takes any 784-input network of 2 or more classes. In a real browser (Chromium, as in
test_lab_browser.py): the bars, the prediction, the output grids and the True-label picker show the
names, long ones cut short with the whole name in the tooltip; the mistakes say "an owl". Last, a folder of
a few thousand pictures trains from the command line and its names reach evaluate and predict.
"""

import json
import math
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import scratchnet as sn
from conftest import assert_one_line_error, run_cli
from owndata import mnist, write_folder
from scratchnet.experiment import Run, Setup
from scratchnet.training import Recipe

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():                 # Starlette 1.x suggests httpx2; httpx is what is installed
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient  # noqa: E402

from scratchnet.lab import Lab, LabModel, create_app  # noqa: E402

BASE = "http://127.0.0.1:8000"
DIGITS = [0, 1, 7]
"""The MNIST digits that play the three classes (easy to tell apart: a few epochs learn them)."""
PETS = ["cat", "dog", "owl"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """The converted-data cache of this module's runs (the lab reads a model's test set again from it)."""
    with pytest.MonkeyPatch.context() as mp:
        folder = tmp_path_factory.mktemp("cache")
        mp.setenv("SCRATCHNET_CACHE", str(folder))
        yield folder


def three_classes(root, names, n_train=450, n_test=300):
    """``root/train/<name>/…`` and ``root/test/<name>/…``: real MNIST 0, 1 and 7 as pictures of ``names``."""
    X, y = mnist(2000)
    keep = np.isin(y, DIGITS)
    write_folder(root / "train", X[keep][:n_train], np.searchsorted(DIGITS, y[keep][:n_train]), names=names,
                 formats=("png",))
    Xt, yt = mnist(n_test, "test")
    keep = np.isin(yt, DIGITS)
    write_folder(root / "test", Xt[keep], np.searchsorted(DIGITS, yt[keep]), names=names, formats=("png",))
    return root


def trained(root, out, hidden=16, epochs=10):
    """A 784 → hidden σ → 3 softmax network trained on ``root/train`` (tested on ``root/test``), saved."""
    data = sn.data.training_data(root / "train", root / "test")
    setup = Setup(sizes=(784, hidden, 3), activations=("sigmoid", "softmax"), dataset=data.name)
    Run.new(setup, Recipe(epochs=epochs), out=out, data=data).execute()
    return sn.load(out)


@pytest.fixture(scope="module")
def pets(tmp_path_factory, cache):
    """``(net, folder)``: a three-class network trained from a folder of class folders cat, dog, owl."""
    root = three_classes(tmp_path_factory.mktemp("pets"), PETS)
    net = trained(root, root / "model.npz")                 # about 97 % right: a few mistakes to show
    assert sn.data.model_class_names(net) == tuple(PETS)
    return net, root


@pytest.fixture
def client(pets):
    with TestClient(create_app(Lab(LabModel(pets[0], source="test pets", trained=True))), base_url=BASE) as c:
        yield c


def a_pet(root, name):
    """The 784 inputs (0…1) of the first test picture of class ``name``, as the lab reads it."""
    picture = sorted((root / "test" / name).glob("*.png"))[0]
    return (sn.preprocess.to_mnist(Image.open(picture)).reshape(-1) / 255.0).tolist()


# ---------------------------------------------------------------------------------------- the API

def test_the_model_is_described_with_its_class_names(client):
    m = client.get("/api/model").json()
    assert m["class_names"] == PETS and m["served"]["class_names"] == PETS
    assert m["sizes"][-1] == 3


def test_predict_names_the_class_and_gives_k_probabilities(client, pets):
    net, root = pets
    for name in PETS:
        x = a_pet(root, name)
        r = client.post("/api/predict", json={"pixels": x}).json()
        p = net.predict_proba(np.array([x]))[0]
        assert len(r["probabilities"]) == 3 and r["class_names"] == PETS
        np.testing.assert_allclose(r["probabilities"], p, rtol=1e-5)
        assert r["digit"] == int(np.argmax(p)) and r["class"] == PETS[r["digit"]]
    assert {client.post("/api/predict", json={"pixels": a_pet(root, n)}).json()["class"] for n in PETS} == set(PETS)


def test_backprop_and_step_name_the_label_and_take_only_the_networks_classes(client, pets):
    net, root = pets
    x = a_pet(root, "owl")
    r = client.post("/api/backprop", json={"pixels": x, "label": 0}).json()
    assert r["label"] == 0 and r["label_name"] == "cat"
    p = net.predict_proba(np.array([x]))[0]
    assert math.isclose(r["loss"], -math.log(p[0]), rel_tol=1e-4)
    assert r["deltas"]["delta2"]["shape"] == [1, 3] and r["gradients"]["W2"]["shape"] == [17, 3]
    r = client.post("/api/backprop", json={"pixels": x}).json()            # the network's own answer
    assert r["label_name"] == PETS[r["label"]] == r["class"]
    s = client.post("/api/step", json={"pixels": x, "label": 2}).json()
    assert s["label_name"] == "owl" and s["class_names"] == PETS and len(s["before"]) == len(s["after"]) == 3
    for url in ("/api/backprop", "/api/step"):
        bad = client.post(url, json={"pixels": x, "label": 3})
        assert bad.status_code == 422 and "0…2" in bad.json()["error"], bad.json()


def test_mistakes_are_on_the_models_own_test_set_and_named(client, pets):
    net, root = pets
    out = client.get("/api/mistakes?n=10").json()
    test = sn.load_folder(root / "test")
    P = net.predict_proba(test.X)
    assert out["n_test"] == len(test.y) and out["n_wrong"] == int(np.sum(P.argmax(1) != test.y)) > 0
    assert out["class_names"] == PETS
    for m in out["mistakes"]:
        assert m["label"] == test.y[m["index"]] != m["digit"]
        assert m["label_name"] == PETS[m["label"]] and m["class"] == PETS[m["digit"]]


def test_a_network_made_in_python_or_an_older_model_file_gets_names_too():
    plain = sn.Network([784, 8, 4], ["sigmoid", "softmax"], seed=0)               # no metadata at all
    fashion = sn.Network([784, 8, 10], ["sigmoid", "softmax"], seed=0)
    fashion.metadata = {"dataset": "fashion-mnist"}                               # an older file: no names
    for net, names in ((plain, ["0", "1", "2", "3"]), (fashion, list(sn.data.classes.CLASS_NAMES["fashion-mnist"]))):
        with TestClient(create_app(Lab(LabModel(net, source="t", trained=False))), base_url=BASE) as c:
            assert c.get("/api/model").json()["class_names"] == names
            r = c.post("/api/predict", json={"pixels": [0.0] * 784}).json()
            assert r["class"] == names[r["digit"]]


def test_mistakes_of_a_network_with_no_known_test_set_is_one_line():
    net = sn.Network([784, 8, 4], ["sigmoid", "softmax"], seed=0)
    net.metadata = {"class_names": ["a", "b", "c", "d"]}
    with TestClient(create_app(Lab(LabModel(net, source="t"))), base_url=BASE) as c:
        r = c.get("/api/mistakes")
    assert r.status_code == 503 and "no test set is known" in r.json()["error"] and "\n" not in r.json()["error"]


def test_scratchnet_lab_takes_any_number_of_classes_but_784_inputs(tmp_path):
    sn.save(sn.Network([784, 8, 1], ["sigmoid", "softmax"], seed=0), tmp_path / "one.npz")
    sn.save(sn.Network([100, 8, 3], ["sigmoid", "softmax"], seed=0), tmp_path / "small.npz")
    for name in ("one.npz", "small.npz"):
        result = run_cli("lab", tmp_path / name, "--no-browser", "--port", "0", timeout=60)
        assert_one_line_error(result, 1, "784 inputs", "28×28", "at least 2 classes")


def test_scratchnet_lab_serves_a_three_class_model_with_its_names(pets):
    import signal

    from test_lab import model_once_up, start_lab
    p, url = start_lab("model.npz", cwd=pets[1])
    try:
        m = model_once_up(url).json()
        assert m["class_names"] == PETS and m["source"] == "loaded from model.npz" and m["sizes"][-1] == 3
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()

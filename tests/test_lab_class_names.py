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
from conftest import assert_one_line_error, needs_chromium, run_cli
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


def run_to_the_end(client, body):
    """Start a run with ``body`` and read its events until ``done``; returns that event's data."""
    r = client.post("/api/train", json=body)
    assert r.status_code == 202, r.text
    with client.stream("GET", "/api/train/events") as stream:
        kind = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "done":
                return json.loads(line[6:])


def test_a_run_trains_on_the_models_own_data_and_keeps_its_names(client, pets):
    """Train live on a model of your own classes trains on its own data, recorded in its model file (not
    on MNIST's ten digits), from its weights or from fresh ones of its architecture, and is tested on its
    own test set; the network it leaves keeps its names."""
    net, root = pets
    test = sn.load_folder(root / "test")
    recipe = {"epochs": 1, "batch_size": 32, "lr": 0.003, "shift": 0, "examples": 400}
    for fresh in (False, True):
        done = run_to_the_end(client, {**recipe, "fresh": fresh})
        assert done["status"] == "finished", done
        assert done["n_test"] == len(test.y) and 0.5 < done["test_accuracy"] <= 1
        mine = client.get("/api/model").json()
        assert mine["class_names"] == PETS and mine["sizes"] == [784, 16, 3]
        r = client.post("/api/predict", json={"pixels": a_pet(root, "dog")}).json()
        assert len(r["probabilities"]) == 3 and r["class"] in PETS


def test_a_run_of_a_network_whose_data_is_unknown_is_refused_in_one_line():
    net = sn.Network([784, 8, 4], ["sigmoid", "softmax"], seed=0)
    net.metadata = {"class_names": ["a", "b", "c", "d"]}                       # imported: no data recorded
    with TestClient(create_app(Lab(LabModel(net, source="t"))), base_url=BASE) as c:
        r = c.post("/api/train", json={"epochs": 1, "examples": 400})
        assert r.status_code == 422 and "no test set is known" in r.json()["error"]
        assert "\n" not in r.json()["error"] and c.get("/api/train").json()["status"] == "idle"


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


# ---------------------------------------------------------------------------------------- in a browser

FRUIT = {0: "apple", 1: "umbrella", 7: "seven, written with one long stroke and a short bar"}
"""Names for MNIST's 0, 1 and 7 (the folder names; the classes are numbered in their sorted order)."""
SHOTS = Path("/tmp")
"""Where the browser tests leave their screenshots, to look at."""


def browser_tools():
    """test_lab_browser's launcher and page helpers (skips without Playwright; the tests that use them
    are marked `needs_chromium`)."""
    return pytest.importorskip("test_lab_browser")


@pytest.fixture(scope="module")
def browser():
    tools = browser_tools()
    with tools.playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=tools.CHROMIUM, args=tools.ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def fruit(tmp_path_factory, cache):
    """A folder holding model.npz: three classes with names of their own, one of them long."""
    root = tmp_path_factory.mktemp("fruit")
    three_classes(root, [FRUIT[d] for d in DIGITS])
    trained(root, root / "model.npz")
    return root


def texts(page, selector, attribute=None):
    return page.eval_on_selector_all(selector, f"els => els.map(e => {'e.title' if attribute else 'e.textContent'})")


@pytest.mark.browser
@needs_chromium
def test_the_page_shows_a_three_class_models_names(browser, fruit):
    tools = browser_tools()
    names = sorted(FRUIT.values())
    with tools.lab_server(fruit) as url:
        page = tools.open_page(browser, url)
        try:
            picker = page.locator("#label option")
            assert picker.count() == 4 and picker.first.inner_text() == "–"
            shown = [picker.nth(k + 1).inner_text() for k in range(3)]
            assert shown[0] == "apple" and shown[2] == "umbrella"
            assert shown[1].endswith("…") and names[1].startswith(shown[1][:-1]) and len(shown[1]) == 24
            assert picker.nth(2).get_attribute("title") == f"1: {names[1]}"
            assert page.locator("#cells-yhat .cell").count() == 3
            assert texts(page, "#cells-yhat .cell", "title") == [f"{k}: {n}" for k, n in enumerate(names)]
            assert texts(page, "#cells-yhat ~ .class-key .name") == names       # a long name: a key below
            assert page.inner_text("#sec-draw h2") == "1. Draw one of its classes"    # not "a digit", not MNIST
            assert "its own test set" in page.inner_text("#sec-mistakes .lead")
            assert "MNIST test images" not in page.inner_text("#sec-mistakes .lead")

            tools.draw(page, tools.STROKES[7])
            predicted = tools.prediction_after(page)
            assert predicted == names[1]                                          # the seven
            assert page.get_attribute("#prediction", "title") == names[1]
            assert texts(page, "#prob-bars .digit") == names and texts(page, "#prob-bars .digit", "title") == names
            assert page.locator("#prob-bars .bar.top").count() == 1
            cut = page.eval_on_selector_all("#prob-bars .digit", "els => els.map(e => e.scrollWidth > e.clientWidth)")
            assert cut == [False, True, False]                                    # only the long name is cut short
            em = page.eval_on_selector("#prob-bars", "e => parseFloat(getComputedStyle(e).fontSize)")
            width = page.eval_on_selector("#prob-bars .digit", "e => e.getBoundingClientRect().width")
            assert width <= 9 * em + 1
            page.wait_for_selector("#bp-body:not([hidden])")
            page.wait_for_function("() => document.getElementById('label').value === '1'")
            assert page.locator("#label option:checked").inner_text() == shown[1]
            page.select_option("#label", "0")                                     # backprop for "apple"
            page.wait_for_function("() => document.getElementById('bp-body').dataset.label === '0'")
            page.click("#step")
            page.wait_for_selector("#step-bars .digit")
            assert texts(page, "#step-bars .digit") == names
            page.locator("#sec-draw").screenshot(path=SHOTS / "lab19_draw_3_classes.png")
            page.locator("#sec-backprop .controls").screenshot(path=SHOTS / "lab19_backprop_picker.png")
            page.locator("#deltas").screenshot(path=SHOTS / "lab19_deltas_3_classes.png")

            page.click("#mistakes-load")
            page.wait_for_selector("#mistakes button", timeout=60000)
            said = {"apple": "an apple", "umbrella": "an umbrella", names[1]: f"a {names[1]}"}
            for title in texts(page, "#mistakes button", "title"):
                truth, read = title.split(": ", 1)[1].split(", read as ")
                assert truth in said.values() and read in said.values() and truth != read, title
            first = page.locator("#mistakes button").first
            assert texts(page, "#mistakes button .name")[:2] == [t.split(" ", 1)[1] for t in
                                                                 first.get_attribute("title").split(": ", 1)[1]
                                                                 .split(", read as ")]
            page.locator("#sec-mistakes").screenshot(path=SHOTS / "lab19_mistakes_3_classes.png")
            words = ["apple", "umbrella", "unicorn", "hour", "one", "owl", "8", "11", "18", "7", "f", "u", "T-shirt/top",
                     "European"]
            articles = page.evaluate(                          # the page's own module, already loaded
                "async (w) => { const m = await import('/static/js/mistakes.js'); return w.map((n) => m.article(n)); }",
                words)
            assert articles == ["an", "an", "a", "an", "a", "an", "an", "an", "an", "a", "an", "a", "a", "a"]
            assert page.outside == [] and page.errors == []
        finally:
            tools.close(page)


@pytest.mark.browser
@needs_chromium
def test_the_page_lays_out_twenty_six_classes(browser, tmp_path):
    tools = browser_tools()
    letters = [chr(ord("a") + k) for k in range(26)]
    net = sn.Network([784, 16, 26], ["sigmoid", "softmax"], seed=0)
    sn.save(net, tmp_path / "model.npz", {"class_names": letters})
    with tools.lab_server(tmp_path) as url:
        page = tools.open_page(browser, url)
        try:
            assert page.locator("#label option").count() == 27
            assert page.locator("#cells-yhat .cell").count() == 26
            assert texts(page, "#cells-yhat + .col-labels span") == [str(k) for k in range(10)]
            assert texts(page, "#cells-yhat ~ .class-key .name") == letters
            tools.draw(page, tools.STROKES[1])
            assert tools.prediction_after(page) in letters
            assert texts(page, "#prob-bars .digit") == letters
            assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
            page.locator("#sec-draw").screenshot(path=SHOTS / "lab19_draw_26_classes.png")
            assert page.outside == [] and page.errors == []
        finally:
            tools.close(page)


# ---------------------------------------------------------------------------------------- a larger folder

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def test_a_folder_of_thousands_of_pictures_trains_and_keeps_its_names(invoke, tmp_path, monkeypatch):
    """3,000 real MNIST test digits as 28×28 PNGs in folders named by word (test_data_train.py trains on
    600): ``train --data`` reads and trains on them in a few seconds, and evaluate and predict name the
    classes."""
    monkeypatch.setenv("SCRATCHNET_CACHE", str(tmp_path / "cache"))
    X, y = mnist(3000, "test")
    for i, (x, label) in enumerate(zip(X, y)):
        folder = tmp_path / "words" / WORDS[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(255 - x.reshape(28, 28)).save(folder / f"{i}.png")          # dark ink on white
    model = tmp_path / "words.npz"
    result = invoke("train", "--data", tmp_path / "words", "--test-split", "0.2", "--layers", "784,32,10",
                    "--epochs", "4", "--lr", "0.01", "--out", model, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["class_names"] == sorted(WORDS) and summary["n_test"] == 600
    assert summary["test_accuracy"] > 0.8
    ev = json.loads(invoke("evaluate", model, "--json").stdout)                # its own 600 held-out pictures
    assert ev["class_names"] == sorted(WORDS) and ev["n"] == 600 and ev["accuracy"] == summary["test_accuracy"]
    sevens = sorted((tmp_path / "words" / "seven").glob("*.png"))[:20]
    rows = json.loads(invoke("predict", model, *sevens, "--json").stdout)
    assert {row["class"] for row in rows} <= set(WORDS)
    assert sum(row["class"] == "seven" for row in rows) >= 12                   # by chance: 2 of 20


@pytest.mark.browser
@needs_chromium
def test_short_names_of_one_row_stand_under_its_cells(browser, pets):
    tools = browser_tools()
    with tools.lab_server(pets[1]) as url:
        page = tools.open_page(browser, url)
        try:
            for grid in ("cells-yhat", "d-delta2"):
                assert texts(page, f"#{grid} + .col-labels span") == PETS, grid
                assert page.locator(f"#{grid} ~ .class-key").count() == 0
            assert [page.locator("#label option").nth(k + 1).inner_text() for k in range(3)] == PETS
            page.locator("#layers").screenshot(path=SHOTS / "lab19_layers_pets.png")
            assert page.outside == [] and page.errors == []
        finally:
            tools.close(page)

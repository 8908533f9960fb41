"""The lab's JSON API, in process (Starlette's test client), and ``scratchnet lab`` as a real server.

The answers are compared with the library called directly: the page shows what `Network.forward`,
`Network.loss_and_grads`, `preprocess.to_mnist` and `derivation.check` say, nothing computed apart.
The browser tests are in test_lab_browser.py.
"""

import base64
import io
import json
import re
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from PIL import Image, ImageDraw

import scratchnet as sn
from scratchnet.data import checksums as data_checksums
from scratchnet.derivation.check import check
from scratchnet.derivation.render import step_latex
from scratchnet.preprocess import to_mnist

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():                 # Starlette 1.x suggests httpx2; httpx is what is installed
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient  # noqa: E402

from scratchnet.lab import Lab, LabModel, create_app  # noqa: E402
from scratchnet.lab.guard import HostPolicy  # noqa: E402

import tinydata  # noqa: E402

SEED_FORMULA = "[1 H1]^T (yhat - y) W3^T H2(1-H2)"
BASE = "http://127.0.0.1:8000"


def picture_url(draw, size=(280, 280), fmt="PNG"):
    """A data URL of a white picture with dark strokes drawn by ``draw(ImageDraw)``."""
    img = Image.new("RGB", size, "white")
    draw(ImageDraw.Draw(img))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode()


def a_one(d):
    d.line([(140, 40), (150, 240)], fill="black", width=18)


@pytest.fixture
def net():
    return sn.seed_network(seed=3)


@pytest.fixture
def lab(net, tmp_path):
    return Lab(LabModel(net, source="test net", trained=True))


@pytest.fixture
def client(lab):
    with TestClient(create_app(lab), base_url=BASE) as c:
        yield c


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A miniature MNIST (600 train, 200 test) taken for MNIST inside this process."""
    folder = tinydata.make(tmp_path / "tiny")
    monkeypatch.setitem(data_checksums.SHA256, "mnist", tinydata.checksums(folder))
    return folder


# ---------------------------------------------------------------------------------------- forward pass

def test_predict_from_a_picture_is_what_predict_sees_and_the_network_says(client, net):
    url = picture_url(a_one)
    r = client.post("/api/predict", json={"image": url})
    assert r.status_code == 200, r.text
    out = r.json()
    img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    x = to_mnist(img).reshape(-1) / 255.0                      # scratchnet predict's preprocessing
    np.testing.assert_allclose(out["input"], x, atol=1e-4)
    t = net.forward(x.reshape(1, -1))
    np.testing.assert_allclose(out["probabilities"], t.yhat[0], rtol=1e-6)
    np.testing.assert_allclose(out["activations"]["H1"], t.H[1][0], atol=1e-6)
    np.testing.assert_allclose(out["activations"]["H2"], t.H[2][0], atol=1e-6)
    np.testing.assert_allclose(out["z"]["z3"], t.z[3][0], atol=1e-5)
    assert out["digit"] == int(np.argmax(t.yhat[0]))
    assert (len(out["activations"]["H1"]), len(out["activations"]["yhat"]), len(out["z"]["z1"])) == (100, 10, 100)
    assert abs(sum(out["probabilities"]) - 1) < 1e-5


def test_predict_from_pixels_takes_them_as_the_input(client, net):
    x = np.random.default_rng(0).random(784).round(3)
    out = client.post("/api/predict", json={"pixels": x.tolist()}).json()
    np.testing.assert_allclose(out["input"], x, atol=1e-4)
    np.testing.assert_allclose(out["probabilities"], net.forward(x.reshape(1, -1)).yhat[0], rtol=1e-6)


def test_a_blank_picture_is_a_json_error(client):
    r = client.post("/api/predict", json={"image": picture_url(lambda d: None)})
    assert r.status_code == 422
    assert "no ink" in r.json()["error"]


# ---------------------------------------------------------------------------------------- backward pass

def test_backprop_answers_the_library_gradients_and_the_deltas(client, net):
    x = np.random.default_rng(1).random(784).round(3)
    out = client.post("/api/backprop", json={"pixels": x.tolist(), "label": 4, "unit": 7}).json()
    loss, grads = net.loss_and_grads(x.reshape(1, -1), np.array([4]))
    assert out["label"] == 4 and abs(out["loss"] - loss) < 1e-5
    assert out["gradients"]["W3"]["shape"] == [11, 10] and out["gradients"]["W2"]["shape"] == [101, 10]
    np.testing.assert_allclose(np.reshape(out["gradients"]["W2"]["values"], (101, 10)), grads[1], atol=1e-7)
    np.testing.assert_allclose(np.reshape(out["gradients"]["W3"]["values"], (11, 10)), grads[2], atol=1e-7)
    yhat = net.forward(x.reshape(1, -1)).yhat[0]
    np.testing.assert_allclose(out["deltas"]["delta3"]["values"], yhat - np.eye(10)[4], atol=1e-6)   # δ3 = ŷ − y
    assert [out["deltas"][f"delta{l}"]["shape"] for l in (1, 2, 3)] == [[1, 100], [1, 10], [1, 10]]
    # ∂L/∂W1[:, 7] = [1 x]ᵀ δ1[7]: the bias entry is δ1[7], the pixels are x · δ1[7]
    d1 = out["deltas"]["delta1"]["values"][7]
    assert out["W1_unit"]["unit"] == 7 and out["W1_unit"]["bias"] == pytest.approx(d1, rel=1e-6)
    np.testing.assert_allclose(out["W1_unit"]["values"], grads[0][1:, 7], atol=1e-8)
    np.testing.assert_allclose(out["W1_unit"]["values"], x * d1, atol=1e-7)


def test_backprop_label_defaults_to_the_prediction_and_unit_to_the_largest_delta(client):
    x = np.random.default_rng(2).random(784).round(3).tolist()
    out = client.post("/api/backprop", json={"pixels": x}).json()
    assert out["label"] == out["digit"]
    assert out["W1_unit"]["unit"] == int(np.argmax(np.abs(out["deltas"]["delta1"]["values"])))


def test_one_step_lowers_the_loss_and_leaves_the_labs_network_alone(client, net):
    before = net.params.copy()
    x = np.random.default_rng(3).random(784).round(3).tolist()
    out = client.post("/api/step", json={"pixels": x, "label": 2, "lr": 1.0}).json()
    assert out["loss_after"] < out["loss_before"]
    assert out["after"][2] > out["before"][2]
    np.testing.assert_array_equal(net.params, before)
    assert client.post("/api/step", json={"pixels": x}).status_code == 422          # a step needs a label


# ---------------------------------------------------------------------------------------- the page's words

def fill(explained, i, j, cols):
    """A cell's formula as the page fills it in (colors.js `formula`): {i}, {j}, {k} and the fields."""
    at = {"i": i, "j": j, "k": i * cols + j}
    template = explained["first_row"] if i == 0 and explained.get("first_row") else explained["cell"]
    return re.sub(r"\{(\w+)\}", lambda m: str(at[m.group(1)]) if m.group(1) in at else
                  explained["fields"][m.group(1)]["values"][at[explained["fields"][m.group(1)]["by"]]], template)


def num(text):
    """A number as the page writes it, read back."""
    return float(text.replace("−", "-"))


def test_numbers_are_written_once_with_one_minus_sign():
    from scratchnet.lab.explain import number, numbers
    assert [number(v) for v in (-2.98e-4, 2.98e-4, 0.0, -0.5, 12345.6, 0.0108)] == \
        ["−2.98e−4", "2.98e−4", "0", "−0.5000", "1.23e4", "0.0108"]
    values = np.random.default_rng(0).standard_normal(500) * 10.0 ** np.random.default_rng(1).integers(-6, 6, 500)
    assert numbers(values) == [number(v) for v in values]
    assert numbers(values, 3) == [number(v, 3) for v in values]


def a_pass(net, x, label):
    t = net.forward(x.reshape(1, -1))
    net.backward(t, np.array([label]))
    return t


def test_backprop_explains_every_cell_with_the_traces_numbers(client, net):
    from scratchnet.lab.explain import numbers
    x = np.random.default_rng(5).random(784).round(3)
    r = client.post("/api/backprop", json={"pixels": x.tolist(), "label": 4, "unit": 7}).json()
    t, e = a_pass(net, x, 4), r["explain"]
    assert e["loss"] == f"L = −log ŷ[4] = −log {numbers([t.yhat[0, 4]])[0]} = {numbers([t.loss])[0]}"
    deltas = {d["id"]: d for d in e["deltas"]}
    assert list(deltas) == ["delta3", "delta2", "delta1"]
    for l in (1, 2, 3):
        d = deltas[f"delta{l}"]
        assert d["fields"]["v"]["values"] == numbers(t.delta[l][0])
        assert d["scale"]["max"] == pytest.approx(np.abs(t.delta[l]).max())
    assert deltas["delta3"]["fields"]["y"]["values"] == ["0"] * 4 + ["1"] + ["0"] * 5
    assert fill(deltas["delta3"], 0, 4, 10).startswith(
        f"δ₃[4] = ŷ[4] − y[4] = {numbers([t.yhat[0, 4]])[0]} − 1 = {numbers([t.delta[3][0, 4]])[0]}\n")
    for l in (1, 2):                               # δ_l = (δ_{l+1} W̄_{l+1}ᵀ) ⊙ σ′(z_l), factor by factor
        f = deltas[f"delta{l}"]["fields"]
        g = np.array([num(v) for v in f["g"]["values"]])
        np.testing.assert_allclose(g, t.delta[l + 1][0] @ net.weights[l][1:].T, atol=5e-5)
        assert f["f"]["values"] == numbers(t.H[l][0] * (1 - t.H[l][0]))          # σ′ = H (1 − H)
        assert f["h"]["values"] == numbers(t.H[l][0])
    assert fill(deltas["delta2"], 0, 3, 10).splitlines()[1] == \
        f"σ′(z₂[3]) = H (1 − H) with H = H₂[3] = {numbers([t.H[2][0, 3]])[0]}"
    grads = {g["id"]: g for g in e["gradients"]}
    assert list(grads) == ["W3", "W2"]
    for l in (2, 3):
        f = grads[f"W{l}"]["fields"]
        assert f["v"]["values"] == numbers(t.dW[l]) and f["b"]["values"] == numbers(t.delta[l][0])
        assert f["a"]["values"] == ["1"] + numbers(t.H[l - 1][0])
    H1, d2, g = (numbers(a) for a in (t.H[1][0], t.delta[2][0], t.dW[2]))
    assert fill(grads["W2"], 5, 3, 10).splitlines() == [
        f"∂L/∂W₂[5, 3] = [1 H₁][5] · δ₂[3] = H₁[4] · δ₂[3] = {H1[4]} · {d2[3]} = {g[53]}",
        "∂L/∂W₂ = [1 H₁]ᵀ δ₂   (101×1 · 1×10 → 101×10)"]
    assert fill(grads["W2"], 0, 3, 10).startswith(f"∂L/∂W₂[0, 3] = [1 H₁][0] · δ₂[3] = 1 · {d2[3]} = {g[3]}")
    w1 = e["W1_unit"]
    assert w1["unit"] == 7 and w1["fields"]["v"]["values"] == numbers(t.dW[1][1:, 7])
    assert w1["fields"]["x"]["values"] == numbers(x)
    assert fill(w1, 2, 5, 28).startswith(f"∂L/∂W₁[62, 7] = x[61] · δ₁[7] = {numbers([x[61]])[0]} · "
                                         f"{numbers([t.delta[1][0, 7]])[0]} = {numbers([t.dW[1][62, 7]])[0]}")
    assert e["W1_bias"].startswith(f"bias: ∂L/∂W₁[0, 7] = δ₁[7] = {numbers([t.dW[1][0, 7]])[0]};")
    assert e["shared_scale"]["max"] == max(1.0, max(p["scale"]["max"] for p in [*e["deltas"], *e["gradients"], w1]))
    words = json.dumps(e, ensure_ascii=False)
    assert "-" not in words.replace("first_row", "") and "e−0" not in words      # one minus sign, no e−04


def test_predict_explains_every_unit_and_the_softmax_denominator(client, net):
    from scratchnet.lab.explain import numbers
    x = np.random.default_rng(6).random(784).round(3)
    r = client.post("/api/predict", json={"pixels": x.tolist()}).json()
    t = net.forward(x.reshape(1, -1))
    layers = {p["id"]: p for p in r["explain"]["layers"]}
    assert list(layers) == ["H1", "H2", "yhat"]
    assert layers["H2"]["fields"]["z"]["values"] == numbers(t.z[2][0], 3)
    assert fill(layers["H2"], 0, 3, 0).splitlines() == [
        f"H₂[3] = σ(z₂[3]) = σ({numbers(t.z[2][0], 3)[3]}) = {numbers(t.H[2][0])[3]}",
        "z₂ = [1 H₁] W₂   (1×101 · 101×10 → 1×10)"]
    S = np.exp(t.z[3][0]).sum()
    line = fill(layers["yhat"], 0, 3, 0).splitlines()[0]
    assert line == (f"ŷ[3] = softmax(z₃)[3] = exp(z₃[3]) / Σⱼ exp(z₃[j]) = exp({numbers(t.z[3][0], 3)[3]}) / "
                    f"{numbers([S])[0]} = {numbers([np.exp(t.z[3][0, 3])])[0]} / {numbers([S])[0]} = "
                    f"{numbers(t.yhat[0])[3]}")


def test_the_input_sent_back_as_pixels_is_the_same_pass(client, net):
    first = client.post("/api/predict", json={"image": picture_url(a_one)}).json()
    again = client.post("/api/backprop", json={"pixels": first["input"]}).json()
    assert again["probabilities"] == first["probabilities"] and again["input"] == first["input"]
    step = client.post("/api/step", json={"pixels": first["input"], "label": 1, "lr": 1.0}).json()
    assert step["before"] == first["probabilities"]
    assert step["text"].startswith(f"ŷ[1]: {100 * step['before'][1]:.1f} % → {100 * step['after'][1]:.1f} %; loss ")


def test_derivation_pictures_and_facts_are_math_not_raw_latex(client):
    d = client.get("/api/derivation").json()
    p = d["pictures"]
    assert [q["id"] for q in p["layers"]] == ["H1", "H2", "yhat"]
    assert [q["quantity"]["unicode"] for q in p["deltas"]] == ["δ₃", "δ₂", "δ₁"]
    assert p["layers"][2]["what"] == "digit" and p["layers"][2]["col_labels"] == [str(k) for k in range(10)]
    assert p["layers"][0]["layout"] == [10, 10] and p["layers"][0]["row_labels"][:3] == ["0", "10", "20"]
    assert [q["formula"] for q in p["targets"]] == ["W3", "W2", "W1", "z3", "z2", "z1", "H2", "H1"]
    assert all(q["caption"].startswith("<math") for q in [*p["layers"], *p["deltas"], *p["gradients"]])
    for step in d["steps"]:
        assert "<msup><mi>&#x003C3;</mi><mi>&#x02032;</mi></msup>" not in step["mathml"]   # σ′ is one symbol
        for fact in step["facts"]:
            prose = re.sub(r"<math.*?</math>", "", fact["html"])
            assert "$" not in fact["html"] and not re.search(r"[A-Za-zδ]_|Σ|\\", prose), prose
    delta2 = next(s for s in d["steps"] if s["name"] == "delta2")
    assert "<mi>&#x003C3;&#x02032;</mi>" in delta2["mathml"]


# ---------------------------------------------------------------------------------------- formulas

def test_check_answers_exactly_what_scratchnet_check_json_prints(client):
    r = client.post("/api/check", json={"formula": SEED_FORMULA, "wrt": "W2", "convention": "row", "batch": 1})
    assert r.status_code == 200
    answer = r.json()
    html = answer.pop("hints_html")
    assert answer == json.loads(json.dumps(check(SEED_FORMULA, "W2", batch=1, seed=0).to_json()))
    assert answer["verdict"] == "shape_error"
    assert {"elementwise_product", "bias_row"} <= set(answer["diagnoses"])
    # the page's hints: the same words, with real subscripts, ᵀ, σ′ and − instead of W_l, H_{l-1}, ^T, σ'
    assert len(html) == len(answer["hints"]) and "H<sub>l−1</sub>" in " ".join(html)
    for hint, shown in zip(answer["hints"], html):
        assert not re.search(r"_[{(A-Za-z0-9]|\^T|σ'|f'", shown), shown
        assert _bare(shown.replace("&#x27;", "'")) == _bare(hint), hint          # nothing else changed


def _bare(text):
    """Text without subscript markup of either kind, one spelling of ᵀ, ′ and the minus sign."""
    for mark in ("<sub>", "</sub>", "_", "{", "}", "(", ")"):
        text = text.replace(mark, "")
    return text.replace("−", "-").replace("ᵀ", "^T").replace("′", "'")


def test_check_a_correct_formula_and_an_unreadable_one(client):
    good = "[1 H1]^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2))"
    assert client.post("/api/check", json={"formula": good, "wrt": "W2"}).json()["verdict"] == "correct"
    r = client.post("/api/check", json={"formula": "[1 H1]^T (yhat - y", "wrt": "W2"})
    assert r.status_code == 422                                # FormulaError.to_json(), as check --json prints
    assert set(r.json()) == {"error", "start", "end"} and r.json()["start"] == 18   # at the end: a ")" is missing
    r = client.post("/api/check", json={"formula": good, "wrt": "W9"})
    assert r.status_code == 422 and "error" in r.json()


def test_render_gives_mathml_and_null_for_an_unreadable_formula(client):
    out = client.post("/api/render", json={"formulas": [SEED_FORMULA, "(("]}).json()["mathml"]
    assert out[0].startswith("<math") and "<msub>" in out[0]
    assert out[1] is None


def test_render_writes_a_prime_as_part_of_its_symbol(client):
    """σ′ and f′ in the check's formulas are one identifier, not a superscript ′ floating apart (issue 17)."""
    out = client.post("/api/render", json={"formulas": ["[1 H1]^T (((yhat - y) W3[1:]^T) * sigma'(z2))",
                                                        r"\sigma'(z_2)", "f'(z2)"]}).json()["mathml"]
    for markup, symbol in zip(out, ["&#x003C3;", "&#x003C3;", "f"]):
        assert f"<mi>{symbol}&#x02032;</mi>" in markup
        assert not re.search(r"<msup>(<mi>[^<]*</mi>)(<mrow>)?<mi>&#x02032;", markup), markup


def test_derivation_has_every_equation_with_its_shapes(client):
    d = client.get("/api/derivation").json()
    steps = {s["name"]: s for s in d["steps"]}
    assert d["verified"] and d["architecture"] == "784 → 100 σ → 10 σ → 10 softmax"
    assert steps["dW3"]["shape_one"] == "11 × 10" and steps["dW2"]["shape_one"] == "101 × 10"
    assert steps["delta2"]["shape_batch"] == "B × 10"
    assert steps["delta2"]["formula"] == "(delta3 W3[1:]^T) * sigma'(z2)"
    assert all(s["mathml"].startswith("<math") for s in d["steps"])
    assert steps["dW3"]["latex"] == step_latex(sn.derive().step("dW3"))          # derive's own equations
    assert "outer product" in steps["dW3"]["facts"][0]["text"]
    assert client.get("/api/derivation?convention=diagonal").status_code == 422


# ---------------------------------------------------------------------------------------- safety

def test_foreign_host_and_cross_origin_writes_are_refused(client):
    r = client.get("/api/model", headers={"Host": "evil.example:8000"})          # DNS rebinding
    assert r.status_code == 403 and "error" in r.json()
    assert client.get("/api/model", headers={"Host": "localhost:8000"}).status_code == 200
    pixels = {"pixels": [0.0] * 784}
    r = client.post("/api/predict", json=pixels, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "origin" in r.json()["error"]
    r = client.post("/api/predict", json=pixels, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    r = client.post("/api/predict", content=json.dumps(pixels), headers={"Content-Type": "text/plain"})
    assert r.status_code == 415                                                  # what a cross-site form sends
    assert client.post("/api/predict", json=pixels, headers={"Origin": BASE}).status_code == 200


def test_host_policy_on_every_interface_takes_ip_addresses_but_not_other_names():
    local, everyone = HostPolicy("127.0.0.1"), HostPolicy("0.0.0.0")
    assert local.allows("127.0.0.1:8000") and local.allows("localhost") and local.allows("[::1]:8000")
    assert not local.allows("192.168.1.5:8000") and not local.allows("attacker.example")
    assert everyone.allows("192.168.1.5:8000") and not everyone.allows("attacker.example:8000")


def test_limits_answer_json_errors_and_the_server_keeps_serving(client):
    big = b'{"pixels": "' + b"0" * (2 * 1024 * 1024) + b'"}'
    r = client.post("/api/predict", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "body" in r.json()["error"]

    def chunks():                                             # no Content-Length: counted while read
        for _ in range(40):
            yield b" " * 65536
    r = client.post("/api/predict", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413

    for side in (5000, 20000):                                # a few kB of PNG, up to 400 megapixels decoded
        bomb = Image.new("1", (side, side))
        buf = io.BytesIO()
        bomb.save(buf, "PNG")
        assert len(buf.getvalue()) < 2 * 1024 * 1024
        url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
        r = client.post("/api/predict", json={"image": url})
        assert r.status_code == 413 and "too large" in r.json()["error"]

    r = client.post("/api/check", json={"formula": "x" * 2001, "wrt": "W2"})
    assert r.status_code == 413 and "2000" in r.json()["error"]
    for body, status in [(b"{", 400), (b"[1, 2]", 400)]:
        assert client.post("/api/predict", content=body, headers={"Content-Type": "application/json"}).status_code == status
    for bad in [{}, {"pixels": [0.5] * 783}, {"pixels": [2.0] * 784}, {"pixels": ["a"] * 784},
                {"image": "data:image/png;base64,!!!"}, {"image": "data:image/png;base64,aGVsbG8="},
                {"image": "/etc/passwd"}]:
        r = client.post("/api/predict", json=bad)
        assert r.status_code == 422 and set(r.json()) == {"error"}, (bad, r.text)
    assert client.post("/api/backprop", json={"pixels": [0.0] * 784, "label": 10}).status_code == 422
    deep = b"[" * 100000 + b"]" * 100000
    r = client.post("/api/check", content=deep, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "deep" in r.json()["error"]
    assert client.get("/api/mistakes?n=0").status_code == 422
    assert client.get("/api/mistakes?n=1000000000").status_code == 422
    assert client.get("/api/mistakes?n=²").status_code == 422                   # a digit to isdigit(), not to int()
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        r = client.post("/api/train", content=b'{"lr": ' + constant + b"}", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and "not a number in JSON" in r.json()["error"]
    assert client.post("/api/train", json={"continue": "yes"}).status_code == 422
    assert client.post("/api/check", json={"formula": "x", "batch": 10 ** 6}).status_code == 422
    assert client.get("/api/nothing").status_code == 404
    assert client.get("/api/predict").status_code == 405
    assert client.post("/api/predict", json={"pixels": [0.0] * 784}).status_code == 200      # still serving


def test_an_unexpected_failure_is_a_json_500_and_serving_goes_on(lab, monkeypatch):
    from scratchnet.lab import model

    def broken(*args):
        raise RuntimeError("planted")
    monkeypatch.setattr(model, "predict", broken)
    with TestClient(create_app(lab), base_url=BASE, raise_server_exceptions=False) as c:
        r = c.post("/api/predict", json={"pixels": [0.0] * 784})
        assert r.status_code == 500 and "RuntimeError" in r.json()["error"]
        assert c.get("/api/model").status_code == 200


def test_save_is_a_download_of_the_learners_model_and_writes_nothing_here(client, net, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = client.get("/api/model/download")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    (tmp_path / "got.npz").write_bytes(r.content)
    np.testing.assert_array_equal(sn.load(tmp_path / "got.npz").params, net.params)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["got.npz"]
    assert client.post("/api/save", json={}).status_code in (404, 405)       # no server-side save any more


# ---------------------------------------------------------------------------------------- mistakes

def test_mistakes_are_wrong_and_the_most_confident_first(client, lab, tiny):
    lab.data_dir = tiny
    out = client.get("/api/mistakes?n=5").json()
    X, y = sn.load_mnist("test", data_dir=tiny)
    P = lab.model.net.predict_proba(X)
    assert out["n_test"] == 200 and out["n_wrong"] == int(np.sum(P.argmax(1) != y))
    conf = [m["confidence"] for m in out["mistakes"]]
    assert len(conf) == 5 and conf == sorted(conf, reverse=True)
    for m in out["mistakes"]:
        assert m["digit"] != m["label"] == y[m["index"]]
        np.testing.assert_allclose(m["pixels"], X[m["index"]] / 255, atol=1e-4)


def test_mistakes_without_the_test_set_is_a_503(client, lab, tmp_path):
    lab.data_dir = tmp_path / "empty"
    lab.data_dir.mkdir()
    import scratchnet.lab.app as app_module
    original = app_module.load_mnist
    app_module.load_mnist = lambda *a, **k: original(*a, download=False, **k)
    try:
        r = client.get("/api/mistakes")
    finally:
        app_module.load_mnist = original
    assert r.status_code == 503 and "test set" in r.json()["error"]


# ---------------------------------------------------------------------------------------- training

def events(client, last_event_id=None, with_ids=False):
    """The learner's run's server-sent events as (type, data) pairs (or (id, type, data)), until its
    ``done`` event (the stream itself stays open for the learner's next run)."""
    out = []
    headers = {} if last_event_id is None else {"Last-Event-ID": last_event_id}
    with client.stream("GET", "/api/train/events", headers=headers) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        kind = event_id = None
        for line in r.iter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                out.append((event_id, kind, json.loads(line[6:])) if with_ids else (kind, json.loads(line[6:])))
                if kind == "done":
                    break
    return out


def test_a_run_streams_progress_epochs_and_weights_then_becomes_the_learners_network(client, lab, tiny):
    lab.data_dir = tiny
    r = client.post("/api/train", json={"epochs": 2, "batch_size": 20, "lr": 0.01, "shift": 0, "examples": 600})
    assert r.status_code == 202 and r.json()["start_from"] == "your network (test net)"
    seen = events(client)
    kinds = [k for k, _ in seen]
    assert "start" in kinds and kinds[-1] == "done"
    progress = [d for k, d in seen if k == "progress"]
    assert sum(1 for p in progress if p["epoch"] == 1) >= 5                     # several points per epoch
    assert all(0 <= p["val_accuracy"] <= 1 and p["val_loss"] > 0 for p in progress)    # the held-out curve
    assert [d["epoch"] for k, d in seen if k == "epoch"] == [1, 2]
    done = seen[-1][1]
    assert done["status"] == "finished" and 0 < done["test_accuracy"] <= 1
    assert kinds.count("weights") >= 1
    w = next(d for k, d in seen if k == "weights")
    assert w["units"] == 100 and len(base64.b64decode(w["codes"])) == 100 * 784
    mine = client.get("/api/model").json()
    assert mine["source"].startswith("trained in the lab") and mine["own"] and mine["trained"]
    assert mine["version"] == 1 and mine["test_accuracy"] == done["test_accuracy"]
    assert lab.model.source == "test net"                                     # the served model is untouched
    assert progress[-1]["accuracy"] > 0.5                        # the miniature is easy to learn


def test_start_continues_from_the_learners_network_unless_fresh_and_every_event_says_which(client, lab, net, tiny):
    """Start without "fresh" trains a copy of the learner's network (issue 17), and the queued, start and
    done events, the run's state and the adopted network's words say where it started."""
    lab.data_dir = tiny
    tiny_step = {"epochs": 1, "batch_size": 100, "lr": 1e-6, "optimizer": "sgd", "shift": 0, "examples": 600}
    assert client.get("/api/model").json()["start_from"] == "your network (test net)"
    r = client.post("/api/train", json=tiny_step)                       # no "fresh", no "continue"
    assert r.json()["start_from"] == "your network (test net)"
    seen = events(client)
    words = {k: d["start_from"] for k, d in seen if k in ("queued", "start", "done")}
    assert set(words) >= {"start", "done"} and set(words.values()) == {"your network (test net)"}
    learner = lab.sessions.learners()[0]
    assert np.abs(learner.net.params - net.params).max() < 1e-4         # six tiny SGD steps from the served net
    mine = client.get("/api/model").json()
    assert mine["source"] == "trained in the lab: 1 epoch, 6 batches, from the served model, test net"
    assert mine["start_from"] == f"your network ({mine['source']})"
    before = learner.net
    client.post("/api/train", json=tiny_step)                           # continued again: the words stay short
    events(client)
    assert np.abs(learner.net.params - before.params).max() < 1e-4
    assert learner.source == "trained in the lab: 1 epoch, 6 batches, from an earlier lab run of yours"
    r = client.post("/api/train", json={**tiny_step, "fresh": True, "seed": 4})
    assert r.json()["start_from"] == "fresh weights (seed 4)"
    assert events(client)[-1][1]["start_from"] == "fresh weights (seed 4)"
    assert np.abs(learner.net.params - sn.seed_network(seed=4).params).max() < 1e-4
    assert learner.source == "trained in the lab: 1 epoch, 6 batches, from fresh weights (seed 4)"
    client.post("/api/train", json={**tiny_step, "continue": False})   # the old checkbox's "continue": false
    assert events(client)[-1][1]["start_from"] == "fresh weights (seed 0)"


def test_an_ended_session_is_told_once_and_the_learner_is_back_at_the_served_model(net):
    """Expiry is signalled on the request that finds it (the page's own GET / leaves it for /api/model),
    by /api/model's session.expired and, on any answer, an X-Lab-Session: expired header."""
    from scratchnet.lab.sessions import COOKIE, Sessions
    now = [0.0]
    served = LabModel(net, source="test net", trained=True)
    lab = Lab(served, sessions=Sessions(served, idle_seconds=60, clock=lambda: now[0]))
    with TestClient(create_app(lab), base_url=BASE) as client:
        r = client.get("/api/model")
        assert r.json()["session"] == {"expired": False, "idle_seconds": 60} and "x-lab-session" not in r.headers
        learner = lab.sessions.learners()[0]
        learner.adopt(sn.seed_network(seed=9), "trained in the lab: 1 epoch", trained=True)
        assert client.get("/api/model").json()["own"] is True
        now[0] += 61
        page = client.get("/")
        assert page.status_code == 200 and "set-cookie" not in page.headers and "x-lab-session" not in page.headers
        r = client.get("/api/model")
        assert r.headers["x-lab-session"] == "expired" and r.json()["session"]["expired"] is True
        assert r.json()["own"] is False and r.json()["source"] == "test net"
        assert COOKIE in r.headers["set-cookie"] and client.cookies[COOKIE] != learner.token
        again = client.get("/api/model")
        assert again.json()["session"]["expired"] is False and "x-lab-session" not in again.headers
        client.cookies.clear()
        client.cookies.set(COOKIE, "a-cookie-this-lab-never-gave")          # e.g. after the lab restarted
        r = client.post("/api/predict", json={"pixels": [0.0] * 784})
        assert r.status_code == 200 and r.headers["x-lab-session"] == "expired"
        assert lab.sessions.count() == 2                                  # the ended one is gone


def test_progress_points_are_window_means_not_epoch_running_means(client, lab, tiny):
    """Each point is the mean over the batches since the previous one, so nothing jumps at an epoch's
    start: the first point of epoch 2 is close to the last of epoch 1, not to epoch 1's mean."""
    lab.data_dir = tiny
    client.post("/api/train", json={"epochs": 2, "batch_size": 10, "lr": 0.01, "shift": 0, "examples": 600})
    progress = [d for k, d in events(client) if k == "progress"]
    one = [p for p in progress if p["epoch"] == 1]
    two = [p for p in progress if p["epoch"] == 2]
    epoch_mean = np.mean([p["loss"] for p in one])
    assert abs(two[0]["loss"] - one[-1]["loss"]) < abs(two[0]["loss"] - epoch_mean) + 1e-9
    assert [p["step"] for p in progress] == sorted(p["step"] for p in progress)


def test_no_progress_point_is_a_window_of_a_few_batches(client, lab, tiny):
    """540 images in batches of 8: 68 batches an epoch, a point every 6; the epoch's last point covers
    batches 61…68, not 67…68 alone (such a short tail's mean was a visible dip at every epoch's end)."""
    lab.data_dir = tiny
    client.post("/api/train", json={"epochs": 2, "batch_size": 8, "lr": 0.01, "shift": 0, "examples": 600})
    progress = [d for k, d in events(client) if k == "progress"]
    for epoch in (1, 2):
        batches = [p["batch"] for p in progress if p["epoch"] == epoch]
        windows = np.diff([0] + batches)
        assert batches[-1] == 68 and windows.min() >= 3 and windows.max() <= 9, batches


def test_two_learners_train_apart_and_a_third_keeps_the_served_model(lab, net, tiny):
    lab.data_dir = tiny
    with TestClient(create_app(lab), base_url=BASE) as a, TestClient(create_app(lab), base_url=BASE) as b, \
            TestClient(create_app(lab), base_url=BASE) as c:
        x = np.random.default_rng(2).random(784).round(3).tolist()
        before = c.post("/api/predict", json={"pixels": x}).json()["probabilities"]
        body = {"epochs": 1, "batch_size": 20, "lr": 0.05, "shift": 0, "examples": 600}
        assert a.post("/api/train", json=body).status_code == 202
        assert b.post("/api/train", json={**body, "fresh": True, "seed": 5}).status_code == 202   # queued, not refused
        assert b.get("/api/train").json()["start_from"] == "fresh weights (seed 5)"
        assert [k for k, _ in events(a)][-1] == "done" and [k for k, _ in events(b)][-1] == "done"
        pa = a.post("/api/predict", json={"pixels": x}).json()["probabilities"]
        pb = b.post("/api/predict", json={"pixels": x}).json()["probabilities"]
        assert pa != pb and pa != before and pb != before
        assert c.post("/api/predict", json={"pixels": x}).json()["probabilities"] == before
        assert c.get("/api/model").json()["own"] is False
        assert a.post("/api/model/reset", json={}).json()["own"] is False               # back to the served model
        assert a.post("/api/predict", json={"pixels": x}).json()["probabilities"] == before
        assert lab.sessions.count() == 3


def test_one_run_per_learner_and_stop_keeps_the_last_finished_batch(client, lab, tiny):
    lab.data_dir = tiny
    body = {"epochs": 100, "batch_size": 1, "lr": 0.01, "shift": 0, "examples": 600}
    assert client.post("/api/train", json=body).status_code == 202
    r = client.post("/api/train", json=body)
    assert r.status_code == 409 and "still going" in r.json()["error"]
    learner = lab.sessions.learners()[0]
    deadline = time.time() + 30
    while not learner.run.events.of_type("progress") and time.time() < deadline:
        time.sleep(0.05)
    assert client.post("/api/train/stop", json={}).json()["stopping"] is True
    seen = events(client)
    done = seen[-1][1]
    assert seen[-1][0] == "done" and done["status"] == "stopped" and done["batches"] >= 1
    mine = client.get("/api/model").json()
    assert mine["source"].startswith("partly trained in the lab") and mine["trained"] is False
    np.testing.assert_array_equal(learner.net.params, learner.run.net.params)
    assert client.post("/api/train", json={**body, "epochs": 1}).status_code == 202              # free again
    learner.run.stop()
    assert learner.run.join(30)


def test_stop_before_the_first_batch_leaves_the_network_as_it_was(lab, net, tiny):
    """A run waiting in the queue (the one slot is taken by another learner) stops at once and changes
    nothing: no untrained network is ever labelled trained."""
    lab.data_dir = tiny
    with TestClient(create_app(lab), base_url=BASE) as a, TestClient(create_app(lab), base_url=BASE) as b:
        long = {"epochs": 100, "batch_size": 1, "lr": 0.01, "shift": 0, "examples": 600}
        assert a.post("/api/train", json=long).status_code == 202
        r = b.post("/api/train", json={**long, "fresh": True})
        assert r.status_code == 202
        state = b.get("/api/train").json()
        assert state["status"] == "queued" and state["position"] == 1
        assert b.post("/api/train/stop", json={}).json()["stopping"] is True
        assert b.get("/api/train").json()["status"] == "stopped"
        mine = b.get("/api/model").json()
        assert mine["own"] is False and mine["source"] == "test net" and mine["version"] == 0
        a.post("/api/train/stop", json={})
        assert [k for k, _ in events(a)][-1] == "done"


def test_every_tab_follows_the_run_and_a_reconnect_resumes_after_its_last_event(client, lab, tiny):
    lab.data_dir = tiny
    client.post("/api/train", json={"epochs": 1, "batch_size": 20, "lr": 0.01, "shift": 0, "examples": 600})
    first = events(client, with_ids=True)
    second = events(client, with_ids=True)                                   # another tab, or a reload
    pictures = [e for e in first if e[1] == "weights"]
    assert pictures                                 # live or replayed (the run may be over): the latest kept
    kept = [e for e in first if e[1] != "weights" or e == pictures[-1]]      # replayed: only the latest
    assert second == kept
    middle = first[len(first) // 2][0]
    resumed = events(client, last_event_id=middle, with_ids=True)
    assert [i for i, _, _ in resumed] == [i for i, _, _ in kept if _after(i, middle)]
    for hostile in ["-100000000", "1.-100000000", "1.99999999999", "x", "9" * 40]:   # clamped, never a spin
        started = time.process_time()
        got = events(client, last_event_id=hostile, with_ids=True)
        assert got and got[-1][1] == "done" and time.process_time() - started < 2


def _after(event_id, other):
    return int(event_id.split(".")[1]) > int(other.split(".")[1])


def test_a_bad_recipe_is_a_json_error(client):
    for bad in [{"epochs": 0}, {"optimizer": "rmsprop"}, {"lr": -1}, {"examples": 10}, {"batch_size": "x"}]:
        r = client.post("/api/train", json=bad)
        assert r.status_code == 422 and "error" in r.json(), bad


# ---------------------------------------------------------------------------------------- the command

def start_lab(*args, cwd):
    """``scratchnet lab ARGS --port 0 --no-browser`` as a real uvicorn process; returns (process, URL)."""
    p = subprocess.Popen([sys.executable, "-c", "from scratchnet.cli import main; main()", "lab", *map(str, args),
                          "--port", "0", "--no-browser"], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    line = p.stdout.readline()
    match = re.fullmatch(r"lab: (http://127\.0\.0\.1:\d+/)\n", line)
    if not match:
        p.kill()
        raise AssertionError(f"no URL line: {line!r} {p.stderr.read()}")
    return p, match.group(1)


def model_once_up(url):
    """``GET /api/model`` as soon as the server started by `start_lab` answers (within 10 s)."""
    import httpx
    for _ in range(100):
        try:
            return httpx.get(url + "api/model", timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within 10 s")


def test_the_command_serves_the_page_and_stops_on_ctrl_c(tmp_path, net):
    import httpx
    sn.save(net, tmp_path / "model.npz")
    p, url = start_lab(cwd=tmp_path)                         # model.npz in the folder is the default
    try:
        r = model_once_up(url)
        assert r.json()["source"] == "loaded from model.npz" and r.json()["trained"]
        page = httpx.get(url, timeout=5)
        assert page.status_code == 200 and 'id="draw"' in page.text
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
            assert httpx.get(url + asset[1:], timeout=5).status_code == 200, asset
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=10) == 0
        assert p.stdout.read() == "lab: stopped\n" and "error" not in p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_the_command_without_a_model_starts_a_fresh_seed_network(tmp_path):
    p, url = start_lab(cwd=tmp_path)
    try:
        r = model_once_up(url)
        assert r.json()["trained"] is False and "fresh seed network" in r.json()["source"]
    finally:
        p.terminate()
        p.wait(timeout=10)


def test_the_command_refuses_a_missing_model_in_one_line(tmp_path):
    from conftest import assert_one_line_error, run_cli
    assert_one_line_error(run_cli("lab", "missing.npz", "--no-browser", cwd=tmp_path), 1, "missing.npz")


def test_the_command_refuses_a_bad_host_before_serving(tmp_path):
    from conftest import assert_one_line_error, run_cli
    assert_one_line_error(run_cli("lab", "--host", "999.1.1.1", "--port", "0", "--no-browser", cwd=tmp_path), 1,
                          "--host")


def test_another_host_prints_a_warning_and_answers_to_its_own_address(tmp_path):
    p = subprocess.Popen([sys.executable, "-c", "from scratchnet.cli import main; main()", "lab", "--host",
                          "127.0.0.2", "--port", "0", "--no-browser"], cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        url = re.fullmatch(r"lab: (http://127\.0\.0\.2:\d+/)\n", p.stdout.readline()).group(1)
        assert p.stderr.readline().startswith("lab: warning: listening on 127.0.0.2")
        r = model_once_up(url)
        assert r.status_code == 200                             # Host: 127.0.0.2:PORT is its own address
    finally:
        p.terminate()
        p.wait(timeout=10)


def test_concurrent_learners_get_exactly_the_serial_answers_from_a_real_server(tmp_path, net):
    """16 learners at once on a real uvicorn server (the lab's thread pool, not the test client): every
    ∂L/∂W, δ and prediction equals what the same request answered alone, and what the library computes.
    (Shared scratch buffers in the network gave 23–40 wrong answers of 192 here, issue 17.)"""
    import concurrent.futures
    import httpx
    sn.save(net, tmp_path / "model.npz")
    p, url = start_lab(cwd=tmp_path)
    rng = np.random.default_rng(7)
    asks = [(path, {"pixels": rng.random(784).round(3).tolist(), "label": int(k % 10)})
            for k in range(96) for path in ("api/backprop", "api/predict")]

    def answer(client, ask):
        path, body = ask
        r = client.post(url + path, json=body, timeout=60)
        assert r.status_code == 200, r.text
        out = r.json()
        return out if path == "api/predict" else {k: out[k] for k in ("loss", "gradients", "deltas", "W1_unit")}

    try:
        model_once_up(url)
        headers = {"Origin": url.rstrip("/")}
        with httpx.Client(headers=headers) as alone:
            serial = [answer(alone, ask) for ask in asks]
        learners = [httpx.Client(headers=headers) for _ in range(16)]
        try:
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                together = list(pool.map(lambda k: answer(learners[k % 16], asks[k]), range(len(asks))))
        finally:
            for c in learners:
                c.close()
        wrong = [k for k, (a, b) in enumerate(zip(serial, together)) if a != b]
        assert wrong == [], f"{len(wrong)} of {len(asks)} concurrent answers differ from the serial ones"
        for (path, body), out in zip(asks[::2], serial[::2]):        # and the serial ones are the library's
            _, grads = net.loss_and_grads(np.reshape(body["pixels"], (1, -1)), np.array([body["label"]]))
            np.testing.assert_allclose(np.reshape(out["gradients"]["W2"]["values"], (101, 10)), grads[1], atol=1e-7)
    finally:
        p.terminate()
        p.wait(timeout=10)

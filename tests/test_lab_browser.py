"""The lab in a real browser: Debian's Chromium driven by Playwright, against ``scratchnet lab`` running as
a real uvicorn process on a free port.

The network is the seed network trained briefly on real MNIST (downloaded once into the cache). Digits
are drawn with mouse moves along recorded strokes; the tests assert what the page shows, and every test
fails if the page asks for anything that is not on the local server.

``SCRATCHNET_LAB_SCREENSHOTS=docs/images/lab python -m pytest tests/test_lab_browser.py -k screenshots``
writes the README's screenshots.
"""

import base64
import contextlib
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import scratchnet as sn
from conftest import CHROMIUM, needs_chromium
from scratchnet.training import Recipe, train

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser, needs_chromium]
ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SEED_FORMULA = "[1 H1]^T (yhat - y) W3^T H2(1-H2)"


def ellipse(cx, cy, rx, ry, n=28):
    return [(round(cx + rx * math.cos(-math.pi / 2 + 2 * math.pi * k / n)),
             round(cy + ry * math.sin(-math.pi / 2 + 2 * math.pi * k / n))) for k in range(n + 1)]


# Strokes on the 280×280 pad, in pad pixels, one list of points per stroke (recorded once, then tidied).
STROKES = {
    0: [ellipse(140, 140, 62, 95)],
    1: [[(135, 40), (145, 240)]],
    2: [[(80, 95), (95, 60), (140, 42), (185, 60), (195, 100), (175, 140), (80, 235), (215, 232)]],
    3: [[(80, 65), (130, 42), (185, 60), (190, 105), (135, 135), (190, 160), (200, 205), (150, 238), (80, 222)]],
    4: [[(160, 40), (75, 170), (215, 170)], [(175, 90), (175, 245)]],
    7: [[(70, 50), (210, 50), (120, 240)]],
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder holding model.npz: the seed network after 3 epochs on MNIST (about 95 % on the test set)."""
    folder = tmp_path_factory.mktemp("lab")
    X, y = sn.load_mnist("train")
    net = sn.seed_network(seed=0)
    with threadpool_limits(1):                  # on a busy machine, spinning BLAS threads cost 5× more
        train(net, X, y, Recipe(epochs=3, shift=1))
    sn.save(net, folder / "model.npz", {"test_accuracy": net.evaluate(*sn.load_mnist("test"))[1]})
    return folder


@contextlib.contextmanager
def lab_server(folder):
    """``scratchnet lab model.npz --port 0 --no-browser`` in ``folder``; yields its URL once it answers, and
    always stops it."""
    import httpx
    process = subprocess.Popen([sys.executable, "-c", "from scratchnet.cli import main; main()", "lab", "model.npz",
                                "--port", "0", "--no-browser"],
                               cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        match = re.fullmatch(r"lab: (http://127\.0\.0\.1:\d+/)\n", process.stdout.readline())
        assert match, process.stderr.read()
        url = match.group(1)
        for _ in range(200):
            try:
                httpx.get(url + "api/model", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def server(folder):
    """A lab shared by the tests that do not change its network."""
    with lab_server(folder) as url:
        yield url


@pytest.fixture
def own_server(folder):
    """A lab of its own, for a test that trains (and so replaces the network)."""
    with lab_server(folder) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, server, width=1280, height=900):
    """A page on the lab that records every request outside the server and every script error. Each page
    is a browser context of its own (its own cookies): a learner of their own."""
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.outside, page.errors = [], []

    def route(r):
        if r.request.url.startswith(server) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            page.outside.append(r.request.url)
            r.abort()
    page.route("**/*", route)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(server)
    page.wait_for_selector("body[data-ready=true]")
    return page


@pytest.fixture
def page(browser, server):
    page = open_page(browser, server)
    yield page
    try:
        assert page.outside == [], f"the page asked for things outside the local server: {page.outside}"
        assert page.errors == [], page.errors
    finally:
        close(page)


def close(page):
    """Close ``page`` and its browser context (the learner's cookies)."""
    context = page.context
    page.close()
    context.close()


def draw(page, strokes, steps=6):
    """Draw ``strokes`` on the pad with mouse moves (several pointer events per segment)."""
    box = page.locator("#draw").bounding_box()
    sx, sy = box["width"] / 280, box["height"] / 280
    for stroke in strokes:
        (x, y), rest = stroke[0], stroke[1:]
        page.mouse.move(box["x"] + x * sx, box["y"] + y * sy)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x * sx, box["y"] + y * sy, steps=steps)
        page.mouse.up()


def prediction_after(page):
    """The prediction once the pad's last stroke has been read (no prediction pending)."""
    page.wait_for_function("() => document.getElementById('draw').dataset.busy === '0' && "
                           "document.getElementById('prediction').dataset.final === '1'")
    return page.inner_text("#prediction")


@pytest.mark.parametrize("digit", sorted(STROKES))
def test_a_drawn_digit_is_read(page, digit):
    draw(page, STROKES[digit])
    assert prediction_after(page) == str(digit)
    assert page.locator("#cells-H1 .cell").count() == 100
    assert page.locator("#cells-H2 .cell").count() == 10
    assert page.locator("#prob-bars .bar.top").count() == 1
    lit = page.evaluate("() => { const c = document.getElementById('input28').getContext('2d');"
                        " return c.getImageData(0, 0, 28, 28).data.filter((v, i) => i % 4 === 0 && v > 128).length; }")
    assert 30 < lit < 400                                     # the 28×28 input the network saw is shown


def test_the_page_reads_its_picture_exactly_as_scratchnet_predict(page, folder, tmp_path):
    sent = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/api/predict") else None)
    draw(page, STROKES[4])
    shown = prediction_after(page)
    picture = tmp_path / "drawing.png"
    picture.write_bytes(base64.b64decode(sent[-1]["image"].split(",", 1)[1]))
    from conftest import run_cli
    result = run_cli("predict", folder / "model.npz", picture, "--json")
    predicted = json.loads(result.stdout)[0]
    assert str(predicted["digit"]) == shown == "4"
    assert page.inner_text("#confidence") == f"({100 * max(predicted['probabilities']):.1f} %)"


def test_clear_and_draw_again_reads_the_new_digit(page):
    draw(page, STROKES[1])
    assert prediction_after(page) == "1"
    page.click("#clear")
    assert page.inner_text("#prediction") == "–" and page.locator("#prob-bars .bar").count() == 0
    assert page.is_hidden("#bp-body")                           # Backprop forgets the cleared digit too
    draw(page, STROKES[7])
    assert prediction_after(page) == "7"


def test_pointing_at_a_unit_shows_its_formula_with_numbers(page):
    draw(page, STROKES[3])
    prediction_after(page)
    page.hover("#cells-H2 .cell >> nth=3")
    text = page.inner_text("#unit-formula")
    assert re.search(r"H₂\[3\] = σ\(z₂\[3\]\) = σ\(−?\d+\.\d+\) = \d\.\d{4}", text), text
    assert "z₂ = [1 H₁] W₂   (1×101 · 101×10 → 1×10)" in text
    page.focus("#cells-yhat .cell >> nth=3")
    softmax = page.inner_text("#unit-formula")                # the denominator is shown, with its value
    assert re.match(r"ŷ\[3\] = softmax\(z₃\)\[3\] = exp\(z₃\[3\]\) / Σⱼ exp\(z₃\[j\]\) = exp\(−?\d+\.\d+\) / "
                    r"(\d+\.\d+) = \S+ / \1 = \S+", softmax), softmax


def test_backprop_for_the_drawn_digit(page):
    draw(page, STROKES[7])
    prediction_after(page)
    page.wait_for_selector("#bp-body:not([hidden])")
    assert page.input_value("#label") == "7"
    loss7 = page.inner_text("#loss")
    assert loss7.startswith("L = −log ŷ[7]")
    assert page.locator("#d-delta1 .cell").count() == 100 and page.locator("#d-delta3 .cell").count() == 10
    page.hover("#d-delta3 .cell >> nth=7")
    assert re.match(r"δ₃\[7\] = ŷ\[7\] − y\[7\] = \d\.\d{4} − 1 = −\d\.\d{4}", page.inner_text("#map-formula"))
    page.select_option("#label", "2")                          # a wrong label: a much larger loss
    page.wait_for_function("() => document.getElementById('loss').textContent.startsWith('L = −log ŷ[2]')")
    assert float(page.inner_text("#loss").split("= ")[-1]) > float(loss7.split("= ")[-1])
    page.hover("#map-W2", position={"x": 3 * 22 + 5, "y": 2})   # row 0, column 3: the bias row
    assert page.inner_text("#map-formula").startswith("∂L/∂W₂[0, 3] = [1 H₁][0] · δ₂[3] = 1 · ")
    box = page.locator("#map-W2").bounding_box()
    assert box["height"] > 1.5 * box["width"]                  # 101 rows × 10 columns
    page.click("#step")
    page.wait_for_selector("#step-bars .bar.after")
    assert "→" in page.inner_text("#step-loss")
    assert page.locator("#equations > li > math").count() == 14  # every equation of `scratchnet derive`
    assert page.locator("#equations .fact math").count() > 10     # the explanations' math is math too


def test_backprop_sends_the_input_back_not_the_picture(page):
    sent = {}
    page.on("request", lambda r: sent.setdefault(r.url.rsplit("/", 1)[-1], []).append(r.post_data_json)
            if r.method == "POST" else None)
    draw(page, STROKES[2])
    prediction_after(page)
    page.wait_for_selector("#bp-body:not([hidden])")
    page.click("#step")
    page.wait_for_selector("#step-bars .bar.after")
    pictures = [b for b in sent["predict"] if "image" in b]
    assert pictures and all(set(b) <= {"pixels", "label", "unit", "lr"} for b in sent["backprop"] + sent["step"])
    assert sent["backprop"][-1]["pixels"] == sent["step"][-1]["pixels"] and len(sent["step"][-1]["pixels"]) == 784
    assert re.match(r"ŷ\[2\]: \d+\.\d % → \d+\.\d %; loss \d\.\d{4} → \d\.\d{4} with η = 1\.", page.inner_text("#step-loss"))


def test_each_grid_is_one_tab_stop_with_arrow_keys_inside(page):
    grids = page.locator("[role=grid]")
    assert grids.count() == 6                                  # H1, H2, ŷ, δ3, δ2, δ1
    for k in range(grids.count()):
        assert grids.nth(k).locator('[role=gridcell][tabindex="0"]').count() == 1
    assert page.locator('#layers [tabindex="0"]').count() == 3
    draw(page, STROKES[0])
    prediction_after(page)
    page.focus("#clear")
    page.keyboard.press("Tab")                                 # from Clear, the next stop is H1's grid
    assert page.evaluate("() => document.activeElement.closest('[role=grid]').id") == "cells-H1"
    assert page.inner_text("#unit-formula").startswith("H₁[0] = σ(z₁[0])")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    assert page.inner_text("#unit-formula").startswith("H₁[11] = σ(z₁[11])")
    assert page.evaluate("() => document.activeElement.dataset.index") == "11"
    page.keyboard.press("End")
    assert page.inner_text("#unit-formula").startswith("H₁[19] ")
    page.keyboard.press("Tab")                                 # one press leaves the 100 cells
    assert page.evaluate("() => document.activeElement.closest('[role=grid]').id") == "cells-H2"
    page.keyboard.press("Shift+Tab")                           # and back: the grid remembers its cell
    assert page.evaluate("() => document.activeElement.dataset.index") == "19"
    page.wait_for_selector("#bp-body:not([hidden])")
    page.focus("#d-delta1 [tabindex='0']")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")                               # picks the hidden unit for ∂L/∂W1
    picked = page.evaluate("() => document.activeElement.dataset.index")
    page.wait_for_function("u => document.getElementById('unit-name').textContent === u", arg=picked)
    page.focus("#map-W2")                                      # a heat map is one stop too, with a cursor
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#map-formula").startswith("∂L/∂W₂[1, 1] = [1 H₁][1] · δ₂[1] = H₁[0] · δ₂[1] = ")


def test_digit_labels_and_the_empty_true_label(page):
    assert page.input_value("#label") == "" and page.is_disabled("#label")   # no 0 before anything is drawn
    assert page.locator("#label option:checked").inner_text() == "–"
    for grid in ("cells-yhat", "cells-H2", "d-delta3"):
        labels = page.locator(f"#{grid} + .col-labels span").all_inner_texts()
        assert labels == [str(k) for k in range(10)], (grid, labels)
    assert page.locator("#cells-H1 + .col-labels span").count() == 10
    assert page.inner_text("#sec-draw h2") == "1. Draw a digit"           # a digit network's words
    assert "the 10,000 MNIST test images" in page.inner_text("#sec-mistakes .lead")
    rows = page.locator("#cells-H1").locator("xpath=../..").locator(".row-labels span").all_inner_texts()
    assert rows == [str(10 * r) for r in range(10)]
    placeholder = page.get_attribute("#formula", "placeholder")
    assert "H1]^T" not in placeholder and "yhat - y" not in placeholder and "∂L/∂W₂" in placeholder
    draw(page, STROKES[1])
    prediction_after(page)
    page.wait_for_selector("#bp-body:not([hidden])")
    assert page.input_value("#label") == "1" and page.is_enabled("#label")


def test_one_colour_scale_for_every_picture_and_each_scale_shown(page):
    draw(page, STROKES[4])
    prediction_after(page)
    page.wait_for_selector("#bp-body:not([hidden])")
    ids = ["delta3", "delta2", "delta1", "W3", "W2", "W1"]
    page.wait_for_timeout(500)                                 # the label follows the prediction: settled
    boxes = page.evaluate("ids => ids.map(i => { const b = document.getElementById('scale-' + i);"
                          " return [b.dataset.scale, b.innerText]; })", ids)   # one moment, not one update each
    own = {i: scale for i, (scale, _) in zip(ids, boxes)}
    assert len(set(own.values())) > 1                          # each picture on its own scale at first
    for i, (scale, text) in zip(ids, boxes):                   # the bar's ends and its own largest |value|
        assert f"−{scale}" in text and re.search(r"largest \|.+\|: \S+", text), text
    delta1 = page.evaluate("() => getComputedStyle(document.querySelector('#d-delta1 .cell.picked')).backgroundColor")
    page.check("#shared-scale")
    page.wait_for_function("() => document.getElementById('shared-why').textContent.includes('one scale')")
    shared = {i: page.get_attribute(f"#scale-{i}", "data-scale") for i in ids}
    assert set(shared.values()) == {"1.000"}                   # ±1: |δ3| = |ŷ − y| ≤ 1
    for i in ids:
        assert "largest |" in page.inner_text(f"#scale-{i}") and own[i] in page.inner_text(f"#scale-{i}")
    paler = page.evaluate("() => getComputedStyle(document.querySelector('#d-delta1 .cell.picked')).backgroundColor")
    white = lambda rgb: sum(int(v) for v in re.findall(r"\d+", rgb)[:3])
    assert white(paler) > white(delta1)                        # δ1 is small: on the shared scale it fades
    page.uncheck("#shared-scale")
    assert {i: page.get_attribute(f"#scale-{i}", "data-scale") for i in ids} == own


def test_the_first_layers_tiles_are_units_numbered_from_0(page):
    page.wait_for_function("() => Number(document.getElementById('weights').dataset.updates) >= 1")
    page.locator("#weights").scroll_into_view_if_needed()
    box = page.locator("#weights").bounding_box()
    step = box["width"] / 10                                   # 100 units: 10 tiles a row
    for row, col in [(0, 0), (4, 2), (9, 9)]:
        page.mouse.move(box["x"] + (col + 0.5) * step, box["y"] + (row + 0.5) * step)
        unit = 10 * row + col
        assert page.inner_text("#weights-unit") == f"unit {unit}: W1[1:, {unit}], its 784 input weights as 28×28"


def test_the_seeds_formula_is_diagnosed_as_it_is_typed(page):
    page.click("#formula")
    page.keyboard.type(SEED_FORMULA, delay=5)
    page.wait_for_function("() => document.getElementById('verdict').textContent === 'shape_error'")
    diagnoses = page.locator("#diagnoses li").all_inner_texts()
    assert "elementwise_product" in diagnoses and "bias_row" in diagnoses
    page.wait_for_selector("#formula-math math")                 # the formula as math comes right after
    assert page.locator("#formula-math math").count() == 1
    assert "W3[1:]" in page.inner_text("#check-message")
    page.fill("#formula", "[1 H1]^T (((yhat - y) W3[1:]^T) * H2 * (1 - H2))")
    page.wait_for_function("() => document.getElementById('verdict').textContent === 'correct'")
    page.fill("#formula", "[1 H1]^T (yhat - y")
    page.wait_for_function("() => document.getElementById('verdict').textContent === 'cannot read it'")
    assert "^" in page.inner_text("#check-message")


RAW_NOTATION = re.compile(r"(?:(?<![A-Za-z])[A-Za-zδσΣŷ]|\])_[{(A-Za-z0-9]|\\[a-zA-Z]+|\^T|\^\{|(?<![A-Za-z])[σf]'")
"""Plain-text or LaTeX notation that should be typeset on the page: W_l, H_{l-1}, Σ_k, [1 H]_i, \frac, ^T,
σ' (a code such as bias_row is a name, not notation)."""


def test_the_pages_prose_has_no_raw_notation(page):
    """The page's words (not its math, code, or the learner's own formula as typed) write W_l, H_{l-1},
    Σ_i Σ_k, ^T and σ' typeset: subscripts, ᵀ, σ′ (issue 17). The seed's formula brings the hints."""
    draw(page, STROKES[3])
    prediction_after(page)
    page.wait_for_selector("#bp-body:not([hidden])")
    page.hover("#d-delta2 .cell >> nth=4")
    page.click("#seed-formula")
    page.wait_for_function("() => document.querySelectorAll('#hints li').length >= 2")
    texts = page.evaluate("""() => { const out = [], w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n; (n = w.nextNode());) {
        if (n.parentElement.closest('math, code, textarea, script, style, pre, #check-message, #failure, #trace')) continue;
        if (n.textContent.trim()) out.push(n.textContent.trim());
      } return out; }""")
    assert any("H" in t for t in page.locator("#hints li").all_inner_texts())
    assert page.locator("#hints li sub").count() > 3                         # H_{l-1} is H with a subscript
    raw = [t for t in texts if RAW_NOTATION.search(t)]
    assert raw == [], raw
    assert page.locator("#equations math").count() > 10                      # the derivation is math, not text


def test_the_pages_own_numbers_have_one_minus_sign(page):
    """What the page formats itself (the training status and chart) is written as the server writes every
    other number (`explain.number`): one minus sign −, in the exponent too, no '+'."""
    from scratchnet.lab.explain import number
    values = [-2.98e-4, 2.98e-4, -4.52031, 0.0108, 12345.0, -12345.0, 0.0, 1e-7]
    shown = page.evaluate("async (vs) => { const { fmt } = await import('/static/js/state.js');"
                          " return vs.map((v) => fmt(v)); }", values)
    assert shown == [number(v) for v in values]
    assert shown[0] == "−2.98e−4" and "-" not in "".join(shown) and "+" not in "".join(shown)


def test_training_updates_the_chart_and_stop_ends_it(browser, own_server, folder, tmp_path):
    own_server_folder = folder
    page = open_page(browser, own_server)
    page.fill("input[name=epochs]", "100")
    page.fill("input[name=examples]", "20000")
    weights_before = int(page.get_attribute("#weights", "data-updates") or 0)
    page.click("#train-start")
    page.wait_for_function("() => Number(document.getElementById('train-chart').dataset.points) >= 3", timeout=60000)
    assert page.is_disabled("#train-start") and page.is_enabled("#train-stop")
    page.click("#train-stop")
    page.wait_for_function("() => document.getElementById('train-status').textContent.startsWith('stopped')",
                           timeout=30000)
    assert page.is_enabled("#train-start")
    assert int(page.get_attribute("#weights", "data-updates")) > weights_before
    page.wait_for_function("() => document.getElementById('model-info').textContent.includes('trained in the lab')")
    with page.expect_download() as download:                 # Save: the learner's network, to their computer
        page.click("#save")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    mine = sn.load(saved)
    served = sn.load(Path(own_server_folder) / "model.npz")
    assert [W.shape for W in mine.weights] == [(785, 100), (101, 10), (11, 10)]
    assert any(not np.array_equal(a, b) for a, b in zip(mine.weights, served.weights))   # trained, not the served one
    points = int(page.get_attribute("#train-chart", "data-points"))
    page.reload()                                            # a reload (or another tab) shows the same run
    page.wait_for_function("() => document.getElementById('train-status').textContent.startsWith('stopped')")
    assert int(page.get_attribute("#train-chart", "data-points")) == points
    assert page.outside == [] and page.errors == []
    close(page)


def record_predictions(page):
    """The page's /api/predict answers, as they come (read them after `prediction_after`)."""
    answers = []
    page.on("response", lambda r: answers.append(r) if r.url.endswith("/api/predict") else None)
    return answers


def drawn_and_checked(page, answers, strokes, net):
    """Draw ``strokes``, and check that what the page shows is ``net``'s prediction for the input the
    page's last /api/predict answer says the network saw; returns those probabilities."""
    page.click("#clear")
    page.evaluate("() => window.scrollTo(0, 0)")                  # the pad in view (Start scrolled away)
    draw(page, strokes)
    digit = prediction_after(page)
    last = answers[-1].json()
    expected = net.predict_proba(np.asarray(last["input"], dtype=np.float64).reshape(1, -1))[0]
    np.testing.assert_allclose(last["probabilities"], expected, rtol=1e-5, atol=1e-7)
    assert digit == str(int(np.argmax(expected)))
    assert page.inner_text("#confidence") == f"({100 * expected.max():.1f} %)"
    return np.asarray(last["probabilities"])


def in_page(page, script, *args):
    """Run ``script`` (an async function's body) in the page: requests carry that learner's cookie."""
    return page.evaluate(f"async (args) => {{ {script} }}", list(args))


def downloaded(page, path):
    """The learner's network, downloaded from their own page."""
    data = in_page(page, "const r = await fetch('/api/model/download'); const b = new Uint8Array(await r.arrayBuffer());"
                         " let s = ''; for (const c of b) s += String.fromCharCode(c); return btoa(s);")
    path.write_bytes(base64.b64decode(data))
    return sn.load(path)


def status_is(page, pattern, timeout=60000):
    page.wait_for_function("p => new RegExp(p).test(document.getElementById('train-status').textContent)",
                           arg=pattern, timeout=timeout)
    return page.inner_text("#train-status")


def test_two_learners_train_at_once_and_one_who_only_draws_keeps_the_served_model(browser, own_server, folder,
                                                                                  tmp_path):
    """Issue 17's 'done when': two learners (two browser contexts) train at the same time, neither sees
    the other's network, and a third, who only draws, sees the served model throughout. Learner A
    continues from their network (the default), B starts from fresh weights; on a 2-core machine the
    queue has one slot, so B waits while A trains."""
    served = sn.load(Path(folder) / "model.npz")
    a, b, c = (open_page(browser, own_server) for _ in range(3))
    drawer = record_predictions(c)
    try:
        seen = [drawn_and_checked(c, drawer, STROKES[3], served)]
        assert page_model(c)["own"] is False
        assert a.is_checked("input[name=start][value=yours]")            # Start continues by default
        assert a.inner_text("#start-yours") == "your network (loaded from model.npz)"
        a.fill("input[name=epochs]", "100")                              # A trains until stopped
        a.fill("input[name=examples]", "5000")
        a.click("#train-start")
        status_is(a, r"^epoch \d+, batch .* · from your network \(loaded from model\.npz\)$")
        b.fill("input[name=examples]", "2000")
        b.check("input[name=start][value=fresh]")
        b.evaluate("() => { const s = document.getElementById('train-status'); window.said = [];"
                   " new MutationObserver(() => said.push(s.textContent)).observe(s, {childList: true,"
                   " characterData: true, subtree: true}); }")
        b.click("#train-start")
        status_is(b, r"^(waiting|training|epoch).* · from fresh weights \(seed 0\)$")
        a_now = a.inner_text("#train-status")
        assert a.is_enabled("#train-stop") and not a_now.startswith(("finished", "stopped", "failed")), a_now
        if len(os.sched_getaffinity(0)) <= 2:                         # one training slot: B is queued behind A
            said = b.evaluate("() => said")
            assert "waiting: your run is next (another learner's run is training) · from fresh weights (seed 0)" \
                in said, (said, a_now)
        seen.append(drawn_and_checked(c, drawer, STROKES[7], served))  # the drawer, while both runs are going
        a.click("#train-stop")
        stopped = status_is(a, r"^stopped")
        assert stopped.endswith("· from your network (loaded from model.npz)") and "test accuracy" in stopped
        finished = status_is(b, r"^finished", timeout=120000)
        assert re.fullmatch(r"finished: trained 1 epoch on 2,000 images; test accuracy \d+\.\d\d % on 10,000 test "
                            r"images · from fresh weights \(seed 0\)", finished), finished
        assert int(b.get_attribute("#train-chart", "data-held-out")) >= 3           # the held-out curve
        seen.append(drawn_and_checked(c, drawer, STROKES[2], served))
        mine_a, mine_b = page_model(a), page_model(b)
        assert mine_a["own"] and mine_a["source"].startswith("partly trained in the lab") \
            and mine_a["source"].endswith("from the served model, loaded from model.npz")
        assert mine_b["own"] and mine_b["source"].startswith("trained in the lab: 1 epoch, 16 batches, from fresh weights")
        assert page_model(c)["own"] is False and page_model(c)["source"] == "loaded from model.npz"
        net_a, net_b = downloaded(a, tmp_path / "a.npz"), downloaded(b, tmp_path / "b.npz")
        for one, other in [(net_a, net_b), (net_a, served), (net_b, served)]:
            assert any(not np.array_equal(u, v) for u, v in zip(one.weights, other.weights))
        # each learner's own page draws with their own network, and the drawer's still with the served one
        for page, net in [(a, net_a), (b, net_b)]:
            drawn_and_checked(page, record_predictions(page), STROKES[3], net)
        seen.append(drawn_and_checked(c, drawer, STROKES[3], served))
        np.testing.assert_array_equal(seen[0], seen[-1])                 # the same digit, the same answer
        assert c.is_disabled("#reset") and a.is_enabled("#reset")
        a.click("#reset")                                                # A goes back to the served model
        status_is(a, r"^your network is the served model again \(loaded from model\.npz\)$")
        assert page_model(a)["own"] is False and a.is_disabled("#reset")
        assert a.inner_text("#start-yours") == "your network (loaded from model.npz)"
        drawn_and_checked(a, record_predictions(a), STROKES[3], served)
        assert page_model(b)["own"] is True                              # B keeps their own
        for page in (a, b, c):
            assert page.outside == [] and page.errors == [], (page.outside, page.errors)
    finally:
        for page in (a, b, c):
            close(page)


def page_model(page):
    """/api/model as the page's learner gets it."""
    return in_page(page, "return await (await fetch('/api/model')).json();")


def stale_cookie(page, server):
    """Give the page's learner a cookie of a session the lab no longer has (ended, or the lab restarted)."""
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "scratchnet_lab", "value": "a-session-that-ended", "url": server}])


def test_a_learner_whose_session_ended_is_told_so(page, server):
    assert page.is_hidden("#session-note")
    streams = []
    page.on("request", lambda r: streams.append(r) if r.url.endswith("/api/train/events") else None)
    stale_cookie(page, server)
    draw(page, STROKES[1])                                     # the next request finds the session gone
    assert prediction_after(page) == "1"
    page.wait_for_selector("#session-note:not([hidden])")
    note = page.inner_text("#session-note")
    assert note.startswith("Your lab session had ended (no request from this page for 120 minutes, or the lab "
                           "was restarted), so you are starting again from the served model."), note
    assert "unless you saved it" in note
    page.wait_for_function("() => document.getElementById('model-info').textContent.includes('loaded from model.npz')")
    assert len(streams) == 1                    # the page follows the new session's runs, not the ended one's
    stale_cookie(page, server)
    page.reload()                                              # a page opened with an ended session's cookie
    page.wait_for_selector("body[data-ready=true]")
    assert page.is_visible("#session-note") and page.inner_text("#session-note") == note
    page.click("#session-ok")                                  # read: it goes
    assert page.is_hidden("#session-note")
    page.reload()                                              # the new session is fine: no note
    page.wait_for_selector("body[data-ready=true]")
    assert page.is_hidden("#session-note")


def test_a_tab_open_before_the_run_follows_it_and_can_stop_it(browser, own_server):
    """Two tabs of one learner (one browser context): a run started in one shows in the other, which was
    open and idle before it started, and Stop there ends it for both."""
    first = open_page(browser, own_server)
    second = first.context.new_page()
    second.goto(own_server)
    second.wait_for_selector("body[data-ready=true]")
    try:
        first.fill("input[name=epochs]", "100")
        first.fill("input[name=examples]", "5000")
        first.click("#train-start")
        status_is(second, r"^epoch \d+, batch .* · from your network \(loaded from model\.npz\)$")
        second.wait_for_function("() => Number(document.getElementById('train-chart').dataset.points) >= 2")
        assert second.is_disabled("#train-start") and second.is_enabled("#train-stop")
        second.click("#train-stop")
        for tab in (first, second):
            assert status_is(tab, r"^stopped: stopped in epoch").endswith("· from your network (loaded from model.npz)")
            assert tab.is_enabled("#train-start") and tab.is_enabled("#reset")
        assert first.outside == [] and first.errors == []
    finally:
        second.close()
        close(first)


def test_a_mistake_loads_into_draw_and_backprop(page):
    page.click("#mistakes-load")
    page.wait_for_selector("#mistakes button", timeout=60000)
    first = page.locator("#mistakes button").first
    true, predicted = re.match(r"(\d) → (\d)", first.inner_text()).groups()
    tile_percent = re.search(r"\((\d+\.\d %)\)", first.inner_text()).group(1)
    first.click()
    assert prediction_after(page) == predicted
    assert page.inner_text("#confidence") == f"({tile_percent})"     # the tile and Draw round alike
    page.wait_for_function("t => document.getElementById('label').value === t", arg=true)


def test_the_page_fits_a_phone(browser, server):
    page = open_page(browser, server, width=390, height=844)
    try:
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        draw(page, STROKES[1])
        assert prediction_after(page) == "1"                   # the pad works at phone width too
        assert page.outside == [] and page.errors == []
    finally:
        close(page)


def test_screenshots(browser, own_server, tmp_path):
    """The README's screenshots: each section at desktop width, and the page's top at phone width."""
    out = Path(os.environ.get("SCRATCHNET_LAB_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    server = own_server
    page = open_page(browser, server, width=1280, height=900)
    try:
        page.add_style_tag(content=".top { position: static; } .card { scroll-margin-top: 0; }")
        draw(page, STROKES[3])
        prediction_after(page)
        page.hover("#cells-H1 .cell >> nth=42")
        page.locator("#sec-draw").screenshot(path=out / "draw.png")
        page.wait_for_selector("#bp-body:not([hidden])")
        page.click("#step")
        page.wait_for_selector("#step-bars .bar.after")
        page.locator("#d-delta2 .cell >> nth=4").hover()
        page.wait_for_selector("#equations math")
        page.locator("#sec-backprop").screenshot(path=out / "backprop.png")
        page.click("#seed-formula")
        page.wait_for_function("() => document.getElementById('verdict').textContent === 'shape_error'")
        page.wait_for_selector("#check-derivation math")
        page.locator("#sec-check").screenshot(path=out / "check.png")
        page.fill("input[name=epochs]", "2")
        page.click("#train-start")
        page.wait_for_function("() => document.getElementById('train-status').textContent.startsWith('finished')",
                               timeout=120000)
        page.wait_for_function("() => document.getElementById('start-yours').textContent.includes('trained in')")
        page.wait_for_timeout(300)                             # the section as it settles after the run
        page.evaluate("() => document.getElementById('sec-train').scrollIntoView()")   # (what lies below the
        page.locator("#sec-train").screenshot(path=out / "train.png")                  #  viewport is not painted)
        page.click("#mistakes-load")
        page.wait_for_selector("#mistakes button")
        page.locator("#sec-mistakes").screenshot(path=out / "mistakes.png")
        assert page.outside == [] and page.errors == []
    finally:
        close(page)
    phone = open_page(browser, server, width=390, height=844)
    try:
        draw(phone, STROKES[2])
        prediction_after(phone)
        phone.locator("#sec-draw").screenshot(path=out / "phone.png")
    finally:
        close(phone)
    for name in ("draw", "backprop", "check", "train", "mistakes", "phone"):
        assert (out / f"{name}.png").stat().st_size > 10000

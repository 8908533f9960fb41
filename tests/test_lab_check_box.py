"""The lab's check box offers what ``scratchnet check`` does (issue 20): ``--factor`` (one link's Jacobian)
and ``--bias separate`` (``z = H W + b``, with ``b_l`` as a target), through the JSON API and on the page.

The API's verdicts are compared with `scratchnet.check` called from Python with the same options; bad
values are one JSON error. The browser test drives Debian's Chromium against ``scratchnet lab`` (the
fixtures of test_lab_browser.py) on an untrained seed network: the check box needs only its shapes.
"""

import warnings

import pytest

import scratchnet as sn
from conftest import needs_chromium

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():                 # Starlette 1.x suggests httpx2; httpx is what is installed
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient  # noqa: E402

from scratchnet.lab import Lab, LabModel, create_app  # noqa: E402

BASE = "http://127.0.0.1:8000"
SEPARATE_B2_WRONG = "((yhat - y) W3^T) H2 (1 - H2)"
"""∂L/∂b2 with ⊙ written as a matrix product (the seed's mistake in textbook notation): shape_error,
elementwise_product."""
SEPARATE_B2_RIGHT = "((yhat - y) W3^T) * H2 * (1 - H2)"
"""∂L/∂b2 for one example, z = H W + b: W3 has no bias row to drop."""


@pytest.fixture(scope="module")
def client():
    lab = Lab(LabModel(sn.seed_network(seed=3), source="test net", trained=True))
    with TestClient(create_app(lab), base_url=BASE) as c:
        yield c


def verdict_of(answer):
    return answer["verdict"], answer["diagnoses"], answer["corrected"], answer["message"]


def library(formula, **options):
    return verdict_of(sn.check(formula, seed=0, **options).to_json())


@pytest.mark.parametrize("formula, body, options", [
    (SEPARATE_B2_WRONG, {"wrt": "b2", "bias": "separate"}, {"wrt": "b2", "bias": "separate"}),
    (SEPARATE_B2_RIGHT, {"wrt": "b2", "bias": "separate"}, {"wrt": "b2", "bias": "separate"}),
    ("sum(((yhat - y) W3^T) * H2 * (1 - H2))", {"wrt": "b2", "bias": "separate", "batch": 4},
     {"wrt": "b2", "bias": "separate", "batch": 4}),
    ("W3^T (yhat - y)", {"wrt": "b3", "bias": "separate", "convention": "column"},
     {"wrt": "b3", "bias": "separate", "convention": "column"}),
    ("W3", {"factor": "dz3/dH2"}, {"factor": "dz3/dH2"}),
    ("W3[1:]^T", {"factor": "dz3/dH2"}, {"factor": "dz3/dH2"}),
    ("H2(1-H2)", {"factor": "dH2/dz2"}, {"factor": "dH2/dz2"}),
    ("W3^T", {"factor": "dz3/dH2", "bias": "separate"}, {"factor": "dz3/dH2", "bias": "separate"}),
    ("x", {"factor": "dz2/dW2"}, {"factor": "dz2/dW2"}),
])
def test_the_check_box_answers_what_scratchnet_check_says(client, formula, body, options):
    r = client.post("/api/check", json={"formula": formula, **body})
    assert r.status_code == 200, r.text
    assert verdict_of(r.json()) == library(formula, **options)


def test_a_separate_bias_and_a_factor_are_checked_as_such(client):
    """Not the gradient for W2 in the seed's notation, whatever the page would have sent before."""
    wrong = client.post("/api/check", json={"formula": SEPARATE_B2_WRONG, "wrt": "b2", "bias": "separate"}).json()
    assert (wrong["verdict"], wrong["wrt"], wrong["bias"]) == ("shape_error", "b2", "separate")
    assert wrong["diagnoses"] == ["elementwise_product"] and wrong["corrected"] == SEPARATE_B2_RIGHT
    assert wrong["expected_shape"] == [1, 10]
    right = client.post("/api/check", json={"formula": SEPARATE_B2_RIGHT, "wrt": "b2", "bias": "separate"}).json()
    assert right["verdict"] == "correct"
    link = client.post("/api/check", json={"formula": "W3", "factor": "dz3/dH2"}).json()
    assert (link["verdict"], link["factor"], link["expected_shape"]) == ("shape_error", "∂z3/∂H2", [10, 10])
    assert set(link["diagnoses"]) == {"bias_row", "transposed"} and link["jacobian_note"].startswith("Convention")
    assert "∂A<sub>i</sub>/∂B<sub>j</sub>" in link["jacobian_note_html"]     # typeset, as the hints are
    assert "jacobian_note_html" not in wrong
    # with separate biases W3 has no bias row: the same formula is then only transposed
    link = client.post("/api/check", json={"formula": "W3", "factor": "dz3/dH2", "bias": "separate"}).json()
    assert link["diagnoses"] == ["transposed"]


@pytest.mark.parametrize("body, words", [
    ({"bias": "sideways"}, '"bias" must be row'),
    ({"bias": 1}, '"bias" must be row'),
    ({"bias": None}, '"bias" must be row'),
    ({"factor": 3}, '"factor" must be'),
    ({"factor": ""}, '"factor" must be'),
    ({"factor": "d" * 41}, '"factor" must be'),
    ({"factor": "dz3"}, "a factor is written dA/dB"),
    ({"factor": "dz9/dH2"}, "not a quantity of this network"),
    ({"factor": "dH2/dz3"}, "does not depend on"),
    ({"factor": "dz2/db2"}, "not a quantity of this network"),           # b2 only with separate biases
    ({"wrt": "b2"}, "separate-bias notation"),                           # the same for a gradient
    ({"wrt": "b9", "bias": "separate"}, "b9"),
])
def test_bad_values_are_one_json_error(client, body, words):
    r = client.post("/api/check", json={"formula": "W3", **body})
    assert 400 <= r.status_code < 500, r.text
    answer = r.json()
    assert set(answer) == {"error"} and words in answer["error"] and "\n" not in answer["error"]


def test_the_page_is_told_the_bias_targets_and_the_links(client):
    pictures = client.get("/api/derivation").json()["pictures"]
    assert [q["formula"] for q in pictures["bias_targets"]] == ["b3", "b2", "b1"]
    links = [d["formula"] for d in pictures["links"]]
    assert links[:4] == ["dyhat/dz3", "dz3/dW3", "dz3/db3", "dz3/dH2"] and "dH1/dz1" in links
    for link in links:                                   # every link the page offers is one the check takes
        r = client.post("/api/check", json={"formula": "x", "factor": link, "bias": "separate"})
        assert r.status_code == 200, (link, r.text)


# ---------------------------------------------------------------------------------------- in a browser

@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    pytest.importorskip("playwright.sync_api")
    import test_lab_browser as lb
    folder = tmp_path_factory.mktemp("check-box")
    sn.save(sn.seed_network(seed=0), folder / "model.npz", {})
    with lb.lab_server(folder) as url, lb.playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=lb.CHROMIUM, args=lb.ARGS)
        try:
            page = lb.open_page(browser, url)
            yield page
            assert page.outside == [] and page.errors == [], (page.outside, page.errors)
        finally:
            browser.close()


def verdict_is(page, verdict):
    page.wait_for_function("v => document.getElementById('verdict').textContent === v", arg=verdict)


@pytest.mark.browser
@needs_chromium
def test_the_page_checks_a_separate_bias_and_a_link(browser_page, tmp_path):
    page = browser_page
    placeholder = page.get_attribute("#formula", "placeholder")
    assert "∂L/∂W₂" in placeholder and "yhat - y" not in placeholder and "H1]^T" not in placeholder
    assert page.locator("#wrt option[value=b2]").count() == 0             # no b_l in the seed's notation
    page.select_option("#bias", "separate")
    assert page.locator("#convention option:checked").inner_text() == "row: z = H W + b"
    assert page.locator("#wrt option").all_inner_texts()[:6] == ["W₃", "W₂", "W₁", "b₃", "b₂", "b₁"]
    page.focus("#wrt")                                                     # the keyboard picks b2:
    for _ in range(3):                                                     # W2 → W1 → b3 → b2
        page.keyboard.press("ArrowDown")
    assert page.input_value("#wrt") == "b2"
    assert "∂L/∂b₂" in page.get_attribute("#formula", "placeholder")
    page.click("#formula")
    page.keyboard.type(SEPARATE_B2_WRONG, delay=5)
    verdict_is(page, "shape_error")
    assert page.locator("#diagnoses li").all_inner_texts() == ["elementwise_product"]
    assert "∂L/∂b2" in page.inner_text("#check-message") and SEPARATE_B2_RIGHT in page.inner_text("#check-message")
    page.wait_for_selector("#check-derivation math")
    assert page.inner_text("#formula-math").startswith("∂L/∂b₂")
    page.locator("#sec-check").screenshot(path=tmp_path / "separate-b2.png")
    page.fill("#formula", SEPARATE_B2_RIGHT)
    verdict_is(page, "correct")

    page.fill("#formula", r"\frac{\partial L}{\partial W_2} = " + SEPARATE_B2_RIGHT)   # a left side that says otherwise
    verdict_is(page, "not checked")
    assert "left-hand side is ∂L/∂W2" in page.inner_text("#check-message")
    page.fill("#formula", SEPARATE_B2_RIGHT)
    verdict_is(page, "correct")

    page.select_option("#check-kind", "factor")
    assert page.is_hidden("#wrt") and page.is_visible("#factor") and page.is_disabled("#batch")
    page.focus("#check-kind")                                              # Tab skips the hidden ∂L/∂ picker
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "factor"
    assert page.input_value("#factor") == "dz3/dH2"
    assert "dz3/db3" in page.locator("#factor option").evaluate_all("os => os.map(o => o.value)")
    verdict_is(page, "shape_error")                                        # ((yhat - y) W3^T) … is a row, no Jacobian
    page.fill("#formula", "W3")
    page.wait_for_function("() => document.getElementById('diagnoses').textContent === 'transposed'")
    assert page.inner_text("#jacobian-note").startswith("Convention: the Jacobian")
    page.fill("#formula", "W3^T")
    verdict_is(page, "correct")
    page.select_option("#bias", "row")                                     # the seed's W3 has a bias row
    assert page.locator("#factor option[value='dz3/db3']").count() == 0
    page.wait_for_function("() => document.getElementById('diagnoses').textContent.includes('bias_row')")
    page.locator("#sec-check").screenshot(path=tmp_path / "factor.png")

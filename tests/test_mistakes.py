"""Real learners' mistakes, collected from public questions, each checked as a teacher would judge it.

Every fixture in ``tests/fixtures/mistakes/`` names its source (a link), quotes the learner's own words,
translates the mistake into the formula language for the network it was about, and gives the verdict and
diagnoses a teacher would give. docs/mistakes.md lists them. Every fixture must be judged exactly: the
verdict and the set of diagnoses; a fixture with an ``xfail`` reason is a known miss, a strict xfail.
"""

import importlib
import json
from pathlib import Path

import pytest

from scratchnet.derivation import repairs
from scratchnet.derivation.check import check

check_module = importlib.import_module("scratchnet.derivation.check")

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "mistakes").glob("*.json"))
KEYS = {"id", "source", "learner_words", "network", "check", "translation", "expected", "teacher",
        "mistake_class"}


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def known_diagnoses():
    """Every diagnosis code the checker can give (``check.DIAGNOSES`` where it exists)."""
    return set(getattr(check_module, "DIAGNOSES", ())) | set(repairs.CODES)


def test_there_are_at_least_fifteen_sourced_mistakes():
    fixtures = [load(p) for p in FIXTURES]
    assert len(fixtures) >= 15
    for f in fixtures:
        assert KEYS <= set(f), f["id"]
        assert f["source"]["url"].startswith("https://"), f["id"]
        assert f["learner_words"].strip() and f["teacher"].strip()
        assert f["expected"]["verdict"] in ("correct", "shape_error", "wrong_value")
    urls = {f["source"]["url"] for f in fixtures}
    assert len(urls) >= 10                                  # many learners, not one question retold


def test_the_four_named_classes_are_covered():
    codes = {code for p in FIXTURES for code in load(p)["expected"]["diagnoses"]}
    classes = " ".join(load(p)["mistake_class"] for p in FIXTURES)
    assert "batch_factor" in codes and "1/B applied twice" in classes          # the mean's 1/B twice
    assert "softmax_jacobian" in codes                                         # softmax taken as diagonal
    assert "activation_derivative" in codes                                    # σ′ of the wrong layer / at H
    assert "missing_transpose" in codes                                        # a transpose left out


def _judged(path):
    """A fixture as a test case; one the checker does not yet judge as the teacher would carries its
    ``xfail`` reason and is a strict xfail (it fails the suite the day it passes, to be promoted)."""
    reason = load(path).get("xfail")
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(path, marks=marks, id=path.stem)


@pytest.mark.parametrize("path", [_judged(p) for p in FIXTURES])
def test_the_checker_judges_the_mistake_as_a_teacher_would(path):
    fixture = load(path)
    expected = fixture["expected"]
    assert set(expected["diagnoses"]) <= known_diagnoses()
    net = fixture["network"]
    kwargs = dict(fixture["check"], sizes=tuple(net["sizes"]), activations=tuple(net["activations"]),
                  convention=net["convention"], batch=net["batch"])
    if net["bias"] != "row":
        kwargs["bias"] = net["bias"]
    result = check(**kwargs)
    assert result.verdict == expected["verdict"], result.message
    assert set(result.diagnoses) == set(expected["diagnoses"]), result.message
    if expected["verdict"] != "correct":
        assert result.hints or result.message


def test_docs_list_every_mistake_with_its_link():
    text = (Path(__file__).parent.parent / "docs" / "mistakes.md").read_text(encoding="utf-8")
    for path in FIXTURES:
        fixture = load(path)
        assert fixture["id"] in text and fixture["source"]["url"] in text, fixture["id"]

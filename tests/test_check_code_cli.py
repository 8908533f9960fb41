"""``scratchnet check-code``: exit 0 / 1 / 2, the JSON object, and one line (no traceback, none of
scratchnet's frames) for every kind of code that cannot be checked."""

import json
import os

import pytest

from conftest import assert_one_line_error, run_cli

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "learner_code")
BAD = os.path.join(HERE, "bad")


def test_correct_code_exits_0(invoke):
    result = invoke("check-code", os.path.join(HERE, "correct_column.py"), "--convention", "column")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Verdict: correct" in result.stdout and "At B = 1: right in every layer." in result.stdout


def test_a_mistake_exits_1_with_the_layer_and_the_code(invoke):
    result = invoke("check-code", os.path.join(HERE, "planted", "batch_factor.py"))
    assert result.returncode == 1
    out = result.stdout
    assert "Verdict: wrong_value  diagnoses: batch_factor" in out
    assert "First wrong layer: 3" in out and "Layers 2, 1 are wrong only because of it" in out
    assert "At B = 1 every gradient is right" in out
    assert "right: δ3 = (ŷ - y) / B" in out and "Hint: " in out


def test_json(invoke):
    result = invoke("check-code", os.path.join(HERE, "planted", "missing_transpose.py"), "--json", "--batch", "3")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["verdict"] == "wrong_value" and data["exit_code"] == 1
    assert data["diagnoses"] == ["missing_transpose"] and data["first_wrong_layer"] == 2
    assert data["batch"] == 3 and set(data["batches"]) == {"3", "1"}
    layer = {r["layer"]: r for r in data["layers"]}
    assert layer[3]["right"] and not layer[2]["right"] and layer[1]["status"] == "inherited"
    assert layer[2]["shape"] == [101, 10] and layer[2]["where"].startswith("W2[")
    assert data["mistakes"][0]["corrected"][0] == {"left": "δ2", "right": "(δ3 W3[1:]ᵀ) ⊙ σ'(z2)"}


def test_a_shape_mismatch_in_the_code_is_a_shape_error_at_their_line(invoke):
    result = invoke("check-code", os.path.join(HERE, "seed_learner.py"), "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["verdict"] == "shape_error" and data["diagnoses"] == ["bias_row"]
    crash = data["batches"]["4"]["shape_error_in_code"]
    assert crash["where"] == "seed_learner.py:37" and crash["shapes"] == [[10], [11]]


def test_options_reach_the_check(invoke):
    result = invoke("check-code", os.path.join(HERE, "correct_nielsen.py"), "--loss", "mse", "--bias", "separate",
                    "--convention", "column", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["loss"] == "mse"
    result = invoke("check-code", os.path.join(HERE, "correct_class.py"), "--layers", "784,32,16,12,10",
                    "--activations", "tanh,relu,sigmoid")
    assert result.returncode == 0, result.stdout
    wrong = invoke("check-code", os.path.join(HERE, "correct_nielsen.py"), "--bias", "separate", "--convention",
                   "column")                                      # mse code checked as cross-entropy
    assert wrong.returncode == 1


BAD_CASES = [
    ("syntax_error.py", [], "does not import: SyntaxError at syntax_error.py:4"),
    ("import_error.py", [], "ModuleNotFoundError at import_error.py:2"),
    ("raises.py", [], "KeyError: 0 at raises.py:8"),
    ("hangs.py", ["--timeout", "2"], "did not return within 2 s"),
    ("hangs_on_import.py", ["--timeout", "2"], "did not return within 2 s"),
    ("returns_none.py", [], "returned None"),
    ("returns_nan.py", [], "NaN or infinite"),
    ("wrong_count.py", [], "returned 2 items for a network of 3 layers"),
    ("not_arrays.py", [], "dW1 is a str, not an array"),
    ("exits.py", [], "SystemExit"),
]


@pytest.mark.parametrize("name, options, fragment", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_code_that_cannot_be_checked_is_one_line_and_exit_2(name, options, fragment):
    result = run_cli("check-code", os.path.join(BAD, name), *options, timeout=60)
    assert_one_line_error(result, 2, fragment)
    assert "scratchnet/" not in result.stderr and result.stdout == ""


def test_code_that_cannot_be_checked_is_one_json_object_with_json(invoke):
    result = invoke("check-code", os.path.join(BAD, "raises.py"), "--json")
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert data["kind"] == "raised" and data["line"] == "raises.py:8" and "KeyError" in data["error"]


@pytest.mark.parametrize("args, fragment", [
    (["missing.py"], "no such file: missing.py"),
    ([os.path.join(HERE, "correct_row.py") + ":nope"], "has no function nope (it defines backprop"),
    ([os.path.join(HERE, "correct_row.py") + ":not-a-name"], "is not a Python function name"),
])
def test_a_missing_file_or_function_is_exit_2(invoke, args, fragment):
    assert_one_line_error(invoke("check-code", *args), 2, fragment)


@pytest.mark.parametrize("args, fragment", [
    (["--bias", "both"], "--bias"), (["--batch", "0"], "--batch"), (["--output", "linear"], "--output"),
    (["--loss", "hinge"], "--loss"), (["--timeout", "0"], "--timeout"),
])
def test_bad_options_are_usage_errors(invoke, args, fragment):
    result = invoke("check-code", os.path.join(HERE, "correct_row.py"), *args)
    assert_one_line_error(result, 2, fragment)

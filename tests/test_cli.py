"""The command line's behaviour on bad input: one line on stderr, a non-zero exit, no traceback."""

import json
import subprocess
import sys

import pytest

import scratchnet as sn
from scratchnet.modelfile import save


def run(*args, env=None):
    """Run ``scratchnet ARGS`` in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-c", "from scratchnet.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120, env=env)


def assert_one_line_error(result, code, *fragments):
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("scratchnet: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_unknown_option():
    assert_one_line_error(run("train", "--bogus"), 2, "No such option", "scratchnet train --help")


def test_unknown_command():
    assert_one_line_error(run("trian"), 2, "No such command")


@pytest.mark.parametrize("args, fragment", [
    (["--layers", "784,a,10"], "--layers"),
    (["--activations", "sigmoid,swish,softmax"], "swish"),
    (["--optimizer", "rmsprop"], "rmsprop"),
    (["--epochs", "0"], "--epochs"),
    (["--lr", "-1"], "--lr"),
    (["--dataset", "cifar"], "cifar"),
])
def test_bad_train_options(args, fragment):
    assert_one_line_error(run("train", *args), 2, fragment)


def test_layers_and_activations_must_agree(tmp_path):
    assert_one_line_error(run("train", "--layers", "784,100,10", "--out", str(tmp_path / "m.npz")), 1,
                          "need 2 activations, got 3")


def test_train_refuses_to_overwrite_a_foreign_file(tmp_path):
    precious = tmp_path / "notes.npz"
    precious.write_text("my notes")
    assert_one_line_error(run("train", "--out", str(precious)), 1, "not a scratchnet model")
    assert precious.read_text() == "my notes"


def test_train_into_a_missing_folder(tmp_path):
    assert_one_line_error(run("train", "--out", str(tmp_path / "no" / "m.npz")), 1, "does not exist")


def test_evaluate_missing_and_corrupt_models(tmp_path):
    assert_one_line_error(run("evaluate", str(tmp_path / "none.npz")), 1, "does not exist")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 garbage")
    assert_one_line_error(run("evaluate", str(tmp_path / "bad.npz")), 1, "not a usable scratchnet model")


def test_evaluate_with_a_damaged_data_file(tmp_path):
    net = sn.Network([784, 10], ["softmax"])
    save(net, tmp_path / "m.npz")
    data = tmp_path / "data"
    data.mkdir()
    for name in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"]:
        (data / name).write_bytes(b"\0\0\x08\x01\0\0\0\x01\x05")
    result = run("evaluate", str(tmp_path / "m.npz"), "--data-dir", str(data))
    assert_one_line_error(result, 1, "does not match the SHA-256", "delete it")
    assert (data / "t10k-images-idx3-ubyte").read_bytes() == b"\0\0\x08\x01\0\0\0\x01\x05"


def test_data_command_reports_missing_files(tmp_path):
    result = run("data", "--data-dir", str(tmp_path), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["verified"] is False
    assert [f["state"] for f in report["files"]] == ["missing"] * 4


def test_debug_shows_the_traceback(tmp_path):
    result = run("evaluate", str(tmp_path / "none.npz"), "--debug")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_bare_command_shows_help():
    result = run()
    assert result.returncode == 0 and "Commands:" in result.stdout and result.stderr == ""

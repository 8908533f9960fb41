"""The command line's behaviour on bad input: one line on stderr, a non-zero exit, no traceback.

Also the promises of issue 11 that need a real process: work refused before it starts (unwritable
folders, arrays that cannot fit in memory), permission problems said as such, the umask honoured, and
the terminal output of ``train`` (download messages, epoch lines above the progress bar).
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import tinydata
from conftest import assert_one_line_error, run_cli
from conftest import needs_permissions, run_cli_without_override as without_override

import scratchnet as sn
from scratchnet.data.checksums import FILES
from scratchnet.modelfile import save

run = run_cli


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
    # without --activations, train picks them as derive and check do (tests/test_data_train.py)
    assert_one_line_error(run("train", "--layers", "784,100,10", "--activations", "sigmoid,sigmoid,softmax",
                              "--out", tmp_path / "m.npz"), 2, "need 2 activations, got 3")


def test_train_refuses_to_overwrite_a_foreign_file(tmp_path):
    precious = tmp_path / "notes.npz"
    precious.write_text("my notes")
    assert_one_line_error(run("train", "--out", precious), 1, "not a scratchnet model")
    assert precious.read_text() == "my notes"


def test_train_into_a_missing_folder(tmp_path):
    assert_one_line_error(run("train", "--out", tmp_path / "no" / "m.npz"), 1, "does not exist")


def test_evaluate_missing_and_corrupt_models(tmp_path):
    assert_one_line_error(run("evaluate", tmp_path / "none.npz"), 1, "does not exist")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 garbage")
    assert_one_line_error(run("evaluate", tmp_path / "bad.npz"), 1, "not a usable scratchnet model")


def test_evaluate_with_a_damaged_data_file(tmp_path):
    net = sn.Network([784, 10], ["softmax"])
    save(net, tmp_path / "m.npz")
    data = tmp_path / "data"
    data.mkdir()
    for name in FILES.values():
        (data / name).write_bytes(b"\0\0\x08\x01\0\0\0\x01\x05")
    result = run("evaluate", tmp_path / "m.npz", "--data-dir", data)
    assert_one_line_error(result, 1, "does not match the SHA-256", "delete it")
    assert (data / "t10k-images-idx3-ubyte").read_bytes() == b"\0\0\x08\x01\0\0\0\x01\x05"


def test_data_command_reports_missing_files(tmp_path):
    result = run("data", "--data-dir", tmp_path, "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["verified"] is False
    assert [f["state"] for f in report["files"]] == ["missing"] * 4


def test_debug_shows_the_traceback(tmp_path):
    result = run("evaluate", tmp_path / "none.npz", "--debug")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_bare_command_shows_help():
    result = run()
    assert result.returncode == 0 and "Commands:" in result.stdout and result.stderr == ""


# ------------------------------------------------------------------ fail before the work, not after

@needs_permissions
def test_an_unwritable_model_folder_is_refused_before_training(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    result = without_override("train", "--out", folder / "m.npz", "--data-dir", tmp_path / "no-data")
    assert_one_line_error(result, 1, f"folder {folder} is not writable")
    assert not (tmp_path / "no-data").exists()                    # refused before the data was looked at


@needs_permissions
def test_an_unwritable_data_folder_is_refused_before_downloading(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o555)
    result = without_override("data", "--fetch", "--data-dir", folder)
    assert_one_line_error(result, 1, f"folder {folder} is not writable")
    assert "fetching" not in result.stderr and not list(folder.iterdir())


def test_layers_that_cannot_fit_in_memory_are_refused_before_allocating(tmp_path):
    result = run("train", "--layers", "784,100000000,10", "--activations", "relu,softmax",
                 "--out", tmp_path / "m.npz", "--data-dir", tmp_path / "no-data")
    assert_one_line_error(result, 1, "would need about", "TB of memory", "smaller layers")
    assert not (tmp_path / "no-data").exists()


# ------------------------------------------------------------------ permissions

@needs_permissions
def test_unreadable_model_is_reported_as_permission_denied(tmp_path):
    save(sn.Network([784, 10], ["softmax"]), tmp_path / "m.npz")
    (tmp_path / "m.npz").chmod(0)
    result = without_override("predict", tmp_path / "m.npz", "x.png")
    assert_one_line_error(result, 1, "permission denied")
    result = without_override("evaluate", tmp_path / "m.npz")
    assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1
    assert "permission denied" in result.stderr or "is not readable" in result.stderr
    assert "damaged" not in result.stderr and "delete" not in result.stderr


@needs_permissions
def test_unreadable_data_file_is_not_called_damaged(tmp_path):
    data = tinydata.make(tmp_path / "data", n_train=50, n_test=20)
    (data / "t10k-labels-idx1-ubyte").chmod(0)
    save(sn.Network([784, 10], ["softmax"]), tmp_path / "m.npz")
    status = without_override("data", "--data-dir", data, "--json")
    states = {f["file"]: f["state"] for f in json.loads(status.stdout)["files"]}
    assert states["t10k-labels-idx1-ubyte"] == "unreadable"
    result = without_override("evaluate", tmp_path / "m.npz", "--data-dir", data)
    assert_one_line_error(result, 1, "t10k-labels-idx1-ubyte", "permission denied")
    assert "damaged" not in result.stderr and "delete" not in result.stderr


def test_trained_model_honours_the_umask(tmp_path):
    data = tinydata.make(tmp_path / "data", n_train=100, n_test=20)
    for umask, mode in ((0o022, 0o644), (0o077, 0o600)):
        out = tmp_path / f"m{umask:o}.npz"
        result = subprocess.run(["sh", "-c", f'umask {umask:03o} && exec "$@"', "sh",
                                 *tinydata.command("train", "--epochs", "1", "--out", out)],
                                capture_output=True, text=True, timeout=120, env=tinydata.environment(data))
        assert result.returncode == 0, result.stderr
        assert out.stat().st_mode & 0o777 == mode


# ------------------------------------------------------------------ what the terminal shows

def test_first_run_says_what_it_fetches_from_where_and_that_it_verifies(tmp_path):
    """A fresh data folder, the miniature served by a local 'mirror': the messages name the source and
    the checksum check, and nothing is left in the temporary folder."""
    import functools
    import gzip
    import http.server
    import threading
    source = tinydata.make(tmp_path / "source", n_train=100, n_test=20)
    served = tmp_path / "served"
    served.mkdir()
    for name in FILES.values():
        (served / f"{name}.gz").write_bytes(gzip.compress((source / name).read_bytes()))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    code = tinydata.RUNNER.replace("from scratchnet.cli import main",
                                   f"from scratchnet.data import sources; sources.MIRRORS['mnist'] = [{base!r}]\n"
                                   "from scratchnet.cli import main")
    env = {**tinydata.environment(source), "SCRATCHNET_DATA": str(tmp_path / "fresh"), "TMPDIR": str(tmp_path)}
    try:
        result = subprocess.run([sys.executable, "-c", code, "train", "--epochs", "1", "--out", tmp_path / "m.npz"],
                                capture_output=True, text=True, timeout=120, env=env)
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert f"fetching mnist (4 files) from {base}" in result.stderr
    assert f"downloading {base}train-images-idx3-ubyte.gz" in result.stderr
    assert "verifying the SHA-256 checksums" in result.stderr and "checksums match" in result.stderr
    assert "epoch 1 0/1" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh", "m.npz", "served", "source"]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux to be a real terminal")
def test_epoch_lines_print_cleanly_above_the_progress_bar(tmp_path):
    """In a real terminal (tmux), while the bar is live and after: every epoch line whole, once, in order."""
    import shlex
    import time
    data = tinydata.make(tmp_path / "data", n_train=1500, n_test=50)
    env = tinydata.environment(data)
    command = " ".join(["env", *(shlex.quote(f"{k}={env[k]}") for k in ("SCRATCHNET_DATA", "TINY_SHA256")),
                        *map(shlex.quote, tinydata.command("train", "--epochs", "6", "--batch-size", "8",
                                                           "--out", tmp_path / "m.npz")),
                        "; echo FINISHED; sleep 60"])
    session = f"scratchnet-test-{os.getpid()}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True)
    try:
        screens, deadline = [], time.monotonic() + 120
        while time.monotonic() < deadline:
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                                    text=True).stdout
            screens.append(screen)
            if "FINISHED" in screen:
                break
            time.sleep(0.2)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    assert "FINISHED" in screens[-1]
    assert any("━" in screen for screen in screens)                       # the bar was live at some point
    for screen in screens:
        lines = [line for line in screen.splitlines() if line.strip()]
        epochs = [line for line in lines if line.startswith("epoch ") and "loss" in line]
        assert [int(line.split()[1].split("/")[0]) for line in epochs] == list(range(1, len(epochs) + 1))
        for line in epochs:
            assert re.fullmatch(r"epoch +\d+/6  train loss \d\.\d{4}  train acc \d\.\d{4}  lr \S+  \d+\.\d\d s", line), line
        bars = [line for line in lines if "━" in line]
        assert len(bars) <= 1 and (not bars or lines.index(bars[0]) == len(epochs))   # bar below the lines
    final = [line for line in screens[-1].splitlines() if line.strip()]
    assert len([line for line in final if line.startswith("epoch ")]) == 6 and not any("━" in line for line in final)


@pytest.mark.parametrize("args, code, words", [
    (["train", "--json", "--epochs", "0"], 2, "--epochs"),                         # a usage error
    (["gradcheck", "--json", "--layers", "784,20000000,10"], 1, "GB of memory"),   # the library's refusal
])
def test_with_json_an_error_is_also_one_json_object_on_stdout(invoke, args, code, words):
    result = invoke(*args)
    assert_one_line_error(result, code, words)
    error = json.loads(result.stdout)
    assert list(error) == ["error"] and words in error["error"]
    assert result.stderr.strip() == f"scratchnet: error: {error['error']}"

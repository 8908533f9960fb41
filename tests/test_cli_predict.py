"""``scratchnet predict``: good and bad pictures, exit codes, JSON, --show-input.

The model is made by hand so that the answer is known: a one-layer network ``784 → 10 softmax`` whose
class 1 responds to a vertical 20×10 bar and class 7 to a horizontal 10×20 bar, where the preprocessing
puts them in the 28×28 field.
"""

import json

import numpy as np
import pytest
from conftest import run_cli as run
from conftest import needs_permissions, run_cli_without_override
from PIL import Image

from scratchnet.modelfile import save
from scratchnet.network import Network
from scratchnet.preprocess import load_digit


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("predict")
    net = Network([784, 10], ["softmax"], seed=0)
    net.weights[0][...] = 0
    vertical = np.zeros((28, 28))
    vertical[5:25, 10:20] = 1
    horizontal = np.zeros((28, 28))
    horizontal[10:20, 5:25] = 1
    net.weights[0][1:, 1] = 0.05 * (vertical.ravel() - horizontal.ravel())
    net.weights[0][1:, 7] = 0.05 * (horizontal.ravel() - vertical.ravel())
    net.weights[0][0, 3] = 1.0                          # a bias: class 3 comes third
    save(net, d / "model.npz")
    # Dark ink on light paper, off-centre in a large picture; and light ink on dark, as a JPEG.
    one = np.full((300, 200), 230, np.uint8)
    one[30:130, 120:170] = 20
    Image.fromarray(one).save(d / "one.png")
    seven = np.full((240, 400, 3), (20, 30, 25), np.uint8)
    seven[150:200, 40:140] = (240, 240, 230)
    Image.fromarray(seven).save(d / "seven.jpg", quality=90)
    (d / "notes.txt").write_text("not a picture")
    (d / "empty.png").write_bytes(b"")
    Image.fromarray(np.full((40, 40), 255, np.uint8)).save(d / "blank.png")
    return d


def test_predicts_the_top_three(files):
    result = run("predict", str(files / "model.npz"), str(files / "one.png"), str(files / "seven.jpg"))
    assert result.returncode == 0, result.stderr
    one, seven = result.stdout.splitlines()
    # "PATH: 1  97.3%   (then 3   1.2%   0   0.2%)": the top three, ties broken by the lower digit
    assert one.startswith(str(files / "one.png") + ": ")
    assert [w for w in one.split(": ", 1)[1].replace("(then", "").split() if "%" not in w] == ["1", "3", "0"]
    assert seven.startswith(str(files / "seven.jpg") + ": 7 ")
    assert seven.split("(then")[1].split()[0] == "3"


def test_json(files):
    result = run("predict", str(files / "model.npz"), str(files / "seven.jpg"), str(files / "one.png"),
                 "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [o["image"] for o in out] == [str(files / "seven.jpg"), str(files / "one.png")]
    assert [o["digit"] for o in out] == [7, 1]
    for o in out:
        assert len(o["probabilities"]) == 10
        assert sum(o["probabilities"]) == pytest.approx(1.0, abs=1e-5)
        assert o["probabilities"][o["digit"]] == max(o["probabilities"])


def test_bad_files_are_reported_and_the_rest_predicted(files):
    bad = ["notes.txt", "empty.png", "blank.png", "missing.png"]
    result = run("predict", str(files / "model.npz"), *[str(files / b) for b in bad], str(files / "one.png"),
                 "--json")
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == len(bad) and "Traceback" not in result.stderr
    for line, name, fragment in zip(errors, bad, ["not an image", "empty", "no ink", "no such file"]):
        assert line.startswith("scratchnet: error: ") and name in line and fragment in line
    out = json.loads(result.stdout)
    assert [o["image"].rsplit("/", 1)[-1] for o in out] == bad + ["one.png"]
    assert [o["digit"] for o in out] == [None] * 4 + [1]
    assert all(o["error"] for o in out[:4])


def test_bad_file_without_json(files):
    result = run("predict", str(files / "model.npz"), str(files / "empty.png"), str(files / "seven.jpg"))
    assert result.returncode == 1
    assert "seven.jpg" in result.stdout and "empty.png" not in result.stdout
    assert result.stderr.count("\n") == 1 and "empty.png" in result.stderr


def test_show_input_saves_what_the_network_saw(files, tmp_path):
    copy = tmp_path / "other"
    copy.mkdir()
    (copy / "one.png").write_bytes((files / "one.png").read_bytes())        # the same name twice
    result = run("predict", str(files / "model.npz"), str(files / "one.png"), str(copy / "one.png"),
                 str(files / "seven.jpg"), "--show-input", str(tmp_path / "seen"), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    saved = sorted(p.name for p in (tmp_path / "seen").iterdir())
    assert saved == ["one-2.png", "one.png", "seven.png"]
    for o, name in zip(out, ["one.png", "one-2.png", "seven.png"]):
        assert o["input"].endswith(name)
        seen = np.asarray(Image.open(tmp_path / "seen" / name))
        assert seen.shape == (28, 28) and seen.dtype == np.uint8
        assert np.array_equal(seen, load_digit(o["image"]))


def test_missing_model_and_wrong_model(files, tmp_path):
    result = run("predict", str(tmp_path / "nope.npz"), str(files / "one.png"))
    assert result.returncode == 1 and result.stderr.startswith("scratchnet: error: ")
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr
    save(Network([16, 10], ["softmax"]), tmp_path / "small.npz")
    result = run("predict", str(tmp_path / "small.npz"), str(files / "one.png"))
    assert result.returncode == 1 and "28×28" in result.stderr
    result = run("predict", str(files / "model.npz"))
    assert result.returncode == 2 and "IMAGE" in result.stderr


@needs_permissions
def test_an_unreadable_picture_among_good_ones(files, tmp_path):
    locked = tmp_path / "locked.png"
    locked.write_bytes((files / "one.png").read_bytes())
    locked.chmod(0)
    result = run_cli_without_override("predict", files / "model.npz", files / "one.png", locked, files / "seven.jpg")
    assert result.returncode == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [str(files / "one.png"),
                                                                          str(files / "seven.jpg")]
    assert result.stderr.strip() == f"scratchnet: error: {locked}: cannot be read: permission denied"

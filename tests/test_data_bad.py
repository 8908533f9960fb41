"""Bad data (issue 19): every case is refused by `scratchnet train --data` with one line that names the
file and the row or picture, exit 1, and nothing is trained or saved."""

import numpy as np
import pytest

from conftest import assert_one_line_error
from owndata import csv_text, mnist, write_csv, write_folder


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SCRATCHNET_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def train(invoke, tmp_path):
    """``train(data, *more)`` runs ``scratchnet train --data DATA`` for one quick epoch; asserts that no
    model was saved when it fails."""
    def run(data, *more):
        out = tmp_path / "model.npz"
        result = invoke("train", "--data", data, "--layers", "784,16,10", "--epochs", "1", "--out", out, *more)
        if result.returncode != 0:
            assert not out.exists()
        return result
    return run


def rows(n=40):
    return mnist(n)


def lines_of(tmp_path, X, y, edit, name="train.csv"):
    """A CSV with line ``number`` (1-based, the header is line 1) replaced by ``edit(line)``."""
    text = csv_text(X, y).split(b"\n")
    for number, change in edit.items():
        text[number - 1] = change(text[number - 1])
    path = tmp_path / name
    path.write_bytes(b"\n".join(text))
    return path


def test_a_good_csv_trains(train, tmp_path):
    X, y = rows(200)
    assert train(write_csv(tmp_path / "ok.csv", X, y)).returncode == 0


def test_ragged_row(train, tmp_path):
    X, y = rows()
    path = lines_of(tmp_path, X, y, {7: lambda line: line.rsplit(b",", 3)[0]})
    assert_one_line_error(train(path), 1, "train.csv line 7 has 782 values", "785")


def test_non_numeric_pixel(train, tmp_path):
    X, y = rows()
    path = lines_of(tmp_path, X, y, {12: lambda line: line.replace(b",0,", b",abc,", 1)})
    assert_one_line_error(train(path), 1, "train.csv line 12", "'abc'", "not a number")


def test_non_numeric_label_after_numbers(train, tmp_path):
    X, y = rows()
    path = lines_of(tmp_path, X, y, {9: lambda line: b"seven" + line[1:]})
    assert_one_line_error(train(path), 1, "train.csv line 9", "'seven'", "not a number")


def test_label_outside_the_classes(train, tmp_path):
    X, y = rows()
    path = lines_of(tmp_path, X, y, {20: lambda line: b"12" + line[1:]})
    assert_one_line_error(train(path), 1, "train.csv line 20", "label 12 is outside the classes 0…9")


def test_fractional_and_negative_labels(train, tmp_path):
    X, y = rows()
    assert_one_line_error(train(lines_of(tmp_path, X, y, {5: lambda line: b"3.5" + line[1:]})), 1,
                          "train.csv line 5", "not a whole number")
    assert_one_line_error(train(lines_of(tmp_path, X, y, {6: lambda line: b"-1" + line[1:]})), 1,
                          "train.csv line 6", "negative")


@pytest.mark.parametrize("value, words", [(b"256", "pixel value 256 is outside 0…255"),
                                          (b"-3", "pixel value -3 is outside 0…255"),
                                          (b"nan", "NaN"), (b"12.5", "not a whole number")])
def test_pixels_outside_range_or_nan(train, tmp_path, value, words):
    X, y = rows()
    path = lines_of(tmp_path, X, y, {15: lambda line: line.rsplit(b",", 1)[0] + b"," + value})
    assert_one_line_error(train(path), 1, "train.csv line 15", words)


def test_npz_pixels_outside_range_and_objects(train, tmp_path):
    X, y = rows()
    bad = X.astype(np.int16)
    bad[17, 300] = 300
    np.savez(tmp_path / "bad.npz", X=bad, y=y)
    assert_one_line_error(train(tmp_path / "bad.npz"), 1, "bad.npz: X[17]", "300 is outside 0…255")
    np.savez(tmp_path / "objects.npz", X=np.array([object()] * len(y)), y=y)
    assert_one_line_error(train(tmp_path / "objects.npz"), 1, "objects.npz", "never loaded (no pickle)")
    np.savez(tmp_path / "names.npz", X=X, y=y, class_names=np.array(["a", "b"]))
    assert_one_line_error(train(tmp_path / "names.npz"), 1, "names.npz: y[", "outside the classes 0…1")


def test_empty_class_folder(train, tmp_path):
    X, y = rows()
    write_folder(tmp_path / "digits", X, y, formats=("png",))
    (tmp_path / "digits" / "ten").mkdir()
    assert_one_line_error(train(tmp_path / "digits"), 1, "digits/ten is an empty class folder")


def test_single_class(train, tmp_path):
    X, y = rows()
    write_folder(tmp_path / "digits", X[y == 1], y[y == 1] * 0, names=["one"], formats=("png",))
    assert_one_line_error(train(tmp_path / "digits"), 1, "digits holds a single class (one)")
    path = write_csv(tmp_path / "ones.csv", X[y == 1], y[y == 1] * 0)
    assert_one_line_error(train(path), 1, "ones.csv holds a single class")


def test_class_names_differing_only_in_case(train, tmp_path):
    X, y = rows()
    keep = y < 2
    write_folder(tmp_path / "pets", X[keep], y[keep], names=["Cat", "cat"], formats=("png",))
    assert_one_line_error(train(tmp_path / "pets"), 1, "'Cat' and 'cat' differ only in case")


def test_unreadable_pictures_are_counted_and_named_then_skipped_on_request(train, tmp_path):
    X, y = rows(60)
    write_folder(tmp_path / "digits", X, y, formats=("png",))
    broken = [tmp_path / "digits" / "3" / "broken.png", tmp_path / "digits" / "5" / "cut.jpg",
              tmp_path / "digits" / "5" / "blank.png", tmp_path / "digits" / "7" / "empty.gif"]
    broken[0].write_bytes(b"not a picture at all")
    broken[1].write_bytes((tmp_path / "digits" / "5").glob("*.png").__next__().read_bytes()[:40])
    from PIL import Image
    Image.new("L", (40, 40), 255).save(broken[2])
    broken[3].write_bytes(b"")
    result = train(tmp_path / "digits")
    assert_one_line_error(result, 1, "4 of the 64 pictures in", "cannot be used", "broken.png",
                          "and 1 more", "--skip-bad")
    ok = train(tmp_path / "digits", "--skip-bad")
    assert ok.returncode == 0, ok.stderr
    assert "skipped 4 pictures" in ok.stderr and "broken.png" in ok.stderr


def test_test_set_with_a_class_the_training_set_lacks(train, tmp_path):
    X, y = rows(100)
    names = [str(k) for k in range(10)]
    write_folder(tmp_path / "train", X, y, formats=("png",))
    Xt, yt = mnist(30, "test")
    write_folder(tmp_path / "test", Xt, yt, names=names, formats=("png",))
    (tmp_path / "test" / "X").mkdir()
    write_folder(tmp_path / "extra", Xt[:2], np.zeros(2, int), names=["X"], formats=("png",))
    for p in (tmp_path / "extra" / "X").iterdir():
        p.rename(tmp_path / "test" / "X" / p.name)
    assert_one_line_error(train(tmp_path / "train", "--test-data", tmp_path / "test"), 1,
                          "test holds the class 'X' (2 pictures)", "which the training data", "lacks")


def test_a_picture_outside_any_class_folder(train, tmp_path):
    X, y = rows()
    paths = write_folder(tmp_path / "digits", X, y, formats=("png",))
    paths[0].rename(tmp_path / "digits" / "loose.png")
    assert_one_line_error(train(tmp_path / "digits"), 1, "loose.png is not inside a class folder")


def test_kaggle_test_csv_has_no_labels(train, tmp_path):
    X, _ = rows()
    text = b"\n".join([b",".join(f"pixel{j}".encode() for j in range(784))]
                      + [b",".join(str(v).encode() for v in x) for x in X])
    (tmp_path / "test.csv").write_bytes(text)
    assert_one_line_error(train(tmp_path / "test.csv"), 1, "test.csv has no label column")


def test_missing_and_unknown_data(train, tmp_path):
    assert_one_line_error(train(tmp_path / "nowhere.csv"), 1, "nowhere.csv does not exist")
    (tmp_path / "notes.txt").write_text("hello")
    assert_one_line_error(train(tmp_path / "notes.txt"), 1, "cannot tell what kind of data")


def test_test_options_need_data(invoke, tmp_path):
    result = invoke("train", "--test-split", "0.3", "--out", tmp_path / "m.npz")
    assert_one_line_error(result, 2, "--test-split goes with --data")

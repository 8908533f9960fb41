"""Loading your own data (issue 19): a folder of class folders, a Kaggle-layout CSV, an .npz and IDX files
all give the same arrays as the real MNIST they were written from; class names come from the data; the
converted arrays are cached by content."""

import numpy as np
import pytest

import scratchnet as sn
from owndata import csv_text, mnist, write_csv, write_folder
from scratchnet.data import converted, csvfile, folder
from scratchnet.data.idx import write_idx
from scratchnet.preprocess import load_digit


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SCRATCHNET_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_csv_with_header_gives_mnist_back(tmp_path):
    X, y = mnist(500)
    d = sn.load_csv(write_csv(tmp_path / "train.csv", X, y))
    assert np.array_equal(d.X, X) and np.array_equal(d.y, y)
    assert d.X.dtype == np.uint8 and d.y.dtype == np.int64
    assert d.class_names == tuple("0123456789")


def test_csv_without_header_and_with_label_elsewhere(tmp_path):
    X, y = mnist(300)
    plain = sn.load_csv(write_csv(tmp_path / "a.csv", X, y, header=False))
    named = sn.load_csv(write_csv(tmp_path / "b.csv", X, y, label_column=400))      # the column named label
    for d in (plain, named):
        assert np.array_equal(d.X, X) and np.array_equal(d.y, y)


def test_csv_with_text_labels_and_windows_line_ends(tmp_path):
    X, y = mnist(200)
    words = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    path = tmp_path / "words.csv"
    path.write_bytes(csv_text(X, y, labels=words[y]).replace(b"\n", b"\r\n"))
    d = sn.load_csv(path)
    assert d.class_names == tuple(sorted(words))
    assert [d.class_names[k] for k in d.y] == list(words[y])
    assert np.array_equal(d.X, X)


def test_csv_progress_reaches_the_end(tmp_path):
    X, y = mnist(5000)
    path = write_csv(tmp_path / "train.csv", X, y)
    calls = []
    sn.load_csv(path, on_progress=lambda done, total: calls.append((done, total)))
    assert len(calls) >= 3                                  # one per chunk of 2,000 rows
    assert calls[-1] == (path.stat().st_size, path.stat().st_size)
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))


def test_folder_is_made_mnist_like_exactly_as_predict_does(tmp_path):
    X, y = mnist(60)
    paths = write_folder(tmp_path / "digits", X, y)
    d = sn.load_folder(tmp_path / "digits")
    assert d.class_names == tuple("0123456789")
    expected = {str(p): load_digit(p).reshape(-1) for p in paths}       # what predict feeds the network
    order = sorted(paths, key=lambda p: (p.parent.name, p.name))
    assert np.array_equal(d.X, np.stack([expected[str(p)] for p in order]))
    assert list(d.y) == [int(p.parent.name) for p in order]
    assert {p.suffix for p in paths} == {".png", ".jpg", ".bmp", ".gif", ".webp"}


def test_folder_class_names_are_the_folder_names_light_on_dark_too(tmp_path):
    X, y = mnist(40)
    keep = y < 3
    names = ["cat", "dog", "emu"]
    write_folder(tmp_path / "pets", X[keep], y[keep], names=names, dark_on_light=False)
    (tmp_path / "pets" / "README.txt").write_text("not a picture")              # left alone
    (tmp_path / "pets" / "cat" / ".DS_Store").write_bytes(b"\0\1")
    d = sn.load_data(tmp_path / "pets")
    assert d.class_names == ("cat", "dog", "emu")
    assert np.bincount(d.y).tolist() == np.bincount(y[keep]).tolist()
    # the ink was light on dark: still bright on black, like MNIST
    assert d.X.reshape(-1, 28, 28)[:, 14, :].max() == 255 and d.X[:, 0].max() == 0


def test_npz_with_and_without_class_names(tmp_path):
    X, y = mnist(100)
    np.savez(tmp_path / "a.npz", X=X.reshape(-1, 28, 28), y=y)
    a = sn.load_data(tmp_path / "a.npz")
    assert np.array_equal(a.X, X) and a.class_names == tuple("0123456789")
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    np.savez(tmp_path / "b.npz", X=X.astype(np.float32), y=y, class_names=names)
    b = sn.load_data(tmp_path / "b.npz")
    assert np.array_equal(b.X, X) and b.class_names == tuple(names) and np.array_equal(b.y, y)


def test_idx_pair(tmp_path):
    X, y = mnist(100)
    write_idx(tmp_path / "mine-images-idx3-ubyte", X.reshape(-1, 28, 28))
    write_idx(tmp_path / "mine-labels-idx1-ubyte", y)
    for path in (tmp_path / "mine-images-idx3-ubyte", tmp_path):
        d = sn.load_data(path)
        assert np.array_equal(d.X, X) and np.array_equal(d.y, y)


def test_second_load_reuses_the_cache_and_a_changed_byte_does_not(tmp_path, monkeypatch):
    X, y = mnist(300)
    path = write_csv(tmp_path / "train.csv", X, y)
    first = sn.load_csv(path)
    assert len(list(converted.converted_dir().glob("*.npz"))) == 1

    def refuse(*args):
        raise AssertionError("converted again")
    monkeypatch.setattr(csvfile, "_convert", refuse)
    second = sn.load_csv(path)
    assert np.array_equal(second.X, first.X) and np.array_equal(second.y, first.y)
    monkeypatch.undo()
    X2 = X.copy()
    X2[7, 300] = 255 - X2[7, 300]
    write_csv(path, X2, y)
    assert np.array_equal(sn.load_csv(path).X, X2)                 # a new hash, converted afresh


def test_folder_cache_is_keyed_by_the_pictures(tmp_path, monkeypatch):
    X, y = mnist(30)
    write_folder(tmp_path / "d", X, y, formats=("png",))
    first = sn.load_folder(tmp_path / "d")
    monkeypatch.setattr(folder, "_convert", lambda *a: (_ for _ in ()).throw(AssertionError("converted")))
    assert np.array_equal(sn.load_folder(tmp_path / "d").X, first.X)
    monkeypatch.undo()
    (tmp_path / "d" / "0" / "extra.png").write_bytes((tmp_path / "d" / "1").glob("*.png").__next__().read_bytes())
    assert len(sn.load_folder(tmp_path / "d")) == len(first) + 1


def test_a_damaged_cache_entry_is_ignored(tmp_path):
    X, y = mnist(100)
    path = write_csv(tmp_path / "train.csv", X, y)
    sn.load_csv(path)
    entry = next(converted.converted_dir().glob("*.npz"))
    entry.write_bytes(b"PK\3\4 not really")
    assert np.array_equal(sn.load_csv(path).X, X)


def test_test_split_is_repeatable_and_disjoint(tmp_path):
    X, y = mnist(1000)
    path = write_csv(tmp_path / "train.csv", X, y)
    a = sn.data.training_data(path, test_split=0.25)
    b = sn.data.training_data(path, test_split=0.25)
    assert len(a.test) == 250 and len(a.train) == 750
    assert np.array_equal(a.test.X, b.test.X)
    rows = {x.tobytes() for x in a.train.X}
    assert sum(x.tobytes() in rows for x in a.test.X) <= 5      # MNIST repeats a few blank-ish digits at most


def test_test_set_is_renumbered_to_the_training_classes(tmp_path):
    X, y = mnist(200)
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    write_folder(tmp_path / "train", X, y, names=names, formats=("png",))
    Xt, yt = mnist(60, "test")
    keep = (yt == 2) | (yt == 7)                                   # "seven" < "two": its own numbering differs
    write_folder(tmp_path / "test", Xt[keep], yt[keep], names=names, formats=("png",))
    data = sn.data.training_data(tmp_path / "train", tmp_path / "test")
    assert data.test.class_names == data.train.class_names
    assert [data.class_names[k] for k in data.test.y] == [names[k] for k in sorted(
        yt[keep], key=lambda k: names[k])]


def test_sixty_thousand_rows_load_in_bounded_memory(tmp_path):
    """Kaggle's digit recognizer, as large as MNIST's training set: the memory traced while loading stays
    well under the CSV's own size (the text is never held whole)."""
    import tracemalloc
    X, y = mnist(60_000)
    path = write_csv(tmp_path / "train.csv", X, y)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        d = sn.load_csv(path, cache=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.array_equal(d.X, X) and np.array_equal(d.y, y)
    assert size > 100e6
    assert peak < X.nbytes + 40e6, peak               # the pixels as bytes, plus one chunk's parsing

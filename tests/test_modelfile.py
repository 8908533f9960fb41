"""Model files: round trip, atomic writes, and refusal of anything that is not a good model."""

import json
import pickle

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.errors import ScratchnetError
from scratchnet.modelfile import load, save


@pytest.fixture
def net():
    return sn.Network([6, 5, 4, 3], ["sigmoid", "relu", "softmax"], seed=2)


def test_round_trip(tmp_path, net, rng):
    history = [{"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.9, "val_loss": None}]
    save(net, tmp_path / "m.npz", {"recipe": {"lr": 0.1}, "history": history})
    back = load(tmp_path / "m.npz")
    assert back.sizes == net.sizes and back.activations == net.activations and back.dtype == net.dtype
    for a, b in zip(back.weights, net.weights):
        np.testing.assert_array_equal(a, b)
    assert back.metadata["recipe"] == {"lr": 0.1} and back.metadata["format_version"] == 1
    X = rng.random((3, 6)).astype(np.float32)
    np.testing.assert_array_equal(back.predict_proba(X), net.predict_proba(X))


def test_save_leaves_no_temporary_files(tmp_path, net):
    save(net, tmp_path / "m.npz")
    save(net, tmp_path / "m.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def rewrite(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def meta_bytes(meta):
    return np.frombuffer(json.dumps(meta).encode(), np.uint8)


def good_arrays(net):
    meta = {"format": "scratchnet-model", "format_version": 1, "sizes": list(net.sizes),
            "activations": list(net.activations), "dtype": "float32"}
    arrays = {f"W{l}": W for l, W in enumerate(net.weights, 1)}
    return meta, arrays


def test_missing_file(tmp_path):
    with pytest.raises(ScratchnetError, match="does not exist"):
        load(tmp_path / "nope.npz")


def test_not_an_npz(tmp_path):
    (tmp_path / "m.npz").write_text("hello")
    with pytest.raises(ScratchnetError, match="not a readable .npz"):
        load(tmp_path / "m.npz")


def test_truncated_file(tmp_path, net):
    save(net, tmp_path / "m.npz")
    data = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "m.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ScratchnetError, match="not a usable scratchnet model"):
        load(tmp_path / "m.npz")


def test_foreign_npz_without_metadata(tmp_path):
    rewrite(tmp_path / "m.npz", weights=np.zeros(3))
    with pytest.raises(ScratchnetError, match="no metadata"):
        load(tmp_path / "m.npz")


def test_pickled_object_array_is_never_loaded(tmp_path, net):
    """An object array (which would need unpickling) is refused, and its code never runs."""

    class Boom:
        def __reduce__(self):
            return (print, ("this must never run",))

    meta, arrays = good_arrays(net)
    arrays["W2"] = np.array([Boom()], dtype=object)
    rewrite(tmp_path / "m.npz", metadata=meta_bytes(meta), **arrays)
    assert b"this must never run" in (tmp_path / "m.npz").read_bytes()   # the pickle really is there
    with pytest.raises(ScratchnetError, match="W2 holds Python objects, which are never loaded"):
        load(tmp_path / "m.npz")


def test_wrong_shape(tmp_path, net):
    meta, arrays = good_arrays(net)
    arrays["W2"] = np.zeros((5, 4), np.float32)
    rewrite(tmp_path / "m.npz", metadata=meta_bytes(meta), **arrays)
    with pytest.raises(ScratchnetError, match=r"W2 is float32 \(5, 4\), expected float \(6, 4\)"):
        load(tmp_path / "m.npz")


def test_missing_and_extra_arrays(tmp_path, net):
    meta, arrays = good_arrays(net)
    del arrays["W3"]
    rewrite(tmp_path / "m.npz", metadata=meta_bytes(meta), extra=np.zeros(1), **arrays)
    with pytest.raises(ScratchnetError, match="expected"):
        load(tmp_path / "m.npz")


@pytest.mark.parametrize("change, message", [
    ({"format": "other"}, "does not say"),
    ({"format_version": 99}, "not supported"),
    ({"sizes": "784"}, "sizes"),
    ({"activations": ["sigmoid", "relu", "tanh"]}, "softmax"),
])
def test_bad_metadata(tmp_path, net, change, message):
    meta, arrays = good_arrays(net)
    meta.update(change)
    rewrite(tmp_path / "m.npz", metadata=meta_bytes(meta), **arrays)
    with pytest.raises(ScratchnetError, match=message):
        load(tmp_path / "m.npz")


def test_metadata_not_json(tmp_path, net):
    _, arrays = good_arrays(net)
    rewrite(tmp_path / "m.npz", metadata=np.frombuffer(b"\xff{", np.uint8), **arrays)
    with pytest.raises(ScratchnetError, match="JSON"):
        load(tmp_path / "m.npz")


def test_nan_weights(tmp_path, net):
    meta, arrays = good_arrays(net)
    arrays["W1"] = arrays["W1"].copy()
    arrays["W1"][0, 0] = np.nan
    rewrite(tmp_path / "m.npz", metadata=meta_bytes(meta), **arrays)
    with pytest.raises(ScratchnetError, match="NaN"):
        load(tmp_path / "m.npz")


def test_loading_never_unpickles(monkeypatch, tmp_path, net):
    save(net, tmp_path / "m.npz")
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("pickle.loads called"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("pickle.load called"))
    load(tmp_path / "m.npz")

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


# ------------------------------------------------------------------ hostile files: one clear error, fast, small

def bounded(call, seconds=5, megabytes=50):
    """Run ``call``; assert it raises a one-line `ScratchnetError` within ``seconds`` of CPU, allocating at most
    ``megabytes`` (NumPy's and Python's allocations, as tracemalloc sees them). Returns the message."""
    import time
    import tracemalloc
    tracemalloc.start()
    start = time.process_time()
    try:
        with pytest.raises(ScratchnetError) as e:
            call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.process_time() - start < seconds
    assert peak < megabytes * 1e6, f"{peak / 1e6:.0f} MB"
    message = str(e.value)
    assert "\n" not in message and len(message) < 400
    return message


def test_metadata_nested_thousands_of_levels_deep(tmp_path, net):
    _, arrays = good_arrays(net)
    deep = b'{"format": "scratchnet-model", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    rewrite(tmp_path / "m.npz", metadata=np.frombuffer(deep, np.uint8), **arrays)
    assert "nested deeper" in bounded(lambda: load(tmp_path / "m.npz"))
    meta, _ = good_arrays(net)
    nested = {"history": []}
    for _ in range(500):                                 # within json's own recursion limit: still refused
        nested = {"x": nested}
    meta["extra"] = nested
    rewrite(tmp_path / "m.npz", metadata=meta_bytes(meta), **arrays)
    assert "nested deeper" in bounded(lambda: load(tmp_path / "m.npz"))


def test_metadata_with_a_5000_digit_number(tmp_path, net):
    meta, arrays = good_arrays(net)
    text = json.dumps(meta).replace('"format_version": 1', '"format_version": 1' + "0" * 5000)
    rewrite(tmp_path / "m.npz", metadata=np.frombuffer(text.encode(), np.uint8), **arrays)
    assert "too long" in bounded(lambda: load(tmp_path / "m.npz"))
    text = json.dumps(meta).replace('"sizes": [', '"sizes": [' + "9" * 4000 + ", ")
    rewrite(tmp_path / "m.npz", metadata=np.frombuffer(text.encode(), np.uint8), **arrays)
    assert "sizes" in bounded(lambda: load(tmp_path / "m.npz"))


@pytest.mark.parametrize("history", ["many", [1, 2], [{"epoch": "one", "train_loss": 1, "train_accuracy": 0}],
                                     [{"epoch": 1}], {"epoch": 1}])
def test_history_of_the_wrong_type(tmp_path, net, history):
    meta, arrays = good_arrays(net)
    meta["history"] = history
    rewrite(tmp_path / "m.npz", metadata=meta_bytes(meta), **arrays)
    assert "history" in bounded(lambda: load(tmp_path / "m.npz"))


@pytest.mark.parametrize("sizes", [[6, 10 ** 12, 4, 3], [6, 100_000, 100_000, 3], [10 ** 9] * 4])
def test_sizes_needing_terabytes_are_checked_against_the_zip_directory(tmp_path, net, sizes):
    meta, arrays = good_arrays(net)
    meta["sizes"] = sizes
    rewrite(tmp_path / "m.npz", metadata=meta_bytes(meta), **arrays)
    message = bounded(lambda: load(tmp_path / "m.npz"))
    assert "sizes" in message or "expected" in message


def deflate_bomb(header, nbytes):
    """Raw deflate data that inflates to ``header`` and ``nbytes`` zero bytes, made in milliseconds: one
    fully flushed block of a megabyte of zeros is self-contained, so it can simply be repeated."""
    import zlib
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = packer.compress(header) + packer.flush(zlib.Z_FULL_FLUSH)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(bytes(1 << 20)) + packer.flush(zlib.Z_FULL_FLUSH)
    assert nbytes % (1 << 20) == 0
    return start + block * (nbytes >> 20) + zlib.compressobj(9, zlib.DEFLATED, -15).flush()


def test_a_member_that_decompresses_to_gigabytes(tmp_path):
    """W1.npy's header honestly claims a (20001, 10000) float64 array, and its deflate stream really
    inflates to those 1.6 GB of zeros, from about 1.6 MB on disk."""
    import io
    import zipfile
    sizes = [20_000, 10_000, 10]
    meta = {"format": "scratchnet-model", "format_version": 1, "sizes": sizes,
            "activations": ["sigmoid", "softmax"], "dtype": "float64"}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (20_001, 10_000)})
    nbytes = 20_001 * 10_000 * 8 - 8 * 10_000                 # all but one row: a whole number of MB …
    nbytes -= nbytes % (1 << 20)
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("W1.npy", deflate_bomb(header.getvalue(), nbytes))         # stored as is, patched below
        for name, array in (("W2", np.zeros((10_001, 10))), ("metadata", meta_bytes(meta))):
            member = io.BytesIO()
            np.lib.format.write_array(member, array)
            z.writestr(f"{name}.npy", member.getvalue())
        infos = {i.filename: i for i in z.infolist()}
    data = bytearray(path.read_bytes())
    w1 = infos["W1.npy"]
    size = len(header.getvalue()) + 20_001 * 10_000 * 8          # … and W1's declared size is the whole array
    central = data.find(b"PK\x01\x02")
    for at, method, usize in ((w1.header_offset, 8, 22), (central, 10, 24)):
        data[at + method:at + method + 2] = (8).to_bytes(2, "little")            # deflate
        data[at + usize:at + usize + 4] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as z:                                           # a valid zip: it does inflate
        with z.open("W1.npy") as f:
            assert len(f.read(10 << 20)) == 10 << 20
    assert path.stat().st_size < 3e6
    assert "would expand" in bounded(lambda: load(path))


def test_zip_directory_claiming_more_than_the_file_holds(tmp_path, net):
    save(net, tmp_path / "m.npz")
    data = bytearray((tmp_path / "m.npz").read_bytes())
    # central directory entries: signature PK\x01\x02; compressed size at offset 20, uncompressed at 24
    at = data.find(b"PK\x01\x02")
    data[at + 20:at + 28] = (2 ** 31).to_bytes(4, "little") * 2
    (tmp_path / "m.npz").write_bytes(bytes(data))
    assert "not a usable scratchnet model" in bounded(lambda: load(tmp_path / "m.npz"))


def test_saved_models_honour_the_umask(tmp_path, net):
    import os
    old = os.umask(0o022)
    try:
        save(net, tmp_path / "a.npz")
        os.umask(0o077)
        save(net, tmp_path / "b.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "a.npz").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.npz").stat().st_mode & 0o777 == 0o600


def test_an_interrupted_save_leaves_the_old_file_and_no_temporary_file(tmp_path, net, monkeypatch):
    save(net, tmp_path / "m.npz")
    before = (tmp_path / "m.npz").read_bytes()

    def interrupted(f, **arrays):
        f.write(b"half a model")
        raise KeyboardInterrupt                        # what SIGINT or (through the CLI) SIGTERM raises

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(sn.Network([6, 5, 4, 3], ["sigmoid", "relu", "softmax"], seed=9), tmp_path / "m.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    assert (tmp_path / "m.npz").read_bytes() == before

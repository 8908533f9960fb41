"""Fuzzing the picture loader (issue 11): any file handed to ``scratchnet predict`` either becomes a
28×28 input or raises the project's own error with a one-line message, within a time budget (CPU seconds, so a busy machine does not fail it) and a memory budget
— never a traceback and never a raw Pillow warning.

Inputs: arbitrary bytes; good PNG, JPEG, GIF, BMP and TIFF files with bytes flipped, cut or inserted;
headers that claim huge sizes; small pictures of any mode and content.
A short run is part of the suite. A longer one:

    SCRATCHNET_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz_picture.py -q
"""

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from scratchnet.errors import ScratchnetError
from scratchnet.preprocess import MAX_PIXELS, load_digit

from conftest import fuzz_settings, works_or_one_line_error

BUDGET_S = 3.0
MEMORY_BUDGET = 300 * 1024 ** 2
FUZZ = fuzz_settings(100)


def encoded(fmt, mode="L", size=(40, 30)):
    rng = np.random.default_rng(0)
    picture = np.full(size[::-1], 220, np.uint8)
    picture[5:25, 10:20] = 30
    image = Image.fromarray(picture).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue() + bytes(rng.integers(0, 1, 0))


GOOD = [encoded("PNG"), encoded("JPEG", "RGB"), encoded("GIF", "P"), encoded("BMP", "RGB"),
        encoded("TIFF", "RGB"), encoded("PNG", "RGBA"), encoded("WEBP", "RGB")]


def reads_or_one_line_error(data):
    """``load_digit`` on ``data`` gives a uint8 (28, 28) or a one-line `ScratchnetError`, within the
    budgets, and no warning escapes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # any warning that escapes fails the test
        out = works_or_one_line_error(lambda: load_digit(io.BytesIO(data), name="fuzz.png"), BUDGET_S,
                                      MEMORY_BUDGET, max_length=400)
    if isinstance(out, ScratchnetError):
        assert str(out).startswith("fuzz.png: ")
    else:
        assert out.shape == (28, 28) and out.dtype == np.uint8


edits = st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert"]), st.integers(0, 10 ** 6),
                           st.binary(min_size=1, max_size=6)), min_size=1, max_size=5)


@FUZZ
@given(which=st.integers(0, len(GOOD) - 1), changes=edits)
def test_a_damaged_picture_reads_or_is_refused(which, changes):
    data = bytearray(GOOD[which])
    for kind, at, junk in changes:
        at %= max(len(data), 1)
        if kind == "flip" and data:
            data[at] ^= junk[0] or 1
        elif kind == "cut":
            del data[at:at + 16 * len(junk)]
        else:
            data[at:at] = junk
    reads_or_one_line_error(bytes(data))


@FUZZ
@given(data=st.binary(max_size=600))
def test_any_bytes_read_or_are_refused(data):
    reads_or_one_line_error(data)


@FUZZ
@given(mode=st.sampled_from(["1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16", "F", "CMYK"]),
       width=st.integers(1, 60), height=st.integers(1, 60), seed=st.integers(0, 2 ** 16))
def test_any_small_picture_reads_or_is_refused(mode, width, height, seed):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
    image = Image.fromarray(pixels).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG" if mode in ("1", "L", "LA", "P", "RGB", "RGBA") else "TIFF")
    reads_or_one_line_error(buffer.getvalue())


def png_claiming(width, height):
    """A PNG whose header claims ``width`` × ``height`` pixels, with a tiny (truncated) image stream."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(1000))) + chunk(b"IEND", b""))


@pytest.mark.parametrize("width, height", [(8000, 6000), (30_000, 30_000), (2 ** 31 - 1, 2 ** 31 - 1),
                                           (1, MAX_PIXELS + 1)])
def test_huge_pictures_are_refused_from_the_header(width, height):
    reads_or_one_line_error(png_claiming(width, height))
    with pytest.raises(ScratchnetError, match="too large") as e:
        load_digit(io.BytesIO(png_claiming(width, height)), name="big.png")
    assert e.value.field == "size"

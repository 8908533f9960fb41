"""Reading and writing IDX files, the format MNIST and Fashion-MNIST are published in.

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32
dimensions, then the data in C order. Only unsigned bytes (type ``0x08``) are used by these data sets.
"""

import gzip
import struct

import numpy as np

from ..errors import ScratchnetError

UBYTE = 0x08


def encode_idx(array):
    """The IDX bytes of a uint8 array of any shape (e.g. images ``(N, 28, 28)`` or labels ``(N,)``)."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8:
        raise ScratchnetError(f"IDX writing supports uint8 arrays only, got {array.dtype}")
    header = struct.pack(">BBBB", 0, 0, UBYTE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def decode_idx(data, name="IDX data"):
    """Parse IDX bytes into a uint8 array; a malformed header or length raises `ScratchnetError`."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ScratchnetError(f"{name} is not an IDX file (bad magic number)")
    if data[2] != UBYTE:
        raise ScratchnetError(f"{name} holds IDX type 0x{data[2]:02x}; only unsigned bytes (0x08) are supported")
    ndim = data[3]
    if ndim == 0 or len(data) < 4 + 4 * ndim:
        raise ScratchnetError(f"{name} has a truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = memoryview(data)[4 + 4 * ndim:]
    if len(body) != int(np.prod(shape)):
        raise ScratchnetError(
            f"{name} should hold {int(np.prod(shape))} bytes for shape {shape} but holds {len(body)}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def read_bytes(path):
    """The raw bytes of an IDX file, decompressing it when its name ends in ``.gz``."""
    path = str(path)
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        with open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise ScratchnetError(f"cannot read {path}: {e}") from None


def read_idx(path):
    """Read an IDX file (raw or ``.gz``) into a uint8 array."""
    return decode_idx(read_bytes(path), name=str(path))


def write_idx(path, array):
    """Write a uint8 array as a raw IDX file."""
    with open(path, "wb") as f:
        f.write(encode_idx(array))

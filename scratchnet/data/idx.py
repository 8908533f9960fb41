"""Reading and writing IDX files, the format MNIST and Fashion-MNIST are published in.

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32
dimensions, then the data in C order. Only unsigned bytes (type ``0x08``) are used by these data sets.
"""

import gzip
import math
import struct
import zlib

import numpy as np

from ..errors import ScratchnetError

UBYTE = 0x08
MAX_BYTES = 1 << 30
"""Largest IDX file `read_idx` reads unless told otherwise (1 GiB; MNIST's largest is 47 MB)."""


class UnreadableFile(ScratchnetError):
    """A file that exists but cannot be read (no permission, an I/O error): not the same as damaged."""


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
    if len(body) != math.prod(shape):
        raise ScratchnetError(f"{name} should hold {math.prod(shape)} bytes for shape {shape} but holds "
                              f"{len(body)}")
    try:
        return np.frombuffer(body, dtype=np.uint8).reshape(shape)
    except ValueError:                   # e.g. (0, 2³², 2³²): no bytes, but more than NumPy can index
        raise ScratchnetError(f"{name} has an impossible shape {shape}") from None


def read_bytes(path, max_bytes=MAX_BYTES):
    """The raw bytes of an IDX file, decompressing it when its name ends in ``.gz``.

    Reading stops after ``max_bytes`` (decompressed): a larger file is refused, so a small compressed
    file cannot fill the memory. A file that cannot be opened or read raises `UnreadableFile`; a damaged
    or oversized one `ScratchnetError`.
    """
    path = str(path)
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                data = f.read(max_bytes + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(max_bytes + 1)
    except PermissionError:
        raise UnreadableFile(f"cannot read {path}: permission denied") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise ScratchnetError(f"cannot read {path}: a damaged gzip file ({e})") from None
    except OSError as e:
        raise UnreadableFile(f"cannot read {path}: {e.strerror or e}") from None
    if len(data) > max_bytes:
        raise ScratchnetError(f"{path} holds more than the {max_bytes:,} bytes expected"
                              + (" once decompressed" if path.endswith(".gz") else ""))
    return data


def gunzip(data, max_bytes, name="data"):
    """Decompress gzip ``data``, refusing to produce more than ``max_bytes``."""
    try:
        out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, max_bytes + 1)
    except zlib.error as e:
        raise ScratchnetError(f"{name} is not a valid gzip file ({e})") from None
    if len(out) > max_bytes:
        raise ScratchnetError(f"{name} expands past the {max_bytes:,} bytes expected")
    return out


def read_idx(path, max_bytes=MAX_BYTES):
    """Read an IDX file (raw or ``.gz``, at most ``max_bytes`` decompressed) into a uint8 array."""
    return decode_idx(read_bytes(path, max_bytes), name=str(path))


def write_idx(path, array):
    """Write a uint8 array as a raw IDX file."""
    with open(path, "wb") as f:
        f.write(encode_idx(array))

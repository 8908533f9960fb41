"""The cache of converted data: your CSV, pictures or arrays as ready arrays, keyed by their content.

Converting a 60,000-row CSV or a folder of 60,000 pictures takes a while; the result is kept as an
``.npz`` named by the SHA-256 of the data's bytes (and of the loader and its options), so a second run on
the same data starts at once, and a changed file (even one byte) is converted afresh. The folder is
``$SCRATCHNET_CACHE`` or the user's cache directory (platformdirs) under ``scratchnet/converted``.

A cache entry is read like any file from outside: ``np.load(allow_pickle=False)``, every array's dtype and
shape checked; an entry that does not pass is ignored (and replaced), never trusted. A cache that cannot
be written is skipped: the data is converted each time, nothing fails.
"""

import hashlib
import os
from pathlib import Path

import numpy as np

from ..atomic import write_atomic

VERSION = 1
"""Bumped whenever a loader's output changes, so old entries are not reused."""
CHUNK = 1 << 20


def converted_dir():
    """The folder of converted data (a `Path`; it may not exist yet)."""
    if os.environ.get("SCRATCHNET_CACHE"):
        return Path(os.environ["SCRATCHNET_CACHE"]).expanduser() / "converted"
    import platformdirs
    return Path(platformdirs.user_cache_dir("scratchnet")) / "converted"


class Hasher:
    """SHA-256 of a file's or a folder's content, fed piece by piece (bounded memory)."""

    def __init__(self):
        self.h = hashlib.sha256()

    def add_file(self, path):
        with open(path, "rb") as f:
            while block := f.read(CHUNK):
                self.h.update(block)
        return self

    def add_bytes(self, data):
        self.h.update(data)
        return self

    def add_text(self, text):
        self.h.update(text.encode("utf-8") + b"\0")
        return self

    def hexdigest(self):
        return self.h.hexdigest()


def key(sha256, loader, **options):
    """The cache key of data with content hash ``sha256`` read by ``loader`` with ``options``."""
    text = f"{sha256}|{loader}|v{VERSION}|" + "|".join(f"{k}={options[k]}" for k in sorted(options))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def read(cache_key):
    """``(X, y, class_names, skipped)`` from the cache, or None when there is no usable entry."""
    path = converted_dir() / f"{cache_key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            X, y, names, skipped = f["X"], f["y"], f["class_names"], f["skipped"]
    except Exception:                        # damaged, cut short, or not ours: convert afresh
        return None
    if not (X.dtype == np.uint8 and X.ndim == 2 and y.dtype == np.int64 and y.shape == (len(X),)
            and names.dtype.kind == "U" and names.ndim == 1 and skipped.dtype.kind == "U" and skipped.ndim == 1
            and len(y) and 0 <= y.min() and y.max() < len(names)):
        return None
    return X, y, tuple(str(n) for n in names), tuple(str(s) for s in skipped)


def write(cache_key, X, y, class_names, skipped=()):
    """Keep the converted arrays under ``cache_key``; a cache that cannot be written is silently skipped."""
    folder = converted_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        arrays = dict(X=X, y=y.astype(np.int64), class_names=np.array(class_names, dtype=str),
                      skipped=np.array(list(skipped), dtype=str).reshape(-1))
        write_atomic(folder / f"{cache_key}.npz", lambda f: np.savez(f, **arrays))
    except OSError:
        pass

"""Real MNIST and Fashion-MNIST: IDX files, verified by SHA-256, fetched into a local cache."""

from .cache import cache_dir, fetch, load_mnist, status
from .checksums import DATASETS
from .idx import decode_idx, encode_idx, read_idx, write_idx

__all__ = ["DATASETS", "cache_dir", "decode_idx", "encode_idx", "fetch", "load_mnist", "read_idx",
           "status", "write_idx"]

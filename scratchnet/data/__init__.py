"""Data: real MNIST and Fashion-MNIST (IDX files verified by SHA-256, fetched into a local cache), and your
own pictures (a folder of class folders, a CSV, an ``.npz`` or IDX files) as a `DataSet`."""

from .arrays import load_idx, load_npz
from .cache import cache_dir, fetch, load_mnist, status
from .checksums import DATASETS
from .classes import model_class_names
from .csvfile import load_csv
from .folder import load_folder
from .idx import decode_idx, encode_idx, read_idx, write_idx
from .loading import TrainingData, load_data, training_data
from .sets import BadData, DataSet

__all__ = ["BadData", "DATASETS", "DataSet", "TrainingData", "cache_dir", "decode_idx", "encode_idx", "fetch",
           "load_csv", "load_data", "load_folder", "load_idx", "load_mnist", "load_npz", "model_class_names",
           "read_idx", "status", "training_data", "write_idx"]

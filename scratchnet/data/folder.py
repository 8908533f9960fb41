"""A folder of class folders of pictures: ``digits/0/*.png``, ``digits/1/*.jpg``, … or ``pets/cat/…``.

Each class folder's name is a class name; every picture in it (PNG, JPEG, BMP, GIF or WebP, any size, dark
ink on light paper or light on dark) is made MNIST-like exactly as ``scratchnet predict`` does
(`scratchnet.preprocess.load_digit`): ink bright on black, cropped, scaled to 20 pixels and centred by its
centre of mass in a 28×28 field. Hidden files and files of other kinds are left alone; a picture
directly in the top folder (outside any class folder), an empty class folder, a single class or class
names that differ only in case are refused.

A picture that cannot be read (damaged, not a picture, no ink) stops the load with one line that says
how many and which; with ``skip_bad`` they are left out, and the `DataSet` lists them in ``skipped``.
Pictures are converted one at a time into a preallocated ``uint8 (N, 784)`` (47 MB for 60,000), and the
result is cached by the SHA-256 of every picture's path and bytes.
"""

from pathlib import Path

import numpy as np

from ..errors import ScratchnetError
from ..preprocess import FIELD, load_digit
from . import converted
from .sets import PICTURE_SUFFIXES, BadData, DataSet, check_class_names

SHOWN = 3
"""Unreadable pictures named in the message (the count says how many there are)."""


def _pictures(folder):
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in PICTURE_SUFFIXES)


def list_pictures(root):
    """``[(class name, [picture paths])]`` of a folder of class folders, sorted by class name."""
    root = Path(root)
    if not root.is_dir():
        raise ScratchnetError(f"{root} is not a folder", field="data")
    try:
        entries = sorted(root.iterdir())
    except PermissionError:
        raise ScratchnetError(f"cannot read the folder {root}: permission denied", field="data") from None
    loose = [p for p in entries if p.is_file() and p.suffix.lower() in PICTURE_SUFFIXES and not p.name.startswith(".")]
    if loose:
        raise BadData(f"{loose[0]} is not inside a class folder ({len(loose)} such pictures in {root}); put each "
                      f"picture in the folder of its class, e.g. {root / 'cat' / loose[0].name}")
    folders = [p for p in entries if p.is_dir() and not p.name.startswith(".")]
    if not folders:
        raise BadData(f"{root} holds no class folders; put the pictures of each class in a folder named "
                      "after it, e.g. digits/0/, digits/1/, …")
    check_class_names([p.name for p in folders], str(root))
    classes = []
    for folder in folders:
        try:
            pictures = _pictures(folder)
        except PermissionError:
            raise ScratchnetError(f"cannot read the folder {folder}: permission denied", field="data") from None
        if not pictures:
            raise BadData(f"{folder} is an empty class folder (no PNG, JPEG, BMP, GIF or WebP pictures); "
                          "add pictures or remove the folder")
        classes.append((folder.name, pictures))
    return classes


def _content_hash(root, classes):
    hasher = converted.Hasher()
    for name, pictures in classes:
        for p in pictures:
            hasher.add_text(f"{name}/{p.name}")
            try:
                hasher.add_file(p)
            except OSError:
                hasher.add_text("unreadable")          # reported when it is converted
    return hasher.hexdigest()


def _convert(classes, skip_bad, where, on_progress):
    total = sum(len(p) for _, p in classes)
    X = np.zeros((total, FIELD * FIELD), np.uint8)
    y = np.zeros(total, np.int64)
    bad, n, done = [], 0, 0
    for k, (_, pictures) in enumerate(classes):
        for p in pictures:
            try:
                X[n] = load_digit(p).reshape(-1)
                y[n] = k
                n += 1
            except ScratchnetError as e:
                bad.append((str(p), str(e).split("; ")[0]))          # the reason, without predict's advice
            done += 1
            if on_progress is not None and (done % 64 == 0 or done == total):
                on_progress(done, total)
    if bad and not skip_bad:
        shown = "; ".join(reason if reason.startswith(path) else f"{path}: {reason}" for path, reason in bad[:SHOWN])
        more = f"; and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
        raise BadData(f"{len(bad)} of the {total:,} pictures in {where} cannot be used: {shown}{more}; fix or "
                      "remove them, or give --skip-bad to train without them")
    return X[:n], y[:n], tuple(path for path, _ in bad)


def load_folder(path, *, skip_bad=False, cache=True, on_progress=None, on_message=None):
    """Load a folder of class folders of pictures as a `DataSet` (see the module docstring).

    Parameters
    ----------
    path : the top folder; its sub-folders are the classes
    skip_bad : leave out the pictures that cannot be read (listed in ``skipped``) instead of refusing
    cache : reuse (and keep) the converted arrays, keyed by the SHA-256 of the pictures
    on_progress : callable ``(pictures_done, pictures_total)``, optional
    on_message : callable ``(str)``, optional, hears what was skipped and when the cache is used
    """
    root = Path(path)
    classes = list_pictures(root)
    names = tuple(name for name, _ in classes)
    sha = _content_hash(root, classes)
    cache_key = converted.key(sha, "folder", skip_bad=bool(skip_bad))
    hit = converted.read(cache_key) if cache else None
    if hit is not None and hit[2] == names:
        X, y, _, skipped = hit
        if on_progress is not None:
            on_progress(1, 1)
    else:
        X, y, skipped = _convert(classes, skip_bad, str(root), on_progress)
        if cache:
            converted.write(cache_key, X, y, names, skipped)
    if skipped and on_message:
        shown = ", ".join(skipped[:SHOWN]) + (f" and {len(skipped) - SHOWN} more" if len(skipped) > SHOWN else "")
        on_message(f"{root}: skipped {len(skipped)} picture{'s' if len(skipped) > 1 else ''} that cannot be "
                   f"used ({shown})")
    empty = [names[k] for k in range(len(names)) if not np.any(y == k)]
    if empty:
        raise BadData(f"{root / empty[0]}: none of its pictures could be used, so the class has none left")
    return DataSet(X, y, names, str(root), sha, skipped)

"""Pictures as CSV, in the layout of Kaggle's digit recognizer: ``label,pixel0,…,pixel783``, one row each.

The header row is optional. The label is the first column, or the column named ``label`` when there is a
header; labels are numbers (``0 … K-1``, the class names are the numbers) or text (``cat``, ``dog``: the
class names, sorted). Every other column is a pixel, a whole number 0…255.

The file is read twice: once for its SHA-256 (the cache's key) and its number of lines, then in chunks of
rows (`CHUNK_ROWS`) into a preallocated ``uint8 (lines, n_0)``, so memory holds the pixels as bytes (47 MB
for 60,000 rows of 784) plus one chunk, whatever the size of the text (110 MB for those rows); a line longer than `MAX_LINE` bytes is
refused. Any bad row (ragged, a field that is not a number, a label that is not a class, a pixel outside
0…255 or NaN) is one line naming the file and its line number, and nothing is loaded.
"""

from pathlib import Path

import numpy as np

from ..errors import ScratchnetError
from . import converted
from .sets import BadData, DataSet, check_pixels, numbered_classes, text_classes

CHUNK_ROWS = 2000
MAX_LINE = 1 << 20
"""Longest line read, in bytes (a row of 784 pixels takes at most 3,200)."""


def _is_number(field):
    try:
        float(field)
        return True
    except ValueError:
        return False


def _fields(line):
    return [f.strip().strip(b'"').strip() for f in line.split(b",")]


class _Reader:
    """The lines of a CSV file with their line numbers, at most `MAX_LINE` bytes each."""

    def __init__(self, f, name):
        self.f, self.name, self.number = f, name, 0

    def lines(self):
        while True:
            line = self.f.readline(MAX_LINE + 1)
            if not line:
                return
            self.number += 1
            if len(line) > MAX_LINE:
                raise BadData(f"{self.name} line {self.number} is longer than {MAX_LINE:,} bytes; is it a CSV "
                              "of pictures, one row each?")
            if self.number == 1 and line.startswith(b"\xef\xbb\xbf"):           # a UTF-8 byte-order mark
                line = line[3:]
            line = line.rstrip(b"\r\n")
            if line.strip():
                yield self.number, line


def _header(first, name):
    """``(has_header, label_column, n_fields)`` from the first line."""
    fields = _fields(first)
    names = [f.lower() for f in fields]
    if b"label" in names:
        return True, names.index(b"label"), len(fields)
    if all(_is_number(f) for f in fields[1:]) and fields[1:]:
        return False, 0, len(fields)
    if names[0].startswith(b"pixel"):
        raise BadData(f"{name} has no label column (its header starts with {fields[0].decode(errors='replace')!r}; "
                      "Kaggle's test.csv has no labels); give a CSV whose first column or column 'label' is "
                      "the label")
    return True, 0, len(fields)


def _parse_chunk(rows, column, n_fields, name):
    """Labels (a list of bytes) and pixels ``float64 (B, n_fields-1)`` of ``rows`` [(line number, bytes)]."""
    labels, rests = [], []
    for number, line in rows:
        if b'"' in line:
            line = line.replace(b'"', b"")
        if line.count(b",") != n_fields - 1:
            got = line.count(b",") + 1
            raise BadData(f"{name} line {number} has {got} values, but the rows before it have {n_fields} "
                          f"(a label and {n_fields - 1} pixels); fix or remove the row")
        if column == 0:
            label, _, rest = line.partition(b",")
        else:
            fields = line.split(b",")
            label = fields.pop(column)
            rest = b",".join(fields)
        labels.append(label.strip())
        rests.append(rest.decode("latin-1"))
    try:
        pixels = np.loadtxt(rests, delimiter=",", dtype=np.float64, ndmin=2, comments=None)
    except ValueError:
        for (number, _), rest in zip(rows, rests):
            for j, field in enumerate(rest.split(",")):
                if not _is_number(field):
                    shown = field.strip()[:20] or "an empty field"
                    raise BadData(f"{name} line {number}: pixel {j} is {shown!r}, not a number 0…255") from None
        raise BadData(f"{name}: a row could not be read as numbers") from None
    return labels, pixels


def _numeric_labels(labels, numbers, name):
    try:
        values = np.array([float(v) for v in labels])
    except ValueError:
        i = next(i for i, v in enumerate(labels) if not _is_number(v))
        raise BadData(f"{name} line {numbers[i]}: label {labels[i].decode(errors='replace')[:20]!r} is not a "
                      "number like the labels before it") from None
    bad = ~np.isfinite(values) | (values != np.round(values))
    if bad.any():
        i = int(np.argmax(bad))
        raise BadData(f"{name} line {numbers[i]}: label {labels[i].decode(errors='replace')[:20]} is not a "
                      "whole number")
    return values


def _convert(path, name, n_lines, on_progress):
    total = path.stat().st_size
    with open(path, "rb") as f:
        reader = _Reader(f, name)
        lines = reader.lines()
        first = next(lines, None)
        if first is None:
            raise BadData(f"{name} is empty; give a CSV with a label and the pixels on each row")
        has_header, column, n_fields = _header(first[1], name)
        if n_fields < 2:
            raise BadData(f"{name} line {first[0]} holds one value; each row needs a label and pixels")
        pending = [] if has_header else [first]
        numeric = None
        X, n = None, 0
        all_labels, numbers, label_values = [], [], []
        while True:
            for item in lines:
                pending.append(item)
                if len(pending) == CHUNK_ROWS:
                    break
            if not pending:
                break
            labels, pixels = _parse_chunk(pending, column, n_fields, name)
            chunk_numbers = [n for n, _ in pending]
            if numeric is None:
                numeric = _is_number(labels[0])
            if numeric:
                label_values.append(_numeric_labels(labels, chunk_numbers, name))
            else:
                all_labels.extend(v.decode("utf-8", errors="replace") for v in labels)
            if X is None:
                X = np.zeros((n_lines, n_fields - 1), np.uint8)
            X[n:n + len(pixels)] = check_pixels(pixels, lambda i: f"{name} line {chunk_numbers[i]}")
            n += len(pixels)
            numbers.extend(chunk_numbers)
            pending = []
            if on_progress is not None:
                on_progress(min(f.tell(), total), total)
    if X is None:
        raise BadData(f"{name} holds a header but no rows")
    X = X[:n] if n < len(X) else X                        # blank lines: a few rows fewer than lines
    line_of = lambda i: f"{name} line {numbers[i]}"            # noqa: E731
    if numeric:
        values = np.concatenate(label_values)
        y, names = numbered_classes(values.astype(np.int64) if np.abs(values).max() < 2 ** 62 else values,
                                    name, line_of)
    else:
        y, names = text_classes(all_labels, name)
    return X, y, names


def _hash_and_count(path):
    """The file's SHA-256 and its number of lines (a last line without a newline counts too)."""
    hasher, lines, last = converted.Hasher(), 0, b"\n"
    with open(path, "rb") as f:
        while block := f.read(converted.CHUNK):
            hasher.add_bytes(block)
            lines += block.count(b"\n")
            last = block[-1:]
    return hasher.hexdigest(), lines + (last != b"\n")


def load_csv(path, *, cache=True, on_progress=None, on_message=None):
    """Load a CSV of pictures (``label,pixel0,…``; see the module docstring) as a `DataSet`.

    Parameters
    ----------
    path : the ``.csv`` file
    cache : reuse (and keep) the converted arrays, keyed by the file's SHA-256
    on_progress : callable ``(bytes_done, bytes_total)``, optional
    on_message : callable ``(str)``, optional, hears when the cache is used
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise ScratchnetError(f"{name} does not exist or is not a file", field="data")
    try:
        sha, n_lines = _hash_and_count(path)
    except PermissionError:
        raise ScratchnetError(f"cannot read {name}: permission denied", field="data") from None
    except OSError as e:
        raise ScratchnetError(f"cannot read {name}: {e.strerror or e}", field="data") from None
    cache_key = converted.key(sha, "csv")
    hit = converted.read(cache_key) if cache else None
    if hit is not None:
        X, y, names, _ = hit
        if on_progress is not None:
            on_progress(1, 1)
    else:
        X, y, names = _convert(path, name, n_lines, on_progress)
        if cache:
            converted.write(cache_key, X, y, names)
    return DataSet(X, y, names, name, sha)

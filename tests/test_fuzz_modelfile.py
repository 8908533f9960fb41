"""Fuzzing the model loader (issue 11): any file, however damaged or hostile, either loads as a network
or raises the project's own error with a one-line message, within a time budget (CPU seconds, so a busy machine does not fail it) and a memory budget — never a
traceback, never unpickled code, never gigabytes allocated on a file's word.

Inputs: a good model file with bytes flipped, cut or inserted; good archives whose JSON metadata is
replaced by arbitrary JSON; archives of arbitrary arrays (any dtype, any shape) under the expected names.
A short run is part of the suite. A longer one:

    SCRATCHNET_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz_modelfile.py -q
"""

import io
import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import scratchnet as sn
from scratchnet import checkpoint
from scratchnet.modelfile import load, save

from conftest import fuzz_settings, works_or_one_line_error

BUDGET_S = 2.0
MEMORY_BUDGET = 64 * 1024 ** 2
FUZZ = fuzz_settings(150)


def _good_file():
    net = sn.Network([6, 5, 3], ["tanh", "softmax"], seed=1)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder:
        save(net, Path(folder) / "m.npz", {"history": [{"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.9}],
                                           "recipe": {"lr": 0.1}, "dataset": "mnist"})
        buffer.write((Path(folder) / "m.npz").read_bytes())
    return buffer.getvalue()


GOOD = _good_file()


def loads_or_one_line_error(data, reader=load):
    """Write ``data`` to a file and read it with ``reader``: a result or a one-line `ScratchnetError`,
    within the budgets."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.npz"
        path.write_bytes(data)
        works_or_one_line_error(lambda: reader(path), BUDGET_S, MEMORY_BUDGET)


edits = st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert", "zero"]), st.integers(0, len(GOOD) - 1),
                           st.binary(min_size=1, max_size=8)), min_size=1, max_size=6)


def apply(data, changes):
    data = bytearray(data)
    for kind, at, junk in changes:
        at = min(at, max(len(data) - 1, 0))
        if kind == "flip" and data:
            data[at] ^= junk[0] or 1
        elif kind == "cut":
            del data[at:at + len(junk) * 97]
        elif kind == "insert":
            data[at:at] = junk
        elif kind == "zero":
            data[at:at + len(junk)] = bytes(len(data[at:at + len(junk)]))
    return bytes(data)


@FUZZ
@given(changes=edits)
def test_a_damaged_model_file_loads_or_is_refused(changes):
    loads_or_one_line_error(apply(GOOD, changes))


@FUZZ
@given(changes=edits)
def test_a_damaged_file_is_refused_as_a_checkpoint_too(changes):
    loads_or_one_line_error(apply(GOOD, changes), reader=checkpoint.load)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30)
metadata = st.one_of(
    json_values,
    st.fixed_dictionaries({"format": st.just("scratchnet-model"), "format_version": st.just(1)},
                          optional={"sizes": st.one_of(json_values, st.lists(st.integers(-5, 2 ** 45), max_size=5)),
                                    "activations": st.one_of(json_values, st.lists(st.sampled_from(
                                        ["sigmoid", "tanh", "relu", "softmax", "x"]), max_size=5)),
                                    "dtype": st.sampled_from(["float32", "float64", "int8", "object", 3]),
                                    "history": json_values, "recipe": json_values, "dataset": json_values}))


def archive(meta, arrays):
    buffer = io.BytesIO()
    payload = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
    np.savez(buffer, metadata=np.frombuffer(payload, np.uint8), **arrays)
    return buffer.getvalue()


@FUZZ
@given(meta=metadata)
def test_any_metadata_loads_or_is_refused(meta):
    net = sn.Network([6, 5, 3], ["tanh", "softmax"], seed=1)
    loads_or_one_line_error(archive(meta, {f"W{l}": W for l, W in enumerate(net.weights, 1)}))


arrays = st.dictionaries(
    st.sampled_from(["W1", "W2", "W3", "params", "best_params", "optimizer.M", "x"]),
    st.builds(lambda dtype, shape: np.zeros(shape, dtype),
              st.sampled_from(["<f4", ">f8", "<f2", "<i8", "u1", "c16", "?", "U3", "V4", "M8[s]"]),
              st.lists(st.integers(0, 12), max_size=3).map(tuple)),
    max_size=4)


@FUZZ
@given(arrays=arrays, sizes=st.lists(st.integers(1, 12), min_size=2, max_size=4))
def test_any_arrays_load_or_are_refused(arrays, sizes):
    meta = {"format": "scratchnet-model", "format_version": 1, "sizes": sizes,
            "activations": ["relu"] * (len(sizes) - 2) + ["softmax"], "dtype": "float32"}
    loads_or_one_line_error(archive(meta, arrays))

"""Run a learner's functions (``backprop(weights, X, Y)``, ``forward(weights, X)``) from their file, in a
process of its own.

Started by `runner.run_file` as ``python worker.py FILE DIR`` (by path, so that it imports nothing of
scratchnet: a learner's file runs next to NumPy alone). It reads ``DIR/inputs.npz`` (no pickle) and
``DIR/inputs.json`` (the calls: which function, the weights' assembly, the other arguments), makes every
call in order, and writes ``DIR/out_<k>.npz`` for the k-th call plus ``DIR/out.json``: per call the
outline of what it returned (lists, tuples, dicts and arrays) or the exception with the learner's own
frames. Standard output and error belong to the learner's code.
"""

import json
import os
import sys
import time
import traceback

MAX_ITEMS = 2000
MAX_DEPTH = 4


def outline(value, arrays, depth=0):
    """A JSON outline of ``value``; the arrays go into ``arrays`` under the keys the outline names."""
    import numpy as np
    if depth > MAX_DEPTH or len(arrays) > MAX_ITEMS:
        return {"other": "too deeply nested"}
    if value is None:
        return {"none": True}
    if isinstance(value, dict):
        return {"dict": [[str(k), outline(v, arrays, depth + 1)] for k, v in list(value.items())[:MAX_ITEMS]]}
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            key = f"a{len(arrays)}"
            arrays[key] = np.asarray(value, dtype=float)
            return {"array": key, "from": "list"}
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [outline(v, arrays, depth + 1) for v in value[:MAX_ITEMS]]}
    if isinstance(value, (np.ndarray, np.generic, int, float)) and not isinstance(value, bool):
        array = np.asarray(value)
        if array.dtype.kind in "biufc":
            key = f"a{len(arrays)}"
            arrays[key] = array
            return {"array": key}
    return {"other": type(value).__name__}


def _frames(tb, root):
    """The traceback's frames in the learner's own files (under ``root``, this worker excluded)."""
    here = os.path.abspath(__file__)
    out = []
    for f in traceback.extract_tb(tb):
        name = os.path.abspath(f.filename)
        if name != here and name.startswith(root + os.sep) and "site-packages" not in name:
            out.append([name, f.lineno, f.name, f.line or ""])
    return out


def _failure(e, root):
    return {"type": type(e).__name__, "message": str(e)[:2000], "frames": _frames(e.__traceback__, root)}


def main(path, work):
    import importlib.util

    import numpy as np
    root = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, root)
    with open(os.path.join(work, "inputs.json")) as f:
        plan = json.load(f)
    arrays = np.load(os.path.join(work, "inputs.npz"), allow_pickle=False)
    report = {}
    try:
        spec = importlib.util.spec_from_file_location("learner_code", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except BaseException as e:               # noqa: BLE001 - the learner's import may raise anything
        failure = _failure(e, root)
        if isinstance(e, SyntaxError):
            failure["frames"] = [[os.path.abspath(e.filename or path), e.lineno or 0, "<module>", e.text or ""]]
        report["import"] = failure
        return _write(work, report)
    functions = {}
    for call in plan["calls"]:
        name = call["function"]
        functions[name] = getattr(module, name, None)
        if not callable(functions[name]):
            report["missing"] = name
            report["defines"] = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                                       and getattr(v, "__module__", None) == "learner_code")[:10]
            return _write(work, report)
    report["calls"] = []
    for k, call in enumerate(plan["calls"]):
        weights = _assemble(call["weights"], arrays)
        args = [np.array(arrays[key]) for key in call["args"]]
        done = {"function": call["function"], "tag": call["tag"]}
        report["calls"].append(done)
        started = time.monotonic()
        try:
            result = functions[call["function"]](weights, *args)
        except BaseException as e:           # noqa: BLE001 - any error of the learner's, SystemExit too
            done["raised"] = _failure(e, root)
            continue
        out = {}
        done.update(outline=outline(result, out), seconds=time.monotonic() - started)
        np.savez(os.path.join(work, f"out_{k}.npz"), **out)
    return _write(work, report)


def _assemble(outline, arrays):
    import numpy as np
    if isinstance(outline, str):
        return np.array(arrays[outline])
    if outline and isinstance(outline[0], str) and outline[0] == "pair":
        return (_assemble(outline[1], arrays), _assemble(outline[2], arrays))
    return [_assemble(item, arrays) for item in outline]


def _write(work, report):
    with open(os.path.join(work, "out.json"), "w") as f:
        json.dump(report, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))

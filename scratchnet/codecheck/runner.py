"""Call the learner's function on copies of the point, with a time limit, and bring back what it returned.

* `run_callable` (``sn.check_code(fn)``): in this process. Each call gets fresh copies, so code that
  updates the weights in place changes nothing that is checked. The time limit is a ``SIGALRM`` timer,
  which only the main thread can set; elsewhere the code runs without one.
* `run_file` (``scratchnet check-code FILE.py:FUNCTION``): in a child process (`worker`), which can be
  ended when the time is up however the code hangs. Arrays travel as ``.npz`` files without pickle.

A call is a tuple of arguments, the weights first (``(weights, X, Y)`` for ``backprop``, ``(weights, X)``
for ``forward``), tagged by its batch size (``"4"``, ``"1"``). `run_callable` answers ``{tag: Outcome}``
for one function; `run_file` runs several functions of the same file in the same child process and
answers ``{function: {tag: Outcome}}``. Both raise `LearnerCodeError` when the code cannot be run at all.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np

from .failures import Crash, Frame, LearnerCodeError

PRINTED_LIMIT = 4000
"""Characters of the learner's own output kept (the last ones)."""


@dataclass
class Outcome:
    """One call of the learner's function: what it ``returned`` (the object itself), or the `Crash`."""

    returned: object = None
    crash: Crash = None
    seconds: float = 0.0


def _copies(weights):
    return [tuple(np.array(a) for a in w) if isinstance(w, tuple) else np.array(w) for w in weights]


def _fresh(args):
    """Fresh copies of a call's arguments: the weights (a list of arrays or pairs), then arrays."""
    return (_copies(args[0]),) + tuple(np.array(a) for a in args[1:])


class _Timeout(BaseException):
    """Raised into the learner's code by the alarm (a BaseException, so their ``except Exception`` lets it
    through)."""


def _own_frames(tb):
    """Frames of the traceback outside scratchnet and NumPy: the learner's."""
    ours = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    skip = (ours + os.sep, os.path.dirname(np.__file__) + os.sep)
    return tuple(Frame(f.filename, f.lineno, f.name, f.line or "") for f in traceback.extract_tb(tb)
                 if not os.path.abspath(f.filename).startswith(skip))


def run_callable(fn, calls, timeout, who="backprop"):
    """Call ``fn(*args)`` for each ``tag → args`` in ``calls`` on fresh copies, each within ``timeout``
    seconds (main thread only). ``who`` names the function in messages. Returns ``{tag: Outcome}``."""
    if not callable(fn):
        signature = "forward(weights, X) -> [H1, …, ŷ]" if who == "forward" else "fn(weights, X, Y) -> grads"
        raise LearnerCodeError(f"check_code needs a function {signature}, got {type(fn).__name__}",
                               "missing_function")
    timed = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    out = {}
    for tag, args in calls.items():
        previous = None
        if timed:
            def alarm(signum, frame):
                raise _Timeout()
            previous = signal.signal(signal.SIGALRM, alarm)
            signal.setitimer(signal.ITIMER_REAL, timeout)
        started = time.monotonic()
        try:
            out[tag] = Outcome(returned=fn(*_fresh(args)))
        except _Timeout:
            raise LearnerCodeError(f"your {who} did not return within {timeout:g} s (B = {tag}); look for a "
                                   f"loop that never ends, or give it more time with timeout", "timeout") from None
        except Exception as e:                     # noqa: BLE001 - the learner's error, reported as data
            out[tag] = Outcome(crash=Crash(type(e).__name__, str(e), _own_frames(e.__traceback__)))
        finally:
            if timed:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        out[tag].seconds = time.monotonic() - started
    return out


def _save_calls(jobs, work):
    """``jobs`` (``{function: {tag: args}}``) as ``inputs.npz`` and the plan ``inputs.json`` (a list of
    calls, each ``{"function", "tag", "weights", "args"}``, in the order they are to run)."""
    arrays, plan = {}, {"calls": []}

    def put(a):
        key = f"i{len(arrays)}"
        arrays[key] = np.asarray(a)
        return key
    for function, calls in jobs.items():
        for tag, (weights, *rest) in calls.items():
            outline = [["pair", put(w[0]), put(w[1])] if isinstance(w, tuple) else put(w) for w in weights]
            plan["calls"].append({"function": function, "tag": tag, "weights": outline,
                                  "args": [put(a) for a in rest]})
    np.savez(os.path.join(work, "inputs.npz"), **arrays)
    with open(os.path.join(work, "inputs.json"), "w") as f:
        json.dump(plan, f)


def _rebuild(outline, arrays):
    """The learner's returned object from the worker's outline (`worker.outline`)."""
    if "none" in outline:
        return None
    if "array" in outline:
        a = np.array(arrays[outline["array"]])
        return a.tolist() if outline.get("from") == "list" else a
    if "dict" in outline:
        return {k: _rebuild(v, arrays) for k, v in outline["dict"]}
    if "list" in outline:
        return [_rebuild(v, arrays) for v in outline["list"]]
    if "tuple" in outline:
        return tuple(_rebuild(v, arrays) for v in outline["tuple"])
    return _Unreadable(outline["other"])


class _Unreadable:
    """Something the learner returned that is not a number, an array or a container of them."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"a {self.type_name}"


def _crash(failure):
    return Crash(failure["type"], failure["message"], tuple(Frame(*f) for f in failure["frames"]))


def check_file(path, function):
    """Refuse a path that is not a readable Python file, or a name that is not a Python identifier."""
    if not function.isidentifier():
        raise LearnerCodeError(f"{function!r} is not a Python function name; write FILE.py:FUNCTION",
                               "missing_function")
    if not os.path.isfile(path):
        raise LearnerCodeError(f"no such file: {path}", "import")
    if not path.endswith(".py"):
        raise LearnerCodeError(f"{path} is not a Python file (.py); for other languages export the point and "
                               f"check saved gradients instead", "import")
    try:
        with open(path, "rb"):
            pass
    except OSError as e:
        raise LearnerCodeError(f"cannot read {path}: {e.strerror}", "import") from None


def run_file(path, jobs, timeout):
    """Import ``path`` in a child process and call each function of ``jobs`` (``{function: {tag: args}}``,
    run in that order) there, within ``timeout`` seconds in all. Returns ``({function: {tag: Outcome}},
    printed)``, ``printed`` the end of what the learner's code wrote to standard output and error."""
    for function in jobs:
        check_file(path, function)
    names = " and ".join(jobs)
    worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
    with tempfile.TemporaryDirectory(prefix="scratchnet-check-code-") as work:
        _save_calls(jobs, work)
        log = os.path.join(work, "printed.txt")
        with open(log, "wb") as printed:
            env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
            proc = subprocess.Popen([sys.executable, worker, os.path.abspath(path), work],
                                    stdin=subprocess.DEVNULL, stdout=printed, stderr=subprocess.STDOUT,
                                    cwd=os.path.dirname(os.path.abspath(path)) or ".", env=env)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise LearnerCodeError(f"your code did not return within {timeout:g} s; look for a loop that "
                                       f"never ends (or code that runs when the file is imported: put it "
                                       f"under if __name__ == '__main__':), or give it more time with "
                                       f"--timeout", "timeout") from None
            finally:
                if proc.poll() is None:
                    proc.kill()
        with open(log, "rb") as f:
            text = f.read().decode("utf-8", "replace")[-PRINTED_LIMIT:]
        report_path = os.path.join(work, "out.json")
        if not os.path.exists(report_path):
            raise LearnerCodeError(f"your code ended the Python process (exit status {proc.returncode}) before "
                                   f"{names} returned" + (f"; it printed: {text.strip().splitlines()[-1]}"
                                                          if text.strip() else ""), "raised")
        with open(report_path) as f:
            report = json.load(f)
        if "import" in report:
            crash = _crash(report["import"])
            where = f" at {crash.last.where()}" if crash.last else ""
            first = crash.message.strip().splitlines()[0] if crash.message.strip() else ""
            raise LearnerCodeError(f"{os.path.basename(path)} does not import: {crash.type_name}{where}: {first}"[:400],
                                   "import", crash.last.where() if crash.last else None)
        if "missing" in report:
            there = ", ".join(report["defines"])
            raise LearnerCodeError(f"{os.path.basename(path)} has no function {report['missing']}"
                                   + (f" (it defines {there}); name one with FILE.py:FUNCTION" if there else ""),
                                   "missing_function")
        out = {function: {} for function in jobs}
        for k, call in enumerate(report["calls"]):
            if "raised" in call:
                outcome = Outcome(crash=_crash(call["raised"]))
            else:
                arrays = np.load(os.path.join(work, f"out_{k}.npz"), allow_pickle=False)
                outcome = Outcome(returned=_rebuild(call["outline"], arrays), seconds=call["seconds"])
            out[call["function"]][call["tag"]] = outcome
        return out, text

"""``check_code``: run a learner's ``backprop(weights, X, Y) -> grads`` at a random point, at ``B`` and at
``B = 1``, and say layer by layer whether its gradients are right, and which known mistake they are."""

import os

import numpy as np

from ..errors import ScratchnetError
from ..network import SEED_SIZES
from .analyse import analyse
from .notation import learner_inputs
from .point import random_point
from .result import CodeCheckResult
from .runner import run_callable, run_file
from .spec import make_spec

MAX_BATCH = 1024
DEFAULT_TIMEOUT = 60.0


def split_target(target, default="backprop"):
    """``"FILE.py:FUNCTION"`` → ``("FILE.py", "FUNCTION")`` (``FUNCTION`` defaults to ``backprop``)."""
    path, sep, function = str(target).rpartition(":")
    if not sep or not function or os.sep in function or function.endswith(".py") or (
            len(path) == 1 and path.isalpha()):          # C:\… on Windows
        return str(target), default
    return path, function


def check_code(fn, sizes=SEED_SIZES, activations=None, *, bias="row", convention="row", batch=4, loss="ce",
               output=None, seed=0, rng=None, timeout=DEFAULT_TIMEOUT, function="backprop"):
    """Check a learner's backward pass.

    Parameters
    ----------
    fn : callable ``fn(weights, X, Y) -> grads``, run in this process on copies (within ``timeout`` s
        when called from the main thread); or a path ``"FILE.py"`` / ``"FILE.py:FUNCTION"``, imported and
        run in a child process that is ended after ``timeout`` s
    sizes : ``[n_0, …, n_L]``, default the seed's ``784, 100, 10, 10``
    activations : one per hidden layer (sigmoid, tanh, relu), optionally with the output's last
    bias : ``"row"`` (``W_l`` row 0 is the bias, the seed's), ``"separate"`` (``(W_l, b_l)`` pairs) or
        ``"none"``
    convention : ``"row"`` (``X (B, n_0)``, ``z = [1 H] W``) or ``"column"`` (``X (n_0, B)``, ``z = W [1; h]``)
    batch : int, ``B`` (the code also runs at ``B = 1``, where a missing ``1/B`` vanishes)
    loss : ``"ce"`` (mean cross-entropy of a softmax output) or ``"mse"`` (``(1/2B) Σ ‖ŷ − y‖²``)
    output : ``"sigmoid"`` or ``"linear"`` with ``mse``
    seed, rng : the random point (a ``numpy.random.Generator`` wins over ``seed``)
    timeout : seconds the code may take
    function : the function's name in a file (when ``fn`` is a path without ``:FUNCTION``)

    Returns
    -------
    CodeCheckResult (``verdict``, ``exit_code``, ``first_wrong_layer``, ``diagnoses``, text, JSON, HTML)

    Raises
    ------
    LearnerCodeError (exit 2)
        The code does not import, lacks the function, raises (other than a NumPy shape mismatch, which is
        its ``shape_error``), does not return in time, or returns None, NaN, the wrong number of arrays.
    ScratchnetError
        A bad network, batch or option.
    """
    spec = make_spec(sizes, activations, bias, convention, loss, output)
    if not isinstance(batch, (int, np.integer)) or not 1 <= batch <= MAX_BATCH:
        raise ScratchnetError(f"the batch must be 1 … {MAX_BATCH} examples, got {batch!r}", field="batch")
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ScratchnetError(f"the timeout must be a positive number of seconds, got {timeout!r}", field="timeout")
    rng = rng if rng is not None else np.random.default_rng(seed)
    batches = [int(batch)] + ([1] if batch != 1 else [])
    points = {B: random_point(spec, B, rng) for B in batches}
    calls = {str(B): learner_inputs(spec, points[B]) for B in batches}
    printed, source = "", None
    if isinstance(fn, (str, os.PathLike)):
        path, function = split_target(os.fspath(fn), function)
        outcomes, printed = run_file(path, function, calls, timeout)
        source = f"{function} in {os.path.basename(path)}"
    else:
        outcomes = run_callable(fn, calls, timeout)
        source = getattr(fn, "__name__", type(fn).__name__)
    runs = {B: analyse(spec, points[B], outcomes[str(B)]) for B in batches}
    return CodeCheckResult(spec, int(batch), runs, source=source, printed=printed, seed=seed)

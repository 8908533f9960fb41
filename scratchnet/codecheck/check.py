"""``check_code``: run a learner's ``backprop(weights, X, Y) -> grads`` at a random point, at ``B`` and at
``B = 1``, and say layer by layer whether its gradients are right, and which known mistake they are;
with ``forward``, their ``forward(weights, X) -> [H1, …, ŷ]`` is run at the same points and compared
first."""

import os

import numpy as np

from ..errors import ScratchnetError
from ..network import SEED_SIZES
from .analyse import analyse
from .forwardcheck import check_forward
from .notation import learner_inputs
from .passes import forward as true_forward
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
               output=None, seed=0, rng=None, timeout=DEFAULT_TIMEOUT, function="backprop", forward=None):
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
    forward : optional, the learner's ``forward(weights, X) -> [H1, …, H_{L-1}, ŷ]`` (a list or tuple of
        the hidden activations and the output, each oriented like ``X``; or ``ŷ`` alone): a callable, or
        when ``fn`` is a file the name of a function in that file. It runs at the same points, on
        copies, with the same time limit (in the same child process for a file), and is compared layer
        by layer first: a wrong forward pass makes the verdict ``wrong_value`` whatever the gradients.

    Returns
    -------
    CodeCheckResult (``verdict``, ``exit_code``, ``first_wrong_layer``, ``diagnoses``,
    ``first_wrong_forward_layer``, ``forward``, text, JSON, HTML)

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
    forward_calls = {tag: (weights, X) for tag, (weights, X, Y) in calls.items()}
    printed, source, forward_outcomes = "", None, None
    if isinstance(fn, (str, os.PathLike)):
        path, function = split_target(os.fspath(fn), function)
        jobs = {}
        if isinstance(forward, str):
            if forward == function:
                raise ScratchnetError(f"--forward names {function} itself: give the name of your forward "
                                      f"pass function", field="forward")
            jobs[forward] = forward_calls
        jobs[function] = calls
        outcomes, printed = run_file(path, jobs, timeout)
        if isinstance(forward, str):
            forward_outcomes = outcomes[forward]
        outcomes = outcomes[function]
        source = f"{function} in {os.path.basename(path)}"
    else:
        if isinstance(forward, (str, os.PathLike)):
            raise ScratchnetError("forward names a function in a file only when the code is a file "
                                  "(\"FILE.py:backprop\"); with a function, give forward as a function too",
                                  field="forward")
        source = getattr(fn, "__name__", type(fn).__name__)
    if forward is not None and forward_outcomes is None:
        forward_outcomes = run_callable(forward, forward_calls, timeout, who="forward")
    fwds = {B: true_forward(spec, points[B]) for B in batches}
    forward_runs = None
    if forward_outcomes is not None:
        forward_runs = {B: check_forward(spec, fwds[B], forward_outcomes[str(B)]) for B in batches}
    if not isinstance(fn, (str, os.PathLike)):
        outcomes = run_callable(fn, calls, timeout)
    runs = {B: analyse(spec, points[B], outcomes[str(B)], fwds[B]) for B in batches}
    return CodeCheckResult(spec, int(batch), runs, source=source, printed=printed, seed=seed,
                           forward=forward_runs)

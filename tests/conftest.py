"""Shared fixtures and helpers: the command-line runner, the one-line-error assertion, planted-bug
networks. Test modules import the helpers with ``from conftest import …``."""

import os
import shutil
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import scratchnet as sn
from scratchnet.activations import ACTIVATIONS
from scratchnet.losses import softmax_cross_entropy_delta


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def seed_net64():
    """The seed network 784 → 100 σ → 10 σ → 10 softmax in float64."""
    return sn.seed_network(seed=0, dtype="float64")


# ---------------------------------------------------------------- the command line, as a user runs it

def run_cli(*args, env=None, cwd=None, timeout=120, input=None):
    """Run ``scratchnet ARGS`` in a fresh interpreter, as a user would; a `subprocess.CompletedProcess`."""
    return subprocess.run([sys.executable, "-c", "from scratchnet.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd, input=input)


PERMISSIONS_APPLY = os.geteuid() != 0 or shutil.which("setpriv") is not None
"""Whether `run_cli_without_override` can run a process that file permissions apply to: root ignores them
unless util-linux's ``setpriv`` drops the capabilities that let it."""
needs_permissions = pytest.mark.skipif(not PERMISSIONS_APPLY, reason="running as root without setpriv "
                                       "(util-linux): file permissions cannot be tested")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                    reason="needs Debian's chromium (apt-get install chromium; .ci/run does)")


def run_cli_without_override(*args, timeout=120):
    """`run_cli` as a process that file permissions apply to (tests using it are marked
    `needs_permissions`). Root ignores them, so as root the process runs without the capabilities that
    let it (util-linux ``setpriv``); elsewhere, as the user."""
    assert PERMISSIONS_APPLY, "mark the test needs_permissions: as root without setpriv permissions do not apply"
    prefix = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    return subprocess.run(prefix + [sys.executable, "-c", "from scratchnet.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def invoke(capsys):
    """``invoke(*args)`` runs ``scratchnet ARGS`` in this process (faster than `run_cli`, same exit codes
    and output); returns a `subprocess.CompletedProcess` with ``returncode``, ``stdout``, ``stderr``."""
    from scratchnet.cli import main

    def run(*args):
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, exit.value.code, out, err)
    return run


def assert_one_line_error(result, code, *fragments):
    """``result`` failed with exit ``code`` and exactly one line ``scratchnet: error: …`` on standard error
    that contains every fragment, and no traceback."""
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("scratchnet: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# ---------------------------------------------------------------- fuzzing

FUZZ_EXAMPLES = int(os.environ.get("SCRATCHNET_FUZZ_EXAMPLES", "0"))
"""Examples per fuzz test for a long run (``SCRATCHNET_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz_*``);
0 keeps each test's short default."""


def fuzz_settings(examples):
    """Hypothesis settings of a fuzz test: ``examples`` in the suite, `FUZZ_EXAMPLES` in a long run."""
    return settings(max_examples=FUZZ_EXAMPLES or examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def works_or_one_line_error(call, seconds, memory, max_length=600):
    """Run ``call()``: it returns, or raises the project's own error with a one-line message, within
    ``seconds`` of CPU time (so a busy machine does not fail it) and ``memory`` bytes of peak traced
    allocation. Returns the result, or the `ScratchnetError` it raised; any other exception fails."""
    tracemalloc.start()
    started = time.process_time()
    try:
        try:
            outcome = call()
        except sn.ScratchnetError as e:
            message = getattr(e, "message", None) or str(e)   # a FormulaError adds the formula and carets below
            assert message and "\n" not in message and len(message) < max_length, message
            outcome = e
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.process_time() - started < seconds
    assert peak < memory, peak
    return outcome


# ---------------------------------------------------------------- planted bugs

class PlantedBug(sn.Network):
    """`Network.backward` with one mistake that a learner could make, chosen by the class attributes.

    Written without the trace's ``[1 H]`` arrays (bias row and weights apart) so that it is a second,
    independent spelling of the backward pass; with no bug chosen it is correct. A bug is a class
    attribute of a subclass: no table that other tests use is ever changed.
    """

    drop_derivative_at = None      # δ_l = δ_{l+1} W̄ᵀ, without ⊙ f'(z_l), for this l
    keep_bias_row_at = None        # back-propagate through the full W_l (bias row included) for this l
    forget_mean = False            # δ_L = Ŷ - Y instead of (Ŷ - Y) / B

    def backward(self, trace, y=None, dW=None):
        if y is not None:
            trace.y = self.check_labels(y, trace.B)
        y, L, t = trace.y, self.n_layers, trace
        dW = t.dW if dW is None else dW
        Hs = [t.H[l] for l in range(L + 1)]
        delta = softmax_cross_entropy_delta(Hs[L], y)
        if self.forget_mean:
            delta *= len(y)
        for l in range(L, 0, -1):
            W = self.weights[l - 1]
            t.delta[l][...] = delta
            np.sum(delta, axis=0, out=dW[l][0])
            np.matmul(Hs[l - 1].T, delta, out=dW[l][1:])
            if l > 1:
                if l == self.keep_bias_row_at:     # δ_l W_lᵀ is (B, n_{l-1}+1): keep its first n_{l-1}
                    back = (delta @ W.T)[:, :-1].copy()
                else:
                    back = delta @ W[1:].T
                if l - 1 == self.drop_derivative_at:
                    delta = back
                else:
                    delta = ACTIVATIONS[self.activations[l - 2]].derivative(Hs[l - 1], back)
        return t


def planted(**bug):
    """A `PlantedBug` subclass with the given bug, e.g. ``planted(drop_derivative_at=2)``."""
    return type("Planted_" + "_".join(f"{k}_{v}" for k, v in bug.items()), (PlantedBug,), bug)

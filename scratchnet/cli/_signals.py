"""SIGINT and SIGTERM as exceptions, so that every command cleans up when it is stopped.

Python turns only SIGINT into an exception (`KeyboardInterrupt`); SIGTERM (``kill``, a CI runner's
timeout, a closing terminal session) kills the process on the spot, leaving behind whatever temporary file
or download folder it was writing. `install` makes both raise `Interrupted`, a `KeyboardInterrupt` that
remembers its signal, so ``finally`` blocks and context managers remove their temporary files and the
command exits with the conventional status, 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
`handled` does the same for the length of a ``with`` block and then puts the previous handlers back (for
commands run inside another program, such as the test suite).

After the first signal both are ignored, so a second Ctrl-C cannot cut the clean-up short.
"""

import contextlib
import signal

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The command was stopped by ``signum``; ``exit_code`` is ``128 + signum``."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


def _raise(signum, frame):
    for s in SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    raise Interrupted(signum)


def install():
    """Make SIGINT and SIGTERM raise `Interrupted` in the main thread (idempotent)."""
    for s in SIGNALS:
        signal.signal(s, _raise)


@contextlib.contextmanager
def handled():
    """`install` for the ``with`` block; the previous handlers come back afterwards."""
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    install()
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def exit_code(interrupt):
    """The exit status for a `KeyboardInterrupt`: 128 + its signal, 130 for a plain one."""
    return getattr(interrupt, "exit_code", 130)

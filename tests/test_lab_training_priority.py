"""Training runs yield the cores to learners' requests: a run's thread has a lower priority (Linux)."""

import os
import sys
import threading

import pytest

from scratchnet.lab.live import TRAINING_NICENESS, TrainingQueue

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")


class Probe:
    """A stand-in for a run: records the niceness of the thread that executes it."""

    def __init__(self):
        self.niceness = None
        self.done = threading.Event()

    def waiting_at(self, k):
        pass

    def stop(self):
        pass

    def execute(self):
        self.niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        self.done.set()


def test_a_run_executes_at_a_lower_priority_and_the_server_keeps_its_own():
    ours = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    queue = TrainingQueue(slots=1)
    first, second = Probe(), Probe()
    queue.submit(first)
    queue.submit(second)
    assert first.done.wait(10) and second.done.wait(10)
    queue.close()
    expected = min(ours + TRAINING_NICENESS, 19)
    assert first.niceness == second.niceness == expected
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == ours     # only the run's thread
    assert os.getpriority(os.PRIO_PROCESS, 0) == ours

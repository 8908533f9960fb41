"""Bounded work for every request: a few worker threads, a short queue, a fair share per learner.

Everything a request computes (decoding a picture, a forward or backward pass, a formula, the test set's
mistakes) runs in this pool, off the server's event loop, so a slow request never holds up the others'
answers and both cores serve requests (NumPy and Pillow release the interpreter lock in their loops).

* `THREADS` workers (the cores this process may use);
* at most `MAX_WAITING` requests queued or running in all: more are answered 503 at once;
* at most `PER_LEARNER` requests of one learner at once: more are answered 429, so one learner sending
  huge pictures back to back takes one worker, not all of them;
* every job has a time budget: an answer not ready after `TIMEOUT` seconds is a 503 (the job itself
  runs to its end, bounded by the limits of its inputs).
"""

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from .inputs import LabRequestError

THREADS = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
MAX_WAITING = 64
PER_LEARNER = 4
TIMEOUT = 20.0


class WorkPool:
    """Runs request work in threads within the bounds above."""

    def __init__(self, threads=THREADS, max_waiting=MAX_WAITING, per_learner=PER_LEARNER, timeout=TIMEOUT):
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="scratchnet-lab-request")
        self.max_waiting, self.per_learner, self.timeout = max_waiting, per_learner, timeout
        self._in_flight = 0
        self._by_learner = {}
        self._lock = threading.Lock()

    def _enter(self, key):
        with self._lock:
            if self._in_flight >= self.max_waiting:
                raise LabRequestError("the lab is busy with other learners' requests; try again in a moment", 503)
            if self._by_learner.get(key, 0) >= self.per_learner:
                raise LabRequestError(f"at most {self.per_learner} of your requests at once; wait for the "
                                      "answers you asked for", 429)
            self._in_flight += 1
            self._by_learner[key] = self._by_learner.get(key, 0) + 1

    def _leave(self, key):
        with self._lock:
            self._in_flight -= 1
            left = self._by_learner[key] - 1
            if left:
                self._by_learner[key] = left
            else:
                del self._by_learner[key]

    async def run(self, key, fn, *args):
        """``fn(*args)`` in a worker, counted against learner ``key``; its result, or its exception."""
        self._enter(key)
        future = asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        future.add_done_callback(lambda _: self._leave(key))
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout)
        except asyncio.TimeoutError:
            raise LabRequestError(f"this took over {self.timeout:.0f} s, the most the lab spends on one "
                                  "request; ask for something smaller", 503) from None

    def close(self):
        self._pool.shutdown(wait=False, cancel_futures=True)

"""Learning-rate schedules: ``SCHEDULES[name](lr, step, total_steps) -> lr at that step``."""

import math


def constant(lr, step, total_steps):
    """The same rate throughout."""
    return lr


def cosine(lr, step, total_steps):
    """Half a cosine from ``lr`` at step 0 down to 0 at ``total_steps``."""
    return 0.5 * lr * (1 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1)))


SCHEDULES = {"constant": constant, "cosine": cosine}

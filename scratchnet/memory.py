"""How much memory a job would need, estimated before anything is allocated.

A layer of a million units or a batch of a million rows does not fail cleanly: NumPy hands out the pages
lazily, the machine starts swapping, and the kernel kills the process minutes later. So every command
that builds a network from a user's sizes first adds up the arrays it will hold and compares that with
the memory the system can give (`available_bytes`), and `require` refuses a job that cannot fit with one
line that says how much it would need.

The estimates count the large arrays only (weights, gradients, optimiser state, activations of a batch,
data sets) and leave out NumPy's temporaries, so they err on the small side: a job refused here could not
have run; a job let through may still be tight.
"""

import os
import resource

from .errors import ScratchnetError

ITEMSIZE = {"float32": 4, "float64": 8}


def available_bytes():
    """Bytes the process can still allocate: the least of the system's available memory, the cgroup's
    remaining limit and the address-space limit; ``None`` where none of these can be read."""
    limits = []
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            cap = f.read().strip()
        if cap != "max":
            with open("/sys/fs/cgroup/memory.current", encoding="ascii") as f:
                limits.append(int(cap) - int(f.read().strip()))
    except (OSError, ValueError):
        pass
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            limits.append(soft)
    except (OSError, ValueError):
        pass
    if not limits and hasattr(os, "sysconf"):
        try:
            limits.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError):
            pass
    return max(min(limits), 0) if limits else None


def human(nbytes):
    """``1536`` → ``"1.5 kB"``; decimal units, as disks and most tools count."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if nbytes < 1000 or unit == "PB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1000
    return f"{nbytes:.1f} EB"


def n_params(sizes):
    """Number of weights of a network with layer sizes ``[n_0, …, n_L]``: ``Σ (n_{l-1} + 1) n_l``."""
    return sum((int(a) + 1) * int(b) for a, b in zip(sizes[:-1], sizes[1:]))


def network_bytes(sizes, batch=1, dtype="float64", weight_copies=1, activation_copies=1):
    """Bytes of ``weight_copies`` copies of the weights plus ``activation_copies`` copies of one batch's
    activations (``[1 H_l]`` and ``δ_l`` for every layer, ``B`` rows each).

    Parameters
    ----------
    sizes : sequence of int ``[n_0, …, n_L]``
    batch : int, rows ``B`` of the batch
    dtype : ``"float32"`` or ``"float64"``
    weight_copies : int, e.g. weights, gradients and two Adam moments: 4
    activation_copies : int, e.g. forward and backward buffers: 2

    Returns
    -------
    int, bytes
    """
    s = ITEMSIZE[str(dtype)]
    activations = int(batch) * sum(int(n) + 1 for n in sizes)
    return s * (weight_copies * n_params(sizes) + activation_copies * activations)


def training_bytes(sizes, batch_size, n_train, n_eval, dtype="float32", optimizer_copies=3, best_copy=False):
    """Bytes a training run holds at its peak.

    Weights, gradients, the optimiser's state (``optimizer_copies`` flat arrays: Adam keeps two moments and
    a scratch array) and, with a validation set, the best epoch's weights; a batch's activations; the
    training images twice (as loaded and the shuffled epoch, uint8); and the activations of one chunk of
    8,192 rows when a whole set is evaluated.
    """
    copies = 2 + optimizer_copies + (1 if best_copy else 0)
    data = 2 * int(n_train) * (int(sizes[0]) + 1) + int(n_eval) * (int(sizes[0]) + 1)
    return (network_bytes(sizes, batch_size, dtype, copies, 2)
            + network_bytes(sizes, min(8192, max(int(n_eval), 1)), dtype, 0, 1) + data)


def require(nbytes, what, hint="use smaller layers or a smaller batch"):
    """Raise `ScratchnetError` if ``nbytes`` cannot fit in the memory available now.

    ``what`` names the job (``"training 784 → 100000 σ → 10 softmax"``); the message says how much it
    would need and how much there is.
    """
    available = available_bytes()
    if available is not None and nbytes > available:
        raise ScratchnetError(f"{what} would need about {human(nbytes)} of memory, but only "
                              f"{human(available)} is available; {hint}")


def require_network(sizes, batch=1, dtype="float64", what=None, weight_copies=4, activation_copies=4):
    """`require` for a job that holds a few copies of a network's weights and of a batch's activations
    (``check``, ``derive``, ``gradcheck``). Call it before building the `Network`.

    Sizes past any machine (a layer of 10¹² units) are refused too, without overflow.
    """
    sizes = [int(n) for n in sizes]
    what = what or ("a network " + ",".join(map(str, sizes)) + f" with a batch of {batch}")
    if any(n > 2 ** 40 for n in sizes) or batch > 2 ** 40 or n_params(sizes) > 2 ** 50:
        raise ScratchnetError(f"{what} is far too large for any machine's memory; "
                              "use smaller layers or a smaller batch")
    require(network_bytes(sizes, batch, dtype, weight_copies, activation_copies), what)


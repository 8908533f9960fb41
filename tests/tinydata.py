"""A miniature MNIST for tests of whole runs: a few hundred 28×28 images that a network can learn.

`make` writes the four IDX files into a folder; `scratchnet(folder, *args)` runs the real command line
in a fresh interpreter with that folder as its data and the miniature's SHA-256 in place of MNIST's (the
checksum table is the only thing changed, and only inside that process).
"""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np

from scratchnet.data.checksums import FILES
from scratchnet.data.idx import encode_idx

RUNNER = """
import json, os
from scratchnet.data import checksums
checksums.SHA256["mnist"] = json.loads(os.environ["TINY_SHA256"])
from scratchnet.cli import main
main()
"""


def make(folder, n_train=600, n_test=200, seed=0):
    """Write a learnable miniature MNIST into ``folder``: each class a random template plus noise."""
    rng = np.random.default_rng(seed)
    templates = rng.integers(0, 256, (10, 784))
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        noise = rng.integers(-60, 61, (n, 784))
        images = np.clip(templates[labels] + noise, 0, 255).astype(np.uint8)
        (folder / FILES[(split, "images")]).write_bytes(encode_idx(images.reshape(n, 28, 28)))
        (folder / FILES[(split, "labels")]).write_bytes(encode_idx(labels))
    return folder


def checksums(folder):
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in FILES.values()}


def environment(folder):
    """The environment for a process that should take ``folder`` for MNIST."""
    return {**os.environ, "SCRATCHNET_DATA": str(folder), "TINY_SHA256": json.dumps(checksums(folder))}


def command(*args):
    """The argv of ``scratchnet ARGS`` run with the miniature's checksums."""
    return [sys.executable, "-c", RUNNER, *map(str, args)]


def scratchnet(folder, *args, timeout=120, **kwargs):
    """Run ``scratchnet ARGS`` on the miniature in ``folder``; returns the `subprocess.CompletedProcess`."""
    return subprocess.run(command(*args), capture_output=True, text=True, timeout=timeout,
                          env=environment(folder), **kwargs)

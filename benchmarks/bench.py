"""Benchmark of issue 6: the same as ``scratchnet bench`` (see `scratchnet.bench`).

    python benchmarks/bench.py --out docs/benchmarks.md
"""

import sys

from scratchnet.cli import main

if __name__ == "__main__":
    main(["bench", *sys.argv[1:]])

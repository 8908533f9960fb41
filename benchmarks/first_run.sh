#!/usr/bin/env bash
# Is a fresh install's first `scratchnet train` slower with the compiled kernels? The default run, three
# ways in turns, round after round: NumPy only (SCRATCHNET_COMPILED=0, numba never imported), compiled
# with an empty numba cache (a fresh install's first run: numba compiles the kernels), and compiled with
# the cache that run left. Prints each run's training line and its wall-clock seconds, whole process.
#
#     bash benchmarks/first_run.sh [ROUNDS]            # default 3 rounds, about 3 minutes on 2 cores
#
# The machine's own drift (±20 % between runs here) is larger than the difference, so compare the
# rounds' spread, not single runs. MNIST must be in the cache already (any earlier `scratchnet train`).
set -euo pipefail
rounds=${1:-3}
work=$(mktemp -d)
export NUMBA_CACHE_DIR="$work/numba-cache"
for round in $(seq "$rounds"); do
  for way in numpy fresh cached; do
    if [ "$way" = numpy ]; then compiled=0; else compiled=1; fi
    if [ "$way" = fresh ]; then rm -rf "$NUMBA_CACHE_DIR"; fi
    start=$(date +%s.%N)
    line=$(SCRATCHNET_COMPILED=$compiled scratchnet train --out "$work/model-$way.npz" | grep "epochs in")
    end=$(date +%s.%N)
    wall=$(python3 -c "print(f'{$end - $start:5.1f}')")
    printf 'round %s  %-6s  wall %s s   %s\n' "$round" "$way" "$wall" "$line"
  done
done
rm -rf "$work"

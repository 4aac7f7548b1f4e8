#!/usr/bin/env bash
# Runs every benchmark binary one after another (never two at once: the two
# cores share their floating-point units, so concurrent runs distort ratios).
# One BLAS thread, as bdrl's training loop runs (OpenBLAS reads this when it
# loads, so no worker thread is even started). bench_agents also runs
# bench/torch_minatar.py, the PyTorch reference of its MinAtar section, when
# a python3 with torch is there (apt-get install -y python3-torch; not part
# of `make deps`), on the real MinAtar when PYTHONPATH holds a checkout of it,
# else on random observations of the games' shapes (it says which).
set -eu
BUILD=${BUILD:-build/rel}
export OPENBLAS_NUM_THREADS=1
for b in "$BUILD"/bench/bench_*; do
  [ -x "$b" ] || continue
  case "$b" in *.d) continue;; esac
  echo "== $(basename "$b")"
  "$b" "$@"
  echo
done

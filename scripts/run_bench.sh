#!/usr/bin/env bash
# Runs every benchmark binary one after another (never two at once: the two
# cores share their floating-point units, so concurrent runs distort ratios).
set -eu
BUILD=${BUILD:-build/rel}
for b in "$BUILD"/bench/bench_*; do
  [ -x "$b" ] || continue
  case "$b" in *.d) continue;; esac
  echo "== $(basename "$b")"
  "$b" "$@"
  echo
done

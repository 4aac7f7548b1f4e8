#!/usr/bin/env bash
# Copies what a finished `bdrl compare` directory's tables, aggregates and
# curves are made of into a small directory that can be committed (results/):
# comparison.{csv,md,json} and, for every finished run, runs/<run>/
# {config.yaml,summary.json,eval.csv}. Checkpoints, the per-episode
# metrics.csv and the logs stay behind (megabytes a run against a few
# kilobytes). What the copy still supports, unchanged:
#   scripts/minatar_table.sh DEST, scripts/minatar_aggregate.sh OUT DEST...,
#   bdrl compare --aggregate DEST..., bdrl plot curves DEST/runs/<config>_s*
# (the runs' own files, so a figure or a table in docs/ can be redrawn from
# the repository after the machine that trained them is gone).
#
#   scripts/archive_comparison.sh COMPARE_DIR DEST
#
# Unfinished runs (run_finished, run_lib.sh) are left out and named on
# stderr. DEST's existing
# runs are replaced by the new copies of the same name.
set -euo pipefail
. "$(dirname "$0")/run_lib.sh"
[ $# -eq 2 ] || { echo "usage: $0 COMPARE_DIR DEST" >&2; exit 2; }
src=$1 dst=$2
[ -f "$src/comparison.csv" ] || { echo "$0: $src/comparison.csv: no such file (not a finished bdrl compare directory)" >&2; exit 2; }
mkdir -p "$dst/runs"
for f in comparison.csv comparison.md comparison.json; do
  [ -f "$src/$f" ] && cp "$src/$f" "$dst/$f"
done
n=0
for run in "$src"/runs/*/; do
  run=${run%/}
  name=$(basename "$run")
  if ! run_finished "$run"; then
    echo "$0: $run: not finished, left out" >&2
    continue
  fi
  tmp="$dst/runs/.$name.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  for f in config.yaml summary.json eval.csv; do
    [ -f "$run/$f" ] || { echo "$0: $run/$f: missing" >&2; rm -rf "$tmp"; exit 1; }
    cp "$run/$f" "$tmp/$f"
  done
  rm -rf "${dst:?}/runs/$name"
  mv "$tmp" "$dst/runs/$name"
  n=$((n + 1))
done
echo "$dst: $n runs"

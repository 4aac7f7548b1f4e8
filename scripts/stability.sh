#!/usr/bin/env bash
# Stability after solving, from the eval.csv of training runs (issue 11's
# figure for CartPole at CleanRL's settings): per run, the first evaluation
# step at or above SOLVED, how many later evaluations fall below DIP, the
# final evaluation return, and whether it is at the 500-step maximum.
#
#   scripts/stability.sh [-s SOLVED] [-d DIP] RUN_DIR...     (defaults 475, 400)
#   scripts/stability.sh runs/report/cleanrl/runs/cleanrl_bd_s*
set -euo pipefail
solved=475 dip=400
while getopts "s:d:" o; do
  case $o in s) solved=$OPTARG ;; d) dip=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: $0 [-s SOLVED] [-d DIP] RUN_DIR..." >&2; exit 2; }
printf '%-50s %12s %10s %10s\n' run first_solved dips_after final
for d in "$@"; do
  f="$d/eval.csv"
  [ -f "$f" ] || { echo "$0: $f: no such file" >&2; exit 2; }
  awk -F, -v s="$solved" -v dp="$dip" -v run="$d" '
    NR == 1 { next }
    { if (first == "" && $2 >= s) first = $1; else if (first != "" && $2 < dp) dips++; last = $2 }
    END { printf "%-50s %12s %10d %10s\n", run, first == "" ? "never" : first, dips, last }' "$f"
done

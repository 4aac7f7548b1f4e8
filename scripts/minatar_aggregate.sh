#!/usr/bin/env bash
# The aggregate over MinAtar games in docs/minatar.md: `bdrl compare
# --aggregate` (rliable's statistics, docs/aggregate.md) over finished
# per-game comparisons, with each game's scores normalized
#   0 = the random policy: MINATAR_RANDOM (scripts/minatar_lib.sh), the
#       real MinAtar's return over 100 uniformly random episodes;
#   1 = the best score of any finished run in the given comparisons on
#       that game (--reference GAME=best; MinAtar has no threshold and no published per-game
#       table to normalize by, so 1 is "the best run seen here": a min-max
#       normalization; P(X > Y) does not depend on it).
# A run's score is its final evaluation, or with --score last-quarter the
# mean of its evaluations over the last quarter of its steps (bdrl compare
# --aggregate --score, docs/aggregate.md).
#
#   scripts/minatar_aggregate.sh [--score final|last-quarter] OUT COMPARE_DIR...
#
# BDRL (default: bin/bdrl, else build/rel/bdrl) is the program run.
set -euo pipefail
. "$(dirname "$0")/minatar_lib.sh"
score=final
if [ "${1:-}" = --score ]; then # bdrl checks the value
  score=${2:-}
  shift 2 || { echo "usage: $0 [--score final|last-quarter] OUT COMPARE_DIR..." >&2; exit 2; }
fi
[ $# -ge 2 ] || { echo "usage: $0 [--score final|last-quarter] OUT COMPARE_DIR..." >&2; exit 2; }
out=$1; shift
bdrl=${BDRL:-}
if [ -z "$bdrl" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  for b in "$here/bin/bdrl" "$here/build/rel/bdrl"; do [ -x "$b" ] && { bdrl=$b; break; }; done
fi
[ -n "$bdrl" ] || { echo "$0: no bdrl found (build it or set BDRL)" >&2; exit 2; }
# every game of every comparison (a comparison may hold several games, and
# a game may be in several comparisons: the per-game ones, then IQN's or
# the Rainbow rows'): its random score, and its best run as the reference
declare -A games=()
for d in "$@"; do
  [ -f "$d/comparison.csv" ] || { echo "$0: $d/comparison.csv: no such file (run bdrl compare first)" >&2; exit 2; }
  [ -n "$(minatar_finals "$d")" ] || { echo "$0: $d: no finished run" >&2; exit 2; }
  for env in $(awk -F, 'FNR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["env"] }' "$d/comparison.csv"); do
    [ -n "${MINATAR_RANDOM[$env]:-}" ] || { echo "$0: $d: $env is not a MinAtar game" >&2; exit 2; }
    games[$env]=1
  done
done
args=()
for env in "${!games[@]}"; do
  args+=(--random "$env=${MINATAR_RANDOM[$env]}" --reference "$env=best")
done
exec "$bdrl" compare --aggregate "$@" --out "$out" --score "$score" "${args[@]}"

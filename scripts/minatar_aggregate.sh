#!/usr/bin/env bash
# The aggregate over MinAtar games in docs/minatar.md: `bdrl compare
# --aggregate` (rliable's statistics, docs/aggregate.md) over finished
# per-game comparisons, with each game's scores normalized
#   0 = the random policy: MINATAR_RANDOM (scripts/minatar_lib.sh), the
#       real MinAtar's return over 100 uniformly random episodes;
#   1 = the best final evaluation of any run in the given comparisons on
#       that game (MinAtar has no threshold and no published per-game table
#       to normalize by, so 1 is "the best run seen here": a min-max
#       normalization; P(X > Y) does not depend on it).
#
#   scripts/minatar_aggregate.sh OUT COMPARE_DIR...
#
# BDRL (default: bin/bdrl, else build/rel/bdrl) is the program run.
set -euo pipefail
. "$(dirname "$0")/minatar_lib.sh"
[ $# -ge 2 ] || { echo "usage: $0 OUT COMPARE_DIR..." >&2; exit 2; }
out=$1; shift
bdrl=${BDRL:-}
if [ -z "$bdrl" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  for b in "$here/bin/bdrl" "$here/build/rel/bdrl"; do [ -x "$b" ] && { bdrl=$b; break; }; done
fi
[ -n "$bdrl" ] || { echo "$0: no bdrl found (build it or set BDRL)" >&2; exit 2; }
args=()
for d in "$@"; do
  [ -f "$d/comparison.csv" ] || { echo "$0: $d/comparison.csv: no such file (run bdrl compare first)" >&2; exit 2; }
  env=$(awk -F, 'FNR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["env"]; exit }' "$d/comparison.csv")
  [ -n "${MINATAR_RANDOM[$env]:-}" ] || { echo "$0: $d: $env is not a MinAtar game" >&2; exit 2; }
  best=$(minatar_finals "$d" | cut -d' ' -f3 | sort -g | tail -n 1)
  [ -n "$best" ] || { echo "$0: $d: no finished run" >&2; exit 2; }
  args+=(--random "$env=${MINATAR_RANDOM[$env]}" --reference "$env=$best")
done
exec "$bdrl" compare --aggregate "$@" --out "$out" "${args[@]}"

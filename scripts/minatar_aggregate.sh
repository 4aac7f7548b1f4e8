#!/usr/bin/env bash
# The aggregate over MinAtar games in docs/minatar.md: `bdrl compare
# --aggregate` (rliable's statistics, docs/aggregate.md) over finished
# per-game comparisons, with each game's scores normalized
#   0 = the random policy: the real MinAtar's return over 100 uniformly
#       random episodes (the numbers quoted in issue 22);
#   1 = the best final evaluation of any run in the given comparisons on
#       that game (MinAtar has no threshold and no published per-game table
#       to normalize by, so 1 is "the best run seen here": a min-max
#       normalization; P(X > Y) does not depend on it).
#
#   scripts/minatar_aggregate.sh OUT COMPARE_DIR...
#
# BDRL (default: bin/bdrl, else build/rel/bdrl) is the program run.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OUT COMPARE_DIR..." >&2; exit 2; }
out=$1; shift
bdrl=${BDRL:-}
if [ -z "$bdrl" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  for b in "$here/bin/bdrl" "$here/build/rel/bdrl"; do [ -x "$b" ] && { bdrl=$b; break; }; done
fi
[ -n "$bdrl" ] || { echo "$0: no bdrl found (build it or set BDRL)" >&2; exit 2; }
declare -A rnd=([minatar-asterix]=0.48 [minatar-breakout]=0.41 [minatar-freeway]=0.2
                [minatar-seaquest]=0.04 [minatar-space_invaders]=2.46)
args=()
for d in "$@"; do
  [ -f "$d/comparison.csv" ] || { echo "$0: $d/comparison.csv: no such file (run bdrl compare first)" >&2; exit 2; }
  env=$(awk -F, 'FNR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["env"]; exit }' "$d/comparison.csv")
  [ -n "${rnd[$env]:-}" ] || { echo "$0: $d: $env is not a MinAtar game" >&2; exit 2; }
  best=$(for e in "$d"/runs/*_s*/eval.csv; do
      if [ -f "$(dirname "$e")/summary.json" ]; then tail -n 1 "$e" | cut -d, -f2; fi
    done | sort -g | tail -n 1)
  [ -n "$best" ] || { echo "$0: $d: no finished run" >&2; exit 2; }
  args+=(--random "$env=${rnd[$env]}" --reference "$env=$best")
done
exec "$bdrl" compare --aggregate "$@" --out "$out" "${args[@]}"

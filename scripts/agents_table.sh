#!/usr/bin/env bash
# The every-agent table (issue 12 §5): one row per agent, one group of
# columns per environment, read from the comparison.csv files that
# `bdrl compare` wrote. Used by scripts/demo.sh (2 seeds) and for the
# table in docs/results.md (10 seeds), so both come from the same code.
#
#   scripts/agents_table.sh COMPARE_DIR...
#
# Each directory may hold any agents on one environment; rows are matched
# by the csv's agent and env columns (a later directory overrides an earlier
# one for the same agent and environment). Columns, per environment present:
#   cartpole, acrobot: steps to threshold, median (seeds that reached it),
#     final evaluation return (mean over seeds), training steps/s;
#   frozenlake: mean W1 of the learned laws to the exact truth (policy
#     evaluation configs), final success rate, training steps/s.
# Agents appear in the order they are first met.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMPARE_DIR..." >&2; exit 2; }
files=()
for d in "$@"; do
  f="$d/comparison.csv"
  [ -f "$f" ] || { echo "$0: $f: no such file (run bdrl compare first)" >&2; exit 2; }
  files+=("$f")
done
awk -F, '
function fmt(x, d) { if (x == "") return "n/a"; if (x ~ /inf/) return "not reached"; return sprintf(d, x) }
FNR == 1 { delete c; for (i = 1; i <= NF; i++) c[$i] = i; next }
{
  a = $c["agent"]; e = $c["env"]
  if (!(a in seen)) { seen[a] = 1; order[++na] = a }
  if (!(e in eseen)) { eseen[e] = 1; envs[++ne] = e }
  k = a SUBSEP e
  if (e == "frozenlake")
    cell[k] = fmt($c["w1_mean"], "%.4f") " | " fmt($c["success_rate_mean"], "%.2f") " | " fmt($c["sps_mean"], "%.0f")
  else
    cell[k] = fmt($c["stt_median"], "%.0f") " (" $c["stt_reached"] "/" $c["runs"] ") | " fmt($c["final_return_mean"], "%.1f") " | " fmt($c["sps_mean"], "%.0f")
}
END {
  h = "| agent"; s = "| ---"
  for (j = 1; j <= ne; j++) {
    e = envs[j]
    if (e == "frozenlake") { h = h " | " e ": mean W1 to the truth | success rate | steps/s"; s = s " | ---: | ---: | ---:" }
    else { h = h " | " e ": steps to threshold, median (reached) | final return | steps/s"; s = s " | ---: | ---: | ---:" }
  }
  print h " |"; print s " |"
  for (i = 1; i <= na; i++) {
    line = "| " order[i]
    for (j = 1; j <= ne; j++) { k = order[i] SUBSEP envs[j]; line = line " | " ((k in cell) ? cell[k] : "– | – | –") }
    print line " |"
  }
}' "${files[@]}"

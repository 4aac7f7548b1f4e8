#!/usr/bin/env bash
# The MinAtar results table (issue 22 §3, docs/minatar.md): one row per
# game and agent, read from what `bdrl compare` wrote, so the documented
# numbers come from the runs' own files and not from hand copying.
#
#   scripts/minatar_table.sh COMPARE_DIR...
#
# Each directory is one `bdrl compare --out DIR` over configs/minatar/
# (any agents, one game). Columns:
#   last quarter: comparison.csv's last_quarter_mean [lo, hi] (each run's
#     mean evaluation return after 3/4 of its steps; mean over seeds and its
#     95% bootstrap interval);
#   final, per seed: the last row of each finished run's eval.csv, in seed
#     order (runs/<config>_s<seed>/);
#   Q at the end: q_end_mean [q_end_max];
#   random policy: MINATAR_RANDOM (scripts/minatar_lib.sh).
# Configs that have not finished every run are listed with "(k of n runs)".
set -euo pipefail
. "$(dirname "$0")/minatar_lib.sh"
random=$(for g in "${!MINATAR_RANDOM[@]}"; do printf '%s=%s ' "$g" "${MINATAR_RANDOM[$g]}"; done)
[ $# -gt 0 ] || { echo "usage: $0 COMPARE_DIR..." >&2; exit 2; }
echo "| game | agent | last quarter, mean [95% CI] | final, per seed | replay batches' Q at the end, mean [largest] | random policy |"
echo "| --- | --- | ---: | --- | ---: | ---: |"
for d in "$@"; do
  f="$d/comparison.csv"
  [ -f "$f" ] || { echo "$0: $f: no such file (run bdrl compare first)" >&2; exit 2; }
  finals=$(minatar_finals "$d")
  awk -F, -v finals="$finals" -v random="$random" '
  BEGIN {
    n = split(finals, L, "\n")
    for (i = 1; i <= n; i++) { split(L[i], w, " "); if (w[1] == "") continue
      v = sprintf("%.1f", w[3])
      if (w[1] in fin) v = fin[w[1]] ", " v
      fin[w[1]] = v }
    name["dqn"] = "DQN"; name["c51"] = "C51"; name["qrdqn"] = "QR-DQN"; name["iqn"] = "IQN"; name["bd"] = "BD"
    gname["minatar-breakout"] = "Breakout"; gname["minatar-space_invaders"] = "Space Invaders"
    gname["minatar-asterix"] = "Asterix"; gname["minatar-freeway"] = "Freeway"; gname["minatar-seaquest"] = "Seaquest"
    n = split(random, R, " ")
    for (i = 1; i <= n; i++) { split(R[i], kv, "="); rnd[kv[1]] = kv[2] }
  }
  FNR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  {
    cfg = $c["config"]; a = $c["agent"]
    # a Rainbow config is its agent with the components: name it by the file
    an = (a in name) ? name[a] : a
    if (cfg ~ /_bd_rainbow$/) an = "BD + Rainbow components"
    else if (cfg ~ /_rainbow$/) an = "Rainbow"
    e = $c["env"]; g = (e in gname) ? gname[e] : e
    if ($c["finished"] + 0 < $c["runs"] + 0) an = an " (" $c["finished"] " of " $c["runs"] " runs)"
    if ($c["finished"] + 0 == 0) { printf "| %s | %s | – | – | – | %s |\n", g, an, rnd[e]; next }
    # one finished run has no interval: say so instead of printing [x, x]
    if ($c["finished"] + 0 == 1)
      lq = sprintf("%.1f (one seed)", $c["last_quarter_mean"])
    else
      lq = sprintf("%.1f [%.1f, %.1f]", $c["last_quarter_mean"], $c["last_quarter_lo"], $c["last_quarter_hi"])
    printf "| %s | %s | %s | %s | %.1f [%.1f] | %s |\n", g, an, lq, fin[cfg],
      $c["q_end_mean"], $c["q_end_max"], rnd[e]
  }' "$f"
done

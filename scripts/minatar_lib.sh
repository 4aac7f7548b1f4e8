# Shared by scripts/minatar_table.sh and scripts/minatar_aggregate.sh (source it).
#
# MINATAR_RANDOM: each game's random-policy return, the real MinAtar's over
# 100 uniformly random episodes (the numbers quoted in issue 22).
. "$(dirname "${BASH_SOURCE[0]}")/run_lib.sh"

declare -A MINATAR_RANDOM=([minatar-asterix]=0.48 [minatar-breakout]=0.41 [minatar-freeway]=0.2
                           [minatar-seaquest]=0.04 [minatar-space_invaders]=2.46)

# minatar_finals DIR: one line "config seed final" for every finished run of
# the comparison DIR (runs/<config>_s<seed>/), sorted by config then seed;
# final is the return of the run's last evaluation (eval.csv's last row);
# finished as run_finished (run_lib.sh) says.
minatar_finals() {
  local e run
  for e in "$1"/runs/*_s*/eval.csv; do
    [ -f "$e" ] || continue
    run_finished "$(dirname "$e")" || continue
    run=$(basename "$(dirname "$e")")
    printf '%s %s %s\n' "${run%_s*}" "${run##*_s}" "$(tail -n 1 "$e" | cut -d, -f2)"
  done | sort -k1,1 -k2,2n
}

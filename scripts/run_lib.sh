# Shared by scripts that read `bdrl compare` directories (source it).
#
# run_finished RUN_DIR: whether the run's summary.json says finished or
# solved (rundir_done's statuses): a run still going, interrupted, failed
# or diverged has a summary.json too.
run_finished() {
  grep -Eq '"status": "(finished|solved)"' "$1/summary.json" 2>/dev/null
}

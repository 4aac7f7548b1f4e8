#!/usr/bin/env bash
# make test-slurm: bdrl sweep --slurm against a real one-node Slurm
# (scripts/slurm-local.sh), with a task cancelled and another requeued mid-run.
#
#  1. brings the local Slurm up (and down again at the end, also on failure);
#  2. submits a sweep of 4 settings x 3 seeds (FrozenLake C51, 20k steps,
#     checkpoints every 2k steps) with --slurm, two tasks at a time;
#  3. scancels one running task and requeues another (scontrol requeue),
#     each once its run has a checkpoint and before it ends;
#  4. waits for the array and its summary job;
#  5. runs the same sweep locally and checks: results.csv has 12 rows, one per
#     run, whose figures (all but wall time and steps/s) equal the local
#     ones bit for bit, as does every run's eval.csv; the requeued task resumed
#     from its checkpoint; the cancelled run was finished by the summary job.
# Needs root (the daemons) and slurm-wlm + munge (make deps-slurm).
set -euo pipefail
cd "$(dirname "$0")/.."
BDRL=$(pwd)/bin/bdrl
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bdrl-test-slurm.XXXXXX")
export BDRL_SLURM_DIR=$WORK/slurm-local
passed=0
failed=0

cleanup() {
  rc=$?
  # keep the daemons' logs of a failed run next to its files
  { [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; } && cp "$BDRL_SLURM_DIR"/*.log "$WORK/" 2>/dev/null
  scripts/slurm-local.sh down >/dev/null 2>&1 || true
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "test-slurm: aborted (exit $rc); work files kept in $WORK" >&2
    echo "$passed passed, 1 failed"
  elif [ "$failed" -eq 0 ]; then
    rm -rf "$WORK"
  else
    echo "test-slurm: work files and the daemons' logs kept in $WORK" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "test-slurm: ok: $*"; passed=$((passed + 1)); }
bad() { echo "test-slurm: FAILED: $*" >&2; failed=$((failed + 1)); }
t0=$(date +%s)
elapsed() { echo $(( $(date +%s) - t0 )); }

eval "$(scripts/slurm-local.sh up | grep '^export ')"
ok "local Slurm up ($(elapsed) s)"

cat > "$WORK/sweep.yaml" <<EOF
base: $(pwd)/configs/frozenlake4_c51.yaml
set: {train.total_steps: 20000, train.learning_starts: 500, eval.interval: 2500, eval.episodes: 20,
      train.checkpoint_interval: 2000, agent.hidden: [32, 32]}
grid:
  agent.lr: [1.0e-3, 3.0e-4]
  train.batch_size: [32, 64]
seeds: [1, 2, 3]
slurm: {max_parallel: 2, time: "00:20:00"}
EOF
SL=$WORK/slurm_sweep
LOCAL=$WORK/local_sweep

out=$("$BDRL" sweep "$WORK/sweep.yaml" --out "$SL" --slurm)
aid=$(echo "$out" | awk '/^array job/ {print $3}')
sid=$(echo "$out" | awk '/^summary job/ {print $3}')
[ -n "$aid" ] && [ -n "$sid" ] || { bad "no job ids in: $out"; exit 1; }
ok "submitted array $aid and summary $sid"

run_dir() { "$BDRL" sweep "$WORK/sweep.yaml" --out "$SL" --list | awk -v i="$1" '$1 == i {print $3}'; }

# A running task whose run has a checkpoint and has not finished: its index.
pick_running() {
  local skip=${1:--1}
  for _ in $(seq 1 600); do
    for i in $(squeue -h -r -j "$aid" -t R -o %K 2>/dev/null); do
      [ "$i" = "$skip" ] && continue
      d=$(run_dir "$i")
      if [ -f "$d/checkpoint.bin" ] && grep -q '"status": "running"' "$d/summary.json" 2>/dev/null; then
        echo "$i"; return 0
      fi
    done
    sleep 0.1
  done
  return 1
}

ci=$(pick_running) || { bad "no running task with a checkpoint to cancel"; exit 1; }
scancel "${aid}_${ci}"
ok "cancelled task $ci mid-run ($(elapsed) s)"
ri=$(pick_running "$ci") || { bad "no running task with a checkpoint to requeue"; exit 1; }
scontrol requeue "${aid}_${ri}"
# A requeued job waits (BeginTime) about two minutes before it may run again:
# once it is pending, let it start at once.
for _ in $(seq 1 300); do
  if [ "$(squeue -h -r -j "${aid}_${ri}" -o %T 2>/dev/null)" = PENDING ]; then
    scontrol update JobId="${aid}_${ri}" StartTime=now >/dev/null 2>&1 || true
    break
  fi
  sleep 0.1
done
ok "requeued task $ri mid-run ($(elapsed) s)"

# wait for the array and the summary job (at most 8 minutes)
for _ in $(seq 1 480); do
  [ -z "$(squeue -h -j "$aid,$sid" 2>/dev/null)" ] && break
  sleep 1
done
[ -z "$(squeue -h -j "$aid,$sid")" ] || { bad "jobs still queued after 8 minutes"; squeue; exit 1; }
ok "array and summary jobs ended ($(elapsed) s)"

# the requeued task ran again and resumed; the summary job finished the cancelled run
if grep -q "run $ri: resuming from its checkpoint" "$SL/slurm/"*"-${aid}_${ri}.out"; then
  ok "requeued task $ri resumed its run from the checkpoint"
else
  bad "requeued task $ri did not resume (log: $(cat "$SL/slurm/"*"-${aid}_${ri}.out" 2>/dev/null))"
fi
if grep -q "run $ci ($(basename "$(run_dir "$ci")")) done" "$SL/slurm/"*"-summary-${sid}.out"; then
  ok "the summary job finished the cancelled run"
else
  bad "the summary job did not run the cancelled run (log: $(cat "$SL/slurm/"*"-summary-${sid}.out"))"
fi

# the same sweep locally, then the comparison
"$BDRL" sweep "$WORK/sweep.yaml" --out "$LOCAL" -j 2 -q
rows=$(tail -n +2 "$SL/results.csv" | wc -l)
uniq=$(tail -n +2 "$SL/results.csv" | cut -d, -f1 | sort -u | wc -l)
if [ "$rows" -eq 12 ] && [ "$uniq" -eq 12 ]; then ok "results.csv: 12 rows, one per run"; else
  bad "results.csv has $rows rows, $uniq distinct runs (expected 12)"; fi
# every column but wall_seconds, sps and dir
figures() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i != "wall_seconds" && $i != "sps" && $i != "dir") keep[i] = 1 }
           { s = ""; for (i = 1; i <= NF; i++) if (i in keep) s = s $i ","; print s }' "$1"
}
if diff <(figures "$SL/results.csv") <(figures "$LOCAL/results.csv") >/dev/null; then
  ok "results.csv figures equal the local sweep's bit for bit"
else
  bad "results.csv differs from the local sweep:"; diff <(figures "$SL/results.csv") <(figures "$LOCAL/results.csv") >&2 || true
fi
same=0
for d in "$LOCAL"/runs/*/; do
  n=$(basename "$d")
  cmp -s "$d/eval.csv" "$SL/runs/$n/eval.csv" && same=$((same + 1))
done
if [ "$same" -eq 12 ]; then ok "every run's eval.csv equals the local one"; else bad "$same of 12 eval.csv equal the local ones"; fi

"$BDRL" sweep "$WORK/sweep.yaml" --out "$SL" --status | grep -q "^  finished  12$" && ok "--status: 12 finished" ||
  bad "--status: $("$BDRL" sweep "$WORK/sweep.yaml" --out "$SL" --status)"

echo "test-slurm: $(elapsed) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

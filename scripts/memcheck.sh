#!/usr/bin/env bash
# make memcheck: a short training run of each agent (and resumes of C51, IQN and
# BD as it ships, the basis agent; the BD grid agent trains too), an
# evaluation and a fit under valgrind memcheck. Fails on any invalid access,
# use of uninitialized memory, or definite/indirect leak; prints one line per
# run with valgrind's error and leak summary. Runs niced; a few minutes.
# Environment: BDRL (default bin/bdrl), OUT (default build/memcheck),
# MEMCHECK_FLAGS (extra valgrind flags, e.g. --track-origins=yes to debug).
set -uo pipefail
cd "$(dirname "$0")/.."
BDRL=${BDRL:-bin/bdrl}
OUT=${OUT:-build/memcheck}
if ! command -v valgrind >/dev/null 2>&1; then
  echo "memcheck: valgrind not found (apt-get install valgrind, or run 'make deps')" >&2; exit 1
fi
rm -rf "$OUT" && mkdir -p "$OUT"
# One BLAS thread, and kernels valgrind can execute (it has no AVX-512).
export OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell
VG=(nice valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --quiet ${MEMCHECK_FLAGS:-})
status=0
run() { # NAME ARGS...
  local name=$1; shift
  local log="$OUT/$name.valgrind.log" t0=$SECONDS
  "${VG[@]}" --log-file="$log" "$BDRL" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
  local rc=$?
  local errs defl indl
  errs=$(grep -c "^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|Mismatched\|definitely lost in\|indirectly lost in\)" "$log")
  if [ $rc -eq 0 ]; then
    printf 'memcheck %-12s clean: 0 errors, no definite or indirect leaks (%ds)\n' "$name" $((SECONDS - t0))
  else
    printf 'memcheck %-12s FAILED (exit %d, %s error records; see %s)\n' "$name" $rc "$errs" "$log"
    status=1
  fi
}
SHORT=(-q --set train.total_steps=300 --set train.learning_starts=100 --set eval.interval=150
       --set eval.episodes=1 --set train.buffer_size=1000 --set train.checkpoint_interval=150)
run train_c51 train configs/cartpole_c51.yaml --out "$OUT/c51" "${SHORT[@]}" --set 'agent.hidden=[32, 32]'
run resume_c51 train --resume "$OUT/c51" -q --set train.total_steps=350
run train_bd train configs/frozenlake4_bd.yaml --out "$OUT/bd" "${SHORT[@]}" --set 'agent.hidden=[16]' \
  --set train.batch_size=16
run train_bdgrid train configs/frozenlake4_bd.yaml --out "$OUT/bdgrid" "${SHORT[@]}" --set 'agent.hidden=[16]' \
  --set bd.field=grid --set 'bd.head=[16]' --set bd.grid=32 --set bd.queries=4 --set train.batch_size=16
run resume_bd train --resume "$OUT/bd" -q --set train.total_steps=350
run eval_bd eval "$OUT/bd" --episodes 2 --walkers 10 --rollouts 10
run train_dqn train configs/frozenlake4_eval_dqn.yaml --out "$OUT/dqn" "${SHORT[@]}" --set 'agent.hidden=[16]' \
  --set train.batch_size=16
run eval_dqn eval "$OUT/dqn" --episodes 2 --rollouts 10
run train_qrdqn train configs/frozenlake4_eval_qrdqn.yaml --out "$OUT/qrdqn" "${SHORT[@]}" --set 'agent.hidden=[16]' \
  --set train.batch_size=16
run eval_qrdqn eval "$OUT/qrdqn" --episodes 2 --rollouts 10
run train_iqn train configs/twins/cartpole_iqn.yaml --out "$OUT/iqn" "${SHORT[@]}" --set 'agent.hidden=[16]' \
  --set train.batch_size=16
run resume_iqn train --resume "$OUT/iqn" -q --set train.total_steps=350
run sample_bd sample "$OUT/bd" --state 0 --action 1 -n 20 --steps 50
run fit fit configs/fit/mog1d.yaml --out "$OUT/fit" -q --set train.steps=20 --set train.batch_size=32 \
  --set data.n_train=500 --set data.n_eval=100 --set field.width=16 --set sampler.steps=30
exit $status

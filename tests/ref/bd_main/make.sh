#!/usr/bin/env bash
# Writes the format-1 BD fixtures of tests/test_bd.c's test_main_runs_resume with
# the bdrl of commit ad9bbe6 (the last with the basis agent's checkpoint format 1):
#   git worktree add /tmp/base ad9bbe6 && make -C /tmp/base -j2
#   tests/ref/bd_main/make.sh /tmp/base/build/rel/bdrl
# For each field form: run/ is a run directory stopped at step 200 of 300,
# final.ckpt, final_eval.csv and final_metrics.csv what that binary's resume
# wrote at step 300. run/config.yaml loses its bd.basis_loss line (a key
# since removed; projected was its value and is what remains).
set -eu
# OpenBLAS picks its SGEMM kernels by CPU, and kernels for different CPUs
# round differently: the fixtures and the test both use Haswell's (AVX2,
# on every x86-64 CI machine; README, Reliability).
export OPENBLAS_CORETYPE=Haswell
B=$1
OUT=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$OUT/../../.." && pwd)
COMMON=(-q --set 'agent.hidden=[8]' --set train.buffer_size=256 --set train.batch_size=8
        --set train.learning_starts=50 --set train.total_steps=300 --set eval.interval=100 --set eval.episodes=5)
mk() { # NAME SETS...
  local n=$1 tmp
  shift
  tmp=$(mktemp -d)
  rm -rf "${OUT:?}/$n"
  "$B" train "$ROOT/configs/frozenlake4_eval_bd.yaml" --out "$tmp/run" "${COMMON[@]}" "$@" --stop-after 200 2>/dev/null
  mkdir -p "$OUT/$n/run"
  cp "$tmp/run"/{checkpoint.bin,eval.csv,metrics.csv,summary.json} "$OUT/$n/run/"
  grep -v '^  basis_loss: ' "$tmp/run/config.yaml" >"$OUT/$n/run/config.yaml"
  "$B" train --resume "$tmp/run" -q 2>/dev/null
  cp "$tmp/run/checkpoint.bin" "$OUT/$n/final.ckpt"
  cp "$tmp/run/eval.csv" "$OUT/$n/final_eval.csv"
  cp "$tmp/run/metrics.csv" "$OUT/$n/final_metrics.csv"
  rm -rf "$tmp"
}
mk basis --set bd.field=basis --set bd.basis=11
mk grid --set bd.field=grid --set 'bd.head=[8]' --set bd.grid=16 --set bd.fourier_k=2 --set bd.queries=2

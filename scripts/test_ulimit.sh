#!/usr/bin/env bash
# bdrl under an address-space limit (ulimit -v): every run must end within
# seconds, either trained or refused with one clear line, never spin (OpenBLAS
# retried its 128 MiB buffer forever, silent, at 100% CPU, deaf to SIGTERM;
# src/fields/blasmem.h). Run by tests/test_ulimit.c (make test); alone:
#   scripts/test_ulimit.sh [BDRL]
# Prints one line per case and closes with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BDRL=${1:-${BDRL:-build/rel/bdrl}}
SECONDS_MAX=${ULIMIT_TEST_SECONDS:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
# case LIMIT_KB NAME ARGS...: runs bdrl ARGS under the limit and judges it
case_() {
  local kb=$1 name=$2; shift 2
  local t0=$SECONDS out="$tmp/$name.err"
  rm -rf "$tmp/run"
  ( ulimit -v "$kb" && exec timeout -s KILL "$SECONDS_MAX" "$BDRL" "$@" ) >"$tmp/$name.out" 2>"$out"
  local rc=$? dt=$((SECONDS - t0)) verdict=ok
  if [ $rc -eq 137 ]; then
    verdict="still running after ${SECONDS_MAX}s (killed)"
  elif [ $rc -ne 0 ] && ! grep -qE '^bdrl: (the address-space limit \(ulimit -v\) is [0-9]+ MiB|.*out of memory)' "$out"; then
    verdict="exit $rc without a clear message: $(head -c 300 "$out")"
  elif [ $rc -eq 0 ] && [ "$1" = train ] && ! grep -q '^bdrl train: .* steps' "$out"; then
    verdict="exit 0 but no closing line: $(head -c 300 "$out")"
  fi
  if [ "$verdict" = ok ]; then
    passed=$((passed + 1))
    echo "ok    ulimit -v $kb $name: exit $rc in ${dt}s: $(head -n 1 "$out" | cut -c1-140)"
  else
    failed=$((failed + 1))
    echo "FAIL  ulimit -v $kb $name: $verdict"
  fi
}
for kb in 80000 100000 150000 200000 250000 300000; do
  case_ "$kb" help --help
  for agent in dqn c51 bd; do
    case_ "$kb" "train_$agent" train configs/cartpole_$agent.yaml --quiet --out "$tmp/run" \
      --set train.total_steps=600 --set train.learning_starts=100 --set eval.interval=300 --set eval.episodes=2
  done
  # a replay too big for what is left: an allocation fails, with a message
  case_ "$kb" train_big_replay train configs/cartpole_c51.yaml --quiet --out "$tmp/run" \
    --set train.total_steps=600 --set train.buffer_size=3000000
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

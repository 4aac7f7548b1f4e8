#!/usr/bin/env bash
# Runs the cmocka test binaries one by one and sums their results into the
# closing line "N passed, N failed". Arguments: names of test binaries to run
# (default: all). Environment: BUILD (build dir), BDRL (the bdrl binary, for
# CLI tests).
set -u
BUILD=${BUILD:-build/rel}
export BDRL=${BDRL:-$BUILD/bdrl}
export BDRL_SRC_ROOT=$(pwd)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for b in "$BUILD"/tests/test_* "$BUILD"/tests/dtest_*; do
    [ -x "$b" ] && [ "${b%.d}" = "$b" ] && names+=("$(basename "$b")")
  done
fi
passed=0; failed=0; bad_bins=()
for n in "${names[@]}"; do
  out=$(mktemp)
  "$BUILD/tests/$n" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$out" | awk '{s+=$4} END {print s+0}')
  f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$out" | awk '{s+=$4} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); bad_bins+=("$n (exit $rc)"); fi
  [ "$f" -gt 0 ] && bad_bins+=("$n")
  rm -f "$out"
done
echo
[ ${#bad_bins[@]} -gt 0 ] && echo "failing: ${bad_bins[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# make fuzz: builds the libFuzzer harnesses in fuzz/ with clang (ASan + UBSan,
# leak detection on) and runs each for FUZZ_SECONDS (default 60) from its
# committed seed corpus fuzz/corpus/NAME plus what earlier runs found
# (build/fuzz/corpus/NAME). Crashes go to build/fuzz/crashes/NAME/; copy each
# into fuzz/regress/NAME/ once fixed: `make test` replays both folders
# (tests/test_fuzz_corpus.c). Prints one line per harness: executions,
# corpus size, crashes. Exit status 1 if any harness crashed.
# Environment: FUZZ_SECONDS, FUZZ_HARNESSES (default: config checkpoint csv),
# FUZZ_JOBS (make -j, default 2).
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
HARNESSES=${FUZZ_HARNESSES:-config checkpoint csv}
CLANG=${CLANG:-clang}
if ! command -v "$CLANG" >/dev/null 2>&1; then
  echo "fuzz: clang not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1
fi
PKGS="openblas gsl yaml-0.1"
mkdir -p build/fuzz
make --no-print-directory -j"${FUZZ_JOBS:-2}" SAN=fuzz CC="$CLANG" build/fuzz/libbdrl.a >build/fuzz/build.log 2>&1 || {
  echo "fuzz: building the library with $CLANG failed:" >&2; grep -E "error" build/fuzz/build.log | head >&2; exit 1; }
FLAGS="-std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DBDRL_LIBFUZZER -Wall -Wextra -Werror
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc -Ifuzz $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS | sed 's/-lgslcblas//') -lm"
status=0
for h in $HARNESSES; do
  bin=build/fuzz/fuzz_$h
  # shellcheck disable=SC2086
  $CLANG $FLAGS -o "$bin" "fuzz/fuzz_$h.c" build/fuzz/libbdrl.a $LIBS || { echo "fuzz: cannot build $h" >&2; exit 1; }
  mkdir -p "build/fuzz/corpus/$h" "build/fuzz/crashes/$h"
  log=build/fuzz/$h.log
  case $h in checkpoint) maxlen=65536;; *) maxlen=8192;; esac
  dict=(); [ -f "fuzz/$h.dict" ] && dict=(-dict="fuzz/$h.dict")
  nice "$bin" "build/fuzz/corpus/$h" "fuzz/corpus/$h" "${dict[@]}" -max_total_time="$SECS" -max_len=$maxlen \
    -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/crashes/$h/" >"$log" 2>&1
  rc=$?
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 | grep -o 'cov: [0-9]*' | awk '{print $2}')
  ncorp=$(ls "build/fuzz/corpus/$h" | wc -l)
  crashes=$(ls "build/fuzz/crashes/$h" | wc -l)
  printf 'fuzz %-10s %10s executions in %ss, coverage %s edges, corpus %s new inputs, %s crash file(s)%s\n' \
    "$h" "${execs:-?}" "$SECS" "${cov:-?}" "$ncorp" "$crashes" "$([ $rc -ne 0 ] && echo " (exit $rc; see $log)")"
  [ $rc -ne 0 ] && status=1
done
exit $status

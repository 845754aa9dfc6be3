#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/README.md) with clang in build-fuzz and
# runs each for FUZZ_SECONDS (default 60) on a copy of its seed corpus, then
# prints, and appends to build-fuzz/fuzz-stats.txt, one line per target:
#   fuzz: <target> execs=<N> seconds=<S> crashes=<C>
# Exits non-zero when a target crashed or found a bug (its input is then in
# build-fuzz/artifacts/<target>/).
#
#   FUZZ_SECONDS=60 FUZZ_TARGETS="fuzz_core fuzz_lua fuzz_parse" bash fuzz/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${FUZZ_BUILD:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-fuzz_core fuzz_lua fuzz_parse}

cmake -S . -B "$dir" -DMG_FUZZ=ON -DCMAKE_C_COMPILER="${CC:-clang}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# shellcheck disable=SC2086 # the target list is words
cmake --build "$dir" -j "${JOBS:-2}" --target $targets

failed=0
for t in $targets; do
  corpus=$dir/corpus/$t artifacts=$dir/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true # new finds stay in build-fuzz
  args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=30 -rss_limit_mb=2560
        -artifact_prefix="$artifacts"/)
  [ -f fuzz/"${t#fuzz_}".dict ] && args+=(-dict=fuzz/"${t#fuzz_}".dict)
  [ "$t" = fuzz_lua ] && args+=(-max_len=1024 -len_control=20) # programs: longer inputs sooner
  before=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  log=$dir/$t.log
  start=$(date +%s)
  status=0
  "$dir/fuzz/$t" "${args[@]}" "$corpus" >"$log" 2>&1 || status=$?
  elapsed=$(($(date +%s) - start))
  after=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  crashes=$((after - before))
  [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  line="fuzz: $t execs=${execs:-0} seconds=$elapsed crashes=$crashes"
  echo "$line"
  echo "$line" >>"$dir/fuzz-stats.txt"
  if [ "$crashes" -ne 0 ]; then
    failed=1
    echo "fuzz: $t failed (exit status $status); the end of its log ($log):" >&2
    grep -v '^#[0-9]' "$log" | tail -40 >&2
  fi
done
exit "$failed"

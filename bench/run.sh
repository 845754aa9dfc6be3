#!/bin/sh
# run.sh - every benchmark of bench/ in one run, and a table against the targets.
#
#   bench/run.sh [RUNNER [MOONS_REF]]
#
# RUNNER runs a Lua script: build/micrograd (default), or lua5.4 (LUA_PATH and
# LUA_CPATH default to lua/ and build/lib/ of this checkout). MOONS_REF is the
# built C reference (default build/bench/moons_ref; when missing it is
# compiled here with ${CC:-cc} -O2 -ffp-contract=off). The environment can
# give them as MG_RUNNER and MG_MOONS_REF, and BUILD names the build directory.
# Sizes: MOONS_STEPS, MOONS_REPS (Lua), REF_STEPS, REF_REPS (C),
# CHAIN_STEPS, CHAIN_RUNS.
#
# Exit status 1 when a result is wrong (the losses are not micrograd's bits);
# a missed speed target is only reported: timings on a shared machine are noisy.
set -eu

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
BUILD=${BUILD:-$ROOT/build}
RUNNER=${1:-${MG_RUNNER:-$BUILD/micrograd}}
REF=${2:-${MG_MOONS_REF:-$BUILD/bench/moons_ref}}
DATA=$ROOT/examples/data/micrograd_moons_h16.txt
export LUA_PATH="${LUA_PATH:-$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;}"
export LUA_CPATH="${LUA_CPATH:-$BUILD/lib/?.so;;}"

if [ ! -x "$REF" ]; then
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  REF=$TMP/moons_ref
  ${CC:-cc} -std=c11 -O2 -ffp-contract=off -o "$REF" "$BENCH/moons_ref.c"
fi

# micrograd's losses at steps 0 and 99 and final accuracy (../shared/data/README.md).
WANT='step 0 loss 0.89584410286832217 accuracy 50%
step 99 loss 0.010978370135492717 accuracy 100%'
status=0
check() { # name, output
  if [ "$2" = "$WANT" ]; then
    echo "$1: micrograd's losses to the last bit (step 0, step 99, 100% accuracy)"
  else
    echo "$1: WRONG RESULT, got:"; echo "$2"; echo "want:"; echo "$WANT"
    status=1
  fi
}
field() { # output, key: the number after key
  echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'
}

echo "runner: $RUNNER"
echo "C reference: $REF"
check "C reference " "$("$REF" "$DATA" --check)"
check "Lua op by op" "$("$RUNNER" "$BENCH/moons_ops.lua" "$DATA" --check)"
check "Lua nn + optim" "$("$RUNNER" "$BENCH/moons_nn.lua" "$DATA" --check)"
check "compiled whole batch" "$("$RUNNER" "$BENCH/moons_compiled.lua" "$DATA" --check)"

echo "timing the moons step (C, Lua op by op, Lua nn) ..."
c_out=$("$REF" "$DATA" "${REF_STEPS:-1000}" "${REF_REPS:-9}")
lua_out=$("$RUNNER" "$BENCH/moons_ops.lua" "$DATA" "${MOONS_STEPS:-20}" "${MOONS_REPS:-7}")
nn_out=$("$RUNNER" "$BENCH/moons_nn.lua" "$DATA" "${MOONS_STEPS:-20}" "${MOONS_REPS:-7}")
echo "timing the compiled step and inference ..."
compiled_out=$("$RUNNER" "$BENCH/moons_compiled.lua" "$DATA" "${COMPILED_STEPS:-50}" "${MOONS_REPS:-7}")
echo "timing the chain ..."
chain_out=$("$RUNNER" "$BENCH/chain.lua" "${CHAIN_STEPS:-1000000}" "${CHAIN_RUNS:-5}")

c_ms=$(awk -v us="$(field "$c_out" us_per_step)" 'BEGIN { printf "%.4f", us / 1000 }')
lua_ms=$(field "$lua_out" ms_per_step)
ratio=$(awk -v a="$lua_ms" -v b="$c_ms" 'BEGIN { printf "%.0f", a / b }')
nn_ms=$(field "$nn_out" ms_per_step)
nn_ratio=$(awk -v a="$nn_ms" -v b="$c_ms" 'BEGIN { printf "%.0f", a / b }')
whole_ms=$(field "$compiled_out" whole_ms_per_step)
sample_ms=$(field "$compiled_out" sample_ms_per_step)
whole_ratio=$(awk -v a="$whole_ms" -v b="$c_ms" 'BEGIN { printf "%.1f", a / b }')
sample_ratio=$(awk -v a="$sample_ms" -v b="$c_ms" 'BEGIN { printf "%.1f", a / b }')

row() { # what, measured, unit, target (<= this)
  ok=$(awk -v m="$2" -v t="$4" 'BEGIN { print (m + 0 <= t + 0) ? "yes" : "NO" }')
  printf '%-36s %12s %-8s %10s %s\n' "$1" "$2" "$3" "<= $4" "$ok"
}
echo
printf '%-36s %12s %-8s %10s %s\n' "benchmark (medians)" "measured" "unit" "target" "met"
printf '%-36s %12s %-8s\n' "moons step, C reference (-O2)" "$c_ms" "ms/step"
printf '%-36s %12s %-8s\n' "moons step, Lua op by op" "$lua_ms" "ms/step"
row "moons step, Lua / C" "$ratio" "x" 165
printf '%-36s %12s %-8s\n' "moons step, nn + loss + optim" "$nn_ms" "ms/step"
row "moons step, nn / C" "$nn_ratio" "x" 50
printf '%-36s %12s %-8s\n' "moons step, compiled whole batch" "$whole_ms" "ms/step"
row "moons step, compiled whole / C" "$whole_ratio" "x" 1.5
printf '%-36s %12s %-8s\n' "moons step, compiled run_batch" "$sample_ms" "ms/step"
row "moons step, compiled run_batch / C" "$sample_ratio" "x" 1.5
row "inference 2-16-16-1, compiled" "$(field "$compiled_out" infer_us)" "us" 0.5
row "chain x = x * a + b, build" "$(field "$chain_out" build_ns_per_node)" "ns/node" 70
row "chain x = x * a + b, backward" "$(field "$chain_out" backward_ns_per_node)" "ns/node" 20
row "chain x = x * a + b, Lua heap" "$(field "$chain_out" bytes_per_node)" "B/node" 160
echo
echo "C: $c_out"
echo "Lua: $lua_out"
echo "nn: $nn_out"
echo "compiled: $compiled_out"
echo "chain: $chain_out"
echo "(C timed with CLOCK_MONOTONIC, Lua with os.clock, i.e. CPU time)"
exit $status

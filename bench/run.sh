#!/bin/sh
# run.sh - every benchmark of bench/ in one run, and a table against the targets.
#
#   bench/run.sh [RUNNER [MOONS_REF]]
#
# RUNNER runs a Lua script: build/micrograd (default), or lua5.4 (LUA_PATH and
# LUA_CPATH default to lua/ and build/lib/ of this checkout). MOONS_REF is the
# built C reference (default build/bench/moons_ref; when missing it is
# compiled here with ${CC:-cc} -O2 -ffp-contract=off). The environment can
# give them as MG_RUNNER and MG_MOONS_REF, and BUILD names the build directory
# (the data files for widths other than 16 are written to $BUILD/bench/).
#
# The moons training (MLP 2-H-H-1) runs at each width H of WIDTHS (default
# "16 32 64"): width 16 on micrograd's data and weights, the others on the
# same samples with weights from bench/make_widths.lua. Sizes, for width 16
# (a width H runs ceil(STEPS * (16 / H)^2) steps, since a step costs about
# (H / 16)^2 as much): MOONS_STEPS (20; op by op and nn), MOONS_REPS (7; every
# Lua moons benchmark), REF_STEPS (1000), REF_REPS (9) for the C reference;
# COMPILED_STEPS (50, at every width, at most 100); CHAIN_STEPS (10^6) and
# CHAIN_RUNS (5) for the chain.
#
# A row per Lua (MG_BENCH_LUAS, default "5.4 5.3 5.1 luajit"; empty for none):
# the moons benchmarks at width 16 (correctness, then op by op, nn, compiled,
# inference) with each Lua's runner, as ratios against the C reference of
# the same run and against 5.4's figure (targets: compiled paths within 1.2x
# of 5.4, dynamic within 2x). The runner of the Lua BUILD is for is RUNNER;
# the others are build/micrograd (5.4) and build-<lua>/micrograd (the
# Makefile's directories), configured and built here (runner and module
# only) when they are missing or out of date.
#
# The work is done by bench/run.lua, run by stock lua5.4 (it only starts the
# benchmarks and reads their output). Exit status 1 when a
# result is wrong (at width 16, not micrograd's losses to the last bit; at the
# other widths, losses that differ from the C reference's) or a benchmark
# fails; a missed speed target is only reported: timings on a shared machine
# are noisy.
set -eu

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
BUILD=${BUILD:-$ROOT/build}
RUNNER=${1:-${MG_RUNNER:-$BUILD/micrograd}}
REF=${2:-${MG_MOONS_REF:-$BUILD/bench/moons_ref}}
export LUA_PATH="${LUA_PATH:-$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;}"
export LUA_CPATH="${LUA_CPATH:-$BUILD/lib/?.so;;}"

if [ ! -x "$REF" ]; then
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  REF=$TMP/moons_ref
  ${CC:-cc} -std=c11 -O2 -ffp-contract=off -o "$REF" "$BENCH/moons_ref.c"
fi

# The runner of each Lua of MG_BENCH_LUAS, as LUA=RUNNER arguments (LUA= when
# it could not be built: run.lua reports it and fails).
CURRENT=$(sed -n 's/^MG_LUA:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
CURRENT=${CURRENT:-5.4}
mkdir -p "$BUILD/bench"
set --
for lua in ${MG_BENCH_LUAS-5.4 5.3 5.1 luajit}; do
  if [ "$lua" = "$CURRENT" ]; then
    set -- "$@" "$lua=$RUNNER"
    continue
  fi
  if [ "$lua" = 5.4 ]; then dir=$ROOT/build; else dir=$ROOT/build-$lua; fi
  log=$BUILD/bench/runner-$lua.log
  echo "building the runner for Lua $lua ($dir; log $log) ..."
  if { [ -f "$dir/CMakeCache.txt" ] || cmake -S "$ROOT" -B "$dir" "-DMG_LUA=$lua" >"$log" 2>&1; } &&
    cmake --build "$dir" -j "${JOBS:-2}" --target micrograd micrograd_module >>"$log" 2>&1; then
    set -- "$@" "$lua=$dir/micrograd"
  else
    echo "bench: could not build the runner for Lua $lua (log: $log)" >&2
    set -- "$@" "$lua="
  fi
done

lua5.4 "$BENCH/run.lua" "$RUNNER" "$REF" "$BUILD" "$@"

#!/usr/bin/env bash
# Every ctest test under Valgrind's memcheck: a separate build configured with
# -DMG_VALGRIND=ON (CMakeLists.txt puts valgrind before each test's command:
# a leak of any kind, even memory still reachable at exit, an invalid read or
# write, a use of an uninitialised value all fail the test, exit status 99).
#
#   tests/valgrind.sh [build-dir]     (default: build-valgrind)
#   MG_LUA=luajit tests/valgrind.sh build-valgrind-luajit   (another Lua)
#   MG_VALGRIND_ONLY=REGEX tests/valgrind.sh ...   (only the tests matching it)
#
# Left out, each for its reason:
#   embed_game  checks frame times against a budget: a timing test, and
#               Valgrind runs 20-50 times slower
#   #spawn_error  two tests (system_spec, viz_graph_spec) of a program that
#               cannot be started: Valgrind runs posix_spawn's child as a
#               plain fork, so the failed exec is not reported to the parent
# Kept with changes (tests/CMakeLists.txt): deep_chain runs 20,000 steps, not
# 10^6 under a 256 KiB stack (Valgrind needs a stack of its own); the specs'
# time bounds are scaled by MG_TIME_SCALE; runner_spec runs the runner under
# Valgrind too. Child processes that are not ours (lua5.4 -e in random_spec,
# python3, dot, chromium) run without Valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-valgrind}
excluded='^(embed_game)$'

cmake -S . -B "$dir" -DMG_VALGRIND=ON ${MG_LUA:+"-DMG_LUA=$MG_LUA"} >/dev/null
cmake --build "$dir" -j "${JOBS:-2}"
cd "$dir"
ctest --output-on-failure --timeout 1800 -j "${JOBS:-2}" -E "$excluded" ${MG_VALGRIND_ONLY:+-R "$MG_VALGRIND_ONLY"}

#!/usr/bin/env bash
# ThreadSanitizer run of the two-thread test (host_threads): a separate build
# with -fsanitize=thread (only the targets the test needs), then the test;
# any report fails it (exit status 66).
#
#   tests/host/tsan.sh [build-dir]     (default: build-tsan)
#
# Debian's liblua5.4 is not instrumented: TSan sees the engine, the binding
# and the host, not the Lua VM. That is enough here: the states share no Lua
# data, so a race could only come from C state shared between them.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-build-tsan}
cc=${CC:-gcc}

cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$cc" \
  "-DCMAKE_C_FLAGS=-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
cmake --build "$dir" -j2 --target host_threads
# setarch -R: TSan's shadow memory needs the kernel's address-space layout
# without the high-entropy randomisation some kernels use (else "unexpected
# memory mapping"); harmless where it is not needed.
run=()
if command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
  run=(setarch "$(uname -m)" -R)
fi
TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" \
  "${run[@]}" "$dir/tests/host/host_threads" "$PWD/tests/host/threads.lua" 3 2

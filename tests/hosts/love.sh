#!/bin/sh
# LÖVE 11.4 (LuaJIT) plays examples/love's scripted game under Xvfb: fixed
# clicks, a fixed number of frames with training in each, a screenshot of the
# last, and tests/hosts/love_pixels.lua checks that around every clicked point
# the field has its class's colour. The game prints its frame times.
#
#   sh tests/hosts/love.sh ROOT BUILD OUTDIR LUA [untrained]
#
# BUILD is a LuaJIT build (-DMG_LUA=luajit); LUA runs the pixel check (any
# Lua). With "untrained" the game makes no training step, and the pixel check
# must fail: it shows the check can fail.
set -eu
root=$1
build=$2
out=$3
lua=$4
mode=${5:-trained}
mkdir -p "$out"
shot=$out/love-$mode.png
rm -f "$shot"
steps=
[ "$mode" = untrained ] && steps="--steps-per-frame 0"
# -a: the first free display; the game's audio is off (examples/love/conf.lua).
# shellcheck disable=SC2086
timeout 100 xvfb-run -a -s "-screen 0 1024x768x24" love "$root/examples/love" --build "$build" --scripted "$shot" $steps
[ -s "$shot" ] || { echo "love.sh: the game wrote no screenshot" >&2; exit 1; }
rc=0
"$lua" "$root/tests/hosts/love_pixels.lua" "$shot" "$root/examples/love/scripted.lua" || rc=$?
if [ "$mode" = untrained ]; then
  [ "$rc" -eq 1 ] || { echo "love.sh: the pixel check did not fail on an untrained network (status $rc)" >&2; exit 1; }
  echo "love.sh: untrained, the pixel check fails as it must"
  exit 0
fi
exit "$rc"

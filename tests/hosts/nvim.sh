#!/bin/sh
# Neovim (LuaJIT) labels the lines of a buffer with micrograd: see tests/hosts/nvim.lua.
#
#   sh tests/hosts/nvim.sh ROOT BUILD      (BUILD: a build with -DMG_LUA=luajit)
#
# -u NONE: no user config or plugins; -i NONE: no shada file; -n: no swap file.
# nvim.lua quits by itself; when it cannot even be run, the `cquit 2` after it
# ends nvim (headless, it would wait for input for ever).
set -eu
root=$1
MG_ROOT=$root MG_BUILD=$2 exec nvim --headless -u NONE -i NONE -n "$root/tests/hosts/fixtures/lines.txt" \
  -c "luafile $root/tests/hosts/nvim.lua" -c 'cquit 2' </dev/null

#!/bin/sh
# rpm (Lua 5.3) runs micrograd from its macros: each line of
# tests/hosts/fixtures/lines.txt goes through %{mg_linekind:LINE}
# (tests/hosts/rpm/micrograd.macros) in one rpm run, and the labels must be
# tests/hosts/fixtures/lines.expected, with the model file read once.
#
#   sh tests/hosts/rpm.sh ROOT BUILD      (BUILD: a build with -DMG_LUA=5.3)
#
# rpm finds micrograd as any Lua C module is found: core.so on package.cpath
# (its symbols resolve against the liblua5.3 rpm is linked with), the Lua
# modules on package.path, dkjson in Debian's lua-dkjson for 5.3.
set -eu
root=$1
build=$2
fixtures=$root/tests/hosts/fixtures
set --
while IFS= read -r line; do
  set -- "$@" --eval "%{mg_linekind:$line}"
done <"$fixtures/lines.txt"
got=$(rpm --define "mg_root $root" --define "mg_build $build" --load "$root/tests/hosts/rpm/micrograd.macros" \
  "$@" --eval '%mg_loads')
want=$(cat "$fixtures/lines.expected"; echo 1)
printf '%s\n' "$got" | paste -d ' ' - "$fixtures/lines.txt" | sed '$s/ $/ (model file reads)/'
if [ "$got" != "$want" ]; then
  echo "rpm: the labels are not the expected ones (tests/hosts/fixtures/lines.expected, then 1 model read)" >&2
  exit 1
fi
echo "rpm ($(rpm --version)): micrograd labelled $(wc -l <"$fixtures/lines.expected") lines as expected, model read once"

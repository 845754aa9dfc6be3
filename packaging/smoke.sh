#!/usr/bin/env bash
# packaging/smoke.sh - checks both ways of installing micrograd (CI runs it as
# root on a throwaway machine; from the repository root: packaging/smoke.sh).
#
#   1. CMake, scratch prefix: configure, build, `cmake --install --prefix`;
#      every file is where expected; stock lua5.4 loads the install with
#      LUA_PATH/LUA_CPATH naming only that prefix (and the system's dkjson);
#      packaging/host.c builds against it with pkg-config and with
#      find_package(micrograd) (packaging/cmake-consumer), and runs.
#   2. CMake, default prefix /usr/local: `cmake --install` with no prefix;
#      stock lua5.4 finds require("micrograd") with no environment variable,
#      and the C host builds with pkg-config and find_package given no hints.
#      Removed again at the end (MG_SMOKE_KEEP=1 keeps it).
#   3. LuaRocks: `luarocks --lua-version=5.4 make` of the rockspec into a
#      scratch tree (dkjson declared provided by the system, as no rock server
#      is reachable), then the Lua checks with that tree's paths.
#
# Needs cmake, gcc, pkg-config, lua5.4, liblua5.4-dev, lua-dkjson, luarocks,
# binutils, and root (or sudo) for step 2. Work files go to $MG_SMOKE_DIR
# (kept), or to a new directory under /tmp (removed after a successful run),
# never into the repository.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

WORK=${MG_SMOKE_DIR:-$(mktemp -d /tmp/micrograd-smoke.XXXXXX)}
mkdir -p "$WORK"
JOBS=${JOBS:-2}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

fail() {
  printf '\n***** smoke: FAILED: %s\n' "$*" >&2
  exit 1
}
trap 'fail "line $LINENO: $BASH_COMMAND (exit status $?)"' ERR
section() {
  printf '\n===== smoke: %s =====\n' "$*"
  SECTION_START=$SECONDS
}
section_done() { printf -- '----- %ss\n' "$((SECONDS - SECTION_START))"; }
ok() { printf '  ok   %s\n' "$*"; }
# Shows a command (on the script's own stderr, even when its output is
# redirected to a log), then runs it.
exec 3>&2
run() {
  printf '  $ %s\n' "$*" >&3
  "$@"
}
# Stock lua5.4 with no search-path or init variable from the caller.
clean_lua() { env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u LUA_INIT -u LUA_INIT_5_4 "$@"; }

VERSION=$(sed -n 's/^project(micrograd VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[ -n "$VERSION" ] || fail "no project version in CMakeLists.txt"
SOVERSION=${VERSION%.*} # major.minor
LUA_MODULES=$(cd lua/micrograd && ls -- *.lua)
printf 'micrograd %s, work directory %s\n' "$VERSION" "$WORK"

# The directory holding the system's dkjson.lua (Debian: /usr/share/lua/5.4).
DKJSON=$(clean_lua lua5.4 -e 'print(package.searchpath("dkjson", package.path) or "")')
[ -n "$DKJSON" ] || fail "stock lua5.4 finds no dkjson: install the Debian package lua-dkjson"
DKJSON_DIR=$(dirname "$DKJSON")

# check_installed PREFIX LIBDIR: the files of a CMake install are in place.
check_installed() {
  local p=$1 lib=$1/$2 f
  for f in "$lib/libmicrograd.a" "$lib/libmicrograd.so" "$lib/libmicrograd.so.$SOVERSION" \
    "$lib/libmicrograd.so.$VERSION" "$p/include/micrograd.h" "$p/include/micrograd/engine.h" \
    "$p/include/micrograd/tape.h" "$p/include/micrograd/rng.h" "$lib/pkgconfig/micrograd.pc" \
    "$lib/cmake/micrograd/micrograd-config.cmake" "$lib/cmake/micrograd/micrograd-config-version.cmake" \
    "$lib/cmake/micrograd/micrograd-targets.cmake" "$p/lib/lua/5.4/micrograd/core.so" "$p/bin/micrograd"; do
    [ -e "$f" ] || fail "missing after install: $f"
  done
  for f in $LUA_MODULES; do
    cmp -s "lua/micrograd/$f" "$p/share/lua/5.4/micrograd/$f" || fail "not installed: $p/share/lua/5.4/micrograd/$f"
  done
  ok "files in place under $p (libraries in $lib; $(echo "$LUA_MODULES" | wc -w) Lua modules)"
  # grep reads a captured string, never a pipe: with pipefail, grep -q leaving
  # early makes the writer die of SIGPIPE and the check fail at random.
  grep -q "SONAME.*\[libmicrograd.so.$SOVERSION\]" <<<"$(readelf -d "$lib/libmicrograd.so.$VERSION")" ||
    fail "libmicrograd.so: SONAME is not libmicrograd.so.$SOVERSION"
  ok "libmicrograd.so SONAME libmicrograd.so.$SOVERSION"
  for f in "$lib/libmicrograd.so.$VERSION" "$p/lib/lua/5.4/micrograd/core.so"; do
    if grep -q "NEEDED.*liblua" <<<"$(readelf -d "$f")"; then fail "$f is linked against liblua"; fi
  done
  ok "neither libmicrograd.so nor micrograd/core.so is linked against liblua"
  local syms
  syms=$(nm -g --defined-only "$lib/libmicrograd.a" 2>/dev/null)
  for f in mg_openlibs luaopen_micrograd_core mg_backward mg_embedded_modules; do
    grep -q " $f\$" <<<"$syms" || fail "libmicrograd.a does not define $f"
  done
  ok "libmicrograd.a defines mg_openlibs, luaopen_micrograd_core, mg_backward and the embedded modules"
  [ "$(echo 'print(require("micrograd")._VERSION)' | clean_lua "$p/bin/micrograd" -)" = "micrograd $VERSION" ] ||
    fail "$p/bin/micrograd does not run"
  ok "$p/bin/micrograd runs a script (modules built in)"
}

# lua_smoke LMOD CMOD [env...]: packaging/smoke.lua under stock lua5.4.
lua_smoke() {
  local lmod=$1 cmod=$2
  shift 2
  run clean_lua "$@" lua5.4 "$ROOT/packaging/smoke.lua" "$lmod" "$cmod"
}

# host_builds NAME PKG_CONFIG_PATH CMAKE_PREFIX_PATH LD_LIBRARY_PATH: builds and
# runs packaging/host.c with pkg-config and with find_package (empty = no hint).
host_builds() {
  local name=$1 pcpath=$2 prefix=$3 ldpath=$4 flags exe=$WORK/host-pkgconfig-$1
  flags=$(env -u PKG_CONFIG_PATH ${pcpath:+PKG_CONFIG_PATH=$pcpath} pkg-config --cflags --libs micrograd)
  ok "pkg-config --cflags --libs micrograd: $flags"
  # shellcheck disable=SC2086 # the flags are words
  run gcc -std=c11 -O2 -Wall -Wextra -Werror "$ROOT/packaging/host.c" -o "$exe" $flags
  run env ${ldpath:+LD_LIBRARY_PATH=$ldpath} "$exe"
  grep -q "libmicrograd.so.$SOVERSION => ${ldpath:-/usr/local/lib}/" <<<"$(env ${ldpath:+LD_LIBRARY_PATH=$ldpath} ldd "$exe")" ||
    fail "$exe does not load libmicrograd.so.$SOVERSION from ${ldpath:-/usr/local/lib}"
  ok "host (pkg-config) runs with libmicrograd.so.$SOVERSION from ${ldpath:-/usr/local/lib}"

  local b=$WORK/consumer-$name
  rm -rf "$b"
  run cmake -S "$ROOT/packaging/cmake-consumer" -B "$b" ${prefix:+-DCMAKE_PREFIX_PATH=$prefix} >"$b.log" 2>&1 ||
    { cat "$b.log"; fail "configuring packaging/cmake-consumer"; }
  grep "micrograd $VERSION from" "$b.log" | sed 's/^-- /  ok   find_package: /'
  run cmake --build "$b" -j "$JOBS" >>"$b.log" 2>&1 || { cat "$b.log"; fail "building packaging/cmake-consumer"; }
  run "$b/host_shared"
  run "$b/host_static"
  if grep -q libmicrograd <<<"$(ldd "$b/host_static")"; then fail "host_static loads libmicrograd.so"; fi
  ok "find_package(micrograd): host_shared (micrograd::micrograd) and host_static (micrograd::micrograd_static) run"
}

# On exit, pass or fail: remove the /usr/local install (unless MG_SMOKE_KEEP
# is set), then the work directory if the run passed and it was our own.
DEFAULT_INSTALLED=""
PASSED=""
cleanup() {
  if [ -n "$DEFAULT_INSTALLED" ] && [ -z "${MG_SMOKE_KEEP:-}" ]; then uninstall_default; fi
  if [ -n "$PASSED" ] && [ -z "${MG_SMOKE_DIR:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------
section "CMake: configure and build ($WORK/build)"
BUILD=$WORK/build
run cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/configure.log" 2>&1 ||
  { tail -50 "$WORK/configure.log"; fail "cmake configure (log: $WORK/configure.log)"; }
run cmake --build "$BUILD" -j "$JOBS" >"$WORK/build.log" 2>&1 || {
  grep -B2 -A8 -iE 'error|warning' "$WORK/build.log" | head -60
  fail "cmake build (log: $WORK/build.log)"
}
LIBDIR=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
ok "built (CMAKE_INSTALL_LIBDIR=$LIBDIR)"
section_done

# ---------------------------------------------------------------------------
PREFIX=$WORK/prefix
section "CMake: install to a scratch prefix ($PREFIX)"
rm -rf "$PREFIX"
run cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install-prefix.log"
check_installed "$PREFIX" "$LIBDIR"
grep -qx "prefix=$PREFIX" "$PREFIX/$LIBDIR/pkgconfig/micrograd.pc" || fail "micrograd.pc: prefix is not $PREFIX"
[ "$(PKG_CONFIG_PATH=$PREFIX/$LIBDIR/pkgconfig pkg-config --modversion micrograd)" = "$VERSION" ] ||
  fail "pkg-config --modversion micrograd is not $VERSION"
ok "micrograd.pc: prefix=$PREFIX, version $VERSION"
LMOD=$PREFIX/share/lua/5.4
CMOD=$PREFIX/lib/lua/5.4
lua_smoke "$LMOD" "$CMOD" "LUA_PATH=$LMOD/?.lua;$LMOD/?/init.lua;$DKJSON_DIR/?.lua" "LUA_CPATH=$CMOD/?.so"
host_builds prefix "$PREFIX/$LIBDIR/pkgconfig" "$PREFIX" "$PREFIX/$LIBDIR"
section_done

# ---------------------------------------------------------------------------
section "CMake: install to the default prefix (/usr/local)"
DEFAULT_PREFIX=$(sed -n 's/^CMAKE_INSTALL_PREFIX:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
[ "$DEFAULT_PREFIX" = /usr/local ] || fail "default CMAKE_INSTALL_PREFIX is $DEFAULT_PREFIX, not /usr/local"
uninstall_default() {
  local manifest=$BUILD/install_manifest.txt f
  [ -f "$manifest" ] || return 0
  if grep -qv '^/usr/local/' "$manifest"; then
    printf 'smoke: %s lists files outside /usr/local: not removing\n' "$manifest" >&2
    return 0
  fi
  printf '\n===== smoke: removing the /usr/local install (MG_SMOKE_KEEP=1 keeps it) =====\n'
  # (CMake writes the manifest without a final newline.)
  while IFS= read -r f || [ -n "$f" ]; do $SUDO rm -f -- "$f"; done <"$manifest"
  for f in /usr/local/share/lua/5.4/micrograd /usr/local/lib/lua/5.4/micrograd /usr/local/include/micrograd \
    "/usr/local/$LIBDIR/cmake/micrograd"; do
    $SUDO rmdir -- "$f" 2>/dev/null || true
  done
  $SUDO ldconfig
  rm -f "$manifest"
}
DEFAULT_INSTALLED=1
if [ -e /usr/local/share/lua/5.4/micrograd ]; then
  printf '  note: /usr/local already has micrograd modules; the install below replaces them\n'
fi
run $SUDO cmake --install "$BUILD" >"$WORK/install-default.log"
run $SUDO ldconfig
check_installed /usr/local "$LIBDIR"
# The exact command a user types: no environment variable, from a neutral directory.
printf '  $ lua5.4 -e '\''local mg = require("micrograd") ...'\''   (no LUA_PATH/LUA_CPATH, in %s)\n' "$WORK"
out=$(cd "$WORK" && clean_lua lua5.4 -e '
  local mg = require("micrograd")
  local x = mg.Value(3.0)
  local y = (x * x + 1):tanh() + mg.nn.MLP(2, { 3, 1 })({ 1, 2 }) * 0
  y:backward()
  print(mg._VERSION, package.searchpath("micrograd", package.path),
        package.searchpath("micrograd.core", package.cpath), x.grad)') || fail "lua5.4 -e 'require(\"micrograd\")'"
printf '  %s\n' "$out"
if [ "$(cut -f2 <<<"$out")" != /usr/local/share/lua/5.4/micrograd/init.lua ] ||
  [ "$(cut -f3 <<<"$out")" != /usr/local/lib/lua/5.4/micrograd/core.so ]; then
  fail "stock lua5.4 did not load micrograd from /usr/local"
fi
ok "stock lua5.4 requires micrograd from /usr/local with no environment variables"
(cd "$WORK" && lua_smoke /usr/local/share/lua/5.4 /usr/local/lib/lua/5.4)
host_builds default "" "" ""
section_done

# ---------------------------------------------------------------------------
section "LuaRocks: luarocks --lua-version=5.4 make rockspec/micrograd-dev-1.rockspec"
# The C files of micrograd.core: every one of src/core and src/binding (not
# src/host's: the runner and mg_openlibs) must be in the rockspec.
ROCKSPEC=rockspec/micrograd-dev-1.rockspec
for f in src/core/*.c src/binding/*.c; do
  grep -q "\"$f\"" "$ROCKSPEC" || fail "$ROCKSPEC: $f is not among micrograd.core's sources"
done
for f in $LUA_MODULES; do
  grep -q "\"lua/micrograd/$f\"" "$ROCKSPEC" || fail "$ROCKSPEC: lua/micrograd/$f is not among its modules"
done
ok "$ROCKSPEC lists every C source of the engine and binding and every Lua module"
run luarocks --lua-version=5.4 lint "$ROCKSPEC"
# Build from a copy of the checkout (as a user's clean clone).
SRC=$WORK/rock-src
TREE=$WORK/rocks
rm -rf "$SRC" "$TREE"
mkdir -p "$SRC"
cp -r src lua rockspec examples LICENSE README.md "$SRC/"
DKJSON_VERSION=$(clean_lua lua5.4 -e 'print((require("dkjson").version:match("%d+%.%d+")))')
printf 'rocks_provided = { dkjson = "%s-1" } -- from the system (%s)\n' "$DKJSON_VERSION" "$DKJSON" \
  >"$WORK/luarocks-config.lua"
ok "dkjson $DKJSON_VERSION from the system, declared to LuaRocks in $WORK/luarocks-config.lua"
(cd "$SRC" && run env LUAROCKS_CONFIG="$WORK/luarocks-config.lua" \
  luarocks --lua-version=5.4 --tree "$TREE" make "$ROCKSPEC") >"$WORK/luarocks.log" 2>&1 ||
  { cat "$WORK/luarocks.log"; fail "luarocks make"; }
grep -E '^mkdir -p build/luarocks' "$WORK/luarocks.log" | sed 's/^/    /'
# The rockspec's command build writes only under build/luarocks/: no src/*.o,
# no ./micrograd/core.so that a lua5.4 started in the checkout would load.
leftovers=$(cd "$SRC" && find . -path ./build -prune -o \( -name '*.o' -o -name '*.so' \) -print)
[ -z "$leftovers" ] || fail "luarocks make left build files in the checkout: $leftovers"
ok "luarocks make left no objects or core.so in the checkout (only build/luarocks/)"
if grep -q "Missing dependencies" "$WORK/luarocks.log"; then
  fail "luarocks make says dkjson is missing though $WORK/luarocks-config.lua declares it provided"
fi
grep -q "^micrograd	dev-1	installed	$TREE" <<<"$(luarocks --lua-version=5.4 --tree "$TREE" list --porcelain)" ||
  fail "luarocks list does not show micrograd dev-1 in $TREE"
ok "luarocks list: micrograd dev-1 installed in $TREE"
RLMOD=$TREE/share/lua/5.4
RCMOD=$TREE/lib/lua/5.4
[ -f "$RCMOD/micrograd/core.so" ] || fail "missing $RCMOD/micrograd/core.so"
for f in $LUA_MODULES; do
  cmp -s "lua/micrograd/$f" "$RLMOD/micrograd/$f" || fail "not in the rock: $RLMOD/micrograd/$f"
done
if grep -q "NEEDED.*liblua" <<<"$(readelf -d "$RCMOD/micrograd/core.so")"; then
  fail "the rock's core.so is linked against liblua"
fi
ok "rock tree: micrograd/core.so (not linked against liblua) and every Lua module"
lua_smoke "$RLMOD" "$RCMOD" "LUA_PATH=$RLMOD/?.lua;$RLMOD/?/init.lua;$DKJSON_DIR/?.lua" "LUA_CPATH=$RCMOD/?.so"
section_done

printf '\n===== smoke: all checks passed (%ss) =====\n' "$SECONDS"
PASSED=1

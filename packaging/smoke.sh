#!/usr/bin/env bash
# packaging/smoke.sh - checks both ways of installing micrograd, for each Lua
# (CI runs it as root on a throwaway machine; from the repository root:
# packaging/smoke.sh [LUA...], LUA among 5.4 5.3 5.1 luajit, default all four,
# or MG_SMOKE_LUAS="5.4 luajit").
#
# For each Lua (a CMake build with -DMG_LUA=<lua>; see cmake/install.cmake
# for the names each one installs):
#   1. CMake, scratch prefix: configure, build, `cmake --install --prefix`
#      (every Lua into the same prefix: they install side by side); every file
#      is where expected; the stock interpreter (lua5.4, lua5.3, lua5.1,
#      luajit) loads the install with LUA_PATH/LUA_CPATH naming only that
#      prefix (and the system's dkjson); packaging/host.c builds against it
#      with `pkg-config micrograd-<lua>` and with find_package(micrograd
#      COMPONENTS <lua>) (packaging/cmake-consumer), and runs on that Lua.
#   2. CMake, default prefix /usr/local: `cmake --install` with no prefix;
#      the stock interpreter finds require("micrograd") with no environment
#      variable, and the C host builds with pkg-config and find_package given
#      no hints. Removed again at the end (MG_SMOKE_KEEP=1 keeps it).
#   3. LuaRocks: `luarocks --lua-version=<5.x> make` of the rockspec into a
#      scratch tree (LuaJIT: Lua 5.1 with LuaJIT's interpreter and headers;
#      dkjson declared provided by the system, as no rock server is
#      reachable), then the Lua checks with that tree's paths.
# Then, with every Lua installed: all the .pc files, libraries and CMake
# package files are still there, each host still builds and runs, and each
# stock interpreter still loads micrograd (lua5.1 and luajit the same
# lib/lua/5.1/micrograd/core.so: the 5.1 build's, installed last).
#
# Needs cmake, gcc, pkg-config, lua-dkjson, luarocks, binutils, each Lua's
# interpreter and -dev package (lua5.4 liblua5.4-dev, lua5.3 liblua5.3-dev,
# lua5.1 liblua5.1-0-dev, luajit libluajit-5.1-dev), and root (or sudo) for
# step 2. Work files go to $MG_SMOKE_DIR (kept), or to a new directory under
# /tmp (removed after a successful run), never into the repository.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

WORK=${MG_SMOKE_DIR:-$(mktemp -d /tmp/micrograd-smoke.XXXXXX)}
mkdir -p "$WORK"
JOBS=${JOBS:-2}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
if [ $# -gt 0 ]; then LUAS="$*"; else LUAS=${MG_SMOKE_LUAS:-5.4 5.3 5.1 luajit}; fi
# 5.1 and LuaJIT share lib/lua/5.1: a 5.1 build loads in both interpreters, a
# LuaJIT build only in luajit. So 5.1 installs after LuaJIT (the order a user
# with both should follow, as README's "Installing" says).
if [[ " $LUAS " == *" 5.1 "* && " $LUAS " == *" luajit "* ]]; then
  rest=""
  for l in $LUAS; do [ "$l" = 5.1 ] || rest="$rest $l"; done
  LUAS="${rest# } 5.1"
fi

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
# A stock interpreter with no search-path or init variable from the caller.
clean_lua() {
  env -u LUA_PATH -u LUA_CPATH -u LUA_INIT -u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u LUA_INIT_5_4 \
    -u LUA_PATH_5_3 -u LUA_CPATH_5_3 -u LUA_INIT_5_3 "$@"
}

# use_lua LUA: the names for one Lua (cmake/install.cmake has the same table).
#   LUA_EXE  its stock interpreter      ABI     the directories it searches (5.x)
#   SUFFIX   of library and runner      PC      its pkg-config name
#   WANT     how its version starts     DKJSON_DIR  Debian's dkjson for it
use_lua() {
  L=$1
  case $L in
  5.4 | 5.3 | 5.1) LUA_EXE=lua$L ABI=$L WANT="Lua $L" ;;
  luajit) LUA_EXE=luajit ABI=5.1 WANT="LuaJIT" ;;
  *) fail "unknown Lua '$L' (5.4, 5.3, 5.1 or luajit)" ;;
  esac
  if [ "$L" = 5.4 ]; then SUFFIX=""; else SUFFIX="-$L"; fi
  PC=micrograd-$L
  DKJSON_DIR=/usr/share/lua/$ABI
  command -v "$LUA_EXE" >/dev/null || fail "no $LUA_EXE: install its Debian package"
  [ -f "$DKJSON_DIR/dkjson.lua" ] || fail "no $DKJSON_DIR/dkjson.lua: install the Debian package lua-dkjson"
}

VERSION=$(sed -n 's/^project(micrograd VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[ -n "$VERSION" ] || fail "no project version in CMakeLists.txt"
SOVERSION=${VERSION%.*} # major.minor
LUA_MODULES=$(cd lua/micrograd && ls -- *.lua)
printf 'micrograd %s for Lua %s, work directory %s\n' "$VERSION" "$LUAS" "$WORK"
for L in $LUAS; do use_lua "$L"; done

# check_installed PREFIX LIBDIR: the files of the current Lua's CMake install
# are in place.
check_installed() {
  local p=$1 lib=$1/$2 f so=libmicrograd$SUFFIX.so
  for f in "$lib/libmicrograd$SUFFIX.a" "$lib/$so" "$lib/$so.$SOVERSION" \
    "$lib/$so.$VERSION" "$p/include/micrograd.h" "$p/include/micrograd/engine.h" \
    "$p/include/micrograd/ops.h" "$p/include/micrograd/tape.h" "$p/include/micrograd/rng.h" "$lib/pkgconfig/$PC.pc" \
    "$lib/cmake/micrograd/micrograd-config.cmake" "$lib/cmake/micrograd/micrograd-config-version.cmake" \
    "$lib/cmake/micrograd/micrograd-lua-$L.cmake" "$lib/cmake/micrograd/micrograd-targets-$L.cmake" \
    "$p/lib/lua/$ABI/micrograd/core.so" "$p/bin/micrograd$SUFFIX"; do
    [ -e "$f" ] || fail "missing after install: $f"
  done
  if [ "$L" = 5.4 ]; then
    cmp -s "$lib/pkgconfig/micrograd.pc" "$lib/pkgconfig/$PC.pc" || fail "micrograd.pc is not micrograd-5.4.pc"
  fi
  for f in $LUA_MODULES; do
    cmp -s "lua/micrograd/$f" "$p/share/lua/$ABI/micrograd/$f" || fail "not installed: $p/share/lua/$ABI/micrograd/$f"
  done
  ok "files in place under $p (libraries in $lib; $(echo "$LUA_MODULES" | wc -w) Lua modules in share/lua/$ABI)"
  # grep reads a captured string, never a pipe: with pipefail, grep -q leaving
  # early makes the writer die of SIGPIPE and the check fail at random.
  grep -q "SONAME.*\[$so.$SOVERSION\]" <<<"$(readelf -d "$lib/$so.$VERSION")" ||
    fail "$so: SONAME is not $so.$SOVERSION"
  ok "$so SONAME $so.$SOVERSION"
  for f in "$lib/$so.$VERSION" "$p/lib/lua/$ABI/micrograd/core.so"; do
    if grep -q "NEEDED.*lib\(lua\|luajit\)" <<<"$(readelf -d "$f")"; then fail "$f is linked against Lua"; fi
  done
  ok "neither $so nor micrograd/core.so is linked against a Lua library"
  local syms
  syms=$(nm -g --defined-only "$lib/libmicrograd$SUFFIX.a" 2>/dev/null)
  for f in mg_openlibs luaopen_micrograd_core mg_backward mg_embedded_modules; do
    grep -q " $f\$" <<<"$syms" || fail "libmicrograd$SUFFIX.a does not define $f"
  done
  ok "libmicrograd$SUFFIX.a defines mg_openlibs, luaopen_micrograd_core, mg_backward and the embedded modules"
  local out
  out=$(echo 'print(require("micrograd")._VERSION, rawget(_G, "jit") and jit.version or _VERSION)' |
    clean_lua "$p/bin/micrograd$SUFFIX" -) || fail "$p/bin/micrograd$SUFFIX does not run"
  [ "$out" = "micrograd $VERSION	$(clean_lua "$LUA_EXE" -e 'print(rawget(_G, "jit") and jit.version or _VERSION)')" ] ||
    fail "$p/bin/micrograd$SUFFIX says '$out'"
  ok "$p/bin/micrograd$SUFFIX runs a script on $WANT (modules built in)"
}

# lua_smoke LMOD CMOD [env...]: packaging/smoke.lua under the stock interpreter.
lua_smoke() {
  local lmod=$1 cmod=$2
  shift 2
  run clean_lua "$@" "$LUA_EXE" "$ROOT/packaging/smoke.lua" "$lmod" "$cmod" "$WANT"
}

# host_builds NAME PKG_CONFIG_PATH CMAKE_PREFIX_PATH LD_LIBRARY_PATH: builds and
# runs packaging/host.c with pkg-config and with find_package (empty = no hint).
host_builds() {
  local name=$1-$L pcpath=$2 prefix=$3 ldpath=$4 flags exe=$WORK/host-pkgconfig-$1-$L so
  so=libmicrograd$SUFFIX.so.$SOVERSION
  flags=$(env -u PKG_CONFIG_PATH ${pcpath:+PKG_CONFIG_PATH=$pcpath} pkg-config --cflags --libs "$PC")
  ok "pkg-config --cflags --libs $PC: $flags"
  # shellcheck disable=SC2086 # the flags are words
  run gcc -std=c11 -O2 -Wall -Wextra -Werror "$ROOT/packaging/host.c" -o "$exe" $flags
  run env ${ldpath:+LD_LIBRARY_PATH=$ldpath} "$exe" "$WANT"
  grep -q "$so => ${ldpath:-/usr/local/lib}/" <<<"$(env ${ldpath:+LD_LIBRARY_PATH=$ldpath} ldd "$exe")" ||
    fail "$exe does not load $so from ${ldpath:-/usr/local/lib}"
  ok "host (pkg-config $PC) runs on $WANT with $so from ${ldpath:-/usr/local/lib}"

  # 5.4 is find_package's default: asked for without a component.
  local b=$WORK/consumer-$name component=$L
  [ "$L" = 5.4 ] && component=""
  rm -rf "$b"
  run cmake -S "$ROOT/packaging/cmake-consumer" -B "$b" ${prefix:+-DCMAKE_PREFIX_PATH=$prefix} "-DMG_LUA=$component" \
    >"$b.log" 2>&1 || { cat "$b.log"; fail "configuring packaging/cmake-consumer"; }
  grep -q "micrograd $VERSION for Lua $L from" "$b.log" || { cat "$b.log"; fail "find_package did not pick Lua $L"; }
  grep "micrograd $VERSION for Lua" "$b.log" | sed 's/^-- /  ok   find_package: /'
  run cmake --build "$b" -j "$JOBS" >>"$b.log" 2>&1 || { cat "$b.log"; fail "building packaging/cmake-consumer"; }
  run "$b/host_shared" "$WANT"
  run "$b/host_static" "$WANT"
  if grep -q libmicrograd <<<"$(ldd "$b/host_static")"; then fail "host_static loads libmicrograd"; fi
  ok "find_package(micrograd${component:+ COMPONENTS $component}): host_shared and host_static run on $WANT"
}

# On exit, pass or fail: remove the /usr/local installs (unless MG_SMOKE_KEEP
# is set), then the work directory if the run passed and it was our own.
DEFAULT_INSTALLED=""
PASSED=""
cleanup() {
  local b
  if [ -z "${MG_SMOKE_KEEP:-}" ]; then
    for b in $DEFAULT_INSTALLED; do uninstall_default "$b"; done
  fi
  if [ -n "$PASSED" ] && [ -z "${MG_SMOKE_DIR:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
uninstall_default() {
  local manifest=$1/install_manifest.txt f
  [ -f "$manifest" ] || return 0
  if grep -qv '^/usr/local/' "$manifest"; then
    printf 'smoke: %s lists files outside /usr/local: not removing\n' "$manifest" >&2
    return 0
  fi
  printf '\n===== smoke: removing the /usr/local install of %s (MG_SMOKE_KEEP=1 keeps it) =====\n' "$1"
  # (CMake writes the manifest without a final newline.)
  while IFS= read -r f || [ -n "$f" ]; do $SUDO rm -f -- "$f"; done <"$manifest"
  for f in /usr/local/share/lua/5.[134]/micrograd /usr/local/lib/lua/5.[134]/micrograd /usr/local/include/micrograd \
    "/usr/local/$LIBDIR/cmake/micrograd"; do
    [ -d "$f" ] && { $SUDO rmdir -- "$f" 2>/dev/null || true; }
  done
  $SUDO ldconfig
  rm -f "$manifest"
}

PREFIX=$WORK/prefix
rm -rf "$PREFIX"
ROCKSPEC=rockspec/micrograd-dev-1.rockspec
ROCK_SRC=$WORK/rock-src
for L in $LUAS; do
  use_lua "$L"
  BUILD=$WORK/build-$L
  # -------------------------------------------------------------------------
  section "Lua $L: CMake configure and build ($BUILD, -DMG_LUA=$L)"
  run cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DMG_LUA=$L" >"$BUILD.configure.log" 2>&1 ||
    { tail -50 "$BUILD.configure.log"; fail "cmake configure (log: $BUILD.configure.log)"; }
  # Only what is installed (make test builds and tests everything).
  run cmake --build "$BUILD" -j "$JOBS" --target micrograd micrograd_module micrograd_lib micrograd_shared \
    >"$BUILD.build.log" 2>&1 || {
    grep -B2 -A8 -iE 'error|warning' "$BUILD.build.log" | head -60
    fail "cmake build (log: $BUILD.build.log)"
  }
  LIBDIR=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
  ok "built (CMAKE_INSTALL_LIBDIR=$LIBDIR)"
  section_done

  # -------------------------------------------------------------------------
  section "Lua $L: CMake install to a scratch prefix ($PREFIX, shared by every Lua)"
  run cmake --install "$BUILD" --prefix "$PREFIX" >"$BUILD.install-prefix.log"
  check_installed "$PREFIX" "$LIBDIR"
  grep -qx "prefix=$PREFIX" "$PREFIX/$LIBDIR/pkgconfig/$PC.pc" || fail "$PC.pc: prefix is not $PREFIX"
  [ "$(PKG_CONFIG_PATH=$PREFIX/$LIBDIR/pkgconfig pkg-config --modversion "$PC")" = "$VERSION" ] ||
    fail "pkg-config --modversion $PC is not $VERSION"
  [ "$(PKG_CONFIG_PATH=$PREFIX/$LIBDIR/pkgconfig pkg-config --variable=lua "$PC")" = "$L" ] ||
    fail "pkg-config --variable=lua $PC is not $L"
  ok "$PC.pc: prefix=$PREFIX, version $VERSION, lua=$L"
  LMOD=$PREFIX/share/lua/$ABI
  CMOD=$PREFIX/lib/lua/$ABI
  lua_smoke "$LMOD" "$CMOD" "LUA_PATH=$LMOD/?.lua;$LMOD/?/init.lua;$DKJSON_DIR/?.lua" "LUA_CPATH=$CMOD/?.so"
  host_builds prefix "$PREFIX/$LIBDIR/pkgconfig" "$PREFIX" "$PREFIX/$LIBDIR"
  section_done

  # -------------------------------------------------------------------------
  section "Lua $L: CMake install to the default prefix (/usr/local)"
  DEFAULT_PREFIX=$(sed -n 's/^CMAKE_INSTALL_PREFIX:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
  [ "$DEFAULT_PREFIX" = /usr/local ] || fail "default CMAKE_INSTALL_PREFIX is $DEFAULT_PREFIX, not /usr/local"
  DEFAULT_INSTALLED="$DEFAULT_INSTALLED $BUILD"
  if [ -e "/usr/local/lib/lua/$ABI/micrograd/core.so" ]; then
    printf '  note: /usr/local/lib/lua/%s already has micrograd; the install below replaces it\n' "$ABI"
  fi
  run $SUDO cmake --install "$BUILD" >"$BUILD.install-default.log"
  run $SUDO ldconfig
  check_installed /usr/local "$LIBDIR"
  # The exact command a user types: no environment variable, from a neutral directory.
  printf '  $ %s -e '\''local mg = require("micrograd") ...'\''   (no LUA_PATH/LUA_CPATH, in %s)\n' "$LUA_EXE" "$WORK"
  out=$(cd "$WORK" && clean_lua "$LUA_EXE" -e '
    local mg = require("micrograd")
    local x = mg.Value(3.0)
    local y = (x * x + 1):tanh() + mg.nn.MLP(2, { 3, 1 })({ 1, 2 }) * 0
    y:backward()
    local function find(name, path)
      for t in path:gmatch("[^;]+") do
        local f = t:gsub("%?", (name:gsub("%.", "/")))
        local h = io.open(f)
        if h then h:close() return f end
      end
    end
    print(mg._VERSION, find("micrograd", package.path), find("micrograd.core", package.cpath), x.grad)') ||
    fail "$LUA_EXE -e 'require(\"micrograd\")'"
  printf '  %s\n' "$out"
  if [ "$(cut -f2 <<<"$out")" != "/usr/local/share/lua/$ABI/micrograd/init.lua" ] ||
    [ "$(cut -f3 <<<"$out")" != "/usr/local/lib/lua/$ABI/micrograd/core.so" ]; then
    fail "stock $LUA_EXE did not load micrograd from /usr/local"
  fi
  ok "stock $LUA_EXE requires micrograd from /usr/local with no environment variables"
  (cd "$WORK" && lua_smoke "/usr/local/share/lua/$ABI" "/usr/local/lib/lua/$ABI")
  host_builds default "" "" ""
  section_done

  # -------------------------------------------------------------------------
  # LuaJIT: LuaRocks' Lua 5.1, with LuaJIT's interpreter and headers.
  ROCK_LUA=$ABI
  section "Lua $L: LuaRocks: luarocks --lua-version=$ROCK_LUA make $ROCKSPEC"
  if [ ! -d "$ROCK_SRC" ]; then
    # The C files of micrograd.core: every one of src/core and src/binding (not
    # src/host's: the runner and mg_openlibs) must be in the rockspec.
    for f in src/core/*.c src/binding/*.c; do
      grep -q "\"$f\"" "$ROCKSPEC" || fail "$ROCKSPEC: $f is not among micrograd.core's sources"
    done
    for f in $LUA_MODULES; do
      grep -q "\"lua/micrograd/$f\"" "$ROCKSPEC" || fail "$ROCKSPEC: lua/micrograd/$f is not among its modules"
    done
    ok "$ROCKSPEC lists every C source of the engine and binding and every Lua module"
    run luarocks --lua-version=5.4 lint "$ROCKSPEC"
    # Build from a copy of the checkout (as a user's clean clone).
    mkdir -p "$ROCK_SRC"
    cp -r src lua rockspec examples LICENSE README.md "$ROCK_SRC/"
  fi
  TREE=$WORK/rocks-$L
  rm -rf "$TREE" "$ROCK_SRC/build"
  DKJSON_VERSION=$(clean_lua "$LUA_EXE" -e 'print((require("dkjson").version:match("%d+%.%d+")))')
  CONFIG=$WORK/luarocks-config-$L.lua
  printf 'rocks_provided = { dkjson = "%s-1" } -- from the system (%s)\n' "$DKJSON_VERSION" "$DKJSON_DIR" >"$CONFIG"
  if [ "$L" = luajit ]; then
    # Debian's luajit.pc: includedir=/usr/include/luajit-2.1
    LUAJIT_INCDIR=$(pkg-config --variable=includedir luajit)
    [ -f "$LUAJIT_INCDIR/luajit.h" ] || fail "no luajit.h in $LUAJIT_INCDIR (pkg-config luajit's includedir)"
    printf 'lua_interpreter = "luajit"\nvariables = { LUA = "%s", LUA_BINDIR = "%s", LUA_INCDIR = "%s" }\n' \
      "$(command -v luajit)" "$(dirname "$(command -v luajit)")" \
      "$LUAJIT_INCDIR" >>"$CONFIG"
  fi
  ok "$CONFIG: dkjson $DKJSON_VERSION from the system$([ "$L" = luajit ] && echo ", LuaJIT's interpreter and headers")"
  (cd "$ROCK_SRC" && run env LUAROCKS_CONFIG="$CONFIG" \
    luarocks --lua-version="$ROCK_LUA" --tree "$TREE" make "$ROCKSPEC") >"$WORK/luarocks-$L.log" 2>&1 ||
    { cat "$WORK/luarocks-$L.log"; fail "luarocks make"; }
  grep -E '^mkdir -p build/luarocks' "$WORK/luarocks-$L.log" | sed 's/^/    /'
  if [ "$L" = luajit ]; then
    grep -q -- "-I$LUAJIT_INCDIR " "$WORK/luarocks-$L.log" ||
      fail "luarocks did not compile with LuaJIT's headers"
  fi
  # The rockspec's command build writes only under build/luarocks/: no src/*.o,
  # no ./micrograd/core.so that an interpreter started in the checkout would load.
  leftovers=$(cd "$ROCK_SRC" && find . -path ./build -prune -o \( -name '*.o' -o -name '*.so' \) -print)
  [ -z "$leftovers" ] || fail "luarocks make left build files in the checkout: $leftovers"
  ok "luarocks make left no objects or core.so in the checkout (only build/luarocks/)"
  if grep -q "Missing dependencies" "$WORK/luarocks-$L.log"; then
    fail "luarocks make says dkjson is missing though $CONFIG declares it provided"
  fi
  grep -q "^micrograd	dev-1	installed	$TREE" <<<"$(LUAROCKS_CONFIG="$CONFIG" luarocks --lua-version="$ROCK_LUA" --tree "$TREE" list --porcelain)" ||
    fail "luarocks list does not show micrograd dev-1 in $TREE"
  ok "luarocks list: micrograd dev-1 installed in $TREE"
  RLMOD=$TREE/share/lua/$ABI
  RCMOD=$TREE/lib/lua/$ABI
  [ -f "$RCMOD/micrograd/core.so" ] || fail "missing $RCMOD/micrograd/core.so"
  for f in $LUA_MODULES; do
    cmp -s "lua/micrograd/$f" "$RLMOD/micrograd/$f" || fail "not in the rock: $RLMOD/micrograd/$f"
  done
  if grep -q "NEEDED.*lib\(lua\|luajit\)" <<<"$(readelf -d "$RCMOD/micrograd/core.so")"; then
    fail "the rock's core.so is linked against a Lua library"
  fi
  ok "rock tree: micrograd/core.so (not linked against Lua) and every Lua module"
  lua_smoke "$RLMOD" "$RCMOD" "LUA_PATH=$RLMOD/?.lua;$RLMOD/?/init.lua;$DKJSON_DIR/?.lua" "LUA_CPATH=$RCMOD/?.so"
  section_done
done

# ---------------------------------------------------------------------------
# Side by side: every Lua's files are still installed, and its hosts still
# build and run (each install above could have overwritten another's).
if [ "$(wc -w <<<"$LUAS")" -gt 1 ]; then
  section "side by side: $LUAS in $PREFIX and /usr/local"
  for L in $LUAS; do
    use_lua "$L"
    for p in "$PREFIX" /usr/local; do
      for f in "$p/$LIBDIR/libmicrograd$SUFFIX.so.$VERSION" "$p/$LIBDIR/libmicrograd$SUFFIX.a" \
        "$p/$LIBDIR/pkgconfig/$PC.pc" "$p/$LIBDIR/cmake/micrograd/micrograd-lua-$L.cmake" "$p/bin/micrograd$SUFFIX"; do
        [ -e "$f" ] || fail "after installing $LUAS: missing $f"
      done
    done
    host_builds prefix "$PREFIX/$LIBDIR/pkgconfig" "$PREFIX" "$PREFIX/$LIBDIR"
    host_builds default "" "" ""
    # The Lua side, with the micrograd/core.so left in lib/lua/$ABI.
    LMOD=$PREFIX/share/lua/$ABI
    CMOD=$PREFIX/lib/lua/$ABI
    lua_smoke "$LMOD" "$CMOD" "LUA_PATH=$LMOD/?.lua;$LMOD/?/init.lua;$DKJSON_DIR/?.lua" "LUA_CPATH=$CMOD/?.so"
    (cd "$WORK" && lua_smoke "/usr/local/share/lua/$ABI" "/usr/local/lib/lua/$ABI")
  done
  # A Lua that is not installed is an error that says what is.
  b=$WORK/consumer-missing
  rm -rf "$b"
  if cmake -S "$ROOT/packaging/cmake-consumer" -B "$b" "-DCMAKE_PREFIX_PATH=$PREFIX" -DMG_LUA=5.2 >"$b.log" 2>&1; then
    fail "find_package(micrograd COMPONENTS 5.2) succeeded"
  fi
  grep -q "micrograd for Lua 5.2 is not installed" "$b.log" || { cat "$b.log"; fail "no clear find_package error"; }
  ok "find_package(micrograd COMPONENTS 5.2) fails: $(grep -o 'micrograd for Lua 5.2 is not installed.*' "$b.log")"
  section_done
fi

printf '\n===== smoke: all checks passed for Lua %s (%ss) =====\n' "$LUAS" "$SECONDS"
PASSED=1

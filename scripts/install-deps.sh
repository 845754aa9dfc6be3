#!/bin/sh
# Installs the Debian packages the build and the tests need, if any is missing,
# saying what it installs (with sudo when not root). Set MG_NO_INSTALL=1 to skip.
# Extra packages can be named as arguments (.ci/run adds its linters).
# MG_LUA (5.3, 5.1 or luajit; `make test MG_LUA=...` passes it) adds that
# Lua's interpreter and headers.
set -eu

case ${MG_LUA:-5.4} in
5.3) LUA_PACKAGES="lua5.3 liblua5.3-dev" ;;
5.1) LUA_PACKAGES="lua5.1 liblua5.1-0-dev" ;;
luajit) LUA_PACKAGES="luajit libluajit-5.1-dev" ;;
*) LUA_PACKAGES="" ;;
esac
PACKAGES="lua5.4 liblua5.4-dev lua-busted lua-dkjson graphviz cmake tmux locales $LUA_PACKAGES $*"

[ "${MG_NO_INSTALL:-0}" = 1 ] && exit 0
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "micrograd: not a Debian system; make sure these are installed: $PACKAGES" >&2
  exit 0
fi

SUDO=""
need_sudo() {
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      SUDO=sudo
    else
      echo "micrograd: not root and no sudo: please $1" >&2
      exit 1
    fi
  fi
}

# spec/locale_spec.lua runs under de_DE.UTF-8: generate it once the locales
# package is there.
german_locale() {
  locale -a 2>/dev/null | grep -i '^de_DE\.utf-\?8$' >/dev/null && return 0
  [ -f /etc/locale.gen ] && command -v locale-gen >/dev/null 2>&1 || return 0
  need_sudo "generate the de_DE.UTF-8 locale (locale-gen)"
  echo "micrograd: generating the de_DE.UTF-8 locale (for the locale tests)"
  $SUDO sed -i 's/^# *de_DE.UTF-8 UTF-8/de_DE.UTF-8 UTF-8/' /etc/locale.gen
  grep -q '^de_DE.UTF-8 UTF-8' /etc/locale.gen || echo 'de_DE.UTF-8 UTF-8' | $SUDO tee -a /etc/locale.gen >/dev/null
  $SUDO locale-gen >/dev/null
}

missing=""
for p in $PACKAGES; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
  german_locale
  exit 0
fi

echo "micrograd: installing missing Debian packages:$missing"
need_sudo "install:$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # one word per package
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "micrograd: installed:$missing"
german_locale

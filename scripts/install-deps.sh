#!/bin/sh
# Installs the Debian packages the build and the tests need, if any is missing,
# saying what it installs (with sudo when not root). Set MG_NO_INSTALL=1 to skip.
# Extra packages can be named as arguments (.ci/run adds its linters).
set -eu

PACKAGES="lua5.4 liblua5.4-dev lua-busted lua-dkjson graphviz cmake tmux $*"

[ "${MG_NO_INSTALL:-0}" = 1 ] && exit 0
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "micrograd: not a Debian system; make sure these are installed: $PACKAGES" >&2
  exit 0
fi

missing=""
for p in $PACKAGES; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "micrograd: installing missing Debian packages:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "micrograd: not root and no sudo: please install:$missing" >&2
    exit 1
  fi
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # one word per package
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "micrograd: installed:$missing"

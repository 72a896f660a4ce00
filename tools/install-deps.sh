#!/usr/bin/env bash
# Installs the Debian packages intercom-lua needs to build, test and lint. Idempotent: does nothing
# when they are all present.
set -euo pipefail
pkgs=(build-essential pkg-config ca-certificates python3
      lua5.4 liblua5.4-dev luajit libluajit-5.1-dev libcurl4-openssl-dev
      lua-cjson lua-busted lua-check lua-socket luarocks openssl
      clang libclang-rt-14-dev llvm valgrind)   # make fuzz, make fuzz-coverage, make check-memory
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

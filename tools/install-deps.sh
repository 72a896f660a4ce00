#!/usr/bin/env bash
# Installs the Debian packages intercom-lua needs to build, test and lint. Idempotent: does nothing
# when they are all present.
set -euo pipefail
# LuaJIT comes as OpenResty's branch (luajit2, libluajit2-5.1-dev): Debian's libnginx-mod-http-lua (via
# lua-resty-core) needs libluajit2-5.1-2, which conflicts with Debian's own luajit/libluajit-5.1-dev, so
# asking for those would remove the nginx Lua module again (and the other way round). Both provide
# /usr/bin/luajit and /usr/include/luajit-2.1.
pkgs=(build-essential pkg-config ca-certificates python3
      lua5.4 liblua5.4-dev luajit2 libluajit2-5.1-dev libcurl4-openssl-dev
      lua-cjson lua-busted lua-check lua-socket luarocks openssl curl
      nginx-light libnginx-mod-http-lua)
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

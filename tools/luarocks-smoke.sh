#!/usr/bin/env bash
# Installs the rock with `luarocks make` into a fresh tree, from a copy of the sources, then runs
# tools/smoke.lua from outside the source tree with only that tree on the module paths.
#
#   bash tools/luarocks-smoke.sh 5.4       Lua 5.4
#   bash tools/luarocks-smoke.sh luajit    LuaJIT: --lua-version 5.1 with LuaJIT's headers
#
# With INTERCOM_TEST_SERVER set, the smoke script also sends one request (GET /contacts/smoke).
set -euo pipefail
which=${1:?usage: tools/luarocks-smoke.sh 5.4|luajit}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/intercom-rock.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Debian keeps curl.h under the multiarch include directory, which luarocks does not search.
curl_inc=/usr/include/$(gcc -print-multiarch)
case $which in
    5.4)    luaver=5.4; lua=lua5.4; extra=() ;;
    luajit) luaver=5.1; lua=luajit; extra=(LUA_INCDIR=/usr/include/luajit-2.1) ;;
    *)      echo "unknown interpreter '$which' (5.4 or luajit)" >&2; exit 2 ;;
esac

# For LuaJIT, luarocks' 5.1 interpreter must be luajit (not lua5.1): it is the one the wrapper of the
# installed bin/intercom runs.
if [ "$which" = luajit ]; then
    printf 'lua_interpreter = "luajit"\nvariables = { LUA_BINDIR = "%s" }\n' "$(dirname "$(command -v luajit)")" \
        >"$tmp/luarocks-config.lua"
    export LUAROCKS_CONFIG="$tmp/luarocks-config.lua"
fi

# Build from a copy: luarocks leaves objects beside the sources, and the smoke run must not see them.
mkdir -p "$tmp/src"
cp -r "$root/lua" "$root/src" "$root/bin" "$root/intercom-scm-1.rockspec" "$tmp/src/"
cp "$root/tools/smoke.lua" "$tmp/smoke.lua"
if ! (cd "$tmp/src" && luarocks --lua-version "$luaver" make --tree "$tmp/tree" intercom-scm-1.rockspec \
        CURL_INCDIR="$curl_inc" "${extra[@]}") >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log" >&2
    echo "luarocks make failed for $which" >&2
    exit 1
fi
grep -E "is now installed" "$tmp/build.log" || true

cd "$tmp"
LUA_PATH="$tmp/tree/share/lua/$luaver/?.lua;$tmp/tree/share/lua/$luaver/?/init.lua" \
LUA_CPATH="$tmp/tree/lib/lua/$luaver/?.so" \
    "$lua" smoke.lua "$tmp/tree"

# The command line, as luarocks installed it (its wrapper sets the tree's paths and runs the interpreter).
"$tmp/tree/bin/intercom" --version

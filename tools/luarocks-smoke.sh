#!/usr/bin/env bash
# LuaRocks for real, for one interpreter, each time into a fresh tree and run from outside the sources
# with only that tree on the module paths (tools/smoke.lua):
#   1. `luarocks make intercom-scm-1.rockspec` from a copy of the sources, with no extra variables (for
#      LuaJIT only LUA_INCDIR, to pick LuaJIT's headers over Lua 5.1's);
#   2. `make rock`, then `luarocks install` of the .src.rock it packs, offline: the only server luarocks
#      may ask is an empty folder.
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
cp "$root/tools/smoke.lua" "$tmp/smoke.lua"

# smoke TREE: tools/smoke.lua from $tmp, with only TREE on the paths
smoke() {
    (cd "$tmp" &&
     LUA_PATH="$1/share/lua/$luaver/?.lua;$1/share/lua/$luaver/?/init.lua" \
     LUA_CPATH="$1/lib/lua/$luaver/?.so" \
         "$lua" smoke.lua "$1")
}

# 1. From a copy: luarocks leaves objects beside the sources, and the smoke run must not see them.
mkdir -p "$tmp/src"
cp -r "$root/lua" "$root/src" "$root/types" "$root/intercom-scm-1.rockspec" "$tmp/src/"
[ ! -d "$root/bin" ] || cp -r "$root/bin" "$tmp/src/"
if ! (cd "$tmp/src" && luarocks --lua-version "$luaver" make --tree "$tmp/tree-make" intercom-scm-1.rockspec \
        "${extra[@]}") >"$tmp/make.log" 2>&1; then
    cat "$tmp/make.log" >&2
    echo "luarocks make failed for $which" >&2
    exit 1
fi
grep -E "is now installed" "$tmp/make.log" || true
smoke "$tmp/tree-make"

# 2. The release rock, offline.
version=$(cd "$root" && lua5.4 tools/gen-rockspec.lua --version)
rock="$tmp/rock/intercom-$version-1.src.rock"
if ! make -s -C "$root" rock ROCK_DIR="$tmp/rock" >"$tmp/rock.log" 2>&1; then
    cat "$tmp/rock.log" >&2
    echo "make rock failed" >&2
    exit 1
fi
mkdir -p "$tmp/no-server"
if ! (cd "$tmp" && luarocks --lua-version "$luaver" install --tree "$tmp/tree-rock" \
        --only-server="$tmp/no-server" "$rock" "${extra[@]}") >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log" >&2
    echo "luarocks install $rock failed for $which" >&2
    exit 1
fi
grep -E "is now installed" "$tmp/install.log" || true
# where docs/install.md tells editors to look
types="$(luarocks --lua-version "$luaver" --tree "$tmp/tree-rock" show --rock-dir intercom)/types"
[ -f "$types/intercom/resources.lua" ] || { echo "the rock did not install types/ at $types" >&2; exit 1; }
echo "types installed at ${types#"$tmp/tree-rock/"}"
smoke "$tmp/tree-rock"

# 3. The command line in each tree, as luarocks installed it: a wrapper that sets the tree's paths and
# runs the tree's interpreter on the rock's copy of bin/intercom.
for tree in "$tmp/tree-make" "$tmp/tree-rock"; do
    (cd "$tmp" && env -u LUA_PATH -u LUA_CPATH "$tree/bin/intercom" --version)
done

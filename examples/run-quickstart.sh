#!/usr/bin/env bash
# Runs examples/quickstart.lua: against the real API when INTERCOM_API_KEY is set, otherwise against
# the project's own test server in demo mode (a tiny fake Intercom), so it works with no token.
set -euo pipefail
cd "$(dirname "$0")/.."
export LUA_PATH="lua/?.lua;lua/?/init.lua;;"
export LUA_CPATH="build/5.4/?.so;;"
if [ -n "${INTERCOM_API_KEY:-}" ]; then
  exec lua5.4 examples/quickstart.lua
fi
echo "INTERCOM_API_KEY is not set: running against the local test server (demo mode)"
out=$(mktemp)
# the real interpreter, not a wrapper that forks (a pyenv shim): $! must be the server itself
python=$(python3 -c 'import sys; print(sys.executable)')
"$python" spec/support/test_server.py --demo >"$out" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
url=$(head -n 1 "$out")
INTERCOM_BASE_URL="$url" INTERCOM_API_KEY="demo-token" lua5.4 examples/quickstart.lua

#!/usr/bin/env bash
# The shared rate-limit budget's benchmark (part of `make bench`; bench/README.md, "Rate-limit budget"):
# starts a redis-server and the test server on free loopback ports, measures under Lua 5.4 and LuaJIT,
# writes bench/results/ratelimit.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/intercom-bench-rl.XXXXXX")
redis_pid="" server_pid=""
cleanup() {
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
redis_pid=$!
python3 spec/support/test_server.py --port 0 >"$tmp/server.url" 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  [ -s "$tmp/server.url" ] && redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
base=$(head -n 1 "$tmp/server.url")
redis_url="redis://127.0.0.1:$port"
limit=40 procs=4 per=100
curl -s -X POST -d "{\"limit\": $limit, \"window\": 1}" "$base/__control/ratelimit" >/dev/null
curl -s -X POST -d '{"json": {"type": "contact", "id": "c1"}}' "$base/__control/default" >/dev/null

out=bench/results/ratelimit.md
{
  echo "Machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(redis-server --version | cut -d' ' -f1-3)."
  echo
  echo "| interpreter | budget step, local (µs/request) | budget step, Redis on loopback (µs/request) | 4 processes x 8 against $limit/s: seconds | budget share | 429s |"
  echo "|---|---|---|---|---|---|"
  for vm in "lua5.4 build/5.4" "luajit build/luajit"; do
    set -- $vm
    o=$(LUA_PATH='lua/?.lua;spec/?.lua;;' LUA_CPATH="$2/?.so;;" "$1" bench/ratelimit.lua overhead "$redis_url" 20000)
    s=$(LUA_PATH='lua/?.lua;spec/?.lua;;' LUA_CPATH="$2/?.so;;" "$1" bench/ratelimit.lua share "$base" "$redis_url" \
        "$procs" "$per" "$limit")
    read -r mem red <<<"$o"
    read -r secs share limited _ <<<"$s"
    echo "| $1 | $mem | $red | $secs (the budget allows $((procs * per / limit))) | $share | $limited |"
  done
} >"$out"
cat "$out"

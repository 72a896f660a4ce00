#!/usr/bin/env bash
# Runs examples/nginx.conf in the foreground (Ctrl-C stops it), from the repository root as nginx's
# prefix, with its pid file and error log in a temporary directory. Needs `make deps` and `make`.
#
#   INTERCOM_API_KEY=... INTERCOM_CLIENT_SECRET=... bash examples/run-nginx.sh
#   curl http://127.0.0.1:8080/api/contacts/<id>
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/intercom-nginx.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
user=""
[ "$(id -u)" -eq 0 ] && user="user root;"      # as root, the workers must be able to read the worktree
echo "nginx on http://127.0.0.1:8080 (error log: $tmp/error.log)"
nginx -p "$root" -c examples/nginx.conf -g "daemon off; pid $tmp/nginx.pid; error_log $tmp/error.log info; $user"

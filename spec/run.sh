#!/usr/bin/env bash
# The one test entry point (`make test` runs it after building).
#
#   bash spec/run.sh [busted args...]      e.g. bash spec/run.sh spec/core/http_core_spec.lua
#                                                bash spec/run.sh --tags=slow
#
# Starts spec/support/test_server.py on a random port, exports INTERCOM_TEST_SERVER, runs busted over spec/
# under Lua 5.4 and then LuaJIT (each against its own build of intercom.core), stops the server whatever
# happens, and ends with exactly one line "N passed, N failed" (errors count as failed, summed over both
# interpreters). Exits non-zero if anything failed or if no test ran.
#
# It also installs and starts Prism (the contract mock serving Intercom's own OpenAPI spec, see
# ../shared/contract/README.md), one mock per API version in INTERCOM_CONTRACT_VERSIONS (default "2.12 2.16";
# .ci/run asks for all five), each on a free port, and exports INTERCOM_PRISM_URL_<V> (dots as underscores:
# INTERCOM_PRISM_URL_2_16) for spec/e2e/contract_spec.lua, and INTERCOM_PRISM_URL for 2.12. Nothing is started
# when the only roots given are spec files other than contract_spec.lua. A URL already set in the environment
# means "use that Prism" for its version. If Prism cannot be installed or started, INTERCOM_PRISM_ERROR says
# why and the contract spec fails on it (it never skips).
#
# Hooks for `make check-memory` (tools/check-memory.sh): SPEC_WRAPPER goes before the interpreter (e.g.
# "valgrind --error-exitcode=99 ..."); SPEC_LUA54 and SPEC_LUAJIT replace "lua5.4 build/5.4" and
# "luajit build/luajit" (interpreter, then the directory of intercom/core.so); an empty one skips it.
set -u

cd "$(dirname "$0")/.." || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/intercom-spec.XXXXXX") || exit 1
server_pid=""
unset INTERCOM_PRISM_ERROR
prism_ports=()
prism_sh=../shared/contract/prism.sh
cleanup() {
    local p
    for p in "${prism_ports[@]}"; do
        INTERCOM_PRISM_RUN_DIR="$tmp" "$prism_sh" stop "$p" >/dev/null 2>&1
    done
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Start the real interpreter, not a wrapper such as a pyenv shim (which forks): $! must be the server
# itself, or stopping it would leave the server running.
python=$(python3 -c 'import sys; print(sys.executable)') || exit 1
"$python" spec/support/test_server.py --port 0 >"$tmp/server.url" 2>"$tmp/server.log" &
server_pid=$!

url=""
for _ in $(seq 1 100); do
    url=$(head -n 1 "$tmp/server.url" 2>/dev/null)
    [ -n "$url" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "spec/run.sh: the test server did not start:" >&2
    cat "$tmp/server.log" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
export INTERCOM_TEST_SERVER="$url"
echo "test server: $url"

# Roots given on the command line replace the default "spec"; options are passed through as they are.
roots=("spec")
for arg in "$@"; do
    if [ -e "$arg" ]; then roots=(); break; fi
done

# Prism is needed unless every root is a spec file other than the contract spec.
need_prism=0
if [ ${#roots[@]} -gt 0 ]; then need_prism=1; fi
for arg in "$@"; do
    if [ -d "$arg" ] || { [ -e "$arg" ] && [ "$(basename "$arg")" = contract_spec.lua ]; }; then need_prism=1; fi
done

# install_prism: installs Prism once (idempotent; npm, output kept in a log shown only on failure).
install_prism() {
    if ! ../shared/contract/install-prism.sh >"$tmp/prism-install.log" 2>&1; then
        cat "$tmp/prism-install.log" >&2
        export INTERCOM_PRISM_ERROR="installing Prism failed (../shared/contract/install-prism.sh, log above)"
        return 1
    fi
}

# start_prism V: starts the mock of version V on a free port (its pid file, log and spec copy in $tmp) and
# exports INTERCOM_PRISM_URL_<V> (and INTERCOM_PRISM_URL for 2.12).
start_prism() {
    local version=$1 var t1 port prism_url attempt
    var="INTERCOM_PRISM_URL_${version//./_}"
    t1=$(date +%s%N)
    # A port free a moment ago can be taken before Prism binds it: try a few.
    for attempt in 1 2 3; do
        port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        if prism_url=$(INTERCOM_PRISM_VERSION="$version" INTERCOM_PRISM_RUN_DIR="$tmp" "$prism_sh" start "$port" \
                2>"$tmp/prism-start.log"); then
            prism_ports+=("$port")
            export "$var=$prism_url"
            if [ "$version" = 2.12 ]; then export INTERCOM_PRISM_URL="$prism_url"; fi
            echo "prism $version: $prism_url (start $(( ($(date +%s%N) - t1) / 1000000 )) ms)"
            return 0
        fi
        grep -q "already in use" "$tmp/prism-start.log" || break
        echo "spec/run.sh: port $port was taken (attempt $attempt), trying another" >&2
    done
    cat "$tmp/prism-start.log" >&2
    export INTERCOM_PRISM_ERROR="${INTERCOM_PRISM_ERROR:+$INTERCOM_PRISM_ERROR; }starting Prism $version failed (../shared/contract/prism.sh start, log above)"
    return 1
}

if [ -n "${INTERCOM_PRISM_URL:-}" ] && [ -z "${INTERCOM_PRISM_URL_2_12:-}" ]; then
    export INTERCOM_PRISM_URL_2_12="$INTERCOM_PRISM_URL"
fi
export INTERCOM_CONTRACT_VERSIONS="${INTERCOM_CONTRACT_VERSIONS:-2.12 2.16}"
if [ "$need_prism" = 1 ]; then
    installed=""
    for version in $INTERCOM_CONTRACT_VERSIONS; do
        var="INTERCOM_PRISM_URL_${version//./_}"
        [ -n "${!var:-}" ] && continue
        if [ -z "$installed" ]; then
            t0=$(date +%s%N)
            install_prism || break
            installed=1
            echo "prism: install check $(( ($(date +%s%N) - t0) / 1000000 )) ms"
        fi
        start_prism "$version" || true
    done
    if [ -n "${INTERCOM_PRISM_ERROR:-}" ]; then
        echo "spec/run.sh: $INTERCOM_PRISM_ERROR: the contract specs will fail" >&2
    fi
fi

passed=0
failed=0

# run_busted LABEL LUA CPATH_DIR
run_busted() {
    local label=$1 lua=$2 cpath=$3 log="$tmp/busted-$1.log" rc
    shift 3
    echo
    echo "=== busted under $label ==="
    LUA_PATH='lua/?.lua;lua/?/init.lua;spec/?.lua;;' \
    LUA_CPATH="$cpath/?.so;;" \
    INTERCOM_SPEC_LUA="$lua" \
        ${SPEC_WRAPPER:-} "$lua" /usr/bin/busted --lang=en --pattern=_spec "$@" "${roots[@]}" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}

    # The terminal handlers end with "N successes / N failures / N errors / N pending : T seconds"
    # (singular forms for 1); TAP prints "ok N" / "not ok N". Colour codes are stripped first.
    local summary s f e
    summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" |
        grep -E '^[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' | tail -n 1)
    if [ -n "$summary" ]; then
        s=$(echo "$summary" | sed -E 's/^([0-9]+) success.*/\1/')
        f=$(echo "$summary" | sed -E 's/^[0-9]+ success(es)? \/ ([0-9]+) failure.*/\2/')
        e=$(echo "$summary" | sed -E 's/^.* \/ ([0-9]+) errors? \/ .*/\1/')
    elif grep -qE '^(not )?ok [0-9]+' "$log"; then
        s=$(grep -cE '^ok [0-9]+' "$log")
        f=$(grep -cE '^not ok [0-9]+' "$log")
        e=0
    else
        echo "spec/run.sh: no busted summary under $label (exit code $rc): counting the run as failed" >&2
        s=0 f=1 e=0
    fi
    if [ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ]; then
        echo "spec/run.sh: busted exited with $rc under $label although it reported no failure" >&2
        e=1
    fi
    passed=$((passed + s))
    failed=$((failed + f + e))
}

lua54=${SPEC_LUA54-lua5.4 build/5.4}
luajit=${SPEC_LUAJIT-luajit build/luajit}
# shellcheck disable=SC2086 # "interpreter cpath" is meant to split into two words
[ -n "$lua54" ] && run_busted "lua5.4" $lua54 "$@"
# shellcheck disable=SC2086
[ -n "$luajit" ] && run_busted "luajit" $luajit "$@"

echo
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
    exit 1
fi
exit 0

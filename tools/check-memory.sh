#!/usr/bin/env bash
# make check-memory: the whole spec suite, twice, looking for memory errors and leaks in the C core.
#
#  (a) valgrind memcheck: busted under lua5.4 and luajit (MEMCHECK_LUAJIT=0 leaves LuaJIT out: a LuaJIT
#      built without its system-allocator/valgrind options can be noisy under memcheck),
#      --leak-check=full, definite leaks and every error fatal; tools/valgrind.supp holds suppressions for
#      third-party code only.
#      Specs tagged #soak (long loads, a minute or more natively) are left out here: under memcheck they
#      would take most of CI's time, and (b) runs them.
#  (b) AddressSanitizer + UBSan: intercom/core.so built with -fsanitize=address,undefined into build/asan
#      (Lua 5.4) and build/asan-luajit (LuaJIT), hosted by tools/lua_host.c built with the same flags (why
#      not LD_PRELOAD: see that file); LeakSanitizer on, tools/lsan.supp for third-party code only.
#
# Prints how long each part took and exits non-zero if either found anything (or any spec failed).
set -u
cd "$(dirname "$0")/.." || exit 1

out=build/memcheck
rm -rf "$out" build/asan/reports
mkdir -p "$out" build/asan/reports
status=0

# ---- (a) valgrind -----------------------------------------------------------------------------------------
vg=(valgrind --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite
    --error-exitcode=99 --suppressions=tools/valgrind.supp --num-callers=30
    "--log-file=$out/valgrind.%p.log")
luajit_run="luajit build/luajit"
if [ "${MEMCHECK_LUAJIT:-1}" = 0 ]; then luajit_run=""; fi

echo "=== check-memory (a): the spec suite under valgrind memcheck ==="
t0=$(date +%s)
SPEC_WRAPPER="${vg[*]}" SPEC_LUAJIT="$luajit_run" bash spec/run.sh --exclude-tags=soak 2>&1 | tee "$out/specs.log" | tail -n 3
rc=${PIPESTATUS[0]}
t1=$(date +%s)
# Every log with a summary is a process valgrind followed to its end (a fork that exec'd something else
# leaves a log without one).
errors=0
lost=0
for log in "$out"/valgrind.*.log; do
    [ -e "$log" ] || continue
    e=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
    l=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -n 1 | tr -d ,)
    errors=$((errors + ${e:-0}))
    lost=$((lost + ${l:-0}))
    if [ "${e:-0}" != 0 ] || [ "${l:-0}" != 0 ]; then echo "valgrind: see $log"; fi
done
echo "valgrind: $((t1 - t0)) s, errors: $errors, definitely lost: $lost bytes, specs exit code: $rc"
if [ "$rc" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$lost" -ne 0 ]; then status=1; fi

# ---- (b) AddressSanitizer + UBSan -------------------------------------------------------------------------
echo
echo "=== check-memory (b): the spec suite with the C core built with ASan + UBSan ==="
make --no-print-directory asan || exit 1
t0=$(date +%s)
ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$PWD/build/asan/reports/asan" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$PWD/build/asan/reports/ubsan" \
LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp:print_suppressions=0" \
SPEC_LUA54="build/asan/lua build/asan" SPEC_LUAJIT="build/asan-luajit/luajit build/asan-luajit" \
    bash spec/run.sh 2>&1 | tee "$out/asan-specs.log" | tail -n 3
rc=${PIPESTATUS[0]}
t1=$(date +%s)
reports=$(find build/asan/reports -type f | wc -l)
for r in build/asan/reports/*; do
    [ -e "$r" ] || continue
    echo "sanitizer report $r:"
    head -n 40 "$r"
done
echo "asan+ubsan: $((t1 - t0)) s, reports: $reports, specs exit code: $rc"
if [ "$rc" -ne 0 ] || [ "$reports" -ne 0 ]; then status=1; fi

echo
if [ "$status" -eq 0 ]; then echo "check-memory: clean"; else echo "check-memory: FAILED"; fi
exit "$status"

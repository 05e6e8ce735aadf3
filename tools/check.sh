#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs every vnmon test: builds out of tree with -Werror, then runs the unit
# tests (make check) and, as root, the system tests on real OVS, Redis and
# network namespaces (make check-system).
#
#   tools/check.sh               both flavours, plain then sanitized
#   tools/check.sh --plain       gcc, -Werror
#   tools/check.sh --sanitize    clang, -Werror, AddressSanitizer and
#                                UndefinedBehaviorSanitizer (any report fails)
#
# Build trees: _build/plain and _build/asan.  Needs the Debian packages of
# tools/install-deps.sh.  Ends with "all: N passed, N failed".
set -euo pipefail

top=$(cd -- "$(dirname -- "$0")/.." && pwd)
flavours=()
for arg in "$@"; do
    case $arg in
    --plain) flavours+=(plain) ;;
    --sanitize) flavours+=(asan) ;;
    -h|--help) sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done
[ ${#flavours[@]} -gt 0 ] || flavours=(plain asan)

[ "$(id -u)" = 0 ] || { echo "check.sh: the system tests need root" >&2; exit 2; }
if [ -f "$top/config.status" ]; then
    echo "check.sh: $top is configured in place; run 'make distclean' there" \
        "first (the tests build out of tree, in _build/)" >&2
    exit 2
fi

total_pass=0
total_fail=0

# count WORD LOG: the "# WORD: N" of automake's test summary, or 0.
count()
{
    local n
    n=$(sed -n "s/^# $1: *//p" "$2" | tail -n 1)
    echo "${n:-0}"
}
jobs=$(nproc)

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
    autoreconf -fi
fi

echo "=== static analysis: cppcheck, house-style lints"
if cppcheck -q --error-exitcode=1 --enable=warning,portability \
        --suppress=missingIncludeSystem -I include -I . \
        lib analyzer alerting collector ovs-ext tools/*.c tests/plugins \
    && tools/lint.sh; then
    echo "PASS: static analysis"
    total_pass=$((total_pass + 1))
else
    echo "FAIL: static analysis"
    total_fail=$((total_fail + 1))
fi

for flavour in "${flavours[@]}"; do
    build=$top/_build/$flavour
    mkdir -p "$build"
    case $flavour in
    plain) conf=(CC=gcc --enable-Werror) ;;
    asan) conf=(CC=clang --enable-Werror --enable-sanitizers) ;;
    esac
    echo "=== $flavour: configure ${conf[*]}"
    (cd "$build" && "$top/configure" --quiet "${conf[@]}")
    echo "=== $flavour: build"
    make -C "$build" -j"$jobs" >"$build/build.log" 2>&1 \
        || { tail -n 50 "$build/build.log"; exit 1; }

    reports=$build/sanitizer-reports
    rm -rf "$reports"
    mkdir -p "$reports"
    if [ "$flavour" = asan ]; then
        # Reports go to files: detached daemons have no stderr.
        export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0:strict_string_checks=1"
        export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
    fi

    echo "=== $flavour: unit tests (make check)"
    rc=0
    make -C "$build" -j"$jobs" check >"$build/check.log" 2>&1 || rc=$?
    grep -E '^(PASS|FAIL|ERROR|XFAIL|XPASS|SKIP):' "$build/check.log" || true
    p=$(count PASS "$build/check.log")
    # A skipped test is a failure here: CI runs as root on a full machine.
    f=$(( $(count FAIL "$build/check.log") + $(count ERROR "$build/check.log") \
        + $(count SKIP "$build/check.log") + $(count XPASS "$build/check.log") ))
    if [ "$rc" != 0 ]; then
        [ "$f" -gt 0 ] || f=1
        cat "$build/test-suite.log" 2>/dev/null | tail -n 80 || tail -n 50 "$build/check.log"
    fi
    total_pass=$((total_pass + ${p:-0}))
    total_fail=$((total_fail + f))

    echo "=== $flavour: system tests (make check-system)"
    rc=0
    # The benign-traffic test runs its full 10 minutes once, in the plain
    # flavour; the sanitized one runs 2 minutes of the same traffic.
    if [ "$flavour" = asan ]; then
        export VNM_BENIGN_SECONDS=${VNM_BENIGN_SECONDS_ASAN:-120}
    else
        export VNM_BENIGN_SECONDS=${VNM_BENIGN_SECONDS_PLAIN:-600}
    fi
    make -C "$build" check-system 2>&1 | tee "$build/check-system.log" || rc=$?
    p=$(sed -n 's/^system tests: \([0-9]*\) passed.*/\1/p' "$build/check-system.log" | tail -n 1)
    f=$(sed -n 's/^system tests: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "$build/check-system.log" | tail -n 1)
    [ "$rc" = 0 ] || [ "${f:-0}" -gt 0 ] || f=1
    total_pass=$((total_pass + ${p:-0}))
    total_fail=$((total_fail + ${f:-0}))

    if [ "$flavour" = asan ] && [ -d "$top/../shared/pcaps" ]; then
        # The offline pipeline over every reference capture, sanitized: no
        # crash, no report, and nDPI labels as ndpiReader's on >= 99%.
        echo "=== $flavour: offline mode over ../shared/pcaps"
        if /usr/bin/python3 "$top/tests/bench/ndpi-compare.py" --labels-only \
                --min-agree 99 --max-disagreements 40 \
                --agent "$build/collector/vnmon-agent" \
                --pcaps "$top/../shared/pcaps" --out "$build/tests/bench" \
                >"$build/offline-pcaps.log" 2>&1; then
            echo "PASS: offline-pcaps ($(tail -n 1 "$build/offline-pcaps.log"))"
            total_pass=$((total_pass + 1))
        else
            echo "FAIL: offline-pcaps"
            tail -n 60 "$build/offline-pcaps.log"
            total_fail=$((total_fail + 1))
        fi

        # Each fuzz target for a short while (libFuzzer, always clang).
        echo "=== fuzz: each target for ${FUZZ_TIME:-60} s"
        # libFuzzer prints its own reports (and symbolizes new functions):
        # they go to fuzz.log, and a finding fails the target's run.
        if env -u ASAN_OPTIONS -u UBSAN_OPTIONS \
                make -C "$build" fuzz FUZZ_TIME="${FUZZ_TIME:-60}" \
                >"$build/fuzz.log" 2>&1; then
            grep -E '^(===|stat::number_of_executed_units|.*: done in)' \
                "$build/fuzz.log" || true
            echo "PASS: fuzz"
            total_pass=$((total_pass + 1))
        else
            echo "FAIL: fuzz"
            tail -n 60 "$build/fuzz.log"
            total_fail=$((total_fail + 1))
        fi
    fi

    if [ -n "$(ls -A "$reports")" ]; then
        echo "=== $flavour: sanitizer reports:"
        for r in "$reports"/*; do
            echo "--- $r"
            head -n 60 "$r"
        done
        total_fail=$((total_fail + 1))
    fi
    unset ASAN_OPTIONS UBSAN_OPTIONS
done

echo
echo "all: $total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]

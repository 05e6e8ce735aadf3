#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs system tests (root): each tests/system/test-*.sh named on the command
# line, one at a time, its output kept in $VNM_BUILDDIR/tests/system/logs/.
# Prints one line per test and ends with "N passed, N failed".
# TESTS="a b" limits the run to those test names.
set -u

srcdir=$(cd -- "$(dirname -- "$0")/../.." && pwd)
builddir=${VNM_BUILDDIR:-$srcdir}
logdir=$builddir/tests/system/logs
mkdir -p "$logdir"

export VNM_TOP=$srcdir VNM_BUILDDIR=$builddir
export VNM_PLUGIN_DIR=${VNM_PLUGIN_DIR:-$builddir/plugins}
export PATH=$builddir/collector:$builddir/analyzer:$builddir/tools:$PATH

passed=0 failed=0 failed_names=
for t in "$@"; do
    name=$(basename "$t" .sh)
    if [ -n "${TESTS:-}" ] && ! [[ " $TESTS " == *" $name "* ]]; then
        continue
    fi
    start=${EPOCHREALTIME/[.,]/}
    # A test may ask for more than the default 600 s with a line
    # "# vnm-timeout: SECONDS" (test-benign runs 10 minutes of traffic).
    limit=$(sed -n 's/^# vnm-timeout: *\([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)
    if timeout -k 10 "${limit:-600}" bash "$t" >"$logdir/$name.log" 2>&1; then
        rc=0
    else
        rc=$?
    fi
    us=$(( ${EPOCHREALTIME/[.,]/} - start ))
    secs=$((us / 1000000)).$((us / 100000 % 10))
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1))
        echo "PASS: $name (${secs}s)"
    else
        failed=$((failed + 1))
        failed_names="$failed_names $name"
        echo "FAIL: $name (exit $rc, ${secs}s); last lines of $logdir/$name.log:"
        tail -n 40 "$logdir/$name.log" | sed 's/^/    | /'
    fi
done
echo
echo "system tests: $passed passed, $failed failed"
[ "$failed" = 0 ] || { echo "failed:$failed_names"; exit 1; }

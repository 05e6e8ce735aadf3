#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# House-style lints (STYLE.md), run by `make` in a git tree: <config.h>
# first, no <assert.h> outside tests, no banned calls, rate limiters static,
# no tabs in C files, SPDX line on every source file.
set -u
cd "$(dirname "$0")/.." || exit 2
[ -d .git ] || exit 0
status=0
bad() { echo "lint: $*" >&2; status=1; }

mapfile -t c_files < <(git ls-files -co --exclude-standard '*.c' '*.h' | grep -v '^_build/')
for f in "${c_files[@]}"; do
    [ -f "$f" ] || continue
    head -n 2 "$f" | grep -q 'SPDX-License-Identifier' || bad "$f: no SPDX line"
    if grep -qP '\t' "$f"; then bad "$f: contains tabs"; fi
    case $f in
    *.c)
        first=$(grep -m1 '^#include' "$f")
        [ "$first" = '#include <config.h>' ] \
            || bad "$f: first #include must be <config.h> (is: $first)"
        ;;
    esac
    case $f in
    tests/*) ;;
    *) if grep -q '#include <assert.h>' "$f"; then
           bad "$f: <assert.h> outside tests (use vnm_assert())"
       fi ;;
    esac
    if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|strncpy|gets|system|rand)[[:space:]]*\(' "$f" \
        | grep -vE '^[0-9]+:\s*(/\*|\*)' | grep -q .; then
        grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|strncpy|gets|system|rand)[[:space:]]*\(' "$f" \
            | grep -vE '^[0-9]+:\s*(/\*|\*)' | sed "s|^|lint: $f: banned call: |" >&2
        status=1
    fi
    if grep -nE '^\s+struct vnm_rate_limit [a-z_]+ = VNM_RATE_LIMIT_INIT' "$f" \
        | grep -v static | grep -q .; then
        bad "$f: rate limiters must be static"
    fi
done
exit $status

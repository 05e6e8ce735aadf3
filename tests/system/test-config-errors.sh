#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Bad configuration is refused at startup with "FILE:LINE: KEY: reason" and
# a non-zero exit status; bad plugins with a line naming the file.  Runs the
# real binaries; needs no lab.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

dir=$(mktemp -d /tmp/vnm-conf-XXXXXX)
trap 'rm -rf "$dir"' EXIT

# expect_error DAEMON TEXT CONFIG: DAEMON --check-config exits 1 and prints
# exactly "vnmon-DAEMON: TEXT" (TEXT may use @F for the file name).
n=0
expect_error()
{
    local daemon=$1 want=$2 conf=$3 out rc=0 f
    n=$((n + 1))
    f=$dir/c$n.conf
    printf '%s\n' "$conf" >"$f"
    want=vnmon-$daemon:\ ${want//@F/$f}
    out=$("$BUILDDIR/${daemon/agent/collector}/vnmon-$daemon" -c "$f" \
          --check-config 2>&1) || rc=$?
    [ "$rc" = 1 ] || fail "$f: exit status $rc, want 1 (output: $out)"
    [ "$out" = "$want" ] || fail "$f: got '$out', want '$want'"
    pass "refused: $out"
}

expect_error agent '@F:3: bogus: unknown key in [agent]' \
'[agent]
host_id = hv1
bogus = 1'
expect_error agent '@F:2: heartbeat: "fast" is not a duration (e.g. 500ms, 10s, 5m, 2h, 7d)' \
'[agent]
heartbeat = fast'
expect_error agent '@F:2: heartbeat: 10ms is out of range [100ms, 60000ms]' \
'[agent]
heartbeat = 10ms'
expect_error analyzer '@F:2: max_incidents: "lots" is not an integer' \
'[analyzer]
max_incidents = lots'
expect_error analyzer '@F:3: address: "nowhere" is not a Redis address (unix:PATH, tcp:HOST:PORT or HOST:PORT)' \
'[analyzer]
[redis]
address = nowhere'
expect_error agent '@F:1: [detector "scan"]: unknown section' \
'[detector "scan"]
window = 1s'
expect_error analyzer '@F:3: window: duplicate key (first on line 2)' \
'[detector "scan"]
window = 1s
window = 2s'
expect_error analyzer '@F:2: reconnect_max: "soon" is not a duration (e.g. 500ms, 10s, 5m, 2h, 7d)' \
'[redis]
reconnect_max = soon'
expect_error analyzer "$PLUGIN_DIR/detect-scan.so: @F:4: colour: unknown key in [detector \"scan\"]" \
"[analyzer]
plugin_dir = $PLUGIN_DIR
[detector \"scan\"]
colour = blue"
expect_error analyzer "$PLUGIN_DIR/detect-nosuch.so: cannot load ($PLUGIN_DIR/detect-nosuch.so: cannot open shared object file: No such file or directory)" \
"[analyzer]
plugin_dir = $PLUGIN_DIR
[detector \"nosuch\"]"

# The good configuration passes.
printf '[analyzer]\nplugin_dir = %s\n[detector "scan"]\n[sink "jsonl"]\npath = %s/a.jsonl\n' \
    "$PLUGIN_DIR" "$dir" >"$dir/good.conf"
check -m "a good configuration passes --check-config" \
    "$ANALYZER" -c "$dir/good.conf" --check-config

# A missing file.
out=$("$AGENT" -c "$dir/absent.conf" 2>&1) && fail "started without config"
check -m "missing file: $out" grep -q "absent.conf: cannot open configuration" \
    <<<"$out"

# Bad command-line input.
rc=0; "$AGENT" --no-such-option >/dev/null 2>&1 || rc=$?
check -m "unknown option exits 2" test "$rc" = 2
rc=0; "$VNMONCTL" --redis nowhere status >/dev/null 2>&1 || rc=$?
check -m "vnmonctl with a bad Redis address exits 2" test "$rc" = 2
rc=0; "$VNMONCTL" --redis "unix:$dir/none.sock" status >/dev/null 2>&1 || rc=$?
check -m "vnmonctl with Redis absent exits 2" test "$rc" = 2
check -m "--version" sh -c "'$AGENT' --version | grep -q 'plugin ABI 1.1'"
check -m "--help" sh -c "'$ANALYZER' --help | grep -q -- --config"
check -m "vnmonctl --help" sh -c "'$VNMONCTL' --help | grep -q status"

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The netdev tap (ovs-ext/tap-netdev.c, DESIGN.md section 3), with
# tests/system/tap-driver running it with 2 worker threads in the lab's OVS
# namespace, on a lab whose VMs t1vm1 and t1vm2 are access ports of VLAN 101:
#   - a ping t1vm1 -> t1vm2: echo requests attributed to t1vm1's port,
#     replies to t1vm2's, each exactly once (ingress only);
#   - a frame sent from t1vm1 with t1vm2's MAC and IP: attributed to t1vm1;
#   - an 802.1Q-tagged and an 802.1ad+802.1Q frame from t1vm1: seen with
#     their full tag stack (the kernel strips the outer tag; the tap puts it
#     back), although OVS drops them;
#   - ports followed as they come and go (SIGHUP re-reads them): a port
#     removed from the bridge is no longer captured, one added is;
#   - counters per port, no ring drops, no frame of an unknown port.
#
# The first part of this file is also the helper library of
# test-tap-flow.sh, which sources it with TAP_LIB_ONLY=1:
#
#   tap_start MODE [ARGS...]   start the driver (MODE netdev or flow) with 2
#                              workers; wait for its "ready" line
#   tap_stop                   SIGTERM; wait; fail unless it exited 0
#   tap_mark                   remember the end of its output ...
#   tap_seen ERE               ... and look for a line since the mark
#   tap_count ERE              count such lines
#   tap_stats, tap_stat KEY    SIGUSR1: its "stat" lines, or one value
#   tap_send VM KIND           a crafted frame from VM (scapy): spoof,
#                              dot1q, qinq, or a marker IP address
#   tap_attribution_scenarios  the scenarios shared by both taps
#   check_sanitizer_logs       fail if ASan/UBSan wrote a report
#
# Under a sanitized build, reports go to $VNM_LAB_DIR/sanitizer.* (checked
# by check_sanitizer_logs), unless ASAN_OPTIONS/UBSAN_OPTIONS say otherwise.

. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

TAP_BUILDDIR=${VNM_BUILDDIR:-$VNM_TOP}
TAP_DRIVER=$TAP_BUILDDIR/tests/system/tap-driver
if [ ! -x "$TAP_DRIVER" ]; then
    make -C "$TAP_BUILDDIR" tests/system/tap-driver >/dev/null \
        || fail "cannot build $TAP_DRIVER"
fi
TAP_OUT=
TAP_PID=
TAP_MARK=0

tap_start()
{
    local mode=$1
    shift
    TAP_OUT=$VNM_LAB_DIR/tap-$mode.out
    : >"$TAP_OUT"
    export ASAN_OPTIONS=${ASAN_OPTIONS:-log_path=$VNM_LAB_DIR/sanitizer}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-log_path=$VNM_LAB_DIR/sanitizer}
    # "ip netns exec" execs the driver: $! is the driver.
    ip netns exec "$VNM_LAB_NETNS" "$TAP_DRIVER" --mode="$mode" \
        --bridge=br0 --db="$VNM_OVSDB_SOCK" --rundir="$OVS_RUNDIR" \
        --out="$TAP_OUT" --log="$VNM_LAB_DIR/log/tap-driver.log" \
        --workers=2 "$@" &
    TAP_PID=$!
    register_pid "$TAP_PID"
    wait_for 15 _tap_ready_or_dead || true
    kill -0 "$TAP_PID" 2>/dev/null || fail "tap-driver ($mode) died"
    grep -qx ready "$TAP_OUT" || fail "tap-driver ($mode) not ready in 15 s"
    TAP_MARK=0
}

_tap_ready_or_dead()
{
    grep -qx ready "$TAP_OUT" || ! kill -0 "$TAP_PID" 2>/dev/null
}

tap_stop()
{
    local rc=0
    kill -TERM "$TAP_PID"
    wait "$TAP_PID" || rc=$?
    TAP_PID=
    [ "$rc" = 0 ] || fail "tap-driver exited with status $rc"
    grep -qx exit "$TAP_OUT" || fail "tap-driver did not finish"
}

tap_mark()
{
    TAP_MARK=$(wc -l <"$TAP_OUT")
}

tap_since()
{
    tail -n +"$((TAP_MARK + 1))" "$TAP_OUT"
}

tap_seen()
{
    tap_since | grep -Eq -- "$1"
}

tap_count()
{
    tap_since | grep -Ec -- "$1" || true
}

# Prints the "stat" lines the driver writes on SIGUSR1.
tap_stats()
{
    local n
    n=$(wc -l <"$TAP_OUT")
    kill -USR1 "$TAP_PID"
    wait_for 5 eval "tail -n +$((n + 1)) '$TAP_OUT' | grep -q '^stat tap '" \
        || fail "tap-driver wrote no stats"
    tail -n +"$((n + 1))" "$TAP_OUT" | grep '^stat '
}

# tap_stat KEY: KEY's value in the driver's "stat tap"/"stat flow" lines.
tap_stat()
{
    tap_stats | tr ' ' '\n' | sed -n "s/^$1=//p" | tail -n 1
}

tap_ports_are()
{
    [ "$(tap_stat ports)" = "$1" ]
}

_TAP_SCAPY='
import sys
from scapy.all import Ether, Dot1Q, IP, ICMP, Raw, sendp, conf
conf.verb = 0
kind, src_vm = sys.argv[1], sys.argv[2]
macs = {"t1vm1": "02:00:00:00:01:01", "t1vm2": "02:00:00:00:01:02"}
ips = {"t1vm1": "10.0.0.11", "t1vm2": "10.0.0.12"}
host = "02:00:00:00:00:01"
me = macs[src_vm]
if kind == "spoof":      # t1vm1 sends as t1vm2 (MAC and IP).
    p = (Ether(src=macs["t1vm2"], dst=host)
         / IP(src=ips["t1vm2"], dst="10.0.0.201") / ICMP(id=201))
elif kind == "dot1q":    # One 802.1Q tag from an access port.
    p = (Ether(src=me, dst=macs["t1vm2"]) / Dot1Q(vlan=7)
         / IP(src=ips[src_vm], dst="10.0.0.202") / ICMP(id=202))
elif kind == "qinq":     # 802.1ad + 802.1Q.
    p = (Ether(src=me, dst=macs["t1vm2"], type=0x88a8)
         / Dot1Q(vlan=8, type=0x8100) / Dot1Q(vlan=9)
         / IP(src=ips[src_vm], dst="10.0.0.203") / ICMP(id=203))
else:                    # A marker: an IP address.
    p = (Ether(src=me, dst=host) / IP(src=ips[src_vm], dst=kind)
         / ICMP(id=204) / Raw(b"vnmon marker"))
sendp(p, iface="eth0")
'

tap_send()
{
    vm_exec "$1" "$PYTHON" -c "$_TAP_SCAPY" "$2" "$1"
}

check_sanitizer_logs()
{
    local f found=no
    for f in "$VNM_LAB_DIR"/sanitizer*; do
        [ -e "$f" ] || continue
        echo "sanitizer report $f:" >&2
        sed 's/^/    | /' "$f" >&2
        found=yes
    done
    [ "$found" = no ] || fail "sanitizer reports"
    pass "no sanitizer report"
}

# Attribution scenarios shared by both taps (lab with --vlan: t1vm1 and
# t1vm2 are access ports of VLAN 101).
tap_attribution_scenarios()
{
    local what=$1
    local vm1=02:00:00:00:01:01 vm2=02:00:00:00:01:02 host=02:00:00:00:00:01
    local req='ip=10.0.0.11>10.0.0.12 proto=1 icmp=8 '
    local rep='ip=10.0.0.12>10.0.0.11 proto=1 icmp=0 '

    tap_mark
    check -m "$what: t1vm1 pings t1vm2" vm_ping t1vm1 10.0.0.12 2
    wait_for 5 tap_seen \
        "port=t1vm1 .* src=$vm1 dst=$vm2 type=0x0800 $req.* seq=2\$" \
        || fail "$what: no echo request on t1vm1's port"
    wait_for 5 tap_seen \
        "port=t1vm2 .* src=$vm2 dst=$vm1 type=0x0800 $rep.* seq=2\$" \
        || fail "$what: no echo reply on t1vm2's port"
    check -m "$what: echo requests attributed to t1vm1, each once" \
        test "$(tap_count "port=t1vm1 .* $req")" = 2
    check -m "$what: echo replies attributed to t1vm2, each once" \
        test "$(tap_count "port=t1vm2 .* $rep")" = 2
    check -m "$what: nothing attributed to a wrong port" \
        test "$(tap_count "port=t1vm2 .* $req")/$(
            tap_count "port=t1vm1 .* $rep")" = 0/0

    tap_mark
    tap_send t1vm1 spoof
    wait_for 5 tap_seen "port=t1vm1 .* tags=- src=$vm2 dst=$host \
type=0x0800 ip=10.0.0.12>10.0.0.201 proto=1 icmp=8 id=201" \
        || fail "$what: forged frame not seen"
    check -m "$what: frame with t1vm2's MAC and IP attributed to t1vm1" \
        test "$(tap_count 'ip=10.0.0.12>10.0.0.201')" = 1
    # t1vm2 talks again, so that OVS learns its MAC back on its own port.
    vm_ping t1vm2 10.0.0.1 1 >/dev/null || true

    tap_mark
    tap_send t1vm1 dot1q
    tap_send t1vm1 qinq
    wait_for 5 tap_seen "port=t1vm1 .* tags=8100:7 src=$vm1 dst=$vm2 \
type=0x0800 ip=10.0.0.11>10.0.0.202 " \
        || fail "$what: 802.1Q-tagged frame not seen with its tag"
    pass "$what: 802.1Q frame from access port t1vm1 seen with its tag"
    wait_for 5 tap_seen "port=t1vm1 .* tags=88a8:8,8100:9 src=$vm1 \
dst=$vm2 type=0x0800 ip=10.0.0.11>10.0.0.203 " \
        || fail "$what: double-tagged frame not seen with its tag stack"
    pass "$what: 802.1ad+802.1Q frame from t1vm1 seen with both tags"
    check -m "$what: OVS dropped them (t1vm1: access port, VLAN 101)" \
        grep -q "dropping VLAN 7 tagged packet received on port t1vm1 \
configured as VLAN 101 access port" "$OVS_LOGDIR/ovs-vswitchd.log"
}

# OVS's rate-limited warning for tagged frames on an access port, expected
# after tap_attribution_scenarios.
ALLOWED_LOG_RE+=(
    "[|]ofproto_dpif_xlate[|]WARN[|]dropping VLAN (7|8) tagged packet \
received on port t1vm1 configured as VLAN 101 access port on bridge br0 "
)

[ "${TAP_LIB_ONLY:-0}" = 1 ] && return 0

# ------------------------------------------------------------- the test

lab_up --tenants 1 --vms 2 --vlan
tap_start netdev

tap_attribution_scenarios "netdev tap"

# --- Ports come and go.
check -m "driver follows 2 ports" test "$(tap_stat ports)" = 2
ovs_vsctl del-port br0 t1vm2
kill -HUP "$TAP_PID"
wait_for 5 tap_ports_are 1 \
    || fail "port set not updated after t1vm2 left the bridge"
tap_mark
tap_send t1vm2 10.0.0.204
tap_send t1vm1 10.0.0.205
wait_for 5 tap_seen 'port=t1vm1 .* ip=10.0.0.11>10.0.0.205 ' \
    || fail "t1vm1's frame not seen"
check -m "a port removed from the bridge is no longer captured" \
    test "$(tap_count 'ip=10.0.0.12>10.0.0.204')" = 0
ovs_vsctl add-port br0 t1vm2 tag=101
kill -HUP "$TAP_PID"
wait_for 5 tap_ports_are 2 \
    || fail "port set not updated after t1vm2 came back"
tap_mark
tap_send t1vm2 10.0.0.206
wait_for 5 tap_seen 'port=t1vm2 .* ip=10.0.0.12>10.0.0.206 ' \
    || fail "t1vm2's frame not seen after it came back"
pass "a port added to the bridge is captured"

# --- Counters.
stats=$(tap_stats)
printf '%s\n' "$stats" | sed 's/^/    /'
t1vm1_packets=$(printf '%s\n' "$stats" \
    | sed -n 's/^stat port=t1vm1 .* packets=\([0-9]*\) .*/\1/p')
check -m "t1vm1 counted ($t1vm1_packets packets)" \
    test "${t1vm1_packets:-0}" -ge 6
check -m "no ring drops" test "$(tap_stat ring_drops)" = 0
check -m "no frame of an unknown port" test "$(tap_stat unknown)" = 0

tap_stop
check_sanitizer_logs
lab_down
echo "PASS: $TEST_NAME"

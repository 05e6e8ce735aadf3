#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The OVS flow tap (ovs-ext/tap-flow.c, DESIGN.md section 3), with
# tests/system/tap-driver running it with 2 worker threads in the lab's OVS
# namespace, beside an operator's two-table pipeline (table 0 resubmits the
# VM ports, and ARP at priority 65100, to table 5, which forwards ICMP and
# ARP with NORMAL):
#   - forwarding unchanged while the tap runs: ping works, and ofproto/trace
#     takes the same rules once the tap's own rule is set aside;
#   - the monitor port: internal, VLAN 4095 access port, no-flood, up, IPv6
#     off; it never receives flooded frames, and what it emits is dropped;
#   - attribution: ping, a forged frame, 802.1Q and 802.1ad+802.1Q frames
#     from an access port (as for the netdev tap);
#   - ports followed: a port leaves the bridge, its rule goes; it comes back,
#     its rule too;
#   - `ovs-ofctl del-flows cookie=C/-1`: rules back within 5 s, frames flow;
#   - ovs-vswitchd restarted (ovs-appctl exit, then started as vnmon-lab
#     does): rules and port configuration back within 5 s, frames flow;
#   - the monitor port deleted by someone: back within 5 s, frames flow;
#   - stopped: `ovs-ofctl dump-flows` equals the table before start, and the
#     monitor port is gone.

TAP_LIB_ONLY=1 . "$(dirname -- "$0")/test-tap-netdev.sh"

COOKIE=0x766e6d6f6e000000
MGMT=                   # The bridge's management socket, once the lab is up.

# Expected while ovs-vswitchd restarts: OVS's own complaint when it starts
# (no kernel datapath here), and the driver's outage warning while the
# bridge's management socket is gone.
ALLOWED_LOG_RE+=(
    '[|]dpif[|]WARN[|]failed to enumerate system datapaths: '\
'No such file or directory$'
    '[|]tap-driver[|]WARN[|]tap_flow[|]bridge br0: flow tap: ovs-ofctl '\
'[a-z-]+ failed: ovs-ofctl: ([^ ]*br0\.mgmt: failed to connect to socket|'\
'connecting to unix:[^ ]*br0\.mgmt) '\
'\((Connection refused|No such file or directory)\)$'
)

ofctl()
{
    local cmd=$1
    shift
    ovs_sh ovs-ofctl -O OpenFlow13 "$cmd" "$MGMT" "$@"
}

dump_table()
{
    ofctl dump-flows --no-stats --no-names | sort
}

n_tap_rules()
{
    ofctl dump-flows --no-stats --no-names "cookie=$COOKIE/-1" \
        | grep -c "cookie=$COOKIE" || true
}

tap_rules_are()
{
    [ "$(n_tap_rules)" = "$1" ]
}

vswitchd_ctl()
{
    echo "$OVS_RUNDIR/ovs-vswitchd.$(cat "$OVS_RUNDIR/ovs-vswitchd.pid").ctl"
}

# The rules a frame from t1vm1 to t1vm2 meets, without the tap's block
# (its rule and the actions under it) and the lines that the tap changes
# by design (final flow with the register bit, megaflow, datapath actions).
TRACE_FLOW=in_port=t1vm1,icmp,dl_src=02:00:00:00:01:01
TRACE_FLOW=$TRACE_FLOW,dl_dst=02:00:00:00:01:02,nw_src=10.0.0.11
TRACE_FLOW=$TRACE_FLOW,nw_dst=10.0.0.12

trace_path()
{
    ovs_sh ovs-appctl -t "$(vswitchd_ctl)" ofproto/trace br0 "$TRACE_FLOW" \
        | awk -v c="cookie $COOKIE" '
            index($0, c) { skip = 1; next }
            skip && /^ *resubmit\(,0\)$/ { skip = 0; next }
            skip { next }
            /^(Flow|Final flow|Megaflow|Datapath actions):/ { next }
            { print }'
}

datapath_actions()
{
    ovs_sh ovs-appctl -t "$(vswitchd_ctl)" ofproto/trace br0 "$TRACE_FLOW" \
        | sed -n 's/^Datapath actions: //p'
}

monitor_port()
{
    ovs_vsctl --bare --columns=name find interface \
        external_ids:vnmon-monitor=true
}

monitor_in_place()
{
    local mon=$1
    [ "$(n_tap_rules)" = 3 ] \
        && ovs_sh ovs-ofctl show "$MGMT" | grep -A1 "($mon):" \
            | grep -q NO_FLOOD \
        && ip -n "$VNM_LAB_NETNS" link show "$mon" | grep -q '[<,]UP[,>]'
}

# Milliseconds since $1 (microseconds from $EPOCHREALTIME).
ms_since()
{
    echo $(( (${EPOCHREALTIME/[.,]/} - $1) / 1000 ))
}

# Packets that met the tap's drop rule (in_port = the monitor port).
drop_count()
{
    ofctl dump-flows --no-names "cookie=$COOKIE/-1,in_port=$mon_ofport" \
        | sed -n 's/.*n_packets=\([0-9]*\),.*/\1/p'
}

# True if process $1 has exited (a zombie counts: pid 1 reaps it late).
pid_gone()
{
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
    [ -z "$st" ] || [ "$st" = Z ]
}

monitor_recreated()
{
    [ "$(tap_stat recreated)" -ge 1 ] && monitor_in_place "$1" \
        && [ "$(tap_stat in_sync)" = 1 ]
}

operator_pipeline()
{
    ovs_sh ovs-ofctl add-flows "$MGMT" - <<'EOF'
table=0,priority=65100,arp actions=resubmit(,5)
table=0,priority=100,in_port=t1vm1 actions=resubmit(,5)
table=0,priority=100,in_port=t1vm2 actions=resubmit(,5)
table=5,priority=20,icmp actions=NORMAL
table=5,priority=10,arp actions=NORMAL
table=5,priority=0 actions=drop
EOF
}

# ------------------------------------------------------------- the test

lab_up --tenants 1 --vms 2 --vlan
MGMT=unix:$OVS_RUNDIR/br0.mgmt

operator_pipeline
check -m "ping through the operator's pipeline" vm_ping t1vm1 10.0.0.12 2
before=$(dump_table)
check -m "the operator's table has 7 rules" \
    test "$(printf '%s\n' "$before" | wc -l)" = 7
trace_before=$(trace_path)
actions_before=$(datapath_actions)
check -m "ofproto/trace reaches the operator's table 5 ($actions_before)" \
    grep -q '^ 5\. icmp, priority 20' <<<"$trace_before"

tap_start flow
mon=$(monitor_port)
check -m "monitor port $mon exists" test -n "$mon"
check -m "monitor port name <= 15 characters" test "${#mon}" -le 15
check -m "3 tap rules with cookie $COOKIE" test "$(n_tap_rules)" = 3
check -m "monitor port: internal" \
    test "$(ovs_vsctl get interface "$mon" type)" = internal
check -m "monitor port: access port of VLAN 4095" \
    test "$(ovs_vsctl get port "$mon" tag)" = 4095
check -m "monitor port: no-flood, up" monitor_in_place "$mon"
check -m "monitor port: IPv6 disabled" \
    test "$(ip netns exec "$VNM_LAB_NETNS" \
        cat "/proc/sys/net/ipv6/conf/$mon/disable_ipv6")" = 1
mon_ofport=$(ovs_vsctl get interface "$mon" ofport)
check -m "drop rule for what the monitor port emits" \
    grep -q "priority=65535,in_port=$mon_ofport actions=drop" \
    <<<"$(ofctl dump-flows --no-stats --no-names "cookie=$COOKIE/-1")"
check -m "the operator's rules are untouched" \
    test "$(dump_table | grep -v "cookie=$COOKIE")" = "$before"
check -m "tap rules above the operator's highest (65100)" \
    test "$(tap_stat priority)" = 65101

# --- Forwarding unchanged.
check -m "ping works with the tap" vm_ping t1vm1 10.0.0.12 2
check -m "ofproto/trace: same rules once the tap's is set aside" \
    test "$(trace_path)" = "$trace_before"
actions_after=$(datapath_actions)
check -m "datapath actions: the clone, then the same ($actions_after)" \
    grep -Eq "^push_vlan\(tpid=0x88a8,vid=[0-9]+,pcp=0\),[0-9]+,pop_vlan,$(
        printf '%s' "$actions_before" | sed 's/[][().*+?|{}^$]/\\&/g')$" \
    <<<"$actions_after"

tap_attribution_scenarios "flow tap"

# --- The monitor port gets no flood, and what it emits is dropped.
tap_mark
vm_exec t1vm1 ip neigh flush dev eth0
check -m "ARP broadcast from t1vm1 (ping after flush)" \
    vm_ping t1vm1 10.0.0.12 1
wait_for 5 tap_seen 'port=t1vm1 .* dst=ff:ff:ff:ff:ff:ff type=0x0806' \
    || fail "t1vm1's ARP broadcast not tapped"
check -m "the ARP broadcast tapped once, not flooded to the monitor port" \
    test "$(tap_count 'dst=ff:ff:ff:ff:ff:ff type=0x0806')" = 1
check -m "no untagged frame reached the monitor port" \
    test "$(tap_stat untagged)" = 0

sniff=$VNM_LAB_DIR/sniff-t1vm2
vm_bg t1vm2 "$PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("eth0", 0))
s.settimeout(0.2)
print("listening", flush=True)
n, end = 0, time.monotonic() + 4
while time.monotonic() < end:
    try:
        if b"vnmon monitor emits" in s.recv(2048):
            n += 1
    except socket.timeout:
        pass
print(n, flush=True)' >"$sniff"
sniff_pid=$BG_PID
wait_for 5 grep -q listening "$sniff" || fail "sniffer in t1vm2 not ready"
drop_before=$(drop_count)
ip netns exec "$VNM_LAB_NETNS" "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
s.send(b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x99" + b"\x88\xb5"
       + b"vnmon monitor emits" + b"\0" * 27)' "$mon"
wait "$sniff_pid" || true
check -m "a frame the monitor port emits reaches no VM" \
    test "$(tail -n 1 "$sniff")" = 0
drop_after=$(drop_count)
check -m "... it met the tap's drop rule ($drop_before -> $drop_after)" \
    test "$drop_after" -gt "$drop_before"

# --- Ports come and go (t1vm2 comes back with the same ofport, which the
# operator's rules name).
t1vm2_ofport=$(ovs_vsctl get interface t1vm2 ofport)
ovs_vsctl del-port br0 t1vm2
kill -HUP "$TAP_PID"
check -m "t1vm2 left: its rule is gone" \
    wait_for 5 tap_rules_are 2
ovs_vsctl add-port br0 t1vm2 tag=101 \
    -- set interface t1vm2 ofport_request="$t1vm2_ofport"
kill -HUP "$TAP_PID"
check -m "t1vm2 is back: its rule too" \
    wait_for 5 tap_rules_are 3
tap_mark
check -m "ping t1vm2 -> t1vm1" vm_ping t1vm2 10.0.0.11 1
wait_for 5 tap_seen 'port=t1vm2 .* ip=10.0.0.12>10.0.0.11 proto=1 icmp=8 ' \
    || fail "t1vm2 not tapped after it came back"
pass "t1vm2 tapped again"
check -m "operator's rules intact" \
    test "$(dump_table | grep -v "cookie=$COOKIE")" = "$before"

# --- Rules deleted by someone else.
ofctl del-flows "cookie=$COOKIE/-1"
t0=${EPOCHREALTIME/[.,]/}
check -m "del-flows removed the tap's rules" test "$(n_tap_rules)" = 0
wait_for 5 tap_rules_are 3 \
    || fail "tap rules not back within 5 s of del-flows"
pass "tap rules back $(ms_since "$t0") ms after del-flows"
tap_mark
check -m "ping after del-flows" vm_ping t1vm1 10.0.0.12 1
wait_for 5 tap_seen 'port=t1vm1 .* ip=10.0.0.11>10.0.0.12 proto=1 icmp=8 ' \
    || fail "no frame tapped after del-flows"
pass "frames tapped again after del-flows"
check -m "operator's rules intact after del-flows" \
    test "$(dump_table | grep -v "cookie=$COOKIE")" = "$before"
check -m "reinstall counted" test "$(tap_stat reinstalls)" -ge 1

# --- ovs-vswitchd restart, as vnmon-lab starts it.
pid=$(cat "$OVS_RUNDIR/ovs-vswitchd.pid")
ovs_sh ovs-appctl -t "$(vswitchd_ctl)" exit
wait_for 10 pid_gone "$pid" || fail "ovs-vswitchd did not exit"
ovs_sh /usr/sbin/ovs-vswitchd "unix:$VNM_OVSDB_SOCK" \
    --pidfile="$OVS_RUNDIR/ovs-vswitchd.pid" --detach \
    -vconsole:warn --log-file="$OVS_LOGDIR/ovs-vswitchd.log"
t0=${EPOCHREALTIME/[.,]/}
wait_for 10 test -S "$OVS_RUNDIR/br0.mgmt" \
    || fail "ovs-vswitchd did not come back"
wait_for 5 monitor_in_place "$mon" \
    || fail "tap not restored within 5 s of the restart"
pass "tap restored (rules, no-flood, up) $(ms_since "$t0") ms after \
ovs-vswitchd started"
check -m "same monitor port" test "$(monitor_port)" = "$mon"
tap_mark
check -m "ping after the restart" vm_ping t1vm1 10.0.0.12 1
wait_for 5 tap_seen 'port=t1vm1 .* ip=10.0.0.11>10.0.0.12 proto=1 icmp=8 ' \
    || fail "no frame tapped after the restart"
pass "frames tapped again after the restart"
check -m "no untagged frame reached the monitor port across the restart" \
    test "$(tap_stat untagged)" = 0
# The restart took the operator's flows too; the operator puts them back.
operator_pipeline
check -m "ping through the operator's pipeline again" \
    vm_ping t1vm1 10.0.0.12 1
check -m "ofproto/trace: same rules after the restart" \
    test "$(trace_path)" = "$trace_before"

# --- The monitor port deleted by someone.
ovs_vsctl del-port br0 "$mon"
wait_for 5 monitor_recreated "$mon" \
    || fail "monitor port not back within 5 s of its deletion"
pass "monitor port deleted by someone: back, rules, no-flood, up"
check -m "... again an access port of VLAN 4095" \
    test "$(ovs_vsctl get port "$mon" tag)" = 4095
tap_mark
check -m "ping after the monitor port came back" vm_ping t1vm1 10.0.0.12 1
wait_for 5 tap_seen 'port=t1vm1 .* ip=10.0.0.11>10.0.0.12 proto=1 icmp=8 ' \
    || fail "no frame tapped after the monitor port came back"
pass "frames tapped again after the monitor port came back"

# --- Exit restores the table.
tap_stats | sed 's/^/    /'
tap_stop
check -m "after exit, dump-flows equals the table before start" \
    test "$(dump_table)" = "$before"
check -m "the monitor port is gone from OVSDB" test -z "$(monitor_port)"
check -m "the monitor port's netdev is gone" \
    wait_for 5 eval "! ip -n '$VNM_LAB_NETNS' link show '$mon' >/dev/null 2>&1"
check -m "ping still works" vm_ping t1vm1 10.0.0.12 1

echo "expected warnings (ALLOWED_LOG_RE):"
grep -hE -- "$LOG_LEVEL_RE" "$VNM_LAB_DIR"/log/*.log | sed 's/^/    | /' \
    || true
check_sanitizer_logs
lab_down
echo "PASS: $TEST_NAME"

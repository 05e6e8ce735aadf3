#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Conntrack in vnmon-agent on a two-tenant lab (t1vm1 10.0.0.11, t2vm1
# 10.0.0.21), read back with `vnmonctl conns`:
#   - kernel conntrack of the OVS namespace, where the agent runs and where
#     host0 (10.0.0.1) takes the VMs' traffic to the host: t1vm1 opens N TCP
#     connections to a listener on host0 and its summary shows N open and
#     ESTABLISHED, host0 its top peer, in its tenant's and the host's
#     summaries too; closing them brings "open" back to 0 (TIME_WAIT is
#     tracked, not open); its event list gets their NEW events and then
#     DESTROY events with counters and timestamps; half-open connections
#     (SYN-ACKs dropped in the VM) show as half-open;
#   - OVS userspace conntrack (the lab's datapath is netdev): flows with
#     ct(commit, zone=7) on t2vm1's traffic, M connections t1vm1 -> t2vm1:
#     t2vm1's summary shows M open with source "ovs", zone 7 and mark 42;
#     closing them brings it back down.
# Conntrack is active in a namespace only once some rule uses it: the test
# adds an nftables table with a ct rule to the OVS namespace (and one that
# drops SYN-ACKs in t1vm1), and removes them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

N=20                    # VM -> host connections.
M=5                     # VM -> VM connections through OVS's conntrack.
HALF=3                  # Half-open connections.
T1VM1=564d0000-0000-4000-8000-000001000001
T2VM1=564d0000-0000-4000-8000-000002000001

lab_up --tenants 2 --vms 1

# Conntrack on in the OVS namespace; TIME_WAIT short, so that DESTROY
# events come within the test (the namespace goes with the lab).
ovs_sh nft -f - <<'NFT'
table inet vnmtest_ct {
    chain input {
        type filter hook input priority 0; policy accept;
        ct state new counter
    }
}
NFT
ovs_sh sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=2
# t1vm1 never sees host0's SYN-ACKs on port 9101: half-open connections.
vm_exec t1vm1 nft -f - <<'NFT'
table inet vnmtest_half {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp sport 9101 tcp flags & (syn | ack) == syn | ack drop
    }
}
NFT

write_configs
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[collector]
conntrack_dump = 2s
conntrack_events = 100
CONF
start_agent

# conntrack_status EXPR: EXPR (Python) on the agent's status "conntrack".
conntrack_status()
{
    { "$VNMONCTL" --redis "unix:$VNM_REDIS_SOCK" status --json || true; } \
        | "$PYTHON" -c '
import json, sys
d = [d for d in json.load(sys.stdin)["daemons"] if d["name"] == "agent"][0]
ct = d.get("conntrack")
ok = ct is not None and eval("(%s)" % sys.argv[1], {"ct": ct})
if not ok:
    print(json.dumps(ct, indent=1))
sys.exit(0 if ok else 1)' "$1"
}

# conns EXPR: EXPR (Python) on `vnmonctl conns --json` of this lab's host,
# with vm[NAME], tenant[NAME] and host (the summaries); prints them if
# false.
conns()
{
    vnmonctl conns --json | "$PYTHON" -c '
import json, sys
doc = json.load(sys.stdin)
h = [h for h in doc["hosts"] if h["host"] == sys.argv[2]][0]
env = {"vm": {v["name"]: v for v in h["vms"]},
       "tenant": {t["tenant"]: t for t in h["tenants"]},
       "host": h["summary"]}
try:
    ok = eval("(%s)" % sys.argv[1], env)
except (KeyError, IndexError):
    ok = False
if not ok:
    for v in h["vms"]:
        print(v["name"], json.dumps({k: v[k] for k in ("connections",
              "total", "half_open", "tcp", "sources", "top_peers", "zones",
              "marks", "new_total")}))
sys.exit(0 if ok else 1)' "$1" "$VNM_LAB_NAME"
}

# events VM-UUID TENANT EXPR: EXPR (Python) on the VM's event list, 'ev'
# (newest first, parsed).
events()
{
    redis-cli -s "$VNM_REDIS_SOCK" --raw LRANGE \
        "vnm:t:$2:{$VNM_LAB_NAME}:ct:events:vm:$1" 0 -1 | "$PYTHON" -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin if l.strip()]
ok = eval("(%s)" % sys.argv[1], {"ev": ev})
if not ok:
    print(len(ev), "events; newest:", *ev[:4], sep="\n")
sys.exit(0 if ok else 1)' "$3"
}

check -m "agent up, kernel conntrack open, the 2 VMs attributed" \
    wait_for 15 conntrack_status \
    'ct["kernel"]["available"] and ct["vms"] == 2 and ct["tenants"] == 2'

# A TCP echo server: accepts on ADDR PORT..., echoes, closes when the peer
# does; touches READY once listening.
SERVER_PY='
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in sys.argv[3:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], int(port)))
    s.listen(128)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, True)
open(sys.argv[2], "w").close()
while True:
    for key, _ in sel.select():
        sock = key.fileobj
        if key.data:
            c, _ = sock.accept()
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ, False)
            continue
        try:
            data = sock.recv(4096)
        except ConnectionError:
            data = b""
        if data:
            sock.sendall(data)
        else:
            sel.unregister(sock)
            sock.close()
'
# N connections to ADDR PORT, one byte echoed on each; touches READY, then
# closes them all once CLOSE exists.
CLIENT_PY='
import os, socket, sys, time
addr, port, n, ready, close = sys.argv[1:6]
socks = [socket.create_connection((addr, int(port)), 5) for _ in range(int(n))]
for s in socks:
    s.sendall(b"x")
    assert s.recv(1) == b"x"
open(ready, "w").close()
while not os.path.exists(close):
    time.sleep(0.1)
for s in socks:
    s.close()
time.sleep(1)
'

# --- Kernel conntrack: t1vm1 -> host0.
ip netns exec "$VNM_LAB_NETNS" "$PYTHON" -c "$SERVER_PY" 10.0.0.1 \
    "$VNM_LAB_DIR/host-ready" 9100 9101 &
register_pid $!
wait_for 10 test -e "$VNM_LAB_DIR/host-ready" || fail "host server not up"
vm_bg t1vm1 "$PYTHON" -c "$CLIENT_PY" 10.0.0.1 9100 "$N" \
    "$VNM_LAB_DIR/k-ready" "$VNM_LAB_DIR/k-close"
client=$BG_PID
wait_for 10 test -e "$VNM_LAB_DIR/k-ready" || fail "t1vm1 did not connect"
t0=${EPOCHREALTIME/[.,]/}
check -m "t1vm1 shows its $N connections to the host (kernel)" \
    wait_for 5 conns "
vm['t1vm1']['connections'] == $N and vm['t1vm1']['tcp']['ESTABLISHED'] == $N
and vm['t1vm1']['total'] == $N and vm['t1vm1']['half_open'] == 0
and vm['t1vm1']['sources'] == {'kernel': $N, 'ovs': 0}
and vm['t1vm1']['top_peers'][0] == {'ip': '10.0.0.1', 'connections': $N}
and vm['t1vm1']['zones'] == [{'zone': 0, 'connections': $N}]
and vm['t1vm1']['new_total'] == $N
and vm['t1vm1']['tenant'] == 'tenant1' and vm['t1vm1']['vm'] == '$T1VM1'
and tenant['tenant1']['connections'] == $N
and vm['t2vm1']['connections'] == 0 and tenant['tenant2']['total'] == 0
and host['connections'] == $N and host['tcp']['ESTABLISHED'] == $N"
echo "shown after $(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 )) ms"
check -m "vnmonctl conns --vm t1vm1 (table)" sh -c \
    "'$VNMONCTL' --redis unix:$VNM_REDIS_SOCK conns --vm t1vm1 \
     | grep -E '^vm +t1vm1 +tenant1 +$N +$N +$N +0 '"
check -m "vnmonctl conns --tenant tenant2 lists only tenant2" sh -c \
    "'$VNMONCTL' --redis unix:$VNM_REDIS_SOCK conns --tenant tenant2 --json \
     | '$PYTHON' -c '
import json, sys
h = json.load(sys.stdin)[\"hosts\"][0]
assert [v[\"name\"] for v in h[\"vms\"]] == [\"t2vm1\"], h[\"vms\"]
assert [t[\"tenant\"] for t in h[\"tenants\"]] == [\"tenant2\"], h
'"
check -m "vnmonctl --tenant tenant1 conns: from tenant1's keys, the same counts" sh -c \
    "'$VNMONCTL' --redis unix:$VNM_REDIS_SOCK --tenant tenant1 conns --json \
     | '$PYTHON' -c '
import json, sys
h = json.load(sys.stdin)[\"hosts\"][0]
assert h[\"summary\"] is None and h[\"tenant\"] == \"tenant1\", h
assert [t[\"connections\"] for t in h[\"tenants\"]] == [$N], h[\"tenants\"]
v = {v[\"name\"]: v for v in h[\"vms\"]}
assert v[\"t1vm1\"][\"connections\"] == $N and \"t2vm1\" not in v, v
'"
check -m "vnmonctl --tenant tenant1 conns --vm t2vm1 (another tenant's VM) exits 1" sh -c \
    "'$VNMONCTL' --redis unix:$VNM_REDIS_SOCK --tenant tenant1 conns --vm t2vm1 \
     >/dev/null 2>&1; test \$? = 1"
check -m "vnmonctl conns --vm unknown exits 1" sh -c \
    "'$VNMONCTL' --redis unix:$VNM_REDIS_SOCK conns --vm nosuchvm \
     >/dev/null 2>&1; test \$? = 1"
check -m "NEW events of the $N connections in t1vm1's list" \
    events "$T1VM1" tenant1 "
len([e for e in ev if e['type'] == 'new' and e['source'] == 'kernel'
     and e['proto'] == 'tcp' and e['src'] == '10.0.0.11'
     and e['dst'] == '10.0.0.1' and e['dport'] == 9100 and e['zone'] == 0
     and e['mark'] == 0 and 'id' in e]) == $N"

t0=${EPOCHREALTIME/[.,]/}
touch "$VNM_LAB_DIR/k-close"
wait "$client"
check -m "closed: t1vm1 back to 0 open connections" wait_for 10 conns "
vm['t1vm1']['connections'] == 0 and tenant['tenant1']['connections'] == 0
and vm['t1vm1']['tcp'].get('ESTABLISHED', 0) == 0"
echo "back to 0 after $(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 )) ms"
check -m "DESTROY events with counters and timestamps" \
    wait_for 20 events "$T1VM1" tenant1 "
len([e for e in ev if e['type'] == 'destroy' and e['dport'] == 9100
     and e['orig_packets'] >= 4 and e['reply_packets'] >= 3
     and e['orig_bytes'] > 0 and e['reply_bytes'] > 0
     and e['stop_ms'] >= e['start_ms'] > 0 and e['duration_ms'] >= 0
     and e['state'] in ('TIME_WAIT', 'CLOSE')]) == $N
and len([e for e in ev if e['type'] == 'destroy']) == $N"
check -m "kernel connections gone from t1vm1's summary" wait_for 10 conns \
    "vm['t1vm1']['total'] == 0 and vm['t1vm1']['new_total'] == $N"

# --- Half-open: t1vm1's SYNs reach host0, its SYN-ACKs are dropped.
vm_bg t1vm1 "$PYTHON" -c '
import socket, sys, time
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("10.0.0.1", 9101))
    socks.append(s)
time.sleep(60)' "$HALF"
half=$BG_PID
check -m "$HALF half-open connections of t1vm1" wait_for 10 conns "
vm['t1vm1']['half_open'] == $HALF and vm['t1vm1']['tcp']['SYN_RECV'] == $HALF
and vm['t1vm1']['connections'] == $HALF and host['half_open'] == $HALF"
kill "$half"
wait "$half" || true

check -m "status: events, dumps, accounting and timestamps on, nothing lost" \
    conntrack_status '
ct["kernel"]["accounting"] and ct["kernel"]["timestamps"]
and ct["kernel"]["new_events"] >= '$((N + HALF))'
and ct["kernel"]["dumps"] >= 2 and ct["kernel"]["lost_events"] == 0
and ct["kernel"]["dump_errors"] == 0 and ct["new"] >= '$((N + HALF))'
and ct["over_cap"] == 0'

# --- OVS userspace conntrack: t2vm1's traffic through ct(zone=7), marked.
ovs_sh ovs-ofctl add-flow br0 "table=0,priority=100,ip,nw_dst=10.0.0.21,\
actions=ct(commit,zone=7,exec(set_field:42->ct_mark)),NORMAL"
ovs_sh ovs-ofctl add-flow br0 \
    "table=0,priority=100,ip,nw_src=10.0.0.21,actions=ct(commit,zone=7),NORMAL"
vm_bg t2vm1 "$PYTHON" -c "$SERVER_PY" 10.0.0.21 "$VNM_LAB_DIR/vm-ready" 9200
wait_for 10 test -e "$VNM_LAB_DIR/vm-ready" || fail "t2vm1 server not up"
vm_bg t1vm1 "$PYTHON" -c "$CLIENT_PY" 10.0.0.21 9200 "$M" \
    "$VNM_LAB_DIR/o-ready" "$VNM_LAB_DIR/o-close"
client=$BG_PID
wait_for 10 test -e "$VNM_LAB_DIR/o-ready" || fail "t1vm1 did not connect"
check -m "OVS userspace conntrack has the $M connections" sh -c \
    "ip netns exec '$VNM_LAB_NETNS' env OVS_RUNDIR='$OVS_RUNDIR' \
     ovs-appctl dpctl/dump-conntrack netdev@ovs-netdev \
     | grep -c 'dport=9200.*zone=7.*mark=42.*ESTABLISHED' | grep -qx $M"
t0=${EPOCHREALTIME/[.,]/}
check -m "t2vm1 shows the $M connections, source ovs, zone 7, mark 42" \
    wait_for 10 conns "
vm['t2vm1']['connections'] == $M and vm['t2vm1']['tcp']['ESTABLISHED'] == $M
and vm['t2vm1']['sources'] == {'kernel': 0, 'ovs': $M}
and vm['t2vm1']['zones'] == [{'zone': 7, 'connections': $M}]
and vm['t2vm1']['marks'] == [{'mark': 42, 'connections': $M}]
and vm['t2vm1']['top_peers'] == [{'ip': '10.0.0.11', 'connections': $M}]
and vm['t1vm1']['sources']['ovs'] == $M
and tenant['tenant2']['connections'] == $M
and tenant['tenant1']['sources']['ovs'] == $M"
echo "shown after $(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 )) ms"
check -m "NEW events from OVS in t2vm1's list (zone 7, mark 42)" \
    events "$T2VM1" tenant2 "
len([e for e in ev if e['type'] == 'new' and e['source'] == 'ovs'
     and e['dport'] == 9200 and e['zone'] == 7 and e['mark'] == 42]) == $M"
check -m "status: OVS polled, no error" conntrack_status '
ct["ovs"]["active"] and ct["ovs"]["ok"] and ct["ovs"]["polls"] >= 1
and ct["ovs"]["errors"] == 0 and ct["ovs"]["bad_lines"] == 0
and ct["ovs"]["entries"] == '"$M"

t0=${EPOCHREALTIME/[.,]/}
touch "$VNM_LAB_DIR/o-close"
wait "$client"
check -m "closed: t2vm1 back to 0 open connections" wait_for 10 conns "
vm['t2vm1']['connections'] == 0 and tenant['tenant2']['connections'] == 0"
echo "back to 0 after $(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 )) ms"

# --- ovs-vswitchd restarting: polls fail meanwhile (INFO, no warning),
# then resume.
polls=$(status_field agent conntrack | "$PYTHON" -c '
import json, sys; print(json.load(sys.stdin)["ovs"]["polls"])')
pid=$(cat "$OVS_RUNDIR/ovs-vswitchd.pid")
ovs_sh ovs-appctl -t "$OVS_RUNDIR/ovs-vswitchd.$pid.ctl" exit
wait_for 10 sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status" \
    || fail "ovs-vswitchd did not exit"
check -m "a poll fails while ovs-vswitchd is away" wait_for 10 \
    conntrack_status 'ct["ovs"]["errors"] >= 1 and not ct["ovs"]["ok"]'
ovs_sh /usr/sbin/ovs-vswitchd "unix:$VNM_OVSDB_SOCK" \
    --pidfile="$OVS_RUNDIR/ovs-vswitchd.pid" --detach \
    -vconsole:warn --log-file="$OVS_LOGDIR/ovs-vswitchd.log"
check -m "polls resume after the ovs-vswitchd restart" wait_for 15 \
    conntrack_status 'ct["ovs"]["ok"] and ct["ovs"]["polls"] > '"$polls"
check -m "one INFO line for the outage, one for the recovery" sh -c "
    grep -c '|INFO|conntrack|ovs-vswitchd conntrack: .*; retrying\$' \
        '$VNM_LAB_DIR/log/agent.log' | grep -qx 1 &&
    grep -q '|INFO|conntrack|ovs-vswitchd conntrack: polled again' \
        '$VNM_LAB_DIR/log/agent.log'"

# Clean up what the test added to the lab, then the lab.
for match in nw_dst nw_src; do
    ovs_sh ovs-ofctl del-flows --strict br0 \
        "table=0,priority=100,ip,$match=10.0.0.21"
done
check -m "the test's flows are gone" sh -c \
    "! ip netns exec '$VNM_LAB_NETNS' env OVS_RUNDIR='$OVS_RUNDIR' \
       ovs-ofctl dump-flows br0 | grep -q 'ct(commit'"
ovs_sh nft delete table inet vnmtest_ct
vm_exec t1vm1 nft delete table inet vnmtest_half
stop_daemon agent
lab_down

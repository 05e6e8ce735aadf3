#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# vnmon-agent with the flow tap, through OVS restarts:
#   - ovs-vswitchd restarted: the tap is back (rules reinstalled), counted
#     in `vnmonctl status`, and traffic after it is recorded with the right
#     ports;
#   - ovsdb-server restarted: the inventory resyncs, counted in status, and
#     a port added afterwards shows up in `vnmonctl inventory` within 1 s;
#   - the agent logs one warning per outage and nothing else.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

lab_up --tenants 1 --vms 2

write_configs
sed -i "s/^\\[ovs\\]\$/[ovs]\ntap = flow/" "$VNM_LAB_DIR/etc/agent.conf"
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[flows]
idle_timeout = 1s
update_interval = 0
records_file = $VNM_LAB_DIR/records.jsonl
CONF

# Expected: OVS's complaint at start-up (no kernel datapath here), and the
# agent's warnings for the two outages it rides through.
ALLOWED_LOG_RE+=(
    '[|]dpif[|]WARN[|]failed to enumerate system datapaths: No such file or directory$'
    '[|]agent[|]WARN[|]ovsdb[|]ovsdb unix:[^ ]*/db[.]sock: connection lost'
    '[|]agent[|]WARN[|]tap_flow[|]bridge br0: flow tap: ovs-ofctl '\
'[a-z-]+ failed: ovs-ofctl: ([^ ]*br0\.mgmt: failed to connect to socket|'\
'connecting to unix:[^ ]*br0\.mgmt) '\
'\((Connection refused|No such file or directory)\)$'
    '[|]fatal_signal[|]WARN[|]terminating with signal 15 [(]Terminated[)]$'
)

status()
{
    { "$VNMONCTL" --redis "unix:$VNM_REDIS_SOCK" status --json || true; } \
        | "$PYTHON" -c '
import json, sys
d = [d for d in json.load(sys.stdin)["daemons"] if d["name"] == "agent"][0]
try:
    print(eval(sys.argv[1], {"d": d}))
except KeyError:
    print(False)' "$1"
}

start_agent
started()
{
    [ "$(status 'd["ovsdb"]["synced"] and "flow_taps" in d and d["flow_taps"]["br0"]["in_sync"]')" = True ]
}
check -m "agent up, inventory synced, flow tap in sync" wait_for 15 started

# --- ovs-vswitchd restart.
pid=$(cat "$OVS_RUNDIR/ovs-vswitchd.pid")
ovs_sh ovs-appctl -t "$OVS_RUNDIR/ovs-vswitchd.$pid.ctl" exit
wait_for 10 sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status" \
    || fail "ovs-vswitchd did not exit"
ovs_sh /usr/sbin/ovs-vswitchd "unix:$VNM_OVSDB_SOCK" \
    --pidfile="$OVS_RUNDIR/ovs-vswitchd.pid" --detach \
    -vconsole:warn --log-file="$OVS_LOGDIR/ovs-vswitchd.log"
tap_ok()
{
    [ "$(status 'd["flow_taps"]["br0"]["reinstalls"] >= 1 and d["flow_taps"]["br0"]["in_sync"]')" = True ]
}
check -m "flow tap reinstalled after the ovs-vswitchd restart, counted" \
    wait_for 10 tap_ok
check -m "traffic through the restarted switch" vm_ping t1vm1 10.0.0.12 3
check -m "recorded with the right ports" wait_for 10 "$PYTHON" -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if (r["ip_proto"] == 1 and r["dst"]["ip"] == "10.0.0.12"
            and r["src"]["in"]["port"] == "t1vm1"
            and r["dst"]["in"]["port"] == "t1vm2" and r["dst"]["packets"]):
        sys.exit(0)
sys.exit(1)' "$VNM_LAB_DIR/records.jsonl"

# --- ovsdb-server restart.
pidfile=$OVS_RUNDIR/ovsdb-server.pid
pid=$(tr -dc '0-9' <"$pidfile")
mapfile -d '' -t ovsdb_cmd <"/proc/$pid/cmdline"
[[ ${ovsdb_cmd[0]} == *ovsdb-server ]] || fail "pid $pid is not ovsdb-server"
kill -TERM "$pid"
wait_for 5 sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status" \
    || fail "ovsdb-server did not exit"
ovs_sh "${ovsdb_cmd[@]}"
resynced()
{
    [ "$(status 'd["ovsdb"]["resyncs"] >= 1 and d["ovsdb"]["synced"]')" = True ]
}
check -m "inventory resynced after the ovsdb-server restart, counted" \
    wait_for 15 resynced

# A port added after the resync is in the inventory within 1 s.
ovs_sh ip link add vrst0 type veth peer name vrst1
ovs_sh ip link set vrst0 up
ovs_sh ip link set vrst1 up
ovs_vsctl add-port br0 vrst0 -- set interface vrst0 \
    external_ids:vnmon-tenant=tenantZ
t0=${EPOCHREALTIME/[.,]/}
in_inventory()
{
    "$VNMONCTL" --redis "unix:$VNM_REDIS_SOCK" -H "$VNM_LAB_NAME" inventory \
        --json | "$PYTHON" -c '
import json, sys
doc = json.load(sys.stdin)
s = json.dumps(doc)
sys.exit(0 if "vrst0" in s and "tenantZ" in s else 1)'
}
check -m "new port in vnmonctl inventory" wait_for 1 in_inventory
echo "new port shown after $(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 )) ms"
ovs_vsctl del-port br0 vrst0
ovs_sh ip link del vrst0

stop_daemon agent
lab_down

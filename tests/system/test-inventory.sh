#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The live OVS inventory (ovs-ext/inventory.c) on a lab, run by the small
# driver tests/system/inventory-driver, which publishes it to the lab's
# Redis as the agent does; read back with `vnmonctl inventory`:
#   - every VM port with its external_ids (iface-id, attached-mac, vm-uuid),
#     tenant, addresses, ofport and ifindex (checked against OVS and the
#     kernel);
#   - a port added, removed, or its external_ids changed: shown within 1 s;
#   - ovsdb-server killed and restarted as tools/vnmon-lab starts it: the
#     driver logs one warning, reconnects, resyncs, and the inventory is
#     complete again with the resync counted.
. "$(dirname "$0")/lib.sh"

BUILDDIR=${VNM_BUILDDIR:-$VNM_TOP}
DRIVER=$BUILDDIR/tests/system/inventory-driver
VNMONCTL=$BUILDDIR/tools/vnmonctl
for _b in "$DRIVER" "$VNMONCTL"; do
    [ -x "$_b" ] || fail "missing $_b: run 'make check' first"
done
unset _b

lab_up --tenants 2 --vms 2

DRIVER_LOG=$VNM_LAB_DIR/log/inventory-driver.log
# The one warning expected: the connection lost when ovsdb-server is
# killed below.
ALLOWED_LOG_RE+=('[|]WARN[|]ovsdb[|]ovsdb unix:[^ ]*/db[.]sock: connection lost \((closed by the server|Connection reset by peer)\)')

# The driver runs in the OVS namespace, where the agent runs.
ip netns exec "$VNM_LAB_NETNS" "$DRIVER" --remote "unix:$VNM_OVSDB_SOCK" \
    --redis "unix:$VNM_REDIS_SOCK" --host-id "$VNM_LAB_NAME" \
    --log "$DRIVER_LOG" &
DRIVER_PID=$!
register_pid "$DRIVER_PID"

vnmonctl()
{
    "$VNMONCTL" --redis "unix:$VNM_REDIS_SOCK" "$@"
}

# inv_py PYTHON: runs PYTHON with 'inv' (this lab's inventory, from
# `vnmonctl inventory --json`) and 'ifs' (its interfaces by name); succeeds
# if PYTHON raises nothing.
inv_py()
{
    local json
    # vnmonctl exits 1 while the inventory is not synced: the JSON is
    # there all the same.
    json=$(vnmonctl inventory --json) || true
    "$PYTHON" -c '
import json, sys
doc = json.loads(sys.argv[1])
invs = [i for i in doc["inventories"] if i["host"] == sys.argv[2]]
assert invs, "no inventory for %s" % sys.argv[2]
inv = invs[0]
ifs = {i["name"]: i for i in inv["interfaces"]}
exec(sys.argv[3])
' "$json" "$VNM_LAB_NAME" "$1"
}

now_us()
{
    echo "${EPOCHREALTIME/[.,]/}"
}

# within TIMEOUT_S DESC PYTHON: checks that PYTHON (see inv_py) holds
# within TIMEOUT_S seconds of the call; shows why not on failure.
within()
{
    local timeout=$1 desc=$2 py=$3 t0 ms
    t0=$(now_us)
    if ! wait_for "$timeout" inv_py "$py"; then
        check -m "$desc (not within ${timeout} s)" inv_py "$py"
        fail "$desc: held only after ${timeout} s"
    fi
    ms=$(( ($(now_us) - t0) / 1000 ))
    pass "$desc (after $ms ms)"
}

# What the lab set on each VM port (tools/vnmon-lab), and what OVS and the
# kernel say its ofport and ifindex are.
expected_vms()
{
    local vm t i n sep='' ifindex ofport
    printf '{'
    for vm in $VNM_LAB_VMS; do
        t=${vm#t}
        t=${t%%vm*}
        i=${vm##*vm}
        n=$((10 * t + i))
        ifindex=$(ip -n "$VNM_LAB_NETNS" -o link show "$vm" | cut -d: -f1)
        ofport=$(ovs_vsctl get interface "$vm" ofport)
        printf '%s"%s": {"bridge": "br0", "port": "%s", "type": "",' \
            "$sep" "$vm" "$vm"
        printf ' "iface_id": "1f0c0000-0000-4000-8000-%06d%06d",' "$t" "$i"
        printf ' "vm": "564d0000-0000-4000-8000-%06d%06d",' "$t" "$i"
        printf ' "attached_mac": "02:00:00:00:%02x:%02x",' "$t" "$i"
        printf ' "tenant": "tenant%d", "ips": ["10.0.0.%d", "fd00::%d"],' \
            "$t" "$n" "$n"
        printf ' "ofport": %d, "ifindex": %d}' "$ofport" "$ifindex"
        sep=', '
    done
    printf '}'
}
EXPECTED=$(expected_vms)
# The complete inventory: the VM ports, host0, and br0's own port.
VMS_COMPLETE="
exp = json.loads('''$EXPECTED''')
for name, e in exp.items():
    assert name in ifs, (name, sorted(ifs))
    for k, v in e.items():
        assert ifs[name][k] == v, (name, k, ifs[name][k], v)
assert sorted(ifs) == sorted(list(exp) + ['br0', 'host0']), sorted(ifs)
assert ifs['host0']['type'] == 'internal', ifs['host0']
assert ifs['host0']['ofport'] > 0 and ifs['host0']['ifindex'] > 0
assert [b['name'] for b in inv['bridges']] == ['br0'], inv['bridges']
assert inv['bridges'][0]['datapath_type'] == 'netdev'
"

within 5 "inventory synced and published" \
    'assert inv["synced"] and inv["connected"], inv'
check -m "all lab VM ports with their external_ids, tenant, IPs, ofport, ifindex" \
    inv_py "$VMS_COMPLETE"
check -m "no reconnection or resync yet" inv_py '
s = inv["stats"]
assert s["n_connects"] == 1 and s["n_resyncs"] == 0, s
assert s["n_reconnects"] == 0 and s["n_protocol_errors"] == 0, s'

table=$(vnmonctl inventory)
printf '%s\n' "$table"
check -m "vnmonctl inventory (table) exits 0" vnmonctl inventory
check -m "table: t1vm1 with its tenant and addresses" \
    grep -Eq '^br0 +t1vm1 +t1vm1 +[0-9]+ +[0-9]+ +system +02:00:00:00:01:01 +564d0000-0000-4000-8000-000001000001 +tenant1 +10[.]0[.]0[.]11,fd00::11 ' \
    <<<"$table"
check -m "Redis: the host is listed, updated_ms is fresh" "$PYTHON" -c '
import subprocess, sys, time
sock, host = sys.argv[1], sys.argv[2]
def cli(*a):
    return subprocess.run(["redis-cli", "-s", sock] + list(a), check=True,
                          capture_output=True, text=True).stdout
assert host in cli("SMEMBERS", "vnm:inventory:hosts").split(), "not listed"
ms = int(cli("GET", "vnm:{%s}:inventory:updated_ms" % host))
age = time.time() * 1000 - ms
assert 0 <= age < 35000, age
' "$VNM_REDIS_SOCK" "$VNM_LAB_NAME"

# A port added: a new veth in the OVS namespace.
NEWPORT=vnmt$$
NEWPORT=${NEWPORT:0:15}
ovs_sh ip link add "$NEWPORT" type veth peer name "${NEWPORT:0:13}pr"
ovs_sh ip link set "$NEWPORT" up
ovs_vsctl add-port br0 "$NEWPORT" -- set interface "$NEWPORT" \
    external_ids:vnmon-tenant=tenant9 external_ids:vnmon-ips='"10.0.0.99"' \
    external_ids:vm-id=vm-nine
NEW_IFINDEX=$(ip -n "$VNM_LAB_NETNS" -o link show "$NEWPORT" | cut -d: -f1)
NEW_OFPORT=$(ovs_vsctl get interface "$NEWPORT" ofport)
within 1 "port $NEWPORT added: shown with ofport $NEW_OFPORT, ifindex $NEW_IFINDEX, tenant, IPs" "
i = ifs.get('$NEWPORT')
assert i, sorted(ifs)
assert i['ofport'] == $NEW_OFPORT and i['ifindex'] == $NEW_IFINDEX, i
assert i['tenant'] == 'tenant9' and i['ips'] == ['10.0.0.99'], i
assert i['vm'] == 'vm-nine' and i['port'] == '$NEWPORT', i"

# Its external_ids changed.
ovs_vsctl set interface "$NEWPORT" external_ids:vnmon-tenant=tenant8
within 1 "$NEWPORT external_ids changed: shown" \
    "assert ifs['$NEWPORT']['tenant'] == 'tenant8', ifs['$NEWPORT']"

# Removed.
ovs_vsctl del-port br0 "$NEWPORT"
within 1 "port $NEWPORT removed: gone" "assert '$NEWPORT' not in ifs"
ovs_sh ip link del "$NEWPORT"

# A lab VM's tenant changed, and back.
ovs_vsctl set interface t1vm1 external_ids:vnmon-tenant=tenantX
within 1 "t1vm1 external_ids:vnmon-tenant=tenantX: shown" \
    "assert ifs['t1vm1']['tenant'] == 'tenantX', ifs['t1vm1']"
ovs_vsctl set interface t1vm1 external_ids:vnmon-tenant=tenant1
within 1 "t1vm1 back to tenant1: shown" \
    "assert ifs['t1vm1']['tenant'] == 'tenant1', ifs['t1vm1']"

# ovsdb-server killed, then restarted with the command line it had, in
# the OVS namespace with the sandbox's environment (as tools/vnmon-lab
# starts it).
pidfile=$OVS_RUNDIR/ovsdb-server.pid
pid=$(tr -dc '0-9' <"$pidfile")
mapfile -d '' -t ovsdb_cmd <"/proc/$pid/cmdline"
[[ ${ovsdb_cmd[0]} == *ovsdb-server ]] || fail "pid $pid is not ovsdb-server"
printf '%s\n' "ovsdb-server (pid $pid): ${ovsdb_cmd[*]}"
kill -KILL "$pid"
pid_gone()
{
    ! kill -0 "$1" 2>/dev/null \
        || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
check -m "ovsdb-server killed" wait_for 5 pid_gone "$pid"
within 5 "inventory out of sync, last state kept" '
assert not inv["synced"] and not inv["connected"], inv
assert "t1vm1" in ifs'
ovs_sh "${ovsdb_cmd[@]}"
check -m "ovsdb-server restarted (pid $(tr -dc '0-9' <"$pidfile"))" \
    test -S "$VNM_OVSDB_SOCK"
within 15 "inventory synced again after the restart" \
    'assert inv["synced"] and inv["connected"], inv'
# At once: ofport, ifindex... (ephemeral columns) keep their values until
# ovs-vswitchd writes them again.
check -m "inventory complete again after the resync" inv_py "$VMS_COMPLETE"
vswitchd_wrote()
{
    local vm
    for vm in $VNM_LAB_VMS; do
        [ "$(ovs_vsctl get interface "$vm" ofport)" != "[]" ] || return 1
    done
}
check -m "ovs-vswitchd reconnected and wrote the ofports again" \
    wait_for 20 vswitchd_wrote
within 1 "inventory complete with ovs-vswitchd's values" "$VMS_COMPLETE"
check -m "stats: one reconnection, one resync" inv_py '
s = inv["stats"]
assert s["n_connects"] == 2 and s["n_reconnects"] == 1, s
assert s["n_resyncs"] == 1 and s["n_disconnects"] >= 1, s
assert s["n_protocol_errors"] == 0, s'
n=$(grep -c '|WARN|' "$DRIVER_LOG" || true)
check -m "driver logged exactly one warning (got $n)" test "$n" = 1
check -m "the warning is the lost connection" \
    grep -q '|WARN|ovsdb|ovsdb unix:.*: connection lost' "$DRIVER_LOG"
check -m "recovery logged at INFO, with the full resync" \
    grep -q '|INFO|ovsdb|ovsdb unix:.*: connected again after .*full resync done' \
    "$DRIVER_LOG"

# And it still follows changes.
ovs_vsctl set interface t2vm2 external_ids:vnmon-tenant=tenantY
within 1 "after the restart, t2vm2's tenant change: shown" \
    "assert ifs['t2vm2']['tenant'] == 'tenantY', ifs['t2vm2']"

kill -TERM "$DRIVER_PID"
wait "$DRIVER_PID" || fail "inventory-driver exited with status $?"
check -m "driver stopped cleanly" \
    grep -q 'inventory driver stopped' "$DRIVER_LOG"

lab_down

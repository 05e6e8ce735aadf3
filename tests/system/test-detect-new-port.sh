#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end, detector "new-port" (analyzer/detect-new-port.c) on the
# two-tenant lab, while benign traffic runs inside tenant 1:
#
#   1. An unregistered port (a veth without external_ids) is added to br0
#      with ovs-vsctl and sends frames: one incident, severity medium,
#      port rogue0, target "br0", counting its traffic.
#   2. A registered VM port added the same way raises nothing.
#   3. VM port t2vm2 is deleted and added again (a restart), twice: one
#      incident, severity low, port t2vm2, tenant tenant2, updated by the
#      second restart.
# Each within 5 s of the ovs-vsctl command; nothing else is raised.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

lab_up --tenants 2 --vms 2

write_configs
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[flows]
idle_timeout = 3s
update_interval = 2s
CONF
conf=$VNM_LAB_DIR/etc/analyzer.conf
cat >>"$conf" <<CONF

[detector "new-port"]
grace = 1s
CONF
# Incident updates delivered at most once a second; the archive in the lab.
sed -i 's/^\[analyzer\]$/&\nupdate_interval = 1s/' "$conf"
if ! grep -q '^archive' "$conf"; then
    sed -i "s|^\\[analyzer\\]\$|&\\narchive = $VNM_LAB_DIR/arch.jsonl|" \
        "$conf"
fi
alerts=$VNM_LAB_DIR/alerts.jsonl
start_agent
start_analyzer
check -m "both daemons up" wait_for 10 both_up
sleep 2                         # Inventory read: the lab's ports are known.

# Benign: HTTP and pings inside tenant 1, in one process so that no child
# outlives it.
vm_bg t1vm2 "$PYTHON" -m http.server 8080 --bind 10.0.0.12
wait_for 10 vm_exec t1vm1 curl -sf -o /dev/null http://10.0.0.12:8080/ \
    || fail "HTTP server did not start"
vm_bg t1vm1 "$PYTHON" -c '
import os, socket, struct, time, urllib.request
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1)
for seq in range(1, 1000000):
    hdr = struct.pack("!BBHHH", 8, 0, 0, os.getpid() & 0xffff, seq) + b"x" * 8
    n = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    n = (n >> 16) + (n & 0xffff)
    n = ~(n + (n >> 16)) & 0xffff
    s.sendto(hdr[:2] + struct.pack("!H", n) + hdr[4:], ("10.0.0.12", 0))
    try:
        s.recv(128)
        urllib.request.urlopen("http://10.0.0.12:8080/", timeout=1).read()
    except OSError:
        pass
    time.sleep(0.5)'

# wait_incident PORT COND...: waits up to 5 s from $t0 (microseconds) for
# the new-port incident of PORT (on br0) meeting CONDs; reports the delay.
wait_incident()
{
    local port=$1 now
    shift
    check -m "new-port incident for $port ($*) within 5 s" \
        wait_for 5 incident_check "$alerts" new-port "$port>br0" "$@"
    now=${EPOCHREALTIME/[.,]/}
    pass "alert $(( (now - t0) / 1000 )) ms after ovs-vsctl"
    [ $(( now - t0 )) -le 5000000 ] || fail "alert later than 5 s"
}

# veth_pair NAME: a veth NAME in the OVS namespace, its peer NAMEp there
# too (both gone with the namespace), up, without IPv6 or ARP answers.
veth_pair()
{
    ip -n "$VNM_LAB_NETNS" link add "$1" type veth peer name "${1}p"
    ip -n "$VNM_LAB_NETNS" link set "$1" up
    ip -n "$VNM_LAB_NETNS" link set "${1}p" up
}

# 1. An unregistered port, sending frames.
veth_pair rogue0
t0=${EPOCHREALTIME/[.,]/}
ovs_vsctl add-port br0 rogue0
ip netns exec "$VNM_LAB_NETNS" "$PYTHON" -c '
import time
from scapy.all import ICMP, IP, Ether, conf, sendp
conf.verb = 0
for i in range(25):
    sendp(Ether(src="02:00:00:00:66:66", dst="02:00:00:00:01:01")
          / IP(src="10.0.0.66", dst="10.0.0.11") / ICMP(), iface="rogue0p")
    time.sleep(0.3)' &
register_pid $!
rogue_pid=$!
wait_incident rogue0 severity=medium port=rogue0 "summary~unregistered"

# 2. A registered VM port: nothing.
veth_pair t1vm9
ovs_vsctl add-port br0 t1vm9 -- set interface t1vm9 \
    external_ids:iface-id=1f0c0000-0000-4000-8000-000001000009 \
    external_ids:vm-uuid=564d0000-0000-4000-8000-000001000009 \
    external_ids:vnmon-tenant=tenant1 external_ids:vnmon-ips=10.0.0.19

# 3. A VM port restarts, twice.
ids=$(ovs_vsctl get interface t2vm2 external_ids)
[[ $ids == *vnmon-tenant* ]] || fail "t2vm2 has no tenant: $ids"
t0=${EPOCHREALTIME/[.,]/}
ovs_vsctl del-port br0 t2vm2
ovs_vsctl add-port br0 t2vm2 -- set interface t2vm2 external_ids="$ids"
wait_incident t2vm2 severity=low port=t2vm2 tenant=tenant2 \
    "summary~restarted"
sleep 1
ovs_vsctl del-port br0 t2vm2
sleep 1.5                       # Seen gone, then back.
ovs_vsctl add-port br0 t2vm2 -- set interface t2vm2 external_ids="$ids"
check -m "the second restart updates the incident" wait_for 5 \
    incident_check "$alerts" new-port "t2vm2>br0" "count>1" \
    "summary~2 times"
check -m "t2vm2 works after its restarts" vm_ping t2vm2 10.0.0.21 2

wait "$rogue_pid" || fail "scapy failed on rogue0p"
sleep 4                         # The rogue port's last flow records.
check -m "the rogue port's incident: medium, its traffic counted, updated" \
    incident_check "$alerts" new-port "rogue0>br0" severity=medium \
    port=rogue0 target=br0 "summary~unregistered uplink port rogue0" \
    "packets>5" "bytes>0" "count>1"
check -m "the restart incident: low, t2vm2, tenant2, iface-id" \
    incident_check "$alerts" new-port "t2vm2>br0" severity=low \
    port=t2vm2 tenant=tenant2 \
    iface_id=1f0c0000-0000-4000-8000-000002000002 target=br0 "count>1"
check -m "two incidents (none for t1vm9, registered)" \
    test "$(incident_count "$alerts")" = 2
check -m "no other incident type" test "$(incident_types "$alerts")" = \
    new-port

stop_daemon agent
stop_daemon analyzer
lab_down

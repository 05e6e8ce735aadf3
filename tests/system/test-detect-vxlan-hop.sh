#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end, detector "vxlan-hop" (analyzer/detect-vxlan-hop.c) on the
# two-tenant lab with tenant 2's VXLAN overlay (vnmon-lab up --vxlan: the
# userspace VTEP vx-t2 of br0, VNI 5002, to the kernel VTEP 192.168.100.2
# in the namespace NAME-vtep, which holds tenant 2's remote VM 10.0.0.250).
# Benign traffic runs all along: pings and HTTP inside tenant 1, and tenant
# 2's own traffic through the overlay (t2vm1 pings 10.0.0.250: VXLAN on the
# underlay port ul0, with a configured VNI and VTEP).  The two attacks of
# DESIGN.md section 3, from t1vm1 (tenant 1), with scapy, really hop:
#
#   1. VXLAN with tenant 2's VNI to the remote VTEP's underlay address,
#      routed through the host: the kernel VTEP decapsulates it into tenant
#      2's network (seen on its vxlan5002 device).  Incident target
#      "vni 5002 @ 192.168.100.2".
#   2. VXLAN to host0's address (10.0.0.1, where OVS's userspace datapath
#      terminates VXLAN once a VXLAN port exists) forging the remote VTEP's
#      source: OVS injects the inner frame through vx-t2 into tenant 2
#      (t2vm1 receives it).  Target "vni 5002 @ 10.0.0.1".
# And from the underlay:
#   3. The kernel VTEP sends VNI 5003, which no tunnel port takes: target
#      "vni 5003 @ 192.168.100.2", port ul0.
# Each raises one incident, critical, within 5 s, updated while it lasts;
# nothing else is raised.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

lab_up --tenants 2 --vms 2 --vxlan
[ "$VNM_LAB_VTEP_NS" = "$VNM_LAB_NAME-vtep" ] || fail "no VTEP namespace"

write_configs
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[flows]
idle_timeout = 3s
update_interval = 2s
CONF
conf=$VNM_LAB_DIR/etc/analyzer.conf
cat >>"$conf" <<CONF

[detector "vxlan-hop"]

[protected "host"]
prefixes = 10.0.0.1/32, fd00::1/128
services = udp/67, udp/547, udp/53, tcp/53, icmp
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
sleep 1                         # Taps bound, inventory read.

# Benign: tenant 1's HTTP and pings, tenant 2's traffic over the overlay;
# one process each, so that no child outlives them.
vm_bg t1vm2 "$PYTHON" -m http.server 8080 --bind 10.0.0.12
wait_for 10 vm_exec t1vm1 curl -sf -o /dev/null http://10.0.0.12:8080/ \
    || fail "HTTP server did not start"
check -m "tenant 2 reaches its remote VM through the overlay" \
    vm_ping t2vm1 10.0.0.250 2
BENIGN_PY='
import os, socket, struct, sys, time, urllib.request
peer, url = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1)
for seq in range(1, 1000000):
    hdr = struct.pack("!BBHHH", 8, 0, 0, os.getpid() & 0xffff, seq) + b"x" * 8
    n = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    n = (n >> 16) + (n & 0xffff)
    n = ~(n + (n >> 16)) & 0xffff
    s.sendto(hdr[:2] + struct.pack("!H", n) + hdr[4:], (peer, 0))
    try:
        s.recv(128)
        if url:
            urllib.request.urlopen(url, timeout=1).read()
    except OSError:
        pass
    time.sleep(0.5)'
vm_bg t1vm1 "$PYTHON" -c "$BENIGN_PY" 10.0.0.12 http://10.0.0.12:8080/
vm_bg t2vm1 "$PYTHON" -c "$BENIGN_PY" 10.0.0.250 ''

# check_bg DESCRIPTION PID: waits for the background command PID (vm_bg)
# and passes if it succeeded.
check_bg()
{
    local rc=0
    wait "$2" || rc=$?
    [ "$rc" = 0 ] || fail "$1 (exit status $rc)"
    pass "$1"
}

# wait_incident TARGET COND...: waits up to 5 s from $t0 (microseconds) for
# the vxlan-hop incident of TARGET meeting CONDs; reports the delay.
wait_incident()
{
    local target=$1 now
    shift
    check -m "vxlan-hop incident for $target within 5 s" \
        wait_for 5 incident_check "$alerts" vxlan-hop "$target" "$@"
    now=${EPOCHREALTIME/[.,]/}
    pass "alert $(( (now - t0) / 1000 )) ms after the attack started"
    [ $(( now - t0 )) -le 5000000 ] || fail "alert later than 5 s"
}

# Sends COUNT copies of the VXLAN packet built by the Python expression
# PACKET (scapy), one every 0.3 s, from eth0.
SEND_PY='
import sys, time
from scapy.all import IP, UDP, VXLAN, Ether, ICMP, Raw, conf, sendp
conf.verb = 0
packet = eval("(" + sys.argv[1] + ")")
for i in range(int(sys.argv[2])):
    sendp(packet, iface="eth0")
    time.sleep(0.3)'

# 1. Tenant 2's VNI to the remote VTEP, through the host's routing.
vm_bg "${VNM_LAB_VTEP_NS#"$VNM_LAB_NAME"-}" "$PYTHON" -c '
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("vxlan5002", 0))
s.settimeout(15)
while True:
    f = s.recv(2048)
    if f[14 + 9] == 1 and f[14 + 12:14 + 16] == bytes([10, 0, 0, 11]) \
       and b"hop1" in f:
        break'
sniff_pid=$BG_PID
t0=${EPOCHREALTIME/[.,]/}
vm_bg t1vm1 "$PYTHON" -c "$SEND_PY" '
Ether(src="02:00:00:00:01:01", dst="02:00:00:00:00:01")
/ IP(src="10.0.0.11", dst="192.168.100.2") / UDP(sport=40000, dport=4789)
/ VXLAN(vni=5002, flags=0x08)
/ Ether(src="02:00:00:00:01:01", dst="02:00:00:00:ff:fa")
/ IP(src="10.0.0.11", dst="10.0.0.250") / ICMP() / Raw(b"hop1")' 20
attack_pid=$BG_PID
wait_incident "vni 5002 @ 192.168.100.2" severity=critical
check_bg "the kernel VTEP decapsulated it into tenant 2's network" \
    "$sniff_pid"
wait "$attack_pid"

# 2. To host0, forging the remote VTEP: OVS injects the frame into tenant 2.
vm_bg t2vm1 "$PYTHON" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.21", 9999))
s.settimeout(15)
data, peer = s.recvfrom(64)
assert data == b"hop2" and peer[0] == "10.0.0.250", (data, peer)'
listen_pid=$BG_PID
t0=${EPOCHREALTIME/[.,]/}
vm_bg t1vm1 "$PYTHON" -c "$SEND_PY" '
Ether(src="02:00:00:00:01:01", dst="02:00:00:00:00:01")
/ IP(src="192.168.100.2", dst="10.0.0.1") / UDP(sport=40001, dport=4789)
/ VXLAN(vni=5002, flags=0x08)
/ Ether(src="02:00:00:00:ff:fa", dst="02:00:00:00:02:01")
/ IP(src="10.0.0.250", dst="10.0.0.21") / UDP(sport=5555, dport=9999)
/ Raw(b"hop2")' 20
attack_pid=$BG_PID
wait_incident "vni 5002 @ 10.0.0.1" severity=critical
check_bg "OVS injected the inner frame into tenant 2 (t2vm1 got it)" \
    "$listen_pid"
wait "$attack_pid"

# 3. The underlay: a VNI no tunnel port takes, from the known VTEP.  OVS
# says so too (0x138b = 5003).
ALLOWED_LOG_RE+=('[|]tunnel[|]WARN[|]receive tunnel port not found [(].*'\
'tun_id=0x138b,tun_src=192[.]168[.]100[.]2,')
t0=${EPOCHREALTIME/[.,]/}
vm_bg "${VNM_LAB_VTEP_NS#"$VNM_LAB_NAME"-}" "$PYTHON" -c "$SEND_PY" '
Ether(src="02:00:00:00:ff:02", dst="02:00:00:00:ff:01")
/ IP(src="192.168.100.2", dst="192.168.100.1") / UDP(sport=40002, dport=4789)
/ VXLAN(vni=5003, flags=0x08)
/ Ether(src="02:00:00:00:ff:fb", dst="02:00:00:00:02:01")
/ IP(src="10.0.0.251", dst="10.0.0.21") / ICMP() / Raw(b"hop3")' 20
attack_pid=$BG_PID
wait_incident "vni 5003 @ 192.168.100.2" severity=critical port=ul0
wait "$attack_pid"

sleep 4                         # The attacks' last records (idle 3 s).
check -m "attack 1: t1vm1, tenant1, to a VTEP with tenant2's VNI" \
    incident_check "$alerts" vxlan-hop "vni 5002 @ 192.168.100.2" \
    severity=critical port=t1vm1 tenant=tenant1 "summary~to a VTEP" \
    "summary~tenant2" "packets>5" "bytes>0" "count>1"
check -m "attack 2: t1vm1, to an internal address, forged VTEP" \
    incident_check "$alerts" vxlan-hop "vni 5002 @ 10.0.0.1" \
    severity=critical port=t1vm1 tenant=tenant1 "summary~forged VTEP" \
    "summary~protected network" "packets>5" "bytes>0" "count>1"
check -m "attack 3: ul0, unconfigured VNI and VTEP" \
    incident_check "$alerts" vxlan-hop "vni 5003 @ 192.168.100.2" \
    port=ul0 "summary~no tunnel port" "packets>5" "bytes>0" "count>1"
check -m "three incidents (none for the overlay's own traffic)" \
    test "$(incident_count "$alerts")" = 3
check -m "no other incident type" test "$(incident_types "$alerts")" = \
    vxlan-hop

stop_daemon agent
stop_daemon analyzer
lab_down

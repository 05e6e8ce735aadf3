#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end, detector "vlan-hop" (analyzer/detect-vlan-hop.c) on the
# two-tenant lab with VLANs (vnmon-lab up --vlan --trunk): t1vm1 is an
# access port of VLAN 101, t2vm1 of VLAN 102, and t1vm2 a trunk port
# (native-untagged, native VLAN 101, trunks 101 and 111).  Benign traffic
# runs all along: pings and HTTP in VLAN 101, and t1vm2's tagged frames in
# its trunked VLAN 111.  From VM namespaces, with scapy:
#
#   1. t1vm1 sends frames tagged VLAN 102 on its access port: target
#      "vlan 102" (OVS drops them: t2vm1 never sees them; the tap does).
#   2. t2vm1 sends double-tagged frames (802.1ad 102, 802.1Q 101): target
#      "vlan 102/101".
#   3. t1vm2 sends frames tagged VLAN 102, outside its trunk list: target
#      "vlan 102".
# Each raises one incident within 5 s, updated while it lasts; nothing
# else is raised.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

lab_up --tenants 2 --vms 2 --vlan --trunk

write_configs
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[flows]
idle_timeout = 3s
update_interval = 2s
CONF
conf=$VNM_LAB_DIR/etc/analyzer.conf
cat >>"$conf" <<CONF

[detector "vlan-hop"]
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

# Benign: HTTP and pings in VLAN 101 (t1vm1 access, t1vm2 native), in one
# process so that no child outlives it; t1vm2's ARP in trunked VLAN 111.
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
vm_bg t1vm2 "$PYTHON" -c '
import time
from scapy.all import ARP, Dot1Q, Ether, conf, sendp
conf.verb = 0
for i in range(1000000):
    sendp(Ether(src="02:00:00:00:01:02", dst="ff:ff:ff:ff:ff:ff")
          / Dot1Q(vlan=111) / ARP(psrc="10.1.11.12", pdst="10.1.11.99",
                                  hwsrc="02:00:00:00:01:02"), iface="eth0")
    time.sleep(1)'
check -m "the trunk port's native VLAN works" vm_ping t1vm1 10.0.0.12 2

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
# the vlan-hop incident of TARGET meeting CONDs; reports the delay.
wait_incident()
{
    local target=$1 now
    shift
    check -m "vlan-hop incident for $target ($*) within 5 s" \
        wait_for 5 incident_check "$alerts" vlan-hop "$target" "$@"
    now=${EPOCHREALTIME/[.,]/}
    pass "alert $(( (now - t0) / 1000 )) ms after the attack started"
    [ $(( now - t0 )) -le 5000000 ] || fail "alert later than 5 s"
}

# Sends 20 copies of the frame built by the Python expression FRAME
# (scapy), one every 0.3 s, from eth0.
SEND_PY='
import sys, time
from scapy.all import ICMP, IP, Dot1AD, Dot1Q, Ether, Raw, conf, sendp
conf.verb = 0
frame = eval("(" + sys.argv[1] + ")")
for i in range(20):
    sendp(frame, iface="eth0")
    time.sleep(0.3)'

# OVS says so when it drops the attacks' frames.
ALLOWED_LOG_RE+=('[|]ofproto_dpif_xlate[|]WARN[|]dropping VLAN 102 (tagged )?'\
'packet received on port (t1vm1|t2vm1|t1vm2) ')

# 1. A tagged frame on an access port; OVS drops it.
vm_bg t2vm1 "$PYTHON" -c '
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.settimeout(8)
try:
    while True:
        if b"hop-access" in s.recv(2048):
            raise SystemExit("t2vm1 received the tagged frame")
except socket.timeout:
    pass'
sniff_pid=$BG_PID
t0=${EPOCHREALTIME/[.,]/}
vm_bg t1vm1 "$PYTHON" -c "$SEND_PY" '
Ether(src="02:00:00:00:01:01", dst="02:00:00:00:02:01") / Dot1Q(vlan=102)
/ IP(src="10.0.0.11", dst="10.0.0.21") / ICMP() / Raw(b"hop-access")'
attack_pid=$BG_PID
wait_incident "t1vm1>vlan 102" port=t1vm1
check_bg "OVS dropped it (t2vm1 saw nothing)" "$sniff_pid"
wait "$attack_pid"

# 2. Double tagging from t2vm1.
t0=${EPOCHREALTIME/[.,]/}
vm_bg t2vm1 "$PYTHON" -c "$SEND_PY" '
Ether(src="02:00:00:00:02:01", dst="02:00:00:00:01:01")
/ Dot1AD(vlan=102) / Dot1Q(vlan=101)
/ IP(src="10.0.0.21", dst="10.0.0.11") / ICMP() / Raw(b"hop-double")'
attack_pid=$BG_PID
wait_incident "t2vm1>vlan 102/101" port=t2vm1
wait "$attack_pid"

# 3. A VLAN outside the trunk's list.
t0=${EPOCHREALTIME/[.,]/}
vm_bg t1vm2 "$PYTHON" -c "$SEND_PY" '
Ether(src="02:00:00:00:01:02", dst="02:00:00:00:02:01") / Dot1Q(vlan=102)
/ IP(src="10.0.0.12", dst="10.0.0.21") / ICMP() / Raw(b"hop-trunk")'
attack_pid=$BG_PID
wait_incident "t1vm2>vlan 102" port=t1vm2
wait "$attack_pid"

sleep 4                         # The attacks' last records (idle 3 s).
check -m "attack 1: access port t1vm1, tenant1" \
    incident_check "$alerts" vlan-hop "t1vm1>vlan 102" port=t1vm1 \
    tenant=tenant1 severity=high "summary~access port" "summary~tag 101" \
    "packets>5" "bytes>0" "count>1"
check -m "attack 2: double tagging from t2vm1, tenant2" \
    incident_check "$alerts" vlan-hop "t2vm1>vlan 102/101" port=t2vm1 \
    tenant=tenant2 severity=high "summary~double tagging" "packets>5" \
    "bytes>0" "count>1"
check -m "attack 3: outside the trunk list of t1vm2" \
    incident_check "$alerts" vlan-hop "t1vm2>vlan 102" port=t1vm2 \
    tenant=tenant1 "summary~trunk list" "summary~trunks 101,111" \
    "packets>5" "bytes>0" "count>1"
check -m "three incidents (none for VLAN 111 on the trunk)" \
    test "$(incident_count "$alerts")" = 3
check -m "no other incident type" test "$(incident_types "$alerts")" = \
    vlan-hop

stop_daemon agent
stop_daemon analyzer
lab_down

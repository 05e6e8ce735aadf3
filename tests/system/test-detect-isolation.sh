#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end, detector "isolation" (analyzer/detect-isolation.c) on two
# labs of two tenants, while benign traffic runs inside tenant 1 (pings and
# HTTP) and towards the host (DNS and DHCP from dnsmasq on host0):
#
#   1. Two tenants put on the same VLAN by mistake (the default untagged
#      lab): a cross-tenant ping is answered: one "isolation" incident,
#      "failed", severity high, target "t2vm1 (tenant2)".
#   2. Same lab: a VM connects to the host's protected address on a port
#      that is not a host service (tcp/22): one incident, target "host
#      10.0.0.1".  DNS and DHCP to the host raise nothing.
#   3. Tenants on their own VLANs (--vlan): a cross-tenant ping that OVS
#      drops (the attacker knows the victim's MAC): one incident,
#      "attempted", severity medium, never "failed".
# Each within 5 s of the attack's start, updated while it lasts, and no
# other incident of any type.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

alerts=

# Configures and starts the agent and the analyzer on the lab that is up.
up_daemons()
{
    local conf
    write_configs
    cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[flows]
idle_timeout = 3s
update_interval = 2s
CONF
    cat >>"$VNM_LAB_DIR/etc/analyzer.conf" <<CONF

[detector "isolation"]

[protected "host"]
prefixes = 10.0.0.1/32, fd00::1/128
services = udp/67, udp/547, udp/53, tcp/53, icmp
CONF
    # Incident updates delivered at most once a second; the archive in the
    # lab.
    conf=$VNM_LAB_DIR/etc/analyzer.conf
    sed -i 's/^\[analyzer\]$/&\nupdate_interval = 1s/' "$conf"
    if ! grep -q '^archive' "$conf"; then
        sed -i "s|^\\[analyzer\\]\$|&\\narchive = $VNM_LAB_DIR/arch.jsonl|" \
            "$conf"
    fi
    alerts=$VNM_LAB_DIR/alerts.jsonl
    start_agent
    start_analyzer
    check -m "both daemons up" wait_for 10 both_up
    sleep 1                     # Taps bound, inventory read.
}

# Benign traffic inside tenant 1, until the lab goes down.
benign_traffic()
{
    vm_bg t1vm2 "$PYTHON" -m http.server 8080 --bind 10.0.0.12
    wait_for 10 vm_exec t1vm1 curl -sf -o /dev/null http://10.0.0.12:8080/ \
        || fail "HTTP server did not start"
    # One process (no child left behind when it is killed): a ping and an
    # HTTP fetch every half second.
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
}

# wait_incident TARGET COND...: waits up to 5 s from $t0 (microseconds) for
# the isolation incident of TARGET meeting CONDs; reports the delay.
wait_incident()
{
    local target=$1 now
    shift
    check -m "isolation incident for $target within 5 s" \
        wait_for 5 incident_check "$alerts" isolation "$target" "$@"
    now=${EPOCHREALTIME/[.,]/}
    pass "alert $(( (now - t0) / 1000 )) ms after the attack started"
    [ $(( now - t0 )) -le 5000000 ] || fail "alert later than 5 s"
}

# ----------------------------------------------------- the flat lab

lab_up --tenants 2 --vms 2
up_daemons

# dnsmasq on host0: the host's DNS and DHCP services.
ip netns exec "$VNM_LAB_NETNS" dnsmasq --keep-in-foreground --no-resolv \
    --no-hosts --bind-interfaces --interface=host0 --except-interface=lo \
    --listen-address=10.0.0.1 --address=/lab.test/10.0.0.1 \
    --dhcp-range=10.0.0.100,10.0.0.150,1h --no-ping \
    --dhcp-leasefile="$VNM_LAB_DIR/dnsmasq.leases" --pid-file= \
    --log-facility="$VNM_LAB_DIR/dnsmasq.log" &
register_pid $!
benign_traffic

# 1. The cross-tenant ping, answered.
t0=${EPOCHREALTIME/[.,]/}
vm_bg t1vm1 ping -n -i 0.5 -c 14 10.0.0.21
ping_pid=$BG_PID
wait_incident "t2vm1 (tenant2)" severity=high
wait "$ping_pid" || fail "the cross-tenant ping was not answered"

# 2. To the host, port 22 (answered by a RST: the packets got through).
t0=${EPOCHREALTIME/[.,]/}
vm_bg t2vm2 "$PYTHON" -c '
import socket, time
for i in range(10):
    try:
        socket.create_connection(("10.0.0.1", 22), 0.5).close()
    except OSError:
        pass
    time.sleep(0.5)'
ssh_pid=$BG_PID
wait_incident "host 10.0.0.1"
wait "$ssh_pid"

# DNS and DHCP to the host: host services.
check -m "DNS to the host is answered" vm_exec t1vm2 "$PYTHON" -c '
import socket, struct
q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p for p in (b"lab", b"test")) + b"\0"
q += struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for i in range(3):
    s.sendto(q, ("10.0.0.1", 53))
    r = s.recv(512)
    assert r[:2] == q[:2] and struct.unpack("!H", r[6:8])[0] >= 1, r'
check -m "DHCP discover from t1vm2 gets an offer" vm_exec t1vm2 "$PYTHON" -c '
from scapy.all import BOOTP, DHCP, IP, UDP, Ether, conf, srp1
conf.checkIPaddr = False
conf.verb = 0
mac = "02:00:00:00:01:02"
p = (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff")
     / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67)
     / BOOTP(chaddr=bytes.fromhex(mac.replace(":", "")), xid=0x5eed,
             flags=0x8000)
     / DHCP(options=[("message-type", "discover"), "end"]))
r = srp1(p, iface="eth0", timeout=5)
assert r is not None and r.haslayer(DHCP), "no offer"'

sleep 4                         # The attacks' last records (idle 3 s).
check -m "the ping incident: failed, named, counted, updated" \
    wait_for 15 incident_check "$alerts" isolation "t2vm1 (tenant2)" \
    severity=high port=t1vm1 tenant=tenant1 "summary~isolation failed" \
    "summary~10.0.0.21" "packets>0" "bytes>0" "count>1"
check -m "the host incident names t2vm2, tenant2, tcp/22" \
    incident_check "$alerts" isolation "host 10.0.0.1" port=t2vm2 \
    tenant=tenant2 "summary~TCP/22" "packets>0" "bytes>0"
check -m "two isolation incidents only (none for DNS, DHCP, HTTP, ping)" \
    test "$(incident_count "$alerts" isolation)" = 2
check -m "no other incident type" test "$(incident_types "$alerts")" = \
    isolation

stop_daemon agent
stop_daemon analyzer
lab_down

# ------------------------------------------------- tenants on VLANs

lab_up --tenants 2 --vms 2 --vlan
up_daemons
benign_traffic

# 3. t1vm1 knows t2vm1's MAC, but OVS keeps VLAN 101 from VLAN 102.
vm_exec t1vm1 ip neigh replace 10.0.0.21 lladdr 02:00:00:00:02:01 \
    dev eth0 nud permanent
t0=${EPOCHREALTIME/[.,]/}
vm_bg t1vm1 ping -n -i 0.5 -c 10 10.0.0.21
ping_pid=$BG_PID
wait_incident "t2vm1 (tenant2)" severity=medium "summary~attempted"
if wait "$ping_pid"; then
    fail "OVS let VLAN 101 reach VLAN 102"
fi
sleep 4
check -m "the dropped ping: attempted only, medium, updated" \
    incident_check "$alerts" isolation "t2vm1 (tenant2)" severity=medium \
    port=t1vm1 tenant=tenant1 "summary~isolation attempted" "packets>0" \
    "bytes>0" "count>1"
check -m "never failed" bash -c "! grep -q 'isolation failed' '$alerts'"
check -m "one incident, no other type" \
    test "$(incident_count "$alerts")" = 1

stop_daemon agent
stop_daemon analyzer
lab_down

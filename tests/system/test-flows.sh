#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# vnmon-agent end to end on a two-tenant lab (2 x 2 VMs), once with each tap
# (netdev, then flow): ping, HTTP, DNS and TLS between VMs of one tenant and
# of two, and to the host port; then the agent's flow records must name the
# right ports, VMs, tenants, classes and nDPI protocols.  Also: a frame from
# t1vm1 forged with t1vm2's MAC and IP is attributed to t1vm1's port.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

lab_up --tenants 2 --vms 2

# Servers: HTTP on t1vm2, DNS on t2vm1, TLS on t2vm2.
vm_bg t1vm2 "$PYTHON" -m http.server 8080 --bind 10.0.0.12
vm_bg t2vm1 dnsmasq --no-daemon --no-resolv --no-hosts --port=53 \
    --listen-address=10.0.0.21 --bind-interfaces \
    --address=/www.vnmon.test/10.0.0.99 --pid-file= --log-facility=-
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=tls.vnmon.test \
    -keyout "$VNM_LAB_DIR/tls.key" -out "$VNM_LAB_DIR/tls.crt" 2>/dev/null
vm_bg t2vm2 openssl s_server -quiet -accept 443 -www \
    -cert "$VNM_LAB_DIR/tls.crt" -key "$VNM_LAB_DIR/tls.key"
wait_for 10 vm_exec t1vm1 "$PYTHON" -c '
import socket; socket.create_connection(("10.0.0.12", 8080), 1).close()' \
    || fail "HTTP server did not start"
wait_for 10 vm_exec t1vm1 "$PYTHON" -c '
import socket; socket.create_connection(("10.0.0.22", 443), 1).close()' \
    || fail "TLS server did not start"

# DNS query for www.vnmon.test, by hand (no dig here).
dns_query()
{
    vm_exec "$1" "$PYTHON" -c '
import socket, struct, sys
q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
for label in b"www.vnmon.test".split(b"."):
    q += bytes([len(label)]) + label
q += b"\0" + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(q, (sys.argv[1], 53))
r = s.recv(512)
assert r[:2] == q[:2] and r[3] & 0xf == 0, r
assert bytes([10, 0, 0, 99]) in r, r
' "$2"
}

traffic()
{
    check -m "ping t1vm1 -> t1vm2" vm_ping t1vm1 10.0.0.12 3
    check -m "ping t1vm1 -> host" vm_ping t1vm1 10.0.0.1 2
    check -m "HTTP t1vm1 -> t1vm2" vm_exec t1vm1 curl -sf -o /dev/null \
        http://10.0.0.12:8080/
    check -m "DNS t1vm1 -> t2vm1" dns_query t1vm1 10.0.0.21
    check -m "TLS t1vm1 -> t2vm2" vm_exec t1vm1 curl -sfk -o /dev/null \
        --resolve tls.vnmon.test:443:10.0.0.22 https://tls.vnmon.test/
    # A frame from t1vm1 wearing t1vm2's MAC and IP (UDP to t2vm1:9999).
    check -m "forged frame sent" vm_exec t1vm1 "$PYTHON" -c '
from scapy.all import Ether, IP, UDP, Raw, sendp
sendp(Ether(src="02:00:00:00:01:02", dst="02:00:00:00:02:01") /
      IP(src="10.0.0.12", dst="10.0.0.21") / UDP(sport=4242, dport=9999) /
      Raw(b"forged"), iface="eth0", verbose=False)'
}

# records_match PYTHON-ASSERTIONS: runs them on the records file.
check_records()
{
    local tap=$1
    "$PYTHON" - "$VNM_LAB_DIR/records-$tap.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert recs, "no flow records"

def find(desc, **want):
    for r in recs:
        if all(get(r, k) == v for k, v in want.items()):
            return r
    raise AssertionError("no record for %s; have:\n%s" % (desc, "\n".join(
        "%s %s:%s > %s:%s %s %s %s" % (r["class"], r["src"]["ip"],
        r["src"]["port"], r["dst"]["ip"], r["dst"]["port"], r["app"],
        r["src"]["in"]["port"], r["dst"]["in"]["port"]) for r in recs)))

def get(r, path):
    for p in path.split("__"):
        r = r[p]
    return r

vm = {"t1vm1": "564d0000-0000-4000-8000-000001000001",
      "t1vm2": "564d0000-0000-4000-8000-000001000002",
      "t2vm1": "564d0000-0000-4000-8000-000002000001",
      "t2vm2": "564d0000-0000-4000-8000-000002000002"}

def side(r, which, port, tenant):
    e = r[which]["in"]
    assert e["port"] == port, (which, e)
    assert e["tenant"] == tenant, (which, e)
    assert e["vm"] == vm[port], (which, e)
    assert e["ofport"] > 0, (which, e)

ping = find("ping t1vm1 > t1vm2", ip_proto=1, src__ip="10.0.0.11",
            dst__ip="10.0.0.12")
assert ping["class"] == "vm-vm-same-tenant", ping
assert ping["app"] == "ICMP", ping
assert ping["src"]["packets"] >= 3 and ping["dst"]["packets"] >= 3, ping
side(ping, "src", "t1vm1", "tenant1")
side(ping, "dst", "t1vm2", "tenant1")

host = find("ping t1vm1 > host", ip_proto=1, src__ip="10.0.0.11",
            dst__ip="10.0.0.1")
assert host["class"] == "vm-host", host
side(host, "src", "t1vm1", "tenant1")

http = find("HTTP", ip_proto=6, src__ip="10.0.0.11", dst__port=8080)
assert http["class"] == "vm-vm-same-tenant", http
assert "HTTP" in (http["app"], http["master"]), http
side(http, "src", "t1vm1", "tenant1")
side(http, "dst", "t1vm2", "tenant1")

dns = find("DNS", ip_proto=17, src__ip="10.0.0.11", dst__port=53)
assert dns["class"] == "vm-vm-cross-tenant", dns
assert "DNS" in (dns["app"], dns["master"]), dns
assert dns["server_name"] == "www.vnmon.test", dns
side(dns, "src", "t1vm1", "tenant1")
side(dns, "dst", "t2vm1", "tenant2")

tls = find("TLS", ip_proto=6, src__ip="10.0.0.11", dst__port=443)
assert tls["class"] == "vm-vm-cross-tenant", tls
assert "TLS" in (tls["app"], tls["master"]), tls
assert tls["server_name"] == "tls.vnmon.test", tls
side(tls, "src", "t1vm1", "tenant1")
side(tls, "dst", "t2vm2", "tenant2")

forged = find("forged", ip_proto=17, src__ip="10.0.0.12", dst__port=9999)
assert forged["src"]["mac"] == "02:00:00:00:01:02", forged
side(forged, "src", "t1vm1", "tenant1")
print("%d records checked" % len(recs))
PY
}

for tap in netdev flow; do
    write_configs
    sed -i "s/^\[ovs\]\$/[ovs]\ntap = $tap/" "$VNM_LAB_DIR/etc/agent.conf"
    cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[networks]
host = 10.0.0.1, fd00::1

[flows]
workers = 2
idle_timeout = 2s
tcp_closed_timeout = 1s
update_interval = 0
records_file = $VNM_LAB_DIR/records-$tap.jsonl
CONF
    start_agent
    check -m "agent ($tap tap) up" wait_for 10 sh -c \
        "'$VNMONCTL' --redis unix:$VNM_REDIS_SOCK status --json | grep -q '\"synced\": true'"
    sleep 1                     # Taps bound to the ports of the inventory.
    traffic
    sleep 3                     # Idle timeouts end the flows.
    check -m "per-port tap counters in status ($tap tap)" "$PYTHON" -c '
import json, subprocess, sys
doc = json.loads(subprocess.run([sys.argv[1], "--redis", sys.argv[2], "status",
                                 "--json"], stdout=subprocess.PIPE).stdout)
a = [d for d in doc["daemons"] if d["name"] == "agent"][0]
tap = a["netdev_tap"] if sys.argv[3] == "netdev" else a["flow_taps"]["br0"]
pp = tap["per_port"]
assert pp["t1vm1"]["packets"] >= 10 and pp["t1vm1"]["bytes"] > 0, pp
assert pp["t2vm2"]["packets"] > 0, pp
assert tap["ring_drops"] == 0, tap
assert a["capture"]["frames"] >= tap["packets"] > 0, (a["capture"], tap)
' "$VNMONCTL" "unix:$VNM_REDIS_SOCK" "$tap"
    stop_daemon agent
    check -m "flow records are right ($tap tap)" check_records "$tap"
done

# The flow tap left the OpenFlow table as it found it.
check -m "no flow of the tap left" sh -c \
    "! ip netns exec '$VNM_LAB_NETNS' env OVS_RUNDIR='$OVS_RUNDIR' \
       ovs-ofctl dump-flows br0 cookie=0x766e6d6f6e000000/-1 | grep -q cookie"

lab_down

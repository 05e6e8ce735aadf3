#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The "geoip" enricher (issue 4, item 6) in a live agent: flows to and from
# addresses of the test MaxMind databases (tests/data/mkmmdb.pl, built
# here) carry the peer's country, AS number and organisation, in the
# records file and in the Redis stream vnm:{HOST}:flows; flows between VMs
# carry none; the plugin's counters show in `vnmonctl status`.  A missing
# database stops the agent at startup with a line naming it.
#
# Nothing leaves the lab: t1vm1 gets routes to the documentation networks
# via host0 (10.0.0.1, fd00::1, in the lab's OVS namespace), which has no
# route to them, so the frames cross OVS (where the taps see them) and die
# in that namespace.  The external-to-VM flow is a frame that scapy sends
# from host0 itself towards t1vm1; it is seen by the flow tap, which taps
# every port (the netdev tap skips internal ports).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

lab_up --tenants 1 --vms 2

DB=$VNM_LAB_DIR/geoip
mkdir -p "$DB"
check -m "test databases built" perl "$VNM_TOP/tests/data/mkmmdb.pl" "$DB"

# Nothing sent to the documentation networks can leave the lab.
for dst in 198.51.100.7 203.0.113.9 192.0.2.1 2001:db8:1::5; do
    ! ip -n "$VNM_LAB_NETNS" route get "$dst" >/dev/null 2>&1 \
        || fail "the lab's OVS namespace has a route to $dst"
    ! vm_exec t1vm1 ip route get "$dst" >/dev/null 2>&1 \
        || fail "t1vm1 has a route to $dst already"
done
pass "no route out of the lab to the test networks"
vm_exec t1vm1 ip route add 198.51.100.0/24 via 10.0.0.1
vm_exec t1vm1 ip route add 203.0.113.0/24 via 10.0.0.1
vm_exec t1vm1 ip route add 192.0.2.0/24 via 10.0.0.1
vm_exec t1vm1 ip -6 route add 2001:db8:1::/48 via fd00::1
HOST0_MAC=$(ip -n "$VNM_LAB_NETNS" -o link show host0 \
    | sed -n 's|.*link/ether \([0-9a-f:]*\) .*|\1|p')
[ -n "$HOST0_MAC" ] || fail "no MAC for host0"

# udp_to VM ADDR: three UDP datagrams from VM to ADDR:9999.
udp_to()
{
    vm_exec "$1" "$PYTHON" -c '
import socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET,
                  socket.SOCK_DGRAM)
for i in range(3):
    s.sendto(b"vnmon geoip test", (a, 9999))' "$2"
}

# configure TAP: the agent's configuration, for that tap.
configure()
{
    write_configs
    sed -i "s/^\[ovs\]\$/[ovs]\ntap = $1/" "$VNM_LAB_DIR/etc/agent.conf"
    cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[enricher "geoip"]
country_db = $DB/country.mmdb
asn_db = $DB/asn.mmdb

[networks]
host = 10.0.0.1, fd00::1

[flows]
idle_timeout = 2s
update_interval = 0
records_file = $VNM_LAB_DIR/records-$1.jsonl
CONF
}

# --- A missing database: the start fails, naming key and file.
configure netdev
sed -i "s|^asn_db = .*|asn_db = $DB/missing.mmdb|" "$VNM_LAB_DIR/etc/agent.conf"
rc=0
out=$("$AGENT" -c "$VNM_LAB_DIR/etc/agent.conf" --check-config 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "missing asn_db: exit $rc ($out)"
case $out in
*"asn_db: $DB/missing.mmdb: cannot open (No such file or directory)"*) ;;
*) fail "missing asn_db: got '$out'" ;;
esac
case $out in
*"init of enricher \"geoip\" failed"*) ;;
*) fail "missing asn_db: got '$out'" ;;
esac
pass "refused: $(printf '%s' "$out" | tr '\n' ' ')"

for tap in netdev flow; do
    configure "$tap"
    start_agent
    check -m "agent ($tap tap) up" wait_for 10 sh -c \
        "'$VNMONCTL' --redis unix:$VNM_REDIS_SOCK status --json | grep -q '\"synced\": true'"
    sleep 1                 # Taps bound to the ports of the inventory.
    check -m "UDP t1vm1 -> 198.51.100.7" udp_to t1vm1 198.51.100.7
    check -m "UDP t1vm1 -> 2001:db8:1::5" udp_to t1vm1 2001:db8:1::5
    check -m "UDP t1vm1 -> 192.0.2.1 (country only)" \
        udp_to t1vm1 192.0.2.1
    check -m "ping t1vm1 -> t1vm2 (no external peer)" vm_ping t1vm1 10.0.0.12
    if [ "$tap" = flow ]; then
        check -m "frame 203.0.113.9 -> t1vm1 sent from host0" \
            ip netns exec "$VNM_LAB_NETNS" "$PYTHON" -c '
import sys
from scapy.all import Ether, IP, UDP, Raw, sendp
sendp(Ether(src=sys.argv[1], dst="02:00:00:00:01:01") /
      IP(src="203.0.113.9", dst="10.0.0.11") / UDP(sport=4433, dport=9998) /
      Raw(b"from outside"), iface="host0", count=2, verbose=False)' \
            "$HOST0_MAC"
    fi
    sleep 3                 # Idle timeouts end the flows.

    # The plugin's counters, through vnmonctl status.
    counters=$(status_field agent plugins | "$PYTHON" -c '
import json, sys
p = [p for p in json.load(sys.stdin) if p["name"] == "geoip"][0]
print(json.dumps(p["counters"], sort_keys=True))')
    stop_daemon agent

    "$PYTHON" - "$VNM_LAB_DIR/records-$tap.jsonl" "$tap" "$counters" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
tap, counters = sys.argv[2], json.loads(sys.argv[3])

def find(**want):
    hits = [r for r in recs if all(
        (r[k.split("__")[0]][k.split("__")[1]] if "__" in k else r[k]) == v
        for k, v in want.items())]
    assert hits, "no record %s in:\n%s" % (want, "\n".join(
        "%s %s > %s %s" % (r["class"], r["src"]["ip"], r["dst"]["ip"],
                           r["labels"]) for r in recs))
    return hits[0]

fr = find(src__ip="10.0.0.11", dst__ip="198.51.100.7")
assert fr["class"] == "vm-external", fr
assert fr["labels"]["peer_country"] == "FR", fr["labels"]
assert fr["labels"]["peer_asn"] == "64500", fr["labels"]
assert fr["labels"]["peer_org"] == "Example Org", fr["labels"]
assert fr["labels"]["site"] == "lab", fr["labels"]   # The other enricher.
print("ok - %s tap: 10.0.0.11 > 198.51.100.7 %s" % (tap, fr["labels"]))

de = find(src__ip="fd00::11", dst__ip="2001:db8:1::5")
assert de["class"] == "vm-external", de
assert (de["labels"]["peer_country"], de["labels"]["peer_asn"],
        de["labels"]["peer_org"]) == ("DE", "64502", "Example IPv6 GmbH"), de
print("ok - %s tap: fd00::11 > 2001:db8:1::5 %s" % (tap, de["labels"]))

us = find(src__ip="10.0.0.11", dst__ip="192.0.2.1")
assert us["labels"].get("peer_country") == "US", us["labels"]
assert "peer_asn" not in us["labels"], us["labels"]

ping = find(src__ip="10.0.0.11", dst__ip="10.0.0.12", ip_proto=1)
assert ping["class"] == "vm-vm-same-tenant", ping
assert not [k for k in ping["labels"] if k.startswith("peer_")], ping
n = 3
if tap == "flow":
    jp = find(src__ip="203.0.113.9", dst__ip="10.0.0.11")
    assert jp["class"] == "external-vm", jp
    assert jp["labels"]["peer_country"] == "JP", jp["labels"]
    assert jp["labels"]["peer_asn"] == "64501", jp["labels"]
    print("ok - %s tap: 203.0.113.9 > 10.0.0.11 %s" % (tap, jp["labels"]))
    n = 4
assert counters["lookups"] >= n, counters
assert counters["country_hits"] >= n, counters
assert counters["asn_hits"] >= n - 1, counters
print("ok - %s tap: plugin counters %s" % (tap, counters))
PY
    pass "flow records carry country and ASN ($tap tap)"
done

# The same labels in the Redis stream that analyzers read.
redis-cli -s "$VNM_REDIS_SOCK" --raw XRANGE "vnm:{$VNM_LAB_NAME}:flows" - + \
    >"$VNM_LAB_DIR/stream.txt"
"$PYTHON" - "$VNM_LAB_DIR/stream.txt" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
fr = [r for r in recs if r["dst"]["ip"] == "198.51.100.7"]
assert len(fr) == 2, len(fr)          # One per tap.
for r in fr:
    assert (r["labels"]["peer_country"], r["labels"]["peer_asn"]) == (
        "FR", "64500"), r
jp = [r for r in recs if r["src"]["ip"] == "203.0.113.9"]
assert jp and jp[0]["labels"]["peer_country"] == "JP", jp
print("ok - %d records in the stream, the external ones labelled"
      % len(recs))
PY
pass "the Redis stream carries the labels"

lab_down

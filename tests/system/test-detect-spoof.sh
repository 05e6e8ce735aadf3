#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end: the spoofing and rogue-server detectors (ip-spoof, mac-spoof,
# arp-spoof, nd-spoof, rogue-dhcp, rogue-ra) on a two-tenant lab.  While
# benign traffic runs (HTTP and pings inside each tenant, IPv4 and IPv6),
# t1vm1 sends, one after the other, with scapy: IP from another VM's
# address and from an unused one, frames from a forged MAC, an ARP reply
# poisoning t1vm2's cache ("t2vm1's IP is-at t1vm1's MAC"), a gratuitous
# ARP claiming t1vm2's IP, an IPv6 NA for t1vm2's address, a DHCP OFFER
# and a router advertisement, each for 3 s.  Each must raise, within 5 s of
# its first frame, exactly one incident of its type naming t1vm1, its port,
# tenant and VM and the right target, with packets and bytes, updated while
# it lasts; nothing else may be raised.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

T1VM1_MAC=02:00:00:00:01:01
T1VM2_MAC=02:00:00:00:01:02
T1VM1_VM=564d0000-0000-4000-8000-000001000001
T1VM1_IFACE=1f0c0000-0000-4000-8000-000001000001

lab_up --tenants 2 --vms 2
write_configs
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[flows]
idle_timeout = 3s
update_interval = 1s
CONF
# analyzer_set KEY VALUE: sets KEY of [analyzer] (the first section).
analyzer_set()
{
    local conf=$VNM_LAB_DIR/etc/analyzer.conf
    if grep -q "^$1 *=" "$conf"; then
        sed -i "s|^$1 *=.*|$1 = $2|" "$conf"
    else
        sed -i "s|^\\[analyzer\\]\$|&\\n$1 = $2|" "$conf"
    fi
}
# Incident updates every second; the archive in the lab.
analyzer_set update_interval 1s
analyzer_set archive "$VNM_LAB_DIR/incidents.jsonl"
cat >>"$VNM_LAB_DIR/etc/analyzer.conf" <<CONF

[tenancy]
learn = off

[detector "ip-spoof"]
[detector "mac-spoof"]
[detector "arp-spoof"]
[detector "nd-spoof"]
[detector "rogue-dhcp"]
[detector "rogue-ra"]
CONF
alerts=$VNM_LAB_DIR/alerts.jsonl

start_agent
start_analyzer
check -m "both daemons up" wait_for 10 both_up
sleep 1                         # Taps bound, analyzer's group created.

# Benign traffic, all along: HTTP and pings within each tenant.
vm_bg t1vm2 "$PYTHON" -m http.server 8080 --bind 10.0.0.12 2>/dev/null
wait_for 10 vm_exec t1vm1 curl -sf -o /dev/null http://10.0.0.12:8080/ \
    || fail "HTTP server did not start"
vm_bg t1vm1 "$PYTHON" -c '
import time, urllib.request
while True:
    try:
        urllib.request.urlopen("http://10.0.0.12:8080/", timeout=2).read()
    except OSError:
        pass
    time.sleep(0.5)'
vm_bg t1vm1 ping -n -q -i 0.5 10.0.0.12 >/dev/null
vm_bg t1vm2 ping -n -q -i 0.5 fd00::11 >/dev/null
vm_bg t2vm1 ping -n -q -i 0.5 10.0.0.22 >/dev/null
vm_bg t2vm2 ping -n -q -i 0.5 fd00::21 >/dev/null
sleep 4
check -m "benign traffic alone raises nothing" \
    test ! -s "$alerts"

# The attacks: scapy in t1vm1, 4 frames a second for 3 s.  The script
# writes the time of its first frame to $start, and how many it sent to
# $start.n.
SCAPY_PRELUDE='
import sys, time
from scapy.all import (ARP, BOOTP, DHCP, ICMPv6ND_NA, ICMPv6ND_RA,
                       ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IP, IPv6,
                       UDP, Ether, conf)
conf.verb = 0
ME, T1VM2 = "02:00:00:00:01:01", "02:00:00:00:01:02"
BCAST = "ff:ff:ff:ff:ff:ff"

def run(frame, seconds=3.0, interval=0.25):
    s = conf.L2socket(iface="eth0")
    with open(sys.argv[1], "w") as f:
        f.write(repr(time.time()))
    end = time.time() + seconds
    n = 0
    while time.time() < end:
        s.send(frame)
        n += 1
        time.sleep(interval)
    s.close()
    with open(sys.argv[1] + ".n", "w") as f:
        f.write("%d" % n)
'

# has_incident TYPE TARGET: an incident record of TYPE for TARGET arrived.
has_incident()
{
    "$PYTHON" - "$alerts" "$1" "$2" <<'PY'
import json, sys
path, typ, target = sys.argv[1:]
try:
    lines = open(path).read().splitlines()
except OSError:
    sys.exit(1)
for line in lines:
    a = json.loads(line)
    if a.get("type", a.get("kind")) == typ and a.get("target") == target:
        sys.exit(0)
sys.exit(1)
PY
}

ATTACKS=()                      # "TYPE TARGET FRAMES" of each attack.

# attack TYPE TARGET SCAPY: runs SCAPY (after the prelude) in t1vm1 and
# checks that incident TYPE for TARGET came within 5 s of its first frame.
attack()
{
    local type=$1 target=$2 script=$3 start t0 t1 ms pid
    start=$VNM_LAB_DIR/start-$type-${#ATTACKS[@]}
    vm_bg t1vm1 "$PYTHON" -c "$SCAPY_PRELUDE$script" "$start"
    pid=$BG_PID
    wait_for 10 has_incident "$type" "$target" \
        || fail "no $type incident for $target"
    t1=${EPOCHREALTIME/[.,]/}
    [ -s "$start" ] || fail "$type: scapy wrote no start time"
    t0=$("$PYTHON" -c '
import sys
print(int(float(open(sys.argv[1]).read()) * 1e6))' "$start")
    ms=$(( (t1 - t0) / 1000 ))
    [ "$ms" -lt 5000 ] || fail "$type for $target took $ms ms (> 5 s)"
    pass "$type incident for $target $ms ms after the attack started"
    wait "$pid" || fail "$type: scapy failed"
    ATTACKS+=("$type $target $(cat "$start.n")")
}

attack ip-spoof 10.0.0.21 '
run(Ether(src=ME, dst=T1VM2) / IP(src="10.0.0.21", dst="10.0.0.12")
    / UDP(sport=40000, dport=9999) / (b"x" * 64))'
attack ip-spoof 10.0.0.99 '
run(Ether(src=ME, dst=T1VM2) / IP(src="10.0.0.99", dst="10.0.0.12")
    / UDP(sport=40000, dport=9999) / (b"x" * 64))'
attack mac-spoof 02:00:00:00:01:99 '
run(Ether(src="02:00:00:00:01:99", dst=T1VM2)
    / IP(src="10.0.0.11", dst="10.0.0.12")
    / UDP(sport=40001, dport=9998) / (b"x" * 64))'
attack arp-spoof 10.0.0.21 '
run(Ether(src=ME, dst=T1VM2)
    / ARP(op=2, hwsrc=ME, psrc="10.0.0.21", hwdst=T1VM2, pdst="10.0.0.12"))'
attack arp-spoof 10.0.0.12 '
run(Ether(src=ME, dst=BCAST)
    / ARP(op=1, hwsrc=ME, psrc="10.0.0.12", hwdst="00:00:00:00:00:00",
          pdst="10.0.0.12"))'
attack nd-spoof fd00::12 '
run(Ether(src=ME, dst="33:33:00:00:00:01")
    / IPv6(src="fd00::11", dst="ff02::1", hlim=255)
    / ICMPv6ND_NA(tgt="fd00::12", R=0, S=0, O=1)
    / ICMPv6NDOptDstLLAddr(lladdr=ME))'
attack rogue-dhcp 255.255.255.255 '
run(Ether(src=ME, dst=BCAST)
    / IP(src="10.0.0.11", dst="255.255.255.255")
    / UDP(sport=67, dport=68)
    / BOOTP(op=2, xid=0x1234, yiaddr="10.0.0.77", siaddr="10.0.0.11",
            chaddr=bytes.fromhex("020000000202"))
    / DHCP(options=[("message-type", "offer"), ("server_id", "10.0.0.11"),
                    ("lease_time", 600), ("subnet_mask", "255.255.255.0"),
                    "end"]))'
# Router lifetime 0 and no prefix: the other VMs configure nothing from it.
attack rogue-ra ff02::1 '
run(Ether(src=ME, dst="33:33:00:00:00:01")
    / IPv6(src="fe80::1:1", dst="ff02::1", hlim=255)
    / ICMPv6ND_RA(routerlifetime=0) / ICMPv6NDOptSrcLLAddr(lladdr=ME))'

# The agent's last updates (1 s) and the analyzer's (1 s), then the ends
# of the attack flows (idle 3 s).
sleep 5

"$PYTHON" - "$alerts" "$VNM_LAB_NAME" "$T1VM1_VM" "$T1VM1_IFACE" \
    "$T1VM1_MAC" "${ATTACKS[@]}" <<'PY' || fail "incidents not as expected"
import collections, json, sys
path, lab, vm_id, iface_id, mac = sys.argv[1:6]
frames = {}
for a in sys.argv[6:]:
    typ_, target, n = a.split(" ")
    frames[(typ_, target)] = int(n)
records = [json.loads(l) for l in open(path)]

def typ(a):
    return a.get("type", a.get("kind"))

def field(a, name):
    # The alert record of doc/alerts.md; "vm" was once an object.
    v = a.get(name)
    if isinstance(a.get("vm"), dict) and name in ("port", "vm", "iface_id"):
        v = a["vm"].get(name)
    return v

by_incident = collections.defaultdict(list)
for a in records:
    by_incident[a["id"]].append(a)

expected = set(frames)
seen = {}
for inc, recs in by_incident.items():
    key = (typ(recs[0]), recs[0].get("target"))
    assert key in expected, ("unexpected incident", recs[-1])
    assert key not in seen, ("two incidents for", key, recs[-1],
                             by_incident[seen[key]][-1])
    seen[key] = inc
    for a in recs:
        assert typ(a) == key[0] and a.get("target") == key[1], a
        assert field(a, "port") == "t1vm1", a
        assert field(a, "vm") == vm_id, a
        assert field(a, "iface_id") == iface_id, a
        assert a.get("tenant") == "tenant1", a
        assert a.get("severity") == "high", a
        assert a.get("key") in (None, "%s/t1vm1>%s" % (lab, key[1])), a
        assert a.get("summary"), a
        assert a.get("evidence"), a
    last = recs[-1]
    assert last["packets"] > 0 and last["bytes"] > 0, last
    # Updated while the attack lasted: more emissions merged, and the
    # counters grew from the first record to the last.
    assert last["count"] >= 2, ("not updated", recs)
    assert len(recs) >= 2, ("no update record", recs)
    assert last["packets"] > recs[0]["packets"], ("did not grow", recs)
    # Every attack frame counted, none twice (UPDATE and END records).
    assert last["packets"] == frames[key], (frames[key], "frames", last)
    if "mac" in last and key[0] != "mac-spoof":
        assert last["mac"] in (None, mac), last
    print("%-10s %-18s %s: %d records, count %d, %d packets, %d bytes"
          % (key[0], key[1], inc, len(recs), last["count"],
             last["packets"], last["bytes"]))
missing = expected - set(seen)
assert not missing, ("no incident for", missing)
PY
pass "one incident per attack, naming t1vm1, updated; nothing else raised"

# And the detectors saw the traffic: counters of `vnmonctl status`.
check -m "analyzer consumed flow records" \
    test "$(status_field analyzer counters | "$PYTHON" -c \
        'import json,sys; print(json.load(sys.stdin)["flows_consumed"])')" \
        -gt 20

stop_daemon agent
stop_daemon analyzer
lab_down

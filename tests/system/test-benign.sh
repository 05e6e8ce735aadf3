#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vnm-timeout: 1200
#
# Benign traffic raises no alert (issue 5, acceptance): a two-tenant lab runs
# VNM_BENIGN_SECONDS (default 600) of mixed, ordinary traffic while the
# analyzer runs EVERY detector of the tree (analyzer/detect-*.c, listed now)
# with its default settings, and the policy a deployment would have (the
# host's address protected, with DHCP, DNS and ICMP as host services).  No
# incident at all may be raised.
#
# The traffic, all within a tenant or to the host's services:
#   - DHCP: each VM asks dnsmasq on host0 (in the lab's OVS namespace) for
#     its own address (DISCOVER/REQUEST, scapy) once a minute;
#   - DNS: queries to dnsmasq on host0, and to a tenant DNS server
#     (dnsmasq in t1vm2) from t1vm1;
#   - HTTP: t1vm1 fetches pages from t1vm2 (Python http.server);
#   - TLS: t2vm2 fetches from t2vm1 (openssl s_server with a certificate
#     signed by a test CA, SNI, Python ssl);
#   - iperf3: t2vm1 to t2vm2, 5 s at 20 Mbit/s every 30 s;
#   - ping: t1vm1 to t1vm2 (IPv4), t2vm2 to t2vm1 (IPv6).
# Each client counts what succeeded; the test checks that every kind of
# traffic really flowed, and that the analyzer consumed its flow records.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

SECONDS_WANTED=${VNM_BENIGN_SECONDS:-600}
[[ $SECONDS_WANTED =~ ^[0-9]+$ ]] && [ "$SECONDS_WANTED" -ge 30 ] \
    || fail "VNM_BENIGN_SECONDS must be a number of seconds, at least 30"
for tool in dnsmasq openssl iperf3 ping; do
    command -v "$tool" >/dev/null \
        || fail "missing $tool (tools/install-deps.sh)"
done

# Every detector of the tree, by its source file.
detectors=()
for src in "$VNM_TOP"/analyzer/detect-*.c; do
    name=$(basename "$src" .c)
    name=${name#detect-}
    [ "$name" != util ] || continue
    [ -e "$PLUGIN_DIR/detect-$name.so" ] \
        || fail "detector $name (analyzer/detect-$name.c) is not built" \
                "in $PLUGIN_DIR"
    detectors+=("$name")
done
[ "${#detectors[@]}" -ge 6 ] || fail "only ${#detectors[@]} detectors found"
pass "detectors: ${detectors[*]}"

lab_up --tenants 2 --vms 2
D=$VNM_LAB_DIR
mkdir -p "$D/benign"

write_configs
cat >>"$D/etc/agent.conf" <<CONF

[networks]
host = 10.0.0.1, fd00::1
CONF
{
    cat <<CONF
[analyzer]
host_id = $VNM_LAB_NAME
log = $D/log/analyzer.log
pidfile = $D/run/vnmon-analyzer.pid
plugin_dir = $PLUGIN_DIR
archive = $D/incidents.jsonl
spool = $D/spool

[redis]
address = unix:$VNM_REDIS_SOCK
reconnect_max = 1s

[protected "host"]
prefixes = 10.0.0.1/32, fd00::1/128
services = udp/67, udp/53, tcp/53, udp/547, icmp

[sink "jsonl"]
path = $D/alerts.jsonl
CONF
    for name in "${detectors[@]}"; do
        printf '\n[detector "%s"]\n' "$name"
    done
} >"$D/etc/analyzer.conf"
alerts=$D/alerts.jsonl
: >"$alerts"

# A test CA and a server certificate it signs (a self-signed one is itself
# a risk nDPI flags).
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=vnmon test CA" \
    -keyout "$D/benign/ca.key" -out "$D/benign/ca.pem" 2>/dev/null \
    || fail "test CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=web.t2.vnmon.test" \
    -keyout "$D/benign/web.key" -out "$D/benign/web.csr" 2>/dev/null \
    || fail "server key"
printf 'subjectAltName=DNS:web.t2.vnmon.test\n' >"$D/benign/ext.cnf"
openssl x509 -req -days 30 -in "$D/benign/web.csr" -CA "$D/benign/ca.pem" \
    -CAkey "$D/benign/ca.key" -CAcreateserial -extfile "$D/benign/ext.cnf" \
    -out "$D/benign/web.pem" 2>/dev/null || fail "server certificate"

start_agent
start_analyzer
check -m "both daemons up" wait_for 10 both_up
sleep 2                         # Taps bound, analyzer's group created.

# Servers.  dnsmasq reads no system file, answers for vnmon.test only, and
# gives each VM its own address.
dnsmasq_host=(dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts
    --user=root --bind-interfaces --interface=host0 --except-interface=lo
    --listen-address=10.0.0.1 --address=/host.vnmon.test/10.0.0.1
    --dhcp-range=10.0.0.100,10.0.0.200,255.255.255.0,1h
    --dhcp-leasefile="$D/benign/dnsmasq.leases"
    --pid-file="$D/benign/dnsmasq-host.pid"
    --log-facility="$D/benign/dnsmasq-host.out")
for vm in $VNM_LAB_VMS; do
    t=${vm:1:1} i=${vm:4:1}
    dnsmasq_host+=("--dhcp-host=02:00:00:00:0$t:0$i,10.0.0.$t$i")
done
ip netns exec "$VNM_LAB_NETNS" "${dnsmasq_host[@]}" &
register_pid $!
vm_bg t1vm2 dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts \
    --user=root --bind-interfaces --listen-address=10.0.0.12 \
    --except-interface=lo --address=/web.t1.vnmon.test/10.0.0.12 \
    --address=/mail.t1.vnmon.test/10.0.0.12 \
    --pid-file="$D/benign/dnsmasq-t1.pid" \
    --log-facility="$D/benign/dnsmasq-t1.out"
vm_bg t1vm2 sh -c "exec '$PYTHON' -m http.server 80 --bind 10.0.0.12 \
    >/dev/null 2>&1"
vm_bg t2vm1 sh -c "cd '$D/benign' && exec openssl s_server -quiet -www \
    -accept 443 -cert web.pem -key web.key >/dev/null 2>&1"
vm_bg t2vm2 sh -c "exec iperf3 -s -B 10.0.0.22 -p 5201 >/dev/null 2>&1"
wait_for 10 vm_exec t1vm1 curl -sf -o /dev/null http://10.0.0.12/ \
    || fail "HTTP server did not start"
wait_for 10 vm_exec t2vm2 curl -sf -o /dev/null --cacert "$D/benign/ca.pem" \
    --resolve web.t2.vnmon.test:443:10.0.0.21 https://web.t2.vnmon.test/ \
    || fail "TLS server did not start"

# The clients: one Python process per VM, running until killed, counting
# what worked in $D/benign/VM.count (JSON, rewritten every loop).
CLIENT_PY='
import json, os, random, socket, ssl, struct, subprocess, sys, time
import urllib.request
from scapy.all import (BOOTP, DHCP, IP, UDP, Ether, conf, get_if_hwaddr,
                       srp1)
vm, outdir, cafile = sys.argv[1], sys.argv[2], sys.argv[3]
conf.verb = 0
conf.checkIPaddr = False        # DHCP answers come from the server.
counts = {}
def ok(what):
    counts[what] = counts.get(what, 0) + 1

def dns(server, name):
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    q += b"\0" + struct.pack("!HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(q, (server, 53))
    r = s.recv(512)
    s.close()
    if r[:2] == q[:2] and struct.unpack("!H", r[6:8])[0] >= 1:
        ok("dns " + server)

def dhcp():
    mac = get_if_hwaddr("eth0")
    chaddr = bytes.fromhex(mac.replace(":", "")) + bytes(10)
    xid = random.randrange(1 << 32)
    base = (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff")
            / IP(src="0.0.0.0", dst="255.255.255.255")
            / UDP(sport=68, dport=67))
    offer = srp1(base / BOOTP(chaddr=chaddr, xid=xid, flags=0x8000)
                 / DHCP(options=[("message-type", "discover"), "end"]),
                 iface="eth0", timeout=3)
    if not offer or DHCP not in offer:
        ok("dhcp: no offer")
        return
    server = [o[1] for o in offer[DHCP].options
              if isinstance(o, tuple) and o[0] == "server_id"][0]
    ack = srp1(base / BOOTP(chaddr=chaddr, xid=xid, flags=0x8000)
               / DHCP(options=[("message-type", "request"),
                               ("requested_addr", offer[BOOTP].yiaddr),
                               ("server_id", server), "end"]),
               iface="eth0", timeout=3)
    if ack and DHCP in ack and ("message-type", 5) in ack[DHCP].options:
        ok("dhcp " + offer[BOOTP].yiaddr)
    else:
        ok("dhcp: no ack")

def http(url):
    urllib.request.urlopen(url, timeout=3).read()
    ok("http")

def tls():
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("10.0.0.21", 443), 3) as s:
        with ctx.wrap_socket(s, server_hostname="web.t2.vnmon.test") as t:
            t.sendall(b"GET / HTTP/1.0\r\nHost: web.t2.vnmon.test\r\n\r\n")
            while t.recv(4096):
                pass
    ok("tls")

def iperf():
    subprocess.run(["iperf3", "-c", "10.0.0.22", "-p", "5201", "-t", "5",
                    "-b", "20M"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=20, check=True)
    ok("iperf3")

jobs = {
    "t1vm1": [(2, lambda: http("http://10.0.0.12/")),
              (3, lambda: dns("10.0.0.12", "web.t1.vnmon.test")),
              (5, lambda: dns("10.0.0.12", "mail.t1.vnmon.test")),
              (4, lambda: dns("10.0.0.1", "host.vnmon.test"))],
    "t1vm2": [(5, lambda: dns("10.0.0.1", "host.vnmon.test"))],
    "t2vm1": [(30, iperf), (6, lambda: dns("10.0.0.1", "host.vnmon.test"))],
    "t2vm2": [(2, tls), (4, lambda: dns("10.0.0.1", "host.vnmon.test"))],
}[vm] + [(60, dhcp)]
due = [time.monotonic() + random.uniform(0, 2) for _ in jobs]
while True:
    now = time.monotonic()
    for i, (period, job) in enumerate(jobs):
        if now >= due[i]:
            due[i] = now + period
            try:
                job()
            except Exception as e:
                counts["error " + type(e).__name__] = counts.get(
                    "error " + type(e).__name__, 0) + 1
    with open(os.path.join(outdir, vm + ".count.tmp"), "w") as f:
        json.dump(counts, f)
    os.replace(os.path.join(outdir, vm + ".count.tmp"),
               os.path.join(outdir, vm + ".count"))
    time.sleep(0.2)
'
clients=()
for vm in $VNM_LAB_VMS; do
    vm_bg "$vm" "$PYTHON" -c "$CLIENT_PY" "$vm" "$D/benign" \
        "$D/benign/ca.pem"
    clients+=("$BG_PID")
done
vm_bg t1vm1 sh -c "exec ping -n -q -i 1 10.0.0.12 >/dev/null"
ping4=$BG_PID
vm_bg t2vm2 sh -c "exec ping -6 -n -q -i 2 fd00::21 >/dev/null"
ping6=$BG_PID

t0=$SECONDS
while [ $((SECONDS - t0)) -lt "$SECONDS_WANTED" ]; do
    sleep 5
    if [ -s "$alerts" ]; then
        cat "$alerts" >&2
        fail "an alert after $((SECONDS - t0)) s of benign traffic"
    fi
done
pass "$SECONDS_WANTED s of benign traffic"

# Stop the clients (an iperf3 client a VM's Python started ends within its
# 5 s), then let the last records through.
for pid in "${clients[@]}" "$ping4" "$ping6"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
done
sleep 7

check -m "every kind of benign traffic flowed" "$PYTHON" - "$D/benign" \
    "$SECONDS_WANTED" <<'PY'
import json, os, sys
d, secs = sys.argv[1], int(sys.argv[2])
counts = {vm: json.load(open(os.path.join(d, vm + ".count")))
          for vm in ("t1vm1", "t1vm2", "t2vm1", "t2vm2")}
print(json.dumps(counts, sort_keys=True))
def need(vm, what, n):
    assert counts[vm].get(what, 0) >= n, (vm, what, counts[vm])
need("t1vm1", "http", secs // 3)
need("t1vm1", "dns 10.0.0.12", secs // 6)
need("t2vm2", "tls", secs // 3)
need("t2vm1", "iperf3", secs // 40)
for vm, addr in (("t1vm1", "10.0.0.11"), ("t1vm2", "10.0.0.12"),
                 ("t2vm1", "10.0.0.21"), ("t2vm2", "10.0.0.22")):
    need(vm, "dns 10.0.0.1", secs // 8)
    need(vm, "dhcp " + addr, max(1, secs // 90))
    errors = sum(n for k, n in counts[vm].items()
                 if k.startswith("error") or k.startswith("dhcp:"))
    total = sum(counts[vm].values())
    assert errors * 20 <= total, (vm, counts[vm])   # A few timeouts at most.
PY
for vm in $VNM_LAB_VMS; do
    echo "# $vm: $(cat "$D/benign/$vm.count")"
done
consumed()
{
    [ "$(status_field analyzer counters | "$PYTHON" -c \
        'import json,sys; print(json.load(sys.stdin)["flows_consumed"])')" \
        -ge "$1" ]
}
check -m "the analyzer consumed the flow records" \
    wait_for 10 consumed "$((SECONDS_WANTED * 2))"
check -m "no alert at all" test ! -s "$alerts"
check -m "nor in the archive" test ! -s "$D/incidents.jsonl"
stop_daemon agent
stop_daemon analyzer
lab_down

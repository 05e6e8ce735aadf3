#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Benchmark (root; `make bench`): the analyzer.
#
# 1. Flow records per second.  Real flow records (vnmon-agent --read on the
#    reference captures in $BENCH_PCAPS, else on a capture made here),
#    attributed to the lab's VM ports as if their VMs had sent them, are
#    loaded into a lab host's flow stream ($BENCH_RECORDS of them); then
#    vnmon-analyzer consumes them twice, each time in a new consumer group:
#    with no detector (the peer: Redis reads, JSON parsing, acks) and with
#    every detector of the tree at its defaults.  Reported: records/s of each
#    and their ratio (the detectors' share of the cost).
# 2. Time from attack start to alert.  $BENCH_ATTACKS times, t1vm1 sends
#    UDP with a new forged source address (10 packets/s, from a VM namespace
#    with scapy) while the agent and the analyzer run with the ip-spoof
#    detector and the jsonl sink; the time from the first packet to the
#    incident's line in the sink's file.  Reported: median and p99.
# Prints a table and writes it to $BENCH_OUT (default
# tests/bench/analyzer.txt).
VNM_TOP=$(cd -- "$(dirname -- "$0")/../.." && pwd)
export VNM_TOP
TEST_NAME=bench-analyzer
. "$VNM_TOP/tests/system/lib.sh"
. "$VNM_TOP/tests/system/daemon-lib.sh"

OUT=${BENCH_OUT:-$BUILDDIR/tests/bench/analyzer.txt}
N=${BENCH_RECORDS:-200000}
ATTACKS=${BENCH_ATTACKS:-30}
PCAPS=${BENCH_PCAPS:-$VNM_TOP/../shared/pcaps}
mkdir -p "$(dirname "$OUT")"

lab_up --tenants 2 --vms 2
write_configs
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[flows]
first_update = 1s
CONF
redis()
{
    redis-cli -s "$VNM_REDIS_SOCK" "$@"
}
stream="vnm:{$VNM_LAB_NAME}:flows"

start_agent
wait_for 10 agent_up || fail "agent not up"

# ---- 1. Records per second.
work=$VNM_LAB_DIR/bench
mkdir -p "$work"
if [ -d "$PCAPS" ]; then
    ls "$PCAPS"/*.pcap* 2>/dev/null | sed -n 1,100p >"$work/pcaps" || true
fi
if [ ! -s "$work/pcaps" ]; then
    "$PYTHON" - "$work/made.pcap" <<'PY'
import sys
from scapy.all import Ether, IP, TCP, UDP, DNS, DNSQR, Raw, wrpcap
pkts = []
for i in range(2000):
    pkts.append(Ether() / IP(src="192.0.2.%d" % (i % 200 + 1), dst="198.51.100.7")
                / TCP(sport=10000 + i, dport=443, flags="S"))
    pkts.append(Ether() / IP(src="192.0.2.9", dst="198.51.100.53")
                / UDP(sport=20000 + i, dport=53) / DNS(qd=DNSQR(qname="x%d.example" % i)))
wrpcap(sys.argv[1], pkts)
PY
    echo "$work/made.pcap" >"$work/pcaps"
fi
: >"$work/records.jsonl"
while read -r p; do
    "$BUILDDIR/collector/vnmon-agent" --read "$p" --output "$work/one.jsonl" \
        >/dev/null 2>&1 && cat "$work/one.jsonl" >>"$work/records.jsonl"
done <"$work/pcaps"
n_src=$(wc -l <"$work/records.jsonl")
[ "$n_src" -gt 0 ] || fail "no flow records from the captures"

# Attributed to the lab's VMs (their own addresses), loaded as RESP.
"$PYTHON" - "$work/records.jsonl" "$N" "$stream" "$VNM_LAB_NAME" \
    >"$work/load.resp" <<'PY'
import json, sys
src, n, stream, host = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
recs = [json.loads(l) for l in open(src)]
vms = [("t%dvm%d" % (t, i), "10.0.0.%d" % (10 * t + i),
        "02:00:00:00:%02x:%02x" % (t, i), "tenant%d" % t)
       for t in (1, 2) for i in (1, 2)]
out = sys.stdout.buffer
def resp(*args):
    b = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        b.append(b"$%d\r\n%s\r\n" % (len(a), a))
    out.write(b"".join(b))
for k in range(n):
    r = dict(recs[k % len(recs)])
    port, ip, mac, tenant = vms[k % len(vms)]
    r["id"] = k + 1
    r["host"] = host
    s = dict(r["src"])
    if ":" not in s["ip"]:
        s["ip"] = ip
    s["mac"] = mac
    s["in"] = {"port": port, "ofport": 1 + k % 4, "iface_id": "", "vm": "",
               "tenant": tenant}
    r["src"] = s
    resp("XADD", stream, "*", "r", json.dumps(r, separators=(",", ":")))
PY

detectors=
for f in "$VNM_TOP"/analyzer/detect-*.c; do
    [ "$f" = "$VNM_TOP/analyzer/detect-util.c" ] && continue
    name=$(basename "$f" .c)
    name=${name#detect-}
    [ -e "$PLUGIN_DIR/detect-$name.so" ] || continue
    detectors="$detectors $name"
done

# An analyzer configuration: consumer group $1, jsonl sink to file $2.
analyzer_conf()
{
    cat <<CONF
[analyzer]
host_id = $VNM_LAB_NAME
plugin_dir = $PLUGIN_DIR
group = $1
batch = 1000
archive = $VNM_LAB_DIR/incidents-$1.jsonl

[redis]
address = unix:$VNM_REDIS_SOCK

[sink "jsonl"]
path = $2
CONF
}

# Prints the last delivered id and the pending count of consumer group $1.
group_state()
{
    redis --raw XINFO GROUPS "$stream" | "$PYTHON" -c '
import sys
w = sys.stdin.read().split("\n")      # One value per line, "" for nil.
for i in range(0, len(w) - 1):
    if w[i] == "name" and w[i + 1] == sys.argv[1]:
        d = {}
        for k, v in zip(w[i + 2::2], w[i + 3::2]):
            if k == "name":
                break           # The next group begins.
            d[k] = v
        print(d.get("last-delivered-id"), d.get("pending") or 0)
        break
' "$1"
}

# Consumes the whole stream in a new group; prints records/s.
consume()
{
    local group=$1 with=$2 conf=$VNM_LAB_DIR/etc/analyzer-bench.conf start end
    analyzer_conf "$group" "$VNM_LAB_DIR/bench-alerts.jsonl" >"$conf"
    if [ "$with" = all ]; then
        for d in $detectors; do
            printf '\n[detector "%s"]\n' "$d" >>"$conf"
        done
    fi
    redis XGROUP CREATE "$stream" "$group" 0 >/dev/null
    "$ANALYZER" --config "$conf" --pidfile "$VNM_LAB_DIR/run/bench-analyzer.pid" \
        --log "$VNM_LAB_DIR/log/bench-analyzer.log" &
    local pid=$! start= last pending
    register_pid "$pid"
    # Timed from the first batch delivered (not from the start-up and
    # stream discovery) to the last record acknowledged; that first batch
    # is not counted.
    while :; do
        read -r last pending < <(group_state "$group")
        [ -n "${BENCH_DEBUG:-}" ] && echo "state $group $last $pending" >&2
        if [ -z "$start" ] && [ "$last" != 0-0 ]; then
            start=${EPOCHREALTIME/[.,]/}
        fi
        [ "$last" = "$last_id" ] && [ "$pending" = 0 ] && break
        sleep 0.02
    done
    end=${EPOCHREALTIME/[.,]/}
    echo $(( (N - 1000) * 1000000 / (end - start + 1) ))
    kill "$pid"
    wait "$pid" 2>/dev/null || true
}

redis DEL "$stream" >/dev/null
redis --pipe <"$work/load.resp" >/dev/null || fail "loading the stream failed"
[ "$(redis XLEN "$stream")" -ge "$N" ] || fail "stream not loaded"
stop_daemon agent               # Nothing else added meanwhile.
redis SADD vnm:daemons "$VNM_LAB_NAME/agent" >/dev/null
last_id=$(redis --raw XREVRANGE "$stream" + - COUNT 1 | sed -n 1p)
peer=$(consume bench-peer none)
full=$(consume bench-full all)

# ---- 2. Attack to alert.
start_agent
wait_for 10 agent_up || fail "agent not up"
alerts=$VNM_LAB_DIR/alerts.jsonl
{
    analyzer_conf vnmon-analyzers "$alerts"
    printf '\n[detector "ip-spoof"]\n'
} >"$VNM_LAB_DIR/etc/analyzer-latency.conf"
"$ANALYZER" --config "$VNM_LAB_DIR/etc/analyzer-latency.conf" \
    --pidfile "$VNM_LAB_DIR/run/vnmon-analyzer.pid" &
register_pid $!
sleep 2
: >"$work/latency"
for ((i = 1; i <= ATTACKS; i++)); do
    forged=10.0.9.$i
    t0=${EPOCHREALTIME/[.,]/}
    vm_bg t1vm1 "$PYTHON" -c '
import sys, time
from scapy.all import Ether, IP, UDP, Raw, sendp
p = Ether(dst="02:00:00:00:01:02") / IP(src=sys.argv[1], dst="10.0.0.12") / UDP(sport=4444, dport=9) / Raw(b"x" * 64)
for _ in range(60):
    sendp(p, iface="eth0", verbose=False)
    time.sleep(0.1)
' "$forged"
    got=
    for ((w = 0; w < 400; w++)); do
        if grep -q "\"$forged\"" "$alerts" 2>/dev/null; then
            got=${EPOCHREALTIME/[.,]/}
            break
        fi
        sleep 0.025
    done
    [ -n "$got" ] && echo $(( (got - t0) / 1000 )) >>"$work/latency"
done

"$PYTHON" - "$work/latency" "$ATTACKS" "$N" "$n_src" "$peer" "$full" \
    "$detectors" >"$OUT" <<'PY'
import sys
lat = sorted(int(x) for x in open(sys.argv[1]) if x.strip())
attacks, n, n_src, peer, full = map(int, sys.argv[2:7])
dets = sys.argv[7].split()
def pct(p):
    return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))]
print("vnmon-analyzer benchmark")
print("records: %d (from %d real flow records of the captures), detectors: %s"
      % (n, n_src, " ".join(dets)))
print("%-44s %12d records/s" % ("peer: analyzer, no detector", peer))
print("%-44s %12d records/s" % ("analyzer, all %d detectors" % len(dets), full))
print("%-44s %12.2f" % ("ratio (all detectors / peer)", full / peer))
if lat:
    print("attack to alert (ip-spoof, %d/%d alerts): median %d ms, p99 %d ms, "
          "max %d ms" % (len(lat), attacks, pct(50), pct(99), lat[-1]))
else:
    print("attack to alert: no alert arrived")
PY
cat "$OUT"
lab_down

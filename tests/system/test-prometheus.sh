#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The agent's Prometheus endpoint (issue 4, item 10) on a lab: the agent
# runs in the lab's OVS namespace with [collector] prometheus_listen on that
# namespace's 127.0.0.1, and curl scrapes it from there.  Checks:
#   - a bad prometheus_listen is refused with "FILE:LINE: KEY: reason", and
#     a port already taken stops the start with the same kind of line;
#   - GET /metrics is the text format 0.0.4 (Content-Type, HELP/TYPE once
#     per family, every sample line well formed), 404 elsewhere, 405 for
#     POST, HEAD without a body;
#   - known traffic (ping -c 20 -s 1000 and a 2 s iperf3 UDP stream from
#     t1vm1 to t1vm2) moves the counters between two scrapes by at least
#     what was sent, and not wildly more: capture frames and bytes, the
#     per-port tap counters, the per-port, per-VM and per-tenant bandwidth
#     counters (both directions), flow records, Redis commands and round
#     trips (the latency summary).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

PORT=9477
LEN=1000                    # iperf3 UDP payload: 1042 bytes on the wire.

lab_up --tenants 1 --vms 2
write_configs

# add_collector_key CONF LINE: LINE into CONF's [collector] section.
add_collector_key()
{
    if grep -q '^\[collector\]' "$1"; then
        sed -i "/^\[collector\]/a $2" "$1"
    else
        printf '\n[collector]\n%s\n' "$2" >>"$1"
    fi
}

# --- Configuration errors.
bad=$VNM_LAB_DIR/etc/bad.conf
for value in 127.0.0.1:99999 localhost:9477 "[::1]9477"; do
    cp "$VNM_LAB_DIR/etc/agent.conf" "$bad"
    add_collector_key "$bad" "prometheus_listen = $value"
    line=$(grep -n '^prometheus_listen' "$bad" | cut -d: -f1)
    rc=0
    out=$("$AGENT" -c "$bad" --check-config 2>&1) || rc=$?
    [ "$rc" = 1 ] || fail "prometheus_listen = $value: exit $rc ($out)"
    case $out in
    "vnmon-agent: $bad:$line: prometheus_listen: \"$value\": "*) ;;
    *) fail "prometheus_listen = $value: got '$out'" ;;
    esac
    pass "refused: $out"
done

# A port already taken, in the agent's namespace: the start fails with one
# line naming file, line and key.  Its own log and pid file, outside
# log/ (the ERR line is expected there).
taken=$((PORT + 1))
ovs_bg()
{
    ip netns exec "$VNM_LAB_NETNS" "$@" &
    BG_PID=$!
    register_pid "$BG_PID"
}
ovs_bg "$PYTHON" -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
time.sleep(600)' "$taken"
holder=$BG_PID
wait_for 5 ip netns exec "$VNM_LAB_NETNS" "$PYTHON" -c '
import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
    "$taken" || fail "port holder did not start"
cp "$VNM_LAB_DIR/etc/agent.conf" "$bad"
sed -i -e "s|^log = .*|log = $VNM_LAB_DIR/agent-taken.log|" \
    -e "s|^pidfile = .*|pidfile = $VNM_LAB_DIR/agent-taken.pid|" "$bad"
add_collector_key "$bad" "prometheus_listen = 127.0.0.1:$taken"
line=$(grep -n '^prometheus_listen' "$bad" | cut -d: -f1)
rc=0
out=$(ip netns exec "$VNM_LAB_NETNS" "$AGENT" -c "$bad" --detach 2>&1) \
    || rc=$?
[ "$rc" = 1 ] || fail "agent started on a taken port (exit $rc: $out)"
want="vnmon-agent: $bad:$line: prometheus_listen: cannot listen on"
want+=" 127.0.0.1:$taken (Address already in use)"
[ "$out" = "$want" ] || fail "taken port: got '$out', want '$want'"
[ ! -e "$VNM_LAB_DIR/agent-taken.pid" ] || fail "pid file left behind"
pass "refused: $out"
kill "$holder"
wait "$holder" 2>/dev/null || true

# --- The endpoint.
add_collector_key "$VNM_LAB_DIR/etc/agent.conf" \
    "prometheus_listen = 127.0.0.1:$PORT"
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[flows]
idle_timeout = 2s
CONF
start_agent
check -m "agent up and synced" wait_for 10 sh -c \
    "'$VNMONCTL' --redis unix:$VNM_REDIS_SOCK status --json | grep -q '\"synced\": true'"

URL=http://127.0.0.1:$PORT
ovs_curl()
{
    ip netns exec "$VNM_LAB_NETNS" curl -s --max-time 5 "$@"
}

# scrape FILE: GET /metrics into FILE, checking the status and type.
scrape()
{
    local headers=$1.headers code
    code=$(ovs_curl -D "$headers" -o "$1" -w '%{http_code}' "$URL/metrics")
    [ "$code" = 200 ] || fail "GET /metrics: HTTP $code"
    grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' \
        "$headers" || fail "GET /metrics: $(grep -i content-type "$headers")"
}

# The exposition-format checker and sample reader, shared by the checks.
cat >"$VNM_LAB_DIR/prom.py" <<'PY'
import re, sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)\})? (\S+)$" % (NAME, LABEL,
                                                          LABEL))
UNESC = re.compile(r'\\(.)')

def parse(path):
    """Checks the file as exposition format 0.0.4; returns {(name,
    frozenset of (label, value)): float}."""
    samples, families, family, ftype = {}, set(), None, None
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        where = "%s:%d: %r" % (path, n, line)
        if line.startswith("# HELP "):
            family = line.split(" ")[2]
            assert re.fullmatch(NAME, family), where
            assert family not in families, "family repeated: " + where
            families.add(family)
            ftype = None
            continue
        if line.startswith("# TYPE "):
            _, _, name, ftype = line.split(" ")
            assert name == family and ftype in ("counter", "gauge",
                                                "summary"), where
            continue
        m = SAMPLE.match(line)
        assert m and ftype, where
        name = m.group(1)
        assert name == family or (ftype == "summary" and name in (
            family + "_sum", family + "_count")), where
        labels = frozenset(
            (k, UNESC.sub(lambda e: {"n": "\n"}.get(e.group(1), e.group(1)),
                          v[1:-1]))
            for k, v in (l.split("=", 1) for l in re.findall(
                LABEL, m.group(2) or "")))
        value = float(m.group(3))
        key = (name, labels)
        assert key not in samples, "sample repeated: " + where
        samples[key] = value
    return samples

def get(samples, name, **labels):
    """The one sample 'name' whose labels include 'labels'."""
    hits = [v for (n, ls), v in samples.items()
            if n == name and set(labels.items()) <= ls]
    assert len(hits) == 1, (name, labels, hits)
    return hits[0]
PY

scrape "$VNM_LAB_DIR/m0"
"$PYTHON" - "$VNM_LAB_DIR" "$VNM_LAB_NAME" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from prom import parse, get
s = parse(sys.argv[1] + "/m0")
host = sys.argv[2]
assert all(dict(ls).get("host") == host for _, ls in s), "host label"
assert get(s, "vnmon_redis_connected") == 1
assert get(s, "vnmon_ovsdb_connected") == 1
assert get(s, "vnmon_ovsdb_synced") == 1
assert get(s, "vnmon_tap_ports", tap="netdev") == 2
assert get(s, "vnmon_plugin_info", instance="static", kind="enricher") == 1
assert get(s, "vnmon_prometheus_scrapes_total") == 1
for name in ("vnmon_capture_frames_total", "vnmon_capture_bytes_total",
             "vnmon_capture_malformed_total", "vnmon_flows",
             "vnmon_flows_evicted_total", "vnmon_flow_memory_bytes",
             "vnmon_flow_records_dropped_total", "vnmon_tap_ring_drops_total",
             "vnmon_redis_commands_total", "vnmon_redis_dropped_total",
             "vnmon_redis_pending_commands",
             "vnmon_redis_round_trip_seconds_count",
             "vnmon_redis_round_trip_seconds_sum"):
    get(s, name)
assert get(s, "vnmon_worker_frames_total", worker="1") >= 0
print("scrape 1: %d samples" % len(s))
PY
pass "scrape 1 is valid exposition format with the self metrics"

code=$(ovs_curl -o /dev/null -w '%{http_code}' "$URL/")
[ "$code" = 404 ] || fail "GET /: HTTP $code"
code=$(ovs_curl -o /dev/null -w '%{http_code}' -X POST "$URL/metrics")
[ "$code" = 405 ] || fail "POST /metrics: HTTP $code"
size=$(ovs_curl -I -o /dev/null -w '%{http_code} %{size_download}' \
       "$URL/metrics")
[ "$size" = "200 0" ] || fail "HEAD /metrics: $size"
pass "404 for /, 405 for POST, HEAD without a body"

# --- Known traffic from t1vm1 to t1vm2.
vm_bg t1vm2 iperf3 -s -B 10.0.0.12 -p 5201 \
    --logfile "$VNM_LAB_DIR/iperf3-server.txt"
wait_for 10 vm_exec t1vm1 "$PYTHON" -c '
import socket; socket.create_connection(("10.0.0.12", 5201), 1).close()' \
    || fail "iperf3 server did not start"
sleep 3                     # That connection's flow ends (idle 2 s).
scrape "$VNM_LAB_DIR/m1"
check -m "ping -c 20 -s 1000 t1vm1 -> t1vm2" \
    vm_exec t1vm1 ping -n -q -c 20 -i 0.05 -s 1000 -W 2 10.0.0.12
vm_exec t1vm1 iperf3 -c 10.0.0.12 -p 5201 -u -b 4M -l "$LEN" -t 2 --json \
    >"$VNM_LAB_DIR/iperf.json" || fail "iperf3 failed"
sleep 4                     # Seconds closed; flows ended (idle 2 s).
scrape "$VNM_LAB_DIR/m2"

"$PYTHON" - "$VNM_LAB_DIR" "$LEN" <<'PY'
import json, subprocess, sys
sys.path.insert(0, sys.argv[1])
from prom import parse, get
d, plen = sys.argv[1], int(sys.argv[2])
a, b = parse(d + "/m1"), parse(d + "/m2")
ip = json.load(open(d + "/iperf.json"))
udp = ip["end"]["sum"]
n_udp = udp["packets"]
ping_n, ping_wire = 20, 20 * (1000 + 8 + 20 + 14)
sent_pkts = n_udp + ping_n                 # t1vm1 -> t1vm2, at least.
sent_bytes = n_udp * (plen + 42) + ping_wire
back_pkts, back_bytes = ping_n, ping_wire  # t1vm2 -> t1vm1, at least.
assert n_udp >= 900, udp                   # 4 Mbit/s x 2 s of 1000 B.
print("sent: %d UDP datagrams + %d pings = %d frames, %d bytes"
      % (n_udp, ping_n, sent_pkts, sent_bytes))

def delta(name, **labels):
    return get(b, name, **labels) - get(a, name, **labels)

def between(what, got, lo, hi):
    assert lo <= got <= hi, "%s: %d not in [%d, %d]" % (what, got, lo, hi)
    print("ok - %s +%d (sent %d)" % (what, got, lo))

# Slack for what else the VMs send meanwhile: iperf3's TCP control
# connection, ARP/ND.
slack_p, slack_b = 300, 300 * 1500
between("capture frames", delta("vnmon_capture_frames_total"),
        sent_pkts + back_pkts, sent_pkts + back_pkts + slack_p)
between("capture bytes", delta("vnmon_capture_bytes_total"),
        sent_bytes + back_bytes, sent_bytes + back_bytes + slack_b)
between("tap t1vm1 packets",
        delta("vnmon_tap_port_packets_total", tap="netdev", port="t1vm1"),
        sent_pkts, sent_pkts + slack_p)
between("tap t1vm1 bytes",
        delta("vnmon_tap_port_bytes_total", tap="netdev", port="t1vm1"),
        sent_bytes, sent_bytes + slack_b)
between("tap t1vm2 packets",
        delta("vnmon_tap_port_packets_total", tap="netdev", port="t1vm2"),
        back_pkts, back_pkts + slack_p)

# Per port, VM and tenant bandwidth (the aggregator's totals).
vm1 = "564d0000-0000-4000-8000-000001000001"
vm2 = "564d0000-0000-4000-8000-000001000002"
for kind, key, one, two in (("port", "port", "t1vm1", "t1vm2"),
                            ("vm", "vm", vm1, vm2)):
    between("%s t1vm1 tx bytes" % kind,
            delta("vnmon_%s_bytes_total" % kind, direction="tx",
                  **{key: one}), sent_bytes, sent_bytes + slack_b)
    between("%s t1vm1 tx packets" % kind,
            delta("vnmon_%s_packets_total" % kind, direction="tx",
                  **{key: one}), sent_pkts, sent_pkts + slack_p)
    between("%s t1vm2 rx bytes" % kind,
            delta("vnmon_%s_bytes_total" % kind, direction="rx",
                  **{key: two}), sent_bytes, sent_bytes + slack_b)
    between("%s t1vm2 tx bytes" % kind,
            delta("vnmon_%s_bytes_total" % kind, direction="tx",
                  **{key: two}), back_bytes, back_bytes + slack_b)
    get(b, "vnmon_%s_bytes_total" % kind, direction="tx", tenant="tenant1",
        **{key: one})
between("tenant1 tx bytes",
        delta("vnmon_tenant_bytes_total", tenant="tenant1", direction="tx"),
        sent_bytes + back_bytes, sent_bytes + back_bytes + slack_b)

# Flow records: the ping, the UDP stream, iperf3's TCP connection.
between("flow records", delta("vnmon_flow_records_total"), 3, 100)
# Redis: the heartbeats' pipelines, each a timed round trip.
n_rt = delta("vnmon_redis_round_trip_seconds_count")
between("redis round trips", n_rt, 3, 1000)
rtt = delta("vnmon_redis_round_trip_seconds_sum")
assert 0 < rtt < n_rt * 0.5, (rtt, n_rt)
assert 0 < get(b, "vnmon_redis_round_trip_max_seconds") < 2
print("ok - redis: %d round trips, %.3f ms on average, max %.3f ms"
      % (n_rt, 1000 * rtt / n_rt,
         1000 * get(b, "vnmon_redis_round_trip_max_seconds")))
between("redis commands", delta("vnmon_redis_commands_total"), n_rt, 10**6)
assert delta("vnmon_redis_dropped_total") == 0
assert get(b, "vnmon_tap_ring_drops_total", tap="netdev") == 0
assert delta("vnmon_prometheus_scrapes_total") == 1
print("ok - %d samples; the previous scrape rendered in %.3f ms"
      % (len(b), 1000 * get(b, "vnmon_prometheus_render_seconds")))
assert get(b, "vnmon_plugin_events_total", instance="static",
           counter="enriched") >= 3
PY
pass "the counters moved with the traffic"

# Every metric the agent serves is documented, and every one the example
# dashboard queries is served.
"$PYTHON" - "$VNM_LAB_DIR" "$VNM_TOP" <<'PY'
import json, re, sys
sys.path.insert(0, sys.argv[1])
from prom import parse
served = {n for n, _ in parse(sys.argv[1] + "/m2")}
families = {re.sub(r"_(sum|count)$", "", n) if n.startswith(
    "vnmon_redis_round_trip_seconds") else n for n in served}
doc = open(sys.argv[2] + "/doc/prometheus.md").read()
undocumented = sorted(f for f in families if "`%s`" % f not in doc)
assert not undocumented, "not in doc/prometheus.md: %s" % undocumented
dash = json.load(open(sys.argv[2] + "/doc/grafana-dashboard.json"))
exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
used = set(re.findall(r"vnmon_[a-z_]+", " ".join(exprs)))
missing = sorted(used - served)
assert not missing, "the dashboard queries unserved metrics: %s" % missing
print("ok - %d metric families served, all documented; the dashboard's %d "
      "metrics all served" % (len(families), len(used)))
PY
pass "doc/prometheus.md and doc/grafana-dashboard.json match the endpoint"

stop_daemon agent
lab_down

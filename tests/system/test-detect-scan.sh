#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end: a VM port-scans another; vnmon-agent records the probes and
# streams them to Redis; vnmon-analyzer reads the stream with its consumer
# group, the "scan" detector raises one incident naming the VM, its port and
# tenant, and the "jsonl" sink delivers its alert record (doc/alerts.md), as
# the archive keeps it.  Benign traffic before it raises nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

lab_up --tenants 2 --vms 2
write_configs
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[flows]
idle_timeout = 2s
tcp_closed_timeout = 500ms
syn_timeout = 2s
update_interval = 0
CONF
sed -i 's/^window = 10s$/window = 30s\nports = 20/' "$VNM_LAB_DIR/etc/analyzer.conf"
alerts=$VNM_LAB_DIR/alerts.jsonl

start_agent
start_analyzer
check -m "both daemons up" wait_for 10 both_up
sleep 1                         # Taps bound, analyzer's group created.

# Benign: a few pings and one TCP exchange.
vm_bg t1vm2 "$PYTHON" -m http.server 8080 --bind 10.0.0.12
wait_for 10 vm_exec t1vm1 "$PYTHON" -c '
import socket; socket.create_connection(("10.0.0.12", 8080), 1).close()' \
    || fail "HTTP server did not start"
check -m "benign ping" vm_ping t1vm1 10.0.0.12 2
check -m "benign HTTP" vm_exec t1vm1 curl -sf -o /dev/null http://10.0.0.12:8080/

# The scan: 40 closed ports of t2vm1, paced.
check -m "port scan from t1vm1" vm_exec t1vm1 "$PYTHON" -c '
import socket, time
for port in range(2000, 2040):
    s = socket.socket()
    s.settimeout(0.3)
    try:
        s.connect(("10.0.0.21", port))
    except OSError:
        pass
    s.close()
    time.sleep(0.01)'

check -m "incident delivered by the jsonl sink" wait_for 20 \
    grep -q '"type":"port-scan"' "$alerts"
check -m "the incident names the VM, its port, MAC and tenant" \
    "$PYTHON" - "$alerts" "$VNM_LAB_NAME" <<'PY'
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
scans = [a for a in alerts if a["type"] == "port-scan"]
assert len({a["id"] for a in scans}) == 1, alerts     # One incident.
a = scans[0]
assert a["state"] == "open", a
assert a["port"] == "t1vm1", a
assert a["tenant"] == "tenant1", a
assert a["mac"] == "02:00:00:00:01:01", a
assert a["src"] == "10.0.0.11", a
assert a["dst"] == "10.0.0.21" and a["target"] == "10.0.0.21", a
assert a["protocol"] == "tcp", a
assert a["host"] == sys.argv[2], a
assert a["detector"] == "scan", a
assert a["count"] >= 1 and a["packets"] > 0 and a["bytes"] > 0, a
assert a["first_seen"].endswith("Z") and a["first_ms"] > 0, a
assert a["evidence"] and all(isinstance(e, str) for e in a["evidence"]), a
assert not [x for x in alerts if x["type"] != "port-scan"], alerts
PY
check -m "the archive has the same records" \
    wait_for 5 cmp "$alerts" "$VNM_LAB_DIR/incidents.jsonl"
consumed()
{
    [ "$(status_field analyzer counters | "$PYTHON" -c \
        'import json,sys; print(json.load(sys.stdin)["flows_consumed"])')" \
        -ge 42 ]
}
check -m "analyzer consumed the agent's flow records (40 probes + benign)" \
    wait_for 10 consumed

stop_daemon agent
stop_daemon analyzer
lab_down

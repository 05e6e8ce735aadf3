#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The daemons on a lab: both start detached with their plugins, report to
# Redis, show up in `vnmonctl status` (table and JSON), refuse a second
# instance, reopen their log on SIGHUP, and stop on SIGTERM within 2 s
# leaving nothing behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

lab_up --tenants 1 --vms 2
write_configs
start_agent
start_analyzer

check -m "both daemons report as up" wait_for 5 both_up

json=$(vnmonctl status --json)
check -m "status --json: both connected to Redis, analyzer has its plugins" \
    "$PYTHON" - "$json" "$PLUGIN_DIR" <<'PY'
import json, sys
doc = json.loads(sys.argv[1])
by = {d["name"]: d for d in doc["daemons"]}
assert set(by) >= {"agent", "analyzer"}, by.keys()
for d in by.values():
    assert d["up"] is True, d
    assert d["redis_connected_since_ms"] > 0, d
    assert d["redis_outages"] == 0, d
    assert d["log_errors"] == 0, d
plugins = {(p["kind"], p["name"]): p for p in by["analyzer"]["plugins"]}
assert ("detector", "scan") in plugins, plugins
assert ("sink", "jsonl") in plugins, plugins
for p in plugins.values():
    assert p["path"].startswith(sys.argv[2]), p
    assert p["version"], p
agent_plugins = [(p["kind"], p["name"]) for p in by["agent"]["plugins"]]
assert agent_plugins == [("enricher", "static")], agent_plugins
assert "alerts_delivered" in by["analyzer"]["counters"], by["analyzer"]
PY

table=$(vnmonctl status)
printf '%s\n' "$table"
check -m "status table lists both daemons as up" \
    grep -Eq "^agent +$VNM_LAB_NAME +up" <<<"$table"
check -m "status table lists the analyzer as up" \
    grep -Eq "^analyzer +$VNM_LAB_NAME +up" <<<"$table"
check -m "status table names the plugins" \
    grep -q 'detector "scan"' <<<"$table"
check -m "vnmonctl status exits 0 when all are up" vnmonctl status

# A second agent with the same pid file is refused.
out=$(ip netns exec "$VNM_LAB_NETNS" "$AGENT" \
      -c "$VNM_LAB_DIR/etc/agent.conf" --log stderr 2>&1) \
    && fail "second agent started"
check -m "second agent refused: $out" grep -q "already running" <<<"$out"

# SIGHUP reopens the log (rotation).
mv "$VNM_LAB_DIR/log/analyzer.log" "$VNM_LAB_DIR/log/analyzer.log.1"
kill -HUP "$(daemon_pid analyzer)"
check -m "SIGHUP: analyzer reopened its log" \
    wait_for 3 grep -q "log file reopened" "$VNM_LAB_DIR/log/analyzer.log"

stop_daemon agent
stop_daemon analyzer
check -m "status shows the stopped daemons as stopped" \
    test "$(status_field agent state)" = stopped
rc=0
vnmonctl status >/dev/null || rc=$?
check -m "vnmonctl status exits 1 when a daemon is down" test "$rc" = 1
check -m "logs carry start and clean stop lines" \
    grep -q "vnmon-agent stopped" "$VNM_LAB_DIR/log/agent.log"

lab_down

# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Sourced after lib.sh by tests that run vnmon's own daemons on a lab:
# writes their configuration files and starts and stops them.
#
#   write_configs [EXTRA_ANALYZER_LINES]   $VNM_LAB_DIR/etc/{agent,analyzer}.conf
#   start_agent / start_analyzer           --detach, pid and log in the lab
#   stop_daemon NAME                       SIGTERM, waits, checks pid file
#   vnmonctl ARGS...                       against the lab's Redis

BUILDDIR=${VNM_BUILDDIR:-$VNM_TOP}
AGENT=$BUILDDIR/collector/vnmon-agent
ANALYZER=$BUILDDIR/analyzer/vnmon-analyzer
VNMONCTL=$BUILDDIR/tools/vnmonctl
PLUGIN_DIR=${VNM_PLUGIN_DIR:-$BUILDDIR/plugins}

for _b in "$AGENT" "$ANALYZER" "$VNMONCTL"; do
    [ -x "$_b" ] || fail "missing $_b: run make first"
done
unset _b

# write_configs [REDIS_ADDRESS]
write_configs()
{
    local redis=${1:-unix:$VNM_REDIS_SOCK}
    mkdir -p "$VNM_LAB_DIR/etc"
    cat >"$VNM_LAB_DIR/etc/agent.conf" <<CONF
[agent]
host_id = $VNM_LAB_NAME
log = $VNM_LAB_DIR/log/agent.log
log_level = info
pidfile = $VNM_LAB_DIR/run/vnmon-agent.pid
plugin_dir = $PLUGIN_DIR

[redis]
address = $redis
reconnect_max = 1s

[ovs]
db = unix:$VNM_OVSDB_SOCK
rundir = $OVS_RUNDIR

; A test fixture (tests/plugins/enrich-static.c), loaded by explicit path.
[enricher "static"]
plugin = $BUILDDIR/tests/plugins/.libs/enrich-static.so
key = site
value = lab
CONF
    cat >"$VNM_LAB_DIR/etc/analyzer.conf" <<CONF
[analyzer]
host_id = $VNM_LAB_NAME
log = $VNM_LAB_DIR/log/analyzer.log
pidfile = $VNM_LAB_DIR/run/vnmon-analyzer.pid
archive = $VNM_LAB_DIR/incidents.jsonl
spool = $VNM_LAB_DIR/spool
plugin_dir = $PLUGIN_DIR

[redis]
address = $redis
reconnect_max = 1s

[detector "scan"]
window = 10s

[sink "jsonl"]
path = $VNM_LAB_DIR/alerts.jsonl
CONF
}

# The agent runs in the lab's OVS namespace, where it will meet OVS.
start_agent()
{
    ip netns exec "$VNM_LAB_NETNS" "$AGENT" -c "$VNM_LAB_DIR/etc/agent.conf" \
        --detach "$@" || fail "vnmon-agent did not start"
    register_pidfile "$VNM_LAB_DIR/run/vnmon-agent.pid"
}

start_analyzer()
{
    "$ANALYZER" -c "$VNM_LAB_DIR/etc/analyzer.conf" --detach "$@" \
        || fail "vnmon-analyzer did not start"
    register_pidfile "$VNM_LAB_DIR/run/vnmon-analyzer.pid"
}

daemon_pid()
{
    tr -dc '0-9' <"$VNM_LAB_DIR/run/vnmon-$1.pid"
}

vnmonctl()
{
    "$VNMONCTL" --redis "unix:$VNM_REDIS_SOCK" "$@"
}

# status_field DAEMON FIELD: one field of `vnmonctl status --json`.
status_field()
{
    # vnmonctl exits 1 when a daemon is down; the JSON is still there.
    { vnmonctl status --json || true; } | "$PYTHON" -c '
import json, sys
d = [d for d in json.load(sys.stdin)["daemons"] if d["name"] == sys.argv[1]]
v = d[0][sys.argv[2]] if d else None
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"
}

agent_up()
{
    [ "$(status_field agent up)" = true ]
}

both_up()
{
    [ "$(status_field agent up)" = true ] \
        && [ "$(status_field analyzer up)" = true ]
}

# stop_daemon NAME: SIGTERM; fails unless it is gone within 2 s with its pid
# file removed.
stop_daemon()
{
    local name=$1 pid t0 elapsed
    pid=$(daemon_pid "$name")
    t0=${EPOCHREALTIME/[.,]/}
    kill -TERM "$pid"
    # Detached daemons are reparented to pid 1, which may reap them late:
    # a zombie has exited.
    while kill -0 "$pid" 2>/dev/null \
        && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
        elapsed=$(( ${EPOCHREALTIME/[.,]/} - t0 ))
        [ "$elapsed" -lt 2000000 ] || fail "vnmon-$name ignored SIGTERM for 2 s"
        sleep 0.05
    done
    elapsed=$(( ${EPOCHREALTIME/[.,]/} - t0 ))
    [ ! -e "$VNM_LAB_DIR/run/vnmon-$name.pid" ] \
        || fail "vnmon-$name left its pid file behind"
    pass "vnmon-$name stopped on SIGTERM in $((elapsed / 1000)) ms, pid file removed"
}

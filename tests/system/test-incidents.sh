#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Incidents kept in Redis and shared by analyzers (analyzer/incident.c), on
# a two-tenant lab with the agent and the "ip-spoof" detector: t1vm1 sends
# UDP bursts from a forged source address (10.0.0.99), 100-byte frames.
#
#   1. The first burst opens one incident, delivered by the jsonl sink and
#      archived; `vnmonctl alerts` shows it, with --tenant, --type, --state
#      and --json.
#   2. The analyzer is killed (SIGKILL) mid-incident.  Meanwhile a burst's
#      flow record is read, unacknowledged, by the analyzer's consumer name
#      (as if it had died before acknowledging it), and another one's by a
#      consumer "ghost" that never comes back.  The restarted analyzer reads
#      its own pending entry first, claims the ghost's after 30 s, and
#      merges all into the same incident: still one incident, updated, not
#      repeated.
#   3. A second analyzer joins the consumer group; a burst of 30 flows is
#      shared between the two: every record is consumed once (the analyzers'
#      counters add up to the stream's new entries), and the incident's
#      packets and bytes are exactly the attack's (not doubled).
#   4. Quiet for incident_idle: resolved once, by one analyzer; `vnmonctl
#      alerts --follow` sees it; the archive (shared by both analyzers) has
#      parseable open, update and resolved records, the same as the sinks
#      delivered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

lab_up --tenants 2 --vms 2
write_configs
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[flows]
idle_timeout = 2s
update_interval = 0
CONF
# ip-spoof instead of scan; incidents updated every 2 s at most, resolved
# after 20 s; one consumer name per analyzer; one archive for both; small
# reads, so that two analyzers share a burst of records.
archive=$VNM_LAB_DIR/incidents.jsonl
sed -i -e '/^\[detector "scan"\]$/,/^$/d' \
    -e "s|^\\[analyzer\\]\$|[analyzer]\\nupdate_interval = 2s\\nincident_idle = 20s\\nbatch = 4\\nconsumer = a1|" \
    "$VNM_LAB_DIR/etc/analyzer.conf"
cat >>"$VNM_LAB_DIR/etc/analyzer.conf" <<CONF

[detector "ip-spoof"]
CONF
# The second analyzer: its own host id, log, pid file, consumer, sink and
# spool (an analyzer locks its spool).
sed -e "s|^host_id = .*|host_id = $VNM_LAB_NAME-a2|" \
    -e "s|^spool = .*|spool = $VNM_LAB_DIR/spool2|" \
    -e "s|analyzer.log|analyzer2.log|" \
    -e "s|vnmon-analyzer.pid|vnmon-analyzer2.pid|" \
    -e "s|^consumer = a1|consumer = a2|" \
    -e "s|alerts.jsonl|alerts2.jsonl|" \
    "$VNM_LAB_DIR/etc/analyzer.conf" >"$VNM_LAB_DIR/etc/analyzer2.conf"
alerts=$VNM_LAB_DIR/alerts.jsonl
alerts2=$VNM_LAB_DIR/alerts2.jsonl
stream="vnm:{$VNM_LAB_NAME}:flows"
group=vnmon-analyzers

redis()
{
    redis-cli -s "$VNM_REDIS_SOCK" "$@"
}

# counter HOST NAME: counter NAME of the analyzer of host id HOST, from
# `vnmonctl status --json` (0 if absent).
counter()
{
    { vnmonctl status --json || true; } | "$PYTHON" -c '
import json, sys
d = [d for d in json.load(sys.stdin)["daemons"]
     if d["name"] == "analyzer" and d["host"] == sys.argv[1]]
print(d[0].get("counters", {}).get(sys.argv[2], 0) if d else 0)' "$1" "$2"
}

a1_up()
{
    [ "$(status_field agent up)" = true ] && { vnmonctl status --json || true; } \
        | "$PYTHON" -c '
import json, sys
d = [d for d in json.load(sys.stdin)["daemons"]
     if d["name"] == "analyzer" and d["host"] == sys.argv[1]]
sys.exit(0 if d and d[0]["up"] else 1)' "$1"
}

# burst SPORT PACKETS [FLOWS]: t1vm1 sends FLOWS (1) UDP flows from the
# forged 10.0.0.99 to t1vm2, source ports SPORT..., PACKETS 100-byte
# frames each, paced.  Adds to $sent.
sent=0
burst()
{
    local sport=$1 n=$2 flows=${3:-1}
    vm_exec t1vm1 "$PYTHON" - "$sport" "$n" "$flows" <<'PY'
import sys
from scapy.all import Ether, IP, UDP, Raw, conf, sendp
conf.verb = 0
sport, n, flows = map(int, sys.argv[1:4])
frames = [Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02")
          / IP(src="10.0.0.99", dst="10.0.0.12")
          / UDP(sport=sport + f, dport=9999) / Raw(b"x" * 58)
          for f in range(flows) for i in range(n)]
assert all(len(f) == 100 for f in frames)
sendp(frames, iface="eth0", inter=0.005)
PY
    sent=$((sent + n * flows))
}

# incident FIELD: field FIELD of the one incident's hash.
incident()
{
    redis hget "$(redis zrange vnm:alerts 0 0)" "$1"
}

# read_as CONSUMER PORT: reads new entries of the flow stream as CONSUMER
# of the group, without acknowledging them, until one has source port
# PORT (the burst's record).
read_as()
{
    redis --json xreadgroup group "$group" "$1" count 1000 streams \
        "$stream" '>' >>"$VNM_LAB_DIR/read-$1.json"
    grep -Eq "port[^0-9]{1,6}$2[^0-9]" "$VNM_LAB_DIR/read-$1.json"
}

one_incident()
{
    [ "$(redis zcard vnm:alerts)" = 1 ] && [ "$(redis hlen vnm:alerts:open)" = 1 ]
}

start_agent
start_analyzer
check -m "agent and analyzer a1 up" wait_for 10 a1_up "$VNM_LAB_NAME"
sleep 1                         # Taps bound, inventory read.

# ---------------------------------------------------- 1. opened

burst 41001 20
check -m "the incident is opened and delivered" \
    wait_for 10 grep -q '"type":"ip-spoof"' "$alerts"
check -m "one incident, in the tenant's index" one_incident
check -m "vnmonctl alerts --json: one record, of the forging VM" \
    "$PYTHON" - "$VNMONCTL" "$VNM_REDIS_SOCK" <<'PY'
import json, subprocess, sys
def alerts(*args):
    out = subprocess.run([sys.argv[1], "--redis", "unix:" + sys.argv[2],
                          "alerts", "--json"] + list(args),
                         check=True, capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines()]
a = alerts()
assert len(a) == 1, a
a = a[0]
assert a["id"] == "inc-1" and a["type"] == "ip-spoof", a
assert a["port"] == "t1vm1" and a["tenant"] == "tenant1", a
assert a["mac"] == "02:00:00:00:01:01", a
assert a["src"] == "10.0.0.99" and a["dst"] == "10.0.0.12", a
assert a["src_port"] == 41001 and a["dst_port"] == 9999, a
assert a["protocol"] == "udp" and a["target"] == "10.0.0.99", a
assert a["packets"] == 20 and a["bytes"] == 2000, a
assert alerts("--tenant", "tenant1")[0]["id"] == "inc-1"
assert alerts("--tenant", "tenant2") == []
assert len(alerts("--type", "ip-spoof")) == 1
assert alerts("--type", "port-scan") == []
assert len(alerts("--state", "open")) == 1
assert alerts("--state", "resolved") == []
assert len(alerts("--since", "1m")) == 1
assert alerts("--since", "2000-01-01T00:00:00Z")[0]["id"] == "inc-1"
assert alerts("--limit", "0") == []
PY
table=$(vnmonctl alerts)
check -m "vnmonctl alerts: a table" \
    grep -Eq '^LAST SEEN.* ID .*SEVERITY.*TYPE.*TENANT.*VM/PORT.*BYTES' <<<"$table"
check -m "vnmonctl alerts: the incident's row" \
    grep -Eq ' inc-1 +high +open +ip-spoof +tenant1 +t1vm1 +10\.0\.0\.99 +1 +20 +2000 ' <<<"$table"

# ---------------------------------------------------- 2. killed, restarted

pid=$(daemon_pid analyzer)
kill -KILL "$pid"
check -m "analyzer a1 killed (SIGKILL)" \
    wait_for 5 bash -c "! kill -0 $pid 2>/dev/null || [ \"\$(awk '{print \$3}' /proc/$pid/stat)\" = Z ]"
burst 41002 20
check -m "a record read by a1 and never acknowledged" wait_for 10 read_as a1 41002
burst 41003 20
check -m "a record read by a dead consumer 'ghost'" wait_for 10 read_as ghost 41003
check -m "both pending" [ "$(redis xpending "$stream" "$group" | head -n 1)" -ge 2 ]

t_restart=$(date +%s)
start_analyzer
check -m "analyzer a1 restarted" wait_for 10 a1_up "$VNM_LAB_NAME"
packets_are()
{
    [ "$(incident packets)" = "$1" ]
}
check -m "a1 read its pending record again" wait_for 10 packets_are 40
reread_counted()
{
    [ "$(counter "$VNM_LAB_NAME" flows_reread)" -ge 1 ]
}
check -m "counted as re-read" wait_for 3 reread_counted
check -m "still one incident" one_incident
check -m "updated, not repeated: an update record of inc-1" \
    wait_for 5 grep -q '"id":"inc-1","type":"ip-spoof","severity":"high","state":"update"' "$alerts"

# The ghost's record is claimed once idle 30 s; bursts keep the incident
# open meanwhile.
port=41100
claimed()
{
    [ "$(incident packets)" = "$sent" ] \
        && [ "$(counter "$VNM_LAB_NAME" flows_claimed)" -ge 1 ]
}
while ! claimed; do
    [ $(( $(date +%s) - t_restart )) -lt 60 ] \
        || fail "the ghost's record was not claimed within 60 s"
    burst $port 4
    port=$((port + 1))
    sleep 4
done
pass "the ghost's record claimed after $(( $(date +%s) - t_restart )) s, merged"
check -m "still one incident" one_incident
nothing_pending()
{
    [ "$(redis xpending "$stream" "$group" | head -n 1)" = 0 ]
}
check -m "nothing pending" wait_for 10 nothing_pending

# ---------------------------------------------------- 3. two analyzers

"$ANALYZER" -c "$VNM_LAB_DIR/etc/analyzer2.conf" --detach \
    || fail "analyzer a2 did not start"
register_pidfile "$VNM_LAB_DIR/run/vnmon-analyzer2.pid"
check -m "analyzer a2 up" wait_for 10 a1_up "$VNM_LAB_NAME-a2"

# new HOST: records the analyzer of HOST took as new.
new()
{
    echo $(( $(counter "$1" flows_consumed) + $(counter "$1" flows_malformed) \
             - $(counter "$1" flows_reread) - $(counter "$1" flows_claimed) ))
}
# settled: the group has delivered and acknowledged everything, and the
# counters (published every second) have caught up: prints "XLEN NEW1 NEW2".
settled()
{
    local before after
    before="$(redis xlen "$stream") $(new "$VNM_LAB_NAME") $(new "$VNM_LAB_NAME-a2")"
    sleep 2.5
    after="$(redis xlen "$stream") $(new "$VNM_LAB_NAME") $(new "$VNM_LAB_NAME-a2")"
    [ "$before" = "$after" ] || return 1
    [ "$(redis xpending "$stream" "$group" | head -n 1)" = 0 ] || return 1
    redis xinfo groups "$stream" | grep -A1 -x lag | tail -n 1 | grep -qx 0 \
        || return 1
    echo "$after"
}
snap=
for _ in 1 2 3 4 5 6 7 8; do
    ! snap=$(settled) || break
done
[ -n "$snap" ] || fail "the stream did not settle"
read -r len0 n1_0 n2_0 <<<"$snap"

# Each analyzer in turn is paused (SIGSTOP) while a burst of 15 flows is
# sent, so that the other must take it: both take records of the same
# group, deterministically (a running analyzer drains what is there at
# once, so left alone the first to poll would take a whole small burst).
a1_pid=$(cat "$VNM_LAB_DIR/run/vnmon-analyzer.pid")
a2_pid=$(cat "$VNM_LAB_DIR/run/vnmon-analyzer2.pid")
taken_by()
{
    [ "$(( $(new "$1") - $2 ))" -gt 0 ] && settled >/dev/null
}
kill -STOP "$a1_pid"
burst 42000 4 15
wait_for 20 taken_by "$VNM_LAB_NAME-a2" "$n2_0" || { kill -CONT "$a1_pid"; fail "a2 did not take the first burst"; }
kill -CONT "$a1_pid"
kill -STOP "$a2_pid"
n1_mid=$(new "$VNM_LAB_NAME")
burst 42100 4 15
wait_for 20 taken_by "$VNM_LAB_NAME" "$n1_mid" || { kill -CONT "$a2_pid"; fail "a1 did not take the second burst"; }
kill -CONT "$a2_pid"
accounted()
{
    local len n1 n2
    read -r len n1 n2 < <(settled) || return 1
    echo "records $((len - len0)), a1 $((n1 - n1_0)), a2 $((n2 - n2_0))"
    [ $((len - len0)) -ge 30 ] \
        && [ $(( (n1 - n1_0) + (n2 - n2_0) )) = $((len - len0)) ] \
        && [ "$(incident packets)" = "$sent" ]
}
# On a timeout, says which part disagrees (a run under ASan on a loaded
# machine once timed out here without saying).
accounted_or_report()
{
    wait_for 40 accounted && return 0
    echo "last: $(settled || echo "not settled (xlen/new counts moving, or pending, or lag)")" \
        "(at start: $len0 $n1_0 $n2_0); incident packets $(incident packets)," \
        "sent $sent; incidents $(redis zcard vnm:alerts)"
    return 1
}
check -m "each record consumed once by the two analyzers" accounted_or_report
check -m "both took their share" \
    [ "$(( $(new "$VNM_LAB_NAME") - n1_0 ))" -gt 0 -a "$(( $(new "$VNM_LAB_NAME-a2") - n2_0 ))" -gt 0 ]
check -m "the incident's packets are the attack's ($sent)" \
    [ "$(incident packets)" = "$sent" ]
check -m "the incident's bytes are the attack's ($((sent * 100)))" \
    [ "$(incident bytes)" = $((sent * 100)) ]
check -m "still one incident" one_incident

# ---------------------------------------------------- 4. resolved

timeout 40 "$VNMONCTL" --redis "unix:$VNM_REDIS_SOCK" alerts --follow --json \
    --tenant tenant1 --limit 0 >"$VNM_LAB_DIR/follow.jsonl" &
follow_pid=$!
register_pid "$follow_pid"
resolved()
{
    cat "$alerts" "$alerts2" | grep -q '"state":"resolved"'
}
check -m "resolved after 20 s without emission" wait_for 40 resolved
check -m "vnmonctl alerts --follow saw the resolution" \
    wait_for 5 grep -q '"id":"inc-1".*"state":"resolved"' "$VNM_LAB_DIR/follow.jsonl"
kill "$follow_pid" 2>/dev/null || true
check -m "vnmonctl alerts --state resolved lists it" \
    bash -c "'$VNMONCTL' --redis 'unix:$VNM_REDIS_SOCK' alerts --json --state resolved | grep -q '\"id\":\"inc-1\"'"
check -m "the records: one incident, resolved once, totals exact; the archive holds what the sinks delivered" \
    "$PYTHON" - "$archive" "$alerts" "$alerts2" "$sent" <<'PY'
import json, sys
archive = [json.loads(l) for l in open(sys.argv[1])]
sinks = [json.loads(l) for f in sys.argv[2:4] for l in open(f)]
sent = int(sys.argv[4])
assert sorted(map(json.dumps, archive)) == sorted(map(json.dumps, sinks))
assert {r["id"] for r in archive} == {"inc-1"}, archive
states = [r["state"] for r in archive]
assert states[0] == "open" and states.count("open") == 1, states
assert states.count("update") >= 2, states
assert states[-1] == "resolved" and states.count("resolved") == 1, states
last = archive[-1]
assert last["packets"] == sent and last["bytes"] == sent * 100, last
for r in archive:
    assert r["type"] == "ip-spoof" and r["tenant"] == "tenant1", r
    assert r["first_ms"] <= r["last_ms"], r
PY
check -m "archive mode 0640" [ "$(stat -c %a "$archive")" = 640 ]

stop_daemon agent
stop_daemon analyzer
pid=$(tr -dc '0-9' <"$VNM_LAB_DIR/run/vnmon-analyzer2.pid")
kill -TERM "$pid"
wait_for 3 bash -c "! kill -0 $pid 2>/dev/null || [ \"\$(awk '{print \$3}' /proc/$pid/stat)\" = Z ]" \
    || fail "analyzer a2 did not stop"
lab_down

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Redis stopped for 10 s while both daemons run: each logs one warning, no
# crash, both reconnect once Redis is back, and `vnmonctl status` shows the
# outage and its length.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

lab_up --tenants 1 --vms 1

# A Redis of the test's own, which it can stop and start.
sock=$VNM_LAB_DIR/run/outage.sock
start_redis()
{
    redis-server --port 0 --unixsocket "$sock" --save "" --appendonly no \
        --dir "$VNM_LAB_DIR" --logfile "$VNM_LAB_DIR/outage-redis.log" &
    REDIS_PID=$!
    register_pid "$REDIS_PID"
    wait_for 5 redis-cli -s "$sock" ping || fail "redis did not start"
}
start_redis
VNM_REDIS_SOCK=$sock
write_configs "unix:$sock"
start_agent
start_analyzer
check -m "both daemons up" wait_for 5 both_up

# The outage.
kill -TERM "$REDIS_PID"
wait "$REDIS_PID" || true
t0=$(date +%s)
sleep 10
start_redis
check -m "both reconnect and report within 5 s of Redis's return" \
    wait_for 5 both_up
echo "outage lasted $(( $(date +%s) - t0 )) s"

for d in agent analyzer; do
    pid=$(daemon_pid "$d")
    check -m "vnmon-$d survived (pid $pid)" kill -0 "$pid"
    outages=$(status_field "$d" redis_outages)
    check -m "vnmon-$d: status shows 1 outage (got $outages)" \
        test "$outages" = 1
    ms=$(status_field "$d" redis_last_outage_ms)
    check -m "vnmon-$d: status shows the outage length ($ms ms)" \
        test "$ms" -ge 9000 -a "$ms" -le 16000
    log=$VNM_LAB_DIR/log/$d.log
    n=$(grep -c '|WARN|' "$log" || true)
    check -m "vnmon-$d logged exactly one warning (got $n)" test "$n" = 1
    check -m "vnmon-$d: the warning is the lost connection" \
        grep -q '|WARN|redis|redis unix:.*: connection lost' "$log"
    check -m "vnmon-$d: recovery logged at INFO" \
        grep -q '|INFO|redis|redis unix:.*: connected again after' "$log"
done

table=$(vnmonctl status)
printf '%s\n' "$table"
check -m "status table shows the outage" grep -q "1 outage(s), last lasted" \
    <<<"$table"

ALLOWED_LOG_RE+=('[|]WARN[|]redis[|]redis unix:[^ ]*/outage.sock: connection lost')
stop_daemon agent
stop_daemon analyzer
lab_down

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Bandwidth series through Redis outages (issue 4, item 8), with steady
# iperf3 traffic from t1vm1 to t1vm2:
#   1. Redis stopped for 10 s (buffer 60 s): afterwards no second is
#      missing, each at the traffic's rate;
#   2. the agent restarted with a 5 s buffer, Redis stopped for 15 s: the
#      seconds beyond the buffer are recorded as a gap
#      ("vnm:{HOST}:bw:gaps"), their 1-s bins are absent, never zeros, the
#      others are there, and the 1-min rollups still count every second.
# Redis keeps its data across the restarts (append-only file).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

LEN=1000
WIRE=$((500 * (LEN + 42)))      # 4 Mbit/s of 1000-byte UDP payloads.

lab_up --tenants 1 --vms 2

sock=$VNM_LAB_DIR/run/bwo.sock
start_redis()
{
    redis-server --port 0 --unixsocket "$sock" --save "" --appendonly yes \
        --appendfsync always --dir "$VNM_LAB_DIR" \
        --logfile "$VNM_LAB_DIR/bwo-redis.log" &
    REDIS_PID=$!
    register_pid "$REDIS_PID"
    wait_for 5 redis-cli -s "$sock" ping || fail "redis did not start"
}
stop_redis()
{
    kill -TERM "$REDIS_PID"
    wait "$REDIS_PID" || true
}
start_redis
VNM_REDIS_SOCK=$sock
write_configs "unix:$sock"
cp "$VNM_LAB_DIR/etc/agent.conf" "$VNM_LAB_DIR/etc/agent.conf.base"
with_buffer()
{
    { cat "$VNM_LAB_DIR/etc/agent.conf.base"
      printf '\n[collector]\nbuffer = %s\n' "$1"; } \
        >"$VNM_LAB_DIR/etc/agent.conf"
}

vm_bg t1vm2 iperf3 -s -B 10.0.0.12 -p 5201
wait_for 10 vm_exec t1vm1 "$PYTHON" -c '
import socket; socket.create_connection(("10.0.0.12", 5201), 1).close()' \
    || fail "iperf3 server did not start"
traffic()
{
    vm_bg t1vm1 iperf3 -c 10.0.0.12 -p 5201 -u -b 4M -l "$LEN" -t "$1" \
        --pacing-timer 1000
    TRAFFIC_PID=$BG_PID
}

# check_seconds FROM TO: every second of [FROM, TO) is recorded (host
# field) and t1vm1 sent the rate in it.
check_seconds()
{
    "$PYTHON" - "$sock" "$VNM_LAB_NAME" "$WIRE" "$1" "$2" <<'PY'
import os, sys
sys.path.insert(0, os.environ["VNM_TOP"] + "/tests/system")
from bwcheck import *
r = Redis(sys.argv[1])
host, wire, lo, hi = sys.argv[2], *map(int, sys.argv[3:])
_, ten = vm_of(r, host, "t1vm1")
hs = series(r, host, "", "host", "-", "s", lo, hi)
missing = [t for t in range(lo, hi) if t not in hs]
assert not missing, "unrecorded seconds: %s" % missing
check_rate("port t1vm1 tx", series(r, host, ten, "port", "t1vm1", "s", lo, hi),
           0, lo, hi, wire)
PY
}

# 1. A 10 s outage within the buffer.
with_buffer 60s
start_agent
wait_for 10 agent_up || fail "agent not up"
traffic 40
sleep 5
t_lo=$(date +%s)
stop_redis
sleep 10
start_redis
wait_for 5 agent_up || fail "agent not back"
sleep 8
t_hi=$(date +%s)
check -m "10 s outage: no missing second in $((t_hi - t_lo - 1)) s" \
    check_seconds "$t_lo" "$((t_hi - 1))"
check -m "no gap recorded" test \
    "$(redis-cli -s "$sock" ZCARD "vnm:{$VNM_LAB_NAME}:bw:gaps")" = 0
wait "$TRAFFIC_PID" || true
stop_daemon agent

# 2. A 15 s outage with a 5 s buffer: a gap of about 10 s.
with_buffer 5s
start_agent
wait_for 10 agent_up || fail "agent not up"
traffic 45
sleep 5
t_lo=$(date +%s)
stop_redis
sleep 15
start_redis
wait_for 5 agent_up || fail "agent not back"
sleep 5
t_hi=$(date +%s)
"$PYTHON" - "$sock" "$VNM_LAB_NAME" "$t_lo" "$t_hi" <<'PY' \
    || fail "gap not marked as it should be"
import os, sys
sys.path.insert(0, os.environ["VNM_TOP"] + "/tests/system")
from bwcheck import *
r = Redis(sys.argv[1])
host, lo, hi = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
gaps = r.cmd("ZRANGE", "vnm:{%s}:bw:gaps" % host, 0, -1)
assert len(gaps) == 1, gaps
a, b = map(int, gaps[0].split(":")[0].split("-"))
assert gaps[0].endswith(":redis"), gaps
# The second before the stop closes (250 ms grace) after it.
assert lo - 2 <= a and b <= hi and 7 <= b - a <= 13, (lo, a, b, hi)
print("ok - gap %d..%d (%d s) marked" % (a, b, b - a))
hs = series(r, host, "", "host", "-", "s", lo - 3, hi)
inside = [t for t in range(a, b) if t in hs]
assert not inside, "gap seconds have bins: %s" % inside
outside = [t for t in range(lo - 3, hi - 1) if not a <= t < b and t not in hs]
assert not outside, "seconds missing outside the gap: %s" % outside
print("ok - 1-s bins absent inside the gap only")
PY
wait "$TRAFFIC_PID" || true
stop_daemon agent

# The rollups kept aggregating through the gap: its minute counts every
# second the agent was running.
"$PYTHON" - "$sock" "$VNM_LAB_NAME" "$t_lo" <<'PY' \
    || fail "rollup of the gap's minute incomplete"
import os, sys
sys.path.insert(0, os.environ["VNM_TOP"] + "/tests/system")
from bwcheck import *
r = Redis(sys.argv[1])
host, lo = sys.argv[2], int(sys.argv[3])
m = lo - lo % 60
hm = series(r, host, "", "host", "-", "m", m, m)
a, b = map(int, r.cmd("ZRANGE", "vnm:{%s}:bw:gaps" % host, 0, -1)[0]
           .split(":")[0].split("-"))
assert m in hm, hm
gap_in_minute = len(set(range(a, b)) & set(range(m, m + 60)))
hs = series(r, host, "", "host", "-", "s", m, m + 59)
assert hm[m][4] >= len(hs) + gap_in_minute, (hm[m], len(hs), gap_in_minute)
print("ok - minute %d: N = %d >= %d 1-s bins + %d gap seconds" % (
    m, hm[m][4], len(hs), gap_in_minute))
PY

ALLOWED_LOG_RE+=('[|]WARN[|]redis[|]redis unix:[^ ]*/bwo.sock: connection lost')
ALLOWED_LOG_RE+=('[|]WARN[|]bw[|]1-s bandwidth bins of [0-9]+ s .* lost to a Redis outage longer than the buffer')
lab_down

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Benchmark (root; `make bench`): what the bandwidth series cost Redis.
# A lab of 2 tenants x 2 VMs, each VM sending paced iperf3 UDP (1 Mbit/s)
# to another for 130 s with the agent running; then:
#   - Redis commands per second per agent, and round trips per second
#     (Redis INFO, over the last 120 s);
#   - Redis memory per VM: the bytes of one VM's series (port, VM, ovs)
#     measured with MEMORY USAGE, per 1-s key, per 1-min bin and per 1-h
#     bin, and from them the memory one VM-day of history costs and the
#     steady state under the default retentions.
# Prints a table and writes it to $BENCH_OUT (default tests/bench/bw-redis.txt).
VNM_TOP=$(cd -- "$(dirname -- "$0")/../.." && pwd)
export VNM_TOP
TEST_NAME=bench-bw
. "$VNM_TOP/tests/system/lib.sh"
. "$VNM_TOP/tests/system/daemon-lib.sh"

OUT=${BENCH_OUT:-$BUILDDIR/tests/bench/bw-redis.txt}
DURATION=${BENCH_SECONDS:-130}
mkdir -p "$(dirname "$OUT")"

lab_up --tenants 2 --vms 2
write_configs
start_agent
wait_for 10 agent_up || fail "agent not up"

for vm in t1vm2 t2vm2 t2vm1 t1vm1; do
    ip=$(vm_exec "$vm" ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
    vm_bg "$vm" iperf3 -s -B "$ip" -p 5201
done
sleep 1
send()
{
    local dst
    dst=$(vm_exec "$2" ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
    vm_bg "$1" iperf3 -c "$dst" -p 5201 -u -b 1M -l 1000 -t "$DURATION" \
        --pacing-timer 1000
}
send t1vm1 t1vm2
send t1vm2 t2vm1
send t2vm1 t2vm2
send t2vm2 t1vm1

sleep 10
rinfo()
{
    redis-cli -s "$VNM_REDIS_SOCK" INFO "$1" | tr -d '\r'
}
c0=$(rinfo stats | awk -F: '/^total_commands_processed/ {print $2}')
t0=${EPOCHREALTIME/[.,]/}
sleep $((DURATION - 10))
c1=$(rinfo stats | awk -F: '/^total_commands_processed/ {print $2}')
t1=${EPOCHREALTIME/[.,]/}
stop_daemon agent

"$PYTHON" - "$VNM_REDIS_SOCK" "$VNM_LAB_NAME" "$c0" "$c1" "$t0" "$t1" \
    "$OUT" <<'PY'
import os, sys
sys.path.insert(0, os.environ["VNM_TOP"] + "/tests/system")
from bwcheck import Redis, vm_of

r = Redis(sys.argv[1])
host = sys.argv[2]
c0, c1, t0, t1 = map(int, sys.argv[3:7])
secs = (t1 - t0) / 1e6
# Our own INFO calls are 2 of them.
cps = (c1 - c0 - 1) / secs

vm, ten = vm_of(r, host, "t1vm1")
pre = "vnm:t:%s:{%s}" % (ten, host)
keys = r.cmd("KEYS", pre + ":bw:*")
own = [k for k in keys if (":port:t1vm1:" in k or ":vm:%s:" % vm in k
                           or ":ovs:t1vm1:" in k)]
by_res = {"s": [], "m": [], "h": []}
for k in own:
    res = k.split(":bw:")[1].split(":")[0]
    n = int(r.cmd("HLEN", k)[0])
    mem = int(r.cmd("MEMORY", "USAGE", k, "SAMPLES", "0")[0])
    by_res[res].append((k, n, mem))
s_full = [m for k, n, m in by_res["s"] if n >= 59]
s_key = sum(s_full) / len(s_full) if s_full else 0
per_field = {}
for res in ("m", "h"):
    f = sum(n for k, n, m in by_res[res])
    per_field[res] = sum(m for k, n, m in by_res[res]) / f if f else 0
ents = len({k.split(":bw:")[1].split(":")[1] + ":" +
            k.split(":bw:")[1].split(":")[2] for k in own})
# One VM-day of history: 1440 minute bins and 24 hour bins per series.
vm_day = 1440 * per_field["m"] + 24 * per_field["h"]
steady = 61 * s_key + 7 * 1440 * per_field["m"] + 400 * 24 * per_field["h"]
lines = [
    "bandwidth series in Redis, 4 VMs at 1 Mbit/s each, %.0f s" % secs,
    "  Redis commands/s per agent      %8.1f" % cps,
    "  (one pipelined round trip a second carries them with the heartbeat)",
    "  series per VM (port, vm, ovs)   %8d" % ents,
    "  1-s key (60 bins), all series   %8.0f B x %d series" % (s_key, ents),
    "  1-min bin, per series           %8.1f B" % per_field["m"],
    "  1-h bin, per series             %8.1f B" % per_field["h"],
    "  Redis memory per VM-day         %8.0f B (1440 x 1-min + 24 x 1-h, "
    "x %d series: %.0f B)" % (vm_day, ents, vm_day * ents),
    "  steady state per VM, defaults   %8.0f B (1 h of 1 s, 7 d of 1 min, "
    "400 d of 1 h; x %d series: %.1f MB)" % (steady, ents,
                                            steady * ents / 1e6),
]
open(sys.argv[7], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
lab_down

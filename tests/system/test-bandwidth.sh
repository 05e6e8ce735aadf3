#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Bandwidth series end to end (issue 4): iperf3 UDP from t1vm1 to t1vm2 at
# a steady known rate for about 80 s with a 2 s burst at 4x in the middle.
# Then, from Redis (lib/bw-series.h) and through vnmonctl:
#   - t1vm1's port, its VM and tenant t1 send the known rate each second
#     (within 5%), the busiest application too; t1vm2 receives it;
#   - the peak second is the burst's, at 4x; p95 and mean as computed here
#     independently from the 1-s bins;
#   - every complete minute's 60 one-second bins sum to its 1-minute bin,
#     whose max is the largest of them (port, VM, tenant, application);
#   - tap-derived bytes and the OVSDB Interface counters agree within 5%
#     over a steady minute;
#   - the hosts, index, live and pair keys exist.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

RATE=4M             # iperf3 -b, UDP payload bits/s.
LEN=1000            # UDP payload bytes: 1042 on the wire.
PPS=500             # Packets/s at RATE.
WIRE=$((PPS * (LEN + 42)))

lab_up --tenants 2 --vms 2
write_configs
start_agent
wait_for 10 agent_up || fail "agent not up"
wait_for 10 vnmonctl inventory >/dev/null || fail "no inventory"

vm_bg t1vm2 iperf3 -s -B 10.0.0.12 -p 5201
wait_for 10 vm_exec t1vm1 "$PYTHON" -c '
import socket; socket.create_connection(("10.0.0.12", 5201), 1).close()' \
    || fail "iperf3 server did not start"

# iperf RATE SECONDS: starts iperf3 just after a second boundary, so that
# whole seconds carry one rate, and appends that second to $STARTS.
STARTS=$VNM_LAB_DIR/iperf-starts
iperf()
{
    "$PYTHON" -c 'import time; time.sleep(1.02 - time.time() % 1)'
    date +%s >>"$STARTS"
    vm_exec t1vm1 iperf3 -c 10.0.0.12 -p 5201 -u -b "$1" -l "$LEN" -t "$2" \
        --pacing-timer 1000 >/dev/null
}

# Start 30-40 s into a minute, so that the traffic (about 95 s) spans the
# whole of the next minute: the minute checks need one.
"$PYTHON" -c '
import time
while not 30 <= time.time() % 60 < 40:
    time.sleep(0.5)'
iperf "$RATE" 66 &
IPERF_PID=$!
sleep 30
# The live view while the steady rate runs.
vnmonctl top --once --json >"$VNM_LAB_DIR/top.json" || fail "vnmonctl top"
wait "$IPERF_PID"
iperf 16M 2
iperf "$RATE" 20
pass "traffic sent: starts $(tr '\n' ' ' <"$STARTS")"

# The last seconds, then the partial minute and hour at the agent's stop.
sleep 2
stop_daemon agent

# The topology names the VM-to-VM edge.
vnmonctl topology --json >"$VNM_LAB_DIR/topology.json" \
    || fail "vnmonctl topology"
vnmonctl report --html "$VNM_LAB_DIR/report.html" --since 1h \
    || fail "vnmonctl report"

export VNMONCTL VNM_REDIS_SOCK VNM_LAB_DIR
"$PYTHON" - "$VNM_REDIS_SOCK" "$VNM_LAB_NAME" "$WIRE" "$STARTS" <<'PY'
import sys
sys.path.insert(0, __import__("os").environ["VNM_TOP"] + "/tests/system")
from bwcheck import *
import json

r = Redis(sys.argv[1])
host, wire = sys.argv[2], int(sys.argv[3])
s0, sb, s2 = [int(x) for x in open(sys.argv[4])]
t0, t1 = s0 - 5, s2 + 25
steady = [(s0 + 1, s0 + 66), (s2 + 1, s2 + 20)]

vm1, ten = vm_of(r, host, "t1vm1")
vm2, _ = vm_of(r, host, "t1vm2")
S = {}
for name, tenant, kind, ident in [
        ("port t1vm1", ten, "port", "t1vm1"),
        ("port t1vm2", ten, "port", "t1vm2"),
        ("vm t1vm1", ten, "vm", vm1), ("vm t1vm2", ten, "vm", vm2),
        ("tenant t1", ten, "tenant", "-"), ("host", "", "host", "-"),
        ("ovs t1vm1", ten, "ovs", "t1vm1")]:
    S[name] = (series(r, host, tenant, kind, ident, "s", t0, t1),
               series(r, host, tenant, kind, ident, "m", t0, t1),
               series(r, host, tenant, kind, ident, "h", t0, t1))

# The application: the busiest of the host's index.
apps = [m.split(":", 1)[1] for m in r.cmd("ZRANGE", "vnm:{%s}:bw:index" % host,
                                           0, -1) if m.startswith("app:")]
assert apps, "no application in the index"
best = max(apps, key=lambda a: sum(v[0] for v in series(
    r, host, "", "app", a, "s", t0, t1).values()))
S["app " + best] = (series(r, host, "", "app", best, "s", t0, t1),
                    series(r, host, "", "app", best, "m", t0, t1),
                    series(r, host, "", "app", best, "h", t0, t1))
print("ok - busiest application: %s" % best)

for lo, hi in steady:
    check_rate("port t1vm1 tx", S["port t1vm1"][0], 0, lo, hi, wire)
    check_rate("vm t1vm1 tx", S["vm t1vm1"][0], 0, lo, hi, wire)
    check_rate("port t1vm2 rx", S["port t1vm2"][0], 2, lo, hi, wire)
    check_rate("vm t1vm2 rx", S["vm t1vm2"][0], 2, lo, hi, wire)
    check_rate("tenant t1 tx", S["tenant t1"][0], 0, lo, hi, wire)
    check_rate("tenant t1 rx", S["tenant t1"][0], 2, lo, hi, wire)
    check_rate("app %s tx" % best, S["app " + best][0], 0, lo, hi, wire)

# The peak: the burst's full second, at 4x.
port = S["port t1vm1"][0]
peak_t = max(port, key=lambda t: port[t][0])
assert peak_t in (sb, sb + 1), "peak second %d, burst from %d" % (peak_t, sb)
assert abs(port[peak_t][0] - 4 * wire) <= 0.05 * 4 * wire, port[peak_t]
print("ok - peak second %d: %d B/s (4 x %d)" % (peak_t, port[peak_t][0],
                                                wire))

# Minutes: 60 x 1-s = the 1-min bin; hours: the sum of the minutes.
for name, (s1, sm, sh) in S.items():
    if name.startswith("ovs") or name.startswith("port t1vm2"):
        continue
    check_minutes(name, s1, sm, t0, t1)
    for h, v in sh.items():
        mins = [x for t, x in sm.items() if h <= t < h + 3600]
        assert v[0] == sum(x[0] for x in mins), (name, h, v, mins)
        assert v[5] == max(x[5] for x in mins), (name, h)
    print("ok - %s: hour bins = sum of their minutes" % name)

# Tap versus OVSDB Interface counters over a steady minute: between two
# seconds at which OVS's counters moved (its statistics come every ~5 s).
ovs = S["ovs t1vm1"][0]
lo, hi = steady[0]
samples = sorted(t for t in ovs if lo <= t < hi and ovs[t][0])
assert len(samples) >= 2 and samples[-1] - samples[0] >= 45, samples
a, b = samples[0], samples[-1]
tap_sum = sum(port.get(t, [0])[0] for t in range(a + 1, b + 1))
ovs_sum = sum(ovs.get(t, [0])[0] for t in range(a + 1, b + 1))
assert abs(tap_sum - ovs_sum) <= 0.05 * ovs_sum, (a, b, tap_sum, ovs_sum)
print("ok - tap %d B vs OVSDB %d B over %d..%d (%d s): %.2f%% apart" % (
    tap_sum, ovs_sum, a, b, b - a, 100.0 * abs(tap_sum - ovs_sum) / ovs_sum))

# Other keys.
assert host in r.cmd("SMEMBERS", "vnm:bw:hosts")
assert ten in r.cmd("SMEMBERS", "vnm:{%s}:bw:tenants" % host)
idx = r.cmd("ZRANGE", "vnm:t:%s:{%s}:bw:index" % (ten, host), 0, -1)
for m in ("port:t1vm1", "vm:" + vm1, "tenant:-"):
    assert m in idx, (m, idx)
pairs = {}
for m in range(s0 - s0 % 60, t1, 60):
    for k, v in r.hgetall("vnm:{%s}:bw:pairs:m:%d" % (host, m)).items():
        pairs[k] = pairs.get(k, 0) + int(v.split()[0])
edge = "vm:%s>vm:%s" % (vm1, vm2)
assert pairs.get(edge, 0) >= 80 * wire * 0.95, (edge, pairs)
print("ok - pair %s: %d bytes" % (edge, pairs[edge]))
ttl = int(r.cmd("TTL", "vnm:t:%s:{%s}:bw:s:port:t1vm1:%d"
                % (ten, host, s2 - s2 % 60))[0])
assert 0 < ttl <= 3600 + 60, ttl
print("ok - 1-s keys expire (TTL %d s)" % ttl)

# The VM's recent flows: its iperf3 flows, newest first.
recent = [json.loads(x) for x in r.cmd(
    "LRANGE", "vnm:t:%s:{%s}:flows:vm:%s" % (ten, host, vm1), 0, -1)]
assert recent, "no recent flows for t1vm1"
assert all(vm1 in (f["src"]["in"]["vm"], f["dst"]["in"]["vm"])
           for f in recent), recent
assert any(f["dst"]["port"] == 5201 and f["ip_proto"] == 17
           and f["src"]["in"]["vm"] == vm1 for f in recent), recent
print("ok - recent flows of t1vm1: %d records, its iperf3 flows among them"
      % len(recent))

# vnmonctl's views against the same traffic.
import os, subprocess
def ctl(*args):
    out = subprocess.run([os.environ["VNMONCTL"], "--redis",
                          "unix:" + os.environ["VNM_REDIS_SOCK"], *args,
                          "--json"], capture_output=True, text=True)
    assert out.returncode == 0, (args, out.returncode, out.stderr)
    return json.loads(out.stdout)

def near(a, b, tol=0.05):
    return abs(a - b) <= tol * b

top = json.load(open(os.environ["VNM_LAB_DIR"] + "/top.json"))
assert {v["vm"] for v in top["vms"][:2]} == {vm1, vm2}, top["vms"]
assert top["tenants"][0]["tenant"] == ten, top["tenants"]
assert top["pairs"][0]["src"] == "vm:" + vm1, top["pairs"]
assert top["pairs"][0]["dst"] == "vm:" + vm2, top["pairs"]
assert near(top["pairs"][0]["bytes"], wire), top["pairs"][0]
assert top["apps"][0]["app"] == best, top["apps"]
print("ok - top: VMs, tenant, application and pair of the traffic, pair "
      "at %d B/s" % top["pairs"][0]["bytes"])

# bw: the burst second, p95 and mean as computed here from the 1-s bins.
hs = S["host"][0]
for kind, ident, name, col in [("port", "t1vm1", "port t1vm1", 0),
                               ("vm", vm1, "vm t1vm1", 0),
                               ("tenant", ten, "tenant t1", 0),
                               ("app", best, "app " + best, 0)]:
    j = ctl("bw", kind, ident, "--since", "10m")
    st = j["stats"]["tx"]
    lo, hi = j["stats"]["from"], j["stats"]["to"]
    # The host's recorded seconds over the whole window vnmonctl read (it
    # may start before t0: the connection checks ran earlier).
    hs_all = series(r, host, "", "host", "-", "s", lo, hi)
    rec = [t for t in range(lo, hi) if t in hs_all]
    s1 = series(r, host, ten if kind in ("port", "vm", "tenant") else "",
                kind, "-" if kind == "tenant" else ident, "s", lo, hi)
    vals = [s1.get(t, [0])[0] for t in rec]
    assert j["stats"]["recorded_seconds"] == len(rec), (
        j["stats"]["recorded_seconds"], len(rec))
    assert st["peak_bytes_per_s"] == max(vals), (st, max(vals))
    assert st["peak_time"] == peak_t, (st["peak_time"], peak_t)
    assert near(st["peak_bytes_per_s"], 4 * wire)
    assert st["p95_exact"] and st["p95_bytes_per_s"] == p95(vals), (
        st["p95_bytes_per_s"], p95(vals))
    assert abs(st["mean_bytes_per_s"] - sum(vals) / len(rec)) < 1, (
        st["mean_bytes_per_s"], sum(vals) / len(rec))
    assert st["bytes"] == sum(vals)
    gaps = [b for b in j["bins"] if b.get("gap")]
    assert len(j["bins"]) - len(gaps) == len(rec)
    print("ok - bw %s: peak %d B/s at %d, p95 %d, mean %.0f over %d s" % (
        name, st["peak_bytes_per_s"], st["peak_time"],
        st["p95_bytes_per_s"], st["mean_bytes_per_s"], len(rec)))

topo = json.load(open(os.environ["VNM_LAB_DIR"] + "/topology.json"))
e = [e for e in topo["edges"] if e.get("src_vm") == vm1
     and e.get("dst_vm") == vm2]
assert e and e[0]["bytes"] >= 0.95 * 80 * wire, (e, topo["edges"])
names = json.dumps(topo["hosts"])
assert "t1vm1" in names and vm1 in names and ten in names
print("ok - topology: edge t1vm1 -> t1vm2, %d bytes" % e[0]["bytes"])
html = open(os.environ["VNM_LAB_DIR"] + "/report.html").read()
assert "<svg" in html and vm1 in html and "http://" not in html \
    and "https://" not in html
print("ok - report: %d bytes of self-contained HTML with charts" % len(html))

# peak and capacity: per VM, tenant and port.
pk = ctl("peak", "--since", "1h")
row = [e for e in pk["entities"] if e["kind"] == "vm" and e["id"] == vm1]
assert row and row[0]["tx"]["peak_time"] == peak_t, row
assert near(row[0]["tx"]["peak_bytes_per_s"], 4 * wire), row
print("ok - peak: vm t1vm1 at %d" % peak_t)
cap = ctl("capacity", "port", "--since", "1h")
row = [e for e in cap["entities"] if e["id"] == "t1vm1"]
assert row, cap
st = row[0]["stats"]
assert st["tx"]["peak_time"] == peak_t, st
speed = st["link_speed"]
if speed:
    assert abs(st["peak_utilisation"]
               - st["tx"]["peak_bytes_per_s"] * 8 / speed) < 1e-6, st
print("ok - capacity: port t1vm1 peak %d B/s, p95 %d, mean %.0f, link %s, "
      "busiest hour %s" % (st["tx"]["peak_bytes_per_s"],
                           st["tx"]["p95_bytes_per_s"],
                           st["tx"]["mean_bytes_per_s"], speed,
                           st["busiest_hour"]["time"]))
PY
pass "bandwidth series checked"

lab_down

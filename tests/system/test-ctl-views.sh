#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# vnmonctl's bandwidth views (bw, peak, capacity, top) against a known
# synthetic data set, written with redis-cli into a Redis of the test's own
# (unix socket in a temporary directory) exactly as lib/bw-series.h
# specifies: 1-s bins for the last hour, 1-min and 1-h rollups with
# histograms for the last 3 hours (the current minute and hour not rolled
# up yet, as the agent leaves them), an hour of 1-h data 10 days old, index
# keys, a marked gap, an inventory with link speeds, a VM that migrated
# between two hosts, and live views.
#
# The Python model below generates the data set from per-second functions
# and computes every expected answer from the same functions (not from the
# C code): bins (gaps shown as gaps, idle recorded seconds as zeros), peak
# second and its time, p95 (exact from 1-s data; the histogram bucket's
# value from rollups), mean over recorded seconds, busiest hour,
# utilisation.  Each command's --json output is compared with it; the
# table outputs must hold the expected rows.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /tmp/vnm-ctl-views.XXXXXX)
SOCK=$T/redis.sock
REDIS_PID=

cleanup()
{
    local rc=$?
    trap - EXIT INT TERM ERR
    set +e
    if [ -n "$REDIS_PID" ]; then
        kill -TERM "$REDIS_PID" 2>/dev/null
        wait "$REDIS_PID" 2>/dev/null
    fi
    if [ "$rc" -ne 0 ] && [ -f "$T/redis.log" ]; then
        tail -n 20 "$T/redis.log" >&2
    fi
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 \
    --dir "$T" --save "" --appendonly no --logfile "$T/redis.log" &
REDIS_PID=$!
redis_up() { [ "$(redis-cli -s "$SOCK" ping 2>/dev/null)" = PONG ]; }
wait_for 10 redis_up || fail "redis-server did not start"
pass "redis-server on $SOCK (pid $REDIS_PID)"
export VNM_REDIS=unix:$SOCK
command -v vnmonctl >/dev/null || fail "no vnmonctl in PATH (run.sh sets it)"

cat >"$T/model.py" <<'EOF'
# The synthetic data set and its expected answers.  Usage:
#   model.py gen N          RESP commands writing the data set (N = "now")
#   model.py live N         RESP commands writing the live views
#   model.py CHECK N NOW FILE [ARGS]: checks vnmonctl's JSON in FILE
import json, math, sys

VM1 = "6f1c1a52-0000-4000-8000-000000000001"
VM2 = "6f1c1a52-0000-4000-8000-000000000002"
VMMIG = "6f1c1a52-0000-4000-8000-0000000000aa"
RET = {"s": 3600, "m": 7 * 86400, "h": 400 * 86400}
BIN = {"s": 1, "m": 60, "h": 3600}
SPAN = {"s": 60, "m": 3600, "h": 86400}

N = int(sys.argv[2])                 # The data ends before second N.
S0 = N - 3600                        # 1-s data: [S0, N).
A = (N - 3 * 3600) // 3600 * 3600    # Rollups: [A, N).
H10 = (N - 10 * 86400) // 3600 * 3600  # An hour of 1-h data only.
G = N - 900                          # hv1 gap [G, G + 20), "redis".
IDLE = N - 2000                      # vm1 idle [IDLE, IDLE + 30).
B = N - 1200                         # The burst second (4x).
OB = N - 7200                        # An older burst (1-s data expired).
MIG = N - 1800                       # VMMIG moves from hv1 to hv2.
OH = H10 + 1234                      # The peak second of the old hour.

def in_data(t):
    return A <= t < N

def rec(host, t):
    """Seconds each host recorded."""
    if host == "hv1":
        return ((in_data(t) and not G <= t < G + 20)
                or H10 <= t < H10 + 3600)
    return in_data(t)

def vm1(t):
    if not rec("hv1", t) or IDLE <= t < IDLE + 30:
        return None
    if H10 <= t < H10 + 3600:
        return (2000000 if t == OH else 375000, 300, 0, 0)
    if t == B:
        return (500000, 400, 25000, 50)
    if t == OB:
        return (1000000, 900, 25000, 50)
    return (125000, 100, 25000, 50)

def vm2(t):
    if rec("hv1", t) and in_data(t) and t % 10 == 0:
        return (10000, 10, 20000, 20)
    return None

def eth1(t):
    if rec("hv1", t) and in_data(t):
        return (1000000, 800, 100000, 80) if t == B else (250000, 200,
                                                          100000, 80)
    return None

def add(*vs):
    vs = [v for v in vs if v]
    return tuple(map(sum, zip(*vs))) if vs else None

def mig(host):
    def f(t):
        if in_data(t) and rec(host, t) and ((t < MIG) == (host == "hv1")):
            return (50000, 40, 5000, 5)
        return None
    return f

def host_fn(host):
    def f(t):
        if not rec(host, t):
            return None
        if host == "hv1":
            v = add(vm1(t), vm2(t), eth1(t))
        else:
            v = mig("hv2")(t)
        return v or (0, 0, 0, 0)
    return f

# Series: (host, tenant scope, kind, key id, function).
SERIES = [
    ("hv1", "", "host", "-", host_fn("hv1")),
    ("hv2", "", "host", "-", host_fn("hv2")),
    ("hv1", "acme", "vm", VM1, vm1),
    ("hv1", "acme", "vm", VM2, vm2),
    ("hv1", "acme", "port", "vnet1", vm1),
    ("hv1", "acme", "port", "vnet2", vm2),
    ("hv1", "acme", "tenant", "-", lambda t: add(vm1(t), vm2(t))),
    ("hv1", "", "port", "eth1", eth1),
    ("hv1", "", "app", "HTTP", lambda t: vm1(t) if in_data(t) else None),
    ("hv1", "", "vm", VMMIG, mig("hv1")),
    ("hv2", "", "vm", VMMIG, mig("hv2")),
]

# The entities as vnmonctl names them: (kind, id) -> (locations, function
# of the summed traffic, link speed).
def entity(kind, ident):
    locs = [s for s in SERIES if s[2] == kind
            and (s[3] == ident if kind not in ("host", "tenant")
                 else (s[0] if kind == "host" else s[1]) == ident)]
    assert locs, (kind, ident)
    fn = lambda t: add(*[s[4](t) for s in locs])
    hosts = sorted(set(s[0] for s in locs))
    speed = {("vm", VM1): 100000000, ("port", "vnet1"): 100000000,
             ("port", "eth1"): 10000000}.get((kind, ident))
    return hosts, fn, speed

def bucket(v):
    if not v:
        return 0
    return min(int(math.floor(8 * math.log2(v))) + 1, 512)

def bucket_value(b):
    return 2 ** ((b - 1 + 0.5) / 8) if b else 0.0

# ------------------------------------------------------------ generation

def resp(*args):
    out = "*%d\r\n" % len(args)
    for a in args:
        a = str(a).encode()
        out += "$%d\r\n%s\r\n" % (len(a), a.decode())
    return out

def prefix(host, tenant):
    return "vnm:t:%s:{%s}" % (tenant, host) if tenant else "vnm:{%s}" % host

def fold(values):
    """A rollup value of the 1-s values (None: no traffic) of a bin."""
    secs = [v for v in values if v]
    if not secs:
        return None
    tx = {}
    rx = {}
    for v in secs:
        tx[bucket(v[0])] = tx.get(bucket(v[0]), 0) + 1
        rx[bucket(v[2])] = rx.get(bucket(v[2]), 0) + 1
    tot = [sum(v[i] for v in secs) for i in range(4)]
    hist = lambda h: ",".join("%d=%d" % (k, h[k]) for k in sorted(h))
    return "%d %d %d %d %d %d %d %d %d | tx:%s rx:%s" % (
        tot[0], tot[1], tot[2], tot[3], len(secs),
        max(v[0] for v in secs), max(v[2] for v in secs),
        max(v[1] for v in secs), max(v[3] for v in secs),
        hist(tx), hist(rx))

def gen():
    out = []
    w = out.append
    for host, tenant, kind, ident, fn in SERIES:
        pre = prefix(host, tenant)
        # 1 s: [S0, N); 1 min and 1 h: the closed bins of [A, N) and the
        # old hour (1 h only).
        for res, ranges in (("s", [(S0, N)]), ("m", [(A, N)]),
                            ("h", [(A, N), (H10, H10 + 3600)])):
            fields = {}
            for lo, hi in ranges:
                start = lo - lo % BIN[res]
                for b in range(start, hi, BIN[res]):
                    end = b + BIN[res]
                    if res == "m" and end > N:
                        continue        # The minute in progress: not yet.
                    if res == "h" and end > N:
                        end = N - N % 60  # The hour so far, to its last
                                          # closed minute, as the agent
                                          # rewrites it each minute.
                    if res == "s":
                        if b < lo:
                            continue
                        v = fn(b)
                        val = v and "%d %d %d %d" % v
                    else:
                        val = fold([fn(t) for t in range(b, end)])
                    if val:
                        span = b - b % SPAN[res]
                        key = "%s:bw:%s:%s:%s:%d" % (pre, res, kind, ident,
                                                     span)
                        fields.setdefault(key, []).extend(
                            [(b - span) // BIN[res], val])
            for key, fv in fields.items():
                w(resp("HSET", key, *fv))
                span = int(key.rsplit(":", 1)[1])
                w(resp("EXPIREAT", key, span + SPAN[res] + RET[res]))
        # The index, as the agent writes it at each minute's end: every
        # entity but the host's own, scored by the last second of the last
        # closed minute in which it had traffic.
        last = max([t for t in range(A, N - N % 60) if fn(t)]
                   + [t for t in range(H10, H10 + 3600) if fn(t)])
        index = ("vnm:t:%s:{%s}:bw:index" % (tenant, host) if tenant
                 else "vnm:{%s}:bw:index" % host)
        if kind != "host":
            w(resp("ZADD", index, last - last % 60 + 59,
                   "%s:%s" % (kind, ident)))
        w(resp("SADD", "vnm:bw:hosts", host))
        if tenant:
            w(resp("SADD", "vnm:{%s}:bw:tenants" % host, tenant))
    w(resp("ZADD", "vnm:{hv1}:bw:gaps", G, "%d-%d:redis" % (G, G + 20)))
    iface = lambda name, vm, tenant, speed: {
        "name": name, "uuid": "00000000-0000-4000-8000-%012d" % len(name),
        "bridge": "br-int", "port": name, "type": "", "vm": vm,
        "tenant": tenant, "link_speed": speed, "tunnel": None}
    inv = {"version": 1, "host": "hv1", "published_ms": N * 1000,
           "connected": True, "synced": True, "bridges": [], "ports": [],
           "interfaces": [iface("vnet1", VM1, "acme", 100000000),
                          iface("vnet2", VM2, "acme", None),
                          iface("eth1", None, None, 10000000)]}
    w(resp("SET", "vnm:{hv1}:inventory", json.dumps(inv)))
    w(resp("SADD", "vnm:inventory:hosts", "hv1"))
    sys.stdout.write("".join(out))

LIVE = {
    "hv1": {"host": "hv1",
            "total": [385000, 310, 145000, 150],
            "vms": [(VM1, "acme", ["vnet1"], 125000, 100, 25000, 50),
                    (VM2, "acme", ["vnet2"], 10000, 10, 20000, 20)],
            "tenants": [("acme", 135000, 110, 45000, 70)],
            "apps": [("HTTP", 125000, 100, 25000, 50)],
            "ports": [("eth1", "uplink", None, "", 10000000, 250000, 200,
                       100000, 80),
                      ("vnet1", "vm", VM1, "acme", 100000000, 125000, 100,
                       25000, 50)],
            "pairs": [("vm:" + VM1, "ip:192.0.2.10", 100000, 80),
                      ("vm:" + VM2, "vm:" + VM1, 5000, 5)]},
    "hv2": {"host": "hv2",
            "total": [50000, 40, 5000, 5],
            "vms": [(VMMIG, "", ["vnet9"], 50000, 40, 5000, 5)],
            "tenants": [],
            "apps": [("HTTP", 30000, 20, 1000, 1)],
            "ports": [],
            "pairs": [("vm:" + VMMIG, "vm:" + VM1, 30000, 24)]},
}

def counters(v):
    return dict(zip(("tx_bytes", "tx_packets", "rx_bytes", "rx_packets"),
                    v))

def live(now):
    out = []
    for host, l in LIVE.items():
        j = {"host": host, "time": now - 1,
             "total": counters(l["total"]),
             "vms": [dict(vm=v[0], tenant=v[1], ports=v[2],
                          **counters(v[3:])) for v in l["vms"]],
             "tenants": [dict(tenant=v[0], **counters(v[1:]))
                         for v in l["tenants"]],
             "apps": [dict(app=v[0], **counters(v[1:])) for v in l["apps"]],
             "ports": [dict(port=v[0], kind=v[1], vm=v[2], tenant=v[3],
                            link_speed=v[4], **counters(v[5:]))
                       for v in l["ports"]],
             "pairs": [dict(src=v[0], dst=v[1], bytes=v[2], packets=v[3])
                       for v in l["pairs"]]}
        out.append(resp("SET", "vnm:{%s}:bw:live" % host, json.dumps(j),
                        "EX", 600))
    sys.stdout.write("".join(out))

# ------------------------------------------------------------ expectations

def visible(res, t):
    """Whether the reader can see second t at resolution res."""
    if res == "s":
        return S0 <= t < N
    if res == "m":
        return A <= t < N
    return A <= t < N or H10 <= t < H10 + 3600

def recorded(hosts, res, t):
    return visible(res, t) and any(rec(h, t) for h in hosts)

def seconds(frm, to):
    """The seconds of [frm, to) that can hold data."""
    for lo, hi in ((H10, H10 + 3600), (A, N)):
        for t in range(max(lo, frm), min(hi, to)):
            yield t

def expected_stats(kind, ident, frm, to, res, now):
    hosts, fn, speed = entity(kind, ident)
    rec_secs = [t for t in seconds(frm, to) if recorded(hosts, res, t)]
    vals = {t: (fn(t) or (0, 0, 0, 0)) for t in rec_secs}
    st = {"recorded_seconds": len(rec_secs), "res": res, "from": frm,
          "to": to}
    for d, (bi, pi) in (("tx", (0, 1)), ("rx", (2, 3))):
        by = sum(v[bi] for v in vals.values())
        peak = max([v[bi] for v in vals.values()] + [0])
        e = {"bytes": by, "packets": sum(v[pi] for v in vals.values()),
             "mean_bytes_per_s": by / len(rec_secs) if rec_secs else 0.0,
             "peak_bytes_per_s": peak,
             "peak_packets_per_s": max([v[pi] for v in vals.values()]
                                       + [0])}
        if peak:
            first = min(t for t in rec_secs if vals[t][bi] == peak)
            prec = BIN[res]
            when = first - first % prec
            # vnmonctl narrows a rollup's peak to the minute, then the
            # second, while the finer data is retained.
            if prec == 3600 and when + 3600 + RET["m"] >= now:
                prec, when = 60, first - first % 60
            if prec == 60 and when + 60 + RET["s"] >= now:
                prec, when = 1, first
            e["peak_time"], e["peak_precision_s"] = when, prec
        else:
            e["peak_time"], e["peak_precision_s"] = None, BIN[res]
        sv = sorted(v[bi] for v in vals.values())
        p95 = sv[max(math.ceil(0.95 * len(sv)), 1) - 1] if sv else 0
        # From rollups: the value of p95's histogram bucket, at most the
        # (exact) peak.
        e["p95_bytes_per_s"] = (p95 if res == "s"
                                else min(bucket_value(bucket(p95)), peak))
        e["p95_exact"] = res == "s"
        st[d] = e
    hours = {}
    for t, v in vals.items():
        h = t - t % 3600
        hours.setdefault(h, [0, 0])
        hours[h][0] += v[0]
        hours[h][1] += v[2]
    best = None
    for h in sorted(hours):
        if sum(hours[h]) and (best is None
                              or sum(hours[h]) > sum(hours[best])):
            best = h
    st["busiest_hour"] = (None if best is None else
                          {"time": best, "tx_bytes": hours[best][0],
                           "rx_bytes": hours[best][1]})
    st["link_speed"] = speed
    if speed:
        pk = max(st["tx"]["peak_bytes_per_s"], st["rx"]["peak_bytes_per_s"])
        p9 = max(st["tx"]["p95_bytes_per_s"], st["rx"]["p95_bytes_per_s"])
        st["peak_utilisation"] = pk * 8 / speed
        st["p95_utilisation"] = p9 * 8 / speed
    else:
        st["peak_utilisation"] = st["p95_utilisation"] = None
    return st

errors = []

def same(what, got, exp):
    if isinstance(exp, float) or isinstance(got, float):
        ok = (got is not None and exp is not None
              and abs(got - exp) <= 1e-6 * max(1.0, abs(exp)))
    else:
        ok = got == exp
    if not ok:
        errors.append("%s: got %r, expected %r" % (what, got, exp))
    return ok

def compare(what, got, exp):
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            errors.append("%s: got %r, expected an object" % (what, got))
            return
        for k in exp:
            compare("%s.%s" % (what, k), got.get(k), exp[k])
    else:
        same(what, got, exp)

def check_stats(what, kind, ident, st, now):
    exp = expected_stats(kind, ident, st["from"], st["to"], st["res"], now)
    compare(what, st, exp)

def check_bins(what, kind, ident, j):
    hosts, fn, _ = entity(kind, ident)
    res = j["res"]
    bins = j["bins"]
    same(what + " bin count", len(bins), (j["to"] - j["from"]) // BIN[res])
    n_gap = n_zero = 0
    for i, b in enumerate(bins):
        t0 = j["from"] + i * BIN[res]
        secs = range(t0, t0 + BIN[res])
        rs = [t for t in secs if recorded(hosts, res, t)]
        w = "%s bin %d (t=%d)" % (what, i, t0)
        if not rs:
            n_gap += 1
            exp = {"time": t0, "gap": True}
            if any(G <= t < G + 20 for t in secs):
                exp["reason"] = "redis"
            same(w, b, exp)
            continue
        tot = [sum((fn(t) or (0, 0, 0, 0))[k] for t in rs)
               for k in range(4)]
        exp = {"time": t0, "tx_bytes": tot[0], "tx_packets": tot[1],
               "rx_bytes": tot[2], "rx_packets": tot[3]}
        if res != "s":
            exp["recorded"] = len(rs)
            exp["tx_max_bytes"] = max((fn(t) or (0,))[0] for t in rs)
            if len(rs) < BIN[res] and any(G <= t < G + 20 for t in secs):
                exp["reason"] = "redis"
        if not sum(tot):
            n_zero += 1
        same(w, {k: b.get(k) for k in exp}, exp)
        same(w + " has no other keys", sorted(set(b) - set(exp)
                                              - {"rx_max_bytes"}), [])
    return n_gap, n_zero

def main():
    cmd = sys.argv[1]
    if cmd == "gen":
        return gen()
    if cmd == "live":
        return live(int(sys.argv[3]))
    now = int(sys.argv[3])
    j = json.load(open(sys.argv[4]))
    args = sys.argv[5:]
    if cmd == "bw":
        kind, ident, min_gaps, min_zeros = args
        e = j["entity"]
        same("entity", (e["kind"], e["id"]), (kind, ident))
        gaps, zeros = check_bins("bw %s %s" % (kind, ident), kind, ident, j)
        if gaps < int(min_gaps) or zeros < int(min_zeros):
            errors.append("bw %s %s: %d gap bins, %d zero bins; expected "
                          "at least %s and %s" % (kind, ident, gaps, zeros,
                                                  min_gaps, min_zeros))
        check_stats("bw %s %s stats" % (kind, ident), kind, ident,
                    j["stats"], now)
        print("bw %s %s: %d bins (%d gaps, %d recorded zeros) and stats "
              "as expected" % (kind, ident, len(j["bins"]), gaps, zeros))
    elif cmd in ("peak", "capacity"):
        want = [tuple(a.split("=", 1)) for a in args]   # kind=id, in order
        got = [(e["kind"], e["host"] if e["kind"] == "host" else e["id"])
               for e in j["entities"]]
        for kind, ident in want:
            if (kind, ident) not in got:
                errors.append("%s: no %s %s in %r" % (cmd, kind, ident, got))
        for e in j["entities"]:
            kind = e["kind"]
            ident = e["host"] if kind == "host" else e["id"]
            w = "%s %s %s" % (cmd, kind, ident)
            hosts = entity(kind, ident)[0]
            same(w + " hosts", e["hosts"], hosts)
            if cmd == "capacity":
                check_stats(w, kind, ident, e["stats"], now)
            else:
                frm = j["from"] - j["from"] % BIN[j["res"]]
                to = j["to"] + (-j["to"]) % BIN[j["res"]]
                exp = expected_stats(kind, ident, frm, to, j["res"], now)
                for d in ("tx", "rx"):
                    compare(w + " " + d, e[d],
                            {k: exp[d][k] for k in (
                                "peak_bytes_per_s", "peak_packets_per_s",
                                "peak_time", "peak_precision_s")})
        if cmd == "peak":
            peaks = [max(e["tx"]["peak_bytes_per_s"],
                         e["rx"]["peak_bytes_per_s"]) for e in j["entities"]]
            same("peak order", peaks, sorted(peaks, reverse=True))
        print("%s: %d entities as expected" % (cmd, len(j["entities"])))
    elif cmd == "top":
        by = lambda lst, k: {x[k]: x for x in lst}
        vms = by(j["vms"], "vm")
        same("top vms", [v["vm"] for v in j["vms"]], [VM1, VMMIG, VM2])
        same("top vm1 tx", vms[VM1]["tx_bytes"], 125000)
        same("top vm1 tenant", vms[VM1]["tenant"], "acme")
        apps = by(j["apps"], "app")
        same("top apps", list(apps), ["HTTP"])
        same("top HTTP summed", (apps["HTTP"]["tx_bytes"],
                                 apps["HTTP"]["rx_packets"]),
             (155000, 51))
        same("top tenants", [t["tenant"] for t in j["tenants"]], ["acme"])
        same("top pairs", [(p["src"], p["dst"], p["bytes"])
                           for p in j["pairs"]],
             [("vm:" + VM1, "ip:192.0.2.10", 100000),
              ("vm:" + VMMIG, "vm:" + VM1, 30000),
              ("vm:" + VM2, "vm:" + VM1, 5000)])
        same("top total", j["total"], counters([435000, 350, 150000, 155]))
        same("top hosts", sorted(j["hosts"]), ["hv1", "hv2"])
        same("top ports", [(p["port"], p["host"]) for p in j["ports"]],
             [("eth1", "hv1"), ("vnet1", "hv1")])
        same("top time", j["time"], now - 1)
        print("top: merged live view as expected")
    else:
        sys.exit("unknown check " + cmd)
    if errors:
        for e in errors[:40]:
            print("MISMATCH " + e)
        sys.exit("%d mismatches" % len(errors))

main()
EOF

N=$(date +%s)
"$PYTHON" "$T/model.py" gen "$N" >"$T/data.resp"
redis-cli -s "$SOCK" --pipe <"$T/data.resp" >"$T/pipe.out" \
    || { cat "$T/pipe.out" >&2; fail "loading the data set failed"; }
grep -q 'errors: 0' "$T/pipe.out" || { cat "$T/pipe.out" >&2; \
    fail "loading the data set had errors"; }
pass "data set loaded ($(redis-cli -s "$SOCK" dbsize) keys)"

VM1=6f1c1a52-0000-4000-8000-000000000001
VM2=6f1c1a52-0000-4000-8000-000000000002
VMMIG=6f1c1a52-0000-4000-8000-0000000000aa

# ctl OUT ARGS...: vnmonctl ARGS > $T/OUT; fails on a non-zero status or
# anything on stderr.
ctl()
{
    local out=$1
    shift
    vnmonctl "$@" >"$T/$out" 2>"$T/$out.err" \
        || { cat "$T/$out.err" >&2; echo "vnmonctl $* failed" >&2; \
             return 1; }
    if [ -s "$T/$out.err" ]; then
        cat "$T/$out.err" >&2
        echo "vnmonctl $* wrote to stderr" >&2
        return 1
    fi
}

# model CHECK FILE ARGS...: the model's check of $T/FILE.
model()
{
    local what=$1 file=$2
    shift 2
    "$PYTHON" "$T/model.py" "$what" "$N" "$(date +%s)" "$T/$file" "$@"
}

# --- bw ---------------------------------------------------------------

bw_json()
{
    local name=$1 kind=$2 id=$3 min_gaps=$4 min_zeros=$5
    shift 5
    ctl "$name.json" bw "$kind" "$id" --json "$@"
    model bw "$name.json" "$kind" "$id" "$min_gaps" "$min_zeros"
}
# The last hour at 1 s: the 20-s gap shown as gaps, the 30 idle seconds as
# zeros, the burst second, exact p95 and mean.
check -m "bw vm (1 h of 1-s bins: gaps, zeros, burst, stats)" \
    bw_json bw-vm1 vm "$VM1" 20 30 --since 1h
check -m "bw vm --json reports the gap's reason and the burst" \
    "$PYTHON" -c '
import json, sys
j = json.load(open(sys.argv[1]))
g = [b for b in j["bins"] if b.get("reason") == "redis"]
assert len(g) == 20 and all(b["gap"] for b in g), g[:3]
st = j["stats"]
assert st["res"] == "s" and st["tx"]["peak_bytes_per_s"] == 500000, st
assert st["tx"]["peak_time"] == int(sys.argv[2]) - 1200, st
assert st["tx"]["p95_bytes_per_s"] == 125000 and st["tx"]["p95_exact"], st
assert abs(st["peak_utilisation"] - 0.04) < 1e-9, st
' "$T/bw-vm1.json" "$N"
check -m "bw vm at 1 min over 3 h (rollups, current minute from 1-s data)" \
    bw_json bw-vm1-m vm "$VM1" 0 0 --since 3h --res m
check -m "bw tenant (sum of its VMs)" \
    bw_json bw-acme tenant acme 20 0 --since 30m
check -m "bw port uplink (utilisation of its link)" \
    bw_json bw-eth1 port eth1 20 0 --since 1h
check -m "bw app" bw_json bw-http app HTTP 20 30 --since 1h
check -m "bw host at 1 h over 30 d (old hour, current hour folded)" \
    bw_json bw-hv1-h host hv1 1 0 --since 30d
check -m "bw of a migrated VM sums both hosts, no gap" \
    bw_json bw-mig vm "$VMMIG" 0 0 --since 50m
check -m "bw of a migrated VM at 1 min over 7 d" \
    bw_json bw-mig-m vm "$VMMIG" 1 0 --since 7d

# The table: chart rows, axis, gap row, summary.
bw_table()
{
    local when
    when=$(date -u -d "@$((N - 1200))" '+%Y-%m-%d %H:%M:%S')
    COLUMNS=100 LC_ALL=C.UTF-8 ctl bw-vm1.txt bw vm "$VM1" --since 1h
    cat "$T/bw-vm1.txt"
    grep -q "^vm $VM1 (tenant acme) on hv1" "$T/bw-vm1.txt"
    grep -qE '^tx +[0-9.]+ [kMG]?bit/s \|' "$T/bw-vm1.txt"
    grep -qE '^rx +[0-9.]+ [kMG]?bit/s \|' "$T/bw-vm1.txt"
    grep -qE '^ +0 \+-{20,}' "$T/bw-vm1.txt"
    grep -qE '^ +gaps +.*x' "$T/bw-vm1.txt"
    grep -q "tx  total .* peak 4.00 Mbit/s at $when, p95 1.00 Mbit/s" \
        "$T/bw-vm1.txt"
    grep -q "link 100 Mbit/s: peak 4.0%, p95 1.0%" "$T/bw-vm1.txt"
    [ "$(grep -c $'\xe2\x96\x88' "$T/bw-vm1.txt")" -ge 2 ]
    # ASCII without a UTF-8 locale.
    LANG=C LC_ALL=C ctl bw-ascii.txt bw vm "$VM1" --since 1h
    grep -qE '^ +\|.*#' "$T/bw-ascii.txt"
    ! grep -q $'\xe2\x96' "$T/bw-ascii.txt"
}
check -m "bw table: chart, axis, gap row and summary" bw_table

bw_errors()
{
    local rc=0
    vnmonctl bw vm no-such-vm >/dev/null 2>"$T/err" || rc=$?
    [ "$rc" = 1 ] && grep -q "no bandwidth series for vm no-such-vm" "$T/err"
    rc=0
    vnmonctl bw bogus x >/dev/null 2>"$T/err" || rc=$?
    [ "$rc" = 2 ] && grep -q 'unknown kind "bogus"' "$T/err"
    rc=0
    vnmonctl bw vm "$VM1" --since 1x >/dev/null 2>"$T/err" || rc=$?
    [ "$rc" = 2 ] && grep -q 'is not a duration' "$T/err"
    rc=0
    vnmonctl bw vm >/dev/null 2>"$T/err" || rc=$?
    [ "$rc" = 2 ] && grep -q 'usage: vnmonctl bw' "$T/err"
}
check -m "bw: unknown entity exits 1, bad usage exits 2" bw_errors

# --- peak -------------------------------------------------------------

check -m "peak vm --since 1h (burst second, sorted)" \
    eval 'ctl peak-1h.json peak vm --since 1h --json &&
          model peak peak-1h.json vm=$VM1 vm=$VMMIG vm=$VM2'
check -m "peak --since 7d (1-min data: the older burst's minute)" \
    eval 'ctl peak-7d.json peak --since 7d --json &&
          model peak peak-7d.json vm=$VM1 port=eth1 tenant=acme app=HTTP'
check -m "peak vm --since 7d: the older burst, to the minute" \
    "$PYTHON" -c '
import json, sys
j = json.load(open(sys.argv[1]))
e = [e for e in j["entities"] if e["id"] == sys.argv[2]][0]
ob = int(sys.argv[3]) - 7200
assert j["res"] == "m", j["res"]
assert e["tx"]["peak_bytes_per_s"] == 1000000, e
assert e["tx"]["peak_time"] == ob - ob % 60, e
assert e["tx"]["peak_precision_s"] == 60, e
' "$T/peak-7d.json" "$VM1" "$N"
check -m "peak --since 30d (1-h data: the old hour)" \
    eval 'ctl peak-30d.json peak --since 30d --json &&
          model peak peak-30d.json vm=$VM1 host=hv1 host=hv2'
check -m "peak uplink: only the uplink" \
    eval 'ctl peak-up.json peak uplink --json &&
          "$PYTHON" -c "
import json, sys
j = json.load(open(sys.argv[1]))
assert [(e[\"id\"], e[\"shown_kind\"]) for e in j[\"entities\"]] \
    == [(\"eth1\", \"uplink\")], j
" "$T/peak-up.json"'
peak_table()
{
    local when
    when=$(date -u -d "@$((N - 1200))" '+%Y-%m-%d %H:%M:%S')
    ctl peak.txt peak --since 1h
    cat "$T/peak.txt"
    head -3 "$T/peak.txt" | grep -q '^KIND  *ID  *HOST  *TENANT  *PEAK TX'
    grep -qE "^uplink +eth1 +hv1 +- +8.00 Mbit/s +$when" "$T/peak.txt"
    grep -qE "^vm +$VM1 +hv1 +acme +4.00 Mbit/s +$when" "$T/peak.txt"
    grep -qE "^vm +$VMMIG +hv1,hv2 +- +400 kbit/s" "$T/peak.txt"
    # Busiest first.
    [ "$(grep -E '^(uplink|port|vm|tenant|app|host) ' "$T/peak.txt" \
         | head -1 | awk '{print $2}')" = hv1 ] \
        || [ "$(grep -E '^(uplink|port|vm|tenant|app|host) ' "$T/peak.txt" \
         | head -1 | awk '{print $2}')" = eth1 ]
}
check -m "peak table: rows with the burst second" peak_table

# --- capacity -----------------------------------------------------------

check -m "capacity --since 1h (1-s data, exact)" \
    eval 'ctl cap-1h.json capacity --since 1h --json &&
          model capacity cap-1h.json vm=$VM1 vm=$VM2 vm=$VMMIG port=eth1 \
              port=vnet1 tenant=acme app=HTTP host=hv1 host=hv2'
check -m "capacity uplink --since 1h: 80% peak, 20% p95 of 10 Mbit/s" \
    "$PYTHON" -c '
import json, sys
j = json.load(open(sys.argv[1]))
e = [e for e in j["entities"] if e["id"] == "eth1"][0]
st = e["stats"]
assert e["shown_kind"] == "uplink" and st["link_speed"] == 10000000, e
assert abs(st["peak_utilisation"] - 0.8) < 1e-9, st
assert abs(st["p95_utilisation"] - 0.2) < 1e-9, st
assert st["busiest_hour"] is not None, st
' "$T/cap-1h.json"
check -m "capacity --since 7d (1-min rollups, histogram p95)" \
    eval 'ctl cap-7d.json capacity --since 7d --json &&
          model capacity cap-7d.json vm=$VM1 port=eth1 tenant=acme'
check -m "capacity --since 30d (1-h rollups: the old hour is the busiest)" \
    eval 'ctl cap-30d.json capacity --since 30d --json &&
          model capacity cap-30d.json vm=$VM1 host=hv1'
check -m "capacity 30d: busiest hour of vm1 is the old hour" \
    "$PYTHON" -c '
import json, sys
j = json.load(open(sys.argv[1]))
e = [e for e in j["entities"] if e["id"] == sys.argv[2]][0]
h10 = (int(sys.argv[3]) - 10 * 86400) // 3600 * 3600
st = e["stats"]
assert st["res"] == "h" and st["busiest_hour"]["time"] == h10, st
assert st["tx"]["peak_bytes_per_s"] == 2000000, st
assert st["tx"]["peak_precision_s"] == 3600, st
assert not st["tx"]["p95_exact"], st
' "$T/cap-30d.json" "$VM1" "$N"
capacity_table()
{
    ctl cap.txt capacity --since 1h
    cat "$T/cap.txt"
    grep -qE '^KIND +ID +HOST +DIR +PEAK +P95 +MEAN +LINK' "$T/cap.txt"
    grep -qE "^uplink +eth1 +hv1 +tx +8.00 Mbit/s +2.00 Mbit/s +[0-9.]+ \
Mbit/s +10.0 Mbit/s +80.0% +20.0% +[0-9-]+ [0-9]+:00" "$T/cap.txt"
    grep -qE "^vm +$VM1 +hv1 +tx +4.00 Mbit/s +1.00 Mbit/s" "$T/cap.txt"
}
check -m "capacity table: per-entity tx/rx rows with link use" \
    capacity_table

# --- top ----------------------------------------------------------------

LIVE_NOW=$(date +%s)
"$PYTHON" "$T/model.py" live "$N" "$LIVE_NOW" \
    | redis-cli -s "$SOCK" --pipe >/dev/null
check -m "top --json: live views merged across hosts" \
    eval 'ctl top.json top --json &&
          "$PYTHON" "$T/model.py" top "$N" "$LIVE_NOW" "$T/top.json"'
top_table()
{
    ctl top.txt top --once
    cat "$T/top.txt"
    grep -q '^vnmonctl top: second .* UTC, hosts: hv[12] hv[12]' \
        "$T/top.txt"
    grep -qE "^$VM1 +acme +1.00 Mbit/s +200 kbit/s +100 +50" "$T/top.txt"
    grep -qE "^acme +1.08 Mbit/s +360 kbit/s" "$T/top.txt"
    grep -qE "^HTTP +1.24 Mbit/s" "$T/top.txt"
    grep -qE "^vm:$VM1 > ip:192.0.2.10 +800 kbit/s +80" "$T/top.txt"
    # Refreshing: --count 2 --interval 1 prints two snapshots.
    ctl top2.txt top --count 2 --interval 1
    [ "$(grep -c '^vnmonctl top: second' "$T/top2.txt")" = 2 ]
}
check -m "top table and refresh" top_table
check -m "top without live views exits 1" eval '
    redis-cli -s "$SOCK" del "vnm:{hv1}:bw:live" "vnm:{hv2}:bw:live" \
        >/dev/null
    rc=0; vnmonctl top --once >/dev/null 2>&1 || rc=$?; [ "$rc" = 1 ]'

pass "all views checked"

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# `vnmonctl topology` and `vnmonctl report --html` on a known data set.
#
# A redis-server of the test's own (unix socket in a temporary directory)
# gets, with redis-cli, what two agents would have written, exactly as
# lib/bw-series.h and doc/redis-keys.md say: the inventories of two hosts
# (two bridges, VM ports with VLAN tags, an uplink, VXLAN tunnels between
# the hosts, three tenants' VMs, one tenant named "acme <R&D>" to test
# escaping), the bandwidth index keys, 26 hours of 1-s (last hour),
# 1-min and 1-h bins with their peaks and histograms, a marked gap, and
# the top pairs per minute and hour.  Then:
#   - `topology --json` names every bridge, port (kind, VLAN), VM, tenant
#     and tunnel (remote_ip, VNI), and its edges carry the bytes of the
#     pairs bins of the range, for minute bins (1 h) and hour bins (2 d,
#     the current hour from its minutes); an address is resolved to the
#     other host's VM, and traffic seen by both hosts counted once;
#   - `topology --dot` is valid Graphviz (dot -Tsvg);
#   - `report --html F` is one file with no URL, every name escaped, the
#     VM's burst second as its peak; headless Chromium, with no network at
#     all (its own network namespace), renders it, and the screenshot has
#     the charts' tx and rx colours; `--tenant` keeps one tenant's data.
. "$(dirname "$0")/lib.sh"

BUILDDIR=${VNM_BUILDDIR:-$VNM_TOP}
VNMONCTL=$BUILDDIR/tools/vnmonctl
[ -x "$VNMONCTL" ] || fail "missing $VNMONCTL: run make first"
for _b in redis-server chromium dot unshare; do
    command -v "$_b" >/dev/null \
        || fail "missing $_b (tools/install-deps.sh)"
done
unset _b

TMP=$(mktemp -d /tmp/vnm-test-report.XXXXXX)
SOCK=$TMP/redis.sock
REDIS_PID=

cleanup()
{
    local rc=$?
    trap - EXIT INT TERM ERR
    set +e
    if [ -n "$REDIS_PID" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
        kill -TERM "$REDIS_PID"
        for _ in $(seq 50); do
            kill -0 "$REDIS_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$REDIS_PID" 2>/dev/null
    fi
    if [ "$rc" -ne 0 ] && [ "${VNM_KEEP_LAB:-0}" = 1 ]; then
        echo "$TEST_NAME: VNM_KEEP_LAB=1: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 \
    --dir "$TMP" --save "" --appendonly no --logfile "$TMP/redis.log" &
REDIS_PID=$!
wait_for 10 redis-cli -s "$SOCK" ping || fail "redis-server did not start"
pass "redis-server (pid $REDIS_PID) on $SOCK"

vnmonctl()
{
    "$VNMONCTL" --redis "unix:$SOCK" "$@"
}

# ------------------------------------------------------------- the data

# Writes the data set as Redis protocol on stdout (for redis-cli --pipe)
# and what the checks need to $TMP/expected.json.  Times: the agents
# recorded every second of [START, END) but a 2-minute gap, END two
# seconds before the test's "now".
GEN_PY='
import json, math, sys

now = int(sys.argv[1])
out_dir = sys.argv[2]
END = now - 2
START = END - 26 * 3600
GAP = (END - 5 * 3600 - END % 60, END - 5 * 3600 - END % 60 + 120)
BURST = END - 1800
RET = {"s": 3600, "m": 7 * 86400, "h": 400 * 86400}
SPAN = {"s": 60, "m": 3600, "h": 86400}
BIN = {"s": 1, "m": 60, "h": 3600}

def uuid(n):
    return "564d0000-0000-4000-8000-%012d" % n

A1, A2, C1, B1 = uuid(1000001), uuid(1000002), uuid(2000001), uuid(2000002)
ACME = "acme <R&D>"

def esc(s):  # bw_escape()
    out = ""
    for ch in s.encode():
        if ch <= 32 or ch >= 127 or chr(ch) in ":*?[]{}\\%":
            out += "%%%02X" % ch
        else:
            out += chr(ch)
    return out

def prefix(host, tenant=""):
    return "vnm:{%s}" % host if not tenant else \
        "vnm:t:%s:{%s}" % (esc(tenant), host)

def recorded(t):
    return not (GAP[0] <= t < GAP[1])

# Traffic, bytes per second (tx, rx) seen from each entity.
def wave(t, amp=0.4, phase=0):
    return 1 + amp * math.sin(2 * math.pi * (t + phase) / 86400)

def a1(t):
    return (4000000 if BURST <= t < BURST + 2 else 1000000, 100000)

def a2(t):
    return (100000 + 1000, a1(t)[0])

def c1(t):
    if t < END - 3 * 3600:
        return (0, 0)
    return (int(2000000 * wave(t)), 50000)

def uplink(t):
    return (int(300000 * wave(t, 0.6, 3600)), int(200000 * wave(t, 0.3)))

def tunnel_a(t):
    tx, rx = c1(t)
    return (rx + 5000 if tx else 0, tx + 50000 if tx else 0)

entities = {
    "hvA": [
        ("", "port", "eth1", uplink),
        ("", "port", "vx0", tunnel_a),
        ("", "app", "TLS", lambda t: (a1(t)[0] + c1(t)[0],
                                      a1(t)[1] + c1(t)[1])),
        ("", "app", "DNS", lambda t: (1000, 0)),
        ("tenant1", "port", "t1vm1", a1),
        ("tenant1", "port", "t1vm2", a2),
        ("tenant1", "vm", A1, a1),
        ("tenant1", "vm", A2, a2),
        ("tenant1", "tenant", "-",
         lambda t: (a1(t)[0] + a2(t)[0], a1(t)[1] + a2(t)[1])),
        (ACME, "port", "t2vm1", c1),
        (ACME, "vm", C1, c1),
        (ACME, "tenant", "-", c1),
    ],
    "hvB": [
        ("", "port", "vx0", lambda t: (c1(t)[0] + 50000 if c1(t)[0] else 0,
                                       c1(t)[1] + 5000 if c1(t)[0] else 0)),
        ("", "app", "TLS", lambda t: (c1(t)[1], c1(t)[0])),
        (ACME, "port", "t2vm2", lambda t: (c1(t)[1], c1(t)[0])),
        (ACME, "vm", B1, lambda t: (c1(t)[1], c1(t)[0])),
        (ACME, "tenant", "-", lambda t: (c1(t)[1], c1(t)[0])),
    ],
}
# The host entity: every port together, written every recorded second.
for host, ents in entities.items():
    ports = [f for (_, k, _, f) in ents if k == "port"]
    ents.append(("", "host", "-",
                 lambda t, ports=ports: (sum(f(t)[0] for f in ports),
                                         sum(f(t)[1] for f in ports))))

cmds = []

def cmd(*args):
    cmds.append([str(a) for a in args])

def bucket(v):  # bw_hist_bucket()
    if not v:
        return 0
    return min(int(math.floor(8 * math.log2(v))) + 1, 512)

class Rollup:
    def __init__(self):
        self.c = [0, 0, 0, 0]
        self.n = 0
        self.mx = [0, 0, 0, 0]
        self.hist = [{}, {}]

    def fold(self, v):
        for i in range(4):
            self.c[i] += v[i]
        self.n += 1
        self.mx = [max(self.mx[0], v[0]), max(self.mx[1], v[2]),
                   max(self.mx[2], v[1]), max(self.mx[3], v[3])]
        for d, b in ((0, v[0]), (1, v[2])):
            k = bucket(b)
            self.hist[d][k] = self.hist[d].get(k, 0) + 1

    def merge(self, o):
        for i in range(4):
            self.c[i] += o.c[i]
            self.mx[i] = max(self.mx[i], o.mx[i])
        self.n += o.n
        for d in range(2):
            for k, c in o.hist[d].items():
                self.hist[d][k] = self.hist[d].get(k, 0) + c

    def format(self):
        h = [",".join("%d=%d" % (k, h[k]) for k in sorted(h))
             for h in self.hist]
        return "%d %d %d %d %d %d %d %d %d | tx:%s rx:%s" % (
            tuple(self.c) + (self.n,) + tuple(self.mx) + tuple(h))

def write_hash(key, res, span_start, fields):
    args = ["HSET", key]
    for f, v in fields:
        args += [f, v]
    if len(args) > 2:
        cmd(*args)
        cmd("EXPIREAT", key, span_start + SPAN[res] + RET[res])

for host, ents in entities.items():
    cmd("SADD", "vnm:bw:hosts", host)
    for tenant, kind, ident, f in ents:
        pre = prefix(host, tenant)
        last = 0
        s_fields, m_bins, h_bins = {}, {}, {}
        for t in range(START, END):
            if not recorded(t):
                continue
            tx, rx = f(t)
            if not (tx or rx) and kind != "host":
                continue
            last = t
            v = (tx, tx // 1000 + 1 if tx else 0,
                 rx, rx // 1000 + 1 if rx else 0)
            if t >= END - 3600:
                s_fields.setdefault(t - t % 60, []).append(
                    (t % 60, "%d %d %d %d" % v))
            m_bins.setdefault(t - t % 60, Rollup()).fold(v)
        for m, r in m_bins.items():
            h_bins.setdefault(m - m % 3600, Rollup()).merge(r)
        def key(res, span):
            return "%s:bw:%s:%s:%s:%d" % (pre, res, kind, esc(ident), span)
        for span, fields in s_fields.items():
            write_hash(key("s", span), "s", span, fields)
        # Rollups of whole minutes and hours only: the agent writes a bin
        # once it is over.
        by_span = {}
        for m, r in m_bins.items():
            if m + 60 <= END:
                by_span.setdefault(m - m % 3600, []).append(
                    ((m % 3600) // 60, r.format()))
        for span, fields in by_span.items():
            write_hash(key("m", span), "m", span, fields)
        by_span = {}
        for h, r in h_bins.items():
            if h + 3600 <= END:
                by_span.setdefault(h - h % 86400, []).append(
                    ((h % 86400) // 3600, r.format()))
        for span, fields in by_span.items():
            write_hash(key("h", span), "h", span, fields)
        index = "%s:bw:index" % pre
        cmd("ZADD", index, last, "%s:%s" % (kind, esc(ident)))
        if tenant:
            cmd("SADD", "vnm:{%s}:bw:tenants" % host, esc(tenant))
    cmd("ZADD", "vnm:{%s}:bw:gaps" % host, GAP[0], "%d-%d:redis" % GAP)

# Top pairs per minute and hour: what each host saw.
pairs = {
    "hvA": {
        "vm:%s>vm:%s" % (A1, A2): lambda t: a1(t)[0],
        "vm:%s>vm:%s" % (A2, A1): lambda t: a1(t)[1],
        "vm:%s>ip:10.0.0.22" % C1: lambda t: c1(t)[0],
        "ip:10.0.0.22>vm:%s" % C1: lambda t: c1(t)[1],
        "vm:%s>ip:203.0.113.7" % A2: lambda t: 1000,
    },
    "hvB": {
        "ip:10.0.0.21>vm:%s" % B1: lambda t: c1(t)[0],
        "vm:%s>ip:10.0.0.21" % B1: lambda t: c1(t)[1],
    },
}
expected_pairs = {"m": {}, "h": {}}
for host, ps in pairs.items():
    mins, hours = {}, {}
    for t in range(START, END):
        if not recorded(t):
            continue
        for field, f in ps.items():
            b = f(t)
            if not b:
                continue
            for d, start in ((mins, t - t % 60), (hours, t - t % 3600)):
                cur = d.setdefault(start, {}).setdefault(field, [0, 0])
                cur[0] += b
                cur[1] += b // 1000 + 1
    for res, d, length in (("m", mins, 60), ("h", hours, 3600)):
        for start, fields in d.items():
            if start + length > END:
                continue
            key = "vnm:{%s}:bw:pairs:%s:%d" % (host, res, start)
            write_hash(key, res, start,
                       [(k, "%d %d" % tuple(v)) for k, v in fields.items()])
            expected_pairs[res].setdefault(host, {})[str(start)] = fields

# Inventories (doc/redis-keys.md, "Inventory").
def iface(bridge, port, name, typ="", vm=None, tenant=None, ips=(),
          tag=None, trunks=(), vlan_mode=None, tunnel=None, speed=None,
          ofport=1):
    return {
        "name": name, "uuid": "00000000-0000-4000-8000-%012d" % ofport,
        "bridge": bridge, "port": port, "type": typ, "ofport": ofport,
        "ifindex": 10 + ofport, "mac": "02:00:00:00:00:%02x" % ofport,
        "link_speed": speed, "admin_state": "up", "link_state": "up",
        "vlan_mode": vlan_mode, "tag": tag, "trunks": list(trunks),
        "tunnel": tunnel, "iface_id": None,
        "attached_mac": "02:00:00:01:00:%02x" % ofport if vm else None,
        "vm": vm, "tenant": tenant, "ips": list(ips),
        "statistics": {k: 0 for k in (
            "rx_packets", "rx_bytes", "rx_dropped", "rx_errors",
            "tx_packets", "tx_bytes", "tx_dropped", "tx_errors")},
    }

def vxlan(local, remote):
    return {"type": "vxlan", "key": "5000", "vni": 5000,
            "remote_ip": remote, "local_ip": local}

invs = {
    "hvA": [
        iface("br-ex", "br-ex", "br-ex", "internal", ofport=65534),
        iface("br-ex", "eth1", "eth1", trunks=(101, 102),
              vlan_mode="trunk", speed=1000000000, ofport=1),
        iface("br0", "br0", "br0", "internal", ofport=65533),
        iface("br0", "t1vm1", "t1vm1", vm=A1, tenant="tenant1",
              ips=("10.0.0.11", "fd00::11"), tag=101, vlan_mode="access",
              speed=10000000000, ofport=2),
        iface("br0", "t1vm2", "t1vm2", vm=A2, tenant="tenant1",
              ips=("10.0.0.12",), tag=101, vlan_mode="access",
              speed=10000000000, ofport=3),
        iface("br0", "t2vm1", "t2vm1", vm=C1, tenant=ACME,
              ips=("10.0.0.21",), tag=102, vlan_mode="access", ofport=4),
        iface("br0", "vx0", "vx0", "vxlan",
              tunnel=vxlan("192.0.2.1", "192.0.2.2"), ofport=5),
    ],
    "hvB": [
        iface("br0", "br0", "br0", "internal", ofport=65534),
        iface("br0", "t2vm2", "t2vm2", vm=B1, tenant=ACME,
              ips=("10.0.0.22",), tag=102, vlan_mode="access", ofport=1),
        iface("br0", "vx0", "vx0", "vxlan",
              tunnel=vxlan("192.0.2.2", "192.0.2.1"), ofport=2),
    ],
}
for host, ifaces in invs.items():
    bridges = sorted({i["bridge"] for i in ifaces})
    inv = {
        "version": 1, "host": host, "published_ms": now * 1000,
        "remote": "unix:/var/run/openvswitch/db.sock", "connected": True,
        "synced": True, "changed_ms": now * 1000, "topology_seq": 1,
        "stats": {"n_connects": 1},
        "bridges": [{"name": b, "datapath_type": "netdev",
                     "ports": sorted(i["port"] for i in ifaces
                                     if i["bridge"] == b)}
                    for b in bridges],
        "ports": [{"name": i["port"], "bridge": i["bridge"],
                   "vlan_mode": i["vlan_mode"], "tag": i["tag"],
                   "trunks": i["trunks"], "interfaces": [i["name"]]}
                  for i in sorted(ifaces, key=lambda i: (i["bridge"],
                                                         i["port"]))],
        "interfaces": sorted(ifaces, key=lambda i: (i["bridge"], i["port"])),
        "mirrors": [],
    }
    cmd("SET", "vnm:{%s}:inventory" % host, json.dumps(inv))
    cmd("SET", "vnm:{%s}:inventory:updated_ms" % host, now * 1000)
    cmd("SADD", "vnm:inventory:hosts", host)

out = sys.stdout.buffer
for c in cmds:
    out.write(b"*%d\r\n" % len(c))
    for a in c:
        a = a.encode()
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
json.dump({"now": now, "end": END, "burst": BURST, "gap": GAP,
           "uuids": {"A1": A1, "A2": A2, "C1": C1, "B1": B1},
           "pairs": expected_pairs}, open(out_dir + "/expected.json", "w"))
'

NOW=$(date +%s)
"$PYTHON" -c "$GEN_PY" "$NOW" "$TMP" >"$TMP/data.resp"
redis-cli -s "$SOCK" --pipe <"$TMP/data.resp" >"$TMP/pipe.out" 2>&1 \
    || { cat "$TMP/pipe.out" >&2; fail "redis-cli --pipe failed"; }
grep -q 'errors: 0,' "$TMP/pipe.out" \
    || { cat "$TMP/pipe.out" >&2; fail "redis-cli --pipe: errors"; }
pass "data set written: $(tail -n 1 "$TMP/pipe.out")," \
    "$(redis-cli -s "$SOCK" dbsize) keys"

# ------------------------------------------------------------- topology

# topo_py ARGS -- PYTHON: runs `vnmonctl topology --json ARGS`, then
# PYTHON with 'topo' (its output), 'hosts' (by name), 'edges' (by
# "SRC>DST"), 'exp' (expected.json) and 'pairs_sum(topo)' (the bytes and
# packets of each edge as the pairs bins of topo's range hold them).
topo_py()
{
    local args=() json
    while [ "$1" != -- ]; do
        args+=("$1")
        shift
    done
    shift
    json=$(vnmonctl topology --json "${args[@]}")
    "$PYTHON" -c '
import json, sys
topo = json.loads(sys.argv[1])
exp = json.load(open(sys.argv[2] + "/expected.json"))
hosts = {h["host"]: h for h in topo["hosts"]}
edges = {e["src"] + ">" + e["dst"]: e for e in topo["edges"]}
U = exp["uuids"]
ip_vm = {"10.0.0.22": U["B1"], "10.0.0.21": U["C1"]}

def norm(ep, host):
    # An address is its VM if the VM is on the other host.
    if ep.startswith("ip:") and ep[3:] in ip_vm:
        return "vm:" + ip_vm[ep[3:]]
    return ep

def pairs_sum(topo):
    """Expected edges over [from, to): minute bins up to a day, else hour
    bins, the hours without one from their minutes."""
    frm, to = topo["from"], topo["to"]
    per_host = {}
    for host in ("hvA", "hvB"):
        m = exp["pairs"]["m"].get(host, {})
        h = exp["pairs"]["h"].get(host, {})
        acc = {}
        def add(fields):
            for k, (b, p) in fields.items():
                src, dst = k.split(">")
                key = norm(src, host) + ">" + norm(dst, host)
                cur = acc.setdefault(key, [0, 0])
                cur[0] += b
                cur[1] += p
        if to - frm <= 86400:
            for t in range(frm - frm % 60, to, 60):
                add(m.get(str(t), {}))
        else:
            first = frm - frm % 3600
            for hs in range(first, to, 3600):
                if str(hs) in h:
                    add(h[str(hs)])
                else:
                    for t in range(hs, min(hs + 3600, to), 60):
                        add(m.get(str(t), {}))
        per_host[host] = acc
    out = {}
    for host, acc in per_host.items():
        for k, v in acc.items():
            if k not in out or v[0] > out[k][0]:
                out[k] = v
    return out

exec(sys.argv[3])
' "$json" "$TMP" "$1"
}

TOPO_STRUCTURE='
assert sorted(hosts) == ["hvA", "hvB"], sorted(hosts)
a, b = hosts["hvA"], hosts["hvB"]
assert a["inventory"] and a["connected"] and a["synced"]
assert [x["name"] for x in a["bridges"]] == ["br-ex", "br0"], a["bridges"]
assert all(x["datapath_type"] == "netdev" for x in a["bridges"])
ports = {p["name"]: p for p in a["ports"]}
assert sorted(ports) == ["br-ex", "br0", "eth1", "t1vm1", "t1vm2", "t2vm1",
                         "vx0"], sorted(ports)
kinds = {n: p["kind"] for n, p in ports.items()}
assert kinds == {"br-ex": "internal", "br0": "internal", "eth1": "uplink",
                 "t1vm1": "vm", "t1vm2": "vm", "t2vm1": "vm",
                 "vx0": "tunnel"}, kinds
assert ports["t1vm1"]["tag"] == 101 and ports["t2vm1"]["tag"] == 102
assert ports["t1vm1"]["vm"] == U["A1"], ports["t1vm1"]
assert ports["t1vm1"]["tenant"] == "tenant1"
assert ports["eth1"]["trunks"] == [101, 102]
assert ports["eth1"]["bridge"] == "br-ex"
assert ports["eth1"]["link_speed"] == 1000000000
vms = {v["uuid"]: v for v in a["vms"]}
assert sorted(vms) == sorted([U["A1"], U["A2"], U["C1"]]), sorted(vms)
assert vms[U["A1"]]["ips"] == ["10.0.0.11", "fd00::11"], vms[U["A1"]]
assert vms[U["A1"]]["ports"] == ["t1vm1"]
assert vms[U["C1"]]["tenant"] == "acme <R&D>"
ten = {t["name"]: t["vms"] for t in a["tenants"]}
assert ten == {"tenant1": sorted([U["A1"], U["A2"]]),
               "acme <R&D>": [U["C1"]]}, ten
assert a["tunnels"] == [{"port": "vx0", "interface": "vx0", "bridge": "br0",
                         "type": "vxlan", "key": "5000", "vni": 5000,
                         "remote_ip": "192.0.2.2",
                         "local_ip": "192.0.2.1"}], a["tunnels"]
assert b["tunnels"][0]["remote_ip"] == "192.0.2.1", b["tunnels"]
assert [v["uuid"] for v in b["vms"]] == [U["B1"]]
assert [t["name"] for t in b["tenants"]] == ["acme <R&D>"]
'
check -m "topology --json: bridges, ports, VMs, tenants, tunnels" \
    topo_py -- "$TOPO_STRUCTURE"

TOPO_EDGES='
want = pairs_sum(topo)
assert topo["to"] - topo["from"] == SINCE, (topo["from"], topo["to"])
got = {k: [e["bytes"], e["packets"]] for k, e in edges.items()}
assert got == want, (got, want)
c1b1 = edges["vm:%s>vm:%s" % (U["C1"], U["B1"])]
assert c1b1["observed_by"] == ["hvA", "hvB"], c1b1
assert c1b1["src_tenant"] == "acme <R&D>" and c1b1["dst_host"] == "hvB", c1b1
a1a2 = edges["vm:%s>vm:%s" % (U["A1"], U["A2"])]
assert a1a2["src_vm"] == U["A1"] and a1a2["dst_vm"] == U["A2"], a1a2
# 1 MB/s for (about) the range, and the 2 s burst at 4 MB/s.
span = min(SINCE, 26 * 3600)    # The data set has 26 hours.
assert span * 0.95e6 < a1a2["bytes"] < span * 1.02e6 + 6e6, a1a2
ext = edges["vm:%s>ip:203.0.113.7" % U["A2"]]
assert ext["dst_vm"] is None and ext["dst_tenant"] is None, ext
# Largest first.
assert [e["bytes"] for e in topo["edges"]] == sorted(
    [e["bytes"] for e in topo["edges"]], reverse=True)
print(len(edges), "edges")
'
check -m "topology --json: last hour's edges (minute bins), pairs' bytes" \
    topo_py -- "SINCE = 3600
$TOPO_EDGES"
check -m "topology --json --since 2d: hour bins, this hour from minutes" \
    topo_py --since 2d -- "SINCE = 2 * 86400
$TOPO_EDGES"
check -m "topology -H hvB: one host" \
    topo_py -H hvB -- 'assert sorted(hosts) == ["hvB"], sorted(hosts)
assert all(e["observed_by"] == ["hvB"] for e in topo["edges"]), topo["edges"]'

vnmonctl topology >"$TMP/topology.txt"
check -m "topology (text): tree and edges" grep -q \
    "port t1vm1: vm, access tag=101" "$TMP/topology.txt"
check -m "topology (text): tunnel with VNI and remote" grep -q \
    "port vx0: tunnel, vxlan vni=5000 remote=192.0.2.2 local=192.0.2.1" \
    "$TMP/topology.txt"
vnmonctl topology --dot >"$TMP/topology.dot"
check -m "topology --dot: valid Graphviz (dot -Tsvg)" \
    dot -Tsvg -o "$TMP/topology.svg" "$TMP/topology.dot"
check -m "topology --dot: clusters per host and bridge, VM and edge nodes" \
    "$PYTHON" -c '
import sys
dot, svg = open(sys.argv[1]).read(), open(sys.argv[2]).read()
for s in ("subgraph \"cluster_host|hvA\"",
          "subgraph \"cluster_bridge|hvA|br0\"",
          "\"vm:564d0000-0000-4000-8000-000001000001\" -> "
          "\"vm:564d0000-0000-4000-8000-000001000002\"",
          "tenant acme <R&D>", "underlay 192.0.2.2"):
    assert s in dot, s
assert svg.count("<g id=\"clust") >= 5, svg.count("<g id=\"clust")
' "$TMP/topology.dot" "$TMP/topology.svg"

# --------------------------------------------------------------- report

REPORT=$TMP/report.html
check -m "report --html (24 h)" vnmonctl report --html "$REPORT"
REPORT_PY='
import json, re, sys, time
html = open(sys.argv[1], encoding="utf-8").read()
exp = json.load(open(sys.argv[2] + "/expected.json"))
U = exp["uuids"]
assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
# Self-contained: no URL at all, no script, no external resource.
for bad in ("http://", "https://", "<script", "<link", "<img", "url(",
            "@import", "<iframe"):
    assert bad not in html, bad
# Names escaped; the tenant with markup never raw.
assert "acme &lt;R&amp;D&gt;" in html
assert "<R&D>" not in html
# Charts: time charts and bar charts with both directions.
assert html.count("<svg ") >= 6, html.count("<svg ")
assert html.count("<polyline") >= 8
# The VM whose burst was 4 MB/s for 2 s: 32 Mbit/s at that second.
burst = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(exp["burst"]))
row = html[html.index("<td class=\"id\">" + U["A1"]):]
row = row[:row.index("</tr>")]
assert "32 Mbit/s" in row, row
assert burst in row, (burst, row)
# 1 MB/s steady: p95 8 Mbit/s (histogram within 4.4 %), mean 8 Mbit/s.
assert re.search(r"~8(\.[0-3]\d*)? Mbit/s|~7\.[7-9]\d* Mbit/s", row), row
print("report:", len(html), "bytes,", html.count("<svg "), "charts")
'
check -m "report: self-contained, escaped, charts, the VM's burst second" \
    "$PYTHON" -c "$REPORT_PY
assert 'Top pairs' in html and 'vm:' + U['C1'] in html
assert 'host-second(s) of the range were not recorded' in html
" "$REPORT" "$TMP"

check -m "report --tenant tenant1: only that tenant" \
    vnmonctl report --html "$TMP/tenant1.html" --tenant tenant1
check -m "report --tenant: no other tenant's VM, no host-wide section" \
    "$PYTHON" -c '
import json, sys
html = open(sys.argv[1]).read()
U = json.load(open(sys.argv[2] + "/expected.json"))["uuids"]
assert U["A1"] in html and U["A2"] in html
assert U["C1"] not in html and U["B1"] not in html
assert "acme" not in html and "eth1" not in html and "id=\"hosts\"" not in html
' "$TMP/tenant1.html" "$TMP"
check -m "report --since 30d: hour bins" \
    vnmonctl report --html "$TMP/30d.html" --since 30d
check -m "report --since 30d: 1 h resolution, charts" grep -q \
    "data at 1 h resolution" "$TMP/30d.html"
status=0
vnmonctl report --html "$TMP/none.html" --tenant nobody 2>"$TMP/none.err" \
    || status=$?
check -m "report --tenant nobody: exit 1, still a report" \
    test "$status" = 1 -a -s "$TMP/none.html"

# ------------------------------------------------------- headless Chromium

# Chromium renders the file from its own network namespace, where there is
# no interface but a down loopback: nothing can reach any network.
shot()
{
    local html=$1 png=$2
    unshare --net -- timeout 120 chromium --headless --no-sandbox \
        --disable-gpu --no-proxy-server --no-first-run \
        --disable-background-networking --disable-component-update \
        --disable-sync --disable-extensions --disable-default-apps \
        --user-data-dir="$TMP/chromium-profile" --hide-scrollbars \
        --screenshot="$png" --window-size=1280,2000 "file://$html" \
        >"$TMP/chromium.log" 2>&1
    [ -s "$png" ] || { tail -n 20 "$TMP/chromium.log" >&2; return 1; }
}
check -m "headless Chromium renders the report (no network)" \
    shot "$REPORT" "$TMP/report.png"

# Decodes the PNG with zlib alone, and counts pixels of the charts' tx and
# rx colours (svg.h: SVG_TX_COLOR, SVG_RX_COLOR), of their shaded areas
# (those colours at 18% opacity on white) and of other non-white colours.
# Measured on this report: about 38000 tx and 40000 rx pixels, 16000 of
# each area; the same page with its <svg> elements removed has 5500, 5200,
# 1200 and 1100 (coloured text and its anti-aliasing): the thresholds sit
# between.
PNG_PY='
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", None
while pos < len(data):
    n, typ = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if typ == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
        bpp = 3 if ctype == 2 else 4
    elif typ == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
tx = rx = tx_area = rx_area = ink = 0
colors = set()
TX, RX = (0x1f, 0x6f, 0xd1), (0xe8, 0x59, 0x0c)
TX_AREA, RX_AREA = (215, 229, 247), (251, 225, 211)
def near(p, c, tolerance=30):
    return (abs(p[0] - c[0]) + abs(p[1] - c[1]) + abs(p[2] - c[2])
            <= tolerance)
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if f == 1:
        for i in range(bpp, stride):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif f == 2:
        line = bytearray((a + b) & 255 for a, b in zip(line, prev))
    elif f == 3:
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
    elif f == 4:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc
                                  else b if pb <= pc else c)) & 255
    prev = line
    for x in range(0, stride, bpp):
        p = line[x:x + 3]
        if p[0] < 245 or p[1] < 245 or p[2] < 245:
            ink += 1
            colors.add(bytes(p))
            if near(p, TX):
                tx += 1
            elif near(p, RX):
                rx += 1
            elif near(p, TX_AREA, 6):
                tx_area += 1
            elif near(p, RX_AREA, 6):
                rx_area += 1
print("png %dx%d: %d non-white pixels, %d colours, tx %d, rx %d, "
      "tx area %d, rx area %d"
      % (w, h, ink, len(colors), tx, rx, tx_area, rx_area))
assert (w, h) == (1280, 2000), (w, h)
assert ink > 20000 and len(colors) > 50, (ink, len(colors))
assert tx > 15000 and rx > 15000, (tx, rx)
assert tx_area > 5000 and rx_area > 5000, (tx_area, rx_area)
'
if ! out=$("$PYTHON" -c "$PNG_PY" "$TMP/report.png" 2>&1); then
    printf '%s\n' "$out" | sed 's/^/    | /' >&2
    fail "screenshot: the charts are not drawn"
fi
pass "screenshot: the charts are drawn ($out)"

# The same check fails on the same page without its charts: what it sees
# is the charts, not the coloured text.
"$PYTHON" -c '
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
open(sys.argv[2], "w", encoding="utf-8").write(
    re.sub(r"<svg.*?</svg>", "", html, flags=re.S))
' "$REPORT" "$TMP/nocharts.html"
check -m "headless Chromium renders the page without its charts" \
    shot "$TMP/nocharts.html" "$TMP/nocharts.png"
if out=$("$PYTHON" -c "$PNG_PY" "$TMP/nocharts.png" 2>&1); then
    fail "screenshot check passes without charts ($out)"
fi
pass "screenshot check fails without charts ($(printf '%s' "$out" \
    | grep -o 'tx [0-9]*, rx [0-9]*.*' | head -n 1))"

cp "$TMP/report.png" "$BUILDDIR/tests/system/logs/test-report.png" \
    2>/dev/null || true
pass "screenshot kept in $BUILDDIR/tests/system/logs/test-report.png"

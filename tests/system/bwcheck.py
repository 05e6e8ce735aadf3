# SPDX-License-Identifier: Apache-2.0
"""Reads vnmon's bandwidth series back from Redis, independently of the C
readers (lib/bw-series.h is the schema), for the system tests."""

import json
import subprocess


class Redis:
    def __init__(self, sock):
        self.sock = sock

    def cmd(self, *args):
        out = subprocess.run(["redis-cli", "-s", self.sock, "--raw",
                              *map(str, args)], check=True,
                             capture_output=True, text=True).stdout
        return out.splitlines()

    def hgetall(self, key):
        v = self.cmd("HGETALL", key)
        return dict(zip(v[0::2], v[1::2]))


SPANS = {"s": (60, 1), "m": (3600, 60), "h": (86400, 3600)}


def prefix(host, tenant):
    return ("vnm:t:%s:{%s}" % (tenant, host) if tenant
            else "vnm:{%s}" % host)


def series(r, host, tenant, kind, ident, res, t0, t1):
    """{bin start: [txB, txP, rxB, rxP, ...]} over [t0, t1], rollups'
    histograms left out."""
    span, binlen = SPANS[res]
    out = {}
    start = t0 - t0 % span
    while start <= t1:
        key = "%s:bw:%s:%s:%s:%d" % (prefix(host, tenant), res, kind, ident,
                                     start)
        for f, v in r.hgetall(key).items():
            out[start + int(f) * binlen] = [int(x) for x in
                                            v.split("|")[0].split()]
        start += span
    return out


def vm_of(r, host, port):
    inv = json.loads(r.cmd("GET", "vnm:{%s}:inventory" % host)[0])
    for i in inv["interfaces"]:
        if i["name"] == port:
            return i["vm"], i["tenant"]
    raise AssertionError("no interface %s in the inventory" % port)


def check_rate(name, s, col, lo, hi, want, tol=0.05):
    """Every second of [lo, hi) of series 's' has column 'col' within
    'tol' of 'want'."""
    got = [(t, s.get(t, [0] * 4)[col]) for t in range(lo, hi)]
    bad = [(t, v) for t, v in got if abs(v - want) > tol * want]
    assert not bad, "%s: seconds off %d B/s: %s" % (name, want, bad)
    print("ok - %s: %d seconds at %d B/s (+-%d%%)" % (name, hi - lo, want,
                                                       tol * 100))


def check_minutes(name, s1, sm, t0, t1):
    """Each complete minute within [t0, t1] of the 1-s series 's1' sums to
    its 1-min bin of 'sm', whose max fields are the largest seconds."""
    n = 0
    for m, v in sorted(sm.items()):
        if m < t0 or m + 60 > t1:
            continue
        secs = [s1.get(t, [0, 0, 0, 0]) for t in range(m, m + 60)]
        sums = [sum(x[i] for x in secs) for i in range(4)]
        assert sums == v[:4], "%s: minute %d: 60 bins sum to %s, the " \
            "1-min bin says %s" % (name, m, sums, v[:4])
        assert v[5] == max(x[0] for x in secs), \
            "%s: minute %d: tx max %d, bins say %d" % (
                name, m, v[5], max(x[0] for x in secs))
        assert v[6] == max(x[2] for x in secs), \
            "%s: minute %d: rx max" % (name, m)
        assert v[4] == sum(1 for x in secs if any(x)), \
            "%s: minute %d: N %d" % (name, m, v[4])
        n += 1
    assert n, "%s: no complete minute in %d..%d" % (name, t0, t1)
    print("ok - %s: %d complete minute(s): 60 x 1-s = 1-min bin, max = "
          "peak second" % (name, n))


def p95(values):
    """Nearest rank, as vnmonctl computes it."""
    v = sorted(values)
    if not v:
        return 0
    k = max(1, -(-95 * len(v) // 100))
    return v[k - 1]

#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""vnmon's offline pipeline against Debian's ndpiReader on the same captures.

Usage: ndpi-compare.py --agent PATH --pcaps DIR [--out DIR] [--runs N]

1. Throughput, one core each (taskset), in one process per tool over every
   capture: ndpiReader reads a playlist; vnmon-agent gets every file with
   --read.  Each tool's own processing time is used (set-up excluded), best
   of --runs.  Prints packets/s of each and their ratio.
2. Labels: each capture through each tool separately; flows are matched on
   their unordered 5-tuple (per file) and the nDPI protocol label compared
   ("MASTER.APP" as ndpiReader prints it).  Prints the share of flows that
   agree and lists every disagreement.
"""
import argparse
import collections
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

PCAP_EXT = (".pcap", ".pcapng", ".cap")


def pin(cmd):
    if shutil.which("taskset"):
        return ["taskset", "-c", "0"] + cmd
    return cmd


def ndpi_throughput(files, tmp):
    playlist = os.path.join(tmp, "playlist.txt")
    with open(playlist, "w") as f:
        f.write("\n".join(files) + "\n")
    t0 = time.monotonic()
    out = subprocess.run(pin(["ndpiReader", "-i", playlist]),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, errors="replace").stdout
    wall = time.monotonic() - t0
    m = re.search(r"Packet Processing Time:\s+(\d+) msec", out)
    p = re.search(r"of (\d+) packets total", out)
    if not m or not p:
        sys.exit("ndpiReader output not understood:\n" + out[-2000:])
    return int(p.group(1)), int(m.group(1)) / 1000.0, wall


def agent_throughput(agent, conf, files):
    cmd = [agent, "--config", conf, "--no-tap-tag", "--output", os.devnull]
    for f in files:
        cmd += ["--read", f]
    t0 = time.monotonic()
    r = subprocess.run(pin(cmd), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, errors="replace")
    wall = time.monotonic() - t0
    m = re.search(r"(\d+) files, (\d+) frames, .*?, ([\d.]+) s, ", r.stderr)
    if not m:
        sys.exit("vnmon-agent output not understood:\n" + r.stderr[-2000:])
    return int(m.group(2)), float(m.group(3)), wall


def key(proto, a, ap, b, bp):
    proto = int(proto)
    if proto in (1, 58):
        ap = bp = 0         # ndpiReader keys ICMP without identifiers.
    ends = sorted([(a, int(ap)), (b, int(bp))])
    return (proto, ends[0], ends[1])


def loose(k):
    """A flow key without addresses: ndpiReader's CSV prints some IPv6
    addresses wrongly (e.g. "2600:1901::7a0b::"), so unmatched flows are
    matched again on protocol and ports alone when that is unambiguous."""
    return (k[0], tuple(sorted([k[1][1], k[2][1]])))


def ndpi_flows(path, tmp):
    out_csv = os.path.join(tmp, "n.csv")
    if os.path.exists(out_csv):
        os.unlink(out_csv)
    subprocess.run(["ndpiReader", "-i", path, "-C", out_csv, "-q"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    flows = collections.defaultdict(list)
    if not os.path.exists(out_csv):
        return flows
    with open(out_csv, newline="", errors="replace") as f:
        rows = csv.reader(f)
        header = next(rows, None)
        if not header:
            return flows
        header[0] = header[0].lstrip("#")
        col = {name: i for i, name in enumerate(header)}
        for row in rows:
            try:
                k = key(row[col["protocol"]], row[col["src_ip"]],
                        row[col["src_port"]], row[col["dst_ip"]],
                        row[col["dst_port"]])
            except (IndexError, ValueError):
                continue
            flows[k].append(row[col["ndpi_proto"]])
    return flows


def label(rec):
    app, master = rec.get("app", ""), rec.get("master", "")
    if master and master != app:
        return "%s.%s" % (master, app)
    return app or "Unknown"


def agent_flows(agent, conf, path, tmp):
    out = os.path.join(tmp, "a.jsonl")
    subprocess.run([agent, "--config", conf, "--no-tap-tag", "-q",
                    "--read", path, "--output", out],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    flows = collections.defaultdict(list)
    if not os.path.exists(out):
        return flows
    with open(out) as f:
        for line in f:
            rec = json.loads(line)
            if rec["eth_type"] not in (0x0800, 0x86DD) or rec["event"] == "update":
                continue
            k = key(rec["ip_proto"], rec["src"]["ip"], rec["src"]["port"],
                    rec["dst"]["ip"], rec["dst"]["port"])
            flows[k].append(label(rec))
    return flows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--pcaps", required=True)
    ap.add_argument("--out", default=".")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-disagreements", type=int, default=200)
    ap.add_argument("--labels-only", action="store_true",
                    help="skip the throughput part")
    ap.add_argument("--min-agree", type=float, default=0.0,
                    help="exit 1 if fewer flows agree (percent)")
    args = ap.parse_args()

    files = sorted(os.path.join(args.pcaps, f) for f in os.listdir(args.pcaps)
                   if f.endswith(PCAP_EXT))
    if not files:
        sys.exit("no captures in %s" % args.pcaps)
    tmp = tempfile.mkdtemp(prefix="vnm-bench-")
    conf = os.path.join(tmp, "agent.conf")
    with open(conf, "w") as f:
        # One record per flow, ended at the end of each file, as ndpiReader.
        f.write("[flows]\nupdate_interval = 0\nidle_timeout = 1d\n"
                "active_timeout = 7d\nmax_flows = 4000000\n"
                "max_memory = 8G\n")

    best_n = best_a = (0, 0.0, 0.0)
    ratio = 0.0
    n_pps = a_pps = 0.0
    if not args.labels_only:
        best_n = best_a = None
        print("=== throughput: %d captures, one core each, best of %d"
              % (len(files), args.runs))
    for _ in range(0 if args.labels_only else args.runs):
        n = ndpi_throughput(files, tmp)
        a = agent_throughput(args.agent, conf, files)
        if best_n is None or n[1] < best_n[1]:
            best_n = n
        if best_a is None or a[1] < best_a[1]:
            best_a = a
    if not args.labels_only:
        n_pps = best_n[0] / best_n[1] if best_n[1] else float("inf")
        a_pps = best_a[0] / best_a[1] if best_a[1] else float("inf")
        print("ndpiReader:  %9d packets in %7.3f s processing (%.2f s wall):"
              " %10.0f packets/s" % (best_n[0], best_n[1], best_n[2], n_pps))
        print("vnmon-agent: %9d packets in %7.3f s processing (%.2f s wall):"
              " %10.0f packets/s" % (best_a[0], best_a[1], best_a[2], a_pps))
        ratio = a_pps / n_pps if n_pps else 0
        print("ratio vnmon-agent / ndpiReader: %.2fx (target >= 1.5x)"
              % ratio)

    print("\n=== labels: each capture through both")
    total = agree = missing = 0
    extra = 0
    disagreements = []
    for path in files:
        n = ndpi_flows(path, tmp)
        a = agent_flows(args.agent, conf, path, tmp)
        by_loose = collections.defaultdict(list)
        for k in a:
            by_loose[loose(k)].append(k)
        for k, labels in n.items():
            ours = a.get(k)
            if ours is None:
                cand = [c for c in by_loose.get(loose(k), []) if c not in n]
                ours = a[cand[0]] if len(cand) == 1 else []
            for i, lab in enumerate(labels):
                total += 1
                if i >= len(ours):
                    missing += 1
                    disagreements.append((os.path.basename(path), k, lab,
                                          "(no flow)"))
                elif ours[i] == lab:
                    agree += 1
                else:
                    disagreements.append((os.path.basename(path), k, lab,
                                          ours[i]))
        for k, labels in a.items():
            extra += max(0, len(labels) - len(n.get(k, [])))
    share = 100.0 * agree / total if total else 0.0
    print("flows (ndpiReader's): %d; same label: %d (%.2f%%); different: %d;"
          " not seen by vnmon: %d; vnmon-only flows: %d"
          % (total, agree, share, total - agree - missing, missing, extra))
    print("\ndisagreements (file, flow, ndpiReader, vnmon):")
    for d in disagreements[:args.max_disagreements]:
        f, k, lab, ours = d
        print("  %s  %s %s:%d <-> %s:%d  %s  %s"
              % (f, k[0], k[1][0], k[1][1], k[2][0], k[2][1], lab, ours))
    if len(disagreements) > args.max_disagreements:
        print("  ... and %d more" % (len(disagreements)
                                     - args.max_disagreements))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench-ndpi.json"), "w") as f:
        json.dump({"captures": len(files),
                   "ndpireader": {"packets": best_n[0], "seconds": best_n[1],
                                  "pps": n_pps},
                   "vnmon": {"packets": best_a[0], "seconds": best_a[1],
                             "pps": a_pps},
                   "ratio": ratio, "flows": total, "agree": agree,
                   "agree_pct": share, "missing": missing,
                   "disagreements": [list(map(str, d)) for d in disagreements]},
                  f, indent=1)
    shutil.rmtree(tmp)
    if args.labels_only:
        print("\nsummary: labels agree on %.2f%% of %d flows" % (share, total))
    else:
        print("\nsummary: ratio %.2fx, labels agree on %.2f%% of %d flows"
              % (ratio, share, total))
    if share < args.min_agree:
        print("FAIL: labels agree on %.2f%% < %.2f%%" % (share,
                                                       args.min_agree))
        sys.exit(1)


if __name__ == "__main__":
    main()

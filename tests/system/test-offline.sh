#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# vnmon-agent --read on captures generated here with scapy (pcap and
# pcapng): flow records as JSON lines with the right tuples, counters,
# directions, TCP flags, nDPI labels, tag stacks, tunnels and the flow tap's
# port tag; malformed frames counted, not fatal; a missing or corrupt file
# reported clearly.  Needs no lab.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

dir=$(mktemp -d /tmp/vnm-offline-XXXXXX)
trap 'rm -rf "$dir"' EXIT

"$PYTHON" - "$dir" <<'PY'
import sys
from scapy.all import (Ether, Dot1Q, Dot1AD, IP, IPv6, TCP, UDP, ICMP, DNS,
                       DNSQR, DNSRR, VXLAN, Raw, wrpcap, PcapNgWriter)
d = sys.argv[1]
A, B = "02:00:00:00:01:01", "02:00:00:00:01:02"
t = 1795252900.0
pkts = []
def add(p, dt=0.01):
    global t
    t += dt
    p.time = t
    pkts.append(p)

# A TCP/HTTP exchange, tapped by the flow tap (outer 802.1ad, VID = port
# index 3 one way, 4 the other).
c = Ether(src=A, dst=B) / Dot1AD(vlan=3) / IP(src="10.0.0.11", dst="10.0.0.12")
s = Ether(src=B, dst=A) / Dot1AD(vlan=4) / IP(src="10.0.0.12", dst="10.0.0.11")
add(c / TCP(sport=40000, dport=80, flags="S", seq=1))
add(s / TCP(sport=80, dport=40000, flags="SA", seq=100, ack=2))
add(c / TCP(sport=40000, dport=80, flags="A", seq=2, ack=101))
add(c / TCP(sport=40000, dport=80, flags="PA", seq=2, ack=101) /
    Raw(b"GET /index.html HTTP/1.1\r\nHost: www.vnmon.test\r\n"
        b"User-Agent: test\r\nAccept: */*\r\n\r\n"))
add(s / TCP(sport=80, dport=40000, flags="PA", seq=101, ack=80) /
    Raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
        b"Content-Length: 5\r\n\r\nhello"))
add(c / TCP(sport=40000, dport=80, flags="FA", seq=80, ack=171))
add(s / TCP(sport=80, dport=40000, flags="FA", seq=171, ack=81))
add(c / TCP(sport=40000, dport=80, flags="A", seq=81, ack=172))

# DNS over IPv6, double-tagged (802.1ad 100 + 802.1Q 10), no tap tag
# meaning here: the test reads this file with --no-tap-tag.
q = (Ether(src=A, dst=B) / Dot1AD(vlan=100) / Dot1Q(vlan=10) /
     IPv6(src="fd00::11", dst="fd00::12") / UDP(sport=5353, dport=53) /
     DNS(id=7, rd=1, qd=DNSQR(qname="www.vnmon.test")))
r = (Ether(src=B, dst=A) / Dot1AD(vlan=100) / Dot1Q(vlan=10) /
     IPv6(src="fd00::12", dst="fd00::11") / UDP(sport=53, dport=5353) /
     DNS(id=7, qr=1, qd=DNSQR(qname="www.vnmon.test"),
         an=DNSRR(rrname="www.vnmon.test", rdata="10.0.0.99")))
qinq = []
for p in (q, r):
    t += 0.01
    p.time = t
    qinq.append(p)

# ICMP inside VXLAN (VNI 5000).
for i in range(3):
    add(Ether() / IP(src="172.16.0.1", dst="172.16.0.2") /
        UDP(sport=50000 + i, dport=4789) / VXLAN(vni=5000) /
        Ether(src=A, dst=B) / IP(src="192.168.1.1", dst="192.168.1.2") /
        ICMP(type=8, id=9, seq=i))

# Malformed: IPv4 header length past the frame, a runt.
add(Ether(src=A, dst=B, type=0x0800) / Raw(b"\x4f" + b"\x00" * 30))
add(Ether(src=A, dst=B, type=0x0800) / Raw(b"\x45\x00"))

wrpcap(d + "/tapped.pcap", pkts)
w = PcapNgWriter(d + "/qinq.pcapng")
for p in qinq:
    w.write(p)
w.close()
open(d + "/corrupt.pcap", "wb").write(b"\xd4\xc3\xb2\xa1garbage")
PY

out=$("$AGENT" --read "$dir/tapped.pcap" --output "$dir/tapped.jsonl" 2>&1) \
    || fail "agent --read failed: $out"
echo "$out"
check -m "summary counts the frames and the malformed ones" \
    grep -q "1 files, 13 frames, .* 2 malformed" <<<"$out"
check -m "malformed frames counted by reason" \
    grep -q "malformed ipv4_bad_ihl: 1" <<<"$out"
check -m "records of tapped.pcap" "$PYTHON" - "$dir/tapped.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
http = [r for r in recs if r["ip_proto"] == 6]
assert len(http) == 1, http
h = http[0]
assert (h["src"]["ip"], h["src"]["port"]) == ("10.0.0.11", 40000), h
assert (h["dst"]["ip"], h["dst"]["port"]) == ("10.0.0.12", 80), h
assert h["src"]["packets"] == 5 and h["dst"]["packets"] == 3, h
assert h["src"]["tcp_flags"] == 0x1b and h["dst"]["tcp_flags"] == 0x1b, h
assert h["event"] == "end-tcp", h
assert h["src"]["in"]["ofport"] == 3 and h["dst"]["in"]["ofport"] == 4, h
assert h["vlan"] == [], h           # The tap tag is not the VM's.
assert h["app"] == "HTTP", h
assert h["server_name"] == "www.vnmon.test", h
assert h["src"]["mac"] == "02:00:00:00:01:01", h
vx = [r for r in recs if r["tunnel"]]
assert len(vx) == 1, vx
v = vx[0]
assert v["tunnel"] == {"type": "vxlan", "vni": 5000}, v
assert (v["src"]["ip"], v["dst"]["ip"]) == ("192.168.1.1", "192.168.1.2"), v
assert v["ip_proto"] == 1 and v["src"]["packets"] == 3, v
assert v["class"] == "underlay", v
print("ok: %d records" % len(recs))
PY

out=$("$AGENT" --read "$dir/qinq.pcapng" --no-tap-tag -q \
      --output "$dir/qinq.jsonl" 2>&1) || fail "agent --read failed: $out"
check -m "pcapng: DNS over IPv6 with its full tag stack" \
    "$PYTHON" - "$dir/qinq.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 1, recs
r = recs[0]
assert [(t["tpid"], t["vid"]) for t in r["vlan"]] == [(0x88a8, 100),
                                                     (0x8100, 10)], r
assert r["src"]["ip"] == "fd00::11" and r["dst"]["port"] == 53, r
assert r["app"] == "DNS" and r["server_name"] == "www.vnmon.test", r
assert r["src"]["packets"] == 1 and r["dst"]["packets"] == 1, r
PY

rc=0
out=$("$AGENT" --read "$dir/corrupt.pcap" -q -o "$dir/c.jsonl" 2>&1) || rc=$?
check -m "corrupt capture: exit 1 with a clear error ($out)" \
    test "$rc" = 1 -a -n "$(grep "corrupt.pcap: cannot read capture" <<<"$out")"
rc=0
out=$("$AGENT" --read "$dir/absent.pcap" -q 2>&1) || rc=$?
check -m "missing capture: exit 1 naming it" \
    test "$rc" = 1 -a -n "$(grep "absent.pcap" <<<"$out")"

# A random-source SYN flood: 1 M SYNs through a flow table capped at 32 MiB.
"$PYTHON" "$VNM_TOP/tests/data/gen-syn-flood.py" "$dir/syn.pcap" 1000000
printf '[flows]\nmax_memory = 32M\nmax_flows = 4000000\n' >"$dir/syn.conf"
out=$("$AGENT" --read "$dir/syn.pcap" -c "$dir/syn.conf" -o /dev/null 2>&1) \
    || fail "agent --read failed on the flood: $out"
echo "$out"
read -r peak cap rss < <(sed -n 's/.*peak flow table memory \([0-9]*\) bytes (cap \([0-9]*\)), max RSS \([0-9]*\) KiB/\1 \2 \3/p' <<<"$out")
evicted=$(sed -n 's/.* \([0-9]*\) evicted, .*/\1/p' <<<"$out")
check -m "flood: flow memory peaked at $peak bytes, under the cap ($cap)" \
    test "$peak" -le "$cap"
check -m "flood: $evicted evictions counted" test "$evicted" -ge 900000
if [ -z "${ASAN_OPTIONS:-}" ]; then
    # The process: the cap plus what any agent has (libraries, nDPI's
    # module, buffers): 24 MiB.
    check -m "flood: max RSS $rss KiB within the cap + 24 MiB" \
        test "$rss" -le $(( cap / 1024 + 24 * 1024 ))
else
    echo "note: sanitized build, RSS not compared (ASan's shadow memory)"
fi

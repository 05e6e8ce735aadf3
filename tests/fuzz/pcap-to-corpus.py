#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# Extracts the frames of pcap and pcapng captures into a libFuzzer corpus
# directory, one file per distinct frame, named by its SHA-1 (as libFuzzer
# names its own entries).  Used by tests/fuzz/decode.mk to seed fuzz-decode
# from ../shared/pcaps.
#
# Every frame becomes an Ethernet frame, as the decoder expects: Ethernet
# captures are taken as they are; raw IP, Linux cooked (SLL, SLL2),
# BSD loopback (NULL, LOOP), PPP and Cisco HDLC captures get a synthetic
# Ethernet header in place of their own; other link types are skipped.
#
# The corpus is bounded: at most --max distinct frames (0: no limit), taken
# round-robin over the captures (the first frame of each, then the second
# of each, ...) so that a few large captures cannot crowd out the rest.
# Python 3 standard library only.

import argparse
import hashlib
import os
import struct
import sys

SYNTH_DST = bytes.fromhex("020000000002")
SYNTH_SRC = bytes.fromhex("020000000001")

DLT_NULL = 0
DLT_EN10MB = 1
DLT_PPP = 9
DLT_RAW_OPENBSD = 12
DLT_RAW_BSD = 14
DLT_PPP_SERIAL = 50
DLT_RAW = 101
DLT_C_HDLC = 104
DLT_LOOP = 108
DLT_LINUX_SLL = 113
DLT_IPV4 = 228
DLT_IPV6 = 229
DLT_LINUX_SLL2 = 276


def eth(eth_type, payload, src=SYNTH_SRC):
    return SYNTH_DST + src + struct.pack("!H", eth_type) + payload


def raw_ip(data):
    if not data:
        return None
    version = data[0] >> 4
    if version == 4:
        return eth(0x0800, data)
    if version == 6:
        return eth(0x86DD, data)
    return None


def to_ethernet(linktype, data):
    """Returns 'data' of 'linktype' as an Ethernet frame, or None."""
    if linktype == DLT_EN10MB:
        return data
    if linktype in (DLT_RAW, DLT_RAW_OPENBSD, DLT_RAW_BSD, DLT_IPV4,
                    DLT_IPV6):
        return raw_ip(data)
    if linktype == DLT_LINUX_SLL and len(data) >= 16:
        proto = struct.unpack("!H", data[14:16])[0]
        src = (data[6:12] + bytes(6))[:6]
        return eth(proto, data[16:], src) if proto >= 0x0600 else None
    if linktype == DLT_LINUX_SLL2 and len(data) >= 20:
        proto = struct.unpack("!H", data[0:2])[0]
        src = (data[12:18] + bytes(6))[:6]
        return eth(proto, data[20:], src) if proto >= 0x0600 else None
    if linktype in (DLT_NULL, DLT_LOOP) and len(data) >= 4:
        return raw_ip(data[4:])
    if linktype in (DLT_PPP, DLT_PPP_SERIAL, DLT_C_HDLC) and len(data) >= 2:
        if data[0] in (0xFF, 0x0F, 0x8F) and len(data) >= 4:
            data = data[2:]
        proto = struct.unpack("!H", data[0:2])[0]
        if proto in (0x0021, 0x0800):
            return eth(0x0800, data[2:])
        if proto in (0x0057, 0x86DD):
            return eth(0x86DD, data[2:])
        return None
    return None


def read_pcap(blob):
    """Yields (linktype, frame, wire length) from a classic pcap file."""
    magic = blob[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return
    if len(blob) < 24:
        return
    linktype = struct.unpack(endian + "I", blob[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(blob):
        caplen, wire = struct.unpack(endian + "II", blob[off + 8:off + 16])
        off += 16
        if caplen > len(blob) - off:
            break
        yield linktype, blob[off:off + caplen], wire
        off += caplen


def read_pcapng(blob):
    """Yields (linktype, frame, wire length) from a pcapng file."""
    endian = "<"
    linktypes = []
    off = 0
    while off + 12 <= len(blob):
        btype_raw = blob[off:off + 4]
        if btype_raw == b"\x0a\x0d\x0d\x0a":
            bom = blob[off + 8:off + 12]
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            linktypes = []
        btype, blen = struct.unpack(endian + "II", blob[off:off + 8])
        if blen < 12 or blen % 4 or off + blen > len(blob):
            break
        body = blob[off + 8:off + blen - 4]
        if btype == 1 and len(body) >= 8:           # Interface description.
            linktypes.append(struct.unpack(endian + "H", body[0:2])[0])
        elif btype == 6 and len(body) >= 20:        # Enhanced packet.
            ifid, _, _, caplen, wire = struct.unpack(endian + "IIIII",
                                                     body[0:20])
            if ifid < len(linktypes) and caplen <= len(body) - 20:
                yield linktypes[ifid], body[20:20 + caplen], wire
        elif btype == 3 and len(body) >= 4 and linktypes:  # Simple packet.
            origlen = struct.unpack(endian + "I", body[0:4])[0]
            yield (linktypes[0], body[4:4 + min(origlen, len(body) - 4)],
                   origlen)
        elif btype == 2 and len(body) >= 20:        # Packet (obsolete).
            ifid = struct.unpack(endian + "H", body[0:2])[0]
            caplen, wire = struct.unpack(endian + "II", body[12:20])
            if ifid < len(linktypes) and caplen <= len(body) - 20:
                yield linktypes[ifid], body[20:20 + caplen], wire
        off += blen


def frames_of(path):
    """Returns the Ethernet frames of the capture at 'path' (maybe none)."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as e:
        print("pcap-to-corpus: %s: %s" % (path, e.strerror), file=sys.stderr)
        return []
    reader = read_pcapng if blob[:4] == b"\x0a\x0d\x0d\x0a" else read_pcap
    out = []
    try:
        for linktype, data, _ in reader(blob):
            frame = to_ethernet(linktype, data)
            if frame:
                out.append(frame)
    except struct.error:
        pass                        # A damaged capture: keep what was read.
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--max", type=int, default=20000,
                    help="at most this many distinct frames (0: no limit)")
    ap.add_argument("pcap_dir", help="directory of .pcap/.pcapng/.cap files")
    ap.add_argument("out_dir", help="corpus directory (created)")
    args = ap.parse_args()

    names = sorted(n for n in os.listdir(args.pcap_dir)
                   if n.endswith((".pcap", ".pcapng", ".cap")))
    per_file = [frames_of(os.path.join(args.pcap_dir, n)) for n in names]

    os.makedirs(args.out_dir, exist_ok=True)
    seen = set()
    written = 0
    depth = 0
    limit = args.max if args.max > 0 else float("inf")
    while len(seen) < limit and any(depth < len(f) for f in per_file):
        for frames in per_file:
            if depth >= len(frames) or len(seen) >= limit:
                continue
            digest = hashlib.sha1(frames[depth]).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            path = os.path.join(args.out_dir, digest)
            if not os.path.exists(path):
                with open(path, "wb") as f:
                    f.write(frames[depth])
                written += 1
        depth += 1
    print("pcap-to-corpus: %d captures, %d distinct frames, %d new in %s"
          % (len(names), len(seen), written, args.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())

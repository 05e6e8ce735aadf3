#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a pcap of N TCP SYNs from random IPv4 sources (seeded, so the
file is the same every time) to 10.0.0.12:80: a random-source SYN flood.

Usage: gen-syn-flood.py FILE N
"""
import struct, random, sys
n = int(sys.argv[2])
random.seed(1)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    eth = bytes.fromhex("020000000102" "020000000101" "0800")
    t = 1795252900
    for i in range(n):
        src = random.getrandbits(32)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xffff, 0, 64, 6, 0,
                         struct.pack("!I", src), bytes([10, 0, 0, 12]))
        tcp = struct.pack("!HHIIBBHHH", random.getrandbits(16), 80, i, 0,
                          0x50, 0x02, 65535, 0, 0)
        frame = eth + ip + tcp
        us = i % 1000000
        f.write(struct.pack("<IIII", t + i // 1000000, us, len(frame), len(frame)))
        f.write(frame)

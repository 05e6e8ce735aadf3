/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The packet decoder: one Ethernet frame in, its layers out.
 *
 * decode_frame() parses Ethernet, the full 802.1Q/802.1ad tag stack, ARP,
 * IPv4 (options, fragments), IPv6 (extension headers, fragments), ICMP,
 * ICMPv6 (ND, RA), TCP, UDP, DHCP and DHCPv6 message types, and the tunnels
 * VXLAN (UDP 4789), Geneve (UDP 6081) and GRE (IP protocol 47, with Ethernet
 * or IP payload) and IP in IP (protocols 4 and 41): for a tunnelled frame the outer layers are kept in
 * 'outer' and the inner frame is decoded as well, into the main fields.
 *
 * It never reads outside [frame, frame + caplen), never allocates, and never
 * fails hard: a malformed or truncated frame gives a non-zero 'error' (the
 * first problem met) with everything decoded before it kept, so that callers
 * count it by reason and go on.  Pure: thread-safe, no global state.
 *
 * Neighbours: the taps (tap-*.c) and the offline reader hand frames here;
 * the flow table (flow-table.c) keys flows on the result; nDPI gets the L3
 * header at 'l3' (classify-ndpi.c).
 */
#ifndef VNM_DECODE_H
#define VNM_DECODE_H 1

#include <stdbool.h>
#include <stdint.h>

#include "vnmon/flow.h"

/* Why a frame could not be decoded completely.  Counted per reason. */
enum decode_error {
    DECODE_OK = 0,
    DECODE_ETH_TRUNCATED,       /* Shorter than an Ethernet header. */
    DECODE_VLAN_TRUNCATED,      /* A tag cut short. */
    DECODE_VLAN_TOO_MANY,       /* More tags than VNM_MAX_VLAN_TAGS. */
    DECODE_ARP_TRUNCATED,
    DECODE_ARP_BAD,             /* Not Ethernet/IPv4 ARP, or bad sizes. */
    DECODE_IPV4_TRUNCATED,
    DECODE_IPV4_BAD_VERSION,
    DECODE_IPV4_BAD_IHL,        /* Header length < 20 or past the packet. */
    DECODE_IPV4_BAD_LENGTH,     /* Total length < header or > frame. */
    DECODE_IPV4_BAD_OPTIONS,    /* Malformed option list. */
    DECODE_IPV6_TRUNCATED,
    DECODE_IPV6_BAD_VERSION,
    DECODE_IPV6_BAD_LENGTH,     /* Payload length past the frame. */
    DECODE_IPV6_EXT_TRUNCATED,  /* An extension header cut short. */
    DECODE_IPV6_EXT_TOO_MANY,   /* Extension header chain too long. */
    DECODE_FRAG_BAD,            /* Fragment offset/length inconsistent. */
    DECODE_TCP_TRUNCATED,
    DECODE_TCP_BAD_OFFSET,      /* Data offset < 5 or past the segment. */
    DECODE_UDP_TRUNCATED,
    DECODE_UDP_BAD_LENGTH,
    DECODE_ICMP_TRUNCATED,
    DECODE_ICMPV6_TRUNCATED,
    DECODE_ND_BAD,              /* Bad ND/RA message or option. */
    DECODE_DHCP_BAD,            /* Bad DHCP/DHCPv6 message or option. */
    DECODE_TUNNEL_TRUNCATED,    /* VXLAN/Geneve/GRE header cut short. */
    DECODE_TUNNEL_BAD,          /* Bad flags, version or option length. */
    DECODE_TUNNEL_TOO_DEEP,     /* A tunnel inside a tunnel: not decoded. */
    DECODE_N_ERRORS
};

/* Tunnel types ('tunnel_type' of struct vnm_flow uses the same values). */
enum decode_tunnel {
    DECODE_TUNNEL_NONE = 0,
    DECODE_TUNNEL_VXLAN = 1,
    DECODE_TUNNEL_GENEVE = 2,
    DECODE_TUNNEL_GRE = 3,
    DECODE_TUNNEL_IPIP = 4,     /* IPv4/IPv6 in IPv4/IPv6 (4in4, 6in4...). */
};

/* The outer layers of a tunnelled frame. */
struct decode_outer {
    uint8_t src_mac[6], dst_mac[6];
    uint8_t n_vlan;
    struct vnm_vlan_tag vlan[VNM_MAX_VLAN_TAGS];
    struct vnm_addr src_ip, dst_ip; /* Outer IP (family 4 or 6). */
    uint16_t src_port, dst_port;    /* Outer UDP ports (0 for GRE). */
    uint8_t ttl;                    /* Outer TTL / hop limit. */
};

/* ARP (Ethernet/IPv4 only). */
struct decode_arp {
    uint16_t op;                /* 1 request, 2 reply. */
    uint8_t sha[6], tha[6];     /* Sender and target hardware addresses. */
    uint8_t spa[4], tpa[4];     /* Sender and target protocol addresses. */
};

/* ICMPv6 Neighbor Discovery, when 'icmp_type' is 133..137. */
struct decode_nd {
    uint8_t target[16];         /* NS/NA/Redirect target address. */
    bool has_sll, has_tll;      /* Source/target link-layer options seen. */
    uint8_t sll[6], tll[6];     /* Their addresses. */
    uint8_t flags;              /* NA: R/S/O bits; RA: M/O bits. */
    uint16_t router_lifetime;   /* RA only. */
    uint8_t n_prefixes;         /* RA prefix information options. */
};

/* One decoded frame.  Offsets are from the start of the frame; a layer that
 * is absent has offset 0 and its fields zero.  For a tunnelled frame the
 * fields below describe the inner frame, and 'outer' the carrier. */
struct decoded {
    /* Whole frame. */
    uint32_t caplen;            /* Bytes available. */
    uint32_t wire_len;          /* Bytes on the wire (>= caplen). */
    enum decode_error error;    /* First problem met, DECODE_OK if none. */

    /* Tunnel: set when the frame is a VXLAN/Geneve/GRE carrier whose inner
     * frame was decoded (then the fields below are the inner ones). */
    enum decode_tunnel tunnel;
    uint32_t vni;               /* VNI, or GRE key (0 if absent). */
    struct decode_outer outer;

    /* L2. */
    uint8_t src_mac[6], dst_mac[6];
    uint8_t n_vlan;             /* Tags seen, outermost first. */
    struct vnm_vlan_tag vlan[VNM_MAX_VLAN_TAGS];
    uint16_t eth_type;          /* EtherType after the tags. */
    uint16_t l3;                /* Offset of the L3 header. */

    /* L3: IPv4, IPv6 or ARP. */
    struct decode_arp arp;      /* If eth_type == 0x0806. */
    uint8_t ip_version;         /* 4, 6 or 0. */
    struct vnm_addr src_ip, dst_ip;
    uint8_t ip_proto;           /* Final protocol after IPv6 extensions. */
    uint8_t ttl;                /* TTL or hop limit. */
    uint8_t tos;                /* DSCP+ECN / traffic class. */
    uint16_t l3_len;            /* From 'l3' to the end of the IP datagram
                                 * within the frame (what nDPI gets). */
    bool has_ip_options;        /* IPv4 options present. */
    bool is_fragment;           /* A fragment (first or later). */
    bool is_later_fragment;     /* Offset != 0: no L4 header here. */
    bool more_fragments;
    uint16_t frag_offset;       /* In bytes. */
    uint32_t frag_id;           /* IPv4 id or IPv6 fragment id. */
    uint8_t n_ext_headers;      /* IPv6 extension headers crossed. */

    /* L4. */
    uint16_t l4;                /* Offset of the L4 header, 0 if none. */
    uint16_t src_port, dst_port; /* TCP/UDP ports; ICMP echo: id in both. */
    uint8_t tcp_flags;          /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08
                                 * ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80. */
    uint32_t tcp_seq, tcp_ack;
    uint8_t icmp_type, icmp_code; /* ICMP or ICMPv6. */
    struct decode_nd nd;        /* ICMPv6 133..137. */
    uint8_t dhcp_msg_type;      /* DHCP option 53 (1..18) or DHCPv6
                                 * msg-type (1..13); 0 if not DHCP. */
    bool is_dhcpv6;
    uint16_t payload;           /* Offset of the L4 payload. */
    uint16_t payload_len;       /* Its length within the frame. */
};

/* Decodes the 'caplen' bytes of 'frame' ('wire_len' on the wire) into
 * '*d' (overwritten).  Returns true if the frame decoded completely, false
 * if d->error says what stopped it. */
bool decode_frame(const uint8_t *frame, uint32_t caplen, uint32_t wire_len,
                  struct decoded *d);

/* A short stable name for 'error', e.g. "ipv4_bad_ihl" (for counters). */
const char *decode_error_name(enum decode_error error);

/* Formats one line describing the layers of '*d' into 'buf' ('size' bytes),
 * e.g. "802.1Q vlan 10 | IPv4 10.0.0.11 > 10.0.0.12 ttl 64 | TCP 40000 >
 * 80 [S]", for alert evidence and debugging.  Returns 'buf'. */
char *decode_format(const struct decoded *d, char *buf, unsigned size);

#endif /* decode.h */

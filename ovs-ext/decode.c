/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The packet decoder: see decode.h.
 *
 * One pass from the outside in.  A cursor carries two ends for the layer
 * being parsed: 'end', the last captured byte that belongs to it, and
 * 'wire_end', where it ends on the wire (its length field, or the frame's
 * wire length).  A header that crosses 'end' but not 'wire_end' was cut by
 * the snap length and gives a *_TRUNCATED reason; a length field that
 * crosses 'wire_end' is malformed and gives a *_BAD reason.  Bytes of a
 * layer's payload that were not captured are no error at all.
 *
 * Multi-byte fields are read with memcpy() and ntohs()/ntohl(), never
 * through a cast pointer: frames have no alignment guarantee.  Offsets in
 * struct decoded are 16 bits, so only the first 65535 bytes of a frame are
 * looked at (the rest is treated as not captured).
 */
#include <config.h>

#include "ovs-ext/decode.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"

#define ETH_HEADER_SIZE 14
#define VLAN_TAG_SIZE 4
#define ARP_ETH_IPV4_SIZE 28
#define IPV4_HEADER_SIZE 20
#define IPV6_HEADER_SIZE 40
#define TCP_HEADER_SIZE 20
#define UDP_HEADER_SIZE 8
#define ICMP_HEADER_SIZE 8
#define ICMPV6_HEADER_SIZE 4
#define VXLAN_HEADER_SIZE 8
#define GENEVE_HEADER_SIZE 8
#define GRE_HEADER_SIZE 4
#define BOOTP_FIXED_SIZE 236    /* BOOTP header before the magic cookie. */
#define DHCP_OPTIONS_OFFSET 240 /* BOOTP header + magic cookie. */
#define DHCP_MAGIC_COOKIE 0x63825363
#define DHCPV6_HEADER_SIZE 4    /* msg-type + transaction-id. */
#define DHCPV6_RELAY_HEADER_SIZE 34

#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_IPV6 0x86dd
#define ETH_TYPE_VLAN_8021Q 0x8100
#define ETH_TYPE_VLAN_8021AD 0x88a8
#define ETH_TYPE_VLAN_9100 0x9100
#define ETH_TYPE_TEB 0x6558     /* Transparent Ethernet bridging. */
#define ETH_TYPE_PPP 0x880b     /* Enhanced GRE (PPTP) payload. */

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_GRE_ 47
#define IPPROTO_IPIP_ 4         /* IPv4 in IP (RFC 2003). */
#define IPPROTO_IPV6_ 41        /* IPv6 in IP (RFC 4213). */
#define IPPROTO_ESP_ 50
#define IPPROTO_AH_ 51
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_NONE_ 59
#define IPPROTO_DSTOPTS_ 60

#define UDP_PORT_VXLAN 4789
#define UDP_PORT_GENEVE 6081
#define UDP_PORT_BOOTPS 67
#define UDP_PORT_BOOTPC 68
#define UDP_PORT_DHCPV6_CLIENT 546
#define UDP_PORT_DHCPV6_SERVER 547

#define GRE_FLAG_C 0x8000       /* Checksum present. */
#define GRE_FLAG_R 0x4000       /* Routing present (RFC 1701): refused. */
#define GRE_FLAG_K 0x2000       /* Key present. */
#define GRE_FLAG_S 0x1000       /* Sequence number present. */
#define GRE_VERSION_MASK 0x0007

#define ND_OPT_SLL 1
#define ND_OPT_TLL 2
#define ND_OPT_PREFIX 3
#define ND_OPT_PREFIX_SIZE 32

#define DHCP_MAX_MSG_TYPE 18
#define DHCPV6_MAX_MSG_TYPE 13

/* IPv6 extension headers crossed before DECODE_IPV6_EXT_TOO_MANY.  A sane
 * chain (RFC 8200 4.1) has at most 7. */
#define MAX_EXT_HEADERS 8

/* Bytes of a frame looked at: offsets in struct decoded are 16 bits. */
#define MAX_CAPLEN 65535

/* The parsing state of one frame. */
struct cursor {
    const uint8_t *p;           /* The frame. */
    struct decoded *d;          /* The result. */
    uint32_t end;               /* Captured bytes of this layer end here. */
    uint32_t wire_end;          /* This layer ends here on the wire. */
    bool fragment;              /* Inside a first fragment: L4 lengths may
                                 * extend past 'wire_end'. */
    bool tunnelled;             /* A tunnel was entered already. */
};

static void decode_eth(struct cursor *, uint32_t off);
static void decode_l3(struct cursor *, uint32_t off, uint16_t eth_type);

static inline uint16_t
get16(const uint8_t *p)
{
    uint16_t x;

    memcpy(&x, p, sizeof x);
    return ntohs(x);
}

static inline uint32_t
get32(const uint8_t *p)
{
    uint32_t x;

    memcpy(&x, p, sizeof x);
    return ntohl(x);
}

static inline uint32_t
min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* Records 'error' and stops: every caller returns right after. */
static inline void
fail(struct cursor *c, enum decode_error error)
{
    c->d->error = error;
}

/* Narrows the current layer to the 'len' bytes from 'off' (which fit in
 * the current 'wire_end'). */
static inline void
narrow(struct cursor *c, uint32_t off, uint32_t len)
{
    c->wire_end = off + len;
    c->end = min_u32(c->end, c->wire_end);
}

/* The L4 payload at 'off', up to the captured end of the layer. */
static inline void
set_payload(struct cursor *c, uint32_t off)
{
    c->d->payload = off;
    c->d->payload_len = c->end - off;
}

/* Bytes from 'off' to the layer's end on the wire, or UINT32_MAX inside a
 * first fragment where the real end is unknown. */
static inline uint32_t
wire_left(const struct cursor *c, uint32_t off)
{
    return c->fragment ? UINT32_MAX : c->wire_end - off;
}

/* enter_tunnel() clears the fields from 'src_mac' on. */
_Static_assert(offsetof(struct decoded, outer)
               < offsetof(struct decoded, src_mac)
               && offsetof(struct decoded, vni)
               < offsetof(struct decoded, src_mac),
               "struct decoded: the whole-frame fields come first");

/* Moves the layers decoded so far into 'outer' and clears the main fields
 * for the inner frame of a tunnel: all those from 'src_mac' on. */
static void
enter_tunnel(struct cursor *c, enum decode_tunnel type, uint32_t vni,
             uint16_t src_port, uint16_t dst_port)
{
    struct decoded *d = c->d;
    struct decode_outer *o = &d->outer;

    memcpy(o->src_mac, d->src_mac, sizeof o->src_mac);
    memcpy(o->dst_mac, d->dst_mac, sizeof o->dst_mac);
    o->n_vlan = d->n_vlan;
    memcpy(o->vlan, d->vlan, sizeof o->vlan);
    o->src_ip = d->src_ip;
    o->dst_ip = d->dst_ip;
    o->src_port = src_port;
    o->dst_port = dst_port;
    o->ttl = d->ttl;

    memset((uint8_t *) d + offsetof(struct decoded, src_mac), 0,
           sizeof *d - offsetof(struct decoded, src_mac));
    d->tunnel = type;
    d->vni = vni;
    c->tunnelled = true;
}

/* Decodes the inner frame of a tunnel at 'off': Ethernet if 'proto' is
 * 0x6558, else IPv4 or IPv6.  The caller checked 'proto'. */
static void
decode_tunnel_payload(struct cursor *c, uint32_t off, uint16_t proto)
{
    if (proto == ETH_TYPE_TEB) {
        decode_eth(c, off);
    } else {
        c->d->eth_type = proto;
        c->d->l3 = off;
        decode_l3(c, off, proto);
    }
}

static inline bool
tunnel_proto_ok(uint16_t proto)
{
    return (proto == ETH_TYPE_TEB || proto == ETH_TYPE_IPV4
            || proto == ETH_TYPE_IPV6);
}

/* VXLAN (RFC 7348) at 'off', the payload of UDP 'sport' > 4789. */
static void
decode_vxlan(struct cursor *c, uint32_t off, uint16_t sport, uint16_t dport)
{
    const uint8_t *h = c->p + off;

    if (c->end - off < VXLAN_HEADER_SIZE) {
        fail(c, DECODE_TUNNEL_TRUNCATED);
        return;
    }
    if (!(h[0] & 0x08)) {
        fail(c, DECODE_TUNNEL_BAD);     /* I flag clear: no valid VNI. */
        return;
    }
    if (c->tunnelled) {
        fail(c, DECODE_TUNNEL_TOO_DEEP);
        return;
    }
    enter_tunnel(c, DECODE_TUNNEL_VXLAN, get32(h + 4) >> 8, sport, dport);
    decode_eth(c, off + VXLAN_HEADER_SIZE);
}

/* Geneve (RFC 8926) at 'off', the payload of UDP 'sport' > 6081.  A
 * protocol type other than Ethernet, IPv4 or IPv6 is not decoded. */
static void
decode_geneve(struct cursor *c, uint32_t off, uint16_t sport, uint16_t dport)
{
    const uint8_t *h = c->p + off;
    uint32_t hlen, o;
    uint16_t proto;

    if (c->end - off < GENEVE_HEADER_SIZE) {
        fail(c, DECODE_TUNNEL_TRUNCATED);
        return;
    }
    if (h[0] >> 6) {
        fail(c, DECODE_TUNNEL_BAD);     /* Version != 0. */
        return;
    }
    hlen = GENEVE_HEADER_SIZE + (h[0] & 0x3f) * 4;
    if (hlen > c->wire_end - off) {
        fail(c, DECODE_TUNNEL_BAD);
        return;
    }
    if (hlen > c->end - off) {
        fail(c, DECODE_TUNNEL_TRUNCATED);
        return;
    }
    /* Each option: class (2), type (1), 3 flag bits + 5-bit length in
     * 4-byte words, then the data; together they fill the option area. */
    for (o = GENEVE_HEADER_SIZE; o < hlen;) {
        uint32_t olen = 4 + (h[o + 3] & 0x1f) * 4;

        if (olen > hlen - o) {
            fail(c, DECODE_TUNNEL_BAD);
            return;
        }
        o += olen;
    }
    proto = get16(h + 2);
    if (!tunnel_proto_ok(proto)) {
        return;
    }
    if (c->tunnelled) {
        fail(c, DECODE_TUNNEL_TOO_DEEP);
        return;
    }
    enter_tunnel(c, DECODE_TUNNEL_GENEVE, get32(h + 4) >> 8, sport, dport);
    decode_tunnel_payload(c, off + hlen, proto);
}

/* GRE (RFC 2784, 2890) at 'off'.  Version 0 with an Ethernet, IPv4 or IPv6
 * payload is decoded as a tunnel; other payloads, and PPTP's enhanced GRE
 * (version 1, PPP), are left as an undecoded L4 protocol. */
static void
decode_gre(struct cursor *c, uint32_t off)
{
    struct decoded *d = c->d;
    const uint8_t *h = c->p + off;
    uint32_t hlen, key = 0;
    uint16_t flags, proto;

    if (c->end - off < GRE_HEADER_SIZE) {
        fail(c, DECODE_TUNNEL_TRUNCATED);
        return;
    }
    d->l4 = off;
    set_payload(c, off);
    flags = get16(h);
    proto = get16(h + 2);
    if ((flags & GRE_VERSION_MASK) == 1 && proto == ETH_TYPE_PPP) {
        return;
    }
    if ((flags & GRE_VERSION_MASK) || (flags & GRE_FLAG_R)) {
        fail(c, DECODE_TUNNEL_BAD);
        return;
    }
    hlen = GRE_HEADER_SIZE;
    hlen += flags & GRE_FLAG_C ? 4 : 0;
    if (flags & GRE_FLAG_K) {
        if (c->end - off < hlen + 4) {
            fail(c, DECODE_TUNNEL_TRUNCATED);
            return;
        }
        key = get32(h + hlen);
        hlen += 4;
    }
    hlen += flags & GRE_FLAG_S ? 4 : 0;
    if (c->end - off < hlen) {
        fail(c, DECODE_TUNNEL_TRUNCATED);
        return;
    }
    set_payload(c, off + hlen);
    if (!tunnel_proto_ok(proto)) {
        return;
    }
    if (c->tunnelled) {
        fail(c, DECODE_TUNNEL_TOO_DEEP);
        return;
    }
    enter_tunnel(c, DECODE_TUNNEL_GRE, key, 0, 0);
    decode_tunnel_payload(c, off + hlen, proto);
}

/* DHCP (RFC 2131) at 'off': BOOTP header, magic cookie, then options until
 * END, for option 53.  A message cut by the snap length is decoded as far
 * as it goes. */
static void
decode_dhcp(struct cursor *c, uint32_t off)
{
    const uint8_t *h = c->p + off;
    uint32_t cap = c->end - off;
    uint32_t wire = wire_left(c, off);
    uint32_t o;

    if (wire < DHCP_OPTIONS_OFFSET) {
        fail(c, DECODE_DHCP_BAD);
        return;
    }
    if (cap < DHCP_OPTIONS_OFFSET) {
        return;
    }
    if ((h[0] != 1 && h[0] != 2)
        || get32(h + BOOTP_FIXED_SIZE) != DHCP_MAGIC_COOKIE) {
        fail(c, DECODE_DHCP_BAD);
        return;
    }
    for (o = DHCP_OPTIONS_OFFSET; o < cap;) {
        uint8_t code = h[o];
        uint32_t olen;

        if (code == 0) {                /* Pad. */
            o++;
            continue;
        } else if (code == 255) {       /* End. */
            break;
        }
        olen = cap - o >= 2 ? 2 + h[o + 1] : 2;
        if (olen > cap - o) {
            if (olen > wire - o) {
                fail(c, DECODE_DHCP_BAD);
            }
            return;
        }
        if (code == 53 && !c->d->dhcp_msg_type) {
            uint8_t type;

            /* The length first: with length 0 the option may be the last
             * captured bytes, and h[o + 2] lies past them. */
            if (olen != 3) {
                fail(c, DECODE_DHCP_BAD);
                return;
            }
            type = h[o + 2];
            if (type == 0 || type > DHCP_MAX_MSG_TYPE) {
                fail(c, DECODE_DHCP_BAD);
                return;
            }
            c->d->dhcp_msg_type = type;
        }
        o += olen;
    }
}

/* DHCPv6 (RFC 8415) at 'off': msg-type, then the options, walked for
 * their lengths. */
static void
decode_dhcpv6(struct cursor *c, uint32_t off)
{
    const uint8_t *h = c->p + off;
    uint32_t cap = c->end - off;
    uint32_t wire = wire_left(c, off);
    uint32_t o;
    uint8_t type;

    if (wire < DHCPV6_HEADER_SIZE) {
        fail(c, DECODE_DHCP_BAD);
        return;
    }
    if (cap < 1) {
        return;
    }
    type = h[0];
    if (type == 0 || type > DHCPV6_MAX_MSG_TYPE) {
        fail(c, DECODE_DHCP_BAD);
        return;
    }
    c->d->dhcp_msg_type = type;
    c->d->is_dhcpv6 = true;
    o = type >= 12 ? DHCPV6_RELAY_HEADER_SIZE : DHCPV6_HEADER_SIZE;
    if (o > wire) {
        fail(c, DECODE_DHCP_BAD);
        return;
    }
    while (o < cap) {
        uint32_t olen = cap - o >= 4 ? 4 + get16(h + o + 2) : 4;

        if (olen > cap - o) {
            if (olen > wire - o) {
                fail(c, DECODE_DHCP_BAD);
            }
            return;
        }
        o += olen;
    }
}

/* UDP at 'off', then what its ports announce: VXLAN, Geneve, DHCP or
 * DHCPv6. */
static void
decode_udp(struct cursor *c, uint32_t off)
{
    struct decoded *d = c->d;
    const uint8_t *h = c->p + off;
    uint16_t sport, dport, len;

    if (c->end - off < UDP_HEADER_SIZE) {
        fail(c, DECODE_UDP_TRUNCATED);
        return;
    }
    d->l4 = off;
    sport = d->src_port = get16(h);
    dport = d->dst_port = get16(h + 2);
    len = get16(h + 4);
    if (len < UDP_HEADER_SIZE || len > wire_left(c, off)) {
        fail(c, DECODE_UDP_BAD_LENGTH);
        return;
    }
    if (len < c->wire_end - off) {
        narrow(c, off, len);
    }
    set_payload(c, off + UDP_HEADER_SIZE);

    if (dport == UDP_PORT_VXLAN) {
        if (!c->fragment) {
            decode_vxlan(c, off + UDP_HEADER_SIZE, sport, dport);
        }
    } else if (dport == UDP_PORT_GENEVE) {
        if (!c->fragment) {
            decode_geneve(c, off + UDP_HEADER_SIZE, sport, dport);
        }
    } else if (d->ip_version == 4) {
        if ((sport == UDP_PORT_BOOTPS || sport == UDP_PORT_BOOTPC)
            && (dport == UDP_PORT_BOOTPS || dport == UDP_PORT_BOOTPC)) {
            decode_dhcp(c, off + UDP_HEADER_SIZE);
        }
    } else if ((sport == UDP_PORT_DHCPV6_CLIENT
                || sport == UDP_PORT_DHCPV6_SERVER)
               && (dport == UDP_PORT_DHCPV6_CLIENT
                   || dport == UDP_PORT_DHCPV6_SERVER)) {
        decode_dhcpv6(c, off + UDP_HEADER_SIZE);
    }
}

/* TCP at 'off'. */
static void
decode_tcp(struct cursor *c, uint32_t off)
{
    struct decoded *d = c->d;
    const uint8_t *h = c->p + off;
    uint32_t doff;

    if (c->end - off < TCP_HEADER_SIZE) {
        fail(c, DECODE_TCP_TRUNCATED);
        return;
    }
    d->l4 = off;
    d->src_port = get16(h);
    d->dst_port = get16(h + 2);
    d->tcp_seq = get32(h + 4);
    d->tcp_ack = get32(h + 8);
    d->tcp_flags = h[13];
    doff = (h[12] >> 4) * 4;
    if (doff < TCP_HEADER_SIZE || doff > wire_left(c, off)) {
        fail(c, DECODE_TCP_BAD_OFFSET);
        return;
    }
    if (doff > c->end - off) {
        fail(c, DECODE_TCP_TRUNCATED);
        return;
    }
    set_payload(c, off + doff);
}

/* ICMP at 'off'. */
static void
decode_icmp(struct cursor *c, uint32_t off)
{
    struct decoded *d = c->d;
    const uint8_t *h = c->p + off;

    if (c->end - off < ICMP_HEADER_SIZE) {
        fail(c, DECODE_ICMP_TRUNCATED);
        return;
    }
    d->l4 = off;
    d->icmp_type = h[0];
    d->icmp_code = h[1];
    if (h[0] == 0 || h[0] == 8) {       /* Echo reply, request. */
        d->src_port = d->dst_port = get16(h + 4);
    }
    set_payload(c, off + ICMP_HEADER_SIZE);
}

/* The options of an ND message, from 'o' bytes into the ICMPv6 message at
 * 'h' to 'cap' captured bytes ('wire' on the wire). */
static void
decode_nd_options(struct cursor *c, const uint8_t *h, uint32_t o,
                  uint32_t cap, uint32_t wire)
{
    struct decode_nd *nd = &c->d->nd;

    while (o < cap) {
        uint32_t olen;

        if (cap - o < 2) {
            if (wire - o < 2) {
                fail(c, DECODE_ND_BAD);
            }
            return;
        }
        olen = h[o + 1] * 8;
        if (olen == 0 || olen > wire - o) {
            fail(c, DECODE_ND_BAD);
            return;
        }
        if (olen > cap - o) {
            return;
        }
        switch (h[o]) {
        case ND_OPT_SLL:
            if (olen == 8) {
                nd->has_sll = true;
                memcpy(nd->sll, h + o + 2, sizeof nd->sll);
            }
            break;
        case ND_OPT_TLL:
            if (olen == 8) {
                nd->has_tll = true;
                memcpy(nd->tll, h + o + 2, sizeof nd->tll);
            }
            break;
        case ND_OPT_PREFIX:
            if (olen != ND_OPT_PREFIX_SIZE) {
                fail(c, DECODE_ND_BAD);
                return;
            }
            if (nd->n_prefixes < UINT8_MAX) {
                nd->n_prefixes++;
            }
            break;
        default:
            break;
        }
        o += olen;
    }
}

/* ICMPv6 at 'off', with Neighbor Discovery (RFC 4861). */
static void
decode_icmpv6(struct cursor *c, uint32_t off)
{
    struct decoded *d = c->d;
    const uint8_t *h = c->p + off;
    uint32_t cap = c->end - off;
    uint32_t wire = wire_left(c, off);
    uint32_t fixed;

    if (cap < ICMPV6_HEADER_SIZE) {
        fail(c, DECODE_ICMPV6_TRUNCATED);
        return;
    }
    d->l4 = off;
    d->icmp_type = h[0];
    d->icmp_code = h[1];
    switch (h[0]) {
    case 128:                   /* Echo request. */
    case 129:                   /* Echo reply. */
        if (cap < 8) {
            fail(c, DECODE_ICMPV6_TRUNCATED);
            return;
        }
        d->src_port = d->dst_port = get16(h + 4);
        set_payload(c, off + 8);
        return;
    case 133:                   /* Router solicitation. */
        fixed = 8;
        break;
    case 134:                   /* Router advertisement. */
        fixed = 16;
        break;
    case 135:                   /* Neighbor solicitation. */
    case 136:                   /* Neighbor advertisement. */
        fixed = 24;
        break;
    case 137:                   /* Redirect. */
        fixed = 40;
        break;
    default:
        set_payload(c, off + ICMPV6_HEADER_SIZE);
        return;
    }

    if (h[1] != 0 || fixed > wire) {
        fail(c, DECODE_ND_BAD);
        return;
    }
    if (fixed > cap) {
        fail(c, DECODE_ICMPV6_TRUNCATED);
        return;
    }
    if (h[0] == 134) {
        d->nd.flags = h[5] & 0xc0;
        d->nd.router_lifetime = get16(h + 6);
    } else if (h[0] != 133) {
        memcpy(d->nd.target, h + 8, sizeof d->nd.target);
        if (h[0] == 136) {
            d->nd.flags = h[4] & 0xe0;
        }
    }
    set_payload(c, off + fixed);
    decode_nd_options(c, h, fixed, cap, wire);
}

/* The L4 header of protocol 'proto' at 'off'. */
/* IP in IP (4in4, 6in4, 4in6, 6in6): the payload at 'off' is an IP packet
 * of protocol 'proto' (4 or 41). */
static void
decode_ipip(struct cursor *c, uint32_t off, uint8_t proto)
{
    if (c->tunnelled) {
        fail(c, DECODE_TUNNEL_TOO_DEEP);
        return;
    }
    enter_tunnel(c, DECODE_TUNNEL_IPIP, 0, 0, 0);
    decode_tunnel_payload(c, off, (proto == IPPROTO_IPIP_ ? ETH_TYPE_IPV4
                                   : ETH_TYPE_IPV6));
}

static void
decode_l4(struct cursor *c, uint32_t off, uint8_t proto)
{
    switch (proto) {
    case IPPROTO_TCP_:
        decode_tcp(c, off);
        return;
    case IPPROTO_UDP_:
        decode_udp(c, off);
        return;
    case IPPROTO_ICMP_:
        if (c->d->ip_version == 4) {
            decode_icmp(c, off);
            return;
        }
        break;
    case IPPROTO_ICMPV6_:
        if (c->d->ip_version == 6) {
            decode_icmpv6(c, off);
            return;
        }
        break;
    case IPPROTO_GRE_:
        if (!c->fragment) {
            decode_gre(c, off);
            return;
        }
        break;
    case IPPROTO_IPIP_:
    case IPPROTO_IPV6_:
        if (!c->fragment) {
            decode_ipip(c, off, proto);
            return;
        }
        break;
    case IPPROTO_NONE_:
        return;
    default:
        break;
    }
    c->d->l4 = off;
    set_payload(c, off);
}

/* Checks the IPv4 option list 'o' ('n' bytes, RFC 791): every option but
 * EOL and NOP has a length that covers its type and length bytes and fits,
 * and the options with a pointer have a sane one. */
static bool
ipv4_options_ok(const uint8_t *o, uint32_t n)
{
    uint32_t i = 0;

    while (i < n) {
        uint8_t type = o[i];
        uint8_t len;

        if (type == 0) {                /* End of options list. */
            return true;
        } else if (type == 1) {         /* No operation. */
            i++;
            continue;
        }
        if (n - i < 2) {
            return false;
        }
        len = o[i + 1];
        if (len < 2 || len > n - i) {
            return false;
        }
        switch (type) {
        case 7:                         /* Record route. */
        case 131:                       /* Loose source route. */
        case 137:                       /* Strict source route. */
            if (len < 3 || o[i + 2] < 4) {
                return false;
            }
            break;
        case 68:                        /* Timestamp. */
            if (len < 4 || o[i + 2] < 5) {
                return false;
            }
            break;
        case 148:                       /* Router alert. */
            if (len != 4) {
                return false;
            }
            break;
        default:
            break;
        }
        i += len;
    }
    return true;
}

/* IPv4 at 'off'. */
static void
decode_ipv4(struct cursor *c, uint32_t off)
{
    struct decoded *d = c->d;
    const uint8_t *h = c->p + off;
    uint32_t ihl, total, frag, frag_offset;
    bool more;

    if (c->end - off < IPV4_HEADER_SIZE) {
        fail(c, DECODE_IPV4_TRUNCATED);
        return;
    }
    if (h[0] >> 4 != 4) {
        fail(c, DECODE_IPV4_BAD_VERSION);
        return;
    }
    d->ip_version = 4;
    d->tos = h[1];
    d->ttl = h[8];
    d->ip_proto = h[9];
    d->src_ip.family = 4;
    memcpy(d->src_ip.a, h + 12, 4);
    d->dst_ip.family = 4;
    memcpy(d->dst_ip.a, h + 16, 4);
    d->frag_id = get16(h + 4);
    frag = get16(h + 6);
    more = (frag & 0x2000) != 0;
    frag_offset = (frag & 0x1fff) * 8;
    d->more_fragments = more;
    d->frag_offset = frag_offset;
    d->is_fragment = more || frag_offset;
    d->is_later_fragment = frag_offset != 0;

    ihl = (h[0] & 0x0f) * 4;
    total = get16(h + 2);
    if (ihl < IPV4_HEADER_SIZE || ihl > c->wire_end - off) {
        fail(c, DECODE_IPV4_BAD_IHL);
        return;
    }
    if (total < ihl || total > c->wire_end - off) {
        fail(c, DECODE_IPV4_BAD_LENGTH);
        return;
    }
    if (ihl > c->end - off) {
        fail(c, DECODE_IPV4_TRUNCATED);
        return;
    }
    narrow(c, off, total);
    d->l3_len = c->end - off;
    if (ihl > IPV4_HEADER_SIZE) {
        d->has_ip_options = true;
        if (!ipv4_options_ok(h + IPV4_HEADER_SIZE, ihl - IPV4_HEADER_SIZE)) {
            fail(c, DECODE_IPV4_BAD_OPTIONS);
            return;
        }
    }
    if (more || frag_offset) {
        uint32_t size = total - ihl;

        if ((more && (size == 0 || size % 8))
            || frag_offset + size + ihl > 65535) {
            fail(c, DECODE_FRAG_BAD);
            return;
        }
        if (frag_offset) {
            set_payload(c, off + ihl);
            return;
        }
        c->fragment = true;
    }
    decode_l4(c, off + ihl, h[9]);
}

/* The IPv6 fragment header 'h' at 'off'.  Returns true if the header chain
 * goes on (a first fragment, or an atomic one), false if decoding stops. */
static bool
decode_ipv6_fragment(struct cursor *c, const uint8_t *h, uint32_t off)
{
    struct decoded *d = c->d;
    uint16_t frag = get16(h + 2);
    uint32_t frag_offset = frag & 0xfff8;
    uint32_t size = c->wire_end - off - 8;
    bool more = frag & 1;

    d->frag_offset = frag_offset;
    d->more_fragments = more;
    d->frag_id = get32(h + 4);
    if (!frag_offset && !more) {
        return true;
    }
    d->is_fragment = true;
    d->is_later_fragment = frag_offset != 0;
    if ((more && (size == 0 || size % 8)) || frag_offset + size > 65535) {
        d->ip_proto = h[0];
        fail(c, DECODE_FRAG_BAD);
        return false;
    }
    if (frag_offset) {
        d->ip_proto = h[0];
        set_payload(c, off + 8);
        return false;
    }
    c->fragment = true;
    return true;
}

/* IPv6 at 'off', with its extension header chain. */
static void
decode_ipv6(struct cursor *c, uint32_t off)
{
    struct decoded *d = c->d;
    const uint8_t *h = c->p + off;
    uint32_t total;
    uint8_t nh;

    if (c->end - off < IPV6_HEADER_SIZE) {
        fail(c, DECODE_IPV6_TRUNCATED);
        return;
    }
    if (h[0] >> 4 != 6) {
        fail(c, DECODE_IPV6_BAD_VERSION);
        return;
    }
    d->ip_version = 6;
    d->tos = (get16(h) >> 4) & 0xff;
    d->ttl = h[7];
    d->src_ip.family = 6;
    memcpy(d->src_ip.a, h + 8, 16);
    d->dst_ip.family = 6;
    memcpy(d->dst_ip.a, h + 24, 16);
    nh = d->ip_proto = h[6];

    total = IPV6_HEADER_SIZE + get16(h + 4);
    if (total > c->wire_end - off) {
        fail(c, DECODE_IPV6_BAD_LENGTH);
        return;
    }
    narrow(c, off, total);
    d->l3_len = c->end - off;
    off += IPV6_HEADER_SIZE;

    for (;;) {
        uint32_t len;

        switch (nh) {
        case IPPROTO_HOPOPTS_:
        case IPPROTO_ROUTING_:
        case IPPROTO_DSTOPTS_:
        case IPPROTO_FRAGMENT_:
        case IPPROTO_AH_:
            break;
        default:
            d->ip_proto = nh;
            decode_l4(c, off, nh);
            return;
        }
        d->ip_proto = nh;
        if (d->n_ext_headers >= MAX_EXT_HEADERS) {
            fail(c, DECODE_IPV6_EXT_TOO_MANY);
            return;
        }
        if (c->end - off < 8) {
            fail(c, DECODE_IPV6_EXT_TRUNCATED);
            return;
        }
        h = c->p + off;
        len = (nh == IPPROTO_FRAGMENT_ ? 8
               : nh == IPPROTO_AH_ ? (h[1] + 2) * 4
               : (h[1] + 1) * 8);
        if (len > c->end - off) {
            fail(c, DECODE_IPV6_EXT_TRUNCATED);
            return;
        }
        d->n_ext_headers++;
        if (nh == IPPROTO_FRAGMENT_ && !decode_ipv6_fragment(c, h, off)) {
            return;
        }
        nh = h[0];
        off += len;
    }
}

/* ARP at 'off' (Ethernet/IPv4 only). */
static void
decode_arp(struct cursor *c, uint32_t off)
{
    struct decode_arp *arp = &c->d->arp;
    const uint8_t *h = c->p + off;
    uint32_t cap = c->end - off;

    if (cap < 8) {
        fail(c, DECODE_ARP_TRUNCATED);
        return;
    }
    if (get16(h) != 1 || get16(h + 2) != ETH_TYPE_IPV4 || h[4] != 6
        || h[5] != 4) {
        fail(c, DECODE_ARP_BAD);
        return;
    }
    if (cap < ARP_ETH_IPV4_SIZE) {
        fail(c, DECODE_ARP_TRUNCATED);
        return;
    }
    arp->op = get16(h + 6);
    memcpy(arp->sha, h + 8, 6);
    memcpy(arp->spa, h + 14, 4);
    memcpy(arp->tha, h + 18, 6);
    memcpy(arp->tpa, h + 24, 4);
}

/* The L3 header of EtherType 'eth_type' at 'off'. */
static void
decode_l3(struct cursor *c, uint32_t off, uint16_t eth_type)
{
    switch (eth_type) {
    case ETH_TYPE_IPV4:
        decode_ipv4(c, off);
        break;
    case ETH_TYPE_IPV6:
        decode_ipv6(c, off);
        break;
    case ETH_TYPE_ARP:
        decode_arp(c, off);
        break;
    default:
        break;
    }
}

static inline bool
is_vlan_tpid(uint16_t type)
{
    return (type == ETH_TYPE_VLAN_8021Q || type == ETH_TYPE_VLAN_8021AD
            || type == ETH_TYPE_VLAN_9100);
}

/* Ethernet and its tag stack at 'off', then L3. */
static void
decode_eth(struct cursor *c, uint32_t off)
{
    struct decoded *d = c->d;
    const uint8_t *h;
    uint16_t type;

    if (c->end - off < ETH_HEADER_SIZE) {
        fail(c, DECODE_ETH_TRUNCATED);
        return;
    }
    h = c->p + off;
    memcpy(d->dst_mac, h, 6);
    memcpy(d->src_mac, h + 6, 6);
    type = get16(h + 12);
    off += ETH_HEADER_SIZE;
    while (is_vlan_tpid(type)) {
        if (d->n_vlan >= VNM_MAX_VLAN_TAGS) {
            d->eth_type = type;
            fail(c, DECODE_VLAN_TOO_MANY);
            return;
        }
        if (c->end - off < VLAN_TAG_SIZE) {
            d->eth_type = type;
            fail(c, DECODE_VLAN_TRUNCATED);
            return;
        }
        h = c->p + off;
        d->vlan[d->n_vlan].tpid = type;
        d->vlan[d->n_vlan].tci = get16(h);
        d->n_vlan++;
        type = get16(h + 2);
        off += VLAN_TAG_SIZE;
    }
    d->eth_type = type;
    d->l3 = off;
    decode_l3(c, off, type);
}

/* Zeroes '*d'.  One memset() of the whole struct (~260 bytes) becomes
 * "rep stos" with gcc -O2, whose start-up cost was measured at a quarter of
 * the time of decoding a typical frame; memset()s of at most 64 bytes are
 * expanded into a few vector stores instead (clang merges them back into
 * one call to libc's memset(), which is as fast). */
static inline void
zero_decoded(struct decoded *d)
{
    uint8_t *p = (uint8_t *) d;
    size_t i;

    for (i = 0; i + 64 <= sizeof *d; i += 64) {
        memset(p + i, 0, 64);
    }
    memset(p + i, 0, sizeof *d - i);
}

bool
decode_frame(const uint8_t *frame, uint32_t caplen, uint32_t wire_len,
             struct decoded *d)
{
    struct cursor c;

    zero_decoded(d);
    d->caplen = caplen;
    d->wire_len = wire_len > caplen ? wire_len : caplen;

    c.p = frame;
    c.d = d;
    c.end = min_u32(caplen, MAX_CAPLEN);
    c.wire_end = d->wire_len;
    c.fragment = false;
    c.tunnelled = false;
    decode_eth(&c, 0);
    return d->error == DECODE_OK;
}

static const char *const error_names[DECODE_N_ERRORS] = {
    [DECODE_OK] = "ok",
    [DECODE_ETH_TRUNCATED] = "eth_truncated",
    [DECODE_VLAN_TRUNCATED] = "vlan_truncated",
    [DECODE_VLAN_TOO_MANY] = "vlan_too_many",
    [DECODE_ARP_TRUNCATED] = "arp_truncated",
    [DECODE_ARP_BAD] = "arp_bad",
    [DECODE_IPV4_TRUNCATED] = "ipv4_truncated",
    [DECODE_IPV4_BAD_VERSION] = "ipv4_bad_version",
    [DECODE_IPV4_BAD_IHL] = "ipv4_bad_ihl",
    [DECODE_IPV4_BAD_LENGTH] = "ipv4_bad_length",
    [DECODE_IPV4_BAD_OPTIONS] = "ipv4_bad_options",
    [DECODE_IPV6_TRUNCATED] = "ipv6_truncated",
    [DECODE_IPV6_BAD_VERSION] = "ipv6_bad_version",
    [DECODE_IPV6_BAD_LENGTH] = "ipv6_bad_length",
    [DECODE_IPV6_EXT_TRUNCATED] = "ipv6_ext_truncated",
    [DECODE_IPV6_EXT_TOO_MANY] = "ipv6_ext_too_many",
    [DECODE_FRAG_BAD] = "frag_bad",
    [DECODE_TCP_TRUNCATED] = "tcp_truncated",
    [DECODE_TCP_BAD_OFFSET] = "tcp_bad_offset",
    [DECODE_UDP_TRUNCATED] = "udp_truncated",
    [DECODE_UDP_BAD_LENGTH] = "udp_bad_length",
    [DECODE_ICMP_TRUNCATED] = "icmp_truncated",
    [DECODE_ICMPV6_TRUNCATED] = "icmpv6_truncated",
    [DECODE_ND_BAD] = "nd_bad",
    [DECODE_DHCP_BAD] = "dhcp_bad",
    [DECODE_TUNNEL_TRUNCATED] = "tunnel_truncated",
    [DECODE_TUNNEL_BAD] = "tunnel_bad",
    [DECODE_TUNNEL_TOO_DEEP] = "tunnel_too_deep",
};

const char *
decode_error_name(enum decode_error error)
{
    if ((unsigned) error < DECODE_N_ERRORS && error_names[error]) {
        return error_names[error];
    }
    return "unknown";
}

/* decode_format()'s output buffer. */
struct line {
    char *buf;
    size_t size;                /* > 0. */
    size_t len;                 /* < size; buf[len] == '\0'. */
};

static void VNM_PRINTF(2, 3)
line_add(struct line *l, const char *format, ...)
{
    va_list args;
    int n;

    if (l->len + 1 >= l->size) {
        return;
    }
    va_start(args, format);
    n = vsnprintf(l->buf + l->len, l->size - l->len, format, args);
    va_end(args);
    if (n < 0) {
        l->buf[l->len] = '\0';
    } else if ((size_t) n >= l->size - l->len) {
        l->len = l->size - 1;
    } else {
        l->len += n;
    }
}

/* Starts a new layer: " | " unless the line is empty. */
static void
line_layer(struct line *l)
{
    if (l->len) {
        line_add(l, " | ");
    }
}

/* Formats 'mac' into 's' (at least 18 bytes). */
static const char *
format_mac(const uint8_t mac[6], char *s, size_t size)
{
    snprintf(s, size, "%02x:%02x:%02x:%02x:%02x:%02x",
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return s;
}

/* Formats 'addr' into 's' (at least INET6_ADDRSTRLEN bytes). */
static const char *
format_addr(const struct vnm_addr *addr, char *s, size_t size)
{
    if (!inet_ntop(addr->family == 6 ? AF_INET6 : AF_INET, addr->a, s,
                   size)) {
        s[0] = '\0';
    }
    return s;
}

static void
format_vlans(struct line *l, const struct vnm_vlan_tag *tags, unsigned n)
{
    for (unsigned i = 0; i < n && i < VNM_MAX_VLAN_TAGS; i++) {
        const struct vnm_vlan_tag *t = &tags[i];

        line_layer(l);
        if (t->tpid == ETH_TYPE_VLAN_8021Q) {
            line_add(l, "802.1Q");
        } else if (t->tpid == ETH_TYPE_VLAN_8021AD) {
            line_add(l, "802.1ad");
        } else {
            line_add(l, "0x%04x", t->tpid);
        }
        line_add(l, " vlan %u", t->tci & 0x0fff);
        if (t->tci >> 13) {
            line_add(l, " pcp %u", t->tci >> 13);
        }
    }
}

/* "IPv4 A > B ttl N" or "IPv6 A > B hlim N". */
static void
format_ip(struct line *l, const struct vnm_addr *src,
          const struct vnm_addr *dst, uint8_t ttl)
{
    char s[INET6_ADDRSTRLEN], t[INET6_ADDRSTRLEN];

    line_layer(l);
    line_add(l, "IPv%d %s > %s %s %u", src->family == 6 ? 6 : 4,
             format_addr(src, s, sizeof s), format_addr(dst, t, sizeof t),
             src->family == 6 ? "hlim" : "ttl", ttl);
}

static void
format_tcp_flags(struct line *l, uint8_t flags)
{
    static const char letters[8] = {
        'F', 'S', 'R', 'P', '.', 'U', 'E', 'W'
    };
    char s[9];
    size_t n = 0;

    for (int i = 0; i < 8; i++) {
        if (flags & (1u << i)) {
            s[n++] = letters[i];
        }
    }
    s[n] = '\0';
    line_add(l, " [%s]", n ? s : "none");
}

static const char *
dhcp_type_name(uint8_t type)
{
    static const char *const names[DHCP_MAX_MSG_TYPE + 1] = {
        NULL, "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK",
        "RELEASE", "INFORM", "FORCERENEW", "LEASEQUERY", "LEASEUNASSIGNED",
        "LEASEUNKNOWN", "LEASEACTIVE", "BULKLEASEQUERY", "LEASEQUERYDONE",
        "ACTIVELEASEQUERY", "LEASEQUERYSTATUS", "TLS",
    };

    return type <= DHCP_MAX_MSG_TYPE ? names[type] : NULL;
}

static const char *
dhcpv6_type_name(uint8_t type)
{
    static const char *const names[DHCPV6_MAX_MSG_TYPE + 1] = {
        NULL, "SOLICIT", "ADVERTISE", "REQUEST", "CONFIRM", "RENEW",
        "REBIND", "REPLY", "RELEASE", "DECLINE", "RECONFIGURE",
        "INFORMATION-REQUEST", "RELAY-FORW", "RELAY-REPL",
    };

    return type <= DHCPV6_MAX_MSG_TYPE ? names[type] : NULL;
}

static void
format_icmp(struct line *l, const struct decoded *d)
{
    line_layer(l);
    switch (d->icmp_type) {
    case 0:
        line_add(l, "ICMP echo reply id %u", d->src_port);
        break;
    case 8:
        line_add(l, "ICMP echo request id %u", d->src_port);
        break;
    case 3:
        line_add(l, "ICMP unreachable code %u", d->icmp_code);
        break;
    case 5:
        line_add(l, "ICMP redirect code %u", d->icmp_code);
        break;
    case 11:
        line_add(l, "ICMP time-exceeded code %u", d->icmp_code);
        break;
    default:
        line_add(l, "ICMP type %u code %u", d->icmp_type, d->icmp_code);
        break;
    }
}

static void
format_icmpv6(struct line *l, const struct decoded *d)
{
    const struct decode_nd *nd = &d->nd;
    char s[INET6_ADDRSTRLEN], m[18];
    struct vnm_addr target;

    target.family = 6;
    memcpy(target.a, nd->target, sizeof target.a);

    line_layer(l);
    switch (d->icmp_type) {
    case 128:
        line_add(l, "ICMPv6 echo request id %u", d->src_port);
        return;
    case 129:
        line_add(l, "ICMPv6 echo reply id %u", d->src_port);
        return;
    case 133:
        line_add(l, "ICMPv6 router solicitation");
        break;
    case 134:
        line_add(l, "ICMPv6 router advertisement lifetime %u",
                 nd->router_lifetime);
        if (nd->flags) {
            line_add(l, " flags [%s%s]", nd->flags & 0x80 ? "M" : "",
                     nd->flags & 0x40 ? "O" : "");
        }
        line_add(l, " prefixes %u", nd->n_prefixes);
        break;
    case 135:
        line_add(l, "ICMPv6 neighbor solicitation who-has %s",
                 format_addr(&target, s, sizeof s));
        break;
    case 136:
        line_add(l, "ICMPv6 neighbor advertisement %s",
                 format_addr(&target, s, sizeof s));
        if (nd->flags) {
            line_add(l, " flags [%s%s%s]", nd->flags & 0x80 ? "R" : "",
                     nd->flags & 0x40 ? "S" : "", nd->flags & 0x20 ? "O" : "");
        }
        break;
    case 137:
        line_add(l, "ICMPv6 redirect %s", format_addr(&target, s, sizeof s));
        break;
    default:
        line_add(l, "ICMPv6 type %u code %u", d->icmp_type, d->icmp_code);
        return;
    }
    if (nd->has_sll) {
        line_add(l, " sll %s", format_mac(nd->sll, m, sizeof m));
    }
    if (nd->has_tll) {
        line_add(l, " tll %s", format_mac(nd->tll, m, sizeof m));
    }
}

static void
format_l4(struct line *l, const struct decoded *d)
{
    switch (d->ip_proto) {
    case IPPROTO_TCP_:
        line_layer(l);
        line_add(l, "TCP %u > %u", d->src_port, d->dst_port);
        format_tcp_flags(l, d->tcp_flags);
        break;
    case IPPROTO_UDP_:
        line_layer(l);
        line_add(l, "UDP %u > %u", d->src_port, d->dst_port);
        break;
    case IPPROTO_ICMP_:
        format_icmp(l, d);
        return;
    case IPPROTO_ICMPV6_:
        format_icmpv6(l, d);
        return;
    case IPPROTO_GRE_:
        line_layer(l);
        line_add(l, "GRE");
        return;
    default:
        line_layer(l);
        line_add(l, "proto %u", d->ip_proto);
        return;
    }
    if (d->payload_len) {
        line_add(l, " len %u", d->payload_len);
    }
    if (d->dhcp_msg_type) {
        const char *name = (d->is_dhcpv6
                            ? dhcpv6_type_name(d->dhcp_msg_type)
                            : dhcp_type_name(d->dhcp_msg_type));

        line_layer(l);
        line_add(l, "%s %s", d->is_dhcpv6 ? "DHCPv6" : "DHCP",
                 name ? name : "?");
    }
}

static void
format_arp(struct line *l, const struct decoded *d)
{
    const struct decode_arp *arp = &d->arp;
    char s[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN], m[18];

    line_layer(l);
    if (!inet_ntop(AF_INET, arp->spa, s, sizeof s)) {
        s[0] = '\0';
    }
    if (!inet_ntop(AF_INET, arp->tpa, t, sizeof t)) {
        t[0] = '\0';
    }
    if (arp->op == 1) {
        line_add(l, "ARP request who-has %s tell %s", t, s);
    } else if (arp->op == 2) {
        line_add(l, "ARP reply %s is-at %s", s,
                 format_mac(arp->sha, m, sizeof m));
    } else {
        line_add(l, "ARP op %u %s > %s", arp->op, s, t);
    }
}

/* The outer layers of a tunnelled frame. */
static void
format_outer(struct line *l, const struct decoded *d)
{
    const struct decode_outer *o = &d->outer;

    format_vlans(l, o->vlan, o->n_vlan);
    if (o->src_ip.family) {
        format_ip(l, &o->src_ip, &o->dst_ip, o->ttl);
    }
    line_layer(l);
    switch (d->tunnel) {
    case DECODE_TUNNEL_VXLAN:
        line_add(l, "UDP %u > %u | VXLAN vni %u", o->src_port, o->dst_port,
                 d->vni);
        break;
    case DECODE_TUNNEL_GENEVE:
        line_add(l, "UDP %u > %u | Geneve vni %u", o->src_port, o->dst_port,
                 d->vni);
        break;
    case DECODE_TUNNEL_GRE:
        if (d->vni) {
            line_add(l, "GRE key %u", d->vni);
        } else {
            line_add(l, "GRE");
        }
        break;
    case DECODE_TUNNEL_IPIP:
        line_add(l, "IP in IP");
        break;
    case DECODE_TUNNEL_NONE:
    default:
        break;
    }
}

char *
decode_format(const struct decoded *d, char *buf, unsigned size)
{
    struct line l = { .buf = buf, .size = size, .len = 0 };
    char s[18], t[18];

    if (!size) {
        return buf;
    }
    buf[0] = '\0';
    if (d->tunnel != DECODE_TUNNEL_NONE) {
        format_outer(&l, d);
    }
    format_vlans(&l, d->vlan, d->n_vlan);
    if (d->ip_version == 4 || d->ip_version == 6) {
        format_ip(&l, &d->src_ip, &d->dst_ip, d->ttl);
        if (d->tos) {
            line_add(&l, " tos 0x%02x", d->tos);
        }
        if (d->is_fragment) {
            line_add(&l, " frag id %u off %u%s", (unsigned) d->frag_id,
                     d->frag_offset, d->more_fragments ? "+" : "");
        }
        if (d->has_ip_options) {
            line_add(&l, " options");
        }
        if (d->n_ext_headers) {
            line_add(&l, " ext %u", d->n_ext_headers);
        }
        if (d->l4) {
            format_l4(&l, d);
        } else if (d->is_later_fragment) {
            line_layer(&l);
            line_add(&l, "proto %u", d->ip_proto);
        }
    } else if (d->eth_type == ETH_TYPE_ARP && d->arp.op) {
        format_arp(&l, d);
    } else if (d->l3 || d->eth_type) {
        line_layer(&l);
        line_add(&l, "Ethernet %s > %s type 0x%04x",
                 format_mac(d->src_mac, s, sizeof s),
                 format_mac(d->dst_mac, t, sizeof t), d->eth_type);
    }
    if (d->error != DECODE_OK) {
        line_layer(&l);
        line_add(&l, "error %s", decode_error_name(d->error));
    }
    return buf;
}

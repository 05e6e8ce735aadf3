/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of ovs-ext/decode.c: hand-built frames for every layer the
 * decoder knows (tags, ARP, IPv4 options and fragments, IPv6 extension
 * headers, TCP, UDP, ICMP, ICMPv6 and ND, DHCP, DHCPv6, VXLAN, Geneve,
 * GRE), every error reason of enum decode_error, every truncation point of
 * complete frames, and the text of decode_format().
 *
 * Each frame is decoded from a heap copy of exactly 'caplen' bytes, so that
 * the sanitized build catches any read past the captured bytes.
 */
#include <config.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ovs-ext/decode.h"

/* ------------------------------------------------------------------ */
/* Frame builder. */

/* A frame under construction. */
struct fb {
    uint8_t buf[4096];
    size_t len;
};

static const uint8_t MAC_A[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
static const uint8_t MAC_B[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x02 };
static const uint8_t MAC_C[6] = { 0x02, 0x00, 0x00, 0x00, 0x02, 0x01 };
static const uint8_t MAC_D[6] = { 0x02, 0x00, 0x00, 0x00, 0x02, 0x02 };

static void
put(struct fb *fb, const void *p, size_t n)
{
    assert_true(fb->len + n <= sizeof fb->buf);
    if (n) {
        memcpy(fb->buf + fb->len, p, n);
        fb->len += n;
    }
}

static void
put8(struct fb *fb, uint8_t x)
{
    put(fb, &x, 1);
}

static void
put16(struct fb *fb, uint16_t x)
{
    uint16_t n = htons(x);

    put(fb, &n, 2);
}

static void
put32(struct fb *fb, uint32_t x)
{
    uint32_t n = htonl(x);

    put(fb, &n, 4);
}

static void
put_zeros(struct fb *fb, size_t n)
{
    assert_true(fb->len + n <= sizeof fb->buf);
    memset(fb->buf + fb->len, 0, n);
    fb->len += n;
}

static void
set16(struct fb *fb, size_t off, uint16_t x)
{
    uint16_t n = htons(x);

    memcpy(fb->buf + off, &n, 2);
}

static void
put_ip4(struct fb *fb, const char *s)
{
    uint8_t a[4];

    assert_int_equal(inet_pton(AF_INET, s, a), 1);
    put(fb, a, 4);
}

static void
put_ip6(struct fb *fb, const char *s)
{
    uint8_t a[16];

    assert_int_equal(inet_pton(AF_INET6, s, a), 1);
    put(fb, a, 16);
}

/* Ethernet addresses 'src' > 'dst' (the EtherType is up to the caller). */
static void
eth_macs(struct fb *fb, const uint8_t *src, const uint8_t *dst)
{
    put(fb, dst, 6);
    put(fb, src, 6);
}

/* An untagged Ethernet header A > B of EtherType 'type'. */
static void
eth(struct fb *fb, uint16_t type)
{
    eth_macs(fb, MAC_A, MAC_B);
    put16(fb, type);
}

static void
vlan_tag(struct fb *fb, uint16_t tpid, uint16_t tci)
{
    put16(fb, tpid);
    put16(fb, tci);
}

/* An IPv4 header with 'optlen' bytes of options 'opts' and fragment field
 * 'frag'; the total length is set by ipv4_end().  Returns its offset. */
static size_t
ipv4_full(struct fb *fb, uint8_t proto, const char *src, const char *dst,
          const uint8_t *opts, size_t optlen, uint16_t frag)
{
    size_t off = fb->len;

    assert_true(optlen % 4 == 0 && optlen <= 40);
    put8(fb, 0x40 | (5 + optlen / 4));
    put8(fb, 0);                        /* TOS. */
    put16(fb, 0);                       /* Total length, by ipv4_end(). */
    put16(fb, 0x1234);                  /* Identification. */
    put16(fb, frag);
    put8(fb, 64);                       /* TTL. */
    put8(fb, proto);
    put16(fb, 0);                       /* Checksum. */
    put_ip4(fb, src);
    put_ip4(fb, dst);
    if (optlen) {
        put(fb, opts, optlen);
    }
    return off;
}

static size_t
ipv4(struct fb *fb, uint8_t proto, const char *src, const char *dst)
{
    return ipv4_full(fb, proto, src, dst, NULL, 0, 0);
}

/* Sets the total length of the IPv4 header at 'off' to the end of 'fb'. */
static void
ipv4_end(struct fb *fb, size_t off)
{
    set16(fb, off + 2, fb->len - off);
}

/* An IPv6 header; the payload length is set by ipv6_end(). */
static size_t
ipv6(struct fb *fb, uint8_t next, const char *src, const char *dst)
{
    size_t off = fb->len;

    put32(fb, 0x60000000);
    put16(fb, 0);                       /* Payload length, by ipv6_end(). */
    put8(fb, next);
    put8(fb, 64);                       /* Hop limit. */
    put_ip6(fb, src);
    put_ip6(fb, dst);
    return off;
}

static void
ipv6_end(struct fb *fb, size_t off)
{
    set16(fb, off + 4, fb->len - off - 40);
}

/* A UDP header; its length is set by udp_end(). */
static size_t
udp(struct fb *fb, uint16_t sport, uint16_t dport)
{
    size_t off = fb->len;

    put16(fb, sport);
    put16(fb, dport);
    put16(fb, 0);
    put16(fb, 0);
    return off;
}

static void
udp_end(struct fb *fb, size_t off)
{
    set16(fb, off + 4, fb->len - off);
}

/* A TCP header with 'optlen' bytes of NOP options. */
static size_t
tcp_opts(struct fb *fb, uint16_t sport, uint16_t dport, uint8_t flags,
         uint32_t seq, uint32_t ack, size_t optlen)
{
    size_t off = fb->len;

    assert_true(optlen % 4 == 0 && optlen <= 40);
    put16(fb, sport);
    put16(fb, dport);
    put32(fb, seq);
    put32(fb, ack);
    put8(fb, (5 + optlen / 4) << 4);
    put8(fb, flags);
    put16(fb, 65535);                   /* Window. */
    put16(fb, 0);                       /* Checksum. */
    put16(fb, 0);                       /* Urgent pointer. */
    for (size_t i = 0; i < optlen; i++) {
        put8(fb, 1);
    }
    return off;
}

static size_t
tcp(struct fb *fb, uint16_t sport, uint16_t dport, uint8_t flags)
{
    return tcp_opts(fb, sport, dport, flags, 1000, 0, 0);
}

/* ------------------------------------------------------------------ */
/* Decoding and checking. */

/* The reasons some test frame produced (test_all_errors_covered()). */
static bool errors_seen[DECODE_N_ERRORS];

/* Checks what decode_frame() promises for any frame. */
static void
check_invariants(const struct decoded *d, uint32_t caplen)
{
    uint32_t cap = caplen < 65535 ? caplen : 65535;

    assert_true(d->error < DECODE_N_ERRORS);
    assert_int_equal(d->caplen, caplen);
    assert_true(d->wire_len >= caplen);
    assert_true(d->l3 <= cap);
    assert_true(d->l4 <= cap);
    assert_true((uint32_t) d->l3 + d->l3_len <= cap);
    assert_true((uint32_t) d->payload + d->payload_len <= cap);
    assert_true(d->n_vlan <= VNM_MAX_VLAN_TAGS);
    assert_true(d->outer.n_vlan <= VNM_MAX_VLAN_TAGS);
}

/* Decodes the first 'caplen' bytes of 'fb' as a frame of 'wire' bytes, from
 * a heap copy of exactly 'caplen' bytes.  Returns the error. */
static enum decode_error
decode_part(const struct fb *fb, uint32_t caplen, uint32_t wire,
            struct decoded *d)
{
    uint8_t *copy = malloc(caplen ? caplen : 1);
    bool ok;

    assert_non_null(copy);
    assert_true(caplen <= fb->len);
    memcpy(copy, fb->buf, caplen);
    ok = decode_frame(copy, caplen, wire, d);
    free(copy);
    assert_int_equal(ok, d->error == DECODE_OK);
    check_invariants(d, caplen);
    errors_seen[d->error] = true;
    return d->error;
}

/* Decodes all of 'fb'. */
static enum decode_error
decode_fb(const struct fb *fb, struct decoded *d)
{
    return decode_part(fb, fb->len, fb->len, d);
}

/* Decodes all of 'fb' and checks that it gives 'error'. */
static void
expect_error(const struct fb *fb, enum decode_error error)
{
    struct decoded d;

    assert_string_equal(decode_error_name(decode_fb(fb, &d)),
                        decode_error_name(error));
}

static void
expect_format(const struct decoded *d, const char *expected)
{
    char buf[512];

    assert_string_equal(decode_format(d, buf, sizeof buf), expected);
}

static void
assert_addr(const struct vnm_addr *addr, const char *s)
{
    uint8_t a[16] = { 0 };

    if (strchr(s, ':')) {
        assert_int_equal(inet_pton(AF_INET6, s, a), 1);
        assert_int_equal(addr->family, 6);
    } else {
        assert_int_equal(inet_pton(AF_INET, s, a), 1);
        assert_int_equal(addr->family, 4);
    }
    assert_memory_equal(addr->a, a, sizeof a);
}

/* True if 'e' says that a header was cut short. */
static bool
is_truncation(enum decode_error e)
{
    switch (e) {
    case DECODE_OK:
    case DECODE_ETH_TRUNCATED:
    case DECODE_VLAN_TRUNCATED:
    case DECODE_ARP_TRUNCATED:
    case DECODE_IPV4_TRUNCATED:
    case DECODE_IPV6_TRUNCATED:
    case DECODE_IPV6_EXT_TRUNCATED:
    case DECODE_TCP_TRUNCATED:
    case DECODE_UDP_TRUNCATED:
    case DECODE_ICMP_TRUNCATED:
    case DECODE_ICMPV6_TRUNCATED:
    case DECODE_TUNNEL_TRUNCATED:
        return true;
    case DECODE_VLAN_TOO_MANY:
    case DECODE_ARP_BAD:
    case DECODE_IPV4_BAD_VERSION:
    case DECODE_IPV4_BAD_IHL:
    case DECODE_IPV4_BAD_LENGTH:
    case DECODE_IPV4_BAD_OPTIONS:
    case DECODE_IPV6_BAD_VERSION:
    case DECODE_IPV6_BAD_LENGTH:
    case DECODE_IPV6_EXT_TOO_MANY:
    case DECODE_FRAG_BAD:
    case DECODE_TCP_BAD_OFFSET:
    case DECODE_UDP_BAD_LENGTH:
    case DECODE_ND_BAD:
    case DECODE_DHCP_BAD:
    case DECODE_TUNNEL_BAD:
    case DECODE_TUNNEL_TOO_DEEP:
    case DECODE_N_ERRORS:
    default:
        return false;
    }
}

/* Decodes every prefix of the valid frame 'fb' as a snapped capture of it:
 * the result is never worse than a truncation, and formats fine. */
static void
check_every_snap(const struct fb *fb)
{
    for (uint32_t caplen = 0; caplen <= fb->len; caplen++) {
        struct decoded d;
        char buf[256];
        enum decode_error e = decode_part(fb, caplen, fb->len, &d);

        if (!is_truncation(e)) {
            fail_msg("caplen %u of %zu: %s", caplen, fb->len,
                     decode_error_name(e));
        }
        assert_true(strlen(decode_format(&d, buf, sizeof buf)) < sizeof buf);
        decode_part(fb, caplen, caplen, &d);
    }
}

/* ------------------------------------------------------------------ */
/* Frames used by several tests. */

/* 802.1Q vlan 10 | IPv4 10.0.0.11 > 10.0.0.12 | TCP 40000 > 80 [S]. */
static void
build_vlan_tcp(struct fb *fb)
{
    size_t ip;

    eth_macs(fb, MAC_A, MAC_B);
    vlan_tag(fb, 0x8100, 10);
    put16(fb, 0x0800);
    ip = ipv4(fb, 6, "10.0.0.11", "10.0.0.12");
    tcp(fb, 40000, 80, 0x02);
    ipv4_end(fb, ip);
}

/* IPv6 with hop-by-hop and destination options, TCP with 12 bytes of
 * options and 20 bytes of payload. */
static void
build_ipv6_tcp(struct fb *fb)
{
    size_t ip;

    eth(fb, 0x86dd);
    ip = ipv6(fb, 0, "2001:db8::1", "2001:db8::2");
    put8(fb, 60);                       /* HBH: next = dest opts. */
    put8(fb, 0);
    put8(fb, 1);                        /* PadN, 4 bytes. */
    put8(fb, 4);
    put_zeros(fb, 4);
    put8(fb, 6);                        /* Dest opts: next = TCP. */
    put8(fb, 0);
    put8(fb, 1);
    put8(fb, 4);
    put_zeros(fb, 4);
    tcp_opts(fb, 40000, 443, 0x18, 7, 9, 12);
    put(fb, "01234567890123456789", 20);
    ipv6_end(fb, ip);
}

/* IPv4 UDP 50000 > 4789, VXLAN 'vni', inner 'inner_ip' TCP 1234 > 80. */
static void
build_vxlan(struct fb *fb, uint32_t vni)
{
    size_t oip, oudp, ip;

    eth(fb, 0x0800);
    oip = ipv4(fb, 17, "192.168.0.1", "192.168.0.2");
    oudp = udp(fb, 50000, 4789);
    put8(fb, 0x08);                     /* Flags: I. */
    put_zeros(fb, 3);
    put32(fb, vni << 8);
    eth_macs(fb, MAC_C, MAC_D);
    put16(fb, 0x0800);
    ip = ipv4(fb, 6, "10.0.0.1", "10.0.0.2");
    tcp(fb, 1234, 80, 0x02);
    ipv4_end(fb, ip);
    udp_end(fb, oudp);
    ipv4_end(fb, oip);
}

/* A DHCP message of 'type' (op 1 from the client, 2 from the server). */
static void
build_dhcp(struct fb *fb, uint8_t type)
{
    bool client = type != 2 && type != 5 && type != 6;
    size_t ip, u, bootp;

    eth(fb, 0x0800);
    ip = ipv4(fb, 17, client ? "0.0.0.0" : "10.0.0.1",
              client ? "255.255.255.255" : "10.0.0.50");
    u = udp(fb, client ? 68 : 67, client ? 67 : 68);
    bootp = fb->len;
    put8(fb, client ? 1 : 2);           /* op. */
    put8(fb, 1);                        /* htype: Ethernet. */
    put8(fb, 6);                        /* hlen. */
    put8(fb, 0);                        /* hops. */
    put32(fb, 0xabcd1234);              /* xid. */
    put_zeros(fb, 20);                  /* secs .. giaddr. */
    put(fb, MAC_A, 6);                  /* chaddr. */
    put_zeros(fb, 10 + 64 + 128);       /* chaddr pad, sname, file. */
    assert_int_equal(fb->len - bootp, 236);
    put32(fb, 0x63825363);              /* Magic cookie. */
    put8(fb, 53);
    put8(fb, 1);
    put8(fb, type);
    put8(fb, 55);                       /* Parameter request list. */
    put8(fb, 3);
    put8(fb, 1);
    put8(fb, 3);
    put8(fb, 6);
    put8(fb, 0);                        /* Pad. */
    put8(fb, 255);                      /* End. */
    while (fb->len - bootp < 300) {
        put8(fb, 0);
    }
    udp_end(fb, u);
    ipv4_end(fb, ip);
}

/* An ICMPv6 ND message 'type' from fe80::1: the fixed part 'body' ('n'
 * bytes after type, code, checksum), then the options 'opts'. */
static void
build_nd(struct fb *fb, uint8_t type, uint8_t code, const uint8_t *body,
         size_t n, const uint8_t *opts, size_t optlen)
{
    size_t ip;

    eth(fb, 0x86dd);
    ip = ipv6(fb, 58, "fe80::1", "ff02::1:ff00:2");
    fb->buf[ip + 7] = 255;
    put8(fb, type);
    put8(fb, code);
    put16(fb, 0);
    put(fb, body, n);
    if (optlen) {
        put(fb, opts, optlen);
    }
    ipv6_end(fb, ip);
}

/* NS/NA/redirect body: 4 bytes of flags/reserved, then fe80::2. */
static void
nd_target_body(uint8_t body[20], uint8_t flags)
{
    memset(body, 0, 20);
    body[0] = flags;
    assert_int_equal(inet_pton(AF_INET6, "fe80::2", body + 4), 1);
}

/* ------------------------------------------------------------------ */
/* Ethernet and tags. */

static void
test_vlan_tcp_example(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;

    (void) state;
    build_vlan_tcp(&fb);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_memory_equal(d.src_mac, MAC_A, 6);
    assert_memory_equal(d.dst_mac, MAC_B, 6);
    assert_int_equal(d.n_vlan, 1);
    assert_int_equal(d.vlan[0].tpid, 0x8100);
    assert_int_equal(d.vlan[0].tci, 10);
    assert_int_equal(d.eth_type, 0x0800);
    assert_int_equal(d.l3, 18);
    assert_int_equal(d.ip_version, 4);
    assert_addr(&d.src_ip, "10.0.0.11");
    assert_addr(&d.dst_ip, "10.0.0.12");
    assert_int_equal(d.ip_proto, 6);
    assert_int_equal(d.ttl, 64);
    assert_int_equal(d.l3_len, 40);
    assert_false(d.is_fragment);
    assert_int_equal(d.l4, 38);
    assert_int_equal(d.src_port, 40000);
    assert_int_equal(d.dst_port, 80);
    assert_int_equal(d.tcp_flags, 0x02);
    assert_int_equal(d.tcp_seq, 1000);
    assert_int_equal(d.payload, 58);
    assert_int_equal(d.payload_len, 0);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_NONE);
    expect_format(&d, "802.1Q vlan 10 | IPv4 10.0.0.11 > 10.0.0.12 ttl 64 "
                  "| TCP 40000 > 80 [S]");

    /* Ethernet padding after the datagram is not part of it. */
    put_zeros(&fb, 6);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.l3_len, 40);
    assert_int_equal(d.payload_len, 0);
    check_every_snap(&fb);
}

static void
test_qinq(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip;

    (void) state;
    eth_macs(&fb, MAC_A, MAC_B);
    vlan_tag(&fb, 0x88a8, 100);
    vlan_tag(&fb, 0x8100, (3 << 13) | 10);
    put16(&fb, 0x0800);
    ip = ipv4(&fb, 17, "10.0.0.1", "10.0.0.2");
    udp(&fb, 5000, 53);
    put(&fb, "abcd", 4);
    udp_end(&fb, ip + 20);
    ipv4_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.n_vlan, 2);
    assert_int_equal(d.vlan[0].tpid, 0x88a8);
    assert_int_equal(d.vlan[0].tci, 100);
    assert_int_equal(d.vlan[1].tpid, 0x8100);
    assert_int_equal(d.vlan[1].tci, (3 << 13) | 10);
    assert_int_equal(d.l3, 22);
    assert_int_equal(d.payload_len, 4);
    expect_format(&d, "802.1ad vlan 100 | 802.1Q vlan 10 pcp 3 | IPv4 "
                  "10.0.0.1 > 10.0.0.2 ttl 64 | UDP 5000 > 53 len 4");
    check_every_snap(&fb);
}

static void
test_vlan_four_and_five_tags(void **state)
{
    static const uint16_t tpids[5] = {
        0x88a8, 0x9100, 0x8100, 0x8100, 0x8100
    };
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip;

    (void) state;
    eth_macs(&fb, MAC_A, MAC_B);
    for (int i = 0; i < 4; i++) {
        vlan_tag(&fb, tpids[i], 10 + i);
    }
    put16(&fb, 0x0800);
    ip = ipv4(&fb, 6, "10.0.0.1", "10.0.0.2");
    tcp(&fb, 1, 2, 0x10);
    ipv4_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.n_vlan, 4);
    assert_int_equal(d.vlan[1].tpid, 0x9100);
    assert_int_equal(d.vlan[3].tci, 13);
    assert_int_equal(d.l3, 14 + 16);
    expect_format(&d, "802.1ad vlan 10 | 0x9100 vlan 11 | 802.1Q vlan 12 | "
                  "802.1Q vlan 13 | IPv4 10.0.0.1 > 10.0.0.2 ttl 64 | "
                  "TCP 1 > 2 [.]");

    fb.len = 0;
    eth_macs(&fb, MAC_A, MAC_B);
    for (int i = 0; i < 5; i++) {
        vlan_tag(&fb, tpids[i], 10 + i);
    }
    put16(&fb, 0x0800);
    ip = ipv4(&fb, 6, "10.0.0.1", "10.0.0.2");
    tcp(&fb, 1, 2, 0x10);
    ipv4_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_VLAN_TOO_MANY);
    assert_int_equal(d.n_vlan, 4);
    assert_int_equal(d.vlan[3].tci, 13);
    assert_int_equal(d.ip_version, 0);
    assert_int_equal(d.l3, 0);
}

static void
test_vlan_truncated(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;

    (void) state;
    build_vlan_tcp(&fb);
    assert_int_equal(decode_part(&fb, 16, fb.len, &d),
                     DECODE_VLAN_TRUNCATED);
    assert_int_equal(d.n_vlan, 0);
    assert_memory_equal(d.src_mac, MAC_A, 6);
}

static void
test_eth(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;

    (void) state;
    eth(&fb, 0x88cc);                   /* LLDP: not decoded further. */
    put_zeros(&fb, 46);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.eth_type, 0x88cc);
    assert_int_equal(d.l3, 14);
    assert_int_equal(d.ip_version, 0);
    assert_int_equal(d.l4, 0);
    expect_format(&d, "Ethernet 02:00:00:00:01:01 > 02:00:00:00:01:02 "
                  "type 0x88cc");

    assert_int_equal(decode_part(&fb, 13, 60, &d), DECODE_ETH_TRUNCATED);
    expect_format(&d, "error eth_truncated");
    assert_int_equal(decode_part(&fb, 0, 0, &d), DECODE_ETH_TRUNCATED);
    assert_false(decode_frame(NULL, 0, 0, &d));
    assert_int_equal(d.error, DECODE_ETH_TRUNCATED);
    assert_int_equal(d.wire_len, 0);

    /* A wire length below the capture length is taken as the latter. */
    assert_true(decode_frame(fb.buf, fb.len, 10, &d));
    assert_int_equal(d.wire_len, fb.len);
}

/* ------------------------------------------------------------------ */
/* ARP. */

static void
build_arp(struct fb *fb, uint16_t op, const uint8_t *sha, const char *spa,
          const uint8_t *tha, const char *tpa)
{
    eth(fb, 0x0806);
    put16(fb, 1);
    put16(fb, 0x0800);
    put8(fb, 6);
    put8(fb, 4);
    put16(fb, op);
    put(fb, sha, 6);
    put_ip4(fb, spa);
    put(fb, tha, 6);
    put_ip4(fb, tpa);
}

static void
test_arp(void **state)
{
    static const uint8_t zero[6] = { 0 };
    struct fb fb = { .len = 0 };
    struct decoded d;

    (void) state;
    build_arp(&fb, 1, MAC_A, "10.0.0.11", zero, "10.0.0.12");
    put_zeros(&fb, 18);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.eth_type, 0x0806);
    assert_int_equal(d.l3, 14);
    assert_int_equal(d.arp.op, 1);
    assert_memory_equal(d.arp.sha, MAC_A, 6);
    assert_memory_equal(d.arp.spa, "\x0a\x00\x00\x0b", 4);
    assert_memory_equal(d.arp.tpa, "\x0a\x00\x00\x0c", 4);
    assert_int_equal(d.ip_version, 0);
    expect_format(&d, "ARP request who-has 10.0.0.12 tell 10.0.0.11");
    check_every_snap(&fb);

    fb.len = 0;
    build_arp(&fb, 2, MAC_B, "10.0.0.12", MAC_A, "10.0.0.11");
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.arp.op, 2);
    assert_memory_equal(d.arp.tha, MAC_A, 6);
    expect_format(&d, "ARP reply 10.0.0.12 is-at 02:00:00:00:01:02");

    assert_int_equal(decode_part(&fb, 14 + 20, fb.len, &d),
                     DECODE_ARP_TRUNCATED);
    assert_int_equal(decode_part(&fb, 14 + 4, 14 + 4, &d),
                     DECODE_ARP_TRUNCATED);

    fb.buf[14 + 4] = 8;                 /* Hardware address length. */
    expect_error(&fb, DECODE_ARP_BAD);
    fb.buf[14 + 4] = 6;
    set16(&fb, 14 + 2, 0x86dd);         /* Protocol type. */
    expect_error(&fb, DECODE_ARP_BAD);
    set16(&fb, 14 + 2, 0x0800);
    set16(&fb, 14, 6);                  /* Hardware type: IEEE 802. */
    expect_error(&fb, DECODE_ARP_BAD);
}

/* ------------------------------------------------------------------ */
/* IPv4. */

static void
test_ipv4_options(void **state)
{
    /* NOP, router alert, record route (pointer 4, one slot), EOL. */
    static const uint8_t good[16] = {
        1, 148, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0
    };
    struct fb fb = { .len = 0 };
    struct decoded d;
    uint8_t opts[16];
    size_t ip, u;

    (void) state;
    eth(&fb, 0x0800);
    ip = ipv4_full(&fb, 17, "10.0.0.1", "224.0.0.22", good, sizeof good, 0);
    u = udp(&fb, 1000, 2000);
    udp_end(&fb, u);
    ipv4_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_true(d.has_ip_options);
    assert_int_equal(d.l4, 14 + 36);
    assert_int_equal(d.l3_len, 44);
    assert_int_equal(d.dst_port, 2000);
    expect_format(&d, "IPv4 10.0.0.1 > 224.0.0.22 ttl 64 options | "
                  "UDP 1000 > 2000");
    check_every_snap(&fb);

    /* The options are cut by the snap length. */
    assert_int_equal(decode_part(&fb, 14 + 30, fb.len, &d),
                     DECODE_IPV4_TRUNCATED);
    assert_addr(&d.src_ip, "10.0.0.1");

    /* An option whose length is below 2. */
    memcpy(opts, good, sizeof opts);
    opts[2] = 1;
    memcpy(fb.buf + 14 + 20, opts, sizeof opts);
    expect_error(&fb, DECODE_IPV4_BAD_OPTIONS);

    /* An option running past the header. */
    memcpy(opts, good, sizeof opts);
    opts[6] = 40;
    memcpy(fb.buf + 14 + 20, opts, sizeof opts);
    expect_error(&fb, DECODE_IPV4_BAD_OPTIONS);

    /* Record route with a pointer below 4. */
    memcpy(opts, good, sizeof opts);
    opts[7] = 3;
    memcpy(fb.buf + 14 + 20, opts, sizeof opts);
    expect_error(&fb, DECODE_IPV4_BAD_OPTIONS);

    /* A router alert of the wrong size, and a type with no length byte. */
    memcpy(opts, good, sizeof opts);
    opts[2] = 5;
    memcpy(fb.buf + 14 + 20, opts, sizeof opts);
    expect_error(&fb, DECODE_IPV4_BAD_OPTIONS);
    memset(opts, 1, sizeof opts);
    opts[15] = 68;
    memcpy(fb.buf + 14 + 20, opts, sizeof opts);
    expect_error(&fb, DECODE_IPV4_BAD_OPTIONS);

    /* Bad timestamp option, and finally only NOPs: fine. */
    memset(opts, 1, sizeof opts);
    memcpy(opts, "\x44\x08\x04\x00", 4);
    memcpy(fb.buf + 14 + 20, opts, sizeof opts);
    expect_error(&fb, DECODE_IPV4_BAD_OPTIONS);
    memset(opts, 1, sizeof opts);
    memcpy(fb.buf + 14 + 20, opts, sizeof opts);
    expect_error(&fb, DECODE_OK);
}

static void
test_ipv4_errors(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip;

    (void) state;
    eth(&fb, 0x0800);
    ip = ipv4(&fb, 6, "10.0.0.1", "10.0.0.2");
    tcp(&fb, 1, 2, 0x02);
    ipv4_end(&fb, ip);

    assert_int_equal(decode_part(&fb, 14 + 19, fb.len, &d),
                     DECODE_IPV4_TRUNCATED);
    assert_int_equal(d.l3, 14);
    assert_int_equal(d.ip_version, 0);

    fb.buf[ip] = 0x65;                  /* Version 6 in an IPv4 frame. */
    expect_error(&fb, DECODE_IPV4_BAD_VERSION);
    fb.buf[ip] = 0x44;                  /* IHL 16 bytes. */
    expect_error(&fb, DECODE_IPV4_BAD_IHL);
    assert_int_equal(decode_fb(&fb, &d), DECODE_IPV4_BAD_IHL);
    assert_addr(&d.src_ip, "10.0.0.1");   /* What was there is kept. */
    expect_format(&d, "IPv4 10.0.0.1 > 10.0.0.2 ttl 64 | "
                  "error ipv4_bad_ihl");
    fb.buf[ip] = 0x4f;                  /* IHL 60 bytes, past the frame. */
    expect_error(&fb, DECODE_IPV4_BAD_IHL);
    fb.buf[ip] = 0x45;

    set16(&fb, ip + 2, 19);             /* Total length below the header. */
    expect_error(&fb, DECODE_IPV4_BAD_LENGTH);
    set16(&fb, ip + 2, 1000);           /* Past the frame... */
    expect_error(&fb, DECODE_IPV4_BAD_LENGTH);
    /* ... unless the frame was snapped. */
    assert_int_equal(decode_part(&fb, fb.len, 1014, &d), DECODE_OK);
    assert_int_equal(d.l3_len, 40);
    assert_int_equal(d.dst_port, 2);
}

static void
test_ipv4_snapped(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip, u;

    (void) state;
    eth(&fb, 0x0800);
    ip = ipv4(&fb, 17, "10.0.0.1", "10.0.0.2");
    u = udp(&fb, 4000, 5000);
    for (int i = 0; i < 1000; i++) {
        put8(&fb, i);
    }
    udp_end(&fb, u);
    ipv4_end(&fb, ip);

    assert_int_equal(decode_part(&fb, 100, fb.len, &d), DECODE_OK);
    assert_int_equal(d.caplen, 100);
    assert_int_equal(d.wire_len, fb.len);
    assert_int_equal(d.l3_len, 86);
    assert_int_equal(d.src_port, 4000);
    assert_int_equal(d.payload, 42);
    assert_int_equal(d.payload_len, 58);
    expect_format(&d, "IPv4 10.0.0.1 > 10.0.0.2 ttl 64 | UDP 4000 > 5000 "
                  "len 58");

    /* The same bytes as a complete frame are malformed. */
    assert_int_equal(decode_part(&fb, 100, 100, &d), DECODE_IPV4_BAD_LENGTH);
}

static void
test_ipv4_fragments(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip, u;

    (void) state;
    /* First fragment: UDP header says 2008 bytes, 1480 are here. */
    eth(&fb, 0x0800);
    ip = ipv4_full(&fb, 17, "10.0.0.1", "10.0.0.2", NULL, 0, 0x2000);
    u = udp(&fb, 4000, 5000);
    put_zeros(&fb, 1472);
    set16(&fb, u + 4, 2008);
    ipv4_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_true(d.is_fragment);
    assert_true(d.more_fragments);
    assert_false(d.is_later_fragment);
    assert_int_equal(d.frag_offset, 0);
    assert_int_equal(d.frag_id, 0x1234);
    assert_int_equal(d.l4, 34);
    assert_int_equal(d.dst_port, 5000);
    assert_int_equal(d.payload_len, 1472);
    expect_format(&d, "IPv4 10.0.0.1 > 10.0.0.2 ttl 64 frag id 4660 off 0+ "
                  "| UDP 4000 > 5000 len 1472");
    check_every_snap(&fb);

    /* The last fragment: no L4 header. */
    fb.len = 0;
    eth(&fb, 0x0800);
    ip = ipv4_full(&fb, 17, "10.0.0.1", "10.0.0.2", NULL, 0, 1480 / 8);
    put_zeros(&fb, 528);
    ipv4_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_true(d.is_fragment);
    assert_true(d.is_later_fragment);
    assert_false(d.more_fragments);
    assert_int_equal(d.frag_offset, 1480);
    assert_int_equal(d.ip_proto, 17);
    assert_int_equal(d.l4, 0);
    assert_int_equal(d.src_port, 0);
    assert_int_equal(d.payload, 34);
    assert_int_equal(d.payload_len, 528);
    assert_int_equal(d.l3_len, 548);
    expect_format(&d, "IPv4 10.0.0.1 > 10.0.0.2 ttl 64 frag id 4660 "
                  "off 1480 | proto 17");

    /* A middle fragment whose size is not a multiple of 8. */
    fb.len = 0;
    eth(&fb, 0x0800);
    ip = ipv4_full(&fb, 17, "10.0.0.1", "10.0.0.2", NULL, 0,
                   0x2000 | (1480 / 8));
    put_zeros(&fb, 13);
    ipv4_end(&fb, ip);
    expect_error(&fb, DECODE_FRAG_BAD);

    /* A fragment that ends past 65535 bytes. */
    fb.len = 0;
    eth(&fb, 0x0800);
    ip = ipv4_full(&fb, 17, "10.0.0.1", "10.0.0.2", NULL, 0, 8189);
    put_zeros(&fb, 100);
    ipv4_end(&fb, ip);
    expect_error(&fb, DECODE_FRAG_BAD);
}

/* ------------------------------------------------------------------ */
/* IPv6. */

static void
test_ipv6_tcp(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;

    (void) state;
    build_ipv6_tcp(&fb);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.eth_type, 0x86dd);
    assert_int_equal(d.ip_version, 6);
    assert_addr(&d.src_ip, "2001:db8::1");
    assert_addr(&d.dst_ip, "2001:db8::2");
    assert_int_equal(d.ip_proto, 6);
    assert_int_equal(d.n_ext_headers, 2);
    assert_int_equal(d.ttl, 64);
    assert_int_equal(d.l3_len, 40 + 16 + 32 + 20);
    assert_int_equal(d.l4, 14 + 56);
    assert_int_equal(d.tcp_flags, 0x18);
    assert_int_equal(d.tcp_seq, 7);
    assert_int_equal(d.tcp_ack, 9);
    assert_int_equal(d.payload, 14 + 56 + 32);
    assert_int_equal(d.payload_len, 20);
    expect_format(&d, "IPv6 2001:db8::1 > 2001:db8::2 hlim 64 ext 2 | "
                  "TCP 40000 > 443 [P.] len 20");
}

/* Every truncation point of build_ipv6_tcp(), both as a snapped capture
 * and as a frame that really is that short. */
static void
test_ipv6_tcp_every_truncation(void **state)
{
    struct fb fb = { .len = 0 };

    (void) state;
    build_ipv6_tcp(&fb);
    for (uint32_t caplen = 0; caplen <= fb.len; caplen++) {
        enum decode_error snapped, shortened;
        struct decoded d;

        if (caplen < 14) {
            snapped = shortened = DECODE_ETH_TRUNCATED;
        } else if (caplen < 54) {
            snapped = shortened = DECODE_IPV6_TRUNCATED;
        } else if (caplen < 70) {
            snapped = DECODE_IPV6_EXT_TRUNCATED;
            shortened = DECODE_IPV6_BAD_LENGTH;
        } else if (caplen < 102) {
            snapped = DECODE_TCP_TRUNCATED;
            shortened = DECODE_IPV6_BAD_LENGTH;
        } else {
            snapped = DECODE_OK;
            shortened = (caplen == fb.len ? DECODE_OK
                         : DECODE_IPV6_BAD_LENGTH);
        }
        assert_string_equal(
            decode_error_name(decode_part(&fb, caplen, fb.len, &d)),
            decode_error_name(snapped));
        if (caplen >= 54) {
            assert_int_equal(d.l3_len, caplen - 14);
            assert_addr(&d.dst_ip, "2001:db8::2");
        }
        if (caplen >= 102) {
            assert_int_equal(d.payload_len, caplen - 102);
        }
        assert_string_equal(
            decode_error_name(decode_part(&fb, caplen, caplen, &d)),
            decode_error_name(shortened));
    }
}

static void
test_ipv6_ext_chain(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip, u;

    (void) state;
    eth(&fb, 0x86dd);
    ip = ipv6(&fb, 0, "2001:db8::1", "2001:db8::2");
    put8(&fb, 43);                      /* HBH, next: routing. */
    put8(&fb, 0);
    put8(&fb, 5);                       /* Router alert. */
    put8(&fb, 2);
    put16(&fb, 0);
    put8(&fb, 1);                       /* PadN. */
    put8(&fb, 0);
    put8(&fb, 60);                      /* Routing, next: dest opts. */
    put8(&fb, 2);                       /* 24 bytes. */
    put8(&fb, 0);                       /* Type 0... */
    put8(&fb, 0);                       /* ...segments left 0. */
    put_zeros(&fb, 4);
    put_ip6(&fb, "2001:db8::3");
    put8(&fb, 44);                      /* Dest opts, next: fragment. */
    put8(&fb, 1);                       /* 16 bytes. */
    put8(&fb, 1);
    put8(&fb, 12);
    put_zeros(&fb, 12);
    put8(&fb, 17);                      /* Fragment, next: UDP. */
    put8(&fb, 0);
    put16(&fb, 0x0001);                 /* Offset 0, M. */
    put32(&fb, 0xdeadbeef);
    u = udp(&fb, 5000, 5001);
    put_zeros(&fb, 1000);
    set16(&fb, u + 4, 3000);
    ipv6_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.n_ext_headers, 4);
    assert_int_equal(d.ip_proto, 17);
    assert_true(d.is_fragment);
    assert_true(d.more_fragments);
    assert_false(d.is_later_fragment);
    assert_int_equal(d.frag_id, 0xdeadbeef);
    assert_int_equal(d.l4, 14 + 40 + 8 + 24 + 16 + 8);
    assert_int_equal(d.src_port, 5000);
    assert_int_equal(d.payload_len, 1000);
    expect_format(&d, "IPv6 2001:db8::1 > 2001:db8::2 hlim 64 "
                  "frag id 3735928559 off 0+ ext 4 | UDP 5000 > 5001 "
                  "len 1000");
    check_every_snap(&fb);

    /* The chain cut by the payload length. */
    set16(&fb, ip + 4, 8 + 10);
    assert_int_equal(decode_part(&fb, 14 + 40 + 18, 14 + 40 + 18, &d),
                     DECODE_IPV6_EXT_TRUNCATED);
    assert_int_equal(d.n_ext_headers, 1);
}

static void
test_ipv6_fragments(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip;

    (void) state;
    eth(&fb, 0x86dd);
    ip = ipv6(&fb, 44, "2001:db8::1", "2001:db8::2");
    put8(&fb, 6);                       /* Next: TCP. */
    put8(&fb, 0);
    put16(&fb, 1448);                   /* Offset 1448, last. */
    put32(&fb, 77);
    put_zeros(&fb, 100);
    ipv6_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_true(d.is_fragment);
    assert_true(d.is_later_fragment);
    assert_false(d.more_fragments);
    assert_int_equal(d.frag_offset, 1448);
    assert_int_equal(d.frag_id, 77);
    assert_int_equal(d.ip_proto, 6);
    assert_int_equal(d.n_ext_headers, 1);
    assert_int_equal(d.l4, 0);
    assert_int_equal(d.payload, 14 + 48);
    assert_int_equal(d.payload_len, 100);
    expect_format(&d, "IPv6 2001:db8::1 > 2001:db8::2 hlim 64 "
                  "frag id 77 off 1448 ext 1 | proto 6");

    /* M set, but 100 bytes is not a multiple of 8. */
    set16(&fb, ip + 42, 1448 | 1);
    expect_error(&fb, DECODE_FRAG_BAD);
    /* Past 65535 bytes. */
    set16(&fb, ip + 42, 65528);
    expect_error(&fb, DECODE_FRAG_BAD);
    /* An atomic fragment (offset 0, no M) is a whole datagram: here a TCP
     * header of zeros. */
    set16(&fb, ip + 42, 0);
    assert_int_equal(decode_fb(&fb, &d), DECODE_TCP_BAD_OFFSET);
    assert_false(d.is_fragment);
    assert_int_equal(d.l4, 14 + 48);
}

static void
test_ipv6_ah_esp_none(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip;

    (void) state;
    eth(&fb, 0x86dd);
    ip = ipv6(&fb, 51, "2001:db8::1", "2001:db8::2");
    put8(&fb, 6);                       /* AH, next: TCP. */
    put8(&fb, 4);                       /* (4 + 2) * 4 = 24 bytes. */
    put16(&fb, 0);
    put32(&fb, 0x100);                  /* SPI. */
    put32(&fb, 1);                      /* Sequence. */
    put_zeros(&fb, 12);                 /* ICV. */
    tcp(&fb, 22, 50000, 0x11);
    ipv6_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.n_ext_headers, 1);
    assert_int_equal(d.ip_proto, 6);
    assert_int_equal(d.l4, 14 + 40 + 24);
    assert_int_equal(d.tcp_flags, 0x11);
    check_every_snap(&fb);

    /* ESP ends the chain. */
    fb.len = 0;
    eth(&fb, 0x86dd);
    ip = ipv6(&fb, 60, "2001:db8::1", "2001:db8::2");
    put8(&fb, 50);
    put8(&fb, 0);
    put_zeros(&fb, 6);
    put32(&fb, 0x100);
    put_zeros(&fb, 60);
    ipv6_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.ip_proto, 50);
    assert_int_equal(d.n_ext_headers, 1);
    assert_int_equal(d.l4, 14 + 48);
    assert_int_equal(d.payload_len, 64);
    expect_format(&d, "IPv6 2001:db8::1 > 2001:db8::2 hlim 64 ext 1 | "
                  "proto 50");

    /* So does No Next Header. */
    fb.buf[14 + 40] = 59;
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.ip_proto, 59);
    assert_int_equal(d.l4, 0);
}

static void
test_ipv6_errors(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip;

    (void) state;
    eth(&fb, 0x86dd);
    ip = ipv6(&fb, 17, "2001:db8::1", "2001:db8::2");
    udp_end(&fb, udp(&fb, 1, 2));
    ipv6_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);

    assert_int_equal(decode_part(&fb, 14 + 39, fb.len, &d),
                     DECODE_IPV6_TRUNCATED);
    fb.buf[ip] = 0x45;
    expect_error(&fb, DECODE_IPV6_BAD_VERSION);
    fb.buf[ip] = 0x60;
    set16(&fb, ip + 4, 9);
    expect_error(&fb, DECODE_IPV6_BAD_LENGTH);
    assert_int_equal(decode_fb(&fb, &d), DECODE_IPV6_BAD_LENGTH);
    assert_addr(&d.src_ip, "2001:db8::1");

    /* A hop-by-hop header claiming 32 bytes in a 16-byte payload. */
    fb.len = 0;
    eth(&fb, 0x86dd);
    ip = ipv6(&fb, 0, "2001:db8::1", "2001:db8::2");
    put8(&fb, 59);
    put8(&fb, 3);
    put_zeros(&fb, 14);
    ipv6_end(&fb, ip);
    expect_error(&fb, DECODE_IPV6_EXT_TRUNCATED);

    /* Nine destination option headers. */
    fb.len = 0;
    eth(&fb, 0x86dd);
    ip = ipv6(&fb, 60, "2001:db8::1", "2001:db8::2");
    for (int i = 0; i < 9; i++) {
        put8(&fb, 60);
        put8(&fb, 0);
        put8(&fb, 1);
        put8(&fb, 4);
        put_zeros(&fb, 4);
    }
    ipv6_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_IPV6_EXT_TOO_MANY);
    assert_int_equal(d.n_ext_headers, 8);

    /* Eight are fine (then No Next Header). */
    fb.buf[14 + 40 + 7 * 8] = 59;
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.n_ext_headers, 8);
}

/* ------------------------------------------------------------------ */
/* TCP, UDP, ICMP. */

static void
test_tcp(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip, t;

    (void) state;
    eth(&fb, 0x0800);
    ip = ipv4(&fb, 6, "10.0.0.2", "10.0.0.1");
    t = tcp_opts(&fb, 80, 40000, 0x12, 0x11223344, 0x55667788, 12);
    put(&fb, "hello", 5);
    ipv4_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.tcp_flags, 0x12);
    assert_int_equal(d.tcp_seq, 0x11223344);
    assert_int_equal(d.tcp_ack, 0x55667788);
    assert_int_equal(d.payload, t + 32);
    assert_int_equal(d.payload_len, 5);
    expect_format(&d, "IPv4 10.0.0.2 > 10.0.0.1 ttl 64 | TCP 80 > 40000 "
                  "[S.] len 5");
    check_every_snap(&fb);

    fb.buf[t + 13] = 0xff;
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    expect_format(&d, "IPv4 10.0.0.2 > 10.0.0.1 ttl 64 | TCP 80 > 40000 "
                  "[FSRP.UEW] len 5");
    fb.buf[t + 13] = 0;
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    expect_format(&d, "IPv4 10.0.0.2 > 10.0.0.1 ttl 64 | TCP 80 > 40000 "
                  "[none] len 5");

    /* Header cut by the snap length: before and within the options. */
    assert_int_equal(decode_part(&fb, t + 10, fb.len, &d),
                     DECODE_TCP_TRUNCATED);
    assert_int_equal(d.l4, 0);
    assert_int_equal(decode_part(&fb, t + 24, fb.len, &d),
                     DECODE_TCP_TRUNCATED);
    assert_int_equal(d.src_port, 80);

    /* Data offsets below 5 words, and past the segment. */
    fb.buf[t + 12] = 4 << 4;
    expect_error(&fb, DECODE_TCP_BAD_OFFSET);
    fb.buf[t + 12] = 10 << 4;
    expect_error(&fb, DECODE_TCP_BAD_OFFSET);
    fb.buf[t + 12] = 8 << 4;

    /* A segment shorter than a TCP header. */
    fb.len = t + 10;
    ipv4_end(&fb, ip);
    expect_error(&fb, DECODE_TCP_TRUNCATED);
}

static void
test_udp(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip, u;

    (void) state;
    eth(&fb, 0x0800);
    ip = ipv4(&fb, 17, "10.0.0.1", "10.0.0.2");
    u = udp(&fb, 5353, 5353);
    put_zeros(&fb, 10);
    udp_end(&fb, u);
    ipv4_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.payload_len, 10);

    /* A UDP length shorter than the IP payload bounds the payload. */
    set16(&fb, u + 4, 12);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.payload_len, 4);

    set16(&fb, u + 4, 7);
    expect_error(&fb, DECODE_UDP_BAD_LENGTH);
    set16(&fb, u + 4, 19);
    expect_error(&fb, DECODE_UDP_BAD_LENGTH);
    assert_int_equal(decode_fb(&fb, &d), DECODE_UDP_BAD_LENGTH);
    assert_int_equal(d.src_port, 5353);
    expect_format(&d, "IPv4 10.0.0.1 > 10.0.0.2 ttl 64 | UDP 5353 > 5353 | "
                  "error udp_bad_length");
    set16(&fb, u + 4, 18);

    assert_int_equal(decode_part(&fb, u + 7, fb.len, &d),
                     DECODE_UDP_TRUNCATED);
    fb.len = u + 4;
    ipv4_end(&fb, ip);
    expect_error(&fb, DECODE_UDP_TRUNCATED);
}

static void
test_icmp(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip;

    (void) state;
    eth(&fb, 0x0800);
    ip = ipv4(&fb, 1, "10.0.0.1", "10.0.0.2");
    put8(&fb, 8);
    put8(&fb, 0);
    put16(&fb, 0);
    put16(&fb, 1234);                   /* Identifier. */
    put16(&fb, 1);                      /* Sequence. */
    put_zeros(&fb, 56);
    ipv4_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.ip_proto, 1);
    assert_int_equal(d.icmp_type, 8);
    assert_int_equal(d.src_port, 1234);
    assert_int_equal(d.dst_port, 1234);
    assert_int_equal(d.l4, 34);
    assert_int_equal(d.payload, 42);
    assert_int_equal(d.payload_len, 56);
    expect_format(&d, "IPv4 10.0.0.1 > 10.0.0.2 ttl 64 | "
                  "ICMP echo request id 1234");
    check_every_snap(&fb);

    fb.buf[34] = 0;
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    expect_format(&d, "IPv4 10.0.0.1 > 10.0.0.2 ttl 64 | "
                  "ICMP echo reply id 1234");
    fb.buf[34] = 3;
    fb.buf[35] = 3;
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.src_port, 0);
    expect_format(&d, "IPv4 10.0.0.1 > 10.0.0.2 ttl 64 | "
                  "ICMP unreachable code 3");
    fb.buf[34] = 42;
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    expect_format(&d, "IPv4 10.0.0.1 > 10.0.0.2 ttl 64 | "
                  "ICMP type 42 code 3");

    fb.len = 34 + 4;
    ipv4_end(&fb, ip);
    expect_error(&fb, DECODE_ICMP_TRUNCATED);
}

/* ------------------------------------------------------------------ */
/* ICMPv6 and Neighbor Discovery. */

static void
test_icmpv6_echo(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip;

    (void) state;
    eth(&fb, 0x86dd);
    ip = ipv6(&fb, 58, "2001:db8::1", "2001:db8::2");
    put8(&fb, 128);
    put8(&fb, 0);
    put16(&fb, 0);
    put16(&fb, 99);
    put16(&fb, 1);
    put_zeros(&fb, 8);
    ipv6_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.icmp_type, 128);
    assert_int_equal(d.src_port, 99);
    assert_int_equal(d.dst_port, 99);
    assert_int_equal(d.payload_len, 8);
    expect_format(&d, "IPv6 2001:db8::1 > 2001:db8::2 hlim 64 | "
                  "ICMPv6 echo request id 99");
    check_every_snap(&fb);

    fb.buf[54] = 1;                     /* Destination unreachable. */
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.src_port, 0);
    expect_format(&d, "IPv6 2001:db8::1 > 2001:db8::2 hlim 64 | "
                  "ICMPv6 type 1 code 0");

    fb.buf[54] = 129;
    fb.len = 54 + 6;
    ipv6_end(&fb, ip);
    expect_error(&fb, DECODE_ICMPV6_TRUNCATED);
    fb.len = 54 + 2;
    ipv6_end(&fb, ip);
    expect_error(&fb, DECODE_ICMPV6_TRUNCATED);
}

static void
test_nd_ns_na(void **state)
{
    uint8_t body[20], opt[8] = { 1, 1 };
    struct fb fb = { .len = 0 };
    struct decoded d;

    (void) state;
    memcpy(opt + 2, MAC_A, 6);
    nd_target_body(body, 0);
    build_nd(&fb, 135, 0, body, sizeof body, opt, sizeof opt);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.icmp_type, 135);
    assert_int_equal(d.ttl, 255);
    assert_memory_equal(d.nd.target, body + 4, 16);
    assert_true(d.nd.has_sll);
    assert_false(d.nd.has_tll);
    assert_memory_equal(d.nd.sll, MAC_A, 6);
    assert_int_equal(d.payload, 14 + 40 + 24);
    expect_format(&d, "IPv6 fe80::1 > ff02::1:ff00:2 hlim 255 | ICMPv6 "
                  "neighbor solicitation who-has fe80::2 "
                  "sll 02:00:00:00:01:01");
    check_every_snap(&fb);

    /* The fixed part cut by the snap length, and really too short. */
    assert_int_equal(decode_part(&fb, 14 + 40 + 20, fb.len, &d),
                     DECODE_ICMPV6_TRUNCATED);
    fb.len = 0;
    build_nd(&fb, 135, 0, body, 16, NULL, 0);
    expect_error(&fb, DECODE_ND_BAD);

    fb.len = 0;
    opt[0] = 2;
    memcpy(opt + 2, MAC_B, 6);
    nd_target_body(body, 0x60);
    build_nd(&fb, 136, 0, body, sizeof body, opt, sizeof opt);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.nd.flags, 0x60);
    assert_true(d.nd.has_tll);
    assert_memory_equal(d.nd.tll, MAC_B, 6);
    expect_format(&d, "IPv6 fe80::1 > ff02::1:ff00:2 hlim 255 | ICMPv6 "
                  "neighbor advertisement fe80::2 flags [SO] "
                  "tll 02:00:00:00:01:02");
    check_every_snap(&fb);
}

static void
test_nd_ra_rs_redirect(void **state)
{
    uint8_t body[36], opts[8 + 32 + 8];
    struct fb fb = { .len = 0 };
    struct decoded d;

    (void) state;
    /* RA: hop limit 64, M, lifetime 1800; SLL, prefix, MTU. */
    memset(body, 0, sizeof body);
    body[0] = 64;
    body[1] = 0x80;
    body[2] = 1800 >> 8;
    body[3] = 1800 & 0xff;
    memset(opts, 0, sizeof opts);
    opts[0] = 1;
    opts[1] = 1;
    memcpy(opts + 2, MAC_C, 6);
    opts[8] = 3;
    opts[9] = 4;
    opts[10] = 64;                      /* Prefix length. */
    opts[11] = 0xc0;                    /* L, A. */
    assert_int_equal(inet_pton(AF_INET6, "2001:db8:1::", opts + 8 + 16), 1);
    opts[40] = 5;
    opts[41] = 1;
    build_nd(&fb, 134, 0, body, 12, opts, sizeof opts);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.icmp_type, 134);
    assert_int_equal(d.nd.router_lifetime, 1800);
    assert_int_equal(d.nd.flags, 0x80);
    assert_int_equal(d.nd.n_prefixes, 1);
    assert_true(d.nd.has_sll);
    assert_memory_equal(d.nd.sll, MAC_C, 6);
    expect_format(&d, "IPv6 fe80::1 > ff02::1:ff00:2 hlim 255 | ICMPv6 "
                  "router advertisement lifetime 1800 flags [M] "
                  "prefixes 1 sll 02:00:00:00:02:01");
    check_every_snap(&fb);

    /* A prefix option of the wrong size. */
    opts[9] = 3;
    fb.len = 0;
    build_nd(&fb, 134, 0, body, 12, opts, 8 + 24);
    expect_error(&fb, DECODE_ND_BAD);

    /* RS with SLL. */
    fb.len = 0;
    build_nd(&fb, 133, 0, body, 4, opts, 8);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_true(d.nd.has_sll);
    expect_format(&d, "IPv6 fe80::1 > ff02::1:ff00:2 hlim 255 | ICMPv6 "
                  "router solicitation sll 02:00:00:00:02:01");

    /* Redirect: target fe80::2, destination 2001:db8::9, TLL. */
    nd_target_body(body, 0);
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::9", body + 20), 1);
    opts[0] = 2;
    fb.len = 0;
    build_nd(&fb, 137, 0, body, 36, opts, 8);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_memory_equal(d.nd.target, body + 4, 16);
    assert_true(d.nd.has_tll);
    assert_int_equal(d.payload, 14 + 40 + 40);
    expect_format(&d, "IPv6 fe80::1 > ff02::1:ff00:2 hlim 255 | ICMPv6 "
                  "redirect fe80::2 tll 02:00:00:00:02:01");
    check_every_snap(&fb);
}

static void
test_nd_bad(void **state)
{
    uint8_t body[20], opts[16] = { 1, 1, 2, 0, 0, 0, 0, 0, 14, 1 };
    struct fb fb = { .len = 0 };
    struct decoded d;

    (void) state;
    nd_target_body(body, 0);

    /* An option of length 0, after a good one. */
    opts[9] = 0;
    build_nd(&fb, 135, 0, body, sizeof body, opts, sizeof opts);
    assert_int_equal(decode_fb(&fb, &d), DECODE_ND_BAD);
    assert_true(d.nd.has_sll);
    expect_format(&d, "IPv6 fe80::1 > ff02::1:ff00:2 hlim 255 | ICMPv6 "
                  "neighbor solicitation who-has fe80::2 "
                  "sll 02:00:00:00:00:00 | error nd_bad");

    /* An option running past the message... */
    opts[9] = 2;
    fb.len = 0;
    build_nd(&fb, 135, 0, body, sizeof body, opts, sizeof opts);
    expect_error(&fb, DECODE_ND_BAD);
    /* ...but not an option cut by the snap length. */
    opts[9] = 1;
    fb.len = 0;
    build_nd(&fb, 135, 0, body, sizeof body, opts, sizeof opts);
    assert_int_equal(decode_part(&fb, fb.len - 4, fb.len, &d), DECODE_OK);
    assert_true(d.nd.has_sll);

    /* A lone byte after the last option. */
    fb.len = 0;
    build_nd(&fb, 135, 0, body, sizeof body, opts, 9);
    expect_error(&fb, DECODE_ND_BAD);

    /* A non-zero code. */
    fb.len = 0;
    build_nd(&fb, 136, 1, body, sizeof body, NULL, 0);
    expect_error(&fb, DECODE_ND_BAD);
}

/* ------------------------------------------------------------------ */
/* DHCP and DHCPv6. */

static void
test_dhcp(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;

    (void) state;
    build_dhcp(&fb, 1);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.dhcp_msg_type, 1);
    assert_false(d.is_dhcpv6);
    expect_format(&d, "IPv4 0.0.0.0 > 255.255.255.255 ttl 64 | UDP 68 > 67 "
                  "len 300 | DHCP DISCOVER");
    check_every_snap(&fb);

    /* Snapped inside the options, after option 53. */
    assert_int_equal(decode_part(&fb, 42 + 245, fb.len, &d), DECODE_OK);
    assert_int_equal(d.dhcp_msg_type, 1);

    fb.len = 0;
    build_dhcp(&fb, 2);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.dhcp_msg_type, 2);
    expect_format(&d, "IPv4 10.0.0.1 > 10.0.0.50 ttl 64 | UDP 67 > 68 "
                  "len 300 | DHCP OFFER");
}

static void
test_dhcp_bad(void **state)
{
    const size_t bootp = 14 + 20 + 8;
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip, u;

    (void) state;
    build_dhcp(&fb, 3);
    fb.buf[bootp + 236] = 0x64;         /* Magic cookie. */
    expect_error(&fb, DECODE_DHCP_BAD);

    fb.len = 0;
    build_dhcp(&fb, 3);
    fb.buf[bootp] = 3;                  /* op. */
    expect_error(&fb, DECODE_DHCP_BAD);

    fb.len = 0;
    build_dhcp(&fb, 3);
    fb.buf[bootp + 241] = 2;            /* Option 53 of 2 bytes. */
    expect_error(&fb, DECODE_DHCP_BAD);
    fb.buf[bootp + 241] = 1;
    fb.buf[bootp + 242] = 0;            /* Message type 0... */
    expect_error(&fb, DECODE_DHCP_BAD);
    fb.buf[bootp + 242] = 19;           /* ...or 19. */
    expect_error(&fb, DECODE_DHCP_BAD);
    fb.buf[bootp + 242] = 3;
    fb.buf[bootp + 244] = 200;          /* Option 55 past the message. */
    expect_error(&fb, DECODE_DHCP_BAD);

    /* Shorter than a BOOTP header + cookie. */
    fb.len = 0;
    eth(&fb, 0x0800);
    ip = ipv4(&fb, 17, "0.0.0.0", "255.255.255.255");
    u = udp(&fb, 68, 67);
    put8(&fb, 1);
    put_zeros(&fb, 99);
    udp_end(&fb, u);
    ipv4_end(&fb, ip);
    expect_error(&fb, DECODE_DHCP_BAD);

    /* Option 53 of length 0 as the last captured bytes (found by
     * fuzz-decode: the type byte was read past the capture). */
    fb.len = 0;
    build_dhcp(&fb, 3);
    fb.buf[bootp + 241] = 0;
    assert_int_equal(decode_part(&fb, bootp + 242, fb.len, &d),
                     DECODE_DHCP_BAD);
    assert_int_equal(d.dhcp_msg_type, 0);

    /* A complete message snapped to 100 bytes is no error. */
    fb.len = 0;
    build_dhcp(&fb, 3);
    assert_int_equal(decode_part(&fb, bootp + 100, fb.len, &d), DECODE_OK);
    assert_int_equal(d.dhcp_msg_type, 0);
    assert_int_equal(d.src_port, 68);
}

static void
test_dhcpv6(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t ip, u;

    (void) state;
    eth(&fb, 0x86dd);
    ip = ipv6(&fb, 17, "fe80::1", "ff02::1:2");
    u = udp(&fb, 546, 547);
    put8(&fb, 1);                       /* SOLICIT. */
    put8(&fb, 0x12);
    put16(&fb, 0x3456);                 /* Transaction id. */
    put16(&fb, 1);                      /* Client identifier. */
    put16(&fb, 10);
    put16(&fb, 3);                      /* DUID-LL. */
    put16(&fb, 1);
    put(&fb, MAC_A, 6);
    put16(&fb, 8);                      /* Elapsed time. */
    put16(&fb, 2);
    put16(&fb, 0);
    udp_end(&fb, u);
    ipv6_end(&fb, ip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_true(d.is_dhcpv6);
    assert_int_equal(d.dhcp_msg_type, 1);
    expect_format(&d, "IPv6 fe80::1 > ff02::1:2 hlim 64 | UDP 546 > 547 "
                  "len 24 | DHCPv6 SOLICIT");
    check_every_snap(&fb);

    set16(&fb, u + 8 + 4 + 2, 30);      /* Client id past the message. */
    expect_error(&fb, DECODE_DHCP_BAD);
    set16(&fb, u + 8 + 4 + 2, 10);
    fb.buf[u + 8] = 0;
    expect_error(&fb, DECODE_DHCP_BAD);
    fb.buf[u + 8] = 14;
    expect_error(&fb, DECODE_DHCP_BAD);
    fb.buf[u + 8] = 12;                 /* RELAY-FORW: 34-byte header. */
    expect_error(&fb, DECODE_DHCP_BAD);

    fb.len = u + 8 + 2;
    udp_end(&fb, u);
    ipv6_end(&fb, ip);
    expect_error(&fb, DECODE_DHCP_BAD);
}

/* ------------------------------------------------------------------ */
/* Tunnels. */

static void
test_vxlan(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;

    (void) state;
    build_vxlan(&fb, 5000);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_VXLAN);
    assert_int_equal(d.vni, 5000);
    assert_memory_equal(d.outer.src_mac, MAC_A, 6);
    assert_memory_equal(d.outer.dst_mac, MAC_B, 6);
    assert_addr(&d.outer.src_ip, "192.168.0.1");
    assert_addr(&d.outer.dst_ip, "192.168.0.2");
    assert_int_equal(d.outer.src_port, 50000);
    assert_int_equal(d.outer.dst_port, 4789);
    assert_int_equal(d.outer.ttl, 64);
    assert_memory_equal(d.src_mac, MAC_C, 6);
    assert_memory_equal(d.dst_mac, MAC_D, 6);
    assert_int_equal(d.eth_type, 0x0800);
    assert_int_equal(d.l3, 14 + 20 + 8 + 8 + 14);
    assert_int_equal(d.l3_len, 40);
    assert_addr(&d.src_ip, "10.0.0.1");
    assert_int_equal(d.ip_proto, 6);
    assert_int_equal(d.src_port, 1234);
    assert_int_equal(d.dst_port, 80);
    assert_int_equal(d.tcp_flags, 0x02);
    expect_format(&d, "IPv4 192.168.0.1 > 192.168.0.2 ttl 64 | UDP 50000 > "
                  "4789 | VXLAN vni 5000 | IPv4 10.0.0.1 > 10.0.0.2 ttl 64 "
                  "| TCP 1234 > 80 [S]");
    check_every_snap(&fb);

    /* The inner frame cut short: the tunnel is kept. */
    assert_int_equal(decode_part(&fb, 14 + 20 + 8 + 8 + 10, fb.len, &d),
                     DECODE_ETH_TRUNCATED);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_VXLAN);
    assert_addr(&d.outer.src_ip, "192.168.0.1");
    assert_int_equal(d.ip_version, 0);

    /* The VXLAN header cut short. */
    assert_int_equal(decode_part(&fb, 14 + 20 + 8 + 4, fb.len, &d),
                     DECODE_TUNNEL_TRUNCATED);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_NONE);
    assert_int_equal(d.dst_port, 4789);

    /* No I flag. */
    fb.buf[14 + 20 + 8] = 0;
    assert_int_equal(decode_fb(&fb, &d), DECODE_TUNNEL_BAD);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_NONE);
    assert_addr(&d.src_ip, "192.168.0.1");
    assert_int_equal(d.dst_port, 4789);
    expect_format(&d, "IPv4 192.168.0.1 > 192.168.0.2 ttl 64 | UDP 50000 > "
                  "4789 len 62 | error tunnel_bad");
}

static void
test_vxlan_outer_vlan_ipv6(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t oip, u;

    (void) state;
    eth_macs(&fb, MAC_A, MAC_B);
    vlan_tag(&fb, 0x8100, 200);
    put16(&fb, 0x86dd);
    oip = ipv6(&fb, 17, "2001:db8::a", "2001:db8::b");
    u = udp(&fb, 40000, 4789);
    put32(&fb, 0x08000000);
    put32(&fb, 42 << 8);
    eth_macs(&fb, MAC_C, MAC_D);
    vlan_tag(&fb, 0x8100, 7);
    put16(&fb, 0x0806);
    put16(&fb, 1);
    put16(&fb, 0x0800);
    put8(&fb, 6);
    put8(&fb, 4);
    put16(&fb, 1);
    put(&fb, MAC_C, 6);
    put_ip4(&fb, "10.1.0.1");
    put_zeros(&fb, 6);
    put_ip4(&fb, "10.1.0.2");
    udp_end(&fb, u);
    ipv6_end(&fb, oip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_VXLAN);
    assert_int_equal(d.vni, 42);
    assert_int_equal(d.outer.n_vlan, 1);
    assert_int_equal(d.outer.vlan[0].tci, 200);
    assert_addr(&d.outer.src_ip, "2001:db8::a");
    assert_int_equal(d.n_vlan, 1);
    assert_int_equal(d.vlan[0].tci, 7);
    assert_int_equal(d.arp.op, 1);
    expect_format(&d, "802.1Q vlan 200 | IPv6 2001:db8::a > 2001:db8::b "
                  "hlim 64 | UDP 40000 > 4789 | VXLAN vni 42 | 802.1Q vlan 7 "
                  "| ARP request who-has 10.1.0.2 tell 10.1.0.1");
    check_every_snap(&fb);
}

/* Geneve at the end of 'fb' with 'optlen' bytes of options 'opts' and
 * protocol 'proto'; returns the offset of the outer UDP header. */
static size_t
geneve_start(struct fb *fb, uint16_t proto, const uint8_t *opts,
             size_t optlen)
{
    size_t u;

    u = udp(fb, 33333, 6081);
    put8(fb, optlen / 4);
    put8(fb, 0);
    put16(fb, proto);
    put32(fb, 0x123456 << 8);
    if (optlen) {
        put(fb, opts, optlen);
    }
    return u;
}

static void
test_geneve(void **state)
{
    static const uint8_t opts[12] = {
        0x01, 0x02, 0x80, 0x01, 0xaa, 0xbb, 0xcc, 0xdd, /* 4 bytes data. */
        0xff, 0xff, 0x01, 0x00,                         /* No data. */
    };
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t oip, u, ip;

    (void) state;
    eth(&fb, 0x0800);
    oip = ipv4(&fb, 17, "192.168.0.1", "192.168.0.2");
    u = geneve_start(&fb, 0x6558, opts, sizeof opts);
    eth_macs(&fb, MAC_C, MAC_D);
    put16(&fb, 0x0800);
    ip = ipv4(&fb, 17, "10.0.0.1", "10.0.0.2");
    udp_end(&fb, udp(&fb, 1000, 53));
    ipv4_end(&fb, ip);
    udp_end(&fb, u);
    ipv4_end(&fb, oip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_GENEVE);
    assert_int_equal(d.vni, 0x123456);
    assert_int_equal(d.outer.dst_port, 6081);
    assert_int_equal(d.l3, 14 + 20 + 8 + 8 + 12 + 14);
    assert_int_equal(d.dst_port, 53);
    expect_format(&d, "IPv4 192.168.0.1 > 192.168.0.2 ttl 64 | UDP 33333 > "
                  "6081 | Geneve vni 1193046 | IPv4 10.0.0.1 > 10.0.0.2 "
                  "ttl 64 | UDP 1000 > 53");
    check_every_snap(&fb);

    /* Options cut by the snap length. */
    assert_int_equal(decode_part(&fb, u + 8 + 10, fb.len, &d),
                     DECODE_TUNNEL_TRUNCATED);
    assert_int_equal(decode_part(&fb, u + 8 + 6, fb.len, &d),
                     DECODE_TUNNEL_TRUNCATED);

    /* An option longer than the option area. */
    fb.buf[u + 8 + 8 + 3] = 3;
    expect_error(&fb, DECODE_TUNNEL_BAD);
    fb.buf[u + 8 + 8 + 3] = 1;
    /* An option area past the datagram. */
    fb.buf[u + 8] = 63;
    expect_error(&fb, DECODE_TUNNEL_BAD);
    /* Version 1. */
    fb.buf[u + 8] = 0x40 | 3;
    expect_error(&fb, DECODE_TUNNEL_BAD);
    fb.buf[u + 8] = 3;
    /* An unknown protocol: the carrier alone is decoded. */
    set16(&fb, u + 8 + 2, 0x8847);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_NONE);
    assert_int_equal(d.dst_port, 6081);
}

static void
test_geneve_ip_payloads(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t oip, u, ip;

    (void) state;
    eth(&fb, 0x0800);
    oip = ipv4(&fb, 17, "192.168.0.1", "192.168.0.2");
    u = geneve_start(&fb, 0x0800, NULL, 0);
    ip = ipv4(&fb, 6, "10.0.0.1", "10.0.0.2");
    tcp(&fb, 5, 6, 0x04);
    ipv4_end(&fb, ip);
    udp_end(&fb, u);
    ipv4_end(&fb, oip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_GENEVE);
    assert_int_equal(d.eth_type, 0x0800);
    assert_int_equal(d.n_vlan, 0);
    assert_int_equal(d.l3, 14 + 20 + 8 + 8);
    assert_int_equal(d.tcp_flags, 0x04);
    expect_format(&d, "IPv4 192.168.0.1 > 192.168.0.2 ttl 64 | UDP 33333 > "
                  "6081 | Geneve vni 1193046 | IPv4 10.0.0.1 > 10.0.0.2 "
                  "ttl 64 | TCP 5 > 6 [R]");
    check_every_snap(&fb);

    fb.len = 0;
    eth(&fb, 0x0800);
    oip = ipv4(&fb, 17, "192.168.0.1", "192.168.0.2");
    u = geneve_start(&fb, 0x86dd, NULL, 0);
    ip = ipv6(&fb, 6, "2001:db8::1", "2001:db8::2");
    tcp(&fb, 5, 6, 0x01);
    ipv6_end(&fb, ip);
    udp_end(&fb, u);
    ipv4_end(&fb, oip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.eth_type, 0x86dd);
    assert_addr(&d.dst_ip, "2001:db8::2");
    assert_int_equal(d.tcp_flags, 0x01);

    /* An inner IPv4 header that is not IPv4. */
    fb.buf[u + 16] = 0x60;
    set16(&fb, u + 8 + 2, 0x0800);
    expect_error(&fb, DECODE_IPV4_BAD_VERSION);
}

static void
test_gre_key_ethernet(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t oip, ip;

    (void) state;
    eth(&fb, 0x0800);
    oip = ipv4(&fb, 47, "172.16.0.1", "172.16.0.2");
    put16(&fb, 0x2000);                 /* K. */
    put16(&fb, 0x6558);
    put32(&fb, 100);
    eth_macs(&fb, MAC_C, MAC_D);
    put16(&fb, 0x0800);
    ip = ipv4(&fb, 1, "10.0.0.1", "10.0.0.2");
    put8(&fb, 8);
    put8(&fb, 0);
    put16(&fb, 0);
    put16(&fb, 7);
    put16(&fb, 1);
    ipv4_end(&fb, ip);
    ipv4_end(&fb, oip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_GRE);
    assert_int_equal(d.vni, 100);
    assert_int_equal(d.outer.src_port, 0);
    assert_addr(&d.outer.dst_ip, "172.16.0.2");
    assert_memory_equal(d.src_mac, MAC_C, 6);
    assert_int_equal(d.l3, 14 + 20 + 8 + 14);
    assert_int_equal(d.src_port, 7);
    expect_format(&d, "IPv4 172.16.0.1 > 172.16.0.2 ttl 64 | GRE key 100 | "
                  "IPv4 10.0.0.1 > 10.0.0.2 ttl 64 | "
                  "ICMP echo request id 7");
    check_every_snap(&fb);

    /* The key cut by the snap length, and the base header. */
    assert_int_equal(decode_part(&fb, 14 + 20 + 6, fb.len, &d),
                     DECODE_TUNNEL_TRUNCATED);
    assert_int_equal(decode_part(&fb, 14 + 20 + 2, fb.len, &d),
                     DECODE_TUNNEL_TRUNCATED);

    /* Version 2, and the routing bit. */
    set16(&fb, 34, 0x2002);
    expect_error(&fb, DECODE_TUNNEL_BAD);
    set16(&fb, 34, 0x6000);
    expect_error(&fb, DECODE_TUNNEL_BAD);

    /* PPTP's enhanced GRE: left undecoded, no error. */
    set16(&fb, 34, 0x3001);
    set16(&fb, 36, 0x880b);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_NONE);
    assert_int_equal(d.l4, 34);
    expect_format(&d, "IPv4 172.16.0.1 > 172.16.0.2 ttl 64 | GRE");

    /* Another payload type, e.g. MPLS: likewise. */
    set16(&fb, 34, 0x2000);
    set16(&fb, 36, 0x8847);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_NONE);
    assert_int_equal(d.payload, 34 + 8);
}

static void
test_gre_ip(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t oip, ip, u;

    (void) state;
    /* C and S set, no key: 12 bytes; inner IPv4. */
    eth(&fb, 0x0800);
    oip = ipv4(&fb, 47, "172.16.0.1", "172.16.0.2");
    put16(&fb, 0x9000);
    put16(&fb, 0x0800);
    put32(&fb, 0);                      /* Checksum, reserved. */
    put32(&fb, 5);                      /* Sequence. */
    ip = ipv4(&fb, 17, "10.0.0.1", "10.0.0.2");
    u = udp(&fb, 68, 67);
    udp_end(&fb, u);
    ipv4_end(&fb, ip);
    ipv4_end(&fb, oip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_DHCP_BAD);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_GRE);
    assert_int_equal(d.vni, 0);
    assert_int_equal(d.eth_type, 0x0800);
    assert_int_equal(d.l3, 14 + 20 + 12);
    assert_int_equal(d.l3_len, 28);
    assert_int_equal(d.src_port, 68);
    expect_format(&d, "IPv4 172.16.0.1 > 172.16.0.2 ttl 64 | GRE | IPv4 "
                  "10.0.0.1 > 10.0.0.2 ttl 64 | UDP 68 > 67 | "
                  "error dhcp_bad");

    /* GRE over IPv6, inner IPv6. */
    fb.len = 0;
    eth(&fb, 0x86dd);
    oip = ipv6(&fb, 47, "2001:db8::a", "2001:db8::b");
    put16(&fb, 0x2000);
    put16(&fb, 0x86dd);
    put32(&fb, 0xffffffff);
    ip = ipv6(&fb, 6, "2001:db8:1::1", "2001:db8:1::2");
    tcp(&fb, 179, 40000, 0x10);
    ipv6_end(&fb, ip);
    ipv6_end(&fb, oip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_GRE);
    assert_int_equal(d.vni, 0xffffffff);
    assert_addr(&d.outer.src_ip, "2001:db8::a");
    assert_addr(&d.src_ip, "2001:db8:1::1");
    assert_int_equal(d.src_port, 179);
    check_every_snap(&fb);
}

static void
test_tunnel_in_tunnel(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t oip, ou, ip, u, iip;

    (void) state;
    /* VXLAN in VXLAN. */
    eth(&fb, 0x0800);
    oip = ipv4(&fb, 17, "192.168.0.1", "192.168.0.2");
    ou = udp(&fb, 50000, 4789);
    put32(&fb, 0x08000000);
    put32(&fb, 10 << 8);
    eth_macs(&fb, MAC_C, MAC_D);
    put16(&fb, 0x0800);
    ip = ipv4(&fb, 17, "10.0.0.1", "10.0.0.2");
    u = udp(&fb, 50001, 4789);
    put32(&fb, 0x08000000);
    put32(&fb, 20 << 8);
    eth(&fb, 0x0800);
    iip = ipv4(&fb, 6, "10.9.0.1", "10.9.0.2");
    tcp(&fb, 1, 2, 0x02);
    ipv4_end(&fb, iip);
    udp_end(&fb, u);
    ipv4_end(&fb, ip);
    udp_end(&fb, ou);
    ipv4_end(&fb, oip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_TUNNEL_TOO_DEEP);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_VXLAN);
    assert_int_equal(d.vni, 10);
    assert_addr(&d.outer.src_ip, "192.168.0.1");
    assert_addr(&d.src_ip, "10.0.0.1");
    assert_int_equal(d.src_port, 50001);
    assert_int_equal(d.dst_port, 4789);
    assert_int_equal(d.l4, u);
    expect_format(&d, "IPv4 192.168.0.1 > 192.168.0.2 ttl 64 | UDP 50000 > "
                  "4789 | VXLAN vni 10 | IPv4 10.0.0.1 > 10.0.0.2 ttl 64 | "
                  "UDP 50001 > 4789 len 62 | error tunnel_too_deep");

    /* GRE in VXLAN. */
    fb.len = 0;
    eth(&fb, 0x0800);
    oip = ipv4(&fb, 17, "192.168.0.1", "192.168.0.2");
    ou = udp(&fb, 50000, 4789);
    put32(&fb, 0x08000000);
    put32(&fb, 10 << 8);
    eth_macs(&fb, MAC_C, MAC_D);
    put16(&fb, 0x0800);
    ip = ipv4(&fb, 47, "10.0.0.1", "10.0.0.2");
    put16(&fb, 0);
    put16(&fb, 0x0800);
    iip = ipv4(&fb, 6, "10.9.0.1", "10.9.0.2");
    tcp(&fb, 1, 2, 0x02);
    ipv4_end(&fb, iip);
    ipv4_end(&fb, ip);
    udp_end(&fb, ou);
    ipv4_end(&fb, oip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_TUNNEL_TOO_DEEP);
    assert_int_equal(d.ip_proto, 47);
    assert_addr(&d.dst_ip, "10.0.0.2");

    /* Geneve in GRE. */
    fb.len = 0;
    eth(&fb, 0x0800);
    oip = ipv4(&fb, 47, "192.168.0.1", "192.168.0.2");
    put16(&fb, 0);
    put16(&fb, 0x0800);
    ip = ipv4(&fb, 17, "10.0.0.1", "10.0.0.2");
    u = geneve_start(&fb, 0x6558, NULL, 0);
    eth(&fb, 0x0800);
    iip = ipv4(&fb, 6, "10.9.0.1", "10.9.0.2");
    tcp(&fb, 1, 2, 0x02);
    ipv4_end(&fb, iip);
    udp_end(&fb, u);
    ipv4_end(&fb, ip);
    ipv4_end(&fb, oip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_TUNNEL_TOO_DEEP);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_GRE);
    assert_int_equal(d.dst_port, 6081);

    /* A carrier that is a fragment is not decoded as a tunnel. */
    fb.len = 0;
    build_vxlan(&fb, 5);
    set16(&fb, 14 + 6, 0x2000);
    fb.len = 14 + 20 + 64;
    ipv4_end(&fb, 14);
    set16(&fb, 14 + 20 + 4, 1000);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_NONE);
    assert_int_equal(d.dst_port, 4789);
}

static void
test_large_frame(void **state)
{
    const size_t size = 70000;
    uint8_t *frame = calloc(1, size);
    struct decoded d;
    uint16_t x;

    (void) state;
    assert_non_null(frame);
    memcpy(frame, MAC_B, 6);
    memcpy(frame + 6, MAC_A, 6);
    x = htons(0x0800);
    memcpy(frame + 12, &x, 2);
    frame[14] = 0x45;
    x = htons(65535);
    memcpy(frame + 16, &x, 2);
    frame[14 + 9] = 17;
    x = htons(65535 - 20);
    memcpy(frame + 34 + 4, &x, 2);

    /* Only the first 65535 bytes are looked at: as if snapped there. */
    assert_true(decode_frame(frame, size, size, &d));
    assert_int_equal(d.caplen, size);
    assert_int_equal(d.l3_len, 65535 - 14);
    assert_int_equal(d.payload, 42);
    assert_int_equal(d.payload_len, 65535 - 42);
    check_invariants(&d, size);
    free(frame);
}

/* ------------------------------------------------------------------ */
/* decode_format() and decode_error_name(). */

static void
test_format_sizes(void **state)
{
    const char *full = ("802.1Q vlan 10 | IPv4 10.0.0.11 > 10.0.0.12 ttl 64 "
                        "| TCP 40000 > 80 [S]");
    struct fb fb = { .len = 0 };
    struct decoded d;
    char buf[128];

    (void) state;
    build_vlan_tcp(&fb);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);

    memset(buf, 'x', sizeof buf);
    assert_ptr_equal(decode_format(&d, buf, 0), buf);
    assert_int_equal(buf[0], 'x');

    for (unsigned size = 1; size <= strlen(full) + 2; size++) {
        memset(buf, 'x', sizeof buf);
        assert_ptr_equal(decode_format(&d, buf, size), buf);
        assert_int_equal(strlen(buf), (size - 1 < strlen(full)
                                       ? size - 1 : strlen(full)));
        assert_memory_equal(buf, full, strlen(buf));
        assert_int_equal(buf[size], 'x');
    }
}

static void
test_error_names(void **state)
{
    (void) state;
    assert_string_equal(decode_error_name(DECODE_OK), "ok");
    assert_string_equal(decode_error_name(DECODE_IPV4_BAD_IHL),
                        "ipv4_bad_ihl");
    assert_string_equal(decode_error_name(DECODE_TUNNEL_TOO_DEEP),
                        "tunnel_too_deep");
    for (int i = 0; i < DECODE_N_ERRORS; i++) {
        const char *name = decode_error_name(i);

        assert_string_not_equal(name, "unknown");
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(name, decode_error_name(j));
        }
    }
    assert_string_equal(decode_error_name(DECODE_N_ERRORS), "unknown");
    assert_string_equal(decode_error_name((enum decode_error) -1),
                        "unknown");
}

/* Runs last: every reason was produced by some test frame above. */
static void
test_all_errors_covered(void **state)
{
    (void) state;
    for (int i = 0; i < DECODE_N_ERRORS; i++) {
        if (!errors_seen[i]) {
            fail_msg("no test frame gives %s", decode_error_name(i));
        }
    }
}

/* Runs the tests (test_all_errors_covered() last); the exit status is the
 * number of failures. */
/* IP in IP: 6in4 and 4in6, inner layers decoded, outer kept; a tunnel
 * inside it is too deep. */
static void
test_ipip(void **state)
{
    struct fb fb = { .len = 0 };
    struct decoded d;
    size_t oip, ip;

    (void) state;
    eth(&fb, 0x0800);
    oip = ipv4(&fb, 41, "193.24.227.10", "216.66.86.114");
    ip = ipv6(&fb, 6, "2001:db8::1", "2001:db8::2");
    tcp(&fb, 40000, 443, 0x02);
    ipv6_end(&fb, ip);
    ipv4_end(&fb, oip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_OK);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_IPIP);
    assert_addr(&d.outer.src_ip, "193.24.227.10");
    assert_addr(&d.src_ip, "2001:db8::1");
    assert_int_equal(d.eth_type, 0x86dd);
    assert_int_equal(d.ip_proto, 6);
    assert_int_equal(d.dst_port, 443);
    assert_int_equal(d.l3, 14 + 20);
    expect_format(&d, "IPv4 193.24.227.10 > 216.66.86.114 ttl 64 | IP in IP "
                  "| IPv6 2001:db8::1 > 2001:db8::2 hlim 64 | TCP 40000 > "
                  "443 [S]");

    fb.len = 0;
    eth(&fb, 0x86dd);
    oip = ipv6(&fb, 4, "2001:db8::a", "2001:db8::b");
    ip = ipv4(&fb, 4, "10.0.0.1", "10.0.0.2");      /* 4in4 in 6: deep. */
    ipv4_end(&fb, ip);
    ipv6_end(&fb, oip);
    assert_int_equal(decode_fb(&fb, &d), DECODE_TUNNEL_TOO_DEEP);
    assert_int_equal(d.tunnel, DECODE_TUNNEL_IPIP);
    assert_addr(&d.src_ip, "10.0.0.1");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipip),
        cmocka_unit_test(test_vlan_tcp_example),
        cmocka_unit_test(test_qinq),
        cmocka_unit_test(test_vlan_four_and_five_tags),
        cmocka_unit_test(test_vlan_truncated),
        cmocka_unit_test(test_eth),
        cmocka_unit_test(test_arp),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_ipv4_errors),
        cmocka_unit_test(test_ipv4_snapped),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_ipv6_tcp),
        cmocka_unit_test(test_ipv6_tcp_every_truncation),
        cmocka_unit_test(test_ipv6_ext_chain),
        cmocka_unit_test(test_ipv6_fragments),
        cmocka_unit_test(test_ipv6_ah_esp_none),
        cmocka_unit_test(test_ipv6_errors),
        cmocka_unit_test(test_tcp),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_icmp),
        cmocka_unit_test(test_icmpv6_echo),
        cmocka_unit_test(test_nd_ns_na),
        cmocka_unit_test(test_nd_ra_rs_redirect),
        cmocka_unit_test(test_nd_bad),
        cmocka_unit_test(test_dhcp),
        cmocka_unit_test(test_dhcp_bad),
        cmocka_unit_test(test_dhcpv6),
        cmocka_unit_test(test_vxlan),
        cmocka_unit_test(test_vxlan_outer_vlan_ipv6),
        cmocka_unit_test(test_geneve),
        cmocka_unit_test(test_geneve_ip_payloads),
        cmocka_unit_test(test_gre_key_ethernet),
        cmocka_unit_test(test_gre_ip),
        cmocka_unit_test(test_tunnel_in_tunnel),
        cmocka_unit_test(test_large_frame),
        cmocka_unit_test(test_format_sizes),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_all_errors_covered),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

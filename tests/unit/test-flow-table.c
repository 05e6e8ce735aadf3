/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of ovs-ext/flow-table.c, on a fake clock: bidirectional keys
 * and their VLAN/VNI context, counters and record fields, TCP state and
 * timeouts, active timeouts and UPDATE records, fragments, eviction under
 * the flow cap and the memory cap (a million SYNs from random sources),
 * nDPI classification through the table, the one-way flows of ARP, ND and
 * DHCP with what their senders claimed, tunnel carriers, and the first
 * UPDATE record.
 *
 * Frames are built by hand together with the struct decoded that describes
 * them, so that the table is tested on its own; the tests of ARP, ND, DHCP
 * and VXLAN go through decode_frame() as well.
 */
#include <config.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/util.h"
#include "ovs-ext/classify-ndpi.h"
#include "ovs-ext/decode.h"
#include "ovs-ext/flow-table.h"
#include "vnmon/flow.h"

#define T0 1700000000000ULL     /* The fake clock's start, ms. */

#define P_ICMP 1
#define P_TCP 6
#define P_UDP 17
#define P_ICMPV6 58

#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

/* What a test frame carries. */
struct spec {
    const char *src, *dst;      /* IP addresses; NULL for non-IP. */
    uint8_t smac, dmac;         /* Last byte of 02:00:00:00:00:xx. */
    uint16_t eth_type;          /* Non-IP only (default ARP). */
    uint8_t proto;              /* P_TCP, P_UDP, P_ICMP or P_ICMPV6. */
    uint16_t sport, dport;      /* ICMP echo: 'sport' is the id. */
    uint8_t icmp_type;          /* ICMPv6 133..137 (ND), or 0: echo... */
    bool echo_reply;            /* ...request, or reply if this is set. */
    uint8_t nd_flags;           /* NA: R/S/O (0xe0); RA: M/O (0xc0). */
    const char *nd_target;      /* NS, NA, redirect. */
    uint8_t nd_ll;              /* Link-layer option (source for RS, RA,
                                 * NS; target for NA): 02:..:xx; 0 none. */
    uint8_t dhcp_type;          /* UDP payload: a DHCP (IPv4) or DHCPv6
                                 * message of this type; 0 none. */
    uint16_t arp_op;            /* ARP (no 'src'): op, 0 for zero bytes. */
    const char *arp_spa, *arp_tpa; /* ARP protocol addresses. */
    uint8_t arp_sha;            /* ARP sender MAC 02:..:xx; 0: 'smac'. */
    uint8_t flags;              /* TCP flags. */
    const void *payload;
    size_t payload_len;
    uint8_t n_vlan;
    uint16_t vid[VNM_MAX_VLAN_TAGS]; /* May include PCP bits. */
    bool frag;                  /* A fragment... */
    bool mf;                    /* ...with more to come... */
    uint16_t frag_off;          /* ...at this offset (bytes)... */
    uint32_t frag_id;           /* ...of this datagram. */
    enum decode_tunnel tunnel;  /* Set in 'decoded' only. */
    uint32_t vni;
};

/* A built frame and its decoding. */
struct frame {
    uint8_t buf[1600];
    uint32_t len;
    struct decoded d;
};

/* The records a table emitted. */
struct sink {
    bool keep;                  /* Store copies in 'recs'? */
    struct vnm_flow *recs;
    size_t n, cap;
    size_t n_event[VNM_FLOW_END_SHUTDOWN + 1];
    uint64_t packets;           /* Sum over all records' packets. */
    size_t n_two_way;           /* Records with frames both ways. */
};

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void
set_mac(uint8_t *mac, uint8_t last)
{
    static const uint8_t base[6] = { 0x02, 0, 0, 0, 0, 0 };

    memcpy(mac, base, 6);
    mac[5] = last;
}

static void
set_addr(struct vnm_addr *a, const char *s)
{
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, s, a->a) == 1) {
        a->family = 4;
    } else {
        assert_int_equal(inet_pton(AF_INET6, s, a->a), 1);
        a->family = 6;
    }
}

/* Writes a DHCP (or DHCPv6 if 'v6') message of type 'type' into 'buf':
 * the BOOTP header, the magic cookie and option 53.  Returns its size. */
static size_t
build_dhcp(uint8_t *buf, uint8_t type, bool v6)
{
    if (v6) {
        buf[0] = type;
        buf[1] = 0x12;          /* Transaction id. */
        buf[2] = 0x34;
        buf[3] = 0x56;
        return 4;
    }
    memset(buf, 0, 244);
    buf[0] = type == 2 || type == 5 || type == 6 ? 2 : 1;
    buf[1] = 1;                 /* Ethernet. */
    buf[2] = 6;
    buf[236] = 0x63;            /* Magic cookie. */
    buf[237] = 0x82;
    buf[238] = 0x53;
    buf[239] = 0x63;
    buf[240] = 53;
    buf[241] = 1;
    buf[242] = type;
    buf[243] = 255;
    return 244;
}

/* Writes the ND message of 's' (ICMPv6 133..137) at 'l4' and describes it
 * in 'd'.  Returns its size. */
static size_t
build_nd(uint8_t *l4, const struct spec *s, struct decoded *d)
{
    static const size_t fixed[] = { 8, 16, 24, 24, 40 };
    size_t n = fixed[s->icmp_type - 133];
    struct vnm_addr target;

    l4[0] = d->icmp_type = s->icmp_type;
    if (s->icmp_type == 134) {
        l4[4] = 64;
        l4[5] = s->nd_flags;
        put16(l4 + 6, 1800);
        d->nd.flags = s->nd_flags & 0xc0;
        d->nd.router_lifetime = 1800;
    } else if (s->icmp_type >= 135) {
        if (s->icmp_type == 136) {
            l4[4] = s->nd_flags;
            d->nd.flags = s->nd_flags & 0xe0;
        }
        set_addr(&target, s->nd_target);
        memcpy(l4 + 8, target.a, 16);
        memcpy(d->nd.target, target.a, 16);
    }
    if (s->nd_ll) {
        bool tll = s->icmp_type == 136;

        l4[n] = tll ? 2 : 1;
        l4[n + 1] = 1;
        set_mac(l4 + n + 2, s->nd_ll);
        if (tll) {
            d->nd.has_tll = true;
            set_mac(d->nd.tll, s->nd_ll);
        } else {
            d->nd.has_sll = true;
            set_mac(d->nd.sll, s->nd_ll);
        }
        n += 8;
    }
    return n;
}

/* Builds the frame described by 's' into 'f', with its decoding. */
static void
build(struct frame *f, const struct spec *s)
{
    struct decoded *d = &f->d;
    uint8_t *p = f->buf;
    uint8_t *l3;

    memset(f, 0, sizeof *f);
    set_mac(d->dst_mac, s->dmac);
    set_mac(d->src_mac, s->smac);
    memcpy(p, d->dst_mac, 6);
    memcpy(p + 6, d->src_mac, 6);
    p += 12;
    d->n_vlan = s->n_vlan;
    for (int i = 0; i < s->n_vlan; i++) {
        d->vlan[i].tpid = i + 1 < s->n_vlan ? 0x88a8 : 0x8100;
        d->vlan[i].tci = s->vid[i];
        put16(p, d->vlan[i].tpid);
        put16(p + 2, d->vlan[i].tci);
        p += 4;
    }
    d->tunnel = s->tunnel;
    d->vni = s->vni;

    if (!s->src) {
        d->eth_type = s->eth_type ? s->eth_type : 0x0806;
        put16(p, d->eth_type);
        p += 2;
        d->l3 = p - f->buf;
        memset(p, 0, 28);
        if (d->eth_type == 0x0806 && s->arp_op) {
            struct decode_arp *arp = &d->arp;
            struct vnm_addr a;

            arp->op = s->arp_op;
            set_mac(arp->sha, s->arp_sha ? s->arp_sha : s->smac);
            set_addr(&a, s->arp_spa);
            memcpy(arp->spa, a.a, 4);
            set_addr(&a, s->arp_tpa);
            memcpy(arp->tpa, a.a, 4);
            put16(p, 1);
            put16(p + 2, 0x0800);
            p[4] = 6;
            p[5] = 4;
            put16(p + 6, arp->op);
            memcpy(p + 8, arp->sha, 6);
            memcpy(p + 14, arp->spa, 4);
            memcpy(p + 24, arp->tpa, 4);
        }
        p += 28;
    } else {
        const void *payload = s->payload;
        size_t payload_len = s->payload_len;
        uint8_t dhcp[300];
        bool later;
        uint8_t *l4;

        set_addr(&d->src_ip, s->src);
        set_addr(&d->dst_ip, s->dst);
        d->ip_version = d->src_ip.family;
        d->eth_type = d->ip_version == 4 ? 0x0800 : 0x86dd;
        d->ip_proto = s->proto;
        d->ttl = 64;
        put16(p, d->eth_type);
        p += 2;
        l3 = p;
        d->l3 = l3 - f->buf;
        d->is_fragment = s->frag;
        d->more_fragments = s->mf;
        d->frag_offset = s->frag_off;
        d->frag_id = s->frag_id;
        later = d->is_later_fragment = s->frag && s->frag_off;
        if (d->ip_version == 4) {
            l3[0] = 0x45;
            put16(l3 + 4, s->frag_id);
            put16(l3 + 6, (s->mf ? 0x2000 : 0) | s->frag_off / 8);
            l3[8] = 64;
            l3[9] = s->proto;
            memcpy(l3 + 12, d->src_ip.a, 4);
            memcpy(l3 + 16, d->dst_ip.a, 4);
            p = l3 + 20;
        } else {
            l3[0] = 0x60;
            l3[6] = s->frag ? 44 : s->proto;
            l3[7] = 64;
            memcpy(l3 + 8, d->src_ip.a, 16);
            memcpy(l3 + 24, d->dst_ip.a, 16);
            p = l3 + 40;
            if (s->frag) {
                p[0] = s->proto;
                put16(p + 2, s->frag_off | (s->mf ? 1 : 0));
                p[4] = s->frag_id >> 24;
                p[5] = s->frag_id >> 16;
                p[6] = s->frag_id >> 8;
                p[7] = s->frag_id;
                p += 8;
                d->n_ext_headers = 1;
            }
        }
        l4 = p;
        if (!later) {
            d->l4 = l4 - f->buf;
            put16(l4, s->sport);
            if (s->proto == P_TCP) {
                put16(l4 + 2, s->dport);
                l4[12] = 5 << 4;
                l4[13] = s->flags;
                put16(l4 + 14, 65535);
                d->tcp_flags = s->flags;
                d->src_port = s->sport;
                d->dst_port = s->dport;
                p += 20;
            } else if (s->proto == P_UDP) {
                if (s->dhcp_type) {
                    payload_len = build_dhcp(dhcp, s->dhcp_type,
                                             d->ip_version == 6);
                    payload = dhcp;
                    d->dhcp_msg_type = s->dhcp_type;
                    d->is_dhcpv6 = d->ip_version == 6;
                }
                put16(l4 + 2, s->dport);
                put16(l4 + 4, 8 + payload_len);
                d->src_port = s->sport;
                d->dst_port = s->dport;
                p += 8;
            } else if (s->icmp_type >= 133 && s->icmp_type <= 137) {
                p += build_nd(l4, s, d);
            } else {
                /* ICMP echo: type, code, checksum, id, sequence. */
                bool v4 = d->ip_version == 4;

                l4[0] = d->icmp_type = (s->echo_reply ? (v4 ? 0 : 129)
                                        : (v4 ? 8 : 128));
                put16(l4 + 4, s->sport);
                put16(l4 + 6, 1);
                d->src_port = d->dst_port = s->sport;
                p += 8;
            }
            d->payload = p - f->buf;
            d->payload_len = payload_len;
        }
        if (payload_len) {
            memcpy(p, payload, payload_len);
        }
        p += payload_len;
        if (d->ip_version == 4) {
            put16(l3 + 2, p - l3);
        } else {
            put16(l3 + 4, p - l3 - 40);
        }
        d->l3_len = p - l3;
    }
    f->len = p - f->buf;
    if (f->len < 60) {
        f->len = 60;            /* Ethernet padding counts on the wire. */
    }
    d->caplen = d->wire_len = f->len;
}

static void
on_record(void *aux, const struct vnm_flow *rec)
{
    struct sink *sink = aux;

    assert_true(rec->event <= VNM_FLOW_END_SHUTDOWN);
    sink->n_event[rec->event]++;
    sink->packets += rec->src.packets + rec->dst.packets;
    if (rec->src.packets && rec->dst.packets) {
        sink->n_two_way++;
    }
    if (sink->keep) {
        if (sink->n >= sink->cap) {
            sink->cap = sink->cap ? 2 * sink->cap : 16;
            sink->recs = xrealloc(sink->recs, sink->cap * sizeof *sink->recs);
        }
        sink->recs[sink->n] = *rec;
    }
    sink->n++;
}

static void
on_resolve(void *aux, uint32_t port_id, struct vnm_attribution *out)
{
    assert_int_not_equal(port_id, 0);
    assert_int_equal(out->ofport, -1);
    assert_string_equal(out->port, "");
    snprintf(out->port, sizeof out->port, "tap%u", port_id);
    out->ofport = port_id;
    vnm_strlcpy(out->tenant, port_id < 10 ? "blue" : "red",
                sizeof out->tenant);
}

/* A test's table and what it emitted. */
struct ctx {
    struct flow_table_config cfg;
    struct classifier *classifier;
    struct flow_table *table;
    struct sink sink;
};

/* Creates 'c->table' from 'c->cfg' (classifying iff 'c->cfg.classify'). */
static void
ctx_create(struct ctx *c)
{
    if (c->cfg.classify) {
        c->classifier = classifier_create();
    }
    c->table = flow_table_create(&c->cfg, c->classifier, on_record,
                                 on_resolve, &c->sink);
}

static int
setup(void **statep)
{
    struct ctx *c = xzalloc(sizeof *c);

    flow_table_config_init(&c->cfg);
    c->cfg.classify = false;
    c->cfg.update_interval_ms = 0;  /* Tests that want updates say so. */
    c->cfg.first_update_ms = 0;
    c->cfg.worker_id = 3;
    c->sink.keep = true;
    *statep = c;
    return 0;
}

static int
teardown(void **statep)
{
    struct ctx *c = *statep;

    flow_table_destroy(c->table);
    classifier_destroy(c->classifier);
    free(c->sink.recs);
    free(c);
    return 0;
}

/* Sends the frame of 's' through 'c' at T0 + 'ms', from port 'port_id'. */
static void
send_at(struct ctx *c, uint64_t ms, uint32_t port_id, const struct spec *s)
{
    struct frame f;

    build(&f, s);
    flow_table_packet(c->table, &f.d, f.buf, port_id, T0 + ms);
}

static struct flow_table_stats
stats_of(const struct ctx *c)
{
    struct flow_table_stats s;

    flow_table_get_stats(c->table, &s);
    return s;
}

/* The only record kept so far. */
static const struct vnm_flow *
only_record(const struct ctx *c)
{
    assert_int_equal(c->sink.n, 1);
    return &c->sink.recs[0];
}

/* The record of event 'event' whose initiator's L4 port is 'sport', which
 * must be unique. */
static const struct vnm_flow *
find_record(const struct ctx *c, enum vnm_flow_event event, uint16_t sport)
{
    const struct vnm_flow *found = NULL;

    for (size_t i = 0; i < c->sink.n; i++) {
        const struct vnm_flow *r = &c->sink.recs[i];

        if (r->event == event && r->src.port == sport) {
            assert_null(found);
            found = r;
        }
    }
    assert_non_null(found);
    return found;
}

static void
assert_ip(const struct vnm_addr *a, const char *expected)
{
    struct vnm_addr e;

    set_addr(&e, expected);
    assert_int_equal(a->family, e.family);
    assert_memory_equal(a->a, e.a, e.family == 4 ? 4 : 16);
}

static void
assert_mac(const uint8_t *mac, uint8_t last)
{
    uint8_t e[6];

    set_mac(e, last);
    assert_memory_equal(mac, e, 6);
}

#define TCP_SPEC(SRC, DST, SP, DP, FLAGS, SMAC, DMAC)                   \
    (&(struct spec) { .src = (SRC), .dst = (DST), .proto = P_TCP,       \
                      .sport = (SP), .dport = (DP), .flags = (FLAGS),   \
                      .smac = (SMAC), .dmac = (DMAC) })
#define UDP_SPEC(SRC, DST, SP, DP)                                      \
    (&(struct spec) { .src = (SRC), .dst = (DST), .proto = P_UDP,       \
                      .sport = (SP), .dport = (DP), .smac = 1,          \
                      .dmac = 2 })

/* A client (10.0.0.1:40000, MAC ..:01, port 1) and a server (10.0.0.2:80,
 * MAC ..:02, port 2). */
#define C2S(FLAGS) TCP_SPEC("10.0.0.1", "10.0.0.2", 40000, 80, FLAGS, 1, 2)
#define S2C(FLAGS) TCP_SPEC("10.0.0.2", "10.0.0.1", 80, 40000, FLAGS, 2, 1)

static void
test_bidirectional_record(void **statep)
{
    static const char data[100] = "hello, world";
    struct ctx *c = *statep;
    const struct vnm_flow *r;
    struct flow_table_stats st;

    ctx_create(c);
    send_at(c, 0, 1, C2S(SYN));
    send_at(c, 1, 2, S2C(SYN | ACK));
    send_at(c, 2, 1, C2S(ACK));
    send_at(c, 3, 1, &(struct spec) {
                .src = "10.0.0.1", .dst = "10.0.0.2", .proto = P_TCP,
                .sport = 40000, .dport = 80, .flags = PSH | ACK,
                .smac = 1, .dmac = 2, .payload = data,
                .payload_len = sizeof data });
    send_at(c, 5, 2, S2C(ACK));

    st = stats_of(c);
    assert_int_equal(st.n_flows, 1);
    assert_int_equal(st.n_created, 1);
    assert_int_equal(st.n_packets, 5);
    assert_int_equal(st.n_bytes, 60 + 60 + 60 + 154 + 60);
    assert_int_equal(c->sink.n, 0);

    flow_table_flush(c->table, T0 + 10);
    r = only_record(c);
    assert_int_equal(r->id, (3ULL << 48) | 1);
    assert_int_equal(r->event, VNM_FLOW_END_SHUTDOWN);
    assert_int_equal(r->class, VNM_FLOW_UNKNOWN);
    assert_int_equal(r->first_ms, T0);
    assert_int_equal(r->last_ms, T0 + 5);
    assert_int_equal(r->eth_type, 0x0800);
    assert_int_equal(r->ip_proto, P_TCP);
    assert_int_equal(r->n_vlan_tags, 0);
    assert_int_equal(r->tunnel_type, 0);
    assert_int_equal(r->vni, 0);

    assert_ip(&r->src.ip, "10.0.0.1");
    assert_int_equal(r->src.port, 40000);
    assert_mac(r->src.mac, 1);
    assert_int_equal(r->src.tcp_flags, SYN | ACK | PSH);
    assert_int_equal(r->src.packets, 3);
    assert_int_equal(r->src.bytes, 60 + 60 + 154);
    assert_string_equal(r->src.in.port, "tap1");
    assert_int_equal(r->src.in.ofport, 1);
    assert_string_equal(r->src.in.tenant, "blue");

    assert_ip(&r->dst.ip, "10.0.0.2");
    assert_int_equal(r->dst.port, 80);
    assert_mac(r->dst.mac, 2);
    assert_int_equal(r->dst.tcp_flags, SYN | ACK);
    assert_int_equal(r->dst.packets, 2);
    assert_int_equal(r->dst.bytes, 120);
    assert_string_equal(r->dst.in.port, "tap2");

    /* nDPI was off: its fields are empty; labels are the caller's. */
    assert_string_equal(r->app, "");
    assert_string_equal(r->server_name, "");
    assert_int_equal(r->labels.n, 0);

    st = stats_of(c);
    assert_int_equal(st.n_flows, 0);
    assert_int_equal(st.n_ended, 1);
}

/* The initiator is the sender of the first frame, unless that is a
 * SYN+ACK; a direction never seen has no attribution. */
static void
test_initiator(void **statep)
{
    struct ctx *c = *statep;
    const struct vnm_flow *r;

    ctx_create(c);
    send_at(c, 0, 2, S2C(SYN | ACK));
    send_at(c, 1, 2, TCP_SPEC("10.0.0.2", "10.0.0.3", 80, 40001, ACK, 2, 3));
    send_at(c, 2, 0, UDP_SPEC("10.0.0.9", "10.0.0.1", 5353, 5353));
    flow_table_flush(c->table, T0 + 10);
    assert_int_equal(c->sink.n, 3);

    r = find_record(c, VNM_FLOW_END_SHUTDOWN, 40000);
    assert_ip(&r->src.ip, "10.0.0.1");
    assert_int_equal(r->src.packets, 0);
    assert_int_equal(r->src.in.ofport, -1);
    assert_string_equal(r->src.in.port, "");
    assert_ip(&r->dst.ip, "10.0.0.2");
    assert_int_equal(r->dst.packets, 1);

    r = find_record(c, VNM_FLOW_END_SHUTDOWN, 80);
    assert_ip(&r->src.ip, "10.0.0.2");
    assert_int_equal(r->src.packets, 1);

    /* Port id 0 is unknown: no resolve call. */
    r = find_record(c, VNM_FLOW_END_SHUTDOWN, 5353);
    assert_ip(&r->src.ip, "10.0.0.9");
    assert_int_equal(r->src.in.ofport, -1);
}

/* The same 5-tuple on two VLANs, or in two VNIs, is two flows. */
static void
test_context_separation(void **statep)
{
    struct ctx *c = *statep;
    struct spec s = *UDP_SPEC("10.0.0.1", "10.0.0.2", 1000, 2000);
    struct spec rev = *UDP_SPEC("10.0.0.2", "10.0.0.1", 2000, 1000);
    const struct vnm_flow *r;
    size_t i;

    ctx_create(c);
    send_at(c, 0, 1, &s);               /* Untagged. */
    s.n_vlan = rev.n_vlan = 1;
    s.vid[0] = rev.vid[0] = 10 | (5 << 13);
    send_at(c, 1, 1, &s);               /* VLAN 10, PCP 5. */
    rev.vid[0] = 10;
    send_at(c, 2, 2, &rev);             /* VLAN 10, PCP 0: same flow. */
    s.vid[0] = 20;
    send_at(c, 3, 1, &s);               /* VLAN 20. */
    s.n_vlan = 2;
    s.vid[0] = 10;
    s.vid[1] = 20;
    send_at(c, 4, 1, &s);               /* 10 over 20: double tagged. */
    s.n_vlan = 0;
    s.tunnel = DECODE_TUNNEL_VXLAN;
    s.vni = 100;
    send_at(c, 5, 1, &s);               /* VXLAN VNI 100. */
    s.vni = 200;
    send_at(c, 6, 1, &s);               /* VXLAN VNI 200. */
    rev.n_vlan = 0;
    rev.tunnel = DECODE_TUNNEL_VXLAN;
    rev.vni = 200;
    send_at(c, 7, 2, &rev);             /* Its reply. */
    s.tunnel = DECODE_TUNNEL_GENEVE;
    send_at(c, 8, 1, &s);               /* Geneve VNI 200. */

    assert_int_equal(stats_of(c).n_flows, 7);
    flow_table_flush(c->table, T0 + 10);
    assert_int_equal(c->sink.n, 7);
    for (i = 0; i < c->sink.n; i++) {
        r = &c->sink.recs[i];
        if (r->n_vlan_tags == 1 && (r->vlan[0].tci & 0xfff) == 10) {
            /* Tags as the first frame had them. */
            assert_int_equal(r->vlan[0].tpid, 0x8100);
            assert_int_equal(r->vlan[0].tci, 10 | (5 << 13));
            assert_int_equal(r->src.packets, 1);
            assert_int_equal(r->dst.packets, 1);
        } else if (r->n_vlan_tags == 2) {
            assert_int_equal(r->vlan[0].tpid, 0x88a8);
            assert_int_equal(r->vlan[0].tci, 10);
            assert_int_equal(r->vlan[1].tpid, 0x8100);
            assert_int_equal(r->vlan[1].tci, 20);
        } else if (r->tunnel_type == DECODE_TUNNEL_VXLAN && r->vni == 200) {
            assert_int_equal(r->dst.packets, 1);
        } else {
            assert_int_equal(r->dst.packets, 0);
        }
    }
}

/* Non-IP frames key on MACs and EtherType. */
static void
test_non_ip(void **statep)
{
    struct ctx *c = *statep;
    const struct vnm_flow *r;

    ctx_create(c);
    send_at(c, 0, 1, &(struct spec) { .smac = 1, .dmac = 0xff });
    send_at(c, 1, 2, &(struct spec) { .smac = 2, .dmac = 1 });
    send_at(c, 2, 1, &(struct spec) { .smac = 1, .dmac = 2 });
    send_at(c, 3, 1, &(struct spec) { .smac = 1, .dmac = 2,
                                      .eth_type = 0x88cc });
    assert_int_equal(stats_of(c).n_flows, 3);
    flow_table_flush(c->table, T0 + 10);
    assert_int_equal(c->sink.n, 3);
    for (size_t i = 0; i < c->sink.n; i++) {
        r = &c->sink.recs[i];
        assert_int_equal(r->ip_proto, 0);
        assert_int_equal(r->src.ip.family, 0);
        assert_int_equal(r->src.port, 0);
        if (r->eth_type == 0x0806 && r->dst.packets) {
            assert_mac(r->src.mac, 2);
            assert_mac(r->dst.mac, 1);
            assert_int_equal(r->src.packets, 1);
            assert_int_equal(r->src.in.ofport, 2);
            assert_int_equal(r->dst.in.ofport, 1);
        } else if (r->eth_type == 0x0806) {
            assert_mac(r->src.mac, 1);
        } else {
            assert_int_equal(r->eth_type, 0x88cc);
        }
    }
}

/* FIN both ways, or RST: the short timeout, then END_TCP. */
static void
test_tcp_close(void **statep)
{
    struct ctx *c = *statep;
    const struct vnm_flow *r;

    ctx_create(c);
    send_at(c, 0, 1, C2S(SYN));
    send_at(c, 1, 2, S2C(SYN | ACK));
    send_at(c, 2, 1, C2S(FIN | ACK));
    flow_table_expire(c->table, T0 + 20000);
    assert_int_equal(c->sink.n, 0);         /* Half closed: 60 s. */
    send_at(c, 20001, 2, S2C(FIN | ACK));
    send_at(c, 20002, 1, C2S(ACK));
    flow_table_expire(c->table, T0 + 25001);
    assert_int_equal(c->sink.n, 0);
    flow_table_expire(c->table, T0 + 25002);
    r = only_record(c);
    assert_int_equal(r->event, VNM_FLOW_END_TCP);
    assert_int_equal(r->src.tcp_flags, SYN | FIN | ACK);
    assert_int_equal(r->dst.tcp_flags, SYN | FIN | ACK);
    assert_int_equal(stats_of(c).n_flows, 0);

    /* RST from one side is enough. */
    send_at(c, 30000, 1, C2S(SYN));
    send_at(c, 30001, 2, S2C(RST | ACK));
    flow_table_expire(c->table, T0 + 35001);
    assert_int_equal(c->sink.n, 2);
    assert_int_equal(c->sink.recs[1].event, VNM_FLOW_END_TCP);
    assert_int_equal(c->sink.recs[1].dst.tcp_flags, RST | ACK);

    /* A new SYN on a closed flow's ports ends it at once. */
    send_at(c, 40000, 1, C2S(SYN));
    send_at(c, 40001, 2, S2C(RST | ACK));
    send_at(c, 40002, 1, C2S(SYN));
    assert_int_equal(c->sink.n, 3);
    assert_int_equal(c->sink.recs[2].event, VNM_FLOW_END_TCP);
    assert_int_equal(c->sink.recs[2].src.packets, 1);
    assert_int_equal(stats_of(c).n_flows, 1);
    flow_table_flush(c->table, T0 + 40003);
    assert_int_equal(c->sink.recs[3].src.packets, 1);
    assert_int_equal(c->sink.recs[3].dst.packets, 0);
    assert_true(c->sink.recs[3].id > c->sink.recs[2].id);
}

/* Idle timeouts: 60 s, but 10 s for TCP never answered.  A one-way TCP
 * flow with ACKs was answered, unseen. */
static void
test_idle_timeouts(void **statep)
{
    struct ctx *c = *statep;

    ctx_create(c);
    send_at(c, 0, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 1000, 53));
    send_at(c, 0, 1, C2S(SYN));
    send_at(c, 0, 1, TCP_SPEC("10.0.0.1", "10.0.0.2", 40001, 22, SYN, 1, 2));
    send_at(c, 0, 1, TCP_SPEC("10.0.0.1", "10.0.0.9", 40002, 443, ACK, 1, 9));
    send_at(c, 5, 2, TCP_SPEC("10.0.0.2", "10.0.0.1", 22, 40001, SYN | ACK,
                              2, 1));

    flow_table_expire(c->table, T0 + 9999);
    assert_int_equal(c->sink.n, 0);
    flow_table_expire(c->table, T0 + 10000);
    assert_int_equal(c->sink.n, 1);
    assert_int_equal(find_record(c, VNM_FLOW_END_IDLE, 40000)->src.packets,
                     1);
    send_at(c, 30000, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 1000, 53));
    flow_table_expire(c->table, T0 + 59999);
    assert_int_equal(c->sink.n, 1);
    flow_table_expire(c->table, T0 + 60000);
    assert_int_equal(c->sink.n, 2);
    find_record(c, VNM_FLOW_END_IDLE, 40002);
    flow_table_expire(c->table, T0 + 60004);
    assert_int_equal(c->sink.n, 2);
    flow_table_expire(c->table, T0 + 60005);
    assert_int_equal(c->sink.n, 3);
    find_record(c, VNM_FLOW_END_IDLE, 40001);
    flow_table_expire(c->table, T0 + 89999);
    assert_int_equal(c->sink.n, 3);
    flow_table_expire(c->table, T0 + 90000);
    assert_int_equal(c->sink.n, 4);
    assert_int_equal(find_record(c, VNM_FLOW_END_IDLE, 1000)->src.packets,
                     2);
    assert_int_equal(stats_of(c).n_flows, 0);
}

/* UPDATE records every interval while a flow sends; END_ACTIVE and a
 * fresh incarnation at the active timeout. */
static void
test_active_and_updates(void **statep)
{
    struct ctx *c = *statep;
    const struct vnm_flow *r;
    uint64_t ms;

    c->cfg.update_interval_ms = 10000;
    c->cfg.active_timeout_ms = 35000;
    ctx_create(c);

    /* A frame each second for 50 s, expiry just before the next; another
     * flow sends once, at 0.5 s. */
    for (ms = 0; ms < 50000; ms += 1000) {
        send_at(c, ms, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 5000, 6000));
        if (!ms) {
            send_at(c, 500, 2, UDP_SPEC("10.0.0.3", "10.0.0.4", 7, 7));
        }
        flow_table_expire(c->table, T0 + ms + 999);
    }
    assert_int_equal(c->sink.n, 7);

    /* 10.999 s: both flows' first updates. */
    r = &c->sink.recs[0];
    assert_int_equal(r->event, VNM_FLOW_UPDATE);
    assert_int_equal(r->id, (3ULL << 48) | 1);
    assert_int_equal(r->src.packets, 11);
    assert_int_equal(r->first_ms, T0);
    assert_int_equal(r->last_ms, T0 + 10000);
    r = &c->sink.recs[1];
    assert_int_equal(r->event, VNM_FLOW_UPDATE);
    assert_int_equal(r->id, (3ULL << 48) | 2);
    assert_int_equal(r->src.packets, 1);

    /* 20.999 s, 30.999 s: the busy flow only, counters cumulative. */
    assert_int_equal(c->sink.recs[2].event, VNM_FLOW_UPDATE);
    assert_int_equal(c->sink.recs[2].src.packets, 21);
    assert_int_equal(c->sink.recs[3].event, VNM_FLOW_UPDATE);
    assert_int_equal(c->sink.recs[3].src.packets, 31);

    /* 35.999 s: both flows reach the active timeout. */
    r = &c->sink.recs[4];
    assert_int_equal(r->event, VNM_FLOW_END_ACTIVE);
    assert_int_equal(r->id, (3ULL << 48) | 1);
    assert_int_equal(r->src.packets, 36);
    assert_int_equal(r->first_ms, T0);
    assert_int_equal(r->last_ms, T0 + 35000);
    r = &c->sink.recs[5];
    assert_int_equal(r->event, VNM_FLOW_END_ACTIVE);
    assert_int_equal(r->id, (3ULL << 48) | 2);

    /* 45.999 s: the busy flow's new incarnation. */
    r = &c->sink.recs[6];
    assert_int_equal(r->event, VNM_FLOW_UPDATE);
    assert_int_equal(r->id, (3ULL << 48) | 3);
    assert_int_equal(r->src.packets, 10);
    assert_int_equal(r->first_ms, T0 + 36000);

    /* The quiet flow's new incarnation ends without a record. */
    flow_table_flush(c->table, T0 + 50000);
    assert_int_equal(c->sink.n, 8);
    r = &c->sink.recs[7];
    assert_int_equal(r->event, VNM_FLOW_END_SHUTDOWN);
    assert_int_equal(r->id, (3ULL << 48) | 3);
    assert_int_equal(r->src.packets, 14);
    assert_int_equal(r->first_ms, T0 + 36000);
    assert_int_equal(r->last_ms, T0 + 49000);
    assert_int_equal(stats_of(c).n_created, 4);
    assert_int_equal(stats_of(c).n_ended, 4);
    assert_int_equal(stats_of(c).n_updates, 5);
}

/* An incarnation with no frame after its active timeout ends silently. */
static void
test_active_restart_empty(void **statep)
{
    struct ctx *c = *statep;

    c->cfg.active_timeout_ms = 20000;
    c->cfg.update_interval_ms = 0;
    ctx_create(c);
    send_at(c, 0, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 5000, 6000));
    send_at(c, 19000, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 5000, 6000));
    flow_table_expire(c->table, T0 + 20000);
    assert_int_equal(c->sink.n, 1);
    assert_int_equal(c->sink.recs[0].event, VNM_FLOW_END_ACTIVE);
    flow_table_expire(c->table, T0 + 79000);
    assert_int_equal(c->sink.n, 1);
    assert_int_equal(stats_of(c).n_flows, 0);
    assert_int_equal(stats_of(c).n_created, stats_of(c).n_ended);
}

/* Later fragments count to their first fragment's flow and direction. */
static void
test_fragments(void **statep)
{
    struct ctx *c = *statep;
    struct spec first = *UDP_SPEC("10.0.0.1", "10.0.0.2", 4000, 5000);
    struct spec later = first;
    struct spec v6 = *UDP_SPEC("fd00::1", "fd00::2", 4000, 5000);
    struct spec v6_later;
    const struct vnm_flow *r;
    static uint8_t data[1400];

    ctx_create(c);
    first.frag = first.mf = true;
    first.frag_id = 77;
    first.payload = data;
    first.payload_len = sizeof data;
    later.frag = true;
    later.mf = true;
    later.frag_id = 77;
    later.frag_off = 1408;
    later.payload = data;
    later.payload_len = sizeof data;

    send_at(c, 0, 1, &first);
    send_at(c, 1, 1, &later);
    later.mf = false;
    later.frag_off = 2816;
    later.payload_len = 100;
    send_at(c, 2, 1, &later);

    /* An unknown datagram, and the same id from the other side. */
    later.frag_id = 78;
    send_at(c, 3, 1, &later);
    later.frag_id = 77;
    later.src = "10.0.0.2";
    later.dst = "10.0.0.1";
    send_at(c, 4, 2, &later);

    /* IPv6. */
    v6.frag = v6.mf = true;
    v6.frag_id = 0x12345678;
    v6.payload = data;
    v6.payload_len = 1000;
    send_at(c, 5, 1, &v6);
    v6_later = v6;
    v6_later.mf = false;
    v6_later.frag_off = 1008;
    send_at(c, 6, 1, &v6_later);

    assert_int_equal(stats_of(c).n_frags_untracked, 2);
    assert_int_equal(stats_of(c).n_flows, 2);
    flow_table_flush(c->table, T0 + 10);
    assert_int_equal(c->sink.n, 2);
    r = &c->sink.recs[0];
    assert_int_equal(r->src.ip.family, 4);
    assert_int_equal(r->src.packets, 3);
    assert_int_equal(r->dst.packets, 0);
    assert_int_equal(r->src.bytes, (14 + 20 + 8 + 1400) + (14 + 20 + 1400)
                     + (14 + 20 + 100));
    assert_int_equal(r->src.port, 4000);
    r = &c->sink.recs[1];
    assert_int_equal(r->src.ip.family, 6);
    assert_int_equal(r->src.packets, 2);
    assert_int_equal(r->dst.port, 5000);
}

/* The flow cap: a flood of one-way SYNs evicts itself, not the established
 * flows, beyond the probation share. */
static void
test_flow_cap(void **statep)
{
    struct ctx *c = *statep;
    struct flow_table_stats st;
    char src[32];
    int i;

    c->cfg.max_flows = 100;
    ctx_create(c);

    /* 80 established flows. */
    for (i = 0; i < 80; i++) {
        send_at(c, i, 1, TCP_SPEC("10.0.0.1", "10.0.0.2", 10000 + i, 80,
                                  SYN, 1, 2));
        send_at(c, i, 2, TCP_SPEC("10.0.0.2", "10.0.0.1", 80, 10000 + i,
                                  SYN | ACK, 2, 1));
    }
    /* 5000 SYNs from random sources. */
    for (i = 0; i < 5000; i++) {
        snprintf(src, sizeof src, "172.16.%d.%d", (i * 7919) % 256,
                 (i * 104729) % 251);
        send_at(c, 100 + i / 10, 3, TCP_SPEC(src, "10.0.0.2", 1024 + i, 80,
                                             SYN, 3, 2));
    }
    st = stats_of(c);
    assert_int_equal(st.n_flows, 100);
    assert_int_equal(st.n_evicted, 80 + 5000 - 100);
    assert_int_equal(st.n_evicted_probation, st.n_evicted);
    assert_int_equal(c->sink.n_event[VNM_FLOW_END_EVICTED], st.n_evicted);

    /* Now the established flows fill the table but for a few: each new
     * flood flow finds the probation share too small and evicts the least
     * recently seen established flow, until probation flows make 1/8. */
    flow_table_flush(c->table, T0 + 1000);
    memset(&c->sink.n_event, 0, sizeof c->sink.n_event);
    for (i = 0; i < 98; i++) {
        send_at(c, 2000 + i, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 10000 + i,
                                         53));
        send_at(c, 2000 + i, 2, UDP_SPEC("10.0.0.2", "10.0.0.1", 53,
                                         10000 + i));
    }
    for (i = 0; i < 1000; i++) {
        snprintf(src, sizeof src, "172.17.%d.%d", i / 200, i % 200);
        send_at(c, 3000, 3, TCP_SPEC(src, "10.0.0.2", 1024, 80, SYN, 3, 2));
    }
    st = stats_of(c);
    assert_int_equal(st.n_flows, 100);

    /* The flood took the 2 free slots, then evicted 11 established flows
     * (until 13 probation flows made 1/8 of 100), then replaced itself. */
    c->sink.n_two_way = 0;
    flow_table_flush(c->table, T0 + 4000);
    assert_int_equal(c->sink.n_event[VNM_FLOW_END_SHUTDOWN], 100);
    assert_int_equal(c->sink.n_event[VNM_FLOW_END_EVICTED], 1000 - 2);
    assert_int_equal(c->sink.n_two_way, 98 - 11);
}

/* A million SYNs from random sources through a classifying table: memory
 * stays under the cap, evictions are counted, established flows stay. */
static void
test_memory_cap_syn_flood(void **statep)
{
    struct ctx *c = *statep;
    struct flow_table_stats st;
    struct frame f;
    uint32_t x = 2463534242u;
    uint64_t cap = 24ULL << 20;
    size_t n_established = 200;
    size_t i;

    c->cfg.max_memory = cap;
    c->cfg.max_flows = 1000000;
    c->cfg.classify = true;
    c->sink.keep = false;
    ctx_create(c);

    for (i = 0; i < n_established; i++) {
        send_at(c, 0, 1, TCP_SPEC("10.0.0.1", "10.0.0.2", 20000 + i, 443,
                                  SYN, 1, 2));
        send_at(c, 0, 2, TCP_SPEC("10.0.0.2", "10.0.0.1", 443, 20000 + i,
                                  SYN | ACK, 2, 1));
    }

    /* One frame, its source address and port rewritten in place. */
    build(&f, TCP_SPEC("1.2.3.4", "10.0.0.2", 1, 80, SYN, 3, 2));
    for (i = 0; i < 1000000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        memcpy(f.d.src_ip.a, &x, 4);
        memcpy(f.buf + f.d.l3 + 12, &x, 4);
        f.d.src_port = 1024 + (x >> 20);
        put16(f.buf + f.d.l4, f.d.src_port);
        flow_table_packet(c->table, &f.d, f.buf, 3, T0 + 1 + i / 1000);
        if (i % 100000 == 0) {
            flow_table_expire(c->table, T0 + 1 + i / 1000);
        }
    }

    st = stats_of(c);
    assert_true(st.max_memory_seen <= cap);
    assert_true(st.memory <= cap);
    assert_true(st.n_evicted > 900000);
    assert_int_equal(st.n_evicted, c->sink.n_event[VNM_FLOW_END_EVICTED]);
    assert_int_equal(st.n_evicted_probation, st.n_evicted);
    assert_int_equal(st.n_created, 1000000 + n_established);
    assert_int_equal(st.n_created - st.n_ended, st.n_flows);
    assert_true(st.n_flows * flow_table_flow_size(c->table) < cap);
    assert_true(st.n_flows > 1000);

    /* The established flows all survived. */
    assert_int_equal(c->sink.n_two_way, 0);
    flow_table_flush(c->table, T0 + 2000);
    assert_int_equal(c->sink.n_event[VNM_FLOW_END_SHUTDOWN], st.n_flows);
    assert_int_equal(c->sink.n_two_way, n_established);
}

/* The memory cap without nDPI: the table's own memory. */
static void
test_memory_cap_plain(void **statep)
{
    struct ctx *c = *statep;
    struct flow_table_stats st;
    uint64_t cap = 1 << 20;
    char dst[32];
    int i;

    c->cfg.max_memory = cap;
    c->sink.keep = false;
    ctx_create(c);
    assert_true(flow_table_flow_size(c->table) < 512);
    for (i = 0; i < 20000; i++) {
        snprintf(dst, sizeof dst, "10.1.%d.%d", i / 250, i % 250);
        send_at(c, i, 1, UDP_SPEC("10.0.0.1", dst, 1000, 1000));
    }
    st = stats_of(c);
    assert_true(st.max_memory_seen <= cap);
    assert_true(st.memory + flow_table_flow_size(c->table) > cap);
    assert_int_equal(st.n_evicted, 20000 - st.n_flows);
    assert_int_equal(st.ndpi_memory, 0);
}

/* nDPI through the table: an HTTP exchange is classified, then no longer
 * fed; a flow unfinished at its end is given up on. */
static void
test_classify_in_table(void **statep)
{
    static const char get[] =
        "GET / HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\n\r\n";
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    struct ctx *c = *statep;
    const struct vnm_flow *r;
    struct spec s;

    c->cfg.classify = true;
    c->cfg.update_interval_ms = 1000;
    ctx_create(c);
    assert_true(flow_table_flow_size(c->table) <= 1536);
    assert_true(stats_of(c).ndpi_memory > 1000000);

    send_at(c, 0, 1, C2S(SYN));
    send_at(c, 1, 2, S2C(SYN | ACK));
    send_at(c, 2, 1, C2S(ACK));
    s = *C2S(PSH | ACK);
    s.payload = get;
    s.payload_len = strlen(get);
    send_at(c, 3, 1, &s);
    flow_table_expire(c->table, T0 + 1000);
    r = only_record(c);
    assert_int_equal(r->event, VNM_FLOW_UPDATE);
    assert_string_equal(r->app, "HTTP");
    assert_string_equal(r->server_name, "www.example.com");
    assert_int_equal(stats_of(c).n_classified, 0);

    s = *S2C(PSH | ACK);
    s.payload = ok;
    s.payload_len = strlen(ok);
    send_at(c, 1001, 2, &s);
    assert_int_equal(stats_of(c).n_classified, 1);

    /* A flow still unknown at its end: nDPI guesses from the port. */
    send_at(c, 1002, 1, TCP_SPEC("10.0.0.1", "10.0.0.2", 40001, 6379, SYN,
                                 1, 2));
    send_at(c, 1003, 1, &(struct spec) {
                .src = "10.0.0.1", .dst = "10.0.0.2", .proto = P_TCP,
                .sport = 40001, .dport = 6379, .flags = PSH | ACK,
                .smac = 1, .dmac = 2, .payload = "\xde\xad\xbe\xef\x01\x02",
                .payload_len = 6 });

    /* ARP is never fed: no nDPI fields. */
    send_at(c, 1004, 1, &(struct spec) { .smac = 1, .dmac = 0xff });
    flow_table_flush(c->table, T0 + 2000);
    assert_int_equal(stats_of(c).n_classified, 2);
    r = find_record(c, VNM_FLOW_END_SHUTDOWN, 40000);
    assert_string_equal(r->app, "HTTP");
    assert_string_equal(r->category, "Web");
    r = find_record(c, VNM_FLOW_END_SHUTDOWN, 40001);
    assert_string_equal(r->app, "Redis");
    r = find_record(c, VNM_FLOW_END_SHUTDOWN, 0);
    assert_int_equal(r->eth_type, 0x0806);
    assert_string_equal(r->app, "");

    /* Every flow's nDPI heap was returned. */
    assert_int_equal(stats_of(c).n_flows, 0);
}

/* Flows in the table at destroy time are freed, with no record. */
static void
test_destroy_silent(void **statep)
{
    struct ctx *c = *statep;

    c->cfg.classify = true;
    ctx_create(c);
    send_at(c, 0, 1, C2S(SYN));
    send_at(c, 1, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 1, 53));
    flow_table_destroy(c->table);
    c->table = NULL;
    assert_int_equal(c->sink.n, 0);
}

/* Time going backwards does not break the table's order. */
static void
test_clock_backwards(void **statep)
{
    struct ctx *c = *statep;

    ctx_create(c);
    send_at(c, 5000, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 1, 2));
    send_at(c, 1000, 1, UDP_SPEC("10.0.0.1", "10.0.0.3", 1, 2));
    flow_table_expire(c->table, T0);
    assert_int_equal(c->sink.n, 0);
    flow_table_expire(c->table, T0 + 65000);
    assert_int_equal(c->sink.n, 2);
    assert_int_equal(c->sink.recs[1].first_ms, T0 + 5000);
}

/* A frame too short for an Ethernet header is counted, in no flow. */
static void
test_runt(void **statep)
{
    struct ctx *c = *statep;
    struct decoded d;
    uint8_t frame[10] = { 0 };

    ctx_create(c);
    memset(&d, 0, sizeof d);
    d.caplen = d.wire_len = sizeof frame;
    d.error = DECODE_ETH_TRUNCATED;
    flow_table_packet(c->table, &d, frame, 1, T0);
    assert_int_equal(stats_of(c).n_runts, 1);
    assert_int_equal(stats_of(c).n_packets, 1);
    assert_int_equal(stats_of(c).n_flows, 0);
}

/* A frame decoded by decode_frame(), not by hand, gives the same flow. */
static void
test_with_decoder(void **statep)
{
    struct ctx *c = *statep;
    struct spec s = *UDP_SPEC("192.168.1.1", "192.168.1.2", 5555, 53);
    struct decoded d;
    struct frame f;

    ctx_create(c);
    s.n_vlan = 1;
    s.vid[0] = 42;
    s.payload = "abcdefgh";
    s.payload_len = 8;
    build(&f, &s);
    memset(&d, 0, sizeof d);
    decode_frame(f.buf, f.len, f.len, &d);
    flow_table_packet(c->table, &d, f.buf, 7, T0);
    flow_table_packet(c->table, &f.d, f.buf, 7, T0 + 1);
    flow_table_flush(c->table, T0 + 2);
    assert_int_equal(c->sink.n, 1);
    assert_int_equal(c->sink.recs[0].src.packets, 2);
    assert_int_equal(c->sink.recs[0].n_vlan_tags, 1);
    assert_int_equal(c->sink.recs[0].vlan[0].tci, 42);
}

/* Per-second deltas: what the bw callback was given. */
struct bw_sink {
    struct flow_bw_delta d[64];
    size_t n;
};

static struct bw_sink *bw_sink;

static void
on_bw(void *aux, const struct flow_bw_delta *d)
{
    (void) aux;
    assert_true(bw_sink->n < 64);
    bw_sink->d[bw_sink->n++] = *d;
}

/* Frames are tallied per flow per second, by their own timestamps; a later
 * frame or a tick closes the second; an ending flow hands over its tally;
 * the deltas add up to the records' counters. */
static void
test_bw_deltas(void **statep)
{
    struct ctx *c = *statep;
    struct spec a = *UDP_SPEC("10.0.0.1", "10.0.0.2", 1000, 2000);
    struct spec b = *UDP_SPEC("10.0.0.2", "10.0.0.1", 2000, 1000);
    struct bw_sink sink = { .n = 0 };
    uint64_t sec0 = T0 / 1000;
    uint64_t pk[2] = { 0, 0 };

    bw_sink = &sink;
    ctx_create(c);
    flow_table_set_bw(c->table, on_bw);
    send_at(c, 0, 5, &a);          /* Second 0: 2 frames from 5. */
    send_at(c, 10, 5, &a);
    send_at(c, 500, 9, &b);        /* ...and 1 answer from 9. */
    assert_int_equal(sink.n, 0);
    assert_int_equal(flow_table_bw_second(c->table), sec0);
    send_at(c, 1200, 5, &a);       /* Second 1 closes second 0. */
    assert_int_equal(sink.n, 1);
    assert_int_equal(sink.d[0].sec, sec0);
    assert_int_equal(sink.d[0].packets[0], 2);  /* Initiator: 10.0.0.1. */
    assert_int_equal(sink.d[0].packets[1], 1);
    assert_int_equal(sink.d[0].bytes[0], 120);  /* 2 padded frames. */
    assert_int_equal(sink.d[0].port[0], 5);
    assert_int_equal(sink.d[0].port[1], 9);
    assert_int_equal(sink.d[0].ip[0].family, 4);
    assert_int_equal(sink.d[0].ip[0].a[3], 1);

    /* A frame stamped in the closed second counts in the current one. */
    send_at(c, 900, 5, &a);
    assert_int_equal(stats_of(c).n_bw_late, 1);

    /* A tick from the wall clock closes second 1 with nothing new. */
    flow_table_tick(c->table, sec0 + 3);
    assert_int_equal(sink.n, 2);
    assert_int_equal(sink.d[1].sec, sec0 + 1);
    assert_int_equal(sink.d[1].packets[0], 2);
    flow_table_tick(c->table, sec0 + 2);        /* Backwards: nothing. */
    assert_int_equal(flow_table_bw_second(c->table), sec0 + 3);

    /* The flow ends with a tally pending: handed over first. */
    send_at(c, 3100, 9, &b);
    flow_table_flush(c->table, T0 + 3200);
    assert_int_equal(sink.n, 3);
    assert_int_equal(sink.d[2].sec, sec0 + 3);
    assert_int_equal(sink.d[2].packets[1], 1);

    for (size_t i = 0; i < sink.n; i++) {
        pk[0] += sink.d[i].packets[0];
        pk[1] += sink.d[i].packets[1];
    }
    assert_int_equal(c->sink.n, 1);
    assert_int_equal(c->sink.recs[0].src.packets, pk[0]);
    assert_int_equal(c->sink.recs[0].dst.packets, pk[1]);
    assert_int_equal(stats_of(c).n_bw_deltas, 3);
}

/* Sends the frame of 's' through 'c' at T0 + 'ms', from port 'port_id', as
 * decode_frame() decodes it (which must decode it completely). */
static void
send_decoded(struct ctx *c, uint64_t ms, uint32_t port_id,
             const struct spec *s)
{
    struct decoded d;
    struct frame f;

    build(&f, s);
    memset(&d, 0, sizeof d);
    assert_true(decode_frame(f.buf, f.len, f.len, &d));
    assert_int_equal(d.eth_type, f.d.eth_type);
    assert_int_equal(d.arp.op, f.d.arp.op);
    assert_int_equal(d.icmp_type, f.d.icmp_type);
    assert_int_equal(d.dhcp_msg_type, f.d.dhcp_msg_type);
    flow_table_packet(c->table, &d, f.buf, port_id, T0 + ms);
}

/* How many records of 'c' have an initiator that entered on 'ofport' and
 * the EtherType 'eth_type'. */
static size_t
count_from(const struct ctx *c, int32_t ofport, uint16_t eth_type)
{
    size_t n = 0;

    for (size_t i = 0; i < c->sink.n; i++) {
        const struct vnm_flow *r = &c->sink.recs[i];

        n += r->src.in.ofport == ofport && r->eth_type == eth_type;
    }
    return n;
}

/* The only record of 'c' whose initiator entered on 'ofport' and whose
 * EtherType is 'eth_type'. */
static const struct vnm_flow *
only_from(const struct ctx *c, int32_t ofport, uint16_t eth_type)
{
    const struct vnm_flow *found = NULL;

    for (size_t i = 0; i < c->sink.n; i++) {
        const struct vnm_flow *r = &c->sink.recs[i];

        if (r->src.in.ofport == ofport && r->eth_type == eth_type) {
            assert_null(found);
            found = r;
        }
    }
    assert_non_null(found);
    return found;
}

/* A one-way record: nothing from the responder, no L4 port unless DHCP. */
static void
assert_one_way(const struct vnm_flow *r, uint64_t packets)
{
    static const struct vnm_flow_ctl zero;

    assert_int_equal(r->src.packets, packets);
    assert_int_equal(r->dst.packets, 0);
    assert_int_equal(r->dst.bytes, 0);
    assert_int_equal(r->dst.in.ofport, -1);
    assert_memory_equal(&r->dst_ctl, &zero, sizeof zero);
    if (r->ip_proto != P_UDP) {
        assert_int_equal(r->src.port, 0);
        assert_int_equal(r->dst.port, 0);
    }
}

#define ARP_SPEC(OP, SPA, TPA, SMAC, DMAC, SHA)                          \
    (&(struct spec) { .arp_op = (OP), .arp_spa = (SPA), .arp_tpa = (TPA), \
                      .smac = (SMAC), .dmac = (DMAC), .arp_sha = (SHA) })

/* ARP: one one-way flow per sender, port and claim, with the sender and
 * target protocol addresses as the record's addresses and what it claimed
 * in 'src_ctl'; a forged frame from another port never merges into the
 * genuine flow, even when its bytes are the same. */
static void
test_arp_one_way(void **statep)
{
    struct ctx *c = *statep;
    const struct vnm_flow *r;
    uint8_t mac[6];

    ctx_create(c);
    /* Port 1 (..:01, 10.0.0.1) asks twice for 10.0.0.2; port 2 (..:02)
     * answers; then announces itself (gratuitous). */
    send_decoded(c, 0, 1, ARP_SPEC(1, "10.0.0.1", "10.0.0.2", 1, 0xff, 0));
    send_decoded(c, 1, 1, ARP_SPEC(1, "10.0.0.1", "10.0.0.2", 1, 0xff, 0));
    send_decoded(c, 2, 2, ARP_SPEC(2, "10.0.0.2", "10.0.0.1", 2, 1, 0));
    send_decoded(c, 3, 2, ARP_SPEC(1, "10.0.0.2", "10.0.0.2", 2, 0xff, 0));
    /* Port 3 (..:03) forges: the same reply bytes as port 2's; a reply
     * whose sender MAC (..:02) is not its Ethernet source; a gratuitous
     * reply claiming 10.0.0.2. */
    send_decoded(c, 4, 3, ARP_SPEC(2, "10.0.0.2", "10.0.0.1", 2, 1, 0));
    send_decoded(c, 5, 3, ARP_SPEC(2, "10.0.0.2", "10.0.0.1", 3, 1, 2));
    send_decoded(c, 6, 3, ARP_SPEC(2, "10.0.0.2", "10.0.0.2", 3, 0xff, 0));
    assert_int_equal(stats_of(c).n_flows, 6);
    flow_table_flush(c->table, T0 + 10);
    assert_int_equal(c->sink.n, 6);
    for (size_t i = 0; i < c->sink.n; i++) {
        r = &c->sink.recs[i];
        assert_int_equal(r->eth_type, 0x0806);
        assert_int_equal(r->ip_proto, 0);
        assert_int_equal(r->src_ctl.has_icmp, 0);
        assert_int_equal(r->src_ctl.nd, 0);
        assert_int_equal(r->src_ctl.dhcp_types, 0);
        assert_int_equal(r->tunnel_type, 0);
        assert_int_equal(r->outer.src_ip.family, 0);
    }

    r = only_from(c, 1, 0x0806);
    assert_one_way(r, 2);
    assert_ip(&r->src.ip, "10.0.0.1");
    assert_ip(&r->dst.ip, "10.0.0.2");
    assert_mac(r->src.mac, 1);
    assert_int_equal(r->src_ctl.arp, VNM_ARP_REQUEST);
    assert_mac(r->src_ctl.arp_sha, 1);
    assert_int_equal(r->first_ms, T0);
    assert_int_equal(r->last_ms, T0 + 1);

    assert_int_equal(count_from(c, 2, 0x0806), 2);
    for (size_t i = 0; i < c->sink.n; i++) {
        r = &c->sink.recs[i];
        if (r->src.in.ofport != 2) {
            continue;
        }
        assert_one_way(r, 1);
        assert_ip(&r->src.ip, "10.0.0.2");
        assert_mac(r->src_ctl.arp_sha, 2);
        if (r->src_ctl.arp & VNM_ARP_GRATUITOUS) {
            assert_int_equal(r->src_ctl.arp,
                             VNM_ARP_REQUEST | VNM_ARP_GRATUITOUS);
            assert_ip(&r->dst.ip, "10.0.0.2");
        } else {
            assert_int_equal(r->src_ctl.arp, VNM_ARP_REPLY);
            assert_ip(&r->dst.ip, "10.0.0.1");
        }
    }

    assert_int_equal(count_from(c, 3, 0x0806), 3);
    for (size_t i = 0; i < c->sink.n; i++) {
        r = &c->sink.recs[i];
        if (r->src.in.ofport != 3) {
            continue;
        }
        assert_one_way(r, 1);
        assert_ip(&r->src.ip, "10.0.0.2");
        assert_string_equal(r->src.in.port, "tap3");
        if (r->src_ctl.arp & VNM_ARP_GRATUITOUS) {
            assert_int_equal(r->src_ctl.arp,
                             VNM_ARP_REPLY | VNM_ARP_GRATUITOUS);
            assert_mac(r->src.mac, 3);
            assert_mac(r->src_ctl.arp_sha, 3);
        } else if (r->src_ctl.arp & VNM_ARP_SHA_MISMATCH) {
            assert_int_equal(r->src_ctl.arp,
                             VNM_ARP_REPLY | VNM_ARP_SHA_MISMATCH);
            assert_mac(r->src.mac, 3);
            assert_mac(r->src_ctl.arp_sha, 2);
        } else {
            /* Port 2's reply, byte for byte, but from port 3. */
            assert_int_equal(r->src_ctl.arp, VNM_ARP_REPLY);
            assert_mac(r->src.mac, 2);
            assert_mac(r->src_ctl.arp_sha, 2);
        }
    }

    /* An ARP frame too short to decode keys on its MACs as before. */
    set_mac(mac, 2);
    send_at(c, 20, 1, &(struct spec) { .smac = 1, .dmac = 2 });
    send_at(c, 21, 2, &(struct spec) { .smac = 2, .dmac = 1 });
    flow_table_flush(c->table, T0 + 30);
    assert_int_equal(c->sink.n, 7);
    r = &c->sink.recs[6];
    assert_int_equal(r->src.packets, 1);
    assert_int_equal(r->dst.packets, 1);
    assert_int_equal(r->src.ip.family, 0);
    assert_int_equal(r->src_ctl.arp, 0);
    assert_memory_equal(r->dst.mac, mac, 6);
}

#define ND_SPEC(SRC, DST, TYPE, TARGET, LL, FLAGS, SMAC)                  \
    (&(struct spec) { .src = (SRC), .dst = (DST), .proto = P_ICMPV6,      \
                      .icmp_type = (TYPE), .nd_target = (TARGET),         \
                      .nd_ll = (LL), .nd_flags = (FLAGS), .smac = (SMAC), \
                      .dmac = 0xff })

/* The record of 'c' from 'ofport' whose sender sent the ND types 'nd'
 * (which must be unique). */
static const struct vnm_flow *
nd_record(const struct ctx *c, int32_t ofport, uint8_t nd)
{
    const struct vnm_flow *found = NULL;

    for (size_t i = 0; i < c->sink.n; i++) {
        const struct vnm_flow *r = &c->sink.recs[i];

        if (r->src.in.ofport == ofport && r->src_ctl.nd == nd) {
            assert_null(found);
            found = r;
        }
    }
    assert_non_null(found);
    return found;
}

/* ND: one-way flows with the type, flags, link-layer address and target
 * each sender claimed; ICMPv6 echo stays two-way, with each side's first
 * type. */
static void
test_nd_one_way(void **statep)
{
    struct ctx *c = *statep;
    const struct vnm_flow *r;
    struct vnm_addr target;

    ctx_create(c);
    /* Port 1 solicits fd00::2; port 2 answers (S|O) twice; port 2 also
     * advertises fd00::22 (another target, another flow); port 3 forges an
     * NA for fd00::2 with its own MAC (O) and advertises a route (M|O). */
    send_decoded(c, 0, 1, ND_SPEC("fd00::1", "ff02::1:ff00:2", 135,
                                  "fd00::2", 1, 0, 1));
    send_decoded(c, 1, 2, ND_SPEC("fd00::2", "fd00::1", 136, "fd00::2", 2,
                                  0x60, 2));
    send_decoded(c, 2, 2, ND_SPEC("fd00::2", "fd00::1", 136, "fd00::2", 2,
                                  0x60, 2));
    send_decoded(c, 3, 2, ND_SPEC("fd00::2", "fd00::1", 136, "fd00::22", 2,
                                  0x20, 2));
    send_decoded(c, 4, 3, ND_SPEC("fd00::3", "fd00::1", 136, "fd00::2", 3,
                                  0x20, 3));
    send_decoded(c, 5, 3, ND_SPEC("fe80::3", "ff02::1", 134, NULL, 3, 0xc0,
                                  3));
    send_decoded(c, 6, 1, ND_SPEC("fe80::1", "ff02::2", 133, NULL, 0, 0,
                                  1));
    /* An echo request and its reply: one two-way flow. */
    send_decoded(c, 7, 1, &(struct spec) {
                     .src = "fd00::1", .dst = "fd00::2", .proto = P_ICMPV6,
                     .sport = 77, .smac = 1, .dmac = 2 });
    send_decoded(c, 8, 2, &(struct spec) {
                     .src = "fd00::2", .dst = "fd00::1", .proto = P_ICMPV6,
                     .sport = 77, .echo_reply = true, .smac = 2,
                     .dmac = 1 });
    assert_int_equal(stats_of(c).n_flows, 7);
    flow_table_flush(c->table, T0 + 10);
    assert_int_equal(c->sink.n, 7);

    r = nd_record(c, 1, VNM_ND_NS);
    assert_one_way(r, 1);
    assert_ip(&r->src.ip, "fd00::1");
    assert_ip(&r->dst.ip, "ff02::1:ff00:2");
    assert_int_equal(r->ip_proto, P_ICMPV6);
    assert_int_equal(r->src_ctl.has_icmp, 1);
    assert_int_equal(r->src_ctl.icmp_type, 135);
    assert_int_equal(r->src_ctl.icmp_code, 0);
    assert_int_equal(r->src_ctl.has_nd_lladdr, 1);
    assert_mac(r->src_ctl.nd_lladdr, 1);
    assert_int_equal(r->src_ctl.nd_flags, 0);
    set_addr(&target, "fd00::2");
    assert_memory_equal(r->src_ctl.nd_target, target.a, 16);

    /* Port 2's NAs: two for fd00::2, one for fd00::22. */
    assert_int_equal(count_from(c, 2, 0x86dd), 2);
    for (size_t i = 0; i < c->sink.n; i++) {
        r = &c->sink.recs[i];
        if (r->src.in.ofport != 2 || r->src_ctl.nd != VNM_ND_NA) {
            continue;
        }
        assert_ip(&r->src.ip, "fd00::2");
        assert_int_equal(r->src_ctl.icmp_type, 136);
        assert_mac(r->src_ctl.nd_lladdr, 2);
        if (r->src.packets == 2) {
            assert_one_way(r, 2);
            assert_int_equal(r->src_ctl.nd_flags, 0x60);
            assert_memory_equal(r->src_ctl.nd_target, target.a, 16);
        } else {
            struct vnm_addr other;

            assert_one_way(r, 1);
            assert_int_equal(r->src_ctl.nd_flags, 0x20);
            set_addr(&other, "fd00::22");
            assert_memory_equal(r->src_ctl.nd_target, other.a, 16);
        }
    }

    r = nd_record(c, 3, VNM_ND_NA);
    assert_one_way(r, 1);
    assert_ip(&r->src.ip, "fd00::3");
    assert_int_equal(r->src_ctl.nd_flags, 0x20);
    assert_mac(r->src_ctl.nd_lladdr, 3);
    assert_memory_equal(r->src_ctl.nd_target, target.a, 16);

    r = nd_record(c, 3, VNM_ND_RA);
    assert_one_way(r, 1);
    assert_ip(&r->src.ip, "fe80::3");
    assert_ip(&r->dst.ip, "ff02::1");
    assert_int_equal(r->src_ctl.icmp_type, 134);
    assert_int_equal(r->src_ctl.nd_flags, 0xc0);
    assert_mac(r->src_ctl.nd_lladdr, 3);

    r = nd_record(c, 1, VNM_ND_RS);
    assert_one_way(r, 1);
    assert_int_equal(r->src_ctl.icmp_type, 133);
    assert_int_equal(r->src_ctl.has_nd_lladdr, 0);

    /* The echo: two-way, with each side's first ICMPv6 type. */
    r = nd_record(c, 1, 0);
    assert_int_equal(r->src.packets, 1);
    assert_int_equal(r->dst.packets, 1);
    assert_int_equal(r->src.port, 77);
    assert_int_equal(r->src_ctl.has_icmp, 1);
    assert_int_equal(r->src_ctl.icmp_type, 128);
    assert_int_equal(r->dst_ctl.has_icmp, 1);
    assert_int_equal(r->dst_ctl.icmp_type, 129);
    assert_int_equal(r->dst_ctl.nd, 0);
}

#define DHCP_SPEC(SRC, DST, SP, DP, TYPE, SMAC)                         \
    (&(struct spec) { .src = (SRC), .dst = (DST), .proto = P_UDP,       \
                      .sport = (SP), .dport = (DP), .dhcp_type = (TYPE),  \
                      .smac = (SMAC), .dmac = 0xff })

/* DHCP and DHCPv6: one-way flows with the message types each sender sent
 * and the real UDP ports; a rogue server's OFFER is its own flow. */
static void
test_dhcp_one_way(void **statep)
{
    struct ctx *c = *statep;
    const struct vnm_flow *r;

    ctx_create(c);
    /* Port 1's client: DISCOVER, then REQUEST.  The host's server (port
     * 9) and a rogue VM's (port 5) both OFFER and ACK. */
    send_decoded(c, 0, 1, DHCP_SPEC("0.0.0.0", "255.255.255.255", 68, 67,
                                    1, 1));
    send_decoded(c, 1, 9, DHCP_SPEC("10.0.0.254", "255.255.255.255", 67,
                                    68, 2, 9));
    send_decoded(c, 1, 5, DHCP_SPEC("10.0.0.5", "255.255.255.255", 67, 68,
                                    2, 5));
    send_decoded(c, 2, 1, DHCP_SPEC("0.0.0.0", "255.255.255.255", 68, 67,
                                    3, 1));
    send_decoded(c, 3, 9, DHCP_SPEC("10.0.0.254", "255.255.255.255", 67,
                                    68, 5, 9));
    send_decoded(c, 3, 5, DHCP_SPEC("10.0.0.5", "255.255.255.255", 67, 68,
                                    5, 5));
    /* A DHCPv6 ADVERTISE from the rogue VM. */
    send_decoded(c, 4, 5, DHCP_SPEC("fe80::5", "fe80::1", 547, 546, 2, 5));
    assert_int_equal(stats_of(c).n_flows, 4);
    flow_table_flush(c->table, T0 + 10);
    assert_int_equal(c->sink.n, 4);

    r = only_from(c, 1, 0x0800);
    assert_one_way(r, 2);
    assert_ip(&r->src.ip, "0.0.0.0");
    assert_ip(&r->dst.ip, "255.255.255.255");
    assert_int_equal(r->src.port, 68);
    assert_int_equal(r->dst.port, 67);
    assert_int_equal(r->src_ctl.dhcp_types, (1u << 1) | (1u << 3));
    assert_int_equal(r->src_ctl.dhcpv6, 0);

    r = only_from(c, 9, 0x0800);
    assert_one_way(r, 2);
    assert_ip(&r->src.ip, "10.0.0.254");
    assert_int_equal(r->src.port, 67);
    assert_int_equal(r->dst.port, 68);
    assert_int_equal(r->src_ctl.dhcp_types, (1u << 2) | (1u << 5));

    r = only_from(c, 5, 0x0800);
    assert_one_way(r, 2);
    assert_ip(&r->src.ip, "10.0.0.5");
    assert_string_equal(r->src.in.port, "tap5");
    assert_true(r->src_ctl.dhcp_types & (1u << 2));     /* OFFER. */
    assert_int_equal(r->src_ctl.dhcp_types, (1u << 2) | (1u << 5));
    assert_int_equal(r->src_ctl.has_icmp, 0);

    r = only_from(c, 5, 0x86dd);
    assert_one_way(r, 1);
    assert_int_equal(r->src.port, 547);
    assert_int_equal(r->dst.port, 546);
    assert_int_equal(r->src_ctl.dhcpv6, 1);
    assert_int_equal(r->src_ctl.dhcp_types, 1u << 2);
}

/* A fragmented DHCP message: the later fragment joins its one-way flow. */
static void
test_dhcp_fragments(void **statep)
{
    struct ctx *c = *statep;
    struct spec s = *DHCP_SPEC("10.0.0.5", "10.0.0.1", 67, 68, 0, 5);

    ctx_create(c);
    s.frag = s.mf = true;
    s.frag_id = 77;
    send_at(c, 0, 5, &s);
    s.mf = false;
    s.frag_off = 1480;
    send_at(c, 1, 5, &s);
    flow_table_flush(c->table, T0 + 10);
    assert_int_equal(only_record(c)->src.packets, 2);
    assert_one_way(only_record(c), 2);
    assert_int_equal(only_record(c)->src.port, 67);
    assert_int_equal(stats_of(c).n_frags_untracked, 0);
}

/* Wraps the frame 'inner' into a VXLAN frame 'f' (VNI 'vni') from
 * 'osrc':'sport' to 'odst':4789 and decodes it with decode_frame(). */
static void
vxlan_wrap(struct frame *f, const struct frame *inner, const char *osrc,
           const char *odst, uint16_t sport, uint32_t vni)
{
    struct vnm_addr a;
    uint8_t *p = f->buf;
    size_t ilen = inner->len;

    memset(f, 0, sizeof *f);
    set_mac(p, 0xaa);
    set_mac(p + 6, 0xbb);
    put16(p + 12, 0x0800);
    p += 14;
    p[0] = 0x45;
    put16(p + 2, 20 + 8 + 8 + ilen);
    p[8] = 64;
    p[9] = P_UDP;
    set_addr(&a, osrc);
    memcpy(p + 12, a.a, 4);
    set_addr(&a, odst);
    memcpy(p + 16, a.a, 4);
    p += 20;
    put16(p, sport);
    put16(p + 2, 4789);
    put16(p + 4, 8 + 8 + ilen);
    p += 8;
    p[0] = 0x08;                /* VNI present. */
    p[4] = vni >> 16;
    p[5] = vni >> 8;
    p[6] = vni;
    p += 8;
    memcpy(p, inner->buf, ilen);
    p += ilen;
    f->len = p - f->buf;
    assert_true(decode_frame(f->buf, f->len, f->len, &f->d));
    assert_int_equal(f->d.tunnel, DECODE_TUNNEL_VXLAN);
}

/* Tunnelled flows carry the outer addresses of their first frame; ARP in
 * the tunnel is one-way as well. */
static void
test_tunnel_outer(void **statep)
{
    struct ctx *c = *statep;
    struct frame inner, f;
    const struct vnm_flow *r;
    size_t n_tunnel = 0;

    ctx_create(c);
    build(&inner, &(struct spec) {
              .src = "192.168.1.1", .dst = "192.168.1.2", .proto = P_ICMP,
              .sport = 9, .smac = 1, .dmac = 2 });
    vxlan_wrap(&f, &inner, "172.16.0.1", "172.16.0.2", 50000, 5000);
    flow_table_packet(c->table, &f.d, f.buf, 4, T0);
    build(&inner, &(struct spec) {
              .src = "192.168.1.2", .dst = "192.168.1.1", .proto = P_ICMP,
              .sport = 9, .echo_reply = true, .smac = 2, .dmac = 1 });
    vxlan_wrap(&f, &inner, "172.16.0.2", "172.16.0.1", 50001, 5000);
    flow_table_packet(c->table, &f.d, f.buf, 4, T0 + 1);
    build(&inner, ARP_SPEC(1, "192.168.1.1", "192.168.1.3", 1, 0xff, 0));
    vxlan_wrap(&f, &inner, "172.16.0.1", "172.16.0.9", 50002, 6000);
    flow_table_packet(c->table, &f.d, f.buf, 4, T0 + 2);
    send_at(c, 3, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 1, 2));
    flow_table_flush(c->table, T0 + 10);
    assert_int_equal(c->sink.n, 3);

    for (size_t i = 0; i < c->sink.n; i++) {
        r = &c->sink.recs[i];
        if (!r->tunnel_type) {
            static const struct vnm_flow_outer zero;

            assert_memory_equal(&r->outer, &zero, sizeof zero);
            continue;
        }
        n_tunnel++;
        assert_int_equal(r->tunnel_type, DECODE_TUNNEL_VXLAN);
        assert_ip(&r->outer.src_ip, "172.16.0.1");
        if (r->eth_type == 0x0806) {
            assert_int_equal(r->vni, 6000);
            assert_ip(&r->outer.dst_ip, "172.16.0.9");
            assert_int_equal(r->outer.src_port, 50002);
            assert_one_way(r, 1);
            assert_ip(&r->src.ip, "192.168.1.1");
            assert_ip(&r->dst.ip, "192.168.1.3");
            assert_int_equal(r->src_ctl.arp, VNM_ARP_REQUEST);
        } else {
            assert_int_equal(r->vni, 5000);
            assert_ip(&r->outer.dst_ip, "172.16.0.2");
            assert_int_equal(r->outer.src_port, 50000);
            assert_int_equal(r->outer.dst_port, 4789);
            assert_ip(&r->src.ip, "192.168.1.1");
            assert_int_equal(r->src.packets, 1);
            assert_int_equal(r->dst.packets, 1);
            assert_int_equal(r->src_ctl.icmp_type, 8);
            assert_int_equal(r->dst_ctl.has_icmp, 1);
            assert_int_equal(r->dst_ctl.icmp_type, 0);
        }
    }
    assert_int_equal(n_tunnel, 2);
}

/* Only one-way and tunnelled flows pay for their extra state; the memory
 * stats count it and give it back. */
static void
test_extra_memory(void **statep)
{
    struct ctx *c = *statep;
    uint64_t base, plain, extra;

    ctx_create(c);
    base = stats_of(c).memory;
    send_at(c, 0, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 1000, 2000));
    plain = stats_of(c).memory - base;
    assert_int_equal(plain, flow_table_flow_size(c->table));
    send_decoded(c, 1, 1, ARP_SPEC(1, "10.0.0.1", "10.0.0.2", 1, 0xff, 0));
    extra = stats_of(c).memory - base - 2 * plain;
    assert_int_equal(extra, 84);     /* As flow-table.h says. */
    flow_table_flush(c->table, T0 + 10);
    assert_int_equal(stats_of(c).memory, base);
}

/* The first UPDATE record comes 'first_update_ms' after a flow starts,
 * then every 'update_interval_ms'; a flow that ends before it gets none;
 * a restarted incarnation gets one too; no update interval, no first
 * update. */
static void
test_first_update(void **statep)
{
    struct ctx *c = *statep;
    const struct vnm_flow *r;

    c->cfg.update_interval_ms = 10000;
    c->cfg.first_update_ms = 1000;
    c->cfg.tcp_closed_timeout_ms = 500;
    c->cfg.active_timeout_ms = 30000;
    ctx_create(c);
    send_at(c, 0, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 1000, 2000));   /* A */
    send_at(c, 500, 2, UDP_SPEC("10.0.0.3", "10.0.0.4", 3000, 4000)); /* B */
    flow_table_expire(c->table, T0 + 999);
    assert_int_equal(c->sink.n, 0);
    flow_table_expire(c->table, T0 + 1000);
    assert_int_equal(c->sink.n, 1);
    r = &c->sink.recs[0];
    assert_int_equal(r->event, VNM_FLOW_UPDATE);
    assert_int_equal(r->src.port, 1000);
    assert_int_equal(r->src.packets, 1);

    /* B sends again before its first record: both frames in it. */
    send_at(c, 1200, 2, UDP_SPEC("10.0.0.3", "10.0.0.4", 3000, 4000));
    /* C: a TCP flow reset and ended before its first record. */
    send_at(c, 1300, 1, C2S(SYN));
    send_at(c, 1400, 2, S2C(RST | ACK));
    flow_table_expire(c->table, T0 + 1499);
    assert_int_equal(c->sink.n, 1);
    flow_table_expire(c->table, T0 + 1500);
    assert_int_equal(c->sink.n, 2);
    r = &c->sink.recs[1];
    assert_int_equal(r->event, VNM_FLOW_UPDATE);
    assert_int_equal(r->src.port, 3000);
    assert_int_equal(r->src.packets, 2);
    flow_table_expire(c->table, T0 + 1900);
    assert_int_equal(c->sink.n, 3);
    assert_int_equal(c->sink.recs[2].event, VNM_FLOW_END_TCP);
    flow_table_expire(c->table, T0 + 2300);
    assert_int_equal(c->sink.n, 3);

    /* Then every 10 s after the first record, if there were frames: A at
     * 11 s, B (quiet) not at 11.5 s. */
    send_at(c, 5000, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 1000, 2000));
    flow_table_expire(c->table, T0 + 10999);
    assert_int_equal(c->sink.n, 3);
    flow_table_expire(c->table, T0 + 11000);
    assert_int_equal(c->sink.n, 4);
    assert_int_equal(c->sink.recs[3].src.port, 1000);
    assert_int_equal(c->sink.recs[3].src.packets, 2);
    flow_table_expire(c->table, T0 + 11500);
    assert_int_equal(c->sink.n, 4);
    assert_int_equal(stats_of(c).n_updates, 3);

    /* A restarts at 30 s, B at 30.5 s; A's next incarnation (it sent at
     * 30.5 s) has its first record at 31 s, B's (silent) none. */
    send_at(c, 29000, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 1000, 2000));
    flow_table_expire(c->table, T0 + 30000);
    assert_int_equal(c->sink.n, 5);
    assert_int_equal(c->sink.recs[4].event, VNM_FLOW_END_ACTIVE);
    assert_int_equal(c->sink.recs[4].src.port, 1000);
    send_at(c, 30500, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 1000, 2000));
    flow_table_expire(c->table, T0 + 30999);
    assert_int_equal(c->sink.n, 6);
    assert_int_equal(c->sink.recs[5].event, VNM_FLOW_END_ACTIVE);
    assert_int_equal(c->sink.recs[5].src.port, 3000);
    flow_table_expire(c->table, T0 + 31000);
    assert_int_equal(c->sink.n, 7);
    r = &c->sink.recs[6];
    assert_int_equal(r->event, VNM_FLOW_UPDATE);
    assert_int_equal(r->src.port, 1000);
    assert_int_equal(r->src.packets, 1);
    assert_int_equal(r->first_ms, T0 + 30500);
    flow_table_expire(c->table, T0 + 32000);
    assert_int_equal(c->sink.n, 7);
    assert_int_equal(stats_of(c).n_updates, 4);
}

/* Without UPDATE records, no first one either; with 'first_update_ms' 0
 * the first comes after 'update_interval_ms'. */
static void
test_first_update_off(void **statep)
{
    struct ctx *c = *statep;

    c->cfg.update_interval_ms = 0;
    c->cfg.first_update_ms = 1000;
    ctx_create(c);
    send_at(c, 0, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 1000, 2000));
    flow_table_expire(c->table, T0 + 5000);
    assert_int_equal(c->sink.n, 0);
    flow_table_destroy(c->table);

    c->cfg.update_interval_ms = 3000;
    c->cfg.first_update_ms = 0;
    ctx_create(c);
    send_at(c, 0, 1, UDP_SPEC("10.0.0.1", "10.0.0.2", 1000, 2000));
    flow_table_expire(c->table, T0 + 2999);
    assert_int_equal(c->sink.n, 0);
    flow_table_expire(c->table, T0 + 3000);
    assert_int_equal(c->sink.n, 1);
    assert_int_equal(c->sink.recs[0].event, VNM_FLOW_UPDATE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(NAME) cmocka_unit_test_setup_teardown(NAME, setup, teardown)
        T(test_bidirectional_record),
        T(test_initiator),
        T(test_context_separation),
        T(test_non_ip),
        T(test_tcp_close),
        T(test_idle_timeouts),
        T(test_active_and_updates),
        T(test_active_restart_empty),
        T(test_fragments),
        T(test_flow_cap),
        T(test_memory_cap_syn_flood),
        T(test_memory_cap_plain),
        T(test_classify_in_table),
        T(test_destroy_silent),
        T(test_clock_backwards),
        T(test_runt),
        T(test_with_decoder),
        T(test_bw_deltas),
        T(test_arp_one_way),
        T(test_nd_one_way),
        T(test_dhcp_one_way),
        T(test_dhcp_fragments),
        T(test_tunnel_outer),
        T(test_extra_memory),
        T(test_first_update),
        T(test_first_update_off),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of ovs-ext/flow-table.c, on a fake clock: bidirectional keys
 * and their VLAN/VNI context, counters and record fields, TCP state and
 * timeouts, active timeouts and UPDATE records, fragments, eviction under
 * the flow cap and the memory cap (a million SYNs from random sources), and
 * nDPI classification through the table.
 *
 * Frames are built by hand together with the struct decoded that describes
 * them, so that the table is tested on its own; one test goes through
 * decode_frame() as well.
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
    uint8_t proto;              /* P_TCP, P_UDP or P_ICMP. */
    uint16_t sport, dport;      /* ICMP echo: 'sport' is the id. */
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
        p += 28;
    } else {
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
                put16(l4 + 2, s->dport);
                put16(l4 + 4, 8 + s->payload_len);
                d->src_port = s->sport;
                d->dst_port = s->dport;
                p += 8;
            } else {
                /* ICMP echo request: type 8, id, sequence. */
                l4[0] = d->icmp_type = 8;
                put16(l4 + 4, s->sport);
                put16(l4 + 6, 1);
                d->src_port = d->dst_port = s->sport;
                p += 8;
            }
            d->payload = p - f->buf;
            d->payload_len = s->payload_len;
        }
        if (s->payload_len) {
            memcpy(p, s->payload, s->payload_len);
        }
        p += s->payload_len;
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
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

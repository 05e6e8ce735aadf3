/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of ovs-ext/classify-ndpi.c: nDPI 4.2 classifies hand-built
 * TLS, DNS and HTTP exchanges (application, master, server name), feeding
 * stops when ndpiReader's would, unknown flows are given up on, and the heap
 * that nDPI allocates is charged to the right classifier and returned.
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

#include "lib/util.h"
#include "ovs-ext/classify-ndpi.h"
#include "vnmon/flow.h"

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_PSH 0x08
#define TH_ACK 0x10

/* One end of a test conversation. */
struct end {
    uint32_t ip;                /* Host order. */
    uint16_t port;
    uint32_t seq;
};

/* A packet under construction. */
struct pkt {
    uint8_t buf[2048];
    uint16_t len;
};

/* A conversation between a client and a server, and its flow state. */
struct conv {
    struct classifier *c;
    void *state;
    struct end client, server;
    uint8_t proto;
    uint64_t ts_ms;
};

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* Builds an IPv4 packet from 'from' to 'to' with a TCP ('flags') or UDP
 * header and 'payload' into 'pkt'. */
static void
build(struct pkt *pkt, uint8_t proto, struct end *from, const struct end *to,
      uint8_t flags, const void *payload, size_t payload_len)
{
    uint8_t *ip = pkt->buf;
    uint8_t *l4 = ip + 20;
    size_t l4_len = proto == IPPROTO_TCP_ ? 20 : 8;

    assert_true(20 + l4_len + payload_len <= sizeof pkt->buf);
    memset(pkt->buf, 0, 20 + l4_len);
    pkt->len = 20 + l4_len + payload_len;
    ip[0] = 0x45;
    put16(ip + 2, pkt->len);
    put16(ip + 4, 0x1234);
    put16(ip + 6, 0x4000);      /* DF. */
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, from->ip);
    put32(ip + 16, to->ip);
    put16(l4, from->port);
    put16(l4 + 2, to->port);
    if (proto == IPPROTO_TCP_) {
        put32(l4 + 4, from->seq);
        put32(l4 + 8, flags & TH_ACK ? to->seq : 0);
        l4[12] = 5 << 4;
        l4[13] = flags;
        put16(l4 + 14, 65535);
        from->seq += payload_len + (flags & (TH_SYN | TH_FIN) ? 1 : 0);
    } else {
        put16(l4 + 4, l4_len + payload_len);
    }
    if (payload_len) {
        memcpy(l4 + l4_len, payload, payload_len);
    }
}

static void
conv_init(struct conv *cv, struct classifier *c, uint8_t proto,
          uint16_t server_port)
{
    memset(cv, 0, sizeof *cv);
    cv->c = c;
    cv->state = xzalloc(classifier_flow_size());
    cv->proto = proto;
    cv->client = (struct end) { 0x0a000001, 40000, 1000 };
    cv->server = (struct end) { 0x0a000002, server_port, 5000 };
    cv->ts_ms = 1700000000000ULL;
}

static void
conv_free(struct conv *cv)
{
    classify_flow_cleanup(cv->state);
    free(cv->state);
}

/* Feeds one packet from the client ('from_client') or the server. */
static enum classify_state
feed(struct conv *cv, bool from_client, uint8_t flags, const void *payload,
     size_t len)
{
    struct pkt pkt;

    if (from_client) {
        build(&pkt, cv->proto, &cv->client, &cv->server, flags, payload,
              len);
    } else {
        build(&pkt, cv->proto, &cv->server, &cv->client, flags, payload,
              len);
    }
    cv->ts_ms += 1;
    return classify_packet(cv->c, cv->state, pkt.buf, pkt.len, cv->ts_ms);
}

/* The TCP three-way handshake; each packet must leave the flow in
 * CLASSIFY_MORE. */
static void
handshake(struct conv *cv)
{
    assert_int_equal(feed(cv, true, TH_SYN, NULL, 0), CLASSIFY_MORE);
    assert_int_equal(feed(cv, false, TH_SYN | TH_ACK, NULL, 0),
                     CLASSIFY_MORE);
    assert_int_equal(feed(cv, true, TH_ACK, NULL, 0), CLASSIFY_MORE);
}

/* A TLS 1.2/1.3 ClientHello with server name 'sni', into 'buf'.  Returns
 * its length. */
static size_t
client_hello(uint8_t *buf, const char *sni)
{
    static const uint8_t ciphers[] = { 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f };
    static const uint8_t other_exts[] = {
        0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d, /* groups */
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,             /* point formats */
        0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03, /* sig algs */
        0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, 'h', '2', /* ALPN */
        0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04,       /* versions */
    };
    size_t sni_len = strlen(sni);
    uint8_t *p = buf;
    uint8_t *hs_len, *exts_len;

    /* Record and handshake headers; lengths filled in at the end. */
    *p++ = 0x16;
    put16(p, 0x0301);
    p += 4;
    *p++ = 0x01;
    hs_len = p;
    p += 3;
    put16(p, 0x0303);
    p += 2;
    for (int i = 0; i < 32; i++) {
        *p++ = (uint8_t) (i * 7 + 1);
    }
    *p++ = 0;                   /* Session id. */
    put16(p, sizeof ciphers);
    p += 2;
    memcpy(p, ciphers, sizeof ciphers);
    p += sizeof ciphers;
    *p++ = 1;                   /* Compression: null. */
    *p++ = 0;
    exts_len = p;
    p += 2;

    put16(p, 0x0000);           /* server_name */
    put16(p + 2, sni_len + 5);
    put16(p + 4, sni_len + 3);
    p[6] = 0;                   /* host_name */
    put16(p + 7, sni_len);
    memcpy(p + 9, sni, sni_len);
    p += 9 + sni_len;
    memcpy(p, other_exts, sizeof other_exts);
    p += sizeof other_exts;

    put16(exts_len, p - exts_len - 2);
    hs_len[0] = 0;
    put16(hs_len + 1, p - hs_len - 3);
    put16(buf + 3, p - buf - 5);
    return p - buf;
}

/* A DNS message for 'name' type A: a query, or an answer with one
 * address.  Returns its length. */
static size_t
dns_message(uint8_t *buf, const char *name, bool response)
{
    uint8_t *p = buf;
    const char *label = name;

    put16(p, 0x4242);
    put16(p + 2, response ? 0x8180 : 0x0100);
    put16(p + 4, 1);
    put16(p + 6, response ? 1 : 0);
    put16(p + 8, 0);
    put16(p + 10, 0);
    p += 12;
    while (*label) {
        const char *dot = strchr(label, '.');
        size_t n = dot ? (size_t) (dot - label) : strlen(label);

        *p++ = n;
        memcpy(p, label, n);
        p += n;
        label += n + (dot ? 1 : 0);
    }
    *p++ = 0;
    put16(p, 1);                /* A */
    put16(p + 2, 1);            /* IN */
    p += 4;
    if (response) {
        put16(p, 0xc00c);
        put16(p + 2, 1);
        put16(p + 4, 1);
        put32(p + 6, 300);
        put16(p + 10, 4);
        put32(p + 12, 0x5db8d822);
        p += 16;
    }
    return p - buf;
}

static int
setup_classifier(void **statep)
{
    *statep = classifier_create();
    return 0;
}

static int
teardown_classifier(void **statep)
{
    classifier_destroy(*statep);
    return 0;
}

static void
test_flow_size(void **statep)
{
    /* nDPI 4.2's flow struct is 688 bytes; ours adds a little. */
    assert_true(classifier_flow_size() >= 688);
    assert_true(classifier_flow_size() <= 688 + 16);
}

static void
test_tls_sni(void **statep)
{
    uint8_t hello[512];
    struct vnm_flow rec;
    struct conv cv;
    size_t len;

    conv_init(&cv, *statep, IPPROTO_TCP_, 443);
    handshake(&cv);
    len = client_hello(hello, "vnmon.example.org");

    /* Classified by the ClientHello; the certificate is worth waiting for. */
    assert_int_equal(feed(&cv, true, TH_PSH | TH_ACK, hello, len),
                     CLASSIFY_EXTRA);
    assert_int_equal(classify_get_state(cv.state), CLASSIFY_EXTRA);
    memset(&rec, 0xff, sizeof rec);
    classify_result(cv.c, cv.state, &rec);
    assert_string_equal(rec.app, "TLS");
    assert_string_equal(rec.master, "");
    assert_string_equal(rec.server_name, "vnmon.example.org");
    assert_string_equal(rec.category, "Web");
    assert_int_equal(rec.confidence, 4);        /* NDPI_CONFIDENCE_DPI */

    /* The flow ends before a certificate: the result stands. */
    classify_giveup(cv.c, cv.state);
    assert_int_equal(classify_get_state(cv.state), CLASSIFY_DONE);
    classify_result(cv.c, cv.state, &rec);
    assert_string_equal(rec.app, "TLS");
    assert_int_equal(feed(&cv, false, TH_ACK, NULL, 0), CLASSIFY_DONE);
    conv_free(&cv);
}

static void
test_tls_master_app(void **statep)
{
    uint8_t hello[512];
    struct vnm_flow rec;
    struct conv cv;

    conv_init(&cv, *statep, IPPROTO_TCP_, 443);
    handshake(&cv);
    feed(&cv, true, TH_PSH | TH_ACK, hello,
         client_hello(hello, "www.google.com"));
    classify_result(cv.c, cv.state, &rec);

    /* ndpiReader prints "TLS.Google". */
    assert_string_equal(rec.master, "TLS");
    assert_string_equal(rec.app, "Google");
    assert_string_equal(rec.server_name, "www.google.com");
    conv_free(&cv);
}

static void
test_dns(void **statep)
{
    struct vnm_flow rec;
    uint8_t msg[512];
    struct conv cv;

    conv_init(&cv, *statep, IPPROTO_UDP_, 53);

    /* A query classifies; its answer is worth waiting for. */
    assert_int_equal(feed(&cv, true, 0, msg,
                          dns_message(msg, "www.example.com", false)),
                     CLASSIFY_EXTRA);
    classify_result(cv.c, cv.state, &rec);
    assert_string_equal(rec.app, "DNS");
    assert_string_equal(rec.master, "");
    assert_string_equal(rec.server_name, "www.example.com");

    assert_int_equal(feed(&cv, false, 0, msg,
                          dns_message(msg, "www.example.com", true)),
                     CLASSIFY_DONE);
    classify_result(cv.c, cv.state, &rec);
    assert_string_equal(rec.app, "DNS");
    assert_string_equal(rec.server_name, "www.example.com");
    assert_string_equal(rec.category, "Network");
    conv_free(&cv);
}

static void
test_http(void **statep)
{
    static const char get[] =
        "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n"
        "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
    static const char response[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
        "Content-Length: 0\r\n\r\n";
    struct vnm_flow rec;
    struct conv cv;

    conv_init(&cv, *statep, IPPROTO_TCP_, 80);
    handshake(&cv);
    assert_int_equal(feed(&cv, true, TH_PSH | TH_ACK, get, strlen(get)),
                     CLASSIFY_EXTRA);
    classify_result(cv.c, cv.state, &rec);
    assert_string_equal(rec.app, "HTTP");
    assert_string_equal(rec.server_name, "www.example.com");

    /* The response completes it. */
    assert_int_equal(feed(&cv, false, TH_PSH | TH_ACK, response,
                          strlen(response)), CLASSIFY_DONE);
    classify_result(cv.c, cv.state, &rec);
    assert_string_equal(rec.app, "HTTP");
    assert_string_equal(rec.server_name, "www.example.com");
    assert_string_equal(rec.category, "Web");
    conv_free(&cv);
}

/* An unknown UDP flow is fed ndpiReader's 24 packets, then given up on at
 * the 25th. */
static void
test_unknown_udp_cap(void **statep)
{
    uint8_t junk[64];
    struct vnm_flow rec;
    struct conv cv;
    int i;

    for (i = 0; i < (int) sizeof junk; i++) {
        junk[i] = (uint8_t) (i * 37 + 11);
    }
    conv_init(&cv, *statep, IPPROTO_UDP_, 40123);
    cv.client.port = 40124;
    for (i = 1; i <= CLASSIFY_MAX_OTHER_PACKETS; i++) {
        junk[0] = i;
        assert_int_equal(feed(&cv, i % 2, 0, junk, sizeof junk),
                         CLASSIFY_MORE);
    }
    assert_int_equal(feed(&cv, true, 0, junk, sizeof junk), CLASSIFY_DONE);
    classify_result(cv.c, cv.state, &rec);
    assert_string_equal(rec.app, "Unknown");
    assert_string_equal(rec.master, "");
    conv_free(&cv);
}

/* A flow that ends unclassified gets nDPI's guess from its ports. */
static void
test_giveup_guess(void **statep)
{
    static const uint8_t junk[] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02 };
    struct vnm_flow rec;
    struct conv cv;

    conv_init(&cv, *statep, IPPROTO_TCP_, 6379);
    handshake(&cv);
    assert_int_equal(feed(&cv, true, TH_PSH | TH_ACK, junk, sizeof junk),
                     CLASSIFY_MORE);
    classify_result(cv.c, cv.state, &rec);
    assert_string_equal(rec.app, "Unknown");
    assert_int_equal(rec.confidence, 0);

    classify_giveup(cv.c, cv.state);
    assert_int_equal(classify_get_state(cv.state), CLASSIFY_DONE);
    classify_result(cv.c, cv.state, &rec);
    assert_string_equal(rec.app, "Redis");
    assert_int_equal(rec.confidence, 1);        /* MATCH_BY_PORT */
    conv_free(&cv);
}

/* nDPI 4.2 names TCP port 5201 (iperf3's) TargusDataspeed from the SYN on,
 * as DESIGN.md notes: done at the first packet. */
static void
test_targus_dataspeed(void **statep)
{
    struct vnm_flow rec;
    struct conv cv;

    conv_init(&cv, *statep, IPPROTO_TCP_, 5201);
    assert_int_equal(feed(&cv, true, TH_SYN, NULL, 0), CLASSIFY_DONE);
    classify_result(cv.c, cv.state, &rec);
    assert_string_equal(rec.app, "TargusDataspeed");
    conv_free(&cv);
}

static void
test_never_fed(void **statep)
{
    void *state = xzalloc(classifier_flow_size());
    struct vnm_flow rec;

    assert_int_equal(classify_get_state(state), CLASSIFY_MORE);
    classify_giveup(*statep, state);
    assert_int_equal(classify_get_state(state), CLASSIFY_MORE);
    memset(&rec, 'x', sizeof rec);
    classify_result(*statep, state, &rec);
    assert_string_equal(rec.app, "");
    assert_string_equal(rec.master, "");
    assert_string_equal(rec.category, "");
    assert_string_equal(rec.server_name, "");
    assert_int_equal(rec.risks, 0);
    classify_flow_cleanup(state);
    classify_flow_cleanup(NULL);
    free(state);
}

/* Runs a TLS and an HTTP exchange on 'c' and returns the heap their flow
 * states hold while classification goes on; ends and frees them. */
static uint64_t
run_flows(struct classifier *c)
{
    static const char get[] =
        "GET / HTTP/1.1\r\nHost: a.example\r\nUser-Agent: x\r\n\r\n";
    uint64_t before = classifier_heap_size(c);
    uint8_t hello[512];
    struct conv tls, http;
    uint64_t held;

    conv_init(&tls, c, IPPROTO_TCP_, 443);
    handshake(&tls);
    feed(&tls, true, TH_PSH | TH_ACK, hello, client_hello(hello, "a.b.c"));
    conv_init(&http, c, IPPROTO_TCP_, 80);
    handshake(&http);
    feed(&http, true, TH_PSH | TH_ACK, get, strlen(get));
    held = classifier_heap_size(c) - before;

    /* A flow done gives back its heap at once. */
    classify_giveup(c, tls.state);
    classify_giveup(c, http.state);
    assert_true(classifier_heap_size(c) < before + held);
    conv_free(&tls);
    conv_free(&http);
    return held;
}

static void
test_memory_accounting(void **statep)
{
    uint64_t total0 = classifier_heap_total();
    struct classifier *a, *b;
    uint64_t a0, b0, held;

    a = classifier_create();
    b = classifier_create();
    a0 = classifier_heap_size(a);
    b0 = classifier_heap_size(b);

    /* The detection module itself: megabytes, charged to its classifier. */
    assert_true(a0 > 1000000);
    assert_true(b0 > 1000000);
    assert_true(classifier_heap_total() >= total0 + a0 + b0);

    /* Flows charge their classifier only, and give it all back. */
    held = run_flows(a);
    assert_true(held > 0);
    assert_int_equal(classifier_heap_size(b), b0);

    /* Once nDPI's lazily built caches exist, flows return what they took
     * exactly. */
    run_flows(a);
    a0 = classifier_heap_size(a);
    run_flows(a);
    assert_int_equal(classifier_heap_size(a), a0);

    classifier_destroy(a);
    classifier_destroy(b);
    classifier_destroy(NULL);

    /* Everything returned (allow nDPI a few bytes of global state). */
    assert_true(classifier_heap_total() <= total0 + 4096);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow_size),
        cmocka_unit_test(test_tls_sni),
        cmocka_unit_test(test_tls_master_app),
        cmocka_unit_test(test_dns),
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_unknown_udp_cap),
        cmocka_unit_test(test_giveup_guess),
        cmocka_unit_test(test_targus_dataspeed),
        cmocka_unit_test(test_never_fed),
        cmocka_unit_test(test_memory_accounting),
    };

    return cmocka_run_group_tests(tests, setup_classifier,
                                  teardown_classifier);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "flood" detector: analyzer/detect-flood.c is compiled
 * into this binary and driven through its 'vnm_plugin' descriptor on the
 * fake host (tests/unit/fake-host.c), with synthetic flow records (UPDATE
 * then END, as the agent sends them) and the fake clock.
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/unit/fake-host.h"
#include "vnmon/plugin.h"

#define T0 UINT64_C(1714564800000) /* 2024-05-01T12:00:00Z. */

#define TCP 6
#define UDP 17
#define ICMP 1
#define ICMPV6 58
#define SYN 0x02
#define ACK 0x10

/* Where VM t1vm1 (10.0.0.11) plugs into the switch. */
static const struct vnm_attribution t1vm1 = {
    .port = "t1vm1",
    .ofport = 3,
    .iface_id = "1f0c0000-0000-4000-8000-000001000001",
    .vm = "564d0000-0000-4000-8000-000001000001",
    .tenant = "tenant1",
};

static struct vnm_addr
ipv4(uint32_t ip)
{
    struct vnm_addr addr = { .family = 4 };

    addr.a[0] = ip >> 24;
    addr.a[1] = ip >> 16;
    addr.a[2] = ip >> 8;
    addr.a[3] = ip;
    return addr;
}

#define IP4(A, B, C, D) \
    (((uint32_t) (A) << 24) | ((B) << 16) | ((C) << 8) | (D))

/* A flow of protocol 'proto' from t1vm1 (10.0.0.11:'sport') to
 * 10.0.0.21:'dport' that started at 'ms', with 'packets' of 60 bytes sent
 * so far; TCP flows sent one SYN and got no answer. */
static struct vnm_flow
flow_new(uint64_t id, uint8_t proto, uint16_t sport, uint16_t dport,
         uint64_t ms, uint64_t packets)
{
    struct vnm_flow flow;

    memset(&flow, 0, sizeof flow);
    snprintf(flow.host, sizeof flow.host, "hv1");
    flow.id = id;
    flow.first_ms = flow.last_ms = ms;
    flow.event = VNM_FLOW_UPDATE;
    flow.class = VNM_FLOW_VM_VM_CROSS_TENANT;
    flow.eth_type = 0x0800;
    flow.ip_proto = proto;
    flow.src.ip = ipv4(IP4(10, 0, 0, 11));
    flow.src.port = sport;
    flow.src.tcp_flags = proto == TCP ? SYN : 0;
    flow.src.packets = packets;
    flow.src.bytes = 60 * packets;
    flow.src.in = t1vm1;
    flow.dst.ip = ipv4(IP4(10, 0, 0, 21));
    flow.dst.port = dport;
    flow.dst.in.ofport = -1;
    if (proto == ICMP) {
        flow.src_ctl.has_icmp = 1;
        flow.src_ctl.icmp_type = 8;
    }
    return flow;
}

/* A detector with the keys 'keys' (may be empty), on a fake host whose
 * clock reads T0. */
static struct fake_host *
flood_start(const char *keys, void **statep)
{
    char text[512];
    struct fake_host *fh;

    snprintf(text, sizeof text, "[detector \"flood\"]\n%s", keys);
    fh = fake_host_create("detector", "flood", text);
    fh->now_ms = T0;
    *statep = NULL;
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, statep), 0);
    assert_non_null(*statep);
    assert_null(fake_host_check_unused(fh));
    return fh;
}

static void
flood_stop(struct fake_host *fh, void *state)
{
    vnm_plugin.destroy(state);
    assert_string_equal(fh->log, "");  /* Never logs per flow. */
    fake_host_destroy(fh);
}

/* Hands 'flow' to the detector at the fake time 'now'. */
static void
feed(struct fake_host *fh, void *state, const struct vnm_flow *flow,
     uint64_t now)
{
    fh->now_ms = now;
    vnm_plugin.detector->on_flow(state, flow);
}

static void
tick(struct fake_host *fh, void *state, uint64_t now)
{
    fh->now_ms = now;
    vnm_plugin.detector->on_tick(state, now);
}

/* The sum of the packets of the recorded alerts of kind 'kind'. */
static uint64_t
alert_packets(const struct fake_host *fh, const char *kind)
{
    uint64_t n = 0;

    for (size_t i = 0; i < fh->n_alerts; i++) {
        if (!strcmp(fh->alerts[i].kind, kind)) {
            n += fh->alerts[i].packets;
        }
    }
    return n;
}

/* A deterministic pseudo-random sequence (xorshift32). */
static uint32_t
next_random(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void
test_descriptor(void **statep)
{
    assert_int_equal(vnm_plugin.abi_major, VNM_PLUGIN_ABI_MAJOR);
    assert_int_equal(vnm_plugin.abi_minor, VNM_PLUGIN_ABI_MINOR);
    assert_int_equal(vnm_plugin.size, sizeof(struct vnm_plugin));
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
    assert_string_equal(vnm_plugin.name, "flood");
    assert_non_null(vnm_plugin.detector->on_flow);
    assert_non_null(vnm_plugin.detector->on_tick);
}

/* A spoofed SYN flood: 300 SYNs a second for 4 s from t1vm1 with random
 * source addresses and ports to 10.0.0.21:80, each flow reported at 1 s
 * (UPDATE) and at its idle end (END).  One "syn-flood" incident keyed on
 * the port, raised by the 101st half-open flow, updated once a second;
 * every SYN counted once. */
static void
test_syn_flood(void **statep)
{
    const struct fake_alert *a;
    struct vnm_flow flows[1200];
    struct fake_host *fh;
    uint32_t x = 99;
    void *state;

    fh = flood_start("", &state);
    for (int i = 0; i < 1200; i++) {
        flows[i] = flow_new(i + 1, TCP, next_random(&x), 80,
                            T0 + i * 10 / 3, 1);
        flows[i].src.ip = ipv4(next_random(&x));
    }
    /* Records come 1 s after each flow starts; END records 2 s later. */
    for (uint64_t now = T0 + 1000; now < T0 + 8000; now += 10) {
        for (int i = 0; i < 1200; i++) {
            struct vnm_flow flow = flows[i];

            if (flow.first_ms + 1000 > now - 10
                && flow.first_ms + 1000 <= now) {
                feed(fh, state, &flow, now);
            } else if (flow.first_ms + 3000 > now - 10
                       && flow.first_ms + 3000 <= now) {
                flow.event = VNM_FLOW_END_IDLE;
                feed(fh, state, &flow, now);
            }
        }
        if (now % 1000 == 0) {
            tick(fh, state, now);
        }
    }
    tick(fh, state, T0 + 20000);

    assert_true(fh->n_alerts >= 4);
    a = &fh->alerts[0];
    assert_string_equal(a->kind, "syn-flood");
    assert_int_equal(a->severity, VNM_SEV_HIGH);
    assert_string_equal(a->key, "hv1/t1vm1>10.0.0.21:80");
    assert_string_equal(a->target, "10.0.0.21:80");
    assert_true(a->has_vm);
    assert_memory_equal(&a->vm, &t1vm1, sizeof t1vm1);
    assert_int_equal(a->flow_id, 101);
    assert_true(strstr(a->summary, "t1vm1 (from ") == a->summary);
    assert_non_null(strstr(a->summary, "SYN flood on 10.0.0.21:80: 101 "
                           "half-open TCP flows"));
    assert_int_equal(a->n_evidence, 1);
    assert_non_null(strstr(a->evidence[0], "TCP"));
    for (size_t i = 0; i < fh->n_alerts; i++) {
        assert_string_equal(fh->alerts[i].key, a->key);
        assert_int_equal(fh->alerts[i].bytes, 60 * fh->alerts[i].packets);
    }
    assert_int_equal(alert_packets(fh, "syn-flood"), 1200);
    assert_int_equal(fake_host_counter(fh, "syn_floods"), 1);
    flood_stop(fh, state);
}

/* One TCP flow repeating its SYN 2000 times a second (hping3 -k), reported
 * every second: a SYN flood by rate, seen in the third second (over 1000
 * a second over 5 s). */
static void
test_syn_rate(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = flood_start("", &state);
    for (int s = 1; s <= 6; s++) {
        struct vnm_flow flow = flow_new(7, TCP, 1234, 443, T0, 2000 * s);

        flow.last_ms = T0 + 1000 * s;
        feed(fh, state, &flow, T0 + 1000 * s + 500);
        if (s == 2) {
            assert_int_equal(fh->n_alerts, 0);
        }
    }
    assert_true(fh->n_alerts >= 1);
    assert_string_equal(fh->alerts[0].kind, "syn-flood");
    assert_string_equal(fh->alerts[0].target, "10.0.0.21:443");
    assert_non_null(strstr(fh->alerts[0].summary, ": 1 half-open TCP flows, "
                           "1200 packets/s"));
    tick(fh, state, T0 + 30000);
    assert_int_equal(alert_packets(fh, "syn-flood"), 12000);
    flood_stop(fh, state);
}

/* UDP: 3000 packets a second to one target, unanswered, is a flood (with
 * udp_pps = 1000); the same answered one for one (a busy DNS exchange) is
 * not; 900 a second is not. */
static void
test_udp_flood(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = flood_start("udp_pps = 1000\n", &state);
    for (int s = 1; s <= 5; s++) {
        struct vnm_flow dns = flow_new(1, UDP, 5353, 53, T0, 3000 * s);
        struct vnm_flow slow = flow_new(2, UDP, 5354, 9999, T0, 900 * s);

        dns.dst.packets = 3000 * s;
        dns.dst.bytes = 3000 * 100 * s;
        dns.last_ms = slow.last_ms = T0 + 1000 * s;
        dns.dst.ip = ipv4(IP4(10, 0, 0, 22));
        feed(fh, state, &dns, T0 + 1000 * s + 100);
        feed(fh, state, &slow, T0 + 1000 * s + 100);
        tick(fh, state, T0 + 1000 * s + 200);
    }
    assert_int_equal(fh->n_alerts, 0);

    for (int s = 1; s <= 5; s++) {
        struct vnm_flow flow = flow_new(3, UDP, 40000, 9, T0 + 10000,
                                        3000 * s);

        flow.last_ms = T0 + 10000 + 1000 * s;
        feed(fh, state, &flow, T0 + 10000 + 1000 * s + 100);
    }
    assert_true(fh->n_alerts >= 1);
    assert_string_equal(fh->alerts[0].kind, "udp-flood");
    assert_string_equal(fh->alerts[0].key, "hv1/t1vm1>10.0.0.21");
    assert_string_equal(fh->alerts[0].target, "10.0.0.21");
    assert_non_null(strstr(fh->alerts[0].summary, "UDP flood on 10.0.0.21"));
    assert_int_equal(fake_host_counter(fh, "udp_floods"), 1);
    flood_stop(fh, state);
}

/* ICMP echo at 1000 a second, answered: an "icmp-flood" (over 500 a
 * second); ICMPv6 Neighbor Discovery never counts. */
static void
test_icmp_flood(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = flood_start("", &state);
    for (int s = 1; s <= 8; s++) {
        struct vnm_flow nd = flow_new(1, ICMPV6, 0, 0, T0, 5000 * s);

        nd.src_ctl.has_icmp = 1;
        nd.src_ctl.icmp_type = 135;
        nd.src_ctl.nd = 1 << 2;
        nd.last_ms = T0 + 1000 * s;
        feed(fh, state, &nd, T0 + 1000 * s + 100);
    }
    assert_int_equal(fh->n_alerts, 0);

    for (int s = 1; s <= 8; s++) {
        struct vnm_flow ping = flow_new(2, ICMP, 77, 77, T0 + 20000,
                                        1000 * s);

        ping.dst.packets = 1000 * s;
        ping.dst.bytes = 60000 * s;
        ping.last_ms = T0 + 20000 + 1000 * s;
        feed(fh, state, &ping, T0 + 20000 + 1000 * s + 100);
    }
    assert_true(fh->n_alerts >= 1);
    assert_string_equal(fh->alerts[0].kind, "icmp-flood");
    assert_string_equal(fh->alerts[0].target, "10.0.0.21");
    assert_int_equal(fh->alerts[0].n_evidence, 2);
    tick(fh, state, T0 + 60000);
    assert_int_equal(alert_packets(fh, "icmp-flood"), 8000);
    flood_stop(fh, state);
}

/* A flood stops: the incident's last traffic is emitted at a tick, the
 * flood ends after a window without traffic, and a new flood of the same
 * attacker and target later is the same key again. */
static void
test_flood_ends(void **statep)
{
    struct fake_host *fh;
    size_t n;
    void *state;

    fh = flood_start("icmp_pps = 100\n", &state);
    for (int round = 0; round < 2; round++) {
        uint64_t t = T0 + 60000 * round;

        for (int s = 1; s <= 4; s++) {
            struct vnm_flow ping = flow_new(10 + round, ICMP, 5, 5, t,
                                            1000 * s);

            ping.last_ms = t + 1000 * s;
            feed(fh, state, &ping, t + 1000 * s + 100);
        }
        tick(fh, state, t + 10000);
        tick(fh, state, t + 20000);
    }
    n = fh->n_alerts;
    assert_true(n >= 2);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(fh->alerts[i].key, "hv1/t1vm1>10.0.0.21");
    }
    assert_int_equal(fake_host_counter(fh, "icmp_floods"), 2);
    assert_int_equal(alert_packets(fh, "icmp-flood"), 8000);
    tick(fh, state, T0 + 3600000);
    assert_int_equal(fake_host_counter(fh, "targets_expired"), 1);
    assert_int_equal(fh->n_alerts, n);
    flood_stop(fh, state);
}

/* Normal traffic: established TCP (many short connections, and a bulk
 * upload whose answers are unseen), a ping a second, a 500-packet-a-second
 * UDP stream: nothing. */
static void
test_normal_traffic(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = flood_start("", &state);
    for (int i = 0; i < 2000; i++) {
        struct vnm_flow web = flow_new(i + 1, TCP, 30000 + i, 80, T0 + i * 5,
                                       10);

        web.src.tcp_flags = SYN | ACK;
        web.dst.tcp_flags = SYN | ACK;
        web.dst.packets = 10;
        web.last_ms = web.first_ms + 50;
        feed(fh, state, &web, web.last_ms + 1000);
    }
    /* A bulk upload to a host whose answers go by unseen. */
    for (int s = 1; s <= 10; s++) {
        struct vnm_flow bulk = flow_new(4000, TCP, 49564, 5201, T0, 5000 * s);

        bulk.src.tcp_flags = SYN | ACK;
        bulk.last_ms = T0 + 1000 * s;
        feed(fh, state, &bulk, T0 + 1000 * s + 100);
    }
    for (int s = 1; s <= 30; s++) {
        struct vnm_flow ping = flow_new(5000, ICMP, 9, 9, T0, s);
        struct vnm_flow udp = flow_new(5001, UDP, 5004, 5004, T0, 500 * s);

        ping.dst.packets = s;
        ping.last_ms = udp.last_ms = T0 + 1000 * s;
        feed(fh, state, &ping, T0 + 1000 * s + 100);
        feed(fh, state, &udp, T0 + 1000 * s + 100);
        tick(fh, state, T0 + 1000 * s + 200);
    }
    assert_int_equal(fh->n_alerts, 0);
    flood_stop(fh, state);
}

/* Without an ingress port the attacker is its address; many targets stay
 * bounded by max_targets. */
static void
test_unattributed_and_bounded(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = flood_start("max_targets = 16\nsyn_half_open = 5\n", &state);
    for (int i = 0; i < 6; i++) {
        struct vnm_flow flow = flow_new(i + 1, TCP, 1000 + i, 22, T0 + i, 1);

        memset(&flow.src.in, 0, sizeof flow.src.in);
        flow.src.in.ofport = -1;
        feed(fh, state, &flow, T0 + 1000);
    }
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].key, "hv1/10.0.0.11>10.0.0.21:22");
    assert_false(fh->alerts[0].has_vm);

    for (int i = 0; i < 1000; i++) {
        struct vnm_flow flow = flow_new(100 + i, UDP, 1, 1, T0 + i, 1);

        flow.dst.ip = ipv4(IP4(10, 1, 0, 0) + i);
        feed(fh, state, &flow, T0 + 2000 + i);
    }
    assert_int_equal(fake_host_counter(fh, "targets_evicted"), 1000 + 1 - 16);
    flood_stop(fh, state);
}

/* Invalid keys fail init() with the host's error. */
static void
test_config_errors(void **statep)
{
    static const struct {
        const char *keys;
        const char *log;
    } cases[] = {
        { "window = 100ms\n", "ERR|test.conf:2: window: " },
        { "syn_half_open = 0\n", "ERR|test.conf:2: syn_half_open: " },
        { "udp_answer_ratio = x\n", "ERR|test.conf:2: udp_answer_ratio: " },
        { "severity = loud\n", "ERR|severity: \"loud\" is not one of " },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fake_host *fh;
        void *state = NULL;
        char text[128];

        snprintf(text, sizeof text, "[detector \"flood\"]\n%s",
                 cases[i].keys);
        fh = fake_host_create("detector", "flood", text);
        assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state),
                         EINVAL);
        assert_null(state);
        if (strncmp(fh->log, cases[i].log, strlen(cases[i].log))) {
            fail_msg("case %zu: log is \"%s\"", i, fh->log);
        }
        fake_host_destroy(fh);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_syn_flood),
        cmocka_unit_test(test_syn_rate),
        cmocka_unit_test(test_udp_flood),
        cmocka_unit_test(test_icmp_flood),
        cmocka_unit_test(test_flood_ends),
        cmocka_unit_test(test_normal_traffic),
        cmocka_unit_test(test_unattributed_and_bounded),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

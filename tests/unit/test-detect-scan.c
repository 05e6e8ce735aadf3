/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "scan" detector: analyzer/detect-scan.c is compiled
 * into this binary and driven through its 'vnm_plugin' descriptor on the
 * fake host (tests/unit/fake-host.c), with synthetic flow records and the
 * fake clock.
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
#define SYN 0x02
#define RST 0x04
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

/* An unanswered TCP SYN from t1vm1 (10.0.0.11:'sport') to 'dst':'dport',
 * first seen at 'ms'. */
static struct vnm_flow
syn_probe(uint64_t id, uint16_t sport, uint32_t dst, uint16_t dport,
          uint64_t ms)
{
    struct vnm_flow flow;

    memset(&flow, 0, sizeof flow);
    snprintf(flow.host, sizeof flow.host, "hv1");
    flow.id = id;
    flow.first_ms = flow.last_ms = ms;
    flow.event = VNM_FLOW_END_IDLE;
    flow.eth_type = 0x0800;
    flow.ip_proto = TCP;
    flow.src.ip = ipv4(IP4(10, 0, 0, 11));
    flow.src.port = sport;
    flow.src.tcp_flags = SYN;
    flow.src.packets = 1;
    flow.src.bytes = 74;
    flow.src.in = t1vm1;
    flow.dst.ip = ipv4(dst);
    flow.dst.port = dport;
    flow.dst.in.ofport = -1;
    return flow;
}

/* A detector with the keys 'keys' (may be empty), on a fake host whose
 * clock reads T0. */
static struct fake_host *
scan_start(const char *keys, void **statep)
{
    char text[512];
    struct fake_host *fh;

    snprintf(text, sizeof text, "[detector \"scan\"]\n%s", keys);
    fh = fake_host_create("detector", "scan", text);
    fh->now_ms = T0;
    *statep = NULL;
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, statep), 0);
    assert_non_null(*statep);
    assert_null(fake_host_check_unused(fh));
    return fh;
}

static void
scan_stop(struct fake_host *fh, void *state)
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
    assert_string_equal(vnm_plugin.name, "scan");
    assert_non_null(vnm_plugin.detector);
    assert_non_null(vnm_plugin.detector->on_flow);
    assert_non_null(vnm_plugin.detector->on_tick);
    assert_null(vnm_plugin.sink);
}

/* 60 unanswered SYNs to 60 ports of one host in 6 s: one "port-scan",
 * raised by the 51st, naming the VM. */
static void
test_port_scan(void **statep)
{
    const struct fake_alert *a;
    struct fake_host *fh;
    void *state;

    fh = scan_start("", &state);
    for (int i = 0; i < 60; i++) {
        uint64_t ms = T0 + 100 * i;
        struct vnm_flow flow = syn_probe(i + 1, 40000 + i,
                                         IP4(10, 0, 0, 12), 1 + i, ms);

        feed(fh, state, &flow, ms + 50);
        if (i == 49) {
            assert_int_equal(fh->n_alerts, 0);
        }
    }
    assert_int_equal(fh->n_alerts, 1);

    a = &fh->alerts[0];
    assert_string_equal(a->kind, "port-scan");
    assert_int_equal(a->severity, VNM_SEV_MEDIUM);
    assert_string_equal(a->key, "hv1/t1vm1>10.0.0.12");
    assert_string_equal(a->target, "10.0.0.12");
    assert_string_equal(a->summary, "t1vm1 (10.0.0.11) probed 51 ports on "
                        "10.0.0.12 in 5.0 s");
    assert_true(a->has_vm);
    assert_memory_equal(&a->vm, &t1vm1, sizeof t1vm1);
    assert_true(a->has_flow);
    assert_int_equal(a->flow_id, 51);
    assert_int_equal(a->packets, 51);
    assert_int_equal(a->bytes, 51 * 74);
    assert_int_equal(a->n_evidence, 4);
    assert_string_equal(a->evidence[0], "TCP 10.0.0.11:40047 -> "
                        "10.0.0.12:48 SYN, no answer");
    assert_string_equal(a->evidence[3], "TCP 10.0.0.11:40050 -> "
                        "10.0.0.12:51 SYN, no answer");

    assert_int_equal(fake_host_counter(fh, "probes"), 60);
    assert_int_equal(fake_host_counter(fh, "port_scans"), 1);
    assert_int_equal(fake_host_counter(fh, "host_scans"), 0);

    /* The 9 probes after the alert are emitted at the next tick. */
    vnm_plugin.detector->on_tick(state, T0 + 5500);
    assert_int_equal(fh->n_alerts, 1);
    vnm_plugin.detector->on_tick(state, T0 + 6050);
    assert_int_equal(fh->n_alerts, 2);
    assert_string_equal(fh->alerts[1].key, "hv1/t1vm1>10.0.0.12");
    assert_int_equal(fh->alerts[1].packets, 9);
    assert_false(fh->alerts[1].has_flow);
    vnm_plugin.detector->on_tick(state, T0 + 9050);
    assert_int_equal(fh->n_alerts, 2);
    scan_stop(fh, state);
}

/* 40 unanswered flows to port 22 of 40 hosts: one "host-scan" of
 * tcp/22. */
static void
test_host_scan(void **statep)
{
    const struct fake_alert *a;
    struct fake_host *fh;
    void *state;

    fh = scan_start("", &state);
    for (int i = 0; i < 40; i++) {
        uint64_t ms = T0 + 10 * i;
        struct vnm_flow flow = syn_probe(i + 1, 50000 + i,
                                         IP4(10, 0, 1, 1 + i), 22, ms);

        feed(fh, state, &flow, ms);
    }
    assert_int_equal(fh->n_alerts, 1);
    a = &fh->alerts[0];
    assert_string_equal(a->kind, "host-scan");
    assert_int_equal(a->severity, VNM_SEV_MEDIUM);
    assert_string_equal(a->key, "hv1/t1vm1>tcp/22");
    assert_string_equal(a->target, "tcp/22");
    assert_string_equal(a->summary, "t1vm1 (10.0.0.11) probed tcp/22 on 31 "
                        "hosts (10.0.1.1-10.0.1.31) in 0.3 s");
    assert_true(a->has_vm);
    assert_string_equal(a->vm.port, "t1vm1");
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_int_equal(a->flow_id, 31);
    assert_int_equal(a->packets, 31);
    assert_string_equal(a->evidence[3], "TCP 10.0.0.11:50030 -> "
                        "10.0.1.31:22 SYN, no answer");
    assert_int_equal(fake_host_counter(fh, "host_scans"), 1);
    scan_stop(fh, state);
}

/* An ICMP echo request from t1vm1 to 'dst', answered if 'answered'. */
static struct vnm_flow
ping_flow(uint64_t id, uint32_t dst, uint64_t ms, bool answered)
{
    struct vnm_flow flow = syn_probe(id, 1000 + id, dst, 1000 + id, ms);

    flow.ip_proto = 1;
    flow.src.tcp_flags = 0;
    flow.src.bytes = 98;
    flow.src_ctl.has_icmp = 1;
    flow.src_ctl.icmp_type = 8;
    if (answered) {
        flow.dst.packets = 1;
        flow.dst.bytes = 98;
        flow.dst_ctl.has_icmp = 1;
    }
    return flow;
}

/* Pings to 40 hosts of 10.0.1.0/24, half of them answered: a "ping-sweep"
 * of that network at the 31st.  Then 40 more in 10.0.2.0/24: the sweep
 * leaves its network, and a second incident names the wider one, which
 * the rest of the sweep updates. */
static void
test_ping_sweep(void **statep)
{
    const struct fake_alert *a;
    struct fake_host *fh;
    void *state;

    fh = scan_start("", &state);
    for (int i = 0; i < 40; i++) {
        uint64_t ms = T0 + 10 * i;
        struct vnm_flow flow = ping_flow(i + 1, IP4(10, 0, 1, 1 + i), ms,
                                         i % 2);

        feed(fh, state, &flow, ms);
    }
    assert_int_equal(fh->n_alerts, 1);
    a = &fh->alerts[0];
    assert_string_equal(a->kind, "ping-sweep");
    assert_int_equal(a->severity, VNM_SEV_MEDIUM);
    assert_string_equal(a->key, "hv1/t1vm1>10.0.1.0/24");
    assert_string_equal(a->target, "10.0.1.0/24");
    assert_string_equal(a->summary, "t1vm1 (10.0.0.11) pinged 31 hosts of "
                        "10.0.1.0/24 in 0.3 s");
    assert_int_equal(a->packets, 31 + 15);    /* Requests and replies. */
    assert_string_equal(a->evidence[3], "ICMP 10.0.0.11 -> 10.0.1.31 type "
                        "8, no answer");
    assert_string_equal(a->evidence[2], "ICMP 10.0.0.11 -> 10.0.1.30 type "
                        "8, answered");
    assert_int_equal(fake_host_counter(fh, "pings"), 40);
    assert_int_equal(fake_host_counter(fh, "probes"), 0);

    for (int i = 0; i < 40; i++) {
        uint64_t ms = T0 + 2000 + 10 * i;
        struct vnm_flow flow = ping_flow(i + 100, IP4(10, 0, 2, 1 + i), ms,
                                         false);

        feed(fh, state, &flow, ms);
    }
    vnm_plugin.detector->on_tick(state, T0 + 5000);
    assert_int_equal(fake_host_counter(fh, "ping_sweeps"), 2);
    {
        uint64_t wide = 0, narrow = 0;

        for (size_t i = 0; i < fh->n_alerts; i++) {
            if (!strcmp(fh->alerts[i].key, "hv1/t1vm1>10.0.0.0/16")) {
                wide += fh->alerts[i].packets;
            } else {
                assert_string_equal(fh->alerts[i].key,
                                    "hv1/t1vm1>10.0.1.0/24");
                narrow += fh->alerts[i].packets;
            }
        }
        /* Every request and reply counted once, in one of them. */
        assert_int_equal(narrow, 40 + 20);
        assert_int_equal(wide, 40);
    }
    assert_int_equal(fake_host_counter(fh, "port_scans")
                     + fake_host_counter(fh, "host_scans"), 0);
    scan_stop(fh, state);
}

/* ICMPv6 echo requests to 31 hosts: a sweep of the /112 that holds them;
 * other ICMP messages (an unreachable, ND) are no pings; without the ICMP
 * details (an older agent), an ICMP flow with an echo id is one. */
static void
test_ping_kinds(void **statep)
{
    struct vnm_addr src = { .family = 6, .a = { 0xfd, 0x00 } };
    struct fake_host *fh;
    void *state;

    src.a[15] = 0x11;
    fh = scan_start("", &state);
    for (int i = 0; i < 31; i++) {
        struct vnm_flow flow = ping_flow(i + 1, 0, T0 + i, false);

        flow.eth_type = 0x86dd;
        flow.ip_proto = 58;
        flow.src_ctl.icmp_type = 128;
        flow.src.ip = src;
        flow.dst.ip = (struct vnm_addr) { .family = 6,
                                          .a = { 0xfd, 0x00, 0, 1 } };
        flow.dst.ip.a[15] = 1 + i;
        feed(fh, state, &flow, T0 + i);
    }
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].key, "hv1/t1vm1>fd00:1::/112");
    assert_string_equal(fh->alerts[0].evidence[0], "ICMPv6 fd00::11 -> "
                        "fd00:1::1c type 128, no answer");

    fake_host_clear(fh);
    for (int i = 0; i < 40; i++) {
        struct vnm_flow flow = ping_flow(i + 100, IP4(10, 0, 3, 1 + i),
                                         T0 + 100 + i, false);

        flow.src_ctl.icmp_type = 3;     /* Unreachable. */
        feed(fh, state, &flow, T0 + 100 + i);
        flow.id += 1000;
        flow.ip_proto = 58;
        flow.src_ctl.icmp_type = 135;   /* Neighbor solicitation. */
        feed(fh, state, &flow, T0 + 100 + i);
        flow.id += 1000;
        flow.ip_proto = 1;
        flow.src_ctl.has_icmp = 0;
        flow.src.port = 0;              /* No echo id. */
        feed(fh, state, &flow, T0 + 100 + i);
    }
    assert_int_equal(fh->n_alerts, 0);
    for (int i = 0; i < 31; i++) {
        struct vnm_flow flow = ping_flow(i + 500, IP4(10, 0, 4, 1 + i),
                                         T0 + 200 + i, false);

        flow.src_ctl.has_icmp = 0;      /* Older agent; echo id 1500+. */
        feed(fh, state, &flow, T0 + 200 + i);
    }
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].target, "10.0.4.0/24");
    scan_stop(fh, state);
}

/* A flow reported several times (UPDATEs, then END) is one probe; the
 * same port name on two hypervisors is two sources. */
static void
test_records_and_hosts(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = scan_start("", &state);
    for (int i = 0; i < 30; i++) {
        for (int h = 0; h < 2; h++) {
            struct vnm_flow flow = syn_probe(i + 1 + 100 * h, 40000 + i,
                                             IP4(10, 0, 0, 12), 1 + i,
                                             T0 + i);

            snprintf(flow.host, sizeof flow.host, "hv%d", h + 1);
            for (int r = 0; r < 3; r++) {
                flow.event = r < 2 ? VNM_FLOW_UPDATE : VNM_FLOW_END_IDLE;
                feed(fh, state, &flow, T0 + i);
            }
        }
    }
    assert_int_equal(fake_host_counter(fh, "probes"), 60);
    assert_int_equal(fh->n_alerts, 0);
    scan_stop(fh, state);
}

/* Answered traffic is no probe: 200 connections to one port, and 60
 * services on one host that all answer. */
static void
test_normal_traffic(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = scan_start("", &state);
    for (int i = 0; i < 200; i++) {
        struct vnm_flow flow = syn_probe(i + 1, 30000 + i, IP4(10, 0, 0, 12),
                                         80, T0 + i);

        flow.src.tcp_flags = SYN | ACK;
        flow.dst.tcp_flags = SYN | ACK;
        flow.dst.packets = 5;
        flow.dst.bytes = 4000;
        feed(fh, state, &flow, T0 + i);
    }
    for (int i = 0; i < 60; i++) {
        struct vnm_flow flow = syn_probe(i + 1000, 30000 + i,
                                         IP4(10, 0, 0, 13), 1 + i, T0 + i);

        flow.src.tcp_flags = SYN | ACK;
        flow.dst.tcp_flags = SYN | ACK;
        flow.dst.packets = 1;
        feed(fh, state, &flow, T0 + i);
    }
    /* UDP that is answered, and UDP to multicast groups. */
    for (int i = 0; i < 60; i++) {
        struct vnm_flow flow = syn_probe(i + 2000, 5353, IP4(10, 0, 0, 1 + i),
                                         53, T0 + i);

        flow.ip_proto = UDP;
        flow.src.tcp_flags = 0;
        flow.dst.packets = 1;
        feed(fh, state, &flow, T0 + i);
        flow = syn_probe(i + 3000, 5353, IP4(239, 255, 0, 1 + i), 1900 + i,
                         T0 + i);
        flow.ip_proto = UDP;
        feed(fh, state, &flow, T0 + i);
    }
    /* Connections whose answers went by unseen (the host's own replies):
     * the initiator's ACKs show the handshakes completed. */
    for (int i = 0; i < 60; i++) {
        struct vnm_flow flow = syn_probe(i + 4000, 30000 + i,
                                         IP4(10, 0, 0, 1), 1 + i, T0 + i);

        flow.src.tcp_flags = SYN | ACK;
        feed(fh, state, &flow, T0 + i);
    }
    assert_int_equal(fh->n_alerts, 0);
    assert_int_equal(fake_host_counter(fh, "probes"), 0);
    scan_stop(fh, state);
}

/* Closed ports (RST), half-open SYN scans and unanswered UDP are probes
 * too; a scan mixing them is seen. */
static void
test_probe_kinds(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = scan_start("", &state);
    for (int i = 0; i < 51; i++) {
        struct vnm_flow flow = syn_probe(i + 1, 40000 + i, IP4(10, 0, 0, 12),
                                         1 + i, T0 + i);

        switch (i % 3) {
        case 0:                 /* Closed: RST|ACK. */
            flow.dst.tcp_flags = RST | ACK;
            flow.dst.packets = 1;
            break;
        case 1:                 /* Open, then reset: SYN scan. */
            flow.src.tcp_flags = SYN | RST;
            flow.dst.tcp_flags = SYN | ACK;
            flow.dst.packets = 1;
            break;
        default:                /* UDP, no answer. */
            flow.ip_proto = UDP;
            flow.src.tcp_flags = 0;
            break;
        }
        feed(fh, state, &flow, T0 + i);
    }
    assert_int_equal(fake_host_counter(fh, "probes"), 51);
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].kind, "port-scan");
    assert_string_equal(fh->alerts[0].evidence[0], "UDP 10.0.0.11:40047 -> "
                        "10.0.0.12:48, no answer");
    assert_string_equal(fh->alerts[0].evidence[1], "TCP 10.0.0.11:40048 -> "
                        "10.0.0.12:49 SYN, answered RST|ACK");
    assert_string_equal(fh->alerts[0].evidence[2], "TCP 10.0.0.11:40049 -> "
                        "10.0.0.12:50 SYN|RST, answered SYN|ACK");
    scan_stop(fh, state);
}

/* 60 ports probed one per second, with a 10 s window: never more than 11
 * in a window, no alert; and the source is forgotten once idle. */
static void
test_slow_scan(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = scan_start("", &state);
    for (int i = 0; i < 60; i++) {
        uint64_t ms = T0 + 1000 * i;
        struct vnm_flow flow = syn_probe(i + 1, 40000 + i,
                                         IP4(10, 0, 0, 12), 1 + i, ms);

        feed(fh, state, &flow, ms);
        vnm_plugin.detector->on_tick(state, ms + 500);
    }
    assert_int_equal(fh->n_alerts, 0);
    assert_int_equal(fake_host_counter(fh, "sources_expired"), 0);
    vnm_plugin.detector->on_tick(state, T0 + 59000 + 10000);
    assert_int_equal(fake_host_counter(fh, "sources_expired"), 1);
    scan_stop(fh, state);
}

/* Bursts of 30 ports each, 11 s apart: the window slides, so no more than
 * 30 ports ever count together. */
static void
test_bursts(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = scan_start("", &state);
    for (int burst = 0; burst < 4; burst++) {
        for (int i = 0; i < 30; i++) {
            uint64_t ms = T0 + 11000 * burst + i;
            struct vnm_flow flow = syn_probe(i + 1, 40000 + i,
                                             IP4(10, 0, 0, 12),
                                             1 + 30 * burst + i, ms);

            feed(fh, state, &flow, ms);
        }
        vnm_plugin.detector->on_tick(state, T0 + 11000 * burst + 1000);
    }
    assert_int_equal(fh->n_alerts, 0);
    scan_stop(fh, state);
}

/* Records that arrive late (an unanswered flow is exported on idle
 * timeout) count by the flows' own times. */
static void
test_late_records(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = scan_start("", &state);
    for (int i = 0; i < 60; i++) {
        uint64_t ms = T0 + 20 * i;                      /* The scan... */
        uint64_t now = T0 + 30000 + 100 * i;            /* ...seen later. */
        struct vnm_flow flow = syn_probe(i + 1, 40000 + i,
                                         IP4(10, 0, 0, 12), 1 + i, ms);

        feed(fh, state, &flow, now);
        vnm_plugin.detector->on_tick(state, now);
    }
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].summary, "t1vm1 (10.0.0.11) probed 51 "
                        "ports on 10.0.0.12 in 1.0 s");

    /* Records older than their source's window are ignored: these 40
     * hosts would be a sweep. */
    fake_host_clear(fh);
    for (int i = 0; i < 40; i++) {
        struct vnm_flow flow = syn_probe(100 + i, 1, IP4(10, 0, 1, 1 + i), 1,
                                         T0 - 20000 + i);

        feed(fh, state, &flow, T0 + 40000);
    }
    assert_int_equal(fh->n_alerts, 0);
    scan_stop(fh, state);
}

/* A scan that goes on for 5 minutes (10 ports a second): an alert, then
 * updates at most once a second, which together count every probe once,
 * though each flow is reported twice (an UPDATE, then its END). */
static void
test_continuing_scan(void **statep)
{
    uint64_t last_emit = 0, packets = 0;
    size_t n_alerts = 0;
    struct fake_host *fh;
    void *state;

    fh = scan_start("", &state);
    for (int i = 0; i < 3000; i++) {
        uint64_t ms = T0 + 100 * i;
        struct vnm_flow flow = syn_probe(i + 1, 1024 + i % 60000,
                                         IP4(10, 0, 0, 12), 1 + i, ms);

        flow.event = VNM_FLOW_UPDATE;
        feed(fh, state, &flow, ms);
        flow.event = VNM_FLOW_END_IDLE;
        flow.src.packets = 2;           /* A retransmission. */
        flow.src.bytes = 148;
        feed(fh, state, &flow, ms + 1);
        if (i % 10 == 0) {
            vnm_plugin.detector->on_tick(state, ms);
        }
        for (; n_alerts < fh->n_alerts; n_alerts++) {
            const struct fake_alert *a = &fh->alerts[n_alerts];

            if (n_alerts) {
                assert_true(ms + 1 - last_emit >= 1000);
            }
            assert_string_equal(a->kind, "port-scan");
            assert_string_equal(a->key, "hv1/t1vm1>10.0.0.12");
            assert_int_equal(a->bytes, 74 * a->packets);
            last_emit = ms + 1;
            packets += a->packets;
        }
    }
    vnm_plugin.detector->on_tick(state, T0 + 400000);
    for (; n_alerts < fh->n_alerts; n_alerts++) {
        packets += fh->alerts[n_alerts].packets;
    }
    /* First at 5 s, then once a second up to 299.9 s, and the rest at the
     * last tick. */
    assert_true(n_alerts >= 290 && n_alerts <= 300);
    assert_int_equal(packets, 2 * 3000);
    assert_int_equal(fake_host_counter(fh, "port_scans"), 1);
    assert_int_equal(fake_host_counter(fh, "host_scans"), 0);
    assert_int_equal(fake_host_counter(fh, "probes"), 6000);
    scan_stop(fh, state);
}

/* A scan of 3 hosts whose probes interleave (as nmap does) is still a port
 * scan, though the source tracks only 51 pairs. */
static void
test_interleaved_scan(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = scan_start("", &state);
    for (int i = 0; i < 300; i++) {
        uint64_t ms = T0 + 10 * i;
        struct vnm_flow flow = syn_probe(i + 1, 40000 + i,
                                         IP4(10, 0, 0, 12 + i % 3),
                                         1 + i / 3, ms);

        feed(fh, state, &flow, ms);
    }
    /* One incident: raised, then updated once a second. */
    assert_int_equal(fake_host_counter(fh, "port_scans"), 1);
    assert_true(fh->n_alerts >= 1 && fh->n_alerts <= 3);
    for (size_t i = 0; i < fh->n_alerts; i++) {
        assert_string_equal(fh->alerts[i].kind, "port-scan");
        assert_string_equal(fh->alerts[i].key, fh->alerts[0].key);
    }
    assert_true(!strcmp(fh->alerts[0].key, "hv1/t1vm1>10.0.0.12")
                || !strcmp(fh->alerts[0].key, "hv1/t1vm1>10.0.0.13")
                || !strcmp(fh->alerts[0].key, "hv1/t1vm1>10.0.0.14"));
    scan_stop(fh, state);
}

/* Without a VM port, the source is its address, and the alert names no
 * VM; IPv6 is formatted as such. */
static void
test_unattributed_ipv6(void **statep)
{
    struct vnm_addr src = { .family = 6, .a = { 0x20, 0x01, 0x0d, 0xb8 } };
    struct vnm_addr dst = { .family = 6, .a = { 0xfd } };
    const struct fake_alert *a;
    struct fake_host *fh;
    void *state;

    src.a[15] = 0x66;
    dst.a[15] = 0x12;
    fh = scan_start("ports = 5\nseverity = high\n", &state);
    for (int i = 0; i < 6; i++) {
        struct vnm_flow flow = syn_probe(i + 1, 40000 + i, 0, 1 + i,
                                         T0 + i);

        memset(&flow.src.in, 0, sizeof flow.src.in);
        snprintf(flow.src.in.port, sizeof flow.src.in.port, "uplink");
        flow.eth_type = 0x86dd;
        flow.src.ip = src;
        flow.dst.ip = dst;
        feed(fh, state, &flow, T0 + i);
    }
    assert_int_equal(fh->n_alerts, 1);
    a = &fh->alerts[0];
    assert_string_equal(a->key, "hv1/2001:db8::66>fd00::12");
    assert_false(a->has_vm);
    assert_int_equal(a->severity, VNM_SEV_HIGH);
    assert_string_equal(a->target, "fd00::12");
    assert_string_equal(a->summary, "2001:db8::66 probed 6 ports on "
                        "fd00::12 in 0.0 s");
    assert_string_equal(a->evidence[3], "TCP [2001:db8::66]:40005 -> "
                        "[fd00::12]:6 SYN, no answer");
    scan_stop(fh, state);
}

/* 100000 distinct random sources each probing once: the source table
 * stays at 'max_sources', evicting the least recently seen. */
static void
test_max_sources(void **statep)
{
    const uint32_t n = 100000;
    uint32_t x = 12345;
    struct fake_host *fh;
    void *state;

    fh = scan_start("", &state);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t ms = T0 + i / 100;
        struct vnm_flow flow = syn_probe(i + 1, 40000, 0, 22, ms);

        memset(&flow.src.in, 0, sizeof flow.src.in);
        flow.src.ip = ipv4(i * 2654435761u);    /* Distinct for each i. */
        flow.dst.ip = ipv4(IP4(10, 0, 0, 0) | (next_random(&x) & 0xffffff));
        flow.dst.port = next_random(&x);
        feed(fh, state, &flow, ms);
    }
    assert_int_equal(fh->n_alerts, 0);
    assert_int_equal(fake_host_counter(fh, "probes"), n);
    assert_int_equal(fake_host_counter(fh, "sources_evicted"), n - 4096);
    vnm_plugin.detector->on_tick(state, T0 + 3600000);
    assert_int_equal(fake_host_counter(fh, "sources_expired"), 4096);
    scan_stop(fh, state);
}

/* One source probing 100000 random (host, port) pairs of 1024 hosts, about
 * 10 ports per host and one host per port a window: no scan of any kind;
 * its tracking stays bounded (checked by the sanitizers). */
static void
test_one_source_flood(void **statep)
{
    uint32_t x = 777;
    struct fake_host *fh;
    void *state;

    fh = scan_start("max_sources = 1\n", &state);
    for (uint32_t i = 0; i < 100000; i++) {
        uint64_t ms = T0 + i;
        struct vnm_flow flow = syn_probe(i + 1, 40000, 0, 0, ms);

        flow.dst.ip = ipv4(IP4(10, 1, 0, 0) | (next_random(&x) & 0x3ff));
        flow.dst.port = next_random(&x);
        feed(fh, state, &flow, ms);
    }
    assert_int_equal(fh->n_alerts, 0);
    assert_int_equal(fake_host_counter(fh, "probes"), 100000);
    assert_int_equal(fake_host_counter(fh, "sources_evicted"), 0);
    scan_stop(fh, state);
}

/* Invalid keys fail init() with the host's error; unknown ones are left
 * for the host to refuse. */
static void
test_config_errors(void **statep)
{
    static const struct {
        const char *keys;
        const char *log;
    } cases[] = {
        { "ports = 0\n", "ERR|test.conf:2: ports: " },
        { "hosts = many\n", "ERR|test.conf:2: hosts: " },
        { "window = forever\n", "ERR|test.conf:2: window: " },
        { "max_sources = 0\n", "ERR|test.conf:2: max_sources: " },
        { "severity = extreme\n", "ERR|severity: \"extreme\" is not one of "
          "info, low, medium, high, critical\n" },
    };
    struct fake_host *fh;
    void *state = NULL;
    char *error;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[128];

        snprintf(text, sizeof text, "[detector \"scan\"]\n%s", cases[i].keys);
        fh = fake_host_create("detector", "scan", text);
        assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state),
                         EINVAL);
        assert_null(state);
        if (strncmp(fh->log, cases[i].log, strlen(cases[i].log))) {
            fail_msg("case %zu: log is \"%s\"", i, fh->log);
        }
        fake_host_destroy(fh);
    }

    fh = fake_host_create("detector", "scan", "[detector \"scan\"]\n"
                          "window = 30s\nport = 10\n");
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), 0);
    error = fake_host_check_unused(fh);
    assert_non_null(error);
    assert_string_equal(error, "test.conf:3: port: unknown key in "
                        "[detector \"scan\"]");
    free(error);
    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_port_scan),
        cmocka_unit_test(test_host_scan),
        cmocka_unit_test(test_ping_sweep),
        cmocka_unit_test(test_ping_kinds),
        cmocka_unit_test(test_records_and_hosts),
        cmocka_unit_test(test_normal_traffic),
        cmocka_unit_test(test_probe_kinds),
        cmocka_unit_test(test_slow_scan),
        cmocka_unit_test(test_bursts),
        cmocka_unit_test(test_late_records),
        cmocka_unit_test(test_continuing_scan),
        cmocka_unit_test(test_interleaved_scan),
        cmocka_unit_test(test_unattributed_ipv6),
        cmocka_unit_test(test_max_sources),
        cmocka_unit_test(test_one_source_flood),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

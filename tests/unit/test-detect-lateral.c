/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "lateral" detector: analyzer/detect-lateral.c is
 * compiled into this binary and driven through its 'vnm_plugin' descriptor
 * on the fake host (tests/unit/fake-host.c), whose network view holds the
 * inventory below, with synthetic flow records and the fake clock.
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
#define ACK 0x10

/* Hypervisor hv1: t1vm1..t1vm2 (tenant1), t2vm1..t2vm2 (tenant2), VM ports
 * at 10.0.0.<10t+i> and fd00::<10t+i>; host0 is the host's own port. */
#define INVENTORY                                                        \
    "[port \"t1vm1\"]\nhost = hv1\ntenant = tenant1\nvm = vm-t1vm1\n"    \
    "ofport = 3\nips = 10.0.0.11, fd00::11\n"                            \
    "[port \"t1vm2\"]\nhost = hv1\ntenant = tenant1\nvm = vm-t1vm2\n"    \
    "ofport = 4\nips = 10.0.0.12, fd00::12\n"                            \
    "[port \"t2vm1\"]\nhost = hv1\ntenant = tenant2\nvm = vm-t2vm1\n"    \
    "ofport = 5\nips = 10.0.0.21, fd00::21\n"                            \
    "[port \"t2vm2\"]\nhost = hv1\ntenant = tenant2\nvm = vm-t2vm2\n"    \
    "ofport = 6\nips = 10.0.0.22, fd00::22\n"                            \
    "[port \"host0\"]\nhost = hv1\ntype = internal\nofport = 65534\n"    \
    "ips = 10.0.0.1\n"

/* As the agent attributes t1vm1's frames. */
static const struct vnm_attribution t1vm1 = {
    .port = "t1vm1",
    .ofport = 3,
    .vm = "vm-t1vm1",
    .tenant = "tenant1",
};

static struct vnm_addr
ipv4(uint8_t last)
{
    struct vnm_addr addr = { .family = 4, .a = { 10, 0, 0, last } };

    return addr;
}

static struct vnm_addr
ipv6(uint8_t last)
{
    struct vnm_addr addr = { .family = 6, .a = { 0xfd } };

    addr.a[15] = last;
    return addr;
}

/* A TCP flow from t1vm1 to 'dst':'dport' at 'ms', unanswered (so only the
 * network view can tell where 'dst' is). */
static struct vnm_flow
flow_to(uint64_t id, struct vnm_addr dst, uint16_t dport, uint64_t ms)
{
    struct vnm_flow flow;

    memset(&flow, 0, sizeof flow);
    snprintf(flow.host, sizeof flow.host, "hv1");
    flow.id = id;
    flow.first_ms = flow.last_ms = ms;
    flow.event = VNM_FLOW_END_IDLE;
    flow.eth_type = dst.family == 6 ? 0x86dd : 0x0800;
    flow.ip_proto = TCP;
    flow.src.ip = dst.family == 6 ? ipv6(0x11) : ipv4(11);
    flow.src.port = 40000 + id;
    flow.src.tcp_flags = SYN;
    flow.src.packets = 2;
    flow.src.bytes = 148;
    flow.src.in = t1vm1;
    flow.dst.ip = dst;
    flow.dst.port = dport;
    flow.dst.in.ofport = -1;
    return flow;
}

static struct fake_host *
lateral_start(const char *keys, void **statep)
{
    char text[512];
    struct fake_host *fh;

    snprintf(text, sizeof text, "[detector \"lateral\"]\n%s", keys);
    fh = fake_host_create("detector", "lateral", text);
    fake_host_set_inventory(fh, INVENTORY);
    fh->now_ms = T0;
    *statep = NULL;
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, statep), 0);
    assert_null(fake_host_check_unused(fh));
    return fh;
}

static void
lateral_stop(struct fake_host *fh, void *state)
{
    vnm_plugin.destroy(state);
    assert_string_equal(fh->log, "");
    fake_host_destroy(fh);
}

static void
feed(struct fake_host *fh, void *state, const struct vnm_flow *flow,
     uint64_t now)
{
    fh->now_ms = now;
    vnm_plugin.detector->on_flow(state, flow);
}

static void
test_descriptor(void **statep)
{
    assert_int_equal(vnm_plugin.abi_major, VNM_PLUGIN_ABI_MAJOR);
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
    assert_string_equal(vnm_plugin.name, "lateral");
    assert_non_null(vnm_plugin.detector->on_tick);
}

/* t1vm1 tries tcp/445 on every other VM (and on the host, and on itself):
 * with vms = 2, the third VM raises "lateral" for tcp/445. */
static void
test_lateral(void **statep)
{
    static const uint8_t dsts[] = { 1, 11, 12, 21, 22 };
    const struct fake_alert *a;
    struct fake_host *fh;
    void *state;

    fh = lateral_start("vms = 2\n", &state);
    for (size_t i = 0; i < sizeof dsts; i++) {
        struct vnm_flow flow = flow_to(i + 1, ipv4(dsts[i]), 445,
                                       T0 + 100 * i);

        feed(fh, state, &flow, T0 + 100 * i + 50);
        if (dsts[i] == 21) {
            assert_int_equal(fh->n_alerts, 0);
        }
    }
    assert_int_equal(fh->n_alerts, 1);
    a = &fh->alerts[0];
    assert_string_equal(a->kind, "lateral");
    assert_int_equal(a->severity, VNM_SEV_HIGH);
    assert_string_equal(a->key, "hv1/t1vm1>tcp/445");
    assert_string_equal(a->target, "tcp/445");
    assert_true(a->has_vm);
    assert_string_equal(a->vm.port, "t1vm1");
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_string_equal(a->summary, "t1vm1 (10.0.0.11) reached 3 VMs on "
                        "tcp/445 in 0.2 s: t1vm2, t2vm1, t2vm2");
    assert_int_equal(a->packets, 2);
    assert_int_equal(a->bytes, 148);
    assert_int_equal(a->flow_id, 5);
    assert_int_equal(a->n_evidence, 1);
    assert_non_null(strstr(a->evidence[0], "10.0.0.22:445"));
    assert_int_equal(fake_host_counter(fh, "vm_flows"), 3);
    lateral_stop(fh, state);
}

/* The same VMs by their IPv6 addresses count once more each only; other
 * services, external peers and the window keep things apart; answered
 * flows count as well; records of one flow count once. */
static void
test_counting(void **statep)
{
    struct fake_host *fh;
    uint64_t id = 1;
    void *state;

    fh = lateral_start("vms = 3\n", &state);
    /* 3 VMs over IPv4 and IPv6, answered, reported twice: 3 VMs. */
    for (uint8_t d = 12; d <= 22; d += (d == 12 ? 9 : 1)) {
        for (int six = 0; six < 2; six++) {
            struct vnm_flow flow = flow_to(id++, six ? ipv6(d) : ipv4(d),
                                           22, T0 + 10);

            flow.src.tcp_flags = SYN | ACK;
            flow.dst.tcp_flags = SYN | ACK;
            flow.dst.packets = 3;
            flow.event = VNM_FLOW_UPDATE;
            feed(fh, state, &flow, T0 + 1000);
            flow.event = VNM_FLOW_END_TCP;
            feed(fh, state, &flow, T0 + 2000);
        }
    }
    /* Other ports of a fourth VM (itself, on purpose: not counted), and
     * external hosts on tcp/22. */
    for (int i = 0; i < 10; i++) {
        struct vnm_flow flow = flow_to(id++, ipv4(11), 1000 + i, T0 + 20);
        struct vnm_flow ext = flow_to(id++, ipv4(100 + i), 22, T0 + 20);

        feed(fh, state, &flow, T0 + 2000);
        ext.dst.ip.a[0] = 192;
        feed(fh, state, &ext, T0 + 2000);
    }
    assert_int_equal(fh->n_alerts, 0);

    lateral_stop(fh, state);

    /* The third VM 2 minutes after the others: outside the window. */
    fh = lateral_start("vms = 2\n", &state);
    for (int i = 0; i < 3; i++) {
        static const uint8_t dsts[] = { 12, 21, 22 };
        struct vnm_flow flow = flow_to(i + 1, ipv4(dsts[i]), 22,
                                       T0 + (i == 2 ? 120000 : i));

        feed(fh, state, &flow, flow.first_ms + 1000);
    }
    assert_int_equal(fh->n_alerts, 0);
    lateral_stop(fh, state);
}

/* Once raised, later flows of the service update the incident, merged so
 * that it is emitted at most once a second; each flow's packets once. */
static void
test_updates(void **statep)
{
    static const uint8_t dsts[] = { 12, 21, 22 };
    uint64_t packets = 0;
    struct fake_host *fh;
    void *state;

    fh = lateral_start("vms = 2\n", &state);
    for (int i = 0; i < 300; i++) {
        struct vnm_flow flow = flow_to(i + 1, ipv4(dsts[i % 3]), 445,
                                       T0 + 10 * i);

        feed(fh, state, &flow, T0 + 10 * i);
        if (i % 100 == 99) {
            vnm_plugin.detector->on_tick(state, T0 + 10 * i);
        }
    }
    vnm_plugin.detector->on_tick(state, T0 + 10000);
    for (size_t i = 0; i < fh->n_alerts; i++) {
        assert_string_equal(fh->alerts[i].key, "hv1/t1vm1>tcp/445");
        packets += fh->alerts[i].packets;
    }
    /* Raised by flow 3; flows 3..300 counted, 2 packets each. */
    assert_int_equal(packets, 2 * 298);
    assert_true(fh->n_alerts >= 3 && fh->n_alerts <= 5);
    lateral_stop(fh, state);
}

/* 'services' limits what is watched; 'ignore_sources' whom. */
static void
test_filters(void **statep)
{
    static const uint8_t dsts[] = { 12, 21, 22 };
    struct fake_host *fh;
    void *state;

    fh = lateral_start("vms = 2\nservices = tcp/445, udp/137\n", &state);
    for (int i = 0; i < 3; i++) {
        struct vnm_flow flow = flow_to(i + 1, ipv4(dsts[i]), 22, T0 + i);

        feed(fh, state, &flow, T0 + i);
    }
    assert_int_equal(fh->n_alerts, 0);
    for (int i = 0; i < 3; i++) {
        struct vnm_flow flow = flow_to(i + 10, ipv4(dsts[i]), 137, T0 + i);

        flow.ip_proto = UDP;
        feed(fh, state, &flow, T0 + i);
    }
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].target, "udp/137");
    lateral_stop(fh, state);

    fh = lateral_start("vms = 2\nignore_sources = hv1/t1vm1\n", &state);
    for (int i = 0; i < 3; i++) {
        struct vnm_flow flow = flow_to(i + 1, ipv4(dsts[i]), 445, T0 + i);

        feed(fh, state, &flow, T0 + i);
    }
    assert_int_equal(fh->n_alerts, 0);
    lateral_stop(fh, state);
}

/* Invalid keys fail init(). */
static void
test_config_errors(void **statep)
{
    static const struct {
        const char *keys;
        const char *log;
    } cases[] = {
        { "vms = 0\n", "ERR|test.conf:2: vms: " },
        { "services = tcp/99999\n", "ERR|services: \"tcp/99999\": bad port" },
        { "services = icmp\n", "ERR|services: \"icmp\" is not tcp/PORT" },
        { "severity = x\n", "ERR|severity: \"x\" is not one of " },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fake_host *fh;
        void *state = NULL;
        char text[128];

        snprintf(text, sizeof text, "[detector \"lateral\"]\n%s",
                 cases[i].keys);
        fh = fake_host_create("detector", "lateral", text);
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
        cmocka_unit_test(test_lateral),
        cmocka_unit_test(test_counting),
        cmocka_unit_test(test_updates),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "isolation" detector: analyzer/detect-isolation.c is
 * compiled into this binary and driven through its 'vnm_plugin' descriptor
 * on the fake host, whose network view and policy are the lab of
 * tests/unit/hop-lab.h.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/unit/fake-host.h"
#include "tests/unit/hop-lab.h"
#include "vnmon/plugin.h"

#define ICMP 1
#define TCP 6
#define UDP 17
#define ICMPV6 58

static struct fake_host *
start(const char *keys, void **statep)
{
    char text[1024];
    struct fake_host *fh;

    snprintf(text, sizeof text, "%s[detector \"isolation\"]\n%s",
             HOP_POLICY, keys);
    fh = fake_host_create("detector", "isolation", text);
    fake_host_set_inventory(fh, HOP_INVENTORY);
    fh->now_ms = HOP_T0;
    *statep = NULL;
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, statep), 0);
    assert_non_null(*statep);
    assert_null(fake_host_check_unused(fh));
    return fh;
}

static void
stop(struct fake_host *fh, void *state)
{
    vnm_plugin.destroy(state);
    assert_string_equal(fh->log, "");
    fake_host_destroy(fh);
}

static void
feed(void *state, const struct vnm_flow *f)
{
    vnm_plugin.detector->on_flow(state, f);
}

static void
test_descriptor(void **state)
{
    (void) state;
    assert_int_equal(vnm_plugin.abi_major, VNM_PLUGIN_ABI_MAJOR);
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
    assert_string_equal(vnm_plugin.name, "isolation");
}

/* A ping across tenants: "attempted" while unanswered, then "failed" in
 * the same incident once answered. */
static void
test_cross_tenant(void **state_)
{
    void *state;
    struct fake_host *fh = start("", &state);
    const struct fake_alert *a;
    struct vnm_flow f;

    f = hop_flow(1, "t1vm1", "10.0.0.11", 77, "", "10.0.0.21", 77, ICMP, 2,
                 0);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 1);
    a = &fh->alerts[0];
    assert_string_equal(a->kind, "isolation");
    assert_int_equal(a->severity, VNM_SEV_MEDIUM);
    assert_string_equal(a->key, "hv1/t1vm1>t2vm1 (tenant2)");
    assert_string_equal(a->target, "t2vm1 (tenant2)");
    assert_string_equal(a->vm.port, "t1vm1");
    assert_non_null(strstr(a->summary, "attempted"));
    assert_non_null(strstr(a->summary, "10.0.0.21"));
    assert_int_equal(a->packets, 2);
    assert_int_equal(a->bytes, 200);

    /* Answered: both sides' new packets, higher severity, same key. */
    f.src.packets = 3;
    f.src.bytes = 300;
    f.dst.packets = 3;
    f.dst.bytes = 300;
    f.dst.in = hop_in("t2vm1");
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    a = &fh->alerts[1];
    assert_int_equal(a->severity, VNM_SEV_HIGH);
    assert_string_equal(a->key, "hv1/t1vm1>t2vm1 (tenant2)");
    assert_non_null(strstr(a->summary, "failed"));
    assert_int_equal(a->packets, 4);
    assert_int_equal(a->bytes, 400);
    assert_int_equal(a->n_evidence, 3);

    /* Nothing new: nothing. */
    f.event = VNM_FLOW_END_IDLE;
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    assert_int_equal(fake_host_counter(fh, "attempted"), 1);
    assert_int_equal(fake_host_counter(fh, "failed"), 1);

    /* The destination is the port the answer came from, whatever the
     * address says: 10.0.0.99 is nobody's. */
    f = hop_flow(2, "t2vm2", "10.0.0.22", 5000, "t1vm2", "10.0.0.99", 22,
                 TCP, 2, 1);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 3);
    assert_string_equal(fh->alerts[2].key, "hv1/t2vm2>t1vm2 (tenant1)");
    stop(fh, state);
}

/* What the policy allows, and what is never a breach. */
static void
test_allowed(void **state_)
{
    void *state;
    struct fake_host *fh = start("", &state);
    struct vnm_flow f;

    /* Same tenant. */
    f = hop_flow(1, "t1vm1", "10.0.0.11", 5000, "t1vm2", "10.0.0.12", 80,
                 TCP, 5, 5);
    feed(state, &f);
    /* tenant1 -> tenant2 on tcp/443: allowed; the other way: not. */
    f = hop_flow(2, "t1vm1", "10.0.0.11", 5001, "t2vm1", "10.0.0.21", 443,
                 TCP, 5, 5);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 0);
    f = hop_flow(3, "t2vm1", "10.0.0.21", 5001, "t1vm1", "10.0.0.11", 443,
                 TCP, 5, 5);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 1);
    fake_host_clear(fh);

    /* ARP, ND, DHCP, broadcast, multicast. */
    f = hop_flow(4, "t1vm1", "10.0.0.11", 0, "", "10.0.0.21", 0, 0, 1, 0);
    f.eth_type = 0x0806;
    f.src_ctl.arp = VNM_ARP_REQUEST;
    feed(state, &f);
    f = hop_flow(5, "t1vm1", "fe80::1", 0, "", "fd00::1", 0, ICMPV6, 1, 0);
    f.src_ctl.nd = VNM_ND_NS;
    feed(state, &f);
    f = hop_flow(6, "t1vm1", "10.0.0.11", 68, "", "10.0.0.1", 67, UDP, 1, 0);
    feed(state, &f);
    f = hop_flow(7, "t1vm1", "10.0.0.11", 5000, "", "255.255.255.255", 9,
                 UDP, 1, 0);
    feed(state, &f);
    f = hop_flow(8, "t1vm1", "10.0.0.11", 5000, "", "224.0.0.251", 5353,
                 UDP, 1, 0);
    feed(state, &f);
    f = hop_flow(9, "t1vm1", "fd00::11", 5000, "", "ff02::fb", 5353, UDP, 1,
                 0);
    feed(state, &f);

    /* Host services: DNS over UDP and TCP, ICMP. */
    f = hop_flow(10, "t1vm1", "10.0.0.11", 5000, "host0", "10.0.0.1", 53,
                 UDP, 1, 1);
    feed(state, &f);
    f = hop_flow(11, "t1vm1", "10.0.0.11", 5000, "host0", "10.0.0.1", 53,
                 TCP, 3, 3);
    feed(state, &f);
    f = hop_flow(12, "t1vm1", "10.0.0.11", 9, "host0", "10.0.0.1", 9, ICMP,
                 1, 1);
    feed(state, &f);

    /* Flows the host starts, and flows of unknown destinations. */
    f = hop_flow(13, "host0", "10.0.0.1", 5000, "t1vm1", "10.0.0.11", 22,
                 TCP, 3, 3);
    feed(state, &f);
    f = hop_flow(14, "t1vm1", "10.0.0.11", 5000, "", "10.0.0.99", 22, TCP,
                 3, 0);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 0);
    stop(fh, state);
}

/* A VM to the host on a port that is not a service. */
static void
test_protected(void **state_)
{
    void *state;
    struct fake_host *fh = start("", &state);
    const struct fake_alert *a;
    struct vnm_flow f;

    f = hop_flow(1, "t2vm1", "10.0.0.21", 40000, "", "10.0.0.1", 22, TCP, 1,
                 0);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 1);
    a = &fh->alerts[0];
    assert_string_equal(a->key, "hv1/t2vm1>host 10.0.0.1");
    assert_string_equal(a->target, "host 10.0.0.1");
    assert_string_equal(a->vm.tenant, "tenant2");
    assert_int_equal(a->severity, VNM_SEV_MEDIUM);
    assert_non_null(strstr(a->summary, "TCP/22"));

    /* IPv6, answered (a RST is an answer: the packet got through). */
    f = hop_flow(2, "t2vm1", "fd00::21", 40000, "host0", "fd00::1", 8080,
                 TCP, 1, 1);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    assert_string_equal(fh->alerts[1].target, "host fd00::1");
    assert_int_equal(fh->alerts[1].severity, VNM_SEV_HIGH);

    /* Checks turned off. */
    stop(fh, state);
    fh = start("protected = false\ntenants = false\n", &state);
    f = hop_flow(3, "t2vm1", "10.0.0.21", 40000, "", "10.0.0.1", 22, TCP, 1,
                 0);
    feed(state, &f);
    f = hop_flow(4, "t1vm1", "10.0.0.11", 77, "", "10.0.0.21", 77, ICMP, 2,
                 0);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 0);
    stop(fh, state);
}

/* A VM without tenant is not judged; severities are configurable. */
static void
test_no_tenant_and_severity(void **state_)
{
    void *state;
    struct fake_host *fh = start("attempted_severity = low\n"
                                 "failed_severity = critical\n", &state);
    struct vnm_flow f;

    f = hop_flow(1, "stray", "10.0.0.50", 77, "", "10.0.0.21", 77, ICMP, 2,
                 0);
    memset(f.src.in.tenant, 0, sizeof f.src.in.tenant);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 0);
    assert_int_equal(fake_host_counter(fh, "no_tenant"), 1);

    f = hop_flow(2, "t1vm1", "10.0.0.11", 77, "", "10.0.0.21", 77, ICMP, 2,
                 0);
    feed(state, &f);
    f.dst.packets = 1;
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    assert_int_equal(fh->alerts[0].severity, VNM_SEV_LOW);
    assert_int_equal(fh->alerts[1].severity, VNM_SEV_CRITICAL);
    stop(fh, state);
}

static void
test_config_errors(void **state_)
{
    static const char *const bad[] = {
        "attempted_severity = bad\n",
        "failed_severity = \n",
        "tenants = 2\n",
        "max_flows = 0\n",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        struct fake_host *fh;
        void *state = NULL;

        snprintf(text, sizeof text, "[detector \"isolation\"]\n%s", bad[i]);
        fh = fake_host_create("detector", "isolation", text);
        assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state),
                         EINVAL);
        assert_null(state);
        fake_host_destroy(fh);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_cross_tenant),
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_protected),
        cmocka_unit_test(test_no_tenant_and_severity),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

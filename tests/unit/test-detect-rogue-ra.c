/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "rogue-ra" detector: analyzer/detect-rogue-ra.c is
 * compiled into this binary and driven through its 'vnm_plugin' on the
 * fake host, whose network view holds the lab of tests/unit/spoof-lab.h.
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
#include "tests/unit/spoof-lab.h"
#include "vnmon/plugin.h"

#define TCP 6
#define UDP 17

struct test {
    struct fake_host *fh;
    void *state;
};

static struct test *
start(const char *section)
{
    struct test *t = calloc(1, sizeof *t);

    assert_non_null(t);
    t->fh = lab_host("rogue-ra", section);
    assert_int_equal(vnm_plugin.init(&t->fh->host, t->fh->conf, &t->state),
                     0);
    assert_null(fake_host_check_unused(t->fh));
    return t;
}

static void
stop(struct test *t)
{
    vnm_plugin.destroy(t->state);
    fake_host_destroy(t->fh);
    free(t);
}

static void
flow(struct test *t, const struct vnm_flow *f)
{
    vnm_plugin.detector->on_flow(t->state, f);
}

#define T1VM1_MAC "02:00:00:00:01:01"
#define T1VM1_LL "fe80::1:1"

static const struct vnm_attribution lab_br0 = {
    .port = "br0", .ofport = 65534,
};

static void
test_descriptor(void **state)
{
    (void) state;
    assert_string_equal(vnm_plugin.name, "rogue-ra");
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
}

/* Hosts' ND, and routers on the host or beyond the uplink, raise
 * nothing. */
static void
test_benign(void **state)
{
    struct test *t = start("");
    struct vnm_flow f;

    (void) state;
    f = lab_nd_flow(1, &lab_t1vm1, T1VM1_MAC, T1VM1_LL, "ff02::2",
                    VNM_ND_RS, NULL, T1VM1_MAC, 1);
    flow(t, &f);
    f = lab_nd_flow(2, &lab_t1vm1, T1VM1_MAC, "fd00::11", "fd00::12",
                    VNM_ND_NS | VNM_ND_NA, "fd00::12", T1VM1_MAC, 2);
    flow(t, &f);
    f = lab_nd_flow(3, &lab_br0, "02:00:00:00:00:fe", "fe80::fe", "ff02::1",
                    VNM_ND_RA, NULL, "02:00:00:00:00:fe", 1);
    flow(t, &f);
    f = lab_nd_flow(4, &lab_eth1, "02:00:00:00:09:09", "fe80::9", "ff02::1",
                    VNM_ND_RA, NULL, "02:00:00:00:09:09", 1);
    flow(t, &f);
    /* An echo request. */
    f = lab_ip_flow(5, 58, &lab_t1vm1, T1VM1_MAC, "fd00::11", 7,
                    "fd00::12", 0, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 0);
    stop(t);
}

/* Router advertisements from t1vm1. */
static void
test_ra(void **state)
{
    struct test *t = start("");
    const struct fake_alert *a;
    struct vnm_flow f;

    (void) state;
    f = lab_nd_flow(10, &lab_t1vm1, T1VM1_MAC, T1VM1_LL, "ff02::1",
                    VNM_ND_RA, NULL, T1VM1_MAC, 2);
    f.src_ctl.nd_flags = 0x80;
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    a = &t->fh->alerts[0];
    assert_string_equal(a->kind, "rogue-ra");
    assert_int_equal(a->severity, VNM_SEV_HIGH);
    assert_string_equal(a->key, "hv1/t1vm1>ff02::1");
    assert_string_equal(a->target, "ff02::1");
    assert_string_equal(a->vm.port, "t1vm1");
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_int_equal(a->packets, 2);
    assert_int_equal(a->bytes, 200);
    assert_string_equal(a->summary, "t1vm1 (tenant1) sent IPv6 router "
                        "advertisements to ff02::1: a router on a VM port");
    assert_int_equal(a->n_evidence, 1);
    assert_string_equal(a->evidence[0], "t1vm1 ofport 3 02:00:00:00:01:01 "
                        "| IPv6 fe80::1:1 > ff02::1 ICMPv6 RA [M] sll "
                        "02:00:00:00:01:01 | 2 pkts 200 B");

    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    lab_more(&f, 1);
    f.event = VNM_FLOW_END_IDLE;
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_int_equal(t->fh->alerts[1].packets, 1);
    assert_string_equal(t->fh->alerts[1].key, "hv1/t1vm1>ff02::1");

    /* A solicited one, unicast to t1vm2. */
    f = lab_nd_flow(11, &lab_t1vm1, T1VM1_MAC, T1VM1_LL, "fe80::1:2",
                    VNM_ND_RA, NULL, NULL, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 3);
    assert_string_equal(t->fh->alerts[2].key, "hv1/t1vm1>fe80::1:2");
    stop(t);
}

/* Redirects, and a VM port the view does not know. */
static void
test_redirect(void **state)
{
    struct test *t = start("severity = medium\n");
    struct vnm_attribution tap = { .port = "tap7", .ofport = 9,
                                   .vm = "vm-7" };
    struct vnm_flow f;

    (void) state;
    f = lab_nd_flow(20, &lab_t2vm1, "02:00:00:00:02:01", "fe80::2:1",
                    "fd00:1::22", VNM_ND_REDIRECT, "fd00:1::1", NULL, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    assert_string_equal(t->fh->alerts[0].key, "hv1/t2vm1>fd00:1::22");
    assert_int_equal(t->fh->alerts[0].severity, VNM_SEV_MEDIUM);
    assert_string_equal(t->fh->alerts[0].summary, "t2vm1 (tenant2) sent "
                        "ICMPv6 redirects (target fd00:1::1) to "
                        "fd00:1::22: a router on a VM port");

    f = lab_nd_flow(21, &tap, "02:00:00:00:07:07", "fe80::7", "ff02::1",
                    VNM_ND_RA, NULL, NULL, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_string_equal(t->fh->alerts[1].key, "hv1/tap7>ff02::1");
    assert_string_equal(t->fh->alerts[1].vm.vm, "vm-7");
    stop(t);
}

static void
test_allowed_ports(void **state)
{
    struct test *t = start("allowed_ports = hv1/t1vm1\n");
    struct vnm_flow f;

    (void) state;
    f = lab_nd_flow(30, &lab_t1vm1, T1VM1_MAC, T1VM1_LL, "ff02::1",
                    VNM_ND_RA, NULL, T1VM1_MAC, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 0);
    assert_int_equal(fake_host_counter(t->fh, "allowed"), 1);
    f = lab_nd_flow(31, &lab_t1vm2, "02:00:00:00:01:02", "fe80::1:2",
                    "ff02::1", VNM_ND_RA, NULL, NULL, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    stop(t);
}

static void
test_config(void **state)
{
    struct fake_host *fh;
    void *s;

    (void) state;
    fh = lab_host("rogue-ra", "severity = \n");
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &s), EINVAL);
    fake_host_destroy(fh);

    fh = lab_host("rogue-ra", "");
    fh->host.net = NULL;
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &s), ENOTSUP);
    fake_host_destroy(fh);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_benign),
        cmocka_unit_test(test_ra),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_allowed_ports),
        cmocka_unit_test(test_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

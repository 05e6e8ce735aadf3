/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "nd-spoof" detector: analyzer/detect-nd-spoof.c is
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
    t->fh = lab_host("nd-spoof", section);
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

static void
test_descriptor(void **state)
{
    (void) state;
    assert_string_equal(vnm_plugin.name, "nd-spoof");
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
}

/* Solicitations for others, advertisements of its own addresses, DAD and
 * router messages raise nothing. */
static void
test_benign(void **state)
{
    struct test *t = start("");
    struct vnm_flow f;

    (void) state;
    f = lab_nd_flow(1, &lab_t1vm1, T1VM1_MAC, T1VM1_LL, "ff02::1:ff00:12",
                    VNM_ND_NS, "fd00::12", T1VM1_MAC, 2);
    flow(t, &f);
    f = lab_nd_flow(2, &lab_t1vm1, T1VM1_MAC, "fd00::11", "fd00::12",
                    VNM_ND_NA, "fd00::11", T1VM1_MAC, 1);
    flow(t, &f);
    f = lab_nd_flow(3, &lab_t1vm1, T1VM1_MAC, "::", "ff02::1:ff00:11",
                    VNM_ND_NS, "fd00::11", NULL, 1);
    flow(t, &f);
    f = lab_nd_flow(4, &lab_t1vm1, T1VM1_MAC, T1VM1_LL, "ff02::1",
                    VNM_ND_NA, T1VM1_LL, T1VM1_MAC, 1);
    flow(t, &f);
    f = lab_nd_flow(5, &lab_t1vm1, T1VM1_MAC, T1VM1_LL, "ff02::2",
                    VNM_ND_RS, NULL, T1VM1_MAC, 1);
    flow(t, &f);
    /* A VRRP address bound to two VMs, advertised by either. */
    f = lab_nd_flow(7, &lab_t1vm4, "02:00:00:00:01:04", "fd00::14",
                    "ff02::1", VNM_ND_NA, "fd00::100", "02:00:00:00:01:04",
                    1);
    flow(t, &f);
    f = lab_nd_flow(8, &lab_t1vm5, "02:00:00:00:01:05", "fd00::15",
                    "ff02::1", VNM_ND_NA, "fd00::100", "02:00:00:00:01:05",
                    1);
    flow(t, &f);
    /* One flow carrying both an NS and an NA: the target may be the
     * NS's. */
    f = lab_nd_flow(6, &lab_t1vm1, T1VM1_MAC, "fd00::11", "fd00::12",
                    VNM_ND_NS | VNM_ND_NA, "fd00::12", T1VM1_MAC, 2);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 0);
    assert_int_equal(fake_host_counter(t->fh, "checked"), 7);
    stop(t);
}

/* An NA for t1vm2's address, from t1vm1. */
static void
test_na_target(void **state)
{
    struct test *t = start("");
    const struct fake_alert *a;
    struct vnm_flow f;

    (void) state;
    f = lab_nd_flow(10, &lab_t1vm1, T1VM1_MAC, T1VM1_LL, "ff02::1",
                    VNM_ND_NA, "fd00::12", T1VM1_MAC, 3);
    f.src_ctl.nd_flags = 0x20;
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    a = &t->fh->alerts[0];
    assert_string_equal(a->kind, "nd-spoof");
    assert_int_equal(a->severity, VNM_SEV_HIGH);
    assert_string_equal(a->key, "hv1/t1vm1>fd00::12");
    assert_string_equal(a->target, "fd00::12");
    assert_string_equal(a->vm.port, "t1vm1");
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_int_equal(a->packets, 3);
    assert_int_equal(a->bytes, 300);
    assert_string_equal(a->summary, "t1vm1 (tenant1) sent ICMPv6 neighbor "
                        "advertisement for fd00::12 (tll "
                        "02:00:00:00:01:01): the target is not the port's "
                        "(10.0.0.11, fd00::11); it is the address of t1vm2 "
                        "(tenant1)");
    assert_string_equal(a->evidence[0], "t1vm1 ofport 3 02:00:00:00:01:01 "
                        "| IPv6 fe80::1:1 > ff02::1 ICMPv6 NA target "
                        "fd00::12 [O] tll 02:00:00:00:01:01 | 3 pkts "
                        "300 B");
    assert_string_equal(a->evidence[1], "t1vm1 binding: IPs 10.0.0.11, "
                        "fd00::11; MACs 02:00:00:00:01:01");

    flow(t, &f);
    lab_more(&f, 5);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_int_equal(t->fh->alerts[1].packets, 5);
    assert_string_equal(t->fh->alerts[1].key, "hv1/t1vm1>fd00::12");

    /* From a port without binding: another VM's address is still seen, an
     * unused one is not. */
    f = lab_nd_flow(11, &lab_t1vm3, "02:00:00:00:01:03", "fe80::1:3",
                    "ff02::1", VNM_ND_NA, "fd00::12", "02:00:00:00:01:03",
                    1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 3);
    assert_string_equal(t->fh->alerts[2].key, "hv1/t1vm3>fd00::12");
    f = lab_nd_flow(12, &lab_t1vm3, "02:00:00:00:01:03", "fe80::1:3",
                    "ff02::1", VNM_ND_NA, "fd00::13", "02:00:00:00:01:03",
                    1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 3);
    assert_int_equal(fake_host_counter(t->fh, "unbound"), 1);
    stop(t);
}

/* Forged link-layer options, in an NA and in an NS. */
static void
test_lladdr(void **state)
{
    struct test *t = start("");
    struct vnm_flow f;

    (void) state;
    f = lab_nd_flow(20, &lab_t1vm1, T1VM1_MAC, "fd00::11", "fd00::12",
                    VNM_ND_NA, "fd00::11", "02:00:00:00:01:66", 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    assert_string_equal(t->fh->alerts[0].key, "hv1/t1vm1>fd00::11");
    assert_non_null(strstr(t->fh->alerts[0].summary, "(tll "
                           "02:00:00:00:01:66): link-layer address "
                           "02:00:00:00:01:66 is not the port's "
                           "(02:00:00:00:01:01)"));

    f = lab_nd_flow(21, &lab_t2vm1, "02:00:00:00:02:01", "fd00:1::21",
                    "ff02::1:ff00:12", VNM_ND_NS, "fd00::12",
                    "02:00:00:00:01:02", 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_string_equal(t->fh->alerts[1].key, "hv1/t2vm1>fd00::12");
    assert_string_equal(t->fh->alerts[1].vm.tenant, "tenant2");
    assert_non_null(strstr(t->fh->alerts[1].summary, "neighbor "
                           "solicitation for fd00::12 (sll "
                           "02:00:00:00:01:02): link-layer address"));
    stop(t);
}

static void
test_link_local(void **state)
{
    struct test *t = start("check_link_local = yes\n");
    struct vnm_flow f;

    (void) state;
    f = lab_nd_flow(30, &lab_t1vm1, T1VM1_MAC, T1VM1_LL, "ff02::1",
                    VNM_ND_NA, "fe80::2:1", T1VM1_MAC, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    assert_string_equal(t->fh->alerts[0].target, "fe80::2:1");
    stop(t);
}

static void
test_config(void **state)
{
    struct fake_host *fh;
    void *s;

    (void) state;
    fh = lab_host("nd-spoof", "severity = none\n");
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &s), EINVAL);
    fake_host_destroy(fh);

    fh = lab_host("nd-spoof", "check_link_local = maybe\n");
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &s), EINVAL);
    fake_host_destroy(fh);

    fh = lab_host("nd-spoof", "");
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
        cmocka_unit_test(test_na_target),
        cmocka_unit_test(test_lladdr),
        cmocka_unit_test(test_link_local),
        cmocka_unit_test(test_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "mac-spoof" detector: analyzer/detect-mac-spoof.c is
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
    t->fh = lab_host("mac-spoof", section);
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

static void
test_descriptor(void **state)
{
    (void) state;
    assert_string_equal(vnm_plugin.name, "mac-spoof");
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
}

/* The VMs' own MACs, on any protocol, raise nothing. */
static void
test_benign(void **state)
{
    struct test *t = start("");
    struct vnm_flow f;

    (void) state;
    f = lab_ip_flow(1, TCP, &lab_t1vm1, "02:00:00:00:01:01", "10.0.0.11",
                    40000, "10.0.0.12", 80, 5);
    lab_answer(&f, &lab_t1vm2, "02:00:00:00:01:02", 4);
    flow(t, &f);
    f = lab_arp_flow(2, &lab_t2vm1, "02:00:00:00:02:01", VNM_ARP_REQUEST,
                     "02:00:00:00:02:01", "10.0.1.21", "10.0.1.1", 1);
    flow(t, &f);
    f = lab_flow(3, 0x88cc, 0, &lab_t1vm2, "02:00:00:00:01:02", 1);
    flow(t, &f);
    /* The uplink and the host's port may send from any MAC. */
    f = lab_flow(4, 0x0800, UDP, &lab_eth1, "02:00:00:00:09:09", 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 0);
    assert_int_equal(fake_host_counter(t->fh, "checked"), 4);
    stop(t);
}

/* Another VM's MAC: named, counted by deltas. */
static void
test_other_vms_mac(void **state)
{
    struct test *t = start("");
    const struct fake_alert *a;
    struct vnm_flow f;

    (void) state;
    f = lab_ip_flow(7, UDP, &lab_t1vm1, "02:00:00:00:01:02", "10.0.0.11",
                    1234, "10.0.0.12", 80, 3);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    a = &t->fh->alerts[0];
    assert_string_equal(a->kind, "mac-spoof");
    assert_int_equal(a->severity, VNM_SEV_HIGH);
    assert_string_equal(a->key, "hv1/t1vm1>02:00:00:00:01:02");
    assert_string_equal(a->target, "02:00:00:00:01:02");
    assert_string_equal(a->vm.port, "t1vm1");
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_int_equal(a->flow_id, 7);
    assert_int_equal(a->packets, 3);
    assert_int_equal(a->bytes, 300);
    assert_non_null(strstr(a->summary, "t1vm1 (tenant1) sent from MAC "
                           "02:00:00:00:01:02, not its MAC, the MAC of "
                           "t1vm2 (tenant1) (binding: 02:00:00:00:01:01)"));
    assert_int_equal(a->n_evidence, 2);
    assert_string_equal(a->evidence[0], "t1vm1 ofport 3 02:00:00:00:01:02 "
                        "| IPv4 10.0.0.11:1234 > 10.0.0.12:80 UDP | 3 pkts "
                        "300 B");
    assert_string_equal(a->evidence[1], "t1vm1 MAC binding (declared): "
                        "02:00:00:00:01:01");

    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    lab_more(&f, 4);
    f.event = VNM_FLOW_END_IDLE;
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_int_equal(t->fh->alerts[1].packets, 4);
    assert_int_equal(t->fh->alerts[1].bytes, 400);
    stop(t);
}

/* An unused MAC on two flows is one key; a multicast source MAC. */
static void
test_unused_and_multicast(void **state)
{
    struct test *t = start("severity = critical\n");
    struct vnm_flow f;

    (void) state;
    f = lab_flow(8, 0x88b5, 0, &lab_t2vm1, "02:00:00:00:99:99", 2);
    flow(t, &f);
    f = lab_arp_flow(9, &lab_t2vm1, "02:00:00:00:99:99", VNM_ARP_REQUEST,
                     "02:00:00:00:99:99", "10.0.1.21", "10.0.1.1", 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_string_equal(t->fh->alerts[0].key, "hv1/t2vm1>02:00:00:00:99:99");
    assert_string_equal(t->fh->alerts[1].key, "hv1/t2vm1>02:00:00:00:99:99");
    assert_int_equal(t->fh->alerts[0].severity, VNM_SEV_CRITICAL);
    assert_string_equal(t->fh->alerts[1].vm.tenant, "tenant2");
    assert_null(strstr(t->fh->alerts[0].summary, "the MAC of"));

    f = lab_flow(10, 0x0800, UDP, &lab_t1vm1, "01:00:5e:00:00:01", 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 3);
    assert_string_equal(t->fh->alerts[2].target, "01:00:5e:00:00:01");
    assert_non_null(strstr(t->fh->alerts[2].summary, "a multicast MAC"));
    stop(t);
}

/* The responder side; ports without binding or unknown. */
static void
test_sides_and_ports(void **state)
{
    struct test *t = start("");
    struct vnm_flow f;

    (void) state;
    f = lab_ip_flow(11, TCP, &lab_t1vm1, "02:00:00:00:01:01", "10.0.0.11",
                    40000, "10.0.0.12", 80, 3);
    lab_answer(&f, &lab_t1vm2, "02:00:00:00:77:77", 5);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    assert_string_equal(t->fh->alerts[0].key, "hv1/t1vm2>02:00:00:00:77:77");
    assert_string_equal(t->fh->alerts[0].vm.tenant, "tenant1");
    assert_int_equal(t->fh->alerts[0].packets, 5);

    f = lab_flow(12, 0x0800, UDP, &lab_t1vm3, "02:00:00:00:77:77", 1);
    flow(t, &f);
    assert_int_equal(fake_host_counter(t->fh, "unbound"), 1);
    f = lab_flow(13, 0x0800, UDP, &lab_nowhere, "02:00:00:00:77:77", 1);
    flow(t, &f);
    snprintf(f.src.in.port, sizeof f.src.in.port, "tap99");
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
    fh = lab_host("mac-spoof", "severity = loud\n");
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &s), EINVAL);
    fake_host_destroy(fh);

    fh = lab_host("mac-spoof", "");
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
        cmocka_unit_test(test_other_vms_mac),
        cmocka_unit_test(test_unused_and_multicast),
        cmocka_unit_test(test_sides_and_ports),
        cmocka_unit_test(test_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "arp-spoof" detector: analyzer/detect-arp-spoof.c is
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
    t->fh = lab_host("arp-spoof", section);
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

static const struct vnm_attribution lab_br0 = {
    .port = "br0", .ofport = 65534,
};

static void
test_descriptor(void **state)
{
    (void) state;
    assert_string_equal(vnm_plugin.name, "arp-spoof");
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
}

/* Requests, replies, gratuitous ARP and probes of the VMs' own addresses,
 * and the host's ARP, raise nothing. */
static void
test_benign(void **state)
{
    struct test *t = start("");
    struct vnm_flow f;

    (void) state;
    f = lab_arp_flow(1, &lab_t1vm1, T1VM1_MAC, VNM_ARP_REQUEST, T1VM1_MAC,
                     "10.0.0.11", "10.0.0.12", 2);
    flow(t, &f);
    f = lab_arp_flow(2, &lab_t1vm1, T1VM1_MAC, VNM_ARP_REPLY, T1VM1_MAC,
                     "10.0.0.11", "10.0.0.12", 1);
    flow(t, &f);
    f = lab_arp_flow(3, &lab_t1vm1, T1VM1_MAC,
                     VNM_ARP_REQUEST | VNM_ARP_GRATUITOUS, T1VM1_MAC,
                     "10.0.0.11", "10.0.0.11", 1);
    flow(t, &f);
    f = lab_arp_flow(4, &lab_t1vm1, T1VM1_MAC, VNM_ARP_REQUEST, T1VM1_MAC,
                     "0.0.0.0", "10.0.0.11", 3);
    flow(t, &f);
    f = lab_arp_flow(5, &lab_br0, "02:00:00:00:00:fe", VNM_ARP_REPLY,
                     "02:00:00:00:00:fe", "10.0.0.1", "10.0.0.11", 1);
    flow(t, &f);
    /* An agent without ARP details: the sender IP is still checked. */
    f = lab_arp_flow(6, &lab_t1vm2, "02:00:00:00:01:02", 0,
                     "00:00:00:00:00:00", "10.0.0.12", "10.0.0.11", 1);
    flow(t, &f);
    /* A VRRP address bound to two VMs, claimed by either. */
    f = lab_arp_flow(8, &lab_t1vm4, "02:00:00:00:01:04",
                     VNM_ARP_REQUEST | VNM_ARP_GRATUITOUS,
                     "02:00:00:00:01:04", "10.0.0.100", "10.0.0.100", 1);
    flow(t, &f);
    f = lab_arp_flow(9, &lab_t1vm5, "02:00:00:00:01:05",
                     VNM_ARP_REQUEST | VNM_ARP_GRATUITOUS,
                     "02:00:00:00:01:05", "10.0.0.100", "10.0.0.100", 1);
    flow(t, &f);
    /* Not ARP. */
    f = lab_ip_flow(7, UDP, &lab_t1vm1, T1VM1_MAC, "10.0.1.21", 1,
                    "10.0.0.12", 2, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 0);
    assert_int_equal(fake_host_counter(t->fh, "checked"), 7);
    stop(t);
}

/* "10.0.1.21 (t2vm1) is-at t1vm1's MAC" sent to t1vm2. */
static void
test_reply_poisoning(void **state)
{
    struct test *t = start("");
    const struct fake_alert *a;
    struct vnm_flow f;

    (void) state;
    f = lab_arp_flow(10, &lab_t1vm1, T1VM1_MAC, VNM_ARP_REPLY, T1VM1_MAC,
                     "10.0.1.21", "10.0.0.12", 3);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    a = &t->fh->alerts[0];
    assert_string_equal(a->kind, "arp-spoof");
    assert_int_equal(a->severity, VNM_SEV_HIGH);
    assert_string_equal(a->key, "hv1/t1vm1>10.0.1.21");
    assert_string_equal(a->target, "10.0.1.21");
    assert_string_equal(a->vm.port, "t1vm1");
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_int_equal(a->flow_id, 10);
    assert_int_equal(a->packets, 3);
    assert_int_equal(a->bytes, 300);
    assert_string_equal(a->summary, "t1vm1 (tenant1) sent ARP reply "
                        "claiming 10.0.1.21 is-at 02:00:00:00:01:01: "
                        "sender IP is not the port's (10.0.0.11, "
                        "fd00::11); it is the address of t2vm1 (tenant2)");
    assert_int_equal(a->n_evidence, 2);
    assert_string_equal(a->evidence[0], "t1vm1 ofport 3 02:00:00:00:01:01 "
                        "| ARP reply 10.0.1.21 is-at 02:00:00:00:01:01 to "
                        "10.0.0.12 | 3 pkts 300 B");
    assert_string_equal(a->evidence[1], "t1vm1 binding: IPs 10.0.0.11, "
                        "fd00::11; MACs 02:00:00:00:01:01");

    /* Repeated: the new packets only, same key. */
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    lab_more(&f, 2);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_string_equal(t->fh->alerts[1].key, "hv1/t1vm1>10.0.1.21");
    assert_int_equal(t->fh->alerts[1].packets, 2);
    stop(t);
}

/* Gratuitous ARP claiming t1vm2's address. */
static void
test_gratuitous(void **state)
{
    struct test *t = start("");
    const struct fake_alert *a;
    struct vnm_flow f;

    (void) state;
    f = lab_arp_flow(11, &lab_t1vm1, T1VM1_MAC,
                     VNM_ARP_REPLY | VNM_ARP_GRATUITOUS, T1VM1_MAC,
                     "10.0.0.12", "10.0.0.12", 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    a = &t->fh->alerts[0];
    assert_string_equal(a->key, "hv1/t1vm1>10.0.0.12");
    assert_non_null(strstr(a->summary, "sent ARP gratuitous reply claiming "
                           "10.0.0.12"));
    assert_non_null(strstr(a->summary, "the address of t1vm2 (tenant1)"));

    /* From a port still learning: another VM's address is still seen. */
    f = lab_arp_flow(12, &lab_t1vm3, "02:00:00:00:01:03",
                     VNM_ARP_REQUEST | VNM_ARP_GRATUITOUS,
                     "02:00:00:00:01:03", "10.0.0.12", "10.0.0.12", 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    a = &t->fh->alerts[1];
    assert_string_equal(a->key, "hv1/t1vm3>10.0.0.12");
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_string_equal(a->vm.vm, "vm-t1vm3");
    assert_non_null(strstr(a->summary, ": it is the address of t1vm2"));
    /* But an unused one is not. */
    f = lab_arp_flow(13, &lab_t1vm3, "02:00:00:00:01:03",
                     VNM_ARP_REQUEST | VNM_ARP_GRATUITOUS,
                     "02:00:00:00:01:03", "10.0.0.13", "10.0.0.13", 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_int_equal(fake_host_counter(t->fh, "unbound"), 1);
    stop(t);
}

/* Forged sender MACs. */
static void
test_sender_mac(void **state)
{
    struct test *t = start("");
    struct vnm_flow f;

    (void) state;
    /* Not the port's MAC, though the frame's source. */
    f = lab_arp_flow(20, &lab_t1vm1, "02:00:00:00:01:99", VNM_ARP_REPLY,
                     "02:00:00:00:01:99", "10.0.0.11", "10.0.0.12", 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    assert_string_equal(t->fh->alerts[0].key, "hv1/t1vm1>10.0.0.11");
    assert_non_null(strstr(t->fh->alerts[0].summary, "sender MAC "
                           "02:00:00:00:01:99 is not the port's "
                           "(02:00:00:00:01:01)"));

    /* Not the frame's source, from a port without binding. */
    f = lab_arp_flow(21, &lab_t1vm3, "02:00:00:00:01:03",
                     VNM_ARP_REPLY | VNM_ARP_SHA_MISMATCH,
                     "02:00:00:00:01:02", "10.0.0.13", "10.0.0.12", 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_string_equal(t->fh->alerts[1].key, "hv1/t1vm3>10.0.0.13");
    assert_non_null(strstr(t->fh->alerts[1].summary, "sender MAC "
                           "02:00:00:00:01:02 is not the frame's source "
                           "02:00:00:00:01:03"));
    assert_non_null(strstr(t->fh->alerts[1].evidence[0], "sender MAC not "
                           "the Ethernet source"));

    /* A probe (sender 0.0.0.0) with a forged MAC: keyed by its target. */
    f = lab_arp_flow(22, &lab_t1vm1, T1VM1_MAC, VNM_ARP_REQUEST,
                     "02:00:00:00:01:98", "0.0.0.0", "10.0.0.50", 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 3);
    assert_string_equal(t->fh->alerts[2].target, "10.0.0.50");
    stop(t);
}

static void
test_config(void **state)
{
    struct fake_host *fh;
    void *s;

    (void) state;
    fh = lab_host("arp-spoof", "severity = low\nmax_flows = 100\n");
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &s), 0);
    assert_null(fake_host_check_unused(fh));
    vnm_plugin.destroy(s);
    fake_host_destroy(fh);

    fh = lab_host("arp-spoof", "severity = 3\n");
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &s), EINVAL);
    fake_host_destroy(fh);

    fh = lab_host("arp-spoof", "");
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
        cmocka_unit_test(test_reply_poisoning),
        cmocka_unit_test(test_gratuitous),
        cmocka_unit_test(test_sender_mac),
        cmocka_unit_test(test_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

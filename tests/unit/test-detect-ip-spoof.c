/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "ip-spoof" detector: analyzer/detect-ip-spoof.c is
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
    t->fh = lab_host("ip-spoof", section);
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
    assert_string_equal(vnm_plugin.name, "ip-spoof");
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
    assert_non_null(vnm_plugin.detector->on_flow);
}

/* Same-tenant traffic from the VMs' own addresses raises nothing. */
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
    f = lab_ip_flow(2, UDP, &lab_t1vm2, "02:00:00:00:01:02", "fd00::12",
                    5353, "fd00::11", 53, 1);
    flow(t, &f);
    /* From the host, and from the uplink, anything goes. */
    f = lab_ip_flow(3, UDP, &lab_eth1, "02:00:00:00:09:09", "8.8.8.8",
                    53, "10.0.0.11", 5353, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 0);
    assert_int_equal(fake_host_counter(t->fh, "checked"), 3);
    stop(t);
}

/* Another VM's address: one alert per record with new packets, carrying
 * only the new ones. */
static void
test_other_vms_address(void **state)
{
    struct test *t = start("");
    const struct fake_alert *a;
    struct vnm_flow f;

    (void) state;
    f = lab_ip_flow(7, UDP, &lab_t1vm1, "02:00:00:00:01:01", "10.0.1.21",
                    1234, "10.0.0.12", 80, 3);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    a = &t->fh->alerts[0];
    assert_string_equal(a->kind, "ip-spoof");
    assert_int_equal(a->severity, VNM_SEV_HIGH);
    assert_string_equal(a->key, "hv1/t1vm1>10.0.1.21");
    assert_string_equal(a->target, "10.0.1.21");
    assert_true(a->has_vm);
    assert_string_equal(a->vm.port, "t1vm1");
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_string_equal(a->vm.vm, "vm-t1vm1");
    assert_int_equal(a->vm.ofport, 3);
    assert_true(a->has_flow);
    assert_int_equal(a->flow_id, 7);
    assert_int_equal(a->packets, 3);
    assert_int_equal(a->bytes, 300);
    assert_non_null(strstr(a->summary, "t1vm1 (tenant1) sent IPv4 from "
                           "10.0.1.21"));
    assert_non_null(strstr(a->summary, "the address of t2vm1 (tenant2)"));
    assert_non_null(strstr(a->summary, "binding: 10.0.0.11, fd00::11"));
    assert_int_equal(a->n_evidence, 2);
    assert_string_equal(a->evidence[0], "t1vm1 ofport 3 02:00:00:00:01:01 "
                        "| IPv4 10.0.1.21:1234 > 10.0.0.12:80 UDP | 3 pkts "
                        "300 B");
    assert_string_equal(a->evidence[1], "t1vm1 IP binding (declared): "
                        "10.0.0.11, fd00::11");

    /* The same record again: nothing new. */
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    /* An update: the new packets only. */
    lab_more(&f, 2);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_int_equal(t->fh->alerts[1].packets, 2);
    assert_int_equal(t->fh->alerts[1].bytes, 200);
    assert_string_equal(t->fh->alerts[1].key, "hv1/t1vm1>10.0.1.21");
    /* Its END, with nothing new. */
    f.event = VNM_FLOW_END_IDLE;
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_int_equal(fake_host_counter(t->fh, "spoofed_records"), 4);
    assert_int_equal(fake_host_counter(t->fh, "emitted"), 2);
    stop(t);
}

/* An unused address, IPv4 and IPv6, and the answering side is clean. */
static void
test_unused_address(void **state)
{
    struct test *t = start("severity = medium\n");
    const struct fake_alert *a;
    struct vnm_flow f;

    (void) state;
    f = lab_ip_flow(8, TCP, &lab_t1vm1, "02:00:00:00:01:01", "10.0.0.99",
                    1234, "10.0.0.12", 22, 2);
    lab_answer(&f, &lab_t1vm2, "02:00:00:00:01:02", 2);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    a = &t->fh->alerts[0];
    assert_string_equal(a->target, "10.0.0.99");
    assert_int_equal(a->severity, VNM_SEV_MEDIUM);
    assert_null(strstr(a->summary, "the address of"));
    assert_int_equal(a->packets, 2);

    f = lab_ip_flow(9, UDP, &lab_t1vm1, "02:00:00:00:01:01", "fd00::99",
                    1234, "fd00::12", 53, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_string_equal(t->fh->alerts[1].key, "hv1/t1vm1>fd00::99");
    assert_non_null(strstr(t->fh->alerts[1].summary, "sent IPv6 from "
                           "fd00::99"));
    stop(t);
}

/* The responder is checked on its own port. */
static void
test_responder_side(void **state)
{
    struct test *t = start("");
    const struct fake_alert *a;
    struct vnm_flow f;

    (void) state;
    f = lab_ip_flow(10, TCP, &lab_t1vm1, "02:00:00:00:01:01", "10.0.0.11",
                    40000, "10.0.0.98", 80, 3);
    lab_answer(&f, &lab_t1vm2, "02:00:00:00:01:02", 4);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    a = &t->fh->alerts[0];
    assert_string_equal(a->key, "hv1/t1vm2>10.0.0.98");
    assert_string_equal(a->vm.port, "t1vm2");
    /* Its tenant comes from the network view. */
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_int_equal(a->packets, 4);
    assert_int_equal(a->bytes, 400);
    assert_non_null(strstr(a->evidence[0], "t1vm2 ofport 4 "
                           "02:00:00:00:01:02 > 02:00:00:00:01:01 | IPv4 "
                           "10.0.0.98:80 > 10.0.0.11:40000 TCP"));
    stop(t);
}

/* What is never spoofing: unspecified and link-local sources, ARP, ports
 * without binding or unknown. */
static void
test_exceptions(void **state)
{
    struct test *t = start("");
    struct vnm_flow f;

    (void) state;
    f = lab_ip_flow(11, UDP, &lab_t1vm1, "02:00:00:00:01:01", "0.0.0.0", 68,
                    "255.255.255.255", 67, 2);
    flow(t, &f);
    f = lab_ip_flow(12, 58, &lab_t1vm1, "02:00:00:00:01:01", "::", 0,
                    "ff02::1:ff00:11", 0, 1);
    flow(t, &f);
    f = lab_ip_flow(13, 58, &lab_t1vm1, "02:00:00:00:01:01", "fe80::1", 0,
                    "ff02::2", 0, 1);
    flow(t, &f);
    f = lab_arp_flow(14, &lab_t1vm1, "02:00:00:00:01:01", VNM_ARP_REPLY,
                     "02:00:00:00:01:01", "10.0.0.12", "10.0.0.12", 1);
    flow(t, &f);
    assert_int_equal(fake_host_counter(t->fh, "checked"), 0);

    /* t1vm3 has no binding yet: skipped, counted. */
    f = lab_ip_flow(15, UDP, &lab_t1vm3, "02:00:00:00:01:03", "10.0.0.12",
                    1, "10.0.0.11", 2, 1);
    flow(t, &f);
    assert_int_equal(fake_host_counter(t->fh, "unbound"), 1);
    /* A port the view does not know, and no port at all. */
    f = lab_ip_flow(16, UDP, &lab_nowhere, "02:00:00:00:01:03", "10.0.0.12",
                    1, "10.0.0.11", 2, 1);
    flow(t, &f);
    snprintf(f.src.in.port, sizeof f.src.in.port, "tap99");
    flow(t, &f);
    /* A side that sent nothing. */
    f = lab_ip_flow(17, UDP, &lab_t1vm2, "02:00:00:00:01:02", "10.0.0.12",
                    1, "10.0.0.99", 2, 1);
    f.dst.in = lab_t1vm1;
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 0);
    stop(t);
}

static void
test_link_local(void **state)
{
    struct test *t = start("check_link_local = true\n");
    struct vnm_flow f;

    (void) state;
    f = lab_ip_flow(13, 58, &lab_t1vm1, "02:00:00:00:01:01", "fe80::1", 0,
                    "ff02::2", 0, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    assert_string_equal(t->fh->alerts[0].target, "fe80::1");
    /* Still not "::". */
    f = lab_ip_flow(12, 58, &lab_t1vm1, "02:00:00:00:01:01", "::", 0,
                    "ff02::1:ff00:11", 0, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    stop(t);
}

/* A tunnelled flow is checked on its carrier's source. */
static void
test_tunnel(void **state)
{
    struct test *t = start("");
    struct vnm_flow f;

    (void) state;
    f = lab_ip_flow(20, UDP, &lab_t1vm1, "02:00:00:00:01:01", "10.9.0.1",
                    1000, "10.9.0.2", 80, 2);
    f.tunnel_type = 1;
    f.vni = 5002;
    f.outer.src_ip = lab_addr("10.0.0.11");
    f.outer.dst_ip = lab_addr("192.168.100.2");
    f.outer.src_port = 4242;
    f.outer.dst_port = 4789;
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 0);

    f.id = 21;
    f.outer.src_ip = lab_addr("192.168.100.1");
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    assert_string_equal(t->fh->alerts[0].target, "192.168.100.1");
    assert_non_null(strstr(t->fh->alerts[0].evidence[0], "VXLAN vni 5002 "
                           "outer 192.168.100.1:4242 > "
                           "192.168.100.2:4789"));
    stop(t);
}

static void
test_config(void **state)
{
    struct fake_host *fh;
    void *s;

    (void) state;
    fh = lab_host("ip-spoof", "severity = urgent\n");
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &s), EINVAL);
    assert_true(fake_host_log_contains(fh, "severity"));
    fake_host_destroy(fh);

    fh = lab_host("ip-spoof", "max_flows = 0\n");
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &s), EINVAL);
    fake_host_destroy(fh);

    fh = lab_host("ip-spoof", "colour = red\n");
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &s), 0);
    {
        char *error = fake_host_check_unused(fh);

        assert_non_null(error);
        assert_non_null(strstr(error, "colour"));
        free(error);
    }
    vnm_plugin.destroy(s);
    fake_host_destroy(fh);

    /* Without a network view (an older host): refused. */
    fh = lab_host("ip-spoof", "");
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
        cmocka_unit_test(test_other_vms_address),
        cmocka_unit_test(test_unused_address),
        cmocka_unit_test(test_responder_side),
        cmocka_unit_test(test_exceptions),
        cmocka_unit_test(test_link_local),
        cmocka_unit_test(test_tunnel),
        cmocka_unit_test(test_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "rogue-dhcp" detector: analyzer/detect-rogue-dhcp.c is
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
    t->fh = lab_host("rogue-dhcp", section);
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

/* A DHCP (or DHCPv6 if 'v6') flow from 'in' that sent message types
 * 'types' (bits). */
static struct vnm_flow
dhcp_flow(uint64_t id, const struct vnm_attribution *in, const char *mac,
          const char *src, const char *dst, bool v6, uint32_t types,
          uint64_t packets)
{
    struct vnm_flow f = lab_ip_flow(id, UDP, in, mac, src,
                                    v6 ? 547 : 67, dst, v6 ? 546 : 68,
                                    packets);

    f.src_ctl.dhcpv6 = v6;
    f.src_ctl.dhcp_types = types;
    return f;
}

static void
test_descriptor(void **state)
{
    (void) state;
    assert_string_equal(vnm_plugin.name, "rogue-dhcp");
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
}

/* Clients, and servers on the host or beyond the uplink, raise nothing. */
static void
test_benign(void **state)
{
    struct test *t = start("");
    struct vnm_flow f;

    (void) state;
    f = dhcp_flow(1, &lab_t1vm1, T1VM1_MAC, "0.0.0.0", "255.255.255.255",
                  false, 1u << 1 | 1u << 3, 2);
    f.src.port = 68;
    f.dst.port = 67;
    flow(t, &f);
    f = dhcp_flow(2, &lab_t1vm1, T1VM1_MAC, "fe80::1:1", "ff02::1:2",
                  true, 1u << 1 | 1u << 3 | 1u << 11, 2);
    flow(t, &f);
    f = dhcp_flow(3, &lab_br0, "02:00:00:00:00:fe", "10.0.0.1",
                  "255.255.255.255", false, 1u << 2 | 1u << 5, 2);
    flow(t, &f);
    f = dhcp_flow(4, &lab_eth1, "02:00:00:00:09:09", "10.0.0.1",
                  "10.0.0.11", false, 1u << 5, 1);
    flow(t, &f);
    /* Not UDP. */
    f = dhcp_flow(5, &lab_t1vm1, T1VM1_MAC, "10.0.0.11", "10.0.0.12",
                  false, 1u << 2, 1);
    f.ip_proto = 6;
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 0);
    stop(t);
}

/* A DHCP server on t1vm1. */
static void
test_offer(void **state)
{
    struct test *t = start("");
    const struct fake_alert *a;
    struct vnm_flow f;

    (void) state;
    f = dhcp_flow(10, &lab_t1vm1, T1VM1_MAC, "10.0.0.11", "255.255.255.255",
                  false, 1u << 2, 2);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    a = &t->fh->alerts[0];
    assert_string_equal(a->kind, "rogue-dhcp");
    assert_int_equal(a->severity, VNM_SEV_HIGH);
    assert_string_equal(a->key, "hv1/t1vm1>255.255.255.255");
    assert_string_equal(a->target, "255.255.255.255");
    assert_string_equal(a->vm.port, "t1vm1");
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_int_equal(a->packets, 2);
    assert_int_equal(a->bytes, 200);
    assert_string_equal(a->summary, "t1vm1 (tenant1) sent DHCP OFFER to "
                        "255.255.255.255: a DHCP server on a VM port");
    assert_int_equal(a->n_evidence, 1);
    assert_string_equal(a->evidence[0], "t1vm1 ofport 3 02:00:00:00:01:01 "
                        "| IPv4 10.0.0.11:67 > 255.255.255.255:68 UDP DHCP "
                        "OFFER | 2 pkts 200 B");

    /* Repeated offers update it with the new ones. */
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    lab_more(&f, 3);
    f.src_ctl.dhcp_types |= 1u << 5;
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_int_equal(t->fh->alerts[1].packets, 3);
    assert_non_null(strstr(t->fh->alerts[1].summary, "DHCP OFFER,ACK to"));

    /* A unicast NAK is another target. */
    f = dhcp_flow(11, &lab_t1vm1, T1VM1_MAC, "10.0.0.11", "10.0.0.12",
                  false, 1u << 6, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 3);
    assert_string_equal(t->fh->alerts[2].key, "hv1/t1vm1>10.0.0.12");
    assert_non_null(strstr(t->fh->alerts[2].summary, "DHCP NAK"));
    stop(t);
}

/* DHCPv6 servers, and a VM port the view does not know. */
static void
test_dhcpv6_and_unknown_ports(void **state)
{
    struct test *t = start("severity = critical\n");
    struct vnm_attribution tap = { .port = "tap7", .ofport = 9,
                                   .tenant = "tenant3" };
    struct vnm_flow f;

    (void) state;
    f = dhcp_flow(20, &lab_t2vm1, "02:00:00:00:02:01", "fe80::2:1",
                  "fe80::99", true, 1u << 2 | 1u << 7, 2);
    flow(t, &f);
    f = dhcp_flow(21, &lab_t2vm1, "02:00:00:00:02:01", "fe80::2:1",
                  "ff02::1", true, 1u << 10, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 2);
    assert_string_equal(t->fh->alerts[0].key, "hv1/t2vm1>fe80::99");
    assert_int_equal(t->fh->alerts[0].severity, VNM_SEV_CRITICAL);
    assert_non_null(strstr(t->fh->alerts[0].summary, "sent DHCPv6 "
                           "ADVERTISE,REPLY to fe80::99: a DHCPv6 server"));
    assert_string_equal(t->fh->alerts[1].target, "ff02::1");
    assert_non_null(strstr(t->fh->alerts[1].summary, "RECONFIGURE"));

    f = dhcp_flow(22, &tap, "02:00:00:00:07:07", "10.7.0.1",
                  "255.255.255.255", false, 1u << 2, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 3);
    assert_string_equal(t->fh->alerts[2].key, "hv1/tap7>255.255.255.255");
    assert_string_equal(t->fh->alerts[2].vm.tenant, "tenant3");
    /* Unknown and not attributed to any VM: not a VM port. */
    memset(tap.tenant, 0, sizeof tap.tenant);
    f = dhcp_flow(23, &tap, "02:00:00:00:07:07", "10.7.0.1",
                  "255.255.255.255", false, 1u << 2, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 3);
    stop(t);
}

static void
test_allowed_ports(void **state)
{
    struct test *t = start("allowed_ports = t1vm2, hv9/t2vm1 hv1/t1vm3\n");
    struct vnm_flow f;

    (void) state;
    f = dhcp_flow(30, &lab_t1vm2, "02:00:00:00:01:02", "10.0.0.12",
                  "255.255.255.255", false, 1u << 2, 1);
    flow(t, &f);
    f = dhcp_flow(31, &lab_t1vm3, "02:00:00:00:01:03", "10.0.0.13",
                  "255.255.255.255", false, 1u << 5, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 0);
    assert_int_equal(fake_host_counter(t->fh, "allowed"), 2);
    f = dhcp_flow(32, &lab_t2vm1, "02:00:00:00:02:01", "10.0.1.21",
                  "255.255.255.255", false, 1u << 2, 1);
    flow(t, &f);
    assert_int_equal(t->fh->n_alerts, 1);
    assert_string_equal(t->fh->alerts[0].vm.port, "t2vm1");
    stop(t);
}

static void
test_config(void **state)
{
    struct fake_host *fh;
    void *s;

    (void) state;
    fh = lab_host("rogue-dhcp", "severity = HIGH\n");
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &s), EINVAL);
    fake_host_destroy(fh);

    fh = lab_host("rogue-dhcp", "");
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
        cmocka_unit_test(test_offer),
        cmocka_unit_test(test_dhcpv6_and_unknown_ports),
        cmocka_unit_test(test_allowed_ports),
        cmocka_unit_test(test_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

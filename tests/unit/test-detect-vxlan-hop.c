/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "vxlan-hop" detector: analyzer/detect-vxlan-hop.c is
 * compiled into this binary and driven through its 'vnm_plugin' descriptor
 * on the fake host, whose network view is the lab of tests/unit/hop-lab.h
 * (tunnel port vx-t2: VXLAN vni 5002 to 192.168.100.2, tenant2).
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
#define UDP 17
#define GRE 47

#define VXLAN 1
#define GENEVE 2
#define TUN_GRE 3

static struct fake_host *
start(const char *keys, void **statep)
{
    char text[1024];
    struct fake_host *fh;

    snprintf(text, sizeof text, "%s[detector \"vxlan-hop\"]\n%s",
             HOP_POLICY, keys);
    fh = fake_host_create("detector", "vxlan-hop", text);
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

/* A tunnelled flow of 'type' and 'vni' sent from 'port', the carrier going
 * from 'outer_src' to 'outer_dst':4789, the inner frame an ICMP echo from
 * 10.0.0.11 to 10.0.0.250. */
static struct vnm_flow
tunnel_flow(uint64_t id, const char *port, uint32_t type, uint32_t vni,
            const char *outer_src, const char *outer_dst, uint64_t packets)
{
    struct vnm_flow f = hop_flow(id, port, "10.0.0.11", 0, "",
                                 "10.0.0.250", 0, ICMP, packets, 0);

    f.tunnel_type = type;
    f.vni = vni;
    f.outer.src_ip = hop_ip(outer_src);
    f.outer.dst_ip = hop_ip(outer_dst);
    f.outer.src_port = type == TUN_GRE ? 0 : 40000;
    f.outer.dst_port = type == TUN_GRE ? 0 : 4789;
    return f;
}

static void
test_descriptor(void **state)
{
    (void) state;
    assert_int_equal(vnm_plugin.abi_major, VNM_PLUGIN_ABI_MAJOR);
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
    assert_string_equal(vnm_plugin.name, "vxlan-hop");
    assert_non_null(vnm_plugin.detector->on_tick);
}

/* DESIGN.md section 3, first attack: a tenant1 VM sends VXLAN with
 * tenant2's VNI to the remote VTEP. */
static void
test_foreign_vni_to_vtep(void **state_)
{
    void *state;
    struct fake_host *fh = start("", &state);
    const struct fake_alert *a;
    struct vnm_flow f;

    f = tunnel_flow(1, "t1vm1", VXLAN, 5002, "10.0.0.11", "192.168.100.2", 3);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 1);
    a = &fh->alerts[0];
    assert_string_equal(a->kind, "vxlan-hop");
    assert_int_equal(a->severity, VNM_SEV_CRITICAL);
    assert_string_equal(a->key, "hv1/t1vm1>vni 5002 @ 192.168.100.2");
    assert_string_equal(a->target, "vni 5002 @ 192.168.100.2");
    assert_string_equal(a->vm.port, "t1vm1");
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_int_equal(a->packets, 3);
    assert_int_equal(a->bytes, 300);
    assert_non_null(strstr(a->summary, "to a VTEP"));
    assert_non_null(strstr(a->summary, "VNI of tenant2's tunnel port vx-t2"));
    assert_int_equal(a->n_evidence, 2);
    assert_non_null(strstr(a->evidence[1], "vx-t2"));

    /* Updated with what the next record adds. */
    f.src.packets = 5;
    f.src.bytes = 500;
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    assert_string_equal(fh->alerts[1].key,
                        "hv1/t1vm1>vni 5002 @ 192.168.100.2");
    assert_int_equal(fh->alerts[1].packets, 2);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    stop(fh, state);
}

/* Second attack: to an internal port's address (where OVS terminates
 * VXLAN), forging the remote VTEP's source. */
static void
test_forged_vtep_to_internal(void **state_)
{
    void *state;
    struct fake_host *fh = start("", &state);
    const struct fake_alert *a;
    struct vnm_flow f;

    f = tunnel_flow(1, "t1vm1", VXLAN, 5002, "192.168.100.2", "10.0.0.1", 1);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 1);
    a = &fh->alerts[0];
    assert_int_equal(a->severity, VNM_SEV_CRITICAL);
    assert_string_equal(a->key, "hv1/t1vm1>vni 5002 @ 10.0.0.1");
    assert_non_null(strstr(a->summary, "internal port"));
    assert_non_null(strstr(a->summary, "protected network \"host\""));
    assert_non_null(strstr(a->summary, "forged VTEP"));

    /* Same tenant's VNI, to the host: still critical (internal port). */
    f = tunnel_flow(2, "t2vm1", GENEVE, 5002, "10.0.0.21", "10.0.0.1", 1);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    assert_int_equal(fh->alerts[1].severity, VNM_SEV_CRITICAL);
    assert_null(strstr(fh->alerts[1].summary, "VNI of"));
    stop(fh, state);
}

/* Tunnel traffic from a VM to anywhere else: 'other_severity', or nothing
 * without 'any_vm_tunnel'; 'vteps' adds VTEP addresses. */
static void
test_other_tunnels(void **state_)
{
    void *state;
    struct fake_host *fh = start("vteps = 172.16.0.0/12, 2001:db8::1\n",
                                 &state);
    struct vnm_flow f;

    f = tunnel_flow(1, "t2vm1", VXLAN, 5002, "10.0.0.21", "203.0.113.5", 1);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 1);
    assert_int_equal(fh->alerts[0].severity, VNM_SEV_HIGH);
    assert_string_equal(fh->alerts[0].key,
                        "hv1/t2vm1>vni 5002 @ 203.0.113.5");
    assert_non_null(strstr(fh->alerts[0].summary, "from a VM port"));

    f = tunnel_flow(2, "t2vm2", TUN_GRE, 7, "10.0.0.22", "172.16.5.5", 1);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    assert_int_equal(fh->alerts[1].severity, VNM_SEV_CRITICAL);
    assert_non_null(strstr(fh->alerts[1].summary, "GRE"));

    f = tunnel_flow(3, "t2vm2", VXLAN, 9, "fd00::22", "2001:db8::1", 1);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 3);
    assert_string_equal(fh->alerts[2].target, "vni 9 @ 2001:db8::1");

    f = tunnel_flow(4, "t2vm2", 4, 0, "10.0.0.22", "203.0.113.9", 1);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 4);
    assert_string_equal(fh->alerts[3].target, "ipip @ 203.0.113.9");

    stop(fh, state);
    fh = start("any_vm_tunnel = false\nother_severity = low\n", &state);
    f = tunnel_flow(1, "t2vm1", VXLAN, 5002, "10.0.0.21", "203.0.113.5", 1);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 0);
    assert_int_equal(fake_host_counter(fh, "vm_tunnel_records"), 1);
    stop(fh, state);
}

/* The underlay: (VNI, remote VTEP) pairs no tunnel port takes. */
static void
test_underlay(void **state_)
{
    void *state;
    struct fake_host *fh = start("", &state);
    struct vnm_flow f;

    f = tunnel_flow(1, "ul0", VXLAN, 5002, "192.168.100.2", "192.168.100.1",
                    10);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 0);

    f = tunnel_flow(2, "ul0", VXLAN, 5003, "192.168.100.2", "192.168.100.1",
                    4);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 1);
    assert_int_equal(fh->alerts[0].severity, VNM_SEV_CRITICAL);
    assert_string_equal(fh->alerts[0].key,
                        "hv1/ul0>vni 5003 @ 192.168.100.2");
    assert_false(fh->alerts[0].vm.tenant[0]);

    f = tunnel_flow(3, "ul0", VXLAN, 5002, "192.168.100.9", "192.168.100.1",
                    1);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    assert_string_equal(fh->alerts[1].target, "vni 5002 @ 192.168.100.9");

    f = tunnel_flow(4, "ul0", GENEVE, 5002, "192.168.100.2", "192.168.100.1",
                    1);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 3);

    /* A tunnel port for VNI 5003 appears: seen at the next tick. */
    fake_host_set_inventory(fh, HOP_INVENTORY
                            "[port \"vx-t3\"]\nhost = hv1\ntype = tunnel\n"
                            "tunnel_type = vxlan\nvni = 5003\n"
                            "remote_ip = 192.168.100.2\n");
    vnm_plugin.detector->on_tick(state, HOP_T0 + 1000);
    f = tunnel_flow(5, "ul0", VXLAN, 5003, "192.168.100.2", "192.168.100.1",
                    4);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 3);

    stop(fh, state);
    fh = start("check_underlay = false\n", &state);
    f = tunnel_flow(2, "ul0", VXLAN, 5003, "192.168.100.2", "192.168.100.1",
                    4);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 0);
    stop(fh, state);
}

/* UDP to 4789 or GRE that the agent could not decode. */
static void
test_undecoded(void **state_)
{
    void *state;
    struct fake_host *fh = start("", &state);
    struct vnm_flow f;

    f = hop_flow(1, "t1vm1", "10.0.0.11", 40000, "", "192.168.100.2", 4789,
                 UDP, 2, 0);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].target, "udp/4789 @ 192.168.100.2");
    assert_int_equal(fh->alerts[0].severity, VNM_SEV_CRITICAL);

    f = hop_flow(2, "t1vm1", "10.0.0.11", 40000, "", "8.8.8.8", 4789, UDP, 2,
                 0);
    feed(state, &f);
    f = hop_flow(3, "t1vm1", "10.0.0.11", 0, "", "8.8.8.8", 0, GRE, 2, 0);
    feed(state, &f);
    f = hop_flow(4, "t1vm1", "10.0.0.11", 40000, "", "192.168.100.2", 53,
                 UDP, 2, 0);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 1);
    assert_int_equal(fake_host_counter(fh, "undecoded_records"), 3);

    f = hop_flow(5, "t1vm1", "10.0.0.11", 0, "", "192.168.100.2", 0, GRE, 2,
                 0);
    feed(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    assert_string_equal(fh->alerts[1].target, "gre @ 192.168.100.2");
    stop(fh, state);
}

static void
test_config_errors(void **state_)
{
    static const char *const bad[] = {
        "severity = bad\n",
        "other_severity = \n",
        "vteps = 10.0.0.0/33\n",
        "vteps = nowhere\n",
        "any_vm_tunnel = 3\n",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        struct fake_host *fh;
        void *state = NULL;

        snprintf(text, sizeof text, "[detector \"vxlan-hop\"]\n%s", bad[i]);
        fh = fake_host_create("detector", "vxlan-hop", text);
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
        cmocka_unit_test(test_foreign_vni_to_vtep),
        cmocka_unit_test(test_forged_vtep_to_internal),
        cmocka_unit_test(test_other_tunnels),
        cmocka_unit_test(test_underlay),
        cmocka_unit_test(test_undecoded),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

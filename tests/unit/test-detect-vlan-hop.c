/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "vlan-hop" detector: analyzer/detect-vlan-hop.c is
 * compiled into this binary and driven through its 'vnm_plugin' descriptor
 * on the fake host, whose network view is the lab of tests/unit/hop-lab.h.
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

#define UDP 17

static struct fake_host *
start(const char *keys, void **statep)
{
    char text[1024];
    struct fake_host *fh;

    snprintf(text, sizeof text, "%s[detector \"vlan-hop\"]\n%s", HOP_POLICY,
             keys);
    fh = fake_host_create("detector", "vlan-hop", text);
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
test_descriptor(void **state)
{
    (void) state;
    assert_int_equal(vnm_plugin.abi_major, VNM_PLUGIN_ABI_MAJOR);
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
    assert_string_equal(vnm_plugin.name, "vlan-hop");
    assert_non_null(vnm_plugin.detector->on_flow);
}

/* Untagged traffic, and tags a port may send, raise nothing. */
static void
test_allowed(void **state_)
{
    void *state;
    struct fake_host *fh = start("", &state);
    struct vnm_flow f;

    f = hop_flow(1, "t1vm1", "10.0.0.11", 1000, "t1vm2", "10.0.0.12", 53,
                 UDP, 5, 5);
    vnm_plugin.detector->on_flow(state, &f);

    /* Trunk port, listed VLAN. */
    f = hop_flow(2, "trunk1", "10.0.0.13", 1000, "", "10.0.0.12", 53, UDP,
                 5, 0);
    hop_tag(&f, 0x8100, 111);
    vnm_plugin.detector->on_flow(state, &f);

    /* Native-untagged port: its native VLAN tagged, and a trunked one. */
    f = hop_flow(3, "native1", "10.0.0.14", 1000, "", "10.0.0.12", 53, UDP,
                 5, 0);
    hop_tag(&f, 0x8100, 101);
    vnm_plugin.detector->on_flow(state, &f);
    f.id = 4;
    f.vlan[0].tci = 111;
    vnm_plugin.detector->on_flow(state, &f);

    /* OVS's default mode without tag: trunks every VLAN. */
    f = hop_flow(5, "t2vm2", "10.0.0.22", 1000, "", "10.0.0.21", 53, UDP,
                 5, 0);
    hop_tag(&f, 0x8100, 300);
    vnm_plugin.detector->on_flow(state, &f);

    /* A priority tag (VLAN 0, PCP 5) on an access port. */
    f = hop_flow(6, "t1vm1", "10.0.0.11", 1000, "", "10.0.0.12", 53, UDP,
                 5, 0);
    hop_tag(&f, 0x8100, 0xa000);
    vnm_plugin.detector->on_flow(state, &f);

    /* Tagged frames from the uplink, untouched by the access rules. */
    f = hop_flow(7, "ul0", "10.9.0.1", 1000, "", "10.9.0.2", 53, UDP, 5, 0);
    hop_tag(&f, 0x8100, 5);
    vnm_plugin.detector->on_flow(state, &f);

    assert_int_equal(fh->n_alerts, 0);
    stop(fh, state);
}

/* A tagged frame on an access port: one incident, updated by the flow's
 * later records with what they add. */
static void
test_access_port(void **state_)
{
    void *state;
    struct fake_host *fh = start("", &state);
    const struct fake_alert *a;
    struct vnm_flow f;

    f = hop_flow(1, "t1vm1", "10.0.0.11", 1000, "", "10.0.0.21", 7, UDP, 3,
                 0);
    hop_tag(&f, 0x8100, 102);
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 1);
    a = &fh->alerts[0];
    assert_string_equal(a->kind, "vlan-hop");
    assert_int_equal(a->severity, VNM_SEV_HIGH);
    assert_string_equal(a->key, "hv1/t1vm1>vlan 102");
    assert_string_equal(a->target, "vlan 102");
    assert_true(a->has_vm);
    assert_string_equal(a->vm.port, "t1vm1");
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_int_equal(a->packets, 3);
    assert_int_equal(a->bytes, 300);
    assert_non_null(strstr(a->summary, "access port"));
    assert_non_null(strstr(a->summary, "tag 101"));
    assert_int_equal(a->n_evidence, 2);
    assert_non_null(strstr(a->evidence[0], "vlan 102"));

    /* The next record of the same flow: only what it adds. */
    f.src.packets = 10;
    f.src.bytes = 1000;
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    assert_string_equal(fh->alerts[1].key, "hv1/t1vm1>vlan 102");
    assert_int_equal(fh->alerts[1].packets, 7);
    assert_int_equal(fh->alerts[1].bytes, 700);

    /* Its END record with nothing new: nothing. */
    f.event = VNM_FLOW_END_IDLE;
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    assert_int_equal(fake_host_counter(fh, "tagged_on_access"), 10);

    /* An attribution without tenant gets the view's. */
    f = hop_flow(3, "t1vm1", "10.0.0.11", 1001, "", "10.0.0.21", 7, UDP, 1,
                 0);
    memset(f.src.in.tenant, 0, sizeof f.src.in.tenant);
    hop_tag(&f, 0x8100, 103);
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 3);
    assert_string_equal(fh->alerts[2].vm.tenant, "tenant1");
    assert_string_equal(fh->alerts[2].vm.port, "t1vm1");

    /* With priority_tags off, VLAN 0 counts as a tag. */
    stop(fh, state);
    fh = start("priority_tags = false\n", &state);
    f = hop_flow(2, "t1vm1", "10.0.0.11", 1000, "", "10.0.0.21", 7, UDP, 3,
                 0);
    hop_tag(&f, 0x8100, 0);
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].target, "vlan 0");
    stop(fh, state);
}

/* Double tagging from a VM port of any mode. */
static void
test_double_tagged(void **state_)
{
    void *state;
    struct fake_host *fh = start("", &state);
    struct vnm_flow f;

    f = hop_flow(1, "t2vm2", "10.0.0.22", 1000, "", "10.0.0.11", 7, UDP, 2,
                 0);
    hop_tag(&f, 0x88a8, 102);
    hop_tag(&f, 0x8100, 101);
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].key, "hv1/t2vm2>vlan 102/101");
    assert_non_null(strstr(fh->alerts[0].summary, "double tagging"));
    assert_null(strstr(fh->alerts[0].summary, "access"));
    assert_int_equal(fake_host_counter(fh, "multi_tagged"), 2);

    /* On an access port: both reasons, one alert. */
    f = hop_flow(2, "t1vm1", "10.0.0.11", 1000, "", "10.0.0.21", 7, UDP, 1,
                 0);
    hop_tag(&f, 0x8100, 101);
    hop_tag(&f, 0x8100, 102);
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    assert_non_null(strstr(fh->alerts[1].summary, "double tagging"));
    assert_non_null(strstr(fh->alerts[1].summary, "access port"));

    /* Double tags from the uplink (not a VM): nothing. */
    f = hop_flow(3, "ul0", "10.9.0.1", 1000, "", "10.9.0.2", 7, UDP, 1, 0);
    hop_tag(&f, 0x88a8, 10);
    hop_tag(&f, 0x8100, 20);
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 2);

    /* max_tags = 2 tolerates two. */
    stop(fh, state);
    fh = start("max_tags = 2\n", &state);
    f = hop_flow(4, "t2vm2", "10.0.0.22", 1000, "", "10.0.0.11", 7, UDP, 2,
                 0);
    hop_tag(&f, 0x88a8, 102);
    hop_tag(&f, 0x8100, 101);
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 0);
    stop(fh, state);
}

/* A tag outside a trunk's list; a port the view does not know is judged by
 * its attribution (double tags only). */
static void
test_trunk(void **state_)
{
    void *state;
    struct fake_host *fh = start("", &state);
    struct vnm_flow f;

    f = hop_flow(1, "trunk1", "10.0.0.13", 1000, "", "10.0.0.21", 7, UDP, 4,
                 0);
    hop_tag(&f, 0x8100, 102);
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].key, "hv1/trunk1>vlan 102");
    assert_non_null(strstr(fh->alerts[0].summary, "trunk list"));
    assert_non_null(strstr(fh->alerts[0].evidence[1], "trunks 101,111"));

    f = hop_flow(2, "native1", "10.0.0.14", 1000, "", "10.0.0.21", 7, UDP, 4,
                 0);
    hop_tag(&f, 0x8100, 102);
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 2);
    assert_int_equal(fake_host_counter(fh, "outside_trunk"), 8);

    /* The responder's side is checked too: here it sent the tagged
     * frames from an access port. */
    f = hop_flow(3, "trunk1", "10.0.0.13", 1000, "t1vm2", "10.0.0.12", 7,
                 UDP, 1, 2);
    hop_tag(&f, 0x8100, 101);
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 3);
    assert_string_equal(fh->alerts[2].key, "hv1/t1vm2>vlan 101");
    assert_int_equal(fh->alerts[2].packets, 2);

    /* Unknown port "rogue" with a VM identity: single tag fine, two not. */
    f = hop_flow(4, "rogue", "10.0.0.99", 1000, "", "10.0.0.21", 7, UDP, 1,
                 0);
    snprintf(f.src.in.vm, sizeof f.src.in.vm, "vm-rogue");
    hop_tag(&f, 0x8100, 102);
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 3);
    hop_tag(&f, 0x8100, 101);
    f.id = 5;
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 4);
    assert_non_null(strstr(fh->alerts[3].summary, "not in the network view"));
    stop(fh, state);
}

static void
test_config_errors(void **state_)
{
    static const char *const bad[] = {
        "max_tags = 0\n",
        "max_tags = 4\n",
        "severity = urgent\n",
        "priority_tags = maybe\n",
        "max_flows = 1\n",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        struct fake_host *fh;
        void *state = NULL;

        snprintf(text, sizeof text, "[detector \"vlan-hop\"]\n%s", bad[i]);
        fh = fake_host_create("detector", "vlan-hop", text);
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
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_access_port),
        cmocka_unit_test(test_double_tagged),
        cmocka_unit_test(test_trunk),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

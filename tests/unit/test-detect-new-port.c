/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "new-port" detector: analyzer/detect-new-port.c is
 * compiled into this binary and driven through its 'vnm_plugin' descriptor
 * on the fake host, whose network view (analyzer/tenancy.c) is fed agent
 * inventory snapshots (doc/redis-keys.md) as the analyzer would.
 */
#include <config.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "analyzer/tenancy.h"
#include "tests/unit/fake-host.h"
#include "tests/unit/hop-lab.h"
#include "vnmon/plugin.h"

#define UDP 17

/* A host's inventory snapshot being built. */
struct snap {
    json_t *ifaces;
};

static void
snap_init(struct snap *s)
{
    s->ifaces = json_array();
}

/* Adds interface 'name' (Interface row 'uuid', 'ofport') with 'type' ("" for
 * a netdev) and the identity 'tenant' and 'iface_id' (null for none). */
static void
snap_add(struct snap *s, const char *name, const char *uuid, int ofport,
         const char *type, const char *tenant, const char *iface_id)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:n, s:[], s:n,"
                          " s:[]}",
                          "name", name, "uuid", uuid, "bridge", "br0",
                          "type", type, "ofport", ofport,
                          "ifindex", 100 + ofport, "tag", "trunks",
                          "tunnel", "ips");

    assert_non_null(o);
    if (tenant) {
        json_object_set_new(o, "tenant", json_string(tenant));
    }
    if (iface_id) {
        json_object_set_new(o, "iface_id", json_string(iface_id));
        json_object_set_new(o, "vm", json_string(iface_id));
    }
    json_array_append_new(s->ifaces, o);
}

/* Removes interface 'name'. */
static void
snap_remove(struct snap *s, const char *name)
{
    for (size_t i = 0; i < json_array_size(s->ifaces); i++) {
        const json_t *o = json_array_get(s->ifaces, i);

        if (!strcmp(json_string_value(json_object_get(o, "name")), name)) {
            json_array_remove(s->ifaces, i);
            return;
        }
    }
    fail_msg("no interface %s", name);
}

/* Hands the snapshot of host "hv1" to the network view at 'now'. */
static void
snap_apply(struct fake_host *fh, const struct snap *s, uint64_t now)
{
    json_t *j = json_pack("{s:i, s:s, s:b, s:O}", "version", 1,
                          "host", HOP_HOST, "synced", 1,
                          "interfaces", s->ifaces);

    tenancy_update_inventory(fh->tenancy, HOP_HOST, j, now);
    json_decref(j);
}

/* The lab hv1 as first seen: two VMs, the host's port, an uplink. */
static void
snap_lab(struct snap *s)
{
    snap_init(s);
    snap_add(s, "t1vm1", "u1", 3, "", "tenant1", "if-t1vm1");
    snap_add(s, "t2vm1", "u2", 4, "", "tenant2", "if-t2vm1");
    snap_add(s, "host0", "u3", 65534, "internal", NULL, NULL);
    snap_add(s, "eth1", "u4", 1, "", NULL, NULL);
}

static struct fake_host *
start(const char *keys, void **statep)
{
    char text[512];
    struct fake_host *fh;

    snprintf(text, sizeof text, "[detector \"new-port\"]\n%s", keys);
    fh = fake_host_create("detector", "new-port", text);
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
tick(struct fake_host *fh, void *state, uint64_t now)
{
    fh->now_ms = now;
    vnm_plugin.detector->on_tick(state, now);
}

static void
test_descriptor(void **state)
{
    (void) state;
    assert_int_equal(vnm_plugin.abi_major, VNM_PLUGIN_ABI_MAJOR);
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
    assert_string_equal(vnm_plugin.name, "new-port");
    assert_non_null(vnm_plugin.detector->on_tick);
}

/* The first inventory raises nothing, even its unregistered ports; a port
 * added later without registration does, once, after the grace period. */
static void
test_unregistered(void **state_)
{
    void *state;
    struct fake_host *fh = start("", &state);
    const struct fake_alert *a;
    struct snap s;
    struct vnm_flow f;

    snap_lab(&s);
    snap_apply(fh, &s, HOP_T0 + 100);
    tick(fh, state, HOP_T0 + 1000);
    tick(fh, state, HOP_T0 + 5000);
    assert_int_equal(fh->n_alerts, 0);

    snap_add(&s, "rogue0", "u9", 7, "", NULL, NULL);
    snap_apply(fh, &s, HOP_T0 + 6000);
    tick(fh, state, HOP_T0 + 6500);
    assert_int_equal(fh->n_alerts, 0);          /* Grace: 2 s. */
    tick(fh, state, HOP_T0 + 8000);
    assert_int_equal(fh->n_alerts, 1);
    a = &fh->alerts[0];
    assert_string_equal(a->kind, "new-port");
    assert_int_equal(a->severity, VNM_SEV_MEDIUM);
    assert_string_equal(a->key, "hv1/rogue0>br0");
    assert_string_equal(a->target, "br0");
    assert_true(a->has_vm);
    assert_string_equal(a->vm.port, "rogue0");
    assert_int_equal(a->vm.ofport, 7);
    assert_non_null(strstr(a->summary, "unregistered uplink port rogue0"));
    assert_int_equal(a->n_evidence, 1);
    tick(fh, state, HOP_T0 + 9000);
    assert_int_equal(fh->n_alerts, 1);

    /* Its traffic adds to the incident, by delta. */
    f = hop_flow(1, "rogue0", "10.0.0.66", 1000, "", "10.0.0.11", 80, UDP,
                 4, 0);
    memset(&f.src.in.tenant, 0, sizeof f.src.in.tenant);
    vnm_plugin.detector->on_flow(state, &f);
    f.src.packets = 6;
    f.src.bytes = 600;
    vnm_plugin.detector->on_flow(state, &f);
    vnm_plugin.detector->on_flow(state, &f);
    assert_int_equal(fh->n_alerts, 3);
    assert_string_equal(fh->alerts[1].key, "hv1/rogue0>br0");
    assert_int_equal(fh->alerts[1].packets, 4);
    assert_int_equal(fh->alerts[2].packets, 2);
    assert_int_equal(fh->alerts[2].bytes, 200);

    /* Registered ports, internal ports and ignored names: nothing. */
    snap_add(&s, "t1vm5", "u10", 8, "", "tenant1", "if-t1vm5");
    snap_add(&s, "vnm-mon-br0", "u11", 9, "internal", NULL, NULL);
    snap_apply(fh, &s, HOP_T0 + 10000);
    tick(fh, state, HOP_T0 + 13000);
    assert_int_equal(fh->n_alerts, 3);

    /* A VM port without tenant is unregistered. */
    snap_add(&s, "vm9", "u12", 10, "", NULL, "if-vm9");
    snap_apply(fh, &s, HOP_T0 + 14000);
    tick(fh, state, HOP_T0 + 17000);
    assert_int_equal(fh->n_alerts, 4);
    assert_string_equal(fh->alerts[3].key, "hv1/vm9>br0");
    assert_non_null(strstr(fh->alerts[3].summary, "VM port vm9"));
    assert_non_null(strstr(fh->alerts[3].summary, "no tenant"));
    assert_int_equal(fake_host_counter(fh, "unregistered"), 2);
    json_decref(s.ifaces);
    stop(fh, state);
}

/* A port registered during the grace period is fine; 'ignore' patterns. */
static void
test_grace_and_ignore(void **state_)
{
    void *state;
    struct fake_host *fh = start("ignore = tap*, hv1/eth2\ngrace = 1s\n",
                                 &state);
    struct snap s;

    snap_lab(&s);
    snap_apply(fh, &s, HOP_T0);
    tick(fh, state, HOP_T0 + 500);

    snap_add(&s, "t1vm7", "u20", 20, "", NULL, NULL);
    snap_add(&s, "tap42", "u21", 21, "", NULL, NULL);
    snap_add(&s, "eth2", "u22", 22, "", NULL, NULL);
    snap_apply(fh, &s, HOP_T0 + 1000);
    tick(fh, state, HOP_T0 + 1200);
    snap_remove(&s, "t1vm7");
    snap_add(&s, "t1vm7", "u20", 20, "", "tenant1", "if-t1vm7");
    snap_apply(fh, &s, HOP_T0 + 1500);
    tick(fh, state, HOP_T0 + 2500);
    tick(fh, state, HOP_T0 + 3500);
    assert_int_equal(fh->n_alerts, 0);
    json_decref(s.ifaces);
    stop(fh, state);
}

/* A VM port deleted and added again, or given a new ofport: a restart,
 * severity low, one incident per port. */
static void
test_restart(void **state_)
{
    void *state;
    struct fake_host *fh = start("", &state);
    const struct fake_alert *a;
    struct snap s;

    snap_lab(&s);
    snap_apply(fh, &s, HOP_T0);
    tick(fh, state, HOP_T0 + 1000);

    snap_remove(&s, "t1vm1");
    snap_apply(fh, &s, HOP_T0 + 2000);
    tick(fh, state, HOP_T0 + 3000);
    assert_int_equal(fh->n_alerts, 0);
    snap_add(&s, "t1vm1", "u1-new", 11, "", "tenant1", "if-t1vm1");
    snap_apply(fh, &s, HOP_T0 + 4000);
    tick(fh, state, HOP_T0 + 5000);
    assert_int_equal(fh->n_alerts, 1);
    a = &fh->alerts[0];
    assert_string_equal(a->key, "hv1/t1vm1>br0");
    assert_int_equal(a->severity, VNM_SEV_LOW);
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_string_equal(a->vm.iface_id, "if-t1vm1");
    assert_non_null(strstr(a->summary, "restarted"));
    assert_non_null(strstr(a->summary, "ofport 11"));
    tick(fh, state, HOP_T0 + 6000);
    assert_int_equal(fh->n_alerts, 1);

    /* A restart of the uplink is no VM's: nothing. */
    snap_remove(&s, "eth1");
    snap_add(&s, "eth1", "u4-new", 2, "", NULL, NULL);
    snap_apply(fh, &s, HOP_T0 + 7000);
    tick(fh, state, HOP_T0 + 8000);
    assert_int_equal(fh->n_alerts, 1);
    assert_int_equal(fake_host_counter(fh, "restarts"), 1);

    /* Not followed with restarts = false. */
    json_decref(s.ifaces);
    stop(fh, state);
    fh = start("restarts = false\n", &state);
    snap_lab(&s);
    snap_apply(fh, &s, HOP_T0);
    tick(fh, state, HOP_T0 + 1000);
    snap_remove(&s, "t1vm1");
    snap_add(&s, "t1vm1", "u1-new", 11, "", "tenant1", "if-t1vm1");
    snap_apply(fh, &s, HOP_T0 + 2000);
    tick(fh, state, HOP_T0 + 3000);
    assert_int_equal(fh->n_alerts, 0);
    json_decref(s.ifaces);
    stop(fh, state);
}

/* The detector started after the network view was built: a port first met
 * already restarted after the start is reported. */
static void
test_late_start(void **state_)
{
    struct fake_host *fh;
    void *state;
    struct snap s;

    fh = start("", &state);
    snap_lab(&s);
    snap_apply(fh, &s, HOP_T0);
    snap_remove(&s, "t2vm1");
    snap_add(&s, "t2vm1", "u2-new", 4, "", "tenant2", "if-t2vm1");
    snap_apply(fh, &s, HOP_T0 + 300);
    tick(fh, state, HOP_T0 + 1000);
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].key, "hv1/t2vm1>br0");
    json_decref(s.ifaces);
    stop(fh, state);
}

static void
test_config_errors(void **state_)
{
    static const char *const bad[] = {
        "unregistered_severity = bad\n",
        "restart_severity = \n",
        "grace = -1s\n",
        ("ignore = a b c d e f g h i j k l m n o p q r s t u v w x y z "
         "aa bb cc dd ee ff gg\n"),
        "max_ports = 0\n",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        struct fake_host *fh;
        void *state = NULL;

        snprintf(text, sizeof text, "[detector \"new-port\"]\n%s", bad[i]);
        fh = fake_host_create("detector", "new-port", text);
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
        cmocka_unit_test(test_unregistered),
        cmocka_unit_test(test_grace_and_ignore),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_late_start),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

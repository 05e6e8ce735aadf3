/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of analyzer/tenancy.c: the network view detectors get as
 * host->net, built from an agent's inventory snapshot (the JSON of
 * doc/redis-keys.md), an inventory file and learning; and the policy.
 */
#include <config.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "analyzer/tenancy.h"
#include "lib/conf.h"
#include "lib/flow-codec.h"

static const char snapshot_text[] =
    "{\"version\": 1, \"host\": \"hv1\", \"synced\": true, \"interfaces\": ["
    "{\"name\": \"t1vm1\", \"uuid\": \"u1\", \"bridge\": \"br0\","
    " \"type\": \"\", \"ofport\": 3, \"ifindex\": 11, \"vlan_mode\": null,"
    " \"tag\": 101, \"trunks\": [], \"tunnel\": null,"
    " \"iface_id\": \"if-1\", \"attached_mac\": \"02:00:00:00:01:01\","
    " \"vm\": \"vm-1\", \"tenant\": \"tenant1\","
    " \"ips\": [\"10.0.0.11\", \"fd00::11\"]},"
    "{\"name\": \"t2vm1\", \"uuid\": \"u2\", \"bridge\": \"br0\","
    " \"type\": \"\", \"ofport\": 4, \"ifindex\": 12, \"tag\": null,"
    " \"trunks\": [], \"tunnel\": null, \"iface_id\": \"if-2\","
    " \"attached_mac\": null, \"vm\": \"vm-2\", \"tenant\": \"tenant2\","
    " \"ips\": []},"
    "{\"name\": \"host0\", \"uuid\": \"u3\", \"bridge\": \"br0\","
    " \"type\": \"internal\", \"ofport\": 65534, \"ifindex\": 5,"
    " \"tunnel\": null, \"ips\": []},"
    "{\"name\": \"vx1\", \"uuid\": \"u4\", \"bridge\": \"br0\","
    " \"type\": \"vxlan\", \"ofport\": 9, \"ifindex\": 0,"
    " \"tenant\": \"tenant2\", \"tunnel\": {\"type\": \"vxlan\","
    " \"key\": \"5002\", \"vni\": 5002, \"remote_ip\": \"192.168.100.2\","
    " \"local_ip\": null}, \"ips\": []},"
    "{\"name\": \"eth1\", \"uuid\": \"u5\", \"bridge\": \"br0\","
    " \"type\": \"\", \"ofport\": 1, \"ifindex\": 2, \"tunnel\": null,"
    " \"ips\": []}]}";

static const char policy_text[] =
    "[tenancy]\n"
    "learn = first\n"
    "[protected \"host\"]\n"
    "prefixes = 10.0.0.1, fd00::1/128\n"
    "services = udp/67, udp/53, tcp/53, icmp, tcp/80@169.254.169.254\n"
    "[protected \"management\"]\n"
    "prefixes = 192.168.0.0/16\n"
    "[allow \"web\"]\n"
    "from = tenant1\n"
    "to = tenant2\n"
    "services = tcp/443\n";

struct fixture {
    struct tenancy *t;
    const struct vnm_net_ops *net;
    struct vnm_config *config;
};

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    json_t *snap = json_loads(snapshot_text, 0, NULL);
    char *error;

    assert_non_null(snap);
    error = vnm_config_parse_string(policy_text, "test.conf", &fx->config);
    assert_null(error);
    fx->t = tenancy_create();
    error = tenancy_configure(fx->t, fx->config);
    assert_null(error);
    fx->net = tenancy_net_ops(fx->t);
    tenancy_update_inventory(fx->t, "hv1", snap, 1000);
    json_decref(snap);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    tenancy_destroy(fx->t);
    vnm_config_destroy(fx->config);
    free(fx);
    return 0;
}

static struct vnm_addr
addr(const char *s)
{
    struct vnm_addr a;

    assert_true(vnm_addr_parse(s, &a));
    return a;
}

static void
test_ports_from_inventory(void **state)
{
    struct fixture *fx = *state;
    const struct vnm_port *p = fx->net->port(NULL, "hv1", "t1vm1");
    const struct vnm_port *const *all;
    struct vnm_addr a = addr("10.0.0.11");

    assert_non_null(p);
    assert_int_equal(p->kind, VNM_PORT_VM);
    assert_string_equal(p->tenant, "tenant1");
    assert_string_equal(p->vm, "vm-1");
    assert_string_equal(p->iface_id, "if-1");
    assert_int_equal(p->ofport, 3);
    assert_int_equal(p->tag, 101);
    assert_int_equal(p->ip_source, VNM_BINDING_DECLARED);
    assert_int_equal(p->mac_source, VNM_BINDING_DECLARED);
    assert_int_equal(p->n_ips, 2);
    assert_int_equal(p->first_seen_ms, 0);      /* There from the start. */
    assert_ptr_equal(fx->net->port_by_ip(NULL, "hv1", &a), p);
    assert_ptr_equal(fx->net->port_by_ip(NULL, NULL, &a), p);
    assert_null(fx->net->port_by_ip(NULL, "hv2", &a));
    assert_ptr_equal(fx->net->port_by_mac(NULL, "hv1",
                                          p->macs[0]), p);
    assert_int_equal(fx->net->port(NULL, "hv1", "host0")->kind,
                     VNM_PORT_INTERNAL);
    assert_int_equal(fx->net->port(NULL, "hv1", "eth1")->kind,
                     VNM_PORT_UPLINK);
    p = fx->net->port(NULL, "hv1", "vx1");
    assert_int_equal(p->kind, VNM_PORT_TUNNEL);
    assert_string_equal(p->tunnel_type, "vxlan");
    assert_true(p->has_vni);
    assert_int_equal(p->vni, 5002);
    assert_int_equal(p->remote_ip.family, 4);
    assert_string_equal(p->tenant, "tenant2");
    assert_int_equal(fx->net->ports(NULL, "hv1", &all), 5);
    assert_int_equal(fx->net->ports(NULL, "hv2", &all), 0);
    assert_null(fx->net->port(NULL, "hv1", "nope"));
}

static void
test_bindings(void **state)
{
    struct fixture *fx = *state;
    const struct vnm_port *p = fx->net->port(NULL, "hv1", "t1vm1");
    const uint8_t good[6] = { 2, 0, 0, 0, 1, 1 };
    const uint8_t bad[6] = { 2, 0, 0, 0, 1, 2 };
    const uint8_t mcast[6] = { 1, 0, 0x5e, 0, 0, 1 };
    struct vnm_addr a;

    assert_true(fx->net->mac_allowed(NULL, p, good));
    assert_false(fx->net->mac_allowed(NULL, p, bad));
    assert_false(fx->net->mac_allowed(NULL, p, mcast));
    a = addr("10.0.0.11");
    assert_true(fx->net->ip_allowed(NULL, p, &a));
    a = addr("10.0.0.12");
    assert_false(fx->net->ip_allowed(NULL, p, &a));
    a = addr("0.0.0.0");
    assert_true(fx->net->ip_allowed(NULL, p, &a));
    a = addr("fe80::1");
    assert_true(fx->net->ip_allowed(NULL, p, &a));  /* Link-local. */
    a = addr("fd00::12");
    assert_false(fx->net->ip_allowed(NULL, p, &a));
}

/* A flow t2vm1 sent: learning takes its first MAC and address, then
 * locks. */
static void
test_learning(void **state)
{
    struct fixture *fx = *state;
    const struct vnm_port *p = fx->net->port(NULL, "hv1", "t2vm1");
    struct vnm_flow f;
    struct vnm_addr a;
    json_t *saved;
    struct tenancy *t2;

    assert_int_equal(p->ip_source, VNM_BINDING_NONE);
    assert_int_equal(p->mac_source, VNM_BINDING_NONE);
    memset(&f, 0, sizeof f);
    vnm_strlcpy(f.host, "hv1", sizeof f.host);
    f.eth_type = 0x0800;
    f.src.ip = addr("10.0.0.21");
    f.dst.ip = addr("10.0.0.11");
    memcpy(f.src.mac, (uint8_t[6]) { 2, 0, 0, 0, 2, 1 }, 6);
    f.src.packets = 1;
    vnm_strlcpy(f.src.in.port, "t2vm1", sizeof f.src.in.port);
    assert_true(tenancy_learn(fx->t, &f, 2000));
    assert_false(tenancy_learn(fx->t, &f, 2001));   /* Nothing new. */
    p = fx->net->port(NULL, "hv1", "t2vm1");
    assert_int_equal(p->ip_source, VNM_BINDING_LEARNED);
    assert_int_equal(p->mac_source, VNM_BINDING_LEARNED);
    a = addr("10.0.0.21");
    assert_true(fx->net->ip_allowed(NULL, p, &a));
    assert_ptr_equal(fx->net->port_by_ip(NULL, "hv1", &a), p);

    /* Locked: a second address is not learned, and is forged. */
    f.src.ip = addr("10.0.0.99");
    assert_false(tenancy_learn(fx->t, &f, 3000));
    p = fx->net->port(NULL, "hv1", "t2vm1");
    a = addr("10.0.0.99");
    assert_false(fx->net->ip_allowed(NULL, p, &a));

    /* A declared port learns nothing. */
    vnm_strlcpy(f.src.in.port, "t1vm1", sizeof f.src.in.port);
    assert_false(tenancy_learn(fx->t, &f, 3000));

    /* Saved and restored by another analyzer. */
    saved = tenancy_learned_to_json(fx->t, "hv1");
    assert_int_equal(json_object_size(saved), 1);
    t2 = tenancy_create();
    tenancy_learned_from_json(t2, "hv1", saved);
    json_decref(saved);
    {
        json_t *again = tenancy_learned_to_json(t2, "hv1");
        char *text = json_dumps(again, JSON_SORT_KEYS | JSON_COMPACT);

        assert_string_equal(text, "{\"t2vm1\":{\"ips\":[\"10.0.0.21\"],"
                            "\"macs\":[\"02:00:00:00:02:01\"]}}");
        free(text);
        json_decref(again);
    }
    tenancy_destroy(t2);
    tenancy_net_ops(fx->t);
}

static void
test_policy(void **state)
{
    struct fixture *fx = *state;
    struct vnm_addr a = addr("10.0.0.1");

    assert_string_equal(fx->net->protected_net(NULL, &a), "host");
    assert_true(fx->net->host_service(NULL, &a, 17, 53));
    assert_true(fx->net->host_service(NULL, &a, 17, 67));
    assert_true(fx->net->host_service(NULL, &a, 1, 0));
    assert_false(fx->net->host_service(NULL, &a, 6, 22));
    a = addr("192.168.3.4");
    assert_string_equal(fx->net->protected_net(NULL, &a), "management");
    assert_false(fx->net->host_service(NULL, &a, 17, 53));
    a = addr("169.254.169.254");
    assert_null(fx->net->protected_net(NULL, &a));
    assert_true(fx->net->host_service(NULL, &a, 6, 80));
    assert_false(fx->net->host_service(NULL, &a, 6, 81));
    a = addr("10.0.0.12");
    assert_null(fx->net->protected_net(NULL, &a));

    assert_true(fx->net->tenants_allowed(NULL, "tenant1", "tenant1", 6, 22));
    assert_true(fx->net->tenants_allowed(NULL, "tenant1", "tenant2", 6,
                                         443));
    assert_false(fx->net->tenants_allowed(NULL, "tenant1", "tenant2", 6,
                                          22));
    assert_false(fx->net->tenants_allowed(NULL, "tenant2", "tenant1", 6,
                                          443));
}

/* A port leaves and comes back with a new row: a restart. */
static void
test_restart(void **state)
{
    struct fixture *fx = *state;
    json_t *snap = json_loads(snapshot_text, 0, NULL);
    json_t *ifaces = json_object_get(snap, "interfaces");
    json_t *t1vm1 = json_incref(json_array_get(ifaces, 0));
    const struct vnm_port *p;

    json_array_remove(ifaces, 0);
    tenancy_update_inventory(fx->t, "hv1", snap, 5000);
    p = fx->net->port(NULL, "hv1", "t1vm1");
    assert_non_null(p);                 /* Still resolves... */
    {
        const struct vnm_port *const *all;

        assert_int_equal(fx->net->ports(NULL, "hv1", &all), 4); /* Gone. */
    }
    json_object_set_new(t1vm1, "uuid", json_string("u1-new"));
    json_object_set_new(t1vm1, "ifindex", json_integer(21));
    json_array_append_new(ifaces, t1vm1);
    tenancy_update_inventory(fx->t, "hv1", snap, 6000);
    p = fx->net->port(NULL, "hv1", "t1vm1");
    assert_int_equal(p->restarts, 1);
    assert_int_equal(p->changed_ms, 6000);

    /* A new port, after the first snapshot: first_seen is its time. */
    json_array_append_new(ifaces, json_pack("{s:s, s:s, s:s, s:i}", "name",
                                            "rogue", "uuid", "u9", "type", "",
                                            "ofport", 12));
    tenancy_update_inventory(fx->t, "hv1", snap, 7000);
    p = fx->net->port(NULL, "hv1", "rogue");
    assert_int_equal(p->first_seen_ms, 7000);
    assert_int_equal(p->kind, VNM_PORT_UPLINK);
    assert_int_equal(p->restarts, 0);
    json_decref(snap);
}

/* The inventory file declares and overrides. */
static void
test_inventory_file(void **state)
{
    struct fixture *fx = *state;
    const struct vnm_port *p;
    struct vnm_addr a;
    char *error;

    error = tenancy_load_inventory(fx->t, "inv.conf",
                                   "[port \"t2vm1\"]\n"
                                   "tenant = blue\n"
                                   "ips = 10.0.0.21, 10.9.0.0/24\n"
                                   "macs = 02:00:00:00:02:01\n"
                                   "[port \"vtep\"]\n"
                                   "host = hv2\n"
                                   "type = tunnel\n"
                                   "tunnel_type = vxlan\n"
                                   "vni = 7\n"
                                   "remote_ip = 192.168.1.2\n");
    assert_null(error);
    p = fx->net->port(NULL, "hv1", "t2vm1");
    assert_string_equal(p->tenant, "blue");
    assert_int_equal(p->ip_source, VNM_BINDING_DECLARED);
    a = addr("10.9.0.77");
    assert_ptr_equal(fx->net->port_by_ip(NULL, "hv1", &a), p);
    assert_true(fx->net->ip_allowed(NULL, p, &a));
    p = fx->net->port(NULL, "hv2", "vtep");
    assert_non_null(p);
    assert_int_equal(p->kind, VNM_PORT_TUNNEL);
    assert_int_equal(p->vni, 7);

    error = tenancy_load_inventory(fx->t, "inv.conf",
                                   "[port \"x\"]\nips = 10.0.0.300\n");
    assert_non_null(error);
    assert_non_null(strstr(error, "inv.conf:2: ips"));
    free(error);
    error = tenancy_load_inventory(fx->t, "inv.conf",
                                   "[port \"x\"]\ncolour = red\n");
    assert_non_null(strstr(error, "colour"));
    free(error);
}

static void
test_config_errors(void **state)
{
    static const char *const bad[] = {
        "[tenancy]\nlearn = sometimes\n",
        "[protected \"h\"]\nprefixes = 10.0.0.0/33\n",
        "[protected \"h\"]\nservices = udp/53\n",
        "[protected \"h\"]\nprefixes = 10.0.0.1\nservices = sctp/9\n",
        "[allow \"x\"]\nfrom = a\n",
        "[policy]\nisolate = yes\n",
    };

    (void) state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct vnm_config *config;
        struct tenancy *t = tenancy_create();
        char *error = vnm_config_parse_string(bad[i], "bad.conf", &config);

        assert_null(error);
        error = tenancy_configure(t, config);
        assert_non_null(error);
        assert_non_null(strstr(error, "bad.conf:"));
        free(error);
        tenancy_destroy(t);
        vnm_config_destroy(config);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ports_from_inventory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bindings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_learning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inventory_file, setup,
                                        teardown),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

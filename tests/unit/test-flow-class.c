/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of ovs-ext/flow-class.c: network lists, and the class of
 * flows between VMs of one or two tenants, the host, the outside and the
 * underlay.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/flow-codec.h"
#include "lib/util.h"
#include "ovs-ext/flow-class.h"

static struct flow_classifier *
make_classifier(void)
{
    struct flow_classifier *fc = flow_classifier_create();

    assert_null(flow_classifier_add(fc, FLOW_NET_HOST, "10.0.0.1, fd00::1"));
    assert_null(flow_classifier_add(fc, FLOW_NET_MGMT, "192.168.0.0/16"));
    assert_null(flow_classifier_add(fc, FLOW_NET_UNDERLAY,
                                    "172.16.0.0/12,2001:db8:ff::/48"));
    return fc;
}

static void
set_end(struct vnm_flow_end *e, const char *ip, const char *tenant)
{
    memset(e, 0, sizeof *e);
    assert_true(vnm_addr_parse(ip, &e->ip));
    e->in.ofport = -1;
    if (tenant) {
        vnm_strlcpy(e->in.tenant, tenant, sizeof e->in.tenant);
        vnm_strlcpy(e->in.vm, "some-vm", sizeof e->in.vm);
    }
}

static enum vnm_flow_class
class_of(const struct flow_classifier *fc, const char *src, const char *st,
         const char *dst, const char *dt)
{
    struct vnm_flow f;

    memset(&f, 0, sizeof f);
    set_end(&f.src, src, st);
    set_end(&f.dst, dst, dt);
    return flow_class_of(fc, &f);
}

static void
test_classes(void **state)
{
    struct flow_classifier *fc = make_classifier();
    struct vnm_flow f;

    assert_int_equal(class_of(fc, "10.0.0.11", "t1", "10.0.0.12", "t1"),
                     VNM_FLOW_VM_VM_SAME_TENANT);
    assert_int_equal(class_of(fc, "10.0.0.11", "t1", "10.0.0.21", "t2"),
                     VNM_FLOW_VM_VM_CROSS_TENANT);
    assert_int_equal(class_of(fc, "10.0.0.11", "t1", "10.0.0.1", NULL),
                     VNM_FLOW_VM_HOST);
    assert_int_equal(class_of(fc, "fd00::11", "t1", "fd00::1", NULL),
                     VNM_FLOW_VM_HOST);
    assert_int_equal(class_of(fc, "10.0.0.11", "t1", "192.168.3.4", NULL),
                     VNM_FLOW_VM_HOST);
    assert_int_equal(class_of(fc, "10.0.0.1", NULL, "10.0.0.11", "t1"),
                     VNM_FLOW_HOST_VM);
    assert_int_equal(class_of(fc, "10.0.0.11", "t1", "8.8.8.8", NULL),
                     VNM_FLOW_VM_EXTERNAL);
    assert_int_equal(class_of(fc, "8.8.8.8", NULL, "10.0.0.11", "t1"),
                     VNM_FLOW_EXTERNAL_VM);
    assert_int_equal(class_of(fc, "172.16.0.5", NULL, "172.16.0.6", NULL),
                     VNM_FLOW_UNDERLAY);
    assert_int_equal(class_of(fc, "8.8.8.8", NULL, "9.9.9.9", NULL),
                     VNM_FLOW_UNKNOWN);

    /* A tunnel carrier is underlay whatever its ends. */
    memset(&f, 0, sizeof f);
    set_end(&f.src, "10.0.0.11", "t1");
    set_end(&f.dst, "10.0.0.12", "t1");
    f.tunnel_type = 1;
    assert_int_equal(flow_class_of(fc, &f), VNM_FLOW_UNDERLAY);
    flow_classifier_destroy(fc);
}

static void
test_networks(void **state)
{
    struct flow_classifier *fc = flow_classifier_create();
    struct vnm_addr a;
    char *error;

    assert_null(flow_classifier_add(fc, FLOW_NET_HOST, "10.1.2.128/25"));
    assert_true(vnm_addr_parse("10.1.2.200", &a));
    assert_true(flow_classifier_match(fc, FLOW_NET_HOST, &a));
    assert_true(vnm_addr_parse("10.1.2.127", &a));
    assert_false(flow_classifier_match(fc, FLOW_NET_HOST, &a));
    assert_false(flow_classifier_match(fc, FLOW_NET_MGMT, &a));
    assert_null(flow_classifier_add(fc, FLOW_NET_MGMT, "0.0.0.0/0"));
    assert_true(flow_classifier_match(fc, FLOW_NET_MGMT, &a));
    assert_true(vnm_addr_parse("::1", &a));
    assert_false(flow_classifier_match(fc, FLOW_NET_MGMT, &a));

    error = flow_classifier_add(fc, FLOW_NET_HOST, "10.0.0.0/33");
    assert_string_equal(error, "\"10.0.0.0/33\" is not an address or network "
                        "(e.g. 10.0.0.0/24 or fd00::/64)");
    free(error);
    error = flow_classifier_add(fc, FLOW_NET_HOST, "10.0.0.1, host");
    assert_non_null(strstr(error, "\"host\""));
    free(error);
    flow_classifier_destroy(fc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_networks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

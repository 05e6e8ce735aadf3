/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the analyzer's routing of incidents to sinks
 * (analyzer/route.c): the tenant, min_severity, types and states keys of a
 * [sink "NAME"] section, read from a configuration parsed by lib/conf.c.
 */
#include <config.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "analyzer/route.h"
#include "lib/conf.h"
#include "lib/util.h"
#include "vnmon/alert.h"

/* Parses section [sink "s"] with 'keys' and creates its route.  Returns
 * the error, if any; else '*routep' is set and the section has no unknown
 * key left for the loader to reject. */
static char *
route_from(const char *keys, struct route **routep)
{
    char *text = xasprintf("[sink \"s\"]\nplugin = sink-webhook.so\n%s",
                           keys);
    struct vnm_config *config;
    const struct vnm_conf *conf;
    const char *plugin;
    char *error;

    error = vnm_config_parse_string(text, "r.conf", &config);
    free(text);
    assert_null(error);
    conf = vnm_config_section(config, "sink", "s");
    assert_non_null(conf);
    error = route_create(conf, routep);
    if (!error) {
        /* The plugin asks for its own keys ("plugin" is the loader's). */
        assert_null(vnm_conf_get_string(conf, "plugin", NULL, &plugin));
        assert_null(vnm_conf_check_unused(conf));
    }
    vnm_config_destroy(config);
    return error;
}

static struct vnm_alert
test_alert(void)
{
    return (struct vnm_alert) {
        .kind = "port-scan", .severity = VNM_SEV_HIGH, .key = "k",
        .summary = "s", .tenant = "tenant1", .state = VNM_ALERT_OPEN,
    };
}

/* Each key alone, and all together. */
static void
test_wants(void **statep)
{
    static const struct {
        const char *keys;
        bool wanted;
    } cases[] = {
        { "", true },
        { "tenant = tenant1\n", true },
        { "tenant = tenant2\n", false },
        { "tenant = tenant\n", false },
        { "min_severity = high\n", true },
        { "min_severity = critical\n", false },
        { "types = \"ip-spoof, port-scan\"\n", true },
        { "types = ip-spoof\n", false },
        { "types = port-scan2\n", false },
        { "states = open\n", true },
        { "states = \"update,resolved\"\n", false },
        { "tenant = tenant1\nmin_severity = low\ntypes = port-scan,x\n"
          "states = open resolved\n", true },
    };
    struct vnm_alert alert = test_alert();

    (void) statep;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct route *route;
        char *error = route_from(cases[i].keys, &route);

        if (error) {
            fail_msg("case %zu: %s", i, error);
        }
        if (route_wants(route, &alert) != cases[i].wanted) {
            fail_msg("case %zu: expected %s", i,
                     cases[i].wanted ? "wanted" : "not wanted");
        }
        route_destroy(route);
    }
}

/* A tenant's sink never gets an incident without a tenant, nor another
 * tenant's; the other keys follow the incident. */
static void
test_tenant_and_states(void **statep)
{
    struct vnm_alert alert = test_alert();
    struct route *route;

    (void) statep;
    assert_null(route_from("tenant = tenant1\nstates = resolved\n", &route));
    assert_false(route_wants(route, &alert));
    alert.state = VNM_ALERT_RESOLVED;
    assert_true(route_wants(route, &alert));
    alert.tenant = NULL;
    assert_false(route_wants(route, &alert));
    alert.tenant = "tenant10";
    assert_false(route_wants(route, &alert));
    route_destroy(route);

    assert_null(route_from("min_severity = medium\n", &route));
    alert = test_alert();
    alert.tenant = NULL;
    assert_true(route_wants(route, &alert));
    alert.severity = VNM_SEV_LOW;
    assert_false(route_wants(route, &alert));
    alert.severity = VNM_SEV_CRITICAL;
    alert.state = VNM_ALERT_UPDATE;
    assert_true(route_wants(route, &alert));
    route_destroy(route);
}

/* Bad values name the file, the line and the key. */
static void
test_errors(void **statep)
{
    static const struct {
        const char *keys;
        const char *error;
    } cases[] = {
        { "min_severity = urgent\n", "r.conf:3: min_severity: \"urgent\" "
          "is not info, low, medium, high or critical" },
        { "states = opened\n", "r.conf:3: states: \"opened\" is not open, "
          "update or resolved" },
        { "states = \",\"\n", "r.conf:3: states: empty list" },
        { "types = \" \"\n", "r.conf:3: types: empty list" },
        { "tenant = \"\"\n", "r.conf:3: tenant: must name a tenant" },
    };

    (void) statep;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct route *route = NULL;
        char *error;

        error = route_from(cases[i].keys, &route);
        assert_null(route);
        assert_non_null(error);
        assert_string_equal(error, cases[i].error);
        free(error);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wants),
        cmocka_unit_test(test_tenant_and_states),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}

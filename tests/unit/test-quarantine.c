/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the quarantine: the agent's drop rules and their
 * reconciliation with a dump of table 0 (ovs-ext/quarantine.c), and the
 * analyzer's choice of incidents to act on (analyzer/auto-quarantine.c).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "analyzer/auto-quarantine.h"
#include "lib/conf.h"
#include "lib/util.h"
#include "ovs-ext/quarantine.h"
#include "vnmon/alert.h"

static void
test_build_rules(void **state)
{
    struct tap_flow_rule *rules;
    size_t n;

    (void) state;
    n = quarantine_build_rules(7, "02:00:00:00:01:0A", &rules);
    assert_int_equal(n, 2);
    assert_string_equal(rules[0].match, "priority=65535,in_port=7");
    assert_string_equal(rules[1].match,
                        "priority=65535,dl_dst=02:00:00:00:01:0a");
    assert_string_equal(rules[1].actions, "drop");
    assert_true(rules[0].cookie == UINT64_C(0x766e6d6f6e710000));
    tap_flow_rules_free(rules, n);

    n = quarantine_build_rules(7, "", &rules);      /* MAC unknown. */
    assert_int_equal(n, 1);
    tap_flow_rules_free(rules, n);
    n = quarantine_build_rules(7, "garbage", &rules);
    assert_int_equal(n, 1);
    tap_flow_rules_free(rules, n);
    n = quarantine_build_rules(-1, "02:00:00:00:01:01", &rules);
    assert_int_equal(n, 0);
    assert_null(rules);
}

/* A dump of table 0 with: the flow tap's rules, an operator's, ours for
 * port 7 (in_port only) and ours for a released port 9. */
static const char DUMP[] =
    "OFPST_FLOW reply (OF1.3) (xid=0x2):\n"
    " cookie=0x766e6d6f6e000000, priority=65535,in_port=3 actions=drop\n"
    " cookie=0x766e6d6f6e710000, priority=65535,in_port=7 actions=drop\n"
    " cookie=0x766e6d6f6e710000, priority=65535,in_port=9 actions=drop\n"
    " cookie=0x1, priority=65535,dl_dst=02:00:00:00:01:07 actions=NORMAL\n"
    " priority=0 actions=NORMAL\n";

static void
test_diff(void **state)
{
    struct tap_flow_rule *wanted, *dumped;
    size_t n_wanted, n_dumped, n_blocked, n_lines;
    bool present[2];
    char *input = NULL;

    (void) state;
    n_wanted = quarantine_build_rules(7, "02:00:00:00:01:01", &wanted);
    n_dumped = tap_flow_parse_dump(DUMP, &dumped);
    assert_int_equal(n_dumped, 5);
    n_lines = quarantine_diff(wanted, n_wanted, dumped, n_dumped, present,
                              &n_blocked, &input);
    assert_int_equal(n_lines, 2);
    assert_int_equal(n_blocked, 0);
    assert_true(present[0]);
    assert_false(present[1]);
    assert_string_equal(input,
        "add cookie=0x766e6d6f6e710000,table=0,"
        "priority=65535,dl_dst=02:00:00:00:01:01 actions=drop\n"
        "delete_strict cookie=0x766e6d6f6e710000/-1,table=0,"
        "priority=65535,in_port=9\n");
    free(input);
    tap_flow_rules_free(wanted, n_wanted);

    /* Someone else's rule has our match: left alone, not added. */
    input = NULL;
    n_wanted = quarantine_build_rules(7, "02:00:00:00:01:07", &wanted);
    n_lines = quarantine_diff(wanted, n_wanted, dumped, n_dumped, present,
                              &n_blocked, &input);
    assert_int_equal(n_blocked, 1);
    assert_int_equal(n_lines, 1);           /* Only the stale rule. */
    assert_false(present[1]);
    assert_non_null(strstr(input, "in_port=9"));
    free(input);
    tap_flow_rules_free(wanted, n_wanted);

    /* Nothing wanted: every rule of ours goes, nobody else's. */
    input = NULL;
    n_lines = quarantine_diff(NULL, 0, dumped, n_dumped, present, &n_blocked,
                              &input);
    assert_int_equal(n_lines, 2);
    assert_null(strstr(input, "cookie=0x1"));
    assert_null(strstr(input, "0x766e6d6f6e000000"));
    free(input);
    tap_flow_rules_free(dumped, n_dumped);
}

/* Parses 'text' as a configuration and configures an auto_quarantine. */
static char *
configure(const char *text, struct auto_quarantine **aqp)
{
    struct vnm_config *config;
    char *error = vnm_config_parse_string(text, "test.conf", &config);

    assert_null(error);
    error = auto_quarantine_configure(config, aqp);
    vnm_config_destroy(config);
    return error;
}

static void
test_auto(void **state)
{
    struct vnm_attribution vm = { .port = "t1vm1" };
    struct vnm_alert alert = {
        .kind = "ip-spoof", .severity = VNM_SEV_HIGH, .vm = &vm,
        .host_id = "hv1", .id = "inc-1", .state = VNM_ALERT_OPEN,
    };
    struct auto_quarantine *aq;
    char *error;

    (void) state;
    /* Default: never. */
    assert_null(configure("[analyzer]\n", &aq));
    assert_false(auto_quarantine_wants(aq, &alert));
    auto_quarantine_destroy(aq);

    assert_null(configure("[quarantine]\ntypes = arp-spoof, ip-spoof\n",
                          &aq));
    assert_true(auto_quarantine_wants(aq, &alert));
    alert.state = VNM_ALERT_UPDATE;
    assert_false(auto_quarantine_wants(aq, &alert));
    alert.state = VNM_ALERT_OPEN;
    alert.severity = VNM_SEV_MEDIUM;        /* Below the default high. */
    assert_false(auto_quarantine_wants(aq, &alert));
    alert.severity = VNM_SEV_CRITICAL;
    alert.kind = "scan";
    assert_false(auto_quarantine_wants(aq, &alert));
    alert.kind = "arp-spoof";
    alert.vm = NULL;
    assert_false(auto_quarantine_wants(aq, &alert));
    alert.vm = &vm;
    alert.host_id = NULL;
    assert_false(auto_quarantine_wants(aq, &alert));
    auto_quarantine_destroy(aq);
    assert_false(auto_quarantine_wants(NULL, &alert));

    assert_null(configure("[quarantine]\ntypes = scan\nmin_severity = low\n",
                          &aq));
    alert.kind = "scan";
    alert.host_id = "hv1";
    alert.severity = VNM_SEV_LOW;
    assert_true(auto_quarantine_wants(aq, &alert));
    auto_quarantine_destroy(aq);

    error = configure("[quarantine]\nmin_severity = severe\n", &aq);
    assert_non_null(strstr(error, "min_severity"));
    assert_null(aq);
    free(error);
    error = configure("[quarantine]\ntype = scan\n", &aq);
    assert_non_null(strstr(error, "unknown key"));
    free(error);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_rules),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_auto),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of tests/unit/fake-host.c, the way plugin unit tests use it:
 * tests/plugins/detect-minimal.c is compiled into this binary and driven
 * through its 'vnm_plugin' descriptor against the fake host, without the
 * loader.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/unit/fake-host.h"
#include "vnmon/plugin.h"

static const char minimal_conf[] =
    "[detector \"minimal\"]\n"
    "threshold = 100\n"
    "label = \"east side\"\n";

/* A flow of 'bytes' bytes in total, split between both directions. */
static struct vnm_flow
make_flow(uint64_t id, uint64_t bytes)
{
    struct vnm_flow flow;

    memset(&flow, 0, sizeof flow);
    flow.id = id;
    flow.src.packets = 2;
    flow.src.bytes = bytes / 2;
    flow.dst.packets = 1;
    flow.dst.bytes = bytes - bytes / 2;
    return flow;
}

static void
test_descriptor(void **statep)
{
    assert_int_equal(vnm_plugin.abi_major, VNM_PLUGIN_ABI_MAJOR);
    assert_int_equal(vnm_plugin.abi_minor, VNM_PLUGIN_ABI_MINOR);
    assert_int_equal(vnm_plugin.size, sizeof(struct vnm_plugin));
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
    assert_string_equal(vnm_plugin.name, "minimal");
    assert_non_null(vnm_plugin.detector);
    assert_null(vnm_plugin.sink);
}

static void
test_host_table(void **statep)
{
    struct fake_host *fh = fake_host_create("detector", "minimal", NULL);

    assert_int_equal(fh->host.size, sizeof(struct vnm_host));
    assert_true(VNM_HOST_HAS(&fh->host, count));
    assert_string_equal(fh->host.plugin_name, "minimal");
    assert_null(fh->conf);

    /* The clocks return what the test sets, and nothing else. */
    fh->now_ms = 1700000000123;
    fh->mono_ms = 42;
    assert_int_equal(fh->host.now_ms(&fh->host), 1700000000123);
    assert_int_equal(fh->host.monotonic_ms(&fh->host), 42);
    fh->mono_ms += 1000;
    assert_int_equal(fh->host.monotonic_ms(&fh->host), 1042);

    fh->host.log(&fh->host, VNM_LOG_WARN, "port %s: %d drops", "vm1", 3);
    fh->host.log(&fh->host, VNM_LOG_DBG, "detail");
    assert_string_equal(fh->log, "WARN|port vm1: 3 drops\nDBG|detail\n");
    assert_int_equal(fh->log_len, strlen(fh->log));
    fake_host_clear(fh);
    assert_string_equal(fh->log, "");

    fh->host.count(&fh->host, "drops", 3);
    fh->host.count(&fh->host, "drops", 4);
    fh->host.count(&fh->host, "other", 1);
    assert_int_equal(fake_host_counter(fh, "drops"), 7);
    assert_int_equal(fake_host_counter(fh, "other"), 1);
    assert_int_equal(fake_host_counter(fh, "never"), 0);
    fake_host_destroy(fh);
    fake_host_destroy(NULL);
}

static void
test_minimal_alerts(void **statep)
{
    struct fake_host *fh = fake_host_create("detector", "minimal",
                                            minimal_conf);
    struct vnm_flow small = make_flow(1, 100);
    struct vnm_flow big = make_flow(2, 101);
    const struct fake_alert *a;
    char *error;
    void *state = NULL;

    assert_non_null(fh->conf);
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), 0);
    assert_non_null(state);
    assert_string_equal(fh->log,
                        "INFO|threshold 100 bytes, label \"east side\"\n");
    error = fake_host_check_unused(fh);
    assert_null(error);

    /* At the threshold: nothing; above it: one alert. */
    vnm_plugin.detector->on_flow(state, &small);
    assert_int_equal(fh->n_alerts, 0);
    vnm_plugin.detector->on_flow(state, &big);
    assert_int_equal(fh->n_alerts, 1);

    /* The plugin built the alert's strings on its stack: the fake host
     * must have copied them. */
    a = &fh->alerts[0];
    assert_string_equal(a->kind, "big-flow");
    assert_int_equal(a->severity, VNM_SEV_LOW);
    assert_string_equal(a->key, "flow-2");
    assert_string_equal(a->summary, "east side: flow 2 carried 101 bytes "
                        "(threshold 100)");
    assert_true(a->has_flow);
    assert_int_equal(a->flow_id, 2);
    assert_int_equal(a->packets, 3);
    assert_int_equal(a->bytes, 101);
    assert_false(a->has_vm);
    assert_null(a->target);

    vnm_plugin.detector->on_tick(state, 1000);
    assert_int_equal(fake_host_counter(fh, "flows"), 2);
    assert_int_equal(fake_host_counter(fh, "alerts"), 1);
    assert_int_equal(fake_host_counter(fh, "ticks"), 1);

    /* A host that cannot take the alert: the plugin does not count it. */
    fh->emit_error = EAGAIN;
    vnm_plugin.detector->on_flow(state, &big);
    assert_int_equal(fh->n_alerts, 1);
    assert_int_equal(fake_host_counter(fh, "flows"), 3);
    assert_int_equal(fake_host_counter(fh, "alerts"), 1);

    fake_host_clear(fh);
    assert_int_equal(fh->n_alerts, 0);
    vnm_plugin.destroy(state);
    assert_string_equal(fh->log, "INFO|destroyed after 3 flows\n");
    fake_host_destroy(fh);
}

static void
test_minimal_defaults(void **statep)
{
    struct fake_host *fh = fake_host_create("detector", "minimal", NULL);
    struct vnm_flow flow = make_flow(7, 1001);
    void *state = NULL;

    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), 0);
    assert_true(fake_host_log_contains(fh, "INFO|threshold 1000 bytes, "
                                       "label \"minimal\"\n"));
    vnm_plugin.detector->on_flow(state, &flow);
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].summary, "minimal: flow 7 carried "
                        "1001 bytes (threshold 1000)");
    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
}

static void
test_minimal_bad_threshold(void **statep)
{
    struct fake_host *fh = fake_host_create("detector", "minimal",
                                            "[detector \"minimal\"]\n"
                                            "label = x\n"
                                            "threshold = lots\n");
    void *state = NULL;

    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), EINVAL);
    assert_null(state);
    assert_string_equal(fh->conf_error,
                        "test.conf:3: threshold: \"lots\" is not an integer");
    assert_string_equal(fh->log, "ERR|test.conf:3: threshold: \"lots\" is "
                        "not an integer\n");
    fake_host_destroy(fh);
}

static void
test_minimal_unknown_key(void **statep)
{
    struct fake_host *fh = fake_host_create("detector", "minimal",
                                            "[detector \"minimal\"]\n"
                                            "threshold = 5\n"
                                            "treshold = 6\n");
    void *state = NULL;
    char *error;

    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), 0);
    error = fake_host_check_unused(fh);
    assert_non_null(error);
    assert_string_equal(error, "test.conf:3: treshold: unknown key in "
                        "[detector \"minimal\"]");
    free(error);
    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_host_table),
        cmocka_unit_test(test_minimal_alerts),
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_minimal_bad_threshold),
        cmocka_unit_test(test_minimal_unknown_key),
    };

    return cmocka_run_group_tests_name("fake-host", tests, NULL, NULL);
}

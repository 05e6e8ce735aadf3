/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "volume" detector: analyzer/detect-volume.c is
 * compiled into this binary and driven through its 'vnm_plugin' descriptor
 * on the fake host (tests/unit/fake-host.c), with synthetic flow records
 * and the fake clock standing for weeks of traffic.
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/unit/fake-host.h"
#include "vnmon/plugin.h"

/* 2024-05-06T00:00:00Z, a Monday: hour-of-week slot 0. */
#define MONDAY UINT64_C(1714953600000)
#define MINUTE UINT64_C(60000)
#define HOUR (60 * MINUTE)

static const struct vnm_attribution t1vm1 = {
    .port = "t1vm1",
    .ofport = 3,
    .vm = "vm-t1vm1",
    .tenant = "tenant1",
};

static const struct vnm_attribution t1vm2 = {
    .port = "t1vm2",
    .ofport = 4,
    .vm = "vm-t1vm2",
    .tenant = "tenant1",
};

/* A flow from t1vm1 to an external peer that sent 'bytes' (in 1000-byte
 * packets) and got 'back' bytes, ended at 'ms'. */
static struct vnm_flow
upload(uint64_t id, uint64_t bytes, uint64_t back, uint64_t ms)
{
    struct vnm_flow flow;

    memset(&flow, 0, sizeof flow);
    snprintf(flow.host, sizeof flow.host, "hv1");
    flow.id = id;
    flow.first_ms = ms - 100;
    flow.last_ms = ms;
    flow.event = VNM_FLOW_END_TCP;
    flow.class = VNM_FLOW_VM_EXTERNAL;
    flow.eth_type = 0x0800;
    flow.ip_proto = 6;
    flow.src.ip = (struct vnm_addr) { .family = 4, .a = { 10, 0, 0, 11 } };
    flow.src.port = 40000;
    flow.src.packets = (bytes + 999) / 1000;
    flow.src.bytes = bytes;
    flow.src.in = t1vm1;
    flow.dst.ip = (struct vnm_addr) { .family = 4, .a = { 198, 51, 100, 7 } };
    flow.dst.port = 443;
    flow.dst.packets = (back + 999) / 1000;
    flow.dst.bytes = back;
    snprintf(flow.dst.in.port, sizeof flow.dst.in.port, "eth1");
    flow.dst.in.ofport = 1;
    return flow;
}

static struct fake_host *
volume_start(const char *keys, uint64_t now, void **statep)
{
    char text[512];
    struct fake_host *fh;

    snprintf(text, sizeof text, "[detector \"volume\"]\n%s", keys);
    fh = fake_host_create("detector", "volume", text);
    fh->now_ms = now;
    *statep = NULL;
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, statep), 0);
    assert_null(fake_host_check_unused(fh));
    return fh;
}

static void
volume_stop(struct fake_host *fh, void *state)
{
    vnm_plugin.destroy(state);
    assert_string_equal(fh->log, "");
    fake_host_destroy(fh);
}

static void
feed(struct fake_host *fh, void *state, const struct vnm_flow *flow,
     uint64_t now)
{
    fh->now_ms = now;
    vnm_plugin.detector->on_flow(state, flow);
}

static void
tick(struct fake_host *fh, void *state, uint64_t now)
{
    fh->now_ms = now;
    vnm_plugin.detector->on_tick(state, now);
}

static void
test_descriptor(void **statep)
{
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
    assert_string_equal(vnm_plugin.name, "volume");
    assert_non_null(vnm_plugin.detector->on_tick);
}

/* 100 kB a minute for 20 minutes, then 5 MB in a minute: one "volume"
 * incident for t1vm1's "tx" (over max(1 MB, 10 x 100 kB)), raised as
 * soon as the minute passes 1 MB, then updated; nothing for "rx", which
 * stays low. */
static void
test_burst(void **statep)
{
    const struct fake_alert *a;
    uint64_t id = 1, packets = 0, bytes = 0;
    struct fake_host *fh;
    void *state;

    fh = volume_start("warmup = 10\nmin_bytes = 1000000\n",
                      MONDAY + 10 * HOUR, &state);
    for (int m = 0; m < 20; m++) {
        uint64_t t = MONDAY + 10 * HOUR + m * MINUTE;
        uint64_t size = 100000;

        for (int s = 10; s <= 60; s += 10) {
            struct vnm_flow flow = upload(id++, size / 6, 1000,
                                          t + s * 1000 - 500);

            feed(fh, state, &flow, t + s * 1000 - 500);
            tick(fh, state, t + s * 1000);
        }
    }
    assert_int_equal(fh->n_alerts, 0);

    /* The 21st minute: 50 records of 100 kB, one a second. */
    for (int s = 1; s <= 50; s++) {
        uint64_t t = MONDAY + 10 * HOUR + 20 * MINUTE + s * 1000;
        struct vnm_flow flow = upload(id++, 100000, 1000, t - 500);

        feed(fh, state, &flow, t - 500);
        tick(fh, state, t);
        if (s == 10) {
            assert_int_equal(fh->n_alerts, 0);        /* 1.0 MB. */
        } else if (s == 11) {
            assert_int_equal(fh->n_alerts, 1);        /* 1.1 MB. */
        }
    }
    tick(fh, state, MONDAY + 10 * HOUR + 22 * MINUTE);
    a = &fh->alerts[0];
    assert_string_equal(a->kind, "volume");
    assert_int_equal(a->severity, VNM_SEV_MEDIUM);
    assert_string_equal(a->key, "hv1/t1vm1>tx");
    assert_string_equal(a->target, "tx");
    assert_true(a->has_vm);
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_string_equal(a->summary, "t1vm1 (10.0.0.11) sent 1.1 MB in its "
                        "current 60 s interval, over its threshold of "
                        "1.0 MB (baseline 100.0 kB, global, hour 10 of the "
                        "week)");
    assert_int_equal(a->bytes, 1100000);        /* The minute so far. */
    assert_int_equal(a->n_evidence, 2);
    for (size_t i = 0; i < fh->n_alerts; i++) {
        assert_string_equal(fh->alerts[i].key, "hv1/t1vm1>tx");
        packets += fh->alerts[i].packets;
        bytes += fh->alerts[i].bytes;
    }
    assert_int_equal(bytes, 5000000);          /* The whole minute. */
    assert_int_equal(packets, 5000);
    assert_true(fh->n_alerts >= 30 && fh->n_alerts <= 41);
    assert_int_equal(fake_host_counter(fh, "raised_intervals"), 1);
    volume_stop(fh, state);
}

/* Nothing is raised while a VM warms up, whatever it sends. */
static void
test_warmup(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = volume_start("warmup = 10\nmin_bytes = 1000000\n", MONDAY, &state);
    for (int m = 0; m < 10; m++) {
        struct vnm_flow flow = upload(m + 1, 50000000, 0,
                                      MONDAY + m * MINUTE + 1000);

        feed(fh, state, &flow, MONDAY + m * MINUTE + 1000);
        tick(fh, state, MONDAY + (m + 1) * MINUTE);
    }
    assert_int_equal(fh->n_alerts, 0);
    volume_stop(fh, state);
}

/* A burst received by a VM is its "rx"; a VM-to-VM flow counts for both
 * VMs, each its own direction. */
static void
test_directions(void **statep)
{
    struct vnm_flow flow = upload(1, 500, 500, MONDAY + 1000);
    struct fake_host *fh;
    void *state;

    fh = volume_start("warmup = 2\nmin_bytes = 1000\ninterval = 10s\n",
                      MONDAY, &state);
    flow.class = VNM_FLOW_VM_VM_SAME_TENANT;
    flow.dst.in = t1vm2;
    feed(fh, state, &flow, MONDAY + 1000);
    for (int i = 1; i <= 3; i++) {
        tick(fh, state, MONDAY + 10000 * i);
    }
    flow.id = 2;
    flow.src.bytes = 500;
    flow.dst.bytes = 500000;
    feed(fh, state, &flow, MONDAY + 35000);
    assert_int_equal(fh->n_alerts, 2);
    assert_string_equal(fh->alerts[0].key, "hv1/t1vm1>rx");
    assert_int_equal(fh->alerts[0].bytes, 500000);
    assert_non_null(strstr(fh->alerts[0].summary, "t1vm1 (10.0.0.11) "
                           "received 500.0 kB in its current 10 s"));
    assert_string_equal(fh->alerts[1].key, "hv1/t1vm2>tx");
    assert_string_equal(fh->alerts[1].vm.port, "t1vm2");
    assert_int_equal(fh->alerts[1].bytes, 500000);
    assert_non_null(strstr(fh->alerts[1].summary, "t1vm2 (198.51.100.7) "
                           "sent 500.0 kB"));
    volume_stop(fh, state);
}

/* Seasonality: a nightly 1 GB backup at 02h.  The first nights it raises
 * alerts; once the 02h slots know it (a few weeks, since alerting hours
 * are learned clipped) it raises none, while the same backup at 14h still
 * does. */
static void
test_seasonality(void **statep)
{
    const uint64_t backup = 1000000000;
    uint64_t id = 1;
    size_t per_week[5];
    struct fake_host *fh;
    void *state;

    fh = volume_start("interval = 1h\nwarmup = 24\nslot_samples = 1\n"
                      "min_bytes = 10000000\n", MONDAY, &state);
    for (int week = 0; week < 5; week++) {
        size_t before = fh->n_alerts;

        for (int h = 0; h < 168; h++) {
            uint64_t t = MONDAY + (uint64_t) (168 * week + h) * HOUR;
            struct vnm_flow flow = upload(id++, h % 24 == 2 ? backup : 1000,
                                          100, t + 30 * MINUTE);

            feed(fh, state, &flow, t + 30 * MINUTE);
            tick(fh, state, t + HOUR);
        }
        per_week[week] = fh->n_alerts - before;
    }
    assert_int_equal(per_week[0], 6);   /* Not the first night: warm-up. */
    assert_int_equal(per_week[4], 0);
    for (int week = 1; week < 5; week++) {
        assert_true(per_week[week] <= per_week[week - 1]);
    }

    {
        uint64_t t = MONDAY + 5 * 168 * HOUR + 14 * HOUR;
        struct vnm_flow flow = upload(id++, backup, 100, t + 10 * MINUTE);
        size_t before = fh->n_alerts;

        tick(fh, state, t);
        feed(fh, state, &flow, t + 10 * MINUTE);
        assert_int_equal(fh->n_alerts, before + 1);
        assert_non_null(strstr(fh->alerts[before].summary,
                               "hour-of-week, hour 14 of the week"));
    }
    volume_stop(fh, state);
}

/* A VM port that is not a VM's (an uplink) is not tracked; many VMs stay
 * bounded by max_vms. */
static void
test_bounded(void **statep)
{
    struct fake_host *fh;
    void *state;

    fh = volume_start("max_vms = 8\nwarmup = 0\nmin_bytes = 0\n", MONDAY,
                      &state);
    for (int i = 0; i < 100; i++) {
        struct vnm_flow flow = upload(i + 1, 1000, 0, MONDAY + i);

        snprintf(flow.src.in.port, sizeof flow.src.in.port, "vm%d", i);
        feed(fh, state, &flow, MONDAY + i);
    }
    assert_int_equal(fake_host_counter(fh, "vms_evicted"), 92);
    {
        struct vnm_flow flow = upload(1000, 1000, 0, MONDAY + 200);

        memset(&flow.src.in, 0, sizeof flow.src.in);
        snprintf(flow.src.in.port, sizeof flow.src.in.port, "eth0");
        fake_host_clear(fh);
        feed(fh, state, &flow, MONDAY + 200);
        assert_int_equal(fh->n_alerts, 0);
    }
    volume_stop(fh, state);
}

/* Invalid keys fail init(). */
static void
test_config_errors(void **statep)
{
    static const struct {
        const char *keys;
        const char *log;
    } cases[] = {
        { "interval = 10ms\n", "ERR|test.conf:2: interval: " },
        { "factor = 0.5\n", "ERR|test.conf:2: factor: " },
        { "min_bytes = -1\n", "ERR|test.conf:2: min_bytes: " },
        { "slot_alpha = 2\n", "ERR|test.conf:2: slot_alpha: " },
        { "severity = x\n", "ERR|severity: \"x\" is not one of " },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fake_host *fh;
        void *state = NULL;
        char text[128];

        snprintf(text, sizeof text, "[detector \"volume\"]\n%s",
                 cases[i].keys);
        fh = fake_host_create("detector", "volume", text);
        assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state),
                         EINVAL);
        assert_null(state);
        if (strncmp(fh->log, cases[i].log, strlen(cases[i].log))) {
            fail_msg("case %zu: log is \"%s\"", i, fh->log);
        }
        fake_host_destroy(fh);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_burst),
        cmocka_unit_test(test_warmup),
        cmocka_unit_test(test_directions),
        cmocka_unit_test(test_seasonality),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

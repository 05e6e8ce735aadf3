/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of vnmonctl's bandwidth series reader (tools/ctl-series.c),
 * its pure part: resolution choice, quantiles (exact, and from histograms
 * with the implied zeros), statistics over 1-s and rollup bins (totals,
 * mean over recorded seconds, peak and its time, p95, busiest hour,
 * utilisation), gaps in JSON, and the merge of live views.  The Redis
 * side is exercised by tests/system/test-ctl-views.sh.
 */
#include <config.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/bw-series.h"
#include "lib/util.h"
#include "tools/ctl-series.h"

/* An hour that starts on an hour boundary. */
#define T0 1700006400ULL

static void
test_auto_res(void **state)
{
    uint64_t now = T0 + 10 * 86400;
    const uint64_t ret[BW_N_RES] = { 7200, 86400, 400 * 86400 };

    (void) state;
    assert_int_equal(ctl_auto_res(now, now - 60, NULL), BW_RES_S);
    assert_int_equal(ctl_auto_res(now, now - 3600, NULL), BW_RES_S);
    assert_int_equal(ctl_auto_res(now, now - 3601, NULL), BW_RES_M);
    assert_int_equal(ctl_auto_res(now, now - 7 * 86400, NULL), BW_RES_M);
    assert_int_equal(ctl_auto_res(now, now - 7 * 86400 - 1, NULL),
                     BW_RES_H);
    assert_int_equal(ctl_auto_res(now, now - 30 * 86400ULL, NULL),
                     BW_RES_H);
    /* Configured retentions. */
    assert_int_equal(ctl_auto_res(now, now - 7200, ret), BW_RES_S);
    assert_int_equal(ctl_auto_res(now, now - 7201, ret), BW_RES_M);
    assert_int_equal(ctl_auto_res(now, now - 86401, ret), BW_RES_H);
}

static void
test_quantile_exact(void **state)
{
    uint64_t v[100];

    (void) state;
    /* Shuffled 1..100: nearest rank p95 is 95. */
    for (int i = 0; i < 100; i++) {
        v[i] = (uint64_t) ((i * 37) % 100 + 1);
    }
    assert_int_equal(ctl_quantile_u64(v, 100, 0.95), 95);
    assert_int_equal(ctl_quantile_u64(v, 100, 1.0), 100);
    assert_int_equal(ctl_quantile_u64(v, 100, 0.0), 1);
    assert_int_equal(ctl_quantile_u64(v, 0, 0.95), 0);
    v[0] = 7;
    assert_int_equal(ctl_quantile_u64(v, 1, 0.95), 7);
}

static void
test_quantile_zeros(void **state)
{
    struct bw_hist h = { 0 };
    unsigned int b = bw_hist_bucket(1000);
    double v;

    (void) state;
    /* 10 seconds of 1000 bytes. */
    bw_hist_add(&h, b, 10);
    /* Alone: p95 is 1000 within the bucket error. */
    v = bw_hist_quantile_zeros(&h, 0, 0.95);
    assert_true(fabs(v - 1000) / 1000 < 0.044);
    /* With 90 implied zeros, rank 95 of 100 falls in the 1000s. */
    v = bw_hist_quantile_zeros(&h, 90, 0.95);
    assert_true(fabs(v - 1000) / 1000 < 0.044);
    /* With 200 zeros (rank 200 of 210), p95 is 0. */
    assert_true(bw_hist_quantile_zeros(&h, 200, 0.95) == 0.0);
    /* With 189 (rank 189.05 -> 190 of 199 is past the zeros). */
    assert_true(bw_hist_quantile_zeros(&h, 189, 0.95) > 0.0);
    /* Empty. */
    bw_hist_clear(&h);
    assert_true(bw_hist_quantile_zeros(&h, 0, 0.95) == 0.0);
    assert_true(bw_hist_quantile_zeros(&h, 5, 0.95) == 0.0);
    free(h.bucket);
    free(h.count);
}

/* The synthetic hour: a steady 125000 B/s (1 Mbit/s) tx and 25000 B/s rx
 * with 100 and 50 packets, one burst second at 4x (tx 500000, 400
 * packets), 30 recorded seconds without traffic, and a gap of 10 seconds
 * (not recorded). */
#define STEADY_TX 125000
#define STEADY_RX 25000
#define BURST_AT 1800
#define IDLE_FROM 100           /* [100, 130) recorded, no traffic. */
#define GAP_FROM 200            /* [200, 210) not recorded. */

static bool
synthetic_second(unsigned int i, struct bw_bin *b, bool *recorded)
{
    bw_bin_init(b);
    *recorded = !(i >= GAP_FROM && i < GAP_FROM + 10);
    if (!*recorded || (i >= IDLE_FROM && i < IDLE_FROM + 30)) {
        return false;
    }
    b->tx_bytes = i == BURST_AT ? 4 * STEADY_TX : STEADY_TX;
    b->tx_packets = i == BURST_AT ? 400 : 100;
    b->rx_bytes = STEADY_RX;
    b->rx_packets = 50;
    return true;
}

static struct ctl_series *
synthetic_s(void)
{
    struct ctl_series *s = ctl_series_create(BW_RES_S, T0, T0 + 3600);

    assert_int_equal(s->n_bins, 3600);
    for (unsigned int i = 0; i < 3600; i++) {
        bool recorded;

        assert_int_equal(s->bins[i].time, T0 + i);
        synthetic_second(i, &s->bins[i].bw, &recorded);
        s->bins[i].recorded = recorded;
    }
    return s;
}

/* The same hour as 1-min rollups, folded as the agent does. */
static struct ctl_series *
synthetic_m(void)
{
    struct ctl_series *s = ctl_series_create(BW_RES_M, T0, T0 + 3600);

    assert_int_equal(s->n_bins, 60);
    for (unsigned int i = 0; i < 3600; i++) {
        struct bw_bin b;
        bool recorded;

        if (synthetic_second(i, &b, &recorded)) {
            bw_bin_fold_second(&s->bins[i / 60].bw, &b);
        }
        s->bins[i / 60].recorded += recorded;
        bw_bin_uninit(&b);
    }
    return s;
}

static void
test_stats_s(void **state)
{
    struct ctl_series *s = synthetic_s();
    struct ctl_stats st;
    uint64_t n_traffic = 3600 - 10 - 30;
    uint64_t tx = (n_traffic - 1) * STEADY_TX + 4 * STEADY_TX;

    (void) state;
    ctl_series_stats(s, 10000000, &st);
    assert_int_equal(st.recorded, 3590);
    assert_int_equal(st.tx.bytes, tx);
    assert_int_equal(st.rx.bytes, n_traffic * STEADY_RX);
    assert_int_equal(st.tx.packets, (n_traffic - 1) * 100 + 400);
    assert_true(fabs(st.tx.mean - (double) tx / 3590) < 1e-6);
    assert_int_equal(st.tx.peak, 4 * STEADY_TX);
    assert_int_equal(st.tx.peak_time, T0 + BURST_AT);
    assert_int_equal(st.tx.peak_precision, 1);
    assert_int_equal(st.tx.peak_packets, 400);
    assert_int_equal(st.rx.peak, STEADY_RX);
    assert_int_equal(st.rx.peak_time, T0);  /* First of equals. */
    assert_true(st.tx.p95 == STEADY_TX);
    assert_true(st.tx.p95_exact);
    assert_int_equal(st.busiest_hour, T0);
    assert_int_equal(st.busiest_hour_tx, tx);
    /* 500000 B/s = 4 Mbit/s of a 10 Mbit/s link. */
    assert_true(fabs(st.peak_util - 0.4) < 1e-9);
    assert_true(fabs(st.p95_util - 0.1) < 1e-9);
    assert_false(st.approximate);

    /* Unknown link speed. */
    ctl_series_stats(s, 0, &st);
    assert_true(st.peak_util < 0 && st.p95_util < 0);
    ctl_series_destroy(s);
}

static void
test_stats_m(void **state)
{
    struct ctl_series *s = synthetic_m(), *e = synthetic_s();
    struct ctl_stats st, exact;

    (void) state;
    ctl_series_stats(s, 10000000, &st);
    ctl_series_stats(e, 10000000, &exact);
    assert_int_equal(st.recorded, exact.recorded);
    assert_int_equal(st.tx.bytes, exact.tx.bytes);
    assert_int_equal(st.rx.packets, exact.rx.packets);
    assert_true(fabs(st.tx.mean - exact.tx.mean) < 1e-6);
    /* The peak value is exact (max field), its time the minute. */
    assert_int_equal(st.tx.peak, 4 * STEADY_TX);
    assert_int_equal(st.tx.peak_time, T0 + BURST_AT / 60 * 60);
    assert_int_equal(st.tx.peak_precision, 60);
    /* p95 from histograms, zeros added for the 30 idle seconds. */
    assert_false(st.tx.p95_exact);
    assert_true(fabs(st.tx.p95 - STEADY_TX) / STEADY_TX < 0.044);
    assert_true(fabs(st.rx.p95 - STEADY_RX) / STEADY_RX < 0.044);
    assert_true(fabs(st.peak_util - 0.4) < 1e-9);
    ctl_series_destroy(s);
    ctl_series_destroy(e);
}

/* p95 of a mostly idle entity: the implied zeros must win. */
static void
test_stats_m_idle(void **state)
{
    struct ctl_series *s = ctl_series_create(BW_RES_M, T0, T0 + 600);
    struct ctl_series *e = ctl_series_create(BW_RES_S, T0, T0 + 600);
    struct ctl_stats st, exact;

    (void) state;
    /* 20 busy seconds in 600 recorded: p95 (rank 570) is 0. */
    for (unsigned int i = 0; i < 600; i++) {
        struct bw_bin b;

        bw_bin_init(&b);
        if (i % 30 == 0) {
            b.tx_bytes = 1000000;
            b.tx_packets = 700;
            bw_bin_fold_second(&s->bins[i / 60].bw, &b);
            e->bins[i].bw = b;
        }
        s->bins[i / 60].recorded++;
        e->bins[i].recorded = 1;
    }
    ctl_series_stats(s, 0, &st);
    ctl_series_stats(e, 0, &exact);
    assert_true(exact.tx.p95 == 0.0);
    assert_true(st.tx.p95 == 0.0);
    assert_int_equal(st.tx.peak, 1000000);
    assert_int_equal(exact.tx.peak_time, T0);
    ctl_series_destroy(s);
    ctl_series_destroy(e);
}

/* A steady 1024 B/s: its bucket's midpoint (1069) is above the exact
 * peak, which bounds the p95. */
static void
test_p95_bounded_by_peak(void **state)
{
    struct ctl_series *s = ctl_series_create(BW_RES_M, T0, T0 + 60);
    struct ctl_stats st;

    (void) state;
    assert_true(bw_hist_value(bw_hist_bucket(1024)) > 1024);
    for (int i = 0; i < 60; i++) {
        struct bw_bin b;

        bw_bin_init(&b);
        b.tx_bytes = 1024;
        b.rx_bytes = 1000;
        bw_bin_fold_second(&s->bins[0].bw, &b);
        bw_bin_uninit(&b);
    }
    s->bins[0].recorded = 60;
    ctl_series_stats(s, 0, &st);
    assert_true(st.tx.p95 == 1024.0);
    assert_true(st.rx.p95 < 1000.0 && st.rx.p95 > 1000.0 * (1 - 0.044));
    ctl_series_destroy(s);
}

static void
test_busiest_hour(void **state)
{
    struct ctl_series *s = ctl_series_create(BW_RES_H, T0, T0 + 3 * 3600);
    struct ctl_stats st;

    (void) state;
    for (int i = 0; i < 3; i++) {
        s->bins[i].recorded = 3600;
        s->bins[i].bw.n = 3600;
        s->bins[i].bw.tx_bytes = 1000;
        s->bins[i].bw.rx_bytes = i == 1 ? 5000 : 10;
        s->bins[i].bw.tx_max_bytes = i == 2 ? 900 : 100;
    }
    ctl_series_stats(s, 0, &st);
    assert_int_equal(st.busiest_hour, T0 + 3600);
    assert_int_equal(st.busiest_hour_tx, 1000);
    assert_int_equal(st.busiest_hour_rx, 5000);
    assert_int_equal(st.tx.peak, 900);
    assert_int_equal(st.tx.peak_time, T0 + 7200);
    assert_int_equal(st.tx.peak_precision, 3600);
    assert_int_equal(st.recorded, 3 * 3600);
    ctl_series_destroy(s);
}

/* A range not aligned to the hour: bins align, hours are clock hours. */
static void
test_alignment(void **state)
{
    struct ctl_series *s = ctl_series_create(BW_RES_M, T0 + 1830,
                                              T0 + 3600 + 90);
    struct ctl_stats st;

    (void) state;
    assert_int_equal(s->from, T0 + 1800);
    assert_int_equal(s->to, T0 + 3600 + 120);
    assert_int_equal(s->n_bins, 32);
    s->bins[31].recorded = 60;
    s->bins[31].bw.tx_bytes = 60;
    s->bins[31].bw.n = 60;
    ctl_series_stats(s, 0, &st);
    assert_int_equal(st.busiest_hour, T0 + 3600);
    ctl_series_destroy(s);
}

static void
test_json_gap(void **state)
{
    struct ctl_series *s = ctl_series_create(BW_RES_S, T0, T0 + 3);
    json_t *j, *b;

    (void) state;
    s->bins[0].recorded = 1;
    s->bins[0].bw.tx_bytes = 5;
    s->bins[1].recorded = 1;    /* A recorded zero. */
    s->bins[2].gap_reason = "redis";
    j = ctl_series_to_json(s);
    assert_int_equal(json_array_size(j), 3);
    b = json_array_get(j, 0);
    assert_int_equal(json_integer_value(json_object_get(b, "tx_bytes")), 5);
    assert_null(json_object_get(b, "gap"));
    b = json_array_get(j, 1);
    assert_int_equal(json_integer_value(json_object_get(b, "tx_bytes")), 0);
    assert_null(json_object_get(b, "gap"));
    b = json_array_get(j, 2);
    assert_true(json_is_true(json_object_get(b, "gap")));
    assert_string_equal(json_string_value(json_object_get(b, "reason")),
                        "redis");
    assert_null(json_object_get(b, "tx_bytes"));
    json_decref(j);
    s->bins[2].gap_reason = NULL;
    ctl_series_destroy(s);
}

static void
test_format(void **state)
{
    char buf[32];

    (void) state;
    ctl_format_rate(125000, buf, sizeof buf);
    assert_string_equal(buf, "1.00 Mbit/s");
    ctl_format_rate(62.5, buf, sizeof buf);
    assert_string_equal(buf, "500 bit/s");
    ctl_format_rate(1250000000, buf, sizeof buf);
    assert_string_equal(buf, "10.0 Gbit/s");
    ctl_format_bytes(1234567, buf, sizeof buf);
    assert_string_equal(buf, "1.23 MB");
    ctl_format_utc(T0 + 3661, buf, sizeof buf);
    assert_string_equal(buf, "2023-11-15 01:01:01");
}

static json_t *
live(const char *host, long long t, const char *extra_vm)
{
    json_t *j = json_pack(
        "{s:s, s:I, s:{s:I, s:I, s:I, s:I},"
        " s:[{s:s, s:s, s:I, s:I, s:I, s:I}],"
        " s:[{s:s, s:I, s:I, s:I, s:I}],"
        " s:[{s:s, s:I, s:I, s:I, s:I}],"
        " s:[{s:s, s:s, s:I, s:I, s:I, s:I}],"
        " s:[{s:s, s:s, s:I, s:I}]}",
        "host", host, "time", (json_int_t) t,
        "total", "tx_bytes", (json_int_t) 1000, "tx_packets",
        (json_int_t) 10, "rx_bytes", (json_int_t) 500, "rx_packets",
        (json_int_t) 5,
        "vms", "vm", "vm-a", "tenant", "t1", "tx_bytes", (json_int_t) 100,
        "tx_packets", (json_int_t) 1, "rx_bytes", (json_int_t) 50,
        "rx_packets", (json_int_t) 1,
        "tenants", "tenant", "t1", "tx_bytes", (json_int_t) 100,
        "tx_packets", (json_int_t) 1, "rx_bytes", (json_int_t) 50,
        "rx_packets", (json_int_t) 1,
        "apps", "app", "HTTP", "tx_bytes", (json_int_t) 70,
        "tx_packets", (json_int_t) 1, "rx_bytes", (json_int_t) 0,
        "rx_packets", (json_int_t) 0,
        "ports", "port", "eth0", "kind", "uplink", "tx_bytes",
        (json_int_t) 10, "tx_packets", (json_int_t) 1, "rx_bytes",
        (json_int_t) 0, "rx_packets", (json_int_t) 0,
        "pairs", "src", "vm:vm-a", "dst", "ip:192.0.2.1", "bytes",
        (json_int_t) 100, "packets", (json_int_t) 1);

    if (extra_vm) {
        json_array_append_new(
            json_object_get(j, "vms"),
            json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "vm", extra_vm,
                      "tenant", "t2", "tx_bytes", (json_int_t) 400,
                      "tx_packets", (json_int_t) 4, "rx_bytes",
                      (json_int_t) 0, "rx_packets", (json_int_t) 0));
    }
    return j;
}

static void
test_live_merge(void **state)
{
    json_t *lives[2] = { live("hv1", T0, NULL), live("hv2", T0 + 1, "vm-b") };
    json_t *m, *vms, *ports;

    (void) state;
    m = ctl_live_merge(lives, 2, 10);
    assert_int_equal(json_integer_value(json_object_get(m, "time")), T0 + 1);
    assert_int_equal(json_array_size(json_object_get(m, "hosts")), 2);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(m, "total"), "tx_bytes")), 2000);
    vms = json_object_get(m, "vms");
    assert_int_equal(json_array_size(vms), 2);
    /* vm-b (400) is below the merged vm-a (200 + 100). */
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(vms, 0), "vm")), "vm-b");
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(vms, 1), "tx_bytes")), 200);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(vms, 1), "rx_bytes")), 100);
    /* Ports are per host: two eth0 rows. */
    ports = json_object_get(m, "ports");
    assert_int_equal(json_array_size(ports), 2);
    assert_non_null(json_object_get(json_array_get(ports, 0), "host"));
    /* Pairs summed. */
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(m, "pairs"), 0),
                         "bytes")), 200);
    json_decref(m);

    /* Cut to the top 1. */
    m = ctl_live_merge(lives, 2, 1);
    assert_int_equal(json_array_size(json_object_get(m, "vms")), 1);
    json_decref(m);

    /* Nothing. */
    m = ctl_live_merge(NULL, 0, 10);
    assert_int_equal(json_array_size(json_object_get(m, "vms")), 0);
    assert_int_equal(json_integer_value(json_object_get(m, "time")), 0);
    json_decref(m);
    json_decref(lives[0]);
    json_decref(lives[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_res),
        cmocka_unit_test(test_quantile_exact),
        cmocka_unit_test(test_quantile_zeros),
        cmocka_unit_test(test_stats_s),
        cmocka_unit_test(test_stats_m),
        cmocka_unit_test(test_stats_m_idle),
        cmocka_unit_test(test_p95_bounded_by_peak),
        cmocka_unit_test(test_busiest_hour),
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_json_gap),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_live_merge),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

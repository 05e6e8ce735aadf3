/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the HTML report's drawing (tools/svg.c) and assembly
 * (tools/report-html.c) on synthetic data: escaping of names (markup and
 * malformed UTF-8), the value axis's "nice" scale, SI formatting, the
 * points of a chart of known data (svg.h's geometry), gaps breaking lines,
 * time ticks, bar lengths, and a whole report that is one self-contained
 * document: every name escaped, no URL, every chart present.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tools/report-html.h"
#include "tools/svg.h"

/* A memory stream and what was written to it. */
struct mem {
    FILE *f;
    char *buf;
    size_t size;
};

static void
mem_open(struct mem *m)
{
    m->buf = NULL;
    m->size = 0;
    m->f = open_memstream(&m->buf, &m->size);
    assert_non_null(m->f);
}

/* Closes the stream; m->buf holds the text (free it). */
static void
mem_close(struct mem *m)
{
    assert_int_equal(fclose(m->f), 0);
}

/* Occurrences of 'needle' in 'hay'. */
static size_t
count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(hay, needle); p;
         p = strstr(p + strlen(needle), needle)) {
        n++;
    }
    return n;
}

static char *
escape(const char *s)
{
    struct mem m;

    mem_open(&m);
    svg_escape(m.f, s);
    mem_close(&m);
    return m.buf;
}

static void
assert_escape(const char *in, const char *out)
{
    char *got = escape(in);

    assert_string_equal(got, out);
    free(got);
}

static void
test_escape(void **state)
{
    (void) state;
    assert_escape("", "");
    assert_escape("plain vm-1", "plain vm-1");
    assert_escape("<script>alert('x')</script>",
                  "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    assert_escape("a&b \"q\"", "a&amp;b &quot;q&quot;");
    /* Well-formed UTF-8 passes: e acute, euro sign, an emoji. */
    assert_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* Malformed: a lone byte, a truncated sequence, an overlong '/', a
     * UTF-16 surrogate, past U+10FFFF; and control characters. */
    assert_escape("a\xff" "b", "a&#xfffd;b");
    assert_escape("\xe2\x82", "&#xfffd;&#xfffd;");
    assert_escape("\xc0\xaf", "&#xfffd;&#xfffd;");
    assert_escape("\xed\xa0\x80", "&#xfffd;&#xfffd;&#xfffd;");
    assert_escape("\xf4\x90\x80\x80",
                  "&#xfffd;&#xfffd;&#xfffd;&#xfffd;");
    assert_escape("x\x01y\x7f\tz\n", "x&#xfffd;y&#xfffd;\tz\n");
}

static void
assert_scale(double max, int ticks, double want_max, double want_step,
             int want_n)
{
    struct svg_scale s;

    svg_nice_scale(max, ticks, &s);
    assert_true(fabs(s.max - want_max) <= 1e-9 * want_max);
    assert_true(fabs(s.step - want_step) <= 1e-9 * want_step);
    assert_int_equal(s.n_ticks, want_n);
    assert_true(s.max >= max);
}

static void
test_nice_scale(void **state)
{
    (void) state;
    assert_scale(100, 5, 100, 20, 5);
    assert_scale(101, 5, 150, 50, 3);
    assert_scale(7.3e6, 5, 8e6, 2e6, 4);
    assert_scale(1, 5, 1, 0.2, 5);
    assert_scale(0.003, 5, 0.003, 0.001, 3);
    assert_scale(9.99e9, 5, 1e10, 2e9, 5);
    /* No data: 0..1. */
    assert_scale(0, 5, 1, 1, 1);
    assert_scale(-3, 5, 1, 1, 1);
}

static void
test_format(void **state)
{
    char buf[64];

    (void) state;
    assert_string_equal(svg_format_si(0, "bit/s", buf, sizeof buf),
                        "0 bit/s");
    assert_string_equal(svg_format_si(950, "bit/s", buf, sizeof buf),
                        "950 bit/s");
    assert_string_equal(svg_format_si(999.7, "bit/s", buf, sizeof buf),
                        "1 kbit/s");
    assert_string_equal(svg_format_si(1.25e6, "bit/s", buf, sizeof buf),
                        "1.25 Mbit/s");
    assert_string_equal(svg_format_si(12.5e9, "B", buf, sizeof buf),
                        "12.5 GB");
    assert_string_equal(svg_format_si(3e15, "B", buf, sizeof buf),
                        "3 PB");
    assert_string_equal(svg_format_time(1700000000, buf, sizeof buf),
                        "2023-11-14 22:13");
}

/* The geometry of svg.h: a 600 x 300 chart has its plot area from x = 78
 * to 584 and from y = 42 (the scale's max) to 258 (zero). */
static void
test_geometry(void **state)
{
    struct svg_scale s = { .max = 100, .step = 20, .n_ticks = 5 };

    (void) state;
    assert_true(fabs(svg_x(600, 3, 0) - 78) < 1e-9);
    assert_true(fabs(svg_x(600, 3, 1) - 331) < 1e-9);
    assert_true(fabs(svg_x(600, 3, 2) - 584) < 1e-9);
    assert_true(fabs(svg_y(300, &s, 0) - 258) < 1e-9);
    assert_true(fabs(svg_y(300, &s, 100) - 42) < 1e-9);
    assert_true(fabs(svg_y(300, &s, 25) - 204) < 1e-9);
    /* Out of range values are clamped to the plot. */
    assert_true(fabs(svg_y(300, &s, 250) - 42) < 1e-9);
    assert_true(fabs(svg_y(300, &s, -5) - 258) < 1e-9);
}

/* A chart of known data has exactly the expected points. */
static void
test_time_chart_points(void **state)
{
    static const double tx[] = { 0, 50, 100 };
    static const double rx[] = { 100, NAN, 25 };
    const struct svg_line lines[] = {
        { .name = "tx", .color = SVG_TX_COLOR, .y = tx, .fill = true },
        { .name = "rx", .color = SVG_RX_COLOR, .y = rx },
    };
    const struct svg_time_chart chart = {
        .title = "vm <1>", .unit = "bit/s", .t0 = 1700000000, .step = 60,
        .n = 3, .lines = lines, .n_lines = 2, .width = 600, .height = 300,
    };
    struct mem m;

    (void) state;
    mem_open(&m);
    svg_time_chart_write(m.f, &chart);
    mem_close(&m);

    assert_true(!strncmp(m.buf, "<svg ", 5));
    assert_non_null(strstr(m.buf, "width=\"600\" height=\"300\""));
    assert_int_equal(count(m.buf, "</svg>"), 1);
    /* The title, escaped. */
    assert_non_null(strstr(m.buf, "vm &lt;1&gt;"));
    assert_null(strstr(m.buf, "vm <1>"));

    /* tx: one line through the three points, and its area closed on the
     * zero line. */
    assert_non_null(strstr(m.buf, "stroke=\"" SVG_TX_COLOR "\" "
                           "stroke-width=\"1.8\" "
                           "points=\"78.0,258.0 331.0,150.0 584.0,42.0\""));
    assert_non_null(strstr(m.buf, "points=\"78.0,258.0 331.0,150.0 "
                           "584.0,42.0 584.0,258.0 78.0,258.0\""));
    assert_int_equal(count(m.buf, "class=\"area\""), 1);
    /* rx: the gap breaks it into two lone points, no line. */
    assert_int_equal(count(m.buf, "<polyline"), 1);
    assert_non_null(strstr(m.buf, "cx=\"78.0\" cy=\"42.0\" r=\"2\" "
                           "fill=\"" SVG_RX_COLOR "\""));
    assert_non_null(strstr(m.buf, "cx=\"584.0\" cy=\"204.0\" r=\"2\" "
                           "fill=\"" SVG_RX_COLOR "\""));

    /* Value axis 0..100 in 5 ticks with units; time ticks on whole
     * minutes (2023-11-14 22:13:20 + 0..120 s). */
    assert_int_equal(count(m.buf, "class=\"ytick\""), 6);
    assert_non_null(strstr(m.buf, ">0 bit/s</text>"));
    assert_non_null(strstr(m.buf, ">100 bit/s</text>"));
    assert_non_null(strstr(m.buf, ">22:14</text>"));
    assert_non_null(strstr(m.buf, ">22:15</text>"));
    assert_int_equal(count(m.buf, "class=\"xtick\""), 2);
    assert_non_null(strstr(m.buf, "UTC, 2023-11-14 22:13 to 2023-11-14 "
                           "22:15, one point per minute<"));
    /* Legend with both names. */
    assert_int_equal(count(m.buf, "class=\"legend\""), 2);
    /* No URL, not even the SVG namespace (HTML5 implies it). */
    assert_null(strstr(m.buf, "http"));
    free(m.buf);
}

static void
test_bar_chart(void **state)
{
    const struct svg_bar bars[] = {
        { .label = "big & busy", .value = { 1000, 500 } },
        { .label = "small", .value = { 250, 0 } },
    };
    const struct svg_bar_chart chart = {
        .title = "peaks", .unit = "bit/s", .bars = bars, .n_bars = 2,
        .n_values = 2, .colors = { SVG_TX_COLOR, SVG_RX_COLOR },
        .names = { "tx", "rx" }, .width = 800,
    };
    double label_w, bar_w;
    char want[128];
    struct mem m;

    (void) state;
    mem_open(&m);
    svg_bar_chart_write(m.f, &chart);
    mem_close(&m);

    assert_int_equal(count(m.buf, "class=\"bar\""), 4);
    assert_non_null(strstr(m.buf, ">big &amp; busy</text>"));
    /* The largest value spans the bar area; the others in proportion.  The
     * label column is as wide as the longest label ("big & busy", 10
     * characters of 7.5 px, plus 12); the value column 150 px. */
    label_w = 10 * 7.5 + 12;
    bar_w = 800 - label_w - 150;
    snprintf(want, sizeof want, "x=\"%.1f\" y=\"42\" width=\"%.1f\"",
             label_w, bar_w);
    assert_non_null(strstr(m.buf, want));
    snprintf(want, sizeof want, "width=\"%.1f\"", bar_w / 2);
    assert_non_null(strstr(m.buf, want));
    snprintf(want, sizeof want, "width=\"%.1f\"", bar_w / 4);
    assert_non_null(strstr(m.buf, want));
    assert_non_null(strstr(m.buf, ">1 kbit/s</text>"));
    assert_non_null(strstr(m.buf, ">250 bit/s</text>"));
    free(m.buf);
}

/* Fills 'row' with a steady 1 MB/s tx, 0.5 MB/s rx, over 'n' points, with
 * a gap at point 2. */
static void
fill_row(struct report_row *row, size_t n)
{
    row->tx = calloc(n, sizeof *row->tx);
    row->rx = calloc(n, sizeof *row->rx);
    row->tx_peak = calloc(n, sizeof *row->tx_peak);
    row->rx_peak = calloc(n, sizeof *row->rx_peak);
    for (size_t i = 0; i < n; i++) {
        row->tx[i] = 1e6;
        row->rx[i] = 5e5;
        row->tx_peak[i] = i == 5 ? 4e6 : 1.1e6;
        row->rx_peak[i] = 6e5;
    }
    row->tx[2] = row->rx[2] = row->tx_peak[2] = row->rx_peak[2] = NAN;
    row->stats.tx.peak = 4000000;
    row->stats.tx.peak_time = 1700000000 + 5 * 60;
    row->stats.tx.peak_precision = 60;
    row->stats.tx.mean = 1e6;
    row->stats.tx.p95 = 1e6;
    row->stats.tx.bytes = 3600000000ULL;
    row->stats.rx.peak = 600000;
    row->stats.rx.mean = 5e5;
    row->stats.rx.p95 = 5e5;
    row->stats.link_speed = 1000000000;
    row->stats.peak_util = 0.032;
    row->stats.p95_util = 0.008;
    row->stats.busiest_hour = 1699999200;
    row->stats.busiest_hour_tx = 3600000000ULL;
}

static void
free_row(struct report_row *row)
{
    free(row->tx);
    free(row->rx);
    free(row->tx_peak);
    free(row->rx_peak);
}

/* A whole report: a self-contained, escaped document with its charts. */
static void
test_report(void **state)
{
    static const char *const notes[] = { "gap <redis> & more" };
    struct report_row vms[2] = {
        { .name = "<script>alert(1)</script>", .host = "hv\"1",
          .tenant = "acme <R&D>", .detail = "t1vm1" },
        { .name = "vm-2", .host = "hv2", .tenant = "acme <R&D>" },
    };
    struct report_row apps[1] = {
        { .name = "TLS.Google", .hosts = "hv1, hv2" },
    };
    struct report_section sections[] = {
        { .title = "Virtual machines", .id = "vms", .rows = vms,
          .n_rows = 2, .n_charts = 2, .show_link = true },
        { .title = "Applications", .id = "apps", .rows = apps, .n_rows = 1,
          .n_charts = 1, .volume_chart = true },
        { .title = "Tunnels", .id = "tunnels" },
    };
    struct report_pair pairs[] = {
        { .src = "vm:<a>", .dst = "ip:10.0.0.1", .src_tenant = "acme <R&D>",
          .bytes = 3000, .packets = 3 },
        { .src = "vm:b", .dst = "vm:c", .bytes = 1000, .packets = 1 },
    };
    struct report rep = {
        .from = 1700000000, .to = 1700003600, .since = "1h",
        .res = "1 min", .hosts = "hv\"1, hv2", .tenant = "acme <R&D>",
        .generated = 1700003600, .t0 = 1700000000, .step = 60,
        .n_points = 60, .sections = sections, .n_sections = 3,
        .pairs = pairs, .n_pairs = 2, .notes = notes, .n_notes = 1,
    };
    struct mem m;

    (void) state;
    fill_row(&vms[0], 60);
    fill_row(&vms[1], 60);
    fill_row(&apps[0], 60);
    mem_open(&m);
    report_html_write(m.f, &rep);
    mem_close(&m);

    assert_true(!strncmp(m.buf, "<!DOCTYPE html>\n", 16));
    assert_non_null(strstr(m.buf, "<meta charset=\"utf-8\">"));
    assert_true(!strcmp(m.buf + strlen(m.buf) - 8, "</html>\n"));
    /* Self-contained: no URL, no script, no external anything. */
    assert_null(strstr(m.buf, "http:"));
    assert_null(strstr(m.buf, "https:"));
    assert_null(strstr(m.buf, "<script"));
    assert_null(strstr(m.buf, "<link"));
    assert_null(strstr(m.buf, "<img"));
    assert_null(strstr(m.buf, "url("));
    assert_null(strstr(m.buf, "@import"));
    /* Every name escaped, wherever it is shown. */
    assert_non_null(strstr(m.buf, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(m.buf, "acme &lt;R&amp;D&gt;"));
    assert_null(strstr(m.buf, "<R&D>"));
    assert_non_null(strstr(m.buf, "hv&quot;1"));
    assert_null(strstr(m.buf, "hv\"1"));
    assert_non_null(strstr(m.buf, "gap &lt;redis&gt; &amp; more"));
    assert_non_null(strstr(m.buf, "vm:&lt;a&gt;"));
    /* Charts: 3 time charts, a bar chart per non-empty section, one for
     * the pairs; each time chart with tx and rx areas and peak lines, the
     * gap at point 2 splitting each line in two. */
    assert_int_equal(count(m.buf, "<svg "), 3 + 2 + 1);
    assert_int_equal(count(m.buf, "</svg>"), 3 + 2 + 1);
    assert_int_equal(count(m.buf, "class=\"area\""), 3 * 2 * 2);
    assert_int_equal(count(m.buf, "<polyline"), 3 * 4 * 2);
    assert_int_equal(count(m.buf, "<section"), 4);
    assert_int_equal(count(m.buf, "</section>"), 4);
    assert_int_equal(count(m.buf, "<table>"), 3);
    assert_non_null(strstr(m.buf, "None had traffic in the range."));
    /* Numbers: the 4 MB/s peak second as bit/s, its minute, utilisation
     * of the 1 Gbit/s link, the busiest hour, the pair's share. */
    assert_non_null(strstr(m.buf, "32 Mbit/s"));
    assert_non_null(strstr(m.buf, "2023-11-14 22:18 (min)<"));
    assert_non_null(strstr(m.buf, "1 Gbit/s"));
    assert_non_null(strstr(m.buf, "3.2&nbsp;%"));
    assert_non_null(strstr(m.buf, "2023-11-14 22:00<br>8 Mbit/s mean"));
    assert_non_null(strstr(m.buf, "75.0&nbsp;%"));
    /* Both direction colours, in the charts and in the style. */
    assert_true(count(m.buf, SVG_TX_COLOR) > 3);
    assert_true(count(m.buf, SVG_RX_COLOR) > 3);

    free(m.buf);
    free_row(&vms[0]);
    free_row(&vms[1]);
    free_row(&apps[0]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_nice_scale),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_geometry),
        cmocka_unit_test(test_time_chart_points),
        cmocka_unit_test(test_bar_chart),
        cmocka_unit_test(test_report),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

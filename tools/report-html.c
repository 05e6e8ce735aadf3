/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTML capacity report: see report-html.h.  Pure output: everything it
 * shows is in the 'struct report' it is given, so that tests can render
 * known data.
 */
#include <config.h>

#include "tools/report-html.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "tools/svg.h"

/* Bars in a peak or volume chart, and pairs in the pairs chart. */
#define MAX_BARS 15

/* The whole style sheet: inline, nothing fetched. */
static const char style[] =
    "body{font-family:sans-serif;margin:16px 24px;color:#222;"
    "max-width:1200px}\n"
    "h1{font-size:22px;margin:0 0 4px}\n"
    "h2{font-size:18px;border-bottom:2px solid #ccc;padding-bottom:3px;"
    "margin:26px 0 6px}\n"
    "p.meta{color:#555;font-size:13px;margin:2px 0}\n"
    "p.what{font-size:13px;margin:2px 0 6px}\n"
    "p.note{font-size:12px;color:#6b4f00;background:#fff6d8;"
    "padding:4px 8px;margin:4px 0}\n"
    "div.charts{display:flex;flex-wrap:wrap;gap:10px;margin:6px 0}\n"
    "svg.chart{border:1px solid #e3e3e3;background:#fff}\n"
    "table{border-collapse:collapse;font-size:12px;margin:8px 0}\n"
    "th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#f1f3f5}\n"
    "td.n{text-align:right;white-space:nowrap;"
    "font-variant-numeric:tabular-nums}\n"
    "td.id{font-family:monospace;font-size:11px}\n"
    ".tx{color:" SVG_TX_COLOR "}\n"
    ".rx{color:" SVG_RX_COLOR "}\n"
    "nav a{margin-right:12px}\n";

/* Writes a rate in bytes per second as bit/s. */
static void
write_rate(FILE *f, double bytes_per_s)
{
    char buf[64];

    fputs(svg_format_si(bytes_per_s * 8, "bit/s", buf, sizeof buf), f);
}

static void
write_bytes(FILE *f, uint64_t bytes)
{
    char buf[64];

    fputs(svg_format_si((double) bytes, "B", buf, sizeof buf), f);
}

/* Writes a "tx<br>rx" cell of two rates. */
static void
write_rate_cell(FILE *f, double tx, double rx, bool approx)
{
    fputs("<td class=\"n\"><span class=\"tx\">", f);
    fputs(approx ? "~" : "", f);
    write_rate(f, tx);
    fputs("</span><br><span class=\"rx\">", f);
    fputs(approx ? "~" : "", f);
    write_rate(f, rx);
    fputs("</span></td>", f);
}

/* Writes when a peak happened: the second, or the minute or hour that
 * holds it. */
static void
write_peak_time(FILE *f, const struct ctl_dir_stats *d)
{
    char buf[32];

    if (!d->peak) {
        fputs("&ndash;", f);
        return;
    }
    fputs(svg_format_time(d->peak_time, buf, sizeof buf), f);
    /* Rollups that no longer have their seconds name only the minute or
     * hour of the peak: say so. */
    if (d->peak_precision <= 1) {
        fprintf(f, ":%02" PRIu64, d->peak_time % 60);
    } else if (d->peak_precision >= 3600) {
        fputs(" (hour)", f);
    } else {
        fputs(" (min)", f);
    }
}

static void
write_util(FILE *f, double util)
{
    if (util < 0) {
        fputs("<td class=\"n\">&ndash;</td>", f);
    } else {
        fprintf(f, "<td class=\"n\">%.1f&nbsp;%%</td>", util * 100);
    }
}

static void
write_header(FILE *f, const struct report *rep)
{
    char from[32], to[32], gen[32];

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width\">\n"
          "<title>vnmon capacity report", f);
    if (rep->tenant) {
        fputs(": tenant ", f);
        svg_escape(f, rep->tenant);
    }
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", style);
    fputs("<h1>vnmon capacity report", f);
    if (rep->tenant) {
        fputs(": tenant ", f);
        svg_escape(f, rep->tenant);
    }
    fputs("</h1>\n<p class=\"meta\">", f);
    fprintf(f, "From %s to %s UTC (last ",
            svg_format_time(rep->from, from, sizeof from),
            svg_format_time(rep->to, to, sizeof to));
    svg_escape(f, rep->since);
    fputs("), data at ", f);
    svg_escape(f, rep->res);
    fputs(" resolution. Hosts: ", f);
    svg_escape(f, rep->hosts && *rep->hosts ? rep->hosts : "none");
    fprintf(f, ". Generated %s UTC by vnmonctl %s.</p>\n",
            svg_format_time(rep->generated, gen, sizeof gen),
            PACKAGE_VERSION);
    fputs("<p class=\"meta\">Rates in bit/s: <span class=\"tx\">tx</span> "
          "is what an entity sent, <span class=\"rx\">rx</span> what it "
          "received. Peak: the busiest second. p95: 95% of the recorded "
          "seconds were at or below it. Mean: over the recorded seconds. "
          "Utilisation: of the link speed, by the busier direction.</p>\n",
          f);
    for (size_t i = 0; i < rep->n_notes; i++) {
        fputs("<p class=\"note\">", f);
        svg_escape(f, rep->notes[i]);
        fputs("</p>\n", f);
    }
    fputs("<nav>", f);
    for (size_t i = 0; i < rep->n_sections; i++) {
        fprintf(f, "<a href=\"#%s\">", rep->sections[i].id);
        svg_escape(f, rep->sections[i].title);
        fputs("</a>", f);
    }
    fputs("<a href=\"#pairs\">Top pairs</a></nav>\n", f);
}

/* Writes the time chart of 'row', rates in bit/s. */
static void
write_time_chart(FILE *f, const struct report *rep,
                 const struct report_row *row)
{
    size_t n = rep->n_points;
    double *y[4] = { NULL, NULL, NULL, NULL };
    const double *src[4] = { row->tx, row->rx, row->tx_peak, row->rx_peak };
    struct svg_line lines[4];
    struct svg_time_chart chart;
    size_t n_lines = 0;
    char *title;

    for (int k = 0; k < 4; k++) {
        static const char *const names[4] = {
            "tx", "rx", "tx peak second", "rx peak second"
        };

        if (!src[k]) {
            continue;
        }
        y[k] = xcalloc(n ? n : 1, sizeof *y[k]);
        for (size_t i = 0; i < n; i++) {
            y[k][i] = src[k][i] * 8;    /* NAN stays NAN. */
        }
        lines[n_lines++] = (struct svg_line) {
            .name = names[k],
            .color = k % 2 ? SVG_RX_COLOR : SVG_TX_COLOR,
            .y = y[k],
            .fill = k < 2,
            .dashed = k >= 2,
        };
    }
    title = xasprintf("%s%s%s%s%s%s", row->name,
                      row->detail ? " (" : "", row->detail ? row->detail : "",
                      row->detail ? ")" : "", row->host ? " on " : "",
                      row->host ? row->host : "");
    chart = (struct svg_time_chart) {
        .title = title,
        .unit = "bit/s",
        .t0 = rep->t0,
        .step = rep->step ? rep->step : 1,
        .n = n,
        .lines = lines,
        .n_lines = n_lines,
        .width = REPORT_CHART_WIDTH,
        .height = REPORT_CHART_HEIGHT,
    };
    svg_time_chart_write(f, &chart);
    free(title);
    for (int k = 0; k < 4; k++) {
        free(y[k]);
    }
}

/* The label of 'row' in a bar chart. */
static char *
bar_label(const struct report_row *row)
{
    return xasprintf("%s%s%s%s", row->name, row->host ? " (" : "",
                     row->host ? row->host : "", row->host ? ")" : "");
}

static void
write_bar_chart(FILE *f, const struct report_section *s)
{
    size_t n = s->n_rows < MAX_BARS ? s->n_rows : MAX_BARS;
    struct svg_bar *bars = xcalloc(n ? n : 1, sizeof *bars);
    struct svg_bar_chart chart;
    char *title;

    for (size_t i = 0; i < n; i++) {
        const struct ctl_stats *st = &s->rows[i].stats;

        bars[i].label = bar_label(&s->rows[i]);
        if (s->volume_chart) {
            bars[i].value[0] = (double) st->tx.bytes;
            bars[i].value[1] = (double) st->rx.bytes;
        } else {
            bars[i].value[0] = (double) st->tx.peak * 8;
            bars[i].value[1] = (double) st->rx.peak * 8;
        }
    }
    title = xasprintf("%s: %s%s", s->title,
                      s->volume_chart ? "volume" : "peak second",
                      s->n_rows > n ? " (busiest)" : "");
    chart = (struct svg_bar_chart) {
        .title = title,
        .unit = s->volume_chart ? "B" : "bit/s",
        .bars = bars,
        .n_bars = n,
        .n_values = 2,
        .colors = { SVG_TX_COLOR, SVG_RX_COLOR },
        .names = { "tx", "rx" },
        .width = REPORT_BAR_WIDTH,
    };
    svg_bar_chart_write(f, &chart);
    for (size_t i = 0; i < n; i++) {
        free((char *) bars[i].label);
    }
    free(bars);
    free(title);
}

static void
write_table(FILE *f, const struct report_section *s)
{
    bool hosts = false, tenants = false, details = false;
    char buf[32];

    for (size_t i = 0; i < s->n_rows; i++) {
        const struct report_row *row = &s->rows[i];

        hosts = hosts || row->host || row->hosts;
        tenants = tenants || (row->tenant && *row->tenant);
        details = details || row->detail;
    }
    fputs("<table>\n<tr><th>#</th><th>Name</th>", f);
    if (details) {
        fputs("<th>Detail</th>", f);
    }
    if (hosts) {
        fputs("<th>Host</th>", f);
    }
    if (tenants) {
        fputs("<th>Tenant</th>", f);
    }
    fputs("<th>Peak second<br><span class=\"tx\">tx</span> / "
          "<span class=\"rx\">rx</span></th><th>Peak at (UTC)</th>"
          "<th>p95</th><th>Mean</th>", f);
    if (s->show_link) {
        fputs("<th>Link speed</th><th>Peak util.</th><th>p95 util.</th>", f);
    }
    fputs("<th>Busiest hour (UTC)</th><th>Volume</th></tr>\n", f);

    for (size_t i = 0; i < s->n_rows; i++) {
        const struct report_row *row = &s->rows[i];
        const struct ctl_stats *st = &row->stats;

        fprintf(f, "<tr><td class=\"n\">%zu</td><td class=\"id\">", i + 1);
        svg_escape(f, row->name);
        fputs("</td>", f);
        if (details) {
            fputs("<td>", f);
            svg_escape(f, row->detail);
            fputs("</td>", f);
        }
        if (hosts) {
            fputs("<td>", f);
            svg_escape(f, row->host ? row->host : row->hosts);
            fputs("</td>", f);
        }
        if (tenants) {
            fputs("<td>", f);
            svg_escape(f, row->tenant);
            fputs("</td>", f);
        }
        write_rate_cell(f, (double) st->tx.peak, (double) st->rx.peak,
                        false);
        fputs("<td class=\"n\"><span class=\"tx\">", f);
        write_peak_time(f, &st->tx);
        fputs("</span><br><span class=\"rx\">", f);
        write_peak_time(f, &st->rx);
        fputs("</span></td>", f);
        write_rate_cell(f, st->tx.p95, st->rx.p95, !st->tx.p95_exact);
        write_rate_cell(f, st->tx.mean, st->rx.mean, false);
        if (s->show_link) {
            fputs("<td class=\"n\">", f);
            if (st->link_speed) {
                fputs(svg_format_si((double) st->link_speed, "bit/s", buf,
                                    sizeof buf), f);
            } else {
                fputs("&ndash;", f);
            }
            fputs("</td>", f);
            write_util(f, st->link_speed ? st->peak_util : -1);
            write_util(f, st->link_speed ? st->p95_util : -1);
        }
        fputs("<td class=\"n\">", f);
        if (st->busiest_hour_tx + st->busiest_hour_rx) {
            fputs(svg_format_time(st->busiest_hour, buf, sizeof buf), f);
            fputs("<br>", f);
            write_rate(f, (double) (st->busiest_hour_tx
                                    + st->busiest_hour_rx) / 3600);
            fputs(" mean", f);
        } else {
            fputs("&ndash;", f);
        }
        fputs("</td><td class=\"n\"><span class=\"tx\">", f);
        write_bytes(f, st->tx.bytes);
        fputs("</span><br><span class=\"rx\">", f);
        write_bytes(f, st->rx.bytes);
        fputs("</span></td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void
write_section(FILE *f, const struct report *rep,
              const struct report_section *s)
{
    fprintf(f, "<section id=\"%s\">\n<h2>", s->id);
    svg_escape(f, s->title);
    fprintf(f, " (%zu)</h2>\n", s->n_rows);
    if (s->what) {
        fputs("<p class=\"what\">", f);
        svg_escape(f, s->what);
        fputs("</p>\n", f);
    }
    if (!s->n_rows) {
        fputs("<p class=\"what\">None had traffic in the range.</p>\n"
              "</section>\n", f);
        return;
    }
    if (s->n_charts) {
        fputs("<div class=\"charts\">\n", f);
        for (size_t i = 0; i < s->n_charts && i < s->n_rows; i++) {
            write_time_chart(f, rep, &s->rows[i]);
        }
        fputs("</div>\n", f);
    }
    fputs("<div class=\"charts\">\n", f);
    write_bar_chart(f, s);
    fputs("</div>\n", f);
    write_table(f, s);
    fputs("</section>\n", f);
}

/* Writes an endpoint of a pair, with its tenant. */
static void
write_endpoint(FILE *f, const char *ep, const char *tenant)
{
    fputs("<td class=\"id\">", f);
    svg_escape(f, ep);
    fputs("</td><td>", f);
    svg_escape(f, tenant);
    fputs("</td>", f);
}

static void
write_pairs(FILE *f, const struct report *rep)
{
    size_t n = rep->n_pairs < MAX_BARS ? rep->n_pairs : MAX_BARS;
    struct svg_bar *bars;
    struct svg_bar_chart chart;
    uint64_t total = 0;

    fprintf(f, "<section id=\"pairs\">\n<h2>Top pairs (%zu)</h2>\n"
            "<p class=\"what\">Bytes each source sent to each destination, "
            "from the busiest pairs the agents keep per minute and hour; "
            "traffic between two hosts counted once.</p>\n", rep->n_pairs);
    if (!rep->n_pairs) {
        fputs("<p class=\"what\">No pair observed in the range.</p>\n"
              "</section>\n", f);
        return;
    }
    bars = xcalloc(n, sizeof *bars);
    for (size_t i = 0; i < n; i++) {
        bars[i].label = xasprintf("%s > %s", rep->pairs[i].src,
                                  rep->pairs[i].dst);
        bars[i].value[0] = (double) rep->pairs[i].bytes;
    }
    chart = (struct svg_bar_chart) {
        .title = "Top pairs: bytes sent",
        .unit = "B",
        .bars = bars,
        .n_bars = n,
        .n_values = 1,
        .colors = { SVG_TX_COLOR, SVG_RX_COLOR },
        .names = { "bytes", "" },
        .width = REPORT_BAR_WIDTH,
    };
    fputs("<div class=\"charts\">\n", f);
    svg_bar_chart_write(f, &chart);
    fputs("</div>\n", f);
    for (size_t i = 0; i < n; i++) {
        free((char *) bars[i].label);
    }
    free(bars);

    for (size_t i = 0; i < rep->n_pairs; i++) {
        total += rep->pairs[i].bytes;
    }
    fputs("<table>\n<tr><th>#</th><th>Source</th><th>Tenant</th>"
          "<th>Destination</th><th>Tenant</th><th>Bytes</th>"
          "<th>Packets</th><th>Mean rate</th><th>Share</th></tr>\n", f);
    for (size_t i = 0; i < rep->n_pairs; i++) {
        const struct report_pair *p = &rep->pairs[i];

        fprintf(f, "<tr><td class=\"n\">%zu</td>", i + 1);
        write_endpoint(f, p->src, p->src_tenant);
        write_endpoint(f, p->dst, p->dst_tenant);
        fputs("<td class=\"n\">", f);
        write_bytes(f, p->bytes);
        fprintf(f, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">",
                p->packets);
        write_rate(f, rep->to > rep->from
                      ? (double) p->bytes / (double) (rep->to - rep->from)
                      : 0);
        fprintf(f, "</td><td class=\"n\">%.1f&nbsp;%%</td></tr>\n",
                total ? 100.0 * (double) p->bytes / (double) total : 0.0);
    }
    fputs("</table>\n</section>\n", f);
}

void
report_html_write(FILE *f, const struct report *rep)
{
    write_header(f, rep);
    for (size_t i = 0; i < rep->n_sections; i++) {
        write_section(f, rep, &rep->sections[i]);
    }
    write_pairs(f, rep);
    fputs("</body>\n</html>\n", f);
}

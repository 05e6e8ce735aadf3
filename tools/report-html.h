/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTML capacity report of `vnmonctl report --html FILE`: one
 * self-contained document (inline CSS, inline SVG from tools/svg.c, no
 * script, no URL) built from a 'struct report' that tools/ctl-report.c
 * fills from Redis and that tests fill by hand.  Every name is escaped
 * (svg_escape()).
 *
 * The document: a header (range, resolution, hosts, tenant filter), then
 * one section per kind of entity (tenants, VMs, uplinks, tunnels, VM ports,
 * applications, hosts), each with a bar chart of the entities' peak
 * seconds (of their volumes, for applications), a bandwidth-over-time
 * chart per top entity (tx and rx mean rates as areas, the peak second of
 * each point as dashed lines), and a summary table (peak second, p95,
 * mean, utilisation against link speed, busiest hour, volume); then the
 * top pairs.  Rates are shown in bit/s, volumes in bytes.
 */
#ifndef VNM_TOOLS_REPORT_HTML_H
#define VNM_TOOLS_REPORT_HTML_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/ctl-series.h"

/* One entity of a section. */
struct report_row {
    const char *name;           /* VM uuid, tenant, port, application. */
    const char *detail;         /* Secondary text (a VM's ports, a port's
                                 * VM), or NULL. */
    const char *host;           /* Its host, or NULL when summed over
                                 * several (then 'hosts' says which). */
    const char *hosts;          /* "hv1, hv2", or NULL. */
    const char *tenant;         /* NULL or "" if none. */
    struct ctl_stats stats;     /* Over the report's range. */
    /* The chart of the row, when it has one: 'n_points' (the report's)
     * mean rates in bytes per second, NAN where nothing was recorded, and
     * the peak second of each point (NULL: not drawn). */
    double *tx, *rx;
    double *tx_peak, *rx_peak;
};

/* One kind of entity. */
struct report_section {
    const char *title;          /* "Virtual machines". */
    const char *id;             /* HTML id of the section, [a-z-]. */
    const char *what;           /* One sentence under the title, or NULL. */
    struct report_row *rows;    /* In the order shown (busiest first). */
    size_t n_rows;
    size_t n_charts;            /* rows[0 .. n_charts) have a time chart. */
    bool volume_chart;          /* Bar chart of volumes (bytes) instead of
                                 * peak seconds: applications. */
    bool show_link;             /* Link speed and utilisation columns. */
};

/* A pair of endpoints, from the agents' top pairs. */
struct report_pair {
    const char *src, *dst;      /* "vm:UUID" or "ip:ADDRESS". */
    const char *src_tenant, *dst_tenant;    /* NULL if none. */
    uint64_t bytes, packets;
};

/* A whole report. */
struct report {
    uint64_t from, to;          /* Range, seconds since the epoch. */
    const char *since;          /* As given: "24h". */
    const char *res;            /* Resolution of the data: "1 min". */
    const char *hosts;          /* "hv1, hv2". */
    const char *tenant;         /* The --tenant filter, or NULL. */
    uint64_t generated;         /* When, seconds since the epoch. */
    /* The time axis of every chart: 'n_points' points, 'step' seconds
     * apart, from 't0'. */
    uint64_t t0, step;
    size_t n_points;
    struct report_section *sections;
    size_t n_sections;
    struct report_pair *pairs;  /* Busiest first. */
    size_t n_pairs;
    const char *const *notes;   /* Caveats shown under the header (gaps,
                                 * approximations), plain text. */
    size_t n_notes;
};

/* Writes 'report' to 'f' as one HTML document. */
void report_html_write(FILE *f, const struct report *report);

/* Chart size, pixels. */
#define REPORT_CHART_WIDTH 560
#define REPORT_CHART_HEIGHT 230
#define REPORT_BAR_WIDTH 1140

#endif /* report-html.h */

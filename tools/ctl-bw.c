/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "vnmonctl bw KIND ID": one entity's bandwidth over a range, as a terminal
 * chart of tx and rx with a summary line, or as JSON bins and statistics.
 * The reading and the statistics are ctl-series.c's; this file only lays
 * them out.  doc/vnmonctl.md documents the output.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/bw-series.h"
#include "lib/util.h"
#include "tools/ctl-series.h"
#include "tools/vnmonctl.h"

/* Rows of each direction's chart. */
#define CHART_ROWS 6

/* Width of the chart's y-axis labels. */
#define LABEL_WIDTH 14

/* True if block characters can be printed (a UTF-8 locale). */
static bool
utf8_locale(void)
{
    const char *vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };

    for (size_t i = 0; i < VNM_ARRAY_SIZE(vars); i++) {
        const char *v = getenv(vars[i]);

        if (v && *v) {
            return strstr(v, "UTF-8") || strstr(v, "utf8")
                   || strstr(v, "utf-8");
        }
    }
    return false;
}

/* Columns of the terminal (COLUMNS, the tty, or 80). */
static int
term_columns(void)
{
    const char *env = getenv("COLUMNS");
    struct winsize ws;

    if (env && atoi(env) >= 40) {
        return atoi(env);
    }
    if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws)
        && ws.ws_col >= 40) {
        return ws.ws_col;
    }
    return 80;
}

/* One chart column: the bins [first, first + n) of the series. */
struct column {
    double tx, rx;              /* Highest bin rate, bytes/s. */
    uint64_t recorded;          /* Recorded seconds. */
    uint64_t seconds;           /* Seconds covered. */
};

/* Rate of one direction of bin 'b': bytes over its recorded seconds. */
static double
bin_rate(const struct ctl_bin *b, bool tx)
{
    uint64_t bytes = tx ? b->bw.tx_bytes : b->bw.rx_bytes;

    return b->recorded ? (double) bytes / (double) b->recorded : 0.0;
}

/* Prints one direction's chart over 'cols'. */
static void
print_chart(const char *name, const struct column *cols, size_t n_cols,
            bool tx, bool utf8)
{
    static const char *const blocks[] = {
        " ", "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586",
        "\u2587", "\u2588",
    };
    double max = 0;
    char label[32];

    for (size_t i = 0; i < n_cols; i++) {
        double v = tx ? cols[i].tx : cols[i].rx;

        if (v > max) {
            max = v;
        }
    }
    for (int row = CHART_ROWS; row >= 1; row--) {
        if (row == CHART_ROWS) {
            ctl_format_rate(max, label, sizeof label);
            printf("%-3s%*s |", name, LABEL_WIDTH - 3, label);
        } else {
            printf("%*s |", LABEL_WIDTH, "");
        }
        for (size_t i = 0; i < n_cols; i++) {
            double v = tx ? cols[i].tx : cols[i].rx;
            /* Height in eighths of a row. */
            double h = max > 0 ? v / max * CHART_ROWS * 8 : 0;
            double rest = h - (row - 1) * 8;
            int eighths = rest >= 8 ? 8 : rest <= 0 ? 0 : (int) (rest + 0.5);

            if (!eighths && row == 1 && v > 0) {
                eighths = 1;    /* Traffic is never drawn as nothing. */
            }
            if (!cols[i].recorded) {
                fputs(row == 1 ? (utf8 ? "\u00b7" : ".") : " ", stdout);
            } else if (utf8) {
                fputs(blocks[eighths], stdout);
            } else {
                putchar(eighths >= 4 ? '#' : eighths ? '.' : ' ');
            }
        }
        putchar('\n');
    }
    printf("%*s +", LABEL_WIDTH, "0");
    for (size_t i = 0; i < n_cols; i++) {
        putchar('-');
    }
    putchar('\n');
}

/* "HH:MM" (or "MM-DD" for ranges over 2 days, "HH:MM:SS" under 10 min)
 * of 't'. */
static void
format_tick(uint64_t t, uint64_t range, char *buf, size_t size)
{
    char full[32];

    ctl_format_utc(t, full, sizeof full);   /* "YYYY-MM-DD HH:MM:SS" */
    if (range > 2 * 86400) {
        snprintf(buf, size, "%.5s", full + 5);
    } else if (range <= 600) {
        snprintf(buf, size, "%.8s", full + 11);
    } else {
        snprintf(buf, size, "%.5s", full + 11);
    }
}

/* Prints the time axis under the charts, and the gap row if any. */
static void
print_axis(const struct ctl_series *s, const struct column *cols,
           size_t n_cols, uint64_t per_col)
{
    char *line = xmalloc(n_cols + 16);
    bool any_gap = false;
    size_t i;

    memset(line, ' ', n_cols + 15);
    line[n_cols + 15] = '\0';
    for (i = 0; i < n_cols; i += 16) {
        char tick[16];

        format_tick(s->from + i * per_col, s->to - s->from, tick,
                    sizeof tick);
        memcpy(line + i, tick, strlen(tick));
    }
    printf("%*s  %s\n", LABEL_WIDTH, "UTC", line);

    for (i = 0; i < n_cols; i++) {
        line[i] = (!cols[i].recorded ? 'x'
                   : cols[i].recorded < cols[i].seconds ? '~' : ' ');
        any_gap = any_gap || line[i] != ' ';
    }
    line[n_cols] = '\0';
    if (any_gap) {
        printf("%*s  %s\n", LABEL_WIDTH, "gaps", line);
        printf("%*s  (x: nothing recorded, ~: partly recorded)\n",
               LABEL_WIDTH, "");
    }
    free(line);
}

/* Prints one direction's summary. */
static void
print_dir_summary(const char *name, const struct ctl_dir_stats *d)
{
    char total[32], mean[32], peak[32], p95[32], when[32];

    ctl_format_bytes(d->bytes, total, sizeof total);
    ctl_format_rate(d->mean, mean, sizeof mean);
    ctl_format_rate((double) d->peak, peak, sizeof peak);
    ctl_format_rate(d->p95, p95, sizeof p95);
    if (d->peak) {
        ctl_format_utc(d->peak_time, when, sizeof when);
    } else {
        snprintf(when, sizeof when, "-");
    }
    printf("  %s  total %s (%"PRIu64" packets), mean %s, peak %s at %s%s, "
           "p95 %s%s\n", name, total, d->packets, mean, peak, when,
           (d->peak_precision == 1 ? ""
            : d->peak_precision == 60 ? " (that minute)" : " (that hour)"),
           p95, d->p95_exact ? "" : " (histogram, < 4.4%)");
}

static void
print_text(const struct ctl_entity *e, const struct ctl_series *s,
           const struct ctl_stats *st)
{
    int width = term_columns() - LABEL_WIDTH - 3;
    unsigned int bin = bw_res_bin(s->res);
    size_t per_bins, n_cols;
    struct column *cols;
    bool utf8 = utf8_locale();
    char from[32], to[32], buf[32];

    if (width < 20) {
        width = 20;
    }
    per_bins = (s->n_bins + (size_t) width - 1) / (size_t) width;
    if (!per_bins) {
        per_bins = 1;
    }
    n_cols = (s->n_bins + per_bins - 1) / per_bins;
    cols = xcalloc(n_cols + 1, sizeof *cols);
    for (size_t i = 0; i < s->n_bins; i++) {
        struct column *c = &cols[i / per_bins];
        const struct ctl_bin *b = &s->bins[i];

        c->recorded += b->recorded;
        c->seconds += bin;
        if (bin_rate(b, true) > c->tx) {
            c->tx = bin_rate(b, true);
        }
        if (bin_rate(b, false) > c->rx) {
            c->rx = bin_rate(b, false);
        }
    }

    ctl_format_utc(s->from, from, sizeof from);
    ctl_format_utc(s->to, to, sizeof to);
    printf("%s %s", e->kind, e->id);
    if (e->tenant[0] && strcmp(e->kind, "tenant")) {
        printf(" (tenant %s)", e->tenant);
    }
    if (e->port_kind) {
        printf(" (%s port)", e->port_kind);
    }
    printf(" on ");
    for (size_t i = 0; i < e->n_locs; i++) {
        if (!i || strcmp(e->locs[i].host, e->locs[i - 1].host)) {
            printf("%s%s", i ? ", " : "", e->locs[i].host);
        }
    }
    printf("\n%s to %s UTC, %u s bins, each column the highest bin rate "
           "of %zu bin%s\n\n", from, to, bin, per_bins,
           per_bins > 1 ? "s" : "");
    print_chart("tx", cols, n_cols, true, utf8);
    print_chart("rx", cols, n_cols, false, utf8);
    print_axis(s, cols, n_cols, per_bins * bin);

    printf("\nrecorded %"PRIu64" of %"PRIu64" s\n", st->recorded,
           s->to - s->from);
    print_dir_summary("tx", &st->tx);
    print_dir_summary("rx", &st->rx);
    if (st->busiest_hour_tx + st->busiest_hour_rx) {
        char tx[32], rx[32];

        ctl_format_utc(st->busiest_hour, buf, sizeof buf);
        ctl_format_bytes(st->busiest_hour_tx, tx, sizeof tx);
        ctl_format_bytes(st->busiest_hour_rx, rx, sizeof rx);
        printf("  busiest hour %.13s:00 (tx %s, rx %s)\n", buf, tx, rx);
    }
    if (st->link_speed) {
        ctl_format_rate((double) st->link_speed / 8.0, buf, sizeof buf);
        printf("  link %s: peak %.1f%%, p95 %.1f%%\n", buf,
               st->peak_util * 100.0, st->p95_util * 100.0);
    }
    if (st->approximate) {
        printf("  (several hosts' rollups merged: peak and p95 "
               "approximate)\n");
    }
    free(cols);
}

static void
bw_usage(void)
{
    fprintf(stderr, "usage: vnmonctl bw KIND ID [--since D] [--res s|m|h] "
            "[--json]\n"
            "  KIND: host, port, vm, tenant, app, ovs; ID \"-\" (or a host "
            "name) for host,\n"
            "  the tenant's name for tenant (default with --tenant T: "
            "tenant T)\n");
}

static int
run_bw(struct ctl_options *opts, int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "since", required_argument, NULL, 's' },
        { "res", required_argument, NULL, 'R' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t since = 3600, now;
    bool res_given = false;
    enum bw_res res = BW_RES_S;
    struct ctl_reader *rd;
    struct ctl_entity *e = NULL;
    struct ctl_series *s = NULL;
    struct ctl_stats st;
    struct vnm_redis *r;
    const char *operands[2] = { NULL, NULL };
    const char *kind, *id;
    int c, n_operands = 0, status = 0, error;

    /* Options may come before, between and after the operands ("bw vm
     * X --since 15m"): ctl_getopt() stops at each operand. */
    for (;;) {
        c = ctl_getopt(opts, argc, argv, "s:", longopts);
        if (c == -1) {
            if (optind >= argc) {
                break;
            }
            if (n_operands < 2) {
                operands[n_operands] = argv[optind];
            }
            n_operands++;
            optind++;
            continue;
        }
        switch (c) {
        case 's':
            if (!ctl_parse_duration(optarg, &since) || !since) {
                fprintf(stderr, "vnmonctl: bw: --since: \"%s\" is not a "
                        "duration (90s, 15m, 1h, 7d)\n", optarg);
                return 2;
            }
            break;
        case 'R':
            if (!bw_res_from_name(optarg, &res)) {
                fprintf(stderr, "vnmonctl: bw: --res: \"%s\" is not s, m "
                        "or h\n", optarg);
                return 2;
            }
            res_given = true;
            break;
        default:
            bw_usage();
            return 2;
        }
    }
    if (!n_operands && opts->tenant) {
        /* "vnmonctl --tenant T bw": the tenant's total. */
        operands[0] = "tenant";
        operands[1] = opts->tenant;
        n_operands = 2;
    }
    if (n_operands != 2) {
        bw_usage();
        return 2;
    }
    kind = operands[0];
    id = operands[1];
    if (!ctl_kind_valid(kind)) {
        fprintf(stderr, "vnmonctl: bw: unknown kind \"%s\"\n", kind);
        bw_usage();
        return 2;
    }

    r = ctl_connect(opts);
    if (!r) {
        return 2;
    }
    now = vnm_time_wall_ms() / 1000;
    rd = ctl_reader_create(r, now);
    ctl_reader_set_tenant(rd, opts->tenant);
    if (!res_given) {
        res = ctl_auto_res(now, since < now ? now - since : 0, NULL);
    }
    error = ctl_entity_find(rd, kind, id, opts->host, &e);
    if (!error) {
        error = ctl_series_read(rd, e, since < now ? now - since : 0, now,
                                res, &s);
    }
    if (!error) {
        ctl_series_stats(s, e->link_speed, &st);
        error = ctl_stats_refine_peak(rd, e, &st);
    }
    if (error) {
        status = error == ENOENT || error == EEXIST ? 1 : 2;
    } else if (opts->json) {
        json_t *out = json_pack("{s:o, s:I, s:I, s:s, s:o, s:o}",
                                "entity", ctl_entity_to_json(e),
                                "from", (json_int_t) s->from,
                                "to", (json_int_t) s->to,
                                "res", bw_res_name(s->res),
                                "bins", ctl_series_to_json(s),
                                "stats", ctl_stats_to_json(&st));

        ctl_print_json(out);
        json_decref(out);
    } else {
        print_text(e, s, &st);
    }
    ctl_series_destroy(s);
    ctl_entity_destroy(e);
    ctl_reader_destroy(rd);
    ctl_disconnect(r);
    return status;
}

const struct ctl_command ctl_bw_command = {
    "bw", "bw KIND ID [--since D] [--res R]",
    "one entity's bandwidth over a range, charted", run_bw,
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "vnmonctl peak" and "vnmonctl capacity": per host, port (uplinks among
 * them), VM, tenant and application, over --since, the busiest second
 * (peak) and, for capacity, p95, mean, utilisation of the link and busiest
 * hour.  Entities come from ctl_entity_list(), figures from
 * ctl_series_stats() (ctl-series.c); doc/vnmonctl.md documents both.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bw-series.h"
#include "lib/util.h"
#include "tools/ctl-series.h"
#include "tools/vnmonctl.h"

/* One entity and its statistics. */
struct row {
    struct ctl_entity *e;
    struct ctl_stats st;
};

/* The kind shown for an entity: "uplink", "tunnel"... for ports whose
 * inventory says so, else its kind. */
static const char *
shown_kind(const struct ctl_entity *e)
{
    if (!strcmp(e->kind, "port") && e->port_kind
        && strcmp(e->port_kind, "vm")) {
        return e->port_kind;
    }
    return e->kind;
}

/* Order of kinds in the capacity table. */
static int
kind_rank(const struct ctl_entity *e)
{
    static const char *const order[] = {
        "host", "uplink", "tunnel", "port", "vm", "tenant", "app",
    };
    const char *k = shown_kind(e);

    for (size_t i = 0; i < VNM_ARRAY_SIZE(order); i++) {
        if (!strcmp(k, order[i])) {
            return (int) i;
        }
    }
    return (int) VNM_ARRAY_SIZE(order);
}

static uint64_t
row_peak(const struct row *r)
{
    return r->st.tx.peak > r->st.rx.peak ? r->st.tx.peak : r->st.rx.peak;
}

/* Peak table: busiest first. */
static int
cmp_peak(const void *a_, const void *b_)
{
    const struct row *a = a_, *b = b_;
    uint64_t pa = row_peak(a), pb = row_peak(b);

    if (pa != pb) {
        return pa > pb ? -1 : 1;
    }
    return strcmp(a->e->id, b->e->id);
}

/* Capacity table: by kind, then busiest first. */
static int
cmp_capacity(const void *a_, const void *b_)
{
    const struct row *a = a_, *b = b_;
    int ka = kind_rank(a->e), kb = kind_rank(b->e);

    return ka != kb ? (ka < kb ? -1 : 1) : cmp_peak(a_, b_);
}

/* "hv1" or "hv1,hv2". */
static void
format_hosts(const struct ctl_entity *e, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < e->n_locs && n < size; i++) {
        if (!i || strcmp(e->locs[i].host, e->locs[i - 1].host)) {
            n += (size_t) snprintf(buf + n, size - n, "%s%s", i ? "," : "",
                                   e->locs[i].host);
        }
    }
}

/* The peak's time, with dashes for what the data could not narrow. */
static void
format_peak_time(const struct ctl_dir_stats *d, char *buf, size_t size)
{
    char t[32];

    if (!d->peak) {
        snprintf(buf, size, "-");
        return;
    }
    ctl_format_utc(d->peak_time, t, sizeof t);
    if (d->peak_precision >= 3600) {
        snprintf(buf, size, "%.13s:--:--", t);
    } else if (d->peak_precision >= 60) {
        snprintf(buf, size, "%.16s:--", t);
    } else {
        snprintf(buf, size, "%s", t);
    }
}

/* Column widths that fit every row's id, hosts and tenant. */
struct widths {
    int id, host, tenant;
};

static struct widths
measure(const struct row *rows, size_t n)
{
    struct widths w = { 2, 4, 6 };

    for (size_t i = 0; i < n; i++) {
        char hosts[128];
        int len;

        format_hosts(rows[i].e, hosts, sizeof hosts);
        len = (int) strlen(hosts);
        w.host = len > w.host ? len : w.host;
        len = (int) strlen(rows[i].e->id);
        w.id = len > w.id ? len : w.id;
        len = (int) strlen(rows[i].e->tenant);
        w.tenant = len > w.tenant ? len : w.tenant;
    }
    return w;
}

static void
print_peak_table(const struct row *rows, size_t n)
{
    struct widths w = measure(rows, n);

    printf("%-7s %-*s %-*s %-*s %-12s %-19s %-12s %s\n", "KIND", w.id, "ID",
           w.host, "HOST", w.tenant, "TENANT", "PEAK TX", "TX AT (UTC)",
           "PEAK RX", "RX AT (UTC)");
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        char hosts[128], tx[32], rx[32], txt[32], rxt[32];

        format_hosts(r->e, hosts, sizeof hosts);
        ctl_format_rate((double) r->st.tx.peak, tx, sizeof tx);
        ctl_format_rate((double) r->st.rx.peak, rx, sizeof rx);
        format_peak_time(&r->st.tx, txt, sizeof txt);
        format_peak_time(&r->st.rx, rxt, sizeof rxt);
        printf("%-7s %-*s %-*s %-*s %-12s %-19s %-12s %s%s\n",
               shown_kind(r->e), w.id, r->e->id, w.host, hosts, w.tenant,
               r->e->tenant[0] ? r->e->tenant : "-", tx, txt, rx, rxt,
               r->st.approximate ? " ~" : "");
    }
}

/* "12.5" (percent) or "-". */
static void
format_util(double bytes_per_s, uint64_t link_speed, char *buf, size_t size)
{
    if (!link_speed) {
        snprintf(buf, size, "-");
    } else {
        snprintf(buf, size, "%.1f%%",
                 bytes_per_s * 8.0 * 100.0 / (double) link_speed);
    }
}

static void
print_capacity_table(const struct row *rows, size_t n)
{
    struct widths w = measure(rows, n);

    printf("%-7s %-*s %-*s %-3s %-12s %-12s %-12s %-11s %-6s %-6s %s\n",
           "KIND", w.id, "ID", w.host, "HOST", "DIR", "PEAK", "P95", "MEAN",
           "LINK", "PEAK%", "P95%", "BUSIEST HOUR (UTC)");
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        const struct ctl_stats *st = &r->st;
        char hosts[128], link[32], hour[32];

        format_hosts(r->e, hosts, sizeof hosts);
        if (st->link_speed) {
            ctl_format_rate((double) st->link_speed / 8.0, link,
                            sizeof link);
        } else {
            snprintf(link, sizeof link, "-");
        }
        if (st->busiest_hour_tx + st->busiest_hour_rx) {
            char t[32];

            ctl_format_utc(st->busiest_hour, t, sizeof t);
            snprintf(hour, sizeof hour, "%.13s:00", t);
        } else {
            snprintf(hour, sizeof hour, "-");
        }
        for (int dir = 0; dir < 2; dir++) {
            const struct ctl_dir_stats *d = dir ? &st->rx : &st->tx;
            char peak[32], p95[32], mean[32], pu[16], p95u[16];

            ctl_format_rate((double) d->peak, peak, sizeof peak);
            ctl_format_rate(d->p95, p95, sizeof p95);
            ctl_format_rate(d->mean, mean, sizeof mean);
            format_util((double) d->peak, st->link_speed, pu, sizeof pu);
            format_util(d->p95, st->link_speed, p95u, sizeof p95u);
            printf("%-7s %-*s %-*s %-3s %-12s %-12s %-12s %-11s %-6s "
                   "%-6s %s%s\n",
                   dir ? "" : shown_kind(r->e), w.id, dir ? "" : r->e->id,
                   w.host, dir ? "" : hosts, dir ? "rx" : "tx", peak, p95,
                   mean,
                   dir ? "" : link, pu, p95u, dir ? "" : hour,
                   !dir && st->approximate ? " ~" : "");
        }
    }
}

/* The peak fields of one direction's statistics. */
static json_t *
peak_json(const json_t *dir)
{
    static const char *const keys[] = {
        "peak_bytes_per_s", "peak_packets_per_s", "peak_time",
        "peak_precision_s",
    };
    json_t *out = json_object();

    for (size_t i = 0; i < VNM_ARRAY_SIZE(keys); i++) {
        json_object_set(out, keys[i], json_object_get(dir, keys[i]));
    }
    return out;
}

static void
usage(const char *cmd)
{
    fprintf(stderr, "usage: vnmonctl %s [KIND] [--since D] [--res s|m|h] "
            "[--json]\n"
            "  KIND: host, port, uplink, vm, tenant, app (default: all)\n",
            cmd);
}

/* Runs "peak" ('capacity' false) or "capacity". */
static int
run_views(struct ctl_options *opts, int argc, char *argv[], bool capacity)
{
    static const struct option longopts[] = {
        { "since", required_argument, NULL, 's' },
        { "res", required_argument, NULL, 'R' },
        { NULL, 0, NULL, 0 },
    };
    const char *cmd = argv[0];
    const char *kind = NULL, *list_kind;
    uint64_t since = capacity ? 7 * 86400 : 3600, now, from;
    enum bw_res res = BW_RES_S;
    bool res_given = false, uplink = false;
    struct ctl_entity **ents = NULL;
    struct ctl_reader *rd;
    struct vnm_redis *r;
    struct row *rows;
    size_t n_ents = 0, n_rows = 0;
    int c, n_operands = 0, error;

    for (;;) {
        c = ctl_getopt(opts, argc, argv, "s:", longopts);
        if (c == -1) {
            if (optind >= argc) {
                break;
            }
            kind = argv[optind++];
            n_operands++;
            continue;
        }
        switch (c) {
        case 's':
            if (!ctl_parse_duration(optarg, &since) || !since) {
                fprintf(stderr, "vnmonctl: %s: --since: \"%s\" is not a "
                        "duration (1h, 7d, 30d)\n", cmd, optarg);
                return 2;
            }
            break;
        case 'R':
            if (!bw_res_from_name(optarg, &res)) {
                fprintf(stderr, "vnmonctl: %s: --res: \"%s\" is not s, m or "
                        "h\n", cmd, optarg);
                return 2;
            }
            res_given = true;
            break;
        default:
            usage(cmd);
            return 2;
        }
    }
    if (n_operands > 1) {
        usage(cmd);
        return 2;
    }
    list_kind = kind;
    if (kind && !strcmp(kind, "uplink")) {
        uplink = true;
        list_kind = "port";
    } else if (kind && !ctl_kind_valid(kind)) {
        fprintf(stderr, "vnmonctl: %s: unknown kind \"%s\"\n", cmd, kind);
        usage(cmd);
        return 2;
    }

    r = ctl_connect(opts);
    if (!r) {
        return 2;
    }
    now = vnm_time_wall_ms() / 1000;
    from = since < now ? now - since : 0;
    if (!res_given) {
        res = ctl_auto_res(now, from, NULL);
    }
    rd = ctl_reader_create(r, now);
    ctl_reader_set_tenant(rd, opts->tenant);
    error = ctl_entity_list(rd, list_kind, opts->host, from, &ents, &n_ents);
    rows = xcalloc(n_ents + 1, sizeof *rows);
    for (size_t i = 0; i < n_ents && !error; i++) {
        struct ctl_entity *e = ents[i];
        struct ctl_series *s;

        if (uplink && (!e->port_kind || strcmp(e->port_kind, "uplink"))) {
            continue;
        }
        error = ctl_series_read(rd, e, from, now, res, &s);
        if (error) {
            break;
        }
        ctl_series_stats(s, e->link_speed, &rows[n_rows].st);
        ctl_series_destroy(s);
        error = ctl_stats_refine_peak(rd, e, &rows[n_rows].st);
        rows[n_rows++].e = e;
    }
    if (!error) {
        qsort(rows, n_rows, sizeof *rows,
              capacity ? cmp_capacity : cmp_peak);
        if (opts->json) {
            json_t *list = json_array();
            json_t *out;

            for (size_t i = 0; i < n_rows; i++) {
                json_t *j = ctl_entity_to_json(rows[i].e);
                json_t *st = ctl_stats_to_json(&rows[i].st);

                json_object_set_new(j, "shown_kind",
                                    json_string(shown_kind(rows[i].e)));
                if (capacity) {
                    json_object_set(j, "stats", st);
                } else {
                    json_object_set_new(j, "tx", peak_json(
                                            json_object_get(st, "tx")));
                    json_object_set_new(j, "rx", peak_json(
                                            json_object_get(st, "rx")));
                    json_object_set(j, "approximate",
                                    json_object_get(st, "approximate"));
                }
                json_decref(st);
                json_array_append_new(list, j);
            }
            out = json_pack("{s:s, s:I, s:I, s:I, s:s, s:o}",
                            "command", capacity ? "capacity" : "peak",
                            "since", (json_int_t) since,
                            "from", (json_int_t) from,
                            "to", (json_int_t) now,
                            "res", bw_res_name(res), "entities", list);
            ctl_print_json(out);
            json_decref(out);
        } else if (!n_rows) {
            printf("no bandwidth series with traffic in the last %"PRIu64
                   " s\n", since);
        } else {
            char f[32], t[32];

            ctl_format_utc(from, f, sizeof f);
            ctl_format_utc(now, t, sizeof t);
            printf("%s to %s UTC, from %s data%s\n\n", f, t,
                   res == BW_RES_S ? "1-s" : res == BW_RES_M ? "1-min"
                   : "1-h", (res == BW_RES_S ? ""
                             : " (p95 from histograms, error < 4.4%)"));
            if (capacity) {
                print_capacity_table(rows, n_rows);
            } else {
                print_peak_table(rows, n_rows);
            }
        }
    }
    free(rows);
    ctl_entities_destroy(ents, n_ents);
    ctl_reader_destroy(rd);
    ctl_disconnect(r);
    return error ? 2 : 0;
}

static int
run_peak(struct ctl_options *opts, int argc, char *argv[])
{
    return run_views(opts, argc, argv, false);
}

static int
run_capacity(struct ctl_options *opts, int argc, char *argv[])
{
    return run_views(opts, argc, argv, true);
}

const struct ctl_command ctl_peak_command = {
    "peak", "peak [KIND] [--since D]",
    "busiest second per host, port, uplink, VM, tenant, app", run_peak,
};

const struct ctl_command ctl_capacity_command = {
    "capacity", "capacity [KIND] [--since D]",
    "peak, p95, mean, link use, busiest hour per entity", run_capacity,
};

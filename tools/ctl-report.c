/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `vnmonctl report --html FILE [--since D] [--tenant T] [--top N] [-H HOST]`:
 * the capacity planner's report, one self-contained HTML file.  It lists
 * the entities with traffic in the range (ctl_entity_list()), reads each
 * one's series at the finest resolution retained for the range
 * (ctl_auto_res(), ctl_series_read()), computes its statistics
 * (ctl_series_stats(), peak narrowed to the second by
 * ctl_stats_refine_peak()), groups them by kind into the sections of
 * tools/report-html.c, and adds the top pairs of ctl_topology_read().
 *
 * Charts have at most CHART_POINTS points: finer series are folded, each
 * point the mean rate of the bins it covers (over their recorded seconds)
 * and their busiest second.
 *
 * --tenant T keeps T's own entities: the tenant, its VMs, its VMs' ports,
 * and the pairs with an end in T.  Host-wide entities (hosts, uplinks,
 * tunnels, applications) carry other tenants' traffic and are left out.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/bw-series.h"
#include "lib/util.h"
#include "tools/ctl-series.h"
#include "tools/ctl-topology.h"
#include "tools/report-html.h"
#include "tools/vnmonctl.h"

/* Most points of a time chart. */
#define CHART_POINTS 720

/* Pairs listed. */
#define TOP_PAIRS 20

/* Seconds the agent takes to write a second (it closes a second once every
 * worker is past it, then flushes once a second): younger seconds missing
 * are not "unrecorded". */
#define AGENT_LAG 5

/* The sections, in the order of the document. */
enum section {
    SEC_HOST,
    SEC_TENANT,
    SEC_VM,
    SEC_UPLINK,
    SEC_TUNNEL,
    SEC_VM_PORT,
    SEC_OTHER_PORT,
    SEC_APP,
    N_SECTIONS
};

static const struct {
    const char *title;
    const char *id;
    const char *what;
    bool show_link;
    bool volume_chart;
} section_info[N_SECTIONS] = {
    [SEC_HOST] = { "Hosts", "hosts",
                   "Everything each agent captured: tx is what entered the "
                   "switch from its ports.", false, false },
    [SEC_TENANT] = { "Tenants", "tenants",
                     "Each tenant's VMs together.", false, false },
    [SEC_VM] = { "Virtual machines", "vms",
                 "Each VM's ports together; link speed is the sum of "
                 "theirs.", true, false },
    [SEC_UPLINK] = { "Uplinks", "uplinks",
                     "Physical ports: tx is what came in from the network.",
                     true, false },
    [SEC_TUNNEL] = { "Tunnels", "tunnels",
                     "Tunnel ports (VXLAN, Geneve, GRE).", true, false },
    [SEC_VM_PORT] = { "VM ports", "vm-ports",
                      "The OVS interfaces of VMs.", true, false },
    [SEC_OTHER_PORT] = { "Other ports", "other-ports",
                         "Internal and patch ports.", true, false },
    [SEC_APP] = { "Applications", "apps",
                  "By nDPI application: tx is from the initiator, rx its "
                  "answers.", false, true },
};

/* The section of entity 'e', or N_SECTIONS if 'e' is not reported. */
static enum section
section_of(const struct ctl_entity *e)
{
    if (!strcmp(e->kind, "host")) {
        return SEC_HOST;
    } else if (!strcmp(e->kind, "tenant")) {
        return SEC_TENANT;
    } else if (!strcmp(e->kind, "vm")) {
        return SEC_VM;
    } else if (!strcmp(e->kind, "app")) {
        return SEC_APP;
    } else if (!strcmp(e->kind, "port")) {
        const char *k = e->port_kind ? e->port_kind : "";

        return (!strcmp(k, "uplink") ? SEC_UPLINK
                : !strcmp(k, "tunnel") ? SEC_TUNNEL
                : !strcmp(k, "vm") ? SEC_VM_PORT
                : SEC_OTHER_PORT);
    }
    return N_SECTIONS;
}

/* True if 'e' is one of tenant 'tenant''s own entities. */
static bool
in_tenant(const struct ctl_entity *e, const char *tenant)
{
    if (!strcmp(e->kind, "tenant")) {
        return !strcmp(e->id, tenant);
    }
    return ((!strcmp(e->kind, "vm") || !strcmp(e->kind, "port"))
            && !strcmp(e->tenant, tenant));
}

/* Folds the bins of 's' into 'n_points' chart points of 'group' bins each:
 * mean rates (NAN where nothing was recorded) and, when 'peaks', the
 * busiest second of each point. */
static void
fold_points(const struct ctl_series *s, size_t group, size_t n_points,
            bool peaks, struct report_row *row)
{
    row->tx = xcalloc(n_points ? n_points : 1, sizeof *row->tx);
    row->rx = xcalloc(n_points ? n_points : 1, sizeof *row->rx);
    if (peaks) {
        row->tx_peak = xcalloc(n_points ? n_points : 1,
                               sizeof *row->tx_peak);
        row->rx_peak = xcalloc(n_points ? n_points : 1,
                               sizeof *row->rx_peak);
    }
    for (size_t p = 0; p < n_points; p++) {
        uint64_t recorded = 0, tx = 0, rx = 0, tx_max = 0, rx_max = 0;

        for (size_t i = p * group; i < (p + 1) * group && i < s->n_bins;
             i++) {
            const struct ctl_bin *b = &s->bins[i];
            uint64_t bt = s->res == BW_RES_S ? b->bw.tx_bytes
                                             : b->bw.tx_max_bytes;
            uint64_t br = s->res == BW_RES_S ? b->bw.rx_bytes
                                             : b->bw.rx_max_bytes;

            recorded += b->recorded;
            tx += b->bw.tx_bytes;
            rx += b->bw.rx_bytes;
            tx_max = bt > tx_max ? bt : tx_max;
            rx_max = br > rx_max ? br : rx_max;
        }
        row->tx[p] = recorded ? (double) tx / (double) recorded : NAN;
        row->rx[p] = recorded ? (double) rx / (double) recorded : NAN;
        if (peaks) {
            row->tx_peak[p] = recorded ? (double) tx_max : NAN;
            row->rx_peak[p] = recorded ? (double) rx_max : NAN;
        }
    }
}

/* The busier direction's peak second of 'row'. */
static uint64_t
row_peak(const struct report_row *row)
{
    return (row->stats.tx.peak > row->stats.rx.peak
            ? row->stats.tx.peak : row->stats.rx.peak);
}

static int
compare_by_peak(const void *a_, const void *b_)
{
    const struct report_row *a = a_, *b = b_;
    uint64_t x = row_peak(a), y = row_peak(b);

    if (x != y) {
        return x > y ? -1 : 1;
    }
    return strcmp(a->name, b->name);
}

static int
compare_by_volume(const void *a_, const void *b_)
{
    const struct report_row *a = a_, *b = b_;
    uint64_t x = a->stats.tx.bytes + a->stats.rx.bytes;
    uint64_t y = b->stats.tx.bytes + b->stats.rx.bytes;

    if (x != y) {
        return x > y ? -1 : 1;
    }
    return strcmp(a->name, b->name);
}

/* "hv1, hv2": the hosts of 'e''s locations, malloc'd. */
static char *
entity_hosts(const struct ctl_entity *e)
{
    json_t *seen = json_object();
    char *out = xstrdup("");

    for (size_t i = 0; i < e->n_locs; i++) {
        char *longer;

        if (json_object_get(seen, e->locs[i].host)) {
            continue;
        }
        json_object_set_new(seen, e->locs[i].host, json_true());
        longer = xasprintf("%s%s%s", out, *out ? ", " : "", e->locs[i].host);
        free(out);
        out = longer;
    }
    json_decref(seen);
    return out;
}

/* Everything the report points to, freed at the end. */
struct report_data {
    struct report rep;
    struct report_section sections[N_SECTIONS]; /* Owns the rows. */
    struct report_section shown[N_SECTIONS];    /* Those shown. */
    char **strings;             /* Owned strings. */
    size_t n_strings;
    char **notes;
    size_t n_notes;
    json_t *topo;               /* Holds the pairs' strings. */
};

static const char *
keep(struct report_data *d, char *s)
{
    d->strings = xrealloc(d->strings,
                          (d->n_strings + 1) * sizeof *d->strings);
    d->strings[d->n_strings++] = s;
    return s;
}

static void
add_note(struct report_data *d, char *note)
{
    d->notes = xrealloc(d->notes, (d->n_notes + 1) * sizeof *d->notes);
    d->notes[d->n_notes++] = note;
}

static void
report_data_free(struct report_data *d)
{
    for (size_t s = 0; s < N_SECTIONS; s++) {
        for (size_t i = 0; i < d->sections[s].n_rows; i++) {
            struct report_row *row = &d->sections[s].rows[i];

            free(row->tx);
            free(row->rx);
            free(row->tx_peak);
            free(row->rx_peak);
        }
        free(d->sections[s].rows);
    }
    for (size_t i = 0; i < d->n_strings; i++) {
        free(d->strings[i]);
    }
    free(d->strings);
    for (size_t i = 0; i < d->n_notes; i++) {
        free(d->notes[i]);
    }
    free(d->notes);
    free(d->rep.pairs);
    json_decref(d->topo);
}

/* The text of resolution 'res' for people. */
static const char *
res_text(enum bw_res res)
{
    return res == BW_RES_S ? "1 s" : res == BW_RES_M ? "1 min" : "1 h";
}

/* Reads every entity's series and statistics into the sections of 'd'.
 * Returns 0 or an errno value. */
static int
read_entities(struct ctl_reader *rd, struct report_data *d,
              const struct ctl_options *opts, const char *tenant,
              uint64_t from, uint64_t now, enum bw_res res, size_t top,
              size_t *n_entitiesp)
{
    struct ctl_entity **ents = NULL;
    size_t n_ents = 0, group = 1, n_points = 0;
    uint64_t unrecorded = 0, gap_seconds = 0;
    bool approximate = false, hist_p95 = false;
    json_t *hosts = json_array();
    int error;

    error = ctl_entity_list(rd, NULL, opts->host, from, &ents, &n_ents);
    if (error) {
        json_decref(hosts);
        return error;
    }
    *n_entitiesp = 0;
    for (size_t i = 0; i < n_ents; i++) {
        struct ctl_entity *e = ents[i];
        enum section sec = section_of(e);
        struct report_section *s;
        struct report_row *row;
        struct ctl_series *series;

        if (sec == N_SECTIONS || (tenant && !in_tenant(e, tenant))) {
            continue;
        }
        error = ctl_series_read(rd, e, from, now, res, &series);
        if (error) {
            break;
        }
        if (!n_points) {
            group = (series->n_bins + CHART_POINTS - 1) / CHART_POINTS;
            group = group ? group : 1;
            n_points = (series->n_bins + group - 1) / group;
            d->rep.t0 = series->from;
            d->rep.step = bw_res_bin(res) * group;
            d->rep.n_points = n_points;
        }

        s = &d->sections[sec];
        s->rows = xrealloc(s->rows, (s->n_rows + 1) * sizeof *s->rows);
        row = &s->rows[s->n_rows++];
        memset(row, 0, sizeof *row);
        row->name = keep(d, xstrdup(e->id));
        if (sec != SEC_HOST) {
            /* A host's name is its id already. */
            row->host = e->host ? keep(d, xstrdup(e->host)) : NULL;
            row->hosts = e->host ? NULL : keep(d, entity_hosts(e));
        }
        row->tenant = (*e->tenant && sec != SEC_TENANT
                       ? keep(d, xstrdup(e->tenant)) : NULL);
        if (!strcmp(e->kind, "port") && e->vm) {
            row->detail = keep(d, xasprintf("VM %s", e->vm));
        }
        ctl_series_stats(series, e->link_speed, &row->stats);
        error = ctl_stats_refine_peak(rd, e, &row->stats);
        if (error) {
            ctl_series_destroy(series);
            break;
        }
        /* Peak lines add nothing where a point is one second. */
        fold_points(series, group, n_points, res != BW_RES_S || group > 1,
                    row);
        approximate = approximate || row->stats.approximate;
        hist_p95 = hist_p95 || !row->stats.tx.p95_exact;
        if (sec == SEC_HOST) {
            /* Seconds of the past that the host did not record; the last
             * few, which the agent has not written yet, do not count. */
            for (size_t b = 0; b < series->n_bins; b++) {
                const struct ctl_bin *bin = &series->bins[b];
                uint64_t horizon = now - AGENT_LAG;
                uint64_t past = (bin->time >= horizon ? 0
                                 : horizon - bin->time < bw_res_bin(res)
                                 ? horizon - bin->time : bw_res_bin(res));
                uint64_t missing = (past > bin->recorded
                                    ? past - bin->recorded : 0);

                unrecorded += missing;
                gap_seconds += bin->gap_reason ? missing : 0;
            }
        }
        for (size_t l = 0; l < e->n_locs; l++) {
            json_array_append_new(hosts, json_string(e->locs[l].host));
        }
        (*n_entitiesp)++;
        ctl_series_destroy(series);
    }
    ctl_entities_destroy(ents, n_ents);
    if (error) {
        json_decref(hosts);
        return error;
    }

    for (size_t sec = 0; sec < N_SECTIONS; sec++) {
        struct report_section *s = &d->sections[sec];

        s->title = section_info[sec].title;
        s->id = section_info[sec].id;
        s->what = section_info[sec].what;
        s->show_link = section_info[sec].show_link;
        s->volume_chart = section_info[sec].volume_chart;
        if (s->n_rows) {
            qsort(s->rows, s->n_rows, sizeof *s->rows,
                  s->volume_chart ? compare_by_volume : compare_by_peak);
        }
        s->n_charts = s->n_rows < top ? s->n_rows : top;
    }

    /* Hosts of the report, sorted, as one string. */
    {
        json_t *sorted = json_array();
        char *text = xstrdup("");
        const json_t *h;
        size_t i;

        json_array_foreach (hosts, i, h) {
            bool dup = false;
            const json_t *k;
            size_t j;

            json_array_foreach (sorted, j, k) {
                dup = dup || json_equal(k, h);
            }
            if (!dup) {
                json_array_append(sorted, (json_t *) h);
            }
        }
        for (i = 0; i < json_array_size(sorted); i++) {
            /* Few hosts: a selection sort keeps this short. */
            for (size_t j = i + 1; j < json_array_size(sorted); j++) {
                json_t *a = json_array_get(sorted, i);
                json_t *b = json_array_get(sorted, j);

                if (strcmp(json_string_value(a), json_string_value(b)) > 0) {
                    json_incref(a);
                    json_array_set(sorted, i, b);
                    json_array_set_new(sorted, j, a);
                }
            }
        }
        json_array_foreach (sorted, i, h) {
            char *longer = xasprintf("%s%s%s", text, i ? ", " : "",
                                     json_string_value(h));

            free(text);
            text = longer;
        }
        d->rep.hosts = keep(d, text);
        json_decref(sorted);
    }
    json_decref(hosts);

    if (unrecorded) {
        add_note(d, xasprintf("%" PRIu64 " host-second(s) of the range were "
                              "not recorded (agent not running, or not yet "
                              "rolled up)%s: charts leave them blank and "
                              "means ignore them.", unrecorded,
                              gap_seconds ? ", some of them marked gaps "
                              "(Redis outage longer than the agent's "
                              "buffer)" : ""));
    }
    if (hist_p95) {
        add_note(d, xasprintf("p95 (marked ~) comes from the %s rollups' "
                              "histograms: within 4.4%% of the exact "
                              "value.", res_text(res)));
    }
    if (approximate) {
        add_note(d, xstrdup("Some entities had traffic on several hosts in "
                            "the same rollup bin: their peak and p95 are "
                            "approximations (the hosts' seconds are not "
                            "summed)."));
    }
    return 0;
}

/* Adds the top pairs of [from, now) to 'd'. */
static int
read_pairs(struct vnm_redis *r, struct report_data *d,
           const struct ctl_options *opts, const char *tenant,
           uint64_t from, uint64_t now)
{
    const json_t *e;
    size_t i;
    int error;

    error = ctl_topology_read(r, opts->host, from, now, &d->topo);
    if (error) {
        return error;
    }
    d->rep.pairs = xcalloc(TOP_PAIRS, sizeof *d->rep.pairs);
    json_array_foreach (json_object_get(d->topo, "edges"), i, e) {
        const char *st = json_string_value(json_object_get(e, "src_tenant"));
        const char *dt = json_string_value(json_object_get(e, "dst_tenant"));
        struct report_pair *p;

        if (d->rep.n_pairs >= TOP_PAIRS) {
            break;
        }
        if (tenant && !(st && !strcmp(st, tenant))
            && !(dt && !strcmp(dt, tenant))) {
            continue;
        }
        p = &d->rep.pairs[d->rep.n_pairs++];
        p->src = json_string_value(json_object_get(e, "src"));
        p->dst = json_string_value(json_object_get(e, "dst"));
        p->src_tenant = st;
        p->dst_tenant = dt;
        p->bytes = (uint64_t) json_integer_value(json_object_get(e, "bytes"));
        p->packets = (uint64_t) json_integer_value(json_object_get(e,
                                                                   "packets"));
    }
    return 0;
}

/* Writes the document to 'path' through a temporary file renamed into
 * place, so that no one sees half a report; "-" is stdout.  Returns 0 or
 * an errno value after printing why; '*sizep' gets the size. */
static int
write_report(const char *path, const struct report *rep, long *sizep)
{
    char *tmp;
    FILE *f;
    int error = 0;

    if (!strcmp(path, "-")) {
        report_html_write(stdout, rep);
        *sizep = ftell(stdout);
        return fflush(stdout) ? errno : 0;
    }
    tmp = xasprintf("%s.tmp%ld", path, (long) getpid());
    f = fopen(tmp, "w");
    if (!f) {
        error = errno;
        fprintf(stderr, "vnmonctl: report: %s: cannot create (%s)\n", tmp,
                strerror(error));
        free(tmp);
        return error;
    }
    report_html_write(f, rep);
    *sizep = ftell(f);
    if (ferror(f) | fclose(f)) {
        error = errno ? errno : EIO;
        fprintf(stderr, "vnmonctl: report: %s: write failed (%s)\n", tmp,
                strerror(error));
        unlink(tmp);
    } else if (rename(tmp, path)) {
        error = errno;
        fprintf(stderr, "vnmonctl: report: %s: cannot rename to %s (%s)\n",
                tmp, path, strerror(error));
        unlink(tmp);
    }
    free(tmp);
    return error;
}

static int
run_report(struct ctl_options *opts, int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "html", required_argument, NULL, 'o' },
        { "since", required_argument, NULL, 's' },
        { "tenant", required_argument, NULL, 't' },
        { "top", required_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = NULL, *tenant = NULL, *since_text = "24h";
    struct report_data d;
    struct ctl_reader *rd;
    struct vnm_redis *r;
    uint64_t since = 86400, now, from, top = 4;
    size_t n_entities = 0, n_charts = 0;
    enum bw_res res;
    long size = 0;
    int c, error;

    while ((c = ctl_getopt(opts, argc, argv, "", longopts)) != -1) {
        switch (c) {
        case 'o':
            path = optarg;
            break;
        case 's':
            if (!ctl_parse_duration(optarg, &since) || !since) {
                fprintf(stderr, "vnmonctl: report: --since %s: not a "
                        "duration (24h, 7d, 30d)\n", optarg);
                return 2;
            }
            since_text = optarg;
            break;
        case 't':
            tenant = optarg;
            break;
        case 'n': {
            char *end;

            top = strtoull(optarg, &end, 10);
            if (*end || !*optarg || top > 100) {
                fprintf(stderr, "vnmonctl: report: --top %s: not a number "
                        "from 0 to 100\n", optarg);
                return 2;
            }
            break;
        }
        default:
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vnmonctl: report: unexpected argument \"%s\"\n",
                argv[optind]);
        return 2;
    }
    if (!path) {
        fprintf(stderr, "vnmonctl: report: --html FILE is required\n");
        return 2;
    }

    r = ctl_connect(opts);
    if (!r) {
        return 2;
    }
    now = vnm_time_wall_ms() / 1000;
    from = now > since ? now - since : 0;
    res = ctl_auto_res(now, from, NULL);
    rd = ctl_reader_create(r, now);
    memset(&d, 0, sizeof d);
    d.rep.from = from;
    d.rep.to = now;
    d.rep.since = since_text;
    d.rep.res = res_text(res);
    d.rep.tenant = tenant;
    d.rep.generated = now;
    d.rep.sections = d.shown;

    error = read_entities(rd, &d, opts, tenant, from, now, res, (size_t) top,
                          &n_entities);
    if (!error) {
        error = read_pairs(r, &d, opts, tenant, from, now);
    }
    ctl_reader_destroy(rd);
    ctl_disconnect(r);
    if (error) {
        report_data_free(&d);
        return 2;
    }
    for (size_t s = 0; s < N_SECTIONS; s++) {
        /* Host-wide sections say nothing of one tenant; ports other than
         * VMs' are shown only when there are some. */
        if ((tenant && s != SEC_TENANT && s != SEC_VM && s != SEC_VM_PORT)
            || (s == SEC_OTHER_PORT && !d.sections[s].n_rows)) {
            continue;
        }
        d.shown[d.rep.n_sections++] = d.sections[s];
    }
    if (!d.rep.n_points) {
        /* Nothing had traffic: still a report, with empty charts. */
        d.rep.t0 = from;
        d.rep.step = bw_res_bin(res);
        d.rep.n_points = 0;
    }
    d.rep.notes = (const char *const *) d.notes;
    d.rep.n_notes = d.n_notes;
    for (size_t s = 0; s < d.rep.n_sections; s++) {
        n_charts += d.rep.sections[s].n_charts;
    }

    error = write_report(path, &d.rep, &size);
    if (!error && strcmp(path, "-")) {
        if (opts->json) {
            json_t *out = json_pack("{s:s, s:I, s:I, s:I, s:s, s:I, s:I, "
                                    "s:I, s:s?}",
                                    "file", path, "bytes", (json_int_t) size,
                                    "from", (json_int_t) from,
                                    "to", (json_int_t) now,
                                    "resolution", bw_res_name(res),
                                    "entities", (json_int_t) n_entities,
                                    "charts", (json_int_t) n_charts,
                                    "pairs", (json_int_t) d.rep.n_pairs,
                                    "tenant", tenant);

            ctl_print_json(out);
            json_decref(out);
        } else {
            printf("wrote %s: %ld bytes, %zu entities, %zu time charts, "
                   "%zu pairs, %s data\n", path, size, n_entities, n_charts,
                   d.rep.n_pairs, res_text(res));
        }
    }
    report_data_free(&d);
    if (error) {
        return 2;
    }
    if (!n_entities) {
        fprintf(stderr, "vnmonctl: report: no traffic recorded%s%s in the "
                "range\n", tenant ? " for tenant " : "", tenant ? tenant : "");
        return 1;
    }
    return 0;
}

const struct ctl_command ctl_report_command = {
    "report", "report --html FILE [--since D]",
    "self-contained HTML capacity report (charts, peaks, p95, pairs)",
    run_report,
};

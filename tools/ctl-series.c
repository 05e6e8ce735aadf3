/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bandwidth series reader of vnmonctl (see ctl-series.h): entity
 * lookup in the index keys, pipelined reads of series and of the hosts'
 * coverage, statistics, and their JSON and text forms.  The commands of
 * ctl-bw.c, ctl-peak.c and the HTML report use it; ctl-top.c uses its live
 * view merge.
 */
#include <config.h>

#include "tools/ctl-series.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bw-series.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "ovs-ext/inventory.h"

/* Commands per pipeline: bounds the memory of one batch of replies. */

/* Bins of one series read, at most: 11.5 days of 1-s bins, 1.9 years of
 * 1-min bins; beyond, a coarser resolution is the answer. */
#define BINS_MAX 1000000

/* One host's recorded seconds over a range at one resolution. */
struct coverage {
    char *host;
    enum bw_res res;
    uint64_t from, to;
    uint64_t *recorded;         /* Per bin. */
    uint64_t fill_from;         /* Bins at or after it come from the finer
                                 * resolution (the agent has not rolled
                                 * them up yet); 'to' if none. */
};

/* One marked gap of a host. */
struct gap {
    uint64_t start, end;        /* [start, end) */
    char *reason;
};

/* The gaps of one host ("vnm:{HOST}:bw:gaps"). */
struct host_gaps {
    char *host;
    size_t n;
    struct gap *gaps;
};

struct ctl_reader {
    struct vnm_redis *r;
    uint64_t now;
    uint64_t retention[BW_N_RES];

    struct coverage **covs;     /* Cache of coverages read. */
    size_t n_covs;
    struct host_gaps *gaps;     /* Cache of gaps read. */
    size_t n_gaps;
    json_t *inventories;        /* Host -> inventory object (or null). */
    char *tenant;               /* Tenant scope only (escaped), or null. */
    bool warned_cov;            /* Told that coverage is not readable. */
};

static const uint64_t default_retention[BW_N_RES] = {
    BW_DEFAULT_RETENTION_S, BW_DEFAULT_RETENTION_M, BW_DEFAULT_RETENTION_H,
};

static const char *const kinds[] = {
    "host", "port", "vm", "tenant", "app", "ovs",
};

struct ctl_reader *
ctl_reader_create(struct vnm_redis *r, uint64_t now)
{
    struct ctl_reader *rd = xzalloc(sizeof *rd);

    rd->r = r;
    rd->now = now;
    memcpy(rd->retention, default_retention, sizeof rd->retention);
    rd->inventories = json_object();
    return rd;
}

void
ctl_reader_destroy(struct ctl_reader *rd)
{
    if (!rd) {
        return;
    }
    for (size_t i = 0; i < rd->n_covs; i++) {
        free(rd->covs[i]->host);
        free(rd->covs[i]->recorded);
        free(rd->covs[i]);
    }
    free(rd->covs);
    for (size_t i = 0; i < rd->n_gaps; i++) {
        for (size_t j = 0; j < rd->gaps[i].n; j++) {
            free(rd->gaps[i].gaps[j].reason);
        }
        free(rd->gaps[i].gaps);
        free(rd->gaps[i].host);
    }
    free(rd->gaps);
    json_decref(rd->inventories);
    free(rd->tenant);
    free(rd);
}

void
ctl_reader_set_tenant(struct ctl_reader *rd, const char *tenant)
{
    free(rd->tenant);
    rd->tenant = tenant ? bw_escape(tenant) : NULL;
}

uint64_t
ctl_reader_now(const struct ctl_reader *rd)
{
    return rd->now;
}

bool
ctl_kind_valid(const char *kind)
{
    for (size_t i = 0; i < VNM_ARRAY_SIZE(kinds); i++) {
        if (!strcmp(kind, kinds[i])) {
            return true;
        }
    }
    return false;
}

/* Kinds whose entities belong to one host and are never summed. */
static bool
kind_per_host(const char *kind)
{
    return (!strcmp(kind, "host") || !strcmp(kind, "port")
            || !strcmp(kind, "ovs"));
}

static uint64_t
align_down(uint64_t t, uint64_t step)
{
    return t - t % step;
}

static uint64_t
align_up(uint64_t t, uint64_t step)
{
    return t % step ? t - t % step + step : t;
}

/* Redis. */

void
ctl_report_error(const char *what, int error, const json_t *reply)
{
    const char *msg = json_string_value(reply);

    if (msg && !strncmp(msg, "NOPERM", 6)) {
        fprintf(stderr, "vnmonctl: Redis refused %s (%s): these credentials "
                "cannot read that\n", what, msg);
    } else {
        fprintf(stderr, "vnmonctl: %s failed (%s)\n", what,
                msg ? msg : strerror(error));
    }
}

int
ctl_query_keys(struct vnm_redis *r, const char *cmd, const char *const *keys,
               size_t n, const char *const *extra, int n_extra,
               json_t **repliesp)
{
    /* Pipelines of at most this many commands: bounded reply buffers. */
    enum { BATCH_MAX = 512 };
    int argc = 2 + n_extra;
    const char **args = xcalloc(BATCH_MAX * (size_t) argc, sizeof *args);
    const char *const **argvs = xcalloc(BATCH_MAX, sizeof *argvs);
    int *argcs = xcalloc(BATCH_MAX, sizeof *argcs);
    json_t *all = json_array();
    int error = 0;

    for (size_t start = 0; start < n && !error; start += BATCH_MAX) {
        size_t m = n - start < BATCH_MAX ? n - start : BATCH_MAX;
        json_t *replies = NULL;

        for (size_t i = 0; i < m; i++) {
            const char **a = &args[i * (size_t) argc];

            a[0] = cmd;
            a[1] = keys[start + i];
            for (int j = 0; j < n_extra; j++) {
                a[2 + j] = extra[j];
            }
            argvs[i] = a;
            argcs[i] = argc;
        }
        error = vnm_redis_query_batch(r, m, argcs, argvs, &replies);
        if (error) {
            fprintf(stderr, "vnmonctl: %s of %zu keys failed (%s)\n", cmd,
                    m, strerror(error));
        }
        /* An error reply where data was expected is no empty key. */
        for (size_t i = 0; !error && i < m; i++) {
            const char *msg = json_string_value(json_array_get(replies, i));

            if (msg && !strncmp(msg, "NOPERM", 6)) {
                char *what = xasprintf("%s %s", cmd, keys[start + i]);

                ctl_report_error(what, EIO, json_array_get(replies, i));
                free(what);
                error = EACCES;
            }
        }
        if (!error) {
            json_array_extend(all, replies);
        }
        json_decref(replies);
    }
    free(args);
    free(argvs);
    free(argcs);
    if (error) {
        json_decref(all);
        all = NULL;
    }
    *repliesp = all;
    return error;
}

/* Runs "CMD KEY [ARGS...]" for each of the 'n' 'keys' ('extra' arguments
 * after the key, the same for every key). */
static int
run_per_key(struct ctl_reader *rd, const char *cmd, char *const *keys,
            size_t n, const char *const *extra, int n_extra,
            json_t **repliesp)
{
    return ctl_query_keys(rd->r, cmd, (const char *const *) keys, n, extra,
                          n_extra, repliesp);
}

static void
free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

/* Reading bins. */

/* Reads the bins of series (kind, key_id) under 'prefix' at 'res' over
 * [from, to) (aligned to the bin) into 'bins' and 'present' (zeroed by
 * the caller): one HGETALL per span key, pipelined. */
static int
read_raw(struct ctl_reader *rd, const char *prefix, const char *kind,
         const char *key_id, enum bw_res res, uint64_t from, uint64_t to,
         struct bw_bin *bins, bool *present)
{
    unsigned int bin = bw_res_bin(res), span = bw_res_span(res);
    uint64_t first = align_down(from, span);
    size_t n_keys = 0, cap;
    json_t *replies;
    char **keys;
    int error;

    if (from >= to) {
        return 0;
    }
    cap = (size_t) ((to - first + span - 1) / span);
    keys = xcalloc(cap, sizeof *keys);
    for (uint64_t t = first; t < to; t += span) {
        keys[n_keys++] = bw_key(prefix, res, kind, key_id, t, NULL);
    }
    error = run_per_key(rd, "HGETALL", keys, n_keys, NULL, 0, &replies);
    free_strings(keys, n_keys);
    if (error) {
        return error;
    }
    for (size_t k = 0; k < n_keys; k++) {
        const json_t *reply = json_array_get(replies, k);
        uint64_t start = first + k * span;

        for (size_t i = 0; i + 1 < json_array_size(reply); i += 2) {
            const char *f = json_string_value(json_array_get(reply, i));
            const char *v = json_string_value(json_array_get(reply, i + 1));
            struct bw_bin b;
            uint64_t t;
            size_t idx;
            char *end;
            unsigned long field;

            if (!f || !v) {
                continue;
            }
            field = strtoul(f, &end, 10);
            if (*end || end == f || field >= span / bin) {
                continue;
            }
            t = start + field * bin;
            if (t < from || t >= to) {
                continue;
            }
            if (!bw_parse(v, res, &b)) {
                static bool warned;

                if (!warned) {
                    fprintf(stderr, "vnmonctl: warning: malformed value "
                            "\"%s\" of field %s in %s:bw:%s:%s:%s:%"PRIu64
                            " ignored\n", v, f, prefix, bw_res_name(res),
                            kind, key_id, start);
                    warned = true;
                }
                continue;
            }
            idx = (size_t) ((t - from) / bin);
            bw_bin_uninit(&bins[idx]);
            bins[idx] = b;
            present[idx] = true;
        }
    }
    json_decref(replies);
    return 0;
}

static struct coverage *get_coverage(struct ctl_reader *, const char *host,
                                     enum bw_res, uint64_t from, uint64_t to,
                                     int *errorp);

/* Where the finer resolution of 'res' still holds data for a read of
 * [from, to) at 'res' whose bins from 'last_end' on are missing: returns
 * the start of the bins to fold from it ('to' if none).  The bin in
 * progress (the one holding 'now') is always folded from the finer
 * resolution: the agent writes a minute once it is over, and rewrites the
 * hour so far each minute, so that neither holds the last seconds. */
static uint64_t
fill_start(const struct ctl_reader *rd, enum bw_res res, uint64_t from,
           uint64_t to, uint64_t last_end)
{
    enum bw_res finer;
    uint64_t keep, start, current;

    if (res == BW_RES_S) {
        return to;
    }
    current = align_down(rd->now, bw_res_bin(res));
    if (last_end > current) {
        last_end = current;
    }
    finer = (enum bw_res) (res - 1);
    keep = (rd->now > rd->retention[finer]
            ? rd->now - rd->retention[finer] : 0);
    start = align_down(keep, bw_res_bin(res));
    if (start < last_end) {
        start = last_end;
    }
    if (start < from) {
        start = from;
    }
    return start < to ? start : to;
}

/* Returns the coverage of 'host' over [from, to) at 'res' (aligned),
 * reading it if not cached.  NULL with '*errorp' set on failure. */
static struct coverage *
get_coverage(struct ctl_reader *rd, const char *host, enum bw_res res,
             uint64_t from, uint64_t to, int *errorp)
{
    unsigned int bin = bw_res_bin(res);
    size_t n = (size_t) ((to - from) / bin);
    struct coverage *c;
    struct bw_bin *bins;
    bool *present;
    uint64_t last_end = from;
    char *prefix;
    int error;

    for (size_t i = 0; i < rd->n_covs; i++) {
        c = rd->covs[i];
        if (c->res == res && c->from == from && c->to == to
            && !strcmp(c->host, host)) {
            return c;
        }
    }

    bins = xcalloc(n ? n : 1, sizeof *bins);
    present = xcalloc(n ? n : 1, sizeof *present);
    if (rd->tenant) {
        /* A tenant cannot read the host entity, but its coverage series,
         * the same seconds without counters (lib/bw-series.h). */
        prefix = bw_cov_prefix(host);
        error = read_raw(rd, prefix, "cov", "-", res, from, to, bins,
                         present);
        free(prefix);
        if (error == EACCES) {
            /* A tenant user made before coverage was readable: every
             * second up to now counts as recorded. */
            if (!rd->warned_cov) {
                fprintf(stderr, "vnmonctl: warning: these credentials "
                        "cannot read vnm:cov:* (a tenant user from an "
                        "older vnmon: run `vnmonctl tenant add` again); "
                        "seconds not recorded show as silence\n");
                rd->warned_cov = true;
            }
            error = 0;
            for (size_t i = 0; i < n; i++) {
                uint64_t t = from + i * bin;

                present[i] = t <= rd->now;
                bins[i].n = t + bin <= rd->now ? bin : rd->now - t + 1;
            }
        }
    } else {
        prefix = bw_prefix(host, NULL);
        error = read_raw(rd, prefix, "host", "-", res, from, to, bins,
                         present);
        free(prefix);
    }
    if (error) {
        for (size_t i = 0; i < n; i++) {
            bw_bin_uninit(&bins[i]);
        }
        free(bins);
        free(present);
        *errorp = error;
        return NULL;
    }

    c = xzalloc(sizeof *c);
    c->host = xstrdup(host);
    c->res = res;
    c->from = from;
    c->to = to;
    c->recorded = xcalloc(n ? n : 1, sizeof *c->recorded);
    for (size_t i = 0; i < n; i++) {
        if (res == BW_RES_S) {
            c->recorded[i] = present[i];
        } else if (present[i]) {
            c->recorded[i] = bins[i].n < bin ? bins[i].n : bin;
        }
        if (c->recorded[i]) {
            last_end = from + (i + 1) * bin;
        }
        bw_bin_uninit(&bins[i]);
    }
    free(bins);
    free(present);

    c->fill_from = fill_start(rd, res, from, to, last_end);
    if (c->fill_from < to) {
        enum bw_res finer = (enum bw_res) (res - 1);
        struct coverage *f;

        f = get_coverage(rd, host, finer, c->fill_from, to, errorp);
        if (!f) {
            free(c->host);
            free(c->recorded);
            free(c);
            return NULL;
        }
        /* The finer data replaces the bins from 'fill_from' on (the bin
         * in progress may have a partial rollup). */
        for (size_t i = (size_t) ((c->fill_from - from) / bin); i < n; i++) {
            c->recorded[i] = 0;
        }
        for (size_t j = 0; j < (size_t) ((to - c->fill_from)
                                         / bw_res_bin(finer)); j++) {
            uint64_t t = c->fill_from + j * bw_res_bin(finer);

            c->recorded[(t - from) / bin] += f->recorded[j];
        }
    }

    rd->covs = xrealloc(rd->covs, (rd->n_covs + 1) * sizeof *rd->covs);
    rd->covs[rd->n_covs++] = c;
    return c;
}

/* Reads one location's bins of (kind, key_id) over [from, to) at 'res',
 * folding from the finer resolution where its host's coverage does. */
static int
read_location(struct ctl_reader *rd, const struct ctl_location *loc,
              const char *kind, const char *key_id, enum bw_res res,
              uint64_t from, uint64_t to, struct bw_bin *bins, bool *present)
{
    const struct coverage *c;
    char *prefix;
    int error = 0;

    c = get_coverage(rd, loc->host, res, from, to, &error);
    if (!c) {
        return error;
    }
    prefix = bw_prefix(loc->host, loc->tenant);
    error = read_raw(rd, prefix, kind, key_id, res, from, c->fill_from,
                     bins, present);
    free(prefix);
    if (!error && c->fill_from < to) {
        enum bw_res finer = (enum bw_res) (res - 1);
        unsigned int fbin = bw_res_bin(finer);
        size_t n2 = (size_t) ((to - c->fill_from) / fbin);
        struct bw_bin *bins2 = xcalloc(n2, sizeof *bins2);
        bool *present2 = xcalloc(n2, sizeof *present2);
        uint64_t fill_from = c->fill_from;

        error = read_location(rd, loc, kind, key_id, finer, fill_from, to,
                              bins2, present2);
        for (size_t j = 0; j < n2; j++) {
            size_t idx = (size_t) ((fill_from + j * fbin - from)
                                   / bw_res_bin(res));

            if (!error && present2[j]) {
                if (finer == BW_RES_S) {
                    bw_bin_fold_second(&bins[idx], &bins2[j]);
                } else {
                    bw_bin_merge(&bins[idx], &bins2[j]);
                }
                present[idx] = true;
            }
            bw_bin_uninit(&bins2[j]);
        }
        free(bins2);
        free(present2);
    }
    return error;
}

/* Reads the gaps of 'host' (cached).  Returns NULL on failure. */
static const struct host_gaps *
get_gaps(struct ctl_reader *rd, const char *host)
{
    static const struct host_gaps none;
    struct host_gaps *hg;
    json_t *reply = NULL;
    const json_t *m;
    size_t i;
    char *key;

    if (rd->tenant) {
        return &none;           /* Host-scoped: not readable. */
    }
    for (i = 0; i < rd->n_gaps; i++) {
        if (!strcmp(rd->gaps[i].host, host)) {
            return &rd->gaps[i];
        }
    }
    key = xasprintf("vnm:{%s}:bw:gaps", host);
    if (vnm_redis_query(rd->r, &reply, "ZRANGE %s 0 -1", key)) {
        fprintf(stderr, "vnmonctl: ZRANGE %s failed (%s)\n", key,
                json_is_string(reply) ? json_string_value(reply) : "error");
        json_decref(reply);
        free(key);
        return NULL;
    }
    free(key);
    rd->gaps = xrealloc(rd->gaps, (rd->n_gaps + 1) * sizeof *rd->gaps);
    hg = &rd->gaps[rd->n_gaps++];
    hg->host = xstrdup(host);
    hg->n = 0;
    hg->gaps = xcalloc(json_array_size(reply) + 1, sizeof *hg->gaps);
    json_array_foreach (reply, i, m) {
        const char *s = json_string_value(m);
        unsigned long long start, end;
        char *p;

        if (!s) {
            continue;
        }
        start = strtoull(s, &p, 10);
        if (*p != '-') {
            continue;
        }
        end = strtoull(p + 1, &p, 10);
        if (*p != ':' || end <= start) {
            continue;
        }
        hg->gaps[hg->n].start = start;
        hg->gaps[hg->n].end = end;
        hg->gaps[hg->n].reason = xstrdup(p + 1);
        hg->n++;
    }
    json_decref(reply);
    return hg;
}

struct ctl_series *
ctl_series_create(enum bw_res res, uint64_t from, uint64_t to)
{
    unsigned int bin = bw_res_bin(res);
    struct ctl_series *s = xzalloc(sizeof *s);

    s->res = res;
    s->from = align_down(from, bin);
    s->to = align_up(to, bin);
    if (s->to < s->from) {
        s->to = s->from;
    }
    s->n_bins = (size_t) ((s->to - s->from) / bin);
    s->bins = xcalloc(s->n_bins ? s->n_bins : 1, sizeof *s->bins);
    for (size_t i = 0; i < s->n_bins; i++) {
        s->bins[i].time = s->from + i * bin;
    }
    return s;
}

void
ctl_series_destroy(struct ctl_series *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n_bins; i++) {
        bw_bin_uninit(&s->bins[i].bw);
    }
    free(s->bins);
    free_strings(s->owned, s->n_owned);
    free(s);
}

/* The reason string of a gap, kept once in 's'. */
static const char *
own_reason(struct ctl_series *s, const char *reason)
{
    for (size_t i = 0; i < s->n_owned; i++) {
        if (!strcmp(s->owned[i], reason)) {
            return s->owned[i];
        }
    }
    s->owned = xrealloc(s->owned, (s->n_owned + 1) * sizeof *s->owned);
    s->owned[s->n_owned] = xstrdup(reason);
    return s->owned[s->n_owned++];
}

int
ctl_series_read(struct ctl_reader *rd, const struct ctl_entity *e,
                uint64_t from, uint64_t to, enum bw_res res,
                struct ctl_series **seriesp)
{
    unsigned int bin = bw_res_bin(res);
    struct ctl_series *s;
    size_t n;
    const struct ctl_location **active;
    size_t n_active = 0;
    int *owner;
    int error = 0;

    *seriesp = NULL;
    if (to > from && (to - from) / bin > BINS_MAX) {
        fprintf(stderr, "vnmonctl: %"PRIu64" bins of %u s are too many "
                "(at most %d): choose a coarser resolution\n",
                (to - from) / bin, bin, BINS_MAX);
        return E2BIG;
    }
    s = ctl_series_create(res, from, to);
    n = s->n_bins;

    /* A location whose last traffic is older than the range brings
     * nothing but its host's coverage, which would make seconds that the
     * entity's current host did not record look like zeros: leave it
     * out, unless it is all there is. */
    active = xcalloc(e->n_locs, sizeof *active);
    for (size_t i = 0; i < e->n_locs; i++) {
        if (e->locs[i].last_seen >= s->from) {
            active[n_active++] = &e->locs[i];
        }
    }
    if (!n_active) {
        for (size_t i = 0; i < e->n_locs; i++) {
            active[n_active++] = &e->locs[i];
        }
    }

    owner = xcalloc(n ? n : 1, sizeof *owner);
    for (size_t i = 0; i < n; i++) {
        owner[i] = -1;
    }
    for (size_t l = 0; l < n_active && !error; l++) {
        const struct ctl_location *loc = active[l];
        const struct coverage *c;
        struct bw_bin *bins = xcalloc(n ? n : 1, sizeof *bins);
        bool *present = xcalloc(n ? n : 1, sizeof *present);
        int host_idx = (int) l;

        /* Several locations may share a host (scopes): they are one
         * host for 'multi_host'. */
        for (size_t k = 0; k < l; k++) {
            if (!strcmp(active[k]->host, loc->host)) {
                host_idx = (int) k;
                break;
            }
        }
        c = get_coverage(rd, loc->host, res, s->from, s->to, &error);
        if (c) {
            error = read_location(rd, loc, e->kind, e->key_id, res, s->from,
                                  s->to, bins, present);
        }
        for (size_t i = 0; i < n; i++) {
            struct ctl_bin *b = &s->bins[i];

            if (!error) {
                if (c->recorded[i] > b->recorded) {
                    b->recorded = c->recorded[i];
                }
                if (present[i]) {
                    if (owner[i] >= 0 && owner[i] != host_idx) {
                        b->multi_host = true;
                        s->multi_host = true;
                    }
                    owner[i] = host_idx;
                    bw_bin_merge(&b->bw, &bins[i]);
                }
            }
            bw_bin_uninit(&bins[i]);
        }
        free(bins);
        free(present);
    }
    free(owner);

    for (size_t i = 0; i < n && !error; i++) {
        struct ctl_bin *b = &s->bins[i];
        bool data = (b->bw.tx_bytes || b->bw.rx_bytes || b->bw.tx_packets
                     || b->bw.rx_packets || b->bw.n);

        /* Data in a second the host did not record (it should not happen)
         * is shown, never hidden. */
        if (data && !b->recorded) {
            b->recorded = res == BW_RES_S ? 1 : (b->bw.n ? b->bw.n : 1);
        }
        if (b->recorded > bin) {
            b->recorded = bin;
        }
        if (b->recorded < bin) {
            for (size_t l = 0; l < n_active && !b->gap_reason; l++) {
                const struct host_gaps *hg = get_gaps(rd, active[l]->host);

                if (!hg) {
                    error = EIO;
                    break;
                }
                for (size_t g = 0; g < hg->n; g++) {
                    if (hg->gaps[g].start < b->time + bin
                        && hg->gaps[g].end > b->time) {
                        b->gap_reason = own_reason(s, hg->gaps[g].reason);
                        break;
                    }
                }
            }
        }
    }
    free(active);
    if (error) {
        ctl_series_destroy(s);
        return error;
    }
    *seriesp = s;
    return 0;
}

enum bw_res
ctl_auto_res(uint64_t now, uint64_t from, const uint64_t retention[BW_N_RES])
{
    const uint64_t *ret = retention ? retention : default_retention;

    if (from + ret[BW_RES_S] >= now) {
        return BW_RES_S;
    } else if (from + ret[BW_RES_M] >= now) {
        return BW_RES_M;
    }
    return BW_RES_H;
}

/* Statistics. */

static int
cmp_u64(const void *a_, const void *b_)
{
    uint64_t a = *(const uint64_t *) a_, b = *(const uint64_t *) b_;

    return a < b ? -1 : a > b;
}

uint64_t
ctl_quantile_u64(uint64_t *values, size_t n, double q)
{
    size_t rank;

    if (!n) {
        return 0;
    }
    qsort(values, n, sizeof *values, cmp_u64);
    rank = (size_t) ceil(q * (double) n);
    if (rank < 1) {
        rank = 1;
    }
    return values[rank > n ? n - 1 : rank - 1];
}

/* Keeps the largest 'v' and the time of its first occurrence. */
static void
note_peak(uint64_t v, uint64_t t, unsigned int precision, uint64_t *peak,
          uint64_t *peak_time, unsigned int *peak_precision)
{
    if (v > *peak) {
        *peak = v;
        *peak_time = t;
        *peak_precision = precision;
    }
}

void
ctl_series_stats(const struct ctl_series *s, uint64_t link_speed,
                 struct ctl_stats *st)
{
    unsigned int bin = bw_res_bin(s->res);
    uint64_t hour0 = align_down(s->from, 3600);
    size_t n_hours = (size_t) ((align_up(s->to, 3600) - hour0) / 3600);
    uint64_t *hour_tx = xcalloc(n_hours + 1, sizeof *hour_tx);
    uint64_t *hour_rx = xcalloc(n_hours + 1, sizeof *hour_rx);
    uint64_t *tx_vals = NULL, *rx_vals = NULL;
    size_t n_vals = 0;
    struct bw_hist tx_hist = { 0 }, rx_hist = { 0 };
    uint64_t sum_n = 0, best = 0;

    memset(st, 0, sizeof *st);
    st->res = s->res;
    st->from = s->from;
    st->to = s->to;
    st->link_speed = link_speed;
    st->tx.peak_precision = st->rx.peak_precision = bin;
    st->tx.p95_exact = st->rx.p95_exact = s->res == BW_RES_S;
    st->approximate = s->multi_host && s->res != BW_RES_S;
    if (s->res == BW_RES_S) {
        tx_vals = xcalloc(s->n_bins + 1, sizeof *tx_vals);
        rx_vals = xcalloc(s->n_bins + 1, sizeof *rx_vals);
    }

    for (size_t i = 0; i < s->n_bins; i++) {
        const struct ctl_bin *b = &s->bins[i];
        size_t h = (size_t) ((b->time - hour0) / 3600);

        st->recorded += b->recorded;
        st->tx.bytes += b->bw.tx_bytes;
        st->tx.packets += b->bw.tx_packets;
        st->rx.bytes += b->bw.rx_bytes;
        st->rx.packets += b->bw.rx_packets;
        hour_tx[h] += b->bw.tx_bytes;
        hour_rx[h] += b->bw.rx_bytes;
        if (s->res == BW_RES_S) {
            if (b->recorded) {
                tx_vals[n_vals] = b->bw.tx_bytes;
                rx_vals[n_vals] = b->bw.rx_bytes;
                n_vals++;
            }
            note_peak(b->bw.tx_bytes, b->time, 1, &st->tx.peak,
                      &st->tx.peak_time, &st->tx.peak_precision);
            note_peak(b->bw.rx_bytes, b->time, 1, &st->rx.peak,
                      &st->rx.peak_time, &st->rx.peak_precision);
            if (b->bw.tx_packets > st->tx.peak_packets) {
                st->tx.peak_packets = b->bw.tx_packets;
            }
            if (b->bw.rx_packets > st->rx.peak_packets) {
                st->rx.peak_packets = b->bw.rx_packets;
            }
        } else {
            note_peak(b->bw.tx_max_bytes, b->time, bin, &st->tx.peak,
                      &st->tx.peak_time, &st->tx.peak_precision);
            note_peak(b->bw.rx_max_bytes, b->time, bin, &st->rx.peak,
                      &st->rx.peak_time, &st->rx.peak_precision);
            if (b->bw.tx_max_packets > st->tx.peak_packets) {
                st->tx.peak_packets = b->bw.tx_max_packets;
            }
            if (b->bw.rx_max_packets > st->rx.peak_packets) {
                st->rx.peak_packets = b->bw.rx_max_packets;
            }
            for (uint32_t k = 0; k < b->bw.tx_hist.n; k++) {
                bw_hist_add(&tx_hist, b->bw.tx_hist.bucket[k],
                            b->bw.tx_hist.count[k]);
            }
            for (uint32_t k = 0; k < b->bw.rx_hist.n; k++) {
                bw_hist_add(&rx_hist, b->bw.rx_hist.bucket[k],
                            b->bw.rx_hist.count[k]);
            }
            sum_n += b->bw.n;
        }
    }

    if (st->recorded) {
        st->tx.mean = (double) st->tx.bytes / (double) st->recorded;
        st->rx.mean = (double) st->rx.bytes / (double) st->recorded;
    }
    if (s->res == BW_RES_S) {
        st->tx.p95 = (double) ctl_quantile_u64(tx_vals, n_vals, 0.95);
        st->rx.p95 = (double) ctl_quantile_u64(rx_vals, n_vals, 0.95);
    } else {
        /* Seconds without traffic are not in the histograms: add them as
         * zeros (bw-series.h). */
        uint64_t zeros = st->recorded > sum_n ? st->recorded - sum_n : 0;

        st->tx.p95 = bw_hist_quantile_zeros(&tx_hist, zeros, 0.95);
        st->rx.p95 = bw_hist_quantile_zeros(&rx_hist, zeros, 0.95);
        /* A bucket's midpoint may exceed the exact peak (max fields):
         * the p95 cannot. */
        if (st->tx.p95 > (double) st->tx.peak) {
            st->tx.p95 = (double) st->tx.peak;
        }
        if (st->rx.p95 > (double) st->rx.peak) {
            st->rx.p95 = (double) st->rx.peak;
        }
    }
    for (size_t h = 0; h < n_hours; h++) {
        if (hour_tx[h] + hour_rx[h] > best) {
            best = hour_tx[h] + hour_rx[h];
            st->busiest_hour = hour0 + h * 3600;
            st->busiest_hour_tx = hour_tx[h];
            st->busiest_hour_rx = hour_rx[h];
        }
    }
    if (link_speed) {
        double peak = (double) (st->tx.peak > st->rx.peak
                                ? st->tx.peak : st->rx.peak);
        double p95 = st->tx.p95 > st->rx.p95 ? st->tx.p95 : st->rx.p95;

        st->peak_util = peak * 8.0 / (double) link_speed;
        st->p95_util = p95 * 8.0 / (double) link_speed;
    } else {
        st->peak_util = st->p95_util = -1.0;
    }

    free(hour_tx);
    free(hour_rx);
    free(tx_vals);
    free(rx_vals);
    free(tx_hist.bucket);
    free(tx_hist.count);
    free(rx_hist.bucket);
    free(rx_hist.count);
}

/* Narrows one direction's peak ('tx' true for tx). */
static int
refine_dir(struct ctl_reader *rd, const struct ctl_entity *e,
           struct ctl_dir_stats *d, bool tx)
{
    while (d->peak && d->peak_precision > 1) {
        enum bw_res res = d->peak_precision >= 3600 ? BW_RES_M : BW_RES_S;
        struct ctl_series *s;
        uint64_t best = 0, best_time = 0;
        int error;

        if (d->peak_time + d->peak_precision + rd->retention[res]
            < rd->now) {
            break;              /* The finer data has expired. */
        }
        error = ctl_series_read(rd, e, d->peak_time,
                                d->peak_time + d->peak_precision, res, &s);
        if (error) {
            return error;
        }
        for (size_t i = 0; i < s->n_bins; i++) {
            const struct bw_bin *b = &s->bins[i].bw;
            uint64_t v = (res == BW_RES_S
                          ? (tx ? b->tx_bytes : b->rx_bytes)
                          : (tx ? b->tx_max_bytes : b->rx_max_bytes));

            if (v > best) {
                best = v;
                best_time = s->bins[i].time;
            }
        }
        ctl_series_destroy(s);
        /* Only a finer bin that holds the same peak names it (several
         * hosts' rollups may disagree with their summed seconds). */
        if (best != d->peak) {
            break;
        }
        d->peak_time = best_time;
        d->peak_precision = bw_res_bin(res);
    }
    return 0;
}

int
ctl_stats_refine_peak(struct ctl_reader *rd, const struct ctl_entity *e,
                      struct ctl_stats *st)
{
    int error = refine_dir(rd, e, &st->tx, true);

    return error ? error : refine_dir(rd, e, &st->rx, false);
}

/* Entities. */

void
ctl_entity_destroy(struct ctl_entity *e)
{
    if (!e) {
        return;
    }
    for (size_t i = 0; i < e->n_locs; i++) {
        free(e->locs[i].host);
        free(e->locs[i].tenant);
    }
    free(e->locs);
    free(e->kind);
    free(e->id);
    free(e->key_id);
    free(e->tenant);
    free(e->host);
    free(e->port_kind);
    free(e->vm);
    free(e);
}

void
ctl_entities_destroy(struct ctl_entity **ents, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ctl_entity_destroy(ents[i]);
    }
    free(ents);
}

/* An index member read: kind, unescaped id, host, tenant scope, score. */
struct member {
    char *kind, *id, *host, *tenant;
    uint64_t score;
};

/* Appends the members of a "ZRANGE ... WITHSCORES" reply 'reply' of
 * 'host''s index in scope 'tenant' ("" for host scope). */
static void
add_members(const json_t *reply, const char *host, const char *tenant,
            struct member **ms, size_t *n)
{
    for (size_t i = 0; i + 1 < json_array_size(reply); i += 2) {
        const char *m = json_string_value(json_array_get(reply, i));
        const char *sc = json_string_value(json_array_get(reply, i + 1));
        const char *colon = m ? strchr(m, ':') : NULL;
        struct member *mb;

        if (!colon || !sc) {
            continue;
        }
        *ms = xrealloc(*ms, (*n + 1) * sizeof **ms);
        mb = &(*ms)[(*n)++];
        mb->kind = xstrndup(m, (size_t) (colon - m));
        mb->id = xstrdup(colon + 1);
        bw_unescape(mb->id);
        mb->host = xstrdup(host);
        mb->tenant = xstrdup(tenant);
        mb->score = strtoull(sc, NULL, 10);
    }
}

/* The agent does not list its host entity in its index (it has one, written
 * every recorded second): adds "host:-" for each of 'hosts' that lacks it,
 * scored as the host's latest member. */
static void
add_host_members(const json_t *hosts, struct member **ms, size_t *n)
{
    for (size_t i = 0; i < json_array_size(hosts); i++) {
        const char *h = json_string_value(json_array_get(hosts, i));
        uint64_t score = 0;
        bool listed = false;
        struct member *mb;

        if (!h) {
            continue;
        }
        for (size_t j = 0; j < *n; j++) {
            if (!strcmp((*ms)[j].host, h)) {
                listed = listed || !strcmp((*ms)[j].kind, "host");
                if ((*ms)[j].score > score) {
                    score = (*ms)[j].score;
                }
            }
        }
        if (listed) {
            continue;
        }
        *ms = xrealloc(*ms, (*n + 1) * sizeof **ms);
        mb = &(*ms)[(*n)++];
        mb->kind = xstrdup("host");
        mb->id = xstrdup("-");
        mb->host = xstrdup(h);
        mb->tenant = xstrdup("");
        mb->score = score;
    }
}

/* Reads the hosts (or just 'host') and every index member of each. */
static int
read_members(struct ctl_reader *rd, const char *host, struct member **msp,
             size_t *np)
{
    static const char *const withscores[] = { "0", "-1", "WITHSCORES" };
    json_t *hosts = NULL, *replies = NULL, *treplies = NULL;
    char **keys = NULL, **tkeys = NULL, **thosts = NULL, **tnames = NULL;
    size_t n_hosts, n_tkeys = 0;
    int error;

    *msp = NULL;
    *np = 0;
    if (host) {
        hosts = json_pack("[s]", host);
    } else if (rd->tenant) {
        char *key = bw_tenant_hosts_key(rd->tenant);

        error = vnm_redis_query(rd->r, &hosts, "SMEMBERS %s", key);
        if (error) {
            char *what = xasprintf("SMEMBERS %s", key);

            ctl_report_error(what, error, hosts);
            free(what);
        }
        free(key);
        if (error) {
            json_decref(hosts);
            return EIO;
        }
    } else if ((error = vnm_redis_query(rd->r, &hosts,
                                        "SMEMBERS vnm:bw:hosts"))) {
        ctl_report_error("SMEMBERS vnm:bw:hosts", error, hosts);
        json_decref(hosts);
        return EIO;
    }
    n_hosts = json_array_size(hosts);
    if (rd->tenant) {
        /* Only the tenant's own index of each host. */
        n_tkeys = n_hosts;
        tkeys = xcalloc(n_hosts + 1, sizeof *tkeys);
        thosts = xcalloc(n_hosts + 1, sizeof *thosts);
        tnames = xcalloc(n_hosts + 1, sizeof *tnames);
        for (size_t i = 0; i < n_hosts; i++) {
            const char *h = json_string_value(json_array_get(hosts, i));

            tkeys[i] = xasprintf("vnm:t:%s:{%s}:bw:index", rd->tenant,
                                 h ? h : "");
            thosts[i] = xstrdup(h ? h : "");
            tnames[i] = xstrdup(rd->tenant);
            bw_unescape(tnames[i]);
        }
        n_hosts = 0;            /* No host-scoped key. */
        goto tenant_indexes;
    }
    keys = xcalloc(2 * n_hosts + 1, sizeof *keys);
    for (size_t i = 0; i < n_hosts; i++) {
        const char *h = json_string_value(json_array_get(hosts, i));

        keys[i] = xasprintf("vnm:{%s}:bw:index", h ? h : "");
        keys[n_hosts + i] = xasprintf("vnm:{%s}:bw:tenants", h ? h : "");
    }
    error = run_per_key(rd, "ZRANGE", keys, n_hosts, withscores, 3,
                        &replies);
    if (!error) {
        json_t *tr = NULL;

        error = run_per_key(rd, "SMEMBERS", keys + n_hosts, n_hosts, NULL, 0,
                            &tr);
        if (!error) {
            json_array_extend(replies, tr);
        }
        json_decref(tr);
    }
    if (error) {
        goto out;
    }

    for (size_t i = 0; i < n_hosts; i++) {
        const char *h = json_string_value(json_array_get(hosts, i));
        const json_t *tenants = json_array_get(replies, n_hosts + i);

        add_members(json_array_get(replies, i), h, "", msp, np);
        for (size_t j = 0; j < json_array_size(tenants); j++) {
            const char *t = json_string_value(json_array_get(tenants, j));
            char *name, *prefix;

            if (!t) {
                continue;
            }
            name = xstrdup(t);
            bw_unescape(name);
            prefix = bw_prefix(h, name);
            tkeys = xrealloc(tkeys, (n_tkeys + 1) * sizeof *tkeys);
            thosts = xrealloc(thosts, (n_tkeys + 1) * sizeof *thosts);
            tnames = xrealloc(tnames, (n_tkeys + 1) * sizeof *tnames);
            tkeys[n_tkeys] = xasprintf("%s:bw:index", prefix);
            thosts[n_tkeys] = xstrdup(h);
            tnames[n_tkeys] = name;
            n_tkeys++;
            free(prefix);
        }
    }
tenant_indexes:
    error = run_per_key(rd, "ZRANGE", tkeys, n_tkeys, withscores, 3,
                        &treplies);
    if (!error) {
        for (size_t i = 0; i < n_tkeys; i++) {
            add_members(json_array_get(treplies, i), thosts[i], tnames[i],
                        msp, np);
        }
        if (!rd->tenant) {
            add_host_members(hosts, msp, np);
        }
    }

out:
    free_strings(keys, 2 * n_hosts);
    free_strings(tkeys, n_tkeys);
    free_strings(thosts, n_tkeys);
    free_strings(tnames, n_tkeys);
    json_decref(hosts);
    json_decref(replies);
    json_decref(treplies);
    return error;
}

static void
free_members(struct member *ms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ms[i].kind);
        free(ms[i].id);
        free(ms[i].host);
        free(ms[i].tenant);
    }
    free(ms);
}

/* The entity's id for a member: the tenant's name for "tenant", the host
 * for "host", else the member's id. */
static const char *
member_entity_id(const struct member *m)
{
    return (!strcmp(m->kind, "tenant") ? m->tenant
            : !strcmp(m->kind, "host") ? m->host
            : m->id);
}

/* True if member 'm' belongs to entity 'e'. */
static bool
member_matches(const struct ctl_entity *e, const struct member *m)
{
    if (strcmp(e->kind, m->kind) || strcmp(e->id, member_entity_id(m))) {
        return false;
    }
    return !e->host || !strcmp(e->host, m->host);
}

/* Reads (cached) the inventory of 'host': NULL if none. */
static const json_t *
get_inventory(struct ctl_reader *rd, const char *host)
{
    json_t *inv = json_object_get(rd->inventories, host);
    json_t *reply = NULL;
    char *key;

    if (inv) {
        return json_is_object(inv) ? inv : NULL;
    }
    /* A tenant reads its own part (ovs-ext/inventory.h), which has the
     * same "interfaces", its own only. */
    key = (rd->tenant ? xasprintf(INVENTORY_TENANT_KEY, rd->tenant, host)
           : xasprintf(INVENTORY_KEY, host));
    if (!vnm_redis_query(rd->r, &reply, "GET %s", key)
        && json_is_string(reply)) {
        inv = json_loads(json_string_value(reply), 0, NULL);
    }
    json_decref(reply);
    free(key);
    json_object_set_new(rd->inventories, host, inv ? inv : json_null());
    return json_is_object(inv) ? inv : NULL;
}

/* The kind of port of inventory interface 'iface'. */
static const char *
iface_kind(const json_t *iface)
{
    const char *type = json_string_value(json_object_get(iface, "type"));
    const char *vm = json_string_value(json_object_get(iface, "vm"));

    if (!type) {
        type = "";
    }
    if (!strcmp(type, "internal")) {
        return "internal";
    } else if (!strcmp(type, "patch")) {
        return "patch";
    } else if (json_is_object(json_object_get(iface, "tunnel"))
               || !strcmp(type, "vxlan") || !strcmp(type, "geneve")
               || !strcmp(type, "gre") || !strcmp(type, "stt")) {
        return "tunnel";
    } else if (vm && *vm) {
        return "vm";
    }
    return "uplink";
}

/* Fills in what the inventory says of 'e'. */
static void
add_inventory(struct ctl_reader *rd, struct ctl_entity *e)
{
    bool is_port = !strcmp(e->kind, "port") || !strcmp(e->kind, "ovs");
    bool is_vm = !strcmp(e->kind, "vm");
    uint64_t vm_speed = 0;
    bool vm_known = true;
    size_t n_vm_ports = 0;

    if (!is_port && !is_vm) {
        return;
    }
    for (size_t l = 0; l < e->n_locs; l++) {
        const json_t *inv = get_inventory(rd, e->locs[l].host);
        const json_t *ifaces = json_object_get(inv, "interfaces");
        const json_t *iface;
        size_t i;

        if (l && !strcmp(e->locs[l].host, e->locs[l - 1].host)) {
            continue;
        }
        json_array_foreach (ifaces, i, iface) {
            const char *name = json_string_value(json_object_get(iface,
                                                                 "name"));
            const char *vm = json_string_value(json_object_get(iface, "vm"));
            const json_t *speed = json_object_get(iface, "link_speed");

            if (is_port && name && !strcmp(name, e->id) && !e->port_kind) {
                e->port_kind = xstrdup(iface_kind(iface));
                e->vm = vm && *vm ? xstrdup(vm) : NULL;
                if (json_is_integer(speed) && json_integer_value(speed) > 0) {
                    e->link_speed = (uint64_t) json_integer_value(speed);
                }
            } else if (is_vm && vm && !strcmp(vm, e->id)) {
                n_vm_ports++;
                if (json_is_integer(speed)
                    && json_integer_value(speed) > 0) {
                    vm_speed += (uint64_t) json_integer_value(speed);
                } else {
                    vm_known = false;
                }
            }
        }
    }
    if (is_vm && n_vm_ports && vm_known) {
        e->link_speed = vm_speed;
    }
}

/* Sorts locations by host then tenant. */
static int
cmp_location(const void *a_, const void *b_)
{
    const struct ctl_location *a = a_, *b = b_;
    int c = strcmp(a->host, b->host);

    return c ? c : strcmp(a->tenant, b->tenant);
}

/* Makes entities from members: one per (kind, id) or, for per-host kinds,
 * per (kind, id, host).  Keeps members of 'kind' (NULL: all but "ovs")
 * whose score is at least 'since'. */
static void
group_members(struct ctl_reader *rd, const struct member *ms, size_t n,
              const char *kind, uint64_t since, struct ctl_entity ***entsp,
              size_t *np)
{
    struct ctl_entity **ents = NULL;
    size_t n_ents = 0;

    for (size_t i = 0; i < n; i++) {
        const struct member *m = &ms[i];
        struct ctl_entity *e = NULL;
        struct ctl_location *loc;

        if (kind ? strcmp(m->kind, kind) : !strcmp(m->kind, "ovs")) {
            continue;
        }
        if (!ctl_kind_valid(m->kind)) {
            continue;
        }
        for (size_t j = 0; j < n_ents && !e; j++) {
            if (member_matches(ents[j], m)) {
                e = ents[j];
            }
        }
        if (!e) {
            bool tenant_kind = !strcmp(m->kind, "tenant");

            e = xzalloc(sizeof *e);
            e->kind = xstrdup(m->kind);
            e->id = xstrdup(member_entity_id(m));
            e->key_id = xstrdup(tenant_kind || !strcmp(m->kind, "host")
                                ? "-" : m->id);
            e->tenant = xstrdup(m->tenant);
            e->host = kind_per_host(m->kind) ? xstrdup(m->host) : NULL;
            ents = xrealloc(ents, (n_ents + 1) * sizeof *ents);
            ents[n_ents++] = e;
        }
        e->locs = xrealloc(e->locs, (e->n_locs + 1) * sizeof *e->locs);
        loc = &e->locs[e->n_locs++];
        loc->host = xstrdup(m->host);
        loc->tenant = xstrdup(m->tenant);
        loc->last_seen = m->score;
        if (m->score >= e->last_seen) {
            e->last_seen = m->score;
            if (strcmp(e->tenant, m->tenant)) {
                free(e->tenant);
                e->tenant = xstrdup(m->tenant);
            }
        }
    }

    /* Keep the entities seen since 'since'. */
    *np = 0;
    for (size_t i = 0; i < n_ents; i++) {
        qsort(ents[i]->locs, ents[i]->n_locs, sizeof *ents[i]->locs,
              cmp_location);
        if (ents[i]->last_seen >= since) {
            add_inventory(rd, ents[i]);
            ents[(*np)++] = ents[i];
        } else {
            ctl_entity_destroy(ents[i]);
        }
    }
    *entsp = ents;
}

static int
cmp_entity(const void *a_, const void *b_)
{
    const struct ctl_entity *a = *(const struct ctl_entity *const *) a_;
    const struct ctl_entity *b = *(const struct ctl_entity *const *) b_;
    int c = strcmp(a->kind, b->kind);

    if (!c) {
        c = strcmp(a->id, b->id);
    }
    if (!c) {
        c = strcmp(a->host ? a->host : "", b->host ? b->host : "");
    }
    return c;
}

int
ctl_entity_list(struct ctl_reader *rd, const char *kind, const char *host,
                uint64_t since, struct ctl_entity ***entsp, size_t *np)
{
    struct member *ms;
    size_t n_ms;
    int error;

    *entsp = NULL;
    *np = 0;
    error = read_members(rd, host, &ms, &n_ms);
    if (error) {
        return error;
    }
    group_members(rd, ms, n_ms, kind, since, entsp, np);
    free_members(ms, n_ms);
    if (*np) {
        qsort(*entsp, *np, sizeof **entsp, cmp_entity);
    }
    return 0;
}

int
ctl_entity_find(struct ctl_reader *rd, const char *kind, const char *id,
                const char *host, struct ctl_entity **entp)
{
    struct ctl_entity **ents;
    size_t n, match = 0, n_match = 0;
    bool all_hosts = !strcmp(kind, "host") && !strcmp(id, "-");
    int error;

    *entp = NULL;
    if (!ctl_kind_valid(kind)) {
        fprintf(stderr, "vnmonctl: unknown kind \"%s\" (host, port, vm, "
                "tenant, app, ovs)\n", kind);
        return EINVAL;
    }
    if (rd->tenant && (!strcmp(kind, "host") || !strcmp(kind, "app"))) {
        fprintf(stderr, "vnmonctl: %s series are host-wide: a tenant's "
                "view (--tenant) has only port, vm and tenant\n", kind);
        return EACCES;
    }
    error = ctl_entity_list(rd, kind, host, 0, &ents, &n);
    if (error) {
        return error;
    }
    if (all_hosts) {
        /* Every host's host entity, summed: one entity, many
         * locations. */
        struct ctl_entity *e;

        if (!n) {
            fprintf(stderr, "vnmonctl: no host has bandwidth series\n");
            ctl_entities_destroy(ents, n);
            return ENOENT;
        }
        if (n == 1) {
            *entp = ents[0];
            ents[0] = NULL;
            ctl_entities_destroy(ents, n);
            return 0;
        }
        e = xzalloc(sizeof *e);
        e->kind = xstrdup("host");
        e->id = xstrdup("-");
        e->key_id = xstrdup("-");
        e->tenant = xstrdup("");
        e->locs = xcalloc(n, sizeof *e->locs);
        for (size_t i = 0; i < n; i++) {
            e->locs[e->n_locs].host = xstrdup(ents[i]->locs[0].host);
            e->locs[e->n_locs].tenant = xstrdup("");
            e->locs[e->n_locs].last_seen = ents[i]->last_seen;
            if (ents[i]->last_seen > e->last_seen) {
                e->last_seen = ents[i]->last_seen;
            }
            e->n_locs++;
        }
        ctl_entities_destroy(ents, n);
        *entp = e;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(ents[i]->id, id)) {
            if (!n_match) {
                match = i;
            }
            n_match++;
        }
    }
    if (!n_match) {
        fprintf(stderr, "vnmonctl: no bandwidth series for %s %s%s%s\n",
                kind, id, host ? " on host " : "", host ? host : "");
        error = ENOENT;
    } else if (n_match > 1) {
        fprintf(stderr, "vnmonctl: %s %s is on several hosts (", kind, id);
        for (size_t i = 0, k = 0; i < n; i++) {
            if (!strcmp(ents[i]->id, id)) {
                fprintf(stderr, "%s%s", k++ ? ", " : "", ents[i]->host);
            }
        }
        fprintf(stderr, "): choose one with --host\n");
        error = EEXIST;
    } else {
        *entp = ents[match];
        ents[match] = NULL;
    }
    ctl_entities_destroy(ents, n);
    return error;
}

/* JSON. */

json_t *
ctl_series_to_json(const struct ctl_series *s)
{
    json_t *bins = json_array();

    for (size_t i = 0; i < s->n_bins; i++) {
        const struct ctl_bin *b = &s->bins[i];
        json_t *j;

        if (!b->recorded) {
            j = json_pack("{s:I, s:b}", "time", (json_int_t) b->time,
                          "gap", 1);
            if (b->gap_reason) {
                json_object_set_new(j, "reason", json_string(b->gap_reason));
            }
            json_array_append_new(bins, j);
            continue;
        }
        j = json_pack("{s:I, s:I, s:I, s:I, s:I}",
                      "time", (json_int_t) b->time,
                      "tx_bytes", (json_int_t) b->bw.tx_bytes,
                      "tx_packets", (json_int_t) b->bw.tx_packets,
                      "rx_bytes", (json_int_t) b->bw.rx_bytes,
                      "rx_packets", (json_int_t) b->bw.rx_packets);
        if (s->res != BW_RES_S) {
            json_object_set_new(j, "recorded",
                                json_integer((json_int_t) b->recorded));
            json_object_set_new(j, "tx_max_bytes",
                                json_integer((json_int_t)
                                             b->bw.tx_max_bytes));
            json_object_set_new(j, "rx_max_bytes",
                                json_integer((json_int_t)
                                             b->bw.rx_max_bytes));
            if (b->gap_reason) {
                json_object_set_new(j, "reason",
                                    json_string(b->gap_reason));
            }
        }
        json_array_append_new(bins, j);
    }
    return bins;
}

static json_t *
dir_to_json(const struct ctl_dir_stats *d)
{
    return json_pack("{s:I, s:I, s:f, s:I, s:I, s:o, s:I, s:f, s:b}",
                     "bytes", (json_int_t) d->bytes,
                     "packets", (json_int_t) d->packets,
                     "mean_bytes_per_s", d->mean,
                     "peak_bytes_per_s", (json_int_t) d->peak,
                     "peak_packets_per_s", (json_int_t) d->peak_packets,
                     "peak_time", (d->peak
                                   ? json_integer((json_int_t) d->peak_time)
                                   : json_null()),
                     "peak_precision_s", (json_int_t) d->peak_precision,
                     "p95_bytes_per_s", d->p95,
                     "p95_exact", d->p95_exact);
}

json_t *
ctl_stats_to_json(const struct ctl_stats *st)
{
    json_t *j = json_pack("{s:I, s:I, s:s, s:I, s:o, s:o, s:b}",
                          "from", (json_int_t) st->from,
                          "to", (json_int_t) st->to,
                          "res", bw_res_name(st->res),
                          "recorded_seconds", (json_int_t) st->recorded,
                          "tx", dir_to_json(&st->tx),
                          "rx", dir_to_json(&st->rx),
                          "approximate", st->approximate);

    json_object_set_new(j, "busiest_hour",
                        (st->busiest_hour_tx + st->busiest_hour_rx
                         ? json_pack("{s:I, s:I, s:I}",
                                     "time", (json_int_t) st->busiest_hour,
                                     "tx_bytes",
                                     (json_int_t) st->busiest_hour_tx,
                                     "rx_bytes",
                                     (json_int_t) st->busiest_hour_rx)
                         : json_null()));
    json_object_set_new(j, "link_speed",
                        (st->link_speed
                         ? json_integer((json_int_t) st->link_speed)
                         : json_null()));
    json_object_set_new(j, "peak_utilisation",
                        (st->peak_util >= 0 ? json_real(st->peak_util)
                         : json_null()));
    json_object_set_new(j, "p95_utilisation",
                        (st->p95_util >= 0 ? json_real(st->p95_util)
                         : json_null()));
    return j;
}

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *
ctl_entity_to_json(const struct ctl_entity *e)
{
    json_t *hosts = json_array();
    json_t *j;

    for (size_t i = 0; i < e->n_locs; i++) {
        if (!i || strcmp(e->locs[i].host, e->locs[i - 1].host)) {
            json_array_append_new(hosts, json_string(e->locs[i].host));
        }
    }
    j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
                  "kind", e->kind, "id", e->id, "tenant", e->tenant,
                  "host", str_or_null(e->host), "hosts", hosts,
                  "port_kind", str_or_null(e->port_kind),
                  "vm", str_or_null(e->vm),
                  "link_speed", (e->link_speed
                                 ? json_integer((json_int_t) e->link_speed)
                                 : json_null()));
    return j;
}

/* Text. */

/* Formats 'v' with an SI prefix and 'unit'. */
static void
format_si(double v, const char *unit, char *buf, size_t size)
{
    static const char *const prefixes[] = { "", "k", "M", "G", "T", "P" };
    size_t i = 0;

    while (v >= 999.5 && i + 1 < VNM_ARRAY_SIZE(prefixes)) {
        v /= 1000.0;
        i++;
    }
    if (!i) {
        snprintf(buf, size, "%.0f %s", v, unit);
    } else {
        snprintf(buf, size, "%.*f %s%s", v < 9.995 ? 2 : v < 99.95 ? 1 : 0,
                 v, prefixes[i], unit);
    }
}

void
ctl_format_rate(double bytes_per_s, char *buf, size_t size)
{
    format_si(bytes_per_s * 8.0, "bit/s", buf, size);
}

void
ctl_format_bytes(uint64_t bytes, char *buf, size_t size)
{
    format_si((double) bytes, "B", buf, size);
}

void
ctl_format_utc(uint64_t t, char *buf, size_t size)
{
    time_t secs = (time_t) t;
    struct tm tm;

    gmtime_r(&secs, &tm);
    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Live view. */

/* Adds the counters 'names' of 'src' to those of 'dst'. */
static void
add_counters(json_t *dst, const json_t *src, const char *const *names)
{
    for (; *names; names++) {
        json_int_t a = json_integer_value(json_object_get(dst, *names));
        json_int_t b = json_integer_value(json_object_get(src, *names));

        json_object_set_new(dst, *names, json_integer(a + b));
    }
}

static const char *const dir_counters[] = {
    "tx_bytes", "tx_packets", "rx_bytes", "rx_packets", NULL,
};
static const char *const pair_counters[] = { "bytes", "packets", NULL };

static json_int_t
live_weight(const json_t *o)
{
    const json_t *b = json_object_get(o, "bytes");

    return (json_is_integer(b) ? json_integer_value(b)
            : (json_integer_value(json_object_get(o, "tx_bytes"))
               + json_integer_value(json_object_get(o, "rx_bytes"))));
}

static int
cmp_live(const void *a_, const void *b_)
{
    const json_t *a = *(const json_t *const *) a_;
    const json_t *b = *(const json_t *const *) b_;
    json_int_t wa = live_weight(a), wb = live_weight(b);

    return wa > wb ? -1 : wa < wb;
}

/* Merges list 'name' of every live view: entries with equal key fields
 * ('key1', and 'key2' if non-null) are one, their 'counters' summed;
 * "ports" also keys on the host. */
static json_t *
merge_list(json_t *const *lives, size_t n, const char *name,
           const char *key1, const char *key2, const char *const *counters,
           size_t top_n)
{
    json_t *index = json_object();
    json_t *out = json_array();
    bool per_host = !strcmp(name, "ports");
    const json_t **sorted;
    const char *k;
    json_t *v;
    size_t n_sorted = 0;

    for (size_t h = 0; h < n; h++) {
        const char *host = json_string_value(json_object_get(lives[h],
                                                             "host"));
        const json_t *list = json_object_get(lives[h], name);
        const json_t *item;
        size_t i;

        json_array_foreach (list, i, item) {
            const char *a = json_string_value(json_object_get(item, key1));
            const char *b = (key2
                             ? json_string_value(json_object_get(item, key2))
                             : "");
            char *key;
            json_t *cur;

            if (!a || !b) {
                continue;
            }
            key = xasprintf("%s\n%s\n%s", a, b, per_host && host ? host : "");
            cur = json_object_get(index, key);
            if (!cur) {
                cur = json_deep_copy(item);
                if (per_host && host) {
                    json_object_set_new(cur, "host", json_string(host));
                }
                json_object_set_new(index, key, cur);
            } else {
                add_counters(cur, item, counters);
            }
            free(key);
        }
    }
    sorted = xcalloc(json_object_size(index) + 1, sizeof *sorted);
    json_object_foreach (index, k, v) {
        sorted[n_sorted++] = v;
    }
    qsort(sorted, n_sorted, sizeof *sorted, cmp_live);
    for (size_t i = 0; i < n_sorted && i < top_n; i++) {
        json_array_append(out, (json_t *) sorted[i]);
    }
    free(sorted);
    json_decref(index);
    return out;
}

json_t *
ctl_live_merge(json_t *const *lives, size_t n, size_t top_n)
{
    json_t *out = json_object();
    json_t *total = json_pack("{s:I, s:I, s:I, s:I}", "tx_bytes",
                              (json_int_t) 0, "tx_packets", (json_int_t) 0,
                              "rx_bytes", (json_int_t) 0, "rx_packets",
                              (json_int_t) 0);
    json_t *hosts = json_array();
    json_int_t time = 0;

    for (size_t h = 0; h < n; h++) {
        const json_t *t = json_object_get(lives[h], "time");
        const char *host = json_string_value(json_object_get(lives[h],
                                                             "host"));

        add_counters(total, json_object_get(lives[h], "total"),
                     dir_counters);
        json_array_append_new(hosts, json_string(host ? host : ""));
        if (json_integer_value(t) > time) {
            time = json_integer_value(t);
        }
    }
    json_object_set_new(out, "time", json_integer(time));
    json_object_set_new(out, "hosts", hosts);
    json_object_set_new(out, "total", total);
    json_object_set_new(out, "vms", merge_list(lives, n, "vms", "vm", NULL,
                                               dir_counters, top_n));
    json_object_set_new(out, "tenants",
                        merge_list(lives, n, "tenants", "tenant", NULL,
                                   dir_counters, top_n));
    json_object_set_new(out, "apps", merge_list(lives, n, "apps", "app",
                                                NULL, dir_counters, top_n));
    json_object_set_new(out, "ports",
                        merge_list(lives, n, "ports", "port", NULL,
                                   dir_counters, top_n));
    json_object_set_new(out, "pairs",
                        merge_list(lives, n, "pairs", "src", "dst",
                                   pair_counters, top_n));
    return out;
}

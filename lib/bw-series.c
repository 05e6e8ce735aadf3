/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bandwidth series codec: see bw-series.h.
 */
#include <config.h>

#include "lib/bw-series.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static const struct {
    const char *name;
    unsigned int bin, span;
} resolutions[BW_N_RES] = {
    [BW_RES_S] = { "s", 1, 60 },
    [BW_RES_M] = { "m", 60, 3600 },
    [BW_RES_H] = { "h", 3600, 86400 },
};

const char *
bw_res_name(enum bw_res res)
{
    return resolutions[res].name;
}

bool
bw_res_from_name(const char *name, enum bw_res *res)
{
    for (int i = 0; i < BW_N_RES; i++) {
        if (!strcmp(name, resolutions[i].name)) {
            *res = (enum bw_res) i;
            return true;
        }
    }
    return false;
}

unsigned int
bw_res_bin(enum bw_res res)
{
    return resolutions[res].bin;
}

unsigned int
bw_res_span(enum bw_res res)
{
    return resolutions[res].span;
}

static bool
needs_escape(unsigned char c)
{
    return c <= ' ' || c >= 0x7f || strchr(":*?[]{}\\%", c);
}

char *
bw_escape(const char *s)
{
    size_t n = 0;
    char *out, *p;

    for (const char *q = s; *q; q++) {
        n += needs_escape((unsigned char) *q) ? 3 : 1;
    }
    out = p = xmalloc(n + 1);
    for (const char *q = s; *q; q++) {
        unsigned char c = (unsigned char) *q;

        if (needs_escape(c)) {
            static const char hex[] = "0123456789ABCDEF";

            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        } else {
            *p++ = (char) c;
        }
    }
    *p = '\0';
    return out;
}

static int
hexval(char c)
{
    return (c >= '0' && c <= '9' ? c - '0'
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : -1);
}

void
bw_unescape(char *s)
{
    char *out = s;

    while (*s) {
        if (s[0] == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            *out++ = (char) (hexval(s[1]) * 16 + hexval(s[2]));
            s += 3;
        } else {
            *out++ = *s++;
        }
    }
    *out = '\0';
}

char *
bw_prefix(const char *host, const char *tenant)
{
    char *t, *prefix;

    if (!tenant || !tenant[0]) {
        return xasprintf("vnm:{%s}", host);
    }
    t = bw_escape(tenant);
    prefix = xasprintf("vnm:t:%s:{%s}", t, host);
    free(t);
    return prefix;
}

char *
bw_cov_prefix(const char *host)
{
    return xasprintf("vnm:cov:{%s}", host);
}

char *
bw_tenant_hosts_key(const char *esc)
{
    return xasprintf("vnm:t:%s:bw:hosts", esc);
}

char *
bw_key(const char *prefix, enum bw_res res, const char *kind,
       const char *id, uint64_t t, unsigned int *field)
{
    unsigned int span = resolutions[res].span;
    uint64_t start = t - t % span;
    char *eid = bw_escape(id && id[0] ? id : "-");
    char *key;

    if (field) {
        *field = (unsigned int) ((t - start) / resolutions[res].bin);
    }
    key = xasprintf("%s:bw:%s:%s:%s:%"PRIu64, prefix, resolutions[res].name,
                    kind, eid, start);
    free(eid);
    return key;
}

void
bw_format_s(const struct bw_bin *b, char *buf, size_t size)
{
    snprintf(buf, size, "%"PRIu64" %"PRIu64" %"PRIu64" %"PRIu64,
             b->tx_bytes, b->tx_packets, b->rx_bytes, b->rx_packets);
}

static void
append(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);

    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
}

static void
append_hist(char **buf, size_t *len, size_t *cap, const char *name,
            const struct bw_hist *h)
{
    char tmp[40];

    append(buf, len, cap, name);
    for (uint32_t i = 0; i < h->n; i++) {
        snprintf(tmp, sizeof tmp, "%s%u=%"PRIu32, i ? "," : "",
                 (unsigned int) h->bucket[i], h->count[i]);
        append(buf, len, cap, tmp);
    }
}

char *
bw_format_alloc(const struct bw_bin *b, enum bw_res res)
{
    size_t len = 0, cap = 256;
    char *buf = xmalloc(cap);
    char tmp[BW_VALUE_MAX * 2];

    buf[0] = '\0';
    bw_format_s(b, tmp, sizeof tmp);
    append(&buf, &len, &cap, tmp);
    if (res == BW_RES_S) {
        return buf;
    }
    snprintf(tmp, sizeof tmp, " %"PRIu64" %"PRIu64" %"PRIu64" %"PRIu64
             " %"PRIu64" | ", b->n, b->tx_max_bytes, b->rx_max_bytes,
             b->tx_max_packets, b->rx_max_packets);
    append(&buf, &len, &cap, tmp);
    append_hist(&buf, &len, &cap, "tx:", &b->tx_hist);
    append_hist(&buf, &len, &cap, " rx:", &b->rx_hist);
    return buf;
}

void
bw_bin_init(struct bw_bin *b)
{
    memset(b, 0, sizeof *b);
}

void
bw_bin_uninit(struct bw_bin *b)
{
    free(b->tx_hist.bucket);
    free(b->tx_hist.count);
    free(b->rx_hist.bucket);
    free(b->rx_hist.count);
    memset(b, 0, sizeof *b);
}

/* Parses "B=C,B=C" (possibly empty) up to a space or the end. */
static bool
parse_hist(const char **sp, struct bw_hist *h)
{
    const char *s = *sp;

    while (*s && *s != ' ') {
        char *end;
        unsigned long bucket, count;

        bucket = strtoul(s, &end, 10);
        if (end == s || *end != '=' || bucket >= BW_HIST_BUCKETS) {
            return false;
        }
        s = end + 1;
        count = strtoul(s, &end, 10);
        if (end == s || count > UINT32_MAX) {
            return false;
        }
        s = end;
        bw_hist_add(h, (unsigned int) bucket, (uint32_t) count);
        if (*s == ',') {
            s++;
        } else if (*s && *s != ' ') {
            return false;
        }
    }
    *sp = s;
    return true;
}

bool
bw_parse(const char *s, enum bw_res res, struct bw_bin *b)
{
    uint64_t *fields[] = {
        &b->tx_bytes, &b->tx_packets, &b->rx_bytes, &b->rx_packets,
        &b->n, &b->tx_max_bytes, &b->rx_max_bytes, &b->tx_max_packets,
        &b->rx_max_packets,
    };
    size_t n_fields = res == BW_RES_S ? 4 : 9;

    bw_bin_init(b);
    for (size_t i = 0; i < n_fields; i++) {
        char *end;

        while (*s == ' ') {
            s++;
        }
        if (*s < '0' || *s > '9') {
            goto error;
        }
        *fields[i] = strtoull(s, &end, 10);
        s = end;
    }
    if (res == BW_RES_S) {
        /* The 'ovs' kind appends drops and errors: ignored here. */
        return true;
    }
    while (*s == ' ') {
        s++;
    }
    if (!*s) {
        return true;            /* No histograms. */
    }
    if (strncmp(s, "| tx:", 5)) {
        goto error;
    }
    s += 5;
    if (!parse_hist(&s, &b->tx_hist) || strncmp(s, " rx:", 4)) {
        goto error;
    }
    s += 4;
    if (!parse_hist(&s, &b->rx_hist) || *s) {
        goto error;
    }
    return true;

error:
    bw_bin_uninit(b);
    return false;
}

static void
max_into(uint64_t *a, uint64_t b)
{
    if (b > *a) {
        *a = b;
    }
}

void
bw_bin_fold_second(struct bw_bin *r, const struct bw_bin *s)
{
    r->tx_bytes += s->tx_bytes;
    r->tx_packets += s->tx_packets;
    r->rx_bytes += s->rx_bytes;
    r->rx_packets += s->rx_packets;
    r->n++;
    max_into(&r->tx_max_bytes, s->tx_bytes);
    max_into(&r->rx_max_bytes, s->rx_bytes);
    max_into(&r->tx_max_packets, s->tx_packets);
    max_into(&r->rx_max_packets, s->rx_packets);
    bw_hist_add(&r->tx_hist, bw_hist_bucket(s->tx_bytes), 1);
    bw_hist_add(&r->rx_hist, bw_hist_bucket(s->rx_bytes), 1);
}

static void
merge_hist(struct bw_hist *a, const struct bw_hist *b)
{
    for (uint32_t i = 0; i < b->n; i++) {
        bw_hist_add(a, b->bucket[i], b->count[i]);
    }
}

void
bw_bin_merge(struct bw_bin *a, const struct bw_bin *b)
{
    a->tx_bytes += b->tx_bytes;
    a->tx_packets += b->tx_packets;
    a->rx_bytes += b->rx_bytes;
    a->rx_packets += b->rx_packets;
    a->n += b->n;
    max_into(&a->tx_max_bytes, b->tx_max_bytes);
    max_into(&a->rx_max_bytes, b->rx_max_bytes);
    max_into(&a->tx_max_packets, b->tx_max_packets);
    max_into(&a->rx_max_packets, b->rx_max_packets);
    merge_hist(&a->tx_hist, &b->tx_hist);
    merge_hist(&a->rx_hist, &b->rx_hist);
}

unsigned int
bw_hist_bucket(uint64_t v)
{
    unsigned int b;

    if (!v) {
        return 0;
    }
    b = (unsigned int) floor(BW_HIST_STEPS * log2((double) v)) + 1;
    return b < BW_HIST_BUCKETS ? b : BW_HIST_BUCKETS - 1;
}

double
bw_hist_value(unsigned int bucket)
{
    return (bucket
            ? exp2(((double) bucket - 1 + 0.5) / BW_HIST_STEPS)
            : 0.0);
}

/* Keeps buckets sorted. */
void
bw_hist_add(struct bw_hist *h, unsigned int bucket, uint32_t count)
{
    uint32_t i;

    for (i = 0; i < h->n && h->bucket[i] < bucket; i++) {
        continue;
    }
    if (i < h->n && h->bucket[i] == bucket) {
        h->count[i] += count;
        return;
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 8;
        h->bucket = xrealloc(h->bucket, h->cap * sizeof *h->bucket);
        h->count = xrealloc(h->count, h->cap * sizeof *h->count);
    }
    memmove(&h->bucket[i + 1], &h->bucket[i],
            (h->n - i) * sizeof *h->bucket);
    memmove(&h->count[i + 1], &h->count[i], (h->n - i) * sizeof *h->count);
    h->bucket[i] = (uint16_t) bucket;
    h->count[i] = count;
    h->n++;
}

void
bw_hist_clear(struct bw_hist *h)
{
    h->n = 0;
}

double
bw_hist_quantile(const struct bw_hist *h, double q)
{
    return bw_hist_quantile_zeros(h, 0, q);
}

double
bw_hist_quantile_zeros(const struct bw_hist *h, uint64_t zeros, double q)
{
    uint64_t total = zeros, rank, seen = zeros;

    for (uint32_t i = 0; i < h->n; i++) {
        total += h->count[i];
    }
    if (!total) {
        return 0.0;
    }
    /* Nearest rank: the smallest value with at least q * total samples at
     * or below it, the zeros first (bucket 0 is the smallest). */
    rank = (uint64_t) ceil(q * (double) total);
    if (rank < 1) {
        rank = 1;
    }
    if (seen >= rank) {
        return 0.0;
    }
    for (uint32_t i = 0; i < h->n; i++) {
        seen += h->count[i];
        if (seen >= rank) {
            return bw_hist_value(h->bucket[i]);
        }
    }
    return bw_hist_value(h->bucket[h->n - 1]);
}

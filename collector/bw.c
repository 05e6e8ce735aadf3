/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bandwidth aggregator: see bw.h, and lib/bw-series.h for the schema.
 *
 * State:
 *   - entities (host, ports, VMs, tenants, applications, 'ovs' series) in a
 *     hash table, each with its counters of the open seconds (a ring of
 *     N_OPEN slots tagged with their second), its running minute and hour
 *     rollups, and cumulative totals;
 *   - per open second, the entities it touched and a map of VM pairs;
 *   - the minute's and the hour's pair maps (bounded);
 *   - the outage buffer: batches of Redis commands, one per closed second
 *     (1-s bins, live view) or rollup (1-min/1-h bins, index), kept until
 *     a flush is known to have delivered them.
 *
 * Delivery: bw_flush() appends the batches not yet delivered to the
 * pipeline; the daemon flushes it.  A flush that fails starts an outage
 * (lib/redis.h counts them), so "connected, and no new outage since the
 * batches were appended" means they were delivered.  While Redis is away
 * 1-s batches pile up to 'buffer_seconds'; beyond, the oldest is dropped
 * and its second joins the gap that is written once Redis is back.
 * Rollups keep aggregating in memory through any outage: they lose
 * nothing, only the 1-s bins of a gap are missing.
 */
#include <config.h>

#include "collector/bw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/flow-codec.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "lib/redis.h"
#include "lib/util.h"

VNM_LOG_MODULE(bw);

enum {
    N_OPEN = 8,                 /* Open seconds at once (ring slots). */
    MAX_PAIRS = 65536,          /* Pairs tracked per minute/hour map. */
    MAX_ROLLUP_BATCHES = 1500,  /* Rollup batches kept through an outage
                                 * (a day of minutes). */
    LIVE_TTL_S = 10,
    LEARNED_SLOTS = 4096,       /* Addresses remembered (a power of 2). */
};

/* Per-second counters of one entity. */
struct counters {
    uint64_t tx_bytes, tx_packets, rx_bytes, rx_packets;
};

/* Drops, errors: the 'ovs' series' extra counters. */
struct ovs_extra {
    uint64_t rx_dropped, tx_dropped, rx_errors, tx_errors;
};

struct slot {
    uint64_t sec;               /* 0: unused. */
    struct counters c;
    struct ovs_extra x;
};

/* A link in a chained hash table (entities, pairs); first member of
 * what it links, so a node pointer is its container's. */
struct hnode {
    struct hnode *next;
    uint32_t hash;
};

/* A chained hash table. */
struct htable {
    struct hnode **buckets;
    size_t n, n_buckets;        /* Nodes, buckets (a power of 2). */
};

struct entity {
    struct hnode node;          /* In 'entities', by kind, id, tenant. */
    const char *kind;           /* Static: "host", "port"... */
    char *id;                   /* "-" for host and tenant. */
    char *tenant;               /* "" if none. */
    char *prefix;               /* bw_prefix(host, tenant). */
    char *index_member;         /* "KIND:ID" escaped. */
    char *port_kind;            /* Ports: "vm", "uplink"... */
    char *vm;                   /* Ports: their VM, or "". */
    uint64_t link_speed;        /* Ports: bit/s. */
    struct bw_ovs_counters *ovs_last; /* 'ovs': last sample, or NULL. */

    struct slot open[N_OPEN];
    struct bw_bin m, h;         /* Running rollups. */
    bool in_m, in_h;            /* On the minute's / hour's list. */
    uint64_t expire_set[BW_N_RES]; /* Span whose EXPIREAT was sent. */
    struct bw_totals totals;
};

/* A directed pair's counters. */
struct pair {
    struct hnode node;          /* In its map, by name. */
    char *name;                 /* "SRC>DST". */
    uint64_t bytes, packets;
};

struct pair_map {
    struct htable t;
    uint64_t n_overflow;        /* Additions refused when full. */
};

struct open_second {
    uint64_t sec;               /* 0: unused. */
    struct entity **touched;
    size_t n_touched, cap_touched;
    struct pair_map pairs;
};

/* A batch of Redis commands: each command a NUL-separated argv. */
struct batch {
    struct batch *next;
    bool rollup;                /* Else one second's 1-s bins. */
    uint64_t sec;               /* The second (1-s batches). */
    int n_cmds;
    int *argc;
    char **args;                /* Per command: argc strings back to back. */
    size_t *lens;               /* Per command: total bytes of 'args'. */
    int cap;
    bool sent;                  /* Appended since the last known outage. */
};

struct bw {
    struct bw_config cfg;
    char *host;
    char *host_prefix;          /* "vnm:{HOST}". */
    bw_resolve_func *resolve;
    void *aux;

    struct htable entities;
    struct entity *host_ent;
    struct entity *cov_ent;     /* The host's coverage for tenants: kind
                                 * "cov" (lib/bw-series.h). */

    struct open_second open[N_OPEN];
    uint64_t closed;            /* Last closed second, 0: none yet. */
    uint64_t first_closed;

    struct entity **m_list, **h_list;
    size_t n_m, cap_m, n_h, cap_h;
    struct entity **tenant_ents; /* Every "tenant" entity: each has its
                                  * live view. */
    size_t n_tenant_ents, cap_tenant_ents;
    struct pair_map m_pairs, h_pairs;
    uint64_t m_start, h_start;  /* Spans being rolled up. */

    struct batch *head, *tail;  /* Undelivered batches, oldest first. */
    size_t n_second_batches, n_rollup_batches;
    uint64_t sent_outages;      /* Redis outage count when last sent. */
    uint64_t gap_start, gap_end; /* Seconds dropped, [start, end). */
    char *live;                 /* Last live view JSON. */
    uint64_t live_sec;

    /* Learned: addresses of sides whose port is known, direct-mapped by
     * hash (a newer address takes an older one's slot). */
    struct learned {
        struct vnm_addr ip;
        uint32_t port_id;
    } learned[LEARNED_SLOTS];


    bool based;                 /* Rollups of a previous run merged in. */

    /* Statistics. */
    uint64_t n_based;
    uint64_t n_deltas, n_late, n_forced, n_seconds, n_commands;
    uint64_t n_dropped_seconds, n_gaps, n_unknown_side;
    uint64_t n_batches_sent;
};

/* Configuration. */

char *
bw_config_read(const struct vnm_conf *c, struct bw_config *cfg)
{
    int64_t ms[BW_N_RES];
    char *error;

    if ((error = vnm_conf_get_duration(c, "retention_1s",
                                       BW_DEFAULT_RETENTION_S * 1000,
                                       60 * 1000, 7LL * 86400 * 1000,
                                       &ms[BW_RES_S]))
        || (error = vnm_conf_get_duration(c, "retention_1m",
                                          BW_DEFAULT_RETENTION_M * 1000LL,
                                          3600 * 1000,
                                          400LL * 86400 * 1000,
                                          &ms[BW_RES_M]))
        || (error = vnm_conf_get_duration(c, "retention_1h",
                                          BW_DEFAULT_RETENTION_H * 1000LL,
                                          86400 * 1000,
                                          3650LL * 86400 * 1000,
                                          &ms[BW_RES_H]))
        || (error = vnm_conf_get_duration(c, "buffer", 300 * 1000, 1000,
                                          86400 * 1000, &cfg->buffer_seconds))
        || (error = vnm_conf_get_int(c, "top_pairs", 100, 1, 10000,
                                     &cfg->top_pairs))
        || (error = vnm_conf_get_int(c, "live_top", 20, 1, 1000,
                                     &cfg->live_top))) {
        return error;
    }
    for (int r = 0; r < BW_N_RES; r++) {
        cfg->retention[r] = ms[r] / 1000;
    }
    cfg->buffer_seconds /= 1000;
    return NULL;
}

/* Hashing: keyed, since pair names hold addresses that whoever sends
 * frames chooses. */

static uint64_t hash_key[2];

static uint32_t
hash_strs(const char *a, const char *b, const char *c)
{
    /* The three strings with their NULs, so ("ab", "c") != ("a", "bc"). */
    size_t la = strlen(a) + 1, lb = strlen(b) + 1, lc = strlen(c) + 1;
    char stack[256];
    char *buf = la + lb + lc <= sizeof stack ? stack
                                             : xmalloc(la + lb + lc);
    uint32_t h;

    memcpy(buf, a, la);
    memcpy(buf + la, b, lb);
    memcpy(buf + la + lb, c, lc);
    h = (uint32_t) vnm_siphash13(hash_key, buf, la + lb + lc);
    if (buf != stack) {
        free(buf);
    }
    return h;
}

/* Every node of 't', as NODE (not for removing them). */
#define HTABLE_FOR_EACH(NODE, T)                                        \
    for (size_t NODE##_i = 0; NODE##_i < (T)->n_buckets; NODE##_i++)    \
        for (struct hnode *NODE = (T)->buckets[NODE##_i]; NODE;         \
             NODE = NODE->next)

/* Frees every node of 't' with 'free_node', and the buckets. */
static void
htable_destroy(struct htable *t, void (*free_node)(struct hnode *))
{
    for (size_t i = 0; i < t->n_buckets; i++) {
        struct hnode *n, *next;

        for (n = t->buckets[i]; n; n = next) {
            next = n->next;
            free_node(n);
        }
    }
    free(t->buckets);
    memset(t, 0, sizeof *t);
}

/* The first node of 't''s chain for 'hash'. */
static struct hnode *
htable_first(const struct htable *t, uint32_t hash)
{
    return t->n_buckets ? t->buckets[hash & (t->n_buckets - 1)] : NULL;
}

/* Adds 'node' (its 'hash' set), doubling the buckets as nodes outnumber
 * them. */
static void
htable_insert(struct htable *t, struct hnode *node)
{
    struct hnode **b;

    if (t->n >= t->n_buckets) {
        size_t n = t->n_buckets ? t->n_buckets * 2 : 64;

        b = xcalloc(n, sizeof *b);
        for (size_t i = 0; i < t->n_buckets; i++) {
            struct hnode *e, *next;

            for (e = t->buckets[i]; e; e = next) {
                next = e->next;
                e->next = b[e->hash & (n - 1)];
                b[e->hash & (n - 1)] = e;
            }
        }
        free(t->buckets);
        t->buckets = b;
        t->n_buckets = n;
    }
    b = &t->buckets[node->hash & (t->n_buckets - 1)];
    node->next = *b;
    *b = node;
    t->n++;
}

static void list_add(struct entity ***list, size_t *n, size_t *cap,
                     struct entity *e);

static struct entity *
entity_get(struct bw *bw, const char *kind, const char *id,
           const char *tenant)
{
    uint32_t h = hash_strs(kind, id, tenant);
    struct entity *e;
    char *eid;

    for (struct hnode *n = htable_first(&bw->entities, h); n; n = n->next) {
        e = (struct entity *) n;
        if (n->hash == h && !strcmp(e->kind, kind) && !strcmp(e->id, id)
            && !strcmp(e->tenant, tenant)) {
            return e;
        }
    }
    e = xzalloc(sizeof *e);
    e->node.hash = h;
    e->kind = kind;
    e->id = xstrdup(id);
    e->tenant = xstrdup(tenant);
    e->prefix = bw_prefix(bw->host, tenant);
    eid = bw_escape(id);
    e->index_member = xasprintf("%s:%s", kind, eid);
    free(eid);
    e->port_kind = xstrdup("");
    e->vm = xstrdup("");
    bw_bin_init(&e->m);
    bw_bin_init(&e->h);
    htable_insert(&bw->entities, &e->node);
    if (!strcmp(kind, "tenant")) {
        list_add(&bw->tenant_ents, &bw->n_tenant_ents, &bw->cap_tenant_ents,
                 e);
    }
    return e;
}

static void
entity_free(struct hnode *node)
{
    struct entity *e = (struct entity *) node;

    free(e->id);
    free(e->tenant);
    free(e->prefix);
    free(e->index_member);
    free(e->port_kind);
    free(e->vm);
    free(e->ovs_last);
    bw_bin_uninit(&e->m);
    bw_bin_uninit(&e->h);
    free(e);
}

/* Pair maps. */

static void
pair_free(struct hnode *node)
{
    free(((struct pair *) node)->name);
    free(node);
}

static void
pair_map_clear(struct pair_map *m)
{
    htable_destroy(&m->t, pair_free);
    m->n_overflow = 0;
}

static void
pair_map_add(struct pair_map *m, const char *name, uint64_t bytes,
             uint64_t packets)
{
    uint32_t h = hash_strs(name, "", "");
    struct pair *p;

    for (struct hnode *n = htable_first(&m->t, h); n; n = n->next) {
        p = (struct pair *) n;
        if (n->hash == h && !strcmp(p->name, name)) {
            p->bytes += bytes;
            p->packets += packets;
            return;
        }
    }
    if (m->t.n >= MAX_PAIRS) {
        m->n_overflow++;
        return;
    }
    p = xzalloc(sizeof *p);
    p->node.hash = h;
    p->name = xstrdup(name);
    p->bytes = bytes;
    p->packets = packets;
    htable_insert(&m->t, &p->node);
}

static int
compare_pairs(const void *a_, const void *b_)
{
    const struct pair *a = *(const struct pair *const *) a_;
    const struct pair *b = *(const struct pair *const *) b_;

    return (a->bytes < b->bytes ? 1 : a->bytes > b->bytes ? -1
            : strcmp(a->name, b->name));
}

/* The pairs of 'm', busiest first; '*n' gets their number (at most
 * 'limit').  Caller frees the array. */
static struct pair **
pair_map_top(const struct pair_map *m, size_t limit, size_t *n)
{
    struct pair **v = xcalloc(m->t.n + 1, sizeof *v);
    size_t k = 0;

    HTABLE_FOR_EACH (node, &m->t) {
        v[k++] = (struct pair *) node;
    }
    qsort(v, k, sizeof *v, compare_pairs);
    *n = k < limit ? k : limit;
    return v;
}

/* Batches. */

static struct batch *
batch_new(struct bw *bw, bool rollup, uint64_t sec)
{
    struct batch *b = xzalloc(sizeof *b);

    b->rollup = rollup;
    b->sec = sec;
    if (bw->tail) {
        bw->tail->next = b;
    } else {
        bw->head = b;
    }
    bw->tail = b;
    if (rollup) {
        bw->n_rollup_batches++;
    } else {
        bw->n_second_batches++;
    }
    return b;
}

/* Adds a command of 'argc' strings to 'b'. */
static void
batch_cmd(struct batch *b, int argc, const char *const *argv)
{
    size_t len = 0;
    char *p;

    if (b->n_cmds == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->argc = xrealloc(b->argc, b->cap * sizeof *b->argc);
        b->args = xrealloc(b->args, b->cap * sizeof *b->args);
        b->lens = xrealloc(b->lens, b->cap * sizeof *b->lens);
    }
    for (int i = 0; i < argc; i++) {
        len += strlen(argv[i]) + 1;
    }
    p = b->args[b->n_cmds] = xmalloc(len);
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]) + 1;

        memcpy(p, argv[i], n);
        p += n;
    }
    b->argc[b->n_cmds] = argc;
    b->lens[b->n_cmds] = len;
    b->n_cmds++;
}

static void
batch_free(struct batch *b)
{
    for (int i = 0; i < b->n_cmds; i++) {
        free(b->args[i]);
    }
    free(b->argc);
    free(b->args);
    free(b->lens);
    free(b);
}

/* Removes 'b', the head, from the queue. */
static void
batch_pop(struct bw *bw)
{
    struct batch *b = bw->head;

    bw->head = b->next;
    if (!bw->head) {
        bw->tail = NULL;
    }
    if (b->rollup) {
        bw->n_rollup_batches--;
    } else {
        bw->n_second_batches--;
    }
    batch_free(b);
}

/* Appends every command of 'b' to 'r'.  Returns false if Redis refused
 * (not connected). */
static bool
batch_send(struct bw *bw, struct batch *b, struct vnm_redis *r)
{
    for (int i = 0; i < b->n_cmds; i++) {
        const char *argv[16];
        size_t argvlen[16];
        const char *p = b->args[i];
        int argc = b->argc[i];

        for (int k = 0; k < argc && k < 16; k++) {
            argv[k] = p;
            argvlen[k] = strlen(p);
            p += argvlen[k] + 1;
        }
        if (vnm_redis_append_argv(r, argc, argv, argvlen)) {
            return false;
        }
        bw->n_commands++;
    }
    b->sent = true;
    bw->n_batches_sent++;
    return true;
}

/* Forgets which spans have their EXPIREAT, so that the next write of each
 * sends it again (a dropped batch may have carried it). */
static void
forget_expires(struct bw *bw)
{
    HTABLE_FOR_EACH (n, &bw->entities) {
        struct entity *e = (struct entity *) n;

        memset(e->expire_set, 0, sizeof e->expire_set);
    }
}

/* Batches of one kind not yet appended to the pipeline. */
static size_t
n_unsent(const struct bw *bw, bool rollup)
{
    size_t n = 0;

    for (const struct batch *b = bw->head; b; b = b->next) {
        n += !b->sent && b->rollup == rollup;
    }
    return n;
}

/* Drops the oldest unsent 1-s batches beyond the buffer, extending the
 * gap (and rollup batches beyond theirs).  Batches sent and awaiting
 * confirmation stay: they are not waiting on Redis. */
static void
enforce_buffer(struct bw *bw)
{
    bool dropped = false;

    for (int kind = 0; kind < 2; kind++) {
        bool rollup = kind;
        size_t limit = rollup ? MAX_ROLLUP_BATCHES
                              : (size_t) bw->cfg.buffer_seconds;
        size_t n = n_unsent(bw, rollup);

        while (n > limit) {
            struct batch **pp, *b;

            for (pp = &bw->head; *pp && ((*pp)->rollup != rollup
                                         || (*pp)->sent);
                 pp = &(*pp)->next) {
                continue;
            }
            b = *pp;
            if (!rollup) {
                if (!bw->gap_end) {
                    bw->gap_start = b->sec;
                }
                bw->gap_end = b->sec + 1;
                bw->n_dropped_seconds++;
                bw->n_second_batches--;
            } else {
                bw->n_rollup_batches--;
            }
            *pp = b->next;
            if (bw->tail == b) {
                struct batch *t = bw->head;

                while (t && t->next) {
                    t = t->next;
                }
                bw->tail = t;
            }
            batch_free(b);
            dropped = true;
            n--;
        }
    }
    if (dropped) {
        forget_expires(bw);
    }
}

/* Writing. */

/* Adds to 'b' the HSET of 'value' in the span of 't' at resolution 'res'
 * of 'e', and the span's EXPIREAT the first time. */
static void
write_bin(struct bw *bw, struct batch *b, struct entity *e, enum bw_res res,
          uint64_t t, const char *value)
{
    unsigned int field;
    char *key = bw_key(e->prefix, res, e->kind, e->id, t, &field);
    uint64_t span = bw_res_span(res);
    uint64_t start = t - t % span;
    char fbuf[16], tbuf[24];

    snprintf(fbuf, sizeof fbuf, "%u", field);
    batch_cmd(b, 4, (const char *[]) { "HSET", key, fbuf, value });
    if (e->expire_set[res] != start) {
        snprintf(tbuf, sizeof tbuf, "%"PRIu64,
                 start + span + (uint64_t) bw->cfg.retention[res]);
        batch_cmd(b, 3, (const char *[]) { "EXPIREAT", key, tbuf });
        e->expire_set[res] = start;
    }
    free(key);
}

static void
list_add(struct entity ***list, size_t *n, size_t *cap, struct entity *e)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *list = xrealloc(*list, *cap * sizeof **list);
    }
    (*list)[(*n)++] = e;
}

static void
bin_from_counters(struct bw_bin *s, const struct counters *c)
{
    bw_bin_init(s);
    s->tx_bytes = c->tx_bytes;
    s->tx_packets = c->tx_packets;
    s->rx_bytes = c->rx_bytes;
    s->rx_packets = c->rx_packets;
}

/* Folds second 'sec' (counters 'c') of 'e' into its rollups. */
static void
fold(struct bw *bw, struct entity *e, const struct counters *c)
{
    struct bw_bin s;

    bin_from_counters(&s, c);
    bw_bin_fold_second(&e->m, &s);
    bw_bin_fold_second(&e->h, &s);
    if (!e->in_m) {
        e->in_m = true;
        list_add(&bw->m_list, &bw->n_m, &bw->cap_m, e);
    }
    if (!e->in_h) {
        e->in_h = true;
        list_add(&bw->h_list, &bw->n_h, &bw->cap_h, e);
    }
}

static void
set_counters(json_t *o, const struct counters *c)
{
    json_object_set_new(o, "tx_bytes", json_integer((json_int_t) c->tx_bytes));
    json_object_set_new(o, "tx_packets",
                        json_integer((json_int_t) c->tx_packets));
    json_object_set_new(o, "rx_bytes", json_integer((json_int_t) c->rx_bytes));
    json_object_set_new(o, "rx_packets",
                        json_integer((json_int_t) c->rx_packets));
}

struct ranked {
    struct entity *e;
    const struct counters *c;
};

static int
compare_ranked(const void *a_, const void *b_)
{
    const struct ranked *a = a_, *b = b_;
    uint64_t x = a->c->tx_bytes + a->c->rx_bytes;
    uint64_t y = b->c->tx_bytes + b->c->rx_bytes;

    return x < y ? 1 : x > y ? -1 : strcmp(a->e->id, b->e->id);
}

/* The live view of second 'sec' (slot 'k' of each entity): the host's, or
 * if 'tenant' (a "tenant" entity) is non-null that tenant's, with only its
 * VMs and ports, and no applications nor pairs (host-wide, or naming other
 * tenants' VMs). */
static char *
live_json(struct bw *bw, struct open_second *os, int k,
          const struct entity *tenant)
{
    static const char *const lists[][2] = {
        { "vm", "vms" }, { "tenant", "tenants" }, { "app", "apps" },
        { "port", "ports" },
    };
    json_t *live = json_object();
    json_t *total = json_object();
    struct ranked *v = xcalloc(os->n_touched + 1, sizeof *v);
    struct pair **pairs;
    json_t *jpairs = json_array();
    size_t n_pairs;
    char *s;

    json_object_set_new(live, "host", json_string(bw->host));
    json_object_set_new(live, "time", json_integer((json_int_t) os->sec));
    if (tenant) {
        static const struct counters zero;

        json_object_set_new(live, "tenant", json_string(tenant->tenant));
        set_counters(total, (tenant->open[k].sec == os->sec
                             ? &tenant->open[k].c : &zero));
    } else {
        set_counters(total, &bw->host_ent->open[k].c);
    }
    json_object_set_new(live, "total", total);
    for (size_t l = 0; l < VNM_ARRAY_SIZE(lists); l++) {
        json_t *arr = json_array();
        size_t n = 0;

        for (size_t i = 0; i < os->n_touched; i++) {
            struct entity *e = os->touched[i];

            if (tenant && (strcmp(e->tenant, tenant->tenant)
                           || !strcmp(e->kind, "app"))) {
                continue;
            }
            if (!strcmp(e->kind, lists[l][0])) {
                v[n].e = e;
                v[n].c = &e->open[k].c;
                n++;
            }
        }
        qsort(v, n, sizeof *v, compare_ranked);
        for (size_t i = 0; i < n && i < (size_t) bw->cfg.live_top; i++) {
            struct entity *e = v[i].e;
            json_t *o = json_object();

            if (!strcmp(e->kind, "vm")) {
                json_object_set_new(o, "vm", json_string(e->id));
                json_object_set_new(o, "tenant", json_string(e->tenant));
            } else if (!strcmp(e->kind, "tenant")) {
                json_object_set_new(o, "tenant", json_string(e->tenant));
            } else if (!strcmp(e->kind, "app")) {
                json_object_set_new(o, "app", json_string(e->id));
            } else {
                json_object_set_new(o, "port", json_string(e->id));
                json_object_set_new(o, "kind", json_string(e->port_kind));
                json_object_set_new(o, "vm", json_string(e->vm));
                json_object_set_new(o, "tenant", json_string(e->tenant));
                json_object_set_new(o, "link_speed",
                                    json_integer((json_int_t) e->link_speed));
            }
            set_counters(o, v[i].c);
            json_array_append_new(arr, o);
        }
        json_object_set_new(live, lists[l][1], arr);
    }
    /* A VM's ports, for the live view's "vms" entries. */
    {
        json_t *vms = json_object_get(live, "vms");
        json_t *vmo;
        size_t i;

        json_array_foreach (vms, i, vmo) {
            json_t *ports = json_array();
            const char *vm = json_string_value(json_object_get(vmo, "vm"));

            for (size_t j = 0; j < os->n_touched; j++) {
                struct entity *e = os->touched[j];

                if (!strcmp(e->kind, "port") && !strcmp(e->vm, vm)) {
                    json_array_append_new(ports, json_string(e->id));
                }
            }
            json_object_set_new(vmo, "ports", ports);
        }
    }
    pairs = (tenant ? NULL
             : pair_map_top(&os->pairs, (size_t) bw->cfg.live_top,
                            &n_pairs));
    if (!pairs) {
        n_pairs = 0;
    }
    for (size_t i = 0; i < n_pairs; i++) {
        const char *gt = strchr(pairs[i]->name, '>');
        char *src = xstrndup(pairs[i]->name,
                             (size_t) (gt - pairs[i]->name));

        json_array_append_new(jpairs, json_pack(
            "{s:s, s:s, s:I, s:I}", "src", src, "dst", gt + 1,
            "bytes", (json_int_t) pairs[i]->bytes,
            "packets", (json_int_t) pairs[i]->packets));
        free(src);
    }
    free(pairs);
    json_object_set_new(live, "pairs", jpairs);
    s = json_dumps(live, JSON_COMPACT);
    json_decref(live);
    free(v);
    return s;
}

static void
value_s(const struct counters *c, char *buf, size_t size)
{
    snprintf(buf, size, "%"PRIu64" %"PRIu64" %"PRIu64" %"PRIu64,
             c->tx_bytes, c->tx_packets, c->rx_bytes, c->rx_packets);
}

/* Writes the rollups of the entities on 'list' at resolution 'res' for the
 * span containing 't' into 'b'; resets them if 'reset'. */
static void
write_rollups(struct bw *bw, struct batch *b, enum bw_res res, uint64_t t,
              bool reset)
{
    struct entity **list = res == BW_RES_M ? bw->m_list : bw->h_list;
    size_t n = res == BW_RES_M ? bw->n_m : bw->n_h;
    char score[24];

    snprintf(score, sizeof score, "%"PRIu64, t);
    for (size_t i = 0; i < n; i++) {
        struct entity *e = list[i];
        struct bw_bin *bin = res == BW_RES_M ? &e->m : &e->h;
        char *value = bw_format_alloc(bin, res);

        write_bin(bw, b, e, res, t, value);
        free(value);
        if (res == BW_RES_M && e != bw->host_ent && e != bw->cov_ent) {
            char *index = xasprintf("%s:bw:index", e->prefix);

            batch_cmd(b, 4, (const char *[]) { "ZADD", index, score,
                                               e->index_member });
            free(index);
            if (e->tenant[0]) {
                char *tenants = xasprintf("%s:bw:tenants", bw->host_prefix);
                char *et = bw_escape(e->tenant);
                /* The tenant's own list of hosts: what its Redis user
                 * (vnmonctl tenant add) can read to find its series. */
                char *thosts = bw_tenant_hosts_key(et);

                batch_cmd(b, 3, (const char *[]) { "SADD", tenants, et });
                batch_cmd(b, 3, (const char *[]) { "SADD", thosts,
                                                   bw->host });
                free(thosts);
                free(tenants);
                free(et);
            }
        }
        if (reset) {
            bw_bin_uninit(bin);
            bw_bin_init(bin);
            if (res == BW_RES_M) {
                e->in_m = false;
            } else {
                e->in_h = false;
            }
        }
    }
    if (reset) {
        if (res == BW_RES_M) {
            bw->n_m = 0;
        } else {
            bw->n_h = 0;
        }
    }
}

/* Writes pair map 'm' (top pairs) as the pairs bin of resolution 'res'
 * starting at 'start'. */
static void
write_pairs(struct bw *bw, struct batch *b, const struct pair_map *m,
            enum bw_res res, uint64_t start)
{
    size_t n;
    struct pair **top = pair_map_top(m, (size_t) bw->cfg.top_pairs, &n);
    char *key = xasprintf("%s:bw:pairs:%s:%"PRIu64, bw->host_prefix,
                          bw_res_name(res), start);
    char tbuf[24];

    for (size_t i = 0; i < n; i++) {
        char value[48];

        snprintf(value, sizeof value, "%"PRIu64" %"PRIu64, top[i]->bytes,
                 top[i]->packets);
        batch_cmd(b, 4, (const char *[]) { "HSET", key, top[i]->name,
                                           value });
    }
    if (n) {
        snprintf(tbuf, sizeof tbuf, "%"PRIu64,
                 start + bw_res_span(res) + (uint64_t) bw->cfg.retention[res]);
        batch_cmd(b, 3, (const char *[]) { "EXPIREAT", key, tbuf });
    }
    free(key);
    free(top);
}

/* Closes open second 'os' (slot 'k'). */
static void
close_second(struct bw *bw, struct open_second *os, int k)
{
    uint64_t sec = os->sec;
    struct batch *b = batch_new(bw, false, sec);
    struct entity *host = bw->host_ent;
    char value[BW_VALUE_MAX];

    /* The host: written every recorded second. */
    if (host->open[k].sec != sec) {
        memset(&host->open[k], 0, sizeof host->open[k]);
        host->open[k].sec = sec;
    }
    value_s(&host->open[k].c, value, sizeof value);
    write_bin(bw, b, host, BW_RES_S, sec, value);
    fold(bw, host, &host->open[k].c);
    /* Its coverage, for tenants: the same seconds, no counters. */
    {
        static const struct counters zero;

        value_s(&zero, value, sizeof value);
        write_bin(bw, b, bw->cov_ent, BW_RES_S, sec, value);
        fold(bw, bw->cov_ent, &zero);
    }

    for (size_t i = 0; i < os->n_touched; i++) {
        struct entity *e = os->touched[i];
        struct slot *sl = &e->open[k];

        if (e == host) {
            continue;
        }
        if (!strcmp(e->kind, "ovs")) {
            snprintf(value, sizeof value, "%"PRIu64" %"PRIu64" %"PRIu64
                     " %"PRIu64" %"PRIu64" %"PRIu64" %"PRIu64" %"PRIu64,
                     sl->c.tx_bytes, sl->c.tx_packets, sl->c.rx_bytes,
                     sl->c.rx_packets, sl->x.rx_dropped, sl->x.tx_dropped,
                     sl->x.rx_errors, sl->x.tx_errors);
        } else {
            value_s(&sl->c, value, sizeof value);
        }
        write_bin(bw, b, e, BW_RES_S, sec, value);
        fold(bw, e, &sl->c);
    }

    /* Live view. */
    free(bw->live);
    bw->live = live_json(bw, os, k, NULL);
    bw->live_sec = sec;
    {
        char *key = xasprintf("%s:bw:live", bw->host_prefix);
        char ttl[16];

        snprintf(ttl, sizeof ttl, "%d", LIVE_TTL_S);
        batch_cmd(b, 5, (const char *[]) { "SET", key, bw->live, "EX",
                                           ttl });
        free(key);
        /* Each tenant's own live view, every second (its Redis user
         * cannot read the host's). */
        for (size_t i = 0; i < bw->n_tenant_ents; i++) {
            struct entity *te = bw->tenant_ents[i];
            char *tlive = live_json(bw, os, k, te);

            key = xasprintf("%s:bw:live", te->prefix);
            batch_cmd(b, 5, (const char *[]) { "SET", key, tlive, "EX",
                                               ttl });
            free(key);
            free(tlive);
        }
        if (!bw->first_closed) {
            /* Readers find hosts here: at once, not at the first minute's
             * end. */
            batch_cmd(b, 3, (const char *[]) { "SADD", "vnm:bw:hosts",
                                               bw->host });
        }
    }

    /* Pairs into the minute's and hour's maps. */
    HTABLE_FOR_EACH (n, &os->pairs.t) {
        const struct pair *p = (const struct pair *) n;

        pair_map_add(&bw->m_pairs, p->name, p->bytes, p->packets);
        pair_map_add(&bw->h_pairs, p->name, p->bytes, p->packets);
    }

    /* Minute and hour ends. */
    if ((sec + 1) % 60 == 0) {
        struct batch *rb = batch_new(bw, true, sec);
        char *hosts_key = xstrdup("vnm:bw:hosts");

        write_rollups(bw, rb, BW_RES_M, sec, true);
        write_pairs(bw, rb, &bw->m_pairs, BW_RES_M, sec - sec % 60);
        pair_map_clear(&bw->m_pairs);
        /* The hour so far, rewritten each minute; final at its end. */
        write_rollups(bw, rb, BW_RES_H, sec, (sec + 1) % 3600 == 0);
        if ((sec + 1) % 3600 == 0) {
            write_pairs(bw, rb, &bw->h_pairs, BW_RES_H, sec - sec % 3600);
            pair_map_clear(&bw->h_pairs);
        }
        batch_cmd(rb, 3, (const char *[]) { "SADD", hosts_key, bw->host });
        free(hosts_key);
    }

    /* Free the slot. */
    for (size_t i = 0; i < os->n_touched; i++) {
        memset(&os->touched[i]->open[k], 0, sizeof os->touched[i]->open[k]);
    }
    memset(&host->open[k], 0, sizeof host->open[k]);
    os->n_touched = 0;
    pair_map_clear(&os->pairs);
    os->sec = 0;
    bw->n_seconds++;
    if (!bw->first_closed) {
        bw->first_closed = sec;
    }
    bw->closed = sec;
}

/* Closes every second up to 'sec' in order, the silent ones too. */
static void
close_through(struct bw *bw, uint64_t sec)
{
    if (!bw->closed) {
        /* Start with the earliest open second, or 'sec'. */
        uint64_t first = sec;

        for (int k = 0; k < N_OPEN; k++) {
            if (bw->open[k].sec && bw->open[k].sec < first) {
                first = bw->open[k].sec;
            }
        }
        bw->closed = first - 1;
    }
    /* After a long stall (a suspended process), do not write thousands of
     * empty seconds at once: jump, leaving them unrecorded. */
    if (sec > bw->closed + 3600) {
        bw->closed = sec - 3600;
    }
    while (bw->closed < sec) {
        uint64_t s = bw->closed + 1;
        int k = (int) (s % N_OPEN);
        struct open_second *os = &bw->open[k];

        if (os->sec != s) {
            /* Nothing arrived for 's' (or the slot is stale: cannot be,
             * seconds close in order).  Close it empty. */
            os->sec = s;
            os->n_touched = 0;
        }
        close_second(bw, os, k);
    }
    enforce_buffer(bw);
}

void
bw_close_second(struct bw *bw, uint64_t sec)
{
    if (sec > bw->closed) {
        close_through(bw, sec);
    }
}

/* Deltas. */

/* The slot of second 'sec', opening it (closing what must be closed
 * first).  Returns -1 if 'sec' is already closed. */
static int
slot_of(struct bw *bw, uint64_t sec)
{
    int k;

    if (bw->closed && sec <= bw->closed) {
        return -1;
    }
    k = (int) (sec % N_OPEN);
    if (bw->open[k].sec && bw->open[k].sec != sec) {
        /* The slot holds an older second still open: a worker is far
         * ahead.  Close through it. */
        bw->n_forced++;
        close_through(bw, bw->open[k].sec);
    }
    if (!bw->open[k].sec) {
        bw->open[k].sec = sec;
    }
    return k;
}

static struct slot *
touch(struct bw *bw, struct entity *e, int k)
{
    struct open_second *os = &bw->open[k];

    if (e->open[k].sec != os->sec) {
        memset(&e->open[k], 0, sizeof e->open[k]);
        e->open[k].sec = os->sec;
        if (os->n_touched == os->cap_touched) {
            os->cap_touched = os->cap_touched ? os->cap_touched * 2 : 64;
            os->touched = xrealloc(os->touched,
                                   os->cap_touched * sizeof *os->touched);
        }
        os->touched[os->n_touched++] = e;
    }
    return &e->open[k];
}

static void
add_tx(struct entity *e, struct slot *s, uint64_t bytes, uint64_t packets)
{
    s->c.tx_bytes += bytes;
    s->c.tx_packets += packets;
    e->totals.tx_bytes += bytes;
    e->totals.tx_packets += packets;
}

static void
add_rx(struct entity *e, struct slot *s, uint64_t bytes, uint64_t packets)
{
    s->c.rx_bytes += bytes;
    s->c.rx_packets += packets;
    e->totals.rx_bytes += bytes;
    e->totals.rx_packets += packets;
}

/* The entities of one flow side. */
struct side_ents {
    struct entity *port, *vm, *tenant;
    char name[80];              /* Pair endpoint. */
};

/* The slot of 'ip' in the learned addresses. */
static struct learned *
learned_slot(struct bw *bw, const struct vnm_addr *ip)
{
    uint64_t h = vnm_siphash13(hash_key, ip, sizeof *ip);

    return &bw->learned[h & (LEARNED_SLOTS - 1)];
}

/* Remembers that 'ip' sent from port 'port_id'. */
static void
learn(struct bw *bw, const struct vnm_addr *ip, uint32_t port_id)
{
    if (ip->family && port_id) {
        struct learned *l = learned_slot(bw, ip);

        l->ip = *ip;
        l->port_id = port_id;
    }
}

/* The port 'ip' was last seen sending from, or 0. */
static uint32_t
learned_port(struct bw *bw, const struct vnm_addr *ip)
{
    const struct learned *l;

    if (!ip->family) {
        return 0;
    }
    l = learned_slot(bw, ip);
    return vnm_addr_equal(&l->ip, ip) ? l->port_id : 0;
}

static void
resolve_side(struct bw *bw, const struct flow_bw_delta *d, int k,
             struct side_ents *se)
{
    struct bw_port port;
    uint32_t id = d->port[k];

    memset(se, 0, sizeof *se);
    if (!id) {
        id = learned_port(bw, &d->ip[k]);
    }
    if (bw->resolve(bw->aux, id, &d->ip[k], &port)) {
        const char *tenant = port.tenant ? port.tenant : "";

        se->port = entity_get(bw, "port", port.name, tenant);
        if (strcmp(se->port->port_kind, port.kind ? port.kind : "")
            || strcmp(se->port->vm, port.vm ? port.vm : "")) {
            free(se->port->port_kind);
            free(se->port->vm);
            se->port->port_kind = xstrdup(port.kind ? port.kind : "");
            se->port->vm = xstrdup(port.vm ? port.vm : "");
        }
        se->port->link_speed = port.link_speed;
        if (port.vm && port.vm[0]) {
            se->vm = entity_get(bw, "vm", port.vm, tenant);
            snprintf(se->name, sizeof se->name, "vm:%s", port.vm);
        }
        if (tenant[0]) {
            se->tenant = entity_get(bw, "tenant", "-", tenant);
        }
    }
    if (!se->name[0]) {
        if (d->ip[k].family) {
            char addr[64];

            inet_ntop(d->ip[k].family == 4 ? AF_INET : AF_INET6, d->ip[k].a,
                      addr, sizeof addr);
            snprintf(se->name, sizeof se->name, "ip:%s", addr);
        } else {
            const uint8_t *m = d->mac[k];

            snprintf(se->name, sizeof se->name,
                     "mac:%02x:%02x:%02x:%02x:%02x:%02x",
                     m[0], m[1], m[2], m[3], m[4], m[5]);
        }
    }
}

void
bw_add(struct bw *bw, const struct flow_bw_delta *d)
{
    struct side_ents se[2];
    int k = slot_of(bw, d->sec);
    struct entity *host = bw->host_ent;
    struct entity *app;
    struct slot *s;

    bw->n_deltas++;
    if (k < 0) {
        /* Its second is closed (cannot happen with the pipeline's
         * watermarks): count it in the oldest open second. */
        bw->n_late++;
        k = slot_of(bw, bw->closed + 1);
    }
    for (int i = 0; i < 2; i++) {
        learn(bw, &d->ip[i], d->port[i]);
    }
    for (int i = 0; i < 2; i++) {
        resolve_side(bw, d, i, &se[i]);
    }

    s = touch(bw, host, k);
    for (int i = 0; i < 2; i++) {
        add_tx(host, s, d->bytes[i], d->packets[i]);
        if (se[!i].port) {
            add_rx(host, s, d->bytes[i], d->packets[i]);
        }
    }

    for (int i = 0; i < 2; i++) {
        struct entity *tx[3] = { se[i].port, se[i].vm, se[i].tenant };
        struct entity *rx[3] = { se[!i].port, se[!i].vm, se[!i].tenant };

        if (!d->packets[i]) {
            continue;
        }
        if (!se[!i].port) {
            bw->n_unknown_side++;
        }
        for (int j = 0; j < 3; j++) {
            if (tx[j]) {
                add_tx(tx[j], touch(bw, tx[j], k), d->bytes[i],
                       d->packets[i]);
            }
            /* A flow between two ports of one VM (or two VMs of one
             * tenant) is both sent and received by it. */
            if (rx[j]) {
                add_rx(rx[j], touch(bw, rx[j], k), d->bytes[i],
                       d->packets[i]);
            }
        }
        {
            char name[168];

            snprintf(name, sizeof name, "%s>%s", se[i].name, se[!i].name);
            pair_map_add(&bw->open[k].pairs, name, d->bytes[i],
                         d->packets[i]);
        }
    }

    app = entity_get(bw, "app", d->app[0] ? d->app : "Unknown", "");
    s = touch(bw, app, k);
    add_tx(app, s, d->bytes[0], d->packets[0]);
    add_rx(app, s, d->bytes[1], d->packets[1]);
}

/* OVS counters. */

void
bw_ovs_sample(struct bw *bw, uint64_t sec, const struct bw_port *port,
              const struct bw_ovs_counters *c)
{
    struct entity *e = entity_get(bw, "ovs", port->name,
                                  port->tenant ? port->tenant : "");
    struct bw_ovs_counters *last = e->ovs_last;
    struct bw_ovs_counters d;
    struct slot *s;
    int k;

    if (!last) {
        e->ovs_last = xmalloc(sizeof *e->ovs_last);
        *e->ovs_last = *c;
        return;                 /* A baseline. */
    }
    if (c->rx_bytes < last->rx_bytes || c->tx_bytes < last->tx_bytes
        || c->rx_packets < last->rx_packets
        || c->tx_packets < last->tx_packets) {
        *last = *c;             /* Reset (port re-created): rebaseline. */
        return;
    }
    if (!memcmp(c, last, sizeof *c)) {
        return;
    }
    d.rx_bytes = c->rx_bytes - last->rx_bytes;
    d.rx_packets = c->rx_packets - last->rx_packets;
    d.tx_bytes = c->tx_bytes - last->tx_bytes;
    d.tx_packets = c->tx_packets - last->tx_packets;
    d.rx_dropped = c->rx_dropped - last->rx_dropped;
    d.tx_dropped = c->tx_dropped - last->tx_dropped;
    d.rx_errors = c->rx_errors - last->rx_errors;
    d.tx_errors = c->tx_errors - last->tx_errors;
    *last = *c;

    k = slot_of(bw, sec);
    if (k < 0) {
        k = slot_of(bw, bw->closed + 1);
    }
    s = touch(bw, e, k);
    /* OVS's rx is what the device sent into the switch: our tx. */
    add_tx(e, s, d.rx_bytes, d.rx_packets);
    add_rx(e, s, d.tx_bytes, d.tx_packets);
    s->x.rx_dropped += d.rx_dropped;
    s->x.tx_dropped += d.tx_dropped;
    s->x.rx_errors += d.rx_errors;
    s->x.tx_errors += d.tx_errors;
}

/* Restarts. */

static const char *
static_kind(const char *kind)
{
    static const char *const kinds[] = { "port", "vm", "tenant", "app",
                                         "ovs", "host" };

    for (size_t i = 0; i < VNM_ARRAY_SIZE(kinds); i++) {
        if (!strcmp(kind, kinds[i])) {
            return kinds[i];
        }
    }
    return NULL;
}

/* Merges the stored bin of resolution 'res' of 'e' at second 't' into its
 * running rollup. */
static void
load_bin(struct bw *bw, struct vnm_redis *r, struct entity *e,
         enum bw_res res, uint64_t t)
{
    unsigned int field;
    char *key = bw_key(e->prefix, res, e->kind, e->id, t, &field);
    json_t *reply = NULL;
    struct bw_bin stored;

    if (!vnm_redis_query(r, &reply, "HGET %s %u", key, field)
        && json_is_string(reply)
        && bw_parse(json_string_value(reply), res, &stored)) {
        bw_bin_merge(res == BW_RES_M ? &e->m : &e->h, &stored);
        bw_bin_uninit(&stored);
        if (res == BW_RES_M && !e->in_m) {
            e->in_m = true;
            list_add(&bw->m_list, &bw->n_m, &bw->cap_m, e);
        } else if (res == BW_RES_H && !e->in_h) {
            e->in_h = true;
            list_add(&bw->h_list, &bw->n_h, &bw->cap_h, e);
        }
        bw->n_based++;
    }
    json_decref(reply);
    free(key);
}

/* Loads the rollups of the entities of 'prefix' (tenant 'tenant') active
 * since 'since'. */
static void
load_prefix(struct bw *bw, struct vnm_redis *r, const char *prefix,
            const char *tenant, uint64_t t, uint64_t since)
{
    char *index = xasprintf("%s:bw:index", prefix);
    json_t *members = NULL;
    json_t *m;
    size_t i;

    if (!vnm_redis_query(r, &members, "ZRANGEBYSCORE %s %"PRIu64" +inf",
                         index, since)) {
        json_array_foreach (members, i, m) {
            const char *s = json_string_value(m);
            const char *colon = s ? strchr(s, ':') : NULL;
            char *kind, *id;
            const char *k;

            if (!colon) {
                continue;
            }
            kind = xstrndup(s, (size_t) (colon - s));
            id = xstrdup(colon + 1);
            bw_unescape(id);
            k = static_kind(kind);
            if (k) {
                struct entity *e = entity_get(bw, k, id, tenant);

                load_bin(bw, r, e, BW_RES_M, t);
                load_bin(bw, r, e, BW_RES_H, t);
            }
            free(kind);
            free(id);
        }
    }
    json_decref(members);
    free(index);
}

/* After a restart within a minute (or hour) that a previous run of this
 * agent already wrote rollups for, those are read back and folded into
 * the running rollups, so that the bins written at the minute's (hour's)
 * end cover both runs.  Once, at the first connected flush. */
static void
load_previous_rollups(struct bw *bw, struct vnm_redis *r, uint64_t now)
{
    char *key = xasprintf("%s:bw:tenants", bw->host_prefix);
    json_t *tenants = NULL;
    json_t *tj;
    size_t i;

    load_bin(bw, r, bw->host_ent, BW_RES_M, now);
    load_bin(bw, r, bw->host_ent, BW_RES_H, now);
    load_bin(bw, r, bw->cov_ent, BW_RES_M, now);
    load_bin(bw, r, bw->cov_ent, BW_RES_H, now);
    load_prefix(bw, r, bw->host_prefix, "", now, now - now % 3600);
    if (!vnm_redis_query(r, &tenants, "SMEMBERS %s", key)) {
        json_array_foreach (tenants, i, tj) {
            char *tenant = xstrdup(json_string_value(tj)
                                   ? json_string_value(tj) : "");
            char *prefix;

            bw_unescape(tenant);
            prefix = bw_prefix(bw->host, tenant);
            load_prefix(bw, r, prefix, tenant, now, now - now % 3600);
            free(prefix);
            free(tenant);
        }
    }
    json_decref(tenants);
    free(key);
}

/* Flushing. */

void
bw_flush(struct bw *bw, struct vnm_redis *r, uint64_t now_ms)
{
    struct vnm_redis_stats st;

    vnm_redis_get_stats(r, &st);
    if (bw->head && bw->head->sent && st.n_outages == bw->sent_outages
        && st.connected) {
        /* Appended at the last call, flushed since with no outage:
         * delivered. */
        while (bw->head && bw->head->sent) {
            batch_pop(bw);
        }
    } else if (st.n_outages != bw->sent_outages) {
        /* Whatever was appended may be lost: send it again. */
        for (struct batch *b = bw->head; b; b = b->next) {
            b->sent = false;
        }
    }
    enforce_buffer(bw);
    if (!st.connected) {
        return;
    }
    if (!bw->based) {
        /* Only if no minute has ended since the start (its bins would
         * already be written without the previous run's part). */
        uint64_t now = now_ms / 1000;

        bw->based = true;
        if (!bw->first_closed || bw->first_closed / 60 == now / 60) {
            load_previous_rollups(bw, r, now);
        }
    }
    if (bw->gap_end) {
        char *key = xasprintf("%s:bw:gaps", bw->host_prefix);
        char *member = xasprintf("%"PRIu64"-%"PRIu64":redis", bw->gap_start,
                                 bw->gap_end);
        char score[24];

        snprintf(score, sizeof score, "%"PRIu64, bw->gap_start);
        if (!vnm_redis_append(r, "ZADD %s %s %s", key, score, member)) {
            VNM_WARN("1-s bandwidth bins of %"PRIu64" s (%"PRIu64" to %"
                     PRIu64") lost to a Redis outage longer than the "
                     "buffer (%"PRId64" s); recorded as a gap",
                     bw->gap_end - bw->gap_start, bw->gap_start,
                     bw->gap_end, bw->cfg.buffer_seconds);
            bw->n_gaps++;
            bw->gap_start = bw->gap_end = 0;
        }
        free(key);
        free(member);
    }
    for (struct batch *b = bw->head; b; b = b->next) {
        if (!b->sent && !batch_send(bw, b, r)) {
            break;
        }
    }
    vnm_redis_get_stats(r, &st);
    bw->sent_outages = st.n_outages;
}

void
bw_finish(struct bw *bw, struct vnm_redis *r)
{
    if (bw->closed) {
        struct batch *b = batch_new(bw, true, bw->closed);

        write_rollups(bw, b, BW_RES_M, bw->closed, false);
        write_rollups(bw, b, BW_RES_H, bw->closed, false);
        write_pairs(bw, b, &bw->m_pairs, BW_RES_M,
                    bw->closed - bw->closed % 60);
    }
    bw_flush(bw, r, vnm_time_wall_ms());
    vnm_redis_flush(r);
}

/* Life cycle, totals, status. */

struct bw *
bw_create(const struct bw_config *cfg, const char *host,
          bw_resolve_func *resolve, void *aux)
{
    struct bw *bw = xzalloc(sizeof *bw);

    bw->cfg = *cfg;
    bw->host = xstrdup(host);
    bw->host_prefix = bw_prefix(host, NULL);
    bw->resolve = resolve;
    bw->aux = aux;
    if (!hash_key[0] && !hash_key[1]) {
        vnm_hash_random_key(hash_key, "bandwidth");
    }
    bw->host_ent = entity_get(bw, "host", "-", "");
    bw->cov_ent = entity_get(bw, "cov", "-", "");
    free(bw->cov_ent->prefix);
    bw->cov_ent->prefix = bw_cov_prefix(host);
    return bw;
}

void
bw_destroy(struct bw *bw)
{
    if (!bw) {
        return;
    }
    htable_destroy(&bw->entities, entity_free);
    for (int k = 0; k < N_OPEN; k++) {
        free(bw->open[k].touched);
        pair_map_clear(&bw->open[k].pairs);
    }
    free(bw->m_list);
    free(bw->h_list);
    free(bw->tenant_ents);
    pair_map_clear(&bw->m_pairs);
    pair_map_clear(&bw->h_pairs);
    while (bw->head) {
        batch_pop(bw);
    }
    free(bw->live);
    free(bw->host_prefix);
    free(bw->host);
    free(bw);
}

void
bw_foreach_total(const struct bw *bw, bw_totals_func *cb, void *aux)
{
    HTABLE_FOR_EACH (n, &bw->entities) {
        const struct entity *e = (const struct entity *) n;

        if (!strcmp(e->kind, "port") || !strcmp(e->kind, "vm")
            || !strcmp(e->kind, "tenant")) {
            cb(aux, e->kind, e->id, e->tenant, &e->totals);
        }
    }
}

void
bw_status(const struct bw *bw, json_t *status)
{
    json_t *o = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "entities", (json_int_t) bw->entities.n,
        "deltas", (json_int_t) bw->n_deltas,
        "late", (json_int_t) bw->n_late,
        "forced_closes", (json_int_t) bw->n_forced,
        "seconds", (json_int_t) bw->n_seconds,
        "closed", (json_int_t) bw->closed,
        "commands", (json_int_t) bw->n_commands,
        "buffered_seconds", (json_int_t) bw->n_second_batches,
        "buffered_rollups", (json_int_t) bw->n_rollup_batches,
        "dropped_seconds", (json_int_t) bw->n_dropped_seconds,
        "gaps", (json_int_t) bw->n_gaps,
        "unattributed", (json_int_t) bw->n_unknown_side,
        "pairs_overflow", (json_int_t) (bw->m_pairs.n_overflow
                                        + bw->h_pairs.n_overflow));

    json_object_set_new(o, "rollups_resumed",
                        json_integer((json_int_t) bw->n_based));

    json_object_set_new(status, "bandwidth", o);
}

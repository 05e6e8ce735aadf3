/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The netdev tap and the port map it shares with the flow tap: see
 * tap-netdev.h.
 *
 * The port map is a small read-copy-update scheme.  The main thread builds
 * a new immutable snapshot, publishes it, and retires the old one with the
 * value the global epoch had just after: a worker announces the epoch it
 * read before it loads the snapshot, and 0 once done, so a retired snapshot
 * is freed once every worker is at 0 or at a later epoch.
 */
#include <config.h>

#include "ovs-ext/tap-netdev.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"

VNM_LOG_MODULE(tap_netdev);

/* ------------------------------------------------------------ port map */

/* A port of a snapshot. */
struct portmap_entry {
    struct tap_port port;
    uint16_t idx;
};

/* An open-addressing hash bucket: key -> value + 1 (0: empty). */
struct portmap_bucket {
    int key;
    uint32_t value;
};

struct tap_portmap_snap {
    size_t n;
    struct portmap_entry *entries;
    uint16_t by_idx[TAP_MAX_PORTS + 1]; /* Index in 'entries' + 1. */
    size_t mask;                        /* Buckets - 1. */
    struct portmap_bucket *buckets;     /* Key -> index in 'entries'. */
};

/* A worker's counters for one port index. */
struct portmap_counter {
    atomic_uint_least64_t packets;
    atomic_uint_least64_t bytes;
};

/* A worker's part of a map. */
struct portmap_worker {
    atomic_uint_least64_t epoch; /* 0 if outside enter...exit. */
    struct portmap_counter *counters; /* TAP_MAX_PORTS + 1. */
} __attribute__((aligned(64)));

/* A snapshot waiting until no worker can hold it. */
struct portmap_retired {
    struct tap_portmap_snap *snap;
    uint64_t epoch;
};

struct tap_portmap {
    enum tap_port_key key;
    size_t n_workers;
    struct portmap_worker *workers;
    _Atomic(struct tap_portmap_snap *) cur;
    atomic_uint_least64_t epoch;

    /* Main thread only. */
    struct portmap_retired *retired;
    size_t n_retired;
    uint16_t free_idx[TAP_MAX_PORTS]; /* FIFO of free indexes. */
    size_t free_head, n_free;
    uint64_t base_packets[TAP_MAX_PORTS + 1]; /* Counters when assigned. */
    uint64_t base_bytes[TAP_MAX_PORTS + 1];
};

static size_t
bucket_of(int key, size_t mask)
{
    return ((uint32_t) key * 2654435761u) & mask;
}

/* Returns the value for 'key', or -1. */
static long
buckets_find(const struct portmap_bucket *b, size_t mask, int key)
{
    size_t i;

    for (i = bucket_of(key, mask); b[i].value; i = (i + 1) & mask) {
        if (b[i].key == key) {
            return b[i].value - 1;
        }
    }
    return -1;
}

static void
buckets_insert(struct portmap_bucket *b, size_t mask, int key,
               uint32_t value)
{
    size_t i;

    for (i = bucket_of(key, mask); b[i].value; i = (i + 1) & mask) {
        continue;
    }
    b[i].key = key;
    b[i].value = value + 1;
}

/* Allocates buckets for 'n' keys; stores the mask in '*maskp'. */
static struct portmap_bucket *
buckets_alloc(size_t n, size_t *maskp)
{
    size_t size = 8;

    while (size < 2 * n) {
        size *= 2;
    }
    *maskp = size - 1;
    return xcalloc(size, sizeof(struct portmap_bucket));
}

static int
port_key(enum tap_port_key kind, const struct tap_port *port)
{
    return kind == TAP_PORT_KEY_IFINDEX ? port->ifindex : port->ofport;
}

static void
snap_free(struct tap_portmap_snap *snap)
{
    if (snap) {
        free(snap->entries);
        free(snap->buckets);
        free(snap);
    }
}

struct tap_portmap *
tap_portmap_create(size_t n_workers, enum tap_port_key key)
{
    struct tap_portmap *map = xzalloc(sizeof *map);
    size_t i;

    map->key = key;
    map->n_workers = n_workers;
    if (posix_memalign((void **) &map->workers, 64,
                       n_workers * sizeof *map->workers)) {
        vnm_fatal("out of memory");
    }
    for (i = 0; i < n_workers; i++) {
        atomic_init(&map->workers[i].epoch, 0);
        map->workers[i].counters = xcalloc(TAP_MAX_PORTS + 1,
                                           sizeof(struct portmap_counter));
    }
    atomic_init(&map->cur, xzalloc(sizeof(struct tap_portmap_snap)));
    atomic_init(&map->epoch, 1);
    for (i = 0; i < TAP_MAX_PORTS; i++) {
        map->free_idx[i] = i + 1;
    }
    map->n_free = TAP_MAX_PORTS;
    return map;
}

/* Frees the retired snapshots that no worker can hold any more. */
static void
portmap_collect(struct tap_portmap *map)
{
    size_t i, j;

    for (i = 0; i < map->n_retired;) {
        bool busy = false;

        for (j = 0; j < map->n_workers && !busy; j++) {
            uint64_t e = atomic_load(&map->workers[j].epoch);

            busy = e && e < map->retired[i].epoch;
        }
        if (busy) {
            i++;
        } else {
            snap_free(map->retired[i].snap);
            map->retired[i] = map->retired[--map->n_retired];
        }
    }
}

void
tap_portmap_destroy(struct tap_portmap *map)
{
    size_t i;

    if (!map) {
        return;
    }
    for (i = 0; i < map->n_retired; i++) {
        snap_free(map->retired[i].snap);
    }
    free(map->retired);
    snap_free(atomic_load(&map->cur));
    for (i = 0; i < map->n_workers; i++) {
        free(map->workers[i].counters);
    }
    free(map->workers);
    free(map);
}

/* Sum of the workers' counters for 'idx'. */
static void
portmap_sum(const struct tap_portmap *map, uint16_t idx, uint64_t *packets,
            uint64_t *bytes)
{
    size_t i;

    *packets = *bytes = 0;
    for (i = 0; i < map->n_workers; i++) {
        struct portmap_counter *c = &map->workers[i].counters[idx];

        *packets += atomic_load_explicit(&c->packets, memory_order_relaxed);
        *bytes += atomic_load_explicit(&c->bytes, memory_order_relaxed);
    }
}

size_t
tap_portmap_set(struct tap_portmap *map, const struct tap_port *ports,
                size_t n)
{
    struct tap_portmap_snap *old = atomic_load(&map->cur);
    struct tap_portmap_snap *snap = xzalloc(sizeof *snap);
    size_t left_out = 0, i;
    uint64_t epoch;

    /* The candidates, deduplicated, with the index they had. */
    snap->entries = xcalloc(n ? n : 1, sizeof *snap->entries);
    snap->buckets = buckets_alloc(n, &snap->mask);
    for (i = 0; i < n; i++) {
        int key = port_key(map->key, &ports[i]);
        struct portmap_entry *e;
        long j;

        if (key <= 0 || buckets_find(snap->buckets, snap->mask, key) >= 0) {
            continue;
        }
        e = &snap->entries[snap->n];
        e->port = ports[i];
        e->port.name[sizeof e->port.name - 1] = '\0';
        e->port.bridge[sizeof e->port.bridge - 1] = '\0';
        j = old->n ? buckets_find(old->buckets, old->mask, key) : -1;
        e->idx = j >= 0 ? old->entries[j].idx : 0;
        buckets_insert(snap->buckets, snap->mask, key, snap->n++);
    }

    /* Indexes of ports that left go to the back of the free queue. */
    for (i = 0; i < old->n; i++) {
        int key = port_key(map->key, &old->entries[i].port);

        if (buckets_find(snap->buckets, snap->mask, key) < 0) {
            size_t tail = (map->free_head + map->n_free) % TAP_MAX_PORTS;

            map->free_idx[tail] = old->entries[i].idx;
            map->n_free++;
        }
    }

    /* New ports take indexes from the front; those that find none are left
     * out (and the table rebuilt without them). */
    for (i = 0; i < snap->n; i++) {
        struct portmap_entry *e = &snap->entries[i];

        if (!e->idx && map->n_free) {
            e->idx = map->free_idx[map->free_head];
            map->free_head = (map->free_head + 1) % TAP_MAX_PORTS;
            map->n_free--;
            portmap_sum(map, e->idx, &map->base_packets[e->idx],
                        &map->base_bytes[e->idx]);
        }
    }
    memset(snap->buckets, 0, (snap->mask + 1) * sizeof *snap->buckets);
    for (i = 0; i < snap->n;) {
        struct portmap_entry *e = &snap->entries[i];

        if (!e->idx) {
            left_out++;
            *e = snap->entries[--snap->n];
            continue;
        }
        buckets_insert(snap->buckets, snap->mask, port_key(map->key, &e->port),
                       i);
        snap->by_idx[e->idx] = i + 1;
        i++;
    }

    atomic_store(&map->cur, snap);
    epoch = atomic_fetch_add(&map->epoch, 1) + 1;
    map->retired = xrealloc(map->retired,
                            (map->n_retired + 1) * sizeof *map->retired);
    map->retired[map->n_retired].snap = old;
    map->retired[map->n_retired].epoch = epoch;
    map->n_retired++;
    portmap_collect(map);
    return left_out;
}

size_t
tap_portmap_n_ports(const struct tap_portmap *map)
{
    return atomic_load_explicit(&map->cur, memory_order_relaxed)->n;
}

const struct tap_port *
tap_portmap_get_port(const struct tap_portmap *map, size_t i, uint16_t *idx)
{
    const struct tap_portmap_snap *snap;

    snap = atomic_load_explicit(&map->cur, memory_order_relaxed);
    *idx = snap->entries[i].idx;
    return &snap->entries[i].port;
}

const struct tap_portmap_snap *
tap_portmap_enter(struct tap_portmap *map, size_t worker)
{
    atomic_store(&map->workers[worker].epoch, atomic_load(&map->epoch));
    return atomic_load(&map->cur);
}

void
tap_portmap_exit(struct tap_portmap *map, size_t worker)
{
    atomic_store_explicit(&map->workers[worker].epoch, 0,
                          memory_order_release);
}

const struct tap_port *
tap_portmap_find_key(const struct tap_portmap_snap *snap, int key,
                     uint16_t *idx)
{
    long i;

    if (!snap->n) {
        return NULL;
    }
    i = buckets_find(snap->buckets, snap->mask, key);
    if (i < 0) {
        return NULL;
    }
    *idx = snap->entries[i].idx;
    return &snap->entries[i].port;
}

const struct tap_port *
tap_portmap_find_idx(const struct tap_portmap_snap *snap, uint16_t idx)
{
    if (!idx || idx > TAP_MAX_PORTS || !snap->by_idx[idx]) {
        return NULL;
    }
    return &snap->entries[snap->by_idx[idx] - 1].port;
}

void
tap_portmap_count(struct tap_portmap *map, size_t worker, uint16_t idx,
                  uint32_t bytes)
{
    struct portmap_counter *c = &map->workers[worker].counters[idx];

    /* One writer per counter: no read-modify-write needed. */
    atomic_store_explicit(
        &c->packets,
        atomic_load_explicit(&c->packets, memory_order_relaxed) + 1,
        memory_order_relaxed);
    atomic_store_explicit(
        &c->bytes,
        atomic_load_explicit(&c->bytes, memory_order_relaxed) + bytes,
        memory_order_relaxed);
}

static int
compare_port_stats(const void *a_, const void *b_)
{
    const struct tap_port_stats *a = a_;
    const struct tap_port_stats *b = b_;

    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

size_t
tap_portmap_get_stats(struct tap_portmap *map, struct tap_port_stats **statsp)
{
    const struct tap_portmap_snap *snap = atomic_load(&map->cur);
    struct tap_port_stats *stats;
    size_t i;

    portmap_collect(map);
    stats = xcalloc(snap->n ? snap->n : 1, sizeof *stats);
    for (i = 0; i < snap->n; i++) {
        const struct portmap_entry *e = &snap->entries[i];
        struct tap_port_stats *s = &stats[i];

        s->port = e->port;
        s->idx = e->idx;
        portmap_sum(map, e->idx, &s->packets, &s->bytes);
        s->packets -= map->base_packets[e->idx];
        s->bytes -= map->base_bytes[e->idx];
    }
    qsort(stats, snap->n, sizeof *stats, compare_port_stats);
    *statsp = stats;
    return snap->n;
}

/* ---------------------------------------------------------- netdev tap */

/* A worker's own counters. */
struct netdev_worker {
    struct tap_counters c;
} __attribute__((aligned(64)));

struct tap_netdev {
    size_t n_workers;
    struct tap_ring_group *rings;
    struct tap_portmap *ports;
    struct netdev_worker *workers;
};

/* What a worker's poll passes to netdev_frame(). */
struct netdev_poll_ctx {
    struct tap_netdev *tap;
    size_t worker;
    const struct tap_portmap_snap *snap;
    tap_port_frame_func *cb;
    void *aux;
};

void
tap_counters_init(struct tap_counters *c)
{
    atomic_init(&c->packets, 0);
    atomic_init(&c->bytes, 0);
    atomic_init(&c->n_unknown, 0);
    atomic_init(&c->n_untagged, 0);
}

void
tap_stats_add_worker(struct tap_stats *stats, const struct tap_counters *c,
                     struct tap_ring_group *rings, size_t i)
{
    struct tap_ring_stats rs;

    stats->packets += atomic_load_explicit(&c->packets, memory_order_relaxed);
    stats->bytes += atomic_load_explicit(&c->bytes, memory_order_relaxed);
    stats->n_unknown += atomic_load_explicit(&c->n_unknown,
                                             memory_order_relaxed);
    stats->n_untagged += atomic_load_explicit(&c->n_untagged,
                                              memory_order_relaxed);
    tap_ring_group_get_stats(rings, i, &rs);
    stats->ring_packets += rs.kernel_packets;
    stats->ring_drops += rs.drops;
    stats->ring_freeze_q_cnt += rs.freeze_q_cnt;
}

void
tap_netdev_config_init(struct tap_netdev_config *config)
{
    config->n_workers = 1;
    tap_ring_config_init(&config->ring);
    config->ring.reinsert_vlan = true;
}

int
tap_netdev_create(const struct tap_netdev_config *config,
                  struct tap_netdev **tapp)
{
    struct tap_netdev *tap;
    size_t i;
    int error;

    *tapp = NULL;
    if (!config->n_workers || config->n_workers > 1024) {
        return EINVAL;
    }
    tap = xzalloc(sizeof *tap);
    tap->n_workers = config->n_workers;
    error = tap_ring_group_create(&config->ring, config->n_workers,
                                  &tap->rings);
    if (!error) {
        error = tap_ring_group_bind(tap->rings, 0);
    }
    if (error) {
        tap_ring_group_destroy(tap->rings);
        free(tap);
        return error;
    }
    tap->ports = tap_portmap_create(config->n_workers, TAP_PORT_KEY_IFINDEX);
    if (posix_memalign((void **) &tap->workers, 64,
                       config->n_workers * sizeof *tap->workers)) {
        vnm_fatal("out of memory");
    }
    for (i = 0; i < config->n_workers; i++) {
        tap_counters_init(&tap->workers[i].c);
    }
    *tapp = tap;
    return 0;
}

int
tap_netdev_set_ports(struct tap_netdev *tap, const struct tap_port *ports,
                     size_t n)
{
    size_t left_out, n_ports, i;
    int *ifindexes;
    int error;

    left_out = tap_portmap_set(tap->ports, ports, n);
    n_ports = tap_portmap_n_ports(tap->ports);
    ifindexes = xcalloc(n_ports ? n_ports : 1, sizeof *ifindexes);
    for (i = 0; i < n_ports; i++) {
        uint16_t idx;

        ifindexes[i] = tap_portmap_get_port(tap->ports, i, &idx)->ifindex;
    }
    error = tap_ring_group_set_ifindexes(tap->rings, ifindexes, n_ports);
    free(ifindexes);
    if (error) {
        VNM_ERR("netdev tap: cannot filter on %zu interfaces (%s)", n_ports,
                strerror(error));
        return error;
    }
    if (left_out) {
        VNM_DBG("netdev tap: %zu of %zu ports left out", left_out, n);
    }
    return left_out ? ENOSPC : 0;
}

static void
netdev_frame(void *ctx_, const struct tap_frame *frame)
{
    struct netdev_poll_ctx *ctx = ctx_;
    struct netdev_worker *w = &ctx->tap->workers[ctx->worker];
    const struct tap_port *port;
    uint16_t idx;

    port = tap_portmap_find_key(ctx->snap, frame->ifindex, &idx);
    if (!port) {
        tap_counter_add(&w->c.n_unknown, 1);
        return;
    }
    tap_portmap_count(ctx->tap->ports, ctx->worker, idx, frame->wire_len);
    tap_counter_add(&w->c.packets, 1);
    tap_counter_add(&w->c.bytes, frame->wire_len);
    ctx->cb(ctx->aux, frame, port);
}

int
tap_netdev_poll(struct tap_netdev *tap, size_t worker, int timeout_ms,
                tap_port_frame_func *cb, void *aux)
{
    struct netdev_poll_ctx ctx = {
        .tap = tap, .worker = worker, .cb = cb, .aux = aux,
    };
    int retval;

    vnm_assert(worker < tap->n_workers);
    ctx.snap = tap_portmap_enter(tap->ports, worker);
    retval = tap_ring_group_poll(tap->rings, worker, timeout_ms,
                                 netdev_frame, &ctx);
    tap_portmap_exit(tap->ports, worker);
    return retval;
}

void
tap_netdev_get_stats(struct tap_netdev *tap, struct tap_stats *stats)
{
    size_t i;

    memset(stats, 0, sizeof *stats);
    for (i = 0; i < tap->n_workers; i++) {
        tap_stats_add_worker(stats, &tap->workers[i].c, tap->rings, i);
    }
    stats->n_ports = tap_portmap_n_ports(tap->ports);
}

size_t
tap_netdev_get_port_stats(struct tap_netdev *tap,
                          struct tap_port_stats **statsp)
{
    return tap_portmap_get_stats(tap->ports, statsp);
}

void
tap_netdev_destroy(struct tap_netdev *tap)
{
    if (tap) {
        tap_ring_group_destroy(tap->rings);
        tap_portmap_destroy(tap->ports);
        free(tap->workers);
        free(tap);
    }
}

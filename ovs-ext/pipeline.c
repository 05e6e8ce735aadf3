/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live pipeline: see pipeline.h.
 *
 * Threads: the agent's main (libevent) thread runs the inventory, the taps'
 * control (ports, OpenFlow rules), the port maps and the record drain;
 * worker threads run capture, decode, flow table and nDPI.  What they share:
 * the taps' rings (one per worker, touched by that worker only), the port
 * map (published lock-free), the record queues (SPSC), and counters (each
 * written by one thread, read relaxed by the main thread).
 */
#include <config.h>

#include "ovs-ext/pipeline.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "ovs-ext/classify-ndpi.h"
#include "ovs-ext/decode.h"
#include "ovs-ext/flow-class.h"
#include "ovs-ext/flow-table.h"
#include "ovs-ext/inventory.h"
#include "ovs-ext/port-map.h"
#include "ovs-ext/record-queue.h"
#include "ovs-ext/tap-flow.h"
#include "ovs-ext/tap-netdev.h"

VNM_LOG_MODULE(pipeline);

/* The flow tap names its monitor ports so (tap-flow.h); they are not
 * VM ports. */
#define MONITOR_PREFIX "vnm-mon-"

enum {
    POLL_MS = 100,              /* Worker wake-up period. */
    EXPIRE_MS = 200,            /* Flow table expiry period. */
    DRAIN_MS = 100,             /* Main thread record drain period. */
    QUEUE_RECORDS = 8192,       /* Per worker. */
    QUEUE_DELTAS = 65536,       /* Per worker. */
    MAX_FLOW_BRIDGES = 64,      /* Bridges with a flow tap. */
};

/* Per-worker counters: written by the worker, read relaxed by main. */
struct worker_stats {
    atomic_uint_fast64_t frames;
    atomic_uint_fast64_t bytes;
    atomic_uint_fast64_t malformed;
    atomic_uint_fast64_t unknown_port; /* Frames from no known port. */
    atomic_uint_fast64_t decode_errors[DECODE_N_ERRORS];
};

struct worker {
    struct pipeline *p;
    size_t idx;
    pthread_t thread;
    bool started;
    struct classifier *cls;
    struct flow_table *ft;
    struct record_queue queue;
    struct record_queue bw_queue; /* Of struct flow_bw_delta. */
    atomic_uint_fast64_t bw_second; /* Seconds before it are closed. */
    struct worker_stats stats;
    struct flow_table_stats ft_stats; /* Copy, refreshed by the worker. */
    pthread_mutex_t ft_stats_mutex;
};

/* One bridge with a flow tap. */
struct tapped_bridge {
    char *name;
    struct tap_flow *flow;      /* Its flow tap. */
};

struct pipeline {
    const struct ovs_ext_config *cfg;
    ovs_ext_record_func *cb;
    void *aux;
    struct pipeline_bw bw;      /* 'delta' NULL: no per-second accounting. */
    uint64_t bw_closed;         /* Last second given to bw.close. */

    struct inventory *inv;
    uint64_t topology_seq;      /* Of the inventory the map was built on. */
    struct port_registry *registry;
    struct port_map_rcu rcu;

    struct tap_netdev *netdev;  /* All netdev-tapped bridges share it. */
    /* Flow-tapped bridges.  Appended by the main thread as bridges appear,
     * never removed or moved while workers run: workers read 'n_bridges'
     * (acquire) and the entries below it. */
    struct tapped_bridge bridges[MAX_FLOW_BRIDGES];
    atomic_size_t n_bridges;
    int reg, reg_bit;           /* The flow taps' register bit. */

    struct worker *workers;
    size_t n_workers;
    atomic_bool stop;

    struct event *drain_timer;
    struct event *run_timer;

    uint64_t n_records;
    uint64_t n_map_builds;
};

static void add_flow_tap(struct pipeline *, const char *bridge);

/* Worker side. */

static void
worker_resolve(void *w_, uint32_t port_id, struct vnm_attribution *out)
{
    struct worker *w = w_;
    const struct port_info *pi = port_map_get(port_map_current(&w->p->rcu),
                                              port_id);

    if (pi) {
        *out = pi->attr;
    } else {
        memset(out, 0, sizeof *out);
        out->ofport = -1;
    }
}

static void
worker_record(void *w_, const struct vnm_flow *rec)
{
    struct worker *w = w_;

    record_queue_push(&w->queue, rec);
}

static void
worker_bw(void *w_, const struct flow_bw_delta *delta)
{
    struct worker *w = w_;

    record_queue_push_elem(&w->bw_queue, delta);
}

/* Adds 'n' to a counter that only this worker writes: a relaxed load and
 * store, no locked read-modify-write on the per-packet path. */
static inline void
count(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed)
                          + n, memory_order_relaxed);
}

/* Decodes one captured frame and feeds it to the worker's flow table. */
static void
worker_frame(struct worker *w, const uint8_t *data, uint32_t caplen,
             uint32_t wire_len, uint64_t ts_ns, uint32_t port_id)
{
    struct decoded d;

    count(&w->stats.frames, 1);
    count(&w->stats.bytes, wire_len);
    if (!port_id) {
        count(&w->stats.unknown_port, 1);
    }
    if (!decode_frame(data, caplen, wire_len, &d)) {
        count(&w->stats.malformed, 1);
        count(&w->stats.decode_errors[d.error], 1);
    }
    flow_table_packet(w->ft, &d, data, port_id, ts_ns / 1000000);
}

/* A frame from a tap: 'port' is its ingress port (by ifindex for the netdev
 * tap; by OpenFlow port for the flow tap, which also knows the ifindex of
 * ports that have a kernel netdev). */
static void
tap_frame_cb(void *w_, const struct tap_frame *f, const struct tap_port *port)
{
    struct worker *w = w_;
    const struct port_map *map = port_map_current(&w->p->rcu);
    uint32_t port_id = 0;

    if (port) {
        port_id = (port->ifindex > 0
                   ? port_map_by_ifindex(map, port->ifindex)
                   : port_map_by_ofport(map, port->bridge, port->ofport));
    }
    worker_frame(w, f->data, f->caplen, f->wire_len, f->ts_ns, port_id);
}

static void *
worker_main(void *w_)
{
    struct worker *w = w_;
    struct pipeline *p = w->p;
    uint64_t next_expire = 0;
    char name[16];

    snprintf(name, sizeof name, "vnm-worker%zu", w->idx);
    pthread_setname_np(pthread_self(), name);
    while (!atomic_load_explicit(&p->stop, memory_order_acquire)) {
        size_t n_bridges = atomic_load_explicit(&p->n_bridges,
                                                memory_order_acquire);
        size_t n_taps = (p->netdev ? 1 : 0) + n_bridges;
        int timeout = n_taps ? POLL_MS / (int) n_taps : POLL_MS;
        uint64_t now;

        if (p->netdev) {
            tap_netdev_poll(p->netdev, w->idx, timeout, tap_frame_cb, w);
        }
        for (size_t i = 0; i < n_bridges; i++) {
            tap_flow_poll(p->bridges[i].flow, w->idx, timeout, tap_frame_cb,
                          w);
        }
        if (!n_taps) {
            struct timespec ts = { 0, POLL_MS * 1000000L };

            nanosleep(&ts, NULL);
        }
        now = vnm_time_wall_ms();
        if (p->bw.delta) {
            /* Close the seconds the wall clock has left behind, then say
             * so (release: after the deltas' pushes). */
            flow_table_tick(w->ft, (now - PIPELINE_BW_GRACE_MS) / 1000);
            atomic_store_explicit(&w->bw_second,
                                  flow_table_bw_second(w->ft),
                                  memory_order_release);
        }
        if (now >= next_expire) {
            flow_table_expire(w->ft, now);
            next_expire = now + EXPIRE_MS;
            pthread_mutex_lock(&w->ft_stats_mutex);
            flow_table_get_stats(w->ft, &w->ft_stats);
            pthread_mutex_unlock(&w->ft_stats_mutex);
        }
        port_map_quiesce(&p->rcu, w->idx);
    }
    flow_table_flush(w->ft, vnm_time_wall_ms());
    pthread_mutex_lock(&w->ft_stats_mutex);
    flow_table_get_stats(w->ft, &w->ft_stats);
    pthread_mutex_unlock(&w->ft_stats_mutex);
    port_map_quiesce(&p->rcu, w->idx);
    return NULL;
}

/* Main thread: records. */

/* Fills in what a worker cannot know: the attribution of a side that never
 * sent (from its address, if it belongs to a VM), and the class. */
static void
complete_record(struct pipeline *p, struct vnm_flow *rec)
{
    struct vnm_flow_end *ends[2] = { &rec->src, &rec->dst };

    for (int i = 0; i < 2; i++) {
        struct vnm_flow_end *e = ends[i];

        if (!e->in.port[0] && e->ip.family && p->inv) {
            const struct inv_interface *iface
                = inventory_find_by_ip(p->inv, &e->ip);

            if (iface) {
                inventory_attribution(iface, &e->in);
            }
        }
    }
    rec->class = flow_class_of(p->cfg->networks, rec);
}

/* Takes every queued delta to the bw callback, then closes the seconds
 * every worker has left: 'final' at shutdown (workers stopped), all of
 * them. */
static void
drain_deltas(struct pipeline *p, bool final)
{
    /* Every second before 'upto' is closed by all workers. */
    uint64_t upto = final ? 0 : UINT64_MAX;

    if (!p->bw.delta) {
        return;
    }
    for (size_t i = 0; i < p->n_workers; i++) {
        struct worker *w = &p->workers[i];

        if (final) {
            /* Stopped, tables flushed: the current seconds are done too,
             * up to the latest of them. */
            uint64_t next = flow_table_bw_second(w->ft) + 1;

            if (w->started && next > upto) {
                upto = next;
            }
        } else {
            /* Watermarks before the queues: a worker pushes a second's
             * deltas before it publishes the second as closed. */
            uint64_t sec = atomic_load_explicit(&w->bw_second,
                                                memory_order_acquire);

            if (sec < upto) {
                upto = sec;
            }
        }
    }
    for (size_t i = 0; i < p->n_workers; i++) {
        struct record_queue *q = &p->workers[i].bw_queue;
        const struct flow_bw_delta *d;

        while ((d = record_queue_peek_elem(q))) {
            p->bw.delta(p->bw.aux, d);
            record_queue_pop_done(q);
        }
    }
    if (upto != UINT64_MAX && upto > 1 && upto - 1 > p->bw_closed) {
        p->bw_closed = upto - 1;
        p->bw.close(p->bw.aux, p->bw_closed);
    }
}

/* Takes every queued record to the callback. */
static void
drain_records(struct pipeline *p)
{
    for (size_t i = 0; i < p->n_workers; i++) {
        struct record_queue *q = &p->workers[i].queue;
        const struct vnm_flow *r;

        while ((r = record_queue_peek(q))) {
            struct vnm_flow rec = *r;

            record_queue_pop_done(q);
            complete_record(p, &rec);
            p->n_records++;
            p->cb(p->aux, &rec);
        }
    }
}

static void
drain_cb(evutil_socket_t fd, short what, void *p_)
{
    struct pipeline *p = p_;

    drain_records(p);
    drain_deltas(p, false);
    port_map_reclaim(&p->rcu);
}

/* Main thread: ports and taps. */

static const struct ovs_ext_bridge_config *
bridge_config(const struct ovs_ext_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_bridges; i++) {
        if (!strcmp(cfg->bridges[i].name, name)) {
            return &cfg->bridges[i];
        }
    }
    return NULL;
}

static enum ovs_ext_tap_kind
bridge_tap_kind(const struct ovs_ext_config *cfg, const char *name)
{
    const struct ovs_ext_bridge_config *b = bridge_config(cfg, name);

    if (b) {
        return b->tap;
    }
    return (!strcmp(cfg->default_tap, "flow") ? OVS_EXT_TAP_FLOW
            : !strcmp(cfg->default_tap, "none") ? OVS_EXT_TAP_NONE
            : OVS_EXT_TAP_NETDEV);
}

static struct tapped_bridge *
find_bridge(struct pipeline *p, const char *name)
{
    size_t n = atomic_load_explicit(&p->n_bridges, memory_order_relaxed);

    for (size_t i = 0; i < n; i++) {
        if (!strcmp(p->bridges[i].name, name)) {
            return &p->bridges[i];
        }
    }
    return NULL;
}

/* True if 'iface' is a port the netdev tap should capture: a kernel netdev
 * on the VM side (not internal, not a tunnel, not a patch port, not our own
 * monitor port). */
static bool
is_netdev_tap_port(const struct inv_interface *iface)
{
    return (iface->ifindex > 0 && iface->tunnel_type == INV_TUNNEL_NONE
            && (!iface->type[0] || !strcmp(iface->type, "system")
                || !strcmp(iface->type, "tap"))
            && strncmp(iface->name, MONITOR_PREFIX,
                       strlen(MONITOR_PREFIX)));
}

/* Rebuilds the port map and the taps' port lists from the inventory. */
static void
rebuild(struct pipeline *p)
{
    size_t n = inventory_n_interfaces(p->inv);
    struct port_info *infos = xcalloc(n ? n : 1, sizeof *infos);
    uint32_t *ids = xcalloc(n ? n : 1, sizeof *ids);
    struct tap_port *netdev_ports = xcalloc(n ? n : 1, sizeof *netdev_ports);
    size_t n_netdev = 0, k = 0;

    for (size_t i = 0; i < n; i++) {
        const struct inv_interface *iface = inventory_interface(p->inv, i);
        enum ovs_ext_tap_kind kind = bridge_tap_kind(p->cfg, iface->bridge);
        struct port_info *pi = &infos[k];

        if (!strncmp(iface->name, MONITOR_PREFIX,
                     strlen(MONITOR_PREFIX))) {
            continue;           /* Our own. */
        }
        ids[k] = port_registry_id(p->registry, iface->bridge, iface->name);
        inventory_attribution(iface, &pi->attr);
        vnm_strlcpy(pi->bridge, iface->bridge, sizeof pi->bridge);
        pi->ifindex = (int32_t) iface->ifindex;
        pi->is_vm = flow_class_is_vm(&pi->attr);
        k++;

        if (kind == OVS_EXT_TAP_NETDEV && is_netdev_tap_port(iface)) {
            struct tap_port *tp = &netdev_ports[n_netdev++];

            vnm_strlcpy(tp->name, iface->name, sizeof tp->name);
            vnm_strlcpy(tp->bridge, iface->bridge, sizeof tp->bridge);
            tp->ifindex = (int) iface->ifindex;
            tp->ofport = (int) iface->ofport;
        }
    }
    port_map_publish(&p->rcu, port_map_build(ids, infos, k));
    p->n_map_builds++;

    for (size_t i = 0; i < n; i++) {
        const struct inv_interface *iface = inventory_interface(p->inv, i);

        if (bridge_tap_kind(p->cfg, iface->bridge) == OVS_EXT_TAP_FLOW
            && !find_bridge(p, iface->bridge)) {
            add_flow_tap(p, iface->bridge);
        }
    }

    if (p->netdev) {
        tap_netdev_set_ports(p->netdev, netdev_ports, n_netdev);
    }
    for (size_t b = 0; b < atomic_load(&p->n_bridges); b++) {
        struct tapped_bridge *tb = &p->bridges[b];
        struct tap_port *ports;
        size_t n_ports = 0;

        ports = xcalloc(n ? n : 1, sizeof *ports);
        for (size_t i = 0; i < n; i++) {
            const struct inv_interface *iface = inventory_interface(p->inv,
                                                                    i);

            /* Not the bridge's own LOCAL port (65534): OpenFlow names it
             * LOCAL, and it is the bridge's, not a VM's. */
            if (strcmp(iface->bridge, tb->name) || iface->ofport <= 0
                || iface->ofport >= 65280
                || !strncmp(iface->name, MONITOR_PREFIX,
                            strlen(MONITOR_PREFIX))) {
                continue;
            }
            vnm_strlcpy(ports[n_ports].name, iface->name,
                        sizeof ports[n_ports].name);
            vnm_strlcpy(ports[n_ports].bridge, iface->bridge,
                        sizeof ports[n_ports].bridge);
            ports[n_ports].ifindex = (int) iface->ifindex;
            ports[n_ports].ofport = (int) iface->ofport;
            n_ports++;
        }
        tap_flow_set_ports(tb->flow, ports, n_ports);
        tap_flow_run(tb->flow);         /* Tap new ports at once. */
        free(ports);
    }
    free(netdev_ports);
    free(ids);
    free(infos);
}

static void
inventory_changed(void *p_)
{
    struct pipeline *p = p_;
    uint64_t seq = inventory_topology_seq(p->inv);

    if (seq != p->topology_seq) {
        p->topology_seq = seq;
        rebuild(p);
    }
}

static void
run_cb(evutil_socket_t fd, short what, void *p_)
{
    struct pipeline *p = p_;

    for (size_t i = 0; i < atomic_load(&p->n_bridges); i++) {
        tap_flow_run(p->bridges[i].flow);
    }
}

/* The flow tap's rings and the netdev tap's, from the configuration. */
static void
ring_config(const struct ovs_ext_config *cfg, struct tap_ring_config *ring)
{
    tap_ring_config_init(ring);
    ring->block_size = 1 << 20;
    ring->n_blocks = (uint32_t) (cfg->ring_size >> 20);
    ring->snaplen = (uint32_t) cfg->snaplen;
}

/* Creates the netdev tap if any bridge may use it, and checks what the
 * flow taps will need; flow taps themselves are created as their bridges
 * appear (add_flow_tap()). */
static char *
create_taps(struct pipeline *p)
{
    const struct ovs_ext_config *cfg = p->cfg;
    bool any_netdev = !strcmp(cfg->default_tap, "netdev");
    bool any_flow = !strcmp(cfg->default_tap, "flow");
    char *error;

    for (size_t i = 0; i < cfg->n_bridges; i++) {
        any_netdev |= cfg->bridges[i].tap == OVS_EXT_TAP_NETDEV;
        any_flow |= cfg->bridges[i].tap == OVS_EXT_TAP_FLOW;
    }
    if (any_netdev) {
        struct tap_netdev_config nc;
        int retval;

        tap_netdev_config_init(&nc);
        nc.n_workers = p->n_workers;
        ring_config(cfg, &nc.ring);
        nc.ring.reinsert_vlan = true;
        retval = tap_netdev_create(&nc, &p->netdev);
        if (retval) {
            return xasprintf("netdev tap: cannot create capture rings (%s)",
                             strerror(retval));
        }
    }
    if (any_flow) {
        if (strncmp(cfg->ovsdb, "unix:", 5)) {
            return xasprintf("the flow tap needs the OVSDB server on a unix "
                             "socket ([ovs] db), not %s", cfg->ovsdb);
        }
        error = tap_flow_parse_register(cfg->flow_tap_reg_bit, &p->reg,
                                        &p->reg_bit);
        if (error) {
            char *full = xasprintf("[ovs] flow_tap_reg_bit: %s", error);

            free(error);
            return full;
        }
    }
    return NULL;
}

/* Starts a flow tap on 'bridge' (main thread). */
static void
add_flow_tap(struct pipeline *p, const char *bridge)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    size_t n = atomic_load_explicit(&p->n_bridges, memory_order_relaxed);
    struct tapped_bridge *tb;
    struct tap_flow_config fc;
    int retval;

    if (n >= MAX_FLOW_BRIDGES) {
        VNM_WARN_RL(&rl, "bridge %s: not tapped: more than %d bridges with "
                    "a flow tap", bridge, MAX_FLOW_BRIDGES);
        return;
    }
    tap_flow_config_init(&fc);
    fc.bridge = bridge;
    fc.db_path = p->cfg->ovsdb + 5;
    fc.rundir = p->cfg->rundir;
    fc.cookie = p->cfg->flow_tap_cookie;
    fc.priority = (int) p->cfg->flow_tap_priority;
    fc.reg = p->reg;
    fc.reg_bit = p->reg_bit;
    fc.n_workers = p->n_workers;
    ring_config(p->cfg, &fc.ring);
    tb = &p->bridges[n];
    memset(tb, 0, sizeof *tb);
    retval = tap_flow_create(&fc, &tb->flow);
    if (retval) {
        VNM_WARN_RL(&rl, "bridge %s: cannot create the flow tap (%s)",
                    bridge, strerror(retval));
        return;
    }
    tb->name = xstrdup(bridge);
    atomic_store_explicit(&p->n_bridges, n + 1, memory_order_release);
    VNM_INFO("bridge %s: flow tap started", bridge);
}

char *
pipeline_create(const struct ovs_ext_config *cfg, struct event_base *base,
                struct vnm_redis *redis, const char *host_id,
                ovs_ext_record_func *cb, void *aux,
                const struct pipeline_bw *bw, struct pipeline **pp)
{
    struct pipeline *p = xzalloc(sizeof *p);
    struct timeval tv;
    char *error;

    *pp = NULL;
    p->cfg = cfg;
    p->cb = cb;
    p->aux = aux;
    if (bw) {
        p->bw = *bw;
    }
    p->n_workers = (size_t) cfg->workers;
    atomic_init(&p->stop, false);
    atomic_init(&p->n_bridges, 0);
    p->registry = port_registry_create();
    port_map_rcu_init(&p->rcu, p->n_workers);
    port_map_publish(&p->rcu, port_map_build(NULL, NULL, 0));

    p->workers = xcalloc(p->n_workers, sizeof *p->workers);
    error = create_taps(p);
    if (error) {
        goto error;
    }

    for (size_t i = 0; i < p->n_workers; i++) {
        struct worker *w = &p->workers[i];
        struct flow_table_config ftc;

        w->p = p;
        w->idx = i;
        pthread_mutex_init(&w->ft_stats_mutex, NULL);
        record_queue_init(&w->queue, QUEUE_RECORDS);
        record_queue_init_elem(&w->bw_queue, p->bw.delta ? QUEUE_DELTAS : 1,
                               sizeof(struct flow_bw_delta));
        atomic_init(&w->bw_second, 0);
        flow_table_config_init(&ftc);
        ftc.max_flows = (uint32_t) cfg->max_flows;
        ftc.max_memory = (uint64_t) cfg->max_memory;
        ftc.idle_timeout_ms = (uint32_t) cfg->idle_timeout_ms;
        ftc.tcp_closed_timeout_ms = (uint32_t) cfg->tcp_closed_timeout_ms;
        ftc.syn_timeout_ms = (uint32_t) cfg->syn_timeout_ms;
        ftc.active_timeout_ms = (uint32_t) cfg->active_timeout_ms;
        ftc.update_interval_ms = (uint32_t) cfg->update_interval_ms;
        ftc.first_update_ms = (uint32_t) cfg->first_update_ms;
        ftc.classify = cfg->classify;
        ftc.worker_id = (uint32_t) i;
        w->cls = cfg->classify ? classifier_create() : NULL;
        w->ft = flow_table_create(&ftc, w->cls, worker_record,
                                  worker_resolve, w);
        if (p->bw.delta) {
            flow_table_set_bw(w->ft, worker_bw);
        }
    }

    p->inv = inventory_create(base, cfg->ovsdb, inventory_changed, p);
    if (redis) {
        inventory_set_publisher(p->inv, redis, host_id);
    }

    for (size_t i = 0; i < p->n_workers; i++) {
        struct worker *w = &p->workers[i];
        int retval = pthread_create(&w->thread, NULL, worker_main, w);

        if (retval) {
            error = xasprintf("cannot start worker thread (%s)",
                              strerror(retval));
            goto error;
        }
        w->started = true;
    }

    tv = (struct timeval) { 0, DRAIN_MS * 1000 };
    p->drain_timer = event_new(base, -1, EV_PERSIST, drain_cb, p);
    event_add(p->drain_timer, &tv);
    tv = (struct timeval) { 1, 0 };
    p->run_timer = event_new(base, -1, EV_PERSIST, run_cb, p);
    event_add(p->run_timer, &tv);

    VNM_INFO("pipeline started: %zu workers, OVSDB %s, default tap %s",
             p->n_workers, cfg->ovsdb, cfg->default_tap);
    *pp = p;
    return NULL;

error:
    pipeline_destroy(p);
    return error;
}

void
pipeline_destroy(struct pipeline *p)
{
    if (!p) {
        return;
    }
    atomic_store_explicit(&p->stop, true, memory_order_release);
    for (size_t i = 0; i < p->n_workers; i++) {
        if (p->workers[i].started) {
            pthread_join(p->workers[i].thread, NULL);
        }
    }
    if (p->workers) {
        drain_records(p);
        drain_deltas(p, true);
    }
    if (p->drain_timer) {
        event_free(p->drain_timer);
    }
    if (p->run_timer) {
        event_free(p->run_timer);
    }
    /* The inventory goes first: removing the flow taps' monitor ports
     * makes ovsdb-server send updates, which an inventory still connected
     * would leave unread, and closing a socket with unread data resets the
     * connection (a WARN in ovsdb-server's log). */
    inventory_destroy(p->inv);
    p->inv = NULL;
    for (size_t i = 0; i < atomic_load(&p->n_bridges); i++) {
        tap_flow_destroy(p->bridges[i].flow);
        free(p->bridges[i].name);
    }
    tap_netdev_destroy(p->netdev);
    for (size_t i = 0; p->workers && i < p->n_workers; i++) {
        struct worker *w = &p->workers[i];

        flow_table_destroy(w->ft);
        classifier_destroy(w->cls);
        if (w->queue.slots) {
            record_queue_uninit(&w->queue);
            record_queue_uninit(&w->bw_queue);
            pthread_mutex_destroy(&w->ft_stats_mutex);
        }
    }
    free(p->workers);
    port_map_rcu_uninit(&p->rcu);
    port_registry_destroy(p->registry);
    free(p);
}

static uint64_t
rd(const atomic_uint_fast64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* Per-port counters of a tap, as {"PORT": {"packets": N, "bytes": N}}. */
static json_t *
port_stats_json(const struct tap_port_stats *ps, size_t n)
{
    json_t *ports = json_object();

    for (size_t i = 0; i < n; i++) {
        json_object_set_new(ports, ps[i].port.name, json_pack(
            "{s:I, s:I, s:i}", "packets", (json_int_t) ps[i].packets,
            "bytes", (json_int_t) ps[i].bytes, "ofport", ps[i].port.ofport));
    }
    return ports;
}

static json_t *
tap_stats_json(const struct tap_stats *ts)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "packets", (json_int_t) ts->packets,
                     "bytes", (json_int_t) ts->bytes,
                     "ring_packets", (json_int_t) ts->ring_packets,
                     "ring_drops", (json_int_t) ts->ring_drops,
                     "unknown", (json_int_t) ts->n_unknown,
                     "untagged", (json_int_t) ts->n_untagged,
                     "ports", (json_int_t) ts->n_ports);
}

const struct inventory *
pipeline_inventory(const struct pipeline *p)
{
    return p->inv;
}

const struct port_info *
pipeline_port(const struct pipeline *p, uint32_t id)
{
    return port_map_get(port_map_current((struct port_map_rcu *) &p->rcu),
                        id);
}

void
pipeline_status(const struct pipeline *p, json_t *status)
{
    struct inventory_stats is;
    json_t *workers = json_array();
    json_t *errors = json_object();
    uint64_t frames = 0, bytes = 0, malformed = 0, unknown = 0;
    uint64_t flows = 0, evicted = 0, memory = 0, dropped = 0;
    uint64_t bw_dropped = 0, bw_late = 0;

    for (size_t i = 0; i < p->n_workers; i++) {
        struct worker *w = &p->workers[i];
        struct flow_table_stats fts;

        pthread_mutex_lock(&w->ft_stats_mutex);
        fts = w->ft_stats;
        pthread_mutex_unlock(&w->ft_stats_mutex);
        frames += rd(&w->stats.frames);
        bytes += rd(&w->stats.bytes);
        malformed += rd(&w->stats.malformed);
        unknown += rd(&w->stats.unknown_port);
        flows += fts.n_flows;
        evicted += fts.n_evicted;
        memory += fts.memory;
        dropped += record_queue_dropped(&w->queue);
        bw_dropped += record_queue_dropped(&w->bw_queue);
        bw_late += fts.n_bw_late;
        for (int e = 1; e < DECODE_N_ERRORS; e++) {
            uint64_t n = rd(&w->stats.decode_errors[e]);

            if (n) {
                json_t *old = json_object_get(errors, decode_error_name(e));

                json_object_set_new(errors, decode_error_name(e),
                                    json_integer((json_int_t) n
                                                 + json_integer_value(old)));
            }
        }
        json_array_append_new(workers, json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:I}",
            "frames", (json_int_t) rd(&w->stats.frames),
            "flows", (json_int_t) fts.n_flows,
            "created", (json_int_t) fts.n_created,
            "evicted", (json_int_t) fts.n_evicted,
            "memory", (json_int_t) fts.memory,
            "records_dropped", (json_int_t) record_queue_dropped(&w->queue)));
    }
    inventory_get_stats(p->inv, &is);
    json_object_set_new(status, "capture", json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
        "frames", (json_int_t) frames,
        "bytes", (json_int_t) bytes,
        "malformed", (json_int_t) malformed,
        "unknown_port", (json_int_t) unknown,
        "flows", (json_int_t) flows,
        "evicted", (json_int_t) evicted,
        "flow_memory", (json_int_t) memory,
        "records", (json_int_t) p->n_records,
        "records_dropped", (json_int_t) dropped,
        "malformed_by_reason", errors,
        "workers", workers));
    json_object_set_new(json_object_get(status, "capture"), "bw_dropped",
                        json_integer((json_int_t) bw_dropped));
    json_object_set_new(json_object_get(status, "capture"), "bw_late",
                        json_integer((json_int_t) bw_late));
    json_object_set_new(status, "ovsdb", json_pack(
        "{s:b, s:b, s:I, s:I, s:I, s:I, s:I}",
        "connected", is.connected, "synced", is.synced,
        "reconnects", (json_int_t) is.n_reconnects,
        "resyncs", (json_int_t) is.n_resyncs,
        "updates", (json_int_t) is.n_updates,
        "interfaces", (json_int_t) is.n_interfaces,
        "port_maps", (json_int_t) p->n_map_builds));
    if (p->netdev) {
        struct tap_stats ts;

        struct tap_port_stats *ps;
        size_t n;
        json_t *j;

        tap_netdev_get_stats(p->netdev, &ts);
        j = tap_stats_json(&ts);
        n = tap_netdev_get_port_stats(p->netdev, &ps);
        json_object_set_new(j, "per_port", port_stats_json(ps, n));
        free(ps);
        json_object_set_new(status, "netdev_tap", j);
    }
    for (size_t i = 0; i < atomic_load(&p->n_bridges); i++) {
        struct tap_flow_stats fs;
        struct tap_port_stats *ps;
        json_t *taps, *j;
        size_t n_ps;

        taps = json_object_get(status, "flow_taps");
        if (!taps) {
            taps = json_object();
            json_object_set_new(status, "flow_taps", taps);
        }
        tap_flow_get_stats(p->bridges[i].flow, &fs);
        j = tap_stats_json(&fs.tap);
        n_ps = tap_flow_get_port_stats(p->bridges[i].flow, &ps);
        json_object_set_new(j, "per_port", port_stats_json(ps, n_ps));
        free(ps);
        json_object_set_new(j, "reinstalls",
                            json_integer((json_int_t) fs.n_reinstalls));
        json_object_set_new(j, "monitor_recreated",
                            json_integer((json_int_t)
                                         fs.n_monitor_recreated));
        json_object_set_new(j, "in_sync", json_boolean(fs.in_sync));
        json_object_set_new(j, "priority", json_integer(fs.priority));
        json_object_set_new(j, "rules", json_integer((json_int_t)
                                                     fs.n_rules));
        json_object_set_new(j, "monitor_port",
                            json_string(fs.monitor_port));
        json_object_set_new(taps, p->bridges[i].name, j);
    }
}

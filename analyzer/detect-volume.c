/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "volume": a VM sending or receiving far more than it usually
 * does at that time of the week.
 *
 * Model (doc/alerts.md, "volume").  Per VM port and direction ("tx": what
 * the VM sent, "rx": what it received), the detector counts bytes per
 * interval ('interval', a minute by default) on the host's clock: every
 * flow record adds what its VM side sent and received since the flow's
 * previous record (du_delta()).  When an interval ends, its total updates
 * two baselines, exponentially weighted moving averages:
 *
 *   - one per hour-of-week slot (168 of them, Monday 00h UTC first), with
 *     weight 'slot_alpha': what the VM does on Wednesdays at 14h;
 *   - one global, with weight 'global_alpha': what it did lately.
 *
 * Intervals without traffic count, as zeros.  The baseline of an interval
 * is its slot's average once that slot has 'slot_samples' intervals, else
 * the global one.  Until the VM has 'warmup' intervals behind it nothing
 * is raised; after, an interval whose bytes exceed
 * max('min_bytes', 'factor' x baseline) raises "volume" at once (while the
 * interval is still running).  Such an interval is learned clipped to that
 * threshold, so that one burst does not inflate the baseline, while a new
 * sustained level is accepted after a few intervals.
 *
 * The incident is keyed "HOST/PORT>tx" or "HOST/PORT>rx" (detect-util.h):
 * one per VM and direction.  The first emission of an interval carries the
 * interval's traffic so far, later ones what was added since (merged so
 * that an incident is emitted at most once a second).
 *
 * The baselines live in memory only: a restarted analyzer learns again,
 * through its warm-up (the analyzer lends plugins no storage; see
 * doc/alerts.md).  At most 'max_vms' VM ports are tracked (2 KB each), the
 * least recently active being forgotten first.
 *
 * Configuration: section [detector "volume"], keys in doc/alerts.md.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/detect-util.h"
#include "vnmon/plugin.h"

#define N_SLOTS 168             /* Hours in a week. */
#define MAX_CATCHUP 10080       /* Intervals closed at once, at most. */

/* A direction of a VM's traffic. */
enum direction {
    DIR_TX,                     /* Sent by the VM. */
    DIR_RX,                     /* Received by it. */
    N_DIRS
};

static const char *const dir_names[N_DIRS] = { "tx", "rx" };

/* The baselines and current interval of one VM and direction. */
struct series {
    uint64_t bytes;             /* Current interval. */
    uint64_t packets;
    bool raised;                /* The current interval was raised. */
    uint64_t threshold;         /* The current interval's, once raised. */
    double global;              /* Global EWMA of bytes per interval. */
    uint64_t n_global;          /* Intervals learned. */
    float slot[N_SLOTS];        /* Per hour-of-week EWMA. */
    uint16_t n_slot[N_SLOTS];   /* Intervals learned per slot (capped). */
};

/* A VM port. */
struct vm {
    struct vm *hash_next;
    struct du_lru_node lru;     /* In the recency list, by activity. */
    uint32_t hash;
    char host[VNM_ID_SIZE];
    char port[VNM_PORT_NAME_SIZE];
    struct vnm_attribution attr; /* As last seen. */
    struct series dirs[N_DIRS];
};

/* The detector's state. */
struct volume {
    const struct vnm_host *host;
    const struct vnm_net_ops *net; /* Null on a host older than ABI 1.1. */
    uint64_t interval_ms;
    double factor;
    int64_t min_bytes;
    double slot_alpha;
    double global_alpha;
    int64_t slot_samples;
    int64_t warmup;
    size_t max_vms;
    enum vnm_severity severity;

    uint64_t interval;          /* Current interval number (ms / length),
                                 * 0 before the first record or tick. */
    struct du_deltas *deltas;
    struct du_emitter *emitter; /* Limits emissions to one a second. */
    struct vm **buckets;
    size_t mask;
    size_t n_vms;
    struct du_lru lru;          /* VMs, by activity. */
};

static void
vm_destroy(struct volume *v, struct vm *vm)
{
    struct vm **p = &v->buckets[vm->hash & v->mask];

    while (*p != vm) {
        p = &(*p)->hash_next;
    }
    *p = vm->hash_next;
    du_lru_remove(&v->lru, &vm->lru);
    v->n_vms--;
    free(vm);
}

/* The least recently seen VM of 'v', which has one. */
static struct vm *
oldest_vm(const struct volume *v)
{
    return DU_LRU_ENTRY(v->lru.oldest, struct vm, lru);
}

/* Returns VM port 'port' of 'host', created if needed (forgetting the least
 * recently active one if there are 'max_vms'), or null if memory ran
 * out. */
static struct vm *
vm_get(struct volume *v, const char *host, const char *port)
{
    uint32_t hash = du_hash_port(host, port);
    struct vm **bucket = &v->buckets[hash & v->mask];
    struct vm *vm;

    for (vm = *bucket; vm; vm = vm->hash_next) {
        if (vm->hash == hash && !strcmp(vm->host, host)
            && !strcmp(vm->port, port)) {
            du_lru_remove(&v->lru, &vm->lru);
            du_lru_push_newest(&v->lru, &vm->lru);
            return vm;
        }
    }
    if (v->n_vms >= v->max_vms) {
        vm_destroy(v, oldest_vm(v));
        v->host->count(v->host, "vms_evicted", 1);
        bucket = &v->buckets[hash & v->mask];
    }
    vm = calloc(1, sizeof *vm);
    if (!vm) {
        v->host->count(v->host, "no_memory", 1);
        return NULL;
    }
    vm->hash = hash;
    snprintf(vm->host, sizeof vm->host, "%s", host);
    snprintf(vm->port, sizeof vm->port, "%s", port);
    vm->hash_next = *bucket;
    *bucket = vm;
    du_lru_push_newest(&v->lru, &vm->lru);
    v->n_vms++;
    return vm;
}

/* The model. */

/* The hour-of-week slot (0 = Monday 00h UTC) of interval 'interval'. */
static unsigned
slot_of(const struct volume *v, uint64_t interval)
{
    uint64_t hours = interval * v->interval_ms / 3600000;

    return (unsigned) ((hours + 72) % N_SLOTS);  /* 1970-01-01: Thursday. */
}

/* The baseline of 's' for slot 'slot', and whether it is warm. */
static double
series_baseline(const struct volume *v, const struct series *s,
                unsigned slot, bool *warmp)
{
    *warmp = s->n_global >= (uint64_t) v->warmup;
    if (s->n_slot[slot] >= v->slot_samples) {
        return s->slot[slot];
    }
    return s->global;
}

/* The threshold of 's' in slot 'slot', or UINT64_MAX while warming up. */
static uint64_t
series_threshold(const struct volume *v, const struct series *s,
                 unsigned slot)
{
    bool warm;
    double base = series_baseline(v, s, slot, &warm);
    double t = v->factor * base;

    if (!warm) {
        return UINT64_MAX;
    }
    return t > (double) v->min_bytes ? (uint64_t) t : (uint64_t) v->min_bytes;
}

/* Learns 'bytes' as the total of an interval of slot 'slot' in 's'. */
static void
series_learn(const struct volume *v, struct series *s, unsigned slot,
             uint64_t bytes)
{
    double x = (double) bytes;

    if (!s->n_global) {
        s->global = x;
    } else {
        s->global += v->global_alpha * (x - s->global);
    }
    s->n_global++;
    if (!s->n_slot[slot]) {
        s->slot[slot] = (float) x;
    } else {
        s->slot[slot] += (float) (v->slot_alpha * (x - s->slot[slot]));
    }
    if (s->n_slot[slot] < UINT16_MAX) {
        s->n_slot[slot]++;
    }
}

/* Ends the current interval of every VM, and any whole intervals since,
 * up to interval 'now' (which becomes current). */
static void
volume_advance(struct volume *v, uint64_t now)
{
    uint64_t first;

    if (!v->interval) {
        v->interval = now;
        return;
    } else if (now <= v->interval) {
        return;
    }
    first = v->interval;
    if (now - first > MAX_CATCHUP) {
        first = now - MAX_CATCHUP;
    }
    for (struct du_lru_node *node = v->lru.newest; node;
         node = node->older) {
        struct vm *vm = DU_LRU_ENTRY(node, struct vm, lru);

        for (int d = 0; d < N_DIRS; d++) {
            struct series *s = &vm->dirs[d];

            for (uint64_t i = first; i < now; i++) {
                uint64_t bytes = i == v->interval ? s->bytes : 0;

                if (i == v->interval && s->raised && bytes > s->threshold) {
                    bytes = s->threshold;       /* Clipped. */
                }
                series_learn(v, s, slot_of(v, i), bytes);
            }
            s->bytes = s->packets = 0;
            s->raised = false;
        }
    }
    v->interval = now;
}

/* Alerts. */

/* Formats 'bytes' as "12.3 MB" into 'buf'. */
static void
bytes_format(double bytes, char *buf, size_t size)
{
    static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
    unsigned u = 0;

    while (bytes >= 1000 && u < 4) {
        bytes /= 1000;
        u++;
    }
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

/* Adds 'packets' and 'bytes' of direction 'dir' to 'vm', whose side of
 * 'flow' is 'vm_is_src', and raises or updates its incident if that takes
 * the interval over its threshold. */
static void
volume_add(struct volume *v, struct vm *vm, enum direction dir,
           const struct vnm_flow *flow, bool vm_is_src, uint64_t packets,
           uint64_t bytes)
{
    struct series *s = &vm->dirs[dir];
    unsigned slot = slot_of(v, v->interval);
    char key[VNM_ID_SIZE + VNM_PORT_NAME_SIZE + 8];
    char summary[256], evidence[2][256], ip[46];
    char now_text[16], base_text[16], limit_text[16];
    struct vnm_alert alert = {
        .kind = "volume",
        .severity = v->severity,
        .key = key,
        .summary = summary,
        .vm = &vm->attr,
        .target = dir_names[dir],
        .flow = flow,
        .packets = packets,
        .bytes = bytes,
        .n_evidence = 1,
        .evidence = { evidence[0] },
    };
    uint64_t threshold;
    bool warm;
    double base;

    s->bytes += bytes;
    s->packets += packets;
    if (!s->raised) {
        threshold = series_threshold(v, s, slot);
        if (s->bytes <= threshold) {
            return;
        }
        s->raised = true;
        s->threshold = threshold;
        alert.packets = s->packets;     /* The interval so far. */
        alert.bytes = s->bytes;
        v->host->count(v->host, "raised_intervals", 1);
    }

    base = series_baseline(v, s, slot, &warm);
    bytes_format((double) s->bytes, now_text, sizeof now_text);
    bytes_format(base, base_text, sizeof base_text);
    bytes_format((double) s->threshold, limit_text, sizeof limit_text);
    snprintf(key, sizeof key, "%s/%s>%s", vm->host, vm->port,
             dir_names[dir]);
    snprintf(summary, sizeof summary, "%s (%s) %s %s in its current "
             "%"PRIu64" s interval, over its threshold of %s (baseline %s, "
             "%s, hour %u of the week)", vm->port,
             du_addr(vm_is_src ? &flow->src.ip : &flow->dst.ip, ip),
             dir == DIR_TX ? "sent" : "received", now_text,
             v->interval_ms / 1000, limit_text, base_text,
             s->n_slot[slot] >= v->slot_samples ? "hour-of-week" : "global",
             slot);
    du_evidence(flow, vm_is_src == (dir == DIR_TX), evidence[0],
                sizeof evidence[0]);
    if (flow->dst.packets && flow->src.packets) {
        du_evidence(flow, vm_is_src != (dir == DIR_TX), evidence[1],
                    sizeof evidence[1]);
        alert.evidence[1] = evidence[1];
        alert.n_evidence = 2;
    }
    du_emitter_emit(v->emitter, &alert);
}

/* Flows. */

static bool
is_vm_attribution(const struct vnm_attribution *in)
{
    return in->port[0] && (in->vm[0] || in->iface_id[0] || in->tenant[0]);
}

/* The VM port of side 'src_side' of 'flow' into '*attr' (filled from the
 * network view), or false if that side is no VM. */
static bool
side_vm(const struct volume *v, const struct vnm_flow *flow, bool src_side,
        struct vnm_attribution *attr)
{
    const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
    const struct vnm_port *port = NULL;
    struct vnm_attribution tmp;

    if (end->in.port[0]) {
        if (v->net) {
            port = v->net->port(v->host, flow->host, end->in.port);
        }
        if (is_vm_attribution(&end->in)
            || (port && port->kind == VNM_PORT_VM)) {
            *attr = *du_attribution(&end->in, port, &tmp);
            return true;
        }
        return false;
    } else if (!src_side && v->net) {
        /* A responder that never sent: its address. */
        port = v->net->port_by_ip(v->host, flow->host, &end->ip);
        if (port && port->kind == VNM_PORT_VM) {
            memset(attr, 0, sizeof *attr);
            snprintf(attr->port, sizeof attr->port, "%s", port->name);
            attr->ofport = -1;
            *attr = *du_attribution(attr, port, &tmp);
            return true;
        }
    }
    return false;
}

/* Counts 'flow'.  'flow' is borrowed. */
static void
volume_on_flow(void *state, const struct vnm_flow *flow)
{
    struct volume *v = state;
    uint64_t sp, sb, dp, db;
    struct vnm_attribution attr;

    du_delta(v->deltas, flow, true, &sp, &sb);
    du_delta(v->deltas, flow, false, &dp, &db);
    if (!sb && !db) {
        return;
    }
    volume_advance(v, v->host->now_ms(v->host) / v->interval_ms);
    for (int side = 0; side < 2; side++) {
        bool src_side = side == 0;
        struct vm *vm;

        if (!side_vm(v, flow, src_side, &attr)) {
            continue;
        }
        vm = vm_get(v, flow->host, attr.port);
        if (!vm) {
            continue;
        }
        vm->attr = attr;
        if (src_side ? sb : db) {
            volume_add(v, vm, DIR_TX, flow, src_side, src_side ? sp : dp,
                       src_side ? sb : db);
        }
        if (src_side ? db : sb) {
            volume_add(v, vm, DIR_RX, flow, src_side, src_side ? dp : sp,
                       src_side ? db : sb);
        }
    }
}

/* Ends intervals, delivers merged emissions. */
static void
volume_on_tick(void *state, uint64_t now_ms)
{
    struct volume *v = state;

    volume_advance(v, now_ms / v->interval_ms);
    du_emitter_tick(v->emitter, now_ms);
}

/* Lifecycle. */

static void
volume_destroy(void *state)
{
    struct volume *v = state;

    while (v->lru.oldest) {
        vm_destroy(v, oldest_vm(v));
    }
    du_emitter_destroy(v->emitter);
    du_deltas_destroy(v->deltas);
    free(v->buckets);
    free(v);
}

static int
volume_init(const struct vnm_host *host, const struct vnm_conf *conf,
            void **statep)
{
    int64_t max_flows;
    int64_t interval_ms, min_bytes, slot_samples, warmup, max_vms;
    double factor, slot_alpha, global_alpha;
    enum vnm_severity severity;
    const char *severity_name;
    struct volume *v;
    size_t n_buckets;
    int error;

    if ((error = host->conf_duration(host, conf, "interval", 60000, 1000,
                                     3600000, &interval_ms))
        || (error = host->conf_double(host, conf, "factor", 10.0, 1.0,
                                      1e6, &factor))
        || (error = host->conf_int(host, conf, "min_bytes", 100000000, 0,
                                   INT64_MAX, &min_bytes))
        || (error = host->conf_double(host, conf, "slot_alpha", 0.2, 0.001,
                                      1.0, &slot_alpha))
        || (error = host->conf_double(host, conf, "global_alpha", 0.05,
                                      0.001, 1.0, &global_alpha))
        || (error = host->conf_int(host, conf, "slot_samples", 30, 1,
                                   65535, &slot_samples))
        || (error = host->conf_int(host, conf, "warmup", 60, 0, 1000000,
                                   &warmup))
        || (error = host->conf_int(host, conf, "max_vms", 4096, 1,
                                   1000000, &max_vms))
        || (error = host->conf_int(host, conf, "max_flows", 65536, 1,
                                   10000000, &max_flows))
        || (error = host->conf_string(host, conf, "severity", "medium",
                                      &severity_name))) {
        return error;
    }
    if ((error = du_check_severity(host, "severity", severity_name,
                                   &severity))) {
        return error;
    }

    v = calloc(1, sizeof *v);
    if (!v) {
        return ENOMEM;
    }
    n_buckets = 16;
    while (n_buckets < (size_t) max_vms) {
        n_buckets *= 2;
    }
    v->buckets = calloc(n_buckets, sizeof *v->buckets);
    v->deltas = du_deltas_create(max_flows);
    v->emitter = du_emitter_create(host);
    if (!v->buckets || !v->deltas || !v->emitter) {
        du_emitter_destroy(v->emitter);
        du_deltas_destroy(v->deltas);
        free(v->buckets);
        free(v);
        return ENOMEM;
    }
    v->host = host;
    v->net = VNM_HOST_HAS(host, net) ? host->net : NULL;
    v->interval_ms = interval_ms;
    v->factor = factor;
    v->min_bytes = min_bytes;
    v->slot_alpha = slot_alpha;
    v->global_alpha = global_alpha;
    v->slot_samples = slot_samples;
    v->warmup = warmup;
    v->max_vms = max_vms;
    v->severity = severity;
    v->mask = n_buckets - 1;
    *statep = v;
    return 0;
}

static const struct vnm_detector_ops volume_ops = {
    .on_flow = volume_on_flow,
    .on_tick = volume_on_tick,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "volume",
                  .version = "1.0", .init = volume_init,
                  .destroy = volume_destroy, .detector = &volume_ops);

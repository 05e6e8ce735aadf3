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

/* Emissions: at most one per incident per EMIT_MS.
 *
 * The first emission of an incident (kind, key) goes to the host at once;
 * later ones within EMIT_MS of the previous are merged into a pending one
 * (packets and bytes added, the latest summary, target, VM and evidence
 * kept, the highest severity), which the next emission or a tick delivers.
 * At most EMIT_MAX incidents are remembered, the least recently emitted
 * being flushed and forgotten first; one not emitted for EMIT_IDLE_MS is
 * forgotten at a tick. */

#define EMIT_MS 1000            /* Least time between emissions. */
#define EMIT_MAX 1024           /* Incidents remembered. */
#define EMIT_IDLE_MS 60000      /* Forgotten after this long unseen. */
#define EMIT_BUCKETS 2048       /* Hash buckets, a power of 2. */
#define EMIT_EVIDENCE 4         /* Evidence lines kept per incident. */

/* One incident's pending emission. */
struct pending {
    struct pending *hash_next;
    struct pending *newer, *older; /* Recency list, by 'seen_ms'. */
    uint32_t hash;
    const char *kind;           /* Static storage. */
    char key[192];
    enum vnm_severity severity;
    char summary[512];
    char target[128];
    bool has_vm;
    struct vnm_attribution vm;
    uint32_t n_evidence;
    char evidence[EMIT_EVIDENCE][256];
    uint64_t emitted_ms;        /* Host clock of its last emission. */
    uint64_t seen_ms;           /* Host clock of its last emit call. */
    bool due;                   /* Something is not yet emitted. */
    uint64_t packets;           /* Not yet emitted. */
    uint64_t bytes;
};

/* The pending emissions of one detector. */
struct emitter {
    const struct vnm_host *host;
    struct pending *buckets[EMIT_BUCKETS];
    size_t n;
    struct pending *newest, *oldest;
};

static uint32_t
emit_hash(const char *kind, const char *key)
{
    uint32_t hash = 2166136261u;   /* FNV-1a. */

    for (const char *p = kind; *p; p++) {
        hash = (hash ^ (uint8_t) *p) * 16777619u;
    }
    hash = (hash ^ 0xff) * 16777619u;
    for (const char *p = key; *p; p++) {
        hash = (hash ^ (uint8_t) *p) * 16777619u;
    }
    return hash;
}

static void
emit_unlink(struct emitter *e, struct pending *p)
{
    if (p->newer) {
        p->newer->older = p->older;
    } else if (e->newest == p) {
        e->newest = p->older;
    }
    if (p->older) {
        p->older->newer = p->newer;
    } else if (e->oldest == p) {
        e->oldest = p->newer;
    }
    p->newer = p->older = NULL;
}

static void
emit_push_newest(struct emitter *e, struct pending *p)
{
    p->older = e->newest;
    p->newer = NULL;
    if (e->newest) {
        e->newest->newer = p;
    } else {
        e->oldest = p;
    }
    e->newest = p;
}

/* Delivers what 'p' has pending. */
static void
emit_flush(struct emitter *e, struct pending *p)
{
    struct vnm_alert alert = {
        .kind = p->kind,
        .severity = p->severity,
        .key = p->key,
        .summary = p->summary,
        .vm = p->has_vm ? &p->vm : NULL,
        .target = p->target[0] ? p->target : NULL,
        .packets = p->packets,
        .bytes = p->bytes,
        .n_evidence = p->n_evidence,
    };

    for (uint32_t i = 0; i < p->n_evidence; i++) {
        alert.evidence[i] = p->evidence[i];
    }
    e->host->emit_alert(e->host, &alert);
    p->emitted_ms = e->host->now_ms(e->host);
    p->due = false;
    p->packets = p->bytes = 0;
}

/* Forgets 'p', first delivering what it has pending if 'flush'. */
static void
emit_forget(struct emitter *e, struct pending *p, bool flush)
{
    struct pending **pp = &e->buckets[p->hash & (EMIT_BUCKETS - 1)];

    if (flush && p->due) {
        emit_flush(e, p);
    }
    while (*pp != p) {
        pp = &(*pp)->hash_next;
    }
    *pp = p->hash_next;
    emit_unlink(e, p);
    e->n--;
    free(p);
}

static void
emitter_init(struct emitter *e, const struct vnm_host *host)
{
    memset(e, 0, sizeof *e);
    e->host = host;
}

/* Frees what 'e' remembers, delivering nothing. */
static void
emitter_uninit(struct emitter *e)
{
    while (e->oldest) {
        emit_forget(e, e->oldest, false);
    }
}

/* Emits 'alert' now, or merges it into the incident's pending emission if
 * the incident was emitted less than EMIT_MS ago. */
static void
emitter_emit(struct emitter *e, const struct vnm_alert *alert)
{
    uint32_t hash = emit_hash(alert->kind, alert->key);
    struct pending **bucket = &e->buckets[hash & (EMIT_BUCKETS - 1)];
    uint64_t now = e->host->now_ms(e->host);
    struct pending *p;

    for (p = *bucket; p; p = p->hash_next) {
        if (p->hash == hash && !strcmp(p->kind, alert->kind)
            && !strcmp(p->key, alert->key)) {
            break;
        }
    }
    if (!p) {
        if (e->n >= EMIT_MAX) {
            emit_forget(e, e->oldest, true);
        }
        p = calloc(1, sizeof *p);
        if (!p) {
            /* Out of memory: deliver it unmerged. */
            e->host->emit_alert(e->host, alert);
            return;
        }
        p->hash = hash;
        p->kind = alert->kind;
        snprintf(p->key, sizeof p->key, "%s", alert->key);
        p->hash_next = *bucket;
        *bucket = p;
        e->n++;
        emit_push_newest(e, p);
    } else {
        emit_unlink(e, p);
        emit_push_newest(e, p);
    }
    if (!p->due || alert->severity > p->severity) {
        p->severity = alert->severity;
    }
    p->seen_ms = now;
    p->packets += alert->packets;
    p->bytes += alert->bytes;

    if (!p->emitted_ms || now >= p->emitted_ms + EMIT_MS) {
        struct vnm_alert a = *alert;

        a.packets = p->packets;
        a.bytes = p->bytes;
        a.severity = p->severity;
        e->host->emit_alert(e->host, &a);
        p->emitted_ms = now ? now : 1;
        p->due = false;
        p->packets = p->bytes = 0;
        return;
    }
    snprintf(p->summary, sizeof p->summary, "%s", alert->summary);
    snprintf(p->target, sizeof p->target, "%s",
             alert->target ? alert->target : "");
    p->has_vm = alert->vm != NULL;
    if (alert->vm) {
        p->vm = *alert->vm;
    }
    p->n_evidence = 0;
    for (uint32_t i = 0; i < alert->n_evidence && i < EMIT_EVIDENCE; i++) {
        snprintf(p->evidence[i], sizeof p->evidence[i], "%s",
                 alert->evidence[i]);
        p->n_evidence++;
    }
    p->due = true;
}

/* Delivers the pending emissions that are due at 'now_ms', and forgets the
 * incidents not emitted for EMIT_IDLE_MS. */
static void
emitter_tick(struct emitter *e, uint64_t now_ms)
{
    for (struct pending *p = e->newest; p; p = p->older) {
        if (p->due && now_ms >= p->emitted_ms + EMIT_MS) {
            emit_flush(e, p);
        }
    }
    while (e->oldest && e->oldest->seen_ms + EMIT_IDLE_MS <= now_ms) {
        emit_forget(e, e->oldest, true);
    }
}

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
    struct vm *newer, *older;   /* Recency list, by activity. */
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
    struct emitter emitter;
    struct vm **buckets;
    size_t mask;
    size_t n_vms;
    struct vm *newest, *oldest;
};

static uint32_t
vm_hash(const char *host, const char *port)
{
    uint32_t hash = 2166136261u;   /* FNV-1a. */

    for (const char *p = host; *p; p++) {
        hash = (hash ^ (uint8_t) *p) * 16777619u;
    }
    hash = (hash ^ '/') * 16777619u;
    for (const char *p = port; *p; p++) {
        hash = (hash ^ (uint8_t) *p) * 16777619u;
    }
    return hash;
}

static void
volume_unlink(struct volume *v, struct vm *vm)
{
    if (vm->newer) {
        vm->newer->older = vm->older;
    } else if (v->newest == vm) {
        v->newest = vm->older;
    }
    if (vm->older) {
        vm->older->newer = vm->newer;
    } else if (v->oldest == vm) {
        v->oldest = vm->newer;
    }
    vm->newer = vm->older = NULL;
}

static void
volume_push_newest(struct volume *v, struct vm *vm)
{
    vm->older = v->newest;
    vm->newer = NULL;
    if (v->newest) {
        v->newest->newer = vm;
    } else {
        v->oldest = vm;
    }
    v->newest = vm;
}

static void
vm_destroy(struct volume *v, struct vm *vm)
{
    struct vm **p = &v->buckets[vm->hash & v->mask];

    while (*p != vm) {
        p = &(*p)->hash_next;
    }
    *p = vm->hash_next;
    volume_unlink(v, vm);
    v->n_vms--;
    free(vm);
}

/* Returns VM port 'port' of 'host', created if needed (forgetting the least
 * recently active one if there are 'max_vms'), or null if memory ran
 * out. */
static struct vm *
vm_get(struct volume *v, const char *host, const char *port)
{
    uint32_t hash = vm_hash(host, port);
    struct vm **bucket = &v->buckets[hash & v->mask];
    struct vm *vm;

    for (vm = *bucket; vm; vm = vm->hash_next) {
        if (vm->hash == hash && !strcmp(vm->host, host)
            && !strcmp(vm->port, port)) {
            volume_unlink(v, vm);
            volume_push_newest(v, vm);
            return vm;
        }
    }
    if (v->n_vms >= v->max_vms) {
        vm_destroy(v, v->oldest);
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
    volume_push_newest(v, vm);
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
    for (struct vm *vm = v->newest; vm; vm = vm->older) {
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
    emitter_emit(&v->emitter, &alert);
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
    emitter_tick(&v->emitter, now_ms);
}

/* Lifecycle. */

static void
volume_destroy(void *state)
{
    struct volume *v = state;

    while (v->oldest) {
        vm_destroy(v, v->oldest);
    }
    emitter_uninit(&v->emitter);
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
    if (!du_severity(severity_name, &severity)) {
        host->log(host, VNM_LOG_ERR, "severity: \"%s\" is not one of info, "
                  "low, medium, high, critical", severity_name);
        return EINVAL;
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
    if (!v->buckets || !v->deltas) {
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
    emitter_init(&v->emitter, host);
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

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "flood": SYN, UDP and ICMP floods launched by a VM.
 *
 * Traffic is grouped by attacker and target.  The attacker is the port its
 * frames entered on (a flood's source addresses are usually forged, so the
 * claimed address means nothing; the ingress port does), or the initiator's
 * address if the port is unknown.  The target is the responder's address,
 * and for TCP also its port.  Each (attacker, target, kind) has a ring of
 * one-second buckets on the flows' own clock, in which the detector counts
 * what the attacker sent to the target:
 *
 *   syn-flood   TCP flows left half-open (the initiator sent SYN but never
 *               ACK: the target did not answer, answered RST, or its
 *               SYN-ACK was never acknowledged; a handshake whose answer
 *               went by unseen, as the host's own replies may, is not
 *               half-open): how many new ones, and their packets;
 *   udp-flood   UDP packets, and the target's answers;
 *   icmp-flood  ICMP and ICMPv6 packets (Neighbor Discovery excepted).
 *
 * A flow's UPDATE and END records carry cumulative counters: the detector
 * takes only what was added since the flow's previous record (du_delta()),
 * and spreads it evenly over the seconds that record covers: from the
 * flow's start for its first record, else from its previous record if it
 * is one of the last RECENT_FLOWS flows of its group, else from
 * 'update_interval' (the agent's interval between records) before; so that
 * a long flow reported every ten seconds is not a burst.  Over the last
 * 'window' seconds:
 *
 *   syn-flood   more than 'syn_half_open' new half-open flows, or more than
 *               'syn_pps' packets per second of half-open flows;
 *   udp-flood   more than 'udp_pps' packets per second, the target
 *               answering fewer than 'udp_answer_ratio' packets per packet
 *               received (a busy DNS or QUIC exchange is answered; a flood
 *               is not);
 *   icmp-flood  more than 'icmp_pps' packets per second.
 *
 * While a flood lasts, its incident (key "HOST/PORT>TARGET", see
 * detect-util.h) is emitted when it starts and then at most once a second,
 * each emission carrying the attack packets and bytes counted since the
 * previous one; what is still pending when the flood stops is emitted at
 * the next tick.  A flood is over when its window falls below the
 * thresholds.
 *
 * Memory is bounded: at most 'max_targets' (attacker, target, kind) groups
 * are tracked, the least recently fed one being evicted for a new one
 * (counter "targets_evicted"); a group idle for a window plus a minute is
 * forgotten at a tick.
 *
 * Configuration: section [detector "flood"], keys in doc/alerts.md.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/detect-util.h"
#include "vnmon/plugin.h"

#define TCP_SYN 0x02
#define TCP_ACK 0x10

#define N_BUCKETS 64            /* Seconds of history, > window. */
#define EMIT_MS 1000            /* Least time between emissions. */
#define FORGET_MS 60000         /* Idle time, past the window, to forget. */
#define RECENT_FLOWS 8          /* Flows whose last record is kept. */

/* What kind of flood, indexing 'kind_names'. */
enum flood_kind {
    FLOOD_SYN,
    FLOOD_UDP,
    FLOOD_ICMP,
    N_FLOOD_KINDS
};

static const char *const kind_names[N_FLOOD_KINDS] = {
    [FLOOD_SYN] = "syn-flood",
    [FLOOD_UDP] = "udp-flood",
    [FLOOD_ICMP] = "icmp-flood",
};

/* Identity of a group: attacker, target, kind.  Compared and hashed as
 * bytes, so always zero-filled first. */
struct group_id {
    char host[VNM_ID_SIZE];     /* flow->host. */
    char port[VNM_PORT_NAME_SIZE]; /* Attacker's ingress port, or "". */
    struct vnm_addr src;        /* Attacker's address, if no port. */
    struct vnm_addr dst;        /* Target. */
    uint16_t dst_port;          /* Target port (TCP), else 0. */
    uint8_t kind;               /* enum flood_kind. */
};

/* One second of one group. */
struct bucket {
    uint64_t sec;               /* Which second (of the epoch) it holds. */
    double packets;             /* Attack packets (spread: fractional). */
    double bytes;               /* Their bytes. */
    double answers;             /* Packets the target sent back (UDP). */
    uint32_t half_open;         /* New half-open flows (SYN). */
};

/* A flow of a group, and the time of its last record. */
struct recent {
    uint64_t id;                /* flow->id. */
    uint64_t first_ms;          /* flow->first_ms, with 'id' its identity. */
    uint64_t last_ms;           /* flow->last_ms of its last record. */
};

/* A group: what one attacker sent one target, of one kind. */
struct group {
    struct group *hash_next;
    struct du_lru_node lru;     /* In the recency list, by 'seen_ms'. */
    uint32_t hash;
    struct group_id id;
    uint64_t seen_ms;           /* Host clock when last fed. */
    uint64_t newest_sec;        /* Newest second of traffic seen. */
    struct bucket buckets[N_BUCKETS]; /* Indexed by sec % N_BUCKETS. */
    struct recent recent[RECENT_FLOWS]; /* Ring of the latest flows. */
    unsigned n_recent;          /* Flows ever put in 'recent'. */

    /* The flood, while it lasts. */
    bool active;                /* Over the thresholds. */
    uint64_t emitted_ms;        /* Host clock of the last emission. */
    uint64_t pend_packets;      /* Attack traffic not yet emitted. */
    uint64_t pend_bytes;
    struct vnm_attribution vm;  /* The attacker, as last seen. */
    char target[64];            /* "10.0.0.21" or "10.0.0.21:80". */
    char src_ip[46];            /* The attacker's (claimed) address. */
    char evidence[2][256];      /* Latest flow's sides. */
    unsigned n_evidence;
};

/* Window sums of a group. */
struct sums {
    double packets, bytes, answers;
    uint64_t half_open;
};

/* The detector's state. */
struct flood {
    const struct vnm_host *host;
    const struct vnm_net_ops *net; /* Null on a host older than ABI 1.1. */
    uint64_t window_ms;
    uint64_t update_ms;         /* The agent's update_interval. */
    int64_t syn_half_open;
    int64_t syn_pps;
    int64_t udp_pps;
    double udp_answer_ratio;
    int64_t icmp_pps;
    size_t max_targets;
    enum vnm_severity severity;

    struct du_deltas *deltas;
    struct group **buckets;     /* Hash table of groups. */
    size_t mask;
    size_t n_groups;
    struct du_lru lru;          /* Groups, by 'seen_ms'. */
};

/* Groups. */

static void flood_emit(struct flood *, struct group *,
                       const struct vnm_flow *);

/* Frees 'g', first emitting what it has pending if 'flush'. */
static void
group_destroy(struct flood *f, struct group *g, bool flush)
{
    struct group **p = &f->buckets[g->hash & f->mask];

    if (flush && g->active && g->pend_packets) {
        flood_emit(f, g, NULL);
    }
    while (*p != g) {
        p = &(*p)->hash_next;
    }
    *p = g->hash_next;
    du_lru_remove(&f->lru, &g->lru);
    f->n_groups--;
    free(g);
}

/* The least recently seen group of 'f', which has one. */
static struct group *
oldest_group(const struct flood *f)
{
    return DU_LRU_ENTRY(f->lru.oldest, struct group, lru);
}

/* Returns group 'id', created if needed (evicting the least recently fed
 * one if there are 'max_targets'), or null if memory ran out. */
static struct group *
group_get(struct flood *f, const struct group_id *id)
{
    uint32_t hash = du_hash_bytes(id, sizeof *id);
    struct group **bucket = &f->buckets[hash & f->mask];
    struct group *g;

    for (g = *bucket; g; g = g->hash_next) {
        if (g->hash == hash && !memcmp(&g->id, id, sizeof *id)) {
            du_lru_remove(&f->lru, &g->lru);
            du_lru_push_newest(&f->lru, &g->lru);
            return g;
        }
    }
    if (f->n_groups >= f->max_targets) {
        group_destroy(f, oldest_group(f), true);
        f->host->count(f->host, "targets_evicted", 1);
        bucket = &f->buckets[hash & f->mask];
    }
    g = calloc(1, sizeof *g);
    if (!g) {
        f->host->count(f->host, "no_memory", 1);
        return NULL;
    }
    g->hash = hash;
    g->id = *id;
    g->hash_next = *bucket;
    *bucket = g;
    du_lru_push_newest(&f->lru, &g->lru);
    f->n_groups++;
    return g;
}

/* The bucket of second 'sec' in 'g', reset if it held an older second, or
 * null if 'sec' is too old to keep. */
static struct bucket *
group_bucket(struct group *g, uint64_t sec)
{
    struct bucket *b;

    if (sec + N_BUCKETS <= g->newest_sec) {
        return NULL;
    }
    b = &g->buckets[sec % N_BUCKETS];
    if (b->sec != sec) {
        memset(b, 0, sizeof *b);
        b->sec = sec;
    }
    if (sec > g->newest_sec) {
        g->newest_sec = sec;
    }
    return b;
}

/* Adds 'packets', 'bytes' and 'answers', sent evenly from 'from_ms' to
 * 'to_ms', to the buckets of 'g'. */
static void
group_spread(struct group *g, uint64_t from_ms, uint64_t to_ms,
             uint64_t packets, uint64_t bytes, uint64_t answers)
{
    uint64_t first = from_ms / 1000, last = to_ms / 1000;
    double span = (double) (to_ms - from_ms);

    if (last > g->newest_sec) {
        g->newest_sec = last;
    }
    if (first + N_BUCKETS <= g->newest_sec) {
        first = g->newest_sec - N_BUCKETS + 1;  /* Older ones are lost. */
    }
    for (uint64_t sec = first; sec <= last; sec++) {
        uint64_t a = sec * 1000 > from_ms ? sec * 1000 : from_ms;
        uint64_t b = sec * 1000 + 1000 < to_ms ? sec * 1000 + 1000 : to_ms;
        double share = span > 0 ? (double) (b - a) / span : 1.0;
        struct bucket *bk = group_bucket(g, sec);

        if (bk) {
            bk->packets += share * (double) packets;
            bk->bytes += share * (double) bytes;
            bk->answers += share * (double) answers;
        }
    }
}

/* Looks 'flow' up in the recent flows of 'g', adding it if it is not
 * there, and records 'to_ms' as the time of its latest record.  Returns
 * the time of its previous record, or 'dflt' if it was not there. */
static uint64_t
group_recent(struct group *g, const struct vnm_flow *flow, uint64_t to_ms,
             uint64_t dflt)
{
    unsigned n = g->n_recent < RECENT_FLOWS ? g->n_recent : RECENT_FLOWS;
    struct recent *r;

    for (unsigned i = 0; i < n; i++) {
        r = &g->recent[i];
        if (r->id == flow->id && r->first_ms == flow->first_ms) {
            uint64_t prev = r->last_ms;

            r->last_ms = to_ms;
            return prev <= to_ms ? prev : dflt;
        }
    }
    r = &g->recent[g->n_recent++ % RECENT_FLOWS];
    r->id = flow->id;
    r->first_ms = flow->first_ms;
    r->last_ms = to_ms;
    return dflt;
}

/* Sums the last 'window_ms' of 'g', ending at its newest second. */
static void
group_sums(const struct flood *f, const struct group *g, struct sums *s)
{
    uint64_t n = f->window_ms / 1000;

    memset(s, 0, sizeof *s);
    for (uint64_t i = 0; i < n && i <= g->newest_sec; i++) {
        const struct bucket *b = &g->buckets[(g->newest_sec - i) % N_BUCKETS];

        if (b->sec == g->newest_sec - i) {
            s->packets += b->packets;
            s->bytes += b->bytes;
            s->answers += b->answers;
            s->half_open += b->half_open;
        }
    }
}

/* True if the sums 's' of a group of kind 'kind' make a flood. */
static bool
is_flood(const struct flood *f, enum flood_kind kind, const struct sums *s)
{
    double secs = (double) (f->window_ms / 1000);

    switch (kind) {
    case FLOOD_SYN:
        return (s->half_open > (uint64_t) f->syn_half_open
                || s->packets > (double) f->syn_pps * secs);
    case FLOOD_UDP:
        return (s->packets > (double) f->udp_pps * secs
                && s->answers < f->udp_answer_ratio * s->packets);
    case FLOOD_ICMP:
        return s->packets > (double) f->icmp_pps * secs;
    case N_FLOOD_KINDS:
    default:
        return false;
    }
}

/* Alerts. */

/* Fills 'g''s names and attribution from 'flow', its latest flow. */
static void
group_describe(struct flood *f, struct group *g, const struct vnm_flow *flow)
{
    const struct vnm_port *port = NULL;
    struct vnm_attribution tmp;
    char ip[46];

    if (f->net && flow->src.in.port[0]) {
        port = f->net->port(f->host, flow->host, flow->src.in.port);
    }
    g->vm = *du_attribution(&flow->src.in, port, &tmp);
    du_addr(&flow->src.ip, g->src_ip);
    du_addr(&flow->dst.ip, ip);
    if (g->id.kind != FLOOD_SYN) {
        snprintf(g->target, sizeof g->target, "%s", ip);
    } else if (flow->dst.ip.family == 6) {
        snprintf(g->target, sizeof g->target, "[%s]:%"PRIu16, ip,
                 flow->dst.port);
    } else {
        snprintf(g->target, sizeof g->target, "%s:%"PRIu16, ip,
                 flow->dst.port);
    }
    du_evidence(flow, true, g->evidence[0], sizeof g->evidence[0]);
    g->n_evidence = 1;
    if (flow->dst.packets) {
        du_evidence(flow, false, g->evidence[1], sizeof g->evidence[1]);
        g->n_evidence = 2;
    }
}


/* Emits the flood of 'g' with its pending traffic.  'flow' is the record
 * that showed it, or null (a tick). */
static void
flood_emit(struct flood *f, struct group *g, const struct vnm_flow *flow)
{
    enum flood_kind kind = g->id.kind;
    double secs = (double) (f->window_ms / 1000);
    char name[VNM_PORT_NAME_SIZE + 64];
    char key[VNM_ID_SIZE + VNM_PORT_NAME_SIZE + 128];
    char summary[256];
    struct sums s;
    struct vnm_alert alert = {
        .kind = kind_names[kind],
        .severity = f->severity,
        .key = key,
        .summary = summary,
        .target = g->target,
        .flow = flow,
        .packets = g->pend_packets,
        .bytes = g->pend_bytes,
    };

    if (flow) {
        group_describe(f, g, flow);
    }
    if (g->id.port[0]) {
        alert.vm = &g->vm;
        snprintf(key, sizeof key, "%s/%s>%s", g->id.host, g->id.port,
                 g->target);
        snprintf(name, sizeof name, "%s (from %s)", g->id.port, g->src_ip);
    } else {
        snprintf(key, sizeof key, "%s/%s>%s", g->id.host, g->src_ip,
                 g->target);
        snprintf(name, sizeof name, "%s", g->src_ip);
    }

    group_sums(f, g, &s);
    switch (kind) {
    case FLOOD_SYN:
        snprintf(summary, sizeof summary, "%s SYN flood on %s: %"PRIu64
                 " half-open TCP flows, %.0f packets/s over the last %.0f s",
                 name, g->target, s.half_open, s.packets / secs, secs);
        break;
    case FLOOD_UDP:
        snprintf(summary, sizeof summary, "%s UDP flood on %s: %.0f "
                 "packets/s (%.0f B/s), %.0f answered, over the last %.0f s",
                 name, g->target, s.packets / secs, s.bytes / secs,
                 s.answers, secs);
        break;
    case FLOOD_ICMP:
    case N_FLOOD_KINDS:
    default:
        snprintf(summary, sizeof summary, "%s ICMP flood on %s: %.0f "
                 "packets/s (%.0f B/s) over the last %.0f s",
                 name, g->target, s.packets / secs, s.bytes / secs, secs);
        break;
    }

    if (flow) {
        for (unsigned i = 0; i < g->n_evidence; i++) {
            alert.evidence[i] = g->evidence[i];
        }
        alert.n_evidence = g->n_evidence;
    }
    if (!f->host->emit_alert(f->host, &alert)) {
        f->host->count(f->host, "emissions", 1);
    }
    g->emitted_ms = f->host->now_ms(f->host);
    g->pend_packets = g->pend_bytes = 0;
}

/* Flows. */

/* True if TCP flow 'flow' is half-open (see the file comment). */
static bool
is_half_open(const struct vnm_flow *flow)
{
    return ((flow->src.tcp_flags & TCP_SYN)
            && !(flow->src.tcp_flags & TCP_ACK));
}

/* The kind of flood 'flow' may belong to, or N_FLOOD_KINDS if none. */
static enum flood_kind
flow_kind(const struct vnm_flow *flow)
{
    switch (flow->ip_proto) {
    case IPPROTO_TCP:
        return is_half_open(flow) ? FLOOD_SYN : N_FLOOD_KINDS;
    case IPPROTO_UDP:
        return FLOOD_UDP;
    case IPPROTO_ICMP:
        return FLOOD_ICMP;
    case IPPROTO_ICMPV6:
        if (flow->src_ctl.nd || (flow->src_ctl.has_icmp
                                 && flow->src_ctl.icmp_type >= 133
                                 && flow->src_ctl.icmp_type <= 137)) {
            return N_FLOOD_KINDS;       /* Neighbor Discovery. */
        }
        return FLOOD_ICMP;
    default:
        return N_FLOOD_KINDS;
    }
}

/* Copies 'in' into 'out', zeroing the bytes its family does not use. */
static void
addr_normalize(struct vnm_addr *out, const struct vnm_addr *in)
{
    memset(out, 0, sizeof *out);
    out->family = in->family;
    memcpy(out->a, in->a, in->family == 4 ? 4 : sizeof out->a);
}

/* Fills 'id' with the group of 'flow', of kind 'kind'. */
static void
group_id_init(struct group_id *id, const struct vnm_flow *flow,
              enum flood_kind kind)
{
    memset(id, 0, sizeof *id);
    memcpy(id->host, flow->host, sizeof id->host - 1);
    if (flow->src.in.port[0]) {
        memcpy(id->port, flow->src.in.port, sizeof id->port - 1);
    } else {
        addr_normalize(&id->src, &flow->src.ip);
    }
    addr_normalize(&id->dst, &flow->dst.ip);
    id->dst_port = kind == FLOOD_SYN ? flow->dst.port : 0;
    id->kind = kind;
}

/* Counts 'flow' in its group.  'flow' is borrowed. */
static void
flood_on_flow(void *state, const struct vnm_flow *flow)
{
    struct flood *f = state;
    uint64_t packets, bytes, answers, answer_bytes;
    uint64_t from_ms, to_ms, now;
    enum flood_kind kind;
    struct group_id id;
    struct group *g;
    struct sums s;
    bool is_new, flood;

    kind = flow_kind(flow);
    if (kind == N_FLOOD_KINDS || !flow->dst.ip.family) {
        return;
    }
    du_delta(f->deltas, flow, true, &packets, &bytes);
    du_delta(f->deltas, flow, false, &answers, &answer_bytes);
    if (!packets && !answers) {
        return;                 /* Nothing new. */
    }
    is_new = packets && packets == flow->src.packets;

    group_id_init(&id, flow, kind);
    g = group_get(f, &id);
    if (!g) {
        return;
    }
    now = f->host->now_ms(f->host);
    g->seen_ms = now;

    /* The time this record covers: since the flow's start if it is new,
     * else since its previous record if it is one of the group's recent
     * flows, else 'update_interval'. */
    to_ms = flow->last_ms ? flow->last_ms : now;
    from_ms = to_ms > f->update_ms ? to_ms - f->update_ms : 0;
    if (is_new && flow->first_ms) {
        from_ms = flow->first_ms;
    } else {
        from_ms = group_recent(g, flow, to_ms, from_ms);
    }
    if (from_ms < flow->first_ms) {
        from_ms = flow->first_ms;
    }
    if (from_ms > to_ms) {
        from_ms = to_ms;
    }
    if (is_new) {
        group_recent(g, flow, to_ms, from_ms);
    }
    group_spread(g, from_ms, to_ms, packets, bytes, answers);
    if (kind == FLOOD_SYN && is_new) {
        struct bucket *b = group_bucket(g, (flow->first_ms
                                            ? flow->first_ms : to_ms) / 1000);

        if (b) {
            b->half_open++;
        }
    }

    group_sums(f, g, &s);
    flood = is_flood(f, kind, &s);
    if (flood && !g->active) {
        /* It starts: the attack traffic so far is the window's. */
        g->active = true;
        g->pend_packets = (uint64_t) (s.packets + 0.5);
        g->pend_bytes = (uint64_t) (s.bytes + 0.5);
        f->host->count(f->host, kind == FLOOD_SYN ? "syn_floods"
                       : kind == FLOOD_UDP ? "udp_floods" : "icmp_floods", 1);
        flood_emit(f, g, flow);
    } else if (g->active) {
        g->pend_packets += packets;
        g->pend_bytes += bytes;
        if (!flood || now >= g->emitted_ms + EMIT_MS) {
            flood_emit(f, g, flow);
        }
        g->active = flood;
    }
}

/* Emits what floods have pending, ends floods whose traffic stopped, and
 * forgets idle groups. */
static void
flood_on_tick(void *state, uint64_t now_ms)
{
    struct flood *f = state;

    for (struct du_lru_node *node = f->lru.newest; node;
         node = node->older) {
        struct group *g = DU_LRU_ENTRY(node, struct group, lru);

        if (!g->active) {
            continue;
        }
        if (g->pend_packets && now_ms >= g->emitted_ms + EMIT_MS) {
            flood_emit(f, g, NULL);
        }
        if (now_ms >= g->seen_ms + f->window_ms) {
            g->active = false;  /* No traffic for a window: over. */
        }
    }
    while (f->lru.oldest
           && (oldest_group(f)->seen_ms + f->window_ms + FORGET_MS
               <= now_ms)) {
        group_destroy(f, oldest_group(f), true);
        f->host->count(f->host, "targets_expired", 1);
    }
}

/* Lifecycle. */

static void
flood_destroy(void *state)
{
    struct flood *f = state;

    while (f->lru.oldest) {
        group_destroy(f, oldest_group(f), false);
    }
    du_deltas_destroy(f->deltas);
    free(f->buckets);
    free(f);
}

static int
flood_init(const struct vnm_host *host, const struct vnm_conf *conf,
           void **statep)
{
    int64_t max_flows;
    int64_t window_ms, update_ms, syn_half_open, syn_pps, udp_pps, icmp_pps;
    int64_t max_targets;
    enum vnm_severity severity;
    const char *severity_name;
    double udp_answer_ratio;
    size_t n_buckets;
    struct flood *f;
    int error;

    if ((error = host->conf_duration(host, conf, "window", 5000, 1000,
                                     30000, &window_ms))
        || (error = host->conf_duration(host, conf, "update_interval", 10000,
                                        1000, 600000, &update_ms))
        || (error = host->conf_int(host, conf, "syn_half_open", 100, 1,
                                   100000000, &syn_half_open))
        || (error = host->conf_int(host, conf, "syn_pps", 1000, 1,
                                   100000000, &syn_pps))
        || (error = host->conf_int(host, conf, "udp_pps", 5000, 1,
                                   100000000, &udp_pps))
        || (error = host->conf_double(host, conf, "udp_answer_ratio", 0.2,
                                      0.0, 1000.0, &udp_answer_ratio))
        || (error = host->conf_int(host, conf, "icmp_pps", 500, 1,
                                   100000000, &icmp_pps))
        || (error = host->conf_int(host, conf, "max_targets", 4096, 1,
                                   1000000, &max_targets))
        || (error = host->conf_int(host, conf, "max_flows", 65536, 1,
                                   10000000, &max_flows))
        || (error = host->conf_string(host, conf, "severity", "high",
                                      &severity_name))) {
        return error;
    }
    if ((error = du_check_severity(host, "severity", severity_name,
                                   &severity))) {
        return error;
    }

    f = calloc(1, sizeof *f);
    if (!f) {
        return ENOMEM;
    }
    n_buckets = 16;
    while (n_buckets < (size_t) max_targets) {
        n_buckets *= 2;
    }
    f->buckets = calloc(n_buckets, sizeof *f->buckets);
    f->deltas = du_deltas_create(max_flows);
    if (!f->buckets || !f->deltas) {
        du_deltas_destroy(f->deltas);
        free(f->buckets);
        free(f);
        return ENOMEM;
    }
    f->host = host;
    f->window_ms = (uint64_t) window_ms / 1000 * 1000;
    f->update_ms = update_ms;
    f->syn_half_open = syn_half_open;
    f->syn_pps = syn_pps;
    f->udp_pps = udp_pps;
    f->udp_answer_ratio = udp_answer_ratio;
    f->icmp_pps = icmp_pps;
    f->max_targets = max_targets;
    f->severity = severity;
    f->mask = n_buckets - 1;
    f->net = VNM_HOST_HAS(host, net) ? host->net : NULL;
    *statep = f;
    return 0;
}

static const struct vnm_detector_ops flood_ops = {
    .on_flow = flood_on_flow,
    .on_tick = flood_on_tick,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "flood",
                  .version = "1.0", .init = flood_init,
                  .destroy = flood_destroy, .detector = &flood_ops);

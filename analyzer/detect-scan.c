/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "scan": port scans and host sweeps launched by a VM.
 *
 * A probe is a flow record whose initiator got no real answer: a TCP flow
 * the responder never answered, or answered with RST only (a closed port),
 * or whose handshake the initiator never acknowledged (a SYN scan of an
 * open port: SYN, SYN-ACK, RST); or a UDP flow without answer.  Flows to
 * multicast and broadcast addresses are not probes.
 *
 * Probes are grouped by source: the VM port the initiator's frames entered
 * on (port name and VM id) when that port belongs to a VM, else the
 * initiator's address.  For each source the detector keeps, over a sliding
 * window of the probes' own times (flow->first_ms), the distinct (host,
 * port) pairs and the distinct hosts probed.  More than 'ports' ports of
 * one host make a "port-scan" alert; more than 'hosts' hosts, on any
 * ports, a "host-sweep" alert.  Both are keyed by the source (the port
 * name, or the address), so that a continuing scan is one incident: while
 * it goes on, each kind is raised again (an incident update) at most once
 * per window and source.
 *
 * Memory is bounded.  Each source tracks at most ports + 1 pairs and
 * hosts + 1 hosts, in arrays sorted by address; at most 'max_sources'
 * sources are tracked, the least recently seen one being evicted for a new
 * one (counter "sources_evicted").  When the pair array is full, a probe of
 * host H makes room by dropping the oldest pair of the host with the
 * fewest pairs, if that host has at most one pair more than H, else the
 * oldest pair of H itself: the host that gets the most ports keeps them,
 * so an interleaved scan of a few hosts is still seen.  A source with no
 * probe for a window (by the host's clock) is forgotten at the next tick.
 *
 * Windows slide on the flows' times, not on the arrival of their records,
 * so that records the agent exports late (an unanswered flow ends on idle
 * timeout) are still counted together.
 *
 * Configuration, section [detector "scan"] (see doc/): window (duration,
 * 10 s), ports (50), hosts (30), max_sources (4096), severity ("medium").
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnmon/plugin.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define SCAN_SAMPLES 4          /* Recent probes kept per source. */

/* What a source is called: the VM port it sends from, or its address.
 * Compared and hashed as bytes, so always zero-filled first. */
struct scan_id {
    char port[VNM_PORT_NAME_SIZE]; /* VM port name, or "". */
    char vm[VNM_ID_SIZE];       /* Its VM id, or "". */
    struct vnm_addr ip;         /* The address, if no VM port. */
};

/* A probed host, or a probed (host, port) pair. */
struct target {
    struct vnm_addr ip;         /* The host, zero-filled past its family. */
    uint16_t port;              /* The port, 0 in the host array. */
    uint64_t ms;                /* Time of its latest probe. */
};

/* A sorted array of at most 'cap' targets. */
struct target_set {
    struct target *t;
    size_t n;
    size_t allocated;
    size_t cap;
};

/* One probe, kept as evidence. */
struct sample {
    struct vnm_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;
    uint8_t src_flags;
    uint8_t dst_flags;
    bool answered;
};

/* What kind of alert, indexing 'struct source''s 'alerts'. */
enum scan_kind {
    SCAN_PORTS,                 /* "port-scan" */
    SCAN_HOSTS,                 /* "host-sweep" */
};

/* One kind of alert of one source. */
struct source_alert {
    bool raised;                /* Ever raised for this source. */
    uint64_t raised_ms;         /* Probe time of the last raise. */
    uint64_t packets;           /* Probe packets since then. */
    uint64_t bytes;             /* Probe bytes since then. */
};

/* A probing source. */
struct source {
    struct source *hash_next;   /* Next in hash bucket. */
    struct source *newer;       /* Neighbours in the scan's recency list. */
    struct source *older;
    uint32_t hash;
    struct scan_id id;
    uint64_t seen_ms;           /* Host clock at its latest probe. */
    uint64_t newest_ms;         /* Time of its newest probe. */
    uint64_t oldest_ms;         /* No tracked target is older. */
    struct target_set pairs;    /* (host, port) pairs, cap ports + 1. */
    struct target_set hosts;    /* Hosts, cap hosts + 1. */
    struct source_alert alerts[2]; /* Indexed by enum scan_kind. */
    struct sample samples[SCAN_SAMPLES]; /* Ring of recent probes. */
    unsigned n_samples;         /* Probes ever put in 'samples'. */
};

/* The detector's state. */
struct scan {
    const struct vnm_host *host;
    uint64_t window_ms;
    size_t ports;               /* Alert above this many ports per host. */
    size_t hosts;               /* Alert above this many hosts. */
    size_t max_sources;
    enum vnm_severity severity;

    struct source **buckets;    /* Hash table of sources. */
    size_t mask;                /* Buckets - 1, a power of 2 minus 1. */
    size_t n_sources;
    struct source *newest;      /* Recency list, by 'seen_ms'. */
    struct source *oldest;
};

/* Addresses and targets. */

/* Copies 'in' into 'out', zeroing the bytes its family does not use. */
static void
addr_normalize(struct vnm_addr *out, const struct vnm_addr *in)
{
    memset(out, 0, sizeof *out);
    out->family = in->family;
    memcpy(out->a, in->a, in->family == 4 ? 4 : sizeof out->a);
}

static bool
addr_is_group(const struct vnm_addr *ip)
{
    return (ip->family == 4 ? ip->a[0] >= 224   /* Multicast, broadcast. */
            : ip->family == 6 && ip->a[0] == 0xff);
}

/* Formats 'ip' (and 'port', if 'with_port') into 'buf'. */
static void
addr_format(const struct vnm_addr *ip, bool with_port, uint16_t port,
            char *buf, size_t size)
{
    char text[INET6_ADDRSTRLEN];
    int af = ip->family == 6 ? AF_INET6 : AF_INET;

    if (!ip->family || !inet_ntop(af, ip->a, text, sizeof text)) {
        snprintf(text, sizeof text, "?");
    }
    if (!with_port) {
        snprintf(buf, size, "%s", text);
    } else if (ip->family == 6) {
        snprintf(buf, size, "[%s]:%"PRIu16, text, port);
    } else {
        snprintf(buf, size, "%s:%"PRIu16, text, port);
    }
}

/* Orders targets by address, then port. */
static int
target_cmp(const struct target *t, const struct vnm_addr *ip, uint16_t port)
{
    int cmp = memcmp(&t->ip, ip, sizeof *ip);

    return cmp ? cmp : (t->port > port) - (t->port < port);
}

/* Returns the index of ('ip', 'port') in 'set', or of where it belongs,
 * and whether it is there in '*foundp'. */
static size_t
target_set_find(const struct target_set *set, const struct vnm_addr *ip,
                uint16_t port, bool *foundp)
{
    size_t lo = 0, hi = set->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = target_cmp(&set->t[mid], ip, port);

        if (!cmp) {
            *foundp = true;
            return mid;
        } else if (cmp < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *foundp = false;
    return lo;
}

static void
target_set_remove(struct target_set *set, size_t i)
{
    memmove(&set->t[i], &set->t[i + 1], (set->n - i - 1) * sizeof *set->t);
    set->n--;
}

/* Inserts 't' at index 'i' of 'set', which must not be full.  Returns false
 * if memory ran out. */
static bool
target_set_insert(struct target_set *set, size_t i, const struct target *t)
{
    if (set->n == set->allocated) {
        size_t allocated = set->allocated ? 2 * set->allocated : 4;
        struct target *p;

        if (allocated > set->cap) {
            allocated = set->cap;
        }
        p = realloc(set->t, allocated * sizeof *p);
        if (!p) {
            return false;
        }
        set->t = p;
        set->allocated = allocated;
    }
    memmove(&set->t[i + 1], &set->t[i], (set->n - i) * sizeof *set->t);
    set->t[i] = *t;
    set->n++;
    return true;
}

/* Drops the targets of 'set' probed at or before 'horizon_ms'.  Returns
 * the time of the oldest one left, or UINT64_MAX. */
static uint64_t
target_set_expire(struct target_set *set, uint64_t horizon_ms)
{
    uint64_t oldest = UINT64_MAX;
    size_t n = 0;

    for (size_t i = 0; i < set->n; i++) {
        if (set->t[i].ms > horizon_ms) {
            oldest = set->t[i].ms < oldest ? set->t[i].ms : oldest;
            set->t[n++] = set->t[i];
        }
    }
    set->n = n;
    return oldest;
}

/* In the full pair array 'set', chooses the pair to drop for a new pair of
 * host 'ip' (see the file comment).  Returns false if there is none, that
 * is, if the probe should not be tracked. */
static bool
pair_victim(const struct target_set *set, const struct vnm_addr *ip,
            size_t *victimp)
{
    size_t own = 0, own_oldest = 0;
    size_t min = SIZE_MAX, victim = 0;

    for (size_t i = 0; i < set->n;) {
        size_t oldest = i;
        size_t j;

        for (j = i + 1; j < set->n && !memcmp(&set->t[j].ip, &set->t[i].ip,
                                              sizeof *ip); j++) {
            if (set->t[j].ms < set->t[oldest].ms) {
                oldest = j;
            }
        }
        if (!memcmp(&set->t[i].ip, ip, sizeof *ip)) {
            own = j - i;
            own_oldest = oldest;
        } else if (j - i < min || (j - i == min
                                   && set->t[oldest].ms < set->t[victim].ms)) {
            min = j - i;
            victim = oldest;
        }
        i = j;
    }
    if (min != SIZE_MAX && min <= own + 1) {
        *victimp = victim;
        return true;
    } else if (own) {
        *victimp = own_oldest;
        return true;
    }
    return false;
}

/* Sources. */

static uint32_t
scan_id_hash(const struct scan_id *id)
{
    const uint8_t *p = (const uint8_t *) id;
    uint32_t hash = 2166136261u;   /* FNV-1a. */

    for (size_t i = 0; i < sizeof *id; i++) {
        hash = (hash ^ p[i]) * 16777619u;
    }
    return hash;
}

/* Takes 'src' out of the recency list, if it is in it. */
static void
scan_unlink(struct scan *s, struct source *src)
{
    if (src->newer) {
        src->newer->older = src->older;
    } else if (s->newest == src) {
        s->newest = src->older;
    }
    if (src->older) {
        src->older->newer = src->newer;
    } else if (s->oldest == src) {
        s->oldest = src->newer;
    }
    src->newer = src->older = NULL;
}

/* Puts 'src', which is in no list, at the newest end of the recency
 * list. */
static void
scan_push_newest(struct scan *s, struct source *src)
{
    src->older = s->newest;
    src->newer = NULL;
    if (s->newest) {
        s->newest->newer = src;
    } else {
        s->oldest = src;
    }
    s->newest = src;
}

static void
source_destroy(struct scan *s, struct source *src)
{
    struct source **p = &s->buckets[src->hash & s->mask];

    while (*p != src) {
        p = &(*p)->hash_next;
    }
    *p = src->hash_next;
    scan_unlink(s, src);
    s->n_sources--;
    free(src->pairs.t);
    free(src->hosts.t);
    free(src);
}

/* Returns the source 'id', creating it if needed (evicting the least
 * recently seen one if there are 'max_sources'), or null if memory ran
 * out. */
static struct source *
source_get(struct scan *s, const struct scan_id *id)
{
    uint32_t hash = scan_id_hash(id);
    struct source **bucket = &s->buckets[hash & s->mask];
    struct source *src;

    for (src = *bucket; src; src = src->hash_next) {
        if (src->hash == hash && !memcmp(&src->id, id, sizeof *id)) {
            return src;
        }
    }

    if (s->n_sources >= s->max_sources) {
        source_destroy(s, s->oldest);
        s->host->count(s->host, "sources_evicted", 1);
    }
    src = calloc(1, sizeof *src);
    if (!src) {
        s->host->count(s->host, "no_memory", 1);
        return NULL;
    }
    src->hash = hash;
    src->id = *id;
    src->oldest_ms = UINT64_MAX;
    src->pairs.cap = s->ports + 1;
    src->hosts.cap = s->hosts + 1;
    src->hash_next = *bucket;
    *bucket = src;
    scan_push_newest(s, src);
    s->n_sources++;
    return src;
}

/* Records probe ('ip', 'port') at 'ms' in 'src''s pairs.  Returns the
 * number of pairs of host 'ip' then tracked, and stores the time span they
 * cover in '*spanp'. */
static size_t
source_add_pair(struct scan *s, struct source *src, const struct vnm_addr *ip,
                uint16_t port, uint64_t ms, uint64_t *spanp)
{
    struct target_set *set = &src->pairs;
    uint64_t first = UINT64_MAX, last = 0;
    size_t i, n;
    bool found;

    i = target_set_find(set, ip, port, &found);
    if (found) {
        set->t[i].ms = ms > set->t[i].ms ? ms : set->t[i].ms;
    } else {
        struct target t = { .ip = *ip, .port = port, .ms = ms };
        size_t victim;

        if (set->n < set->cap || pair_victim(set, ip, &victim)) {
            if (set->n == set->cap) {
                target_set_remove(set, victim);
                i = target_set_find(set, ip, port, &found);
            }
            if (!target_set_insert(set, i, &t)) {
                s->host->count(s->host, "no_memory", 1);
            }
        }
    }

    n = 0;
    for (i = 0; i < set->n; i++) {
        if (!memcmp(&set->t[i].ip, ip, sizeof *ip)) {
            first = set->t[i].ms < first ? set->t[i].ms : first;
            last = set->t[i].ms > last ? set->t[i].ms : last;
            n++;
        }
    }
    *spanp = n ? last - first : 0;
    return n;
}

/* Records a probe of host 'ip' at 'ms' in 'src''s hosts.  Returns the
 * number of hosts then tracked, and stores the time span they cover in
 * '*spanp'. */
static size_t
source_add_host(struct scan *s, struct source *src, const struct vnm_addr *ip,
                uint64_t ms, uint64_t *spanp)
{
    struct target_set *set = &src->hosts;
    uint64_t first = UINT64_MAX, last = 0;
    size_t i;
    bool found;

    i = target_set_find(set, ip, 0, &found);
    if (found) {
        set->t[i].ms = ms > set->t[i].ms ? ms : set->t[i].ms;
    } else {
        struct target t = { .ip = *ip, .ms = ms };

        if (set->n == set->cap) {
            size_t oldest = 0;

            for (i = 1; i < set->n; i++) {
                if (set->t[i].ms < set->t[oldest].ms) {
                    oldest = i;
                }
            }
            target_set_remove(set, oldest);
            i = target_set_find(set, ip, 0, &found);
        }
        if (!target_set_insert(set, i, &t)) {
            s->host->count(s->host, "no_memory", 1);
        }
    }

    for (i = 0; i < set->n; i++) {
        first = set->t[i].ms < first ? set->t[i].ms : first;
        last = set->t[i].ms > last ? set->t[i].ms : last;
    }
    *spanp = set->n ? last - first : 0;
    return set->n;
}

/* Alerts. */

/* Formats TCP 'flags' as "SYN|ACK" into 'buf'. */
static void
tcp_flags_format(uint8_t flags, char *buf, size_t size)
{
    static const char *const names[8] = {
        "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR",
    };
    size_t len = 0;

    buf[0] = '\0';
    for (int i = 0; i < 8; i++) {
        if (flags & (1u << i) && len < size) {
            len += snprintf(buf + len, size - len, "%s%s", len ? "|" : "",
                            names[i]);
        }
    }
    if (!flags) {
        snprintf(buf, size, "no flags");
    }
}

/* Formats 'sample' as an evidence line into 'buf'. */
static void
sample_format(const struct sample *sample, char *buf, size_t size)
{
    char src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8];
    char sent[48], answer[64];

    addr_format(&sample->src, true, sample->sport, src, sizeof src);
    addr_format(&sample->dst, true, sample->dport, dst, sizeof dst);
    if (sample->proto == IPPROTO_TCP) {
        char flags[40];

        tcp_flags_format(sample->src_flags, flags, sizeof flags);
        snprintf(sent, sizeof sent, " %s", flags);
        tcp_flags_format(sample->dst_flags, flags, sizeof flags);
        snprintf(answer, sizeof answer, "answered %s", flags);
    } else {
        sent[0] = '\0';
        snprintf(answer, sizeof answer, "answered");
    }
    snprintf(buf, size, "%s %s -> %s%s, %s",
             sample->proto == IPPROTO_TCP ? "TCP" : "UDP", src, dst, sent,
             sample->answered ? answer : "no answer");
}

/* Formats 'ms' as a short duration ("0.4 s", "12 s") into 'buf'. */
static void
span_format(uint64_t ms, char *buf, size_t size)
{
    if (ms < 10000) {
        snprintf(buf, size, "%u.%u s", (unsigned) (ms / 1000),
                 (unsigned) (ms % 1000 / 100));
    } else {
        snprintf(buf, size, "%"PRIu64" s", ms / 1000);
    }
}

/* Raises alert 'kind' for 'src', which crossed its threshold with 'n'
 * targets over 'span_ms' on the probe 'flow' at 'ms', unless it was raised
 * less than a window ago.  'target' names what was probed. */
static void
scan_raise(struct scan *s, struct source *src, enum scan_kind kind,
           const struct vnm_flow *flow, uint64_t ms, size_t n,
           uint64_t span_ms, const char *target)
{
    struct source_alert *sa = &src->alerts[kind];
    char evidence[SCAN_SAMPLES][256];
    char name[VNM_PORT_NAME_SIZE + INET6_ADDRSTRLEN + 4];
    char ip[INET6_ADDRSTRLEN];
    char summary[256];
    char span[32];
    unsigned n_samples;
    struct vnm_alert alert = {
        .kind = kind == SCAN_PORTS ? "port-scan" : "host-sweep",
        .severity = s->severity,
        .target = target,
        .flow = flow,
        .packets = sa->packets,
        .bytes = sa->bytes,
    };

    if (sa->raised && ms < sa->raised_ms + s->window_ms) {
        return;
    }

    addr_format(&flow->src.ip, false, 0, ip, sizeof ip);
    if (src->id.port[0]) {
        alert.key = src->id.port;
        alert.vm = &flow->src.in;
        snprintf(name, sizeof name, "%s (%s)", src->id.port, ip);
    } else {
        alert.key = ip;
        snprintf(name, sizeof name, "%s", ip);
    }
    span_format(span_ms, span, sizeof span);
    if (kind == SCAN_PORTS) {
        snprintf(summary, sizeof summary, "%s probed %zu ports on %s in %s",
                 name, n, target, span);
    } else {
        snprintf(summary, sizeof summary, "%s probed %zu hosts (%s) in %s",
                 name, n, target, span);
    }
    alert.summary = summary;

    n_samples = src->n_samples < SCAN_SAMPLES ? src->n_samples : SCAN_SAMPLES;
    for (unsigned i = 0; i < n_samples; i++) {
        unsigned j = (src->n_samples - n_samples + i) % SCAN_SAMPLES;

        sample_format(&src->samples[j], evidence[i], sizeof evidence[i]);
        alert.evidence[i] = evidence[i];
    }
    alert.n_evidence = n_samples;

    if (!s->host->emit_alert(s->host, &alert)) {
        s->host->count(s->host, kind == SCAN_PORTS ? "port_scans"
                       : "host_sweeps", 1);
    }
    sa->raised = true;
    sa->raised_ms = ms;
    sa->packets = sa->bytes = 0;
}

/* Probes. */

/* True if 'flow' is a probe (see the file comment). */
static bool
is_probe(const struct vnm_flow *flow)
{
    if (addr_is_group(&flow->dst.ip)) {
        return false;
    } else if (flow->ip_proto == IPPROTO_TCP) {
        uint8_t answer = flow->dst.tcp_flags;

        return (!flow->dst.packets
                || ((answer & TCP_RST) && !(answer & ~(TCP_RST | TCP_ACK)))
                || ((answer & TCP_SYN) && !(flow->src.tcp_flags & TCP_ACK)));
    } else if (flow->ip_proto == IPPROTO_UDP) {
        return !flow->dst.packets;
    }
    return false;
}

/* Fills 'id' with the source of 'flow'. */
static void
scan_id_init(struct scan_id *id, const struct vnm_flow *flow)
{
    const struct vnm_attribution *in = &flow->src.in;

    memset(id, 0, sizeof *id);
    if (in->port[0] && (in->vm[0] || in->iface_id[0] || in->tenant[0])) {
        memcpy(id->port, in->port, sizeof id->port - 1);
        memcpy(id->vm, in->vm, sizeof id->vm - 1);
    } else {
        addr_normalize(&id->ip, &flow->src.ip);
    }
}

/* Counts the probe 'flow'.  'flow' is borrowed. */
static void
scan_on_flow(void *state, const struct vnm_flow *flow)
{
    struct scan *s = state;
    uint64_t ms, span;
    struct source *src;
    struct scan_id id;
    struct vnm_addr dst;
    struct sample *sample;
    size_t n;

    if (!is_probe(flow)) {
        return;
    }
    s->host->count(s->host, "probes", 1);

    scan_id_init(&id, flow);
    src = source_get(s, &id);
    if (!src) {
        return;
    }
    src->seen_ms = s->host->now_ms(s->host);
    scan_unlink(s, src);
    scan_push_newest(s, src);

    ms = flow->first_ms ? flow->first_ms : src->seen_ms;
    if (ms > src->newest_ms) {
        src->newest_ms = ms;
    } else if (ms + s->window_ms <= src->newest_ms) {
        return;                 /* Late record, outside the window. */
    }
    if (src->newest_ms >= s->window_ms
        && src->oldest_ms <= src->newest_ms - s->window_ms) {
        uint64_t horizon = src->newest_ms - s->window_ms;
        uint64_t a = target_set_expire(&src->pairs, horizon);
        uint64_t b = target_set_expire(&src->hosts, horizon);

        src->oldest_ms = a < b ? a : b;
    }
    src->oldest_ms = ms < src->oldest_ms ? ms : src->oldest_ms;

    for (int k = 0; k < 2; k++) {
        src->alerts[k].packets += flow->src.packets + flow->dst.packets;
        src->alerts[k].bytes += flow->src.bytes + flow->dst.bytes;
    }
    sample = &src->samples[src->n_samples++ % SCAN_SAMPLES];
    *sample = (struct sample) {
        .src = flow->src.ip,
        .dst = flow->dst.ip,
        .sport = flow->src.port,
        .dport = flow->dst.port,
        .proto = flow->ip_proto,
        .src_flags = flow->src.tcp_flags,
        .dst_flags = flow->dst.tcp_flags,
        .answered = flow->dst.packets > 0,
    };

    addr_normalize(&dst, &flow->dst.ip);
    n = source_add_pair(s, src, &dst, flow->dst.port, ms, &span);
    if (n > s->ports) {
        char target[INET6_ADDRSTRLEN];

        addr_format(&dst, false, 0, target, sizeof target);
        scan_raise(s, src, SCAN_PORTS, flow, ms, n, span, target);
    }
    n = source_add_host(s, src, &dst, ms, &span);
    if (n > s->hosts) {
        char first[INET6_ADDRSTRLEN], last[INET6_ADDRSTRLEN];
        char target[2 * INET6_ADDRSTRLEN + 1];

        addr_format(&src->hosts.t[0].ip, false, 0, first, sizeof first);
        addr_format(&src->hosts.t[n - 1].ip, false, 0, last, sizeof last);
        snprintf(target, sizeof target, "%s-%s", first, last);
        scan_raise(s, src, SCAN_HOSTS, flow, ms, n, span, target);
    }
}

/* Forgets the sources without a probe for a window. */
static void
scan_on_tick(void *state, uint64_t now_ms)
{
    struct scan *s = state;

    while (s->oldest && s->oldest->seen_ms + s->window_ms <= now_ms) {
        source_destroy(s, s->oldest);
        s->host->count(s->host, "sources_expired", 1);
    }
}

/* Lifecycle. */

static void
scan_destroy(void *state)
{
    struct scan *s = state;

    while (s->oldest) {
        source_destroy(s, s->oldest);
    }
    free(s->buckets);
    free(s);
}

/* Parses severity 'name' into '*severityp'. */
static bool
severity_from_name(const char *name, enum vnm_severity *severityp)
{
    for (int i = VNM_SEV_INFO; i <= VNM_SEV_CRITICAL; i++) {
        if (!strcmp(name, vnm_severity_name(i))) {
            *severityp = i;
            return true;
        }
    }
    return false;
}

static int
scan_init(const struct vnm_host *host, const struct vnm_conf *conf,
          void **statep)
{
    int64_t window_ms, ports, hosts, max_sources;
    enum vnm_severity severity;
    const char *severity_name;
    size_t n_buckets;
    struct scan *s;
    int error;

    if ((error = host->conf_duration(host, conf, "window", 10000, 100,
                                     3600000, &window_ms))
        || (error = host->conf_int(host, conf, "ports", 50, 1, 1000,
                                   &ports))
        || (error = host->conf_int(host, conf, "hosts", 30, 1, 1000,
                                   &hosts))
        || (error = host->conf_int(host, conf, "max_sources", 4096, 1,
                                   1000000, &max_sources))
        || (error = host->conf_string(host, conf, "severity", "medium",
                                      &severity_name))) {
        return error;
    }
    if (!severity_from_name(severity_name, &severity)) {
        host->log(host, VNM_LOG_ERR, "severity: \"%s\" is not one of info, "
                  "low, medium, high, critical", severity_name);
        return EINVAL;
    }

    s = calloc(1, sizeof *s);
    if (!s) {
        return ENOMEM;
    }
    n_buckets = 16;
    while (n_buckets < (size_t) max_sources) {
        n_buckets *= 2;
    }
    s->buckets = calloc(n_buckets, sizeof *s->buckets);
    if (!s->buckets) {
        free(s);
        return ENOMEM;
    }
    s->host = host;
    s->window_ms = window_ms;
    s->ports = ports;
    s->hosts = hosts;
    s->max_sources = max_sources;
    s->severity = severity;
    s->mask = n_buckets - 1;
    *statep = s;
    return 0;
}

static const struct vnm_detector_ops scan_ops = {
    .on_flow = scan_on_flow,
    .on_tick = scan_on_tick,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "scan",
                  .version = "1.0", .init = scan_init, .destroy = scan_destroy,
                  .detector = &scan_ops);

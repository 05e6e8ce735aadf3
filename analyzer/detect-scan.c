/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "scan": port scans, host scans and ping sweeps launched by a VM.
 *
 * A probe is a flow record whose initiator got no real answer: a TCP flow
 * whose initiator never sent an ACK (unanswered; a closed port's RST; a
 * SYN scan of an open port: SYN, SYN-ACK, RST; FIN, NULL and Xmas scans),
 * or that the responder answered with RST only (an ACK scan); or a UDP
 * flow without answer.  (A TCP flow whose initiator sent ACK completed its
 * handshake, even if the answer went by unseen, as the host's own replies
 * may.)  A ping is
 * an ICMP echo (or timestamp, or address mask) request or an ICMPv6 echo
 * request, answered or not.  Flows to multicast and broadcast addresses are
 * neither.
 *
 * Probes are grouped by source: the VM port the initiator's frames entered
 * on (host, port name and VM id) when that port belongs to a VM, else the
 * initiator's address.  For each source the detector keeps, over a sliding
 * window of the probes' own times (flow->first_ms):
 *
 *   - the distinct (host, port) pairs probed: more than 'ports' ports of
 *     one host make a "port-scan" of that host (vertical scan);
 *   - the distinct (protocol/port, host) pairs probed: one port probed on
 *     more than 'hosts' hosts makes a "host-scan" of that port (horizontal
 *     scan), e.g. target "tcp/445";
 *   - the distinct hosts pinged: more than 'hosts' hosts of one address
 *     family make a "ping-sweep" of the network that covers them (the
 *     shortest prefix of a multiple of 8 bits, 16 for IPv6, holding them
 *     all, e.g. "10.0.1.0/24").
 *
 * Each incident is keyed "HOST/PORT>TARGET" (detect-util.h; the address
 * stands for PORT when the source is no VM port), so that one scan is one
 * incident.  A ping sweep's network is kept once raised: a sweep that goes
 * on within it updates the same incident; one that leaves it raises the
 * wider network that covers both.  An incident's first emission carries
 * the packets and bytes (both ways) of the source's probes not yet counted
 * in one of its incidents; then it is emitted again at most once a second
 * while its target is still probed above the threshold, each emission
 * carrying the packets and bytes of the probes of its target since the
 * previous one; what is pending when the probes stop is emitted at a tick.
 * A flow's packets are counted once over its UPDATE and END records
 * (du_delta()).
 *
 * Memory is bounded.  Each source tracks at most ports + 1 pairs, 2 x
 * (hosts + 1) port-host pairs and hosts + 1 pinged hosts, in sorted arrays,
 * and at most SCAN_RAISED raised incidents; at most 'max_sources' sources
 * are tracked, the least recently seen one being evicted for a new one
 * (counter "sources_evicted").  When a pair array is full, a probe of group
 * G (a host for port scans, a port for host scans) makes room by dropping
 * the oldest pair of the group with the fewest pairs, if that group has at
 * most one pair more than G, else the oldest pair of G itself: the group
 * that gets the most probes keeps them, so that an interleaved scan of a
 * few hosts (or ports) is still seen.  A source with no probe for a window
 * (by the host's clock) is forgotten at the next tick.
 *
 * Windows slide on the flows' times, not on the arrival of their records,
 * so that records the agent exports late (an unanswered flow ends on idle
 * timeout) are still counted together.
 *
 * Configuration, section [detector "scan"] (doc/alerts.md): window
 * (duration, 10 s), ports (50), hosts (30), max_sources (4096), max_flows
 * (65536: flows whose counters du_delta() remembers), severity ("medium").
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

#include "analyzer/detect-util.h"
#include "vnmon/plugin.h"

#define TCP_RST 0x04
#define TCP_ACK 0x10

#define SCAN_SAMPLES 4          /* Recent probes kept per source. */
#define SCAN_RAISED 8           /* Raised incidents kept per source. */
#define EMIT_MS 1000            /* Least time between emissions. */

/* What a source is called: the VM port it sends from, or its address.
 * Compared and hashed as bytes, so always zero-filled first. */
struct scan_id {
    char host[VNM_ID_SIZE];     /* flow->host. */
    char port[VNM_PORT_NAME_SIZE]; /* VM port name, or "". */
    char vm[VNM_ID_SIZE];       /* Its VM id, or "". */
    struct vnm_addr ip;         /* The address, if no VM port. */
};

/* A probed host, (host, port) pair, or (port, host) pair. */
struct target {
    struct vnm_addr ip;         /* The host, zero-filled past its family. */
    uint16_t port;              /* The port, 0 in host arrays. */
    uint8_t proto;              /* IP protocol, in port-host arrays. */
    uint64_t ms;                /* Time of its latest probe. */
};

/* How a set's entries are ordered and grouped. */
enum set_order {
    BY_HOST,                    /* (host, port): groups are hosts. */
    BY_PORT,                    /* (proto, port, host): groups are ports. */
};

/* A sorted array of at most 'cap' targets. */
struct target_set {
    struct target *t;
    size_t n;
    size_t allocated;
    size_t cap;
    enum set_order order;
};

/* One probe, kept as evidence. */
struct sample {
    struct vnm_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;
    uint8_t src_flags;
    uint8_t dst_flags;
    uint8_t icmp_type;
    bool answered;
};

/* What kind of alert. */
enum scan_kind {
    SCAN_PORTS,                 /* "port-scan" */
    SCAN_HOSTS,                 /* "host-scan" */
    SCAN_PINGS,                 /* "ping-sweep" */
};

static const char *const kind_names[] = {
    [SCAN_PORTS] = "port-scan",
    [SCAN_HOSTS] = "host-scan",
    [SCAN_PINGS] = "ping-sweep",
};

static const char *const kind_counters[] = {
    [SCAN_PORTS] = "port_scans",
    [SCAN_HOSTS] = "host_scans",
    [SCAN_PINGS] = "ping_sweeps",
};

/* An incident a source raised. */
struct raised {
    bool used;
    enum scan_kind kind;
    char target[64];            /* Host, "tcp/22", or "10.0.1.0/24". */
    struct vnm_addr net;        /* Ping sweeps: the network... */
    uint8_t net_len;            /* ...and its prefix length. */
    bool emitted;               /* Emitted at least once. */
    uint64_t emitted_ms;        /* Host clock of its last emission. */
    uint64_t pend_packets;      /* Probe traffic not yet emitted. */
    uint64_t pend_bytes;
    size_t n;                   /* Targets counted at the last crossing. */
    uint64_t span_ms;           /* Time they spanned. */
    char range[2 * INET6_ADDRSTRLEN + 2]; /* Host scans: "first-last". */
};

/* A probing source. */
struct source {
    struct source *hash_next;   /* Next in hash bucket. */
    struct du_lru_node lru;     /* In the scan's recency list. */
    uint32_t hash;
    struct scan_id id;
    struct vnm_attribution vm;  /* Its attribution, if a VM port. */
    char ip[INET6_ADDRSTRLEN];  /* Its (latest) address. */
    uint64_t seen_ms;           /* Host clock at its latest probe. */
    uint64_t newest_ms;         /* Time of its newest probe. */
    uint64_t oldest_ms;         /* No tracked target is older. */
    struct target_set pairs;    /* (host, port), cap ports + 1. */
    struct target_set ports;    /* (port, host), cap 2 * (hosts + 1). */
    struct target_set pings;    /* Pinged hosts, cap hosts + 1. */
    struct raised raised[SCAN_RAISED];
    struct sample samples[SCAN_SAMPLES]; /* Ring of recent probes. */
    unsigned n_samples;         /* Probes ever put in 'samples'. */
    uint64_t pool_packets;      /* Probe traffic of no incident yet, */
    uint64_t pool_bytes;        /* handed to the next one raised. */
};

/* The detector's state. */
struct scan {
    const struct vnm_host *host;
    const struct vnm_net_ops *net; /* Null on a host older than ABI 1.1. */
    uint64_t window_ms;
    size_t ports;               /* Alert above this many ports per host. */
    size_t hosts;               /* Alert above this many hosts. */
    size_t max_sources;
    enum vnm_severity severity;

    struct du_deltas *deltas;
    struct source **buckets;    /* Hash table of sources. */
    size_t mask;                /* Buckets - 1, a power of 2 minus 1. */
    size_t n_sources;
    struct du_lru lru;          /* Sources, by 'seen_ms'. */
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

/* The number of leading bits 'a' and 'b' (same family) share. */
static unsigned
addr_common_bits(const struct vnm_addr *a, const struct vnm_addr *b)
{
    unsigned size = a->family == 4 ? 4 : 16;
    unsigned bits = 0;

    for (unsigned i = 0; i < size; i++) {
        uint8_t x = a->a[i] ^ b->a[i];

        if (x) {
            while (!(x & 0x80)) {
                x <<= 1;
                bits++;
            }
            return bits;
        }
        bits += 8;
    }
    return bits;
}

/* Zeroes the bits of 'a' past the first 'len'. */
static void
addr_mask(struct vnm_addr *a, unsigned len)
{
    for (unsigned i = 0; i < sizeof a->a; i++) {
        if (len >= 8 * (i + 1)) {
            continue;
        } else if (len <= 8 * i) {
            a->a[i] = 0;
        } else {
            a->a[i] &= (uint8_t) (0xff << (8 * (i + 1) - len));
        }
    }
}

/* The protocol name of 'proto', for host scan targets. */
static const char *
proto_name(uint8_t proto)
{
    return (proto == IPPROTO_TCP ? "tcp"
            : proto == IPPROTO_UDP ? "udp"
            : proto == IPPROTO_SCTP ? "sctp" : "ip");
}

/* Orders targets of a set of order 'order'. */
static int
target_cmp(enum set_order order, const struct target *t,
           const struct target *u)
{
    int cmp;

    if (order == BY_PORT) {
        cmp = (t->proto > u->proto) - (t->proto < u->proto);
        if (!cmp) {
            cmp = (t->port > u->port) - (t->port < u->port);
        }
        return cmp ? cmp : memcmp(&t->ip, &u->ip, sizeof t->ip);
    }
    cmp = memcmp(&t->ip, &u->ip, sizeof t->ip);
    return cmp ? cmp : (t->port > u->port) - (t->port < u->port);
}

/* True if 't' and 'u' are in the same group of a set of order 'order'. */
static bool
target_same_group(enum set_order order, const struct target *t,
                  const struct target *u)
{
    return (order == BY_PORT
            ? t->proto == u->proto && t->port == u->port
            : !memcmp(&t->ip, &u->ip, sizeof t->ip));
}

/* Returns the index of 'key' in 'set', or of where it belongs, and whether
 * it is there in '*foundp'. */
static size_t
target_set_find(const struct target_set *set, const struct target *key,
                bool *foundp)
{
    size_t lo = 0, hi = set->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = target_cmp(set->order, &set->t[mid], key);

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

/* In the full grouped array 'set', chooses the entry to drop for a new
 * entry 'key' (see the file comment).  Returns false if there is none,
 * that is, if the probe should not be tracked. */
static bool
group_victim(const struct target_set *set, const struct target *key,
             size_t *victimp)
{
    size_t own = 0, own_oldest = 0;
    size_t min = SIZE_MAX, victim = 0;

    for (size_t i = 0; i < set->n;) {
        size_t oldest = i;
        size_t j;

        for (j = i + 1; j < set->n && target_same_group(set->order,
                                                        &set->t[j],
                                                        &set->t[i]); j++) {
            if (set->t[j].ms < set->t[oldest].ms) {
                oldest = j;
            }
        }
        if (target_same_group(set->order, &set->t[i], key)) {
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

/* Records probe 'key' in the grouped 'set'.  Returns the number of entries
 * of its group then tracked, and stores the time span they cover in
 * '*spanp'. */
static size_t
grouped_add(struct scan *s, struct target_set *set, const struct target *key,
            uint64_t *spanp)
{
    uint64_t first = UINT64_MAX, last = 0;
    size_t i, n;
    bool found;

    i = target_set_find(set, key, &found);
    if (found) {
        set->t[i].ms = key->ms > set->t[i].ms ? key->ms : set->t[i].ms;
    } else {
        size_t victim;

        if (set->n < set->cap || group_victim(set, key, &victim)) {
            if (set->n == set->cap) {
                target_set_remove(set, victim);
                i = target_set_find(set, key, &found);
            }
            if (!target_set_insert(set, i, key)) {
                s->host->count(s->host, "no_memory", 1);
            }
        }
    }

    n = 0;
    for (i = 0; i < set->n; i++) {
        if (target_same_group(set->order, &set->t[i], key)) {
            first = set->t[i].ms < first ? set->t[i].ms : first;
            last = set->t[i].ms > last ? set->t[i].ms : last;
            n++;
        }
    }
    *spanp = n ? last - first : 0;
    return n;
}

/* Records a ping of host 'key' in 'set'.  Returns the number of hosts of
 * its family then tracked, stores the time span they cover in '*spanp',
 * and the shortest prefix (a multiple of 8 bits, 16 for IPv6) that covers
 * them in '*netp' and '*lenp'. */
static size_t
pings_add(struct scan *s, struct target_set *set, const struct target *key,
          uint64_t *spanp, struct vnm_addr *netp, uint8_t *lenp)
{
    const struct target *lo = NULL, *hi = NULL;
    uint64_t first = UINT64_MAX, last = 0;
    unsigned step = key->ip.family == 4 ? 8 : 16;
    unsigned bits;
    size_t i, n;
    bool found;

    i = target_set_find(set, key, &found);
    if (found) {
        set->t[i].ms = key->ms > set->t[i].ms ? key->ms : set->t[i].ms;
    } else {
        if (set->n == set->cap) {
            size_t oldest = 0;

            for (i = 1; i < set->n; i++) {
                if (set->t[i].ms < set->t[oldest].ms) {
                    oldest = i;
                }
            }
            target_set_remove(set, oldest);
            i = target_set_find(set, key, &found);
        }
        if (!target_set_insert(set, i, key)) {
            s->host->count(s->host, "no_memory", 1);
        }
    }

    n = 0;
    for (i = 0; i < set->n; i++) {
        const struct target *t = &set->t[i];

        if (t->ip.family == key->ip.family) {
            first = t->ms < first ? t->ms : first;
            last = t->ms > last ? t->ms : last;
            lo = lo ? lo : t;
            hi = t;
            n++;
        }
    }
    *spanp = n ? last - first : 0;
    bits = lo ? addr_common_bits(&lo->ip, &hi->ip) : 0;
    *netp = key->ip;
    *lenp = bits / step * step;
    addr_mask(netp, *lenp);
    return n;
}

/* Sources. */

static void scan_emit(struct scan *, struct source *, struct raised *,
                      const struct vnm_flow *);

/* Frees 'src', first emitting what its incidents have pending if
 * 'flush'. */
static void
source_destroy(struct scan *s, struct source *src, bool flush)
{
    struct source **p = &s->buckets[src->hash & s->mask];

    for (size_t i = 0; flush && i < SCAN_RAISED; i++) {
        if (src->raised[i].used && src->raised[i].pend_packets) {
            scan_emit(s, src, &src->raised[i], NULL);
        }
    }
    while (*p != src) {
        p = &(*p)->hash_next;
    }
    *p = src->hash_next;
    du_lru_remove(&s->lru, &src->lru);
    s->n_sources--;
    free(src->pairs.t);
    free(src->ports.t);
    free(src->pings.t);
    free(src);
}

/* The least recently seen source of 's', which has one. */
static struct source *
oldest_source(const struct scan *s)
{
    return DU_LRU_ENTRY(s->lru.oldest, struct source, lru);
}

/* Returns the source 'id', creating it if needed (evicting the least
 * recently seen one if there are 'max_sources'), or null if memory ran
 * out. */
static struct source *
source_get(struct scan *s, const struct scan_id *id)
{
    uint32_t hash = du_hash_bytes(id, sizeof *id);
    struct source **bucket = &s->buckets[hash & s->mask];
    struct source *src;

    for (src = *bucket; src; src = src->hash_next) {
        if (src->hash == hash && !memcmp(&src->id, id, sizeof *id)) {
            return src;
        }
    }

    if (s->n_sources >= s->max_sources) {
        source_destroy(s, oldest_source(s), true);
        s->host->count(s->host, "sources_evicted", 1);
        bucket = &s->buckets[hash & s->mask];
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
    src->pairs.order = BY_HOST;
    src->ports.cap = 2 * (s->hosts + 1);
    src->ports.order = BY_PORT;
    src->pings.cap = s->hosts + 1;
    src->pings.order = BY_HOST;
    src->hash_next = *bucket;
    *bucket = src;
    du_lru_push_newest(&s->lru, &src->lru);
    s->n_sources++;
    return src;
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

    if (sample->proto == IPPROTO_ICMP || sample->proto == IPPROTO_ICMPV6) {
        addr_format(&sample->src, false, 0, src, sizeof src);
        addr_format(&sample->dst, false, 0, dst, sizeof dst);
        snprintf(buf, size, "%s %s -> %s type %u, %s",
                 sample->proto == IPPROTO_ICMP ? "ICMP" : "ICMPv6", src, dst,
                 (unsigned) sample->icmp_type,
                 sample->answered ? "answered" : "no answer");
        return;
    }
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

/* Emits the incident 'r' of 'src' with its pending traffic.  'flow' is the
 * probe that showed it, or null (a tick). */
static void
scan_emit(struct scan *s, struct source *src, struct raised *r,
          const struct vnm_flow *flow)
{
    char evidence[SCAN_SAMPLES][256];
    char name[VNM_PORT_NAME_SIZE + INET6_ADDRSTRLEN + 4];
    char key[VNM_ID_SIZE + INET6_ADDRSTRLEN + 80];
    char summary[512];
    char span[32];
    unsigned n_samples;
    struct vnm_alert alert = {
        .kind = kind_names[r->kind],
        .severity = s->severity,
        .key = key,
        .summary = summary,
        .target = r->target,
        .flow = flow,
        .packets = r->pend_packets,
        .bytes = r->pend_bytes,
    };

    if (src->id.port[0]) {
        alert.vm = &src->vm;
        snprintf(key, sizeof key, "%s/%s>%s", src->id.host, src->id.port,
                 r->target);
        snprintf(name, sizeof name, "%s (%s)", src->id.port, src->ip);
    } else {
        snprintf(key, sizeof key, "%s/%s>%s", src->id.host, src->ip,
                 r->target);
        snprintf(name, sizeof name, "%s", src->ip);
    }
    span_format(r->span_ms, span, sizeof span);
    switch (r->kind) {
    case SCAN_PORTS:
        snprintf(summary, sizeof summary, "%s probed %zu ports on %s in %s",
                 name, r->n, r->target, span);
        break;
    case SCAN_HOSTS:
        snprintf(summary, sizeof summary, "%s probed %s on %zu hosts (%s) "
                 "in %s", name, r->target, r->n, r->range, span);
        break;
    case SCAN_PINGS:
    default:
        snprintf(summary, sizeof summary, "%s pinged %zu hosts of %s in %s",
                 name, r->n, r->target, span);
        break;
    }

    n_samples = src->n_samples < SCAN_SAMPLES ? src->n_samples : SCAN_SAMPLES;
    for (unsigned i = 0; i < n_samples; i++) {
        unsigned j = (src->n_samples - n_samples + i) % SCAN_SAMPLES;

        sample_format(&src->samples[j], evidence[i], sizeof evidence[i]);
        alert.evidence[i] = evidence[i];
    }
    alert.n_evidence = n_samples;

    s->host->emit_alert(s->host, &alert);
    r->emitted = true;
    r->emitted_ms = s->host->now_ms(s->host);
    r->pend_packets = r->pend_bytes = 0;
}

/* The raised incident of 'src' of kind 'kind' and target 'target', or
 * null. */
static struct raised *
raised_find(struct source *src, enum scan_kind kind, const char *target)
{
    for (size_t i = 0; i < SCAN_RAISED; i++) {
        struct raised *r = &src->raised[i];

        if (r->used && r->kind == kind && !strcmp(r->target, target)) {
            return r;
        }
    }
    return NULL;
}

/* A free slot for a new incident of 'src', making one by emitting and
 * dropping the one emitted longest ago if needed. */
static struct raised *
raised_new(struct scan *s, struct source *src)
{
    struct raised *victim = &src->raised[0];

    for (size_t i = 0; i < SCAN_RAISED; i++) {
        struct raised *r = &src->raised[i];

        if (!r->used) {
            return r;
        } else if (r->emitted_ms < victim->emitted_ms) {
            victim = r;
        }
    }
    if (victim->pend_packets) {
        scan_emit(s, src, victim, NULL);
    }
    memset(victim, 0, sizeof *victim);
    return victim;
}

/* The incident of 'src' of kind 'kind' for 'target': the one raised
 * already, or else a new one if the source is above the threshold
 * ('over'), or else null. */
static struct raised *
scan_raised(struct scan *s, struct source *src, enum scan_kind kind,
            const char *target, bool over)
{
    struct raised *r = raised_find(src, kind, target);

    if (!r && over) {
        r = raised_new(s, src);
        r->used = true;
        r->kind = kind;
        snprintf(r->target, sizeof r->target, "%s", target);
        r->pend_packets = src->pool_packets;
        r->pend_bytes = src->pool_bytes;
        src->pool_packets = src->pool_bytes = 0;
        s->host->count(s->host, kind_counters[kind], 1);
    }
    return r;
}

/* Counts the probe traffic 'packets' and 'bytes' of 'flow' in incident
 * 'r'; if the source is above the threshold ('over') with 'n' targets over
 * 'span_ms', emits the incident, at most once per EMIT_MS. */
static void
scan_feed(struct scan *s, struct source *src, struct raised *r,
          const struct vnm_flow *flow, bool over, size_t n, uint64_t span_ms,
          uint64_t packets, uint64_t bytes)
{
    uint64_t now = s->host->now_ms(s->host);

    r->pend_packets += packets;
    r->pend_bytes += bytes;
    if (over) {
        r->n = n;
        r->span_ms = span_ms;
        if (!r->emitted || now >= r->emitted_ms + EMIT_MS) {
            scan_emit(s, src, r, flow);
        }
    }
}

/* Probes. */

/* True if 'flow' is a TCP or UDP probe (see the file comment). */
static bool
is_probe(const struct vnm_flow *flow)
{
    if (addr_is_group(&flow->dst.ip)) {
        return false;
    } else if (flow->ip_proto == IPPROTO_TCP) {
        uint8_t answer = flow->dst.tcp_flags;

        return (!(flow->src.tcp_flags & TCP_ACK)
                || (flow->dst.packets && (answer & TCP_RST)
                    && !(answer & ~(TCP_RST | TCP_ACK))));
    } else if (flow->ip_proto == IPPROTO_UDP) {
        return !flow->dst.packets;
    }
    return false;
}

/* True if 'flow' is a ping (see the file comment). */
static bool
is_ping(const struct vnm_flow *flow)
{
    const struct vnm_flow_ctl *ctl = &flow->src_ctl;

    if (addr_is_group(&flow->dst.ip) || !flow->dst.ip.family) {
        return false;
    } else if (flow->ip_proto == IPPROTO_ICMP) {
        /* Echo, timestamp, address mask requests; without the ICMP details
         * (an agent older than ABI 1.1), an echo id. */
        return (ctl->has_icmp
                ? ctl->icmp_type == 8 || ctl->icmp_type == 13
                  || ctl->icmp_type == 17
                : flow->src.port != 0);
    } else if (flow->ip_proto == IPPROTO_ICMPV6) {
        return (ctl->has_icmp ? ctl->icmp_type == 128
                : !ctl->nd && flow->src.port != 0);
    }
    return false;
}

/* Fills 'id' with the source of 'flow'. */
static void
scan_id_init(struct scan_id *id, const struct vnm_flow *flow)
{
    const struct vnm_attribution *in = &flow->src.in;

    memset(id, 0, sizeof *id);
    memcpy(id->host, flow->host, sizeof id->host - 1);
    if (in->port[0] && (in->vm[0] || in->iface_id[0] || in->tenant[0])) {
        memcpy(id->port, in->port, sizeof id->port - 1);
        memcpy(id->vm, in->vm, sizeof id->vm - 1);
    } else {
        addr_normalize(&id->ip, &flow->src.ip);
    }
}

/* Counts the probe or ping 'flow'.  'flow' is borrowed. */
static void
scan_on_flow(void *state, const struct vnm_flow *flow)
{
    uint64_t packets, bytes, answers, answer_bytes;
    struct scan *s = state;
    bool ping = is_ping(flow);
    uint64_t ms, span;
    struct source *src;
    struct scan_id id;
    struct target key;
    struct sample *sample;
    bool counted = false;
    struct raised *r;
    char target[64];
    size_t n;

    if (!ping && !is_probe(flow)) {
        return;
    }
    du_delta(s->deltas, flow, true, &packets, &bytes);
    du_delta(s->deltas, flow, false, &answers, &answer_bytes);
    if (!packets && !answers) {
        return;                 /* Seen already. */
    }
    packets += answers;
    bytes += answer_bytes;
    s->host->count(s->host, ping ? "pings" : "probes", 1);

    scan_id_init(&id, flow);
    src = source_get(s, &id);
    if (!src) {
        return;
    }
    src->seen_ms = s->host->now_ms(s->host);
    du_lru_remove(&s->lru, &src->lru);
    du_lru_push_newest(&s->lru, &src->lru);
    if (id.port[0]) {
        const struct vnm_port *port = NULL;
        struct vnm_attribution tmp;

        if (s->net) {
            port = s->net->port(s->host, flow->host, flow->src.in.port);
        }
        src->vm = *du_attribution(&flow->src.in, port, &tmp);
    }
    addr_format(&flow->src.ip, false, 0, src->ip, sizeof src->ip);

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
        uint64_t b = target_set_expire(&src->ports, horizon);
        uint64_t c = target_set_expire(&src->pings, horizon);

        src->oldest_ms = a < b ? a : b;
        src->oldest_ms = c < src->oldest_ms ? c : src->oldest_ms;
    }
    src->oldest_ms = ms < src->oldest_ms ? ms : src->oldest_ms;

    sample = &src->samples[src->n_samples++ % SCAN_SAMPLES];
    *sample = (struct sample) {
        .src = flow->src.ip,
        .dst = flow->dst.ip,
        .sport = flow->src.port,
        .dport = flow->dst.port,
        .proto = flow->ip_proto,
        .src_flags = flow->src.tcp_flags,
        .dst_flags = flow->dst.tcp_flags,
        .icmp_type = flow->src_ctl.icmp_type,
        .answered = flow->dst.packets > 0,
    };

    memset(&key, 0, sizeof key);
    addr_normalize(&key.ip, &flow->dst.ip);
    key.ms = ms;

    if (ping) {
        struct vnm_addr net;
        uint8_t len;
        char text[INET6_ADDRSTRLEN];

        n = pings_add(s, &src->pings, &key, &span, &net, &len);
        r = NULL;
        /* The raised sweep whose network holds this host, if any; else
         * the network that covers the hosts, and the raised sweeps of the
         * same family. */
        for (size_t i = 0; i < SCAN_RAISED; i++) {
            struct raised *ri = &src->raised[i];

            if (ri->used && ri->kind == SCAN_PINGS
                && ri->net.family == key.ip.family) {
                unsigned common = addr_common_bits(&ri->net, &key.ip);

                if (common >= ri->net_len) {
                    r = ri;
                    break;
                } else if (n > s->hosts) {
                    unsigned step = key.ip.family == 4 ? 8 : 16;
                    unsigned wider = common < len ? common : len;

                    len = wider / step * step;
                    net = key.ip;
                    addr_mask(&net, len);
                }
            }
        }
        if (r) {
            snprintf(target, sizeof target, "%s", r->target);
        } else {
            addr_format(&net, false, 0, text, sizeof text);
            snprintf(target, sizeof target, "%s/%u", text, (unsigned) len);
            r = scan_raised(s, src, SCAN_PINGS, target, n > s->hosts);
            if (r && !r->net.family) {
                r->net = net;
                r->net_len = len;
            }
        }
        if (r) {
            scan_feed(s, src, r, flow, n > s->hosts, n, span, packets,
                      bytes);
        } else {
            src->pool_packets += packets;
            src->pool_bytes += bytes;
        }
        return;
    }

    key.port = flow->dst.port;
    key.proto = flow->ip_proto;

    /* Vertical: ports of this host. */
    n = grouped_add(s, &src->pairs, &key, &span);
    addr_format(&key.ip, false, 0, target, sizeof target);
    r = scan_raised(s, src, SCAN_PORTS, target, n > s->ports);
    if (r) {
        scan_feed(s, src, r, flow, n > s->ports, n, span, packets, bytes);
        counted = true;
    }

    /* Horizontal: hosts on this port. */
    n = grouped_add(s, &src->ports, &key, &span);
    snprintf(target, sizeof target, "%s/%"PRIu16, proto_name(key.proto),
             key.port);
    r = scan_raised(s, src, SCAN_HOSTS, target, n > s->hosts);
    if (r) {
        if (n > s->hosts) {
            const struct target *lo = NULL, *hi = NULL;
            char first[INET6_ADDRSTRLEN], last[INET6_ADDRSTRLEN];

            for (size_t i = 0; i < src->ports.n; i++) {
                const struct target *t = &src->ports.t[i];

                if (target_same_group(BY_PORT, t, &key)) {
                    lo = lo ? lo : t;
                    hi = t;
                }
            }
            addr_format(&lo->ip, false, 0, first, sizeof first);
            addr_format(&hi->ip, false, 0, last, sizeof last);
            snprintf(r->range, sizeof r->range, "%s-%s", first, last);
        }
        scan_feed(s, src, r, flow, n > s->hosts, n, span, packets, bytes);
        counted = true;
    }
    if (!counted) {
        src->pool_packets += packets;
        src->pool_bytes += bytes;
    }
}

/* Emits what incidents have pending, and forgets the sources without a
 * probe for a window. */
static void
scan_on_tick(void *state, uint64_t now_ms)
{
    struct scan *s = state;

    for (struct du_lru_node *node = s->lru.newest; node;
         node = node->older) {
        struct source *src = DU_LRU_ENTRY(node, struct source, lru);

        for (size_t i = 0; i < SCAN_RAISED; i++) {
            struct raised *r = &src->raised[i];

            if (r->used && r->pend_packets
                && now_ms >= r->emitted_ms + EMIT_MS) {
                scan_emit(s, src, r, NULL);
            }
        }
    }
    while (s->lru.oldest
           && oldest_source(s)->seen_ms + s->window_ms <= now_ms) {
        source_destroy(s, oldest_source(s), true);
        s->host->count(s->host, "sources_expired", 1);
    }
}

/* Lifecycle. */

static void
scan_destroy(void *state)
{
    struct scan *s = state;

    while (s->lru.oldest) {
        source_destroy(s, oldest_source(s), false);
    }
    du_deltas_destroy(s->deltas);
    free(s->buckets);
    free(s);
}

static int
scan_init(const struct vnm_host *host, const struct vnm_conf *conf,
          void **statep)
{
    int64_t max_flows;
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

    s = calloc(1, sizeof *s);
    if (!s) {
        return ENOMEM;
    }
    n_buckets = 16;
    while (n_buckets < (size_t) max_sources) {
        n_buckets *= 2;
    }
    s->buckets = calloc(n_buckets, sizeof *s->buckets);
    s->deltas = du_deltas_create(max_flows);
    if (!s->buckets || !s->deltas) {
        du_deltas_destroy(s->deltas);
        free(s->buckets);
        free(s);
        return ENOMEM;
    }
    s->host = host;
    s->net = VNM_HOST_HAS(host, net) ? host->net : NULL;
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
                  .version = "1.1", .init = scan_init, .destroy = scan_destroy,
                  .detector = &scan_ops);

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection tracking in the agent (conntrack.h): kernel conntrack through
 * libnetfilter_conntrack (the only file that includes it), OVS userspace
 * conntrack through ovs-conntrack.c, attribution to VMs from the
 * inventory, and the per-second summaries and event lists in Redis.
 *
 * The table is a chained hash table whose hash covers the protocol and
 * the original tuple only, so that the entries that track one connection
 * (OVS and kernel, several zones) share a chain: deduplication and "is
 * this a new connection?" are a walk of one short chain.  The hash is
 * keyed with random bytes: tuples come from the network.
 *
 * Summaries are not kept incrementally: once a second a scan of the table
 * recomputes every scope (a few milliseconds for the default cap of 65536
 * entries).  That keeps them right whatever order events, dumps and state
 * changes come in.  Only "new connections" are counted as they happen.
 */
#include <config.h>

#include "collector/conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector/ovs-conntrack.h"
#include "lib/bw-series.h"
#include "lib/conf.h"
#include "lib/flow-codec.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "ovs-ext/inventory.h"

VNM_LOG_MODULE(conntrack);

/* ------------------------------------------------------------ connection */

static const char *const tcp_state_names[CT_TCP_N_STATES] = {
    [CT_TCP_NONE] = "NONE",
    [CT_TCP_SYN_SENT] = "SYN_SENT",
    [CT_TCP_SYN_RECV] = "SYN_RECV",
    [CT_TCP_ESTABLISHED] = "ESTABLISHED",
    [CT_TCP_FIN_WAIT] = "FIN_WAIT",
    [CT_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
    [CT_TCP_LAST_ACK] = "LAST_ACK",
    [CT_TCP_TIME_WAIT] = "TIME_WAIT",
    [CT_TCP_CLOSE] = "CLOSE",
    [CT_TCP_SYN_SENT2] = "SYN_SENT2",
};

const char *
ct_tcp_state_name(enum ct_tcp_state state)
{
    return (unsigned) state < CT_TCP_N_STATES ? tcp_state_names[state]
                                              : "NONE";
}

int
ct_tcp_state_from_name(const char *name)
{
    for (int i = 0; i < CT_TCP_N_STATES; i++) {
        if (!strcmp(name, tcp_state_names[i])) {
            return i;
        }
    }
    /* The kernel's other name for SYN_SENT2. */
    return !strcmp(name, "LISTEN") ? CT_TCP_SYN_SENT2 : -1;
}

const char *
ct_source_name(enum ct_source source)
{
    return source == CT_SRC_OVS ? "ovs" : "kernel";
}

bool
ct_conn_is_icmp(const struct ct_conn *c)
{
    return c->proto == IPPROTO_ICMP || c->proto == IPPROTO_ICMPV6;
}

bool
ct_conn_is_half_open(const struct ct_conn *c)
{
    return (c->proto == IPPROTO_TCP
            && (c->tcp_state == CT_TCP_SYN_SENT
                || c->tcp_state == CT_TCP_SYN_RECV
                || c->tcp_state == CT_TCP_SYN_SENT2));
}

bool
ct_conn_is_open(const struct ct_conn *c)
{
    return (c->proto != IPPROTO_TCP
            || (c->tcp_state != CT_TCP_TIME_WAIT
                && c->tcp_state != CT_TCP_CLOSE));
}

/* "tcp", "udp", "icmp", "icmpv6", or the number. */
static json_t *
proto_json(uint8_t proto)
{
    switch (proto) {
    case IPPROTO_TCP:
        return json_string("tcp");
    case IPPROTO_UDP:
        return json_string("udp");
    case IPPROTO_ICMP:
        return json_string("icmp");
    case IPPROTO_ICMPV6:
        return json_string("icmpv6");
    case IPPROTO_SCTP:
        return json_string("sctp");
    case IPPROTO_UDPLITE:
        return json_string("udplite");
    default:
        return json_integer(proto);
    }
}

static json_t *
addr_json(const struct vnm_addr *a)
{
    char buf[64];

    return json_string(vnm_addr_format(a, buf, sizeof buf));
}

json_t *
ct_conn_event_json(const struct ct_conn *c, const char *type,
                   uint64_t time_ms)
{
    json_t *j = json_object();

    json_object_set_new(j, "time_ms", json_integer((json_int_t) time_ms));
    json_object_set_new(j, "type", json_string(type));
    json_object_set_new(j, "source", json_string(ct_source_name(c->source)));
    json_object_set_new(j, "proto", proto_json(c->proto));
    json_object_set_new(j, "src", addr_json(&c->src));
    json_object_set_new(j, "dst", addr_json(&c->dst));
    if (ct_conn_is_icmp(c)) {
        json_object_set_new(j, "icmp_type", json_integer(c->dport >> 8));
        json_object_set_new(j, "icmp_code", json_integer(c->dport & 0xff));
        json_object_set_new(j, "icmp_id", json_integer(c->sport));
    } else if (c->sport || c->dport) {
        json_object_set_new(j, "sport", json_integer(c->sport));
        json_object_set_new(j, "dport", json_integer(c->dport));
    }
    json_object_set_new(j, "zone", json_integer(c->zone));
    json_object_set_new(j, "mark", json_integer(c->mark));
    if (c->proto == IPPROTO_TCP && c->has & CT_HAS_STATE) {
        json_object_set_new(j, "state",
                            json_string(ct_tcp_state_name(c->tcp_state)));
    }
    if (c->has & CT_HAS_ID) {
        json_object_set_new(j, "id", json_integer(c->id));
    }
    if (c->has & CT_HAS_COUNTERS) {
        json_object_set_new(j, "orig_packets",
                            json_integer((json_int_t) c->packets[0]));
        json_object_set_new(j, "orig_bytes",
                            json_integer((json_int_t) c->bytes[0]));
        json_object_set_new(j, "reply_packets",
                            json_integer((json_int_t) c->packets[1]));
        json_object_set_new(j, "reply_bytes",
                            json_integer((json_int_t) c->bytes[1]));
    }
    if (c->has & CT_HAS_START) {
        json_object_set_new(j, "start_ms",
                            json_integer((json_int_t) (c->start_ns
                                                       / 1000000)));
    }
    if (c->has & CT_HAS_STOP) {
        json_object_set_new(j, "stop_ms",
                            json_integer((json_int_t) (c->stop_ns
                                                       / 1000000)));
        if (c->has & CT_HAS_START && c->stop_ns >= c->start_ns) {
            json_object_set_new(j, "duration_ms",
                                json_integer((json_int_t)
                                             ((c->stop_ns - c->start_ns)
                                              / 1000000)));
        }
    }
    return j;
}

/* --------------------------------------------------------------- summary */

void
ct_summary_add(struct ct_summary *s, const struct ct_conn *c)
{
    s->total++;
    s->open += ct_conn_is_open(c);
    s->half_open += ct_conn_is_half_open(c);
    switch (c->proto) {
    case IPPROTO_TCP:
        s->tcp[c->tcp_state < CT_TCP_N_STATES ? c->tcp_state
                                              : CT_TCP_NONE]++;
        break;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
        s->udp++;
        break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        s->icmp++;
        break;
    default:
        s->other++;
        break;
    }
    s->by_source[c->source < CT_N_SOURCES ? c->source : CT_SRC_KERNEL]++;
}

/* --------------------------------------------------------------- hashing */

static uint64_t hash_key[2];
static bool hash_key_set;

/* Seeds the keyed hash once per process. */
static void
hash_init(void)
{
    if (!hash_key_set) {
        vnm_hash_random_key(hash_key, "conntrack");
        hash_key_set = true;
    }
}

/* The keyed hash of 'n' bytes at 'data'. */
static uint64_t
hash_bytes(const void *data, size_t n)
{
    return vnm_siphash13(hash_key, data, n);
}

static uint64_t
hash_addr(const struct vnm_addr *a)
{
    uint8_t buf[17];

    buf[0] = a->family;
    memcpy(buf + 1, a->a, 16);
    if (a->family == 4) {
        memset(buf + 5, 0, 12);
    }
    return hash_bytes(buf, vnm_addr_size(a) + 1);
}

/* The hash of 'c''s protocol and original tuple. */
static uint64_t
hash_tuple(const struct ct_conn *c)
{
    uint8_t buf[2 + 32 + 4];
    size_t n = vnm_addr_size(&c->src);

    buf[0] = c->proto;
    buf[1] = c->src.family;
    memcpy(buf + 2, c->src.a, n);
    memcpy(buf + 2 + n, c->dst.a, n);
    buf[2 + 2 * n] = (uint8_t) (c->sport >> 8);
    buf[3 + 2 * n] = (uint8_t) c->sport;
    buf[4 + 2 * n] = (uint8_t) (c->dport >> 8);
    buf[5 + 2 * n] = (uint8_t) c->dport;
    return hash_bytes(buf, 6 + 2 * n);
}

static bool
same_tuple(const struct ct_conn *a, const struct ct_conn *b)
{
    return (a->proto == b->proto && a->sport == b->sport
            && a->dport == b->dport && vnm_addr_equal(&a->src, &b->src)
            && vnm_addr_equal(&a->dst, &b->dst));
}

/* Same entry: same tracker (source and zone) and tuple. */
static bool
same_entry(const struct ct_conn *a, const struct ct_conn *b)
{
    return (a->source == b->source && a->zone == b->zone
            && same_tuple(a, b));
}

/* Whether 'a' represents a connection rather than 'b' (same tuple). */
static bool
ranks_before(const struct ct_conn *a, const struct ct_conn *b)
{
    return (a->source < b->source
            || (a->source == b->source && a->zone < b->zone));
}

/* ------------------------------------------------------------ attribution */

struct ct_vm {
    char *id;
    char *name;
    int tenant;                 /* Index in 'tenants', or -1. */
};

struct ct_addr_slot {
    struct vnm_addr addr;
    int32_t vm;                 /* -1: free slot. */
};

struct ct_vmmap {
    struct ct_vm *vms;
    size_t n_vms, allocated_vms;
    char **tenants;
    size_t n_tenants, allocated_tenants;

    int32_t *id_slots;          /* VM ids, open addressing, -1 free. */
    size_t id_mask;
    struct ct_addr_slot *addr_slots;
    size_t n_addrs, addr_mask;
};

struct ct_vmmap *
ct_vmmap_create(void)
{
    struct ct_vmmap *m = xzalloc(sizeof *m);

    hash_init();
    m->id_mask = 15;
    m->id_slots = xmalloc((m->id_mask + 1) * sizeof *m->id_slots);
    memset(m->id_slots, 0xff, (m->id_mask + 1) * sizeof *m->id_slots);
    m->addr_mask = 15;
    m->addr_slots = xmalloc((m->addr_mask + 1) * sizeof *m->addr_slots);
    for (size_t i = 0; i <= m->addr_mask; i++) {
        m->addr_slots[i].vm = -1;
    }
    return m;
}

void
ct_vmmap_destroy(struct ct_vmmap *m)
{
    if (!m) {
        return;
    }
    for (size_t i = 0; i < m->n_vms; i++) {
        free(m->vms[i].id);
        free(m->vms[i].name);
    }
    for (size_t i = 0; i < m->n_tenants; i++) {
        free(m->tenants[i]);
    }
    free(m->vms);
    free(m->tenants);
    free(m->id_slots);
    free(m->addr_slots);
    free(m);
}

/* The slot of VM id 'id' in 'm->id_slots': its own, or the free one where
 * it would go. */
static size_t
id_slot(const struct ct_vmmap *m, const char *id)
{
    size_t i = (size_t) hash_bytes(id, strlen(id)) & m->id_mask;

    while (m->id_slots[i] >= 0 && strcmp(m->vms[m->id_slots[i]].id, id)) {
        i = (i + 1) & m->id_mask;
    }
    return i;
}

int
ct_vmmap_find(const struct ct_vmmap *m, const char *id)
{
    return m ? m->id_slots[id_slot(m, id)] : -1;
}

static size_t
addr_slot(const struct ct_vmmap *m, const struct vnm_addr *addr)
{
    size_t i = (size_t) hash_addr(addr) & m->addr_mask;

    while (m->addr_slots[i].vm >= 0
           && !vnm_addr_equal(&m->addr_slots[i].addr, addr)) {
        i = (i + 1) & m->addr_mask;
    }
    return i;
}

int
ct_vmmap_lookup(const struct ct_vmmap *m, const struct vnm_addr *addr)
{
    return m && addr->family ? m->addr_slots[addr_slot(m, addr)].vm : -1;
}

/* Doubles the id index when half full. */
static void
grow_ids(struct ct_vmmap *m)
{
    if ((m->n_vms + 1) * 2 <= m->id_mask + 1) {
        return;
    }
    free(m->id_slots);
    m->id_mask = m->id_mask * 2 + 1;
    m->id_slots = xmalloc((m->id_mask + 1) * sizeof *m->id_slots);
    memset(m->id_slots, 0xff, (m->id_mask + 1) * sizeof *m->id_slots);
    for (size_t v = 0; v < m->n_vms; v++) {
        m->id_slots[id_slot(m, m->vms[v].id)] = (int32_t) v;
    }
}

/* Doubles the address index when half full. */
static void
grow_addrs(struct ct_vmmap *m)
{
    struct ct_addr_slot *old = m->addr_slots;
    size_t old_n = m->addr_mask + 1;

    if ((m->n_addrs + 1) * 2 <= old_n) {
        return;
    }
    m->addr_mask = m->addr_mask * 2 + 1;
    m->addr_slots = xmalloc((m->addr_mask + 1) * sizeof *m->addr_slots);
    for (size_t i = 0; i <= m->addr_mask; i++) {
        m->addr_slots[i].vm = -1;
    }
    for (size_t i = 0; i < old_n; i++) {
        if (old[i].vm >= 0) {
            m->addr_slots[addr_slot(m, &old[i].addr)] = old[i];
        }
    }
    free(old);
}

void
ct_vmmap_add(struct ct_vmmap *m, const char *vm, const char *tenant,
             const char *name, const struct vnm_addr *addr)
{
    size_t slot = id_slot(m, vm);
    int v = m->id_slots[slot];

    if (v < 0) {
        int t = -1;

        if (tenant && *tenant) {
            for (size_t i = 0; i < m->n_tenants; i++) {
                if (!strcmp(m->tenants[i], tenant)) {
                    t = (int) i;
                    break;
                }
            }
            if (t < 0) {
                if (m->n_tenants == m->allocated_tenants) {
                    m->allocated_tenants = 2 * m->allocated_tenants + 4;
                    m->tenants = xrealloc(m->tenants, m->allocated_tenants
                                          * sizeof *m->tenants);
                }
                t = (int) m->n_tenants;
                m->tenants[m->n_tenants++] = xstrdup(tenant);
            }
        }
        grow_ids(m);
        if (m->n_vms == m->allocated_vms) {
            m->allocated_vms = 2 * m->allocated_vms + 4;
            m->vms = xrealloc(m->vms, m->allocated_vms * sizeof *m->vms);
        }
        v = (int) m->n_vms++;
        m->vms[v].id = xstrdup(vm);
        m->vms[v].name = xstrdup(name && *name ? name : vm);
        m->vms[v].tenant = t;
        m->id_slots[id_slot(m, vm)] = v;
    }
    if (addr && addr->family) {
        grow_addrs(m);
        slot = addr_slot(m, addr);
        if (m->addr_slots[slot].vm < 0) {
            m->addr_slots[slot].addr = *addr;
            m->addr_slots[slot].vm = v;
            m->n_addrs++;
        }
    }
}

struct ct_vmmap *
ct_vmmap_from_inventory(const struct inventory *inv)
{
    struct ct_vmmap *m = ct_vmmap_create();
    size_t n = inv ? inventory_n_interfaces(inv) : 0;

    for (size_t i = 0; i < n; i++) {
        const struct inv_interface *iface = inventory_interface(inv, i);

        /* Only VMs: an interface without a VM id (host, uplink) has no
         * summary of its own. */
        if (!*iface->vm || !iface->n_ips) {
            continue;
        }
        for (size_t j = 0; j < iface->n_ips; j++) {
            ct_vmmap_add(m, iface->vm, iface->tenant, iface->name,
                         &iface->ips[j]);
        }
    }
    return m;
}

size_t
ct_vmmap_n_vms(const struct ct_vmmap *m)
{
    return m->n_vms;
}

const char *
ct_vmmap_vm_id(const struct ct_vmmap *m, size_t vm)
{
    return m->vms[vm].id;
}

const char *
ct_vmmap_vm_name(const struct ct_vmmap *m, size_t vm)
{
    return m->vms[vm].name;
}

int
ct_vmmap_vm_tenant(const struct ct_vmmap *m, size_t vm)
{
    return m->vms[vm].tenant;
}

size_t
ct_vmmap_n_tenants(const struct ct_vmmap *m)
{
    return m->n_tenants;
}

const char *
ct_vmmap_tenant_name(const struct ct_vmmap *m, size_t tenant)
{
    return m->tenants[tenant];
}

/* ---------------------------------------------------------- top counting */

/* What a count table counts. */
enum ct_count_kind {
    CT_COUNT_PEER,              /* Addresses. */
    CT_COUNT_ZONE,              /* Zones, in 'value'. */
    CT_COUNT_MARK,              /* Marks, in 'value'. */
    CT_N_COUNT_KINDS
};

/* One counted key.  Small: the host's table holds every address seen. */
struct ct_count_slot {
    uint32_t hash;              /* Of the key. */
    uint32_t count;             /* Connections; 0: a free slot. */
    uint32_t value;             /* Zone or mark. */
    uint8_t kind;               /* enum ct_count_kind. */
    struct vnm_addr addr;       /* Peer. */
};

/* Connections per peer, zone and mark of one scope, for its top lists:
 * open addressing, cleared at each scan (its size kept). */
struct ct_counts {
    struct ct_count_slot *slots;
    size_t mask;
    size_t n;
};

static void
counts_uninit(struct ct_counts *c)
{
    free(c->slots);
    memset(c, 0, sizeof *c);
}

static void
counts_clear(struct ct_counts *c)
{
    if (c->n) {
        memset(c->slots, 0, (c->mask + 1) * sizeof *c->slots);
        c->n = 0;
    }
}

static bool
count_equal(const struct ct_count_slot *a, const struct ct_count_slot *b)
{
    return (a->hash == b->hash && a->kind == b->kind
            && (a->kind == CT_COUNT_PEER ? vnm_addr_equal(&a->addr, &b->addr)
                : a->value == b->value));
}

static size_t
count_slot(const struct ct_counts *c, const struct ct_count_slot *k)
{
    size_t i = k->hash & c->mask;

    while (c->slots[i].count && !count_equal(&c->slots[i], k)) {
        i = (i + 1) & c->mask;
    }
    return i;
}

/* Adds one to the count of 'k' (its 'hash' set). */
static void
counts_add(struct ct_counts *c, const struct ct_count_slot *k)
{
    size_t i;

    if (!c->slots || (c->n + 1) * 2 > c->mask + 1) {
        struct ct_count_slot *old = c->slots;
        size_t old_n = old ? c->mask + 1 : 0;

        c->mask = old ? c->mask * 2 + 1 : 15;
        c->slots = xcalloc(c->mask + 1, sizeof *c->slots);
        for (size_t j = 0; j < old_n; j++) {
            if (old[j].count) {
                c->slots[count_slot(c, &old[j])] = old[j];
            }
        }
        free(old);
    }
    i = count_slot(c, k);
    if (!c->slots[i].count) {
        c->slots[i] = *k;
        c->n++;
    }
    c->slots[i].count++;
}

/* Counts peer 'addr', whose hash_addr() is 'hash'. */
static void
counts_add_peer(struct ct_counts *c, const struct vnm_addr *addr,
                uint32_t hash)
{
    struct ct_count_slot k = { .kind = CT_COUNT_PEER, .addr = *addr,
                               .hash = hash };

    counts_add(c, &k);
}

/* Counts zone or mark 'value'.  These come from the rules, not from the
 * network: a plain multiplicative hash is enough. */
static void
counts_add_value(struct ct_counts *c, enum ct_count_kind kind,
                 uint32_t value)
{
    struct ct_count_slot k = {
        .kind = (uint8_t) kind, .value = value,
        .hash = (value + (uint32_t) kind) * 0x9e3779b1u,
    };

    counts_add(c, &k);
}

/* Whether 'a' goes before 'b' in a top list: more connections first, then
 * the smaller key, so that the list is stable from one second to the
 * next. */
static bool
count_before(const struct ct_count_slot *a, const struct ct_count_slot *b)
{
    if (a->count != b->count) {
        return a->count > b->count;
    } else if (a->kind == CT_COUNT_PEER) {
        return (a->addr.family != b->addr.family
                ? a->addr.family < b->addr.family
                : memcmp(a->addr.a, b->addr.a, sizeof a->addr.a) < 0);
    } else {
        return a->value < b->value;
    }
}

/* The top CT_TOP_N entries of each kind, in one pass over the table. */
struct ct_tops {
    const struct ct_count_slot *top[CT_N_COUNT_KINDS][CT_TOP_N];
    size_t n[CT_N_COUNT_KINDS];
};

static void
counts_top(const struct ct_counts *c, struct ct_tops *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; c->slots && i <= c->mask; i++) {
        const struct ct_count_slot *s = &c->slots[i];
        const struct ct_count_slot **top;
        size_t *n, j;

        if (!s->count) {
            continue;
        }
        top = t->top[s->kind];
        n = &t->n[s->kind];
        if (*n == CT_TOP_N && !count_before(s, top[*n - 1])) {
            continue;
        }
        j = *n < CT_TOP_N ? (*n)++ : *n - 1;
        while (j > 0 && count_before(s, top[j - 1])) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = s;
    }
}

/* The top list of 'kind' as a JSON array of {KEY: ..., "connections":
 * N}. */
static json_t *
tops_json(const struct ct_tops *t, enum ct_count_kind kind)
{
    json_t *array = json_array();

    for (size_t i = 0; i < t->n[kind]; i++) {
        const struct ct_count_slot *s = t->top[kind][i];
        json_t *o = json_object();

        switch (kind) {
        case CT_COUNT_PEER:
            json_object_set_new(o, "ip", addr_json(&s->addr));
            break;
        case CT_COUNT_ZONE:
            json_object_set_new(o, "zone", json_integer(s->value));
            break;
        case CT_COUNT_MARK:
            json_object_set_new(o, "mark", json_integer(s->value));
            break;
        case CT_N_COUNT_KINDS:
        default:
            break;
        }
        json_object_set_new(o, "connections", json_integer(s->count));
        json_array_append_new(array, o);
    }
    return array;
}

/* ------------------------------------------------------------------ core */

/* One tracked entry. */
struct ct_entry {
    struct ct_entry *next;      /* In its chain. */
    uint64_t hash;              /* hash_tuple(&conn). */
    uint64_t gen;               /* Sync generation that last saw it. */
    uint64_t epoch;             /* Map epoch of 'vm'. */
    int32_t vm[2];              /* VM of the source and destination, or
                                 * -1. */
    uint32_t addr_hash[2];      /* hash_addr() of source, destination. */
    bool new_pending;           /* A new connection, not yet counted in
                                 * its scopes: that waits for the next
                                 * scan (or its end), so that it counts
                                 * with the map of then, not the one it
                                 * met (e.g. none, at start). */
    struct ct_conn conn;
};

/* A VM, a tenant or the host: last scan's counts, and the running "new"
 * counters. */
struct ct_scope {
    struct ct_summary sum;
    struct ct_counts counts;    /* Peers, zones, marks. */
    uint64_t new_cur;           /* New connections this second. */
    uint64_t new_last;          /* ...in the last complete second. */
    uint64_t new_total;         /* ...since the agent started. */
    char *key;                  /* Redis key of the summary. */

    /* VMs only: events not yet written (a ring of 'events' strings). */
    char *events_key;
    char **events;
    size_t ev_head, ev_n;
};

struct ct_core {
    char *host;
    size_t max;                 /* Entries. */
    size_t events_cap;          /* Per VM list. */

    struct ct_entry **buckets;
    size_t mask;                /* Buckets - 1. */
    size_t n;
    uint64_t n_by_source[CT_N_SOURCES];
    uint64_t gen[CT_N_SOURCES];

    struct ct_vmmap *map;
    uint64_t epoch;             /* Incremented with each map. */
    struct ct_scope *vms;       /* One per VM of 'map'. */
    struct ct_scope *tenants;   /* One per tenant of 'map'. */
    struct ct_scope host_scope; /* The whole host. */
    bool dirty;                 /* Changed since the last scan. */

    struct ct_core_stats stats;
    uint64_t n_writes;          /* ct_core_write() calls. */
    bool hosts_due;             /* A new VM map: add this host to each
                                 * tenant's list at the next write. */
};

/* Frees what 's' holds; its events must have been freed
 * (scope_free_events()). */
static void
scope_uninit(struct ct_scope *s)
{
    counts_uninit(&s->counts);
    free(s->key);
    free(s->events_key);
    free(s->events);
    memset(s, 0, sizeof *s);
}

struct ct_core *
ct_core_create(const char *host, size_t max, size_t events)
{
    struct ct_core *core = xzalloc(sizeof *core);
    char *prefix;

    hash_init();
    core->host = xstrdup(host);
    core->max = max;
    core->events_cap = events;
    core->mask = 1023;
    core->buckets = xcalloc(core->mask + 1, sizeof *core->buckets);
    prefix = bw_prefix(host, NULL);
    core->host_scope.key = xasprintf("%s:ct:host", prefix);
    free(prefix);
    ct_core_set_vmmap(core, ct_vmmap_create());
    return core;
}

/* Frees the events of 's' (a VM scope). */
static void
scope_free_events(struct ct_scope *s, size_t cap)
{
    for (size_t i = 0; i < s->ev_n; i++) {
        free(s->events[(s->ev_head + i) % cap]);
    }
    s->ev_head = s->ev_n = 0;
}

void
ct_core_destroy(struct ct_core *core)
{
    if (!core) {
        return;
    }
    for (size_t i = 0; i <= core->mask; i++) {
        struct ct_entry *e, *next;

        for (e = core->buckets[i]; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(core->buckets);
    for (size_t i = 0; i < ct_vmmap_n_vms(core->map); i++) {
        scope_free_events(&core->vms[i], core->events_cap);
        scope_uninit(&core->vms[i]);
    }
    for (size_t i = 0; i < ct_vmmap_n_tenants(core->map); i++) {
        scope_uninit(&core->tenants[i]);
    }
    scope_uninit(&core->host_scope);
    free(core->vms);
    free(core->tenants);
    ct_vmmap_destroy(core->map);
    free(core->host);
    free(core);
}

const struct ct_vmmap *
ct_core_vmmap(const struct ct_core *core)
{
    return core->map;
}

/* Moves what must survive a map change from 'from' to 'to'. */
static void
scope_move(struct ct_scope *to, struct ct_scope *from)
{
    to->new_cur = from->new_cur;
    to->new_last = from->new_last;
    to->new_total = from->new_total;
    to->counts = from->counts;
    memset(&from->counts, 0, sizeof from->counts);
    to->events = from->events;
    to->ev_head = from->ev_head;
    to->ev_n = from->ev_n;
    from->events = NULL;
    from->ev_head = from->ev_n = 0;
}

void
ct_core_set_vmmap(struct ct_core *core, struct ct_vmmap *map)
{
    struct ct_vmmap *old = core->map;
    size_t n_vms = ct_vmmap_n_vms(map);
    size_t n_tenants = ct_vmmap_n_tenants(map);
    struct ct_scope *vms = xcalloc(n_vms ? n_vms : 1, sizeof *vms);
    struct ct_scope *tenants = xcalloc(n_tenants ? n_tenants : 1,
                                       sizeof *tenants);

    core->hosts_due = true;

    for (size_t t = 0; t < n_tenants; t++) {
        const char *name = ct_vmmap_tenant_name(map, t);
        char *prefix = bw_prefix(core->host, name);

        tenants[t].key = xasprintf("%s:ct:tenant", prefix);
        free(prefix);
        for (size_t u = 0; old && u < ct_vmmap_n_tenants(old); u++) {
            if (!strcmp(ct_vmmap_tenant_name(old, u), name)) {
                scope_move(&tenants[t], &core->tenants[u]);
                break;
            }
        }
    }
    for (size_t v = 0; v < n_vms; v++) {
        const char *id = ct_vmmap_vm_id(map, v);
        int t = ct_vmmap_vm_tenant(map, v);
        char *prefix = bw_prefix(core->host, (t >= 0
                                              ? ct_vmmap_tenant_name(map, t)
                                              : NULL));
        char *esc = bw_escape(id);
        int o = ct_vmmap_find(old, id);

        vms[v].key = xasprintf("%s:ct:vm:%s", prefix, esc);
        vms[v].events_key = xasprintf("%s:ct:events:vm:%s", prefix, esc);
        free(prefix);
        free(esc);
        /* A VM that moved to another tenant keeps nothing: its events
         * would go to the other tenant's list. */
        if (o >= 0 && !strcmp(core->vms[o].events_key, vms[v].events_key)) {
            scope_move(&vms[v], &core->vms[o]);
        }
        if (core->events_cap && !vms[v].events) {
            vms[v].events = xcalloc(core->events_cap, sizeof *vms[v].events);
        }
    }
    for (size_t v = 0; old && v < ct_vmmap_n_vms(old); v++) {
        core->stats.n_events_dropped += core->vms[v].ev_n;
        scope_free_events(&core->vms[v], core->events_cap);
        scope_uninit(&core->vms[v]);
    }
    for (size_t t = 0; old && t < ct_vmmap_n_tenants(old); t++) {
        scope_uninit(&core->tenants[t]);
    }
    free(core->vms);
    free(core->tenants);
    ct_vmmap_destroy(old);
    core->vms = vms;
    core->tenants = tenants;
    core->map = map;
    core->epoch++;
    core->dirty = true;
}

/* Sets 'e->vm' from the current map, if it is older. */
static void
entry_attribute(const struct ct_core *core, struct ct_entry *e)
{
    if (e->epoch != core->epoch) {
        e->vm[0] = ct_vmmap_lookup(core->map, &e->conn.src);
        e->vm[1] = ct_vmmap_lookup(core->map, &e->conn.dst);
        e->epoch = core->epoch;
    }
}

/* The entry of 'c' (same source, zone and tuple), and in '*otherp' whether
 * another entry has its tuple. */
static struct ct_entry **
find_entry(struct ct_core *core, const struct ct_conn *c, uint64_t hash,
           bool *otherp)
{
    struct ct_entry **found = NULL;

    *otherp = false;
    for (struct ct_entry **ep = &core->buckets[hash & core->mask]; *ep;
         ep = &(*ep)->next) {
        struct ct_entry *e = *ep;

        if (e->hash != hash || !same_tuple(&e->conn, c)) {
            continue;
        }
        if (same_entry(&e->conn, c)) {
            found = ep;
        } else {
            *otherp = true;
        }
    }
    return found;
}

/* Doubles the buckets when the table is as large. */
static void
maybe_grow(struct ct_core *core)
{
    struct ct_entry **old = core->buckets;
    size_t old_n = core->mask + 1;

    if (core->n < old_n) {
        return;
    }
    core->mask = core->mask * 2 + 1;
    core->buckets = xcalloc(core->mask + 1, sizeof *core->buckets);
    for (size_t i = 0; i < old_n; i++) {
        struct ct_entry *e, *next;

        for (e = old[i]; e; e = next) {
            next = e->next;
            e->next = core->buckets[e->hash & core->mask];
            core->buckets[e->hash & core->mask] = e;
        }
    }
    free(old);
}

/* Adds the event 'type' of 'c' at 'now_ms' to the lists of the VMs of its
 * ends ('vm' as entry_attribute() computes it). */
static void
push_event(struct ct_core *core, const struct ct_conn *c, const int32_t vm[2],
           const char *type, uint64_t now_ms)
{
    int32_t targets[2];
    char *text;
    json_t *j;
    int n = 0;

    if (vm[0] >= 0) {
        targets[n++] = vm[0];
    }
    if (vm[1] >= 0 && vm[1] != vm[0]) {
        targets[n++] = vm[1];
    }
    if (!core->events_cap || !n) {
        return;
    }
    j = ct_conn_event_json(c, type, now_ms);
    text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    for (int i = 0; i < n; i++) {
        struct ct_scope *s = &core->vms[targets[i]];

        if (s->ev_n == core->events_cap) {
            /* Only the newest 'events_cap' can end up in the list. */
            free(s->events[s->ev_head]);
            s->ev_head = (s->ev_head + 1) % core->events_cap;
            s->ev_n--;
            core->stats.n_events_dropped++;
        }
        s->events[(s->ev_head + s->ev_n++) % core->events_cap]
            = i + 1 < n ? xstrdup(text) : text;
    }
}

/* Counts a new connection between the VMs 'vm' in their scopes. */
static void
count_new(struct ct_core *core, const int32_t vm[2])
{
    int t0 = vm[0] >= 0 ? ct_vmmap_vm_tenant(core->map, vm[0]) : -1;
    int t1 = vm[1] >= 0 ? ct_vmmap_vm_tenant(core->map, vm[1]) : -1;

    core->host_scope.new_cur++;
    if (vm[0] >= 0) {
        core->vms[vm[0]].new_cur++;
    }
    if (vm[1] >= 0 && vm[1] != vm[0]) {
        core->vms[vm[1]].new_cur++;
    }
    if (t0 >= 0) {
        core->tenants[t0].new_cur++;
    }
    if (t1 >= 0 && t1 != t0) {
        core->tenants[t1].new_cur++;
    }
}

/* Copies into 'e' what 'c' knows (its 'has' bits), keeping the rest:
 * events and dumps alike say only some of it. */
static void
entry_merge(struct ct_entry *e, const struct ct_conn *c)
{
    struct ct_conn *d = &e->conn;

    if (c->has & CT_HAS_STATE) {
        d->tcp_state = c->tcp_state;
    }
    if (c->has & CT_HAS_MARK) {
        d->mark = c->mark;
    }
    if (c->has & CT_HAS_COUNTERS) {
        memcpy(d->packets, c->packets, sizeof d->packets);
        memcpy(d->bytes, c->bytes, sizeof d->bytes);
    }
    if (c->has & CT_HAS_START) {
        d->start_ns = c->start_ns;
    }
    if (c->has & CT_HAS_STOP) {
        d->stop_ns = c->stop_ns;
    }
    if (c->has & CT_HAS_ID) {
        d->id = c->id;
    }
    d->has |= c->has;
}

/* Inserts or updates the entry of 'c' (unless the table is full).  A new
 * entry that is a new connection counts, with an event, if 'is_new'. */
static void
upsert(struct ct_core *core, const struct ct_conn *c, bool is_new,
       uint64_t now_ms)
{
    uint64_t hash = hash_tuple(c);
    struct ct_entry **ep;
    struct ct_entry *e;
    bool other;

    core->dirty = true;
    ep = find_entry(core, c, hash, &other);
    if (ep) {
        e = *ep;
        entry_merge(e, c);
        e->gen = core->gen[e->conn.source];
        return;
    }
    if (core->n >= core->max) {
        core->stats.n_over_cap++;
        return;
    }
    e = xzalloc(sizeof *e);
    e->hash = hash;
    e->conn = *c;
    e->addr_hash[0] = (uint32_t) hash_addr(&c->src);
    e->addr_hash[1] = (uint32_t) hash_addr(&c->dst);
    e->gen = core->gen[c->source < CT_N_SOURCES ? c->source : 0];
    e->epoch = core->epoch - 1;
    entry_attribute(core, e);
    maybe_grow(core);
    e->next = core->buckets[hash & core->mask];
    core->buckets[hash & core->mask] = e;
    core->n++;
    core->n_by_source[e->conn.source]++;
    if (is_new && !other) {
        e->new_pending = true;
        core->stats.n_new++;
        push_event(core, &e->conn, e->vm, "new", now_ms);
    }
}

/* Unlinks and frees '*ep', with a "destroy" event of 'last' (what is
 * known at its end) if no other entry tracks its connection. */
static void
remove_entry(struct ct_core *core, struct ct_entry **ep,
             const struct ct_conn *last, uint64_t now_ms)
{
    struct ct_entry *e = *ep;
    const struct ct_conn *end = last ? last : &e->conn;
    bool other = false;

    core->dirty = true;

    *ep = e->next;
    for (const struct ct_entry *f = core->buckets[e->hash & core->mask]; f;
         f = f->next) {
        if (f->hash == e->hash && same_tuple(&f->conn, &e->conn)) {
            other = true;
            break;
        }
    }
    entry_attribute(core, e);
    if (e->new_pending) {
        count_new(core, e->vm);
    }
    if (other) {
        /* The connection lives on in another tracker: it inherits the
         * counters and timestamps (the kernel's) that it lacks, for its
         * own destroy event. */
        for (struct ct_entry *f = core->buckets[e->hash & core->mask]; f;
             f = f->next) {
            if (f->hash == e->hash && same_tuple(&f->conn, &e->conn)) {
                struct ct_conn inherit = *end;

                inherit.has &= ~f->conn.has & (CT_HAS_COUNTERS
                                               | CT_HAS_START | CT_HAS_STOP);
                entry_merge(f, &inherit);
            }
        }
    }
    if (!other) {
        push_event(core, end, e->vm, "destroy", now_ms);
    }
    core->n--;
    core->n_by_source[e->conn.source]--;
    core->stats.n_destroyed++;
    free(e);
}

void
ct_core_event(struct ct_core *core, enum ct_event_type type,
              const struct ct_conn *c, uint64_t now_ms)
{
    switch (type) {
    case CT_EV_NEW:
    case CT_EV_UPDATE:
        /* An UPDATE of an unknown entry is a connection that began
         * before we looked, or whose NEW was lost: not new. */
        upsert(core, c, type == CT_EV_NEW, now_ms);
        break;
    case CT_EV_DESTROY: {
        uint64_t hash = hash_tuple(c);
        struct ct_entry **ep;
        bool other;

        ep = find_entry(core, c, hash, &other);
        if (ep) {
            struct ct_conn last = (*ep)->conn;
            struct ct_entry tmp = { .conn = last };

            entry_merge(&tmp, c);
            remove_entry(core, ep, &tmp.conn, now_ms);
        } else if (!other) {
            /* Unknown to us, but its counters are worth keeping. */
            int32_t vm[2] = {
                ct_vmmap_lookup(core->map, &c->src),
                ct_vmmap_lookup(core->map, &c->dst),
            };

            push_event(core, c, vm, "destroy", now_ms);
        }
        break;
    }
    }
}

void
ct_core_sync_begin(struct ct_core *core, enum ct_source source)
{
    core->gen[source]++;
}

void
ct_core_sync_add(struct ct_core *core, const struct ct_conn *c,
                 bool count_new_, uint64_t now_ms)
{
    upsert(core, c, count_new_, now_ms);
}

void
ct_core_sync_end(struct ct_core *core, enum ct_source source,
                 uint64_t now_ms)
{
    for (size_t i = 0; i <= core->mask; i++) {
        struct ct_entry **ep = &core->buckets[i];

        while (*ep) {
            struct ct_entry *e = *ep;

            if (e->conn.source == source && e->gen != core->gen[source]) {
                /* For the kernel, a DESTROY we missed; for OVS, how its
                 * connections end. */
                if (source == CT_SRC_KERNEL) {
                    core->stats.n_swept++;
                }
                remove_entry(core, ep, NULL, now_ms);
            } else {
                ep = &e->next;
            }
        }
    }
}

void
ct_core_drop_source(struct ct_core *core, enum ct_source source,
                    uint64_t now_ms)
{
    (void) now_ms;
    for (size_t i = 0; i <= core->mask; i++) {
        struct ct_entry **ep = &core->buckets[i];

        while (*ep) {
            struct ct_entry *e = *ep;

            if (e->conn.source == source) {
                *ep = e->next;
                core->dirty = true;
                core->n--;
                core->n_by_source[source]--;
                free(e);
            } else {
                ep = &e->next;
            }
        }
    }
}

/* Adds entry 'e' to scope 's', with the ends 'peer_a' and 'peer_b' (0:
 * source, 1: destination, -1: none) as peers. */
static void
scope_add(struct ct_scope *s, const struct ct_entry *e, int peer_a,
          int peer_b)
{
    const struct ct_conn *c = &e->conn;

    ct_summary_add(&s->sum, c);
    if (peer_a >= 0) {
        counts_add_peer(&s->counts, peer_a ? &c->dst : &c->src,
                        e->addr_hash[peer_a]);
    }
    if (peer_b >= 0) {
        counts_add_peer(&s->counts, peer_b ? &c->dst : &c->src,
                        e->addr_hash[peer_b]);
    }
    counts_add_value(&s->counts, CT_COUNT_ZONE, c->zone);
    counts_add_value(&s->counts, CT_COUNT_MARK, c->mark);
}

static void
scope_reset(struct ct_scope *s)
{
    memset(&s->sum, 0, sizeof s->sum);
    counts_clear(&s->counts);
}

/* Ends the second of "new" counts. */
static void
scope_roll(struct ct_scope *s)
{
    s->new_last = s->new_cur;
    s->new_total += s->new_cur;
    s->new_cur = 0;
}

/* Whether another entry of 'e''s chain represents its connection. */
static bool
is_duplicate(const struct ct_entry *chain, const struct ct_entry *e)
{
    for (const struct ct_entry *f = chain; f; f = f->next) {
        if (f != e && f->hash == e->hash && same_tuple(&f->conn, &e->conn)
            && ranks_before(&f->conn, &e->conn)) {
            return true;
        }
    }
    return false;
}

/* Adds entry 'e' to the scopes of its VMs and their tenants. */
static void
scan_entry(struct ct_core *core, struct ct_entry *e)
{
    const struct ct_conn *c = &e->conn;
    int a, b, ta, tb;

    entry_attribute(core, e);
    a = e->vm[0];
    b = e->vm[1];
    ta = a >= 0 ? ct_vmmap_vm_tenant(core->map, a) : -1;
    tb = b >= 0 ? ct_vmmap_vm_tenant(core->map, b) : -1;

    /* The host's peers are the addresses seen at either end. */
    scope_add(&core->host_scope, e, 0,
              vnm_addr_equal(&c->src, &c->dst) ? -1 : 1);
    if (a >= 0) {
        scope_add(&core->vms[a], e, 1, b == a ? 0 : -1);
    }
    if (b >= 0 && b != a) {
        scope_add(&core->vms[b], e, 0, -1);
    }
    if (ta >= 0) {
        scope_add(&core->tenants[ta], e, a >= 0 ? 1 : -1,
                  tb == ta ? 0 : -1);
    }
    if (tb >= 0 && tb != ta) {
        scope_add(&core->tenants[tb], e, 0, -1);
    }
}

/* Recomputes every scope's counts from the table. */
static void
scan(struct ct_core *core)
{
    size_t n_vms = ct_vmmap_n_vms(core->map);
    size_t n_tenants = ct_vmmap_n_tenants(core->map);

    scope_reset(&core->host_scope);
    for (size_t i = 0; i < n_vms; i++) {
        scope_reset(&core->vms[i]);
    }
    for (size_t i = 0; i < n_tenants; i++) {
        scope_reset(&core->tenants[i]);
    }
    core->stats.n_duplicates = 0;
    for (size_t i = 0; i <= core->mask; i++) {
        for (struct ct_entry *e = core->buckets[i]; e; e = e->next) {
            if (e->new_pending) {
                entry_attribute(core, e);
                count_new(core, e->vm);
                e->new_pending = false;
            }
            if (is_duplicate(core->buckets[i], e)) {
                core->stats.n_duplicates++;
            } else {
                scan_entry(core, e);
            }
        }
    }
    core->stats.n_connections = core->host_scope.sum.total;
}

void
ct_core_tick(struct ct_core *core)
{
    /* Unchanged since the last scan: its counts stand. */
    if (core->dirty) {
        core->dirty = false;
        scan(core);
    }
    scope_roll(&core->host_scope);
    for (size_t i = 0; i < ct_vmmap_n_vms(core->map); i++) {
        scope_roll(&core->vms[i]);
    }
    for (size_t i = 0; i < ct_vmmap_n_tenants(core->map); i++) {
        scope_roll(&core->tenants[i]);
    }
}

/* The members every summary has. */
static json_t *
scope_json(const struct ct_core *core, const struct ct_scope *s,
           const char *scope, uint64_t now_ms)
{
    const struct ct_summary *sum = &s->sum;
    json_t *j = json_object();
    json_t *tcp = json_object();
    json_t *sources = json_object();
    struct ct_tops tops;

    json_object_set_new(j, "time_ms", json_integer((json_int_t) now_ms));
    json_object_set_new(j, "host", json_string(core->host));
    json_object_set_new(j, "scope", json_string(scope));
    json_object_set_new(j, "connections",
                        json_integer((json_int_t) sum->open));
    json_object_set_new(j, "total", json_integer((json_int_t) sum->total));
    json_object_set_new(j, "half_open",
                        json_integer((json_int_t) sum->half_open));
    for (int i = 0; i < CT_TCP_N_STATES; i++) {
        if (sum->tcp[i]) {
            json_object_set_new(tcp, tcp_state_names[i],
                                json_integer((json_int_t) sum->tcp[i]));
        }
    }
    json_object_set_new(j, "tcp", tcp);
    json_object_set_new(j, "udp", json_integer((json_int_t) sum->udp));
    json_object_set_new(j, "icmp", json_integer((json_int_t) sum->icmp));
    json_object_set_new(j, "other", json_integer((json_int_t) sum->other));
    for (int i = 0; i < CT_N_SOURCES; i++) {
        json_object_set_new(sources, ct_source_name(i),
                            json_integer((json_int_t) sum->by_source[i]));
    }
    json_object_set_new(j, "sources", sources);
    json_object_set_new(j, "new_per_s",
                        json_integer((json_int_t) s->new_last));
    json_object_set_new(j, "new_total",
                        json_integer((json_int_t) s->new_total));
    counts_top(&s->counts, &tops);
    json_object_set_new(j, "top_peers", tops_json(&tops, CT_COUNT_PEER));
    json_object_set_new(j, "zones", tops_json(&tops, CT_COUNT_ZONE));
    json_object_set_new(j, "marks", tops_json(&tops, CT_COUNT_MARK));
    return j;
}

json_t *
ct_core_vm_json(const struct ct_core *core, size_t vm, uint64_t now_ms)
{
    json_t *j = scope_json(core, &core->vms[vm], "vm", now_ms);
    int t = ct_vmmap_vm_tenant(core->map, vm);

    json_object_set_new(j, "vm", json_string(ct_vmmap_vm_id(core->map, vm)));
    json_object_set_new(j, "name",
                        json_string(ct_vmmap_vm_name(core->map, vm)));
    json_object_set_new(j, "tenant",
                        t >= 0 ? json_string(ct_vmmap_tenant_name(core->map,
                                                                  t))
                        : json_null());
    return j;
}

json_t *
ct_core_tenant_json(const struct ct_core *core, size_t tenant,
                    uint64_t now_ms)
{
    json_t *j = scope_json(core, &core->tenants[tenant], "tenant", now_ms);
    json_t *index = json_array();
    size_t n = 0;

    json_object_set_new(j, "tenant",
                        json_string(ct_vmmap_tenant_name(core->map,
                                                         tenant)));
    /* The index of the tenant's VMs, as in the host's summary: what a
     * tenant's own Redis user (which cannot read the host's) reads to find
     * their keys. */
    for (size_t v = 0; v < ct_vmmap_n_vms(core->map); v++) {
        if (ct_vmmap_vm_tenant(core->map, v) == (int) tenant) {
            n++;
            json_array_append_new(index, json_pack(
                "{s:s, s:s, s:I, s:I}",
                "vm", ct_vmmap_vm_id(core->map, v),
                "name", ct_vmmap_vm_name(core->map, v),
                "connections", (json_int_t) core->vms[v].sum.open,
                "total", (json_int_t) core->vms[v].sum.total));
        }
    }
    json_object_set_new(j, "vms", json_integer((json_int_t) n));
    json_object_set_new(j, "vm_index", index);
    return j;
}

json_t *
ct_core_host_json(const struct ct_core *core, uint64_t now_ms)
{
    json_t *j = scope_json(core, &core->host_scope, "host", now_ms);
    json_t *vms = json_array();
    json_t *tenants = json_array();

    json_object_set_new(j, "entries", json_integer((json_int_t) core->n));
    json_object_set_new(j, "max", json_integer((json_int_t) core->max));
    json_object_set_new(j, "over_cap",
                        json_integer((json_int_t) core->stats.n_over_cap));
    json_object_set_new(j, "duplicates",
                        json_integer((json_int_t) core->stats.n_duplicates));
    /* The index of this host's VMs and tenants, for readers (vnmonctl
     * conns): their keys follow from these. */
    for (size_t v = 0; v < ct_vmmap_n_vms(core->map); v++) {
        int t = ct_vmmap_vm_tenant(core->map, v);

        json_array_append_new(vms, json_pack(
            "{s:s, s:s, s:o, s:I, s:I}",
            "vm", ct_vmmap_vm_id(core->map, v),
            "name", ct_vmmap_vm_name(core->map, v),
            "tenant", (t >= 0
                       ? json_string(ct_vmmap_tenant_name(core->map, t))
                       : json_null()),
            "connections", (json_int_t) core->vms[v].sum.open,
            "total", (json_int_t) core->vms[v].sum.total));
    }
    for (size_t t = 0; t < ct_vmmap_n_tenants(core->map); t++) {
        json_array_append_new(tenants, json_pack(
            "{s:s, s:I, s:I}",
            "tenant", ct_vmmap_tenant_name(core->map, t),
            "connections", (json_int_t) core->tenants[t].sum.open,
            "total", (json_int_t) core->tenants[t].sum.total));
    }
    json_object_set_new(j, "vms", vms);
    json_object_set_new(j, "tenants", tenants);
    return j;
}

const struct ct_summary *
ct_core_vm_summary(const struct ct_core *core, size_t vm)
{
    return &core->vms[vm].sum;
}

const struct ct_summary *
ct_core_host_summary(const struct ct_core *core)
{
    return &core->host_scope.sum;
}

/* Appends "SET key json EX ttl" for 'j' (freed here). */
static void
write_json(struct vnm_redis *r, const char *key, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    char ttl[16];
    const char *argv[] = { "SET", key, text, "EX", ttl };
    size_t argvlen[VNM_ARRAY_SIZE(argv)];

    snprintf(ttl, sizeof ttl, "%d", CT_SUMMARY_TTL_S);
    for (size_t i = 0; i < VNM_ARRAY_SIZE(argv); i++) {
        argvlen[i] = strlen(argv[i]);
    }
    vnm_redis_append_argv(r, (int) VNM_ARRAY_SIZE(argv), argv, argvlen);
    free(text);
    json_decref(j);
}

/* Appends the writes of the pending events of VM scope 's', and forgets
 * them: one LPUSH of all of them (oldest first, so that the newest ends
 * at the head), LTRIM to the cap, EXPIRE. */
static void
write_events(const struct ct_core *core, struct ct_scope *s,
             struct vnm_redis *r)
{
    const char **argv = xmalloc((s->ev_n + 2) * sizeof *argv);
    size_t *argvlen = xmalloc((s->ev_n + 2) * sizeof *argvlen);
    char stop[24];

    argv[0] = "LPUSH";
    argv[1] = s->events_key;
    for (size_t i = 0; i < s->ev_n; i++) {
        argv[2 + i] = s->events[(s->ev_head + i) % core->events_cap];
    }
    for (size_t i = 0; i < s->ev_n + 2; i++) {
        argvlen[i] = strlen(argv[i]);
    }
    vnm_redis_append_argv(r, (int) (s->ev_n + 2), argv, argvlen);
    snprintf(stop, sizeof stop, "%zu", core->events_cap - 1);
    vnm_redis_append(r, "LTRIM %s 0 %s", s->events_key, stop);
    vnm_redis_append(r, "EXPIRE %s %d", s->events_key, CT_EVENTS_TTL_S);
    free(argv);
    free(argvlen);
    scope_free_events(s, core->events_cap);
}

void
ct_core_write(struct ct_core *core, struct vnm_redis *r, uint64_t now_ms)
{
    for (size_t v = 0; v < ct_vmmap_n_vms(core->map); v++) {
        write_json(r, core->vms[v].key, ct_core_vm_json(core, v, now_ms));
        if (core->vms[v].ev_n) {
            write_events(core, &core->vms[v], r);
        }
    }
    for (size_t t = 0; t < ct_vmmap_n_tenants(core->map); t++) {
        write_json(r, core->tenants[t].key,
                   ct_core_tenant_json(core, t, now_ms));
        if (core->hosts_due || core->n_writes % CT_HOSTS_EVERY == 0) {
            /* The tenant's list of hosts (shared with the bandwidth
             * series): where its Redis user finds this summary. */
            char *et = bw_escape(ct_vmmap_tenant_name(core->map, t));
            char *key = bw_tenant_hosts_key(et);

            vnm_redis_append(r, "SADD %s %s", key, core->host);
            free(key);
            free(et);
        }
    }
    core->n_writes++;
    core->hosts_due = false;
    write_json(r, core->host_scope.key, ct_core_host_json(core, now_ms));
}

char **
ct_core_vm_events(const struct ct_core *core, size_t vm, size_t *n)
{
    const struct ct_scope *s = &core->vms[vm];
    char **out = xcalloc(s->ev_n + 1, sizeof *out);

    for (size_t i = 0; i < s->ev_n; i++) {
        out[i] = xstrdup(s->events[(s->ev_head + i) % core->events_cap]);
    }
    *n = s->ev_n;
    return out;
}

void
ct_core_get_stats(const struct ct_core *core, struct ct_core_stats *stats)
{
    *stats = core->stats;
    stats->n_entries = core->n;
    memcpy(stats->n_by_source, core->n_by_source, sizeof stats->n_by_source);
}

/* ---------------------------------------------------------------- module */

/* Events handled per wakeup of the netlink socket, so that an event flood
 * cannot keep the loop from its other work. */
#define CT_EVENT_BATCH 4096
/* Receive buffer asked for the event socket: room for bursts. */
#define CT_EVENT_RCVBUF (8 * 1024 * 1024)
/* Failed polls of ovs-vswitchd before a warning: a restart takes less. */
#define CT_OVS_WARN_AFTER 3

char *
conntrack_config_read(const struct vnm_conf *conf,
                      struct conntrack_config *cfg)
{
    const char *ovs;
    char *error;

    memset(cfg, 0, sizeof *cfg);
    if ((error = vnm_conf_get_bool(conf, "conntrack", true, &cfg->enabled))
        || (error = vnm_conf_get_duration(conf, "conntrack_dump", 10000,
                                          1000, 3600 * 1000, &cfg->dump_ms))
        || (error = vnm_conf_get_int(conf, "conntrack_max", 65536, 16,
                                     100000000, &cfg->max))
        || (error = vnm_conf_get_int(conf, "conntrack_events", 100, 0,
                                     100000, &cfg->events))
        || (error = vnm_conf_get_bool(conf, "conntrack_accounting", true,
                                      &cfg->accounting))
        || (error = vnm_conf_get_string(conf, "ovs_conntrack", "auto",
                                        &ovs))) {
        return error;
    }
    if (!strcmp(ovs, "auto")) {
        cfg->ovs = CT_OVS_AUTO;
    } else if (!strcmp(ovs, "on")) {
        cfg->ovs = CT_OVS_ON;
    } else if (!strcmp(ovs, "off")) {
        cfg->ovs = CT_OVS_OFF;
    } else {
        return vnm_conf_error(conf, "ovs_conntrack",
                              "\"%s\" is not on, off or auto", ovs);
    }
    return NULL;
}

/* The agent's module: the core and what feeds it. */
struct conntrack {
    struct conntrack_config cfg;
    struct event_base *base;    /* The agent's loop. */
    struct vnm_redis *redis;    /* Borrowed. */
    struct ct_core *core;

    /* Attribution. */
    const struct inventory *inv; /* Borrowed, or null. */
    bool inv_seen;              /* 'inv_seq' is valid. */
    uint64_t inv_seq;           /* Topology the map was built from. */
    bool has_netdev;            /* A bridge has datapath_type netdev. */

    /* Kernel conntrack. */
    struct nfct_handle *ev_h;   /* Events. */
    struct nfct_handle *dump_h; /* Dumps. */
    struct event *nl_event;     /* 'ev_h' readable. */
    struct event *resync;       /* A dump after lost events. */
    bool kernel_up;             /* The sockets are open. */
    bool kernel_warned;         /* The outage has been logged. */
    bool kernel_dumped;         /* A dump succeeded since opening. */
    uint64_t last_dump_mono;    /* Last dump or open attempt. */
    uint64_t last_resync_mono;  /* Last dump after lost events. */
    uint64_t batch_now_ms;      /* Wall clock of the events being read. */
    size_t batch;               /* Events read in this batch. */
    bool accounting, timestamps; /* The sysctls are on. */
    uint64_t n_events[3];       /* NEW, UPDATE, DESTROY. */
    uint64_t n_lost;            /* ENOBUFS: events lost. */
    uint64_t n_resyncs, n_dumps, n_dump_errors, n_open_errors;

    /* OVS userspace conntrack. */
    struct ovs_ct *ovs;
    bool ovs_polled;            /* A poll succeeded since polling began. */
    bool ovs_ok;                /* The last poll succeeded. */
    int ovs_failures;           /* Consecutive failed polls. */
    uint64_t last_poll_mono;    /* Last poll started. */
    uint64_t n_polls, n_poll_errors, n_bad_lines;
};

/* Sets sysctl 'name' (under /proc/sys/net/netfilter) to 1 if it is not.
 * Returns true if it is 1 in the end. */
static bool
enable_sysctl(const char *name, bool enable)
{
    char *path = xasprintf("/proc/sys/net/netfilter/%s", name);
    char buf[8] = "";
    bool on = false;
    FILE *f;

    f = fopen(path, "re");
    if (f) {
        on = fgets(buf, sizeof buf, f) && buf[0] == '1';
        fclose(f);
    }
    if (!on && enable) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd < 0 || write(fd, "1\n", 2) != 2) {
            VNM_INFO("cannot set %s to 1 (%s): conntrack %s will be missing",
                     path, strerror(errno),
                     strstr(name, "acct") ? "counters" : "timestamps");
        } else {
            VNM_INFO("set %s to 1", path);
            on = true;
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    free(path);
    return on;
}

/* Fills 'c' from the kernel's 'ct'.  Returns false for what we do not
 * track (not IPv4 or IPv6). */
static bool
conn_from_nfct(const struct nf_conntrack *ct, struct ct_conn *c)
{
    uint8_t l3 = nfct_get_attr_u8(ct, ATTR_L3PROTO);

    memset(c, 0, sizeof *c);
    c->source = CT_SRC_KERNEL;
    if (l3 == AF_INET) {
        uint32_t a;

        c->src.family = c->dst.family = 4;
        a = nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_SRC);
        memcpy(c->src.a, &a, 4);
        a = nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_DST);
        memcpy(c->dst.a, &a, 4);
    } else if (l3 == AF_INET6) {
        const void *p;

        c->src.family = c->dst.family = 6;
        p = nfct_get_attr(ct, ATTR_ORIG_IPV6_SRC);
        if (p) {
            memcpy(c->src.a, p, 16);
        }
        p = nfct_get_attr(ct, ATTR_ORIG_IPV6_DST);
        if (p) {
            memcpy(c->dst.a, p, 16);
        }
    } else {
        return false;
    }
    c->proto = nfct_get_attr_u8(ct, ATTR_L4PROTO);
    if (ct_conn_is_icmp(c)) {
        c->sport = ntohs(nfct_get_attr_u16(ct, ATTR_ICMP_ID));
        c->dport = (uint16_t) (nfct_get_attr_u8(ct, ATTR_ICMP_TYPE) << 8
                               | nfct_get_attr_u8(ct, ATTR_ICMP_CODE));
    } else if (nfct_attr_is_set(ct, ATTR_ORIG_PORT_SRC) > 0) {
        c->sport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
        c->dport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
    }
    if (c->proto == IPPROTO_TCP && nfct_attr_is_set(ct, ATTR_TCP_STATE) > 0) {
        c->tcp_state = nfct_get_attr_u8(ct, ATTR_TCP_STATE);
        if (c->tcp_state >= CT_TCP_N_STATES) {
            c->tcp_state = CT_TCP_NONE;
        }
        c->has |= CT_HAS_STATE;
    }
    if (nfct_attr_is_set(ct, ATTR_ZONE) > 0) {
        c->zone = nfct_get_attr_u16(ct, ATTR_ZONE);
    }
    if (nfct_attr_is_set(ct, ATTR_MARK) > 0) {
        c->mark = nfct_get_attr_u32(ct, ATTR_MARK);
        c->has |= CT_HAS_MARK;
    }
    if (nfct_attr_is_set(ct, ATTR_ID) > 0) {
        c->id = nfct_get_attr_u32(ct, ATTR_ID);
        c->has |= CT_HAS_ID;
    }
    if (nfct_attr_is_set(ct, ATTR_ORIG_COUNTER_PACKETS) > 0) {
        c->packets[0] = nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_PACKETS);
        c->bytes[0] = nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_BYTES);
        c->packets[1] = nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_PACKETS);
        c->bytes[1] = nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_BYTES);
        c->has |= CT_HAS_COUNTERS;
    }
    if (nfct_attr_is_set(ct, ATTR_TIMESTAMP_START) > 0) {
        c->start_ns = nfct_get_attr_u64(ct, ATTR_TIMESTAMP_START);
        c->has |= c->start_ns ? CT_HAS_START : 0;
    }
    if (nfct_attr_is_set(ct, ATTR_TIMESTAMP_STOP) > 0) {
        c->stop_ns = nfct_get_attr_u64(ct, ATTR_TIMESTAMP_STOP);
        c->has |= c->stop_ns ? CT_HAS_STOP : 0;
    }
    return true;
}

/* Each kernel event. */
static int
nfct_event_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct,
              void *c_)
{
    struct conntrack *c = c_;
    struct ct_conn conn;
    enum ct_event_type ev;

    /* Not a switch: the enum's *_BIT members share values with others. */
    if (type == NFCT_T_NEW) {
        ev = CT_EV_NEW;
    } else if (type == NFCT_T_UPDATE) {
        ev = CT_EV_UPDATE;
    } else if (type == NFCT_T_DESTROY) {
        ev = CT_EV_DESTROY;
    } else {
        return NFCT_CB_CONTINUE;
    }
    c->n_events[ev]++;
    if (conn_from_nfct(ct, &conn)) {
        ct_core_event(c->core, ev, &conn, c->batch_now_ms);
    }
    /* One event per netlink message: stopping here loses none. */
    return ++c->batch < CT_EVENT_BATCH ? NFCT_CB_CONTINUE : NFCT_CB_STOP;
}

/* Each connection of a dump. */
static int
nfct_dump_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct,
             void *c_)
{
    struct conntrack *c = c_;
    struct ct_conn conn;

    (void) type;
    if (conn_from_nfct(ct, &conn)) {
        ct_core_sync_add(c->core, &conn, c->kernel_dumped, c->batch_now_ms);
    }
    return NFCT_CB_CONTINUE;
}

/* Reads the events waiting on the netlink socket, at most 'max_batches'
 * times CT_EVENT_BATCH of them.  Returns true if none is left. */
static bool
kernel_read_events(struct conntrack *c, int max_batches)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(1, 1);

    for (int i = 0; i < max_batches; i++) {
        c->batch = 0;
        c->batch_now_ms = vnm_time_wall_ms();
        if (nfct_catch(c->ev_h) >= 0) {
            continue;           /* A full batch: there may be more. */
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return true;
        } else if (errno == ENOBUFS) {
            /* The kernel dropped events: the table is wrong until a dump
             * puts it right. */
            c->n_lost++;
            if (!evtimer_pending(c->resync, NULL)) {
                uint64_t since = vnm_time_mono_ms() - c->last_resync_mono;
                uint64_t delay = since >= 1000 ? 0 : 1000 - since;
                struct timeval tv = { (time_t) (delay / 1000),
                                      (suseconds_t) (delay % 1000 * 1000) };

                evtimer_add(c->resync, &tv);
            }
        } else if (errno != EINTR && errno != ENOENT) {
            VNM_WARN_RL(&rl, "kernel conntrack: cannot read events (%s)",
                        strerror(errno));
            return false;
        }
    }
    return false;
}

/* A full dump of the kernel's table: rebuilds the kernel's entries. */
static void
kernel_dump(struct conntrack *c)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(1, 1);
    uint32_t family = AF_UNSPEC;

    c->last_dump_mono = vnm_time_mono_ms();
    c->batch_now_ms = vnm_time_wall_ms();
    ct_core_sync_begin(c->core, CT_SRC_KERNEL);
    if (nfct_query(c->dump_h, NFCT_Q_DUMP, &family) < 0) {
        /* No sweep: what the dump missed would wrongly end. */
        c->n_dump_errors++;
        VNM_WARN_RL(&rl, "kernel conntrack: dump failed (%s)",
                    strerror(errno));
        return;
    }
    c->kernel_dumped = true;
    c->n_dumps++;
    /* A connection that ended before or during the dump is not in it, but
     * its DESTROY event is queued by now: read the events before sweeping,
     * so that it ends with its counters rather than as a missed DESTROY.
     * If a flood keeps the queue from emptying, the sweep waits for the
     * next dump. */
    if (kernel_read_events(c, 16)) {
        ct_core_sync_end(c->core, CT_SRC_KERNEL, vnm_time_wall_ms());
    }
}

/* The event socket is readable. */
static void
nl_read_cb(evutil_socket_t fd, short what, void *c_)
{
    struct conntrack *c = c_;

    (void) fd;
    (void) what;
    kernel_read_events(c, 1);
}

/* The dump after lost events. */
static void
resync_cb(evutil_socket_t fd, short what, void *c_)
{
    struct conntrack *c = c_;

    (void) fd;
    (void) what;
    if (c->kernel_up) {
        c->last_resync_mono = vnm_time_mono_ms();
        c->n_resyncs++;
        kernel_dump(c);
    }
}

static void
kernel_close(struct conntrack *c)
{
    if (c->nl_event) {
        event_free(c->nl_event);
        c->nl_event = NULL;
    }
    if (c->ev_h) {
        nfct_close(c->ev_h);
        c->ev_h = NULL;
    }
    if (c->dump_h) {
        nfct_close(c->dump_h);
        c->dump_h = NULL;
    }
    c->kernel_up = false;
}

/* Opens the netlink sockets, if not open.  An outage is logged once. */
static void
kernel_open(struct conntrack *c)
{
    int error, fd, size = CT_EVENT_RCVBUF;

    if (c->kernel_up) {
        return;
    }
    c->ev_h = nfct_open(CONNTRACK, NF_NETLINK_CONNTRACK_NEW
                        | NF_NETLINK_CONNTRACK_UPDATE
                        | NF_NETLINK_CONNTRACK_DESTROY);
    error = c->ev_h ? 0 : errno;
    if (!error) {
        c->dump_h = nfct_open(CONNTRACK, 0);
        error = c->dump_h ? 0 : errno;
    }
    if (error) {
        c->n_open_errors++;
        if (!c->kernel_warned) {
            VNM_WARN("kernel conntrack: cannot open a netlink socket (%s); "
                     "retrying every %"PRId64" s", strerror(error),
                     c->cfg.dump_ms / 1000);
            c->kernel_warned = true;
        }
        kernel_close(c);
        return;
    }
    fd = nfct_fd(c->ev_h);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size)) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    nfct_callback_register(c->ev_h, NFCT_T_ALL, nfct_event_cb, c);
    nfct_callback_register(c->dump_h, NFCT_T_ALL, nfct_dump_cb, c);
    c->nl_event = event_new(c->base, fd, EV_READ | EV_PERSIST, nl_read_cb,
                            c);
    event_add(c->nl_event, NULL);
    c->kernel_up = true;
    c->kernel_dumped = false;
    if (c->kernel_warned) {
        VNM_INFO("kernel conntrack: netlink socket open");
        c->kernel_warned = false;
    }
    c->accounting = enable_sysctl("nf_conntrack_acct", c->cfg.accounting);
    c->timestamps = enable_sysctl("nf_conntrack_timestamp",
                                  c->cfg.accounting);
    /* The first dump finds what exists: nothing of it is new. */
    kernel_dump(c);
}

/* Whether OVS's conntrack is to be polled now. */
static bool
ovs_wanted(const struct conntrack *c)
{
    return (c->cfg.ovs == CT_OVS_ON
            || (c->cfg.ovs == CT_OVS_AUTO && c->has_netdev));
}

/* The outcome of a poll of ovs-vswitchd. */
static void
ovs_reply_cb(void *c_, int error, const char *text)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(1, 1);
    struct conntrack *c = c_;
    uint64_t now_ms = vnm_time_wall_ms();
    const char *line, *end;

    if (!ovs_wanted(c)) {
        return;
    }
    if (error) {
        c->n_poll_errors++;
        c->ovs_ok = false;
        if (++c->ovs_failures == CT_OVS_WARN_AFTER) {
            VNM_WARN("ovs-vswitchd conntrack: %s; still retrying every "
                     "%"PRId64" s", text, c->cfg.dump_ms / 1000);
            /* Its connections are unknown now: better none than stale
             * ones. */
            ct_core_drop_source(c->core, CT_SRC_OVS, now_ms);
            c->ovs_polled = false;
        } else if (c->ovs_failures == 1) {
            /* Maybe restarting: only a lasting outage is a warning. */
            VNM_INFO("ovs-vswitchd conntrack: %s; retrying", text);
        }
        return;
    }
    if (c->ovs_failures) {
        VNM_INFO("ovs-vswitchd conntrack: polled again after %d failure(s)",
                 c->ovs_failures);
    }
    c->ovs_failures = 0;
    c->ovs_ok = true;
    c->n_polls++;
    ct_core_sync_begin(c->core, CT_SRC_OVS);
    for (line = text; *line; line = *end ? end + 1 : end) {
        struct ct_conn conn;
        char *copy, *msg;

        end = line + strcspn(line, "\n");
        if (end == line) {
            continue;
        }
        copy = xstrndup(line, (size_t) (end - line));
        msg = ovs_ct_parse_line(copy, &conn);
        if (msg) {
            c->n_bad_lines++;
            VNM_WARN_RL(&rl, "ovs-vswitchd conntrack: cannot parse \"%s\" "
                        "(%s)", copy, msg);
            free(msg);
        } else {
            ct_core_sync_add(c->core, &conn, c->ovs_polled, now_ms);
        }
        free(copy);
    }
    ct_core_sync_end(c->core, CT_SRC_OVS, now_ms);
    c->ovs_polled = true;
}

/* Rebuilds attribution and the datapath types when the inventory's
 * topology changed. */
static void
inventory_check(struct conntrack *c)
{
    uint64_t seq;
    json_t *snap, *bridge;
    size_t i;

    if (!c->inv) {
        return;
    }
    seq = inventory_topology_seq(c->inv);
    if (c->inv_seen && seq == c->inv_seq) {
        return;
    }
    c->inv_seen = true;
    c->inv_seq = seq;
    ct_core_set_vmmap(c->core, ct_vmmap_from_inventory(c->inv));

    /* Datapath types are only in the snapshot; topology changes are
     * rare. */
    c->has_netdev = false;
    snap = inventory_to_json(c->inv);
    json_array_foreach (json_object_get(snap, "bridges"), i, bridge) {
        const char *dp = json_string_value(json_object_get(bridge,
                                                           "datapath_type"));

        if (dp && !strcmp(dp, "netdev")) {
            c->has_netdev = true;
        }
    }
    json_decref(snap);
}

void
conntrack_run(struct conntrack *c, uint64_t now_ms)
{
    uint64_t mono = vnm_time_mono_ms();

    if (!c) {
        return;
    }
    inventory_check(c);
    if (mono - c->last_dump_mono >= (uint64_t) c->cfg.dump_ms) {
        if (c->kernel_up) {
            kernel_dump(c);
        } else {
            c->last_dump_mono = mono;
            kernel_open(c);
        }
    }
    if (!ovs_wanted(c)) {
        if (c->ovs_polled || c->ovs_failures) {
            ct_core_drop_source(c->core, CT_SRC_OVS, now_ms);
            c->ovs_polled = false;
            c->ovs_ok = false;
            c->ovs_failures = 0;
        }
    } else if (!ovs_ct_busy(c->ovs)
               && (!c->last_poll_mono
                   || mono - c->last_poll_mono
                      >= (uint64_t) c->cfg.dump_ms)) {
        c->last_poll_mono = mono;
        ovs_ct_request(c->ovs, ovs_reply_cb, c);
    }
    ct_core_tick(c->core);
    ct_core_write(c->core, c->redis, now_ms);
}

struct conntrack *
conntrack_create(const struct conntrack_config *cfg, struct event_base *base,
                 struct vnm_redis *redis, const char *host,
                 const struct inventory *inv, const char *ovs_rundir)
{
    struct conntrack *c;

    if (!cfg->enabled) {
        return NULL;
    }
    c = xzalloc(sizeof *c);
    c->cfg = *cfg;
    c->base = base;
    c->redis = redis;
    c->inv = inv;
    c->core = ct_core_create(host, (size_t) cfg->max, (size_t) cfg->events);
    c->ovs = ovs_ct_create(base, ovs_rundir);
    c->resync = evtimer_new(base, resync_cb, c);
    c->last_dump_mono = vnm_time_mono_ms();
    kernel_open(c);
    return c;
}

void
conntrack_destroy(struct conntrack *c)
{
    if (!c) {
        return;
    }
    event_free(c->resync);
    kernel_close(c);
    ovs_ct_destroy(c->ovs);
    ct_core_destroy(c->core);
    free(c);
}

void
conntrack_status(const struct conntrack *c, json_t *status)
{
    static const char *const modes[] = { "off", "on", "auto" };
    struct ct_core_stats s;

    if (!c) {
        return;
    }
    ct_core_get_stats(c->core, &s);
    json_object_set_new(status, "conntrack", json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
        " s:{s:b, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
        " s:{s:s, s:b, s:b, s:I, s:I, s:I, s:I}}",
        "connections", (json_int_t) s.n_connections,
        "entries", (json_int_t) s.n_entries,
        "max", (json_int_t) c->cfg.max,
        "duplicates", (json_int_t) s.n_duplicates,
        "over_cap", (json_int_t) s.n_over_cap,
        "new", (json_int_t) s.n_new,
        "destroyed", (json_int_t) s.n_destroyed,
        "swept", (json_int_t) s.n_swept,
        "events_dropped", (json_int_t) s.n_events_dropped,
        "vms", (json_int_t) ct_vmmap_n_vms(ct_core_vmmap(c->core)),
        "tenants", (json_int_t) ct_vmmap_n_tenants(ct_core_vmmap(c->core)),
        "kernel",
        "available", c->kernel_up,
        "accounting", c->accounting,
        "timestamps", c->timestamps,
        "entries", (json_int_t) s.n_by_source[CT_SRC_KERNEL],
        "events", (json_int_t) (c->n_events[0] + c->n_events[1]
                                + c->n_events[2]),
        "lost_events", (json_int_t) c->n_lost,
        "resyncs", (json_int_t) c->n_resyncs,
        "dumps", (json_int_t) c->n_dumps,
        "dump_errors", (json_int_t) c->n_dump_errors,
        "open_errors", (json_int_t) c->n_open_errors,
        "new_events", (json_int_t) c->n_events[CT_EV_NEW],
        "ovs",
        "mode", modes[c->cfg.ovs],
        "active", ovs_wanted(c),
        "ok", c->ovs_ok,
        "entries", (json_int_t) s.n_by_source[CT_SRC_OVS],
        "polls", (json_int_t) c->n_polls,
        "errors", (json_int_t) c->n_poll_errors,
        "bad_lines", (json_int_t) c->n_bad_lines));
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flow table: see flow-table.h for what it does.  Here is how.
 *
 * Entries live in a chained hash table (a power-of-two bucket array that
 * doubles when flows outnumber buckets, up to one bucket per flow the caps
 * allow, and never past the memory cap) and on three intrusive
 * doubly-linked lists each:
 *   - 'lru': one list per eviction/timeout class (enum ft_class), in order of
 *     last frame: moved to the tail on every frame, so that the head is both
 *     the next to time out and the first eviction candidate of its class;
 *   - 'active': all flows in order of incarnation start (active timeout);
 *   - 'report': flows that have had their first record (or that wait for
 *     none: 'first_update_ms' 0) in order of last record (UPDATE records);
 *     until then, 'fresh' holds them by incarnation start, through the
 *     same link (a flow is on one of the two lists).
 * The table's clock never goes backwards, so each list stays sorted by its
 * key and expiry only looks at list heads.
 *
 * One-way flows (ARP, ND, DHCP; see make_key()) and tunnelled flows carry
 * a struct ft_extra after their entry (and its classifier state): the
 * sender's address-protocol details, the real UDP ports of a DHCP flow, and
 * the tunnel carrier's outer addresses.  Whether an entry has one follows
 * from its key, so other flows pay nothing for it.
 */
#include <config.h>

#include "ovs-ext/flow-table.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/util.h"
#include "ovs-ext/classify-ndpi.h"
#include "ovs-ext/decode.h"
#include "vnmon/flow.h"

VNM_LOG_MODULE(flow_table);

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define IP_PROTO_ICMPV6 58

#define ETH_TYPE_ARP 0x0806

/* One-way flows leave probation at this many frames. */
#define PROMOTE_PACKETS 8

/* Probation flows are evicted before established ones while they are at
 * least 1/PROBATION_SHARE of the table. */
#define PROBATION_SHARE 8

/* The fragment map: slots (a power of 2) and how long a slot stays valid
 * after the datagram's last fragment. */
#define FRAG_SLOTS 512
#define FRAG_TIMEOUT_MS 30000

/* Hash buckets: how many at first, and at most. */
#define MIN_BUCKETS 1024
#define MAX_BUCKETS (1u << 28)

/* Record ids: the worker id above ID_BITS bits of counter. */
#define ID_BITS 48

/* A link in an intrusive circular doubly-linked list with a sentinel. */
struct ft_node {
    struct ft_node *prev, *next; /* Neighbours, or the sentinel. */
};

/* Eviction and timeout classes: an entry is on the 'lru' list of one. */
enum ft_class {
    FT_CLOSED,                  /* TCP after FIN both ways or RST. */
    FT_NEW_TCP,                 /* Probation: TCP unanswered, few frames. */
    FT_NEW,                     /* Probation: other one-way, few frames. */
    FT_ONEWAY_TCP,              /* TCP unanswered, many frames. */
    FT_EST,                     /* Two-way, or other one-way, many frames. */
    FT_N_CLASSES
};

/* One-way flow kinds ('oneway' of struct ft_key). */
enum ft_oneway {
    FT_TWO_WAY = 0,             /* A bidirectional key. */
    FT_ONEWAY_ARP,              /* ARP (decoded, op != 0). */
    FT_ONEWAY_ND,               /* ICMPv6 133..137. */
    FT_ONEWAY_DHCP,             /* UDP with a port in 67, 68, 546, 547. */
};

/* A flow key.  Bidirectional keys are canonical: 'addr[0]'/'port[0]' is
 * the lower end.  One-way keys ('oneway' != 0) are directional: side 0 is
 * the sender, 'port' holds the ingress port id and a discriminator (see
 * make_key()).  Padding is explicit and zero, so keys compare and hash as
 * bytes. */
struct ft_key {
    uint8_t addr[2][16];        /* IP addresses (ARP: sender and target
                                 * protocol addresses), or MACs if 'family'
                                 * is 0 and 'oneway' is not ARP. */
    uint16_t port[2];           /* L4 ports or ICMP echo id, host order;
                                 * one-way: port id, discriminator. */
    uint32_t vni;               /* Tunnel VNI or GRE key, 0 if none. */
    uint16_t vid[VNM_MAX_VLAN_TAGS]; /* VLAN IDs, outermost first. */
    uint16_t eth_type;          /* Innermost EtherType. */
    uint8_t ip_proto;           /* IP protocol, 0 if not IP. */
    uint8_t family;             /* 4, 6, or 0 for non-IP (ARP too). */
    uint8_t n_vlan;             /* Valid entries in 'vid'. */
    uint8_t tunnel;             /* enum decode_tunnel. */
    uint8_t oneway;             /* enum ft_oneway. */
    uint8_t port_hi;            /* One-way: bits 16..23 of the port id. */
};

/* What identifies the datagram of a fragment: the fragment map's key. */
struct ft_frag_key {
    uint8_t src[16], dst[16];   /* IP addresses. */
    uint32_t frag_id;           /* IPv4 or IPv6 fragment id. */
    uint32_t vni;               /* Context, as in struct ft_key. */
    uint16_t vid[VNM_MAX_VLAN_TAGS]; /* Context, as in struct ft_key. */
    uint8_t ip_proto;           /* IP protocol. */
    uint8_t family;             /* 4 or 6. */
    uint8_t n_vlan;             /* Context, as in struct ft_key. */
    uint8_t tunnel;             /* Context, as in struct ft_key. */
};

/* A fragment map slot: a datagram whose first fragment went to the flow
 * with key 'flow', sent by its side 'side'. */
struct ft_frag {
    struct ft_frag_key key;     /* The datagram. */
    struct ft_key flow;         /* Its flow. */
    uint64_t ts_ms;             /* Last fragment seen; 0: slot free. */
    uint8_t side;               /* Key side of the datagram's sender. */
};

/* One direction of a flow: what one side (of the key) sent. */
struct ft_side {
    uint64_t packets;           /* In this incarnation. */
    uint64_t bytes;             /* In this incarnation. */
    uint32_t port_id;           /* Ingress port of its first frame. */
    uint8_t mac[6];             /* Source MAC of its first frame. */
    uint8_t tcp_flags;          /* OR of TCP flags, this incarnation. */
    uint8_t fin;                /* Sent a FIN (ever). */
    uint8_t has_icmp;           /* Sent ICMP/ICMPv6, this incarnation... */
    uint8_t icmp_type;          /* ...whose first message had this type */
    uint8_t icmp_code;          /* ...and code. */
};

/* What one-way and tunnelled flows keep beyond their entry (see the file
 * comment). */
struct ft_extra {
    struct vnm_flow_ctl ctl;    /* One-way: what the sender (side 0) sent of
                                 * ARP, ND and DHCP, this incarnation (the
                                 * ICMP members are in struct ft_side). */
    struct vnm_flow_outer outer; /* Tunnelled: carrier of the first frame. */
    uint16_t port[2];           /* DHCP: the first frame's UDP source and
                                 * destination ports. */
};

/* Entry flags. */
enum {
    FT_SEEN0 = 1 << 0,          /* Side 0 has sent (ever). */
    FT_SEEN1 = 1 << 1,          /* Side 1 has sent (ever). */
    FT_RST = 1 << 2,            /* A RST was seen. */
    FT_PROMOTED = 1 << 3,       /* Reached PROMOTE_PACKETS frames. */
    FT_DIRTY = 1 << 4,          /* Frames since the last record. */
    FT_FEEDING = 1 << 5,        /* nDPI wants more frames. */
    FT_ACKED = 1 << 6,          /* TCP: an ACK was seen (ever). */
    FT_TICK = 1 << 7,           /* On 'bw_list': frames this second. */
};

/* A flow.  What every frame touches comes first (the first three cache
 * lines). */
struct ft_entry {
    struct ft_entry *hash_next; /* In a bucket's chain. */
    uint32_t hash;              /* Hash of 'key'. */
    uint8_t cls;                /* enum ft_class. */
    uint8_t initiator;          /* Key side of the initiator. */
    uint8_t flags;              /* FT_*. */
    struct ft_key key;          /* What identifies the flow. */
    struct ft_node lru;         /* In the list of class 'cls'. */
    uint64_t first_ms;          /* First frame of this incarnation. */
    uint64_t last_ms;           /* Last frame (ever). */
    struct ft_side side[2];     /* Indexed like 'key.addr'. */
    uint64_t id;                /* Record id of this incarnation. */
    uint64_t start_ms;          /* Start of this incarnation. */
    uint64_t report_ms;         /* Last record, or start. */
    struct ft_node active;      /* In 'active', by 'start_ms'. */
    struct ft_node report;      /* In 'reports', by 'report_ms', or in
                                 * 'fresh', by 'start_ms'. */
    struct vnm_vlan_tag vlan[VNM_MAX_VLAN_TAGS]; /* Of the first frame. */
    struct ft_node tick;        /* In 'bw_list' while FT_TICK. */
    uint64_t bw_packets[2];     /* Per key side, this second (bw_sec). */
    uint64_t bw_bytes[2];
    max_align_t classify[];     /* classifier_flow_size() bytes if the
                                 * table classifies. */
};

/* A flow table (see flow-table.h). */
struct flow_table {
    struct flow_table_config cfg; /* As given to flow_table_create(). */
    struct classifier *classifier; /* NULL if not classifying. */
    flow_record_func *record;   /* Gets every record, with 'aux'. */
    flow_resolve_func *resolve; /* Names ingress ports, or NULL. */
    void *aux;                  /* For 'record' and 'resolve'. */

    uint64_t sip_key[2];        /* SipHash key. */
    struct ft_entry **buckets;  /* Chains of entries by hash. */
    uint32_t mask;              /* Buckets - 1. */
    uint32_t max_buckets;       /* For the most flows the caps allow. */

    struct ft_node lists[FT_N_CLASSES]; /* 'lru' lists, by last frame. */
    uint32_t n_class[FT_N_CLASSES];     /* Entries on each. */
    uint32_t timeout[FT_N_CLASSES];     /* Idle timeout of each, ms. */
    struct ft_node active;      /* Entries by 'start_ms'. */
    struct ft_node reports;     /* Entries by 'report_ms', after their
                                 * first record. */
    struct ft_node fresh;       /* Entries by 'start_ms' that wait for their
                                 * first record ('first_update_ms'). */

    struct ft_frag *frags;      /* FRAG_SLOTS slots. */

    size_t entry_size;          /* Bytes of one entry. */
    size_t extra_offset;        /* Where an entry's struct ft_extra is. */
    uint64_t flow_memory;       /* Bytes of all entries. */
    uint64_t fixed_memory;      /* Table and fragment map. */
    uint64_t next_id;           /* Counter part of the next record id. */
    uint64_t clock;             /* Latest time seen, ms. */
    struct flow_table_stats stats; /* Counters. */
    struct vnm_flow rec;        /* Scratch for records (large). */

    /* Per-second accounting (flow_table_set_bw()). */
    flow_bw_func *bw;           /* Gets the deltas, with 'aux'; or NULL. */
    uint64_t bw_sec;            /* The second being accounted, 0: none. */
    struct ft_node bw_list;     /* Entries with frames in 'bw_sec'. */
    struct flow_bw_delta bw_delta; /* Scratch. */
};

static inline uint64_t
max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static inline uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t update_memory(struct flow_table *);

#define ENTRY_OF(NODE, MEMBER)                                          \
    ((struct ft_entry *) (void *) ((char *) (NODE)                      \
                                   - offsetof(struct ft_entry, MEMBER)))

/* Lists. */

static void
list_init(struct ft_node *list)
{
    list->prev = list->next = list;
}

static bool
list_is_empty(const struct ft_node *list)
{
    return list->next == list;
}

static void
list_remove(struct ft_node *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
}

static void
list_push_back(struct ft_node *list, struct ft_node *node)
{
    node->prev = list->prev;
    node->next = list;
    list->prev->next = node;
    list->prev = node;
}

static void
list_move_back(struct ft_node *list, struct ft_node *node)
{
    if (list->prev != node) {
        list_remove(node);
        list_push_back(list, node);
    }
}

/* Configuration. */

void
flow_table_config_init(struct flow_table_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_flows = FLOW_TABLE_DEFAULT_MAX_FLOWS;
    cfg->max_memory = FLOW_TABLE_DEFAULT_MAX_MEMORY;
    cfg->idle_timeout_ms = FLOW_TABLE_DEFAULT_IDLE_TIMEOUT_MS;
    cfg->tcp_closed_timeout_ms = FLOW_TABLE_DEFAULT_TCP_CLOSED_TIMEOUT_MS;
    cfg->syn_timeout_ms = FLOW_TABLE_DEFAULT_SYN_TIMEOUT_MS;
    cfg->active_timeout_ms = FLOW_TABLE_DEFAULT_ACTIVE_TIMEOUT_MS;
    cfg->update_interval_ms = FLOW_TABLE_DEFAULT_UPDATE_INTERVAL_MS;
    cfg->first_update_ms = FLOW_TABLE_DEFAULT_FIRST_UPDATE_MS;
    cfg->classify = true;
}

struct flow_table *
flow_table_create(const struct flow_table_config *cfg,
                  struct classifier *classifier, flow_record_func *record,
                  flow_resolve_func *resolve, void *aux)
{
    struct flow_table *t;
    uint64_t most;

    vnm_assert(cfg->max_flows > 0 && cfg->max_memory > 0);
    vnm_assert(cfg->idle_timeout_ms > 0 && cfg->tcp_closed_timeout_ms > 0
               && cfg->syn_timeout_ms > 0);
    vnm_assert(record);

    t = xzalloc(sizeof *t);
    t->cfg = *cfg;
    t->classifier = cfg->classify ? classifier : NULL;
    t->record = record;
    t->resolve = resolve;
    t->aux = aux;
    vnm_hash_random_key(t->sip_key, "flow table");

    t->entry_size = sizeof(struct ft_entry);
    if (t->classifier) {
        t->entry_size += classifier_flow_size();
    }
    t->extra_offset = ((t->entry_size + _Alignof(struct ft_extra) - 1)
                       / _Alignof(struct ft_extra)
                       * _Alignof(struct ft_extra));

    /* Buckets grow with the flows, up to one per flow the caps allow. */
    most = min_u64(cfg->max_flows, cfg->max_memory / t->entry_size);
    for (t->max_buckets = MIN_BUCKETS;
         t->max_buckets < most && t->max_buckets < MAX_BUCKETS;
         t->max_buckets <<= 1) {
        continue;
    }
    t->buckets = xcalloc(MIN_BUCKETS, sizeof *t->buckets);
    t->mask = MIN_BUCKETS - 1;

    for (int c = 0; c < FT_N_CLASSES; c++) {
        list_init(&t->lists[c]);
    }
    t->timeout[FT_CLOSED] = cfg->tcp_closed_timeout_ms;
    t->timeout[FT_NEW_TCP] = cfg->syn_timeout_ms;
    t->timeout[FT_ONEWAY_TCP] = cfg->syn_timeout_ms;
    t->timeout[FT_NEW] = cfg->idle_timeout_ms;
    t->timeout[FT_EST] = cfg->idle_timeout_ms;
    list_init(&t->active);
    list_init(&t->reports);
    list_init(&t->fresh);
    list_init(&t->bw_list);

    t->frags = xcalloc(FRAG_SLOTS, sizeof *t->frags);
    t->fixed_memory = sizeof *t + FRAG_SLOTS * sizeof *t->frags;
    t->next_id = 1;

    update_memory(t);
    if (t->stats.memory + 1024 * t->entry_size > cfg->max_memory) {
        VNM_WARN("flow table %"PRIu32": max_memory %"PRIu64" leaves room for "
                 "fewer than 1024 flows of %zu bytes beyond %"PRIu64" fixed "
                 "bytes", cfg->worker_id, cfg->max_memory, t->entry_size,
                 t->stats.memory);
    }
    return t;
}

static void
free_entry(struct flow_table *t, struct ft_entry *e)
{
    if (t->classifier) {
        classify_flow_cleanup(e->classify);
    }
    free(e);
}

void
flow_table_destroy(struct flow_table *t)
{
    struct ft_node *node, *next;

    if (!t) {
        return;
    }
    for (node = t->active.next; node != &t->active; node = next) {
        next = node->next;
        free_entry(t, ENTRY_OF(node, active));
    }
    free(t->frags);
    free(t->buckets);
    free(t);
}

/* Memory. */

/* The table's memory now, as the stats count it. */
static uint64_t
memory_of(const struct flow_table *t, uint64_t *ndpi_memory)
{
    *ndpi_memory = t->classifier ? classifier_heap_size(t->classifier) : 0;
    return (t->fixed_memory
            + ((uint64_t) t->mask + 1) * sizeof *t->buckets
            + t->flow_memory + *ndpi_memory);
}

/* Updates the memory stats.  Returns the memory now. */
static uint64_t
update_memory(struct flow_table *t)
{
    struct flow_table_stats *s = &t->stats;

    s->memory = memory_of(t, &s->ndpi_memory);
    s->max_memory_seen = max_u64(s->max_memory_seen, s->memory);
    return s->memory;
}

/* Doubles the buckets, if the table has more flows than buckets and room
 * for more buckets within its caps. */
static void
maybe_grow(struct flow_table *t)
{
    uint32_t n = t->mask + 1;
    struct ft_entry **buckets;

    if (t->stats.n_flows <= n || n >= t->max_buckets
        || (update_memory(t) + (uint64_t) n * sizeof *buckets
            > t->cfg.max_memory)) {
        return;
    }
    buckets = xcalloc(2 * (size_t) n, sizeof *buckets);
    for (uint32_t i = 0; i < n; i++) {
        struct ft_entry *e, *next;

        for (e = t->buckets[i]; e; e = next) {
            struct ft_entry **b = &buckets[e->hash & (2 * n - 1)];

            next = e->hash_next;
            e->hash_next = *b;
            *b = e;
        }
    }
    free(t->buckets);
    t->buckets = buckets;
    t->mask = 2 * n - 1;
    update_memory(t);
}

/* Keys. */

static void
key_context(struct ft_key *key, const struct decoded *d)
{
    key->n_vlan = (d->n_vlan < VNM_MAX_VLAN_TAGS
                   ? d->n_vlan : VNM_MAX_VLAN_TAGS);
    for (int i = 0; i < key->n_vlan; i++) {
        key->vid[i] = d->vlan[i].tci & 0xfff;
    }
    key->tunnel = d->tunnel;
    key->vni = d->tunnel != DECODE_TUNNEL_NONE ? d->vni : 0;
    key->eth_type = d->eth_type;
}

static bool
is_ip(const struct decoded *d)
{
    return ((d->ip_version == 4 && d->src_ip.family == 4)
            || (d->ip_version == 6 && d->src_ip.family == 6));
}

static bool
is_dhcp_port(uint16_t port)
{
    return port == 67 || port == 68 || port == 546 || port == 547;
}

/* The one-way kind of the frame 'd' (see make_key()). */
static enum ft_oneway
oneway_of(const struct decoded *d)
{
    if (d->eth_type == ETH_TYPE_ARP && d->arp.op) {
        return FT_ONEWAY_ARP;
    }
    if (!is_ip(d) || !d->l4) {
        return FT_TWO_WAY;
    }
    if (d->ip_version == 6 && d->ip_proto == IP_PROTO_ICMPV6
        && d->icmp_type >= 133 && d->icmp_type <= 137) {
        return FT_ONEWAY_ND;
    }
    if (d->ip_proto == IP_PROTO_UDP
        && (is_dhcp_port(d->src_port) || is_dhcp_port(d->dst_port))) {
        return FT_ONEWAY_DHCP;
    }
    return FT_TWO_WAY;
}

/* What tells apart the one-way flows of one sender, port and address pair:
 * hashed with the table's key into a one-way key's discriminator. */
struct ft_disc {
    uint8_t src_mac[6];         /* Ethernet source. */
    uint8_t mac[6];             /* ARP: sender MAC; ND: link-layer option. */
    uint8_t target[16];         /* ND: target. */
    uint16_t code;              /* ARP: op; ND: type; DHCP: source port. */
    uint16_t port;              /* DHCP: destination port. */
};

/* Builds the one-way key of kind 'kind' of 'd', which entered on port
 * 'port_id', into 'key' (whose context is set).  The sender is side 0.
 * Addresses: IP source and destination (ARP: sender and target protocol
 * addresses, 'family' 0).  Ports: the ingress port id, so that frames of
 * two ports never share a flow, and a keyed 16-bit hash of what sets this
 * sender's flows apart (struct ft_disc: the Ethernet source, and the ARP op
 * and sender MAC; the ND type, target and link-layer option; the DHCP
 * ports), so that a frame that claims something else starts a flow of its
 * own (the record keeps its first frame's details). */
static void
make_oneway_key(const struct flow_table *t, const struct decoded *d,
                enum ft_oneway kind, uint32_t port_id, struct ft_key *key)
{
    struct ft_disc disc;

    memset(&disc, 0, sizeof disc);
    memcpy(disc.src_mac, d->src_mac, sizeof disc.src_mac);
    key->oneway = kind;
    if (kind == FT_ONEWAY_ARP) {
        memcpy(key->addr[0], d->arp.spa, sizeof d->arp.spa);
        memcpy(key->addr[1], d->arp.tpa, sizeof d->arp.tpa);
        disc.code = d->arp.op;
        memcpy(disc.mac, d->arp.sha, sizeof disc.mac);
    } else {
        size_t len = d->ip_version == 4 ? 4 : 16;

        key->family = d->ip_version;
        key->ip_proto = d->ip_proto;
        memcpy(key->addr[0], d->src_ip.a, len);
        memcpy(key->addr[1], d->dst_ip.a, len);
        if (kind == FT_ONEWAY_ND) {
            disc.code = d->icmp_type;
            memcpy(disc.target, d->nd.target, sizeof disc.target);
            if (d->icmp_type == 136 && d->nd.has_tll) {
                memcpy(disc.mac, d->nd.tll, sizeof disc.mac);
            } else if (d->icmp_type != 136 && d->nd.has_sll) {
                memcpy(disc.mac, d->nd.sll, sizeof disc.mac);
            }
        } else {
            disc.code = d->src_port;
            disc.port = d->dst_port;
        }
    }
    key->port[0] = (uint16_t) port_id;
    key->port_hi = (uint8_t) (port_id >> 16);
    key->port[1] = (uint16_t) vnm_siphash13(t->sip_key, &disc, sizeof disc);
}

/* Builds the flow key of 'd', which entered on port 'port_id', into 'key'.
 * Returns the key side of the frame's sender. */
static int
make_key(const struct flow_table *t, const struct decoded *d,
         uint32_t port_id, struct ft_key *key)
{
    uint8_t a[16] = { 0 }, b[16] = { 0 };
    uint16_t pa = 0, pb = 0;
    enum ft_oneway kind;
    int cmp;

    memset(key, 0, sizeof *key);
    key_context(key, d);
    kind = oneway_of(d);
    if (kind != FT_TWO_WAY) {
        make_oneway_key(t, d, kind, port_id, key);
        return 0;
    }
    if (is_ip(d)) {
        size_t len = d->ip_version == 4 ? 4 : 16;

        key->family = d->ip_version;
        key->ip_proto = d->ip_proto;
        memcpy(a, d->src_ip.a, len);
        memcpy(b, d->dst_ip.a, len);
        pa = d->src_port;
        pb = d->dst_port;
    } else {
        memcpy(a, d->src_mac, 6);
        memcpy(b, d->dst_mac, 6);
    }

    cmp = memcmp(a, b, sizeof a);
    if (!cmp) {
        cmp = (int) pa - (int) pb;
    }
    if (cmp <= 0) {
        memcpy(key->addr[0], a, sizeof a);
        memcpy(key->addr[1], b, sizeof b);
        key->port[0] = pa;
        key->port[1] = pb;
        return 0;
    } else {
        memcpy(key->addr[0], b, sizeof b);
        memcpy(key->addr[1], a, sizeof a);
        key->port[0] = pb;
        key->port[1] = pa;
        return 1;
    }
}

static uint32_t
hash_key(const struct flow_table *t, const struct ft_key *key)
{
    return (uint32_t) vnm_siphash13(t->sip_key, key, sizeof *key);
}

static struct ft_entry *
lookup(const struct flow_table *t, const struct ft_key *key, uint32_t hash)
{
    struct ft_entry *e;

    for (e = t->buckets[hash & t->mask]; e; e = e->hash_next) {
        if (e->hash == hash && !memcmp(&e->key, key, sizeof *key)) {
            return e;
        }
    }
    return NULL;
}

static bool
is_tcp(const struct ft_entry *e)
{
    return e->key.family && e->key.ip_proto == IP_PROTO_TCP;
}

/* The struct ft_extra of 'e', which has one. */
static struct ft_extra *
extra_of(const struct flow_table *t, const struct ft_entry *e)
{
    return (struct ft_extra *) (void *) ((char *) e + t->extra_offset);
}

/* The bytes of an entry with key 'key'. */
static size_t
entry_size_of(const struct flow_table *t, const struct ft_key *key)
{
    return (key->oneway != FT_TWO_WAY || key->tunnel
            ? t->extra_offset + sizeof(struct ft_extra) : t->entry_size);
}

/* Records. */

/* The address of key side 's' of 'e' (family 0 for non-IP flows other than
 * ARP). */
static void
side_addr(const struct ft_entry *e, int s, struct vnm_addr *ip)
{
    if (e->key.family) {
        ip->family = e->key.family;
        memcpy(ip->a, e->key.addr[s], e->key.family == 4 ? 4 : 16);
    } else if (e->key.oneway == FT_ONEWAY_ARP) {
        ip->family = 4;
        memcpy(ip->a, e->key.addr[s], 4);
    }
}

/* The L4 port of key side 's' of 'e' for its record. */
static uint16_t
side_port(const struct flow_table *t, const struct ft_entry *e, int s)
{
    switch ((enum ft_oneway) e->key.oneway) {
    case FT_TWO_WAY:
        return e->key.port[s];
    case FT_ONEWAY_DHCP:
        return extra_of(t, e)->port[s];
    case FT_ONEWAY_ARP:
    case FT_ONEWAY_ND:
    default:
        return 0;
    }
}

/* Fills 'ctl' with what key side 's' of 'e' sent of the address
 * protocols. */
static void
fill_ctl(const struct flow_table *t, const struct ft_entry *e, int s,
         struct vnm_flow_ctl *ctl)
{
    const struct ft_side *side = &e->side[s];

    if (e->key.oneway != FT_TWO_WAY && s == 0) {
        *ctl = extra_of(t, e)->ctl;
    }
    ctl->has_icmp = side->has_icmp;
    ctl->icmp_type = side->icmp_type;
    ctl->icmp_code = side->icmp_code;
}

static void
fill_end(const struct flow_table *t, const struct ft_entry *e, int s,
         struct vnm_flow_end *end)
{
    const struct ft_side *side = &e->side[s];

    side_addr(e, s, &end->ip);
    end->port = side_port(t, e, s);
    memcpy(end->mac, side->mac, sizeof end->mac);
    end->tcp_flags = side->tcp_flags;
    end->packets = side->packets;
    end->bytes = side->bytes;
    end->in.ofport = -1;
    if (side->port_id && t->resolve) {
        t->resolve(t->aux, side->port_id, &end->in);
    }
}

static bool
has_packets(const struct ft_entry *e)
{
    return e->side[0].packets || e->side[1].packets;
}

static void
emit(struct flow_table *t, struct ft_entry *e, enum vnm_flow_event event)
{
    struct vnm_flow *r = &t->rec;

    memset(r, 0, sizeof *r);
    r->id = e->id;
    r->first_ms = e->first_ms;
    r->last_ms = e->last_ms;
    r->event = event;
    r->class = VNM_FLOW_UNKNOWN;
    r->eth_type = e->key.eth_type;
    r->ip_proto = e->key.ip_proto;
    r->n_vlan_tags = e->key.n_vlan;
    memcpy(r->vlan, e->vlan, sizeof r->vlan);
    r->tunnel_type = e->key.tunnel;
    r->vni = e->key.vni;
    fill_end(t, e, e->initiator, &r->src);
    fill_end(t, e, !e->initiator, &r->dst);
    fill_ctl(t, e, e->initiator, &r->src_ctl);
    fill_ctl(t, e, !e->initiator, &r->dst_ctl);
    if (e->key.tunnel) {
        r->outer = extra_of(t, e)->outer;
    }
    if (t->classifier) {
        classify_result(t->classifier, e->classify, r);
    }
    e->flags &= ~FT_DIRTY;
    t->record(t->aux, r);
}

static uint64_t
new_id(struct flow_table *t)
{
    uint64_t counter = t->next_id++ & ((UINT64_C(1) << ID_BITS) - 1);

    return ((uint64_t) t->cfg.worker_id << ID_BITS) | counter;
}

/* Per-second accounting. */

/* Hands the frames 'e' had in second 'bw_sec' to the bw callback and takes
 * 'e' off 'bw_list'. */
static void
bw_emit(struct flow_table *t, struct ft_entry *e)
{
    struct flow_bw_delta *d = &t->bw_delta;

    memset(d, 0, sizeof *d);
    d->sec = t->bw_sec;
    for (int k = 0; k < 2; k++) {
        int s = k ? !e->initiator : e->initiator;
        const struct ft_side *side = &e->side[s];

        d->port[k] = side->port_id;
        memcpy(d->mac[k], side->mac, sizeof d->mac[k]);
        side_addr(e, s, &d->ip[k]);
        d->packets[k] = e->bw_packets[s];
        d->bytes[k] = e->bw_bytes[s];
        e->bw_packets[s] = e->bw_bytes[s] = 0;
    }
    if (t->classifier && e->key.family) {
        classify_app_name(t->classifier, e->classify, d->app,
                          sizeof d->app);
    }
    list_remove(&e->tick);
    e->flags &= ~FT_TICK;
    t->stats.n_bw_deltas++;
    t->bw(t->aux, d);
}

void
flow_table_tick(struct flow_table *t, uint64_t sec)
{
    if (!t->bw || sec <= t->bw_sec) {
        return;
    }
    while (!list_is_empty(&t->bw_list)) {
        bw_emit(t, ENTRY_OF(t->bw_list.next, tick));
    }
    t->bw_sec = sec;
}

uint64_t
flow_table_bw_second(const struct flow_table *t)
{
    return t->bw_sec;
}

void
flow_table_set_bw(struct flow_table *t, flow_bw_func *bw)
{
    t->bw = bw;
}

/* Counts a frame of 'len' bytes sent at 'ts_ms' by key side 's' of 'e' in
 * the per-second accounting. */
static void
bw_account(struct flow_table *t, struct ft_entry *e, int s, uint32_t len,
           uint64_t ts_ms)
{
    uint64_t sec = ts_ms / 1000;

    if (sec > t->bw_sec) {
        flow_table_tick(t, sec);
    } else if (sec < t->bw_sec) {
        t->stats.n_bw_late++;   /* Its second is closed: counts in this. */
    }
    if (!(e->flags & FT_TICK)) {
        e->flags |= FT_TICK;
        list_push_back(&t->bw_list, &e->tick);
    }
    e->bw_packets[s]++;
    e->bw_bytes[s] += len;
}

/* Removes 'e' from the table and frees it. */
static void
remove_entry(struct flow_table *t, struct ft_entry *e)
{
    struct ft_entry **pp;

    if (e->flags & FT_TICK) {
        bw_emit(t, e);
    }

    for (pp = &t->buckets[e->hash & t->mask]; *pp != e;
         pp = &(*pp)->hash_next) {
        continue;
    }
    *pp = e->hash_next;
    list_remove(&e->lru);
    list_remove(&e->active);
    list_remove(&e->report);
    t->n_class[e->cls]--;
    t->stats.n_flows--;
    t->flow_memory -= entry_size_of(t, &e->key);
    free_entry(t, e);
}

/* Ends 'e' with an 'event' record (none if this incarnation saw no frame)
 * and removes it. */
static void
end_flow(struct flow_table *t, struct ft_entry *e, enum vnm_flow_event event)
{
    if (e->flags & FT_FEEDING) {
        classify_giveup(t->classifier, e->classify);
        e->flags &= ~FT_FEEDING;
        t->stats.n_classified++;
    }
    if (has_packets(e)) {
        emit(t, e, event);
    }
    t->stats.n_ended++;
    remove_entry(t, e);
}

/* Expiry. */

static enum vnm_flow_event
timeout_event(enum ft_class c)
{
    return c == FT_CLOSED ? VNM_FLOW_END_TCP : VNM_FLOW_END_IDLE;
}

/* Ends the flows of every class list timed out at the table's clock. */
static void
expire_idle(struct flow_table *t)
{
    for (int c = 0; c < FT_N_CLASSES; c++) {
        struct ft_node *list = &t->lists[c];

        while (!list_is_empty(list)) {
            struct ft_entry *e = ENTRY_OF(list->next, lru);

            if (e->last_ms + t->timeout[c] > t->clock) {
                break;
            }
            end_flow(t, e, timeout_event(c));
        }
    }
}

/* Puts 'e', whose incarnation starts, on the list of its next record:
 * 'fresh' if it gets a first UPDATE record, else 'reports'. */
static void
schedule_first_record(struct flow_table *t, struct ft_entry *e)
{
    list_push_back(t->cfg.first_update_ms && t->cfg.update_interval_ms
                   ? &t->fresh : &t->reports, &e->report);
}

/* Ends the incarnation of 'e' (END_ACTIVE) and starts the next in place. */
static void
restart(struct flow_table *t, struct ft_entry *e)
{
    if (has_packets(e)) {
        emit(t, e, VNM_FLOW_END_ACTIVE);
        t->stats.n_ended++;
        t->stats.n_created++;
        e->id = new_id(t);
        for (int s = 0; s < 2; s++) {
            e->side[s].packets = 0;
            e->side[s].bytes = 0;
            e->side[s].tcp_flags = 0;
            e->side[s].has_icmp = 0;
            e->side[s].icmp_type = e->side[s].icmp_code = 0;
        }
        if (e->key.oneway != FT_TWO_WAY) {
            memset(&extra_of(t, e)->ctl, 0, sizeof extra_of(t, e)->ctl);
        }
        e->first_ms = 0;
    }
    e->start_ms = e->report_ms = t->clock;
    e->flags &= ~FT_DIRTY;
    list_move_back(&t->active, &e->active);
    list_remove(&e->report);
    schedule_first_record(t, e);
}

void
flow_table_expire(struct flow_table *t, uint64_t now_ms)
{
    t->clock = max_u64(t->clock, now_ms);

    expire_idle(t);

    if (t->cfg.active_timeout_ms) {
        while (!list_is_empty(&t->active)) {
            struct ft_entry *e = ENTRY_OF(t->active.next, active);

            if (e->start_ms + t->cfg.active_timeout_ms > t->clock) {
                break;
            }
            restart(t, e);
        }
    }

    if (t->cfg.update_interval_ms) {
        /* First records, then the flows that had theirs: a flow moved from
         * 'fresh' goes to the tail of 'reports', whose order it keeps. */
        while (!list_is_empty(&t->fresh)) {
            struct ft_entry *e = ENTRY_OF(t->fresh.next, report);

            if (e->start_ms + t->cfg.first_update_ms > t->clock) {
                break;
            }
            if (e->flags & FT_DIRTY) {
                emit(t, e, VNM_FLOW_UPDATE);
                t->stats.n_updates++;
            }
            e->report_ms = t->clock;
            list_remove(&e->report);
            list_push_back(&t->reports, &e->report);
        }
        while (!list_is_empty(&t->reports)) {
            struct ft_entry *e = ENTRY_OF(t->reports.next, report);

            if (e->report_ms + t->cfg.update_interval_ms > t->clock) {
                break;
            }
            if (e->flags & FT_DIRTY) {
                emit(t, e, VNM_FLOW_UPDATE);
                t->stats.n_updates++;
            }
            e->report_ms = t->clock;
            list_move_back(&t->reports, &e->report);
        }
    }
}

void
flow_table_flush(struct flow_table *t, uint64_t now_ms)
{
    t->clock = max_u64(t->clock, now_ms);
    while (!list_is_empty(&t->active)) {
        struct ft_entry *e = ENTRY_OF(t->active.next, active);

        /* A TCP flow already closed ended by TCP, whatever the clock. */
        end_flow(t, e, (e->cls == FT_CLOSED ? VNM_FLOW_END_TCP
                        : VNM_FLOW_END_SHUTDOWN));
    }
}

/* Eviction. */

/* The least recently seen flow of class 'c' other than 'exclude', or
 * NULL. */
static struct ft_entry *
class_head(struct flow_table *t, enum ft_class c,
           const struct ft_entry *exclude)
{
    struct ft_node *node = t->lists[c].next;

    if (node != &t->lists[c] && ENTRY_OF(node, lru) == exclude) {
        node = node->next;
    }
    return node != &t->lists[c] ? ENTRY_OF(node, lru) : NULL;
}

/* The less recently seen of 'a' and 'b' (either may be NULL). */
static struct ft_entry *
older(struct ft_entry *a, struct ft_entry *b)
{
    if (!a || !b) {
        return a ? a : b;
    }
    return b->last_ms < a->last_ms ? b : a;
}

/* The flow to evict next (see flow-table.h), never 'exclude'; NULL if
 * there is none. */
static struct ft_entry *
pick_victim(struct flow_table *t, const struct ft_entry *exclude)
{
    struct ft_entry *closed, *probation, *established;
    uint64_t n_probation;

    closed = class_head(t, FT_CLOSED, exclude);
    if (closed) {
        return closed;
    }
    probation = older(class_head(t, FT_NEW_TCP, exclude),
                      class_head(t, FT_NEW, exclude));
    established = older(class_head(t, FT_ONEWAY_TCP, exclude),
                        class_head(t, FT_EST, exclude));
    n_probation = (uint64_t) t->n_class[FT_NEW_TCP] + t->n_class[FT_NEW];
    if (probation
        && (!established
            || n_probation * PROBATION_SHARE >= t->stats.n_flows)) {
        return probation;
    }
    return established;
}

/* Evicts flows other than 'exclude' until the table has room for
 * 'n_new' (0 or 1) more flows, of 'need' bytes in all, within both caps. */
static void
make_room(struct flow_table *t, const struct ft_entry *exclude, int n_new,
          size_t need)
{
    bool expired = false;

    while (t->stats.n_flows + n_new > t->cfg.max_flows
           || update_memory(t) + need > t->cfg.max_memory) {
        struct ft_entry *victim;

        if (!expired) {
            /* Timed-out flows go first, with their proper records. */
            expire_idle(t);
            expired = true;
            continue;
        }
        victim = pick_victim(t, exclude);
        if (!victim) {
            break;
        }
        t->stats.n_evicted++;
        if (victim->cls == FT_NEW_TCP || victim->cls == FT_NEW) {
            t->stats.n_evicted_probation++;
        }
        end_flow(t, victim, VNM_FLOW_END_EVICTED);
    }
}

/* Frames. */

/* The class 'e' belongs in now.  A one-way TCP flow counts as answered
 * once it carries an ACK: the answer went by unseen (asymmetric capture). */
static enum ft_class
class_of(const struct ft_entry *e)
{
    bool tcp = is_tcp(e);
    bool unanswered;

    if (tcp && ((e->flags & FT_RST) || (e->side[0].fin && e->side[1].fin))) {
        return FT_CLOSED;
    }
    if ((e->flags & (FT_SEEN0 | FT_SEEN1)) == (FT_SEEN0 | FT_SEEN1)) {
        return FT_EST;
    }
    unanswered = tcp && !(e->flags & FT_ACKED);
    if (e->flags & FT_PROMOTED) {
        return unanswered ? FT_ONEWAY_TCP : FT_EST;
    }
    return unanswered ? FT_NEW_TCP : FT_NEW;
}

/* Puts 'e' at the tail of the list of the class it now belongs to. */
static void
reclass(struct flow_table *t, struct ft_entry *e)
{
    enum ft_class c = class_of(e);

    if (c != e->cls) {
        t->n_class[e->cls]--;
        t->n_class[c]++;
        e->cls = c;
        list_remove(&e->lru);
        list_push_back(&t->lists[c], &e->lru);
    } else {
        list_move_back(&t->lists[c], &e->lru);
    }
}

static struct ft_entry *
new_flow(struct flow_table *t, const struct ft_key *key, uint32_t hash,
         const struct decoded *d, int sender)
{
    size_t size = entry_size_of(t, key);
    struct ft_entry *e;
    struct ft_entry **bucket;

    make_room(t, NULL, 1, size);

    e = xzalloc(size);
    e->key = *key;
    e->hash = hash;
    e->id = new_id(t);
    e->start_ms = e->report_ms = t->clock;
    e->initiator = sender;
    if (is_tcp(e)
        && (d->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
        e->initiator = !sender;
    }
    memcpy(e->vlan, d->vlan, key->n_vlan * sizeof e->vlan[0]);
    if (t->classifier && key->family) {
        e->flags |= FT_FEEDING;
    }
    if (key->tunnel) {
        struct vnm_flow_outer *o = &extra_of(t, e)->outer;

        o->src_ip = d->outer.src_ip;
        o->dst_ip = d->outer.dst_ip;
        o->src_port = d->outer.src_port;
        o->dst_port = d->outer.dst_port;
    }
    if (key->oneway == FT_ONEWAY_DHCP) {
        extra_of(t, e)->port[0] = d->src_port;
        extra_of(t, e)->port[1] = d->dst_port;
    }

    bucket = &t->buckets[hash & t->mask];
    e->hash_next = *bucket;
    *bucket = e;
    e->cls = class_of(e);
    t->n_class[e->cls]++;
    list_push_back(&t->lists[e->cls], &e->lru);
    list_push_back(&t->active, &e->active);
    schedule_first_record(t, e);

    t->stats.n_flows++;
    t->flow_memory += size;
    t->stats.n_created++;
    update_memory(t);
    maybe_grow(t);
    return e;
}

/* Notes in 'ctl' what the ARP frame 'd' says. */
static void
account_arp(struct vnm_flow_ctl *ctl, const struct decoded *d, bool first)
{
    const struct decode_arp *arp = &d->arp;

    if (first) {
        memcpy(ctl->arp_sha, arp->sha, sizeof ctl->arp_sha);
    }
    ctl->arp |= (arp->op == 1 ? VNM_ARP_REQUEST
                 : arp->op == 2 ? VNM_ARP_REPLY : 0);
    if (!memcmp(arp->spa, arp->tpa, sizeof arp->spa)) {
        ctl->arp |= VNM_ARP_GRATUITOUS;
    }
    if (memcmp(arp->sha, d->src_mac, sizeof arp->sha)) {
        ctl->arp |= VNM_ARP_SHA_MISMATCH;
    }
}

/* Notes in 'ctl' what the ND message 'd' (ICMPv6 133..137) says: its type,
 * and the flags, link-layer address and target of the first message that
 * has them. */
static void
account_nd(struct vnm_flow_ctl *ctl, const struct decoded *d)
{
    const struct decode_nd *nd = &d->nd;
    uint8_t type = d->icmp_type;
    uint8_t seen = ctl->nd;

    ctl->nd |= 1u << (type - 133);
    if ((type == 134 || type == 136)
        && !(seen & (VNM_ND_RA | VNM_ND_NA))) {
        ctl->nd_flags = nd->flags;
    }
    if (!ctl->has_nd_lladdr) {
        if (type == 136 && nd->has_tll) {
            ctl->has_nd_lladdr = 1;
            memcpy(ctl->nd_lladdr, nd->tll, sizeof ctl->nd_lladdr);
        } else if (type >= 133 && type <= 135 && nd->has_sll) {
            ctl->has_nd_lladdr = 1;
            memcpy(ctl->nd_lladdr, nd->sll, sizeof ctl->nd_lladdr);
        }
    }
    if (type >= 135
        && !(seen & (VNM_ND_NS | VNM_ND_NA | VNM_ND_REDIRECT))) {
        memcpy(ctl->nd_target, nd->target, sizeof ctl->nd_target);
    }
}

/* Notes what the frame 'd', sent by key side 's' of 'e', says of the
 * address protocols (ICMP, and for one-way flows ARP, ND, DHCP).  'first':
 * it is the first frame of this incarnation. */
static void
account_ctl(struct flow_table *t, struct ft_entry *e, const struct decoded *d,
            int s, bool first)
{
    struct ft_side *side = &e->side[s];
    struct vnm_flow_ctl *ctl;

    if (!side->has_icmp && d->l4 && is_ip(d)
        && (d->ip_proto == IP_PROTO_ICMP
            || d->ip_proto == IP_PROTO_ICMPV6)) {
        side->has_icmp = 1;
        side->icmp_type = d->icmp_type;
        side->icmp_code = d->icmp_code;
    }
    if (e->key.oneway == FT_TWO_WAY || s || d->is_later_fragment) {
        return;
    }
    ctl = &extra_of(t, e)->ctl;
    switch ((enum ft_oneway) e->key.oneway) {
    case FT_ONEWAY_ARP:
        if (d->eth_type == ETH_TYPE_ARP) {
            account_arp(ctl, d, first);
        }
        break;
    case FT_ONEWAY_ND:
        if (d->ip_proto == IP_PROTO_ICMPV6
            && d->icmp_type >= 133 && d->icmp_type <= 137) {
            account_nd(ctl, d);
        }
        break;
    case FT_ONEWAY_DHCP:
        if (d->dhcp_msg_type && d->dhcp_msg_type < 32) {
            ctl->dhcpv6 = d->is_dhcpv6;
            ctl->dhcp_types |= UINT32_C(1) << d->dhcp_msg_type;
        }
        break;
    case FT_TWO_WAY:
    default:
        break;
    }
}

/* Counts a frame of 'd' sent by key side 's' of 'e'. */
static void
account(struct flow_table *t, struct ft_entry *e, const struct decoded *d,
        int s, uint32_t port_id, uint64_t ts_ms)
{
    struct ft_side *side = &e->side[s];
    uint8_t seen = s ? FT_SEEN1 : FT_SEEN0;

    if (!(e->flags & seen)) {
        e->flags |= seen;
        side->port_id = port_id;
        memcpy(side->mac, d->src_mac, sizeof side->mac);
    }
    if (!has_packets(e)) {
        e->first_ms = t->clock;
    }
    account_ctl(t, e, d, s, !side->packets);
    side->packets++;
    side->bytes += d->wire_len;
    if (t->bw) {
        bw_account(t, e, s, d->wire_len, ts_ms);
    }
    e->last_ms = t->clock;
    e->flags |= FT_DIRTY;
    if (!(e->flags & FT_PROMOTED)
        && e->side[0].packets + e->side[1].packets >= PROMOTE_PACKETS) {
        e->flags |= FT_PROMOTED;
    }
    if (is_tcp(e) && !d->is_later_fragment) {
        side->tcp_flags |= d->tcp_flags;
        if (d->tcp_flags & TCP_FIN) {
            side->fin = 1;
        }
        if (d->tcp_flags & TCP_RST) {
            e->flags |= FT_RST;
        }
        if (d->tcp_flags & TCP_ACK) {
            e->flags |= FT_ACKED;
        }
    }
}

/* Fragments. */

static void
make_frag_key(const struct decoded *d, struct ft_frag_key *fk)
{
    struct ft_key ctx;
    size_t len = d->ip_version == 4 ? 4 : 16;

    memset(fk, 0, sizeof *fk);
    memset(&ctx, 0, sizeof ctx);
    key_context(&ctx, d);
    memcpy(fk->src, d->src_ip.a, len);
    memcpy(fk->dst, d->dst_ip.a, len);
    fk->frag_id = d->frag_id;
    fk->vni = ctx.vni;
    memcpy(fk->vid, ctx.vid, sizeof fk->vid);
    fk->ip_proto = d->ip_proto;
    fk->family = d->ip_version;
    fk->n_vlan = ctx.n_vlan;
    fk->tunnel = ctx.tunnel;
}

static struct ft_frag *
frag_slot(struct flow_table *t, const struct ft_frag_key *fk)
{
    uint64_t h = vnm_siphash13(t->sip_key, fk, sizeof *fk);

    return &t->frags[h & (FRAG_SLOTS - 1)];
}

/* Remembers that the datagram of first fragment 'd' went to 'e', sent by
 * its side 's'. */
static void
frag_remember(struct flow_table *t, const struct decoded *d,
              const struct ft_entry *e, int s)
{
    struct ft_frag_key fk;
    struct ft_frag *slot;

    make_frag_key(d, &fk);
    slot = frag_slot(t, &fk);
    slot->key = fk;
    slot->flow = e->key;
    slot->side = s;
    slot->ts_ms = t->clock;
}

/* Counts the later fragment 'd' to the flow of its first fragment, if
 * known. */
static void
later_fragment(struct flow_table *t, const struct decoded *d,
               uint32_t port_id, uint64_t ts_ms)
{
    struct ft_frag_key fk;
    struct ft_frag *slot;
    struct ft_entry *e;

    make_frag_key(d, &fk);
    slot = frag_slot(t, &fk);
    if (slot->ts_ms && slot->ts_ms + FRAG_TIMEOUT_MS > t->clock
        && !memcmp(&slot->key, &fk, sizeof fk)) {
        e = lookup(t, &slot->flow, hash_key(t, &slot->flow));
        if (e) {
            slot->ts_ms = t->clock;
            account(t, e, d, slot->side, port_id, ts_ms);
            reclass(t, e);
            return;
        }
    }
    t->stats.n_frags_untracked++;
}

void
flow_table_packet(struct flow_table *t, const struct decoded *d,
                  const uint8_t *frame, uint32_t port_id, uint64_t ts_ms)
{
    struct ft_key key;
    struct ft_entry *e;
    uint32_t hash;
    int s;

    t->clock = max_u64(t->clock, ts_ms);
    t->stats.n_packets++;
    t->stats.n_bytes += d->wire_len;

    if (d->error == DECODE_ETH_TRUNCATED) {
        t->stats.n_runts++;
        return;
    }
    if (d->is_later_fragment && is_ip(d)) {
        later_fragment(t, d, port_id, ts_ms);
        return;
    }

    s = make_key(t, d, port_id, &key);
    hash = hash_key(t, &key);
    e = lookup(t, &key, hash);
    if (e && e->cls == FT_CLOSED
        && (d->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        /* The port pair is reused for a new connection. */
        end_flow(t, e, VNM_FLOW_END_TCP);
        e = NULL;
    }
    if (!e) {
        e = new_flow(t, &key, hash, d, s);
    }
    account(t, e, d, s, port_id, ts_ms);
    reclass(t, e);
    if (d->is_fragment && d->more_fragments) {
        frag_remember(t, d, e, s);
    }

    if ((e->flags & FT_FEEDING) && e->key.family && d->l3_len) {
        enum classify_state state;

        state = classify_packet(t->classifier, e->classify, frame + d->l3,
                                d->l3_len, t->clock);
        if (state == CLASSIFY_DONE) {
            e->flags &= ~FT_FEEDING;
            t->stats.n_classified++;
        }
        if (update_memory(t) > t->cfg.max_memory) {
            make_room(t, e, 0, 0);
        }
    }
}

void
flow_table_get_stats(const struct flow_table *t,
                     struct flow_table_stats *stats)
{
    *stats = t->stats;
    stats->memory = memory_of(t, &stats->ndpi_memory);
    stats->max_memory_seen = max_u64(stats->max_memory_seen, stats->memory);
}

size_t
flow_table_flow_size(const struct flow_table *t)
{
    return t->entry_size;
}

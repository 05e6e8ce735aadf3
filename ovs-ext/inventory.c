/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live OVS inventory: see inventory.h.
 *
 * After each change the OVSDB client reports, the whole inventory is
 * rebuilt from the replica into a fresh 'struct inv_data' (one arena for
 * its strings and arrays, open-addressing hash indexes for the lookups),
 * which then replaces the old one.  A rebuild is linear in the number of
 * rows, and changes come at human or vswitchd pace (statistics every 5 s),
 * so this is cheaper than it sounds and leaves no room for drift.
 */
#include <config.h>

#include "ovs-ext/inventory.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bw-series.h"
#include "lib/flow-codec.h"
#include "lib/log.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "ovs-ext/ovsdb.h"

VNM_LOG_MODULE(inventory);

#define NO_ENTRY SIZE_MAX

/* ================================================================= arena */

/* A bump allocator: everything one build allocates is freed at once. */
struct arena_chunk {
    struct arena_chunk *next;   /* The one allocated before. */
    size_t used;                /* Bytes of 'data' handed out. */
    size_t size;                /* Bytes of 'data'. */
    max_align_t data[];         /* The memory. */
};

/* The chunks of one build, newest first. */
struct arena {
    struct arena_chunk *head;   /* Newest chunk, or null. */
    size_t next_size;           /* Size of the next chunk. */
};

/* Chunks double from the first size to the last: small inventories stay
 * small, big ones take few chunks. */
enum { ARENA_FIRST_CHUNK = 1024, ARENA_MAX_CHUNK = 64 * 1024 };

static void *
arena_alloc(struct arena *a, size_t size)
{
    struct arena_chunk *c = a->head;
    size_t align = sizeof(max_align_t);
    void *p;

    size = (size + align - 1) / align * align;
    if (!size) {
        size = align;
    }
    if (!c || c->size - c->used < size) {
        size_t chunk;

        if (a->next_size < ARENA_FIRST_CHUNK) {
            a->next_size = ARENA_FIRST_CHUNK;
        }
        chunk = size > a->next_size ? size : a->next_size;
        if (a->next_size < ARENA_MAX_CHUNK) {
            a->next_size *= 2;
        }
        c = xmalloc(sizeof *c + chunk);
        c->next = a->head;
        c->used = 0;
        c->size = chunk;
        a->head = c;
    }
    p = (char *) c->data + c->used;
    c->used += size;
    return p;
}

static void *
arena_zalloc(struct arena *a, size_t n, size_t size)
{
    void *p;

    vnm_assert(!size || n <= SIZE_MAX / size);
    p = arena_alloc(a, n * size);
    memset(p, 0, n * size);
    return p;
}

static const char *
arena_strdup(struct arena *a, const char *s)
{
    size_t n;
    char *p;

    if (!s || !*s) {
        return "";
    }
    n = strlen(s) + 1;
    p = arena_alloc(a, n);
    memcpy(p, s, n);
    return p;
}

static void
arena_free(struct arena *a)
{
    while (a->head) {
        struct arena_chunk *next = a->head->next;

        free(a->head);
        a->head = next;
    }
}

/* ================================================================= index */

/* An open-addressing hash index of entry numbers, linear probing, load at
 * most 1/2. */
struct inv_slot {
    uint32_t hash;              /* Hash of the entry's key. */
    uint32_t value;             /* Entry + 1; 0 if the slot is free. */
};

struct inv_index {
    struct inv_slot *slots;     /* 'mask' + 1 slots. */
    size_t mask;                /* A power of 2 minus 1. */
};

static void
index_init(struct inv_index *idx, size_t n)
{
    size_t cap = 8;

    while (cap < 2 * n) {
        cap *= 2;
    }
    idx->slots = xcalloc(cap, sizeof *idx->slots);
    idx->mask = cap - 1;
}

static void
index_uninit(struct inv_index *idx)
{
    free(idx->slots);
}

static uint32_t
hash_bytes(const void *p_, size_t n, uint32_t basis)
{
    const uint8_t *p = p_;
    uint32_t h = 2166136261u ^ basis;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    h ^= h >> 15;
    h *= 0x2c1b3c6dU;
    h ^= h >> 12;
    return h;
}

static uint32_t
hash_string(const char *s, uint32_t basis)
{
    return hash_bytes(s, strlen(s), basis);
}

static uint32_t
hash_int(int64_t v, uint32_t basis)
{
    return hash_bytes(&v, sizeof v, basis);
}

/* A map of borrowed strings to borrowed strings, for the duration of one
 * build (the UUIDs already listed, port names by UUID): open addressing,
 * sized for its maximum at creation. */
struct strmap_slot {
    const char *key;            /* Null if free. */
    const char *value;          /* Borrowed. */
};

/* See struct strmap_slot. */
struct strmap {
    struct strmap_slot *slots;  /* 'mask' + 1 slots. */
    size_t mask;                /* A power of 2 minus 1. */
    size_t n;                   /* Slots in use. */
    size_t max;                 /* Entries it was sized for. */
};

static void
strmap_init(struct strmap *m, size_t max)
{
    size_t cap = 16;

    while (cap < 2 * max) {
        cap *= 2;
    }
    m->slots = xcalloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    m->n = 0;
    m->max = max;
}

static void
strmap_uninit(struct strmap *m)
{
    free(m->slots);
}

/* The slot of 'key', or the free slot where it would go. */
static struct strmap_slot *
strmap_slot(const struct strmap *m, const char *key)
{
    size_t i;

    for (i = hash_string(key, 0) & m->mask; m->slots[i].key;
         i = (i + 1) & m->mask) {
        if (!strcmp(m->slots[i].key, key)) {
            break;
        }
    }
    return &m->slots[i];
}

static bool
strmap_contains(const struct strmap *m, const char *key)
{
    return strmap_slot(m, key)->key != NULL;
}

static const char *
strmap_get(const struct strmap *m, const char *key)
{
    const struct strmap_slot *slot = strmap_slot(m, key);

    return slot->key ? slot->value : NULL;
}

static void
strmap_put(struct strmap *m, const char *key, const char *value)
{
    struct strmap_slot *slot = strmap_slot(m, key);

    if (!slot->key) {
        vnm_assert(m->n < m->max);
        slot->key = key;
        m->n++;
    }
    slot->value = value;
}

/* ===================================================== the built inventory */

/* A bridge, as listed. */
struct inv_bridge {
    const char *uuid;           /* Bridge row UUID. */
    const char *name;           /* Bridge name. */
    const char *datapath_type;  /* "netdev", "system" or "". */
    size_t first_port;          /* Its ports in 'ports', ... */
    size_t n_ports;             /* ... contiguous. */
};

/* A port, as listed. */
struct inv_port {
    const char *name;           /* Port name. */
    const char *bridge;         /* Its bridge's name. */
    const char *vlan_mode;      /* vlan_mode, or "". */
    int64_t tag;                /* tag, or -1. */
    const int64_t *trunks;      /* trunks ('n_trunks' VLANs). */
    size_t n_trunks;            /* Entries of 'trunks'. */
    size_t first_iface;         /* Its interfaces in 'ifaces', ... */
    size_t n_ifaces;            /* ... contiguous. */
};

/* A mirror, as listed. */
struct inv_mirror {
    const char *name;           /* Mirror name. */
    const char *bridge;         /* Its bridge's name. */
    bool select_all;            /* select_all. */
    const char **select_src;    /* select_src_port, as port names. */
    size_t n_select_src;        /* Entries of 'select_src'. */
    const char **select_dst;    /* select_dst_port, as port names. */
    size_t n_select_dst;        /* Entries of 'select_dst'. */
    const char *output_port;    /* Port name, or "". */
    int64_t output_vlan;        /* -1 if none. */
};

/* An address of "vnmon-ips" and its interface. */
struct inv_ip {
    size_t iface;               /* Index in 'ifaces'. */
    struct vnm_addr addr;       /* The address. */
};

/* One build of the inventory: everything but the indexes in 'arena'. */
struct inv_data {
    struct arena arena;         /* Strings and arrays. */
    struct inv_bridge *bridges; /* By name. */
    size_t n_bridges;           /* Entries of 'bridges'. */
    struct inv_port *ports;     /* By bridge and name. */
    size_t n_ports;             /* Entries of 'ports'. */
    struct inv_interface *ifaces; /* By bridge, port and name. */
    size_t n_ifaces;            /* Entries of 'ifaces'. */
    struct inv_mirror *mirrors; /* By bridge and name. */
    size_t n_mirrors;           /* Entries of 'mirrors'. */
    struct inv_ip *ips;         /* Every address of every interface. */
    size_t n_ips;               /* Entries of 'ips'. */

    struct inv_index by_name;   /* Interface name. */
    struct inv_index by_ifindex; /* Positive ifindex. */
    struct inv_index by_ofport; /* (bridge, positive ofport). */
    struct inv_index by_ip;     /* Entries of 'ips'. */
};

/* The inventory: a client, the current build, and the publisher. */
struct inventory {
    struct event_base *base;    /* Loop of the timers, or null. */
    struct ovsdb_client *client; /* Its OVSDB connection and replica. */
    inventory_change_func *cb;  /* Called after each change, or null. */
    void *aux;                  /* Passed to 'cb'. */
    struct inv_data *data;      /* Current build, never null. */
    uint64_t topology_seq;      /* See inventory_topology_seq(). */

    /* Publisher. */
    struct vnm_redis *redis;    /* Null if not publishing. */
    char *host_id;              /* Host id in the keys. */
    struct event *publish_ev;   /* Next publication (debounce, retry). */
    struct event *refresh_ev;   /* Every INVENTORY_REFRESH_MS. */
    uint64_t last_publish_mono; /* Last successful publication. */
    uint64_t n_publishes;       /* Successful publications. */
};

static void
data_destroy(struct inv_data *d)
{
    if (d) {
        index_uninit(&d->by_name);
        index_uninit(&d->by_ifindex);
        index_uninit(&d->by_ofport);
        index_uninit(&d->by_ip);
        arena_free(&d->arena);
        free(d);
    }
}

/* ---------------------------------------------------------------- lookups */

/* Keys as the index matchers see them. */
struct ofport_key {
    const char *bridge;
    int64_t ofport;
};

typedef bool index_match_func(const struct inv_data *, size_t entry,
                              const void *key);

static size_t
index_find(const struct inv_data *d, const struct inv_index *idx,
           uint32_t hash, index_match_func *match, const void *key)
{
    for (size_t i = hash & idx->mask; idx->slots[i].value;
         i = (i + 1) & idx->mask) {
        if (idx->slots[i].hash == hash
            && match(d, idx->slots[i].value - 1, key)) {
            return idx->slots[i].value - 1;
        }
    }
    return NO_ENTRY;
}

/* Adds 'entry' unless an entry with the same key is there (first wins). */
static void
index_add(const struct inv_data *d, struct inv_index *idx, uint32_t hash,
          index_match_func *match, const void *key, size_t entry)
{
    size_t i;

    if (index_find(d, idx, hash, match, key) != NO_ENTRY) {
        return;
    }
    for (i = hash & idx->mask; idx->slots[i].value; i = (i + 1) & idx->mask) {
        continue;
    }
    idx->slots[i].hash = hash;
    idx->slots[i].value = (uint32_t) entry + 1;
}

static bool
match_name(const struct inv_data *d, size_t entry, const void *name)
{
    return !strcmp(d->ifaces[entry].name, name);
}

static bool
match_ifindex(const struct inv_data *d, size_t entry, const void *ifindex)
{
    return d->ifaces[entry].ifindex == *(const int64_t *) ifindex;
}

static bool
match_ofport(const struct inv_data *d, size_t entry, const void *key_)
{
    const struct ofport_key *key = key_;

    return (d->ifaces[entry].ofport == key->ofport
            && !strcmp(d->ifaces[entry].bridge, key->bridge));
}

static bool
match_ip(const struct inv_data *d, size_t entry, const void *addr)
{
    return vnm_addr_equal(&d->ips[entry].addr, addr);
}

static uint32_t
hash_addr(const struct vnm_addr *a)
{
    return hash_bytes(a->a, vnm_addr_size(a), a->family);
}

static uint32_t
hash_ofport(const char *bridge, int64_t ofport)
{
    return hash_int(ofport, hash_string(bridge, 0));
}

/* ----------------------------------------------------------------- build */

/* The string value of 'column' of 'row', if it is one (a bare string or a
 * one-element set), else "". */
static const char *
col_string(const json_t *row, const char *column)
{
    const char *s;

    s = ovsdb_atom_string(ovsdb_datum_optional(json_object_get(row,
                                                               column)));
    return s ? s : "";
}

/* The integer of optional 'column', or 'dflt'. */
static int64_t
col_int(const json_t *row, const char *column, int64_t dflt)
{
    int64_t v;

    return (ovsdb_atom_integer(ovsdb_datum_optional(json_object_get(row,
                                                                    column)),
                               &v) ? v : dflt);
}

/* The string value of 'key' in map 'column', or "". */
static const char *
map_string(const json_t *row, const char *column, const char *key)
{
    const char *s;

    s = ovsdb_atom_string(ovsdb_datum_map_get(json_object_get(row, column),
                                              key));
    return s ? s : "";
}

/* Parses "aa:bb:cc:dd:ee:ff". */
static bool
parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        int v = 0;

        for (int j = 0; j < 2; j++) {
            char c = *s++;

            v <<= 4;
            if (c >= '0' && c <= '9') {
                v |= c - '0';
            } else if (c >= 'a' && c <= 'f') {
                v |= c - 'a' + 10;
            } else if (c >= 'A' && c <= 'F') {
                v |= c - 'A' + 10;
            } else {
                return false;
            }
        }
        mac[i] = (uint8_t) v;
        if (*s++ != (i < 5 ? ':' : '\0')) {
            return false;
        }
    }
    return true;
}

/* Parses an IPv4 or IPv6 address of at most 'n' chars at 's'. */
static bool
parse_addr(const char *s, size_t n, struct vnm_addr *addr)
{
    char buf[64];

    memset(addr, 0, sizeof *addr);
    if (!n || n >= sizeof buf) {
        return false;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, addr->a) == 1) {
        addr->family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, buf, addr->a) == 1) {
        addr->family = 6;
        return true;
    }
    memset(addr, 0, sizeof *addr);
    return false;
}

/* Parses a tunnel key: decimal, 0x hex or 0 octal, as OVS does. */
static bool
parse_key(const char *s, uint64_t *valuep)
{
    unsigned long long v;
    char *end;

    if (!*s || *s == '-' || *s == '+' || *s == ' ') {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || *end) {
        return false;
    }
    *valuep = v;
    return true;
}

/* Parses "vnmon-ips" of 'iface' into its 'ips'. */
static void
parse_ips(struct arena *a, struct inv_interface *iface, const char *list)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(2, 5);
    struct vnm_addr *ips;
    size_t n = 1;
    const char *p;

    for (p = list; *p; p++) {
        n += *p == ',';
    }
    ips = arena_zalloc(a, n, sizeof *ips);
    iface->ips = ips;
    iface->n_ips = 0;
    for (p = list; *p;) {
        const char *end = strchr(p, ',');
        const char *item_end;
        size_t len;

        if (!end) {
            end = p + strlen(p);
        }
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        item_end = end;
        while (item_end > p && (item_end[-1] == ' ' || item_end[-1] == '\t')) {
            item_end--;
        }
        len = (size_t) (item_end - p);
        if (len) {
            const char *slash = memchr(p, '/', len);
            struct vnm_addr addr;

            if (parse_addr(p, slash ? (size_t) (slash - p) : len, &addr)) {
                ips[iface->n_ips++] = addr;
            } else {
                VNM_WARN_RL(&rl, "interface %s: external_ids:vnmon-ips: "
                            "\"%.*s\" is not an IP address (ignored)",
                            iface->name, (int) (len > 64 ? 64 : len), p);
            }
        }
        p = *end ? end + 1 : end;
    }
}

static void
parse_stats(const json_t *row, struct inv_stats *st)
{
    const json_t *stats = json_object_get(row, "statistics");
    const struct {
        const char *name;
        uint64_t *value;
    } fields[] = {
        { "rx_packets", &st->rx_packets }, { "rx_bytes", &st->rx_bytes },
        { "rx_dropped", &st->rx_dropped }, { "rx_errors", &st->rx_errors },
        { "tx_packets", &st->tx_packets }, { "tx_bytes", &st->tx_bytes },
        { "tx_dropped", &st->tx_dropped }, { "tx_errors", &st->tx_errors },
    };

    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < VNM_ARRAY_SIZE(fields); i++) {
        int64_t v;

        if (ovsdb_atom_integer(ovsdb_datum_map_get(stats, fields[i].name),
                               &v) && v >= 0) {
            *fields[i].value = (uint64_t) v;
        }
    }
}

/* True if optional 'column' of 'row' is empty (or absent). */
static bool
col_empty(const json_t *row, const char *column)
{
    return !ovsdb_datum_optional(json_object_get(row, column));
}

/* The interface 'name' with UUID 'uuid' in 'd', or null. */
static const struct inv_interface *
data_find_iface(const struct inv_data *d, const char *name, const char *uuid)
{
    size_t i;

    if (!d) {
        return NULL;
    }
    i = index_find(d, &d->by_name, hash_string(name, 0), match_name, name);
    return (i != NO_ENTRY && !strcmp(d->ifaces[i].uuid, uuid)
            ? &d->ifaces[i] : NULL);
}

/* Fills 'iface' from Interface 'row' (port and bridge set by the caller).
 *
 * ovs-vswitchd writes ofport, ifindex, mac_in_use and statistics into
 * ephemeral columns: after an ovsdb-server restart they are empty until it
 * reconnects and writes them again (seconds).  Meanwhile the values of the
 * same row in 'old' (the previous build, may be null) are kept. */
static void
build_interface(struct arena *a, struct inv_interface *iface,
                const char *uuid, const json_t *row,
                const struct inv_data *old)
{
    const char *name = col_string(row, "name");
    const struct inv_interface *prev = data_find_iface(old, name, uuid);
    const char *type, *mac, *key, *vm;

    iface->uuid = arena_strdup(a, uuid);
    iface->name = arena_strdup(a, name);
    type = col_string(row, "type");
    iface->type = arena_strdup(a, type);
    iface->ofport = (prev && col_empty(row, "ofport") ? prev->ofport
                     : col_int(row, "ofport", -1));
    iface->ifindex = (prev && col_empty(row, "ifindex") ? prev->ifindex
                      : col_int(row, "ifindex", -1));
    mac = col_string(row, "mac_in_use");
    iface->mac_valid = parse_mac(mac, iface->mac);
    if (prev && col_empty(row, "mac_in_use")) {
        iface->mac_valid = prev->mac_valid;
        memcpy(iface->mac, prev->mac, sizeof iface->mac);
    }
    iface->link_speed = col_int(row, "link_speed", -1);
    iface->admin_state = arena_strdup(a, col_string(row, "admin_state"));
    iface->link_state = arena_strdup(a, col_string(row, "link_state"));

    iface->tunnel_type = (!strcmp(type, "vxlan") ? INV_TUNNEL_VXLAN
                          : !strcmp(type, "geneve") ? INV_TUNNEL_GENEVE
                          : !strcmp(type, "gre") || !strcmp(type, "ip6gre")
                          ? INV_TUNNEL_GRE : INV_TUNNEL_NONE);
    key = map_string(row, "options", "key");
    if (!*key) {
        key = map_string(row, "options", "in_key");
    }
    iface->tunnel_key = arena_strdup(a, key);
    iface->tunnel_key_valid = parse_key(key, &iface->tunnel_key_value);
    if (!iface->tunnel_key_valid) {
        iface->tunnel_key_value = 0;
    }
    iface->tunnel_remote = arena_strdup(a, map_string(row, "options",
                                                      "remote_ip"));
    iface->tunnel_local = arena_strdup(a, map_string(row, "options",
                                                     "local_ip"));
    parse_addr(iface->tunnel_remote, strlen(iface->tunnel_remote),
               &iface->tunnel_remote_ip);
    parse_addr(iface->tunnel_local, strlen(iface->tunnel_local),
               &iface->tunnel_local_ip);

    iface->iface_id = arena_strdup(a, map_string(row, "external_ids",
                                                 "iface-id"));
    iface->attached_mac = arena_strdup(a, map_string(row, "external_ids",
                                                     "attached-mac"));
    vm = map_string(row, "external_ids", "vm-uuid");
    if (!*vm) {
        vm = map_string(row, "external_ids", "vm-id");
    }
    iface->vm = arena_strdup(a, vm);
    iface->tenant = arena_strdup(a, map_string(row, "external_ids",
                                               "vnmon-tenant"));
    parse_ips(a, iface, map_string(row, "external_ids", "vnmon-ips"));
    if (prev && !ovsdb_datum_n(json_object_get(row, "statistics"))) {
        iface->stats = prev->stats;
    } else {
        parse_stats(row, &iface->stats);
    }
}

/* The integers of set 'column' of 'row', in an arena array. */
static const int64_t *
col_int_set(struct arena *a, const json_t *row, const char *column,
            size_t *np)
{
    const json_t *datum = json_object_get(row, column);
    size_t n = ovsdb_datum_n(datum);
    int64_t *v = arena_zalloc(a, n, sizeof *v);

    *np = 0;
    for (size_t i = 0; i < n; i++) {
        if (ovsdb_atom_integer(ovsdb_datum_atom(datum, i), &v[*np])) {
            (*np)++;
        }
    }
    return v;
}

static int
compare_bridges(const void *a_, const void *b_)
{
    const struct inv_bridge *a = a_, *b = b_;
    int c = strcmp(a->name, b->name);

    return c ? c : strcmp(a->uuid, b->uuid);
}

static int
compare_ports(const void *a_, const void *b_)
{
    const struct inv_port *a = a_, *b = b_;
    int c = strcmp(a->bridge, b->bridge);

    return c ? c : strcmp(a->name, b->name);
}

static int
compare_ifaces(const void *a_, const void *b_)
{
    const struct inv_interface *a = a_, *b = b_;
    int c = strcmp(a->bridge, b->bridge);

    if (!c) {
        c = strcmp(a->port, b->port);
    }
    if (!c) {
        c = strcmp(a->name, b->name);
    }
    return c ? c : strcmp(a->uuid, b->uuid);
}

static int
compare_mirrors(const void *a_, const void *b_)
{
    const struct inv_mirror *a = a_, *b = b_;
    int c = strcmp(a->bridge, b->bridge);

    return c ? c : strcmp(a->name, b->name);
}

/* The names of the ports whose UUIDs set 'column' of 'row' holds, among
 * 'port_names' (UUID -> name). */
static const char **
port_names(struct arena *a, const json_t *row, const char *column,
           const struct strmap *names, size_t *np)
{
    const json_t *datum = json_object_get(row, column);
    size_t n = ovsdb_datum_n(datum);
    const char **v = arena_zalloc(a, n, sizeof *v);

    *np = 0;
    for (size_t i = 0; i < n; i++) {
        const char *uuid = ovsdb_atom_uuid(ovsdb_datum_atom(datum, i));
        const char *name = uuid ? strmap_get(names, uuid) : NULL;

        if (name) {
            v[(*np)++] = arena_strdup(a, name);
        }
    }
    return v;
}

/* Adds the ports of bridge 'b' (row 'brow') and their interfaces.
 * 'claimed' holds the UUIDs of ports and interfaces already listed, so
 * that a row referenced twice is listed once. */
static void
build_bridge_ports(struct inv_data *d, const struct ovsdb_replica *r,
                   const struct inv_bridge *b, const json_t *brow,
                   struct strmap *claimed, struct strmap *names,
                   size_t max_ifaces, const struct inv_data *old)
{
    const json_t *ports = json_object_get(brow, "ports");
    size_t n = ovsdb_datum_n(ports);

    for (size_t i = 0; i < n; i++) {
        const char *puuid = ovsdb_atom_uuid(ovsdb_datum_atom(ports, i));
        const json_t *prow, *ifaces;
        struct inv_port *p;
        const char *name;
        size_t n_ifaces;

        prow = puuid ? ovsdb_replica_row(r, "Port", puuid) : NULL;
        if (!prow || strmap_contains(claimed, puuid)) {
            continue;
        }
        name = col_string(prow, "name");
        if (!*name) {
            continue;
        }
        strmap_put(claimed, puuid, NULL);
        strmap_put(names, puuid, name);
        p = &d->ports[d->n_ports++];
        p->name = arena_strdup(&d->arena, name);
        p->bridge = b->name;
        p->vlan_mode = arena_strdup(&d->arena, col_string(prow, "vlan_mode"));
        p->tag = col_int(prow, "tag", -1);
        p->trunks = col_int_set(&d->arena, prow, "trunks", &p->n_trunks);

        ifaces = json_object_get(prow, "interfaces");
        n_ifaces = ovsdb_datum_n(ifaces);
        for (size_t j = 0; j < n_ifaces && d->n_ifaces < max_ifaces; j++) {
            const char *iuuid = ovsdb_atom_uuid(ovsdb_datum_atom(ifaces, j));
            const json_t *irow;
            struct inv_interface *iface;

            irow = iuuid ? ovsdb_replica_row(r, "Interface", iuuid) : NULL;
            if (!irow || strmap_contains(claimed, iuuid)
                || !*col_string(irow, "name")) {
                continue;
            }
            strmap_put(claimed, iuuid, NULL);
            iface = &d->ifaces[d->n_ifaces++];
            iface->bridge = b->name;
            iface->port = p->name;
            iface->vlan_mode = p->vlan_mode;
            iface->tag = p->tag;
            iface->trunks = p->trunks;
            iface->n_trunks = p->n_trunks;
            build_interface(&d->arena, iface, iuuid, irow, old);
        }
    }
}

static void
build_mirrors(struct inv_data *d, const struct ovsdb_replica *r,
              const json_t *brow, const char *bridge,
              const struct strmap *names, struct strmap *claimed,
              size_t max_mirrors)
{
    const json_t *mirrors = json_object_get(brow, "mirrors");
    size_t n = ovsdb_datum_n(mirrors);

    for (size_t i = 0; i < n && d->n_mirrors < max_mirrors; i++) {
        const char *uuid = ovsdb_atom_uuid(ovsdb_datum_atom(mirrors, i));
        const json_t *mrow, *out;
        const char *out_uuid, *out_name;
        struct inv_mirror *m;

        mrow = uuid ? ovsdb_replica_row(r, "Mirror", uuid) : NULL;
        if (!mrow || strmap_contains(claimed, uuid)) {
            continue;
        }
        strmap_put(claimed, uuid, NULL);
        m = &d->mirrors[d->n_mirrors++];
        m->name = arena_strdup(&d->arena, col_string(mrow, "name"));
        m->bridge = bridge;
        m->select_all = json_is_true(ovsdb_datum_optional(
                                         json_object_get(mrow,
                                                         "select_all")));
        m->select_src = port_names(&d->arena, mrow, "select_src_port", names,
                                   &m->n_select_src);
        m->select_dst = port_names(&d->arena, mrow, "select_dst_port", names,
                                   &m->n_select_dst);
        out = ovsdb_datum_optional(json_object_get(mrow, "output_port"));
        out_uuid = ovsdb_atom_uuid(out);
        out_name = out_uuid ? strmap_get(names, out_uuid) : NULL;
        m->output_port = arena_strdup(&d->arena, out_name);
        m->output_vlan = col_int(mrow, "output_vlan", -1);
    }
}

static void
build_indexes(struct inv_data *d)
{
    size_t n_ips = 0;

    for (size_t i = 0; i < d->n_ifaces; i++) {
        n_ips += d->ifaces[i].n_ips;
    }
    d->ips = arena_zalloc(&d->arena, n_ips, sizeof *d->ips);
    index_init(&d->by_name, d->n_ifaces);
    index_init(&d->by_ifindex, d->n_ifaces);
    index_init(&d->by_ofport, d->n_ifaces);
    index_init(&d->by_ip, n_ips);
    for (size_t i = 0; i < d->n_ifaces; i++) {
        const struct inv_interface *iface = &d->ifaces[i];

        index_add(d, &d->by_name, hash_string(iface->name, 0), match_name,
                  iface->name, i);
        if (iface->ifindex > 0) {
            index_add(d, &d->by_ifindex, hash_int(iface->ifindex, 0),
                      match_ifindex, &iface->ifindex, i);
        }
        if (iface->ofport > 0) {
            struct ofport_key key = { iface->bridge, iface->ofport };

            index_add(d, &d->by_ofport,
                      hash_ofport(iface->bridge, iface->ofport),
                      match_ofport, &key, i);
        }
        for (size_t j = 0; j < iface->n_ips; j++) {
            struct inv_ip *ip = &d->ips[d->n_ips];

            ip->iface = i;
            ip->addr = iface->ips[j];
            index_add(d, &d->by_ip, hash_addr(&ip->addr), match_ip,
                      &ip->addr, d->n_ips);
            d->n_ips++;
        }
    }
}

/* Builds the inventory of replica 'r' (may be null: empty), keeping the
 * ephemeral values of 'old' (may be null) that 'r' lacks. */
static struct inv_data *
data_build(const struct ovsdb_replica *r, const struct inv_data *old)
{
    const json_t *bridges = r ? ovsdb_replica_table(r, "Bridge") : NULL;
    size_t max_bridges = json_object_size(bridges);
    size_t max_ports = r ? json_object_size(ovsdb_replica_table(r, "Port"))
                         : 0;
    size_t max_ifaces = (r ? json_object_size(ovsdb_replica_table(
                                                  r, "Interface")) : 0);
    size_t max_mirrors = (r ? json_object_size(ovsdb_replica_table(
                                                   r, "Mirror")) : 0);
    struct inv_data *d = xzalloc(sizeof *d);
    struct strmap claimed;      /* UUIDs listed. */
    struct strmap names;        /* Port UUID -> name. */
    const char *uuid;
    json_t *row;
    size_t i;

    strmap_init(&claimed, max_ports + max_ifaces + max_mirrors);
    strmap_init(&names, max_ports);
    d->bridges = arena_zalloc(&d->arena, max_bridges, sizeof *d->bridges);
    d->ports = arena_zalloc(&d->arena, max_ports, sizeof *d->ports);
    d->ifaces = arena_zalloc(&d->arena, max_ifaces, sizeof *d->ifaces);
    d->mirrors = arena_zalloc(&d->arena, max_mirrors, sizeof *d->mirrors);

    json_object_foreach ((json_t *) bridges, uuid, row) {
        const char *name = col_string(row, "name");
        struct inv_bridge *b;

        if (!*name) {
            continue;
        }
        b = &d->bridges[d->n_bridges++];
        b->uuid = arena_strdup(&d->arena, uuid);
        b->name = arena_strdup(&d->arena, name);
        b->datapath_type = arena_strdup(&d->arena,
                                        col_string(row, "datapath_type"));
    }
    qsort(d->bridges, d->n_bridges, sizeof *d->bridges, compare_bridges);

    for (i = 0; i < d->n_bridges; i++) {
        const struct inv_bridge *b = &d->bridges[i];

        build_bridge_ports(d, r, b, ovsdb_replica_row(r, "Bridge", b->uuid),
                           &claimed, &names, max_ifaces, old);
    }
    for (i = 0; i < d->n_bridges; i++) {
        const struct inv_bridge *b = &d->bridges[i];

        build_mirrors(d, r, ovsdb_replica_row(r, "Bridge", b->uuid), b->name,
                      &names, &claimed, max_mirrors);
    }
    strmap_uninit(&claimed);
    strmap_uninit(&names);

    qsort(d->ports, d->n_ports, sizeof *d->ports, compare_ports);
    qsort(d->ifaces, d->n_ifaces, sizeof *d->ifaces, compare_ifaces);
    qsort(d->mirrors, d->n_mirrors, sizeof *d->mirrors, compare_mirrors);

    /* Ranges: a bridge's ports, a port's interfaces.  Both arrays are
     * sorted by bridge (then port), so each range is contiguous; a name
     * shared by two bridges' rows (never in a real database) only makes
     * a range overlap its neighbour. */
    for (size_t b = 0, p = 0; b < d->n_bridges; b++) {
        while (p < d->n_ports
               && strcmp(d->ports[p].bridge, d->bridges[b].name) < 0) {
            p++;
        }
        d->bridges[b].first_port = p;
        while (p < d->n_ports
               && !strcmp(d->ports[p].bridge, d->bridges[b].name)) {
            p++;
            d->bridges[b].n_ports++;
        }
    }
    for (size_t p = 0, f = 0; p < d->n_ports; p++) {
        struct inv_port *port = &d->ports[p];

        while (f < d->n_ifaces
               && compare_ports(&(struct inv_port) {
                                    .bridge = d->ifaces[f].bridge,
                                    .name = d->ifaces[f].port }, port) < 0) {
            f++;
        }
        port->first_iface = f;
        while (f < d->n_ifaces && !strcmp(d->ifaces[f].bridge, port->bridge)
               && !strcmp(d->ifaces[f].port, port->name)) {
            f++;
            port->n_ifaces++;
        }
    }
    build_indexes(d);
    return d;
}

/* ------------------------------------------------------------ comparison */

static bool
ifaces_same_topology(const struct inv_interface *a,
                     const struct inv_interface *b)
{
    return (!strcmp(a->uuid, b->uuid) && !strcmp(a->name, b->name)
            && !strcmp(a->bridge, b->bridge) && !strcmp(a->port, b->port)
            && !strcmp(a->type, b->type) && a->ofport == b->ofport
            && a->ifindex == b->ifindex && a->mac_valid == b->mac_valid
            && !memcmp(a->mac, b->mac, sizeof a->mac)
            && !strcmp(a->vlan_mode, b->vlan_mode) && a->tag == b->tag
            && a->n_trunks == b->n_trunks
            && !memcmp(a->trunks, b->trunks,
                       a->n_trunks * sizeof *a->trunks)
            && a->tunnel_type == b->tunnel_type
            && !strcmp(a->tunnel_key, b->tunnel_key)
            && !strcmp(a->tunnel_remote, b->tunnel_remote)
            && !strcmp(a->tunnel_local, b->tunnel_local)
            && !strcmp(a->iface_id, b->iface_id)
            && !strcmp(a->attached_mac, b->attached_mac)
            && !strcmp(a->vm, b->vm) && !strcmp(a->tenant, b->tenant)
            && a->n_ips == b->n_ips
            && !memcmp(a->ips, b->ips, a->n_ips * sizeof *a->ips));
}

static bool
mirrors_same(const struct inv_mirror *a, const struct inv_mirror *b)
{
    if (strcmp(a->name, b->name) || strcmp(a->bridge, b->bridge)
        || a->select_all != b->select_all
        || strcmp(a->output_port, b->output_port)
        || a->output_vlan != b->output_vlan
        || a->n_select_src != b->n_select_src
        || a->n_select_dst != b->n_select_dst) {
        return false;
    }
    for (size_t i = 0; i < a->n_select_src; i++) {
        if (strcmp(a->select_src[i], b->select_src[i])) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_select_dst; i++) {
        if (strcmp(a->select_dst[i], b->select_dst[i])) {
            return false;
        }
    }
    return true;
}

/* True if 'a' and 'b' differ only in counters and link state. */
static bool
data_same_topology(const struct inv_data *a, const struct inv_data *b)
{
    size_t i;

    if (a->n_bridges != b->n_bridges || a->n_ports != b->n_ports
        || a->n_ifaces != b->n_ifaces || a->n_mirrors != b->n_mirrors) {
        return false;
    }
    for (i = 0; i < a->n_bridges; i++) {
        if (strcmp(a->bridges[i].name, b->bridges[i].name)
            || strcmp(a->bridges[i].datapath_type,
                      b->bridges[i].datapath_type)) {
            return false;
        }
    }
    for (i = 0; i < a->n_ifaces; i++) {
        if (!ifaces_same_topology(&a->ifaces[i], &b->ifaces[i])) {
            return false;
        }
    }
    for (i = 0; i < a->n_mirrors; i++) {
        if (!mirrors_same(&a->mirrors[i], &b->mirrors[i])) {
            return false;
        }
    }
    /* Ports: their names and VLAN settings are in their interfaces, but a
     * port without interfaces is only here. */
    for (i = 0; i < a->n_ports; i++) {
        if (strcmp(a->ports[i].name, b->ports[i].name)
            || strcmp(a->ports[i].bridge, b->ports[i].bridge)) {
            return false;
        }
    }
    return true;
}

/* ============================================================= inventory */

static void schedule_publish(struct inventory *);

/* Rebuilds from the replica. */
static void
inventory_rebuild(struct inventory *inv)
{
    struct inv_data *d = data_build(ovsdb_client_replica(inv->client),
                                    inv->data);

    if (!data_same_topology(inv->data, d)) {
        inv->topology_seq++;
    }
    data_destroy(inv->data);
    inv->data = d;
}

static void
on_ovsdb_event(void *inv_, enum ovsdb_client_event event)
{
    struct inventory *inv = inv_;

    switch (event) {
    case OVSDB_CLIENT_SYNCED:
    case OVSDB_CLIENT_UPDATED:
        inventory_rebuild(inv);
        if (inv->cb) {
            inv->cb(inv->aux);
        }
        break;
    case OVSDB_CLIENT_DISCONNECTED:
        break;
    }
    schedule_publish(inv);
}

/* The monitor request: the tables and columns the inventory reads. */
static json_t *
monitor_requests(void)
{
    static const char *const bridge[] = {
        "name", "datapath_type", "ports", "mirrors", NULL,
    };
    static const char *const port[] = {
        "name", "interfaces", "tag", "trunks", "vlan_mode", NULL,
    };
    static const char *const interface[] = {
        "name", "ofport", "ifindex", "type", "options", "external_ids",
        "mac_in_use", "link_speed", "statistics", "admin_state",
        "link_state", NULL,
    };
    static const char *const mirror[] = {
        "name", "select_all", "select_src_port", "select_dst_port",
        "output_port", "output_vlan", NULL,
    };
    static const struct {
        const char *table;
        const char *const *columns;
    } tables[] = {
        { "Bridge", bridge },
        { "Port", port },
        { "Interface", interface },
        { "Mirror", mirror },
    };
    json_t *requests = json_object();

    for (size_t i = 0; i < VNM_ARRAY_SIZE(tables); i++) {
        json_t *columns = json_array();

        for (const char *const *c = tables[i].columns; *c; c++) {
            json_array_append_new(columns, json_string(*c));
        }
        json_object_set_new(requests, tables[i].table,
                            json_pack("{s:o}", "columns", columns));
    }
    return requests;
}

struct inventory *
inventory_create(struct event_base *base, const char *remote,
                 inventory_change_func *cb, void *aux)
{
    struct inventory *inv = xzalloc(sizeof *inv);

    inv->base = base;
    inv->cb = cb;
    inv->aux = aux;
    inv->data = data_build(NULL, NULL);
    /* A client without remote never sends its request. */
    inv->client = ovsdb_client_create(base, remote, "Open_vSwitch",
                                      (remote ? monitor_requests()
                                       : json_object()),
                                      on_ovsdb_event, inv);
    return inv;
}

void
inventory_destroy(struct inventory *inv)
{
    if (!inv) {
        return;
    }
    ovsdb_client_destroy(inv->client);
    if (inv->publish_ev) {
        event_free(inv->publish_ev);
    }
    if (inv->refresh_ev) {
        event_free(inv->refresh_ev);
    }
    free(inv->host_id);
    data_destroy(inv->data);
    free(inv);
}

bool
inventory_is_synced(const struct inventory *inv)
{
    return ovsdb_client_is_synced(inv->client);
}

size_t
inventory_n_interfaces(const struct inventory *inv)
{
    return inv->data->n_ifaces;
}

const struct inv_interface *
inventory_interface(const struct inventory *inv, size_t i)
{
    return i < inv->data->n_ifaces ? &inv->data->ifaces[i] : NULL;
}

const struct inv_interface *
inventory_find_by_name(const struct inventory *inv, const char *name)
{
    const struct inv_data *d = inv->data;
    size_t i = index_find(d, &d->by_name, hash_string(name, 0), match_name,
                          name);

    return i == NO_ENTRY ? NULL : &d->ifaces[i];
}

const struct inv_interface *
inventory_find_by_ifindex(const struct inventory *inv, int64_t ifindex)
{
    const struct inv_data *d = inv->data;
    size_t i;

    if (ifindex <= 0) {
        return NULL;
    }
    i = index_find(d, &d->by_ifindex, hash_int(ifindex, 0), match_ifindex,
                   &ifindex);
    return i == NO_ENTRY ? NULL : &d->ifaces[i];
}

const struct inv_interface *
inventory_find_by_ofport(const struct inventory *inv, const char *bridge,
                         int64_t ofport)
{
    const struct inv_data *d = inv->data;
    struct ofport_key key = { bridge, ofport };
    size_t i;

    if (ofport <= 0) {
        return NULL;
    }
    i = index_find(d, &d->by_ofport, hash_ofport(bridge, ofport),
                   match_ofport, &key);
    return i == NO_ENTRY ? NULL : &d->ifaces[i];
}

const struct inv_interface *
inventory_find_by_ip(const struct inventory *inv,
                     const struct vnm_addr *addr)
{
    const struct inv_data *d = inv->data;
    size_t i;

    if (addr->family != 4 && addr->family != 6) {
        return NULL;
    }
    i = index_find(d, &d->by_ip, hash_addr(addr), match_ip, addr);
    return i == NO_ENTRY ? NULL : &d->ifaces[d->ips[i].iface];
}

void
inventory_attribution(const struct inv_interface *iface,
                      struct vnm_attribution *a)
{
    memset(a, 0, sizeof *a);
    vnm_strlcpy(a->port, iface->name, sizeof a->port);
    a->ofport = (iface->ofport >= 0 && iface->ofport <= INT32_MAX
                 ? (int32_t) iface->ofport : -1);
    vnm_strlcpy(a->iface_id, iface->iface_id, sizeof a->iface_id);
    vnm_strlcpy(a->vm, iface->vm, sizeof a->vm);
    vnm_strlcpy(a->tenant, iface->tenant, sizeof a->tenant);
}

uint64_t
inventory_topology_seq(const struct inventory *inv)
{
    return inv->topology_seq;
}

const char *
inventory_tunnel_name(enum inv_tunnel tunnel)
{
    switch (tunnel) {
    case INV_TUNNEL_VXLAN:
        return "vxlan";
    case INV_TUNNEL_GENEVE:
        return "geneve";
    case INV_TUNNEL_GRE:
        return "gre";
    case INV_TUNNEL_NONE:
    default:
        return "";
    }
}

/* ------------------------------------------------------------------ JSON */

/* 's', or null if it is "". */
static json_t *
json_opt_string(const char *s)
{
    return *s ? json_string(s) : json_null();
}

/* 'v', or null if it is negative. */
static json_t *
json_opt_int(int64_t v)
{
    return v >= 0 ? json_integer(v) : json_null();
}

static json_t *
json_addr(const struct vnm_addr *a)
{
    char buf[64];

    if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, buf,
                   sizeof buf)) {
        return json_null();
    }
    return json_string(buf);
}

static json_t *
json_int_array(const int64_t *v, size_t n)
{
    json_t *array = json_array();

    for (size_t i = 0; i < n; i++) {
        json_array_append_new(array, json_integer(v[i]));
    }
    return array;
}

static json_t *
json_string_array(const char *const *v, size_t n)
{
    json_t *array = json_array();

    for (size_t i = 0; i < n; i++) {
        json_array_append_new(array, json_string(v[i]));
    }
    return array;
}

static json_t *
interface_to_json(const struct inv_interface *iface)
{
    json_t *o = json_object();
    json_t *ips = json_array();
    json_t *tunnel;
    char mac[18];

    for (size_t i = 0; i < iface->n_ips; i++) {
        json_array_append_new(ips, json_addr(&iface->ips[i]));
    }
    if (iface->tunnel_type != INV_TUNNEL_NONE) {
        tunnel = json_pack("{s:s, s:o, s:o, s:o, s:o}",
                           "type", inventory_tunnel_name(iface->tunnel_type),
                           "key", json_opt_string(iface->tunnel_key),
                           "vni", (iface->tunnel_key_valid
                                   ? json_integer((json_int_t)
                                                  iface->tunnel_key_value)
                                   : json_null()),
                           "remote_ip", json_opt_string(iface->tunnel_remote),
                           "local_ip", json_opt_string(iface->tunnel_local));
    } else {
        tunnel = json_null();
    }
    if (iface->mac_valid) {
        snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x",
                 iface->mac[0], iface->mac[1], iface->mac[2], iface->mac[3],
                 iface->mac[4], iface->mac[5]);
    }
    json_object_set_new(o, "name", json_string(iface->name));
    json_object_set_new(o, "uuid", json_string(iface->uuid));
    json_object_set_new(o, "bridge", json_string(iface->bridge));
    json_object_set_new(o, "port", json_string(iface->port));
    json_object_set_new(o, "type", json_string(iface->type));
    json_object_set_new(o, "ofport", json_opt_int(iface->ofport));
    json_object_set_new(o, "ifindex", json_opt_int(iface->ifindex));
    json_object_set_new(o, "mac", (iface->mac_valid ? json_string(mac)
                                   : json_null()));
    json_object_set_new(o, "link_speed", json_opt_int(iface->link_speed));
    json_object_set_new(o, "admin_state",
                        json_opt_string(iface->admin_state));
    json_object_set_new(o, "link_state", json_opt_string(iface->link_state));
    json_object_set_new(o, "vlan_mode", json_opt_string(iface->vlan_mode));
    json_object_set_new(o, "tag", json_opt_int(iface->tag));
    json_object_set_new(o, "trunks", json_int_array(iface->trunks,
                                                    iface->n_trunks));
    json_object_set_new(o, "tunnel", tunnel);
    json_object_set_new(o, "iface_id", json_opt_string(iface->iface_id));
    json_object_set_new(o, "attached_mac",
                        json_opt_string(iface->attached_mac));
    json_object_set_new(o, "vm", json_opt_string(iface->vm));
    json_object_set_new(o, "tenant", json_opt_string(iface->tenant));
    json_object_set_new(o, "ips", ips);
    json_object_set_new(o, "statistics", json_pack(
                            "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                            "rx_packets", (json_int_t) iface->stats.rx_packets,
                            "rx_bytes", (json_int_t) iface->stats.rx_bytes,
                            "rx_dropped", (json_int_t) iface->stats.rx_dropped,
                            "rx_errors", (json_int_t) iface->stats.rx_errors,
                            "tx_packets", (json_int_t) iface->stats.tx_packets,
                            "tx_bytes", (json_int_t) iface->stats.tx_bytes,
                            "tx_dropped", (json_int_t) iface->stats.tx_dropped,
                            "tx_errors",
                            (json_int_t) iface->stats.tx_errors));
    return o;
}

json_t *
inventory_to_json(const struct inventory *inv)
{
    const struct inv_data *d = inv->data;
    struct inventory_stats st;
    json_t *bridges = json_array();
    json_t *ports = json_array();
    json_t *ifaces = json_array();
    json_t *mirrors = json_array();
    const char *remote = ovsdb_client_remote(inv->client);
    size_t i;

    for (i = 0; i < d->n_bridges; i++) {
        const struct inv_bridge *b = &d->bridges[i];
        json_t *names = json_array();

        for (size_t j = 0; j < b->n_ports; j++) {
            json_array_append_new(
                names, json_string(d->ports[b->first_port + j].name));
        }
        json_array_append_new(bridges, json_pack(
                                  "{s:s, s:o, s:o}", "name", b->name,
                                  "datapath_type",
                                  json_opt_string(b->datapath_type),
                                  "ports", names));
    }
    for (i = 0; i < d->n_ports; i++) {
        const struct inv_port *p = &d->ports[i];
        json_t *names = json_array();

        for (size_t j = 0; j < p->n_ifaces; j++) {
            json_array_append_new(
                names, json_string(d->ifaces[p->first_iface + j].name));
        }
        json_array_append_new(ports, json_pack(
                                  "{s:s, s:s, s:o, s:o, s:o, s:o}",
                                  "name", p->name, "bridge", p->bridge,
                                  "vlan_mode", json_opt_string(p->vlan_mode),
                                  "tag", json_opt_int(p->tag),
                                  "trunks", json_int_array(p->trunks,
                                                           p->n_trunks),
                                  "interfaces", names));
    }
    for (i = 0; i < d->n_ifaces; i++) {
        json_array_append_new(ifaces, interface_to_json(&d->ifaces[i]));
    }
    for (i = 0; i < d->n_mirrors; i++) {
        const struct inv_mirror *m = &d->mirrors[i];

        json_array_append_new(mirrors, json_pack(
                                  "{s:s, s:s, s:b, s:o, s:o, s:o, s:o}",
                                  "name", m->name, "bridge", m->bridge,
                                  "select_all", m->select_all,
                                  "select_src_port",
                                  json_string_array(m->select_src,
                                                    m->n_select_src),
                                  "select_dst_port",
                                  json_string_array(m->select_dst,
                                                    m->n_select_dst),
                                  "output_port",
                                  json_opt_string(m->output_port),
                                  "output_vlan",
                                  json_opt_int(m->output_vlan)));
    }

    inventory_get_stats(inv, &st);
    return json_pack("{s:i, s:o, s:b, s:b, s:I, s:I, s:{s:I, s:I, s:I, s:I,"
                     " s:I, s:I, s:I, s:I}, s:o, s:o, s:o, s:o}",
                     "version", INVENTORY_SCHEMA_VERSION,
                     "remote", remote ? json_string(remote) : json_null(),
                     "connected", st.connected,
                     "synced", st.synced,
                     "changed_ms", (json_int_t) st.last_change_ms,
                     "topology_seq", (json_int_t) st.topology_seq,
                     "stats",
                     "n_connects", (json_int_t) st.n_connects,
                     "n_reconnects", (json_int_t) st.n_reconnects,
                     "n_disconnects", (json_int_t) st.n_disconnects,
                     "n_resyncs", (json_int_t) st.n_resyncs,
                     "n_updates", (json_int_t) st.n_updates,
                     "n_protocol_errors", (json_int_t) st.n_protocol_errors,
                     "n_publishes", (json_int_t) st.n_publishes,
                     "last_change_ms", (json_int_t) st.last_change_ms,
                     "bridges", bridges,
                     "ports", ports,
                     "interfaces", ifaces,
                     "mirrors", mirrors);
}

/* ----------------------------------------------------------------- Redis */

/* Queues each tenant's part of snapshot 'snap' (INVENTORY_TENANT_KEY). */
static void
publish_tenants(const json_t *snap, struct vnm_redis *redis,
                const char *host_id, uint64_t now)
{
    const json_t *ifaces = json_object_get(snap, "interfaces");
    json_t *by_tenant = json_object();
    const json_t *iface;
    const char *tenant;
    json_t *list;
    size_t i;

    json_array_foreach (ifaces, i, iface) {
        tenant = json_string_value(json_object_get(iface, "tenant"));
        if (!tenant || !*tenant) {
            continue;
        }
        list = json_object_get(by_tenant, tenant);
        if (!list) {
            list = json_array();
            json_object_set_new(by_tenant, tenant, list);
        }
        json_array_append(list, (json_t *) iface);
    }
    json_object_foreach (by_tenant, tenant, list) {
        char *esc = bw_escape(tenant);
        char *key = xasprintf(INVENTORY_TENANT_KEY, esc, host_id);
        json_t *part = json_pack("{s:i, s:s, s:s, s:I, s:O}",
                                 "version", INVENTORY_SCHEMA_VERSION,
                                 "host", host_id, "tenant", tenant,
                                 "published_ms", (json_int_t) now,
                                 "interfaces", list);
        char *text = json_dumps(part, JSON_COMPACT);
        char ttl[16];

        vnm_assert(text);
        snprintf(ttl, sizeof ttl, "%d", INVENTORY_TENANT_TTL_S);
        {
            const char *argv[] = { "SET", key, text, "EX", ttl };
            size_t len[] = { 3, strlen(key), strlen(text), 2, strlen(ttl) };

            vnm_redis_append_argv(redis, 5, argv, len);
        }
        free(text);
        json_decref(part);
        free(key);
        free(esc);
    }
    json_decref(by_tenant);
}

void
inventory_publish(const struct inventory *inv, struct vnm_redis *redis,
                  const char *host_id)
{
    uint64_t now = vnm_time_wall_ms();
    json_t *snap = inventory_to_json(inv);
    char *key = xasprintf(INVENTORY_KEY, host_id);
    char *updated_key = xasprintf(INVENTORY_UPDATED_KEY, host_id);
    char *now_s = xasprintf("%"PRIu64, now);
    char *text;

    json_object_set_new(snap, "host", json_string(host_id));
    json_object_set_new(snap, "published_ms", json_integer((json_int_t) now));
    text = json_dumps(snap, JSON_COMPACT);
    vnm_assert(text);
    {
        const char *set1[] = { "SET", key, text };
        const char *set2[] = { "SET", updated_key, now_s };
        const char *sadd[] = { "SADD", INVENTORY_HOSTS_KEY, host_id };
        size_t len1[] = { 3, strlen(key), strlen(text) };
        size_t len2[] = { 3, strlen(updated_key), strlen(now_s) };
        size_t len3[] = { 4, strlen(INVENTORY_HOSTS_KEY), strlen(host_id) };

        vnm_redis_append_argv(redis, 3, set1, len1);
        vnm_redis_append_argv(redis, 3, set2, len2);
        vnm_redis_append_argv(redis, 3, sadd, len3);
    }
    publish_tenants(snap, redis, host_id, now);
    free(text);
    free(now_s);
    free(updated_key);
    free(key);
    json_decref(snap);
}

static void
add_timer_ms(struct event *ev, uint64_t ms)
{
    struct timeval tv = {
        .tv_sec = (time_t) (ms / 1000),
        .tv_usec = (suseconds_t) (ms % 1000) * 1000,
    };

    evtimer_add(ev, &tv);
}

/* Publishes soon: now, or INVENTORY_DEBOUNCE_MS after the last time. */
static void
schedule_publish(struct inventory *inv)
{
    uint64_t now, next;

    if (!inv->redis || evtimer_pending(inv->publish_ev, NULL)) {
        return;
    }
    now = vnm_time_mono_ms();
    next = inv->last_publish_mono + INVENTORY_DEBOUNCE_MS;
    add_timer_ms(inv->publish_ev, next > now ? next - now : 0);
}

static void
on_publish(evutil_socket_t fd, short what, void *inv_)
{
    struct inventory *inv = inv_;

    (void) fd;
    (void) what;
    if (!inv->redis) {
        return;
    }
    if (!vnm_redis_is_connected(inv->redis)) {
        add_timer_ms(inv->publish_ev, 1000);
        return;
    }
    inventory_publish(inv, inv->redis, inv->host_id);
    if (vnm_redis_flush(inv->redis)) {
        add_timer_ms(inv->publish_ev, 1000);
        return;
    }
    inv->last_publish_mono = vnm_time_mono_ms();
    inv->n_publishes++;
}

static void
on_refresh(evutil_socket_t fd, short what, void *inv_)
{
    (void) fd;
    (void) what;
    schedule_publish(inv_);
}

void
inventory_set_publisher(struct inventory *inv, struct vnm_redis *redis,
                        const char *host_id)
{
    vnm_assert(inv->base);
    free(inv->host_id);
    inv->host_id = NULL;
    inv->redis = redis;
    if (!inv->publish_ev) {
        inv->publish_ev = evtimer_new(inv->base, on_publish, inv);
        inv->refresh_ev = event_new(inv->base, -1, EV_PERSIST, on_refresh,
                                    inv);
        vnm_assert(inv->publish_ev && inv->refresh_ev);
    }
    evtimer_del(inv->publish_ev);
    evtimer_del(inv->refresh_ev);
    if (!redis) {
        return;
    }
    inv->host_id = xstrdup(host_id);
    add_timer_ms(inv->refresh_ev, INVENTORY_REFRESH_MS);
    schedule_publish(inv);
}

void
inventory_get_stats(const struct inventory *inv,
                    struct inventory_stats *stats)
{
    struct ovsdb_client_stats cs;

    ovsdb_client_get_stats(inv->client, &cs);
    memset(stats, 0, sizeof *stats);
    stats->connected = cs.connected;
    stats->n_connects = cs.n_connects;
    stats->n_reconnects = cs.n_reconnects;
    stats->n_resyncs = cs.n_resyncs;
    stats->n_updates = cs.n_updates;
    stats->last_change_ms = cs.last_change_ms;
    stats->synced = cs.synced;
    stats->n_disconnects = cs.n_disconnects;
    stats->n_protocol_errors = cs.n_protocol_errors;
    stats->n_publishes = inv->n_publishes;
    stats->topology_seq = inv->topology_seq;
    stats->n_interfaces = inv->data->n_ifaces;
}

struct ovsdb_client *
inventory_ovsdb(struct inventory *inv)
{
    return inv->client;
}

int
inventory_receive(struct inventory *inv, const void *data, size_t n)
{
    return ovsdb_client_receive(inv->client, data, n);
}

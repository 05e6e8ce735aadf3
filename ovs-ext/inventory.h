/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live OVS inventory: bridges, ports, interfaces and mirrors, rebuilt
 * from the OVSDB replica (ovsdb.c) after every update, with hash lookups by
 * interface name, ifindex, (bridge, ofport) and VM address, and published
 * to Redis for `vnmonctl inventory`.
 *
 * What an interface carries comes from its Interface row (ofport, ifindex,
 * type, mac_in_use, link_speed, admin/link state, statistics, tunnel
 * options) and external_ids: "iface-id", "attached-mac", "vm-uuid" (else
 * "vm-id"), which libvirt and OpenStack set, and vnmon's own "vnmon-tenant"
 * and "vnmon-ips" (comma-separated addresses, an optional /prefix ignored);
 * and from its Port row (vlan_mode, tag, trunks).  Only interfaces of ports
 * of bridges are listed.
 *
 * ovsdb-server does not keep ofport, ifindex, mac_in_use and statistics
 * across a restart (ephemeral columns): until ovs-vswitchd writes them
 * again, an interface keeps the values it had before (same row UUID), so
 * that attribution survives the restart.
 *
 * Lifetime: every pointer the inventory hands out (interfaces and the
 * strings and arrays they point to) stays valid until control returns to
 * the event loop after the next change callback; copy what must live
 * longer.  Strings are never null ("" when absent).
 *
 * Redis (doc/redis-keys.md, "Inventory"): inventory_publish() writes the
 * snapshot of inventory_to_json() to INVENTORY_KEY, its time to
 * INVENTORY_UPDATED_KEY and the host id to the set INVENTORY_HOSTS_KEY.
 * With inventory_set_publisher() the inventory does so by itself, at most
 * every 100 ms after changes and every 30 s regardless.
 *
 * Everything runs on the thread of the event base; nothing is thread-safe.
 */
#ifndef VNM_INVENTORY_H
#define VNM_INVENTORY_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnmon/flow.h"

struct event_base;
struct json_t;
struct ovsdb_client;
struct vnm_redis;

/* Redis keys, formatted with the host id. */
#define INVENTORY_KEY "vnm:{%s}:inventory"
#define INVENTORY_UPDATED_KEY "vnm:{%s}:inventory:updated_ms"
/* A tenant's part of a host's inventory, for its own Redis user: the
 * snapshot's "interfaces" of that tenant only, with "host", "tenant",
 * "published_ms" and "version"; formatted with the escaped tenant
 * (bw_escape()) and the host id.  It expires after
 * INVENTORY_TENANT_TTL_S without a publication (a tenant that left). */
#define INVENTORY_TENANT_KEY "vnm:t:%s:{%s}:inventory"
#define INVENTORY_TENANT_TTL_S (3 * INVENTORY_REFRESH_MS / 1000)
/* The set of host ids that published an inventory. */
#define INVENTORY_HOSTS_KEY "vnm:inventory:hosts"
/* Version of the JSON snapshot's schema ("version" member). */
#define INVENTORY_SCHEMA_VERSION 1
/* How often the snapshot is refreshed in Redis without changes, in ms. */
#define INVENTORY_REFRESH_MS 30000
/* Shortest interval between two publications, in ms. */
#define INVENTORY_DEBOUNCE_MS 100

/* Tunnel kinds, with the values of 'tunnel_type' in struct vnm_flow. */
enum inv_tunnel {
    INV_TUNNEL_NONE = 0,
    INV_TUNNEL_VXLAN = 1,       /* Interface type "vxlan". */
    INV_TUNNEL_GENEVE = 2,      /* "geneve". */
    INV_TUNNEL_GRE = 3,         /* "gre", "ip6gre". */
};

/* Interface counters (Interface "statistics"); 0 if OVS reports none. */
struct inv_stats {
    uint64_t rx_packets;        /* Packets received by the interface. */
    uint64_t rx_bytes;          /* Their bytes. */
    uint64_t rx_dropped;        /* Received packets dropped. */
    uint64_t rx_errors;         /* Receive errors. */
    uint64_t tx_packets;        /* Packets sent by the interface. */
    uint64_t tx_bytes;          /* Their bytes. */
    uint64_t tx_dropped;        /* Packets to send dropped. */
    uint64_t tx_errors;         /* Send errors. */
};

/* One OVS interface, with its port and bridge. */
struct inv_interface {
    const char *uuid;           /* Interface row UUID. */
    const char *name;           /* Interface name (the netdev's). */
    const char *bridge;         /* Name of its bridge. */
    const char *port;           /* Name of its port (differs for bonds). */
    const char *type;           /* "" (system), "internal", "vxlan"... */
    int64_t ofport;             /* OpenFlow port, -1 if none or failed. */
    int64_t ifindex;            /* Kernel ifindex, -1 if unknown, 0 if
                                 * none. */
    uint8_t mac[6];             /* mac_in_use, if 'mac_valid'. */
    bool mac_valid;             /* True if 'mac' holds mac_in_use. */
    int64_t link_speed;         /* In bit/s, -1 if unknown. */
    const char *admin_state;    /* "up", "down" or "". */
    const char *link_state;     /* "up", "down" or "". */

    const char *vlan_mode;      /* Port vlan_mode, "" if unset. */
    int64_t tag;                /* Port tag, -1 if none. */
    const int64_t *trunks;      /* Port trunks ('n_trunks' VLANs). */
    size_t n_trunks;            /* Entries of 'trunks'. */

    enum inv_tunnel tunnel_type; /* From 'type'. */
    const char *tunnel_key;     /* options:key (else in_key) as written:
                                 * "100", "0x64", "flow", or "". */
    bool tunnel_key_valid;      /* True if 'tunnel_key' is a number... */
    uint64_t tunnel_key_value;  /* ...this one (the VNI, GRE key). */
    const char *tunnel_remote;  /* options:remote_ip as written, or "". */
    const char *tunnel_local;   /* options:local_ip as written, or "". */
    struct vnm_addr tunnel_remote_ip; /* Parsed; family 0 if none/"flow". */
    struct vnm_addr tunnel_local_ip;  /* Parsed; family 0 if none/"flow". */

    const char *iface_id;       /* external_ids:iface-id. */
    const char *attached_mac;   /* external_ids:attached-mac. */
    const char *vm;             /* external_ids:vm-uuid, else vm-id. */
    const char *tenant;         /* external_ids:vnmon-tenant. */
    const struct vnm_addr *ips; /* external_ids:vnmon-ips, parsed. */
    size_t n_ips;               /* Entries of 'ips'. */

    struct inv_stats stats;     /* Interface counters. */
};

/* Called on the loop thread after each applied update or resync.  It must
 * not destroy the inventory. */
typedef void inventory_change_func(void *aux);

/* Connection and update statistics. */
struct inventory_stats {
    bool connected;             /* Connected to ovsdb-server. */
    uint64_t n_connects;        /* Connections made. */
    uint64_t n_reconnects;      /* Connections made after one was lost or
                                 * failed. */
    uint64_t n_resyncs;         /* Full resyncs (monitor replies after the
                                 * first). */
    uint64_t n_updates;         /* Update notifications applied. */
    uint64_t last_change_ms;    /* Wall clock of the last update or sync,
                                 * 0 if none. */
    bool synced;                /* inventory_is_synced(). */
    uint64_t n_disconnects;     /* Connections lost or attempts failed. */
    uint64_t n_protocol_errors; /* Garbage or bad replies (reconnected). */
    uint64_t n_publishes;       /* Snapshots written by the publisher. */
    uint64_t topology_seq;      /* inventory_topology_seq(). */
    size_t n_interfaces;        /* inventory_n_interfaces(). */
};

struct inventory;

/* Creates an inventory of the OVSDB at 'remote' ("unix:PATH" or
 * "tcp:IP:PORT", see ovsdb_remote_valid()) that connects from the loop of
 * 'base' and calls 'cb' (may be null) with 'aux' after each change.
 *
 * A null 'remote' makes an inventory that never connects and is fed with
 * inventory_receive() (tests and fuzzing); 'base' may then be null. */
struct inventory *inventory_create(struct event_base *base,
                                   const char *remote,
                                   inventory_change_func *cb, void *aux);
/* Disconnects and frees the inventory.  Accepts null. */
void inventory_destroy(struct inventory *);

/* True if connected and the monitor reply of this connection applied.
 * While false after a loss, the inventory keeps the last known state. */
bool inventory_is_synced(const struct inventory *);

/* Iteration over interfaces, ordered by bridge, port and name. */
size_t inventory_n_interfaces(const struct inventory *);
const struct inv_interface *inventory_interface(const struct inventory *,
                                                size_t i);

/* Lookups, O(1): null if there is no such interface.  By ifindex and
 * ofport, only positive values are indexed.  By IP, the addresses of
 * "vnmon-ips"; if two interfaces claim one address, the first in
 * iteration order wins. */
const struct inv_interface *inventory_find_by_name(const struct inventory *,
                                                   const char *name);
const struct inv_interface *inventory_find_by_ifindex(
    const struct inventory *, int64_t ifindex);
const struct inv_interface *inventory_find_by_ofport(
    const struct inventory *, const char *bridge, int64_t ofport);
const struct inv_interface *inventory_find_by_ip(const struct inventory *,
                                                 const struct vnm_addr *);

/* Fills '*a' from 'iface' (strings truncated to the ABI's arrays; ofport
 * -1 if it does not fit). */
void inventory_attribution(const struct inv_interface *iface,
                           struct vnm_attribution *a);

/* Incremented by each change to anything but the interfaces' counters,
 * link speed and admin/link state: a caller that builds its own maps
 * from the inventory (per-port attribution) needs to rebuild them only
 * when this moves. */
uint64_t inventory_topology_seq(const struct inventory *);

/* The full snapshot, schema in doc/redis-keys.md ("Inventory").  The
 * caller owns it (json_decref()). */
struct json_t *inventory_to_json(const struct inventory *);

/* Queues (pipelined, vnm_redis_append*()) the writes of the snapshot for
 * host 'host_id' on 'redis': SET INVENTORY_KEY, SET INVENTORY_UPDATED_KEY,
 * SADD INVENTORY_HOSTS_KEY, and for each tenant with an interface, SET
 * INVENTORY_TENANT_KEY EX INVENTORY_TENANT_TTL_S.  The caller flushes (vnm_redis_flush()).
 * Commands are dropped, as usual, if Redis is down. */
void inventory_publish(const struct inventory *, struct vnm_redis *redis,
                       const char *host_id);

/* Makes the inventory publish itself to 'redis' as 'host_id' (copied): at
 * most every INVENTORY_DEBOUNCE_MS after changes and connection state
 * changes, and every INVENTORY_REFRESH_MS; each time it appends and
 * flushes.  While Redis is down it retries every second (someone must call
 * vnm_redis_run(), as the daemon's tick does).  'redis' is borrowed and must
 * outlive the inventory or a later call with null 'redis', which stops
 * publishing.  Needs the inventory's event base. */
void inventory_set_publisher(struct inventory *, struct vnm_redis *redis,
                             const char *host_id);

/* Copies the statistics into '*stats'. */
void inventory_get_stats(const struct inventory *,
                         struct inventory_stats *stats);

/* The OVSDB client underneath (tuning in tests: backoff, probes). */
struct ovsdb_client *inventory_ovsdb(struct inventory *);

/* For an inventory without remote: processes 'n' bytes of 'data' as if
 * received from ovsdb-server.  Returns 0 or a protocol error (EPROTO,
 * EMSGSIZE), after which the stream starts afresh. */
int inventory_receive(struct inventory *, const void *data, size_t n);

/* The name of 'tunnel': "vxlan", "geneve", "gre" or "". */
const char *inventory_tunnel_name(enum inv_tunnel tunnel);

#endif /* inventory.h */

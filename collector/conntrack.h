/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection tracking in the agent: the host's kernel conntrack (through
 * libnetfilter_conntrack: NEW, UPDATE and DESTROY events, plus a periodic
 * full dump) and, when a bridge uses the userspace datapath, OVS's own
 * conntrack (polled through ovs-vswitchd's control socket,
 * ovs-conntrack.h), merged into one bounded table of current connections.
 * Once a second it writes, per VM, per tenant and for the host,
 * connections by state, half-open connections, new connections per second
 * and top peers, and per VM a bounded list of recent NEW and DESTROY
 * events (doc/redis-keys.md, "Conntrack").
 *
 * Layers, so that the accounting is tested without netlink or OVS:
 *
 *   ct_conn      one connection as a source reports it;
 *   ct_summary   what a set of connections adds up to (states, half-open);
 *   ct_vmmap     attribution: which VM an address belongs to (rebuilt from
 *                the inventory when its topology changes; other address
 *                sources can feed ct_vmmap_add() too);
 *   ct_core      the table, the per-VM/tenant/host scopes, the events and
 *                the Redis writes, driven by calls only;
 *   conntrack    the agent's module: netlink sockets, the OVS client,
 *                timers on the agent's libevent loop, configuration, status.
 *
 * What a connection is.  An entry is keyed by (source, zone, protocol,
 * original tuple).  The same connection may be tracked more than once
 * (by OVS and by the host stack, or in several kernel zones): entries
 * with the same protocol and original tuple count as one connection,
 * represented by the kernel's before OVS's and the lowest zone first.
 * "Open" connections are all but TCP TIME_WAIT and CLOSE ones: a closed
 * TCP connection lingers in conntrack for minutes but is not open.
 *
 * Everything runs on the agent's main thread; nothing is thread-safe.
 */
#ifndef VNM_COLLECTOR_CONNTRACK_H
#define VNM_COLLECTOR_CONNTRACK_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "vnmon/flow.h"

struct event_base;
struct inventory;
struct json_t;
struct vnm_conf;
struct vnm_redis;

/* ------------------------------------------------------------ connection */

/* Where an entry comes from. */
enum ct_source {
    CT_SRC_KERNEL,              /* Kernel conntrack of the agent's netns. */
    CT_SRC_OVS,                 /* ovs-vswitchd's userspace conntrack. */
    CT_N_SOURCES
};

/* TCP states, numbered as the kernel's enum tcp_conntrack.  OVS's states
 * are mapped onto these (ovs-conntrack.c). */
enum ct_tcp_state {
    CT_TCP_NONE,
    CT_TCP_SYN_SENT,
    CT_TCP_SYN_RECV,
    CT_TCP_ESTABLISHED,
    CT_TCP_FIN_WAIT,
    CT_TCP_CLOSE_WAIT,
    CT_TCP_LAST_ACK,
    CT_TCP_TIME_WAIT,
    CT_TCP_CLOSE,
    CT_TCP_SYN_SENT2,           /* Simultaneous open. */
    CT_TCP_N_STATES
};

/* Which optional members of a ct_conn are known. */
enum {
    CT_HAS_STATE = 1 << 0,      /* 'tcp_state'. */
    CT_HAS_MARK = 1 << 1,       /* 'mark'. */
    CT_HAS_COUNTERS = 1 << 2,   /* 'packets', 'bytes' (nf_conntrack_acct). */
    CT_HAS_START = 1 << 3,      /* 'start_ns' (nf_conntrack_timestamp). */
    CT_HAS_STOP = 1 << 4,       /* 'stop_ns' (DESTROY, with timestamps). */
    CT_HAS_ID = 1 << 5,         /* 'id'. */
};

/* One tracked connection, as its source reports it.  Addresses and ports
 * are those of the original direction (the initiator's packets). */
struct ct_conn {
    uint8_t source;             /* enum ct_source. */
    uint8_t proto;              /* IP protocol: IPPROTO_TCP... */
    uint8_t tcp_state;          /* enum ct_tcp_state, TCP only. */
    uint8_t has;                /* CT_HAS_* bits. */
    uint16_t zone;              /* Conntrack zone, 0 by default. */
    uint16_t sport;             /* Source port; ICMP: identifier. */
    uint16_t dport;             /* Destination port; ICMP: type << 8 |
                                 * code.  Host byte order, both. */
    uint32_t mark;              /* Connection mark. */
    uint32_t id;                /* Kernel conntrack id. */
    struct vnm_addr src, dst;   /* Original source and destination. */
    uint64_t packets[2];        /* Original, reply direction. */
    uint64_t bytes[2];
    uint64_t start_ns, stop_ns; /* Wall clock, ns since the epoch. */
};

/* True if 'c' is ICMP or ICMPv6 (ports hold identifier, type and code). */
bool ct_conn_is_icmp(const struct ct_conn *c);

/* "SYN_SENT", "ESTABLISHED"... and back (-1 if unknown). */
const char *ct_tcp_state_name(enum ct_tcp_state);
int ct_tcp_state_from_name(const char *);
/* "kernel" or "ovs". */
const char *ct_source_name(enum ct_source);
/* True if 'c' is TCP and half-open (SYN_SENT, SYN_RECV, SYN_SENT2). */
bool ct_conn_is_half_open(const struct ct_conn *c);
/* True if 'c' is open: anything but TCP TIME_WAIT and CLOSE. */
bool ct_conn_is_open(const struct ct_conn *c);

/* The JSON of one event of 'c' ("new" or "destroy", at 'time_ms' wall
 * clock): protocol, addresses, ports (or ICMP type, code, id), zone,
 * mark, state, and what is known of counters and timestamps.  The caller
 * owns it. */
struct json_t *ct_conn_event_json(const struct ct_conn *c, const char *type,
                                  uint64_t time_ms);

/* --------------------------------------------------------------- summary */

/* What a set of connections adds up to. */
struct ct_summary {
    uint64_t total;             /* Connections, open or not. */
    uint64_t open;              /* ct_conn_is_open(). */
    uint64_t half_open;         /* ct_conn_is_half_open(). */
    uint64_t tcp[CT_TCP_N_STATES]; /* TCP connections by state. */
    uint64_t udp;               /* UDP and UDP-Lite. */
    uint64_t icmp;              /* ICMP and ICMPv6. */
    uint64_t other;             /* Any other protocol. */
    uint64_t by_source[CT_N_SOURCES];
};

/* Adds 'c' to 's'. */
void ct_summary_add(struct ct_summary *s, const struct ct_conn *c);

/* ------------------------------------------------------------ attribution */

/* Addresses to VMs.  VMs are numbered from 0 in the order they were first
 * added; a VM belongs to at most one tenant. */
struct ct_vmmap;

struct ct_vmmap *ct_vmmap_create(void);
void ct_vmmap_destroy(struct ct_vmmap *);

/* Adds address 'addr' to VM 'vm' (created with 'tenant', "" for none, and
 * display name 'name' the first time it is seen; strings are copied).  If
 * another VM already claims 'addr', the first one keeps it. */
void ct_vmmap_add(struct ct_vmmap *, const char *vm, const char *tenant,
                  const char *name, const struct vnm_addr *addr);

/* A map of the VM interfaces of 'inv': each interface with a VM id and
 * addresses (external_ids vm-uuid or vm-id, vnmon-ips, vnmon-tenant). */
struct ct_vmmap *ct_vmmap_from_inventory(const struct inventory *inv);

/* The VM that owns 'addr', or -1. */
int ct_vmmap_lookup(const struct ct_vmmap *, const struct vnm_addr *addr);
/* The VM whose id is 'vm', or -1. */
int ct_vmmap_find(const struct ct_vmmap *, const char *vm);

/* VMs and tenants. */
size_t ct_vmmap_n_vms(const struct ct_vmmap *);
const char *ct_vmmap_vm_id(const struct ct_vmmap *, size_t vm);
const char *ct_vmmap_vm_name(const struct ct_vmmap *, size_t vm);
/* The tenant index of 'vm', or -1 if it has none. */
int ct_vmmap_vm_tenant(const struct ct_vmmap *, size_t vm);
size_t ct_vmmap_n_tenants(const struct ct_vmmap *);
const char *ct_vmmap_tenant_name(const struct ct_vmmap *, size_t tenant);

/* ------------------------------------------------------------------ core */

/* Top entries listed per scope. */
#define CT_TOP_N 10

/* TTL of the summaries in Redis: a few seconds beyond their 1-s period,
 * so that a dead agent's summaries disappear. */
#define CT_SUMMARY_TTL_S 5
/* Summary writes between two additions of the host to each tenant's list
 * of hosts ("vnm:t:T:bw:hosts"; also at once after a new VM map). */
#define CT_HOSTS_EVERY 60
/* TTL of a VM's event list after its last event. */
#define CT_EVENTS_TTL_S 86400

/* What happened to a connection. */
enum ct_event_type {
    CT_EV_NEW,
    CT_EV_UPDATE,
    CT_EV_DESTROY,
};

/* Table and scope counters. */
struct ct_core_stats {
    uint64_t n_entries;         /* Entries now. */
    uint64_t n_by_source[CT_N_SOURCES]; /* Entries now, per source. */
    uint64_t n_connections;     /* Distinct connections at the last scan. */
    uint64_t n_duplicates;      /* Entries tracking a connection another
                                 * entry already counts (last scan). */
    uint64_t n_over_cap;        /* Entries refused: table full. */
    uint64_t n_new;             /* New connections counted. */
    uint64_t n_destroyed;       /* Entries removed. */
    uint64_t n_swept;           /* Removed by a sync: their end was
                                 * missed. */
    uint64_t n_events_dropped;  /* Events that did not fit a VM's list. */
};

struct ct_core;

/* Creates a table of at most 'max' entries for host 'host' (copied), that
 * keeps up to 'events' recent events per VM (0: none).  It starts with an
 * empty map. */
struct ct_core *ct_core_create(const char *host, size_t max, size_t events);
void ct_core_destroy(struct ct_core *);

/* Replaces the map (takes ownership of 'map').  VMs and tenants keep
 * their counters and pending events by id across the change. */
void ct_core_set_vmmap(struct ct_core *, struct ct_vmmap *map);
const struct ct_vmmap *ct_core_vmmap(const struct ct_core *);

/* An event of 'c' at 'now_ms' (wall clock).  NEW and UPDATE insert or
 * update the entry (UPDATE keeps what 'c' does not say, see 'has'),
 * DESTROY removes it.  A NEW connection (no other entry with its tuple)
 * counts in "new" and goes to its VMs' event lists, as does the DESTROY
 * of its last entry. */
void ct_core_event(struct ct_core *, enum ct_event_type,
                   const struct ct_conn *c, uint64_t now_ms);

/* A full dump of 'source': ct_core_sync_begin(), ct_core_sync_add() for
 * each connection, ct_core_sync_end() removes the entries of 'source'
 * that the dump did not report.  With 'count_new', connections found by
 * the dump and not known before count as new (events may have been lost;
 * not on the first dump). */
void ct_core_sync_begin(struct ct_core *, enum ct_source);
void ct_core_sync_add(struct ct_core *, const struct ct_conn *c,
                      bool count_new, uint64_t now_ms);
void ct_core_sync_end(struct ct_core *, enum ct_source, uint64_t now_ms);
/* Removes every entry of 'source' (it went away). */
void ct_core_drop_source(struct ct_core *, enum ct_source, uint64_t now_ms);

/* Recomputes every summary from the table (a full scan) and ends the
 * current second of "new" counts.  Call it once a second. */
void ct_core_tick(struct ct_core *);

/* The summaries of the last tick, as written to Redis (doc/redis-keys.md):
 * of VM 'vm', of tenant 'tenant', of the host.  The caller owns them. */
struct json_t *ct_core_vm_json(const struct ct_core *, size_t vm,
                               uint64_t now_ms);
struct json_t *ct_core_tenant_json(const struct ct_core *, size_t tenant,
                                   uint64_t now_ms);
struct json_t *ct_core_host_json(const struct ct_core *, uint64_t now_ms);
/* The summary counts of the last tick, for tests. */
const struct ct_summary *ct_core_vm_summary(const struct ct_core *,
                                            size_t vm);
const struct ct_summary *ct_core_host_summary(const struct ct_core *);

/* Appends (pipelined) the writes of the last tick's summaries and of the
 * pending events to 'redis', and forgets the events.  The daemon's
 * heartbeat flushes them. */
void ct_core_write(struct ct_core *, struct vnm_redis *redis,
                   uint64_t now_ms);

/* Pending events of VM 'vm', oldest first, as JSON text; for tests.  The
 * caller frees the array and its strings. */
char **ct_core_vm_events(const struct ct_core *, size_t vm, size_t *n);

void ct_core_get_stats(const struct ct_core *, struct ct_core_stats *);

/* ---------------------------------------------------------------- module */

/* When to poll OVS's userspace conntrack. */
enum ct_ovs_mode {
    CT_OVS_OFF,
    CT_OVS_ON,                  /* Always. */
    CT_OVS_AUTO,                /* While a bridge has datapath_type
                                 * netdev. */
};

/* [collector] settings (doc/configuration.md). */
struct conntrack_config {
    bool enabled;               /* conntrack */
    int64_t dump_ms;            /* conntrack_dump */
    int64_t max;                /* conntrack_max */
    int64_t events;             /* conntrack_events */
    bool accounting;            /* conntrack_accounting */
    enum ct_ovs_mode ovs;       /* ovs_conntrack */
};

/* Reads the conntrack keys of [collector] 'conf' (may be null).  Returns
 * NULL or a malloc'd "FILE:LINE: KEY: reason". */
char *conntrack_config_read(const struct vnm_conf *conf,
                            struct conntrack_config *) VNM_WARN_UNUSED;

struct conntrack;

/* Starts conntrack collection on 'base' as 'cfg' (copied) says, writing
 * to 'redis' (borrowed) as 'host' (copied).  Attribution and datapath
 * types come from 'inv' (borrowed: it must outlive the module; may be
 * null).  OVS is reached through 'ovs_rundir' ([ovs] rundir, where
 * ovs-vswitchd.pid and its control socket are).  Never fails: what is
 * unavailable (netlink, ovs-vswitchd) is logged and retried.  Returns null
 * if 'cfg' disables conntrack. */
struct conntrack *conntrack_create(const struct conntrack_config *cfg,
                                   struct event_base *base,
                                   struct vnm_redis *redis, const char *host,
                                   const struct inventory *inv,
                                   const char *ovs_rundir);
/* Stops and frees.  Accepts null. */
void conntrack_destroy(struct conntrack *);

/* The per-second work, to call once a second before the daemon's
 * heartbeat flushes Redis: attribution when the inventory changed, dumps
 * and polls when due, and the summaries and events appended to Redis.
 * Accepts null. */
void conntrack_run(struct conntrack *, uint64_t now_ms);

/* Adds "conntrack" to the status object.  Accepts null. */
void conntrack_status(const struct conntrack *, struct json_t *status);

#endif /* conntrack.h */

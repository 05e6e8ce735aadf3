/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port maps: how worker threads turn "the frame came in on ifindex 7" or
 * "on OpenFlow port 3 of br0" into a stable port id, and a port id into the
 * attribution of a flow record (port, ofport, iface-id, VM, tenant) --
 * without a lock on the per-packet path.
 *
 * The main thread owns a 'struct port_registry' (names to stable ids, never
 * reused within a run) and, on each inventory change, builds a new
 * immutable 'struct port_map' and publishes it with port_map_publish().
 * Workers read the current map with port_map_current() and, once per loop,
 * report a quiescent state with port_map_quiesce(); a retired map is freed
 * by port_map_reclaim() on the main thread once every worker has been
 * quiescent since it was retired (epoch-based reclamation).
 */
#ifndef VNM_PORT_MAP_H
#define VNM_PORT_MAP_H 1

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnmon/flow.h"

/* What a port map knows of one port. */
struct port_info {
    struct vnm_attribution attr; /* Port name, ofport, iface-id, VM, tenant. */
    char bridge[VNM_PORT_NAME_SIZE];
    int32_t ifindex;            /* Kernel ifindex, or -1. */
    bool is_vm;                 /* attr names a VM. */
};

/* An immutable snapshot.  Port ids index 'ports' (id 0 is "unknown"). */
struct port_map {
    uint32_t n_ports;           /* Entries of 'ports', id 0 included. */
    struct port_info *ports;
    uint32_t n_ifindex;         /* Entries of 'by_ifindex'. */
    uint32_t *by_ifindex;       /* ifindex -> id (0 if none). */
    struct port_map *retired_next; /* Main thread's retirement list. */
    uint64_t retired_epoch;
};

/* Names to stable ids (main thread only). */
struct port_registry;

struct port_registry *port_registry_create(void);
void port_registry_destroy(struct port_registry *);
/* The id of port 'name' of 'bridge', assigning the next free one the first
 * time. */
uint32_t port_registry_id(struct port_registry *, const char *bridge,
                          const char *name);

/* Builds a map with 'n' ports whose ids come from 'ids' (parallel to
 * 'infos').  Takes no ownership. */
struct port_map *port_map_build(const uint32_t *ids,
                                const struct port_info *infos, size_t n);
void port_map_free(struct port_map *);

/* Lookups on a map (any thread holding it). */
static inline uint32_t
port_map_by_ifindex(const struct port_map *map, int32_t ifindex)
{
    return (map && ifindex >= 0 && (uint32_t) ifindex < map->n_ifindex
            ? map->by_ifindex[ifindex] : 0);
}

static inline const struct port_info *
port_map_get(const struct port_map *map, uint32_t id)
{
    return map && id && id < map->n_ports ? &map->ports[id] : NULL;
}

/* The id of the port of 'bridge' with OpenFlow port 'ofport', or 0.  A
 * linear scan: for the main thread, or for a tap's per-worker cache. */
uint32_t port_map_by_ofport(const struct port_map *, const char *bridge,
                            int32_t ofport);

/* Publication and reclamation, for 'n_workers' readers. */
struct port_map_rcu {
    _Atomic(struct port_map *) current;
    atomic_uint_fast64_t epoch;           /* Bumped at each publish. */
    atomic_uint_fast64_t *worker_epochs;  /* Last epoch each worker saw. */
    size_t n_workers;
    struct port_map *retired;             /* Oldest last. */
};

void port_map_rcu_init(struct port_map_rcu *, size_t n_workers);
/* Frees every map, current and retired.  Workers must be stopped. */
void port_map_rcu_uninit(struct port_map_rcu *);
/* Makes 'map' current (takes ownership) and retires the previous one. */
void port_map_publish(struct port_map_rcu *, struct port_map *map);
/* Frees retired maps no worker can still hold. */
void port_map_reclaim(struct port_map_rcu *);

/* Worker side: the current map, valid until the worker's next
 * port_map_quiesce(). */
static inline const struct port_map *
port_map_current(struct port_map_rcu *rcu)
{
    return atomic_load_explicit(&rcu->current, memory_order_acquire);
}

/* Worker 'w' holds no map any more (call once per loop iteration). */
static inline void
port_map_quiesce(struct port_map_rcu *rcu, size_t w)
{
    atomic_store_explicit(&rcu->worker_epochs[w],
                          atomic_load_explicit(&rcu->epoch,
                                               memory_order_acquire),
                          memory_order_release);
}

#endif /* port-map.h */

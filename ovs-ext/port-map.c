/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port maps and their lock-free publication: see port-map.h.
 */
#include <config.h>

#include "ovs-ext/port-map.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

struct registry_entry {
    char *bridge;
    char *name;
    uint32_t id;
};

struct port_registry {
    struct registry_entry *entries;
    size_t n, allocated;
    uint32_t next_id;
};

struct port_registry *
port_registry_create(void)
{
    struct port_registry *r = xzalloc(sizeof *r);

    r->next_id = 1;
    return r;
}

void
port_registry_destroy(struct port_registry *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        free(r->entries[i].bridge);
        free(r->entries[i].name);
    }
    free(r->entries);
    free(r);
}

uint32_t
port_registry_id(struct port_registry *r, const char *bridge,
                 const char *name)
{
    struct registry_entry *e;

    /* Ports number in the hundreds and change rarely: a scan is fine. */
    for (size_t i = 0; i < r->n; i++) {
        e = &r->entries[i];
        if (!strcmp(e->name, name) && !strcmp(e->bridge, bridge)) {
            return e->id;
        }
    }
    if (r->n == r->allocated) {
        r->allocated = r->allocated ? 2 * r->allocated : 64;
        r->entries = xrealloc(r->entries, r->allocated * sizeof *r->entries);
    }
    e = &r->entries[r->n++];
    e->bridge = xstrdup(bridge);
    e->name = xstrdup(name);
    e->id = r->next_id++;
    return e->id;
}

struct port_map *
port_map_build(const uint32_t *ids, const struct port_info *infos, size_t n)
{
    struct port_map *map = xzalloc(sizeof *map);
    uint32_t max_id = 0;
    int32_t max_ifindex = -1;

    for (size_t i = 0; i < n; i++) {
        max_id = ids[i] > max_id ? ids[i] : max_id;
        if (infos[i].ifindex > max_ifindex && infos[i].ifindex < (1 << 20)) {
            max_ifindex = infos[i].ifindex;
        }
    }
    map->n_ports = max_id + 1;
    map->ports = xcalloc(map->n_ports, sizeof *map->ports);
    map->n_ifindex = (uint32_t) (max_ifindex + 1);
    map->by_ifindex = xcalloc(map->n_ifindex ? map->n_ifindex : 1,
                              sizeof *map->by_ifindex);
    map->ports[0].attr.ofport = -1;
    map->ports[0].ifindex = -1;
    for (size_t i = 0; i < n; i++) {
        map->ports[ids[i]] = infos[i];
        if (infos[i].ifindex >= 0
            && (uint32_t) infos[i].ifindex < map->n_ifindex) {
            map->by_ifindex[infos[i].ifindex] = ids[i];
        }
    }
    return map;
}

void
port_map_free(struct port_map *map)
{
    if (map) {
        free(map->ports);
        free(map->by_ifindex);
        free(map);
    }
}

uint32_t
port_map_by_ofport(const struct port_map *map, const char *bridge,
                   int32_t ofport)
{
    for (uint32_t id = 1; map && id < map->n_ports; id++) {
        const struct port_info *p = &map->ports[id];

        if (p->attr.ofport == ofport && !strcmp(p->bridge, bridge)) {
            return id;
        }
    }
    return 0;
}

void
port_map_rcu_init(struct port_map_rcu *rcu, size_t n_workers)
{
    atomic_init(&rcu->current, NULL);
    atomic_init(&rcu->epoch, 1);
    rcu->n_workers = n_workers;
    rcu->worker_epochs = xcalloc(n_workers ? n_workers : 1,
                                 sizeof *rcu->worker_epochs);
    for (size_t i = 0; i < n_workers; i++) {
        atomic_init(&rcu->worker_epochs[i], 1);
    }
    rcu->retired = NULL;
}

void
port_map_rcu_uninit(struct port_map_rcu *rcu)
{
    struct port_map *map = atomic_load(&rcu->current);

    port_map_free(map);
    while (rcu->retired) {
        map = rcu->retired;
        rcu->retired = map->retired_next;
        port_map_free(map);
    }
    free(rcu->worker_epochs);
    rcu->worker_epochs = NULL;
}

void
port_map_publish(struct port_map_rcu *rcu, struct port_map *map)
{
    struct port_map *old = atomic_exchange_explicit(&rcu->current, map,
                                                    memory_order_acq_rel);
    uint64_t epoch = atomic_fetch_add_explicit(&rcu->epoch, 1,
                                               memory_order_acq_rel) + 1;

    if (old) {
        /* A worker that saw an epoch >= 'epoch' loaded 'current' after the
         * exchange, so it cannot hold 'old'. */
        old->retired_epoch = epoch;
        old->retired_next = rcu->retired;
        rcu->retired = old;
    }
    port_map_reclaim(rcu);
}

void
port_map_reclaim(struct port_map_rcu *rcu)
{
    uint64_t min = UINT64_MAX;
    struct port_map **p;

    for (size_t i = 0; i < rcu->n_workers; i++) {
        uint64_t e = atomic_load_explicit(&rcu->worker_epochs[i],
                                          memory_order_acquire);

        min = e < min ? e : min;
    }
    for (p = &rcu->retired; *p;) {
        struct port_map *map = *p;

        if (map->retired_epoch <= min) {
            *p = map->retired_next;
            port_map_free(map);
        } else {
            p = &map->retired_next;
        }
    }
}

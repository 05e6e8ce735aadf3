/* SPDX-License-Identifier: Apache-2.0 */
/* Network view sync with Redis: see net-sync.h. */
#include <config.h>

#include "analyzer/net-sync.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/tenancy.h"
#include "lib/counter.h"
#include "lib/log.h"
#include "lib/redis.h"
#include "lib/util.h"

VNM_LOG_MODULE(net_sync);

VNM_COUNTER_DEFINE(inventories_applied);
VNM_COUNTER_DEFINE(inventories_bad);
VNM_COUNTER_DEFINE(bindings_saved);

enum { RUN_MS = 1000 };

struct sync_host {
    char *id;
    char *updated;              /* Last inventory:updated_ms applied. */
    bool loaded;                /* Learned bindings read back. */
    bool dirty;                 /* Learned bindings to save. */
};

struct net_sync {
    struct tenancy *tenancy;
    struct sync_host *hosts;
    size_t n_hosts;
    uint64_t next_ms;
};

struct net_sync *
net_sync_create(struct tenancy *t)
{
    struct net_sync *ns = xzalloc(sizeof *ns);

    ns->tenancy = t;
    return ns;
}

void
net_sync_destroy(struct net_sync *ns)
{
    if (!ns) {
        return;
    }
    for (size_t i = 0; i < ns->n_hosts; i++) {
        free(ns->hosts[i].id);
        free(ns->hosts[i].updated);
    }
    free(ns->hosts);
    free(ns);
}

static struct sync_host *
host_get(struct net_sync *ns, const char *id)
{
    for (size_t i = 0; i < ns->n_hosts; i++) {
        if (!strcmp(ns->hosts[i].id, id)) {
            return &ns->hosts[i];
        }
    }
    ns->hosts = xrealloc(ns->hosts, (ns->n_hosts + 1) * sizeof *ns->hosts);
    ns->hosts[ns->n_hosts] = (struct sync_host) { .id = xstrdup(id) };
    return &ns->hosts[ns->n_hosts++];
}

void
net_sync_learned(struct net_sync *ns, const char *host_id)
{
    host_get(ns, host_id)->dirty = true;
}

/* Reads host 'h''s learned bindings back (once). */
static void
load_bindings(struct net_sync *ns, struct vnm_redis *r, struct sync_host *h)
{
    json_t *reply = NULL;

    if (vnm_redis_query(r, &reply, "GET vnm:{%s}:bindings", h->id)) {
        json_decref(reply);
        return;
    }
    if (json_is_string(reply)) {
        json_t *learned = json_loads(json_string_value(reply), 0, NULL);

        if (json_is_object(learned)) {
            tenancy_learned_from_json(ns->tenancy, h->id, learned);
            VNM_INFO("host %s: %zu ports' learned bindings restored",
                     h->id, json_object_size(learned));
        }
        json_decref(learned);
    }
    json_decref(reply);
    h->loaded = true;
}

/* Applies host 'h''s inventory if it changed. */
static void
refresh_inventory(struct net_sync *ns, struct vnm_redis *r,
                  struct sync_host *h, uint64_t now_ms)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    json_t *reply = NULL, *snapshot;
    const char *updated;

    if (vnm_redis_query(r, &reply, "GET vnm:{%s}:inventory:updated_ms",
                        h->id)) {
        json_decref(reply);
        return;
    }
    updated = json_string_value(reply);
    if (!updated || (h->updated && !strcmp(updated, h->updated))) {
        json_decref(reply);
        return;
    }
    free(h->updated);
    h->updated = xstrdup(updated);
    json_decref(reply);
    reply = NULL;

    if (vnm_redis_query(r, &reply, "GET vnm:{%s}:inventory", h->id)
        || !json_is_string(reply)) {
        json_decref(reply);
        return;
    }
    snapshot = json_loads(json_string_value(reply), 0, NULL);
    if (json_is_object(snapshot)) {
        tenancy_update_inventory(ns->tenancy, h->id, snapshot, now_ms);
        VNM_COUNTER_INC(inventories_applied);
    } else {
        VNM_COUNTER_INC(inventories_bad);
        VNM_WARN_RL(&rl, "vnm:{%s}:inventory is not a JSON object", h->id);
    }
    json_decref(snapshot);
    json_decref(reply);
}

static void
save_bindings(struct net_sync *ns, struct vnm_redis *r, struct sync_host *h)
{
    json_t *learned = tenancy_learned_to_json(ns->tenancy, h->id);
    char *text = json_dumps(learned, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *reply = NULL;

    if (!vnm_redis_query(r, &reply, "SET vnm:{%s}:bindings %s", h->id,
                         text)) {
        h->dirty = false;
        VNM_COUNTER_INC(bindings_saved);
    }
    json_decref(reply);
    free(text);
    json_decref(learned);
}

void
net_sync_run(struct net_sync *ns, struct vnm_redis *r, uint64_t now_ms,
             bool force)
{
    json_t *members = NULL, *m;
    size_t i;

    if (!force && now_ms < ns->next_ms) {
        return;
    }
    ns->next_ms = now_ms + RUN_MS;
    if (!vnm_redis_query(r, &members, "SMEMBERS vnm:inventory:hosts")) {
        json_array_foreach (members, i, m) {
            if (json_string_value(m)) {
                host_get(ns, json_string_value(m));
            }
        }
    }
    json_decref(members);
    for (i = 0; i < ns->n_hosts; i++) {
        struct sync_host *h = &ns->hosts[i];

        if (!h->loaded) {
            load_bindings(ns, r, h);
        }
        refresh_inventory(ns, r, h, now_ms);
        if (h->dirty && h->loaded) {
            save_bindings(ns, r, h);
        }
    }
}

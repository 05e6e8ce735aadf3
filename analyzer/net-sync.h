/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keeps the analyzer's network view (analyzer/tenancy.c) in step with
 * Redis: each agent's inventory snapshot (vnm:{HOST}:inventory, re-read
 * when vnm:{HOST}:inventory:updated_ms changes), and the bindings learned
 * for each host (vnm:{HOST}:bindings: loaded when the host is first seen,
 * saved after each learning), so that a restarted analyzer keeps what it
 * locked.  Synchronous queries on the analyzer's Redis connection, about
 * once a second.
 */
#ifndef VNM_NET_SYNC_H
#define VNM_NET_SYNC_H 1

#include <stdbool.h>
#include <stdint.h>

struct tenancy;
struct vnm_redis;

struct net_sync *net_sync_create(struct tenancy *);
void net_sync_destroy(struct net_sync *);

/* Refreshes what changed and saves learned bindings; at most once per
 * second unless 'force'. */
void net_sync_run(struct net_sync *, struct vnm_redis *, uint64_t now_ms,
                  bool force);

/* Notes that bindings were learned on 'host_id' (saved by the next run). */
void net_sync_learned(struct net_sync *, const char *host_id);

#endif /* net-sync.h */

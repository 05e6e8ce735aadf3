/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's glue between the pipeline and the bandwidth aggregator
 * (bw.h): port resolution from the port map and the inventory, OVSDB
 * Interface counters sampled once a second, the once-a-second write, and
 * the recent flow records kept per VM.
 */
#ifndef VNM_AGENT_BW_H
#define VNM_AGENT_BW_H 1

#include <stddef.h>
#include <stdint.h>

#include "collector/bw.h"

struct json_t;
struct pipeline;
struct pipeline_bw;
struct vnm_conf;
struct vnm_flow;
struct vnm_redis;

struct agent_bw_config {
    struct bw_config bw;
    int64_t recent_flows;       /* Records kept per VM, 0 = off. */
    int64_t recent_flows_ttl;   /* Seconds. */
};

/* Reads the [collector] keys of the aggregator and of the recent flows. */
char *agent_bw_config_read(const struct vnm_conf *,
                           struct agent_bw_config *) VNM_WARN_UNUSED;

struct agent_bw *agent_bw_create(const struct agent_bw_config *,
                                 const char *host, struct vnm_redis *);
/* Writes what is left (partial minute and hour) and frees.  Call after
 * the pipeline is destroyed (its last deltas and closes come then). */
void agent_bw_destroy(struct agent_bw *);

/* The callbacks to give pipeline_create(), and the pipeline once it
 * exists. */
const struct pipeline_bw *agent_bw_callbacks(struct agent_bw *);
void agent_bw_set_pipeline(struct agent_bw *, struct pipeline *);

/* Once a second, before the daemon flushes Redis. */
void agent_bw_tick(struct agent_bw *, uint64_t now_ms);

/* A finished record, as JSON ('json', 'len' bytes, no newline): kept in
 * the recent flows of the VMs at either end. */
void agent_bw_record(struct agent_bw *, const struct vnm_flow *,
                     const char *json, size_t len);

void agent_bw_status(const struct agent_bw *, struct json_t *status);

/* For the Prometheus endpoint. */
const struct bw *agent_bw_aggregator(const struct agent_bw *);

#endif /* agent-bw.h */

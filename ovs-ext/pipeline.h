/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live pipeline of vnmon-agent: the OVSDB inventory, the taps of each
 * bridge, and N worker threads.  Each worker owns one capture ring per tap
 * (all rings of a tap share one PACKET_FANOUT_HASH group, so both directions
 * of a flow reach the same worker), one nDPI module and one flow table: the
 * per-packet path takes no lock.  Workers hand finished records to the main
 * thread through one lock-free queue each; the main thread completes them
 * (class, the responder's attribution from its address) and passes them
 * to the record callback.
 *
 * Port attribution: the main thread turns each inventory change into a new
 * immutable port map (port-map.h) that workers pick up without locks.
 */
#ifndef VNM_PIPELINE_H
#define VNM_PIPELINE_H 1

#include "lib/util.h"
#include "ovs-ext/ovs-ext.h"

struct event_base;
struct json_t;
struct vnm_redis;

struct pipeline;
struct flow_bw_delta;
struct inventory;
struct port_info;

/* Per-second accounting (optional): every worker's flow table hands each
 * flow's frames of each second (struct flow_bw_delta, flow-table.h) to
 * 'delta' on the main thread, and 'close' is called with a second once
 * every worker is past it (all its deltas delivered).  A worker closes a
 * second BW_GRACE_MS after it ends by the wall clock, or at once when a
 * frame of a later second arrives. */
struct pipeline_bw {
    void (*delta)(void *aux, const struct flow_bw_delta *);
    void (*close)(void *aux, uint64_t sec);
    void *aux;
};
#define PIPELINE_BW_GRACE_MS 250

/* Starts the pipeline described by 'cfg' (borrowed until destroy) on the
 * loop 'base': connects to OVSDB, starts the workers, and taps bridges as
 * they appear.  Records go to 'cb'.  The inventory is published to 'redis'
 * (may be null) under 'host_id'.  Returns NULL and sets '*pp', or returns a
 * malloc'd error. */
char *pipeline_create(const struct ovs_ext_config *cfg,
                      struct event_base *base, struct vnm_redis *redis,
                      const char *host_id, ovs_ext_record_func *cb,
                      void *aux, const struct pipeline_bw *bw,
                      struct pipeline **pp) VNM_WARN_UNUSED;

/* Stops the workers, ends every flow (END_SHUTDOWN records, delivered to
 * the callback before this returns), removes the taps (the flow tap leaves
 * the OpenFlow tables as it found them), and frees everything. */
void pipeline_destroy(struct pipeline *);

/* The inventory (main thread), and the port of port id 'id' in the
 * current port map (NULL if none). */
const struct inventory *pipeline_inventory(const struct pipeline *);
const struct port_info *pipeline_port(const struct pipeline *, uint32_t id);

/* Adds the pipeline's state and counters to the status object. */
void pipeline_status(const struct pipeline *, struct json_t *status);

#endif /* pipeline.h */

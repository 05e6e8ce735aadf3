/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bandwidth aggregator: per-second per-flow deltas from the workers in,
 * 1-s series with 1-min and 1-h rollups out to Redis (lib/bw-series.h has
 * the schema), for hosts, ports, VMs, tenants, applications and VM pairs.
 *
 * Main thread only.  The pipeline hands it each worker's deltas of second
 * S (bw_add()) and tells it when every worker is past S
 * (bw_close_second()); bw_flush(), once a second, writes what is closed in
 * the agent's one pipelined round trip a second (the daemon heartbeat
 * flushes the pipeline right after).  While Redis is unreachable closed seconds are
 * kept, up to 'buffer_seconds', and written after reconnection; older ones
 * are dropped and recorded as a gap ("vnm:{HOST}:bw:gaps").
 */
#ifndef VNM_COLLECTOR_BW_H
#define VNM_COLLECTOR_BW_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/bw-series.h"
#include "lib/util.h"
#include "ovs-ext/flow-table.h"
#include "vnmon/flow.h"

struct json_t;
struct vnm_conf;
struct vnm_redis;

/* [collector] settings of the aggregator (doc/configuration.md). */
struct bw_config {
    int64_t retention[BW_N_RES]; /* Seconds. */
    int64_t buffer_seconds;     /* Closed seconds kept through an outage. */
    int64_t top_pairs;          /* Pairs kept per minute and hour bin. */
    int64_t live_top;           /* Entries per list of the live view. */
};

/* Reads the aggregator's keys of [collector] 'conf' (may be null).
 * Returns NULL or a malloc'd "FILE:LINE: KEY: reason". */
char *bw_config_read(const struct vnm_conf *conf, struct bw_config *)
    VNM_WARN_UNUSED;

/* What the aggregator knows of a port id (from the pipeline's port map). */
struct bw_port {
    const char *name;           /* OVS interface name. */
    const char *vm;             /* VM uuid or "". */
    const char *tenant;         /* Tenant or "". */
    const char *kind;           /* "vm", "uplink", "tunnel", "internal",
                                 * "patch". */
    uint64_t link_speed;        /* bit/s, 0 if unknown. */
};

/* Cumulative counters of one entity since the agent started. */
struct bw_totals {
    uint64_t tx_bytes, tx_packets, rx_bytes, rx_packets;
};

struct bw;

/* The port of a flow side: by its ingress port id if not 0, else by its
 * address 'ip' (family 0: none) if that belongs to a known port.  Fills
 * '*out' (strings valid until the next call) and returns true if found.
 * The pipeline's resolver. */
typedef bool bw_resolve_func(void *aux, uint32_t port_id,
                             const struct vnm_addr *ip, struct bw_port *out);

struct bw *bw_create(const struct bw_config *, const char *host,
                     bw_resolve_func *resolve, void *aux);
void bw_destroy(struct bw *);

/* Adds one worker delta (main thread). */
void bw_add(struct bw *, const struct flow_bw_delta *);

/* Every worker is past second 'sec': it and earlier seconds are final. */
void bw_close_second(struct bw *, uint64_t sec);

/* Counters of OVS Interface 'port' (OVSDB statistics, cumulative) as of
 * 'sec': the aggregator writes their increase as the 'ovs' series. */
struct bw_ovs_counters {
    uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
    uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
};
void bw_ovs_sample(struct bw *, uint64_t sec, const struct bw_port *port,
                   const struct bw_ovs_counters *);

/* Appends the writes of closed seconds (and the rollups and views they
 * complete) to 'r''s pipeline, after resending what an outage kept: call
 * it once a second, before the pipeline is flushed.  Writes are
 * idempotent (HSET of whole values), so a resend after an uncertain flush
 * does no harm. */
void bw_flush(struct bw *, struct vnm_redis *r, uint64_t now_ms);

/* Calls 'cb' with the cumulative totals of every port, VM and tenant seen
 * ('kind' "port", "vm", "tenant"; 'tenant' "" when none). */
typedef void bw_totals_func(void *aux, const char *kind, const char *id,
                            const char *tenant, const struct bw_totals *);
void bw_foreach_total(const struct bw *, bw_totals_func *cb, void *aux);

/* Adds the aggregator's counters to the status object. */
void bw_status(const struct bw *, struct json_t *status);

/* Writes the partial minute and hour of every entity (at stop). */
void bw_finish(struct bw *, struct vnm_redis *r);

#endif /* bw.h */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's Prometheus endpoint: an HTTP server on the daemon's libevent
 * loop (evhttp) that answers GET /metrics in the Prometheus text exposition
 * format 0.0.4, and a writer that produces that format.
 *
 * The server knows nothing of what it serves: at each scrape it creates a
 * writer and calls the render callback the agent gave it, which adds
 * samples with prom_counter(), prom_gauge() and prom_summary().  The
 * prom_write_*() helpers below turn what the agent already has (its status
 * object, the Redis layer's statistics, the plugins' and the daemon's
 * counters, the aggregator's totals) into metrics named vnmon_*;
 * doc/prometheus.md lists them.
 *
 * The writer groups samples by metric family, so a caller may add the
 * samples of one family in any order, interleaved with others: the text
 * has one "# HELP" and one "# TYPE" line per family, then its samples, with
 * families in the order of their first sample.  Every sample carries a
 * host="HOST" label first (the daemon's host_id), then the caller's.
 * Label values and help texts are escaped as the format requires; bytes
 * that are not UTF-8 become U+FFFD.  Names are checked: a sample with an
 * invalid metric or label name, or whose family was first given another
 * type, is dropped with a rate-limited warning (a bug of the caller).
 *
 * Threads: everything runs on the daemon's loop thread.
 */
#ifndef VNM_COLLECTOR_PROMETHEUS_H
#define VNM_COLLECTOR_PROMETHEUS_H 1

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/util.h"

struct bw_totals;
struct event_base;
struct json_t;
struct vnm_conf;
struct vnm_daemon;
struct vnm_loader;
struct vnm_redis_stats;

/* Writer. */

struct prom_writer;

/* Creates a writer whose samples all carry host="'host'" (no host label if
 * 'host' is null). */
struct prom_writer *prom_writer_create(const char *host);
/* Frees 'w' without producing anything.  Accepts null. */
void prom_writer_destroy(struct prom_writer *w);
/* Returns the exposition text (malloc'd, NUL-terminated, its length in
 * '*lenp'), and frees 'w'. */
char *prom_writer_finish(struct prom_writer *w, size_t *lenp);

/* Adds one sample of the counter 'name' (help text 'help', used if this is
 * the family's first sample).  The variable arguments are label name and
 * value pairs (const char *), ended by a null name; a null value is "". */
void prom_counter(struct prom_writer *w, const char *name, const char *help,
                  uint64_t value, ...) __attribute__((sentinel));
/* The same for a counter whose value is not an integer (seconds...). */
void prom_counter_double(struct prom_writer *w, const char *name,
                         const char *help, double value, ...)
    __attribute__((sentinel));
/* The same for a gauge. */
void prom_gauge(struct prom_writer *w, const char *name, const char *help,
                double value, ...) __attribute__((sentinel));
/* A summary without quantiles: samples 'name'_count and 'name'_sum. */
void prom_summary(struct prom_writer *w, const char *name, const char *help,
                  uint64_t count, double sum, ...) __attribute__((sentinel));

/* Metrics of the agent. */

/* Adds the metrics of the agent's status object 'status' (the fields
 * lib/daemon.c's status record gets from the agent: "capture", "ovsdb",
 * "netdev_tap", "flow_taps", "bandwidth"; absent ones are skipped). */
void prom_write_agent_status(struct prom_writer *w,
                             const struct json_t *status);
/* Adds the Redis layer's metrics, from 'stats'. */
void prom_write_redis(struct prom_writer *w,
                      const struct vnm_redis_stats *stats);
/* Adds the counters of the plugins of 'loader'. */
void prom_write_plugins(struct prom_writer *w,
                        const struct vnm_loader *loader);
/* Adds the daemon-wide metrics: event counters (lib/counter.h), log
 * message counts, version. */
void prom_write_daemon(struct prom_writer *w);
/* A bw_totals_func (collector/bw.h) for bw_foreach_total(), 'aux' being
 * the writer: adds one entity's cumulative bytes and packets per
 * direction. */
void prom_write_bw_total(void *aux, const char *kind, const char *id,
                         const char *tenant, const struct bw_totals *totals);

/* Server. */

/* [collector] prometheus_listen, parsed. */
struct prometheus_config {
    const char *listen;         /* As written, or null: no endpoint.  Points
                                 * into the configuration. */
    const struct vnm_conf *conf; /* Its section, for errors at start. */
    struct sockaddr_storage addr; /* The address to bind. */
    socklen_t addr_len;
};

/* Reads prometheus_listen of [collector] 'conf' (may be null) into
 * 'cfg': "IPV4:PORT" or "[IPV6]:PORT" (port 0: any free port), "" or
 * absent for no endpoint.  Returns NULL or a malloc'd
 * "FILE:LINE: prometheus_listen: reason". */
char *prometheus_config_read(const struct vnm_conf *conf,
                             struct prometheus_config *cfg) VNM_WARN_UNUSED;

/* Adds the metrics of one scrape to 'w'. */
typedef void prometheus_render_func(void *aux, struct prom_writer *w);

struct prometheus;

/* Starts serving GET /metrics on the address of 'cfg' (which must have
 * one), on 'base', each scrape rendered by 'render'('aux', writer) with
 * samples labelled host="'host'" (copied).  Returns NULL and sets '*pp', or
 * a malloc'd "FILE:LINE: prometheus_listen: cannot listen on ADDR
 * (strerror)". */
char *prometheus_create(const struct prometheus_config *cfg,
                        struct event_base *base, const char *host,
                        prometheus_render_func *render, void *aux,
                        struct prometheus **pp) VNM_WARN_UNUSED;
/* Closes the socket and every connection.  Accepts null. */
void prometheus_destroy(struct prometheus *);
/* The port it listens on (useful with port 0). */
uint16_t prometheus_port(const struct prometheus *);

#endif /* prometheus.h */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Incidents, kept in Redis and shared by every analyzer: emissions with the
 * same type and key merge into one open incident (count, packets, bytes,
 * last time, highest severity), so that sinks see one alert that is
 * updated, not a storm.  The keys are in doc/redis-keys.md ("Incidents"),
 * the record in doc/alerts.md.
 *
 * Each change is one call of one Lua script (EVALSHA), so that analyzers
 * sharing a consumer group, or an analyzer restarted mid-incident, merge
 * into the same incident atomically: one incident per open (type, key),
 * each emission counted once.  The script also decides, once for all
 * analyzers, which records are delivered:
 *
 *   open      the first emission of an incident: delivered at once;
 *   update    later emissions: the incident's latest state is delivered
 *             at most once per 'update_interval' while they go on (an
 *             emission within the interval is stored and marked pending;
 *             incident_store_tick() delivers it when the interval ends);
 *   resolved  an incident without emission for 'idle': delivered once, by
 *             whichever analyzer's tick (or merge) resolves it first; also
 *             the least recently updated open incident when a new one
 *             would make more than 'max_open'.
 *
 * A delivery calls the store's 'deliver' callback with the incident as a
 * 'struct vnm_alert' whose 'json' is the record (analyzer/alert-record.h)
 * and whose 'state', 'id', times and totals are set.  Every delivered
 * record is also added to the events streams.
 *
 * Single-threaded: the analyzer's loop owns it.
 */
#ifndef VNM_INCIDENT_H
#define VNM_INCIDENT_H 1

#include <stddef.h>
#include <stdint.h>

struct vnm_alert;
struct vnm_redis;

/* How the store behaves ([analyzer] keys, doc/configuration.md). */
struct incident_store_options {
    uint64_t idle_ms;           /* Quiet time that resolves an incident. */
    uint64_t update_interval_ms; /* Least time between two deliveries of
                                  * one incident's updates. */
    uint64_t retention_ms;      /* Incidents expire this long after their
                                 * last emission. */
    uint64_t max_open;          /* Open incidents at most (>= 1). */
    uint64_t events_maxlen;     /* Approximate length of the events
                                 * streams. */
};

/* Called for each record to deliver.  'alert' is valid until it returns. */
typedef void incident_deliver_func(void *aux, const struct vnm_alert *alert);

/* What the store did, since it was created. */
struct incident_store_stats {
    uint64_t n_merges;          /* Emissions merged (new incidents too). */
    uint64_t n_opened;          /* Incidents opened. */
    uint64_t n_updates;         /* "update" records delivered. */
    uint64_t n_suppressed;      /* Emissions merged without a delivery
                                 * (within the update interval). */
    uint64_t n_resolved;        /* Incidents resolved by this store. */
    uint64_t n_errors;          /* Calls that failed (Redis down, error
                                 * reply, unreadable reply). */
    uint64_t n_open;            /* Open incidents (all analyzers), as of
                                 * the last tick. */
};

/* Creates a store on the connection 'redis' (borrowed, must outlive the
 * store) with 'options' (copied), delivering to 'deliver'('aux', ...). */
struct incident_store *incident_store_create(
    struct vnm_redis *redis, const struct incident_store_options *options,
    incident_deliver_func *deliver, void *aux);
void incident_store_destroy(struct incident_store *);

/* Merges 'alert', emitted at 'now_ms' (wall clock), into its incident,
 * opening one if none is open, and delivers what that makes due.  The
 * host's members of 'alert' that the record shows (detector, host_id,
 * tenant) must be set; the incident's (id, times, totals, state, json)
 * are ignored.  Returns 0; EINVAL if 'alert' has no valid kind (1 to 64 of
 * [a-z0-9-]), no key or no summary; or another errno value if Redis failed
 * (then nothing was stored, or, if the connection broke after the script
 * ran, it may have been). */
int incident_store_merge(struct incident_store *,
                         const struct vnm_alert *alert, uint64_t now_ms);

/* Delivers the pending updates whose interval has ended and resolves the
 * incidents idle since 'now_ms' - idle (at most 100 of each per call).
 * Call it about once per second.  Returns 0 or an errno value. */
int incident_store_tick(struct incident_store *, uint64_t now_ms);

/* Copies the statistics into '*stats'. */
void incident_store_get_stats(const struct incident_store *,
                              struct incident_store_stats *stats);

/* The key of the incident hash of incident 'id' of tenant 'tenant' (null or
 * "" if none), malloc'd: "vnm:t:TENANT:alert:ID" or "vnm:alert:ID". */
char *incident_key(const char *tenant, const char *id);

#endif /* incident.h */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Incidents: the analyzer's memory of open alerts.  Emissions with the same
 * kind and key merge into one incident (count, packets, bytes, last time
 * updated) so that sinks see one alert that is updated, not a storm.  An
 * incident closes after 'idle_ms' without emissions; a later emission opens
 * a new one.  The table is bounded: past 'max' open incidents the least
 * recently updated one is closed.
 *
 * Single-threaded: the analyzer's loop owns it.
 */
#ifndef VNM_INCIDENT_H
#define VNM_INCIDENT_H 1

#include <stddef.h>
#include <stdint.h>

struct vnm_alert;

/* What the table remembers of one incident. */
struct incident {
    char *id;                   /* "HOST-KIND-N", unique per analyzer. */
    char *kind;
    char *key;
    uint64_t first_ms;
    uint64_t last_ms;
    uint64_t count;             /* Emissions merged. */
    uint64_t packets;           /* Sum over emissions. */
    uint64_t bytes;
    uint32_t n_updates;         /* Deliveries after the first. */
};

/* Creates an empty table for host 'host_id'. */
struct incident_table *incident_table_create(const char *host_id,
                                             uint64_t idle_ms, size_t max);
void incident_table_destroy(struct incident_table *);

/* Merges 'alert', emitted at 'now_ms', into its incident (opening one if
 * needed) and returns it.  The result is valid until the next call. */
const struct incident *incident_table_merge(struct incident_table *,
                                            const struct vnm_alert *alert,
                                            uint64_t now_ms);

/* Closes incidents idle since before 'now_ms' - idle.  Returns how many. */
size_t incident_table_expire(struct incident_table *, uint64_t now_ms);

/* Open incidents. */
size_t incident_table_count(const struct incident_table *);

#endif /* incident.h */

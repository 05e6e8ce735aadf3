/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quarantine requests in Redis (doc/redis-keys.md, "Quarantine"): the one
 * place that writes a port's desired quarantine state and logs the action,
 * used by `vnmonctl quarantine`/`release` (tools/ctl-quarantine.c) and by
 * the analyzer's automatic quarantine (analyzer/auto-quarantine.c).  The
 * agent of the port's host applies the state (ovs-ext/quarantine.h) and
 * reports what it applied in QUARANTINE_APPLIED_KEY.
 *
 * Keys: hash QUARANTINE_KEY, field = port name, value = JSON {"since": ms,
 * "by": "vnmonctl"|"analyzer", "incident": id|null, "reason": text,
 * "tenant": name|null}; each action is also an entry of the events stream
 * "vnm:alerts:events" and, with a tenant, "vnm:t:TENANT:alerts:events",
 * with fields action, port, host, by, incident, reason, time (ms).
 *
 * Synchronous (vnm_redis_query_batch()); not thread-safe, as the Redis
 * layer.
 */
#ifndef VNM_QUARANTINE_H
#define VNM_QUARANTINE_H 1

#include <stdbool.h>
#include <stdint.h>

struct vnm_redis;

/* printf formats of the keys, for a host id. */
#define QUARANTINE_KEY "vnm:{%s}:quarantine"
#define QUARANTINE_APPLIED_KEY "vnm:{%s}:quarantine:applied"

/* Trim of the events streams, as the incident store's. */
#define QUARANTINE_EVENTS_MAXLEN "10000"

/* One quarantine or release.  Strings are borrowed. */
struct quarantine_request {
    const char *host;           /* Host id of the port's agent. */
    const char *port;           /* OVS interface name. */
    const char *by;             /* "vnmonctl" or "analyzer". */
    const char *incident;       /* Incident id, or null. */
    const char *reason;         /* Free text, or null. */
    const char *tenant;         /* The port's tenant, or null: on release,
                                 * null takes the one stored. */
    uint64_t time_ms;           /* When, ms since the epoch. */
};

/* Writes 'req' as the desired state of its port and logs the action.  With
 * 'only_new', a port already quarantined is left as it is and nothing is
 * logged: returns EEXIST.  Returns 0, or an errno value of the Redis
 * layer. */
int quarantine_add(struct vnm_redis *, const struct quarantine_request *req,
                   bool only_new);

/* Removes the desired state of 'req''s port and logs the release.  Returns
 * 0, ENOENT (nothing logged) if the port was not quarantined, or an errno
 * value of the Redis layer. */
int quarantine_remove(struct vnm_redis *,
                      const struct quarantine_request *req);

#endif /* quarantine.h */

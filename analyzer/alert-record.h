/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The alert record: the JSON document that describes one incident, as
 * sinks deliver it, as the archive keeps it, as Redis stores it
 * (doc/redis-keys.md, "Incidents") and as `vnmonctl alerts` shows it.
 * Every field is documented in doc/alerts.md.
 *
 * A record is one line of compact JSON in two parts:
 *
 *   - the head, the incident's state: id, type, severity, state, first and
 *     last seen, count, packets, bytes, updates;
 *   - the detail, what the latest emission said: detector, key, tenant,
 *     host, the VM's port, ofport, iface-id, VM id and MAC, the flow's
 *     addresses, ports, protocol and application, target, summary and
 *     evidence.
 *
 * alert_record_build() writes both.  The incident store
 * (analyzer/incident.c) merges emissions inside Redis, where the head
 * changes: it keeps the detail as alert_record_detail() wrote it and
 * writes the head itself, byte for byte as alert_record_build() does
 * (tests/unit/test-incident-store.c holds it to that).
 *
 * alert_record_parse() reads a record back into a 'struct vnm_alert' for
 * sinks (a resolution is delivered from the stored record).
 */
#ifndef VNM_ALERT_RECORD_H
#define VNM_ALERT_RECORD_H 1

#include <stdbool.h>
#include <stdint.h>

#include "vnmon/alert.h"

struct json_t;

/* The incident's side of a record (its head). */
struct alert_record_state {
    const char *id;             /* "inc-N". */
    enum vnm_alert_state state; /* What this record announces. */
    enum vnm_severity severity; /* The highest seen. */
    uint64_t first_ms;          /* First emission, ms since the epoch. */
    uint64_t last_ms;           /* Latest emission. */
    uint64_t count;             /* Emissions merged. */
    uint64_t packets;           /* Sum of the emissions' packets. */
    uint64_t bytes;             /* Sum of the emissions' bytes. */
    uint32_t n_updates;         /* "update" records delivered so far. */
};

/* True if 'kind' can be an alert type: 1 to 64 of [a-z0-9-], starting with
 * a letter or digit. */
bool alert_record_kind_valid(const char *kind);

/* Returns the detail of the record of 'alert' (its members "detector"
 * through "evidence", comma-separated, without braces), malloc'd.  Reads
 * kind-independent members of 'alert' only: detector, key, tenant,
 * host_id, vm, flow, target, summary, evidence.  Strings that are not
 * valid UTF-8 have the offending bytes replaced by U+FFFD. */
char *alert_record_detail(const struct vnm_alert *alert);

/* Returns the record of an incident of type 'kind' in state 'st' whose
 * detail is 'detail' (from alert_record_detail()), malloc'd, without a
 * newline.  'kind' must satisfy alert_record_kind_valid(). */
char *alert_record_join(const char *kind, const struct alert_record_state *st,
                        const char *detail);

/* Returns the record of 'alert' (detail) in state 'st' (head), malloc'd:
 * alert_record_join(alert->kind, st, alert_record_detail(alert)). */
char *alert_record_build(const struct vnm_alert *alert,
                         const struct alert_record_state *st);

/* A record read back, as a 'struct vnm_alert' for sinks.  Strings point
 * into 'json'; 'alert.vm' points to 'vm' when the record names a port;
 * 'alert.flow' is null; 'alert.json' is the text parsed. */
struct alert_record_view {
    struct vnm_alert alert;
    struct vnm_attribution vm;
    struct json_t *json;        /* The parsed record, owned. */
};

/* Parses record 'text' into 'view', which then borrows 'text' (as
 * view->alert.json) until alert_record_view_uninit().  Returns 0, or
 * EINVAL (then 'view' needs no uninit) if 'text' is not a record. */
int alert_record_parse(const char *text, struct alert_record_view *view);
void alert_record_view_uninit(struct alert_record_view *);

#endif /* alert-record.h */

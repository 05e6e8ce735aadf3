/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alerts: what a detector raises with host->emit_alert(), and the incidents
 * the host hands to sinks.
 *
 * A detector fills in what it knows (kind, severity, key, summary, the VM,
 * the target, the flow, evidence) and emits it; the host merges it with the
 * open incident of the same kind and key, so that one incident is one alert
 * that is updated (count, bytes, last time), never a storm.  The host fills
 * in the incident fields (id, host, times, counts) before a sink sees it.
 */
#ifndef VNM_ALERT_H
#define VNM_ALERT_H 1

#include <stdint.h>

#include "vnmon/flow.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VNM_ALERT_MAX_EVIDENCE 8 /* Evidence lines kept per incident. */

/* How bad an incident is. */
enum vnm_severity {
    VNM_SEV_INFO = 0,
    VNM_SEV_LOW,
    VNM_SEV_MEDIUM,
    VNM_SEV_HIGH,
    VNM_SEV_CRITICAL,
};

/* Where an incident is in its life (set by the host for sinks). */
enum vnm_alert_state {
    VNM_ALERT_OPEN = 0,         /* A new incident: its first delivery. */
    VNM_ALERT_UPDATE,           /* The incident grew (rate-limited). */
    VNM_ALERT_RESOLVED,         /* Quiet for [analyzer] incident_idle. */
};

/* An alert, as emitted by a detector and as delivered to a sink.  Strings
 * may be null where noted.  Borrowed in both directions (see plugin.h). */
struct vnm_alert {
    /* Set by the detector. */
    const char *kind;           /* Alert type, e.g. "ip-spoof", required. */
    enum vnm_severity severity;
    const char *key;            /* Incident identity within 'kind', e.g. the
                                 * VM and the forged address; required. */
    const char *summary;        /* One human line, required. */
    const struct vnm_attribution *vm; /* The VM that caused it, or null. */
    const char *target;         /* What it was aimed at, or null. */
    const struct vnm_flow *flow; /* The flow that showed it, or null. */
    uint64_t packets;           /* Packets involved in this emission. */
    uint64_t bytes;             /* Bytes involved in this emission. */
    uint32_t n_evidence;        /* Entries of 'evidence'. */
    const char *evidence[VNM_ALERT_MAX_EVIDENCE]; /* Decoded header lines. */

    /* Set by the host for sinks; ignored on emission. */
    const char *id;             /* Incident id, unique per analyzer. */
    const char *host_id;        /* Hypervisor the flow was seen on. */
    const char *detector;       /* Name of the detector that raised it. */
    const char *tenant;         /* Tenant concerned (the VM's), or null. */
    uint64_t first_ms;          /* First emission, ms since the epoch. */
    uint64_t last_ms;           /* Latest emission. */
    uint64_t count;             /* Emissions merged into the incident. */
    uint64_t total_packets;     /* Sum of 'packets' over them. */
    uint64_t total_bytes;       /* Sum of 'bytes' over them. */
    uint32_t n_updates;         /* 0 for a new incident, then 1, 2... */

    /* Appended in ABI 1.1, set by the host for sinks. */
    enum vnm_alert_state state;
    const char *json;           /* The alert record (doc/alerts.md) as one
                                 * line of compact JSON, without newline:
                                 * what sinks should deliver. */
};

/* "open", "update", "resolved". */
static inline const char *
vnm_alert_state_name(enum vnm_alert_state state)
{
    switch (state) {
    case VNM_ALERT_OPEN: return "open";
    case VNM_ALERT_UPDATE: return "update";
    case VNM_ALERT_RESOLVED: return "resolved";
    }
    return "unknown";
}

/* The lowercase name of 'severity' ("info" ... "critical"). */
static inline const char *
vnm_severity_name(enum vnm_severity severity)
{
    switch (severity) {
    case VNM_SEV_INFO: return "info";
    case VNM_SEV_LOW: return "low";
    case VNM_SEV_MEDIUM: return "medium";
    case VNM_SEV_HIGH: return "high";
    case VNM_SEV_CRITICAL: return "critical";
    }
    return "unknown";
}

#ifdef __cplusplus
}
#endif

#endif /* alert.h */

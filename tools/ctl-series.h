/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bandwidth series reader of vnmonctl: finds entities in the index
 * keys, reads their bins over a range (summing the hosts an entity has
 * series on), tells recorded seconds from gaps with the host's coverage,
 * and computes the statistics that `vnmonctl bw`, `peak`, `capacity` and
 * `report` show.  lib/bw-series.h is the schema it reads; the agent's
 * collector/bw.c writes it.
 *
 * Recorded seconds.  The agent writes the host entity's field every second
 * it records, so a second is "recorded" when the host entity of a host
 * holding the series has it ('s'), and a rollup bin holds as many recorded
 * seconds as the host entity's N ('m', 'h').  An entity's missing field in
 * a recorded second is a zero; in an unrecorded second it is a gap (agent
 * stopped, or "vnm:{HOST}:bw:gaps" says why).  Never a silent zero.
 *
 * Several hosts.  An entity may have series on several hosts: a VM that
 * migrated (its seconds on each host are disjoint), a tenant or an
 * application present on several hosts (overlapping).  The reader sums
 * them: a second is recorded when any of those hosts recorded it.  1-s data
 * is then exact.  For rollup bins to which several hosts contributed
 * traffic, the peak (max of the hosts' peaks) and the p95 (merged
 * histograms: per-host seconds) are approximations; such a series has
 * 'multi_host' set and its statistics 'approximate'.  Ports, uplinks and
 * hosts are per host and never summed.
 *
 * Usage (errors are printed on stderr as "vnmonctl: ..." by the functions
 * that talk to Redis; they return 0 or a positive errno value):
 *
 *     struct ctl_reader *rd = ctl_reader_create(r, now);
 *     struct ctl_entity *e;
 *     if (!ctl_entity_find(rd, "vm", uuid, NULL, &e)) {
 *         struct ctl_series *s;
 *         struct ctl_stats st;
 *         enum bw_res res = ctl_auto_res(now, now - 3600, NULL);
 *         if (!ctl_series_read(rd, e, now - 3600, now, res, &s)) {
 *             ctl_series_stats(s, e->link_speed, &st);
 *             ctl_stats_refine_peak(rd, e, &st);
 *             ... s->bins[i], st.tx.peak ...
 *             ctl_series_destroy(s);
 *         }
 *         ctl_entity_destroy(e);
 *     }
 *     ctl_reader_destroy(rd);
 *
 * Not thread-safe; one reader per thread.
 */
#ifndef VNM_CTL_SERIES_H
#define VNM_CTL_SERIES_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/bw-series.h"

struct json_t;
struct vnm_redis;

/* Prints why 'what' (e.g. "SMEMBERS vnm:bw:hosts") failed with 'error'
 * and error reply 'reply' (a JSON string, or null): a NOPERM reply as
 * "vnmonctl: Redis refused WHAT (NOPERM ...): these credentials cannot
 * read that", anything else as "vnmonctl: WHAT failed (reason)".  Every
 * vnmonctl command reports Redis errors so (ctl_query()). */
void ctl_report_error(const char *what, int error,
                      const struct json_t *reply);

/* Runs "CMD KEY [EXTRA...]" for each of the 'n' 'keys' ('n_extra'
 * arguments after the key, the same for every key) in pipelines, and
 * stores the replies, one per key in order, in '*repliesp' (NULL on
 * failure).  Returns 0 or an errno value after printing why. */
int ctl_query_keys(struct vnm_redis *, const char *cmd,
                   const char *const *keys, size_t n,
                   const char *const *extra, int n_extra,
                   struct json_t **repliesp);

/* A reader: a borrowed Redis connection, the time "now" that ranges are
 * relative to, and caches of what several reads share (the hosts' coverage
 * and gaps, the inventories).  'r' must outlive the reader. */
struct ctl_reader *ctl_reader_create(struct vnm_redis *r, uint64_t now);
void ctl_reader_destroy(struct ctl_reader *);
/* Scopes the reader to 'tenant' (NULL: none): entities are found in the
 * tenant's indexes of the hosts of "vnm:t:TENANT:bw:hosts", and nothing
 * host-scoped is read (the host entity, gaps, inventories), which a
 * tenant's Redis user may not read: every second up to 'now' counts as
 * recorded, and links have no known speed. */
void ctl_reader_set_tenant(struct ctl_reader *, const char *tenant);
/* The 'now' given at creation, seconds since the epoch. */
uint64_t ctl_reader_now(const struct ctl_reader *);

/* Where one entity's series live: a host, and the tenant scope ("" for
 * host scope, see bw_prefix()). */
struct ctl_location {
    char *host;
    char *tenant;
    uint64_t last_seen;         /* Index score: last second with traffic. */
};

/* An entity, with its locations and what the inventory says of it.  Every
 * string is owned by the entity (ctl_entity_destroy()). */
struct ctl_entity {
    char *kind;                 /* "host", "port", "vm", "tenant", "app",
                                 * "ovs". */
    char *id;                   /* Unescaped: port name, VM uuid, app name;
                                 * the tenant's name for "tenant"; the
                                 * host's name for "host". */
    char *key_id;               /* The id of the series keys (bw_key()):
                                 * 'id', but "-" for "host" and
                                 * "tenant". */
    char *tenant;               /* The entity's tenant, "" if none. */
    char *host;                 /* Its host for per-host kinds (host, port,
                                 * ovs); NULL when summed over hosts. */
    size_t n_locs;
    struct ctl_location *locs;  /* At least one. */
    uint64_t last_seen;         /* Largest of the locations'. */

    /* From the inventory ("vnm:{HOST}:inventory"), when known. */
    char *port_kind;            /* port/ovs: "vm", "uplink", "tunnel",
                                 * "internal", "patch"; else NULL. */
    char *vm;                   /* port: the VM uuid it belongs to, or
                                 * NULL. */
    uint64_t link_speed;        /* bit/s: a port's link_speed; a VM's ports'
                                 * sum if every one is known; else 0. */
};

void ctl_entity_destroy(struct ctl_entity *);

/* True if 'kind' is one of the kinds above. */
bool ctl_kind_valid(const char *kind);

/* Finds the entity of 'kind' and 'id' (as in struct ctl_entity: the
 * tenant's name for "tenant"; for "host", a host name or "-" = every host,
 * summed) in the index keys of every host of "vnm:bw:hosts", or only of
 * 'host' if non-null.  Returns 0 and '*entp' (caller frees); ENOENT if no
 * index lists it; EEXIST if it is per host and on several hosts (the
 * message asks for --host); or another errno value on Redis failure. */
int ctl_entity_find(struct ctl_reader *, const char *kind, const char *id,
                    const char *host, struct ctl_entity **entp);

/* Lists every entity of 'kind' (NULL: every kind but "ovs") of every host,
 * or only of 'host' if non-null, that had traffic at or after 'since'
 * (index score; 0: all).  VMs, tenants and applications are merged across
 * hosts (one entity, several locations).  Sorted by kind, then id, then
 * host.  Returns 0 and '*entsp' (an array of '*np' entities; free with
 * ctl_entities_destroy()), or an errno value. */
int ctl_entity_list(struct ctl_reader *, const char *kind, const char *host,
                    uint64_t since, struct ctl_entity ***entsp, size_t *np);
void ctl_entities_destroy(struct ctl_entity **, size_t n);

/* Picks the resolution for [from, now): 's' if 'from' is within the 's'
 * retention, 'm' within the 'm' one, else 'h'.  'retention' gives the
 * retentions in seconds per resolution, or NULL for the defaults
 * (BW_DEFAULT_RETENTION_*). */
enum bw_res ctl_auto_res(uint64_t now, uint64_t from,
                         const uint64_t retention[BW_N_RES]);

/* One bin of a series read. */
struct ctl_bin {
    uint64_t time;              /* Start, seconds since the epoch. */
    uint64_t recorded;          /* Seconds of the bin recorded (0 to the bin
                                 * length): 0 = a gap. */
    const char *gap_reason;     /* When recorded < bin length: the reason
                                 * of a marked gap ("redis"), or NULL (not
                                 * recorded: agent not running).  Static or
                                 * owned by the series. */
    bool multi_host;            /* Several hosts contributed traffic. */
    struct bw_bin bw;           /* Counters, summed over the locations; for
                                 * 'm'/'h', n (seconds with traffic), the
                                 * maxima and the histograms, merged. */
};

/* A series: the bins of one entity over [from, to) at one resolution,
 * every bin present (gaps included). */
struct ctl_series {
    enum bw_res res;
    uint64_t from, to;          /* Aligned: from down, to up to the bin. */
    size_t n_bins;
    struct ctl_bin *bins;       /* bins[i].time == from + i * bin. */
    bool multi_host;            /* Some bin has multi_host. */
    char **owned;               /* Strings the bins point to. */
    size_t n_owned;
};

/* Reads entity 'e' over [from, to) at resolution 'res', with pipelined
 * HGETALLs of the entity's keys and its hosts' host-entity keys.  Rollup
 * bins that the agent has not written yet (the current minute or hour) are
 * folded from the finer resolution when it still holds them.  Returns 0
 * and '*seriesp' (free with ctl_series_destroy()), or an errno value. */
int ctl_series_read(struct ctl_reader *, const struct ctl_entity *e,
                    uint64_t from, uint64_t to, enum bw_res res,
                    struct ctl_series **seriesp);
void ctl_series_destroy(struct ctl_series *);

/* Creates an empty series (every bin a gap, recorded 0) for [from, to) at
 * 'res': for tests and for callers that build series themselves. */
struct ctl_series *ctl_series_create(enum bw_res res, uint64_t from,
                                     uint64_t to);

/* Statistics of one direction over a range.  Rates in bytes per second. */
struct ctl_dir_stats {
    uint64_t bytes, packets;    /* Totals. */
    double mean;                /* bytes / recorded seconds. */
    uint64_t peak;              /* Bytes of the busiest second. */
    uint64_t peak_packets;      /* Packets of the busiest packet second
                                 * (not necessarily the same second). */
    uint64_t peak_time;         /* Start of the peak second, or of the bin
                                 * that holds it (see peak_precision). */
    unsigned int peak_precision; /* Length in seconds of what peak_time
                                  * names: 1 (exact), 60 or 3600. */
    double p95;                 /* 95th percentile of the 1-s byte counts of
                                 * the recorded seconds (nearest rank). */
    bool p95_exact;             /* From 1-s data; else from histograms,
                                 * relative error < 4.4%. */
};

/* Statistics of a series (ctl_series_stats()). */
struct ctl_stats {
    enum bw_res res;            /* Resolution they were computed from. */
    uint64_t from, to;          /* The series' range. */
    uint64_t recorded;          /* Recorded seconds in the range. */
    struct ctl_dir_stats tx, rx;
    uint64_t busiest_hour;      /* Start of the clock hour with the largest
                                 * tx + rx bytes (0 if no traffic). */
    uint64_t busiest_hour_tx, busiest_hour_rx; /* Its bytes. */
    uint64_t link_speed;        /* bit/s, 0 if unknown. */
    /* Utilisation, the fraction of 'link_speed' (bits) of the larger
     * direction, or -1 if 'link_speed' is unknown. */
    double peak_util, p95_util;
    bool approximate;           /* Series was multi_host at 'm'/'h'. */
};

/* Computes 'st' from 's' ('link_speed' in bit/s, 0 if unknown).  Pure: no
 * Redis. */
void ctl_series_stats(const struct ctl_series *s, uint64_t link_speed,
                      struct ctl_stats *st);

/* When 'st' was computed from rollups, narrows each direction's peak_time
 * to the minute and then the second by reading the finer resolutions of
 * the peak bin, while they are retained.  Returns 0 or an errno value. */
int ctl_stats_refine_peak(struct ctl_reader *, const struct ctl_entity *e,
                          struct ctl_stats *st);

/* Pure helpers (exposed for tests and for `report`). */

/* The 'q' quantile (0..1, nearest rank) of 'n' values, which it sorts in
 * place; 0 if 'n' is 0. */
uint64_t ctl_quantile_u64(uint64_t *values, size_t n, double q);

/* JSON.  Bins: [{"time", "tx_bytes", "tx_packets", "rx_bytes",
 * "rx_packets"} ...]; 'm'/'h' bins add "recorded", "tx_max_bytes",
 * "rx_max_bytes"; a bin with no recorded second is {"time", "gap": true}
 * plus "reason" when a marked gap. */
struct json_t *ctl_series_to_json(const struct ctl_series *);
/* Stats: {"from", "to", "res", "recorded_seconds", "tx": {...}, "rx":
 * {...}, "busiest_hour": {"time", "tx_bytes", "rx_bytes"} or null,
 * "link_speed" (null if unknown), "peak_utilisation", "p95_utilisation"
 * (null if unknown), "approximate"}; each direction {"bytes", "packets",
 * "mean_bytes_per_s", "peak_bytes_per_s", "peak_packets_per_s",
 * "peak_time", "peak_precision_s", "p95_bytes_per_s", "p95_exact"}. */
struct json_t *ctl_stats_to_json(const struct ctl_stats *);
/* Entity: {"kind", "id", "tenant", "host" (or null), "hosts": [...],
 * "port_kind", "vm", "link_speed" (null when unknown)}. */
struct json_t *ctl_entity_to_json(const struct ctl_entity *);

/* Text.  "12.3 Mbit/s" from bytes per second; "1.23 GB" from bytes (SI
 * units); "2024-05-01 12:00:05" UTC from seconds. */
void ctl_format_rate(double bytes_per_s, char *buf, size_t size);
void ctl_format_bytes(uint64_t bytes, char *buf, size_t size);
void ctl_format_utc(uint64_t t, char *buf, size_t size);

/* Live view (`top`): merges the "vnm:{HOST}:bw:live" objects 'lives' (n of
 * them, borrowed) into one of the same shape, counters of the same VM,
 * tenant, application, port (per host) and pair summed, each list sorted
 * again and cut to 'top_n' entries; adds "hosts": [names] and takes the
 * largest "time".  Returns a new reference. */
struct json_t *ctl_live_merge(struct json_t *const *lives, size_t n,
                              size_t top_n);

#endif /* ctl-series.h */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bandwidth series in Redis: key names, value formats and the p95
 * histogram, shared by the agent that writes them (collector/bw.c) and the
 * tools that read them (vnmonctl).  doc/redis-keys.md ("Bandwidth series")
 * is the user-facing description; this header is the contract.
 *
 * Entities.  A series belongs to one entity of one host:
 *
 *   kind     id                  scope    what it counts
 *   host     "-"                 host     every frame the agent captured
 *   port     OVS interface name  see below frames of one OVS interface
 *   vm       VM uuid             tenant   the VM's ports together
 *   tenant   "-"                 tenant   the tenant's VMs together
 *   app      nDPI app name       host     flows of that application
 *   ovs      OVS interface name  see port OVSDB Interface statistics
 *
 * Direction.  Counters are seen from the entity: 'tx' is what it sent,
 * 'rx' what it received.  For a port that is what its device sent into
 * the switch (tx: the frames the taps capture on its ingress) and what the
 * switch delivered to it (rx: frames of its flows that other ports sent
 * towards it).  For an uplink, tx is traffic coming in from the network.
 * For an application, tx is initiator to responder ("upload") and rx the
 * answer.  For 'ovs', tx is the Interface's rx_* counters (what OVS
 * received from the device) and rx its tx_* counters.
 *
 * Scope.  Host-scoped keys start "vnm:{HOST}:", tenant-scoped keys
 * "vnm:t:TENANT:{HOST}:" (so a Redis ACL "~vnm:t:TENANT:*" gives one tenant
 * its keys, and Redis Cluster keeps a host's keys in one slot).  A port
 * (and its 'ovs' series) whose interface names a tenant is tenant-scoped;
 * other ports (uplinks, tunnels, internal ports) are host-scoped, as are a
 * VM's series when it has no tenant.  Ids and tenants are escaped with
 * bw_escape() (':' and glob characters percent-encoded).
 *
 * Resolutions and buckets.  A series is split into keys of one "span"
 * each; a key is a hash whose field is the offset of a bin in the span:
 *
 *   res  bin    span    key                                 fields
 *   s    1 s    60 s    PREFIX:bw:s:KIND:ID:SPANSTART      "0".."59"
 *   m    60 s   3600 s  PREFIX:bw:m:KIND:ID:SPANSTART      "0".."59"
 *   h    3600 s 86400 s PREFIX:bw:h:KIND:ID:SPANSTART      "0".."23"
 *
 * SPANSTART is in seconds since the epoch (a multiple of the span).  Each
 * key expires (EXPIREAT) at SPANSTART + span + the resolution's retention.
 * A bin with no traffic has no field, except for the host entity, which
 * the agent writes every second it records (so a missing host field means
 * "not recorded": agent stopped, or a gap, see below).
 *
 * Coverage for tenants: a tenant's Redis user (vnmonctl tenant add) cannot
 * read the host entity, whose counters are every tenant's traffic.  So the
 * agent also writes the series of entity kind "cov", id "-", under the
 * prefix "vnm:cov:{HOST}" (bw_cov_prefix()), with the same fields as the
 * host entity but zero counters: which seconds were recorded (1-s bins)
 * and how many (N of the rollups), and nothing else.  Tenant users may
 * read "vnm:cov:*".
 *
 * Values are space-separated unsigned decimals:
 *   s:    TXB TXP RXB RXP
 *   m, h: TXB TXP RXB RXP N TXMAXB RXMAXB TXMAXP RXMAXP [ | HIST]
 * where N is the number of 1-s bins folded in that had traffic (for the
 * host entity: that were recorded) and the MAX fields the largest 1-s value
 * of the bin (the peak second).  Rollups end with " | " and the histograms
 * of the 1-s byte counts of their seconds with traffic,
 * "tx:B=C,B=C rx:B=C" (bucket B holding C seconds; see bw_hist_bucket()),
 * so that p95 over any range can be had by merging histograms.  Seconds
 * without traffic are not in them: a reader adds, to bucket 0, the host's
 * recorded seconds of the range less the entity's N.
 *
 * Gaps: "vnm:{HOST}:bw:gaps" is a sorted set, member "START-END:REASON"
 * (seconds, inclusive START, exclusive END), score START: seconds the agent
 * could not record (Redis outage longer than its buffer: "redis").
 *
 * Index: "vnm:{HOST}:bw:index" (host scope) and "vnm:t:T:{HOST}:bw:index"
 * (tenant scope) are sorted sets of "KIND:ID" (ID escaped) scored by the
 * last second the entity had traffic; "vnm:bw:hosts" is the set of hosts,
 * "vnm:{HOST}:bw:tenants" the set of (escaped) tenants of a host.
 *
 * Live view: "vnm:{HOST}:bw:live", a string holding the JSON of the last
 * recorded second's top entities (see doc/redis-keys.md), expiring after
 * 10 s; "vnm:t:T:{HOST}:bw:live" the same for tenant T alone (its total,
 * VMs and ports; no applications nor pairs).  Top pairs per minute and hour: "vnm:{HOST}:bw:pairs:m:START" and
 * "...:pairs:h:START", hashes "SRC>DST" -> "BYTES PACKETS" (the busiest
 * pairs only), with the 'm' and 'h' retentions.
 */
#ifndef VNM_BW_SERIES_H
#define VNM_BW_SERIES_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Series resolutions. */
enum bw_res {
    BW_RES_S,                   /* 1 s bins, 60 s keys. */
    BW_RES_M,                   /* 1 min bins, 1 h keys. */
    BW_RES_H,                   /* 1 h bins, 1 day keys. */
    BW_N_RES
};

/* Default retentions, seconds. */
#define BW_DEFAULT_RETENTION_S 3600
#define BW_DEFAULT_RETENTION_M (7 * 86400)
#define BW_DEFAULT_RETENTION_H (400 * 86400)

/* Histogram: bucket 0 holds zero, bucket b >= 1 values v with
 * floor(BW_HIST_STEPS * log2(v)) == b - 1.  Relative error of a bucket's
 * representative value (bw_hist_value()): under 4.4%. */
#define BW_HIST_STEPS 8
#define BW_HIST_BUCKETS (64 * BW_HIST_STEPS + 1)

/* One bin: counters, and for 'm'/'h' bins the peak second and histograms.
 * Histograms are sparse arrays of (bucket, count). */
struct bw_hist {
    uint32_t n;                 /* Buckets used. */
    uint32_t cap;
    uint16_t *bucket;
    uint32_t *count;
};

struct bw_bin {
    uint64_t tx_bytes, tx_packets, rx_bytes, rx_packets;
    uint64_t n;                 /* 1-s bins folded in ('m', 'h'). */
    uint64_t tx_max_bytes, rx_max_bytes, tx_max_packets, rx_max_packets;
    struct bw_hist tx_hist, rx_hist;
};

/* "s", "m", "h"; and the span, bin length and field count. */
const char *bw_res_name(enum bw_res);
bool bw_res_from_name(const char *, enum bw_res *);
unsigned int bw_res_bin(enum bw_res);       /* 1, 60, 3600. */
unsigned int bw_res_span(enum bw_res);      /* 60, 3600, 86400. */

/* Escapes 's' for use in a key: ':', '*', '?', '[', ']', '{', '}', '\\',
 * '%', ' ' and control characters become %XX.  Returns a malloc'd string.
 * bw_unescape() undoes it (in place). */
char *bw_escape(const char *s);
void bw_unescape(char *s);

/* The prefix of a host's keys in 'tenant''s scope ("vnm:{HOST}" if
 * 'tenant' is NULL or "", else "vnm:t:TENANT:{HOST}", TENANT escaped
 * here).  Malloc'd. */
char *bw_prefix(const char *host, const char *tenant);
/* The prefix of a host's coverage series, "vnm:cov:{HOST}" (see "Coverage for
 * tenants" above).  Malloc'd. */
char *bw_cov_prefix(const char *host);
/* The key of the set of hosts with data of the tenant escaped as 'esc'
 * (bw_escape()), "vnm:t:ESC:bw:hosts": written by the agent's bandwidth
 * and conntrack writers, read by vnmonctl in a tenant's scope.
 * Malloc'd. */
char *bw_tenant_hosts_key(const char *esc);

/* The key of the span of resolution 'res' that holds second 't' of series
 * (kind, id) under 'prefix' ('id' unescaped; "-" when the kind has none),
 * and the field of 't' in it.  Malloc'd key; 'field' gets the offset. */
char *bw_key(const char *prefix, enum bw_res res, const char *kind,
             const char *id, uint64_t t, unsigned int *field);

/* Formats 'bin' as a value of resolution 'res' into 'buf' (at least
 * BW_VALUE_MAX bytes for 's'; 'm' and 'h' values with histograms are
 * returned malloc'd by bw_format_alloc()). */
#define BW_VALUE_MAX 96
void bw_format_s(const struct bw_bin *, char *buf, size_t size);
char *bw_format_alloc(const struct bw_bin *, enum bw_res);

/* Parses a value of resolution 'res' into '*bin' (initialised here; free
 * with bw_bin_uninit()).  Returns false if 's' is malformed. */
bool bw_parse(const char *s, enum bw_res res, struct bw_bin *bin);
void bw_bin_init(struct bw_bin *);
void bw_bin_uninit(struct bw_bin *);
/* Folds the 1-s bin 's' into the rollup 'r' (sum, max, histograms,
 * n += 1). */
void bw_bin_fold_second(struct bw_bin *r, const struct bw_bin *s);
/* Merges rollup 'b' into rollup 'a' (sums, maxima, histograms). */
void bw_bin_merge(struct bw_bin *a, const struct bw_bin *b);

/* Histograms. */
unsigned int bw_hist_bucket(uint64_t v);
double bw_hist_value(unsigned int bucket);  /* Geometric midpoint. */
void bw_hist_add(struct bw_hist *, unsigned int bucket, uint32_t count);
void bw_hist_clear(struct bw_hist *);
/* The value below which a fraction 'q' (0..1) of the histogram's samples
 * fall (nearest rank), or 0 if empty. */
double bw_hist_quantile(const struct bw_hist *, double q);
/* The same with 'zeros' more samples of value 0 (seconds recorded without
 * traffic, which histograms leave out). */
double bw_hist_quantile_zeros(const struct bw_hist *, uint64_t zeros,
                              double q);

#endif /* bw-series.h */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's Prometheus endpoint and the exposition-format writer: see
 * prometheus.h.  doc/prometheus.md lists the metrics written here.
 */
#include <config.h>

#include "collector/prometheus.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector/bw.h"
#include "lib/conf.h"
#include "lib/counter.h"
#include "lib/loader.h"
#include "lib/log.h"
#include "lib/redis.h"

/* The end of a label list: a null pointer of the type the variadic
 * functions read (a bare NULL may be a plain 0). */
#define PROM_END ((const char *) NULL)

VNM_LOG_MODULE(prometheus);

/* A growable string. */
struct prom_buf {
    char *s;
    size_t len;
    size_t allocated;
};

static void
buf_reserve(struct prom_buf *b, size_t n)
{
    if (b->len + n + 1 > b->allocated) {
        size_t want = b->allocated ? b->allocated * 2 : 256;

        while (want < b->len + n + 1) {
            want *= 2;
        }
        b->s = xrealloc(b->s, want);
        b->allocated = want;
    }
}

static void
buf_put(struct prom_buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void
buf_puts(struct prom_buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

/* The length of the valid UTF-8 sequence at 's' (1 to 4), or 0 if the
 * bytes there are not one. */
static size_t
utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];

    if (c < 0x80) {
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    } else if (c >= 0xe0 && c <= 0xef) {
        unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
        unsigned char hi = c == 0xed ? 0x9f : 0xbf;

        return (s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80) ? 3 : 0;
    } else if (c >= 0xf0 && c <= 0xf4) {
        unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
        unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;

        return (s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80
                && (s[3] & 0xc0) == 0x80) ? 4 : 0;
    }
    return 0;
}

/* Appends 's', escaping backslash and newline, and also double quotes if
 * 'quote' (a label value), as the text format wants; invalid UTF-8 becomes
 * U+FFFD. */
static void
buf_put_escaped(struct prom_buf *b, const char *s, bool quote)
{
    const unsigned char *p = (const unsigned char *) s;

    while (*p) {
        size_t n = utf8_len(p);

        if (*p == '\\') {
            buf_put(b, "\\\\", 2);
        } else if (*p == '\n') {
            buf_put(b, "\\n", 2);
        } else if (*p == '"' && quote) {
            buf_put(b, "\\\"", 2);
        } else if (n) {
            buf_put(b, (const char *) p, n);
            p += n;
            continue;
        } else {
            buf_put(b, "\xef\xbf\xbd", 3);
        }
        p++;
    }
}

/* Appends 'v' as the format wants: the shortest decimal that reads back as
 * 'v', or NaN, +Inf, -Inf. */
static void
buf_put_double(struct prom_buf *b, double v)
{
    char s[40];

    if (isnan(v)) {
        buf_puts(b, "NaN");
    } else if (isinf(v)) {
        buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    } else {
        snprintf(s, sizeof s, "%.15g", v);
        if (strtod(s, NULL) != v) {
            snprintf(s, sizeof s, "%.17g", v);
        }
        buf_puts(b, s);
    }
}

static void
buf_put_uint(struct prom_buf *b, uint64_t v)
{
    char s[24];

    snprintf(s, sizeof s, "%"PRIu64, v);
    buf_puts(b, s);
}

/* One metric family: its header and its samples so far. */
struct prom_family {
    char *name;
    const char *type;           /* "counter", "gauge", "summary". */
    char *help;
    struct prom_buf samples;
};

struct prom_writer {
    char *host;                 /* host label, or null. */
    struct prom_family *families; /* In order of first sample. */
    size_t n_families;
    size_t allocated;
    size_t last;                /* Index of the last family used. */
};

struct prom_writer *
prom_writer_create(const char *host)
{
    struct prom_writer *w = xzalloc(sizeof *w);

    w->host = host ? xstrdup(host) : NULL;
    return w;
}

void
prom_writer_destroy(struct prom_writer *w)
{
    if (!w) {
        return;
    }
    for (size_t i = 0; i < w->n_families; i++) {
        free(w->families[i].name);
        free(w->families[i].help);
        free(w->families[i].samples.s);
    }
    free(w->families);
    free(w->host);
    free(w);
}

char *
prom_writer_finish(struct prom_writer *w, size_t *lenp)
{
    struct prom_buf out = { NULL, 0, 0 };

    buf_reserve(&out, 0);
    out.s[0] = '\0';
    for (size_t i = 0; i < w->n_families; i++) {
        const struct prom_family *f = &w->families[i];

        buf_puts(&out, "# HELP ");
        buf_puts(&out, f->name);
        buf_puts(&out, " ");
        buf_put_escaped(&out, f->help, false);
        buf_puts(&out, "\n# TYPE ");
        buf_puts(&out, f->name);
        buf_puts(&out, " ");
        buf_puts(&out, f->type);
        buf_puts(&out, "\n");
        buf_put(&out, f->samples.s, f->samples.len);
    }
    prom_writer_destroy(w);
    *lenp = out.len;
    return out.s;
}

/* True if 'name' is a valid metric name (with 'colon') or label name. */
static bool
valid_name(const char *name, bool colon)
{
    if (!name || !*name || (!colon && !strncmp(name, "__", 2))) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        char c = *p;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
              || (c == ':' && colon) || (p != name && c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return true;
}

/* The family 'name' of 'type', created with 'help' if new; null (after a
 * warning) if 'name' is invalid or the family has another type. */
static struct prom_family *
get_family(struct prom_writer *w, const char *name, const char *type,
           const char *help)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    struct prom_family *f = NULL;

    if (w->last < w->n_families && !strcmp(w->families[w->last].name, name)) {
        f = &w->families[w->last];
    } else {
        for (size_t i = 0; i < w->n_families; i++) {
            if (!strcmp(w->families[i].name, name)) {
                f = &w->families[i];
                w->last = i;
                break;
            }
        }
    }
    if (f) {
        if (strcmp(f->type, type)) {
            VNM_WARN_RL(&rl, "metric %s: a %s, given as a %s: sample dropped",
                        name, f->type, type);
            return NULL;
        }
        return f;
    }
    if (!valid_name(name, true)) {
        VNM_WARN_RL(&rl, "\"%s\" is not a valid metric name: sample dropped",
                    name);
        return NULL;
    }
    if (w->n_families >= w->allocated) {
        w->allocated = w->allocated ? 2 * w->allocated : 32;
        w->families = xrealloc(w->families,
                               w->allocated * sizeof *w->families);
    }
    w->last = w->n_families++;
    f = &w->families[w->last];
    memset(f, 0, sizeof *f);
    f->name = xstrdup(name);
    f->type = type;
    f->help = xstrdup(help ? help : "");
    return f;
}

/* Appends to family 'f' the sample 'name''suffix'{host, labels} with the
 * value in 'value'.  Returns false, appending nothing, if a label name is
 * invalid. */
static bool
put_sample(struct prom_writer *w, struct prom_family *f, const char *suffix,
           const char *value, va_list labels)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    struct prom_buf *b = &f->samples;
    size_t start = b->len;
    const char *key;
    bool any = false;

    buf_puts(b, f->name);
    buf_puts(b, suffix);
    if (w->host) {
        buf_puts(b, "{host=\"");
        buf_put_escaped(b, w->host, true);
        buf_puts(b, "\"");
        any = true;
    }
    while ((key = va_arg(labels, const char *))) {
        const char *v = va_arg(labels, const char *);

        if (!valid_name(key, false)) {
            VNM_WARN_RL(&rl, "metric %s: \"%s\" is not a valid label name: "
                        "sample dropped", f->name, key);
            b->len = start;
            b->s[start] = '\0';
            return false;
        }
        buf_puts(b, any ? "," : "{");
        buf_puts(b, key);
        buf_puts(b, "=\"");
        buf_put_escaped(b, v ? v : "", true);
        buf_puts(b, "\"");
        any = true;
    }
    buf_puts(b, any ? "} " : " ");
    buf_puts(b, value);
    buf_puts(b, "\n");
    return true;
}

/* Adds one sample of 'type' whose value is already text. */
static void
add_sample(struct prom_writer *w, const char *type, const char *name,
           const char *help, const char *value, va_list labels)
{
    struct prom_family *f = get_family(w, name, type, help);

    if (f) {
        put_sample(w, f, "", value, labels);
    }
}

void
prom_counter(struct prom_writer *w, const char *name, const char *help,
             uint64_t value, ...)
{
    struct prom_buf v = { NULL, 0, 0 };
    va_list args;

    buf_put_uint(&v, value);
    va_start(args, value);
    add_sample(w, "counter", name, help, v.s, args);
    va_end(args);
    free(v.s);
}

void
prom_counter_double(struct prom_writer *w, const char *name,
                    const char *help, double value, ...)
{
    struct prom_buf v = { NULL, 0, 0 };
    va_list args;

    buf_put_double(&v, value);
    va_start(args, value);
    add_sample(w, "counter", name, help, v.s, args);
    va_end(args);
    free(v.s);
}

void
prom_gauge(struct prom_writer *w, const char *name, const char *help,
           double value, ...)
{
    struct prom_buf v = { NULL, 0, 0 };
    va_list args;

    buf_put_double(&v, value);
    va_start(args, value);
    add_sample(w, "gauge", name, help, v.s, args);
    va_end(args);
    free(v.s);
}

void
prom_summary(struct prom_writer *w, const char *name, const char *help,
             uint64_t count, double sum, ...)
{
    struct prom_family *f = get_family(w, name, "summary", help);
    struct prom_buf v = { NULL, 0, 0 };
    va_list args, copy;

    if (!f) {
        return;
    }
    va_start(args, sum);
    va_copy(copy, args);
    buf_put_double(&v, sum);
    if (put_sample(w, f, "_sum", v.s, args)) {
        v.len = 0;
        buf_put_uint(&v, count);
        put_sample(w, f, "_count", v.s, copy);
    }
    va_end(copy);
    va_end(args);
    free(v.s);
}

/* The agent's metrics. */

/* The integer member 'key' of 'obj', 0 if absent. */
static uint64_t
ju(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    return (json_is_integer(v) ? (uint64_t) json_integer_value(v)
            : json_is_true(v) ? 1 : 0);
}

/* The counters of one tap ("netdev", or "flow" on 'bridge'), from the
 * status object 'tap'. */
static void
write_tap(struct prom_writer *w, const char *kind, const char *bridge,
          const json_t *tap)
{
    const json_t *per_port = json_object_get(tap, "per_port");
    const char *port;
    const json_t *ps;

#define TAP_LABELS "tap", kind, bridge ? "bridge" : PROM_END, bridge, PROM_END
    prom_counter(w, "vnmon_tap_packets_total",
                 "Frames a tap delivered to the workers.",
                 ju(tap, "packets"), TAP_LABELS);
    prom_counter(w, "vnmon_tap_bytes_total",
                 "Bytes of the frames a tap delivered (as captured, L2).",
                 ju(tap, "bytes"), TAP_LABELS);
    prom_counter(w, "vnmon_tap_ring_packets_total",
                 "Frames the kernel put in a tap's capture rings.",
                 ju(tap, "ring_packets"), TAP_LABELS);
    prom_counter(w, "vnmon_tap_ring_drops_total",
                 "Frames the kernel dropped because a tap's capture ring "
                 "was full.", ju(tap, "ring_drops"), TAP_LABELS);
    prom_counter(w, "vnmon_tap_unknown_total",
                 "Frames of a tap from no port it knows.",
                 ju(tap, "unknown"), TAP_LABELS);
    prom_counter(w, "vnmon_tap_untagged_total",
                 "Frames of the flow tap without its port tag.",
                 ju(tap, "untagged"), TAP_LABELS);
    prom_gauge(w, "vnmon_tap_ports", "Ports a tap captures.",
               (double) ju(tap, "ports"), TAP_LABELS);
#undef TAP_LABELS

#define PORT_LABELS "tap", kind, "port", port, \
        bridge ? "bridge" : PROM_END, bridge, PROM_END
    json_object_foreach ((json_t *) per_port, port, ps) {
        prom_counter(w, "vnmon_tap_port_packets_total",
                     "Frames a tap captured entering the switch from one "
                     "port (what the port sent).", ju(ps, "packets"),
                     PORT_LABELS);
        prom_counter(w, "vnmon_tap_port_bytes_total",
                     "Bytes of the frames a tap captured entering the "
                     "switch from one port.", ju(ps, "bytes"), PORT_LABELS);
    }
#undef PORT_LABELS
}

/* Adds counter (or gauge, if 'gauge') 'name' with the integer member 'key'
 * of 'obj', if it has one. */
static void
metric_if(struct prom_writer *w, const json_t *obj, const char *key,
          bool gauge, const char *name, const char *help)
{
    const json_t *v = json_object_get(obj, key);

    if (json_is_integer(v)) {
        if (gauge) {
            prom_gauge(w, name, help, (double) json_integer_value(v), PROM_END);
        } else {
            prom_counter(w, name, help, (uint64_t) json_integer_value(v),
                         PROM_END);
        }
    }
}

/* The bandwidth aggregator's own counters (collector/bw.c's status). */
static void
write_bandwidth(struct prom_writer *w, const json_t *bw)
{
    metric_if(w, bw, "entities", true, "vnmon_bw_entities",
              "Entities (host, ports, VMs, tenants, apps) with series.");
    metric_if(w, bw, "deltas", false, "vnmon_bw_deltas_total",
              "Per-second flow deltas the aggregator took in.");
    metric_if(w, bw, "late", false, "vnmon_bw_late_deltas_total",
              "Deltas for a second already closed.");
    metric_if(w, bw, "forced_closes", false, "vnmon_bw_forced_closes_total",
              "Seconds closed without waiting for every worker.");
    metric_if(w, bw, "seconds", false, "vnmon_bw_seconds_total",
              "Seconds recorded.");
    metric_if(w, bw, "commands", false, "vnmon_bw_redis_commands_total",
              "Redis commands the aggregator queued.");
    metric_if(w, bw, "buffered_seconds", true, "vnmon_bw_buffered_seconds",
              "Closed seconds waiting to be written to Redis (the "
              "outage buffer).");
    metric_if(w, bw, "buffered_rollups", true, "vnmon_bw_buffered_rollups",
              "Rollups waiting to be written to Redis.");
    metric_if(w, bw, "dropped_seconds", false,
              "vnmon_bw_dropped_seconds_total",
              "Seconds dropped because the outage buffer was full.");
    metric_if(w, bw, "gaps", false, "vnmon_bw_gaps_total",
              "Gaps recorded in the series.");
    metric_if(w, bw, "unattributed", false, "vnmon_bw_unattributed_total",
              "Deltas of which a side had no known port.");
    metric_if(w, bw, "pairs_overflow", false,
              "vnmon_bw_pairs_overflow_total",
              "VM pairs not kept because the top-pairs table was full.");
    metric_if(w, bw, "recent_flows", true, "vnmon_recent_flows",
              "Flow records kept as the VMs' recent flows.");
}

void
prom_write_agent_status(struct prom_writer *w, const json_t *status)
{
    const json_t *cap = json_object_get(status, "capture");
    const json_t *ovsdb = json_object_get(status, "ovsdb");
    const json_t *netdev = json_object_get(status, "netdev_tap");
    const json_t *flow_taps = json_object_get(status, "flow_taps");
    const json_t *bw = json_object_get(status, "bandwidth");

    if (cap) {
        const json_t *reasons = json_object_get(cap, "malformed_by_reason");
        const json_t *workers = json_object_get(cap, "workers");
        const char *reason;
        const json_t *n;
        size_t i;

        prom_counter(w, "vnmon_capture_frames_total",
                     "Frames the workers decoded.", ju(cap, "frames"), PROM_END);
        prom_counter(w, "vnmon_capture_bytes_total",
                     "Bytes of the frames the workers decoded (L2).",
                     ju(cap, "bytes"), PROM_END);
        prom_counter(w, "vnmon_capture_malformed_total",
                     "Frames the decoder found malformed.",
                     ju(cap, "malformed"), PROM_END);
        json_object_foreach ((json_t *) reasons, reason, n) {
            prom_counter(w, "vnmon_capture_malformed_reason_total",
                         "Malformed frames, by the decoder's reason.",
                         json_is_integer(n)
                         ? (uint64_t) json_integer_value(n) : 0,
                         "reason", reason, PROM_END);
        }
        prom_counter(w, "vnmon_capture_unknown_port_total",
                     "Frames whose ingress port the workers did not know.",
                     ju(cap, "unknown_port"), PROM_END);
        prom_gauge(w, "vnmon_flows", "Flows in the flow tables.",
                   (double) ju(cap, "flows"), PROM_END);
        prom_counter(w, "vnmon_flows_evicted_total",
                     "Flows evicted because a flow table was full.",
                     ju(cap, "evicted"), PROM_END);
        prom_gauge(w, "vnmon_flow_memory_bytes",
                   "Memory of the flow tables, nDPI state included.",
                   (double) ju(cap, "flow_memory"), PROM_END);
        prom_counter(w, "vnmon_flow_records_total",
                     "Flow records produced.", ju(cap, "records"), PROM_END);
        prom_counter(w, "vnmon_flow_records_dropped_total",
                     "Flow records lost because a worker's queue was full.",
                     ju(cap, "records_dropped"), PROM_END);
        json_array_foreach ((json_t *) workers, i, n) {
            char worker[24];

            snprintf(worker, sizeof worker, "%zu", i);
            prom_counter(w, "vnmon_worker_frames_total",
                         "Frames one worker decoded.", ju(n, "frames"),
                         "worker", worker, PROM_END);
            prom_gauge(w, "vnmon_worker_flows",
                       "Flows in one worker's table.",
                       (double) ju(n, "flows"), "worker", worker, PROM_END);
            prom_counter(w, "vnmon_worker_flows_created_total",
                         "Flows one worker created.", ju(n, "created"),
                         "worker", worker, PROM_END);
            prom_counter(w, "vnmon_worker_flows_evicted_total",
                         "Flows one worker evicted.", ju(n, "evicted"),
                         "worker", worker, PROM_END);
            prom_gauge(w, "vnmon_worker_flow_memory_bytes",
                       "Memory of one worker's flow table.",
                       (double) ju(n, "memory"), "worker", worker, PROM_END);
            prom_counter(w, "vnmon_worker_records_dropped_total",
                         "Flow records one worker's full queue lost.",
                         ju(n, "records_dropped"), "worker", worker, PROM_END);
        }
    }
    if (ovsdb) {
        prom_gauge(w, "vnmon_ovsdb_connected",
                   "1 if connected to ovsdb-server.",
                   (double) ju(ovsdb, "connected"), PROM_END);
        prom_gauge(w, "vnmon_ovsdb_synced",
                   "1 if the OVSDB replica is in sync.",
                   (double) ju(ovsdb, "synced"), PROM_END);
        prom_counter(w, "vnmon_ovsdb_reconnects_total",
                     "Connections to ovsdb-server made again after one was "
                     "lost.", ju(ovsdb, "reconnects"), PROM_END);
        prom_counter(w, "vnmon_ovsdb_resyncs_total",
                     "Full resynchronisations of the OVSDB replica.",
                     ju(ovsdb, "resyncs"), PROM_END);
        prom_counter(w, "vnmon_ovsdb_updates_total",
                     "OVSDB update notifications applied.",
                     ju(ovsdb, "updates"), PROM_END);
        prom_gauge(w, "vnmon_ovsdb_interfaces",
                   "Interfaces in the inventory.",
                   (double) ju(ovsdb, "interfaces"), PROM_END);
        prom_counter(w, "vnmon_port_map_rebuilds_total",
                     "Rebuilds of the workers' port maps.",
                     ju(ovsdb, "port_maps"), PROM_END);
    }
    if (netdev) {
        write_tap(w, "netdev", NULL, netdev);
    }
    if (bw) {
        write_bandwidth(w, bw);
    }
    if (json_is_object(flow_taps)) {
        const char *bridge;
        const json_t *tap;

        json_object_foreach ((json_t *) flow_taps, bridge, tap) {
            write_tap(w, "flow", bridge, tap);
            prom_counter(w, "vnmon_flow_tap_reinstalls_total",
                         "Flow tap rules found missing and put back.",
                         ju(tap, "reinstalls"), "bridge", bridge, PROM_END);
            prom_counter(w, "vnmon_flow_tap_monitor_recreated_total",
                         "Flow tap monitor ports created again.",
                         ju(tap, "monitor_recreated"), "bridge", bridge,
                         PROM_END);
            prom_gauge(w, "vnmon_flow_tap_in_sync",
                       "1 if the flow tap's rules are all installed.",
                       (double) ju(tap, "in_sync"), "bridge", bridge, PROM_END);
            prom_gauge(w, "vnmon_flow_tap_rules",
                       "OpenFlow rules the flow tap installed.",
                       (double) ju(tap, "rules"), "bridge", bridge, PROM_END);
        }
    }
}

void
prom_write_redis(struct prom_writer *w, const struct vnm_redis_stats *rs)
{
    prom_gauge(w, "vnmon_redis_connected", "1 if connected to Redis.",
               rs->connected ? 1.0 : 0.0, PROM_END);
    prom_counter(w, "vnmon_redis_connects_total",
                 "Connections made to Redis.", rs->n_connects, PROM_END);
    prom_counter(w, "vnmon_redis_outages_total",
                 "Redis outages (a connection lost, or a failed first "
                 "connection).", rs->n_outages, PROM_END);
    prom_counter(w, "vnmon_redis_commands_total",
                 "Redis commands sent and answered.", rs->n_commands, PROM_END);
    prom_counter(w, "vnmon_redis_dropped_total",
                 "Redis commands dropped while Redis was unreachable.",
                 rs->n_dropped, PROM_END);
    prom_counter(w, "vnmon_redis_errors_total",
                 "Redis commands answered with an error.", rs->n_errors,
                 PROM_END);
    prom_gauge(w, "vnmon_redis_pending_commands",
               "Redis commands queued for the next flush.",
               (double) rs->n_pending, PROM_END);
    prom_summary(w, "vnmon_redis_round_trip_seconds",
                 "Redis round trips (a pipelined flush, a query) and their "
                 "total duration.", rs->n_round_trips,
                 (double) rs->rtt_total_us / 1e6, PROM_END);
    prom_gauge(w, "vnmon_redis_round_trip_last_seconds",
               "Duration of the last Redis round trip.",
               (double) rs->rtt_last_us / 1e6, PROM_END);
    prom_gauge(w, "vnmon_redis_round_trip_max_seconds",
               "Duration of the longest Redis round trip since start.",
               (double) rs->rtt_max_us / 1e6, PROM_END);
}

void
prom_write_plugins(struct prom_writer *w, const struct vnm_loader *loader)
{
    for (size_t i = 0; i < vnm_loader_count(loader); i++) {
        const struct vnm_plugin_instance *inst = vnm_loader_get(loader, i);

        prom_gauge(w, "vnmon_plugin_info",
                   "A loaded plugin instance (value 1).", 1.0,
                   "instance", inst->name, "plugin", inst->desc->name,
                   "kind", vnm_plugin_kind_name(inst->desc->kind),
                   "version", inst->desc->version, PROM_END);
        for (size_t j = 0; j < inst->n_counters; j++) {
            prom_counter(w, "vnmon_plugin_events_total",
                         "A plugin's own counters (host->count()).",
                         inst->counters[j].value, "instance", inst->name,
                         "counter", inst->counters[j].name, PROM_END);
        }
    }
}

void
prom_write_daemon(struct prom_writer *w)
{
    prom_gauge(w, "vnmon_build_info", "vnmon's version (value 1).", 1.0,
               "version", PACKAGE_VERSION, PROM_END);
    for (const struct vnm_counter *c = vnm_counter_first(); c;
         c = c->next) {
        prom_counter(w, "vnmon_events_total",
                     "The daemon's event counters (vnmonctl status).",
                     vnm_counter_read(c), "counter", c->name, PROM_END);
    }
    prom_counter(w, "vnmon_log_messages_total",
                 "Messages logged, by level.", vnm_log_count(VNM_LOG_WARN),
                 "level", "warn", PROM_END);
    prom_counter(w, "vnmon_log_messages_total",
                 "Messages logged, by level.", vnm_log_count(VNM_LOG_ERR),
                 "level", "err", PROM_END);
}

void
prom_write_bw_total(void *w_, const char *kind, const char *id,
                    const char *tenant, const struct bw_totals *t)
{
    struct prom_writer *w = w_;
    char bytes[48], packets[48], help_b[96], help_p[96];
    const char *key;

    if (!strcmp(kind, "port")) {
        key = "port";
    } else if (!strcmp(kind, "vm")) {
        key = "vm";
    } else if (!strcmp(kind, "tenant")) {
        /* A tenant's id is "-" (lib/bw-series.h): the tenant says who. */
        key = NULL;
    } else {
        return;
    }
    snprintf(bytes, sizeof bytes, "vnmon_%s_bytes_total", kind);
    snprintf(packets, sizeof packets, "vnmon_%s_packets_total", kind);
    snprintf(help_b, sizeof help_b, "Bytes per %s and direction (tx: sent "
             "by it, rx: delivered to it), from the taps.", kind);
    snprintf(help_p, sizeof help_p, "Frames per %s and direction (tx: sent "
             "by it, rx: delivered to it), from the taps.", kind);

    if (key) {
        prom_counter(w, bytes, help_b, t->tx_bytes, key, id,
                     "tenant", tenant, "direction", "tx", PROM_END);
        prom_counter(w, bytes, help_b, t->rx_bytes, key, id,
                     "tenant", tenant, "direction", "rx", PROM_END);
        prom_counter(w, packets, help_p, t->tx_packets, key, id,
                     "tenant", tenant, "direction", "tx", PROM_END);
        prom_counter(w, packets, help_p, t->rx_packets, key, id,
                     "tenant", tenant, "direction", "rx", PROM_END);
    } else {
        const char *who = tenant && *tenant ? tenant : id;

        prom_counter(w, bytes, help_b, t->tx_bytes, "tenant", who,
                     "direction", "tx", PROM_END);
        prom_counter(w, bytes, help_b, t->rx_bytes, "tenant", who,
                     "direction", "rx", PROM_END);
        prom_counter(w, packets, help_p, t->tx_packets, "tenant", who,
                     "direction", "tx", PROM_END);
        prom_counter(w, packets, help_p, t->rx_packets, "tenant", who,
                     "direction", "rx", PROM_END);
    }
}

/* Server. */

struct prometheus {
    struct evhttp *http;
    char *host;                 /* host label. */
    char *listen;               /* As configured, for logs. */
    uint16_t port;              /* Bound port. */
    prometheus_render_func *render;
    void *aux;
    uint64_t n_scrapes;         /* GET /metrics answered. */
    double last_render_s;       /* How long the last one took. */
};

char *
prometheus_config_read(const struct vnm_conf *conf,
                       struct prometheus_config *cfg)
{
    const char *listen, *colon;
    char host[64];
    size_t host_len;
    char *end;
    long port;
    char *error;

    memset(cfg, 0, sizeof *cfg);
    cfg->conf = conf;
    error = vnm_conf_get_string(conf, "prometheus_listen", NULL, &listen);
    if (error || !listen || !listen[0]) {
        return error;
    }
    if (listen[0] == '[') {
        const char *rb = strchr(listen, ']');

        if (!rb || rb[1] != ':') {
            goto bad;
        }
        colon = rb + 1;
        host_len = (size_t) (rb - listen - 1);
        if (host_len >= sizeof host) {
            goto bad;
        }
        memcpy(host, listen + 1, host_len);
    } else {
        colon = strrchr(listen, ':');
        if (!colon || (size_t) (colon - listen) >= sizeof host) {
            goto bad;
        }
        host_len = (size_t) (colon - listen);
        memcpy(host, listen, host_len);
    }
    host[host_len] = '\0';
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || errno || port < 0 || port > 65535
        || colon[1] == '-' || colon[1] == '+' || colon[1] == ' ') {
        return vnm_conf_error(conf, "prometheus_listen", "\"%s\": the port "
                              "must be 0 to 65535", listen);
    }
    if (listen[0] == '[') {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &cfg->addr;

        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
            goto bad;
        }
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t) port);
        cfg->addr_len = sizeof *sin6;
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *) &cfg->addr;

        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
            goto bad;
        }
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t) port);
        cfg->addr_len = sizeof *sin;
    }
    cfg->listen = listen;
    return NULL;

bad:
    return vnm_conf_error(conf, "prometheus_listen", "\"%s\": not "
                          "IPV4:PORT or [IPV6]:PORT (numeric addresses)",
                          listen);
}

static double
mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Answers one request: GET or HEAD /metrics, else 404 or 405. */
static void
prometheus_request(struct evhttp_request *req, void *p_)
{
    struct prometheus *p = p_;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    struct evbuffer *body = evbuffer_new();
    struct prom_writer *w;
    double t0;
    size_t len;
    char *text;

    if (!body) {
        evhttp_send_error(req, HTTP_INTERNAL, PROM_END);
        return;
    }
    evhttp_add_header(headers, "Content-Type", "text/plain; charset=utf-8");
    if (!path || strcmp(path, "/metrics")) {
        evbuffer_add_printf(body, "not found: the metrics are at "
                            "/metrics\n");
        evhttp_send_reply(req, HTTP_NOTFOUND, "Not Found", body);
        evbuffer_free(body);
        return;
    }
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        evhttp_add_header(headers, "Allow", "GET, HEAD");
        evbuffer_add_printf(body, "method not allowed\n");
        evhttp_send_reply(req, 405, "Method Not Allowed", body);
        evbuffer_free(body);
        return;
    }

    t0 = mono_s();
    p->n_scrapes++;
    w = prom_writer_create(p->host);
    prom_counter(w, "vnmon_prometheus_scrapes_total",
                 "Scrapes of this endpoint, this one included.",
                 p->n_scrapes, PROM_END);
    prom_gauge(w, "vnmon_prometheus_render_seconds",
               "How long rendering the previous scrape took.",
               p->last_render_s, PROM_END);
    p->render(p->aux, w);
    text = prom_writer_finish(w, &len);
    p->last_render_s = mono_s() - t0;

    evhttp_remove_header(headers, "Content-Type");
    evhttp_add_header(headers, "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evbuffer_add(body, text, len);
    free(text);
    evhttp_send_reply(req, HTTP_OK, "OK", body);
    evbuffer_free(body);
}

char *
prometheus_create(const struct prometheus_config *cfg,
                  struct event_base *base, const char *host,
                  prometheus_render_func *render, void *aux,
                  struct prometheus **pp)
{
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    struct prometheus *p;
    int one = 1;
    int error;
    int fd;

    *pp = NULL;
    fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK
                | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = errno;
        goto error;
    }
    /* A restarted agent must not wait for the old connections'
     * TIME_WAIT. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
        || bind(fd, (const struct sockaddr *) &cfg->addr, cfg->addr_len)
        || listen(fd, 64)
        || getsockname(fd, (struct sockaddr *) &bound, &bound_len)) {
        error = errno;
        close(fd);
        goto error;
    }

    p = xzalloc(sizeof *p);
    p->http = evhttp_new(base);
    if (!p->http) {
        close(fd);
        free(p);
        error = ENOMEM;
        goto error;
    }
    /* A scraper is a program: short requests, answered at once. */
    evhttp_set_timeout(p->http, 10);
    evhttp_set_max_headers_size(p->http, 16384);
    evhttp_set_max_body_size(p->http, 4096);
    evhttp_set_gencb(p->http, prometheus_request, p);
    if (!evhttp_accept_socket_with_handle(p->http, fd)) {
        error = errno ? errno : ENOMEM;
        close(fd);
        evhttp_free(p->http);
        free(p);
        goto error;
    }
    p->port = ntohs(bound.ss_family == AF_INET6
                    ? ((struct sockaddr_in6 *) &bound)->sin6_port
                    : ((struct sockaddr_in *) &bound)->sin_port);
    p->host = xstrdup(host);
    p->listen = xstrdup(cfg->listen);
    p->render = render;
    p->aux = aux;
    VNM_INFO("prometheus endpoint listening on %s (port %"PRIu16"), "
             "GET /metrics", p->listen, p->port);
    *pp = p;
    return NULL;

error:
    return vnm_conf_error(cfg->conf, "prometheus_listen", "cannot listen on "
                          "%s (%s)", cfg->listen, strerror(error));
}

void
prometheus_destroy(struct prometheus *p)
{
    if (!p) {
        return;
    }
    evhttp_free(p->http);
    free(p->host);
    free(p->listen);
    free(p);
}

uint16_t
prometheus_port(const struct prometheus *p)
{
    return p->port;
}

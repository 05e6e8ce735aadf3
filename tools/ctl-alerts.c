/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `vnmonctl alerts [--follow] [--tenant T] [--type TYPE] [--since D|TIME]
 * [--state open|resolved] [--limit N] [-H HOST] [--json]`: the incidents
 * the analyzers keep in Redis (analyzer/incident.c, doc/redis-keys.md
 * "Incidents"), as a table or as alert records, one JSON object per line
 * (doc/alerts.md).
 *
 * The listing reads the index "vnm:alerts" (or the tenant's
 * "vnm:t:TENANT:alerts"), newest first, each incident's current record,
 * keeps the --limit newest that pass the filters and prints them oldest
 * first.  --follow then tails the events stream ("vnm:alerts:events" or the
 * tenant's) from where the listing began: every record delivered from then
 * on (open, update, resolved), until interrupted.
 *
 * Exit status: 0; 2 usage or Redis error.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bw-series.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "tools/vnmonctl.h"

/* Index entries read per round trip. */
#define PAGE 200

/* What to show. */
struct alerts_filter {
    const char *tenant;         /* --tenant, or null. */
    const char *type;           /* --type, or null. */
    const char *state;          /* --state "open" or "resolved", or null. */
    const char *host;           /* -H, or null. */
    uint64_t since_ms;          /* --since, or 0. */
    long limit;                 /* --limit. */
};

/* Parses 'arg' of --since: a duration back from 'now_ms' ("90s", "15m",
 * "2h", "7d") or a UTC time ("2024-05-01", "2024-05-01T12:00",
 * "2024-05-01T12:00:00Z", "2024-05-01 12:00:00").  Returns false if it is
 * neither. */
static bool
parse_since(const char *arg, uint64_t now_ms, uint64_t *msp)
{
    static const char *const formats[] = {
        "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M", "%Y-%m-%d",
    };
    uint64_t secs;

    if (ctl_parse_duration(arg, &secs)) {
        *msp = secs * 1000 < now_ms ? now_ms - secs * 1000 : 0;
        return true;
    }
    for (size_t i = 0; i < VNM_ARRAY_SIZE(formats); i++) {
        struct tm tm;
        const char *end;
        time_t t;

        memset(&tm, 0, sizeof tm);
        end = strptime(arg, formats[i], &tm);
        if (!end) {
            continue;
        }
        if (*end == '.') {      /* Fractions of a second are ignored. */
            for (end++; *end >= '0' && *end <= '9'; end++) {
                continue;
            }
        }
        if (*end == 'Z') {
            end++;
        }
        if (*end) {
            continue;
        }
        t = timegm(&tm);
        if (t < 0) {
            return false;
        }
        *msp = (uint64_t) t * 1000;
        return true;
    }
    return false;
}

/* True if record 'rec' passes 'f' (but for 'since' and 'limit'). */
static bool
record_matches(const json_t *rec, const struct alerts_filter *f)
{
    const char *state = ctl_get_str(rec, "state");

    if (f->type && strcmp(f->type, ctl_get_str(rec, "type"))) {
        return false;
    }
    if (f->state && (!strcmp(f->state, "resolved")
                     != !strcmp(state, "resolved"))) {
        return false;
    }
    if (f->host && strcmp(f->host, ctl_get_str(rec, "host"))) {
        return false;
    }
    /* The tenant's index and stream hold only its incidents, but check. */
    return !f->tenant || !strcmp(f->tenant, ctl_get_str(rec, "tenant"));
}

/* The index, or the events stream, of 'f' ("vnm:alerts", or the
 * tenant's), with 'suffix' appended. */
static char *
alerts_key(const struct alerts_filter *f, const char *suffix)
{
    char *esc, *key;

    if (!f->tenant) {
        return xasprintf("vnm:alerts%s", suffix);
    }
    esc = bw_escape(f->tenant);
    key = xasprintf("vnm:t:%s:alerts%s", esc, suffix);
    free(esc);
    return key;
}

/* Reads the records of the newest incidents that pass 'f' into
 * '*recordsp', an array of [TEXT, PARSED], oldest first.  Returns 0 or an
 * errno value (reported). */
static int
list_alerts(struct vnm_redis *r, const struct alerts_filter *f,
            json_t **recordsp)
{
    char *index = alerts_key(f, "");
    json_t *records = json_array();
    char since[32];
    int error = 0;

    snprintf(since, sizeof since, "%"PRIu64, f->since_ms);
    for (long offset = 0; json_array_size(records) < (size_t) f->limit;
         offset += PAGE) {
        json_t *keys, *replies = NULL, *key;
        const char ***argvs;
        int *argcs;
        size_t n, i;

        error = ctl_query(r, &keys, "ZREVRANGEBYSCORE %s +inf %s LIMIT %ld "
                          "%d", index, f->since_ms ? since : "-inf", offset,
                          PAGE);
        n = json_array_size(keys);
        if (error || !n) {
            json_decref(keys);
            break;
        }
        argcs = xcalloc(n, sizeof *argcs);
        argvs = xcalloc(n, sizeof *argvs);
        json_array_foreach (keys, i, key) {
            const char **argv = xcalloc(3, sizeof *argv);

            argv[0] = "HGET";
            argv[1] = json_string_value(key) ? json_string_value(key) : "";
            argv[2] = "record";
            argcs[i] = 3;
            argvs[i] = argv;
        }
        error = vnm_redis_query_batch(r, n, argcs,
                                      (const char *const *const *) argvs,
                                      &replies);
        for (i = 0; i < n; i++) {
            free(argvs[i]);
        }
        free(argvs);
        free(argcs);
        json_decref(keys);
        if (error) {
            fprintf(stderr, "vnmonctl: reading incidents failed (%s)\n",
                    strerror(error));
            break;
        }
        for (i = 0; i < n && json_array_size(records) < (size_t) f->limit;
             i++) {
            const char *text = json_string_value(json_array_get(replies, i));
            json_t *rec = text ? json_loads(text, 0, NULL) : NULL;

            /* No record: expired since the index was read. */
            if (json_is_object(rec) && record_matches(rec, f)) {
                json_array_insert_new(records, 0,
                                      json_pack("[s,O]", text, rec));
            }
            json_decref(rec);
        }
        json_decref(replies);
        if (n < PAGE) {
            break;
        }
    }
    free(index);
    if (error) {
        json_decref(records);
        return error;
    }
    *recordsp = records;
    return 0;
}

/* Column widths of the table. */
enum {
    W_TIME = 19, W_ID = 8, W_SEV = 8, W_STATE = 8, W_TYPE = 12,
    W_TENANT = 10, W_PORT = 10, W_TARGET = 15, W_COUNT = 6, W_PACKETS = 8,
    W_BYTES = 10,
};

static void
print_header(void)
{
    printf("%-*s %-*s %-*s %-*s %-*s %-*s %-*s %-*s %*s %*s %*s %s\n",
           W_TIME, "LAST SEEN (UTC)", W_ID, "ID", W_SEV, "SEVERITY",
           W_STATE, "STATE", W_TYPE, "TYPE", W_TENANT, "TENANT", W_PORT,
           "VM/PORT", W_TARGET, "TARGET", W_COUNT, "COUNT", W_PACKETS,
           "PACKETS", W_BYTES, "BYTES", "SUMMARY");
}

/* 's', or "-" if it is empty. */
static const char *
dash(const char *s)
{
    return s && *s ? s : "-";
}

/* Prints record 'rec' as a row of the table. */
static void
print_row(const json_t *rec)
{
    const char *seen = ctl_get_str(rec, "last_seen");
    const char *port = ctl_get_str(rec, "port");
    char when[W_TIME + 1];

    /* "2024-05-01T12:00:05.007Z" -> "2024-05-01 12:00:05". */
    snprintf(when, sizeof when, "%s", seen);
    if (strlen(when) > 10 && when[10] == 'T') {
        when[10] = ' ';
    }
    printf("%-*s %-*s %-*s %-*s %-*s %-*s %-*s %-*s %*"JSON_INTEGER_FORMAT
           " %*"JSON_INTEGER_FORMAT" %*"JSON_INTEGER_FORMAT" %s\n",
           W_TIME, dash(when), W_ID, dash(ctl_get_str(rec, "id")),
           W_SEV, dash(ctl_get_str(rec, "severity")),
           W_STATE, dash(ctl_get_str(rec, "state")),
           W_TYPE, dash(ctl_get_str(rec, "type")),
           W_TENANT, dash(ctl_get_str(rec, "tenant")),
           W_PORT, dash(*port ? port : ctl_get_str(rec, "vm")),
           W_TARGET, dash(ctl_get_str(rec, "target")),
           W_COUNT, (json_int_t) ctl_get_int(rec, "count"),
           W_PACKETS, (json_int_t) ctl_get_int(rec, "packets"),
           W_BYTES, (json_int_t) ctl_get_int(rec, "bytes"),
           dash(ctl_get_str(rec, "summary")));
}

/* Prints record 'text' (parsed: 'rec') as --json or a row says. */
static void
print_record(const struct ctl_options *opts, const char *text,
             const json_t *rec)
{
    if (opts->json) {
        printf("%s\n", text);
    } else {
        print_row(rec);
    }
}

/* The ID of the last entry of stream 'key' into 'id' ("0-0" if it is
 * empty).  Returns 0 or an errno value (reported). */
static int
stream_last_id(struct vnm_redis *r, const char *key, char *id, size_t size)
{
    json_t *reply;
    const char *last;
    int error;

    error = ctl_query(r, &reply, "XREVRANGE %s + - COUNT 1", key);
    last = json_string_value(json_array_get(json_array_get(reply, 0), 0));
    snprintf(id, size, "%s", last ? last : "0-0");
    json_decref(reply);
    return error;
}

/* Prints the records added to stream 'key' after entry 'id', as they
 * come, until interrupted or Redis fails.  Returns 2 (after an error). */
static int
follow(struct vnm_redis *r, const struct ctl_options *opts,
       const struct alerts_filter *f, const char *key, char *id,
       size_t size)
{
    for (;;) {
        json_t *reply, *entries, *entry;
        size_t i;

        if (ctl_query(r, &reply, "XREAD COUNT 100 BLOCK 1000 STREAMS %s %s",
                      key, id)) {
            json_decref(reply);
            return 2;
        }
        /* [[KEY, [[ID, ["r", RECORD]]...]]], or null after the block. */
        entries = json_array_get(json_array_get(reply, 0), 1);
        json_array_foreach (entries, i, entry) {
            const char *eid = json_string_value(json_array_get(entry, 0));
            const json_t *fields = json_array_get(entry, 1);
            const char *text = NULL;
            json_t *rec;

            for (size_t k = 0; k + 1 < json_array_size(fields); k += 2) {
                const char *name = json_string_value(json_array_get(fields,
                                                                    k));

                if (name && !strcmp(name, "r")) {
                    text = json_string_value(json_array_get(fields, k + 1));
                }
            }
            rec = text ? json_loads(text, 0, NULL) : NULL;
            if (json_is_object(rec) && record_matches(rec, f)) {
                print_record(opts, text, rec);
            }
            json_decref(rec);
            if (eid) {
                snprintf(id, size, "%s", eid);
            }
        }
        json_decref(reply);
        fflush(stdout);
    }
}

static void
alerts_usage(void)
{
    fprintf(stderr, "usage: vnmonctl alerts [--follow] [--tenant T] "
            "[--type TYPE] [--since DURATION|TIME] [--state open|resolved] "
            "[--limit N] [--json]\n");
}

static int
run_alerts(struct ctl_options *opts, int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "follow", no_argument, NULL, 'f' },
        { "tenant", required_argument, NULL, 't' },
        { "type", required_argument, NULL, 'T' },
        { "since", required_argument, NULL, 's' },
        { "state", required_argument, NULL, 'S' },
        { "limit", required_argument, NULL, 'l' },
        { NULL, 0, NULL, 0 },
    };
    struct alerts_filter f = { .limit = 50 };
    char last_id[64] = "0-0";
    bool follow_mode = false;
    json_t *records = NULL, *item;
    struct vnm_redis *r;
    char *events;
    size_t i;
    char *end;
    int c, status = 0;

    while ((c = ctl_getopt(opts, argc, argv, "ft:T:s:S:l:", longopts))
           != -1) {
        switch (c) {
        case 'f':
            follow_mode = true;
            break;
        case 't':
            f.tenant = optarg;
            break;
        case 'T':
            f.type = optarg;
            break;
        case 's':
            if (!parse_since(optarg, vnm_time_wall_ms(), &f.since_ms)) {
                fprintf(stderr, "vnmonctl: alerts: --since: \"%s\" is "
                        "neither a duration (90s, 15m, 2h, 7d) nor a UTC "
                        "time (2024-05-01T12:00:00Z)\n", optarg);
                return 2;
            }
            break;
        case 'S':
            if (strcmp(optarg, "open") && strcmp(optarg, "resolved")) {
                fprintf(stderr, "vnmonctl: alerts: --state: \"%s\" is "
                        "neither \"open\" nor \"resolved\"\n", optarg);
                return 2;
            }
            f.state = optarg;
            break;
        case 'l':
            errno = 0;
            f.limit = strtol(optarg, &end, 10);
            if (*end || end == optarg || f.limit < 0 || errno) {
                fprintf(stderr, "vnmonctl: alerts: --limit: \"%s\" is not "
                        "a number\n", optarg);
                return 2;
            }
            break;
        default:
            alerts_usage();
            return 2;
        }
    }
    if (optind < argc) {
        alerts_usage();
        return 2;
    }
    f.host = opts->host;
    if (!f.tenant) {
        f.tenant = opts->tenant;    /* Global --tenant. */
    }
    r = ctl_connect(opts);
    if (!r) {
        return 2;
    }
    events = alerts_key(&f, ":events");
    if ((follow_mode
         && stream_last_id(r, events, last_id, sizeof last_id))
        || list_alerts(r, &f, &records)) {
        status = 2;
        goto out;
    }
    if (!opts->json) {
        print_header();
    }
    json_array_foreach (records, i, item) {
        print_record(opts, json_string_value(json_array_get(item, 0)),
                     json_array_get(item, 1));
    }
    fflush(stdout);
    if (follow_mode) {
        status = follow(r, opts, &f, events, last_id, sizeof last_id);
    }

out:
    json_decref(records);
    free(events);
    ctl_disconnect(r);
    return status;
}

const struct ctl_command ctl_alerts_command = {
    "alerts", "alerts [--follow] [--tenant T] [--type TYPE] ...",
    "incidents raised by the analyzers, or --follow them", run_alerts,
};

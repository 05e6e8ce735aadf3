/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "vnmonctl top": the live view, refreshed every --interval seconds: top
 * VMs, tenants, applications, ports and pairs of the last recorded second,
 * merged across hosts.  Each agent writes its own view every second as the
 * JSON string "vnm:{HOST}:bw:live" (lib/bw-series.h, doc/redis-keys.md,
 * 10 s TTL); ctl_live_merge() (ctl-series.c) merges them.  With the global
 * --tenant T, T's own views "vnm:t:T:{HOST}:bw:live" on the hosts of
 * "vnm:t:T:bw:hosts": what T's Redis user may read.
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
#include <unistd.h>

#include "lib/bw-series.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "tools/ctl-series.h"
#include "tools/vnmonctl.h"

/* A host's live view older than this many seconds (its agent has stopped
 * writing, the key not expired yet) is reported stale. */
#define LIVE_STALE_S 3

/* Reads every host's live view ('only' if non-null) and merges them: the
 * hosts' views, or with 'tenant' those of the tenant, from its keys only
 * (its list of hosts, "vnm:t:T:{HOST}:bw:live").  Returns 0 and
 * '*mergedp', or an errno value. */
static int
read_live(struct vnm_redis *r, const char *only, const char *tenant,
          size_t top_n, json_t **mergedp)
{
    json_t *hosts = NULL, *replies = NULL, *stale = json_array();
    json_t *missing = json_array();
    json_t **lives;
    const char ***argvs;
    char **keys;
    int *argcs;
    size_t n, n_lives = 0;
    uint64_t now = vnm_time_wall_ms() / 1000;
    int error = 0;

    *mergedp = NULL;
    if (only) {
        hosts = json_pack("[s]", only);
    } else if (tenant) {
        char *esc = bw_escape(tenant);
        char *key = bw_tenant_hosts_key(esc);

        error = ctl_query(r, &hosts, "SMEMBERS %s", key);
        free(key);
        free(esc);
    } else {
        error = ctl_query(r, &hosts, "SMEMBERS vnm:bw:hosts");
    }
    if (error) {
        json_decref(hosts);
        json_decref(stale);
        json_decref(missing);
        return EIO;
    }
    n = json_array_size(hosts);
    keys = xcalloc(n + 1, sizeof *keys);
    argvs = xcalloc(n + 1, sizeof *argvs);
    argcs = xcalloc(n + 1, sizeof *argcs);
    lives = xcalloc(n + 1, sizeof *lives);
    for (size_t i = 0; i < n; i++) {
        const char *h = json_string_value(json_array_get(hosts, i));

        char *prefix = bw_prefix(h ? h : "", tenant);

        keys[i] = xasprintf("%s:bw:live", prefix);
        free(prefix);
        argvs[i] = xcalloc(2, sizeof *argvs[i]);
        argvs[i][0] = "GET";
        argvs[i][1] = keys[i];
        argcs[i] = 2;
    }
    error = n ? vnm_redis_query_batch(r, n, argcs,
                                      (const char *const *const *) argvs,
                                      &replies) : 0;
    if (error) {
        fprintf(stderr, "vnmonctl: GET live views failed (%s)\n",
                strerror(error));
    }
    for (size_t i = 0; !error && i < n; i++) {
        const char *h = json_string_value(json_array_get(hosts, i));
        const char *v = json_string_value(json_array_get(replies, i));
        json_t *live = v ? json_loads(v, 0, NULL) : NULL;

        if (!json_is_object(live)) {
            json_decref(live);
            json_array_append_new(missing, json_string(h ? h : ""));
            continue;
        }
        if (!json_is_string(json_object_get(live, "host"))) {
            json_object_set_new(live, "host", json_string(h ? h : ""));
        }
        if ((uint64_t) json_integer_value(json_object_get(live, "time"))
            + LIVE_STALE_S < now) {
            json_array_append_new(stale, json_string(h ? h : ""));
        }
        lives[n_lives++] = live;
    }
    if (!error) {
        json_t *merged = ctl_live_merge(lives, n_lives, top_n);

        json_object_set_new(merged, "stale_hosts", stale);
        json_object_set_new(merged, "missing_hosts", missing);
        stale = missing = NULL;
        *mergedp = merged;
    }
    for (size_t i = 0; i < n_lives; i++) {
        json_decref(lives[i]);
    }
    for (size_t i = 0; i < n; i++) {
        free(keys[i]);
        free(argvs[i]);
    }
    free(lives);
    free(keys);
    free(argvs);
    free(argcs);
    json_decref(stale);
    json_decref(missing);
    json_decref(replies);
    json_decref(hosts);
    return error;
}

/* Prints one section: 'title', its column of names 'key' (and 'key2' for
 * pairs), rates from the counters. */
static void
print_section(const json_t *view, const char *list_name, const char *title,
              const char *extra)
{
    const json_t *list = json_object_get(view, list_name);
    const json_t *item;
    bool pairs = !strcmp(list_name, "pairs");
    size_t i;

    printf("\n%-38s %-12s", title, extra ? extra : "");
    if (pairs) {
        printf(" %-13s %s\n", "RATE", "PKT/S");
    } else {
        printf(" %-13s %-13s %-9s %s\n", "TX", "RX", "TX PKT/S",
               "RX PKT/S");
    }
    if (!json_array_size(list)) {
        printf("  (none)\n");
    }
    json_array_foreach (list, i, item) {
        char a[32], b[32];

        if (pairs) {
            char name[160];

            snprintf(name, sizeof name, "%s > %s",
                     json_string_value(json_object_get(item, "src")),
                     json_string_value(json_object_get(item, "dst")));
            ctl_format_rate((double) json_integer_value(
                                json_object_get(item, "bytes")),
                            a, sizeof a);
            printf("%-51s %-13s %"JSON_INTEGER_FORMAT"\n", name, a,
                   json_integer_value(json_object_get(item, "packets")));
            continue;
        }
        ctl_format_rate((double) json_integer_value(
                            json_object_get(item, "tx_bytes")), a, sizeof a);
        ctl_format_rate((double) json_integer_value(
                            json_object_get(item, "rx_bytes")), b, sizeof b);
        {
            const char *name = json_string_value(
                json_object_get(item, !strcmp(list_name, "vms") ? "vm"
                                : !strcmp(list_name, "tenants") ? "tenant"
                                : !strcmp(list_name, "apps") ? "app"
                                : "port"));
            const char *x = extra ? json_string_value(
                json_object_get(item, !strcmp(list_name, "ports") ? "host"
                                : "tenant")) : NULL;

            printf("%-38s %-12s %-13s %-13s %-9"JSON_INTEGER_FORMAT" %"
                   JSON_INTEGER_FORMAT"\n", name ? name : "-",
                   x && *x ? x : (extra ? "-" : ""), a, b,
                   json_integer_value(json_object_get(item, "tx_packets")),
                   json_integer_value(json_object_get(item, "rx_packets")));
        }
    }
}

static void
print_view(const json_t *view)
{
    const json_t *total = json_object_get(view, "total");
    const json_t *h;
    char when[32], tx[32], rx[32];
    size_t i;

    ctl_format_utc((uint64_t) json_integer_value(json_object_get(view,
                                                                 "time")),
                   when, sizeof when);
    ctl_format_rate((double) json_integer_value(json_object_get(total,
                                                                "tx_bytes")),
                    tx, sizeof tx);
    ctl_format_rate((double) json_integer_value(json_object_get(total,
                                                                "rx_bytes")),
                    rx, sizeof rx);
    printf("vnmonctl top: second %s UTC, hosts:", when);
    json_array_foreach (json_object_get(view, "hosts"), i, h) {
        printf(" %s", json_string_value(h));
    }
    json_array_foreach (json_object_get(view, "stale_hosts"), i, h) {
        printf("%s%s", i ? ", " : " (stale: ", json_string_value(h));
    }
    if (json_array_size(json_object_get(view, "stale_hosts"))) {
        putchar(')');
    }
    json_array_foreach (json_object_get(view, "missing_hosts"), i, h) {
        printf("%s%s", i ? ", " : " (no live view: ", json_string_value(h));
    }
    if (json_array_size(json_object_get(view, "missing_hosts"))) {
        putchar(')');
    }
    printf("\ntotal: tx %s, rx %s\n", tx, rx);
    print_section(view, "vms", "VM", "TENANT");
    print_section(view, "tenants", "TENANT", NULL);
    print_section(view, "apps", "APPLICATION", NULL);
    print_section(view, "ports", "PORT", "HOST");
    print_section(view, "pairs", "PAIR (SRC > DST)", NULL);
}

static void
top_usage(void)
{
    fprintf(stderr, "usage: vnmonctl top [--interval S] [--count N] "
            "[--limit N] [--once] [--json]\n");
}

static int
run_top(struct ctl_options *opts, int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "interval", required_argument, NULL, 'i' },
        { "count", required_argument, NULL, 'n' },
        { "limit", required_argument, NULL, 'l' },
        { "once", no_argument, NULL, '1' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t interval = 1;
    long count = 0, limit = 10;
    bool once = false, tty = isatty(STDOUT_FILENO);
    struct vnm_redis *r;
    int c, status = 0;
    char *end;

    while ((c = ctl_getopt(opts, argc, argv, "i:n:l:1", longopts)) != -1) {
        switch (c) {
        case 'i':
            if (!ctl_parse_duration(optarg, &interval) || !interval) {
                fprintf(stderr, "vnmonctl: top: --interval: \"%s\" is not "
                        "a duration\n", optarg);
                return 2;
            }
            break;
        case 'n':
        case 'l':
            errno = 0;
            {
                long v = strtol(optarg, &end, 10);

                if (*end || end == optarg || v <= 0 || errno) {
                    fprintf(stderr, "vnmonctl: top: \"%s\" is not a "
                            "positive number\n", optarg);
                    return 2;
                }
                *(c == 'n' ? &count : &limit) = v;
            }
            break;
        case '1':
            once = true;
            break;
        default:
            top_usage();
            return 2;
        }
    }
    if (optind < argc) {
        top_usage();
        return 2;
    }
    if (opts->json) {
        once = true;
    }
    r = ctl_connect(opts);
    if (!r) {
        return 2;
    }
    for (long k = 0; once ? k < 1 : (!count || k < count); k++) {
        json_t *view;

        if (k) {
            struct timespec ts = { (time_t) interval, 0 };

            fflush(stdout);
            nanosleep(&ts, NULL);
        }
        if (read_live(r, opts->host, opts->tenant, (size_t) limit,
                      &view)) {
            status = 2;
            break;
        }
        if (!json_array_size(json_object_get(view, "hosts")) && once) {
            fprintf(stderr, "vnmonctl: no live bandwidth view (is an agent "
                    "running?)\n");
            status = 1;
        }
        if (opts->json) {
            ctl_print_json(view);
        } else {
            if (tty && !once) {
                fputs("\033[H\033[2J", stdout);
            } else if (k) {
                putchar('\n');
            }
            print_view(view);
        }
        json_decref(view);
    }
    fflush(stdout);
    ctl_disconnect(r);
    return status;
}

const struct ctl_command ctl_top_command = {
    "top", "top [--interval S] [--once]",
    "live top VMs, tenants, apps and pairs, merged across hosts", run_top,
};

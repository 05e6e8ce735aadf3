/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vnmonctl: the operator's command-line view of vnmon, read from Redis.
 *
 *   vnmonctl status    which daemons are up, their plugins, their Redis
 *                      connection and their counters.
 *   vnmonctl inventory each host's OVS inventory (bridges, ports, VMs,
 *                      tenants, addresses, VLANs, tunnels), as published
 *                      by the agent (ovs-ext/inventory.c).
 *
 * Output is a table for people, or JSON (--json) for programs.  Redis is
 * found from --redis, else $VNM_REDIS, else the [redis] section of the
 * --config file (default: the agent's), else tcp:127.0.0.1:6379.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/daemon.h"
#include "lib/log.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "ovs-ext/inventory.h"

VNM_LOG_MODULE(vnmonctl);

/* A status record is "up" while its heartbeat is younger than this many
 * heartbeat intervals. */
#define STALE_INTERVALS 3

struct options {
    const char *redis;
    const char *config;
    const char *host;
    bool json;
};

static void
usage(void)
{
    printf("vnmonctl: inspect a vnmon deployment through its Redis\n"
           "usage: vnmonctl [OPTIONS] COMMAND\n"
           "\n"
           "Commands:\n"
           "  status             daemons, their plugins, Redis link and "
           "counters\n"
           "  inventory          each host's OVS bridges, ports and VMs\n"
           "\n"
           "Options:\n"
           "  -r, --redis=ADDR   unix:PATH, tcp:HOST:PORT or HOST:PORT\n"
           "  -c, --config=FILE  read [redis] from FILE (default %s/agent.conf)"
           "\n"
           "  -j, --json         print JSON instead of a table\n"
           "  -H, --host=HOST    inventory: only HOST's\n"
           "  -h, --help         show this help and exit\n"
           "  -V, --version      show the version and exit\n"
           "\n"
           "Environment: VNM_REDIS (address of Redis).\n"
           "Exit status: 0 all daemons up (status), every inventory synced\n"
           "and fresh (inventory); 1 some daemon down or stale, or some\n"
           "inventory missing, out of sync or stale; 2 usage or Redis "
           "error.\n", VNM_SYSCONFDIR);
}

/* Finds Redis and connects.  Returns null after printing why. */
static struct vnm_redis *
connect_redis(const struct options *opts, struct vnm_config **configp)
{
    struct vnm_redis_options ropts;
    const char *env = getenv("VNM_REDIS");
    struct vnm_redis *r;
    char *error;

    *configp = NULL;
    if (opts->redis || (env && *env)) {
        memset(&ropts, 0, sizeof ropts);
        ropts.address = opts->redis ? opts->redis : env;
        ropts.timeout_ms = 2000;
        if (!vnm_redis_address_valid(ropts.address)) {
            fprintf(stderr, "vnmonctl: \"%s\" is not a Redis address "
                    "(unix:PATH, tcp:HOST:PORT or HOST:PORT)\n",
                    ropts.address);
            return NULL;
        }
    } else {
        char *dflt = xasprintf("%s/agent.conf", VNM_SYSCONFDIR);
        const char *file = opts->config ? opts->config : dflt;

        if (!opts->config && access(dflt, F_OK)) {
            *configp = vnm_config_create_empty(dflt);
            error = NULL;
        } else {
            error = vnm_config_load(file, configp);
        }
        free(dflt);
        if (!error) {
            error = vnm_redis_options_from_conf(
                vnm_config_section(*configp, "redis", NULL), &ropts);
        }
        if (error) {
            fprintf(stderr, "vnmonctl: %s\n", error);
            free(error);
            return NULL;
        }
    }
    r = vnm_redis_create(&ropts);
    if (vnm_redis_connect(r)) {
        fprintf(stderr, "vnmonctl: cannot connect to Redis at %s\n",
                vnm_redis_address(r));
        vnm_redis_destroy(r);
        return NULL;
    }
    return r;
}

/* Turns an HGETALL reply (flat array) into an object, parsing the values
 * that hold JSON (plugins, counters) and integers. */
static json_t *
hash_to_object(const json_t *reply)
{
    json_t *obj = json_object();

    for (size_t i = 0; i + 1 < json_array_size(reply); i += 2) {
        const char *key = json_string_value(json_array_get(reply, i));
        const char *value = json_string_value(json_array_get(reply, i + 1));
        json_t *parsed;

        if (!key || !value) {
            continue;
        }
        parsed = ((value[0] == '[' || value[0] == '{'
                   || (value[0] >= '0' && value[0] <= '9')
                   || value[0] == '-')
                  ? json_loads(value, JSON_DECODE_ANY, NULL) : NULL);
        json_object_set_new(obj, key, parsed ? parsed : json_string(value));
    }
    return obj;
}

static json_int_t
get_int(const json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

static const char *
get_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s ? s : "";
}

/* Fills in "up" and "heartbeat_age_ms" from the heartbeat's age. */
static void
judge(json_t *d, uint64_t now)
{
    json_int_t hb = get_int(d, "heartbeat_ms");
    json_int_t interval = get_int(d, "heartbeat_interval_ms");
    json_int_t age = hb ? (json_int_t) now - hb : -1;
    const char *state = get_str(d, "state");
    bool up = (!strcmp(state, "running") && hb
               && age < STALE_INTERVALS * (interval > 0 ? interval : 1000)
                        + 1000);

    json_object_set_new(d, "up", json_boolean(up));
    json_object_set_new(d, "heartbeat_age_ms", json_integer(age));
}

static void
format_duration(uint64_t ms, char *buf, size_t size)
{
    uint64_t s = ms / 1000;

    if (s < 60) {
        snprintf(buf, size, "%.1fs", (double) ms / 1000.0);
    } else if (s < 3600) {
        snprintf(buf, size, "%"PRIu64"m%02"PRIu64"s", s / 60, s % 60);
    } else if (s < 86400) {
        snprintf(buf, size, "%"PRIu64"h%02"PRIu64"m", s / 3600,
                 s / 60 % 60);
    } else {
        snprintf(buf, size, "%"PRIu64"d%02"PRIu64"h", s / 86400,
                 s / 3600 % 24);
    }
}

static void
print_table(const json_t *daemons)
{
    const json_t *d;
    size_t i;

    printf("%-10s %-16s %-8s %-8s %-9s %-10s %-9s %s\n", "DAEMON", "HOST",
           "STATE", "PID", "UPTIME", "HEARTBEAT", "REDIS", "PLUGINS");
    json_array_foreach (daemons, i, d) {
        char uptime[32], age[32];
        const char *state;
        json_int_t hb_age = get_int(d, "heartbeat_age_ms");

        state = (json_is_true(json_object_get(d, "up")) ? "up"
                 : !strcmp(get_str(d, "state"), "stopped") ? "stopped"
                 : "stale");
        format_duration((uint64_t) (get_int(d, "heartbeat_ms")
                                    - get_int(d, "started_ms")),
                        uptime, sizeof uptime);
        format_duration(hb_age > 0 ? (uint64_t) hb_age : 0, age, sizeof age);
        printf("%-10s %-16s %-8s %-8"JSON_INTEGER_FORMAT" %-9s %-10s %-9s "
               "%zu\n", get_str(d, "name"), get_str(d, "host"), state,
               get_int(d, "pid"), uptime, age,
               (strcmp(state, "up") ? "-"
                : get_int(d, "redis_connected_since_ms") ? "connected"
                : "down"),
               json_array_size(json_object_get(d, "plugins")));
    }

    json_array_foreach (daemons, i, d) {
        const json_t *plugins = json_object_get(d, "plugins");
        const json_t *counters = json_object_get(d, "counters");
        const json_t *p, *v;
        const char *key;
        char buf[32];
        size_t j;

        printf("\nvnmon-%s on %s (pid %"JSON_INTEGER_FORMAT", %s, config "
               "%s)\n", get_str(d, "name"), get_str(d, "host"),
               get_int(d, "pid"), get_str(d, "version"),
               get_str(d, "config"));
        printf("  redis     %s: %s", get_str(d, "redis_address"),
               get_int(d, "redis_connected_since_ms") ? "connected" : "down");
        if (get_int(d, "redis_outages")) {
            format_duration((uint64_t) get_int(d, "redis_last_outage_ms"),
                            buf, sizeof buf);
            printf(", %"JSON_INTEGER_FORMAT" outage(s), last lasted %s "
                   "(from %s)", get_int(d, "redis_outages"), buf,
                   vnm_format_time((uint64_t) get_int(d,
                                                      "redis_outage_start_ms"),
                                   (char[32]) { 0 }, 32));
        } else {
            printf(", no outage");
        }
        printf(", %"JSON_INTEGER_FORMAT" commands, %"JSON_INTEGER_FORMAT
               " dropped, %"JSON_INTEGER_FORMAT" errors\n",
               get_int(d, "redis_commands"), get_int(d, "redis_dropped"),
               get_int(d, "redis_errors"));
        printf("  log       %"JSON_INTEGER_FORMAT" warnings, "
               "%"JSON_INTEGER_FORMAT" errors\n",
               get_int(d, "log_warnings"), get_int(d, "log_errors"));
        if (!json_array_size(plugins)) {
            printf("  plugins   none\n");
        }
        json_array_foreach (plugins, j, p) {
            const json_t *pc = json_object_get(p, "counters");

            printf("  %-9s %s \"%s\" (%s %s) %s", j ? "" : "plugins",
                   get_str(p, "kind"), get_str(p, "name"),
                   get_str(p, "plugin"), get_str(p, "version"),
                   get_str(p, "path"));
            json_object_foreach ((json_t *) pc, key, v) {
                printf(" %s=%"JSON_INTEGER_FORMAT, key,
                       json_integer_value(v));
            }
            putchar('\n');
        }
        if (json_object_size(counters)) {
            int col = 0;

            printf("  counters ");
            json_object_foreach ((json_t *) counters, key, v) {
                int n = snprintf(buf, sizeof buf, "%"JSON_INTEGER_FORMAT,
                                 json_integer_value(v));

                if (col + (int) strlen(key) + n + 2 > 68) {
                    printf("\n           ");
                    col = 0;
                }
                printf(" %s=%s", key, buf);
                col += (int) strlen(key) + n + 2;
            }
            putchar('\n');
        }
    }
}

/* "vnmonctl status". */
static int
cmd_status(struct vnm_redis *r, const struct options *opts)
{
    json_t *members = NULL;
    json_t *daemons = json_array();
    uint64_t now = vnm_time_wall_ms();
    bool all_up = true;
    json_t *m;
    size_t i;
    int error;

    error = vnm_redis_query(r, &members, "SMEMBERS vnm:daemons");
    if (error) {
        fprintf(stderr, "vnmonctl: SMEMBERS vnm:daemons failed (%s)\n",
                json_is_string(members) ? json_string_value(members)
                : strerror(error));
        json_decref(members);
        json_decref(daemons);
        return 2;
    }
    json_array_foreach (members, i, m) {
        const char *member = json_string_value(m);
        const char *slash = member ? strrchr(member, '/') : NULL;
        json_t *reply = NULL;
        char *host, *key;
        json_t *d;

        if (!slash) {
            continue;
        }
        host = xstrndup(member, (size_t) (slash - member));
        key = vnm_daemon_status_key(host, slash + 1);
        error = vnm_redis_query(r, &reply, "HGETALL %s", key);
        free(host);
        free(key);
        if (error) {
            json_decref(reply);
            continue;
        }
        d = hash_to_object(reply);
        json_decref(reply);
        if (!json_object_size(d)) {
            json_decref(d);
            continue;
        }
        judge(d, now);
        all_up = all_up && json_is_true(json_object_get(d, "up"));
        json_array_append_new(daemons, d);
    }
    json_decref(members);

    if (opts->json) {
        json_t *out = json_pack("{s:I, s:o}", "time_ms", (json_int_t) now,
                                "daemons", daemons);

        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
        putchar('\n');
        json_decref(out);
    } else {
        if (!json_array_size(daemons)) {
            printf("no vnmon daemon has reported to %s\n",
                   vnm_redis_address(r));
        } else {
            print_table(daemons);
        }
        json_decref(daemons);
    }
    return all_up ? 0 : 1;
}

/* An inventory is stale when its last publication is older than three
 * refresh periods and a second. */
#define INVENTORY_STALE_MS (3 * INVENTORY_REFRESH_MS + 1000)

/* 'key' of 'obj' as a string, or "-" if it is null, absent or "". */
static const char *
opt_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s && *s ? s : "-";
}

/* Appends to 'row' the integer 'key' of 'obj', or "-". */
static void
append_int(json_t *row, const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    json_array_append_new(row, (json_is_integer(v)
                                ? json_sprintf("%" JSON_INTEGER_FORMAT,
                                               json_integer_value(v))
                                : json_string("-")));
}

/* "access tag=101 trunks=10,20", or "-". */
static json_t *
format_vlan(const json_t *iface)
{
    const json_t *tag = json_object_get(iface, "tag");
    const json_t *trunks = json_object_get(iface, "trunks");
    const char *mode = json_string_value(json_object_get(iface,
                                                         "vlan_mode"));
    char buf[256] = "";
    size_t n = 0;
    const json_t *t;
    size_t i;

    if (mode) {
        n += (size_t) snprintf(buf + n, sizeof buf - n, "%s", mode);
    }
    if (json_is_integer(tag) && n < sizeof buf) {
        n += (size_t) snprintf(buf + n, sizeof buf - n,
                               "%stag=%" JSON_INTEGER_FORMAT, n ? " " : "",
                               json_integer_value(tag));
    }
    json_array_foreach (trunks, i, t) {
        if (n < sizeof buf) {
            n += (size_t) snprintf(buf + n, sizeof buf - n,
                                   "%s%" JSON_INTEGER_FORMAT,
                                   !i ? (n ? " trunks=" : "trunks=") : ",",
                                   json_integer_value(t));
        }
    }
    return json_string(buf[0] ? buf : "-");
}

/* "vxlan key=5000 remote=192.0.2.2 local=192.0.2.1", or "-". */
static json_t *
format_tunnel(const json_t *iface)
{
    const json_t *tunnel = json_object_get(iface, "tunnel");
    const char *key, *remote, *local;

    if (!json_is_object(tunnel)) {
        return json_string("-");
    }
    key = json_string_value(json_object_get(tunnel, "key"));
    remote = json_string_value(json_object_get(tunnel, "remote_ip"));
    local = json_string_value(json_object_get(tunnel, "local_ip"));
    return json_sprintf("%s%s%s%s%s%s%s", opt_str(tunnel, "type"),
                        key ? " key=" : "", key ? key : "",
                        remote ? " remote=" : "", remote ? remote : "",
                        local ? " local=" : "", local ? local : "");
}

/* "10.0.0.11,fd00::11", or "-". */
static json_t *
format_ips(const json_t *iface)
{
    const json_t *ips = json_object_get(iface, "ips");
    json_t *out = json_string("");
    const json_t *ip;
    size_t i;

    json_array_foreach (ips, i, ip) {
        json_t *longer = json_sprintf("%s%s%s", json_string_value(out),
                                      i ? "," : "", json_string_value(ip));

        json_decref(out);
        out = longer;
    }
    if (!json_string_length(out)) {
        json_decref(out);
        out = json_string("-");
    }
    return out;
}

/* Prints 'rows' (arrays of strings, the first the header) in aligned
 * columns. */
static void
print_columns(const json_t *rows)
{
    size_t n_cols = json_array_size(json_array_get(rows, 0));
    size_t *widths = xcalloc(n_cols ? n_cols : 1, sizeof *widths);
    const json_t *row;
    size_t i, j;

    json_array_foreach (rows, i, row) {
        for (j = 0; j < n_cols; j++) {
            size_t len = strlen(json_string_value(json_array_get(row, j)));

            widths[j] = len > widths[j] ? len : widths[j];
        }
    }
    json_array_foreach (rows, i, row) {
        for (j = 0; j < n_cols; j++) {
            const char *cell = json_string_value(json_array_get(row, j));

            if (j + 1 < n_cols) {
                printf("%-*s  ", (int) widths[j], cell);
            } else {
                printf("%s\n", cell);
            }
        }
    }
    free(widths);
}

static void
print_inventory(const json_t *inv)
{
    const json_t *stats = json_object_get(inv, "stats");
    const json_t *ifaces = json_object_get(inv, "interfaces");
    const json_t *iface;
    json_t *rows = json_array();
    char age[32];
    size_t i;

    format_duration((uint64_t) get_int(inv, "age_ms"), age, sizeof age);
    printf("host %s: ovsdb %s %s, %s; %zu bridge(s), %zu interface(s); "
           "published %s ago%s\n", get_str(inv, "host"),
           opt_str(inv, "remote"),
           json_is_true(json_object_get(inv, "connected")) ? "connected"
                                                           : "DISCONNECTED",
           json_is_true(json_object_get(inv, "synced")) ? "synced"
                                                        : "NOT SYNCED",
           json_array_size(json_object_get(inv, "bridges")),
           json_array_size(ifaces), age,
           json_is_true(json_object_get(inv, "stale")) ? " (STALE)" : "");
    printf("  ovsdb: %" JSON_INTEGER_FORMAT " connect(s), %"
           JSON_INTEGER_FORMAT " reconnect(s), %" JSON_INTEGER_FORMAT
           " resync(s), %" JSON_INTEGER_FORMAT " update(s), %"
           JSON_INTEGER_FORMAT " protocol error(s)\n",
           get_int(stats, "n_connects"), get_int(stats, "n_reconnects"),
           get_int(stats, "n_resyncs"), get_int(stats, "n_updates"),
           get_int(stats, "n_protocol_errors"));
    if (!json_array_size(ifaces)) {
        printf("  no interfaces\n");
        json_decref(rows);
        return;
    }
    json_array_append_new(rows, json_pack("[s,s,s,s,s,s,s,s,s,s,s,s]",
                                          "BRIDGE", "PORT", "INTERFACE",
                                          "OFPORT", "IFINDEX", "TYPE", "MAC",
                                          "VM", "TENANT", "IPS", "VLAN",
                                          "TUNNEL"));
    json_array_foreach (ifaces, i, iface) {
        const char *type = json_string_value(json_object_get(iface, "type"));
        json_t *row = json_array();

        json_array_append_new(row, json_string(opt_str(iface, "bridge")));
        json_array_append_new(row, json_string(opt_str(iface, "port")));
        json_array_append_new(row, json_string(opt_str(iface, "name")));
        append_int(row, iface, "ofport");
        append_int(row, iface, "ifindex");
        json_array_append_new(row, json_string(type && *type ? type
                                               : "system"));
        /* The VM's MAC, else the port's own. */
        json_array_append_new(row, json_string(
                                  strcmp(opt_str(iface, "attached_mac"), "-")
                                  ? opt_str(iface, "attached_mac")
                                  : opt_str(iface, "mac")));
        json_array_append_new(row, json_string(opt_str(iface, "vm")));
        json_array_append_new(row, json_string(opt_str(iface, "tenant")));
        json_array_append_new(row, format_ips(iface));
        json_array_append_new(row, format_vlan(iface));
        json_array_append_new(row, format_tunnel(iface));
        json_array_append_new(rows, row);
    }
    print_columns(rows);
    json_decref(rows);
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* "vnmonctl inventory". */
static int
cmd_inventory(struct vnm_redis *r, const struct options *opts)
{
    json_t *inventories = json_array();
    json_t *members = NULL;
    uint64_t now = vnm_time_wall_ms();
    const char **hosts;
    size_t n_hosts = 0;
    bool all_ok = true;
    int error;

    if (opts->host) {
        members = json_pack("[s]", opts->host);
    } else {
        error = vnm_redis_query(r, &members, "SMEMBERS %s",
                                INVENTORY_HOSTS_KEY);
        if (error) {
            fprintf(stderr, "vnmonctl: SMEMBERS %s failed (%s)\n",
                    INVENTORY_HOSTS_KEY,
                    json_is_string(members) ? json_string_value(members)
                    : strerror(error));
            json_decref(members);
            json_decref(inventories);
            return 2;
        }
    }
    hosts = xcalloc(json_array_size(members) + 1, sizeof *hosts);
    for (size_t i = 0; i < json_array_size(members); i++) {
        const char *host = json_string_value(json_array_get(members, i));

        if (host) {
            hosts[n_hosts++] = host;
        }
    }
    qsort(hosts, n_hosts, sizeof *hosts, compare_strings);

    for (size_t i = 0; i < n_hosts; i++) {
        char *key = xasprintf(INVENTORY_KEY, hosts[i]);
        json_t *reply = NULL;
        json_error_t jerr;
        json_t *inv;
        json_int_t published;

        error = vnm_redis_query(r, &reply, "GET %s", key);
        if (error || !json_is_string(reply)) {
            if (error) {
                fprintf(stderr, "vnmonctl: GET %s failed (%s)\n", key,
                        json_is_string(reply) ? json_string_value(reply)
                        : strerror(error));
            } else if (opts->host) {
                fprintf(stderr, "vnmonctl: no inventory for host %s\n",
                        hosts[i]);
            }
            all_ok = false;
            json_decref(reply);
            free(key);
            continue;
        }
        inv = json_loads(json_string_value(reply), 0, &jerr);
        if (!json_is_object(inv)) {
            fprintf(stderr, "vnmonctl: %s: not a JSON object (%s)\n", key,
                    jerr.text);
            all_ok = false;
            json_decref(inv);
            json_decref(reply);
            free(key);
            continue;
        }
        published = get_int(inv, "published_ms");
        json_object_set_new(inv, "age_ms",
                            json_integer((json_int_t) now - published));
        json_object_set_new(inv, "stale",
                            json_boolean((json_int_t) now - published
                                         > INVENTORY_STALE_MS));
        if (!json_is_true(json_object_get(inv, "synced"))
            || json_is_true(json_object_get(inv, "stale"))) {
            all_ok = false;
        }
        json_array_append_new(inventories, inv);
        json_decref(reply);
        free(key);
    }
    free(hosts);

    if (opts->json) {
        json_t *out = json_pack("{s:I, s:O}", "time_ms", (json_int_t) now,
                                "inventories", inventories);

        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
        putchar('\n');
        json_decref(out);
    } else if (!json_array_size(inventories)) {
        printf("no inventory has been published to %s\n",
               vnm_redis_address(r));
    } else {
        const json_t *inv;
        size_t i;

        json_array_foreach (inventories, i, inv) {
            if (i) {
                putchar('\n');
            }
            print_inventory(inv);
        }
    }
    if (!json_array_size(inventories)) {
        all_ok = false;
    }
    json_decref(inventories);
    json_decref(members);
    return all_ok ? 0 : 1;
}

int
main(int argc, char *argv[])
{
    static const struct option long_options[] = {
        { "redis", required_argument, NULL, 'r' },
        { "config", required_argument, NULL, 'c' },
        { "json", no_argument, NULL, 'j' },
        { "host", required_argument, NULL, 'H' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    struct options opts = { .json = false };
    struct vnm_config *config = NULL;
    struct vnm_redis *r;
    const char *command;
    char *error;
    int status;
    int c;

    vnm_set_program_name(argv[0]);
    while ((c = getopt_long(argc, argv, "r:c:jH:hV", long_options, NULL))
           != -1) {
        switch (c) {
        case 'r':
            opts.redis = optarg;
            break;
        case 'c':
            opts.config = optarg;
            break;
        case 'j':
            opts.json = true;
            break;
        case 'H':
            opts.host = optarg;
            break;
        case 'h':
            usage();
            return 0;
        case 'V':
            printf("vnmonctl (vnmon) %s\n", PACKAGE_VERSION);
            return 0;
        default:
            fprintf(stderr, "Try 'vnmonctl --help' for more information.\n");
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "vnmonctl: missing command (try --help)\n");
        return 2;
    }
    command = argv[optind];
    if (strcmp(command, "status") && strcmp(command, "inventory")) {
        fprintf(stderr, "vnmonctl: unknown command \"%s\" (try --help)\n",
                command);
        return 2;
    }
    if (optind + 1 < argc) {
        fprintf(stderr, "vnmonctl: %s: unexpected argument \"%s\"\n",
                command, argv[optind + 1]);
        return 2;
    }

    /* Connection trouble is reported by us, once, on stderr. */
    error = vnm_log_set_levels("redis:err");
    free(error);
    r = connect_redis(&opts, &config);
    if (!r) {
        vnm_config_destroy(config);
        return 2;
    }
    status = (!strcmp(command, "status") ? cmd_status(r, &opts)
              : cmd_inventory(r, &opts));
    vnm_redis_destroy(r);
    vnm_config_destroy(config);
    return status;
}

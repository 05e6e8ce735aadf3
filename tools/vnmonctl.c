/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vnmonctl: the operator's command-line view of vnmon, read from Redis.
 *
 *   vnmonctl status    which daemons are up, their plugins, their Redis
 *                      connection and their counters.
 *   vnmonctl inventory each host's OVS inventory (bridges, ports, VMs,
 *                      tenants, addresses, VLANs, tunnels), as published
 *                      by the agent (ovs-ext/inventory.c).
 *   ...and the commands of tools/ctl-*.c (the table below).
 *
 * Output is a table for people, or JSON (--json) for programs.  Redis is
 * found from --redis, else $VNM_REDIS, else the [redis] section of the
 * --config file (default: the agent's), else tcp:127.0.0.1:6379.
 * Credentials: --user and --password-file (or --password), else
 * $VNM_REDIS_USER and $VNM_REDIS_PASSWORD, else the [redis] section's.
 * --tenant scopes the views to one tenant's keys (vnm:t:TENANT:...), which
 * is all that a user of `vnmonctl tenant add` may read.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
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
#include "tools/ctl-series.h"
#include "tools/vnmonctl.h"

VNM_LOG_MODULE(vnmonctl);

/* A status record is "up" while its heartbeat is younger than this many
 * heartbeat intervals. */
#define STALE_INTERVALS 3

/* The commands, in the order --help lists them. */
static const struct ctl_command *const commands[] = {
    &ctl_status_command,
    &ctl_inventory_command,
    &ctl_topology_command,
    &ctl_report_command,
    &ctl_top_command,
    &ctl_bw_command,
    &ctl_peak_command,
    &ctl_capacity_command,
    &ctl_conns_command,
    &ctl_alerts_command,
    &ctl_tenant_command,
    &ctl_quarantine_command,
    &ctl_release_command,
};

static void
usage(void)
{
    printf("vnmonctl: inspect a vnmon deployment through its Redis\n"
           "usage: vnmonctl [OPTIONS] COMMAND [ARGS]\n"
           "\n"
           "Commands:\n");
    for (size_t i = 0; i < VNM_ARRAY_SIZE(commands); i++) {
        printf("  %-30s %s\n", commands[i]->synopsis, commands[i]->summary);
    }
    printf("\n"
           "Options (before or after the command):\n"
           "  -r, --redis=ADDR   unix:PATH, tcp:HOST:PORT or HOST:PORT\n"
           "  -c, --config=FILE  read [redis] from FILE (default %s/agent.conf)"
           "\n"
           "  -j, --json         print JSON instead of a table\n"
           "  -H, --host=HOST    only HOST's data\n"
           "  --tenant=T         only tenant T's data, from its keys only\n"
           "  --user=NAME        Redis ACL user to AUTH as\n"
           "  --password-file=F  read the AUTH password from file F\n"
           "  --password=PASS    the AUTH password (visible to other users:\n"
           "                     prefer --password-file)\n"
           "  -h, --help         show this help and exit\n"
           "  -V, --version      show the version and exit\n"
           "\n"
           "Environment: VNM_REDIS (address of Redis), VNM_REDIS_USER,\n"
           "VNM_REDIS_PASSWORD (credentials).\n"
           "Exit status: 0 success; 1 unhealthy or not found (status: some\n"
           "daemon down; inventory: some inventory missing, out of sync or\n"
           "stale); 2 usage or Redis error.\n", VNM_SYSCONFDIR);
}

char *
ctl_read_secret(const char *file)
{
    char buf[512];
    size_t n;
    FILE *f = fopen(file, "r");

    if (!f) {
        fprintf(stderr, "vnmonctl: %s: %s\n", file, strerror(errno));
        return NULL;
    }
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) {
        fprintf(stderr, "vnmonctl: %s: no password in the first line\n",
                file);
        return NULL;
    }
    return xstrdup(buf);
}

/* Applies the credentials of the command line, else of the environment,
 * to 'ropts' (the password read into '*secretp').  Returns false after
 * printing why. */
static bool
apply_credentials(const struct ctl_options *opts,
                  struct vnm_redis_options *ropts, char **secretp)
{
    const char *user = opts->user ? opts->user : getenv("VNM_REDIS_USER");
    const char *pass = getenv("VNM_REDIS_PASSWORD");

    *secretp = NULL;
    if (user && *user) {
        ropts->user = user;
    }
    if (opts->password_file) {
        *secretp = ctl_read_secret(opts->password_file);
        if (!*secretp) {
            return false;
        }
        ropts->password = *secretp;
    } else if (opts->password) {
        ropts->password = opts->password;
    } else if (pass && *pass) {
        ropts->password = pass;
    }
    if (ropts->user && !ropts->password) {
        fprintf(stderr, "vnmonctl: user %s needs a password (--password-file "
                "or VNM_REDIS_PASSWORD)\n", ropts->user);
        return false;
    }
    return true;
}

/* Finds Redis and connects.  Returns null after printing why. */
static struct vnm_redis *
connect_redis(const struct ctl_options *opts, struct vnm_config **configp)
{
    struct vnm_redis_options ropts;
    const char *env = getenv("VNM_REDIS");
    struct vnm_redis *r;
    char *secret;
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
    if (!apply_credentials(opts, &ropts, &secret)) {
        return NULL;
    }
    r = vnm_redis_create(&ropts);
    free(secret);
    if (vnm_redis_connect(r)) {
        fprintf(stderr, "vnmonctl: cannot connect to Redis at %s%s%s%s\n",
                vnm_redis_address(r), ropts.password ? " (as user " : "",
                ropts.password ? (ropts.user ? ropts.user : "default") : "",
                ropts.password ? ": wrong user or password?)" : "");
        vnm_redis_destroy(r);
        return NULL;
    }
    return r;
}

/* Turns an HGETALL reply (flat array) into an object, parsing the values
 * that hold JSON (plugins, counters) and integers. */
json_t *
ctl_hash_to_object(const json_t *reply)
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

long long
ctl_get_int(const json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

const char *
ctl_get_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s ? s : "";
}

/* Fills in "up" and "heartbeat_age_ms" from the heartbeat's age. */
static void
judge(json_t *d, uint64_t now)
{
    json_int_t hb = (json_int_t) ctl_get_int(d, "heartbeat_ms");
    json_int_t interval = (json_int_t) ctl_get_int(d, "heartbeat_interval_ms");
    json_int_t age = hb ? (json_int_t) now - hb : -1;
    const char *state = ctl_get_str(d, "state");
    bool up = (!strcmp(state, "running") && hb
               && age < STALE_INTERVALS * (interval > 0 ? interval : 1000)
                        + 1000);

    json_object_set_new(d, "up", json_boolean(up));
    json_object_set_new(d, "heartbeat_age_ms", json_integer(age));
}

void
ctl_format_duration(uint64_t ms, char *buf, size_t size)
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
        json_int_t hb_age = ctl_get_int(d, "heartbeat_age_ms");

        state = (json_is_true(json_object_get(d, "up")) ? "up"
                 : !strcmp(ctl_get_str(d, "state"), "stopped") ? "stopped"
                 : "stale");
        ctl_format_duration((uint64_t) (ctl_get_int(d, "heartbeat_ms")
                                    - ctl_get_int(d, "started_ms")),
                        uptime, sizeof uptime);
        ctl_format_duration(hb_age > 0 ? (uint64_t) hb_age : 0, age, sizeof age);
        printf("%-10s %-16s %-8s %-8"JSON_INTEGER_FORMAT" %-9s %-10s %-9s "
               "%zu\n", ctl_get_str(d, "name"), ctl_get_str(d, "host"), state,
               ctl_get_int(d, "pid"), uptime, age,
               (strcmp(state, "up") ? "-"
                : ctl_get_int(d, "redis_connected_since_ms") ? "connected"
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
               "%s)\n", ctl_get_str(d, "name"), ctl_get_str(d, "host"),
               ctl_get_int(d, "pid"), ctl_get_str(d, "version"),
               ctl_get_str(d, "config"));
        printf("  redis     %s: %s", ctl_get_str(d, "redis_address"),
               ctl_get_int(d, "redis_connected_since_ms") ? "connected" : "down");
        if (ctl_get_int(d, "redis_outages")) {
            ctl_format_duration((uint64_t) ctl_get_int(d, "redis_last_outage_ms"),
                            buf, sizeof buf);
            printf(", %"JSON_INTEGER_FORMAT" outage(s), last lasted %s "
                   "(from %s)", ctl_get_int(d, "redis_outages"), buf,
                   vnm_format_time((uint64_t) ctl_get_int(d,
                                                      "redis_outage_start_ms"),
                                   (char[32]) { 0 }, 32));
        } else {
            printf(", no outage");
        }
        printf(", %"JSON_INTEGER_FORMAT" commands, %"JSON_INTEGER_FORMAT
               " dropped, %"JSON_INTEGER_FORMAT" errors\n",
               ctl_get_int(d, "redis_commands"), ctl_get_int(d, "redis_dropped"),
               ctl_get_int(d, "redis_errors"));
        printf("  log       %"JSON_INTEGER_FORMAT" warnings, "
               "%"JSON_INTEGER_FORMAT" errors\n",
               ctl_get_int(d, "log_warnings"), ctl_get_int(d, "log_errors"));
        if (!json_array_size(plugins)) {
            printf("  plugins   none\n");
        }
        json_array_foreach (plugins, j, p) {
            const json_t *pc = json_object_get(p, "counters");

            printf("  %-9s %s \"%s\" (%s %s) %s", j ? "" : "plugins",
                   ctl_get_str(p, "kind"), ctl_get_str(p, "name"),
                   ctl_get_str(p, "plugin"), ctl_get_str(p, "version"),
                   ctl_get_str(p, "path"));
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
cmd_status(struct vnm_redis *r, const struct ctl_options *opts)
{
    json_t *members = NULL;
    json_t *daemons = json_array();
    uint64_t now = vnm_time_wall_ms();
    bool all_up = true;
    json_t *m;
    size_t i;
    int error;

    error = ctl_query(r, &members, "SMEMBERS vnm:daemons");
    if (error) {
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
        d = ctl_hash_to_object(reply);
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

    ctl_format_duration((uint64_t) ctl_get_int(inv, "age_ms"), age, sizeof age);
    printf("host %s: ovsdb %s %s, %s; %zu bridge(s), %zu interface(s); "
           "published %s ago%s\n", ctl_get_str(inv, "host"),
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
           ctl_get_int(stats, "n_connects"), ctl_get_int(stats, "n_reconnects"),
           ctl_get_int(stats, "n_resyncs"), ctl_get_int(stats, "n_updates"),
           ctl_get_int(stats, "n_protocol_errors"));
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
cmd_inventory(struct vnm_redis *r, const struct ctl_options *opts)
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
        error = ctl_query(r, &members, "SMEMBERS %s", INVENTORY_HOSTS_KEY);
        if (error) {
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
        published = ctl_get_int(inv, "published_ms");
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

/* Runs 'cmd' (no arguments of its own but the common options). */
static int
run_simple(struct ctl_options *opts, int argc, char *argv[],
           int (*cmd)(struct vnm_redis *, const struct ctl_options *))
{
    static const struct option none[] = { { NULL, 0, NULL, 0 } };
    struct vnm_redis *r;
    int status;

    if (ctl_getopt(opts, argc, argv, "", none) != -1) {
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "vnmonctl: %s: unexpected argument \"%s\"\n",
                argv[0], argv[optind]);
        return 2;
    }
    r = ctl_connect(opts);
    if (!r) {
        return 2;
    }
    status = cmd(r, opts);
    ctl_disconnect(r);
    return status;
}

static int
run_status(struct ctl_options *opts, int argc, char *argv[])
{
    return run_simple(opts, argc, argv, cmd_status);
}

static int
run_inventory(struct ctl_options *opts, int argc, char *argv[])
{
    return run_simple(opts, argc, argv, cmd_inventory);
}

const struct ctl_command ctl_status_command = {
    "status", "status", "daemons, their plugins, Redis link and counters",
    run_status,
};

const struct ctl_command ctl_inventory_command = {
    "inventory", "inventory", "each host's OVS bridges, ports and VMs",
    run_inventory,
};

/* Common options, as getopt_long() entries and short letters. */
#define COMMON_SHORT "r:c:jH:"
enum {
    OPT_USER = 0x100,
    OPT_PASSWORD,
    OPT_PASSWORD_FILE,
    OPT_TENANT,
};
static const struct option common_long[] = {
    { "redis", required_argument, NULL, 'r' },
    { "config", required_argument, NULL, 'c' },
    { "json", no_argument, NULL, 'j' },
    { "host", required_argument, NULL, 'H' },
    { "user", required_argument, NULL, OPT_USER },
    { "password", required_argument, NULL, OPT_PASSWORD },
    { "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
    { "tenant", required_argument, NULL, OPT_TENANT },
};

int
ctl_getopt(struct ctl_options *opts, int argc, char *argv[],
           const char *shortopts, const struct option *longopts)
{
    static char short_buf[128];
    static struct option long_buf[64];
    size_t n = 0;
    int c;

    /* "+": stop at the first operand, so that "vnmonctl bw vm -x" keeps
     * operands in order; ":" is not used (getopt prints its own errors). */
    snprintf(short_buf, sizeof short_buf, "+%s%s", COMMON_SHORT, shortopts);
    /* The command's own options first: one named like a common option
     * (e.g. "tenant add --user NAME") takes precedence after the command
     * name, the common one being given before it. */
    for (; longopts->name && n < VNM_ARRAY_SIZE(long_buf) - 1; longopts++) {
        long_buf[n++] = *longopts;
    }
    for (size_t i = 0; i < VNM_ARRAY_SIZE(common_long); i++) {
        long_buf[n++] = common_long[i];
    }
    memset(&long_buf[n], 0, sizeof long_buf[n]);

    for (;;) {
        c = getopt_long(argc, argv, short_buf, long_buf, NULL);
        switch (c) {
        case 'r':
            opts->redis = optarg;
            break;
        case 'c':
            opts->config = optarg;
            break;
        case 'j':
            opts->json = true;
            break;
        case 'H':
            opts->host = optarg;
            break;
        case OPT_USER:
            opts->user = optarg;
            break;
        case OPT_PASSWORD:
            opts->password = optarg;
            break;
        case OPT_PASSWORD_FILE:
            opts->password_file = optarg;
            break;
        case OPT_TENANT:
            if (!ctl_tenant_valid(optarg)) {
                return '?';
            }
            opts->tenant = optarg;
            break;
        case '?':
            fprintf(stderr, "Try 'vnmonctl --help' for more information.\n");
            return '?';
        default:
            return c;
        }
    }
}

struct vnm_redis *
ctl_connect(const struct ctl_options *opts)
{
    struct vnm_config *config = NULL;
    struct vnm_redis *r;
    char *error;

    /* Connection trouble is reported by us, once, on stderr. */
    error = vnm_log_set_levels("redis:err");
    free(error);
    r = connect_redis(opts, &config);
    vnm_config_destroy(config);
    return r;
}

void
ctl_disconnect(struct vnm_redis *r)
{
    vnm_redis_destroy(r);
}

int
ctl_query(struct vnm_redis *r, json_t **replyp, const char *format, ...)
{
    va_list args, copy;
    int error;

    *replyp = NULL;
    va_start(args, format);
    va_copy(copy, args);
    error = vnm_redis_vquery(r, replyp, format, args);
    va_end(args);
    if (error) {
        /* The command and its key: "SMEMBERS vnm:bw:hosts". */
        char *what = xvasprintf(format, copy);
        char *sp = strchr(what, ' ');

        if (sp && (sp = strchr(sp + 1, ' '))) {
            *sp = '\0';
        }
        ctl_report_error(what, error, *replyp);
        free(what);
    }
    va_end(copy);
    return error;
}

void
ctl_print_json(const json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
    putchar('\n');
}

bool
ctl_parse_duration(const char *s, uint64_t *seconds)
{
    char *end;
    unsigned long long v;
    uint64_t mult = 1;

    if (*s < '0' || *s > '9') {
        return false;
    }
    v = strtoull(s, &end, 10);
    if (!strcmp(end, "") || !strcmp(end, "s")) {
        mult = 1;
    } else if (!strcmp(end, "m")) {
        mult = 60;
    } else if (!strcmp(end, "h")) {
        mult = 3600;
    } else if (!strcmp(end, "d")) {
        mult = 86400;
    } else {
        return false;
    }
    if (v > UINT64_MAX / mult / 1000) {
        return false;
    }
    *seconds = v * mult;
    return true;
}

int
main(int argc, char *argv[])
{
    static const struct option global_long[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    struct ctl_options opts = { .json = false };
    const char *command;
    int c;

    vnm_set_program_name(argv[0]);
    while ((c = ctl_getopt(&opts, argc, argv, "hV", global_long)) != -1) {
        switch (c) {
        case 'h':
            usage();
            return 0;
        case 'V':
            printf("vnmonctl (vnmon) %s\n", PACKAGE_VERSION);
            return 0;
        default:
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "vnmonctl: missing command (try --help)\n");
        return 2;
    }
    command = argv[optind];
    for (size_t i = 0; i < VNM_ARRAY_SIZE(commands); i++) {
        if (!strcmp(command, commands[i]->name)) {
            int sub_argc = argc - optind;
            char **sub_argv = argv + optind;

            optind = 1;         /* Restart getopt on the command's args. */
            return commands[i]->run(&opts, sub_argc, sub_argv);
        }
    }
    fprintf(stderr, "vnmonctl: unknown command \"%s\" (try --help)\n",
            command);
    return 2;
}

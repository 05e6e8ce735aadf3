/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `vnmonctl conns [--tenant T] [--vm VM] [-H HOST] [--json]`: the
 * conntrack summaries the agents write every second (collector/conntrack.c,
 * doc/redis-keys.md "Conntrack"): per host, tenant and VM, connections
 * open and tracked, by TCP state, half-open, new per second, top peers.
 *
 * Hosts are the agents of the "vnm:daemons" set ("HOST/agent"), or -H.
 * Each host's summary ("vnm:{HOST}:ct:host") lists its VMs and tenants,
 * whose summaries are then read in one pipelined batch.  Summaries expire
 * a few seconds after their agent stops writing them: a host without one
 * has its agent down or conntrack off.
 *
 * With the global --tenant T (vnmonctl --tenant T conns) only T's keys
 * are read, which is all that T's own Redis user (vnmonctl tenant add)
 * may read: the hosts from "vnm:t:T:bw:hosts", on each T's summary
 * ("vnm:t:T:{HOST}:ct:tenant"), whose "vm_index" lists T's VMs there.
 *
 * Exit status: 0; 1 if no host has a summary, or --vm/--tenant matched
 * nothing; 2 usage or Redis error.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bw-series.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "tools/vnmonctl.h"

/* Peers shown per row of the table, and for the host. */
#define TABLE_PEERS 3
#define HOST_PEERS 10

/* What to show. */
struct conns_filter {
    const char *tenant;         /* --tenant, or null. */
    const char *vm;             /* --vm (id or name), or null. */
};

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The strings of array 'a' (freed here), sorted, as a new array. */
static json_t *
sorted_strings(json_t *a)
{
    const char **names = xcalloc(json_array_size(a) + 1, sizeof *names);
    json_t *out = json_array();
    const json_t *m;
    size_t i, n = 0;

    json_array_foreach (a, i, m) {
        if (json_string_value(m)) {
            names[n++] = json_string_value(m);
        }
    }
    qsort(names, n, sizeof *names, compare_strings);
    for (i = 0; i < n; i++) {
        json_array_append_new(out, json_string(names[i]));
    }
    free(names);
    json_decref(a);
    return out;
}

/* The hosts to read: -H, else the agents of "vnm:daemons", sorted.
 * Returns a JSON array of strings, or null after a Redis error. */
static json_t *
conns_hosts(struct vnm_redis *r, const struct ctl_options *opts)
{
    json_t *members, *hosts = json_array();
    const char **names;
    size_t n = 0;
    json_t *m;
    size_t i;

    if (opts->host) {
        json_array_append_new(hosts, json_string(opts->host));
        return hosts;
    }
    if (ctl_query(r, &members, "SMEMBERS vnm:daemons")) {
        json_decref(members);
        json_decref(hosts);
        return NULL;
    }
    names = xcalloc(json_array_size(members) + 1, sizeof *names);
    json_array_foreach (members, i, m) {
        const char *s = json_string_value(m);
        size_t len = s ? strlen(s) : 0;

        if (len > 6 && !strcmp(s + len - 6, "/agent")) {
            names[n++] = s;
        }
    }
    qsort(names, n, sizeof *names, compare_strings);
    for (i = 0; i < n; i++) {
        json_t *host = json_stringn(names[i], strlen(names[i]) - 6);

        if (!i || strcmp(json_string_value(host),
                         json_string_value(json_array_get(
                             hosts, json_array_size(hosts) - 1)))) {
            json_array_append_new(hosts, host);
        } else {
            json_decref(host);
        }
    }
    free(names);
    json_decref(members);
    return hosts;
}

/* The hosts to read for tenant 'tenant' alone: -H, else the tenant's
 * list of hosts, sorted.  Returns a JSON array of strings, or null after a
 * Redis error. */
static json_t *
conns_tenant_hosts(struct vnm_redis *r, const struct ctl_options *opts,
                   const char *tenant)
{
    json_t *members;
    char *esc, *key;
    int error;

    if (opts->host) {
        return json_pack("[s]", opts->host);
    }
    esc = bw_escape(tenant);
    key = bw_tenant_hosts_key(esc);
    error = ctl_query(r, &members, "SMEMBERS %s", key);
    free(key);
    free(esc);
    if (error || !json_is_array(members)) {
        json_decref(members);
        return NULL;
    }
    return sorted_strings(members);
}

/* Parses the string reply 'reply' as a JSON object, or returns null. */
static json_t *
parse_summary(const json_t *reply)
{
    json_t *j;

    if (!json_is_string(reply)) {
        return NULL;
    }
    j = json_loads(json_string_value(reply), 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The key of a summary of 'host': "ct:host", "ct:tenant" (of 'tenant'),
 * or "ct:vm:VM". */
static char *
summary_key(const char *host, const char *tenant, const char *vm)
{
    char *prefix = bw_prefix(host, tenant);
    char *key;

    if (vm) {
        char *esc = bw_escape(vm);

        key = xasprintf("%s:ct:vm:%s", prefix, esc);
        free(esc);
    } else {
        key = xasprintf("%s:ct:%s", prefix, tenant ? "tenant" : "host");
    }
    free(prefix);
    return key;
}

static json_t *read_listed(struct vnm_redis *, const char *host,
                           json_t *summary, json_t *tenants, json_t *vms,
                           int *errorp);

/* Reads the summary of 'host' (of 'tenant' if non-null) into '*summaryp'
 * (null if there is none).  Returns 0 or the error of the Redis query
 * (reported). */
static int
read_summary(struct vnm_redis *r, const char *host, const char *tenant,
             json_t **summaryp)
{
    char *key = summary_key(host, tenant, NULL);
    json_t *reply;
    int error = ctl_query(r, &reply, "GET %s", key);

    *summaryp = error ? NULL : parse_summary(reply);
    json_decref(reply);
    free(key);
    return error;
}

/* True if VM 'vm' (named 'name', or null) passes --vm of 'f'. */
static bool
vm_selected(const struct conns_filter *f, const char *vm, const char *name)
{
    return !f->vm || !strcmp(f->vm, vm) || (name && !strcmp(f->vm, name));
}

/* Reads the summaries of 'host' that 'f' selects into a new object
 * {"host", "summary", "tenants": [...], "vms": [...]}.  Returns null if
 * the host has no summary; sets '*errorp' after a Redis error. */
static json_t *
conns_read_host(struct vnm_redis *r, const char *host,
                const struct conns_filter *f, int *errorp)
{
    json_t *summary, *vms, *tenants;
    const json_t *item;
    size_t i;

    *errorp = read_summary(r, host, NULL, &summary);
    if (!summary) {
        return NULL;
    }
    vms = json_array();
    tenants = json_array();

    /* What to read, from the host's index. */
    json_array_foreach (json_object_get(summary, "tenants"), i, item) {
        const char *t = json_string_value(json_object_get(item, "tenant"));

        if (t && !f->vm && (!f->tenant || !strcmp(f->tenant, t))) {
            json_array_append_new(tenants, json_string(t));
        }
    }
    json_array_foreach (json_object_get(summary, "vms"), i, item) {
        const char *vm = json_string_value(json_object_get(item, "vm"));
        const char *name = json_string_value(json_object_get(item, "name"));
        const char *t = json_string_value(json_object_get(item, "tenant"));

        if (!vm || (f->tenant && (!t || strcmp(f->tenant, t)))
            || !vm_selected(f, vm, name)) {
            continue;
        }
        json_array_append_new(vms, json_pack("[s,s?]", vm, t));
    }
    return read_listed(r, host, summary, tenants, vms, errorp);
}

/* Reads, for tenant 'tenant' alone, its summary on 'host' and those of its
 * VMs that 'f' selects into a new object {"host", "summary": null,
 * "tenant", "tenants": [its summary], "vms": [...]}: only the tenant's
 * keys.  Returns null if the tenant has no summary there; sets '*errorp'
 * after a Redis error. */
static json_t *
conns_read_tenant_host(struct vnm_redis *r, const char *host,
                       const char *tenant, const struct conns_filter *f,
                       int *errorp)
{
    json_t *summary, *vms, *out;
    const json_t *item;
    size_t i;

    *errorp = read_summary(r, host, tenant, &summary);
    if (!summary) {
        return NULL;
    }
    vms = json_array();
    json_array_foreach (json_object_get(summary, "vm_index"), i, item) {
        const char *vm = json_string_value(json_object_get(item, "vm"));
        const char *name = json_string_value(json_object_get(item, "name"));

        if (vm && vm_selected(f, vm, name)) {
            json_array_append_new(vms, json_pack("[s,s]", vm, tenant));
        }
    }
    out = read_listed(r, host, json_null(), json_array(), vms, errorp);
    if (out) {
        /* The tenant's summary heads the host's part, even with --vm. */
        json_object_set_new(out, "tenant", json_string(tenant));
        json_array_append(json_object_get(out, "tenants"), summary);
    }
    json_decref(summary);
    return out;
}

/* Reads the summaries of 'tenants' (names) and 'vms' ([VM, TENANT|null])
 * on 'host', freeing both, into a new object {"host", "summary" (which it
 * takes), "tenants": [...], "vms": [...]}.  Returns it, or null with
 * '*errorp' set after a Redis error. */
static json_t *
read_listed(struct vnm_redis *r, const char *host, json_t *summary,
            json_t *tenants, json_t *vms, int *errorp)
{
    json_t *out, *replies = NULL;
    const json_t *item;
    const char ***argvs;
    int *argcs;
    size_t n = 0, i;

    argcs = xcalloc(json_array_size(tenants) + json_array_size(vms) + 1,
                    sizeof *argcs);
    argvs = xcalloc(json_array_size(tenants) + json_array_size(vms) + 1,
                    sizeof *argvs);
    json_array_foreach (tenants, i, item) {
        const char **argv = xcalloc(2, sizeof *argv);

        argv[0] = "GET";
        argv[1] = summary_key(host, json_string_value(item), NULL);
        argcs[n] = 2;
        argvs[n++] = argv;
    }
    json_array_foreach (vms, i, item) {
        const char **argv = xcalloc(2, sizeof *argv);
        const json_t *t = json_array_get(item, 1);

        argv[0] = "GET";
        argv[1] = summary_key(host, json_is_string(t)
                              ? json_string_value(t) : NULL,
                              json_string_value(json_array_get(item, 0)));
        argcs[n] = 2;
        argvs[n++] = argv;
    }
    if (n) {
        *errorp = vnm_redis_query_batch(r, n, argcs,
                                        (const char *const *const *) argvs,
                                        &replies);
        if (*errorp) {
            fprintf(stderr, "vnmonctl: reading conntrack summaries of %s "
                    "failed (%s)\n", host, strerror(*errorp));
        }
    }
    for (i = 0; i < n; i++) {
        free((char *) argvs[i][1]);
        free(argvs[i]);
    }
    free(argvs);
    free(argcs);

    out = json_pack("{s:s, s:o, s:[], s:[]}", "host", host, "summary",
                    summary, "tenants", "vms");
    for (i = 0; !*errorp && i < n; i++) {
        /* Expired between the two reads: the VM or tenant just went. */
        json_t *j = parse_summary(json_array_get(replies, i));

        if (j) {
            json_array_append_new(json_object_get(out, i < json_array_size(
                                                      tenants)
                                                  ? "tenants" : "vms"), j);
        }
    }
    json_decref(replies);
    json_decref(vms);
    json_decref(tenants);
    if (*errorp) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* "ESTABLISHED=3,TIME_WAIT=1", or "-". */
static char *
format_states(const json_t *s)
{
    const json_t *tcp = json_object_get(s, "tcp");
    const char *state;
    const json_t *v;
    char *out = xstrdup("");

    json_object_foreach ((json_t *) tcp, state, v) {
        char *longer = xasprintf("%s%s%s=%"JSON_INTEGER_FORMAT, out,
                                 *out ? "," : "", state,
                                 json_integer_value(v));

        free(out);
        out = longer;
    }
    if (!*out) {
        free(out);
        out = xstrdup("-");
    }
    return out;
}

/* "10.0.0.1(3),10.0.0.12(1)" (at most 'max'), or "-". */
static char *
format_peers(const json_t *s, size_t max)
{
    const json_t *peers = json_object_get(s, "top_peers");
    const json_t *p;
    char *out = xstrdup("");
    size_t i;

    json_array_foreach (peers, i, p) {
        char *longer;

        if (i == max) {
            break;
        }
        longer = xasprintf("%s%s%s(%"JSON_INTEGER_FORMAT")", out,
                           *out ? "," : "",
                           ctl_get_str(p, "ip"),
                           ctl_get_int(p, "connections"));
        free(out);
        out = longer;
    }
    if (!*out) {
        free(out);
        out = xstrdup("-");
    }
    return out;
}

/* Columns of the table. */
enum { COL_SCOPE, COL_NAME, COL_TENANT, COL_OPEN, COL_TOTAL, COL_ESTAB,
       COL_HALF, COL_NEWS, COL_NEW, COL_UDP, COL_ICMP, COL_SOURCES,
       COL_STATES, COL_PEERS, N_COLS };

static const char *const col_names[N_COLS] = {
    "SCOPE", "NAME", "TENANT", "OPEN", "TOTAL", "ESTAB", "HALF-OPEN",
    "NEW/S", "NEW", "UDP", "ICMP", "SOURCES", "TCP STATES", "TOP PEERS",
};

/* Appends the row of summary 's' to 'rows'. */
static void
add_row(json_t *rows, const char *scope, const char *name,
        const char *tenant, const json_t *s)
{
    const json_t *src = json_object_get(s, "sources");
    json_t *row = json_array();
    char *states = format_states(s);
    char *peers = format_peers(s, TABLE_PEERS);

    json_array_append_new(row, json_string(scope));
    json_array_append_new(row, json_string(name && *name ? name : "-"));
    json_array_append_new(row, json_string(tenant && *tenant ? tenant
                                                             : "-"));
    json_array_append_new(row, json_sprintf("%"JSON_INTEGER_FORMAT,
                                            ctl_get_int(s, "connections")));
    json_array_append_new(row, json_sprintf("%"JSON_INTEGER_FORMAT,
                                            ctl_get_int(s, "total")));
    json_array_append_new(row, json_sprintf(
                              "%"JSON_INTEGER_FORMAT,
                              ctl_get_int(json_object_get(s, "tcp"),
                                          "ESTABLISHED")));
    json_array_append_new(row, json_sprintf("%"JSON_INTEGER_FORMAT,
                                            ctl_get_int(s, "half_open")));
    json_array_append_new(row, json_sprintf("%"JSON_INTEGER_FORMAT,
                                            ctl_get_int(s, "new_per_s")));
    json_array_append_new(row, json_sprintf("%"JSON_INTEGER_FORMAT,
                                            ctl_get_int(s, "new_total")));
    json_array_append_new(row, json_sprintf("%"JSON_INTEGER_FORMAT,
                                            ctl_get_int(s, "udp")));
    json_array_append_new(row, json_sprintf("%"JSON_INTEGER_FORMAT,
                                            ctl_get_int(s, "icmp")));
    json_array_append_new(row, json_sprintf(
                              "k=%"JSON_INTEGER_FORMAT",ovs=%"
                              JSON_INTEGER_FORMAT,
                              ctl_get_int(src, "kernel"),
                              ctl_get_int(src, "ovs")));
    json_array_append_new(row, json_string(states));
    json_array_append_new(row, json_string(peers));
    json_array_append_new(rows, row);
    free(states);
    free(peers);
}

/* Prints 'rows' (arrays of N_COLS strings) under the header, aligned. */
static void
print_rows(const json_t *rows)
{
    size_t widths[N_COLS];
    const json_t *row;
    size_t i;

    for (int c = 0; c < N_COLS; c++) {
        widths[c] = strlen(col_names[c]);
    }
    json_array_foreach (rows, i, row) {
        for (int c = 0; c < N_COLS; c++) {
            size_t len = strlen(json_string_value(json_array_get(row, c)));

            widths[c] = len > widths[c] ? len : widths[c];
        }
    }
    for (int c = 0; c < N_COLS; c++) {
        if (c + 1 < N_COLS) {
            printf("%-*s  ", (int) widths[c], col_names[c]);
        } else {
            printf("%s\n", col_names[c]);
        }
    }
    json_array_foreach (rows, i, row) {
        for (int c = 0; c < N_COLS; c++) {
            const char *cell = json_string_value(json_array_get(row, c));

            if (c + 1 < N_COLS) {
                printf("%-*s  ", (int) widths[c], cell);
            } else {
                printf("%s\n", cell);
            }
        }
    }
}

/* The heading of host part 'h': the host's summary 's', or in tenant scope
 * (no host summary) the tenant's. */
static void
print_heading(const json_t *h, const json_t *s)
{
    const json_t *src = json_object_get(s, "sources");
    const json_t *ts = json_array_get(json_object_get(h, "tenants"), 0);
    char *peers;

    if (json_is_null(s)) {
        printf("host %s, tenant %s: %"JSON_INTEGER_FORMAT" open of %"
               JSON_INTEGER_FORMAT" tracked connections, %"
               JSON_INTEGER_FORMAT" half-open, %"JSON_INTEGER_FORMAT
               " new/s\n", ctl_get_str(h, "host"), ctl_get_str(h, "tenant"),
               ctl_get_int(ts, "connections"), ctl_get_int(ts, "total"),
               ctl_get_int(ts, "half_open"), ctl_get_int(ts, "new_per_s"));
        s = ts;
    } else {
        printf("host %s: %"JSON_INTEGER_FORMAT" open of %"JSON_INTEGER_FORMAT
               " tracked connections, %"JSON_INTEGER_FORMAT" half-open, %"
               JSON_INTEGER_FORMAT" new/s (%"JSON_INTEGER_FORMAT" since "
               "start); kernel %"JSON_INTEGER_FORMAT", ovs %"
               JSON_INTEGER_FORMAT"; %"JSON_INTEGER_FORMAT" tracked twice; "
               "table %"JSON_INTEGER_FORMAT"/%"JSON_INTEGER_FORMAT"%s\n",
               ctl_get_str(h, "host"), ctl_get_int(s, "connections"),
               ctl_get_int(s, "total"), ctl_get_int(s, "half_open"),
               ctl_get_int(s, "new_per_s"), ctl_get_int(s, "new_total"),
               ctl_get_int(src, "kernel"), ctl_get_int(src, "ovs"),
               ctl_get_int(s, "duplicates"), ctl_get_int(s, "entries"),
               ctl_get_int(s, "max"),
               ctl_get_int(s, "over_cap") ? " (FULL: some not tracked)"
               : "");
    }
    peers = format_peers(s, HOST_PEERS);
    printf("  top peers: %s\n", peers);
    free(peers);
}

/* The table of one host. */
static void
print_host(const json_t *h)
{
    const json_t *s = json_object_get(h, "summary");
    json_t *rows = json_array();
    const json_t *item;
    size_t i;

    print_heading(h, s);
    if (!json_is_null(s)) {
        add_row(rows, "host", ctl_get_str(h, "host"), NULL, s);
    }
    json_array_foreach (json_object_get(h, "tenants"), i, item) {
        add_row(rows, "tenant", ctl_get_str(item, "tenant"),
                ctl_get_str(item, "tenant"), item);
    }
    json_array_foreach (json_object_get(h, "vms"), i, item) {
        add_row(rows, "vm", ctl_get_str(item, "name"),
                ctl_get_str(item, "tenant"), item);
    }
    print_rows(rows);
    json_decref(rows);
}

static void
conns_usage(void)
{
    printf("usage: vnmonctl conns [--tenant T] [--vm VM] [-H HOST] [--json]"
           "\n"
           "Connection tracking per host, tenant and VM, from the agents'\n"
           "summaries (updated every second): connections open and\n"
           "tracked, by TCP state, half-open, new per second, top peers.\n"
           "A connection is open unless it is TCP in TIME_WAIT or CLOSE.\n"
           "\n"
           "  -t, --tenant=T   only tenant T and its VMs\n"
           "  -v, --vm=VM      only VM (its uuid or its port's name)\n");
}

static int
run_conns(struct ctl_options *opts, int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "tenant", required_argument, NULL, 't' },
        { "vm", required_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct conns_filter f = { NULL, NULL };
    json_t *hosts, *out, *host;
    struct vnm_redis *r;
    size_t i, n_found = 0, n_entities = 0;
    int c, status = 0;

    while ((c = ctl_getopt(opts, argc, argv, "t:v:h", longopts)) != -1) {
        switch (c) {
        case 't':
            f.tenant = optarg;
            break;
        case 'v':
            f.vm = optarg;
            break;
        case 'h':
            conns_usage();
            return 0;
        default:
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vnmonctl: conns: unexpected argument \"%s\"\n",
                argv[optind]);
        return 2;
    }
    if (opts->tenant) {
        /* Global --tenant: the tenant's keys only. */
        if (f.tenant && strcmp(f.tenant, opts->tenant)) {
            fprintf(stderr, "vnmonctl: conns: --tenant %s within the "
                    "scope of tenant %s\n", f.tenant, opts->tenant);
            return 2;
        }
        f.tenant = opts->tenant;
    }
    r = ctl_connect(opts);
    if (!r) {
        return 2;
    }
    hosts = (opts->tenant ? conns_tenant_hosts(r, opts, opts->tenant)
             : conns_hosts(r, opts));
    if (!hosts) {
        ctl_disconnect(r);
        return 2;
    }
    out = json_pack("{s:I, s:[]}", "time_ms",
                    (json_int_t) vnm_time_wall_ms(), "hosts");
    json_array_foreach (hosts, i, host) {
        int error;
        json_t *h = (opts->tenant
                     ? conns_read_tenant_host(r, json_string_value(host),
                                              opts->tenant, &f, &error)
                     : conns_read_host(r, json_string_value(host), &f,
                                       &error));

        if (error) {
            status = 2;
            break;
        }
        if (h) {
            n_found++;
            /* With --vm, VMs only (in tenant scope the tenant's summary
             * is always there). */
            n_entities += (json_array_size(json_object_get(h, "vms"))
                           + (f.vm ? 0 : json_array_size(
                                  json_object_get(h, "tenants"))));
            json_array_append_new(json_object_get(out, "hosts"), h);
        } else if (opts->host || !opts->json) {
            fprintf(stderr, "vnmonctl: host %s: no conntrack summary "
                    "(agent down, or conntrack off)\n",
                    json_string_value(host));
        }
    }
    if (!status) {
        if (opts->json) {
            ctl_print_json(out);
        } else {
            json_array_foreach (json_object_get(out, "hosts"), i, host) {
                if (i) {
                    putchar('\n');
                }
                print_host(host);
            }
            if (!n_found) {
                printf("no conntrack summary in %s\n", vnm_redis_address(r));
            }
        }
        if (!n_found || ((f.vm || f.tenant) && !n_entities)) {
            if (f.vm || f.tenant) {
                fprintf(stderr, "vnmonctl: conns: no %s \"%s\" found\n",
                        f.vm ? "VM" : "tenant", f.vm ? f.vm : f.tenant);
            }
            status = 1;
        }
    }
    json_decref(out);
    json_decref(hosts);
    ctl_disconnect(r);
    return status;
}

const struct ctl_command ctl_conns_command = {
    "conns", "conns [--tenant T] [--vm VM]",
    "connections by state, half-open, new/s, top peers", run_conns,
};

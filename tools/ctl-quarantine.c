/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `vnmonctl quarantine [PORT] [-H HOST] [--incident ID] [--reason TEXT]
 * [--wait S]` and `vnmonctl release PORT [-H HOST] [--wait S]`: write or
 * remove a port's desired quarantine state and log the action
 * (lib/quarantine.h), then wait for the port's agent (ovs-ext/quarantine.h)
 * to report the drop rules in place, or gone.  Without PORT, `quarantine`
 * lists the quarantined ports of every host (or of -H HOST), with what
 * their agents applied.
 *
 * HOST defaults to the only host with an agent (vnm:inventory:hosts).
 *
 * Exit status: 0 applied (listing: success); 1 the agent did not confirm
 * within --wait (default 5 s), or release of a port not quarantined; 2
 * usage or Redis error.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/quarantine.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "ovs-ext/inventory.h"
#include "tools/vnmonctl.h"

/* What the command line asked. */
struct q_args {
    const char *port;
    const char *incident;
    const char *reason;
    uint64_t wait_s;
};

/* Parses the options and at most one operand (before or after them).
 * Returns 0, or 2 after printing a usage error. */
static int
parse_args(struct ctl_options *opts, int argc, char *argv[], bool release,
           struct q_args *qa)
{
    static const struct option longopts[] = {
        { "incident", required_argument, NULL, 'i' },
        { "reason", required_argument, NULL, 'R' },
        { "wait", required_argument, NULL, 'w' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    memset(qa, 0, sizeof *qa);
    qa->wait_s = 5;
    for (;;) {
        c = ctl_getopt(opts, argc, argv, "i:R:w:", longopts);
        if (c == -1) {
            if (optind >= argc) {
                break;
            }
            if (qa->port) {
                fprintf(stderr, "vnmonctl: %s: one port at a time\n",
                        argv[0]);
                return 2;
            }
            qa->port = argv[optind++];
            continue;
        }
        switch (c) {
        case 'i':
            qa->incident = optarg;
            break;
        case 'R':
            qa->reason = optarg;
            break;
        case 'w':
            if (!ctl_parse_duration(optarg, &qa->wait_s)) {
                fprintf(stderr, "vnmonctl: %s: --wait: \"%s\" is not a "
                        "duration\n", argv[0], optarg);
                return 2;
            }
            break;
        default:
            fprintf(stderr, "usage: vnmonctl %s\n", release
                    ? ctl_release_command.synopsis
                    : ctl_quarantine_command.synopsis);
            return 2;
        }
    }
    if (release && (!qa->port || qa->incident || qa->reason)) {
        fprintf(stderr, "usage: vnmonctl %s\n",
                ctl_release_command.synopsis);
        return 2;
    }
    return 0;
}

/* The hosts with an agent, sorted, as a JSON array; null on error. */
static json_t *
agent_hosts(struct vnm_redis *r)
{
    json_t *hosts = NULL;

    if (ctl_query(r, &hosts, "SMEMBERS %s", INVENTORY_HOSTS_KEY)) {
        json_decref(hosts);
        return NULL;
    }
    return hosts;
}

/* The host of the command: -H, else the only host with an agent.  Returns
 * a malloc'd name, or null after printing why. */
static char *
pick_host(struct vnm_redis *r, const struct ctl_options *opts,
          const char *cmd)
{
    json_t *hosts;
    char *host = NULL;

    if (opts->host) {
        return xstrdup(opts->host);
    }
    hosts = agent_hosts(r);
    if (hosts && json_array_size(hosts) == 1) {
        host = xstrdup(json_string_value(json_array_get(hosts, 0)));
    } else if (hosts) {
        fprintf(stderr, "vnmonctl: %s: %s: give the port's host with "
                "--host\n", cmd, (json_array_size(hosts)
                                  ? "several hosts have an agent"
                                  : "no host has an agent"));
    }
    json_decref(hosts);
    return host;
}

/* Looks 'port' up in 'host''s inventory: stores its tenant (malloc'd, or
 * null) in '*tenantp'.  Returns 0, ENOENT (printed) if the inventory does
 * not list the port, or an errno value (printed). */
static int
port_tenant(struct vnm_redis *r, const char *host, const char *port,
            char **tenantp)
{
    char *key = xasprintf(INVENTORY_KEY, host);
    json_t *reply = NULL, *inv = NULL, *iface;
    bool found = false;
    size_t i;
    int error;

    *tenantp = NULL;
    error = ctl_query(r, &reply, "GET %s", key);
    if (!error && json_is_string(reply)) {
        inv = json_loads(json_string_value(reply), 0, NULL);
        json_array_foreach (json_object_get(inv, "interfaces"), i, iface) {
            if (!strcmp(ctl_get_str(iface, "name"), port)) {
                const char *t = ctl_get_str(iface, "tenant");

                *tenantp = *t ? xstrdup(t) : NULL;
                found = true;
            }
        }
        if (!found) {
            fprintf(stderr, "vnmonctl: host %s has no port \"%s\"\n", host,
                    port);
            error = ENOENT;
        }
    }
    json_decref(inv);
    json_decref(reply);
    free(key);
    return error;
}

/* Waits up to 'wait_s' for 'host''s agent to report 'port' applied with
 * 'since' (or, if 'since' is 0, no longer applied).  Returns true if it
 * did. */
static bool
wait_applied(struct vnm_redis *r, const char *host, const char *port,
             uint64_t since, uint64_t wait_s)
{
    uint64_t deadline = vnm_time_mono_ms() + wait_s * 1000;
    char *key = xasprintf(QUARANTINE_APPLIED_KEY, host);
    bool done = false;

    for (;;) {
        json_t *reply = NULL;

        if (!vnm_redis_query(r, &reply, "HGET %s %s", key, port)) {
            json_t *a = (json_is_string(reply)
                         ? json_loads(json_string_value(reply), 0, NULL)
                         : NULL);

            done = (since
                    ? (uint64_t) ctl_get_int(a, "since") == since
                    : json_is_null(reply));
            json_decref(a);
        }
        json_decref(reply);
        if (done || vnm_time_mono_ms() >= deadline) {
            break;
        }
        usleep(100 * 1000);
    }
    free(key);
    return done;
}

/* Lists the quarantined ports of 'hosts' (or of -H). */
static int
list_ports(struct vnm_redis *r, const struct ctl_options *opts)
{
    json_t *hosts = (opts->host ? json_pack("[s]", opts->host)
                     : agent_hosts(r));
    json_t *rows = json_array();
    json_t *h;
    size_t i;
    int status = 0;

    json_array_foreach (hosts, i, h) {
        const char *host = json_string_value(h);
        char *key = xasprintf(QUARANTINE_KEY, host);
        char *akey = xasprintf(QUARANTINE_APPLIED_KEY, host);
        json_t *desired = NULL, *applied = NULL, *d, *a, *v;
        const char *port;

        if (ctl_query(r, &desired, "HGETALL %s", key)
            || ctl_query(r, &applied, "HGETALL %s", akey)) {
            status = 2;
        } else {
            d = ctl_hash_to_object(desired);
            a = ctl_hash_to_object(applied);
            json_object_foreach (d, port, v) {
                json_t *row = json_is_object(v) ? json_copy(v) : json_object();
                json_t *ap = json_object_get(a, port);

                json_object_set_new(row, "host", json_string(host));
                json_object_set_new(row, "port", json_string(port));
                json_object_set_new(row, "applied", json_boolean(
                    ap && ctl_get_int(ap, "since") == ctl_get_int(v, "since")));
                json_object_set_new(row, "rules", json_integer(
                    ap ? ctl_get_int(ap, "rules") : 0));
                json_array_append_new(rows, row);
            }
            json_decref(d);
            json_decref(a);
        }
        json_decref(desired);
        json_decref(applied);
        free(key);
        free(akey);
    }
    if (opts->json) {
        ctl_print_json(rows);
    } else if (!status) {
        printf("%-16s %-15s %-24s %-9s %-10s %-8s %s\n", "HOST", "PORT",
               "SINCE", "BY", "INCIDENT", "APPLIED", "REASON");
        json_array_foreach (rows, i, h) {
            char since[32];

            printf("%-16s %-15s %-24s %-9s %-10s %-8s %s\n",
                   ctl_get_str(h, "host"), ctl_get_str(h, "port"),
                   vnm_format_time((uint64_t) ctl_get_int(h, "since"), since,
                                   sizeof since),
                   ctl_get_str(h, "by"),
                   *ctl_get_str(h, "incident") ? ctl_get_str(h, "incident")
                   : "-",
                   (json_is_true(json_object_get(h, "applied"))
                    ? "yes" : "no"), ctl_get_str(h, "reason"));
        }
    }
    json_decref(rows);
    json_decref(hosts);
    return status;
}

/* "quarantine" and "release". */
static int
run(struct ctl_options *opts, int argc, char *argv[], bool release)
{
    struct quarantine_request req;
    struct vnm_redis *r;
    struct q_args qa;
    char *host = NULL, *tenant = NULL;
    int status, error;

    status = parse_args(opts, argc, argv, release, &qa);
    if (status) {
        return status;
    }
    r = ctl_connect(opts);
    if (!r) {
        return 2;
    }
    if (!qa.port) {
        status = list_ports(r, opts);
        goto out;
    }
    status = 2;
    host = pick_host(r, opts, argv[0]);
    if (!host || (!release && port_tenant(r, host, qa.port, &tenant))) {
        goto out;
    }
    req = (struct quarantine_request) {
        .host = host, .port = qa.port, .by = "vnmonctl",
        .incident = qa.incident, .reason = qa.reason, .tenant = tenant,
        .time_ms = vnm_time_wall_ms(),
    };
    error = (release ? quarantine_remove(r, &req)
             : quarantine_add(r, &req, false));
    if (error == ENOENT) {
        fprintf(stderr, "vnmonctl: release: port %s of host %s is not "
                "quarantined\n", qa.port, host);
        status = 1;
        goto out;
    } else if (error) {
        fprintf(stderr, "vnmonctl: %s: cannot write to Redis (%s)\n",
                argv[0], strerror(error));
        goto out;
    }
    if (!qa.wait_s
        || wait_applied(r, host, qa.port, release ? 0 : req.time_ms,
                        qa.wait_s)) {
        printf("%s %s on %s%s\n", release ? "released" : "quarantined",
               qa.port, host, qa.wait_s ? " (applied by the agent)"
               : " (not waiting for the agent)");
        status = 0;
    } else {
        fprintf(stderr, "vnmonctl: %s: the agent of host %s did not confirm "
                "within %"PRIu64" s that port %s is %s (is vnmon-agent "
                "running there, and can it reach OVS?); the request stays "
                "in Redis\n", argv[0], host, qa.wait_s, qa.port,
                release ? "released" : "quarantined");
        status = 1;
    }

out:
    free(tenant);
    free(host);
    ctl_disconnect(r);
    return status;
}

static int
run_quarantine(struct ctl_options *opts, int argc, char *argv[])
{
    return run(opts, argc, argv, false);
}

static int
run_release(struct ctl_options *opts, int argc, char *argv[])
{
    return run(opts, argc, argv, true);
}

const struct ctl_command ctl_quarantine_command = {
    "quarantine", "quarantine [PORT] [--incident ID] [--reason T] [--wait S]",
    "drop all traffic of a VM port (no PORT: list quarantined ports)",
    run_quarantine,
};

const struct ctl_command ctl_release_command = {
    "release", "release PORT [--wait S]",
    "end a port's quarantine", run_release,
};

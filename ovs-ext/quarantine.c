/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quarantine, the agent's side: see quarantine.h.  OVS is driven with
 * ovs-ofctl (OpenFlow 1.3) on each bridge's management socket, through the
 * flow tap's helpers (tap_flow_exec(), tap_flow_parse_dump()).
 */
#include <config.h>

#include "ovs-ext/quarantine.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/log.h"
#include "lib/quarantine.h"
#include "lib/redis.h"
#include "ovs-ext/inventory.h"

VNM_LOG_MODULE(quarantine);

/* An ovs-ofctl failure lasting this long is a warning. */
#define OUTAGE_GRACE_MS 10000

/* A bridge quarantine rules may be on. */
struct q_bridge {
    char *name;
    bool clean;                 /* Checked: none of our rules there. */
};

struct quarantine {
    char *host_id;
    char *ofctl;
    char *timeout_arg;          /* "--timeout=S". */
    char *rundir;
    int timeout_ms;
    bool release_on_stop;

    json_t *desired;            /* Port -> desired state (last read). */
    struct q_bridge *bridges;   /* Every bridge seen. */
    size_t n_bridges;
    char *applied_text;         /* The last report written. */
    uint64_t n_connects;        /* Redis connections at that time. */
    size_t n_ports, n_rules;    /* Applied. */
    bool in_sync;

    bool down;                  /* ovs-ofctl failing. */
    bool warned;
    uint64_t down_since_ms;
};

char *
quarantine_config_read(const struct vnm_conf *conf,
                       struct quarantine_config *cfg)
{
    char *error;

    memset(cfg, 0, sizeof *cfg);
    cfg->ovs_ofctl = "ovs-ofctl";
    cfg->command_timeout_ms = 5000;
    error = vnm_conf_get_bool(conf, "release_on_stop", false,
                              &cfg->release_on_stop);
    return error ? error : vnm_conf_check_unused(conf);
}

struct quarantine *
quarantine_create(const struct quarantine_config *cfg)
{
    struct quarantine *q = xzalloc(sizeof *q);

    q->host_id = xstrdup(cfg->host_id);
    q->ofctl = xstrdup(cfg->ovs_ofctl);
    q->rundir = xstrdup(cfg->rundir);
    q->timeout_ms = cfg->command_timeout_ms;
    q->timeout_arg = xasprintf("--timeout=%d",
                               (cfg->command_timeout_ms + 999) / 1000);
    q->release_on_stop = cfg->release_on_stop;
    q->desired = json_object();
    return q;
}

size_t
quarantine_build_rules(int ofport, const char *mac,
                       struct tap_flow_rule **rulesp)
{
    struct tap_flow_rule *rules = xcalloc(2, sizeof *rules);
    unsigned int m[6];
    size_t n = 0;

    if (ofport < 1) {
        free(rules);
        *rulesp = NULL;
        return 0;
    }
    rules[n++].match = xasprintf("priority=65535,in_port=%d", ofport);
    if (mac && (sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2],
                       &m[3], &m[4], &m[5]) == 6
                || sscanf(mac, "%2x-%2x-%2x-%2x-%2x-%2x", &m[0], &m[1],
                          &m[2], &m[3], &m[4], &m[5]) == 6)) {
        rules[n++].match = xasprintf("priority=65535,dl_dst=%02x:%02x:%02x:"
                                     "%02x:%02x:%02x", m[0], m[1], m[2],
                                     m[3], m[4], m[5]);
    }
    for (size_t i = 0; i < n; i++) {
        rules[i].cookie = QUARANTINE_COOKIE;
        rules[i].priority = 65535;
        rules[i].key = tap_flow_match_key(rules[i].match);
        rules[i].actions = xstrdup("drop");
    }
    *rulesp = rules;
    return n;
}

size_t
quarantine_diff(const struct tap_flow_rule *wanted, size_t n_wanted,
                const struct tap_flow_rule *dumped, size_t n_dumped,
                bool *present, size_t *n_blocked, char **input)
{
    struct ds lines = DS_EMPTY;
    size_t n_lines = 0;

    *n_blocked = 0;
    for (size_t i = 0; i < n_wanted; i++) {
        bool blocked = false;

        present[i] = false;
        for (size_t j = 0; j < n_dumped; j++) {
            if (dumped[j].table || strcmp(dumped[j].key, wanted[i].key)) {
                continue;
            }
            if (dumped[j].cookie != QUARANTINE_COOKIE) {
                blocked = true;
            } else if (!strcmp(dumped[j].actions, wanted[i].actions)) {
                present[i] = true;
            }
        }
        if (blocked) {
            (*n_blocked)++;
        } else if (!present[i]) {
            ds_put(&lines, "add cookie=0x%"PRIx64",table=0,%s actions=%s\n",
                     QUARANTINE_COOKIE, wanted[i].match, wanted[i].actions);
            n_lines++;
        }
    }
    for (size_t j = 0; j < n_dumped; j++) {
        bool keep = false;

        if (dumped[j].cookie != QUARANTINE_COOKIE) {
            continue;
        }
        for (size_t i = 0; i < n_wanted && !keep; i++) {
            keep = (!dumped[j].table && !strcmp(dumped[j].key, wanted[i].key)
                    && !strcmp(dumped[j].actions, wanted[i].actions));
        }
        if (!keep) {
            ds_put(&lines, "delete_strict cookie=0x%"PRIx64"/-1,table=%d,"
                     "%s\n", QUARANTINE_COOKIE, dumped[j].table,
                     dumped[j].match);
            n_lines++;
        }
    }
    if (n_lines) {
        *input = ds_steal(&lines);
    }
    return n_lines;
}

/* Records the outcome of an ovs-ofctl run on 'bridge': INFO when failures
 * start, WARN once if they last, INFO on recovery. */
static void
note_outcome(struct quarantine *q, const char *bridge, int error,
             const char *err)
{
    uint64_t now = vnm_time_mono_ms();

    if (!error) {
        if (q->down) {
            VNM_INFO("ovs-ofctl works again (after %.1f s)",
                     (now - q->down_since_ms) / 1000.0);
        }
        q->down = false;
        return;
    }
    if (!q->down) {
        q->down = true;
        q->warned = false;
        q->down_since_ms = now;
        VNM_INFO("bridge %s: ovs-ofctl failed: %.*s (%s; retrying)", bridge,
                 (int) strcspn(err ? err : "", "\n"), err ? err : "",
                 strerror(error));
    } else if (!q->warned && now - q->down_since_ms >= OUTAGE_GRACE_MS) {
        q->warned = true;
        VNM_WARN("bridge %s: ovs-ofctl failing for %"PRIu64" s: %.*s (%s): "
                 "quarantine not enforced", bridge,
                 (now - q->down_since_ms) / 1000,
                 (int) strcspn(err ? err : "", "\n"), err ? err : "",
                 strerror(error));
    }
}

/* Runs "ovs-ofctl -O OpenFlow13 CMD unix:RUNDIR/BRIDGE.mgmt ARG" with
 * 'input'; stores its output in '*outp' if nonnull. */
static int
ofctl(struct quarantine *q, const char *bridge, const char *cmd,
      const char *arg, const char *input, char **outp)
{
    char *target = xasprintf("unix:%s/%s.mgmt", q->rundir, bridge);
    char *argv[10];
    char *err = NULL;
    size_t n = 0;
    int error;

    argv[n++] = q->ofctl;
    argv[n++] = (char *) "-O";
    argv[n++] = (char *) "OpenFlow13";
    argv[n++] = q->timeout_arg;
    if (!strcmp(cmd, "dump-flows")) {
        argv[n++] = (char *) "--no-stats";
        argv[n++] = (char *) "--no-names";
    }
    argv[n++] = (char *) cmd;
    argv[n++] = target;
    argv[n++] = (char *) arg;
    argv[n] = NULL;
    error = tap_flow_exec(argv, input, q->timeout_ms + 1000, outp, &err);
    note_outcome(q, bridge, error, err);
    free(err);
    free(target);
    return error;
}

/* Dumps table 0 of 'bridge' into '*dumpedp'.  Returns 0 or an errno
 * value. */
static int
dump_table0(struct quarantine *q, const char *bridge,
            struct tap_flow_rule **dumpedp, size_t *n_dumpedp)
{
    char *out = NULL;
    int error = ofctl(q, bridge, "dump-flows", "table=0", NULL, &out);

    *dumpedp = NULL;
    *n_dumpedp = 0;
    if (!error) {
        *n_dumpedp = tap_flow_parse_dump(out, dumpedp);
    }
    free(out);
    return error;
}

/* Makes the rules of bridge 'b' the 'n' 'wanted' and marks in 'ok' the rules in place after that.  Returns 0 or an errno
 * value. */
static int
sync_bridge(struct quarantine *q, struct q_bridge *b,
            const struct tap_flow_rule *wanted, size_t n, bool *ok)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(2, 2);
    struct tap_flow_rule *dumped;
    size_t n_dumped, n_blocked, n_lines;
    char *input = NULL;
    int error;

    error = dump_table0(q, b->name, &dumped, &n_dumped);
    if (error) {
        return error;
    }
    n_lines = quarantine_diff(wanted, n, dumped, n_dumped, ok, &n_blocked,
                              &input);
    tap_flow_rules_free(dumped, n_dumped);
    if (n_blocked) {
        VNM_WARN_RL(&rl, "bridge %s: %zu quarantine rule(s) not installed: "
                    "a rule of another cookie has the same match", b->name,
                    n_blocked);
    }
    if (n_lines) {
        error = ofctl(q, b->name, "add-flows", "-", input, NULL);
        free(input);
        if (error) {
            return error;
        }
        error = dump_table0(q, b->name, &dumped, &n_dumped);
        if (error) {
            return error;
        }
        input = NULL;
        n_lines = quarantine_diff(wanted, n, dumped, n_dumped, ok,
                                  &n_blocked, &input);
        tap_flow_rules_free(dumped, n_dumped);
        free(input);
        if (n_lines) {
            return EPROTO;
        }
    }
    b->clean = !n;
    return 0;
}

/* The bridge named 'name', added if new. */
static struct q_bridge *
get_bridge(struct quarantine *q, const char *name)
{
    for (size_t i = 0; i < q->n_bridges; i++) {
        if (!strcmp(q->bridges[i].name, name)) {
            return &q->bridges[i];
        }
    }
    q->bridges = xrealloc(q->bridges, (q->n_bridges + 1) * sizeof *q->bridges);
    q->bridges[q->n_bridges] = (struct q_bridge) { .name = xstrdup(name) };
    return &q->bridges[q->n_bridges++];
}

/* Reads the desired state; keeps the last one if Redis does not answer. */
static void
read_desired(struct quarantine *q, struct vnm_redis *redis)
{
    char *key = xasprintf(QUARANTINE_KEY, q->host_id);
    json_t *reply = NULL;

    if (vnm_redis_is_connected(redis)
        && !vnm_redis_query(redis, &reply, "HGETALL %s", key)
        && json_is_array(reply)) {
        json_t *desired = json_object();

        for (size_t i = 0; i + 1 < json_array_size(reply); i += 2) {
            const char *port = json_string_value(json_array_get(reply, i));
            const char *v = json_string_value(json_array_get(reply, i + 1));
            json_t *state = v ? json_loads(v, 0, NULL) : NULL;

            if (port && json_is_object(state)) {
                json_object_set_new(desired, port, state);
            } else {
                json_decref(state);
            }
        }
        json_decref(q->desired);
        q->desired = desired;
    }
    json_decref(reply);
    free(key);
}

/* Queues the report 'applied' if it changed or Redis reconnected. */
static void
report(struct quarantine *q, struct vnm_redis *redis, json_t *applied)
{
    char *key = xasprintf(QUARANTINE_APPLIED_KEY, q->host_id);
    char *text = json_dumps(applied, JSON_COMPACT | JSON_SORT_KEYS);
    struct vnm_redis_stats st;
    const char *port;
    json_t *v;

    vnm_redis_get_stats(redis, &st);
    if (st.connected && (!q->applied_text || strcmp(text, q->applied_text)
                         || st.n_connects != q->n_connects)) {
        bool ok = !vnm_redis_append(redis, "DEL %s", key);

        json_object_foreach (applied, port, v) {
            char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

            ok = ok && !vnm_redis_append(redis, "HSET %s %s %s", key, port, s);
            free(s);
        }
        if (ok) {
            free(q->applied_text);
            q->applied_text = text;
            text = NULL;
            q->n_connects = st.n_connects;
        }
    }
    free(text);
    free(key);
}

void
quarantine_run(struct quarantine *q, struct vnm_redis *redis,
               const struct inventory *inv)
{
    json_t *applied = json_object();
    const char *port;
    json_t *state;
    bool in_sync = true;

    read_desired(q, redis);
    for (size_t i = 0; i < inventory_n_interfaces(inv); i++) {
        get_bridge(q, inventory_interface(inv, i)->bridge);
    }

    q->n_ports = q->n_rules = 0;
    for (size_t b = 0; b < q->n_bridges; b++) {
        struct q_bridge *br = &q->bridges[b];
        struct tap_flow_rule *wanted = NULL;
        const char **owners = NULL;
        size_t n = 0;
        bool *ok;

        json_object_foreach (q->desired, port, state) {
            const struct inv_interface *iface;
            struct tap_flow_rule *r;
            size_t n_r;

            iface = inventory_find_by_name(inv, port);
            if (!iface || strcmp(iface->bridge, br->name)) {
                continue;
            }
            n_r = quarantine_build_rules((int) iface->ofport,
                                         iface->attached_mac, &r);
            wanted = xrealloc(wanted, (n + n_r + 1) * sizeof *wanted);
            owners = xrealloc(owners, (n + n_r + 1) * sizeof *owners);
            for (size_t k = 0; k < n_r; k++) {
                owners[n] = port;   /* A key of 'desired', which stays. */
                wanted[n++] = r[k];
            }
            free(r);
        }
        if (!n && br->clean) {
            free(wanted);
            free(owners);
            continue;
        }
        ok = xcalloc(n + 1, sizeof *ok);
        if (sync_bridge(q, br, wanted, n, ok)) {
            in_sync = false;
        }
        /* A port is applied when all its rules are in place. */
        for (size_t k = 0; k < n; k++) {
            json_t *a = json_object_get(applied, owners[k]);

            if (!a) {
                state = json_object_get(q->desired, owners[k]);
                a = json_pack("{s:O?, s:i, s:s}", "since",
                              json_object_get(state, "since"), "rules", 0,
                              "bridge", br->name);
                json_object_set_new(applied, owners[k], a);
            }
            if (!ok[k]) {
                json_object_set_new(a, "missing", json_true());
            }
            json_object_set_new(a, "rules", json_integer(
                json_integer_value(json_object_get(a, "rules")) + ok[k]));
        }
        free(ok);
        free(owners);
        tap_flow_rules_free(wanted, n);
    }

    /* Ports with a rule missing are not applied. */
    json_object_foreach (q->desired, port, state) {
        json_t *a = json_object_get(applied, port);

        if (a && json_is_true(json_object_get(a, "missing"))) {
            json_object_del(applied, port);
            in_sync = false;
        } else if (a) {
            q->n_ports++;
            q->n_rules += json_integer_value(json_object_get(a, "rules"));
        }
    }
    if (q->applied_text) {
        json_t *old = json_loads(q->applied_text, 0, NULL);
        json_t *v;

        json_object_foreach (applied, port, v) {
            if (!json_object_get(old, port)) {
                VNM_INFO("port %s quarantined (%"JSON_INTEGER_FORMAT
                         " drop rules on bridge %s)", port,
                         json_integer_value(json_object_get(v, "rules")),
                         json_string_value(json_object_get(v, "bridge")));
            }
        }
        json_object_foreach (old, port, v) {
            if (!json_object_get(applied, port)) {
                VNM_INFO("port %s no longer quarantined", port);
            }
        }
        json_decref(old);
    }
    q->in_sync = in_sync;
    report(q, redis, applied);
    json_decref(applied);
}

void
quarantine_status(const struct quarantine *q, json_t *status)
{
    json_object_set_new(status, "quarantine",
                        json_pack("{s:I, s:I, s:b}",
                                  "ports", (json_int_t) q->n_ports,
                                  "rules", (json_int_t) q->n_rules,
                                  "in_sync", q->in_sync));
}

void
quarantine_destroy(struct quarantine *q, struct vnm_redis *redis)
{
    if (!q) {
        return;
    }
    if (q->release_on_stop) {
        char *filter = xasprintf("cookie=0x%"PRIx64"/-1", QUARANTINE_COOKIE);
        char *key = xasprintf(QUARANTINE_APPLIED_KEY, q->host_id);

        for (size_t i = 0; i < q->n_bridges; i++) {
            if (!q->bridges[i].clean
                && !ofctl(q, q->bridges[i].name, "del-flows", filter, NULL,
                          NULL)) {
                VNM_INFO("bridge %s: quarantine rules removed (release on "
                         "stop)", q->bridges[i].name);
            }
        }
        if (redis) {
            vnm_redis_append(redis, "DEL %s", key);
        }
        free(key);
        free(filter);
    }
    for (size_t i = 0; i < q->n_bridges; i++) {
        free(q->bridges[i].name);
    }
    free(q->bridges);
    json_decref(q->desired);
    free(q->applied_text);
    free(q->host_id);
    free(q->ofctl);
    free(q->timeout_arg);
    free(q->rundir);
    free(q);
}

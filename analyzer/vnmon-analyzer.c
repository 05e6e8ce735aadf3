/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vnmon-analyzer: loads detector plugins, feeds them flow records, merges
 * what they raise into incidents (analyzer/incident.c), and hands each
 * incident to the alert sink plugins (alerting/).
 *
 * The daemon shell (configuration, plugins, Redis, status) comes from
 * lib/daemon.c.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "analyzer/incident.h"
#include "analyzer/net-sync.h"
#include "analyzer/tenancy.h"
#include "lib/conf.h"
#include "lib/counter.h"
#include "lib/daemon.h"
#include "lib/flow-codec.h"
#include "lib/log.h"
#include "lib/redis.h"

VNM_LOG_MODULE(analyzer);

VNM_COUNTER_DEFINE(alerts_emitted);
VNM_COUNTER_DEFINE(alerts_delivered);
VNM_COUNTER_DEFINE(alerts_deferred);
VNM_COUNTER_DEFINE(alerts_failed);
VNM_COUNTER_DEFINE(incidents_opened);
VNM_COUNTER_DEFINE(incidents_closed);
VNM_COUNTER_DEFINE(flows_consumed);
VNM_COUNTER_DEFINE(flows_malformed);

enum {
    POLL_MS = 200,              /* Flow stream poll period. */
    DISCOVER_MS = 5000,         /* Agent discovery period. */
};

/* One agent's flow stream. */
struct stream {
    char *key;                  /* "vnm:{HOST}:flows". */
    bool group_ready;           /* Consumer group exists. */
};

struct analyzer {
    struct vnm_daemon *daemon;
    int64_t incident_idle_ms;
    int64_t max_incidents;
    struct incident_table *incidents;
    struct tenancy *tenancy;    /* tenancy: the network view (host->net). */
    struct net_sync *net_sync;  /* tenancy: ...kept in step with Redis. */

    /* Flow streams, read with a consumer group. */
    const char *group;          /* [analyzer] group. */
    int64_t batch;              /* Records per read. */
    char *consumer;             /* This analyzer's name in the group. */
    struct stream *streams;
    size_t n_streams;
    uint64_t next_discover_ms;
    struct event *poll_ev;
};

/* tenancy: gives 'flow' (read from stream 's') its host and lets the
 * network view learn from it, before the detectors see it. */
static void
analyzer_net_flow(struct analyzer *a, const struct stream *s,
                  struct vnm_flow *flow)
{
    if (!flow->host[0]) {
        /* "vnm:{HOST}:flows" */
        const char *open = strchr(s->key, '{');
        const char *close = open ? strchr(open, '}') : NULL;

        if (close) {
            size_t n = (size_t) (close - open);   /* Length + 1. */

            vnm_strlcpy(flow->host, open + 1,
                        n < sizeof flow->host ? n : sizeof flow->host);
        }
    }
    if (tenancy_learn(a->tenancy, flow, vnm_time_wall_ms())) {
        net_sync_learned(a->net_sync, flow->host);
    }
}

/* Hands one flow record to every detector. */
static void
run_detectors(struct analyzer *a, const struct vnm_flow *flow)
{
    struct vnm_loader *loader = vnm_daemon_loader(a->daemon);

    for (size_t i = 0; i < vnm_loader_count(loader); i++) {
        struct vnm_plugin_instance *inst = vnm_loader_get(loader, i);

        if (inst->desc->kind == VNM_PLUGIN_DETECTOR) {
            inst->desc->detector->on_flow(inst->state, flow);
        }
    }
}

/* Adds the flow streams of agents that reported to Redis. */
static void
discover_streams(struct analyzer *a)
{
    struct vnm_redis *r = vnm_daemon_redis(a->daemon);
    json_t *members = NULL;
    json_t *m;
    size_t i;

    if (vnm_redis_query(r, &members, "SMEMBERS vnm:daemons")) {
        json_decref(members);
        return;
    }
    json_array_foreach (members, i, m) {
        const char *member = json_string_value(m);
        const char *slash = member ? strrchr(member, '/') : NULL;
        char *key;
        bool known = false;

        if (!slash || strcmp(slash + 1, "agent")) {
            continue;
        }
        key = xasprintf("vnm:{%.*s}:flows", (int) (slash - member), member);
        for (size_t j = 0; j < a->n_streams; j++) {
            known = known || !strcmp(a->streams[j].key, key);
        }
        if (known) {
            free(key);
            continue;
        }
        a->streams = xrealloc(a->streams,
                              (a->n_streams + 1) * sizeof *a->streams);
        a->streams[a->n_streams++] = (struct stream) { .key = key };
        VNM_INFO("reading flow records from %s", key);
    }
    json_decref(members);
}

/* Reads what is new in stream 's' for this consumer, runs the detectors on
 * it and acknowledges it. */
static void
read_stream(struct analyzer *a, struct stream *s)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    struct vnm_redis *r = vnm_daemon_redis(a->daemon);
    json_t *reply = NULL, *entries, *entry;
    size_t i;
    int error;

    if (!s->group_ready) {
        /* From "$": a new group starts with new records; an existing one
         * (an analyzer restarted) resumes where the group was. */
        error = vnm_redis_query(r, &reply, "XGROUP CREATE %s %s $ MKSTREAM",
                                s->key, a->group);
        if (!error || (error == EIO && json_is_string(reply)
                       && strstr(json_string_value(reply), "BUSYGROUP"))) {
            s->group_ready = true;
        }
        json_decref(reply);
        reply = NULL;
        if (!s->group_ready) {
            return;
        }
    }
    error = vnm_redis_query(r, &reply,
                            "XREADGROUP GROUP %s %s COUNT %"PRId64
                            " STREAMS %s >", a->group, a->consumer,
                            a->batch, s->key);
    if (error == EIO && json_is_string(reply)
        && strstr(json_string_value(reply), "NOGROUP")) {
        s->group_ready = false;         /* The stream was deleted. */
    }
    /* [[KEY, [[ID, [FIELD, VALUE...]]...]]], or null if nothing new. */
    entries = json_array_get(json_array_get(reply, 0), 1);
    json_array_foreach (entries, i, entry) {
        const char *id = json_string_value(json_array_get(entry, 0));
        const json_t *fields = json_array_get(entry, 1);
        struct vnm_flow flow;
        const char *text = NULL;
        json_t *j = NULL;
        char *perror = NULL;

        for (size_t f = 0; f + 1 < json_array_size(fields); f += 2) {
            if (!strcmp(json_string_value(json_array_get(fields, f)), "r")) {
                text = json_string_value(json_array_get(fields, f + 1));
            }
        }
        j = text ? json_loads(text, 0, NULL) : NULL;
        if (!j || (perror = flow_from_json(j, &flow))) {
            VNM_COUNTER_INC(flows_malformed);
            VNM_WARN_RL(&rl, "%s: entry %s is not a flow record (%s)",
                        s->key, id ? id : "?", perror ? perror : "no JSON");
        } else {
            VNM_COUNTER_INC(flows_consumed);
            analyzer_net_flow(a, s, &flow);     /* tenancy */
            run_detectors(a, &flow);
        }
        free(perror);
        json_decref(j);
        if (id) {
            vnm_redis_append(r, "XACK %s %s %s", s->key, a->group, id);
        }
    }
    json_decref(reply);
    vnm_redis_flush(r);
}

static void
poll_cb(evutil_socket_t fd, short what, void *a_)
{
    struct analyzer *a = a_;
    uint64_t now = vnm_time_mono_ms();

    if (!vnm_redis_is_connected(vnm_daemon_redis(a->daemon))) {
        return;                 /* The heartbeat reconnects. */
    }
    net_sync_run(a->net_sync, vnm_daemon_redis(a->daemon),  /* tenancy */
                 vnm_time_wall_ms(), false);
    if (now >= a->next_discover_ms) {
        discover_streams(a);
        a->next_discover_ms = now + DISCOVER_MS;
    }
    for (size_t i = 0; i < a->n_streams; i++) {
        read_stream(a, &a->streams[i]);
    }
}

/* Hands 'alert' to every sink. */
static void
deliver(struct analyzer *a, const struct vnm_alert *alert)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    struct vnm_loader *loader = vnm_daemon_loader(a->daemon);

    for (size_t i = 0; i < vnm_loader_count(loader); i++) {
        struct vnm_plugin_instance *inst = vnm_loader_get(loader, i);
        int error;

        if (inst->desc->kind != VNM_PLUGIN_SINK) {
            continue;
        }
        error = inst->desc->sink->deliver(inst->state, alert);
        if (!error) {
            VNM_COUNTER_INC(alerts_delivered);
        } else if (error == EAGAIN) {
            VNM_COUNTER_INC(alerts_deferred);
        } else {
            VNM_COUNTER_INC(alerts_failed);
            VNM_WARN_RL(&rl, "sink \"%s\" could not deliver incident %s (%s)",
                        inst->name, alert->id ? alert->id : "?",
                        strerror(error));
        }
    }
}

/* host->emit_alert() of detectors. */
static int
analyzer_emit(void *a_, struct vnm_plugin_instance *detector,
              const struct vnm_alert *emitted)
{
    struct analyzer *a = a_;
    const struct incident *inc;
    struct vnm_alert alert;

    VNM_COUNTER_INC(alerts_emitted);
    if (!a->incidents) {
        return EAGAIN;          /* Emitted from init(), before start. */
    }
    inc = incident_table_merge(a->incidents, emitted, vnm_time_wall_ms());
    if (!inc->n_updates) {
        VNM_COUNTER_INC(incidents_opened);
    }
    alert = *emitted;
    alert.id = inc->id;
    alert.host_id = vnm_daemon_host_id(a->daemon);
    alert.detector = detector->name;
    alert.tenant = (emitted->vm && emitted->vm->tenant[0]
                    ? emitted->vm->tenant : NULL);
    alert.first_ms = inc->first_ms;
    alert.last_ms = inc->last_ms;
    alert.count = inc->count;
    alert.total_packets = inc->packets;
    alert.total_bytes = inc->bytes;
    alert.n_updates = inc->n_updates;
    deliver(a, &alert);
    return 0;
}

static char *
analyzer_configure(void *a_, struct vnm_daemon *d,
                   const struct vnm_config *config)
{
    const struct vnm_conf *own = vnm_config_section(config, "analyzer", NULL);
    struct analyzer *a = a_;
    char *error;

    a->daemon = d;
    if ((error = vnm_conf_get_duration(own, "incident_idle", 300000, 1000,
                                       INT64_C(86400000) * 30,
                                       &a->incident_idle_ms))
        || (error = vnm_conf_get_int(own, "max_incidents", 10000, 1,
                                     10000000, &a->max_incidents))
        || (error = vnm_conf_get_string(own, "group", "vnmon-analyzers",
                                        &a->group))
        || (error = vnm_conf_get_int(own, "batch", 1000, 1, 100000,
                                     &a->batch))) {
        return error;
    }
    if (!a->group[0] || strpbrk(a->group, " \t")) {
        return vnm_conf_error(own, "group", "\"%s\": must be non-empty, "
                              "without spaces", a->group);
    }
    /* tenancy */
    return tenancy_configure(a->tenancy, config);
}

static char *
analyzer_start(void *a_, struct vnm_daemon *d)
{
    struct analyzer *a = a_;

    struct timeval tv = { 0, POLL_MS * 1000 };

    a->incidents = incident_table_create(vnm_daemon_host_id(d),
                                         (uint64_t) a->incident_idle_ms,
                                         (size_t) a->max_incidents);
    a->consumer = xasprintf("%s-%ld", vnm_daemon_host_id(d),
                            (long) getpid());
    a->poll_ev = event_new(vnm_daemon_event_base(d), -1, EV_PERSIST,
                           poll_cb, a);
    event_add(a->poll_ev, &tv);
    return NULL;
}

static void
analyzer_tick(void *a_, struct vnm_daemon *d, uint64_t now_ms)
{
    struct vnm_loader *loader = vnm_daemon_loader(d);
    struct analyzer *a = a_;

    for (size_t i = 0; i < vnm_loader_count(loader); i++) {
        struct vnm_plugin_instance *inst = vnm_loader_get(loader, i);

        if (inst->desc->kind == VNM_PLUGIN_DETECTOR
            && inst->desc->detector->on_tick) {
            inst->desc->detector->on_tick(inst->state, now_ms);
        } else if (inst->desc->kind == VNM_PLUGIN_SINK
                   && inst->desc->sink->on_tick) {
            inst->desc->sink->on_tick(inst->state, now_ms);
        }
    }
    VNM_COUNTER_ADD(incidents_closed,
                    incident_table_expire(a->incidents, now_ms));
}

static void
analyzer_status(void *a_, struct vnm_daemon *d, json_t *status)
{
    struct analyzer *a = a_;

    json_object_set_new(status, "open_incidents",
                        json_integer(a->incidents
                                     ? (json_int_t)
                                       incident_table_count(a->incidents)
                                     : 0));
}

static void
analyzer_stop(void *a_, struct vnm_daemon *d)
{
    struct analyzer *a = a_;

    if (a->poll_ev) {
        event_free(a->poll_ev);
        a->poll_ev = NULL;
    }
    for (size_t i = 0; i < a->n_streams; i++) {
        free(a->streams[i].key);
    }
    free(a->streams);
    a->streams = NULL;
    a->n_streams = 0;
    free(a->consumer);
    a->consumer = NULL;
    incident_table_destroy(a->incidents);
    a->incidents = NULL;
}

int
main(int argc, char *argv[])
{
    static const char *const named[] = { "detector", "sink", "protected",
                                         "allow", NULL };
    static const char *const sections[] = { "tenancy", "policy", NULL };
    static struct vnm_daemon_spec spec = {
        .name = "analyzer",
        .summary = "run detector plugins on flow records and deliver "
                   "incidents to alert sinks",
        .sections = sections,
        .named_sections = named,
        .plugin_kinds = (1u << VNM_PLUGIN_DETECTOR) | (1u << VNM_PLUGIN_SINK),
        .emit = analyzer_emit,
        .configure = analyzer_configure,
        .start = analyzer_start,
        .tick = analyzer_tick,
        .status = analyzer_status,
        .stop = analyzer_stop,
    };
    struct analyzer a = { .daemon = NULL };
    int status;

    a.tenancy = tenancy_create();                       /* tenancy */
    a.net_sync = net_sync_create(a.tenancy);
    spec.net = tenancy_net_ops(a.tenancy);
    status = vnm_daemon_main(&spec, &a, argc, argv);
    net_sync_destroy(a.net_sync);
    tenancy_destroy(a.tenancy);
    return status;
}

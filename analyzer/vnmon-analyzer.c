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

#include "analyzer/incident.h"
#include "lib/conf.h"
#include "lib/counter.h"
#include "lib/daemon.h"
#include "lib/log.h"
#include "lib/redis.h"

VNM_LOG_MODULE(analyzer);

VNM_COUNTER_DEFINE(alerts_emitted);
VNM_COUNTER_DEFINE(alerts_delivered);
VNM_COUNTER_DEFINE(alerts_deferred);
VNM_COUNTER_DEFINE(alerts_failed);
VNM_COUNTER_DEFINE(incidents_opened);
VNM_COUNTER_DEFINE(incidents_closed);

struct analyzer {
    struct vnm_daemon *daemon;
    int64_t incident_idle_ms;
    int64_t max_incidents;
    struct incident_table *incidents;
};

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
                                     10000000, &a->max_incidents))) {
        return error;
    }
    return NULL;
}

static char *
analyzer_start(void *a_, struct vnm_daemon *d)
{
    struct analyzer *a = a_;

    a->incidents = incident_table_create(vnm_daemon_host_id(d),
                                         (uint64_t) a->incident_idle_ms,
                                         (size_t) a->max_incidents);
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

    incident_table_destroy(a->incidents);
    a->incidents = NULL;
}

int
main(int argc, char *argv[])
{
    static const char *const named[] = { "detector", "sink", NULL };
    static const struct vnm_daemon_spec spec = {
        .name = "analyzer",
        .summary = "run detector plugins on flow records and deliver "
                   "incidents to alert sinks",
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

    return vnm_daemon_main(&spec, &a, argc, argv);
}

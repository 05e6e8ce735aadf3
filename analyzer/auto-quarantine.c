/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The analyzer's automatic quarantine: see auto-quarantine.h.
 */
#include <config.h>

#include "analyzer/auto-quarantine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/detect-util.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/quarantine.h"
#include "lib/util.h"
#include "vnmon/alert.h"

VNM_LOG_MODULE(auto_quarantine);

struct auto_quarantine {
    char **types;               /* Opted-in alert types. */
    size_t n_types;
    enum vnm_severity min_severity;
};

char *
auto_quarantine_configure(const struct vnm_config *config,
                          struct auto_quarantine **aqp)
{
    const struct vnm_conf *conf = vnm_config_section(config, "quarantine",
                                                     NULL);
    struct auto_quarantine *aq = xzalloc(sizeof *aq);
    const char *types, *sev;
    char *error;

    *aqp = NULL;
    if ((error = vnm_conf_get_string(conf, "types", "", &types))
        || (error = vnm_conf_get_string(conf, "min_severity", "high", &sev))
        || (error = vnm_conf_check_unused(conf))) {
        goto error;
    }
    if (!du_severity(sev, &aq->min_severity)) {
        error = vnm_conf_error(conf, "min_severity", "\"%s\": not one of "
                               "info, low, medium, high, critical", sev);
        goto error;
    }
    for (const char *p = types; *p; ) {
        size_t len;

        p += strspn(p, ", \t");
        len = strcspn(p, ", \t");
        if (len) {
            aq->types = xrealloc(aq->types,
                                 (aq->n_types + 1) * sizeof *aq->types);
            aq->types[aq->n_types++] = xstrndup(p, len);
        }
        p += len;
    }
    *aqp = aq;
    return NULL;

error:
    auto_quarantine_destroy(aq);
    return error;
}

bool
auto_quarantine_wants(const struct auto_quarantine *aq,
                      const struct vnm_alert *alert)
{
    if (!aq || alert->state != VNM_ALERT_OPEN
        || alert->severity < aq->min_severity || !alert->vm
        || !alert->vm->port[0] || !alert->host_id || !alert->host_id[0]) {
        return false;
    }
    for (size_t i = 0; i < aq->n_types; i++) {
        if (!strcmp(aq->types[i], alert->kind)) {
            return true;
        }
    }
    return false;
}

void
auto_quarantine_on_alert(struct auto_quarantine *aq, struct vnm_redis *redis,
                         const struct vnm_alert *alert)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    struct quarantine_request req;
    int error;

    if (!auto_quarantine_wants(aq, alert)) {
        return;
    }
    req = (struct quarantine_request) {
        .host = alert->host_id, .port = alert->vm->port, .by = "analyzer",
        .incident = alert->id, .reason = alert->summary,
        .tenant = alert->tenant, .time_ms = vnm_time_wall_ms(),
    };
    error = quarantine_add(redis, &req, true);
    if (!error) {
        VNM_INFO("incident %s (%s): port %s of host %s quarantined",
                 alert->id ? alert->id : "?", alert->kind, req.port,
                 req.host);
    } else if (error != EEXIST) {
        VNM_WARN_RL(&rl, "incident %s: cannot quarantine port %s of host %s "
                    "(%s)", alert->id ? alert->id : "?", req.port, req.host,
                    strerror(error));
    }
}

void
auto_quarantine_destroy(struct auto_quarantine *aq)
{
    if (aq) {
        for (size_t i = 0; i < aq->n_types; i++) {
            free(aq->types[i]);
        }
        free(aq->types);
        free(aq);
    }
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Routing of incidents to alert sinks: see route.h. */
#include <config.h>

#include "analyzer/route.h"

#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "vnmon/alert.h"

/* What one sink receives. */
struct route {
    char *tenant;               /* Only this tenant's, or null for all. */
    enum vnm_severity min_severity;
    char **types;               /* Null for every type, else 'n_types'. */
    size_t n_types;
    unsigned states;            /* 1u << enum vnm_alert_state, each. */
};

/* Separators of the list keys "types" and "states". */
static const char list_seps[] = " ,";

/* Reads list 'key' of 'conf' into the words of 'route->types' or, when
 * 'states' is true, into the bits of 'route->states'.  Returns NULL or an
 * error. */
static char *
parse_list(struct route *route, const struct vnm_conf *conf,
           const char *key, bool states)
{
    const char *s;
    char *error;

    error = vnm_conf_get_string(conf, key, NULL, &s);
    if (error || !s) {
        return error;
    }
    if (states) {
        route->states = 0;
    }
    while (*(s += strspn(s, list_seps))) {
        size_t len = strcspn(s, list_seps);
        char *word = xstrndup(s, len);
        enum vnm_alert_state st;

        s += len;
        if (!states) {
            route->types = xrealloc(route->types, (route->n_types + 1)
                                    * sizeof *route->types);
            route->types[route->n_types++] = word;
            continue;
        }
        for (st = VNM_ALERT_OPEN; st <= VNM_ALERT_RESOLVED; st++) {
            if (!strcmp(word, vnm_alert_state_name(st))) {
                break;
            }
        }
        if (st > VNM_ALERT_RESOLVED) {
            error = vnm_conf_error(conf, key, "\"%s\" is not open, update or "
                                   "resolved", word);
            free(word);
            return error;
        }
        route->states |= 1u << st;
        free(word);
    }
    if (states ? !route->states : !route->n_types) {
        return vnm_conf_error(conf, key, "empty list");
    }
    return NULL;
}

char *
route_create(const struct vnm_conf *conf, struct route **routep)
{
    struct route *route = xzalloc(sizeof *route);
    const char *tenant, *min_severity;
    int sev;
    char *error;

    *routep = NULL;
    route->states = ((1u << VNM_ALERT_OPEN) | (1u << VNM_ALERT_UPDATE)
                     | (1u << VNM_ALERT_RESOLVED));
    if ((error = vnm_conf_get_string(conf, "tenant", NULL, &tenant))
        || (error = vnm_conf_get_string(conf, "min_severity", "info",
                                        &min_severity))
        || (error = parse_list(route, conf, "types", false))
        || (error = parse_list(route, conf, "states", true))) {
        goto error;
    }
    if (tenant && !*tenant) {
        error = vnm_conf_error(conf, "tenant", "must name a tenant");
        goto error;
    }
    route->tenant = tenant ? xstrdup(tenant) : NULL;
    for (sev = VNM_SEV_INFO; sev <= VNM_SEV_CRITICAL; sev++) {
        if (!strcmp(min_severity, vnm_severity_name(sev))) {
            break;
        }
    }
    if (sev > VNM_SEV_CRITICAL) {
        error = vnm_conf_error(conf, "min_severity", "\"%s\" is not info, "
                               "low, medium, high or critical", min_severity);
        goto error;
    }
    route->min_severity = sev;
    *routep = route;
    return NULL;

error:
    route_destroy(route);
    return error;
}

void
route_destroy(struct route *route)
{
    if (!route) {
        return;
    }
    for (size_t i = 0; i < route->n_types; i++) {
        free(route->types[i]);
    }
    free(route->types);
    free(route->tenant);
    free(route);
}

bool
route_wants(const struct route *route, const struct vnm_alert *alert)
{
    if (route->tenant
        && (!alert->tenant || strcmp(route->tenant, alert->tenant))) {
        return false;
    }
    if (alert->severity < route->min_severity
        || (unsigned) alert->state > VNM_ALERT_RESOLVED
        || !(route->states & (1u << alert->state))) {
        return false;
    }
    if (!route->types) {
        return true;
    }
    for (size_t i = 0; i < route->n_types; i++) {
        if (alert->kind && !strcmp(alert->kind, route->types[i])) {
            return true;
        }
    }
    return false;
}

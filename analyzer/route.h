/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Routing of incidents to alert sinks, enforced by the analyzer (the host)
 * for every sink, built-in or third-party: each [sink "NAME"] section may
 * restrict what its sink receives with the keys
 *
 *   tenant        only incidents of exactly this tenant (an incident
 *                 without a tenant never reaches a tenant's sink);
 *   min_severity  info, low, medium, high or critical;
 *   types         a comma- or space-separated list of alert types;
 *   states        a subset of open, update, resolved.
 *
 * The analyzer reads these keys before the loader loads the plugin, so the
 * plugin never sees them asked for and the "unknown key" check accepts
 * them (doc/alerting.md, "Routing").  vnmon-analyzer.c keeps one route per
 * sink instance and asks route_wants() before each delivery.
 */
#ifndef VNM_ROUTE_H
#define VNM_ROUTE_H 1

#include <stdbool.h>

#include "lib/util.h"

struct vnm_alert;
struct vnm_conf;

struct route;

/* Reads the routing keys of sink section 'conf' (may be null: a route that
 * takes everything) into a new route stored in '*routep'.  Returns NULL,
 * or a malloc'd "FILE:LINE: KEY: reason" (then '*routep' is null). */
char *route_create(const struct vnm_conf *conf, struct route **routep)
    VNM_WARN_UNUSED;
/* Frees 'route'.  Accepts null. */
void route_destroy(struct route *route);

/* True if 'route' lets 'alert' through: tenant, severity, type and
 * state. */
bool route_wants(const struct route *route, const struct vnm_alert *alert);

#endif /* route.h */

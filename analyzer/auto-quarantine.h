/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The analyzer's automatic quarantine (doc/alerting.md, "Quarantine"):
 * for the alert types an operator opted in ([quarantine] types), a new
 * incident (state OPEN) of at least [quarantine] min_severity that names a
 * VM port and its host has that port quarantined (lib/quarantine.h), once:
 * a port already quarantined is left as it is.  The agent of the host then
 * installs the drop rules (ovs-ext/quarantine.h).
 *
 * Main thread of the analyzer (its Redis connection).
 */
#ifndef VNM_AUTO_QUARANTINE_H
#define VNM_AUTO_QUARANTINE_H 1

#include <stdbool.h>

#include "lib/util.h"

struct vnm_alert;
struct vnm_config;
struct vnm_redis;

struct auto_quarantine;

/* Reads the [quarantine] section of 'config' into a new object stored in
 * '*aqp' (free with auto_quarantine_destroy()).  Returns NULL, or a
 * malloc'd error (then '*aqp' is null). */
char *auto_quarantine_configure(const struct vnm_config *config,
                                struct auto_quarantine **aqp)
    VNM_WARN_UNUSED;

/* True if 'alert' (as delivered) calls for a quarantine under 'aq'. */
bool auto_quarantine_wants(const struct auto_quarantine *aq,
                           const struct vnm_alert *alert);

/* Quarantines the port of 'alert' through 'redis' if
 * auto_quarantine_wants().  Accepts a null 'aq' (does nothing). */
void auto_quarantine_on_alert(struct auto_quarantine *aq,
                              struct vnm_redis *redis,
                              const struct vnm_alert *alert);

void auto_quarantine_destroy(struct auto_quarantine *);

#endif /* auto-quarantine.h */

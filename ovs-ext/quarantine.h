/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quarantine, the agent's side: makes OVS drop every frame of the VM ports
 * that Redis says to quarantine (lib/quarantine.h, written by vnmonctl and
 * the analyzer), and reports what is in place.
 *
 * For each quarantined port of this host's inventory, on its bridge, in
 * table 0, with the cookie QUARANTINE_COOKIE (distinct from the flow
 * tap's):
 *     priority=65535,in_port=OFPORT actions=drop
 *     priority=65535,dl_dst=MAC actions=drop     (if the VM's MAC is known:
 *                                                 external_ids:attached-mac)
 * so that the VM can neither send nor receive.  They sit above the flow
 * tap's rules (which do not count them when choosing their priority), so a
 * quarantined VM's frames are not tapped either.
 *
 * quarantine_run() (every second) reconciles as the flow tap does: it dumps
 * table 0 of each bridge concerned, adds what is missing, deletes
 * (delete_strict, with the cookie) its own rules that are no longer wanted,
 * and never touches a rule without its cookie, nor adds a rule whose match
 * someone else's rule already has.  Rules removed by an ovs-vswitchd
 * restart or by hand come back at the next run; a released port loses
 * them.  While Redis is unreachable the last desired state read stays in
 * force.  What is in place is published to QUARANTINE_APPLIED_KEY (port ->
 * {"since", "rules", "bridge"}), rewritten when it changes or Redis
 * reconnects.
 *
 * Main thread only; quarantine_run() blocks while ovs-ofctl runs.
 */
#ifndef VNM_OVS_QUARANTINE_H
#define VNM_OVS_QUARANTINE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "ovs-ext/tap-flow.h"

struct inventory;
struct json_t;
struct vnm_conf;
struct vnm_redis;

/* The cookie of the quarantine rules: "vnmonq" in ASCII. */
#define QUARANTINE_COOKIE TAP_FLOW_QUARANTINE_COOKIE

/* How to run.  Strings are copied by quarantine_create(). */
struct quarantine_config {
    const char *host_id;        /* This agent's host id (Redis keys). */
    const char *rundir;         /* Where the BRIDGE.mgmt sockets are. */
    const char *ovs_ofctl;      /* Program, looked up in PATH. */
    int command_timeout_ms;     /* Most one ovs-ofctl may take. */
    bool release_on_stop;       /* [quarantine] release_on_stop. */
};

/* Reads the [quarantine] section 'conf' (may be null) into 'cfg' and sets
 * the other members to their defaults ("ovs-ofctl", 5000 ms, no host id or
 * rundir).  Returns NULL or a malloc'd error. */
char *quarantine_config_read(const struct vnm_conf *conf,
                             struct quarantine_config *cfg) VNM_WARN_UNUSED;

struct quarantine;

/* Creates the quarantine enforcer.  Touches nothing yet. */
struct quarantine *quarantine_create(const struct quarantine_config *cfg);

/* Reads the desired state from 'redis', applies it to the bridges of 'inv'
 * and queues the report of what is applied on 'redis' (flushed by the
 * caller's next heartbeat).  Call every second. */
void quarantine_run(struct quarantine *, struct vnm_redis *redis,
                    const struct inventory *inv);

/* Adds "quarantine": {"ports": N, "rules": N, "in_sync": bool} to
 * 'status'. */
void quarantine_status(const struct quarantine *, struct json_t *status);

/* With release_on_stop, deletes every rule of QUARANTINE_COOKIE from the
 * bridges it has seen and queues the deletion of the applied report on
 * 'redis' (may be null); the desired state stays.  Then frees.  Accepts
 * NULL. */
void quarantine_destroy(struct quarantine *, struct vnm_redis *redis);

/* ----------------------------------------------------------------------
 * Helpers, also for the unit tests. */

/* Returns the wanted rules (in '*rulesp', free with tap_flow_rules_free())
 * of a port of OpenFlow port 'ofport' and VM MAC 'mac' ("" or null if
 * unknown; any case, any separator ':' or '-'), and their number (0 if
 * 'ofport' < 1). */
size_t quarantine_build_rules(int ofport, const char *mac,
                              struct tap_flow_rule **rulesp);

/* Compares the 'n_wanted' rules 'wanted' with the 'n_dumped' rules
 * 'dumped' of table 0 (every cookie).  Stores in '*input' (malloc'd; left
 * as it is when there is none) the add-flows lines that fix the differences: missing rules added,
 * rules of QUARANTINE_COOKIE not wanted deleted; a wanted rule whose match
 * a rule of another cookie has is left out (counted in '*n_blocked').
 * Marks in 'present' (n_wanted entries) the rules already in place.
 * Returns the number of lines. */
size_t quarantine_diff(const struct tap_flow_rule *wanted, size_t n_wanted,
                       const struct tap_flow_rule *dumped, size_t n_dumped,
                       bool *present, size_t *n_blocked, char **input);

#endif /* ovs-ext/quarantine.h */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OVS flow tap (DESIGN.md section 3): OpenFlow 1.3 rules in table 0 of
 * a bridge clone each VM port's ingress frames, tagged with a port index in
 * an outer 802.1ad tag, to a monitor port that the tap creates; AF_PACKET
 * rings on that port (tap-ring.h) receive them, and the tap hands each frame
 * on as the VM sent it (its own tags inline), with its ingress port.  Unlike
 * the netdev tap (tap-netdev.h), it also covers ports without a kernel
 * netdev (DPDK vhost-user).
 *
 * Per bridge, the tap owns:
 *   - a monitor port, an internal interface named e.g. "vnm-mon-1a2b3c4"
 *     with external_ids:vnmon-monitor=true, IPv6 disabled, up, "no-flood"
 *     (OpenFlow 1.0 port config, lost at each ovs-vswitchd restart) and an
 *     access port of VLAN 4095 (in OVSDB: NORMAL floods nothing to it even
 *     before "no-flood" is set again);
 *   - rules with its own cookie, all in table 0:
 *       priority=65535,in_port=MON actions=drop
 *       priority=P,regR=0/(1<<B),in_port=OFPORT
 *           actions=clone(push_vlan:0x88a8,set_field:(0x1000|IDX)->vlan_vid,
 *                         output:MON),load:1->NXM_NX_REGR[B],resubmit(,0)
 *     one per port, P above the priority of every other rule in table 0: the
 *     second pass through table 0 skips the tap's rule (register bit set) and
 *     meets the operator's rules as if the tap were not there.
 * It never modifies or deletes a rule without its cookie.  tap_flow_run()
 * (about every second) compares what is in OVS with what should be there
 * and repairs it: rules deleted by someone (`ovs-ofctl del-flows`, a
 * controller, an ovs-vswitchd restart), a deleted or recreated monitor
 * port, lost port configuration.  tap_flow_destroy() deletes exactly its
 * rules and its monitor port.  When OVS cannot be reached, it logs INFO,
 * then WARN if that lasts 5 s, reminders after, INFO on recovery.
 *
 * Other readers of OVSDB (the inventory) should skip the monitor port: its
 * Interface has external_ids:vnmon-monitor=true.
 *
 * OVS is driven through ovs-vsctl and ovs-ofctl run as child processes
 * (posix_spawnp, argv, no shell), each bounded in time.  The agent must run
 * in the network namespace of ovs-vswitchd (the monitor port's netdev).
 *
 * Threads: as for the netdev tap, the main thread calls everything but
 * tap_flow_poll(), which worker thread 'i' calls with 'i'.  tap_flow_run()
 * blocks while its child processes run (normally a few milliseconds, at
 * most a few command timeouts).
 */
#ifndef VNM_TAP_FLOW_H
#define VNM_TAP_FLOW_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "ovs-ext/tap-netdev.h"
#include "ovs-ext/tap-ring.h"

/* A flow tap (opaque). */
struct tap_flow;

/* The default cookie of the tap's rules: "vnmon" in ASCII. */
#define TAP_FLOW_DEFAULT_COOKIE UINT64_C(0x766e6d6f6e000000)

/* The cookie of vnmon's quarantine rules (ovs-ext/quarantine.h): they sit
 * above the tap's on purpose, so the automatic priority ignores them. */
#define TAP_FLOW_QUARANTINE_COOKIE UINT64_C(0x766e6d6f6e710000)

/* With automatic priority, the tap's rules never go below this. */
#define TAP_FLOW_AUTO_PRIORITY_FLOOR 65000

/* How to build a flow tap.  tap_flow_config_init() sets the defaults.
 * Strings are copied. */
struct tap_flow_config {
    /* The bridge.  Required. */
    const char *bridge;
    /* ovsdb-server's socket, for "ovs-vsctl --db=unix:PATH".  Default
     * "/var/run/openvswitch/db.sock". */
    const char *db_path;
    /* ovs-vswitchd's run directory, where the bridge's management socket
     * RUNDIR/BRIDGE.mgmt is.  Default "/var/run/openvswitch". */
    const char *rundir;
    /* The monitor port's name (at most 15 characters), or NULL for
     * "vnm-mon-" and 7 hex digits of a hash of the bridge name. */
    const char *monitor_port;
    /* The cookie of the tap's rules.  Default TAP_FLOW_DEFAULT_COOKIE. */
    uint64_t cookie;
    /* Priority of the per-port rules, or 0 (default) for automatic: above
     * every other rule of table 0, at least TAP_FLOW_AUTO_PRIORITY_FLOOR,
     * at most 65535, never lowered while the tap runs. */
    int priority;
    /* The register bit marking frames already tapped: NXM_NX_REG<reg>
     * [<reg_bit>].  Default 15 and 31. */
    int reg;
    int reg_bit;
    /* Worker threads, each with its own ring.  Default 1. */
    size_t n_workers;
    /* Most milliseconds one ovs-vsctl or ovs-ofctl may take.  Default
     * 5000. */
    int command_timeout_ms;
    /* The programs to run, looked up in PATH.  Default "ovs-vsctl" and
     * "ovs-ofctl". */
    const char *ovs_vsctl;
    const char *ovs_ofctl;
    /* The rings on the monitor port.  Default: tap_ring_config_init()'s;
     * 'fanout_group' and 'reinsert_vlan' are ignored. */
    struct tap_ring_config ring;
};

/* Counters and state of a flow tap. */
struct tap_flow_stats {
    /* Frame and ring counters, as for the netdev tap. */
    struct tap_stats tap;
    /* Times the tap found its rules missing or changed by someone else
     * (del-flows, a controller, an ovs-vswitchd restart) and reinstalled
     * them. */
    uint64_t n_reinstalls;
    /* Times the monitor port had to be created again, or came back with
     * another interface index. */
    uint64_t n_monitor_recreated;
    /* True if the last tap_flow_run() found everything in place: rules,
     * monitor port up, rings bound. */
    bool in_sync;
    /* Priority of the per-port rules (0 until installed). */
    int priority;
    /* Rules of the tap in OVS when last checked. */
    size_t n_rules;
    /* The monitor port: name, OpenFlow port (0 if unknown) and interface
     * index (0 if none). */
    char monitor_port[16];
    int monitor_ofport;
    int monitor_ifindex;
};

/* Sets 'config' to the defaults (with no bridge). */
void tap_flow_config_init(struct tap_flow_config *config);

/* Creates a flow tap as 'config' says, with no ports, and runs
 * tap_flow_run() once (OVS may be unreachable for now: the tap keeps
 * trying).  Stores it in '*tapp' and returns 0, or returns EINVAL for a bad
 * configuration and stores NULL. */
int tap_flow_create(const struct tap_flow_config *config,
                    struct tap_flow **tapp);

/* Makes the 'n' 'ports' the tap's port set.  Ports are identified by
 * OpenFlow port number; those without one, of another bridge (when 'bridge'
 * is set) or the monitor port itself are left out.  The rules follow at the
 * next tap_flow_run(), which the caller may call right away.  Returns 0 or
 * ENOSPC if ports were left out for want of indexes. */
int tap_flow_set_ports(struct tap_flow *tap, const struct tap_port *ports,
                       size_t n);

/* Checks and repairs the tap in OVS (see above).  Call about once a
 * second, from the main thread.  Returns 0 if everything is in place, else
 * a positive errno value (the tap keeps trying at the next call; problems
 * are logged, an outage once). */
int tap_flow_run(struct tap_flow *tap);

/* Worker 'worker' waits up to 'timeout_ms' (at most 200 ms) for frames and
 * calls 'cb' with 'aux' for each, as the VM sent it (the tap's tag
 * removed), with the port it entered on.  Returns the number of frames, or a
 * negative errno value (see tap_ring_poll()). */
int tap_flow_poll(struct tap_flow *tap, size_t worker, int timeout_ms,
                  tap_port_frame_func *cb, void *aux);

/* Stores the tap's counters and state in '*stats'.  Main thread. */
void tap_flow_get_stats(struct tap_flow *tap, struct tap_flow_stats *stats);

/* Stores in '*statsp' a malloc'd array (the caller frees it) with the
 * counters of each port, in index order, and returns its length.  Main
 * thread. */
size_t tap_flow_get_port_stats(struct tap_flow *tap,
                               struct tap_port_stats **statsp);

/* Deletes the tap's rules and its monitor port from OVS, then frees 'tap',
 * once no worker polls it.  Accepts NULL. */
void tap_flow_destroy(struct tap_flow *tap);

/* ----------------------------------------------------------------------
 * Helpers, also for the unit tests and the test driver. */

/* A growable string, for ovs-ofctl input: zero-initialize (DS_EMPTY). */
struct ds {
    char *s;
    size_t len;
    size_t cap;
};

#define DS_EMPTY { NULL, 0, 0 }

/* Appends printf-formatted text to 'ds'. */
void ds_put(struct ds *ds, const char *format, ...) VNM_PRINTF(2, 3);
/* Returns the string (malloc'd, never NULL) and empties 'ds'. */
char *ds_steal(struct ds *ds);

/* Runs 'argv[0]' (looked up in PATH) with arguments 'argv' (null-
 * terminated), without a shell, with 'input' (if nonnull) on its standard
 * input, else /dev/null.  Kills it after 'timeout_ms'.  Stores its standard
 * output and error, null-terminated and malloc'd, in '*outp' and '*errp'
 * (the caller frees them; either pointer may be NULL to discard).  Returns
 * 0 if it exited with status 0, EIO if it exited otherwise or died from a
 * signal, ETIMEDOUT if killed, or the errno value of starting it. */
int tap_flow_exec(char *const argv[], const char *input, int timeout_ms,
                  char **outp, char **errp);

/* Parses 'spec', "NXM_NX_REG<r>[<b>]" or "reg<r>[<b>]" (any case), into
 * '*reg' (0...15) and '*bit' (0...31).  Returns NULL or a malloc'd error. */
char *tap_flow_parse_register(const char *spec, int *reg, int *bit)
    VNM_WARN_UNUSED;

/* One rule, as dumped or as wanted. */
struct tap_flow_rule {
    uint64_t cookie;
    int priority;
    /* The match without cookie, table 0 or flags, as ovs-ofctl takes it
     * ("priority=65000,reg15=0/0x80000000,in_port=4"). */
    char *match;
    /* The match's fields in canonical (sorted) order, priority included:
     * two rules with equal keys overlap exactly. */
    char *key;
    /* The actions, as ovs-ofctl prints them. */
    char *actions;
    /* Table of the rule. */
    int table;
};

/* Frees the 'n' rules of 'rules' and the array.  Accepts NULL. */
void tap_flow_rules_free(struct tap_flow_rule *rules, size_t n);

/* Returns the canonical key (malloc'd) of 'match', a comma- or
 * space-separated list of fields: fields that are not part of the match
 * (cookie, table 0, statistics, timeouts, flags) removed, priority=32768
 * added if missing, sorted. */
char *tap_flow_match_key(const char *match);

/* Parses the output of "ovs-ofctl dump-flows" (with or without --no-stats,
 * without names).  Stores the rules in '*rulesp' (malloc'd; free with
 * tap_flow_rules_free()) and returns their number; lines that are not rules
 * are skipped. */
size_t tap_flow_parse_dump(const char *text, struct tap_flow_rule **rulesp);

/* Returns the rules a tap wants (in '*rulesp', malloc'd, free with
 * tap_flow_rules_free()), and their number: with 'cookie', per-port rules at
 * 'priority' marking NXM_NX_REG<reg>[<bit>], the 'n' ports being OpenFlow
 * ports 'ofports' with indexes 'idxs', the monitor port 'mon_ofport'.  The
 * first rule is the monitor port's drop rule. */
size_t tap_flow_build_rules(uint64_t cookie, int priority, int reg, int bit,
                            int mon_ofport, const int *ofports,
                            const uint16_t *idxs, size_t n,
                            struct tap_flow_rule **rulesp);

/* Parses "ovs-ofctl dump-ports-desc" output for the port named 'name':
 * stores its OpenFlow port number in '*ofport' and whether its config has
 * NO_FLOOD in '*no_flood'.  Returns 0, or ENOENT if the port is not
 * listed. */
int tap_flow_parse_port_desc(const char *text, const char *name, int *ofport,
                             bool *no_flood);

/* The default monitor port name for 'bridge', in 'buf' (at least 16
 * bytes).  Returns 'buf'. */
char *tap_flow_default_monitor_port(const char *bridge, char *buf);

#endif /* tap-flow.h */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "new-port": ports that should not be there, and VM ports that
 * restart.
 *
 * Once a second (on_tick) the detector walks every port of the network
 * view (host->net->ports()) and compares it with what it saw before:
 *
 *   - A port that appeared on a bridge after the analyzer first saw its
 *     host's inventory (its first_seen_ms is not 0: analyzer/tenancy.c
 *     gives the ports of a host's first inventory 0) and that is not
 *     registered raises an alert of severity 'unregistered_severity'.  Not
 *     registered: a VM port without a tenant, or a port of kind "unknown"
 *     or "uplink" (a netdev without external_ids, e.g. a veth added with
 *     ovs-vsctl) whose name matches no pattern of 'ignore'.  A port is
 *     judged 'grace' after it appeared, so that a port whose external_ids
 *     are written just after "add-port" is not flagged.  The flows that
 *     port then starts add their packets and bytes to its incident
 *     ('traffic').
 *   - A VM port whose restart counter (vnm_port.restarts: new ifindex,
 *     ofport or Interface row, or gone and back) grows raises an alert of
 *     severity 'restart_severity' ('restarts').
 *
 * Both are keyed per (host, port): "HOST/PORT>BRIDGE" with the port's
 * bridge as target, so that a port is one incident whatever happens to it.
 * Internal, tunnel and patch ports are never flagged as unregistered
 * (OVS and vnmon's own monitor port are internal).
 *
 * Memory: one entry per port seen, at most 'max_ports' (further ports are
 * counted in "ports_untracked" and not followed).
 *
 * Configuration, section [detector "new-port"] (doc/alerts.md): ignore
 * (""), grace (2 s), restarts (true), traffic (true),
 * unregistered_severity ("medium"), restart_severity ("low"), max_ports
 * (65536), max_flows (16384).
 */
#include <config.h>

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/detect-util.h"
#include "vnmon/plugin.h"

#define MAX_IGNORE 32           /* Patterns in 'ignore'. */
#define PATTERN_SIZE 64

/* A port the detector follows. */
struct np_port {
    struct np_port *next;       /* In its hash bucket. */
    char host_id[VNM_ID_SIZE];  /* Its hypervisor. */
    char name[VNM_PORT_NAME_SIZE]; /* Its interface name. */
    uint64_t restarts;          /* vnm_port.restarts when last seen. */
    bool judged;                /* Checked for registration already. */
    bool unregistered;          /* Raised as unregistered: its flows count. */
    struct vnm_attribution attr; /* As of the alert. */
    char bridge[VNM_ID_SIZE];   /* The incident's target. */
    char summary[256];          /* Of its "unregistered" alert. */
};

/* The detector's state. */
struct new_port {
    const struct vnm_host *host;
    const struct vnm_net_ops *net;
    size_t n_ignore;
    char ignore[MAX_IGNORE][PATTERN_SIZE];
    int64_t grace_ms;
    bool restarts;
    bool traffic;
    enum vnm_severity unregistered_severity;
    enum vnm_severity restart_severity;
    size_t max_ports;
    uint64_t start_ms;          /* Host clock at init(). */

    struct np_port **buckets;   /* Followed ports, by (host, name). */
    size_t mask;                /* Buckets - 1, a power of 2 minus 1. */
    size_t n_ports;
    struct du_deltas *deltas;   /* Unregistered ports' flows. */
};

static struct np_port *
np_find(const struct new_port *np, const char *host_id, const char *name)
{
    struct np_port *p = np->buckets[du_hash_port(host_id, name) & np->mask];

    for (; p; p = p->next) {
        if (!strcmp(p->name, name) && !strcmp(p->host_id, host_id)) {
            return p;
        }
    }
    return NULL;
}

/* Adds port 'name' of 'host_id'; null if there are 'max_ports' already or
 * memory ran out. */
static struct np_port *
np_add(struct new_port *np, const char *host_id, const char *name)
{
    struct np_port **bucket = &np->buckets[du_hash_port(host_id, name)
                                           & np->mask];
    struct np_port *p;

    if (np->n_ports >= np->max_ports) {
        np->host->count(np->host, "ports_untracked", 1);
        return NULL;
    }
    p = calloc(1, sizeof *p);
    if (!p) {
        np->host->count(np->host, "no_memory", 1);
        return NULL;
    }
    snprintf(p->host_id, sizeof p->host_id, "%s", host_id);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->next = *bucket;
    *bucket = p;
    np->n_ports++;
    return p;
}

static const char *
kind_name(enum vnm_port_kind kind)
{
    switch (kind) {
    case VNM_PORT_UNKNOWN: return "unknown";
    case VNM_PORT_VM: return "VM";
    case VNM_PORT_INTERNAL: return "internal";
    case VNM_PORT_TUNNEL: return "tunnel";
    case VNM_PORT_PATCH: return "patch";
    case VNM_PORT_UPLINK: return "uplink";
    }
    return "?";
}

/* True if 'port' matches a pattern of 'ignore': "NAME" or "HOST/NAME",
 * shell wildcards allowed. */
static bool
is_ignored(const struct new_port *np, const struct vnm_port *port)
{
    char full[VNM_ID_SIZE + VNM_PORT_NAME_SIZE + 1];

    snprintf(full, sizeof full, "%s/%s", port->host_id, port->name);
    for (size_t i = 0; i < np->n_ignore; i++) {
        const char *pattern = np->ignore[i];

        if (!fnmatch(pattern, strchr(pattern, '/') ? full : port->name, 0)) {
            return true;
        }
    }
    return false;
}

/* True if 'port' is not registered (see the file comment). */
static bool
is_unregistered(const struct new_port *np, const struct vnm_port *port)
{
    switch (port->kind) {
    case VNM_PORT_VM:
        return !port->tenant[0];
    case VNM_PORT_UNKNOWN:
    case VNM_PORT_UPLINK:
        return !is_ignored(np, port);
    case VNM_PORT_INTERNAL:
    case VNM_PORT_TUNNEL:
    case VNM_PORT_PATCH:
        return false;
    }
    return false;
}

/* Fills 'attr' with the identity of 'port'. */
static void
attribution_from_port(const struct vnm_port *port,
                      struct vnm_attribution *attr)
{
    memset(attr, 0, sizeof *attr);
    snprintf(attr->port, sizeof attr->port, "%s", port->name);
    attr->ofport = port->ofport;
    snprintf(attr->iface_id, sizeof attr->iface_id, "%s", port->iface_id);
    snprintf(attr->vm, sizeof attr->vm, "%s", port->vm);
    snprintf(attr->tenant, sizeof attr->tenant, "%s", port->tenant);
}

/* Emits the incident of 'p' with 'severity', 'summary', 'evidence' lines,
 * and 'packets'/'bytes' of traffic ('flow' may be null). */
static void
np_emit(struct new_port *np, const struct np_port *p,
        enum vnm_severity severity, const char *summary,
        const struct vnm_flow *flow, uint64_t packets, uint64_t bytes,
        const char *const *evidence, uint32_t n_evidence)
{
    char key[VNM_ID_SIZE + VNM_PORT_NAME_SIZE + VNM_ID_SIZE + 4];
    struct vnm_alert alert = {
        .kind = "new-port",
        .severity = severity,
        .summary = summary,
        .vm = &p->attr,
        .target = p->bridge,
        .flow = flow,
        .packets = packets,
        .bytes = bytes,
    };

    snprintf(key, sizeof key, "%s/%s>%s", p->host_id, p->name, p->bridge);
    alert.key = key;
    for (uint32_t i = 0; i < n_evidence && i < VNM_ALERT_MAX_EVIDENCE; i++) {
        alert.evidence[alert.n_evidence++] = evidence[i];
    }
    if (!np->host->emit_alert(np->host, &alert)) {
        np->host->count(np->host, "alerts", 1);
    }
}

/* Formats one evidence line describing 'port'. */
static void
port_evidence(const struct vnm_port *port, char *buf, size_t size)
{
    snprintf(buf, size, "port %s: %s, bridge %s, ofport %"PRId32", "
             "iface-id %s, vm %s, tenant %s", port->name,
             kind_name(port->kind), port->bridge[0] ? port->bridge : "?",
             port->ofport, port->iface_id[0] ? port->iface_id : "-",
             port->vm[0] ? port->vm : "-",
             port->tenant[0] ? port->tenant : "-");
}

/* Raises 'port' (followed as 'p') as unregistered. */
static void
raise_unregistered(struct new_port *np, struct np_port *p,
                   const struct vnm_port *port)
{
    char evidence[256];
    const char *lines[1] = { evidence };

    attribution_from_port(port, &p->attr);
    snprintf(p->bridge, sizeof p->bridge, "%s",
             port->bridge[0] ? port->bridge : "?");
    snprintf(p->summary, sizeof p->summary, "unregistered %s port %s "
             "appeared on bridge %s of host %s%s", kind_name(port->kind),
             port->name, p->bridge, port->host_id,
             port->kind == VNM_PORT_VM ? " (no tenant)" : "");
    port_evidence(port, evidence, sizeof evidence);
    p->unregistered = true;
    np_emit(np, p, np->unregistered_severity, p->summary, NULL, 0, 0, lines,
            1);
    np->host->count(np->host, "unregistered", 1);
}

/* Raises 'port' (followed as 'p') as restarted 'n' more times. */
static void
raise_restart(struct new_port *np, struct np_port *p,
              const struct vnm_port *port, uint64_t n)
{
    char summary[256], evidence[256];
    const char *lines[1] = { evidence };

    if (!p->unregistered) {
        attribution_from_port(port, &p->attr);
        snprintf(p->bridge, sizeof p->bridge, "%s",
                 port->bridge[0] ? port->bridge : "?");
    }
    snprintf(summary, sizeof summary, "VM port %s%s%s%s restarted on bridge "
             "%s of host %s (%"PRIu64" time%s, now ofport %"PRId32")",
             port->name, port->tenant[0] ? " (" : "", port->tenant,
             port->tenant[0] ? ")" : "", p->bridge, port->host_id,
             port->restarts, port->restarts == 1 ? "" : "s", port->ofport);
    port_evidence(port, evidence, sizeof evidence);
    np_emit(np, p, np->restart_severity, summary, NULL, 0, 0, lines, 1);
    np->host->count(np->host, "restarts", n);
}

/* Compares the network view with what was seen before. */
static void
new_port_on_tick(void *state, uint64_t now_ms)
{
    struct new_port *np = state;
    const struct vnm_port *const *ports;
    size_t n;

    if (!np->net) {
        return;
    }
    n = np->net->ports(np->host, NULL, &ports);
    for (size_t i = 0; i < n; i++) {
        const struct vnm_port *port = ports[i];
        struct np_port *p = np_find(np, port->host_id, port->name);

        if (!p) {
            p = np_add(np, port->host_id, port->name);
            if (!p) {
                continue;
            }
            p->restarts = port->restarts;
            /* A port first met already restarted, after this detector
             * started: report that restart too. */
            if (port->restarts && port->changed_ms >= np->start_ms) {
                p->restarts = port->restarts - 1;
            }
        }
        if (!p->judged) {
            if (!port->first_seen_ms) {
                p->judged = true;       /* In its host's first inventory. */
            } else if (now_ms >= port->first_seen_ms
                       + (uint64_t) np->grace_ms) {
                p->judged = true;
                if (is_unregistered(np, port)) {
                    raise_unregistered(np, p, port);
                }
            }
        }
        if (port->restarts > p->restarts) {
            uint64_t more = port->restarts - p->restarts;

            p->restarts = port->restarts;
            if (np->restarts && port->kind == VNM_PORT_VM) {
                raise_restart(np, p, port, more);
            }
        }
    }
}

/* Adds the traffic of unregistered ports to their incidents.  'flow' is
 * borrowed. */
static void
new_port_on_flow(void *state, const struct vnm_flow *flow)
{
    struct new_port *np = state;

    if (!np->traffic) {
        return;
    }
    for (int side = 0; side < 2; side++) {
        const struct vnm_flow_end *end = side ? &flow->dst : &flow->src;
        char evidence[320];
        const char *lines[1] = { evidence };
        uint64_t packets, bytes;
        struct np_port *p;

        if (!end->packets || !end->in.port[0]) {
            continue;
        }
        p = np_find(np, flow->host, end->in.port);
        if (!p || !p->unregistered) {
            continue;
        }
        du_delta(np->deltas, flow, !side, &packets, &bytes);
        if (!packets) {
            continue;
        }
        du_evidence(flow, !side, evidence, sizeof evidence);
        np_emit(np, p, np->unregistered_severity, p->summary, flow, packets,
                bytes, lines, 1);
    }
}

static void
new_port_destroy(void *state)
{
    struct new_port *np = state;

    if (!np) {
        return;
    }
    for (size_t i = 0; np->buckets && i <= np->mask; i++) {
        struct np_port *p = np->buckets[i];

        while (p) {
            struct np_port *next = p->next;

            free(p);
            p = next;
        }
    }
    free(np->buckets);
    du_deltas_destroy(np->deltas);
    free(np);
}

/* Parses the pattern list 'list' into 'np->ignore'.  Returns false,
 * logging why, if it has too many or too long patterns. */
static bool
parse_ignore(struct new_port *np, const char *list)
{
    const char *p = list;

    for (;;) {
        size_t len;

        p += strspn(p, " \t,");
        len = strcspn(p, " \t,");
        if (!len) {
            return true;
        }
        if (np->n_ignore >= MAX_IGNORE || len >= PATTERN_SIZE) {
            np->host->log(np->host, VNM_LOG_ERR, "ignore: at most %d "
                          "patterns of at most %d characters",
                          MAX_IGNORE, PATTERN_SIZE - 1);
            return false;
        }
        memcpy(np->ignore[np->n_ignore], p, len);
        np->ignore[np->n_ignore][len] = '\0';
        np->n_ignore++;
        p += len;
    }
}

static int
new_port_init(const struct vnm_host *host, const struct vnm_conf *conf,
              void **statep)
{
    enum vnm_severity unregistered, restart;
    int64_t grace_ms, max_ports, max_flows;
    bool restarts, traffic;
    struct new_port *np;
    const char *ignore;
    size_t n_buckets;
    int error;

    if ((error = host->conf_string(host, conf, "ignore", "", &ignore))
        || (error = host->conf_duration(host, conf, "grace", 2000, 0,
                                        3600000, &grace_ms))
        || (error = host->conf_bool(host, conf, "restarts", true,
                                    &restarts))
        || (error = host->conf_bool(host, conf, "traffic", true, &traffic))
        || (error = du_conf_severity(host, conf, "unregistered_severity",
                                     "medium", &unregistered))
        || (error = du_conf_severity(host, conf, "restart_severity", "low",
                                     &restart))
        || (error = host->conf_int(host, conf, "max_ports", 65536, 1,
                                   16777216, &max_ports))
        || (error = host->conf_int(host, conf, "max_flows", 16384, 16,
                                   10000000, &max_flows))) {
        return error;
    }

    np = calloc(1, sizeof *np);
    if (!np) {
        return ENOMEM;
    }
    np->host = host;
    if (!parse_ignore(np, ignore)) {
        free(np);
        return EINVAL;
    }
    n_buckets = 64;
    while (n_buckets < (size_t) max_ports && n_buckets < 65536) {
        n_buckets *= 2;
    }
    np->buckets = calloc(n_buckets, sizeof *np->buckets);
    np->deltas = du_deltas_create((size_t) max_flows);
    if (!np->buckets || !np->deltas) {
        new_port_destroy(np);
        return ENOMEM;
    }
    np->mask = n_buckets - 1;
    np->net = VNM_HOST_HAS(host, net) ? host->net : NULL;
    np->grace_ms = grace_ms;
    np->restarts = restarts;
    np->traffic = traffic;
    np->unregistered_severity = unregistered;
    np->restart_severity = restart;
    np->max_ports = (size_t) max_ports;
    np->start_ms = host->now_ms(host);
    *statep = np;
    return 0;
}

static const struct vnm_detector_ops new_port_ops = {
    .on_flow = new_port_on_flow,
    .on_tick = new_port_on_tick,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "new-port",
                  .version = "1.0", .init = new_port_init,
                  .destroy = new_port_destroy, .detector = &new_port_ops);

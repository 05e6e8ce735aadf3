/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "vlan-hop": frames that try to leave their VLAN.
 *
 * The agent records the 802.1Q/802.1ad tags of each frame as the VM sent
 * it, at its ingress port, before OVS applies the port's VLAN rules (the
 * tap also sees the frames OVS then drops).  For each side of a flow that
 * sent frames, the detector looks up its ingress port in the network view
 * (host->net) and raises a "vlan-hop" alert if
 *   - the port is an access port (vlan_mode "access", or OVS's default
 *     mode with a tag) and the frames carry a tag (other than a priority
 *     tag, VLAN 0, unless 'priority_tags' is false): "tagged frame on an
 *     access port";
 *   - the port trunks VLANs (vlan_mode "trunk", "native-tagged",
 *     "native-untagged", or OVS's default mode with a trunk list) and the
 *     outer tag names a VLAN that is neither in its trunk list nor its
 *     native VLAN: "tag outside the trunk list";
 *   - the port is a VM's and the frames carry more than 'max_tags' tags
 *     (double tagging, the classic hop through a native VLAN).
 * Ports of OVS's default mode without tag nor trunks (trunks of every
 * VLAN) and dot1q-tunnel ports are only checked for double tagging.
 *
 * One incident per (host, port, tags): key "HOST/PORT>vlan A[/B...]" (the
 * VLAN ids as sent, outermost first), the alert's target "vlan A[/B]".
 * Each record of a flow adds the packets and bytes its side sent since the
 * previous record of that flow (du_delta()); a record that adds nothing
 * raises nothing.
 *
 * Configuration, section [detector "vlan-hop"] (doc/alerts.md): max_tags
 * (1), priority_tags (true), severity ("high"), max_flows (16384).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/detect-util.h"
#include "vnmon/plugin.h"

/* The detector's state. */
struct vlan_hop {
    const struct vnm_host *host;
    const struct vnm_net_ops *net; /* Null if the host lends no view. */
    int64_t max_tags;           /* More tags than this from a VM: alert. */
    bool priority_tags;         /* VLAN 0 tags count as untagged. */
    enum vnm_severity severity;
    struct du_deltas *deltas;
};

/* What a port's VLAN configuration does with tagged frames. */
enum port_mode {
    MODE_ANY,                   /* Trunks every VLAN, or unknown. */
    MODE_ACCESS,                /* Untagged (or priority-tagged) only. */
    MODE_TRUNK,                 /* The trunk list (and native VLAN). */
    MODE_TUNNEL,                /* dot1q-tunnel: customer tags. */
};

/* Why a side's frames hop. */
enum {
    HOP_ACCESS = 1 << 0,        /* Tagged frame on an access port. */
    HOP_TRUNK = 1 << 1,         /* Outer VLAN outside the trunk list. */
    HOP_TAGS = 1 << 2,          /* More than 'max_tags' tags from a VM. */
};

static enum port_mode
port_mode(const struct vnm_port *port)
{
    const char *mode = port->vlan_mode;

    if (!strcmp(mode, "access")) {
        return MODE_ACCESS;
    } else if (!strcmp(mode, "trunk") || !strcmp(mode, "native-tagged")
               || !strcmp(mode, "native-untagged")) {
        return port->n_trunks ? MODE_TRUNK : MODE_ANY;
    } else if (!strcmp(mode, "dot1q-tunnel")) {
        return MODE_TUNNEL;
    } else if (!mode[0]) {
        /* OVS's default: access if tagged, else a trunk. */
        return (port->tag >= 0 ? MODE_ACCESS
                : port->n_trunks ? MODE_TRUNK : MODE_ANY);
    }
    return MODE_ANY;
}

/* True if 'port', a trunk, carries VLAN 'vid'. */
static bool
trunk_carries(const struct vnm_port *port, uint16_t vid)
{
    const char *mode = port->vlan_mode;

    if (port->tag >= 0 && vid == port->tag
        && (!strcmp(mode, "native-tagged")
            || !strcmp(mode, "native-untagged"))) {
        return true;
    }
    for (uint32_t i = 0; i < port->n_trunks; i++) {
        if (port->trunks[i] == vid) {
            return true;
        }
    }
    return false;
}

/* True if 'in' is a VM's port: by the network view's 'port' if known, else
 * by the identity the agent gave it. */
static bool
is_vm_port(const struct vnm_port *port, const struct vnm_attribution *in)
{
    if (port && port->kind != VNM_PORT_UNKNOWN) {
        return port->kind == VNM_PORT_VM;
    }
    return in->vm[0] || in->iface_id[0] || in->tenant[0];
}

/* Formats the VLAN ids of 'flow' as "vlan 10" or "vlan 10/20". */
static void
format_vlans(const struct vnm_flow *flow, char *buf, size_t size)
{
    size_t len = (size_t) snprintf(buf, size, "vlan");

    for (unsigned i = 0; i < flow->n_vlan_tags && i < VNM_MAX_VLAN_TAGS
         && len < size; i++) {
        len += (size_t) snprintf(buf + len, size - len, "%s%u",
                                 i ? "/" : " ",
                                 flow->vlan[i].tci & 0x0fffu);
    }
}

/* Formats the VLAN configuration of 'port' as "access port, vlan 101". */
static void
format_port_config(const struct vnm_port *port, char *buf, size_t size)
{
    size_t len;

    len = (size_t) snprintf(buf, size, "vlan_mode %s",
                            port->vlan_mode[0] ? port->vlan_mode
                            : "(default)");
    if (port->tag >= 0 && len < size) {
        len += (size_t) snprintf(buf + len, size - len, ", tag %"PRId32,
                                 port->tag);
    }
    if (port->n_trunks && len < size) {
        len += (size_t) snprintf(buf + len, size - len, ", trunks");
        for (uint32_t i = 0; i < port->n_trunks && len < size; i++) {
            len += (size_t) snprintf(buf + len, size - len, "%s%u",
                                     i ? "," : " ", port->trunks[i]);
        }
    }
}

/* Returns the HOP_* reasons why what side 'src_side' of 'flow' sent, from
 * 'port' (may be null) with identity 'in', hops VLANs. */
static unsigned
hop_reasons(const struct vlan_hop *vh, const struct vnm_flow *flow,
            const struct vnm_port *port, const struct vnm_attribution *in)
{
    unsigned n_tags = flow->n_vlan_tags;
    unsigned reasons = 0;
    uint16_t outer;

    if (!n_tags) {
        return 0;
    }
    outer = flow->vlan[0].tci & 0x0fff;
    if (n_tags > vh->max_tags && is_vm_port(port, in)) {
        reasons |= HOP_TAGS;
    }
    if (port) {
        switch (port_mode(port)) {
        case MODE_ACCESS:
            if (outer || !vh->priority_tags || n_tags > 1) {
                reasons |= HOP_ACCESS;
            }
            break;
        case MODE_TRUNK:
            if ((outer || !vh->priority_tags) && !trunk_carries(port, outer)) {
                reasons |= HOP_TRUNK;
            }
            break;
        case MODE_ANY:
        case MODE_TUNNEL:
            break;
        }
    }
    return reasons;
}

/* Checks what side 'src_side' of 'flow' sent. */
static void
vlan_hop_check(struct vlan_hop *vh, const struct vnm_flow *flow,
               bool src_side)
{
    const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
    const struct vnm_attribution *in = &end->in;
    const struct vnm_port *port = NULL;
    char target[64], key[256], summary[512], config[160];
    char evidence[2][320];
    struct vnm_attribution attr;
    struct vnm_alert alert;
    uint64_t packets, bytes;
    unsigned reasons;

    if (!end->packets || !in->port[0]) {
        return;
    }
    if (vh->net) {
        port = vh->net->port(vh->host, flow->host, in->port);
    }
    reasons = hop_reasons(vh, flow, port, in);
    if (!reasons) {
        return;
    }
    du_delta(vh->deltas, flow, src_side, &packets, &bytes);
    if (!packets) {
        return;                 /* Nothing new since the last record. */
    }

    format_vlans(flow, target, sizeof target);
    if (port) {
        format_port_config(port, config, sizeof config);
    } else {
        snprintf(config, sizeof config, "port not in the network view");
    }
    snprintf(summary, sizeof summary, "%s sent %s frames (%s%s%s%s%s): "
             "VLAN hopping; port %s",
             in->port, target,
             reasons & HOP_ACCESS ? "tagged frame on an access port" : "",
             reasons & HOP_ACCESS && reasons & (HOP_TRUNK | HOP_TAGS)
             ? ", " : "",
             reasons & HOP_TRUNK ? "VLAN outside the trunk list" : "",
             reasons & HOP_TRUNK && reasons & HOP_TAGS ? ", " : "",
             reasons & HOP_TAGS ? "double tagging" : "",
             config);
    du_evidence(flow, src_side, evidence[0], sizeof evidence[0]);
    snprintf(evidence[1], sizeof evidence[1], "port %s: %s", in->port,
             config);

    alert = (struct vnm_alert) {
        .kind = "vlan-hop",
        .severity = vh->severity,
        .key = du_key(flow, in, target, key, sizeof key),
        .summary = summary,
        .vm = du_attribution(in, port, &attr),
        .target = target,
        .flow = flow,
        .packets = packets,
        .bytes = bytes,
        .n_evidence = 2,
        .evidence = { evidence[0], evidence[1] },
    };
    if (!vh->host->emit_alert(vh->host, &alert)) {
        vh->host->count(vh->host, "alerts", 1);
    }
    if (reasons & HOP_ACCESS) {
        vh->host->count(vh->host, "tagged_on_access", packets);
    }
    if (reasons & HOP_TRUNK) {
        vh->host->count(vh->host, "outside_trunk", packets);
    }
    if (reasons & HOP_TAGS) {
        vh->host->count(vh->host, "multi_tagged", packets);
    }
}

/* Checks both sides of 'flow'.  'flow' is borrowed. */
static void
vlan_hop_on_flow(void *state, const struct vnm_flow *flow)
{
    struct vlan_hop *vh = state;

    if (!flow->n_vlan_tags) {
        return;
    }
    vlan_hop_check(vh, flow, true);
    vlan_hop_check(vh, flow, false);
}

static void
vlan_hop_destroy(void *state)
{
    struct vlan_hop *vh = state;

    if (vh) {
        du_deltas_destroy(vh->deltas);
        free(vh);
    }
}

static int
vlan_hop_init(const struct vnm_host *host, const struct vnm_conf *conf,
              void **statep)
{
    struct du_deltas *deltas;
    int64_t max_tags;
    enum vnm_severity severity;
    bool priority_tags;
    struct vlan_hop *vh;
    int error;

    if ((error = host->conf_int(host, conf, "max_tags", 1, 1,
                                VNM_MAX_VLAN_TAGS - 1, &max_tags))
        || (error = host->conf_bool(host, conf, "priority_tags", true,
                                    &priority_tags))) {
        return error;
    }
    if ((error = du_init_common(host, conf, "high", 16384, false, &severity,
                                &deltas))) {
        return error;
    }

    vh = calloc(1, sizeof *vh);
    if (!vh) {
        du_deltas_destroy(deltas);
        return ENOMEM;
    }
    vh->deltas = deltas;
    vh->host = host;
    vh->net = VNM_HOST_HAS(host, net) ? host->net : NULL;
    vh->max_tags = max_tags;
    vh->priority_tags = priority_tags;
    vh->severity = severity;
    *statep = vh;
    return 0;
}

static const struct vnm_detector_ops vlan_hop_ops = {
    .on_flow = vlan_hop_on_flow,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "vlan-hop",
                  .version = "1.0", .init = vlan_hop_init,
                  .destroy = vlan_hop_destroy, .detector = &vlan_hop_ops);

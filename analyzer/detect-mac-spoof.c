/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "mac-spoof": frames that a VM sends from a source MAC its port
 * may not use.
 *
 * For each side of a flow (any EtherType) that entered the switch on a VM
 * port, the side's source MAC is checked against the port's MAC binding
 * in the network view (host->net, analyzer/tenancy.c): declared (OVSDB
 * attached-mac, the inventory file) or learned and locked.  A multicast
 * source MAC is never allowed.  A port without MAC binding yet is skipped
 * and counted ("unbound").
 *
 * The agent keeps the source MAC of each side's first frame: frames of an
 * IP flow that switch MAC midway are not seen (a forged MAC with a fresh
 * 5-tuple, or any non-IP frame, makes a flow of its own and is).
 *
 * One incident per (host, port, forged MAC): key "HOST/PORT>MAC", target
 * the forged MAC; each record with new packets of the spoofing side is
 * emitted with those packets only (per-flow deltas, detect-util.h).
 *
 * Configuration, section [detector "mac-spoof"] (doc/alerts.md): severity
 * ("high"), max_flows (16384).
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/detect-util.h"
#include "vnmon/plugin.h"

/* The detector's state. */
struct mac_spoof {
    const struct vnm_host *host;
    enum vnm_severity severity;
    struct du_deltas *deltas;
};

/* Raises the incident of side 'src_side' of 'flow', which entered on
 * 'port' with a source MAC not in the port's binding. */
static void
mac_spoof_raise(struct mac_spoof *s, const struct vnm_flow *flow,
                bool src_side, const struct vnm_port *port)
{
    const struct vnm_host *host = s->host;
    const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
    const struct vnm_port *owner;
    const struct vnm_attribution *vm;
    struct vnm_attribution filled;
    char mac[18], key[256], summary[512], owner_text[128];
    char evidence[2][320], binding[200];
    struct vnm_alert alert;
    uint64_t packets, bytes;

    du_delta(s->deltas, flow, src_side, &packets, &bytes);
    if (!packets) {
        return;                 /* Nothing new since the last record. */
    }
    vm = du_attribution(&end->in, port, &filled);
    du_mac(end->mac, mac);
    du_port_macs(port, binding, sizeof binding);

    owner = host->net->port_by_mac(host, flow->host, end->mac);
    if (!owner) {
        owner = host->net->port_by_mac(host, NULL, end->mac);
    }
    if (owner && owner != port) {
        snprintf(owner_text, sizeof owner_text, ", the MAC of %s%s%s%s",
                 owner->name, owner->tenant[0] ? " (" : "", owner->tenant,
                 owner->tenant[0] ? ")" : "");
    } else if (end->mac[0] & 1) {
        snprintf(owner_text, sizeof owner_text, ", a multicast MAC");
    } else {
        owner_text[0] = '\0';
    }
    snprintf(summary, sizeof summary, "%s%s%s%s sent from MAC %s, not its "
             "MAC%s (binding: %s)", vm->port, vm->tenant[0] ? " (" : "",
             vm->tenant, vm->tenant[0] ? ")" : "", mac, owner_text, binding);
    du_evidence(flow, src_side, evidence[0], sizeof evidence[0]);
    snprintf(evidence[1], sizeof evidence[1], "%s MAC binding (%s): %s",
             port->name, port->mac_source == VNM_BINDING_LEARNED
             ? "learned" : "declared", binding);

    alert = (struct vnm_alert) {
        .kind = "mac-spoof",
        .severity = s->severity,
        .key = du_key(flow, vm, mac, key, sizeof key),
        .summary = summary,
        .vm = vm,
        .target = mac,
        .flow = flow,
        .packets = packets,
        .bytes = bytes,
        .n_evidence = 2,
        .evidence = { evidence[0], evidence[1] },
    };
    if (!host->emit_alert(host, &alert)) {
        host->count(host, "emitted", 1);
    }
}

/* Checks both sides of 'flow'.  'flow' is borrowed. */
static void
mac_spoof_on_flow(void *state, const struct vnm_flow *flow)
{
    struct mac_spoof *s = state;
    const struct vnm_host *host = s->host;

    for (int k = 0; k < 2; k++) {
        bool src_side = !k;
        const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
        const struct vnm_port *port = du_vm_port(host, flow, src_side);

        if (!port) {
            continue;
        }
        if (port->mac_source == VNM_BINDING_NONE) {
            host->count(host, "unbound", 1);
            continue;
        }
        host->count(host, "checked", 1);
        if (!host->net->mac_allowed(host, port, end->mac)) {
            host->count(host, "spoofed_records", 1);
            mac_spoof_raise(s, flow, src_side, port);
        }
    }
}

static void
mac_spoof_destroy(void *state)
{
    struct mac_spoof *s = state;

    du_deltas_destroy(s->deltas);
    free(s);
}

static int
mac_spoof_init(const struct vnm_host *host, const struct vnm_conf *conf,
               void **statep)
{
    struct du_deltas *deltas;
    enum vnm_severity severity;
    struct mac_spoof *s;
    int error;

    if ((error = du_init_common(host, conf, "high", 16384, true, &severity,
                                &deltas))) {
        return error;
    }

    s = calloc(1, sizeof *s);
    if (!s) {
        du_deltas_destroy(deltas);
        return ENOMEM;
    }
    s->deltas = deltas;
    s->host = host;
    s->severity = severity;
    *statep = s;
    return 0;
}

static const struct vnm_detector_ops mac_spoof_ops = {
    .on_flow = mac_spoof_on_flow,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "mac-spoof",
                  .version = "1.0", .init = mac_spoof_init,
                  .destroy = mac_spoof_destroy, .detector = &mac_spoof_ops);

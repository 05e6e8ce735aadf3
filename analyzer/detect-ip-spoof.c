/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "ip-spoof": IP traffic that a VM sends from a source address
 * its port may not use.
 *
 * For each side of an IP flow that entered the switch on a VM port (the
 * initiator's and the responder's, each on its own port), the sender's
 * address (for a tunnelled flow, the carrier's outer source) is checked
 * against the port's binding in the network view (host->net, analyzer/
 * tenancy.c): declared addresses and prefixes, or those learned and
 * locked.  0.0.0.0 and :: are never spoofed (DHCP clients, duplicate
 * address detection), nor IPv6 link-local addresses unless
 * 'check_link_local' (bindings rarely list them; if checked, a link-local
 * address must be in the binding).  A port without binding
 * yet (learning) is skipped and counted ("unbound").
 *
 * One incident per (host, port, forged address): key "HOST/PORT>ADDR",
 * target the forged address.  Every record that brings new packets of a
 * spoofing side is emitted with those packets only (per-flow deltas,
 * detect-util.h), so that the incident's counters add up across the
 * flow's UPDATE and END records.
 *
 * Configuration, section [detector "ip-spoof"] (doc/alerts.md): severity
 * ("high"), check_link_local (false), max_flows (16384, flows whose
 * counters are remembered).
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/detect-util.h"
#include "vnmon/plugin.h"

#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_IPV6 0x86dd

/* The detector's state. */
struct ip_spoof {
    const struct vnm_host *host;
    enum vnm_severity severity;
    bool check_link_local;
    struct du_deltas *deltas;
};

/* The address side 'src_side' of 'flow' sent from: its own, or for a
 * tunnelled flow its carrier's.  Null if not IP. */
static const struct vnm_addr *
sender_addr(const struct vnm_flow *flow, bool src_side)
{
    const struct vnm_addr *ip;

    if (flow->tunnel_type) {
        ip = src_side ? &flow->outer.src_ip : &flow->outer.dst_ip;
    } else if (flow->eth_type == ETH_TYPE_IPV4
               || flow->eth_type == ETH_TYPE_IPV6) {
        ip = src_side ? &flow->src.ip : &flow->dst.ip;
    } else {
        return NULL;
    }
    return ip->family == 4 || ip->family == 6 ? ip : NULL;
}

/* Raises the incident of side 'src_side' of 'flow', which entered on
 * 'port' and sent from 'ip', not in the port's binding. */
static void
ip_spoof_raise(struct ip_spoof *s, const struct vnm_flow *flow,
               bool src_side, const struct vnm_port *port,
               const struct vnm_addr *ip)
{
    const struct vnm_host *host = s->host;
    const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
    const struct vnm_port *owner;
    const struct vnm_attribution *vm;
    struct vnm_attribution filled;
    char addr[46], key[256], summary[512], owner_text[128];
    char evidence[2][320], binding[200];
    struct vnm_alert alert;
    uint64_t packets, bytes;

    du_delta(s->deltas, flow, src_side, &packets, &bytes);
    if (!packets) {
        return;                 /* Nothing new since the last record. */
    }
    vm = du_attribution(&end->in, port, &filled);
    du_addr(ip, addr);
    du_port_ips(port, binding, sizeof binding);

    owner = host->net->port_by_ip(host, flow->host, ip);
    if (!owner) {
        owner = host->net->port_by_ip(host, NULL, ip);
    }
    if (owner && owner != port) {
        snprintf(owner_text, sizeof owner_text, ", the address of %s%s%s%s",
                 owner->name, owner->tenant[0] ? " (" : "", owner->tenant,
                 owner->tenant[0] ? ")" : "");
    } else {
        owner_text[0] = '\0';
    }
    snprintf(summary, sizeof summary, "%s%s%s%s sent IPv%d from %s, not "
             "its address%s (binding: %s)", vm->port,
             vm->tenant[0] ? " (" : "", vm->tenant, vm->tenant[0] ? ")" : "",
             ip->family, addr, owner_text, binding);
    du_evidence(flow, src_side, evidence[0], sizeof evidence[0]);
    snprintf(evidence[1], sizeof evidence[1], "%s IP binding (%s): %s",
             port->name, port->ip_source == VNM_BINDING_LEARNED
             ? "learned" : "declared", binding);

    alert = (struct vnm_alert) {
        .kind = "ip-spoof",
        .severity = s->severity,
        .key = du_key(flow, vm, addr, key, sizeof key),
        .summary = summary,
        .vm = vm,
        .target = addr,
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
ip_spoof_on_flow(void *state, const struct vnm_flow *flow)
{
    struct ip_spoof *s = state;
    const struct vnm_host *host = s->host;

    for (int k = 0; k < 2; k++) {
        bool src_side = !k;
        const struct vnm_addr *ip = sender_addr(flow, src_side);
        const struct vnm_port *port;

        if (!ip || du_addr_is_unspecified(ip)
            || (!s->check_link_local && du_addr_is_link_local(ip))) {
            continue;
        }
        port = du_vm_port(host, flow, src_side);
        if (!port) {
            continue;
        }
        if (port->ip_source == VNM_BINDING_NONE) {
            host->count(host, "unbound", 1);
            continue;
        }
        host->count(host, "checked", 1);
        if (du_addr_is_link_local(ip) ? !du_port_has_ip(port, ip)
            : !host->net->ip_allowed(host, port, ip)) {
            host->count(host, "spoofed_records", 1);
            ip_spoof_raise(s, flow, src_side, port, ip);
        }
    }
}

static void
ip_spoof_destroy(void *state)
{
    struct ip_spoof *s = state;

    du_deltas_destroy(s->deltas);
    free(s);
}

static int
ip_spoof_init(const struct vnm_host *host, const struct vnm_conf *conf,
              void **statep)
{
    struct du_deltas *deltas;
    enum vnm_severity severity;
    bool check_link_local;
    struct ip_spoof *s;
    int error;

    if ((error = host->conf_bool(host, conf, "check_link_local", false,
                                 &check_link_local))) {
        return error;
    }
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
    s->check_link_local = check_link_local;
    *statep = s;
    return 0;
}

static const struct vnm_detector_ops ip_spoof_ops = {
    .on_flow = ip_spoof_on_flow,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "ip-spoof",
                  .version = "1.0", .init = ip_spoof_init,
                  .destroy = ip_spoof_destroy, .detector = &ip_spoof_ops);

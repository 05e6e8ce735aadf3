/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "nd-spoof": IPv6 Neighbor Discovery by which a VM claims an
 * address or a link-layer address that is not its own (the IPv6 form of
 * ARP cache poisoning).
 *
 * The agent makes one one-way flow per ND sender and ingress port, with
 * the first NS/NA target and link-layer option in src_ctl (flow.h).  For
 * an NS or NA that entered on a VM port the detector looks for, against
 * the port's binding in the network view (host->net):
 *   - a neighbor advertisement whose target is not the port's address, or
 *     is another VM's and not the port's (port_by_ip: caught even when the
 *     sending port has no binding yet).  A solicitation's target is whatever the VM looks
 *     for, so it is not checked; nor is the target of a flow that carried
 *     both (its first target may be the NS's);
 *   - a link-layer address option (source in an NS, target in an NA) that
 *     is not the port's MAC.
 * IPv6 link-local targets are not checked unless 'check_link_local'
 * (bindings rarely list them; if checked, the binding must hold them).
 * A port without binding yet, claiming no other VM's address, is skipped
 * and counted ("unbound").
 *
 * One incident per (host, port, ND target): key "HOST/PORT>TARGET",
 * target the ND target address; each record with new packets is emitted
 * with those packets only (per-flow deltas, detect-util.h).
 *
 * Configuration, section [detector "nd-spoof"] (doc/alerts.md): severity
 * ("high"), check_link_local (false), max_flows (16384).
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/detect-util.h"
#include "vnmon/plugin.h"

#define IP_PROTO_ICMPV6 58

/* The detector's state. */
struct nd_spoof {
    const struct vnm_host *host;
    enum vnm_severity severity;
    bool check_link_local;
    struct du_deltas *deltas;
};

/* Raises the incident of side 'src_side' of 'flow' (entered on 'port'),
 * whose ND about 'target' is forged for 'reasons'. */
static void
nd_spoof_raise(struct nd_spoof *s, const struct vnm_flow *flow,
               bool src_side, const struct vnm_port *port,
               const struct vnm_addr *target, const struct du_reasons *r)
{
    const struct vnm_host *host = s->host;
    const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
    const struct vnm_flow_ctl *ctl = src_side ? &flow->src_ctl
                                              : &flow->dst_ctl;
    char ip[46], lladdr[32], key[256], summary[768], evidence[2][320];
    const struct vnm_attribution *vm;
    struct vnm_attribution filled;
    struct vnm_alert alert;
    uint64_t packets, bytes;
    int len;

    du_delta(s->deltas, flow, src_side, &packets, &bytes);
    if (!packets) {
        return;                 /* Nothing new since the last record. */
    }
    vm = du_attribution(&end->in, port, &filled);
    du_addr(target, ip);
    if (ctl->has_nd_lladdr) {
        char mac[18];

        snprintf(lladdr, sizeof lladdr, " (%s %s)",
                 ctl->nd & VNM_ND_NA ? "tll" : "sll",
                 du_mac(ctl->nd_lladdr, mac));
    } else {
        lladdr[0] = '\0';
    }

    len = snprintf(summary, sizeof summary, "%s%s%s%s sent ICMPv6 %s for "
                   "%s%s:", vm->port, vm->tenant[0] ? " (" : "", vm->tenant,
                   vm->tenant[0] ? ")" : "",
                   ctl->nd & VNM_ND_NA ? "neighbor advertisement"
                   : "neighbor solicitation", ip, lladdr);
    du_reasons_append(r, summary, sizeof summary, len);
    du_evidence(flow, src_side, evidence[0], sizeof evidence[0]);
    du_port_binding(port, evidence[1], sizeof evidence[1]);

    alert = (struct vnm_alert) {
        .kind = "nd-spoof",
        .severity = s->severity,
        .key = du_key(flow, vm, ip, key, sizeof key),
        .summary = summary,
        .vm = vm,
        .target = ip,
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

/* Checks the NS and NA that side 'src_side' of 'flow' sent, if any. */
static void
nd_spoof_check(struct nd_spoof *s, const struct vnm_flow *flow,
               bool src_side)
{
    const struct vnm_host *host = s->host;
    const struct vnm_flow_ctl *ctl = src_side ? &flow->src_ctl
                                              : &flow->dst_ctl;
    const struct vnm_port *port;
    struct vnm_addr target = { .family = 6 };
    struct du_reasons r = { .n = 0 };
    char text[200];

    if (flow->ip_proto != IP_PROTO_ICMPV6
        || !(ctl->nd & (VNM_ND_NS | VNM_ND_NA))) {
        return;
    }
    port = du_vm_port(host, flow, src_side);
    if (!port) {
        return;
    }
    memcpy(target.a, ctl->nd_target, sizeof target.a);

    if (ctl->nd & VNM_ND_NA && !(ctl->nd & VNM_ND_NS)
        && !du_addr_is_unspecified(&target)
        && (s->check_link_local || !du_addr_is_link_local(&target))) {
        const struct vnm_port *owner;
        bool own = false;

        if (port->ip_source != VNM_BINDING_NONE) {
            own = (du_addr_is_link_local(&target)
                   ? du_port_has_ip(port, &target)
                   : host->net->ip_allowed(host, port, &target));
            if (!own) {
                du_reason_add(&r, "the target is not the port's (%s)",
                           du_port_ips(port, text, sizeof text));
            }
        }
        owner = own ? NULL : host->net->port_by_ip(host, flow->host,
                                                   &target);
        if (owner && !du_same_vm(owner, port)) {
            du_reason_add(&r, "it is the address of %s%s%s%s", owner->name,
                       owner->tenant[0] ? " (" : "", owner->tenant,
                       owner->tenant[0] ? ")" : "");
        }
    }
    if (ctl->has_nd_lladdr && port->mac_source != VNM_BINDING_NONE) {
        if (!host->net->mac_allowed(host, port, ctl->nd_lladdr)) {
            char mac[18];

            du_reason_add(&r, "link-layer address %s is not the port's (%s)",
                       du_mac(ctl->nd_lladdr, mac),
                       du_port_macs(port, text, sizeof text));
        }
    }

    if (r.n) {
        host->count(host, "spoofed_records", 1);
        nd_spoof_raise(s, flow, src_side, port, &target, &r);
    } else if (port->ip_source == VNM_BINDING_NONE
               && port->mac_source == VNM_BINDING_NONE) {
        host->count(host, "unbound", 1);
    } else {
        host->count(host, "checked", 1);
    }
}

/* Checks both sides of 'flow'.  'flow' is borrowed. */
static void
nd_spoof_on_flow(void *state, const struct vnm_flow *flow)
{
    nd_spoof_check(state, flow, true);
    nd_spoof_check(state, flow, false);
}

static void
nd_spoof_destroy(void *state)
{
    struct nd_spoof *s = state;

    du_deltas_destroy(s->deltas);
    free(s);
}

static int
nd_spoof_init(const struct vnm_host *host, const struct vnm_conf *conf,
              void **statep)
{
    struct du_deltas *deltas;
    enum vnm_severity severity;
    bool check_link_local;
    struct nd_spoof *s;
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

static const struct vnm_detector_ops nd_spoof_ops = {
    .on_flow = nd_spoof_on_flow,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "nd-spoof",
                  .version = "1.0", .init = nd_spoof_init,
                  .destroy = nd_spoof_destroy, .detector = &nd_spoof_ops);

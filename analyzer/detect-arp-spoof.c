/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "arp-spoof": ARP frames by which a VM claims an address that is
 * not its own (ARP cache poisoning).
 *
 * The agent makes one one-way flow per ARP sender and ingress port, with
 * the sender and target protocol addresses as src.ip and dst.ip and the
 * details in src_ctl (flow.h).  For an ARP flow that entered on a VM port
 * the detector looks for, against the port's binding in the network view
 * (host->net):
 *   - a sender MAC (src_ctl.arp_sha) that is not the port's;
 *   - a sender MAC that is not the frame's Ethernet source
 *     (VNM_ARP_SHA_MISMATCH);
 *   - a sender IP that is not the port's (0.0.0.0, an RFC 5227 probe, is
 *     never checked);
 *   - a sender IP that belongs to another VM's port (port_by_ip) and not
 *     to the sender's binding (an address bound to both, such as a VRRP
 *     address, may be claimed by either): caught even when the sending
 *     port has no binding yet.
 * A port without any binding yet, sending no other VM's address, is
 * skipped and counted ("unbound").
 *
 * One incident per (host, port, claimed IP): key "HOST/PORT>IP", target
 * the claimed sender IP (the target IP for a probe); each record with new
 * packets is emitted with those packets only (per-flow deltas,
 * detect-util.h).
 *
 * Configuration, section [detector "arp-spoof"] (doc/alerts.md): severity
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

#define ETH_TYPE_ARP 0x0806

/* The detector's state. */
struct arp_spoof {
    const struct vnm_host *host;
    enum vnm_severity severity;
    struct du_deltas *deltas;
};

/* Raises the incident of side 'src_side' of 'flow' (entered on 'port'),
 * whose ARP claims 'claimed' for 'reasons'. */
static void
arp_spoof_raise(struct arp_spoof *s, const struct vnm_flow *flow,
                bool src_side, const struct vnm_port *port,
                const struct vnm_addr *claimed, const struct du_reasons *r)
{
    const struct vnm_host *host = s->host;
    const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
    const struct vnm_flow_ctl *ctl = src_side ? &flow->src_ctl
                                              : &flow->dst_ctl;
    char ip[46], sha[18], key[256], summary[768], evidence[2][320];
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
    du_addr(claimed, ip);
    du_mac(ctl->arp ? ctl->arp_sha : end->mac, sha);

    len = snprintf(summary, sizeof summary, "%s%s%s%s sent ARP %s%s "
                   "claiming %s is-at %s:", vm->port,
                   vm->tenant[0] ? " (" : "", vm->tenant,
                   vm->tenant[0] ? ")" : "",
                   ctl->arp & VNM_ARP_GRATUITOUS ? "gratuitous " : "",
                   ctl->arp & VNM_ARP_REPLY ? "reply"
                   : ctl->arp & VNM_ARP_REQUEST ? "request" : "frames",
                   ip, sha);
    du_reasons_append(r, summary, sizeof summary, len);
    du_evidence(flow, src_side, evidence[0], sizeof evidence[0]);
    du_port_binding(port, evidence[1], sizeof evidence[1]);

    alert = (struct vnm_alert) {
        .kind = "arp-spoof",
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

/* Checks the ARP that side 'src_side' of 'flow' sent, if any. */
static void
arp_spoof_check(struct arp_spoof *s, const struct vnm_flow *flow,
                bool src_side)
{
    const struct vnm_host *host = s->host;
    const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
    const struct vnm_flow_end *peer = src_side ? &flow->dst : &flow->src;
    const struct vnm_flow_ctl *ctl = src_side ? &flow->src_ctl
                                              : &flow->dst_ctl;
    const struct vnm_addr *spa = &end->ip;
    const struct vnm_port *port;
    struct du_reasons r = { .n = 0 };
    char text[200];

    if (flow->eth_type != ETH_TYPE_ARP && !ctl->arp) {
        return;
    }
    port = du_vm_port(host, flow, src_side);
    if (!port) {
        return;
    }

    if (ctl->arp & VNM_ARP_SHA_MISMATCH) {
        char a[18], b[18];

        du_reason_add(&r, "sender MAC %s is not the frame's source %s",
                   du_mac(ctl->arp_sha, a), du_mac(end->mac, b));
    }
    if (ctl->arp && port->mac_source != VNM_BINDING_NONE) {
        if (!host->net->mac_allowed(host, port, ctl->arp_sha)) {
            char a[18];

            du_reason_add(&r, "sender MAC %s is not the port's (%s)",
                       du_mac(ctl->arp_sha, a),
                       du_port_macs(port, text, sizeof text));
        }
    }
    if (!du_addr_is_unspecified(spa)) {
        const struct vnm_port *owner;
        bool own = false;

        if (port->ip_source != VNM_BINDING_NONE) {
            own = host->net->ip_allowed(host, port, spa);
            if (!own) {
                du_reason_add(&r, "sender IP is not the port's (%s)",
                           du_port_ips(port, text, sizeof text));
            }
        }
        owner = own ? NULL : host->net->port_by_ip(host, flow->host, spa);
        if (owner && !du_same_vm(owner, port)) {
            du_reason_add(&r, "it is the address of %s%s%s%s", owner->name,
                       owner->tenant[0] ? " (" : "", owner->tenant,
                       owner->tenant[0] ? ")" : "");
        }
    }

    if (r.n) {
        host->count(host, "spoofed_records", 1);
        arp_spoof_raise(s, flow, src_side, port,
                        du_addr_is_unspecified(spa) ? &peer->ip : spa, &r);
    } else if (port->ip_source == VNM_BINDING_NONE
               && port->mac_source == VNM_BINDING_NONE) {
        host->count(host, "unbound", 1);
    } else {
        host->count(host, "checked", 1);
    }
}

/* Checks both sides of 'flow'.  'flow' is borrowed. */
static void
arp_spoof_on_flow(void *state, const struct vnm_flow *flow)
{
    arp_spoof_check(state, flow, true);
    arp_spoof_check(state, flow, false);
}

static void
arp_spoof_destroy(void *state)
{
    struct arp_spoof *s = state;

    du_deltas_destroy(s->deltas);
    free(s);
}

static int
arp_spoof_init(const struct vnm_host *host, const struct vnm_conf *conf,
               void **statep)
{
    struct du_deltas *deltas;
    enum vnm_severity severity;
    struct arp_spoof *s;
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

static const struct vnm_detector_ops arp_spoof_ops = {
    .on_flow = arp_spoof_on_flow,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "arp-spoof",
                  .version = "1.0", .init = arp_spoof_init,
                  .destroy = arp_spoof_destroy, .detector = &arp_spoof_ops);

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "rogue-ra": IPv6 router advertisements and redirects sent by a
 * VM.
 *
 * The agent makes one one-way flow per Neighbor Discovery sender and
 * ingress port and lists the ND messages it sent in src_ctl.nd (flow.h).
 * A flow side that entered on a VM port and sent a router advertisement
 * (ICMPv6 134) or a redirect (137) is a rogue router, unless its port is
 * listed in 'allowed_ports' (a VM that is a legitimate router).  A port is
 * a VM's if the network view (host->net) says so or, for a port it does not
 * know, if the agent attributed it to a VM or tenant.  Bindings play no
 * part here.
 *
 * One incident per (host, port, destination): key "HOST/PORT>DST", target
 * the address the messages went to (ff02::1 for unsolicited
 * advertisements); each record with new packets is emitted with those
 * packets only (per-flow deltas, detect-util.h).
 *
 * Configuration, section [detector "rogue-ra"] (doc/alerts.md): severity
 * ("high"), allowed_ports ("": a list of "PORT" or "HOST/PORT", separated
 * by commas or spaces), max_flows (16384).
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
#define ROUTER_ND (VNM_ND_RA | VNM_ND_REDIRECT)

/* The detector's state. */
struct rogue_ra {
    const struct vnm_host *host;
    enum vnm_severity severity;
    const char *allowed_ports;  /* The host's string. */
    struct du_deltas *deltas;
};

/* Raises the incident of side 'src_side' of 'flow' (entered on 'port',
 * null if the view does not know it). */
static void
rogue_ra_raise(struct rogue_ra *s, const struct vnm_flow *flow,
               bool src_side, const struct vnm_port *port)
{
    const struct vnm_host *host = s->host;
    const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
    const struct vnm_flow_end *peer = src_side ? &flow->dst : &flow->src;
    const struct vnm_flow_ctl *ctl = src_side ? &flow->src_ctl
                                              : &flow->dst_ctl;
    char dst[46], key[256], summary[512], evidence[320], what[96];
    const struct vnm_attribution *vm;
    struct vnm_attribution filled;
    struct vnm_alert alert;
    uint64_t packets, bytes;

    du_delta(s->deltas, flow, src_side, &packets, &bytes);
    if (!packets) {
        return;                 /* Nothing new since the last record. */
    }
    vm = du_attribution(&end->in, port, &filled);
    du_addr(&peer->ip, dst);
    if (ctl->nd & VNM_ND_RA) {
        snprintf(what, sizeof what, "IPv6 router advertisements%s",
                 ctl->nd & VNM_ND_REDIRECT ? " and redirects" : "");
    } else {
        struct vnm_addr target = { .family = 6 };
        char text[46];

        memcpy(target.a, ctl->nd_target, sizeof target.a);
        snprintf(what, sizeof what, "ICMPv6 redirects (target %s)",
                 du_addr(&target, text));
    }
    snprintf(summary, sizeof summary, "%s%s%s%s sent %s to %s: a router on "
             "a VM port", vm->port, vm->tenant[0] ? " (" : "", vm->tenant,
             vm->tenant[0] ? ")" : "", what, dst);
    du_evidence(flow, src_side, evidence, sizeof evidence);

    alert = (struct vnm_alert) {
        .kind = "rogue-ra",
        .severity = s->severity,
        .key = du_key(flow, vm, dst, key, sizeof key),
        .summary = summary,
        .vm = vm,
        .target = dst,
        .flow = flow,
        .packets = packets,
        .bytes = bytes,
        .n_evidence = 1,
        .evidence = { evidence },
    };
    if (!host->emit_alert(host, &alert)) {
        host->count(host, "emitted", 1);
    }
}

/* Checks both sides of 'flow'.  'flow' is borrowed. */
static void
rogue_ra_on_flow(void *state, const struct vnm_flow *flow)
{
    struct rogue_ra *s = state;
    const struct vnm_host *host = s->host;

    if (flow->ip_proto != IP_PROTO_ICMPV6) {
        return;
    }
    for (int k = 0; k < 2; k++) {
        bool src_side = !k;
        const struct vnm_flow_ctl *ctl = src_side ? &flow->src_ctl
                                                  : &flow->dst_ctl;
        const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
        const struct vnm_port *port;

        if (!(ctl->nd & ROUTER_ND)
            || !du_from_vm(host, flow, src_side, &port)) {
            continue;
        }
        if (du_list_has_port(s->allowed_ports, flow->host, end->in.port)) {
            host->count(host, "allowed", 1);
            continue;
        }
        host->count(host, "rogue_records", 1);
        rogue_ra_raise(s, flow, src_side, port);
    }
}

static void
rogue_ra_destroy(void *state)
{
    struct rogue_ra *s = state;

    du_deltas_destroy(s->deltas);
    free(s);
}

static int
rogue_ra_init(const struct vnm_host *host, const struct vnm_conf *conf,
              void **statep)
{
    struct du_deltas *deltas;
    const char *allowed_ports;
    enum vnm_severity severity;
    struct rogue_ra *s;
    int error;

    if ((error = host->conf_string(host, conf, "allowed_ports", "",
                                   &allowed_ports))) {
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
    s->allowed_ports = allowed_ports;
    *statep = s;
    return 0;
}

static const struct vnm_detector_ops rogue_ra_ops = {
    .on_flow = rogue_ra_on_flow,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "rogue-ra",
                  .version = "1.0", .init = rogue_ra_init,
                  .destroy = rogue_ra_destroy, .detector = &rogue_ra_ops);

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "rogue-dhcp": DHCP or DHCPv6 server messages sent by a VM.
 *
 * The agent makes one one-way flow per DHCP sender and ingress port and
 * lists the message types it sent in src_ctl.dhcp_types (flow.h).  A flow
 * side that entered on a VM port and sent a server message (DHCP OFFER 2,
 * ACK 5, NAK 6; DHCPv6 ADVERTISE 2, REPLY 7, RECONFIGURE 10) is a rogue
 * DHCP server, unless its port is listed in 'allowed_ports' (a VM that is
 * a legitimate DHCP server or relay).  A port is a VM's if the network view
 * (host->net) says so or, for a port it does not know, if the agent
 * attributed it to a VM or tenant.  Bindings play no part here.
 *
 * One incident per (host, port, destination): key "HOST/PORT>DST", target
 * the client address the messages went to (255.255.255.255 or ff02::1:2
 * for broadcast and multicast ones); each record with new packets is
 * emitted with those packets only (per-flow deltas, detect-util.h).
 *
 * Configuration, section [detector "rogue-dhcp"] (doc/alerts.md): severity
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

#define IP_PROTO_UDP 17

/* Server message types, as bits of 'dhcp_types'. */
#define DHCP_SERVER_TYPES ((1u << 2) | (1u << 5) | (1u << 6))
#define DHCPV6_SERVER_TYPES ((1u << 2) | (1u << 7) | (1u << 10))

/* The detector's state. */
struct rogue_dhcp {
    const struct vnm_host *host;
    enum vnm_severity severity;
    const char *allowed_ports;  /* The host's string. */
    struct du_deltas *deltas;
};

/* Formats the server message types of 'ctl' as "OFFER,ACK" into 'buf'. */
static void
server_types(const struct vnm_flow_ctl *ctl, char *buf, size_t size)
{
    static const char *const v4[] = {
        [2] = "OFFER", [5] = "ACK", [6] = "NAK",
    };
    static const char *const v6[] = {
        [2] = "ADVERTISE", [7] = "REPLY", [10] = "RECONFIGURE",
    };
    size_t n = ctl->dhcpv6 ? sizeof v6 / sizeof v6[0]
                           : sizeof v4 / sizeof v4[0];
    const char *const *names = ctl->dhcpv6 ? v6 : v4;
    int len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (names[i] && ctl->dhcp_types & (1u << i)
            && len >= 0 && (size_t) len < size) {
            len += snprintf(buf + len, size - len, "%s%s", len ? "," : "",
                            names[i]);
        }
    }
}

/* Raises the incident of side 'src_side' of 'flow' (entered on 'port',
 * null if the view does not know it). */
static void
rogue_dhcp_raise(struct rogue_dhcp *s, const struct vnm_flow *flow,
                 bool src_side, const struct vnm_port *port)
{
    const struct vnm_host *host = s->host;
    const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
    const struct vnm_flow_end *peer = src_side ? &flow->dst : &flow->src;
    const struct vnm_flow_ctl *ctl = src_side ? &flow->src_ctl
                                              : &flow->dst_ctl;
    char dst[46], key[256], summary[512], evidence[320], types[64];
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
    server_types(ctl, types, sizeof types);
    snprintf(summary, sizeof summary, "%s%s%s%s sent %s %s to %s: a DHCP%s "
             "server on a VM port", vm->port, vm->tenant[0] ? " (" : "",
             vm->tenant, vm->tenant[0] ? ")" : "",
             ctl->dhcpv6 ? "DHCPv6" : "DHCP", types, dst,
             ctl->dhcpv6 ? "v6" : "");
    du_evidence(flow, src_side, evidence, sizeof evidence);

    alert = (struct vnm_alert) {
        .kind = "rogue-dhcp",
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
rogue_dhcp_on_flow(void *state, const struct vnm_flow *flow)
{
    struct rogue_dhcp *s = state;
    const struct vnm_host *host = s->host;

    if (flow->ip_proto != IP_PROTO_UDP) {
        return;
    }
    for (int k = 0; k < 2; k++) {
        bool src_side = !k;
        const struct vnm_flow_ctl *ctl = src_side ? &flow->src_ctl
                                                  : &flow->dst_ctl;
        const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
        const struct vnm_port *port;

        if (!(ctl->dhcp_types & (ctl->dhcpv6 ? DHCPV6_SERVER_TYPES
                                              : DHCP_SERVER_TYPES))
            || !du_from_vm(host, flow, src_side, &port)) {
            continue;
        }
        if (du_list_has_port(s->allowed_ports, flow->host, end->in.port)) {
            host->count(host, "allowed", 1);
            continue;
        }
        host->count(host, "rogue_records", 1);
        rogue_dhcp_raise(s, flow, src_side, port);
    }
}

static void
rogue_dhcp_destroy(void *state)
{
    struct rogue_dhcp *s = state;

    du_deltas_destroy(s->deltas);
    free(s);
}

static int
rogue_dhcp_init(const struct vnm_host *host, const struct vnm_conf *conf,
                void **statep)
{
    struct du_deltas *deltas;
    const char *allowed_ports;
    enum vnm_severity severity;
    struct rogue_dhcp *s;
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

static const struct vnm_detector_ops rogue_dhcp_ops = {
    .on_flow = rogue_dhcp_on_flow,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "rogue-dhcp",
                  .version = "1.0", .init = rogue_dhcp_init,
                  .destroy = rogue_dhcp_destroy, .detector = &rogue_dhcp_ops);

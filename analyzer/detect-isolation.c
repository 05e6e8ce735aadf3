/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "isolation": flows that cross the isolation policy.
 *
 * Tenants are isolated from each other unless an [allow "NAME"] section of
 * the analyzer lets a pair of tenants use some services, and VMs may reach
 * the protected networks ([protected "NAME"]: the host, management,
 * underlay...) only on their listed host services (DHCP, DNS, metadata).
 * The network view (host->net, analyzer/tenancy.c) holds that policy; this
 * detector applies it to every flow a VM starts:
 *   - the initiator ('src') must have entered on a VM port with a tenant;
 *   - the destination is the VM port the answer entered on, if the
 *     responder answered from a VM port, else the VM port bound to the
 *     destination address (on the flow's host, then on any host);
 *   - a destination VM of another tenant that tenants_allowed() does not
 *     allow for this protocol and port is a breach, with target
 *     "PORT (TENANT)" ("HOST/PORT (TENANT)" on another host);
 *   - else a destination in a protected network that host_service() does
 *     not allow is a breach, with target "NET ADDRESS" ("host 10.0.0.1").
 * Flows of ARP, Neighbor Discovery and DHCP, and flows to broadcast or
 * multicast addresses, are never breaches.
 *
 * A breach is "attempted" (severity 'attempted_severity') while only the
 * initiator sent, and "failed" ('failed_severity') once the other side
 * answered: the isolation did not hold.  Both are one incident, keyed
 * "HOST/PORT>TARGET" without the outcome, whose severity rises with the
 * first answer.  Each record of a flow adds the packets and bytes both
 * sides sent since its previous record (du_delta()); a record that adds
 * nothing raises nothing.
 *
 * Configuration, section [detector "isolation"] (doc/alerts.md): tenants
 * (true), protected (true), attempted_severity ("medium"),
 * failed_severity ("high"), max_flows (16384).
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

#define ETH_TYPE_ARP 0x0806
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_SCTP_ 132

/* The detector's state. */
struct isolation {
    const struct vnm_host *host;
    const struct vnm_net_ops *net;
    bool tenants;               /* Check cross-tenant flows. */
    bool protected;             /* Check flows to protected networks. */
    enum vnm_severity attempted_severity;
    enum vnm_severity failed_severity;
    struct du_deltas *deltas;
};

/* True if 'ip' is a broadcast or multicast address. */
static bool
addr_is_group(const struct vnm_addr *ip)
{
    return (ip->family == 4 ? ip->a[0] >= 224
            : ip->family == 6 && ip->a[0] == 0xff);
}

static bool
is_dhcp_port(uint16_t port)
{
    return port == 67 || port == 68 || port == 546 || port == 547;
}

/* True if 'flow' is ARP, Neighbor Discovery or DHCP: the address protocols
 * the spoofing detectors watch, never a breach of isolation. */
static bool
is_address_protocol(const struct vnm_flow *flow)
{
    if (flow->eth_type == ETH_TYPE_ARP || flow->src_ctl.arp) {
        return true;
    } else if (flow->ip_proto == IPPROTO_ICMPV6_) {
        return (flow->src_ctl.nd
                || (flow->src_ctl.has_icmp && flow->src_ctl.icmp_type >= 133
                    && flow->src_ctl.icmp_type <= 137));
    } else if (flow->ip_proto == IPPROTO_UDP_) {
        return (flow->src_ctl.dhcp_types || is_dhcp_port(flow->dst.port)
                || is_dhcp_port(flow->src.port));
    }
    return false;
}

/* The destination port of 'flow' for the policy: the L4 port for TCP, UDP
 * and SCTP, else 0. */
static uint16_t
service_port(const struct vnm_flow *flow)
{
    switch (flow->ip_proto) {
    case IPPROTO_TCP_:
    case IPPROTO_UDP_:
    case IPPROTO_SCTP_:
        return flow->dst.port;
    }
    return 0;
}

static const char *
proto_name(uint8_t proto, char *buf, size_t size)
{
    switch (proto) {
    case IPPROTO_ICMP_: return "ICMP";
    case IPPROTO_TCP_: return "TCP";
    case IPPROTO_UDP_: return "UDP";
    case IPPROTO_ICMPV6_: return "ICMPv6";
    case IPPROTO_SCTP_: return "SCTP";
    }
    snprintf(buf, size, "IP protocol %u", proto);
    return buf;
}

/* The VM port 'flow' is aimed at, or null. */
static const struct vnm_port *
destination_vm(const struct isolation *iso, const struct vnm_flow *flow)
{
    const struct vnm_port *port;

    if (flow->dst.packets && flow->dst.in.port[0]) {
        port = iso->net->port(iso->host, flow->host, flow->dst.in.port);
        if (port && port->kind == VNM_PORT_VM) {
            return port;
        }
    }
    port = iso->net->port_by_ip(iso->host, flow->host, &flow->dst.ip);
    if (!port) {
        port = iso->net->port_by_ip(iso->host, NULL, &flow->dst.ip);
    }
    return port && port->kind == VNM_PORT_VM ? port : NULL;
}

/* Checks the flow 'flow'.  'flow' is borrowed. */
static void
isolation_on_flow(void *state, const struct vnm_flow *flow)
{
    struct isolation *iso = state;
    const struct vnm_attribution *in = &flow->src.in;
    const struct vnm_port *src, *dst;
    const char *tenant, *net_name = NULL;
    uint64_t packets, bytes, dst_packets, dst_bytes;
    char target[192], key[320], summary[512];
    char dst_addr[46], proto_buf[24], port_buf[16];
    char evidence[3][320];
    struct vnm_attribution attr;
    struct vnm_alert alert;
    uint16_t sport;
    bool answered;

    if (!iso->net || !in->port[0] || !flow->src.packets
        || !flow->dst.ip.family || addr_is_group(&flow->dst.ip)
        || is_address_protocol(flow)) {
        return;
    }
    src = iso->net->port(iso->host, flow->host, in->port);
    if (src ? src->kind != VNM_PORT_VM : !in->vm[0] && !in->iface_id[0]) {
        return;                 /* Not started by a VM. */
    }
    tenant = src ? src->tenant : in->tenant;
    if (!tenant[0]) {
        iso->host->count(iso->host, "no_tenant", 1);
        return;                 /* Unregistered: new-port's business. */
    }

    sport = service_port(flow);
    du_addr(&flow->dst.ip, dst_addr);
    dst = destination_vm(iso, flow);
    if (dst) {
        if (!iso->tenants || !dst->tenant[0]
            || iso->net->tenants_allowed(iso->host, tenant, dst->tenant,
                                         flow->ip_proto, sport)) {
            return;
        }
        if (dst->host_id[0] && strcmp(dst->host_id, flow->host)) {
            snprintf(target, sizeof target, "%s/%s (%s)", dst->host_id,
                     dst->name, dst->tenant);
        } else {
            snprintf(target, sizeof target, "%s (%s)", dst->name,
                     dst->tenant);
        }
    } else {
        net_name = iso->net->protected_net(iso->host, &flow->dst.ip);
        if (!iso->protected || !net_name
            || iso->net->host_service(iso->host, &flow->dst.ip,
                                      flow->ip_proto, sport)) {
            return;
        }
        snprintf(target, sizeof target, "%s %s", net_name, dst_addr);
    }

    du_delta(iso->deltas, flow, true, &packets, &bytes);
    du_delta(iso->deltas, flow, false, &dst_packets, &dst_bytes);
    packets += dst_packets;
    bytes += dst_bytes;
    if (!packets) {
        return;                 /* Nothing new since the last record. */
    }

    answered = flow->dst.packets > 0;
    if (sport) {
        snprintf(port_buf, sizeof port_buf, "/%"PRIu16, sport);
    } else {
        port_buf[0] = '\0';
    }
    snprintf(summary, sizeof summary,
             "isolation %s: %s (%s) %s %s %s%s%s, %s%s%s",
             answered ? "failed" : "attempted", in->port, tenant,
             answered ? "reached" : "tried to reach",
             dst ? "VM" : "protected network", target,
             dst ? " at " : "", dst ? dst_addr : "",
             proto_name(flow->ip_proto, proto_buf, sizeof proto_buf),
             port_buf, answered ? ", which answered" : ", no answer yet");
    du_evidence(flow, true, evidence[0], sizeof evidence[0]);
    alert = (struct vnm_alert) {
        .kind = "isolation",
        .severity = (answered ? iso->failed_severity
                     : iso->attempted_severity),
        .key = du_key(flow, in, target, key, sizeof key),
        .summary = summary,
        .vm = du_attribution(in, src, &attr),
        .target = target,
        .flow = flow,
        .packets = packets,
        .bytes = bytes,
        .n_evidence = 1,
        .evidence = { evidence[0] },
    };
    if (answered) {
        du_evidence(flow, false, evidence[1], sizeof evidence[1]);
        alert.evidence[alert.n_evidence++] = evidence[1];
    }
    snprintf(evidence[2], sizeof evidence[2], "policy: %s", dst
             ? "tenants isolated, no [allow] section for this pair and "
               "service"
             : "protected network, not a host service");
    alert.evidence[alert.n_evidence++] = evidence[2];

    if (!iso->host->emit_alert(iso->host, &alert)) {
        iso->host->count(iso->host, answered ? "failed" : "attempted", 1);
    }
}

static void
isolation_destroy(void *state)
{
    struct isolation *iso = state;

    if (iso) {
        du_deltas_destroy(iso->deltas);
        free(iso);
    }
}

static int
isolation_init(const struct vnm_host *host, const struct vnm_conf *conf,
               void **statep)
{
    enum vnm_severity attempted, failed;
    bool tenants, protected;
    struct isolation *iso;
    int64_t max_flows;
    int error;

    if ((error = host->conf_bool(host, conf, "tenants", true, &tenants))
        || (error = host->conf_bool(host, conf, "protected", true,
                                    &protected))
        || (error = du_conf_severity(host, conf, "attempted_severity",
                                     "medium", &attempted))
        || (error = du_conf_severity(host, conf, "failed_severity", "high",
                                     &failed))
        || (error = host->conf_int(host, conf, "max_flows", 16384, 16,
                                   10000000, &max_flows))) {
        return error;
    }

    iso = calloc(1, sizeof *iso);
    if (!iso) {
        return ENOMEM;
    }
    iso->deltas = du_deltas_create((size_t) max_flows);
    if (!iso->deltas) {
        free(iso);
        return ENOMEM;
    }
    iso->host = host;
    iso->net = VNM_HOST_HAS(host, net) ? host->net : NULL;
    if (!iso->net) {
        host->log(host, VNM_LOG_WARN, "the host lends no network view: "
                  "nothing to check");
    }
    iso->tenants = tenants;
    iso->protected = protected;
    iso->attempted_severity = attempted;
    iso->failed_severity = failed;
    *statep = iso;
    return 0;
}

static const struct vnm_detector_ops isolation_ops = {
    .on_flow = isolation_on_flow,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "isolation",
                  .version = "1.0", .init = isolation_init,
                  .destroy = isolation_destroy, .detector = &isolation_ops);

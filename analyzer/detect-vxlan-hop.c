/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "vxlan-hop": tunnel traffic where none should be.
 *
 * The agent decodes VXLAN, Geneve, GRE and IP in IP: a tunnelled flow has
 * 'tunnel_type' set, its VNI (or GRE key) in 'vni', the inner frame in the
 * main fields and the carrier's addresses in 'outer'.  Two attacks on an
 * overlay start from a VM (DESIGN.md section 3): sending a tunnel packet
 * with another tenant's VNI to a VTEP, which decapsulates it into that
 * tenant's network; and, since OVS's userspace datapath terminates VXLAN on
 * the address of every internal port once a VXLAN port exists, sending one
 * to such an address with a forged VTEP source, which injects frames
 * through that tunnel port.  So:
 *
 *   - Tunnel traffic sent from a VM port raises an alert of severity
 *     'severity' if its outer destination is a VTEP (the remote_ip or
 *     local_ip of a tunnel port of the network view, or an address in
 *     'vteps'), an address of an internal port, or in a protected network;
 *     if its outer source forges a VTEP's address; or if its VNI is that of
 *     a tunnel port of another tenant (a tunnel port's tenant is its
 *     external_ids:vnmon-tenant, or the inventory file's).  Any other
 *     tunnel traffic from a VM raises one of 'other_severity', unless
 *     'any_vm_tunnel' is false.
 *   - Tunnel traffic entering on an uplink or tunnel port (the underlay)
 *     raises an alert of severity 'severity' if no tunnel port of the
 *     flow's host is configured for its (type, VNI, remote VTEP = outer
 *     source) ('check_underlay').
 *   - UDP to 4789 or 6081, or GRE, from a VM port that the agent could not
 *     decode as a tunnel is counted (counter "undecoded_records"), and
 *     raises an alert only if it is aimed at a VTEP address.
 *
 * One incident per (host, port, target): key "HOST/PORT>TARGET" with
 * target "vni N @ ADDRESS" (the outer destination for a VM's traffic, the
 * remote VTEP claimed for the underlay's), "ipip @ ADDRESS" for IP in IP,
 * "udp/4789 @ ADDRESS" or "gre @ ADDRESS" for undecoded traffic.  Each
 * record of a flow adds the packets and bytes its side sent since the
 * previous one (du_delta()); a record that adds nothing raises nothing.
 *
 * The tunnel ports are copied from the network view once per tick (and at
 * the first flow), not looked up per flow.
 *
 * Configuration, section [detector "vxlan-hop"] (doc/alerts.md): severity
 * ("critical"), other_severity ("high"), any_vm_tunnel (true),
 * check_underlay (true), vteps (""), max_flows (16384).
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/detect-util.h"
#include "vnmon/plugin.h"

#define IPPROTO_UDP_ 17
#define IPPROTO_GRE_ 47
#define UDP_PORT_VXLAN 4789
#define UDP_PORT_GENEVE 6081
#define MAX_VTEPS 64            /* Prefixes in 'vteps'. */

/* A tunnel port, as copied from the network view. */
struct tunnel {
    char host_id[VNM_ID_SIZE];  /* "" for a port of any host (file). */
    char name[VNM_PORT_NAME_SIZE];
    char tenant[VNM_ID_SIZE];   /* "" if none. */
    uint32_t type;              /* As 'tunnel_type' of a flow, 0 unknown. */
    bool has_vni;               /* False: key "flow", any VNI. */
    uint32_t vni;
    struct vnm_addr remote_ip;  /* Family 0: "flow". */
    struct vnm_addr local_ip;
};

/* An address of an internal port. */
struct internal_addr {
    char host_id[VNM_ID_SIZE];
    struct vnm_prefix prefix;
};

/* The detector's state. */
struct vxlan_hop {
    const struct vnm_host *host;
    const struct vnm_net_ops *net;
    enum vnm_severity severity;
    enum vnm_severity other_severity;
    bool any_vm_tunnel;
    bool check_underlay;
    size_t n_vteps;             /* Configured VTEP prefixes. */
    struct vnm_prefix vteps[MAX_VTEPS];
    struct du_deltas *deltas;

    /* Copied from the network view at each tick. */
    bool loaded;                /* Copied at least once. */
    struct tunnel *tunnels;
    size_t n_tunnels, allocated_tunnels;
    struct internal_addr *internals;
    size_t n_internals, allocated_internals;
};

/* Why a VM's tunnel traffic is remarkable. */
enum {
    WHY_VTEP = 1 << 0,          /* Aimed at a VTEP. */
    WHY_INTERNAL = 1 << 1,      /* Aimed at an internal port's address. */
    WHY_PROTECTED = 1 << 2,     /* Aimed at a protected network. */
    WHY_FORGED = 1 << 3,        /* Outer source is a VTEP's address. */
    WHY_FOREIGN_VNI = 1 << 4,   /* VNI of another tenant's tunnel port. */
};

/* Addresses. */

static bool
prefix_contains(const struct vnm_prefix *p, const struct vnm_addr *a)
{
    unsigned bits = p->len, n = bits / 8;

    if (p->addr.family != a->family || !a->family) {
        return false;
    }
    if (memcmp(p->addr.a, a->a, n)) {
        return false;
    }
    if (bits % 8) {
        uint8_t mask = (uint8_t) (0xff << (8 - bits % 8));

        return (p->addr.a[n] & mask) == (a->a[n] & mask);
    }
    return true;
}

static bool
addr_equal(const struct vnm_addr *a, const struct vnm_addr *b)
{
    return (a->family && a->family == b->family
            && !memcmp(a->a, b->a, a->family == 4 ? 4 : 16));
}

/* Parses "10.0.0.1", "192.168.100.0/24" or "fd00::/64" into 'p'. */
static bool
prefix_parse(const char *s, struct vnm_prefix *p)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t) (slash - s) : strlen(s);
    unsigned max;

    if (len >= sizeof buf) {
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(p, 0, sizeof *p);
    if (inet_pton(AF_INET, buf, p->addr.a) == 1) {
        p->addr.family = 4;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, p->addr.a) == 1) {
        p->addr.family = 6;
        max = 128;
    } else {
        return false;
    }
    p->len = (uint8_t) max;
    if (slash) {
        char *end;
        unsigned long n = strtoul(slash + 1, &end, 10);

        if (!slash[1] || *end || n > max) {
            return false;
        }
        p->len = (uint8_t) n;
    }
    return true;
}

/* Parses the list 'list' ("A, B/N ...") into 'vh->vteps'.  Returns false,
 * logging why, on a bad item. */
static bool
parse_vteps(struct vxlan_hop *vh, const char *list)
{
    const char *p = list;

    while (*p) {
        char item[64];
        size_t len;

        p += strspn(p, " \t,");
        len = strcspn(p, " \t,");
        if (!len) {
            break;
        }
        if (len >= sizeof item) {
            len = sizeof item - 1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        p += strcspn(p, " \t,");
        if (vh->n_vteps >= MAX_VTEPS) {
            vh->host->log(vh->host, VNM_LOG_ERR, "vteps: more than %d "
                          "prefixes", MAX_VTEPS);
            return false;
        }
        if (!prefix_parse(item, &vh->vteps[vh->n_vteps])) {
            vh->host->log(vh->host, VNM_LOG_ERR, "vteps: \"%s\" is not an "
                          "address or prefix", item);
            return false;
        }
        vh->n_vteps++;
    }
    return true;
}

/* The network view's tunnel ports. */

static uint32_t
tunnel_type_from_name(const char *name)
{
    return (!strcmp(name, "vxlan") ? 1
            : !strcmp(name, "geneve") ? 2
            : !strcmp(name, "gre") || !strcmp(name, "ip6gre") ? 3
            : 0);
}

static void
copy_string(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* Copies the tunnel ports and internal ports' addresses of the network
 * view into 'vh'. */
static void
vxlan_hop_load(struct vxlan_hop *vh)
{
    const struct vnm_port *const *ports;
    size_t n;

    vh->n_tunnels = vh->n_internals = 0;
    vh->loaded = true;
    if (!vh->net) {
        return;
    }
    n = vh->net->ports(vh->host, NULL, &ports);
    for (size_t i = 0; i < n; i++) {
        const struct vnm_port *p = ports[i];

        if (p->kind == VNM_PORT_TUNNEL) {
            struct tunnel *t;

            if (vh->n_tunnels == vh->allocated_tunnels) {
                size_t a = vh->allocated_tunnels ? 2 * vh->allocated_tunnels
                           : 8;
                struct tunnel *x = realloc(vh->tunnels, a * sizeof *x);

                if (!x) {
                    vh->host->count(vh->host, "no_memory", 1);
                    continue;
                }
                vh->tunnels = x;
                vh->allocated_tunnels = a;
            }
            t = &vh->tunnels[vh->n_tunnels++];
            memset(t, 0, sizeof *t);
            copy_string(t->host_id, sizeof t->host_id, p->host_id);
            copy_string(t->name, sizeof t->name, p->name);
            copy_string(t->tenant, sizeof t->tenant, p->tenant);
            t->type = tunnel_type_from_name(p->tunnel_type);
            t->has_vni = p->has_vni;
            t->vni = p->vni;
            t->remote_ip = p->remote_ip;
            t->local_ip = p->local_ip;
        } else if (p->kind == VNM_PORT_INTERNAL) {
            for (uint32_t j = 0; j < p->n_ips; j++) {
                struct internal_addr *ia;

                if (vh->n_internals == vh->allocated_internals) {
                    size_t a = (vh->allocated_internals
                                ? 2 * vh->allocated_internals : 8);
                    struct internal_addr *x = realloc(vh->internals,
                                                      a * sizeof *x);

                    if (!x) {
                        vh->host->count(vh->host, "no_memory", 1);
                        break;
                    }
                    vh->internals = x;
                    vh->allocated_internals = a;
                }
                ia = &vh->internals[vh->n_internals++];
                copy_string(ia->host_id, sizeof ia->host_id, p->host_id);
                ia->prefix = p->ips[j];
            }
        }
    }
}

/* True if 'ip' is a VTEP's address: a tunnel port's remote or local
 * address, or in 'vteps'. */
static bool
is_vtep(const struct vxlan_hop *vh, const struct vnm_addr *ip)
{
    for (size_t i = 0; i < vh->n_tunnels; i++) {
        if (addr_equal(&vh->tunnels[i].remote_ip, ip)
            || addr_equal(&vh->tunnels[i].local_ip, ip)) {
            return true;
        }
    }
    for (size_t i = 0; i < vh->n_vteps; i++) {
        if (prefix_contains(&vh->vteps[i], ip)) {
            return true;
        }
    }
    return false;
}

/* True if 'ip' is the address of an internal port of 'host_id'. */
static bool
is_internal(const struct vxlan_hop *vh, const char *host_id,
            const struct vnm_addr *ip)
{
    for (size_t i = 0; i < vh->n_internals; i++) {
        const struct internal_addr *ia = &vh->internals[i];

        if ((!ia->host_id[0] || !strcmp(ia->host_id, host_id))
            && prefix_contains(&ia->prefix, ip)) {
            return true;
        }
    }
    return false;
}

/* A tunnel port configured with VNI 'vni' and type 'type' whose tenant is
 * set and differs from 'tenant', or null. */
static const struct tunnel *
foreign_vni(const struct vxlan_hop *vh, uint32_t type, uint32_t vni,
            const char *tenant)
{
    for (size_t i = 0; i < vh->n_tunnels; i++) {
        const struct tunnel *t = &vh->tunnels[i];

        if (t->has_vni && t->vni == vni && (!t->type || t->type == type)
            && t->tenant[0] && strcmp(t->tenant, tenant)) {
            return t;
        }
    }
    return NULL;
}

/* True if a tunnel port of 'host_id' takes tunnel 'type' with 'vni' from
 * remote VTEP 'remote'. */
static bool
underlay_configured(const struct vxlan_hop *vh, const char *host_id,
                    uint32_t type, uint32_t vni, const struct vnm_addr *remote)
{
    for (size_t i = 0; i < vh->n_tunnels; i++) {
        const struct tunnel *t = &vh->tunnels[i];

        if ((!t->host_id[0] || !strcmp(t->host_id, host_id))
            && (!t->type || t->type == type)
            && (!t->has_vni || t->vni == vni)
            && (!t->remote_ip.family || addr_equal(&t->remote_ip, remote))) {
            return true;
        }
    }
    return false;
}

/* Alerts. */

static const char *
tunnel_name(uint32_t type)
{
    switch (type) {
    case 1: return "VXLAN";
    case 2: return "Geneve";
    case 3: return "GRE";
    case 4: return "IP-in-IP";
    }
    return "tunnel";
}

/* Formats the target "vni N @ ADDRESS" ("ipip @ ADDRESS" for IP in IP). */
static void
format_target(uint32_t type, uint32_t vni, const struct vnm_addr *ip,
              char *buf, size_t size)
{
    char addr[46];

    du_addr(ip, addr);
    if (type == 4) {
        snprintf(buf, size, "ipip @ %s", addr);
    } else {
        snprintf(buf, size, "vni %"PRIu32" @ %s", vni, addr);
    }
}

/* Emits an alert of 'severity' for side 'src_side' of 'flow', sent from
 * 'in' on 'port' (may be null), with 'target', 'summary' and the evidence
 * line 'extra' (may be null).  Returns without emitting if the side sent
 * nothing new. */
static void
vxlan_hop_emit(struct vxlan_hop *vh, const struct vnm_flow *flow,
               bool src_side, const struct vnm_attribution *in,
               const struct vnm_port *port, enum vnm_severity severity,
               const char *target, const char *summary, const char *extra)
{
    char key[320], evidence[320];
    struct vnm_attribution attr;
    uint64_t packets, bytes;
    struct vnm_alert alert;

    du_delta(vh->deltas, flow, src_side, &packets, &bytes);
    if (!packets) {
        return;
    }
    du_evidence(flow, src_side, evidence, sizeof evidence);
    alert = (struct vnm_alert) {
        .kind = "vxlan-hop",
        .severity = severity,
        .key = du_key(flow, in, target, key, sizeof key),
        .summary = summary,
        .vm = du_attribution(in, port, &attr),
        .target = target,
        .flow = flow,
        .packets = packets,
        .bytes = bytes,
        .n_evidence = 1,
        .evidence = { evidence },
    };
    if (extra) {
        alert.evidence[alert.n_evidence++] = extra;
    }
    if (!vh->host->emit_alert(vh->host, &alert)) {
        vh->host->count(vh->host, "alerts", 1);
    }
}

/* Appends ", " and 'text' to 'buf' if 'cond'. */
static void
append_reason(char *buf, size_t size, bool cond, const char *text)
{
    size_t len = strlen(buf);

    if (cond && len < size) {
        snprintf(buf + len, size - len, "%s%s", len ? ", " : "", text);
    }
}

/* A VM's side 'src_side' of tunnelled 'flow', whose carrier went from
 * 'outer_src' to 'outer_dst'. */
static void
check_vm_tunnel(struct vxlan_hop *vh, const struct vnm_flow *flow,
                bool src_side, const struct vnm_attribution *in,
                const struct vnm_port *port, const char *tenant,
                const struct vnm_addr *outer_src,
                const struct vnm_addr *outer_dst)
{
    const struct tunnel *foreign = NULL;
    char target[96], reasons[256], summary[512], extra[160];
    const char *net_name = NULL;
    unsigned why = 0;

    vh->host->count(vh->host, "vm_tunnel_records", 1);
    if (is_vtep(vh, outer_dst)) {
        why |= WHY_VTEP;
    }
    if (is_internal(vh, flow->host, outer_dst)) {
        why |= WHY_INTERNAL;
    }
    if (vh->net && outer_dst->family) {
        net_name = vh->net->protected_net(vh->host, outer_dst);
        if (net_name) {
            why |= WHY_PROTECTED;
        }
    }
    if (is_vtep(vh, outer_src)) {
        why |= WHY_FORGED;
    }
    if (flow->tunnel_type != 4) {
        foreign = foreign_vni(vh, flow->tunnel_type, flow->vni, tenant);
        if (foreign) {
            why |= WHY_FOREIGN_VNI;
        }
    }
    if (!why && !vh->any_vm_tunnel) {
        return;
    }

    reasons[0] = '\0';
    append_reason(reasons, sizeof reasons, why & WHY_VTEP, "to a VTEP");
    append_reason(reasons, sizeof reasons, why & WHY_INTERNAL,
                  "to an internal port's address");
    if (why & WHY_PROTECTED) {
        char text[96];

        snprintf(text, sizeof text, "to protected network \"%s\"",
                 net_name);
        append_reason(reasons, sizeof reasons, true, text);
    }
    append_reason(reasons, sizeof reasons, why & WHY_FORGED,
                  "from a forged VTEP address");
    if (foreign) {
        char text[160];

        snprintf(text, sizeof text, "carrying the VNI of %s's tunnel port "
                 "%s", foreign->tenant, foreign->name);
        append_reason(reasons, sizeof reasons, true, text);
        snprintf(extra, sizeof extra, "tunnel port %s: %s vni %"PRIu32
                 ", tenant %s", foreign->name, tunnel_name(foreign->type),
                 foreign->vni, foreign->tenant);
    }
    append_reason(reasons, sizeof reasons, !why, "from a VM port");

    format_target(flow->tunnel_type, flow->vni, outer_dst, target,
                  sizeof target);
    snprintf(summary, sizeof summary, "%s (%s) sent %s traffic %s: "
             "overlay hopping", in->port, tenant[0] ? tenant : "no tenant",
             tunnel_name(flow->tunnel_type), reasons);
    vxlan_hop_emit(vh, flow, src_side, in, port,
                   why ? vh->severity : vh->other_severity, target, summary,
                   foreign ? extra : NULL);
}

/* An underlay port's side 'src_side' of tunnelled 'flow', from remote VTEP
 * 'outer_src'. */
static void
check_underlay(struct vxlan_hop *vh, const struct vnm_flow *flow,
               bool src_side, const struct vnm_attribution *in,
               const struct vnm_port *port, const struct vnm_addr *outer_src)
{
    char target[96], summary[320];

    vh->host->count(vh->host, "underlay_records", 1);
    if (!vh->check_underlay || flow->tunnel_type == 4
        || underlay_configured(vh, flow->host, flow->tunnel_type, flow->vni,
                               outer_src)) {
        return;
    }
    format_target(flow->tunnel_type, flow->vni, outer_src, target,
                  sizeof target);
    snprintf(summary, sizeof summary, "%s received %s traffic with vni %"
             PRIu32" from %s: no tunnel port is configured for that VNI and "
             "remote VTEP", in->port, tunnel_name(flow->tunnel_type),
             flow->vni, target + strcspn(target, "@") + 2);
    vxlan_hop_emit(vh, flow, src_side, in, port, vh->severity, target,
                   summary, NULL);
}

/* A VM's side 'src_side' of the flow 'flow' that is not tunnelled: UDP to
 * a tunnel port or GRE that the agent could not decode. */
static void
check_undecoded(struct vxlan_hop *vh, const struct vnm_flow *flow,
                bool src_side, const struct vnm_attribution *in,
                const struct vnm_port *port, const char *tenant)
{
    const struct vnm_flow_end *to = src_side ? &flow->dst : &flow->src;
    char target[96], addr[46], summary[320];
    bool udp;

    udp = (flow->ip_proto == IPPROTO_UDP_
           && (to->port == UDP_PORT_VXLAN || to->port == UDP_PORT_GENEVE));
    if (!udp && flow->ip_proto != IPPROTO_GRE_) {
        return;
    }
    vh->host->count(vh->host, "undecoded_records", 1);
    if (!is_vtep(vh, &to->ip)) {
        return;
    }
    du_addr(&to->ip, addr);
    if (udp) {
        snprintf(target, sizeof target, "udp/%"PRIu16" @ %s", to->port,
                 addr);
    } else {
        snprintf(target, sizeof target, "gre @ %s", addr);
    }
    snprintf(summary, sizeof summary, "%s (%s) sent %s to VTEP %s that is "
             "not a valid tunnel packet: overlay probing", in->port,
             tenant[0] ? tenant : "no tenant", udp ? "UDP" : "GRE", addr);
    vxlan_hop_emit(vh, flow, src_side, in, port, vh->severity, target,
                   summary, NULL);
}

/* Checks what side 'src_side' of 'flow' sent. */
static void
vxlan_hop_check(struct vxlan_hop *vh, const struct vnm_flow *flow,
                bool src_side)
{
    const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
    const struct vnm_attribution *in = &end->in;
    const struct vnm_port *port = NULL;
    enum vnm_port_kind kind;
    const char *tenant;

    if (!end->packets || !in->port[0]) {
        return;
    }
    if (vh->net) {
        port = vh->net->port(vh->host, flow->host, in->port);
    }
    if (port && port->kind != VNM_PORT_UNKNOWN) {
        kind = port->kind;
        tenant = port->tenant;
    } else {
        kind = (in->vm[0] || in->iface_id[0] || in->tenant[0]
                ? VNM_PORT_VM : VNM_PORT_UNKNOWN);
        tenant = in->tenant;
    }

    if (flow->tunnel_type) {
        /* The outer addresses are those of the flow's first frame, sent by
         * 'src': the other side's go the other way. */
        const struct vnm_addr *osrc = (src_side ? &flow->outer.src_ip
                                       : &flow->outer.dst_ip);
        const struct vnm_addr *odst = (src_side ? &flow->outer.dst_ip
                                       : &flow->outer.src_ip);

        if (kind == VNM_PORT_VM) {
            check_vm_tunnel(vh, flow, src_side, in, port, tenant, osrc,
                            odst);
        } else if (kind == VNM_PORT_UPLINK || kind == VNM_PORT_TUNNEL) {
            check_underlay(vh, flow, src_side, in, port, osrc);
        }
    } else if (kind == VNM_PORT_VM) {
        check_undecoded(vh, flow, src_side, in, port, tenant);
    }
}

/* Checks both sides of 'flow'.  'flow' is borrowed. */
static void
vxlan_hop_on_flow(void *state, const struct vnm_flow *flow)
{
    struct vxlan_hop *vh = state;

    if (!flow->tunnel_type && flow->ip_proto != IPPROTO_UDP_
        && flow->ip_proto != IPPROTO_GRE_) {
        return;
    }
    if (!vh->loaded) {
        vxlan_hop_load(vh);
    }
    vxlan_hop_check(vh, flow, true);
    vxlan_hop_check(vh, flow, false);
}

/* Refreshes the copy of the tunnel ports. */
static void
vxlan_hop_on_tick(void *state, uint64_t now_ms)
{
    struct vxlan_hop *vh = state;

    (void) now_ms;
    vxlan_hop_load(vh);
}

static void
vxlan_hop_destroy(void *state)
{
    struct vxlan_hop *vh = state;

    if (vh) {
        du_deltas_destroy(vh->deltas);
        free(vh->tunnels);
        free(vh->internals);
        free(vh);
    }
}

static int
vxlan_hop_init(const struct vnm_host *host, const struct vnm_conf *conf,
               void **statep)
{
    enum vnm_severity severity, other_severity;
    bool any_vm_tunnel, underlay;
    struct vxlan_hop *vh;
    const char *vteps;
    int64_t max_flows;
    int error;

    if ((error = du_conf_severity(host, conf, "severity", "critical",
                                  &severity))
        || (error = du_conf_severity(host, conf, "other_severity", "high",
                                     &other_severity))
        || (error = host->conf_bool(host, conf, "any_vm_tunnel", true,
                                    &any_vm_tunnel))
        || (error = host->conf_bool(host, conf, "check_underlay", true,
                                    &underlay))
        || (error = host->conf_string(host, conf, "vteps", "", &vteps))
        || (error = host->conf_int(host, conf, "max_flows", 16384, 16,
                                   10000000, &max_flows))) {
        return error;
    }

    vh = calloc(1, sizeof *vh);
    if (!vh) {
        return ENOMEM;
    }
    vh->host = host;
    if (!parse_vteps(vh, vteps)) {
        free(vh);
        return EINVAL;
    }
    vh->deltas = du_deltas_create((size_t) max_flows);
    if (!vh->deltas) {
        free(vh);
        return ENOMEM;
    }
    vh->net = VNM_HOST_HAS(host, net) ? host->net : NULL;
    vh->severity = severity;
    vh->other_severity = other_severity;
    vh->any_vm_tunnel = any_vm_tunnel;
    vh->check_underlay = underlay;
    *statep = vh;
    return 0;
}

static const struct vnm_detector_ops vxlan_hop_ops = {
    .on_flow = vxlan_hop_on_flow,
    .on_tick = vxlan_hop_on_tick,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "vxlan-hop",
                  .version = "1.0", .init = vxlan_hop_init,
                  .destroy = vxlan_hop_destroy, .detector = &vxlan_hop_ops);

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the detector plugins: see detect-util.h.
 *
 * The delta tracker is a chained hash table of flows keyed by (host, id),
 * with a doubly linked queue from the most to the least recently seen flow
 * that decides which one is forgotten when the table is full.
 */
#include <config.h>

#include "analyzer/detect-util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnmon/net.h"
#include "vnmon/plugin.h"

#define ETH_TYPE_ARP 0x0806
#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define IP_PROTO_ICMPV6 58

/* Formatting. */

/* A bounded string being appended to. */
struct du_buf {
    char *s;
    size_t size;
    size_t len;                 /* strlen(s), at most size - 1. */
};

static void __attribute__((format(printf, 2, 3)))
buf_put(struct du_buf *b, const char *format, ...)
{
    va_list args;
    int n;

    if (b->len + 1 >= b->size) {
        return;
    }
    va_start(args, format);
    n = vsnprintf(b->s + b->len, b->size - b->len, format, args);
    va_end(args);
    if (n > 0) {
        b->len += (size_t) n;
        if (b->len >= b->size) {
            b->len = b->size - 1;
        }
    }
}

char *
du_mac(const uint8_t mac[6], char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return buf;
}

char *
du_addr(const struct vnm_addr *a, char buf[46])
{
    if (a->family != 4 && a->family != 6) {
        snprintf(buf, 46, "-");
    } else if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, buf,
                          46)) {
        snprintf(buf, 46, "?");
    }
    return buf;
}

static bool
mac_is_zero(const uint8_t mac[6])
{
    static const uint8_t zero[6];

    return !memcmp(mac, zero, sizeof zero);
}

/* Appends "ADDR:PORT" ("[ADDR]:PORT" for IPv6), or just "ADDR" if not
 * 'with_port'. */
static void
put_endpoint(struct du_buf *b, const struct vnm_addr *a, bool with_port,
             uint16_t port)
{
    char text[46];

    du_addr(a, text);
    if (!with_port) {
        buf_put(b, "%s", text);
    } else if (a->family == 6) {
        buf_put(b, "[%s]:%"PRIu16, text, port);
    } else {
        buf_put(b, "%s:%"PRIu16, text, port);
    }
}

/* Appends TCP 'flags' as tcpdump does: "[S]", "[S.]", "[F.]", "[none]". */
static void
put_tcp_flags(struct du_buf *b, uint8_t flags)
{
    static const struct {
        uint8_t bit;
        char c;
    } names[] = {
        { 0x01, 'F' }, { 0x02, 'S' }, { 0x04, 'R' }, { 0x08, 'P' },
        { 0x20, 'U' }, { 0x40, 'E' }, { 0x80, 'W' }, { 0x10, '.' },
    };

    buf_put(b, " [");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (flags & names[i].bit) {
            buf_put(b, "%c", names[i].c);
        }
    }
    buf_put(b, "%s]", flags ? "" : "none");
}

/* The name of an 802.1Q-family TPID. */
static const char *
tpid_name(uint16_t tpid)
{
    switch (tpid) {
    case 0x8100: return "802.1Q";
    case 0x88a8: return "802.1ad";
    case 0x9100: return "QinQ";
    }
    return NULL;
}

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

static const char *
dhcp_name(bool dhcpv6, unsigned type)
{
    static const char *const v4[] = {
        NULL, "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK",
        "RELEASE", "INFORM", "FORCERENEW", "LEASEQUERY", "LEASEUNASSIGNED",
        "LEASEUNKNOWN", "LEASEACTIVE",
    };
    static const char *const v6[] = {
        NULL, "SOLICIT", "ADVERTISE", "REQUEST", "CONFIRM", "RENEW",
        "REBIND", "REPLY", "RELEASE", "DECLINE", "RECONFIGURE",
        "INFORMATION-REQUEST", "RELAY-FORW", "RELAY-REPL",
    };

    if (dhcpv6) {
        return type < sizeof v6 / sizeof v6[0] ? v6[type] : NULL;
    }
    return type < sizeof v4 / sizeof v4[0] ? v4[type] : NULL;
}

/* Appends the ARP summary of what a side with 'ctl' sent, from sender
 * address 'spa' to target address 'tpa'. */
static void
put_arp(struct du_buf *b, const struct vnm_flow_ctl *ctl,
        const struct vnm_addr *spa, const struct vnm_addr *tpa)
{
    char sha[18];

    du_mac(ctl->arp_sha, sha);
    buf_put(b, "ARP");
    if (ctl->arp & VNM_ARP_GRATUITOUS) {
        buf_put(b, " gratuitous");
    }
    if (ctl->arp & VNM_ARP_REPLY) {
        buf_put(b, " reply ");
        put_endpoint(b, spa, false, 0);
        buf_put(b, " is-at %s", sha);
        if (tpa->family && !(ctl->arp & VNM_ARP_GRATUITOUS)) {
            buf_put(b, " to ");
            put_endpoint(b, tpa, false, 0);
        }
        if (ctl->arp & VNM_ARP_REQUEST) {
            buf_put(b, " (and requests)");
        }
    } else if (ctl->arp & VNM_ARP_REQUEST) {
        buf_put(b, " request who-has ");
        put_endpoint(b, tpa, false, 0);
        buf_put(b, " tell ");
        put_endpoint(b, spa, false, 0);
        buf_put(b, " (%s)", sha);
    } else {
        buf_put(b, " ");
        put_endpoint(b, spa, false, 0);
        buf_put(b, " > ");
        put_endpoint(b, tpa, false, 0);
    }
    if (ctl->arp & VNM_ARP_SHA_MISMATCH) {
        buf_put(b, ", sender MAC not the Ethernet source");
    }
}

/* Appends the Neighbor Discovery summary of 'ctl'. */
static void
put_nd(struct du_buf *b, const struct vnm_flow_ctl *ctl)
{
    static const struct {
        uint8_t bit;
        const char *name;
    } types[] = {
        { VNM_ND_RS, "RS" }, { VNM_ND_RA, "RA" }, { VNM_ND_NS, "NS" },
        { VNM_ND_NA, "NA" }, { VNM_ND_REDIRECT, "redirect" },
    };
    bool first = true;

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (ctl->nd & types[i].bit) {
            buf_put(b, "%s%s", first ? " " : "+", types[i].name);
            first = false;
        }
    }
    if (ctl->nd & (VNM_ND_NS | VNM_ND_NA | VNM_ND_REDIRECT)) {
        struct vnm_addr target = { .family = 6 };

        memcpy(target.a, ctl->nd_target, sizeof target.a);
        buf_put(b, " target ");
        put_endpoint(b, &target, false, 0);
    }
    if (ctl->nd & VNM_ND_RA && ctl->nd_flags & 0xc0) {
        buf_put(b, " [%s%s]", ctl->nd_flags & 0x80 ? "M" : "",
                ctl->nd_flags & 0x40 ? "O" : "");
    } else if (ctl->nd & VNM_ND_NA && ctl->nd_flags & 0xe0) {
        buf_put(b, " [%s%s%s]", ctl->nd_flags & 0x80 ? "R" : "",
                ctl->nd_flags & 0x40 ? "S" : "",
                ctl->nd_flags & 0x20 ? "O" : "");
    }
    if (ctl->has_nd_lladdr) {
        char mac[18];

        buf_put(b, " %s %s", ctl->nd == VNM_ND_NA ? "tll" : "sll",
                du_mac(ctl->nd_lladdr, mac));
    }
}

/* Appends the DHCP message types of 'ctl'. */
static void
put_dhcp(struct du_buf *b, const struct vnm_flow_ctl *ctl)
{
    bool first = true;

    buf_put(b, " %s", ctl->dhcpv6 ? "DHCPv6" : "DHCP");
    for (unsigned i = 0; i < 32; i++) {
        if (ctl->dhcp_types & (UINT32_C(1) << i)) {
            const char *name = dhcp_name(ctl->dhcpv6, i);

            if (name) {
                buf_put(b, "%s%s", first ? " " : ",", name);
            } else {
                buf_put(b, "%stype %u", first ? " " : ",", i);
            }
            first = false;
        }
    }
}

void
du_evidence(const struct vnm_flow *f, bool src_side, char *buf, size_t size)
{
    const struct vnm_flow_end *me = src_side ? &f->src : &f->dst;
    const struct vnm_flow_end *peer = src_side ? &f->dst : &f->src;
    const struct vnm_flow_ctl *ctl = src_side ? &f->src_ctl : &f->dst_ctl;
    struct du_buf b = { .s = buf, .size = size };
    char mac[18];

    if (!size) {
        return;
    }
    buf[0] = '\0';

    /* Ingress port and Ethernet. */
    buf_put(&b, "%s", me->in.port[0] ? me->in.port : "?");
    if (me->in.ofport >= 0) {
        buf_put(&b, " ofport %"PRId32, me->in.ofport);
    }
    buf_put(&b, " %s", du_mac(me->mac, mac));
    if (!mac_is_zero(peer->mac)) {
        buf_put(&b, " > %s", du_mac(peer->mac, mac));
    }

    /* Tags and tunnel. */
    for (unsigned i = 0; i < f->n_vlan_tags && i < VNM_MAX_VLAN_TAGS; i++) {
        const char *name = tpid_name(f->vlan[i].tpid);

        buf_put(&b, "%s", i ? ", " : " | ");
        if (name) {
            buf_put(&b, "%s", name);
        } else {
            buf_put(&b, "tpid 0x%04"PRIx16, f->vlan[i].tpid);
        }
        buf_put(&b, " vlan %u", (unsigned) (f->vlan[i].tci & 0xfff));
    }
    if (f->tunnel_type) {
        const struct vnm_addr *os = src_side ? &f->outer.src_ip
                                             : &f->outer.dst_ip;
        const struct vnm_addr *od = src_side ? &f->outer.dst_ip
                                             : &f->outer.src_ip;
        uint16_t osp = src_side ? f->outer.src_port : f->outer.dst_port;
        uint16_t odp = src_side ? f->outer.dst_port : f->outer.src_port;
        bool ports = osp || odp;

        buf_put(&b, " | %s", tunnel_name(f->tunnel_type));
        if (f->tunnel_type != 4) {
            buf_put(&b, " %s %"PRIu32, f->tunnel_type == 3 ? "key" : "vni",
                    f->vni);
        }
        if (os->family) {
            buf_put(&b, " outer ");
            put_endpoint(&b, os, ports, osp);
            buf_put(&b, " > ");
            put_endpoint(&b, od, ports, odp);
        }
    }

    /* Inner protocols. */
    buf_put(&b, " | ");
    if (f->eth_type == ETH_TYPE_ARP || ctl->arp) {
        put_arp(&b, ctl, &me->ip, &peer->ip);
    } else if (me->ip.family == 4 || me->ip.family == 6) {
        bool ports = (f->ip_proto == IP_PROTO_TCP
                      || f->ip_proto == IP_PROTO_UDP
                      || f->ip_proto == 132);      /* SCTP */

        buf_put(&b, "IPv%d ", me->ip.family);
        put_endpoint(&b, &me->ip, ports, me->port);
        buf_put(&b, " > ");
        put_endpoint(&b, &peer->ip, ports, peer->port);
        switch (f->ip_proto) {
        case IP_PROTO_TCP:
            buf_put(&b, " TCP");
            put_tcp_flags(&b, me->tcp_flags);
            break;
        case IP_PROTO_UDP:
            buf_put(&b, " UDP");
            break;
        case IP_PROTO_ICMP:
        case IP_PROTO_ICMPV6:
            buf_put(&b, " %s", f->ip_proto == IP_PROTO_ICMP ? "ICMP"
                                                            : "ICMPv6");
            if (ctl->nd) {
                put_nd(&b, ctl);
            } else if (ctl->has_icmp) {
                buf_put(&b, " type %u code %u", ctl->icmp_type,
                        ctl->icmp_code);
            }
            break;
        default:
            buf_put(&b, " proto %u", f->ip_proto);
            break;
        }
        if (ctl->dhcp_types) {
            put_dhcp(&b, ctl);
        }
    } else {
        buf_put(&b, "EtherType 0x%04"PRIx16, f->eth_type);
    }

    buf_put(&b, " | %"PRIu64" pkts %"PRIu64" B", me->packets, me->bytes);
}

char *
du_key(const struct vnm_flow *f, const struct vnm_attribution *attacker,
       const char *target, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s>%s", f->host,
             attacker && attacker->port[0] ? attacker->port : "?",
             target ? target : "");
    return buf;
}

bool
du_severity(const char *name, enum vnm_severity *severityp)
{
    for (int i = VNM_SEV_INFO; i <= VNM_SEV_CRITICAL; i++) {
        if (!strcmp(name, vnm_severity_name(i))) {
            *severityp = i;
            return true;
        }
    }
    return false;
}

/* Addresses and ports. */

int
du_check_severity(const struct vnm_host *host, const char *key,
                  const char *name, enum vnm_severity *severityp)
{
    if (!du_severity(name, severityp)) {
        host->log(host, VNM_LOG_ERR, "%s: \"%s\" is not one of info, low, "
                  "medium, high, critical", key, name);
        return EINVAL;
    }
    return 0;
}

int
du_conf_severity(const struct vnm_host *host, const struct vnm_conf *conf,
                 const char *key, const char *dflt,
                 enum vnm_severity *severityp)
{
    const char *name;
    int error;

    error = host->conf_string(host, conf, key, dflt, &name);
    return error ? error : du_check_severity(host, key, name, severityp);
}

int
du_require_net(const struct vnm_host *host)
{
    if (!VNM_HOST_HAS(host, net) || !host->net) {
        host->log(host, VNM_LOG_ERR, "the host lends no network view "
                  "(needs ABI 1.1 and the analyzer)");
        return ENOTSUP;
    }
    return 0;
}

int
du_init_common(const struct vnm_host *host, const struct vnm_conf *conf,
               const char *dflt_severity, int64_t dflt_max_flows,
               bool need_net, enum vnm_severity *severityp,
               struct du_deltas **deltasp)
{
    const char *severity_name;
    enum vnm_severity severity;
    struct du_deltas *deltas;
    int64_t max_flows;
    int error;

    if ((error = host->conf_string(host, conf, "severity", dflt_severity,
                                   &severity_name))
        || (error = host->conf_int(host, conf, "max_flows", dflt_max_flows,
                                   16, 10000000, &max_flows))
        || (error = du_check_severity(host, "severity", severity_name,
                                      &severity))
        || (need_net && (error = du_require_net(host)))) {
        return error;
    }

    deltas = du_deltas_create((size_t) max_flows);
    if (!deltas) {
        return ENOMEM;
    }
    *severityp = severity;
    *deltasp = deltas;
    return 0;
}

bool
du_addr_is_unspecified(const struct vnm_addr *a)
{
    static const uint8_t zero[16];

    return ((a->family != 4 && a->family != 6)
            || !memcmp(a->a, zero, a->family == 4 ? 4 : 16));
}

bool
du_addr_is_link_local(const struct vnm_addr *a)
{
    return a->family == 6 && a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80;
}

const struct vnm_port *
du_vm_port(const struct vnm_host *host, const struct vnm_flow *f,
           bool src_side)
{
    const struct vnm_flow_end *end = src_side ? &f->src : &f->dst;
    const struct vnm_port *port;

    if (!end->packets || !end->in.port[0]) {
        return NULL;
    }
    port = host->net->port(host, f->host, end->in.port);
    return port && port->kind == VNM_PORT_VM ? port : NULL;
}

/* Copies 'src' into 'dst' of 'size' bytes if 'dst' is empty. */
static void
fill_string(char *dst, size_t size, const char *src)
{
    if (!dst[0] && src) {
        snprintf(dst, size, "%s", src);
    }
}

const struct vnm_attribution *
du_attribution(const struct vnm_attribution *in, const struct vnm_port *port,
               struct vnm_attribution *out)
{
    if (!port
        || ((in->vm[0] || !port->vm[0])
            && (in->iface_id[0] || !port->iface_id[0])
            && (in->tenant[0] || !port->tenant[0])
            && (in->ofport >= 0 || port->ofport < 0))) {
        return in;
    }
    *out = *in;
    fill_string(out->vm, sizeof out->vm, port->vm);
    fill_string(out->iface_id, sizeof out->iface_id, port->iface_id);
    fill_string(out->tenant, sizeof out->tenant, port->tenant);
    if (out->ofport < 0) {
        out->ofport = port->ofport;
    }
    return out;
}

char *
du_port_ips(const struct vnm_port *port, char *buf, size_t size)
{
    struct du_buf b = { .s = buf, .size = size };

    if (!size) {
        return buf;
    }
    buf[0] = '\0';
    for (uint32_t i = 0; i < port->n_ips; i++) {
        const struct vnm_prefix *p = &port->ips[i];
        char text[46];

        buf_put(&b, "%s%s", i ? ", " : "", du_addr(&p->addr, text));
        if (p->len != (p->addr.family == 4 ? 32 : 128)) {
            buf_put(&b, "/%u", p->len);
        }
    }
    if (!port->n_ips) {
        buf_put(&b, "none");
    }
    return buf;
}

char *
du_port_macs(const struct vnm_port *port, char *buf, size_t size)
{
    struct du_buf b = { .s = buf, .size = size };

    if (!size) {
        return buf;
    }
    buf[0] = '\0';
    for (uint32_t i = 0; i < port->n_macs; i++) {
        char mac[18];

        buf_put(&b, "%s%s", i ? ", " : "", du_mac(port->macs[i], mac));
    }
    if (!port->n_macs) {
        buf_put(&b, "none");
    }
    return buf;
}

bool
du_port_has_ip(const struct vnm_port *port, const struct vnm_addr *ip)
{
    for (uint32_t i = 0; i < port->n_ips; i++) {
        const struct vnm_prefix *p = &port->ips[i];
        unsigned len = p->len, max = ip->family == 4 ? 32 : 128;

        if (p->addr.family != ip->family) {
            continue;
        }
        if (len > max) {
            len = max;
        }
        if (memcmp(p->addr.a, ip->a, len / 8)) {
            continue;
        }
        if (len % 8) {
            uint8_t mask = 0xff << (8 - len % 8);

            if ((p->addr.a[len / 8] ^ ip->a[len / 8]) & mask) {
                continue;
            }
        }
        return true;
    }
    return false;
}

/* True if 'len' bytes at 'word' equal the string 's'. */
char *
du_port_binding(const struct vnm_port *port, char *buf, size_t size)
{
    char ips[200], macs[120];

    snprintf(buf, size, "%s binding: IPs %s%s; MACs %s%s", port->name,
             du_port_ips(port, ips, sizeof ips),
             port->ip_source == VNM_BINDING_LEARNED ? " (learned)" : "",
             du_port_macs(port, macs, sizeof macs),
             port->mac_source == VNM_BINDING_LEARNED ? " (learned)" : "");
    return buf;
}

bool
du_same_vm(const struct vnm_port *a, const struct vnm_port *b)
{
    return a == b || (a->vm[0] && !strcmp(a->vm, b->vm));
}

bool
du_from_vm(const struct vnm_host *host, const struct vnm_flow *flow,
           bool src_side, const struct vnm_port **portp)
{
    const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
    const struct vnm_attribution *in = &end->in;

    *portp = NULL;
    if (!end->packets || !in->port[0]) {
        return false;
    }
    *portp = host->net->port(host, flow->host, in->port);
    if (*portp) {
        return (*portp)->kind == VNM_PORT_VM;
    }
    return in->vm[0] || in->iface_id[0] || in->tenant[0];
}

static bool
word_is(const char *word, size_t len, const char *s)
{
    return strlen(s) == len && !memcmp(word, s, len);
}

bool
du_list_has_port(const char *list, const char *host, const char *name)
{
    size_t host_len = strlen(host);

    while (list && *list) {
        size_t len = strcspn(list, ", \t");

        if (len) {
            if (word_is(list, len, name)
                || (len > host_len + 1 && !memcmp(list, host, host_len)
                    && list[host_len] == '/'
                    && word_is(list + host_len + 1, len - host_len - 1,
                               name))) {
                return true;
            }
            list += len;
        } else {
            list++;
        }
    }
    return false;
}

/* Reasons. */

void
du_reason_add(struct du_reasons *r, const char *format, ...)
{
    if (r->n < DU_MAX_REASONS) {
        va_list args;

        va_start(args, format);
        vsnprintf(r->text[r->n++], sizeof r->text[0], format, args);
        va_end(args);
    }
}

void
du_reasons_append(const struct du_reasons *r, char *buf, size_t size,
                  int len)
{
    for (size_t i = 0; i < r->n && len > 0 && len < (int) size; i++) {
        len += snprintf(buf + len, size - len, "%s %s", i ? ";" : "",
                        r->text[i]);
    }
}

/* Hashing. */

#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

static uint32_t
hash_add_bytes(uint32_t hash, const void *p_, size_t size)
{
    const uint8_t *p = p_;

    for (size_t i = 0; i < size; i++) {
        hash = (hash ^ p[i]) * FNV_PRIME;
    }
    return hash;
}

static uint32_t
hash_add_string(uint32_t hash, const char *s)
{
    return hash_add_bytes(hash, s, strlen(s));
}

uint32_t
du_hash_bytes(const void *p, size_t size)
{
    return hash_add_bytes(FNV_BASIS, p, size);
}

uint32_t
du_hash_port(const char *host, const char *port)
{
    uint8_t slash = '/';

    return hash_add_string(hash_add_bytes(hash_add_string(FNV_BASIS, host),
                                          &slash, 1), port);
}

/* Recency list. */

void
du_lru_remove(struct du_lru *lru, struct du_lru_node *node)
{
    if (node->newer) {
        node->newer->older = node->older;
    } else if (lru->newest == node) {
        lru->newest = node->older;
    }
    if (node->older) {
        node->older->newer = node->newer;
    } else if (lru->oldest == node) {
        lru->oldest = node->newer;
    }
    node->newer = node->older = NULL;
}

void
du_lru_push_newest(struct du_lru *lru, struct du_lru_node *node)
{
    node->older = lru->newest;
    node->newer = NULL;
    if (lru->newest) {
        lru->newest->newer = node;
    } else {
        lru->oldest = node;
    }
    lru->newest = node;
}

void
du_lru_push_oldest(struct du_lru *lru, struct du_lru_node *node)
{
    node->newer = lru->oldest;
    node->older = NULL;
    if (lru->oldest) {
        lru->oldest->older = node;
    } else {
        lru->newest = node;
    }
    lru->oldest = node;
}

/* Delta tracker. */

/* One remembered flow. */
struct du_flow {
    struct du_flow *hash_next;  /* Next in its bucket. */
    struct du_lru_node lru;     /* In the recency queue. */
    uint32_t hash;
    uint64_t id;                /* The flow's id... */
    uint64_t first_ms;          /* ...first frame time... */
    char host[VNM_ID_SIZE];     /* ...and host. */
    uint64_t packets[2];        /* Counted so far, [0] src, [1] dst. */
    uint64_t bytes[2];
};

struct du_deltas {
    struct du_flow **buckets;
    size_t mask;                /* Buckets - 1 (a power of 2 - 1). */
    size_t n;                   /* Flows remembered. */
    size_t max;
    struct du_lru lru;          /* Recency queue: the oldest is evicted. */
};

struct du_deltas *
du_deltas_create(size_t max)
{
    struct du_deltas *d = calloc(1, sizeof *d);
    size_t n_buckets = 16;

    if (!d) {
        return NULL;
    }
    d->max = max ? max : 1;
    while (n_buckets < d->max && n_buckets < (SIZE_MAX >> 2)) {
        n_buckets *= 2;
    }
    d->buckets = calloc(n_buckets, sizeof *d->buckets);
    if (!d->buckets) {
        free(d);
        return NULL;
    }
    d->mask = n_buckets - 1;
    return d;
}

void
du_deltas_destroy(struct du_deltas *d)
{
    if (d) {
        struct du_lru_node *node, *next;

        for (node = d->lru.newest; node; node = next) {
            next = node->older;
            free(DU_LRU_ENTRY(node, struct du_flow, lru));
        }
        free(d->buckets);
        free(d);
    }
}

size_t
du_deltas_count(const struct du_deltas *d)
{
    return d->n;
}

static uint32_t
flow_hash(const char *host, uint64_t id)
{
    uint32_t hash = hash_add_string(FNV_BASIS, host);

    for (int i = 0; i < 8; i++) {
        uint8_t byte = id >> (8 * i);

        hash = hash_add_bytes(hash, &byte, 1);
    }
    return hash;
}

static void
flow_forget(struct du_deltas *d, struct du_flow *fl)
{
    struct du_flow **p = &d->buckets[fl->hash & d->mask];

    while (*p != fl) {
        p = &(*p)->hash_next;
    }
    *p = fl->hash_next;
    du_lru_remove(&d->lru, &fl->lru);
    d->n--;
    free(fl);
}

void
du_delta(struct du_deltas *d, const struct vnm_flow *f, bool src_side,
         uint64_t *packets, uint64_t *bytes)
{
    const struct vnm_flow_end *end = src_side ? &f->src : &f->dst;
    uint32_t hash = flow_hash(f->host, f->id);
    struct du_flow *fl;
    int k = src_side ? 0 : 1;

    for (fl = d->buckets[hash & d->mask]; fl; fl = fl->hash_next) {
        if (fl->hash == hash && fl->id == f->id
            && !strncmp(fl->host, f->host, sizeof fl->host)) {
            break;
        }
    }
    if (!fl) {
        if (d->n >= d->max) {
            flow_forget(d, DU_LRU_ENTRY(d->lru.oldest, struct du_flow,
                                        lru));
        }
        fl = calloc(1, sizeof *fl);
        if (!fl) {
            *packets = end->packets;
            *bytes = end->bytes;
            return;
        }
        fl->hash = hash;
        fl->id = f->id;
        fl->first_ms = f->first_ms;
        memcpy(fl->host, f->host, sizeof fl->host);
        fl->host[sizeof fl->host - 1] = '\0';
        fl->hash_next = d->buckets[hash & d->mask];
        d->buckets[hash & d->mask] = fl;
        d->n++;
    } else {
        du_lru_remove(&d->lru, &fl->lru);
        if (fl->first_ms != f->first_ms) {
            /* The same id for another flow: a restarted agent. */
            memset(fl->packets, 0, sizeof fl->packets);
            memset(fl->bytes, 0, sizeof fl->bytes);
            fl->first_ms = f->first_ms;
        }
    }

    if (end->packets < fl->packets[k] || end->bytes < fl->bytes[k]) {
        fl->packets[k] = fl->bytes[k] = 0;
    }
    *packets = end->packets - fl->packets[k];
    *bytes = end->bytes - fl->bytes[k];
    fl->packets[k] = end->packets;
    fl->bytes[k] = end->bytes;

    if (f->event == VNM_FLOW_UPDATE) {
        du_lru_push_newest(&d->lru, &fl->lru);
    } else {
        du_lru_push_oldest(&d->lru, &fl->lru);
    }
}

/* Emission rate limiter.
 *
 * A chained hash table of incidents keyed by (kind, key), with a doubly
 * linked list from the most to the least recently emitted one that decides
 * which is forgotten when the table is full or idle. */

#define EMIT_BUCKETS 2048       /* Hash buckets, a power of 2. */

/* One incident's pending emission. */
struct du_pending {
    struct du_pending *hash_next; /* Next in its bucket. */
    struct du_lru_node lru;     /* In the recency list, by 'seen_ms'. */
    uint32_t hash;
    const char *kind;           /* Static storage. */
    char key[192];
    enum vnm_severity severity;
    char summary[512];
    char target[128];
    bool has_vm;
    struct vnm_attribution vm;
    uint32_t n_evidence;
    char evidence[DU_EMIT_EVIDENCE][256];
    uint64_t emitted_ms;        /* Host clock of its last emission. */
    uint64_t seen_ms;           /* Host clock of its last emit call. */
    bool due;                   /* Something is not yet emitted. */
    uint64_t packets;           /* Not yet emitted. */
    uint64_t bytes;
};

struct du_emitter {
    const struct vnm_host *host;
    struct du_pending *buckets[EMIT_BUCKETS];
    size_t n;                   /* Incidents remembered. */
    struct du_lru lru;          /* Recency list: the oldest goes first. */
};

static uint32_t
emit_hash(const char *kind, const char *key)
{
    uint8_t separator = 0xff;

    return hash_add_string(hash_add_bytes(hash_add_string(FNV_BASIS, kind),
                                          &separator, 1), key);
}

/* The least recently seen incident of 'e', which has one. */
static struct du_pending *
oldest_pending(const struct du_emitter *e)
{
    return DU_LRU_ENTRY(e->lru.oldest, struct du_pending, lru);
}

/* Delivers what 'p' has pending. */
static void
emit_flush(struct du_emitter *e, struct du_pending *p)
{
    struct vnm_alert alert = {
        .kind = p->kind,
        .severity = p->severity,
        .key = p->key,
        .summary = p->summary,
        .vm = p->has_vm ? &p->vm : NULL,
        .target = p->target[0] ? p->target : NULL,
        .packets = p->packets,
        .bytes = p->bytes,
        .n_evidence = p->n_evidence,
    };

    for (uint32_t i = 0; i < p->n_evidence; i++) {
        alert.evidence[i] = p->evidence[i];
    }
    e->host->emit_alert(e->host, &alert);
    p->emitted_ms = e->host->now_ms(e->host);
    p->due = false;
    p->packets = p->bytes = 0;
}

/* Forgets 'p', first delivering what it has pending if 'flush'. */
static void
emit_forget(struct du_emitter *e, struct du_pending *p, bool flush)
{
    struct du_pending **pp = &e->buckets[p->hash & (EMIT_BUCKETS - 1)];

    if (flush && p->due) {
        emit_flush(e, p);
    }
    while (*pp != p) {
        pp = &(*pp)->hash_next;
    }
    *pp = p->hash_next;
    du_lru_remove(&e->lru, &p->lru);
    e->n--;
    free(p);
}

struct du_emitter *
du_emitter_create(const struct vnm_host *host)
{
    struct du_emitter *e = calloc(1, sizeof *e);

    if (e) {
        e->host = host;
    }
    return e;
}

void
du_emitter_destroy(struct du_emitter *e)
{
    if (!e) {
        return;
    }
    while (e->lru.oldest) {
        emit_forget(e, oldest_pending(e), false);
    }
    free(e);
}

size_t
du_emitter_count(const struct du_emitter *e)
{
    return e->n;
}

void
du_emitter_emit(struct du_emitter *e, const struct vnm_alert *alert)
{
    uint32_t hash = emit_hash(alert->kind, alert->key);
    struct du_pending **bucket = &e->buckets[hash & (EMIT_BUCKETS - 1)];
    uint64_t now = e->host->now_ms(e->host);
    struct du_pending *p;

    for (p = *bucket; p; p = p->hash_next) {
        if (p->hash == hash && !strcmp(p->kind, alert->kind)
            && !strcmp(p->key, alert->key)) {
            break;
        }
    }
    if (!p) {
        if (e->n >= DU_EMIT_MAX) {
            emit_forget(e, oldest_pending(e), true);
        }
        p = calloc(1, sizeof *p);
        if (!p) {
            /* Out of memory: deliver it unmerged. */
            e->host->emit_alert(e->host, alert);
            return;
        }
        p->hash = hash;
        p->kind = alert->kind;
        snprintf(p->key, sizeof p->key, "%s", alert->key);
        p->hash_next = *bucket;
        *bucket = p;
        e->n++;
        du_lru_push_newest(&e->lru, &p->lru);
    } else {
        du_lru_remove(&e->lru, &p->lru);
        du_lru_push_newest(&e->lru, &p->lru);
    }
    if (!p->due || alert->severity > p->severity) {
        p->severity = alert->severity;
    }
    p->seen_ms = now;
    p->packets += alert->packets;
    p->bytes += alert->bytes;

    if (!p->emitted_ms || now >= p->emitted_ms + DU_EMIT_MS) {
        struct vnm_alert a = *alert;

        a.packets = p->packets;
        a.bytes = p->bytes;
        a.severity = p->severity;
        e->host->emit_alert(e->host, &a);
        p->emitted_ms = now ? now : 1;
        p->due = false;
        p->packets = p->bytes = 0;
        return;
    }
    snprintf(p->summary, sizeof p->summary, "%s", alert->summary);
    snprintf(p->target, sizeof p->target, "%s",
             alert->target ? alert->target : "");
    p->has_vm = alert->vm != NULL;
    if (alert->vm) {
        p->vm = *alert->vm;
    }
    p->n_evidence = 0;
    for (uint32_t i = 0; i < alert->n_evidence && i < DU_EMIT_EVIDENCE;
         i++) {
        snprintf(p->evidence[i], sizeof p->evidence[i], "%s",
                 alert->evidence[i]);
        p->n_evidence++;
    }
    p->due = true;
}

void
du_emitter_tick(struct du_emitter *e, uint64_t now_ms)
{
    for (struct du_lru_node *node = e->lru.newest; node;
         node = node->older) {
        struct du_pending *p = DU_LRU_ENTRY(node, struct du_pending, lru);

        if (p->due && now_ms >= p->emitted_ms + DU_EMIT_MS) {
            emit_flush(e, p);
        }
    }
    while (e->lru.oldest
           && oldest_pending(e)->seen_ms + DU_EMIT_IDLE_MS <= now_ms) {
        emit_forget(e, oldest_pending(e), true);
    }
}

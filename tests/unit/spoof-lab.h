/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small two-tenant network for the unit tests of the spoofing and
 * rogue-server detectors (tests/unit/test-detect-*-spoof.c,
 * test-detect-rogue-*.c): its inventory text for the fake host, the
 * attributions of its ports, and builders of the flow records the agent
 * would publish for their traffic.
 *
 * Hypervisor "hv1", bridge br0:
 *   t1vm1  tenant1  02:00:00:00:01:01  10.0.0.11, fd00::11      ofport 3
 *   t1vm2  tenant1  02:00:00:00:01:02  10.0.0.12, fd00::12      ofport 4
 *   t2vm1  tenant2  02:00:00:00:02:01  10.0.1.21, fd00:1::21    ofport 5
 *   t1vm3  tenant1  no binding (learning)                      ofport 6
 *   t1vm4  tenant1  02:00:00:00:01:04  10.0.0.14, 10.0.0.100,   ofport 7
 *                                      fd00::14, fd00::100
 *   t1vm5  tenant1  02:00:00:00:01:05  10.0.0.15, 10.0.0.100,   ofport 8
 *                                      fd00::15, fd00::100
 *          (t1vm4 and t1vm5 share a VRRP address, 10.0.0.100/fd00::100)
 *   eth1   uplink                                              ofport 1
 *   br0    internal (the host)                                 ofport 65534
 */
#ifndef VNM_TESTS_SPOOF_LAB_H
#define VNM_TESTS_SPOOF_LAB_H 1

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/fake-host.h"
#include "vnmon/flow.h"

#define LAB_HOST "hv1"
#define LAB_T0 UINT64_C(1714564800000) /* 2024-05-01T12:00:00Z. */

/* The inventory file of the lab. */
#define LAB_INVENTORY                                   \
    "[port \"t1vm1\"]\n"                                \
    "host = hv1\n"                                      \
    "tenant = tenant1\n"                                \
    "vm = vm-t1vm1\n"                                   \
    "iface_id = if-t1vm1\n"                             \
    "ofport = 3\n"                                      \
    "bridge = br0\n"                                    \
    "macs = 02:00:00:00:01:01\n"                        \
    "ips = 10.0.0.11, fd00::11\n"                       \
    "[port \"t1vm2\"]\n"                                \
    "host = hv1\n"                                      \
    "tenant = tenant1\n"                                \
    "vm = vm-t1vm2\n"                                   \
    "ofport = 4\n"                                      \
    "bridge = br0\n"                                    \
    "macs = 02:00:00:00:01:02\n"                        \
    "ips = 10.0.0.12, fd00::12\n"                       \
    "[port \"t2vm1\"]\n"                                \
    "host = hv1\n"                                      \
    "tenant = tenant2\n"                                \
    "vm = vm-t2vm1\n"                                   \
    "ofport = 5\n"                                      \
    "bridge = br0\n"                                    \
    "macs = 02:00:00:00:02:01\n"                        \
    "ips = 10.0.1.21, fd00:1::21\n"                     \
    "[port \"t1vm3\"]\n"                                \
    "host = hv1\n"                                      \
    "tenant = tenant1\n"                                \
    "vm = vm-t1vm3\n"                                   \
    "ofport = 6\n"                                      \
    "bridge = br0\n"                                    \
    "[port \"t1vm4\"]\n"                                \
    "host = hv1\n"                                      \
    "tenant = tenant1\n"                                \
    "vm = vm-t1vm4\n"                                   \
    "ofport = 7\n"                                      \
    "macs = 02:00:00:00:01:04\n"                        \
    "ips = 10.0.0.14, 10.0.0.100, fd00::14, fd00::100\n" \
    "[port \"t1vm5\"]\n"                                \
    "host = hv1\n"                                      \
    "tenant = tenant1\n"                                \
    "vm = vm-t1vm5\n"                                   \
    "ofport = 8\n"                                      \
    "macs = 02:00:00:00:01:05\n"                        \
    "ips = 10.0.0.15, 10.0.0.100, fd00::15, fd00::100\n" \
    "[port \"eth1\"]\n"                                 \
    "host = hv1\n"                                      \
    "type = uplink\n"                                   \
    "ofport = 1\n"                                      \
    "bridge = br0\n"                                    \
    "[port \"br0\"]\n"                                  \
    "host = hv1\n"                                      \
    "type = internal\n"                                 \
    "ofport = 65534\n"                                  \
    "bridge = br0\n"

/* The network view's configuration: bindings are declared only. */
#define LAB_TENANCY "[tenancy]\nlearn = off\n"

/* The attributions of the lab's ports, as the agent gives them (t1vm2's
 * without tenant, which a detector fills in from the view). */
static const struct vnm_attribution lab_t1vm1 = {
    .port = "t1vm1", .ofport = 3, .iface_id = "if-t1vm1", .vm = "vm-t1vm1",
    .tenant = "tenant1",
};
static const struct vnm_attribution lab_t1vm2 = {
    .port = "t1vm2", .ofport = 4, .vm = "vm-t1vm2",
};
static const struct vnm_attribution lab_t2vm1 = {
    .port = "t2vm1", .ofport = 5, .vm = "vm-t2vm1", .tenant = "tenant2",
};
static const struct vnm_attribution lab_t1vm3 = {
    .port = "t1vm3", .ofport = 6,
};
static const struct vnm_attribution lab_t1vm4 = {
    .port = "t1vm4", .ofport = 7, .vm = "vm-t1vm4", .tenant = "tenant1",
};
static const struct vnm_attribution lab_t1vm5 = {
    .port = "t1vm5", .ofport = 8, .vm = "vm-t1vm5", .tenant = "tenant1",
};
static const struct vnm_attribution lab_eth1 = {
    .port = "eth1", .ofport = 1,
};
static const struct vnm_attribution lab_nowhere = {
    .ofport = -1,
};

/* Creates the fake host of detector 'name' with its section 'section'
 * (may be "") and the lab's inventory. */
static inline struct fake_host *
lab_host(const char *name, const char *section)
{
    char text[1024];
    struct fake_host *fh;

    snprintf(text, sizeof text, "%s[detector \"%s\"]\n%s", LAB_TENANCY,
             name, section);
    fh = fake_host_create("detector", name, text);
    fake_host_set_inventory(fh, LAB_INVENTORY);
    fh->now_ms = LAB_T0;
    return fh;
}

/* Parses address 's' (IPv4 or IPv6). */
static inline struct vnm_addr
lab_addr(const char *s)
{
    struct vnm_addr a;

    memset(&a, 0, sizeof a);
    a.family = strchr(s, ':') ? 6 : 4;
    if (inet_pton(a.family == 4 ? AF_INET : AF_INET6, s, a.a) != 1) {
        fail_msg("bad address %s", s);
    }
    return a;
}

/* Parses MAC 's'. */
static inline void
lab_mac(const char *s, uint8_t mac[6])
{
    unsigned m[6];

    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
               &m[5]) != 6) {
        fail_msg("bad MAC %s", s);
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = m[i];
    }
}

/* A flow record of hypervisor hv1, id 'id', whose initiator entered on
 * 'in' with MAC 'mac' and sent 'packets' frames of 100 bytes; EtherType
 * 'eth_type', IP protocol 'ip_proto'.  Its responder side is empty. */
static inline struct vnm_flow
lab_flow(uint64_t id, uint16_t eth_type, uint8_t ip_proto,
         const struct vnm_attribution *in, const char *mac, uint64_t packets)
{
    struct vnm_flow f;

    memset(&f, 0, sizeof f);
    f.id = id;
    f.first_ms = LAB_T0;
    f.last_ms = LAB_T0 + 100;
    f.event = VNM_FLOW_UPDATE;
    f.eth_type = eth_type;
    f.ip_proto = ip_proto;
    snprintf(f.host, sizeof f.host, "%s", LAB_HOST);
    f.src.in = *in;
    lab_mac(mac, f.src.mac);
    f.src.packets = packets;
    f.src.bytes = packets * 100;
    f.dst.in = lab_nowhere;
    return f;
}

/* An IP flow ('ip_proto') from 'src':'sport' to 'dst':'dport'. */
static inline struct vnm_flow
lab_ip_flow(uint64_t id, uint8_t ip_proto,
            const struct vnm_attribution *in, const char *mac,
            const char *src, uint16_t sport, const char *dst, uint16_t dport,
            uint64_t packets)
{
    struct vnm_flow f = lab_flow(id, strchr(src, ':') ? 0x86dd : 0x0800,
                                 ip_proto, in, mac, packets);

    f.src.ip = lab_addr(src);
    f.src.port = sport;
    f.dst.ip = lab_addr(dst);
    f.dst.port = dport;
    return f;
}

/* Makes the responder of 'f' answer from port 'in' and MAC 'mac' with
 * 'packets' frames of 100 bytes. */
static inline void
lab_answer(struct vnm_flow *f, const struct vnm_attribution *in,
           const char *mac, uint64_t packets)
{
    f->dst.in = *in;
    lab_mac(mac, f->dst.mac);
    f->dst.packets = packets;
    f->dst.bytes = packets * 100;
}

/* An ARP flow: what port 'in' sent from MAC 'mac' with sender MAC 'sha',
 * sender IP 'spa' and target IP 'tpa'; 'arp' is VNM_ARP_*. */
static inline struct vnm_flow
lab_arp_flow(uint64_t id, const struct vnm_attribution *in, const char *mac,
             uint8_t arp, const char *sha, const char *spa, const char *tpa,
             uint64_t packets)
{
    struct vnm_flow f = lab_flow(id, 0x0806, 0, in, mac, packets);

    f.src.ip = lab_addr(spa);
    f.dst.ip = lab_addr(tpa);
    f.src_ctl.arp = arp;
    lab_mac(sha, f.src_ctl.arp_sha);
    return f;
}

/* An ICMPv6 Neighbor Discovery flow: port 'in' sent ND messages 'nd'
 * (VNM_ND_*) from 'src' to 'dst' with target 'target' (or null) and
 * link-layer option 'lladdr' (or null). */
static inline struct vnm_flow
lab_nd_flow(uint64_t id, const struct vnm_attribution *in, const char *mac,
            const char *src, const char *dst, uint8_t nd, const char *target,
            const char *lladdr, uint64_t packets)
{
    struct vnm_flow f = lab_ip_flow(id, 58, in, mac, src, 0, dst, 0,
                                    packets);

    f.src_ctl.nd = nd;
    if (target) {
        struct vnm_addr t = lab_addr(target);

        memcpy(f.src_ctl.nd_target, t.a, 16);
    }
    if (lladdr) {
        f.src_ctl.has_nd_lladdr = 1;
        lab_mac(lladdr, f.src_ctl.nd_lladdr);
    }
    f.src_ctl.has_icmp = 1;
    f.src_ctl.icmp_type = (nd & VNM_ND_RS ? 133 : nd & VNM_ND_RA ? 134
                           : nd & VNM_ND_NS ? 135 : nd & VNM_ND_NA ? 136
                           : 137);
    return f;
}

/* The same record, later: 'packets' more frames from the initiator. */
static inline void
lab_more(struct vnm_flow *f, uint64_t packets)
{
    f->src.packets += packets;
    f->src.bytes += packets * 100;
    f->last_ms += 1000;
}

#endif /* spoof-lab.h */

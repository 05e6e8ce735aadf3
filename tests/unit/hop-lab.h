/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small two-tenant network for the unit tests of the detectors
 * "vlan-hop", "vxlan-hop", "isolation" and "new-port"
 * (tests/unit/test-detect-{vlan-hop,vxlan-hop,isolation,new-port}.c): its
 * inventory and policy text for the fake host, and a builder of the flow
 * records the agent would publish.
 *
 * Hypervisor "hv1", bridge br0:
 *   t1vm1   tenant1  10.0.0.11  access, tag 101            ofport 3
 *   t1vm2   tenant1  10.0.0.12  access, tag 101            ofport 4
 *   t2vm1   tenant2  10.0.0.21  access, tag 102            ofport 5
 *   t2vm2   tenant2  10.0.0.22  OVS default mode (no tag)  ofport 6
 *   trunk1  tenant1  10.0.0.13  trunk, trunks 101, 111     ofport 7
 *   native1 tenant1  10.0.0.14  native-untagged, tag 101,  ofport 8
 *                               trunks 111
 *   host0   internal 10.0.0.1                               ofport 65534
 *   vx-t2   tunnel   vxlan vni 5002 to 192.168.100.2,      ofport 9
 *                    tenant2
 *   ul0     uplink                                          ofport 1
 * Policy: the host (10.0.0.1, fd00::1) is protected, with DHCP, DNS and
 * ICMP as host services; tenant1 may reach tenant2 on tcp/443.
 */
#ifndef VNM_TESTS_HOP_LAB_H
#define VNM_TESTS_HOP_LAB_H 1

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/fake-host.h"
#include "vnmon/flow.h"

#define HOP_HOST "hv1"
#define HOP_T0 UINT64_C(1714564800000) /* 2024-05-01T12:00:00Z. */

#define HOP_INVENTORY                                                   \
    "[port \"t1vm1\"]\nhost = hv1\ntenant = tenant1\nvm = vm-t1vm1\n"   \
    "iface_id = if-t1vm1\nofport = 3\nbridge = br0\n"                   \
    "macs = 02:00:00:00:01:01\nips = 10.0.0.11\n"                       \
    "vlan_mode = access\ntag = 101\n"                                   \
    "[port \"t1vm2\"]\nhost = hv1\ntenant = tenant1\nvm = vm-t1vm2\n"   \
    "ofport = 4\nbridge = br0\nips = 10.0.0.12\ntag = 101\n"            \
    "[port \"t2vm1\"]\nhost = hv1\ntenant = tenant2\nvm = vm-t2vm1\n"   \
    "ofport = 5\nbridge = br0\nips = 10.0.0.21\ntag = 102\n"            \
    "[port \"t2vm2\"]\nhost = hv1\ntenant = tenant2\nvm = vm-t2vm2\n"   \
    "ofport = 6\nbridge = br0\nips = 10.0.0.22\n"                       \
    "[port \"trunk1\"]\nhost = hv1\ntenant = tenant1\nvm = vm-trunk1\n" \
    "ofport = 7\nbridge = br0\nips = 10.0.0.13\n"                       \
    "vlan_mode = trunk\ntrunks = 101, 111\n"                            \
    "[port \"native1\"]\nhost = hv1\ntenant = tenant1\n"                \
    "vm = vm-native1\nofport = 8\nbridge = br0\nips = 10.0.0.14\n"      \
    "vlan_mode = native-untagged\ntag = 101\ntrunks = 111\n"            \
    "[port \"host0\"]\nhost = hv1\ntype = internal\nofport = 65534\n"   \
    "bridge = br0\nips = 10.0.0.1\n"                                    \
    "[port \"vx-t2\"]\nhost = hv1\ntype = tunnel\ntunnel_type = vxlan\n" \
    "vni = 5002\nremote_ip = 192.168.100.2\ntenant = tenant2\n"         \
    "ofport = 9\nbridge = br0\n"                                        \
    "[port \"ul0\"]\nhost = hv1\ntype = uplink\nofport = 1\n"           \
    "bridge = br-ul\n"

#define HOP_POLICY                                                      \
    "[protected \"host\"]\n"                                            \
    "prefixes = 10.0.0.1/32, fd00::1/128\n"                             \
    "services = udp/67, udp/53, tcp/53, udp/547, icmp\n"                \
    "[allow \"web\"]\n"                                                 \
    "from = tenant1\n"                                                  \
    "to = tenant2\n"                                                    \
    "services = tcp/443\n"

/* The attribution the agent gives a frame that entered on 'port' (one of
 * the lab's), with the identity of its inventory. */
static inline struct vnm_attribution
hop_in(const char *port)
{
    struct vnm_attribution in;

    memset(&in, 0, sizeof in);
    snprintf(in.port, sizeof in.port, "%s", port);
    in.ofport = -1;
    if (!strcmp(port, "host0") || !strcmp(port, "vx-t2")
        || !strcmp(port, "ul0")) {
        return in;
    }
    snprintf(in.vm, sizeof in.vm, "vm-%s", port);
    snprintf(in.tenant, sizeof in.tenant, "%s",
             port[1] == '2' ? "tenant2" : "tenant1");
    return in;
}

static inline struct vnm_addr
hop_ip(const char *s)
{
    struct vnm_addr a;

    memset(&a, 0, sizeof a);
    if (inet_pton(AF_INET, s, a.a) == 1) {
        a.family = 4;
    } else if (inet_pton(AF_INET6, s, a.a) == 1) {
        a.family = 6;
    }
    return a;
}

/* A flow 'id' on "hv1" from 'src_port' ('src_ip':'sport') to 'dst_ip':'dport'
 * over IP protocol 'proto', the initiator having sent 'packets' frames of
 * 100 bytes and the responder 'answers' (entering on 'dst_port', "" if
 * none). */
static inline struct vnm_flow
hop_flow(uint64_t id, const char *src_port, const char *src_ip,
         uint16_t sport, const char *dst_port, const char *dst_ip,
         uint16_t dport, uint8_t proto, uint64_t packets, uint64_t answers)
{
    struct vnm_flow f;

    memset(&f, 0, sizeof f);
    f.id = id;
    f.first_ms = HOP_T0;
    f.last_ms = HOP_T0 + 100;
    f.event = VNM_FLOW_UPDATE;
    f.ip_proto = proto;
    f.src.ip = hop_ip(src_ip);
    f.eth_type = f.src.ip.family == 6 ? 0x86dd : 0x0800;
    f.src.port = sport;
    f.src.packets = packets;
    f.src.bytes = packets * 100;
    f.src.in = hop_in(src_port);
    f.dst.ip = hop_ip(dst_ip);
    f.dst.port = dport;
    f.dst.packets = answers;
    f.dst.bytes = answers * 100;
    if (dst_port[0]) {
        f.dst.in = hop_in(dst_port);
    } else {
        f.dst.in.ofport = -1;
    }
    snprintf(f.host, sizeof f.host, "%s", HOP_HOST);
    return f;
}

/* Appends a tag of type 'tpid' with VLAN 'vid' inside the tags 'f' has. */
static inline void
hop_tag(struct vnm_flow *f, uint16_t tpid, uint16_t vid)
{
    f->vlan[f->n_vlan_tags].tpid = tpid;
    f->vlan[f->n_vlan_tags].tci = vid;
    f->n_vlan_tags++;
}

#endif /* hop-lab.h */

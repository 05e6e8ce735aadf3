/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the detectors' helpers (analyzer/detect-util.c): address
 * formatting, evidence lines of every kind of flow side, incident keys,
 * severities, the per-flow delta tracker and the emission rate limiter.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "analyzer/detect-util.h"
#include "vnmon/flow.h"
#include "vnmon/net.h"
#include "vnmon/plugin.h"

static const struct vnm_attribution t1vm1 = {
    .port = "t1vm1", .ofport = 3, .tenant = "tenant1",
};
static const struct vnm_attribution t1vm2 = {
    .port = "t1vm2", .ofport = 4, .tenant = "tenant1",
};

static struct vnm_addr
addr(const char *s)
{
    struct vnm_addr a = { .family = strchr(s, ':') ? 6 : 4 };

    assert_int_equal(inet_pton(a.family == 4 ? AF_INET : AF_INET6, s, a.a),
                     1);
    return a;
}

static void
set_mac(uint8_t mac[6], uint8_t last)
{
    static const uint8_t base[6] = { 0x02, 0, 0, 0, 0x01, 0 };

    memcpy(mac, base, 6);
    mac[5] = last;
}

/* A TCP flow t1vm1 10.0.0.11:40000 -> t1vm2 10.0.0.12:80. */
static struct vnm_flow
tcp_flow(void)
{
    struct vnm_flow f;

    memset(&f, 0, sizeof f);
    f.id = 7;
    f.first_ms = 1000;
    f.eth_type = 0x0800;
    f.ip_proto = 6;
    snprintf(f.host, sizeof f.host, "hv1");
    f.src.ip = addr("10.0.0.11");
    f.src.port = 40000;
    set_mac(f.src.mac, 0x01);
    f.src.tcp_flags = 0x02;
    f.src.packets = 3;
    f.src.bytes = 180;
    f.src.in = t1vm1;
    f.dst.ip = addr("10.0.0.12");
    f.dst.port = 80;
    set_mac(f.dst.mac, 0x02);
    f.dst.tcp_flags = 0x12;
    f.dst.packets = 2;
    f.dst.bytes = 120;
    f.dst.in = t1vm2;
    return f;
}

static void
test_format(void **state)
{
    uint8_t mac[6] = { 0x02, 0xab, 0, 0, 0x01, 0xff };
    struct vnm_addr none = { .family = 0 };
    struct vnm_addr v4 = addr("10.0.0.11"), v6 = addr("fd00::11");
    char mbuf[18], abuf[46];

    (void) state;
    assert_string_equal(du_mac(mac, mbuf), "02:ab:00:00:01:ff");
    assert_string_equal(du_addr(&v4, abuf), "10.0.0.11");
    assert_string_equal(du_addr(&v6, abuf), "fd00::11");
    assert_string_equal(du_addr(&none, abuf), "-");
}

static void
test_evidence_tcp(void **state)
{
    struct vnm_flow f = tcp_flow();
    char buf[256];

    (void) state;
    f.n_vlan_tags = 1;
    f.vlan[0].tpid = 0x8100;
    f.vlan[0].tci = 0x200a;     /* PCP 1, VID 10. */
    du_evidence(&f, true, buf, sizeof buf);
    assert_string_equal(buf, "t1vm1 ofport 3 02:00:00:00:01:01 > "
                        "02:00:00:00:01:02 | 802.1Q vlan 10 | IPv4 "
                        "10.0.0.11:40000 > 10.0.0.12:80 TCP [S] | 3 pkts "
                        "180 B");
    du_evidence(&f, false, buf, sizeof buf);
    assert_string_equal(buf, "t1vm2 ofport 4 02:00:00:00:01:02 > "
                        "02:00:00:00:01:01 | 802.1Q vlan 10 | IPv4 "
                        "10.0.0.12:80 > 10.0.0.11:40000 TCP [S.] | 2 pkts "
                        "120 B");

    /* Truncation keeps the string terminated. */
    du_evidence(&f, true, buf, 10);
    assert_string_equal(buf, "t1vm1 ofp");
    du_evidence(&f, true, buf, 1);
    assert_string_equal(buf, "");
}

static void
test_evidence_ipv6_udp_unknown_port(void **state)
{
    struct vnm_flow f = tcp_flow();
    char buf[256];

    (void) state;
    f.eth_type = 0x86dd;
    f.ip_proto = 17;
    f.src.ip = addr("fd00::11");
    f.dst.ip = addr("fd00::12");
    f.src.port = 5353;
    f.dst.port = 53;
    memset(f.dst.mac, 0, 6);
    f.src.in.port[0] = '\0';
    f.src.in.ofport = -1;
    f.n_vlan_tags = 2;
    f.vlan[0].tpid = 0x88a8;
    f.vlan[0].tci = 100;
    f.vlan[1].tpid = 0x8100;
    f.vlan[1].tci = 20;
    du_evidence(&f, true, buf, sizeof buf);
    assert_string_equal(buf, "? 02:00:00:00:01:01 | 802.1ad vlan 100, "
                        "802.1Q vlan 20 | IPv6 [fd00::11]:5353 > "
                        "[fd00::12]:53 UDP | 3 pkts 180 B");
}

static void
test_evidence_arp(void **state)
{
    struct vnm_flow f;
    char buf[256];

    (void) state;
    memset(&f, 0, sizeof f);
    f.eth_type = 0x0806;
    f.src.in = t1vm1;
    set_mac(f.src.mac, 0x01);
    f.src.ip = addr("10.0.0.21");
    f.dst.ip = addr("10.0.0.12");
    f.src.packets = 4;
    f.src.bytes = 168;
    f.dst.in.ofport = -1;
    f.src_ctl.arp = VNM_ARP_REPLY;
    set_mac(f.src_ctl.arp_sha, 0x01);
    du_evidence(&f, true, buf, sizeof buf);
    assert_string_equal(buf, "t1vm1 ofport 3 02:00:00:00:01:01 | ARP reply "
                        "10.0.0.21 is-at 02:00:00:00:01:01 to 10.0.0.12 | "
                        "4 pkts 168 B");

    f.src_ctl.arp = VNM_ARP_REQUEST | VNM_ARP_GRATUITOUS
                    | VNM_ARP_SHA_MISMATCH;
    f.dst.ip = f.src.ip;
    set_mac(f.src_ctl.arp_sha, 0x09);
    du_evidence(&f, true, buf, sizeof buf);
    assert_string_equal(buf, "t1vm1 ofport 3 02:00:00:00:01:01 | ARP "
                        "gratuitous request who-has 10.0.0.21 tell "
                        "10.0.0.21 (02:00:00:00:01:09), sender MAC not the "
                        "Ethernet source | 4 pkts 168 B");
}

static void
test_evidence_nd_dhcp_icmp(void **state)
{
    struct vnm_flow f = tcp_flow();
    struct vnm_addr target = addr("fd00::12");
    char buf[256];

    (void) state;
    f.eth_type = 0x86dd;
    f.ip_proto = 58;
    f.src.ip = addr("fe80::1");
    f.dst.ip = addr("ff02::1");
    f.src.port = f.dst.port = 0;
    memset(&f.dst, 0, sizeof f.dst);
    f.dst.ip = addr("ff02::1");
    f.src_ctl.nd = VNM_ND_NA;
    f.src_ctl.nd_flags = 0x20;
    memcpy(f.src_ctl.nd_target, target.a, 16);
    f.src_ctl.has_nd_lladdr = 1;
    set_mac(f.src_ctl.nd_lladdr, 0x01);
    du_evidence(&f, true, buf, sizeof buf);
    assert_string_equal(buf, "t1vm1 ofport 3 02:00:00:00:01:01 | IPv6 "
                        "fe80::1 > ff02::1 ICMPv6 NA target fd00::12 [O] "
                        "tll 02:00:00:00:01:01 | 3 pkts 180 B");

    f.src_ctl.nd = VNM_ND_RA;
    f.src_ctl.nd_flags = 0xc0;
    du_evidence(&f, true, buf, sizeof buf);
    assert_string_equal(buf, "t1vm1 ofport 3 02:00:00:00:01:01 | IPv6 "
                        "fe80::1 > ff02::1 ICMPv6 RA [MO] sll "
                        "02:00:00:00:01:01 | 3 pkts 180 B");

    memset(&f.src_ctl, 0, sizeof f.src_ctl);
    f.ip_proto = 1;
    f.src.ip = addr("10.0.0.11");
    f.dst.ip = addr("10.0.0.12");
    f.src_ctl.has_icmp = 1;
    f.src_ctl.icmp_type = 8;
    du_evidence(&f, true, buf, sizeof buf);
    assert_string_equal(buf, "t1vm1 ofport 3 02:00:00:00:01:01 | IPv4 "
                        "10.0.0.11 > 10.0.0.12 ICMP type 8 code 0 | 3 pkts "
                        "180 B");

    memset(&f.src_ctl, 0, sizeof f.src_ctl);
    f.ip_proto = 17;
    f.src.ip = addr("10.0.0.11");
    f.dst.ip = addr("255.255.255.255");
    f.src.port = 67;
    f.dst.port = 68;
    f.src_ctl.dhcp_types = 1u << 2 | 1u << 5;
    du_evidence(&f, true, buf, sizeof buf);
    assert_string_equal(buf, "t1vm1 ofport 3 02:00:00:00:01:01 | IPv4 "
                        "10.0.0.11:67 > 255.255.255.255:68 UDP DHCP "
                        "OFFER,ACK | 3 pkts 180 B");

    f.src_ctl.dhcpv6 = 1;
    f.src_ctl.dhcp_types = 1u << 7 | 1u << 20;
    du_evidence(&f, true, buf, sizeof buf);
    assert_non_null(strstr(buf, "UDP DHCPv6 REPLY,type 20 |"));

    f.eth_type = 0x88cc;
    f.ip_proto = 0;
    memset(&f.src.ip, 0, sizeof f.src.ip);
    memset(&f.src_ctl, 0, sizeof f.src_ctl);
    du_evidence(&f, true, buf, sizeof buf);
    assert_string_equal(buf, "t1vm1 ofport 3 02:00:00:00:01:01 | EtherType "
                        "0x88cc | 3 pkts 180 B");
}

static void
test_evidence_tunnel(void **state)
{
    struct vnm_flow f = tcp_flow();
    char buf[256];

    (void) state;
    f.tunnel_type = 1;
    f.vni = 5002;
    f.outer.src_ip = addr("10.0.0.11");
    f.outer.dst_ip = addr("192.168.100.2");
    f.outer.src_port = 4242;
    f.outer.dst_port = 4789;
    du_evidence(&f, true, buf, sizeof buf);
    assert_string_equal(buf, "t1vm1 ofport 3 02:00:00:00:01:01 > "
                        "02:00:00:00:01:02 | VXLAN vni 5002 outer "
                        "10.0.0.11:4242 > 192.168.100.2:4789 | IPv4 "
                        "10.0.0.11:40000 > 10.0.0.12:80 TCP [S] | 3 pkts "
                        "180 B");
    du_evidence(&f, false, buf, sizeof buf);
    assert_non_null(strstr(buf, "| VXLAN vni 5002 outer 192.168.100.2:4789 "
                           "> 10.0.0.11:4242 |"));

    f.tunnel_type = 3;
    f.outer.src_port = f.outer.dst_port = 0;
    du_evidence(&f, true, buf, sizeof buf);
    assert_non_null(strstr(buf, "| GRE key 5002 outer 10.0.0.11 > "
                           "192.168.100.2 |"));
}

static void
test_key_severity(void **state)
{
    struct vnm_flow f = tcp_flow();
    struct vnm_attribution none = { .ofport = -1 };
    enum vnm_severity sev = VNM_SEV_INFO;
    char buf[128];

    (void) state;
    assert_string_equal(du_key(&f, &t1vm1, "10.0.0.99", buf, sizeof buf),
                        "hv1/t1vm1>10.0.0.99");
    assert_string_equal(du_key(&f, &none, "x", buf, sizeof buf), "hv1/?>x");
    assert_string_equal(du_key(&f, &t1vm1, "10.0.0.99", buf, 8), "hv1/t1v");

    assert_true(du_severity("high", &sev));
    assert_int_equal(sev, VNM_SEV_HIGH);
    assert_true(du_severity("info", &sev));
    assert_int_equal(sev, VNM_SEV_INFO);
    assert_false(du_severity("urgent", &sev));
    assert_int_equal(sev, VNM_SEV_INFO);
}

static void
test_addresses_ports(void **state)
{
    static const uint8_t macs[2][6] = {
        { 2, 0, 0, 0, 1, 1 }, { 2, 0, 0, 0, 1, 0x11 },
    };
    struct vnm_prefix ips[3];
    struct vnm_port port = {
        .name = "t1vm1", .vm = "vm-1", .iface_id = "", .tenant = "tenant1",
        .ofport = 3, .kind = VNM_PORT_VM,
        .n_macs = 2, .macs = macs, .n_ips = 3, .ips = ips,
    };
    struct vnm_attribution in = { .port = "t1vm1", .ofport = -1,
                                  .iface_id = "if-1" };
    struct vnm_attribution out;
    struct vnm_addr a;
    char buf[128];

    (void) state;
    ips[0] = (struct vnm_prefix) { .addr = addr("10.0.0.11"), .len = 32 };
    ips[1] = (struct vnm_prefix) { .addr = addr("fd00::11"), .len = 128 };
    ips[2] = (struct vnm_prefix) { .addr = addr("10.1.0.0"), .len = 24 };
    assert_string_equal(du_port_ips(&port, buf, sizeof buf),
                        "10.0.0.11, fd00::11, 10.1.0.0/24");
    assert_string_equal(du_port_macs(&port, buf, sizeof buf),
                        "02:00:00:00:01:01, 02:00:00:00:01:11");
    a = addr("10.1.0.200");
    assert_true(du_port_has_ip(&port, &a));
    a = addr("10.1.1.1");
    assert_false(du_port_has_ip(&port, &a));
    a = addr("fd00::11");
    assert_true(du_port_has_ip(&port, &a));
    a = addr("fd00::12");
    assert_false(du_port_has_ip(&port, &a));
    ips[2].len = 23;
    a = addr("10.1.1.1");
    assert_true(du_port_has_ip(&port, &a));
    a = addr("10.1.2.1");
    assert_false(du_port_has_ip(&port, &a));
    port.ip_source = VNM_BINDING_LEARNED;
    port.mac_source = VNM_BINDING_DECLARED;
    ips[2].len = 24;
    assert_string_equal(du_port_binding(&port, buf, sizeof buf),
                        "t1vm1 binding: IPs 10.0.0.11, fd00::11, 10.1.0.0/24 "
                        "(learned); MACs 02:00:00:00:01:01, "
                        "02:00:00:00:01:11");
    ips[2].len = 23;
    port.n_ips = port.n_macs = 0;
    assert_string_equal(du_port_ips(&port, buf, sizeof buf), "none");
    assert_string_equal(du_port_macs(&port, buf, sizeof buf), "none");

    assert_ptr_equal(du_attribution(&in, &port, &out), &out);
    assert_string_equal(out.port, "t1vm1");
    assert_string_equal(out.vm, "vm-1");
    assert_string_equal(out.iface_id, "if-1");
    assert_string_equal(out.tenant, "tenant1");
    assert_int_equal(out.ofport, 3);
    assert_ptr_equal(du_attribution(&in, NULL, &out), &in);
    /* Nothing to add: the original. */
    assert_ptr_equal(du_attribution(&out, &port, &in), &out);

    a = addr("0.0.0.0");
    assert_true(du_addr_is_unspecified(&a));
    a = addr("::");
    assert_true(du_addr_is_unspecified(&a));
    assert_false(du_addr_is_link_local(&a));
    a = addr("fe80::1");
    assert_false(du_addr_is_unspecified(&a));
    assert_true(du_addr_is_link_local(&a));
    a = addr("febf::1");
    assert_true(du_addr_is_link_local(&a));
    a = addr("fec0::1");
    assert_false(du_addr_is_link_local(&a));
    a = addr("10.0.0.1");
    assert_false(du_addr_is_unspecified(&a));
    assert_false(du_addr_is_link_local(&a));
    memset(&a, 0, sizeof a);
    assert_true(du_addr_is_unspecified(&a));

    assert_true(du_list_has_port("t1vm3", "hv1", "t1vm3"));
    assert_true(du_list_has_port("a, t1vm3", "hv1", "t1vm3"));
    assert_true(du_list_has_port(" a,,hv1/t1vm3 b", "hv1", "t1vm3"));
    assert_false(du_list_has_port("hv2/t1vm3", "hv1", "t1vm3"));
    assert_false(du_list_has_port("t1vm33, t1vm", "hv1", "t1vm3"));
    assert_false(du_list_has_port("", "hv1", "t1vm3"));
    assert_false(du_list_has_port(NULL, "hv1", "t1vm3"));
    assert_true(du_list_has_port("/t1vm3", "", "t1vm3"));
}

static void
test_same_vm_reasons(void **state)
{
    struct vnm_port a = { .name = "t1vm1", .vm = "vm-1" };
    struct vnm_port b = { .name = "t1vm1b", .vm = "vm-1" };
    struct vnm_port c = { .name = "t1vm2", .vm = "" };
    struct vnm_port d = { .name = "t1vm3", .vm = "" };
    struct du_reasons r = { .n = 0 };
    char buf[64];
    int len;

    (void) state;
    assert_true(du_same_vm(&a, &a));
    assert_true(du_same_vm(&a, &b));
    assert_true(du_same_vm(&c, &c));
    assert_false(du_same_vm(&a, &c));
    assert_false(du_same_vm(&c, &d));   /* No VM name: ports differ. */

    len = snprintf(buf, sizeof buf, "x:");
    du_reasons_append(&r, buf, sizeof buf, len);
    assert_string_equal(buf, "x:");
    for (int i = 0; i < DU_MAX_REASONS + 1; i++) {
        du_reason_add(&r, "r%d", i);
    }
    assert_int_equal(r.n, DU_MAX_REASONS);
    du_reasons_append(&r, buf, sizeof buf, len);
    assert_string_equal(buf, "x: r0; r1; r2; r3");
    du_reasons_append(&r, buf, 8, len);    /* Truncated. */
    assert_string_equal(buf, "x: r0; ");
}

static void
test_deltas(void **state)
{
    struct du_deltas *d = du_deltas_create(4);
    struct vnm_flow f = tcp_flow();
    uint64_t p, b;

    (void) state;
    assert_non_null(d);

    /* First record: everything; same record again: nothing. */
    du_delta(d, &f, true, &p, &b);
    assert_int_equal(p, 3);
    assert_int_equal(b, 180);
    du_delta(d, &f, true, &p, &b);
    assert_int_equal(p, 0);
    assert_int_equal(b, 0);
    /* The other side is tracked on its own. */
    du_delta(d, &f, false, &p, &b);
    assert_int_equal(p, 2);
    assert_int_equal(b, 120);

    /* An update, then the END record. */
    f.src.packets = 10;
    f.src.bytes = 600;
    du_delta(d, &f, true, &p, &b);
    assert_int_equal(p, 7);
    assert_int_equal(b, 420);
    f.event = VNM_FLOW_END_IDLE;
    f.src.packets = 11;
    f.src.bytes = 660;
    du_delta(d, &f, true, &p, &b);
    assert_int_equal(p, 1);
    assert_int_equal(b, 60);
    du_delta(d, &f, false, &p, &b);
    assert_int_equal(p, 0);
    assert_int_equal(b, 0);
    assert_int_equal(du_deltas_count(d), 1);

    /* The same id on another host is another flow. */
    snprintf(f.host, sizeof f.host, "hv2");
    f.event = VNM_FLOW_UPDATE;
    du_delta(d, &f, true, &p, &b);
    assert_int_equal(p, 11);
    assert_int_equal(du_deltas_count(d), 2);

    /* The same id with another start (agent restart) starts over, and so
     * does a counter going backwards. */
    f.first_ms = 5000;
    f.src.packets = 2;
    f.src.bytes = 100;
    du_delta(d, &f, true, &p, &b);
    assert_int_equal(p, 2);
    assert_int_equal(b, 100);
    f.src.packets = 1;
    f.src.bytes = 50;
    du_delta(d, &f, true, &p, &b);
    assert_int_equal(p, 1);
    assert_int_equal(b, 50);

    /* Bounded: ended flows go first, then the least recently seen. */
    snprintf(f.host, sizeof f.host, "hv1");
    for (uint64_t id = 100; id < 103; id++) {
        f.id = id;
        du_delta(d, &f, true, &p, &b);
        assert_int_equal(p, 1);
    }
    assert_int_equal(du_deltas_count(d), 4);
    /* Flow 7 of hv1 (ended) was forgotten first: it counts from zero. */
    f.id = 7;
    f.first_ms = 1000;
    f.src.packets = 11;
    f.src.bytes = 660;
    du_delta(d, &f, true, &p, &b);
    assert_int_equal(p, 11);
    assert_int_equal(du_deltas_count(d), 4);
    /* Then hv2's flow 7, the least recently seen: it counts from zero. */
    snprintf(f.host, sizeof f.host, "hv2");
    f.first_ms = 5000;
    f.src.packets = 1;
    f.src.bytes = 50;
    du_delta(d, &f, true, &p, &b);
    assert_int_equal(p, 1);
    /* Flow 102 is still known. */
    snprintf(f.host, sizeof f.host, "hv1");
    f.id = 102;
    du_delta(d, &f, true, &p, &b);
    assert_int_equal(p, 0);

    du_deltas_destroy(d);
    du_deltas_destroy(NULL);
}

static void
test_deltas_many(void **state)
{
    struct du_deltas *d = du_deltas_create(1000);
    struct vnm_flow f = tcp_flow();
    uint64_t p, b, total = 0;

    (void) state;
    /* 3000 flows of 3 updates each, interleaved by pairs. */
    for (uint64_t id = 0; id < 3000; id++) {
        for (uint64_t n = 1; n <= 3; n++) {
            f.id = id;
            f.src.packets = n;
            f.src.bytes = 60 * n;
            f.event = n == 3 ? VNM_FLOW_END_IDLE : VNM_FLOW_UPDATE;
            du_delta(d, &f, true, &p, &b);
            total += p;
        }
    }
    assert_int_equal(total, 9000);
    assert_true(du_deltas_count(d) <= 1000);
    du_deltas_destroy(d);
}

/* An entry in a recency list. */
struct lru_item {
    int id;
    struct du_lru_node lru;
};

/* Asserts that 'lru' holds the items 'ids' (of 'n'), newest first, linked
 * both ways. */
static void
check_lru(const struct du_lru *lru, const int *ids, size_t n)
{
    const struct du_lru_node *node = lru->newest, *newer = NULL;

    for (size_t i = 0; i < n; i++) {
        assert_non_null(node);
        assert_int_equal(DU_LRU_ENTRY(node, struct lru_item, lru)->id,
                         ids[i]);
        assert_ptr_equal(node->newer, newer);
        newer = node;
        node = node->older;
    }
    assert_null(node);
    assert_ptr_equal(lru->oldest, newer);
}

static void
test_lru_hash(void **state)
{
    struct lru_item items[3] = { { .id = 0 }, { .id = 1 }, { .id = 2 } };
    struct du_lru lru = { NULL, NULL };
    uint32_t id = 7;

    (void) state;
    check_lru(&lru, NULL, 0);
    du_lru_push_newest(&lru, &items[0].lru);
    du_lru_push_newest(&lru, &items[1].lru);
    du_lru_push_oldest(&lru, &items[2].lru);
    check_lru(&lru, (int[]) { 1, 0, 2 }, 3);

    /* Seen again: to the newest end. */
    du_lru_remove(&lru, &items[2].lru);
    du_lru_push_newest(&lru, &items[2].lru);
    check_lru(&lru, (int[]) { 2, 1, 0 }, 3);
    du_lru_remove(&lru, &items[1].lru);
    check_lru(&lru, (int[]) { 2, 0 }, 2);
    assert_null(items[1].lru.newer);
    assert_null(items[1].lru.older);
    du_lru_remove(&lru, &items[1].lru);     /* Not in it: no change. */
    check_lru(&lru, (int[]) { 2, 0 }, 2);
    du_lru_remove(&lru, &items[0].lru);
    du_lru_remove(&lru, &items[2].lru);
    check_lru(&lru, NULL, 0);

    /* FNV-1a 32 ("a" is 0xe40c292c); a port hashes as "HOST/PORT". */
    assert_int_equal(du_hash_bytes("a", 1), 0xe40c292cu);
    assert_int_equal(du_hash_bytes("", 0), 2166136261u);
    assert_int_equal(du_hash_port("hv1", "t1vm1"),
                     du_hash_bytes("hv1/t1vm1", 9));
    assert_int_not_equal(du_hash_port("hv1", "t1vm1"),
                         du_hash_port("hv1", "t1vm2"));
    assert_int_equal(du_hash_bytes(&id, sizeof id),
                     du_hash_bytes(&id, sizeof id));
}

/* Emission rate limiter. */

#define MAX_RECORDED 8

/* What the emitter delivered, as a sink would see it. */
struct recorded {
    char kind[32];
    char key[64];
    enum vnm_severity severity;
    char summary[64];
    char target[64];            /* "" for none. */
    char vm[32];                /* The VM's port, "" for none. */
    uint64_t packets;
    uint64_t bytes;
    uint32_t n_evidence;
    char evidence[VNM_ALERT_MAX_EVIDENCE][64];
};

/* A host that records the alerts it is given and has a settable clock. */
struct rec_host {
    struct vnm_host host;       /* First, so that the callbacks find us. */
    uint64_t now_ms;
    size_t n_alerts;            /* Alerts delivered, recorded or not. */
    struct recorded alerts[MAX_RECORDED]; /* The first MAX_RECORDED. */
};

static uint64_t
rec_now_ms(const struct vnm_host *host)
{
    return ((const struct rec_host *) host)->now_ms;
}

static int
rec_emit_alert(const struct vnm_host *host, const struct vnm_alert *alert)
{
    struct rec_host *rh = (struct rec_host *) host;

    if (rh->n_alerts < MAX_RECORDED) {
        struct recorded *r = &rh->alerts[rh->n_alerts];

        snprintf(r->kind, sizeof r->kind, "%s", alert->kind);
        snprintf(r->key, sizeof r->key, "%s", alert->key);
        r->severity = alert->severity;
        snprintf(r->summary, sizeof r->summary, "%s", alert->summary);
        snprintf(r->target, sizeof r->target, "%s",
                 alert->target ? alert->target : "");
        snprintf(r->vm, sizeof r->vm, "%s", alert->vm ? alert->vm->port : "");
        r->packets = alert->packets;
        r->bytes = alert->bytes;
        r->n_evidence = alert->n_evidence;
        assert_true(alert->n_evidence <= VNM_ALERT_MAX_EVIDENCE);
        for (uint32_t i = 0; i < alert->n_evidence; i++) {
            snprintf(r->evidence[i], sizeof r->evidence[i], "%s",
                     alert->evidence[i]);
        }
    }
    rh->n_alerts++;
    return 0;
}

static void
rec_host_init(struct rec_host *rh)
{
    memset(rh, 0, sizeof *rh);
    rh->host.size = sizeof rh->host;
    rh->host.now_ms = rec_now_ms;
    rh->host.emit_alert = rec_emit_alert;
}

static void
test_emitter_merge(void **state)
{
    static const char *evidence[5] = { "e0", "e1", "e2", "e3", "e4" };
    struct vnm_alert a = {
        .kind = "lateral", .key = "hv1/t1vm1>tcp/445",
        .severity = VNM_SEV_LOW, .summary = "s1", .vm = &t1vm1,
        .target = "tcp/445", .packets = 1, .bytes = 100, .n_evidence = 1,
        .evidence = { "first" },
    };
    struct du_emitter *e;
    struct rec_host rh;
    const struct recorded *r;

    (void) state;
    rec_host_init(&rh);
    e = du_emitter_create(&rh.host);
    assert_non_null(e);

    /* The first emission goes out at once, as given. */
    rh.now_ms = 1000;
    du_emitter_emit(e, &a);
    assert_int_equal(rh.n_alerts, 1);
    r = &rh.alerts[0];
    assert_string_equal(r->kind, "lateral");
    assert_string_equal(r->key, "hv1/t1vm1>tcp/445");
    assert_int_equal(r->severity, VNM_SEV_LOW);
    assert_string_equal(r->summary, "s1");
    assert_string_equal(r->target, "tcp/445");
    assert_string_equal(r->vm, "t1vm1");
    assert_int_equal(r->packets, 1);
    assert_int_equal(r->bytes, 100);
    assert_int_equal(r->n_evidence, 1);
    assert_string_equal(r->evidence[0], "first");
    assert_int_equal(du_emitter_count(e), 1);

    /* Within a second: merged, the highest severity and the latest
     * summary, target, VM and (at most DU_EMIT_EVIDENCE) evidence kept. */
    rh.now_ms = 1200;
    a.severity = VNM_SEV_HIGH;
    a.summary = "s2";
    a.packets = 2;
    a.bytes = 200;
    a.n_evidence = 5;
    for (int i = 0; i < 5; i++) {
        a.evidence[i] = evidence[i];
    }
    du_emitter_emit(e, &a);
    rh.now_ms = 1500;
    a.severity = VNM_SEV_MEDIUM;
    a.summary = "s3";
    a.target = NULL;
    a.vm = &t1vm2;
    a.packets = 3;
    a.bytes = 300;
    du_emitter_emit(e, &a);
    assert_int_equal(rh.n_alerts, 1);
    assert_int_equal(du_emitter_count(e), 1);

    /* A tick delivers it once a second has passed since the last one. */
    rh.now_ms = 1999;
    du_emitter_tick(e, 1999);
    assert_int_equal(rh.n_alerts, 1);
    rh.now_ms = 2000;
    du_emitter_tick(e, 2000);
    assert_int_equal(rh.n_alerts, 2);
    r = &rh.alerts[1];
    assert_string_equal(r->key, "hv1/t1vm1>tcp/445");
    assert_int_equal(r->severity, VNM_SEV_HIGH);
    assert_string_equal(r->summary, "s3");
    assert_string_equal(r->target, "");
    assert_string_equal(r->vm, "t1vm2");
    assert_int_equal(r->packets, 5);
    assert_int_equal(r->bytes, 500);
    assert_int_equal(r->n_evidence, DU_EMIT_EVIDENCE);
    assert_string_equal(r->evidence[0], "e0");
    assert_string_equal(r->evidence[3], "e3");
    du_emitter_tick(e, 2500);
    assert_int_equal(rh.n_alerts, 2);

    /* The flush counts as an emission: merged again until 3000, then an
     * emission goes out at once with what was merged, at the highest
     * severity seen since the last delivery. */
    rh.now_ms = 2500;
    a.severity = VNM_SEV_CRITICAL;
    a.packets = 10;
    a.bytes = 1000;
    du_emitter_emit(e, &a);
    assert_int_equal(rh.n_alerts, 2);
    rh.now_ms = 3000;
    a.severity = VNM_SEV_INFO;
    a.summary = "s4";
    a.packets = 20;
    a.bytes = 2000;
    du_emitter_emit(e, &a);
    assert_int_equal(rh.n_alerts, 3);
    r = &rh.alerts[2];
    assert_int_equal(r->severity, VNM_SEV_CRITICAL);
    assert_string_equal(r->summary, "s4");
    assert_int_equal(r->packets, 30);
    assert_int_equal(r->bytes, 3000);
    du_emitter_tick(e, 5000);
    assert_int_equal(rh.n_alerts, 3);

    /* Another kind or key is another incident. */
    a.kind = "scan";
    du_emitter_emit(e, &a);
    a.kind = "lateral";
    a.key = "hv1/t1vm1>tcp/22";
    du_emitter_emit(e, &a);
    assert_int_equal(rh.n_alerts, 5);
    assert_string_equal(rh.alerts[3].kind, "scan");
    assert_string_equal(rh.alerts[4].key, "hv1/t1vm1>tcp/22");
    assert_int_equal(du_emitter_count(e), 3);

    /* Destroying delivers nothing pending. */
    rh.now_ms = 3100;
    du_emitter_emit(e, &a);
    du_emitter_destroy(e);
    assert_int_equal(rh.n_alerts, 5);
    du_emitter_destroy(NULL);
}

static void
test_emitter_idle(void **state)
{
    struct vnm_alert a = {
        .kind = "volume", .key = "hv1/t1vm1>out", .summary = "s",
        .packets = 1, .bytes = 10,
    };
    struct du_emitter *e;
    struct rec_host rh;

    (void) state;
    rec_host_init(&rh);
    e = du_emitter_create(&rh.host);
    assert_non_null(e);

    /* A clock at 0 still counts as emitted. */
    du_emitter_emit(e, &a);
    rh.now_ms = 500;
    du_emitter_emit(e, &a);
    assert_int_equal(rh.n_alerts, 1);

    /* Forgotten DU_EMIT_IDLE_MS after its last emit call (the pending
     * emission delivered first), then new again. */
    du_emitter_tick(e, 500 + DU_EMIT_IDLE_MS - 1);
    assert_int_equal(rh.n_alerts, 2);
    assert_int_equal(rh.alerts[1].packets, 1);
    assert_int_equal(du_emitter_count(e), 1);
    du_emitter_tick(e, 500 + DU_EMIT_IDLE_MS);
    assert_int_equal(du_emitter_count(e), 0);
    assert_int_equal(rh.n_alerts, 2);
    rh.now_ms = 500 + DU_EMIT_IDLE_MS;
    du_emitter_emit(e, &a);
    assert_int_equal(rh.n_alerts, 3);
    assert_null(rh.alerts[2].target[0] ? "target" : NULL);
    assert_string_equal(rh.alerts[2].vm, "");
    du_emitter_destroy(e);
}

static void
test_emitter_bounded(void **state)
{
    struct vnm_alert a = { .kind = "geo", .summary = "s" };
    struct du_emitter *e;
    struct rec_host rh;
    char key[32];

    (void) state;
    rec_host_init(&rh);
    e = du_emitter_create(&rh.host);
    assert_non_null(e);

    /* DU_EMIT_MAX incidents, all emitted at once. */
    rh.now_ms = 1000;
    a.key = key;
    for (int i = 0; i < DU_EMIT_MAX; i++) {
        snprintf(key, sizeof key, "k%d", i);
        du_emitter_emit(e, &a);
    }
    assert_int_equal(rh.n_alerts, DU_EMIT_MAX);
    assert_int_equal(du_emitter_count(e), DU_EMIT_MAX);

    /* All seen again, "k0" first: pending, and "k0" the least recent. */
    rh.now_ms = 1100;
    for (int i = 0; i < DU_EMIT_MAX; i++) {
        snprintf(key, sizeof key, "k%d", i);
        a.packets = i == 0 ? 7 : 1;
        du_emitter_emit(e, &a);
    }
    assert_int_equal(rh.n_alerts, DU_EMIT_MAX);

    /* A new incident evicts "k0", delivering its pending emission. */
    rh.n_alerts = 0;
    snprintf(key, sizeof key, "new");
    a.packets = 3;
    du_emitter_emit(e, &a);
    assert_int_equal(rh.n_alerts, 2);
    assert_string_equal(rh.alerts[0].key, "k0");
    assert_int_equal(rh.alerts[0].packets, 7);
    assert_string_equal(rh.alerts[1].key, "new");
    assert_int_equal(rh.alerts[1].packets, 3);
    assert_int_equal(du_emitter_count(e), DU_EMIT_MAX);

    /* "k0" is new again: emitted at once. */
    snprintf(key, sizeof key, "k0");
    a.packets = 1;
    du_emitter_emit(e, &a);
    assert_int_equal(rh.n_alerts, 4);
    assert_string_equal(rh.alerts[2].key, "k1");
    assert_string_equal(rh.alerts[3].key, "k0");
    assert_int_equal(rh.alerts[3].packets, 1);

    /* The rest is delivered by a tick. */
    rh.now_ms = 2100;
    rh.n_alerts = 0;
    du_emitter_tick(e, 2100);
    assert_int_equal(rh.n_alerts, DU_EMIT_MAX - 2);
    du_emitter_destroy(e);
}

/* A log and configuration for test_conf_helpers(). */
static char last_log[256];
static const char *conf_value;  /* Value of every key, or null. */

static void __attribute__((format(printf, 3, 4)))
rec_log(const struct vnm_host *host, enum vnm_log_level level,
        const char *format, ...)
{
    va_list args;

    (void) host;
    (void) level;
    va_start(args, format);
    vsnprintf(last_log, sizeof last_log, format, args);
    va_end(args);
}

static int
rec_conf_string(const struct vnm_host *host, const struct vnm_conf *conf,
                const char *key, const char *dflt, const char **valuep)
{
    (void) host;
    (void) conf;
    (void) key;
    *valuep = conf_value ? conf_value : dflt;
    return 0;
}

static void
test_conf_helpers(void **state)
{
    static const struct vnm_net_ops net;
    enum vnm_severity severity = VNM_SEV_LOW;
    struct rec_host rh;

    (void) state;
    rec_host_init(&rh);
    rh.host.log = rec_log;
    rh.host.conf_string = rec_conf_string;

    assert_int_equal(du_check_severity(&rh.host, "severity", "critical",
                                       &severity), 0);
    assert_int_equal(severity, VNM_SEV_CRITICAL);
    last_log[0] = '\0';
    assert_int_equal(du_check_severity(&rh.host, "other_severity", "bad",
                                       &severity), EINVAL);
    assert_int_equal(severity, VNM_SEV_CRITICAL);
    assert_string_equal(last_log, "other_severity: \"bad\" is not one of "
                        "info, low, medium, high, critical");

    conf_value = NULL;
    assert_int_equal(du_conf_severity(&rh.host, NULL, "severity", "medium",
                                      &severity), 0);
    assert_int_equal(severity, VNM_SEV_MEDIUM);
    conf_value = "info";
    assert_int_equal(du_conf_severity(&rh.host, NULL, "severity", "medium",
                                      &severity), 0);
    assert_int_equal(severity, VNM_SEV_INFO);
    conf_value = "loud";
    last_log[0] = '\0';
    assert_int_equal(du_conf_severity(&rh.host, NULL, "severity", "medium",
                                      &severity), EINVAL);
    assert_int_equal(severity, VNM_SEV_INFO);
    assert_non_null(strstr(last_log, "severity: \"loud\""));
    conf_value = NULL;

    last_log[0] = '\0';
    assert_int_equal(du_require_net(&rh.host), ENOTSUP);
    assert_string_equal(last_log, "the host lends no network view "
                        "(needs ABI 1.1 and the analyzer)");
    rh.host.net = &net;
    last_log[0] = '\0';
    assert_int_equal(du_require_net(&rh.host), 0);
    assert_string_equal(last_log, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_evidence_tcp),
        cmocka_unit_test(test_evidence_ipv6_udp_unknown_port),
        cmocka_unit_test(test_evidence_arp),
        cmocka_unit_test(test_evidence_nd_dhcp_icmp),
        cmocka_unit_test(test_evidence_tunnel),
        cmocka_unit_test(test_key_severity),
        cmocka_unit_test(test_addresses_ports),
        cmocka_unit_test(test_deltas),
        cmocka_unit_test(test_deltas_many),
        cmocka_unit_test(test_same_vm_reasons),
        cmocka_unit_test(test_lru_hash),
        cmocka_unit_test(test_emitter_merge),
        cmocka_unit_test(test_emitter_idle),
        cmocka_unit_test(test_emitter_bounded),
        cmocka_unit_test(test_conf_helpers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

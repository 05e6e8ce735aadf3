/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of collector/conntrack.c and collector/ovs-conntrack.c: the
 * dpctl/dump-conntrack line parser, state accounting, attribution to VMs
 * and tenants, and the table driven by calls (events, syncs,
 * deduplication, new connections, the cap, the per-VM event lists), with
 * the JSON summaries it writes; and the ovs-vswitchd control socket client
 * against a fake ovs-vswitchd.  No netlink, no OVS, no Redis server.
 */
#include <config.h>

#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collector/conntrack.h"
#include "collector/ovs-conntrack.h"
#include "lib/conf.h"
#include "lib/flow-codec.h"
#include "lib/redis.h"
#include "lib/util.h"

/* ----------------------------------------------------------------- parser */

static void
parse_ok(const char *line, struct ct_conn *c)
{
    char *error = ovs_ct_parse_line(line, c);

    if (error) {
        fail_msg("%s: %s", line, error);
    }
    assert_int_equal(c->source, CT_SRC_OVS);
}

static void
assert_addr(const struct vnm_addr *a, const char *text)
{
    char buf[64];

    assert_string_equal(vnm_addr_format(a, buf, sizeof buf), text);
}

static void
test_parse_tcp(void **state)
{
    struct ct_conn c;

    (void) state;
    parse_ok("tcp,orig=(src=10.0.0.11,dst=10.0.0.12,sport=36444,dport=9000),"
             "reply=(src=10.0.0.12,dst=10.0.0.11,sport=9000,dport=36444),"
             "zone=7,protoinfo=(state=ESTABLISHED)", &c);
    assert_int_equal(c.proto, IPPROTO_TCP);
    assert_addr(&c.src, "10.0.0.11");
    assert_addr(&c.dst, "10.0.0.12");
    assert_int_equal(c.sport, 36444);
    assert_int_equal(c.dport, 9000);
    assert_int_equal(c.zone, 7);
    assert_int_equal(c.mark, 0);
    assert_true(c.has & CT_HAS_STATE);
    assert_int_equal(c.tcp_state, CT_TCP_ESTABLISHED);

    /* No zone printed: zone 0.  OVS's own state names. */
    parse_ok("tcp,orig=(src=10.0.0.11,dst=10.0.0.12,sport=1,dport=2),"
             "reply=(src=10.0.0.12,dst=10.0.0.11,sport=2,dport=1),"
             "protoinfo=(state=SYN_SENT)", &c);
    assert_int_equal(c.zone, 0);
    assert_int_equal(c.tcp_state, CT_TCP_SYN_SENT);
    assert_true(ct_conn_is_half_open(&c));
    parse_ok("tcp,orig=(src=10.0.0.11,dst=10.0.0.12,sport=1,dport=2),"
             "reply=(src=10.0.0.12,dst=10.0.0.11,sport=2,dport=1),"
             "protoinfo=(state=TIME_WAIT)", &c);
    assert_int_equal(c.tcp_state, CT_TCP_TIME_WAIT);
    assert_false(ct_conn_is_open(&c));
    parse_ok("tcp,orig=(src=10.0.0.11,dst=10.0.0.12,sport=1,dport=2),"
             "reply=(src=10.0.0.12,dst=10.0.0.11,sport=2,dport=1),"
             "protoinfo=(state=CLOSING)", &c);
    assert_int_equal(c.tcp_state, CT_TCP_FIN_WAIT);
    parse_ok("tcp,orig=(src=10.0.0.11,dst=10.0.0.12,sport=1,dport=2),"
             "reply=(src=10.0.0.12,dst=10.0.0.11,sport=2,dport=1),"
             "protoinfo=(state=CLOSED)", &c);
    assert_int_equal(c.tcp_state, CT_TCP_CLOSE);
}

/* The -m form: two states, coalesced as OVS does without -m; extra
 * members (id, status, wscale, flags) ignored. */
static void
test_parse_verbose(void **state)
{
    struct ct_conn c;

    (void) state;
    parse_ok("tcp,orig=(src=10.0.0.11,dst=10.0.0.12,sport=36258,dport=9999),"
             "reply=(src=10.0.0.12,dst=10.0.0.11,sport=9999,dport=36258),"
             "id=0,zone=7,status=0,protoinfo=(state_orig=SYN_SENT,"
             "state_reply=CLOSED,wscale_orig=10,wscale_reply=0,"
             "flags_orig=WINDOW_SCALE,flags_reply=0)", &c);
    assert_int_equal(c.tcp_state, CT_TCP_SYN_SENT);
    assert_int_equal(c.zone, 7);
    parse_ok("tcp,orig=(src=10.0.0.11,dst=10.0.0.12,sport=36444,dport=9000),"
             "reply=(src=10.0.0.12,dst=10.0.0.11,sport=9000,dport=36444),"
             "id=0,zone=7,status=0,protoinfo=(state_orig=FIN_WAIT_2,"
             "state_reply=FIN_WAIT_2,wscale_orig=10,wscale_reply=10,"
             "flags_orig=WINDOW_SCALE,flags_reply=WINDOW_SCALE)", &c);
    assert_int_equal(c.tcp_state, CT_TCP_TIME_WAIT);
    parse_ok("tcp,orig=(src=10.0.0.11,dst=10.0.0.12,sport=1,dport=2),"
             "reply=(src=10.0.0.12,dst=10.0.0.11,sport=2,dport=1),"
             "protoinfo=(state_orig=ESTABLISHED,state_reply=SYN_RECV)", &c);
    assert_int_equal(c.tcp_state, CT_TCP_ESTABLISHED);
}

static void
test_parse_other_protocols(void **state)
{
    struct ct_conn c;

    (void) state;
    parse_ok("udp,orig=(src=10.0.0.11,dst=10.0.0.12,sport=52717,dport=53),"
             "reply=(src=10.0.0.12,dst=10.0.0.11,sport=53,dport=52717),"
             "zone=9,timeout=59,mark=42", &c);
    assert_int_equal(c.proto, IPPROTO_UDP);
    assert_int_equal(c.zone, 9);
    assert_int_equal(c.mark, 42);
    assert_int_equal(c.dport, 53);
    assert_false(c.has & CT_HAS_STATE);

    parse_ok("icmp,orig=(src=10.0.0.11,dst=10.0.0.12,id=28011,type=8,"
             "code=0),reply=(src=10.0.0.12,dst=10.0.0.11,id=28011,type=0,"
             "code=0),zone=7", &c);
    assert_int_equal(c.proto, IPPROTO_ICMP);
    assert_true(ct_conn_is_icmp(&c));
    assert_int_equal(c.sport, 28011);
    assert_int_equal(c.dport, 8 << 8);

    parse_ok("icmpv6,orig=(src=fd00::11,dst=fd00::12,id=28053,type=128,"
             "code=0),reply=(src=fd00::12,dst=fd00::11,id=28053,type=129,"
             "code=0),zone=7", &c);
    assert_int_equal(c.proto, IPPROTO_ICMPV6);
    assert_addr(&c.src, "fd00::11");
    assert_addr(&c.dst, "fd00::12");
    assert_int_equal(c.dport, 128 << 8);

    /* A protocol OVS has no name for is printed as a number. */
    parse_ok("47,orig=(src=192.0.2.1,dst=192.0.2.2),"
             "reply=(src=192.0.2.2,dst=192.0.2.1),labels=0x1", &c);
    assert_int_equal(c.proto, 47);
    parse_ok("sctp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=5,dport=6),"
             "reply=(src=10.0.0.2,dst=10.0.0.1,sport=6,dport=5)", &c);
    assert_int_equal(c.proto, IPPROTO_SCTP);
}

static void
parse_fails(const char *line, const char *what)
{
    struct ct_conn c;
    char *error = ovs_ct_parse_line(line, &c);

    assert_non_null(error);
    if (!strstr(error, what)) {
        fail_msg("\"%s\": error \"%s\" does not say \"%s\"", line, error,
                 what);
    }
    free(error);
}

static void
test_parse_errors(void **state)
{
    (void) state;
    parse_fails("", "no tuple");
    parse_fails("garbage", "no tuple");
    parse_fails("tcp,orig=(src=10.0.0.1", "unbalanced");
    parse_fails("tcp,orig=src=10.0.0.1)", "unbalanced");
    parse_fails("frob,orig=(src=10.0.0.1,dst=10.0.0.2)", "unknown protocol");
    parse_fails("tcp,zone=1", "no orig");
    parse_fails("tcp,orig=(src=10.0.0.300,dst=10.0.0.2,sport=1,dport=2)",
                "bad address");
    parse_fails("tcp,orig=(src=10.0.0.1,dst=fd00::1,sport=1,dport=2)",
                "one family");
    parse_fails("tcp,orig=(src=10.0.0.1,sport=1,dport=2)", "one family");
    parse_fails("tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=70000,dport=2)",
                "bad port");
    parse_fails("tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2),"
                "zone=x", "bad zone");
    parse_fails("tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2),"
                "mark=-1", "bad mark");
    parse_fails("tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2),"
                "protoinfo=(state=DANCING)", "unknown TCP state");
    parse_fails("tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2),"
                "protoinfo=state=X", "parentheses");
}

static void
test_state_names(void **state)
{
    (void) state;
    for (int s = 0; s < CT_TCP_N_STATES; s++) {
        assert_int_equal(ct_tcp_state_from_name(ct_tcp_state_name(s)), s);
    }
    assert_int_equal(ct_tcp_state_from_name("LISTEN"), CT_TCP_SYN_SENT2);
    assert_int_equal(ct_tcp_state_from_name("nope"), -1);
    assert_int_equal(ovs_ct_tcp_state("FIN_WAIT_1"), CT_TCP_FIN_WAIT);
    assert_int_equal(ovs_ct_tcp_state("SYN_RECV"), CT_TCP_ESTABLISHED);
    assert_int_equal(ovs_ct_tcp_state("LAST_ACK"), CT_TCP_LAST_ACK);
    /* Kernel names in a kernel datapath's dump. */
    assert_int_equal(ovs_ct_tcp_state("FIN_WAIT"), CT_TCP_FIN_WAIT);
    assert_int_equal(ovs_ct_tcp_state("nope"), -1);
    assert_string_equal(ct_source_name(CT_SRC_OVS), "ovs");
    assert_string_equal(ct_source_name(CT_SRC_KERNEL), "kernel");
}

/* ------------------------------------------------------------- accounting */

/* A connection: 'proto' from 'src':'sport' to 'dst':'dport'. */
static struct ct_conn
conn(enum ct_source source, uint8_t proto, const char *src, uint16_t sport,
     const char *dst, uint16_t dport, int tcp_state)
{
    struct ct_conn c;

    memset(&c, 0, sizeof c);
    c.source = (uint8_t) source;
    c.proto = proto;
    assert_true(vnm_addr_parse(src, &c.src));
    assert_true(vnm_addr_parse(dst, &c.dst));
    c.sport = sport;
    c.dport = dport;
    if (tcp_state >= 0) {
        c.tcp_state = (uint8_t) tcp_state;
        c.has |= CT_HAS_STATE;
    }
    c.has |= CT_HAS_MARK;
    return c;
}

static void
test_summary(void **state)
{
    struct ct_summary s;
    struct ct_conn c;

    (void) state;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < CT_TCP_N_STATES; i++) {
        c = conn(CT_SRC_KERNEL, IPPROTO_TCP, "10.0.0.1", (uint16_t) i,
                 "10.0.0.2", 80, i);
        ct_summary_add(&s, &c);
    }
    c = conn(CT_SRC_OVS, IPPROTO_UDP, "10.0.0.1", 1, "10.0.0.2", 53, -1);
    ct_summary_add(&s, &c);
    c = conn(CT_SRC_OVS, IPPROTO_UDPLITE, "10.0.0.1", 1, "10.0.0.2", 5, -1);
    ct_summary_add(&s, &c);
    c = conn(CT_SRC_KERNEL, IPPROTO_ICMPV6, "fd00::1", 1, "fd00::2", 0, -1);
    ct_summary_add(&s, &c);
    c = conn(CT_SRC_KERNEL, IPPROTO_ICMP, "10.0.0.1", 1, "10.0.0.2", 0, -1);
    ct_summary_add(&s, &c);
    c = conn(CT_SRC_KERNEL, IPPROTO_GRE, "10.0.0.1", 0, "10.0.0.2", 0, -1);
    ct_summary_add(&s, &c);

    assert_int_equal(s.total, CT_TCP_N_STATES + 5);
    /* Every TCP state but TIME_WAIT and CLOSE is open, and every non-TCP
     * connection. */
    assert_int_equal(s.open, CT_TCP_N_STATES - 2 + 5);
    /* SYN_SENT, SYN_RECV, SYN_SENT2. */
    assert_int_equal(s.half_open, 3);
    for (int i = 0; i < CT_TCP_N_STATES; i++) {
        assert_int_equal(s.tcp[i], 1);
    }
    assert_int_equal(s.udp, 2);
    assert_int_equal(s.icmp, 2);
    assert_int_equal(s.other, 1);
    assert_int_equal(s.by_source[CT_SRC_KERNEL], CT_TCP_N_STATES + 3);
    assert_int_equal(s.by_source[CT_SRC_OVS], 2);
}

/* ------------------------------------------------------------ attribution */

static void
add_vm(struct ct_vmmap *m, const char *vm, const char *tenant,
       const char *name, const char *addr)
{
    struct vnm_addr a;

    assert_true(vnm_addr_parse(addr, &a));
    ct_vmmap_add(m, vm, tenant, name, &a);
}

static int
lookup(const struct ct_vmmap *m, const char *addr)
{
    struct vnm_addr a;

    assert_true(vnm_addr_parse(addr, &a));
    return ct_vmmap_lookup(m, &a);
}

/* The lab's VMs: t1vm1, t1vm2 of tenant1, t2vm1 of tenant2, and a VM
 * without tenant. */
static struct ct_vmmap *
lab_map(void)
{
    struct ct_vmmap *m = ct_vmmap_create();

    add_vm(m, "vm-11", "tenant1", "t1vm1", "10.0.0.11");
    add_vm(m, "vm-11", "tenant1", "t1vm1", "fd00::11");
    add_vm(m, "vm-12", "tenant1", "t1vm2", "10.0.0.12");
    add_vm(m, "vm-21", "tenant2", "t2vm1", "10.0.0.21");
    add_vm(m, "vm-99", "", "lonely", "10.0.0.99");
    return m;
}

static void
test_vmmap(void **state)
{
    struct ct_vmmap *m = lab_map();
    char name[32], addr[32];

    (void) state;
    assert_int_equal(ct_vmmap_n_vms(m), 4);
    assert_int_equal(ct_vmmap_n_tenants(m), 2);
    assert_int_equal(lookup(m, "10.0.0.11"), 0);
    assert_int_equal(lookup(m, "fd00::11"), 0);
    assert_int_equal(lookup(m, "10.0.0.12"), 1);
    assert_int_equal(lookup(m, "10.0.0.21"), 2);
    assert_int_equal(lookup(m, "10.0.0.1"), -1);
    assert_int_equal(lookup(m, "fd00::12"), -1);
    assert_string_equal(ct_vmmap_vm_id(m, 2), "vm-21");
    assert_string_equal(ct_vmmap_vm_name(m, 2), "t2vm1");
    assert_int_equal(ct_vmmap_vm_tenant(m, 0), 0);
    assert_int_equal(ct_vmmap_vm_tenant(m, 2), 1);
    assert_int_equal(ct_vmmap_vm_tenant(m, 3), -1);
    assert_string_equal(ct_vmmap_tenant_name(m, 1), "tenant2");
    assert_int_equal(ct_vmmap_find(m, "vm-12"), 1);
    assert_int_equal(ct_vmmap_find(m, "vm-00"), -1);
    assert_int_equal(ct_vmmap_find(NULL, "vm-00"), -1);

    /* The first VM to claim an address keeps it. */
    add_vm(m, "vm-13", "tenant1", "t1vm3", "10.0.0.12");
    assert_int_equal(lookup(m, "10.0.0.12"), 1);
    assert_int_equal(ct_vmmap_n_vms(m), 5);

    /* Growth of both indexes. */
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "many-%d", i);
        snprintf(addr, sizeof addr, "10.%d.%d.1", 100 + i / 250, i % 250);
        add_vm(m, name, i % 2 ? "odd" : "even", NULL, addr);
    }
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "many-%d", i);
        snprintf(addr, sizeof addr, "10.%d.%d.1", 100 + i / 250, i % 250);
        assert_int_equal(lookup(m, addr), 5 + i);
        assert_int_equal(ct_vmmap_find(m, name), 5 + i);
    }
    /* No name: the id. */
    assert_string_equal(ct_vmmap_vm_name(m, 5), "many-0");
    assert_int_equal(ct_vmmap_n_tenants(m), 4);
    ct_vmmap_destroy(m);
    ct_vmmap_destroy(NULL);
}

/* ------------------------------------------------------------------ core */

static struct ct_core *
lab_core(size_t max, size_t events)
{
    struct ct_core *core = ct_core_create("hv1", max, events);

    ct_core_set_vmmap(core, lab_map());
    return core;
}

/* 'n' NEW TCP connections from 'src' to 'dst':'dport', source ports from
 * 'sport0'. */
static void
open_n(struct ct_core *core, int n, enum ct_source source, const char *src,
       uint16_t sport0, const char *dst, uint16_t dport, int state)
{
    for (int i = 0; i < n; i++) {
        struct ct_conn c = conn(source, IPPROTO_TCP, src,
                                (uint16_t) (sport0 + i), dst, dport, state);

        ct_core_event(core, CT_EV_NEW, &c, 1000);
    }
}

/* Sets every connection 'src':'sport0'.. to 'state' (UPDATE). */
static void
update_n(struct ct_core *core, int n, enum ct_source source, const char *src,
         uint16_t sport0, const char *dst, uint16_t dport, int state)
{
    for (int i = 0; i < n; i++) {
        struct ct_conn c = conn(source, IPPROTO_TCP, src,
                                (uint16_t) (sport0 + i), dst, dport, state);

        c.has &= ~CT_HAS_MARK;
        ct_core_event(core, CT_EV_UPDATE, &c, 2000);
    }
}

/* Member 'key' of 'j' as an integer. */
static json_int_t
jint(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);

    if (!json_is_integer(v)) {
        fail_msg("no integer \"%s\"", key);
    }
    return json_integer_value(v);
}

/* The acceptance scenario, by calls: a VM opens N connections to the
 * host, they show in its summary, its tenant's and the host's; closing
 * them brings "connections" back down (TIME_WAIT is not open). */
static void
test_vm_to_host(void **state)
{
    struct ct_core *core = lab_core(1000, 100);
    const struct ct_summary *s;
    struct ct_core_stats stats;
    json_t *j, *peers;

    (void) state;
    open_n(core, 20, CT_SRC_KERNEL, "10.0.0.11", 40000, "10.0.0.1", 9100,
           CT_TCP_SYN_SENT);
    ct_core_tick(core);
    s = ct_core_vm_summary(core, 0);
    assert_int_equal(s->total, 20);
    assert_int_equal(s->half_open, 20);
    update_n(core, 20, CT_SRC_KERNEL, "10.0.0.11", 40000, "10.0.0.1", 9100,
             CT_TCP_ESTABLISHED);
    ct_core_tick(core);
    s = ct_core_vm_summary(core, 0);
    assert_int_equal(s->open, 20);
    assert_int_equal(s->tcp[CT_TCP_ESTABLISHED], 20);
    assert_int_equal(s->half_open, 0);
    assert_int_equal(ct_core_vm_summary(core, 1)->total, 0);
    assert_int_equal(ct_core_host_summary(core)->open, 20);

    j = ct_core_vm_json(core, 0, 5000);
    assert_string_equal(json_string_value(json_object_get(j, "vm")),
                        "vm-11");
    assert_string_equal(json_string_value(json_object_get(j, "name")),
                        "t1vm1");
    assert_string_equal(json_string_value(json_object_get(j, "tenant")),
                        "tenant1");
    assert_string_equal(json_string_value(json_object_get(j, "scope")),
                        "vm");
    assert_int_equal(jint(j, "connections"), 20);
    assert_int_equal(jint(j, "total"), 20);
    assert_int_equal(jint(json_object_get(j, "tcp"), "ESTABLISHED"), 20);
    assert_int_equal(jint(json_object_get(j, "sources"), "kernel"), 20);
    /* Counted at the first tick after they appeared. */
    assert_int_equal(jint(j, "new_per_s"), 0);
    assert_int_equal(jint(j, "new_total"), 20);
    peers = json_object_get(j, "top_peers");
    assert_int_equal(json_array_size(peers), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(peers, 0), "ip")), "10.0.0.1");
    assert_int_equal(jint(json_array_get(peers, 0), "connections"), 20);
    assert_int_equal(jint(json_array_get(json_object_get(j, "zones"), 0),
                          "zone"), 0);
    json_decref(j);

    j = ct_core_tenant_json(core, 0, 5000);
    assert_int_equal(jint(j, "connections"), 20);
    assert_int_equal(jint(j, "vms"), 2);
    /* The tenant's own index of its VMs (for its Redis user). */
    {
        const json_t *index = json_object_get(j, "vm_index");
        const json_t *v0 = json_array_get(index, 0);

        assert_int_equal(json_array_size(index), 2);
        assert_string_equal(json_string_value(json_object_get(v0, "vm")),
                            "vm-11");
        assert_string_equal(json_string_value(json_object_get(v0, "name")),
                            "t1vm1");
        assert_int_equal(jint(v0, "connections"), 20);
        assert_int_equal(jint(v0, "total"), 20);
        for (size_t i = 0; i < json_array_size(index); i++) {
            const char *name = json_string_value(json_object_get(
                json_array_get(index, i), "name"));

            assert_non_null(name);
            assert_true(!strncmp(name, "t1", 2));
        }
    }
    json_decref(j);
    j = ct_core_tenant_json(core, 1, 5000);
    assert_int_equal(jint(j, "connections"), 0);
    json_decref(j);

    /* Closed: TIME_WAIT, tracked but not open. */
    update_n(core, 20, CT_SRC_KERNEL, "10.0.0.11", 40000, "10.0.0.1", 9100,
             CT_TCP_TIME_WAIT);
    ct_core_tick(core);
    s = ct_core_vm_summary(core, 0);
    assert_int_equal(s->open, 0);
    assert_int_equal(s->total, 20);
    assert_int_equal(s->tcp[CT_TCP_TIME_WAIT], 20);

    /* Destroyed. */
    for (int i = 0; i < 20; i++) {
        struct ct_conn c = conn(CT_SRC_KERNEL, IPPROTO_TCP, "10.0.0.11",
                                (uint16_t) (40000 + i), "10.0.0.1", 9100,
                                -1);

        ct_core_event(core, CT_EV_DESTROY, &c, 3000);
    }
    ct_core_tick(core);
    assert_int_equal(ct_core_vm_summary(core, 0)->total, 0);
    ct_core_get_stats(core, &stats);
    assert_int_equal(stats.n_entries, 0);
    assert_int_equal(stats.n_new, 20);
    assert_int_equal(stats.n_destroyed, 20);
    ct_core_destroy(core);
}

/* VM to VM: both VMs count it; a same-tenant connection counts once in
 * the tenant with both peers; a cross-tenant one in both tenants. */
static void
test_vm_to_vm(void **state)
{
    struct ct_core *core = lab_core(1000, 0);
    json_t *j, *peers;

    (void) state;
    open_n(core, 3, CT_SRC_OVS, "10.0.0.11", 1000, "10.0.0.12", 80,
           CT_TCP_ESTABLISHED);
    open_n(core, 2, CT_SRC_OVS, "10.0.0.11", 2000, "10.0.0.21", 443,
           CT_TCP_ESTABLISHED);
    ct_core_tick(core);
    assert_int_equal(ct_core_vm_summary(core, 0)->open, 5);
    assert_int_equal(ct_core_vm_summary(core, 1)->open, 3);
    assert_int_equal(ct_core_vm_summary(core, 2)->open, 2);
    assert_int_equal(ct_core_host_summary(core)->open, 5);

    j = ct_core_tenant_json(core, 0, 1);
    assert_int_equal(jint(j, "connections"), 5);
    assert_int_equal(jint(j, "new_per_s"), 5);
    peers = json_object_get(j, "top_peers");
    /* 10.0.0.11 (both sides of the 3 in-tenant, as peer of t1vm2), then
     * 10.0.0.12 (3), then 10.0.0.21 (2). */
    assert_int_equal(json_array_size(peers), 3);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(peers, 0), "ip")), "10.0.0.11");
    assert_int_equal(jint(json_array_get(peers, 0), "connections"), 3);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(peers, 1), "ip")), "10.0.0.12");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(peers, 2), "ip")), "10.0.0.21");
    json_decref(j);

    j = ct_core_tenant_json(core, 1, 1);
    assert_int_equal(jint(j, "connections"), 2);
    assert_int_equal(jint(j, "new_per_s"), 2);
    assert_int_equal(jint(json_object_get(j, "sources"), "ovs"), 2);
    json_decref(j);

    j = ct_core_host_json(core, 1);
    assert_int_equal(jint(j, "connections"), 5);
    assert_int_equal(json_array_size(json_object_get(j, "vms")), 4);
    assert_int_equal(json_array_size(json_object_get(j, "tenants")), 2);
    assert_int_equal(jint(json_array_get(json_object_get(j, "vms"), 0),
                          "connections"), 5);
    assert_true(json_is_null(json_object_get(
                    json_array_get(json_object_get(j, "vms"), 3),
                    "tenant")));
    json_decref(j);

    /* The next second: nothing new. */
    ct_core_tick(core);
    j = ct_core_vm_json(core, 0, 2);
    assert_int_equal(jint(j, "new_per_s"), 0);
    assert_int_equal(jint(j, "new_total"), 5);
    json_decref(j);
    ct_core_destroy(core);
}

/* One connection tracked by the kernel and by OVS (two zones): counted
 * once, new once, represented by the kernel's entry. */
static void
test_duplicates(void **state)
{
    struct ct_core *core = lab_core(1000, 10);
    struct ct_core_stats stats;
    struct ct_conn c;
    size_t n;
    char **events;
    json_t *e;

    (void) state;
    c = conn(CT_SRC_OVS, IPPROTO_TCP, "10.0.0.11", 5, "10.0.0.1", 22,
             CT_TCP_ESTABLISHED);
    c.zone = 7;
    ct_core_event(core, CT_EV_NEW, &c, 1);
    c.zone = 3;
    ct_core_event(core, CT_EV_NEW, &c, 1);
    c = conn(CT_SRC_KERNEL, IPPROTO_TCP, "10.0.0.11", 5, "10.0.0.1", 22,
             CT_TCP_SYN_RECV);
    ct_core_event(core, CT_EV_NEW, &c, 1);
    ct_core_tick(core);
    ct_core_get_stats(core, &stats);
    assert_int_equal(stats.n_entries, 3);
    assert_int_equal(stats.n_connections, 1);
    assert_int_equal(stats.n_duplicates, 2);
    assert_int_equal(stats.n_new, 1);
    assert_int_equal(ct_core_host_summary(core)->by_source[CT_SRC_KERNEL],
                     1);
    assert_int_equal(ct_core_host_summary(core)->half_open, 1);
    events = ct_core_vm_events(core, 0, &n);
    assert_int_equal(n, 1);
    free(events[0]);
    free(events);

    /* The kernel's goes: OVS's zone 3 represents it.  No destroy event
     * while another entry tracks it, but the kernel's counters are kept
     * for it. */
    c.has = CT_HAS_COUNTERS;
    c.packets[0] = 3;
    c.bytes[0] = 180;
    ct_core_event(core, CT_EV_DESTROY, &c, 2);
    ct_core_tick(core);
    assert_int_equal(ct_core_host_summary(core)->by_source[CT_SRC_OVS], 1);
    assert_int_equal(ct_core_host_summary(core)->tcp[CT_TCP_ESTABLISHED], 1);
    events = ct_core_vm_events(core, 0, &n);
    assert_int_equal(n, 1);
    free(events[0]);
    free(events);

    /* OVS lets go: one destroy event, with the kernel's counters. */
    ct_core_sync_begin(core, CT_SRC_OVS);
    ct_core_sync_end(core, CT_SRC_OVS, 3);
    events = ct_core_vm_events(core, 0, &n);
    assert_int_equal(n, 2);
    e = json_loads(events[1], 0, NULL);
    assert_string_equal(json_string_value(json_object_get(e, "type")),
                        "destroy");
    assert_string_equal(json_string_value(json_object_get(e, "source")),
                        "ovs");
    assert_int_equal(jint(e, "orig_packets"), 3);
    assert_int_equal(jint(e, "orig_bytes"), 180);
    json_decref(e);
    for (size_t i = 0; i < n; i++) {
        free(events[i]);
    }
    free(events);
    ct_core_destroy(core);
}

/* Events: NEW and DESTROY with counters, timestamps, zone and mark; an
 * UPDATE keeps what it does not say; the list keeps the newest. */
static void
test_events(void **state)
{
    struct ct_core *core = lab_core(1000, 3);
    struct ct_core_stats stats;
    struct ct_conn c;
    json_t *e;
    char **events;
    size_t n;

    (void) state;
    c = conn(CT_SRC_KERNEL, IPPROTO_TCP, "10.0.0.11", 7, "10.0.0.21", 80,
             CT_TCP_SYN_SENT);
    c.mark = 5;
    c.zone = 2;
    c.id = 1234;
    c.has |= CT_HAS_ID;
    ct_core_event(core, CT_EV_NEW, &c, 1000);
    c.has = CT_HAS_STATE;
    c.tcp_state = CT_TCP_ESTABLISHED;
    c.mark = 0;
    ct_core_event(core, CT_EV_UPDATE, &c, 1100);
    c.has = CT_HAS_COUNTERS | CT_HAS_START | CT_HAS_STOP;
    c.packets[0] = 10;
    c.bytes[0] = 1000;
    c.packets[1] = 8;
    c.bytes[1] = 9000;
    c.start_ns = 1000000000ULL * 1700000000;
    c.stop_ns = c.start_ns + 2500000000ULL;
    ct_core_event(core, CT_EV_DESTROY, &c, 3500);

    /* Both VMs got both events. */
    for (size_t vm = 0; vm <= 2; vm += 2) {
        events = ct_core_vm_events(core, vm, &n);
        assert_int_equal(n, 2);
        e = json_loads(events[0], 0, NULL);
        assert_non_null(e);
        assert_string_equal(json_string_value(json_object_get(e, "type")),
                            "new");
        assert_string_equal(json_string_value(json_object_get(e, "state")),
                            "SYN_SENT");
        assert_string_equal(json_string_value(json_object_get(e, "proto")),
                            "tcp");
        assert_string_equal(json_string_value(json_object_get(e, "src")),
                            "10.0.0.11");
        assert_int_equal(jint(e, "dport"), 80);
        assert_int_equal(jint(e, "zone"), 2);
        assert_int_equal(jint(e, "mark"), 5);
        assert_int_equal(jint(e, "id"), 1234);
        assert_int_equal(jint(e, "time_ms"), 1000);
        assert_null(json_object_get(e, "orig_packets"));
        json_decref(e);
        e = json_loads(events[1], 0, NULL);
        assert_string_equal(json_string_value(json_object_get(e, "type")),
                            "destroy");
        /* The last known state and mark (the UPDATE said mark 0 was not
         * known: it kept 5). */
        assert_string_equal(json_string_value(json_object_get(e, "state")),
                            "ESTABLISHED");
        assert_int_equal(jint(e, "mark"), 5);
        assert_int_equal(jint(e, "orig_packets"), 10);
        assert_int_equal(jint(e, "orig_bytes"), 1000);
        assert_int_equal(jint(e, "reply_packets"), 8);
        assert_int_equal(jint(e, "reply_bytes"), 9000);
        assert_int_equal(jint(e, "start_ms"), 1700000000000LL);
        assert_int_equal(jint(e, "duration_ms"), 2500);
        json_decref(e);
        for (size_t i = 0; i < n; i++) {
            free(events[i]);
        }
        free(events);
    }

    /* An ICMP echo, and a DESTROY of a connection never seen. */
    c = conn(CT_SRC_KERNEL, IPPROTO_ICMP, "10.0.0.11", 99, "10.0.0.1",
             8 << 8, -1);
    ct_core_event(core, CT_EV_NEW, &c, 4000);
    c = conn(CT_SRC_KERNEL, IPPROTO_UDP, "10.0.0.11", 1, "10.0.0.1", 53, -1);
    ct_core_event(core, CT_EV_DESTROY, &c, 5000);

    /* Cap 3: the oldest went. */
    events = ct_core_vm_events(core, 0, &n);
    assert_int_equal(n, 3);
    e = json_loads(events[0], 0, NULL);
    assert_string_equal(json_string_value(json_object_get(e, "type")),
                        "destroy");
    json_decref(e);
    e = json_loads(events[1], 0, NULL);
    assert_int_equal(jint(e, "icmp_type"), 8);
    assert_int_equal(jint(e, "icmp_code"), 0);
    assert_int_equal(jint(e, "icmp_id"), 99);
    assert_null(json_object_get(e, "sport"));
    json_decref(e);
    e = json_loads(events[2], 0, NULL);
    assert_string_equal(json_string_value(json_object_get(e, "proto")),
                        "udp");
    json_decref(e);
    for (size_t i = 0; i < n; i++) {
        free(events[i]);
    }
    free(events);
    ct_core_get_stats(core, &stats);
    assert_int_equal(stats.n_events_dropped, 1);
    ct_core_destroy(core);
}

/* Syncs: the first finds existing connections (not new); a later one
 * counts what it finds as new, and sweeps what it no longer sees (a
 * missed DESTROY). */
static void
test_sync(void **state)
{
    struct ct_core *core = lab_core(1000, 10);
    struct ct_core_stats stats;
    struct ct_conn c;
    json_t *j;

    (void) state;
    ct_core_sync_begin(core, CT_SRC_OVS);
    for (int i = 0; i < 4; i++) {
        c = conn(CT_SRC_OVS, IPPROTO_TCP, "10.0.0.21", (uint16_t) (100 + i),
                 "10.0.0.99", 80, CT_TCP_ESTABLISHED);
        ct_core_sync_add(core, &c, false, 1);
    }
    ct_core_sync_end(core, CT_SRC_OVS, 1);
    /* A kernel entry survives OVS's syncs. */
    c = conn(CT_SRC_KERNEL, IPPROTO_UDP, "10.0.0.21", 5, "10.0.0.1", 53, -1);
    ct_core_event(core, CT_EV_NEW, &c, 1);
    ct_core_tick(core);
    assert_int_equal(ct_core_vm_summary(core, 2)->total, 5);
    j = ct_core_vm_json(core, 2, 1);
    assert_int_equal(jint(j, "new_total"), 1);
    json_decref(j);
    /* The VM without tenant. */
    assert_int_equal(ct_core_vm_summary(core, 3)->total, 4);

    ct_core_sync_begin(core, CT_SRC_OVS);
    for (int i = 2; i < 6; i++) {
        c = conn(CT_SRC_OVS, IPPROTO_TCP, "10.0.0.21", (uint16_t) (100 + i),
                 "10.0.0.99", 80, i == 2 ? CT_TCP_TIME_WAIT
                                         : CT_TCP_ESTABLISHED);
        ct_core_sync_add(core, &c, true, 2);
    }
    ct_core_sync_end(core, CT_SRC_OVS, 2);
    ct_core_tick(core);
    assert_int_equal(ct_core_vm_summary(core, 2)->total, 5);
    assert_int_equal(ct_core_vm_summary(core, 2)->open, 4);
    j = ct_core_vm_json(core, 2, 2);
    assert_int_equal(jint(j, "new_per_s"), 2);
    assert_int_equal(jint(j, "new_total"), 3);
    json_decref(j);
    ct_core_get_stats(core, &stats);
    assert_int_equal(stats.n_destroyed, 2);
    assert_int_equal(stats.n_swept, 0);        /* OVS: not "missed". */

    /* The kernel's entry missed by a kernel sync is swept. */
    ct_core_sync_begin(core, CT_SRC_KERNEL);
    ct_core_sync_end(core, CT_SRC_KERNEL, 3);
    ct_core_get_stats(core, &stats);
    assert_int_equal(stats.n_swept, 1);
    assert_int_equal(stats.n_by_source[CT_SRC_KERNEL], 0);

    ct_core_drop_source(core, CT_SRC_OVS, 4);
    ct_core_get_stats(core, &stats);
    assert_int_equal(stats.n_entries, 0);
    ct_core_destroy(core);
}

/* The cap, the table's growth, and a map change keeping a VM's counters
 * by id. */
static void
test_cap_and_map_change(void **state)
{
    struct ct_core *core = lab_core(3000, 5);
    struct ct_core_stats stats;
    struct ct_vmmap *m;
    struct vnm_redis_options opts = { .address = "unix:/nonexistent",
                                      .timeout_ms = 100,
                                      .reconnect_max_ms = 1000 };
    struct vnm_redis *r;
    json_t *j;

    (void) state;
    open_n(core, 3500, CT_SRC_KERNEL, "10.0.0.11", 1, "10.0.0.1", 9100,
           CT_TCP_ESTABLISHED);
    ct_core_tick(core);
    ct_core_get_stats(core, &stats);
    assert_int_equal(stats.n_entries, 3000);
    assert_int_equal(stats.n_over_cap, 500);
    assert_int_equal(ct_core_vm_summary(core, 0)->open, 3000);
    j = ct_core_host_json(core, 1);
    assert_int_equal(jint(j, "over_cap"), 500);
    assert_int_equal(jint(j, "max"), 3000);
    json_decref(j);

    /* t1vm1 gets another address, t2vm1 goes, a VM arrives. */
    m = ct_vmmap_create();
    add_vm(m, "vm-new", "tenant3", "t3vm1", "10.0.0.31");
    add_vm(m, "vm-11", "tenant1", "t1vm1", "10.0.0.11");
    add_vm(m, "vm-11", "tenant1", "t1vm1", "10.0.0.111");
    ct_core_set_vmmap(core, m);
    ct_core_tick(core);
    assert_int_equal(ct_core_vm_summary(core, 1)->open, 3000);
    j = ct_core_vm_json(core, 1, 1);
    assert_string_equal(json_string_value(json_object_get(j, "vm")),
                        "vm-11");
    assert_int_equal(jint(j, "new_total"), 3000);
    json_decref(j);
    assert_int_equal(ct_core_vm_summary(core, 0)->total, 0);

    /* Writes go nowhere (no server) but go through the pipeline code. */
    r = vnm_redis_create(&opts);
    ct_core_write(core, r, 1);
    vnm_redis_destroy(r);
    ct_core_destroy(core);
}

/* ---------------------------------------------------------- OVS client */

/* A fake ovs-vswitchd: one connection, answered with 'reply' in two
 * writes (or closed unanswered if null). */
struct fake_vswitchd {
    int listen_fd;
    const char *reply;
    char request[512];
};

static void *
fake_vswitchd_main(void *fv_)
{
    struct fake_vswitchd *fv = fv_;
    int fd = accept(fv->listen_fd, NULL, NULL);
    size_t n = 0;

    assert_true(fd >= 0);
    /* The request is one small JSON object. */
    while (n < sizeof fv->request - 1 && !strchr(fv->request, '}')) {
        ssize_t r = read(fd, fv->request + n, sizeof fv->request - 1 - n);

        if (r <= 0) {
            break;
        }
        n += (size_t) r;
        fv->request[n] = '\0';
    }
    if (fv->reply) {
        size_t len = strlen(fv->reply);

        assert_int_equal(write(fd, fv->reply, len / 2), (ssize_t) (len / 2));
        usleep(20000);
        assert_int_equal(write(fd, fv->reply + len / 2, len - len / 2),
                         (ssize_t) (len - len / 2));
    }
    close(fd);
    return NULL;
}

/* The outcome of a request. */
struct ovs_result {
    struct event_base *base;
    bool done;
    int error;
    char *text;
};

static void
ovs_result_cb(void *r_, int error, const char *text)
{
    struct ovs_result *r = r_;

    r->done = true;
    r->error = error;
    r->text = xstrdup(text);
    event_base_loopbreak(r->base);
}

/* Runs one request against a fake ovs-vswitchd in a new directory that
 * answers 'reply' (null: closes); with 'pidfile' false there is no pid
 * file.  Fills '*res' and returns the request the server got. */
static char *
run_ovs_request(const char *reply, bool pidfile, struct ovs_result *res)
{
    char dir[] = "/tmp/test-conntrack-XXXXXX";
    struct fake_vswitchd fv = { .reply = reply };
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct timeval limit = { 10, 0 };
    struct ovs_ct *o;
    pthread_t thread;
    char *path;
    FILE *f;

    assert_non_null(mkdtemp(dir));
    path = xasprintf("%s/ovs-vswitchd.pid", dir);
    if (pidfile) {
        f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "4242\n");
        fclose(f);
    }
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s/ovs-vswitchd.4242.ctl",
             dir);
    fv.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fv.listen_fd >= 0);
    assert_int_equal(bind(fv.listen_fd, (struct sockaddr *) &sun,
                          sizeof sun), 0);
    assert_int_equal(listen(fv.listen_fd, 1), 0);
    if (pidfile) {
        assert_int_equal(pthread_create(&thread, NULL, fake_vswitchd_main,
                                        &fv), 0);
    }

    memset(res, 0, sizeof *res);
    res->base = event_base_new();
    o = ovs_ct_create(res->base, dir);
    assert_false(ovs_ct_busy(o));
    assert_true(ovs_ct_request(o, ovs_result_cb, res));
    assert_true(ovs_ct_busy(o));
    assert_false(ovs_ct_request(o, ovs_result_cb, res));
    event_base_loopexit(res->base, &limit);
    event_base_dispatch(res->base);
    assert_true(res->done);
    assert_false(ovs_ct_busy(o));
    ovs_ct_destroy(o);
    event_base_free(res->base);

    if (pidfile) {
        pthread_join(thread, NULL);
    }
    close(fv.listen_fd);
    unlink(sun.sun_path);
    unlink(path);
    rmdir(dir);
    free(path);
    return xstrdup(fv.request);
}

static void
test_ovs_client(void **state)
{
    static const char dump[] =
        "tcp,orig=(src=10.0.0.11,dst=10.0.0.21,sport=1,dport=2),"
        "reply=(src=10.0.0.21,dst=10.0.0.11,sport=2,dport=1),zone=7,"
        "protoinfo=(state=ESTABLISHED)\n"
        "udp,orig=(src=10.0.0.11,dst=10.0.0.21,sport=3,dport=53),"
        "reply=(src=10.0.0.21,dst=10.0.0.11,sport=53,dport=3),mark=42\n";
    struct ovs_result res;
    json_t *req, *reply;
    char *request, *text;

    (void) state;
    reply = json_pack("{s:i, s:s, s:n}", "id", 0, "result", dump, "error");
    text = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);
    request = run_ovs_request(text, true, &res);
    free(text);
    assert_int_equal(res.error, 0);
    assert_string_equal(res.text, dump);
    free(res.text);
    req = json_loads(request, 0, NULL);
    assert_non_null(req);
    assert_string_equal(json_string_value(json_object_get(req, "method")),
                        "dpctl/dump-conntrack");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(req, "params"), 0)),
                        "netdev@ovs-netdev");
    assert_int_equal(json_integer_value(json_object_get(req, "id")), 0);
    json_decref(req);
    free(request);

    /* ovs-vswitchd's error. */
    request = run_ovs_request("{\"id\":0,\"result\":null,"
                              "\"error\":\"no such datapath\"}", true, &res);
    assert_int_equal(res.error, EIO);
    assert_non_null(strstr(res.text, "no such datapath"));
    free(res.text);
    free(request);

    /* Closed unanswered. */
    request = run_ovs_request(NULL, true, &res);
    assert_int_equal(res.error, ECONNRESET);
    assert_non_null(strstr(res.text, "closed"));
    free(res.text);
    free(request);

    /* No ovs-vswitchd.pid: the failure comes from the loop too. */
    request = run_ovs_request(NULL, false, &res);
    assert_int_equal(res.error, ENOENT);
    assert_non_null(strstr(res.text, "ovs-vswitchd.pid: cannot read"));
    free(res.text);
    free(request);
}

static void
test_config(void **state)
{
    struct vnm_config *config;
    struct conntrack_config cfg;
    char *error;

    (void) state;
    error = conntrack_config_read(NULL, &cfg);
    assert_null(error);
    assert_true(cfg.enabled);
    assert_int_equal(cfg.dump_ms, 10000);
    assert_int_equal(cfg.max, 65536);
    assert_int_equal(cfg.events, 100);
    assert_int_equal(cfg.ovs, CT_OVS_AUTO);
    assert_true(cfg.accounting);

    assert_null(vnm_config_parse_string(
                    "[collector]\nconntrack = off\nconntrack_dump = 3s\n"
                    "conntrack_max = 100\nconntrack_events = 0\n"
                    "ovs_conntrack = on\nconntrack_accounting = no\n",
                    "t.conf", &config));
    error = conntrack_config_read(vnm_config_section(config, "collector",
                                                     NULL), &cfg);
    assert_null(error);
    assert_false(cfg.enabled);
    assert_int_equal(cfg.dump_ms, 3000);
    assert_int_equal(cfg.max, 100);
    assert_int_equal(cfg.events, 0);
    assert_int_equal(cfg.ovs, CT_OVS_ON);
    assert_false(cfg.accounting);
    vnm_config_destroy(config);

    assert_null(vnm_config_parse_string("[collector]\novs_conntrack = maybe\n",
                                        "t.conf", &config));
    error = conntrack_config_read(vnm_config_section(config, "collector",
                                                     NULL), &cfg);
    assert_non_null(error);
    assert_string_equal(error, "t.conf:2: ovs_conntrack: \"maybe\" is not "
                        "on, off or auto");
    free(error);
    vnm_config_destroy(config);

    assert_null(vnm_config_parse_string("[collector]\nconntrack_max = 1\n",
                                        "t.conf", &config));
    error = conntrack_config_read(vnm_config_section(config, "collector",
                                                     NULL), &cfg);
    assert_non_null(error);
    assert_non_null(strstr(error, "t.conf:2: conntrack_max"));
    free(error);
    vnm_config_destroy(config);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_tcp),
        cmocka_unit_test(test_parse_verbose),
        cmocka_unit_test(test_parse_other_protocols),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_state_names),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_vmmap),
        cmocka_unit_test(test_vm_to_host),
        cmocka_unit_test(test_vm_to_vm),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_sync),
        cmocka_unit_test(test_cap_and_map_change),
        cmocka_unit_test(test_ovs_client),
        cmocka_unit_test(test_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the taps (ovs-ext/tap-*.c), what needs no root: the BPF
 * filter programs (run through a small classic BPF interpreter, and through
 * the kernel's own checker on a UDP socket, which needs no privilege), the
 * port map (index assignment and reuse, lookups, counters), the flow tap's
 * rule text and its parsing of ovs-ofctl output, and child processes.
 */
#include <config.h>

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/util.h"
#include "ovs-ext/tap-flow.h"
#include "ovs-ext/tap-netdev.h"
#include "ovs-ext/tap-ring.h"

/* A deterministic pseudo-random sequence (rand() is banned). */
static uint32_t
next_random(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

/* Runs the classic BPF program 'insns' for a frame received on 'ifindex'.
 * Knows what tap_ring_build_filter() emits, and fails on anything else. */
static uint32_t
bpf_run(const struct sock_filter *insns, size_t n, uint32_t ifindex,
        uint32_t pkttype)
{
    uint32_t a = 0;
    size_t pc = 0;
    size_t steps = 0;

    while (pc < n) {
        const struct sock_filter *i = &insns[pc++];

        assert_true(++steps <= n);
        switch (i->code) {
        case BPF_LD | BPF_W | BPF_ABS:
            if (i->k == (uint32_t) (SKF_AD_OFF + SKF_AD_PKTTYPE)) {
                a = pkttype;
            } else {
                assert_int_equal(i->k,
                                 (uint32_t) (SKF_AD_OFF + SKF_AD_IFINDEX));
                a = ifindex;
            }
            break;
        case BPF_JMP | BPF_JEQ | BPF_K:
            pc += a == i->k ? i->jt : i->jf;
            break;
        case BPF_JMP | BPF_JGT | BPF_K:
            pc += a > i->k ? i->jt : i->jf;
            break;
        case BPF_JMP | BPF_JA:
            pc += i->k;
            break;
        case BPF_RET | BPF_K:
            return i->k;
        default:
            fail_msg("unexpected BPF opcode %#x", i->code);
        }
    }
    fail_msg("BPF program ran off its end");
    return 0;
}

/* Checks that the kernel accepts the program (as SO_ATTACH_FILTER on an
 * AF_PACKET socket would). */
static void
kernel_check(struct sock_filter *insns, size_t n)
{
    struct sock_fprog prog = { .len = n, .filter = insns };
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
                                sizeof prog), 0);
    close(fd);
}

static bool
int_in(const int *set, size_t n, int x)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (set[i] == x) {
            return true;
        }
    }
    return false;
}

static void
check_filter(const int *set, size_t n)
{
    struct sock_filter *insns;
    size_t n_insns, i;
    int probe;

    assert_int_equal(tap_ring_build_filter(set, n, 1500, &insns, &n_insns),
                     0);
    assert_true(n_insns >= 1 && n_insns <= BPF_MAXINSNS);
    for (i = 0; i < n; i++) {
        if (set[i] > 0) {
            assert_int_equal(bpf_run(insns, n_insns, set[i], PACKET_HOST),
                             1500);
            assert_int_equal(bpf_run(insns, n_insns, set[i],
                                     PACKET_OTHERHOST), 1500);
            assert_int_equal(bpf_run(insns, n_insns, set[i],
                                     PACKET_BROADCAST), 1500);
            assert_int_equal(bpf_run(insns, n_insns, set[i],
                                     PACKET_OUTGOING), 0);
        }
    }
    for (probe = 0; probe < 3000; probe++) {
        uint32_t want = probe > 0 && int_in(set, n, probe) ? 1500 : 0;

        assert_int_equal(bpf_run(insns, n_insns, probe, PACKET_HOST), want);
    }
    assert_int_equal(bpf_run(insns, n_insns, UINT32_MAX, PACKET_HOST), 0);
    kernel_check(insns, n_insns);
    free(insns);
}

static void
test_filter_small(void **state)
{
    static const int one[] = { 7 };
    static const int dups[] = { 5, 3, 5, 3, 1, 0, -2 };
    static const int five[] = { 10, 2, 30, 4, 50 };

    (void) state;
    check_filter(NULL, 0);
    check_filter(one, 1);
    check_filter(dups, VNM_ARRAY_SIZE(dups));
    check_filter(five, VNM_ARRAY_SIZE(five));
}

static void
test_filter_large(void **state)
{
    static const size_t sizes[] = { 9, 17, 100, 300, 700, 2000 };
    uint32_t seed = 42;
    size_t s, i;

    (void) state;
    for (s = 0; s < VNM_ARRAY_SIZE(sizes); s++) {
        int *set = xcalloc(sizes[s], sizeof *set);

        for (i = 0; i < sizes[s]; i++) {
            set[i] = 1 + next_random(&seed) % 2900;
        }
        check_filter(set, sizes[s]);
        free(set);
    }
}

static void
test_filter_too_big(void **state)
{
    struct sock_filter *insns;
    size_t n_insns, i;
    int *set = xcalloc(4000, sizeof *set);

    (void) state;
    for (i = 0; i < 4000; i++) {
        set[i] = i + 1;
    }
    assert_int_equal(tap_ring_build_filter(set, 4000, 1500, &insns,
                                           &n_insns), E2BIG);
    assert_null(insns);
    free(set);
}

static void
test_ring_config(void **state)
{
    struct tap_ring_config c;

    (void) state;
    tap_ring_config_init(&c);
    assert_int_equal(tap_ring_config_check(&c), 0);
    c.block_size = 1000;
    assert_int_equal(tap_ring_config_check(&c), EINVAL);
    tap_ring_config_init(&c);
    c.frame_size_hint = 100;
    assert_int_equal(tap_ring_config_check(&c), EINVAL);
    tap_ring_config_init(&c);
    c.fanout_group = 70000;
    assert_int_equal(tap_ring_config_check(&c), EINVAL);
}

/* --------------------------------------------------------------- portmap */

static struct tap_port
make_port(const char *name, int ifindex, int ofport)
{
    struct tap_port p;

    memset(&p, 0, sizeof p);
    vnm_strlcpy(p.name, name, sizeof p.name);
    vnm_strlcpy(p.bridge, "br0", sizeof p.bridge);
    p.ifindex = ifindex;
    p.ofport = ofport;
    return p;
}

static void
test_portmap_indexes(void **state)
{
    struct tap_portmap *map = tap_portmap_create(2, TAP_PORT_KEY_OFPORT);
    const struct tap_portmap_snap *snap;
    const struct tap_port *port;
    struct tap_port ports[5];
    uint16_t idx = 0;

    (void) state;
    ports[0] = make_port("vm1", 11, 1);
    ports[1] = make_port("vm2", 12, 5000);       /* Above 4094. */
    ports[2] = make_port("dup", 13, 1);          /* Same key as vm1. */
    ports[3] = make_port("noport", 14, 0);       /* No key. */
    ports[4] = make_port("vm3", 0, 7);           /* vhost-user. */
    assert_int_equal(tap_portmap_set(map, ports, 5), 0);
    assert_int_equal(tap_portmap_n_ports(map), 3);

    snap = tap_portmap_enter(map, 0);
    port = tap_portmap_find_key(snap, 1, &idx);
    assert_non_null(port);
    assert_string_equal(port->name, "vm1");
    assert_int_equal(idx, 1);
    port = tap_portmap_find_key(snap, 5000, &idx);
    assert_string_equal(port->name, "vm2");
    assert_int_equal(idx, 2);
    assert_string_equal(tap_portmap_find_idx(snap, 3)->name, "vm3");
    assert_null(tap_portmap_find_idx(snap, 4));
    assert_null(tap_portmap_find_idx(snap, 0));
    assert_null(tap_portmap_find_idx(snap, 5000));
    assert_null(tap_portmap_find_key(snap, 2, &idx));
    tap_portmap_count(map, 0, 1, 100);
    tap_portmap_count(map, 0, 2, 60);
    tap_portmap_exit(map, 0);
    snap = tap_portmap_enter(map, 1);
    tap_portmap_count(map, 1, 1, 50);
    tap_portmap_exit(map, 1);

    /* vm2 and vm3 leave, vm4 comes: vm4 gets an index never used (4), not
     * one just freed; vm1, renamed, keeps its index and counters. */
    ports[0] = make_port("vm1-renamed", 11, 1);
    ports[1] = make_port("vm4", 15, 9);
    assert_int_equal(tap_portmap_set(map, ports, 2), 0);
    {
        struct tap_port_stats *stats;
        size_t n = tap_portmap_get_stats(map, &stats);

        assert_int_equal(n, 2);
        assert_string_equal(stats[0].port.name, "vm1-renamed");
        assert_int_equal(stats[0].idx, 1);
        assert_int_equal(stats[0].packets, 2);
        assert_int_equal(stats[0].bytes, 150);
        assert_string_equal(stats[1].port.name, "vm4");
        assert_int_equal(stats[1].idx, 4);
        free(stats);
    }
    snap = tap_portmap_enter(map, 0);
    assert_int_equal(tap_portmap_find_key(snap, 9, &idx)->ifindex, 15);
    assert_int_equal(idx, 4);
    assert_null(tap_portmap_find_idx(snap, 2));
    tap_portmap_exit(map, 0);
    tap_portmap_destroy(map);
}

static void
test_portmap_reuse_and_capacity(void **state)
{
    struct tap_portmap *map = tap_portmap_create(1, TAP_PORT_KEY_IFINDEX);
    struct tap_port *ports = xcalloc(TAP_MAX_PORTS + 10, sizeof *ports);
    const struct tap_portmap_snap *snap;
    struct tap_port_stats *stats;
    uint16_t idx;
    size_t i, n;

    (void) state;
    for (i = 0; i < TAP_MAX_PORTS + 10; i++) {
        char name[16];

        snprintf(name, sizeof name, "p%zu", i);
        ports[i] = make_port(name, i + 1, i + 1);
    }
    assert_int_equal(tap_portmap_set(map, ports, TAP_MAX_PORTS + 10), 10);
    assert_int_equal(tap_portmap_n_ports(map), TAP_MAX_PORTS);

    /* Counted traffic on the index of p0 does not show on a port that
     * takes that index later. */
    snap = tap_portmap_enter(map, 0);
    assert_non_null(tap_portmap_find_key(snap, 1, &idx));
    tap_portmap_count(map, 0, idx, 1000);
    tap_portmap_exit(map, 0);

    /* Everyone leaves; one new port takes the least recently freed
     * index. */
    assert_int_equal(tap_portmap_set(map, NULL, 0), 0);
    ports[0] = make_port("new", 99999, 1);
    assert_int_equal(tap_portmap_set(map, ports, 1), 0);
    n = tap_portmap_get_stats(map, &stats);
    assert_int_equal(n, 1);
    assert_int_equal(stats[0].packets, 0);
    assert_int_equal(stats[0].bytes, 0);
    assert_true(stats[0].idx >= 1 && stats[0].idx <= TAP_MAX_PORTS);
    free(stats);
    free(ports);
    tap_portmap_destroy(map);
}

/* ------------------------------------------------------------- flow tap */

static void
test_build_rules(void **state)
{
    static const int ofports[] = { 2, 5000 };
    static const uint16_t idxs[] = { 1, 4094 };
    struct tap_flow_rule *rules;
    size_t n;

    (void) state;
    n = tap_flow_build_rules(TAP_FLOW_DEFAULT_COOKIE, 65000, 15, 31, 4,
                             ofports, idxs, 2, &rules);
    assert_int_equal(n, 3);
    assert_string_equal(rules[0].match, "priority=65535,in_port=4");
    assert_string_equal(rules[0].actions, "drop");
    assert_string_equal(rules[1].match,
                        "priority=65000,reg15=0/0x80000000,in_port=2");
    assert_string_equal(rules[1].actions,
                        "clone(push_vlan:0x88a8,set_field:4097->vlan_vid,"
                        "output:4),load:0x1->NXM_NX_REG15[31],resubmit(,0)");
    assert_string_equal(rules[1].key,
                        "in_port=2,priority=65000,reg15=0/0x80000000");
    assert_string_equal(rules[2].actions,
                        "clone(push_vlan:0x88a8,set_field:8190->vlan_vid,"
                        "output:4),load:0x1->NXM_NX_REG15[31],resubmit(,0)");
    tap_flow_rules_free(rules, n);

    n = tap_flow_build_rules(1, 100, 3, 0, 9, ofports, idxs, 1, &rules);
    assert_string_equal(rules[1].match, "priority=100,reg3=0/0x1,in_port=2");
    assert_string_equal(rules[1].actions,
                        "clone(push_vlan:0x88a8,set_field:4097->vlan_vid,"
                        "output:9),load:0x1->NXM_NX_REG3[0],resubmit(,0)");
    tap_flow_rules_free(rules, n);
}

static void
test_match_key(void **state)
{
    char *a, *b;

    (void) state;
    a = tap_flow_match_key("priority=100,in_port=2");
    b = tap_flow_match_key(" cookie=0x5, duration=3.2s, table=0, "
                           "n_packets=0, n_bytes=0, reset_counts "
                           "in_port=2,priority=100");
    assert_string_equal(a, b);
    assert_string_equal(a, "in_port=2,priority=100");
    free(a);
    free(b);
    a = tap_flow_match_key("in_port=2");
    assert_string_equal(a, "in_port=2,priority=32768");
    free(a);
    a = tap_flow_match_key("table=5,priority=1,icmp");
    assert_string_equal(a, "icmp,priority=1");
    free(a);
}

/* Real "ovs-ofctl -O OpenFlow13 dump-flows --no-stats --no-names" output,
 * OVS 3.1, with a foreign pipeline beside the tap. */
static const char dump_text[] =
    " reset_counts priority=100,in_port=2 actions=resubmit(,5)\n"
    " cookie=0x766e6d6f6e000000, priority=65535,in_port=4 actions=drop\n"
    " cookie=0x766e6d6f6e000000, priority=65000,reg15=0/0x80000000,"
    "in_port=2 actions=clone(push_vlan:0x88a8,set_field:4097->vlan_vid,"
    "output:4),load:0x1->NXM_NX_REG15[31],resubmit(,0)\n"
    " priority=0 actions=NORMAL\n"
    " table=5, reset_counts priority=20,icmp actions=NORMAL\n"
    " table=5, reset_counts actions=drop\n"
    "OFPST_FLOW reply (OF1.3) (xid=0x2):\n"
    " cookie=0x1, duration=12.345s, table=0, n_packets=3, n_bytes=180, "
    "idle_age=2, priority=7,arp actions=NORMAL\r\n";

static void
test_parse_dump(void **state)
{
    static const int ofports[] = { 2 };
    static const uint16_t idxs[] = { 1 };
    struct tap_flow_rule *rules, *want;
    size_t n, n_want;

    (void) state;
    n = tap_flow_parse_dump(dump_text, &rules);
    assert_int_equal(n, 7);
    assert_int_equal(rules[0].cookie, 0);
    assert_int_equal(rules[0].priority, 100);
    assert_string_equal(rules[0].match, "priority=100,in_port=2");
    assert_string_equal(rules[0].actions, "resubmit(,5)");
    assert_int_equal(rules[1].cookie, TAP_FLOW_DEFAULT_COOKIE);
    assert_int_equal(rules[1].priority, 65535);
    assert_int_equal(rules[4].table, 5);
    assert_string_equal(rules[4].match, "priority=20,icmp");
    assert_int_equal(rules[5].priority, 32768);
    assert_int_equal(rules[6].cookie, 1);
    assert_int_equal(rules[6].priority, 7);
    assert_string_equal(rules[6].match, "priority=7,arp");
    assert_string_equal(rules[6].actions, "NORMAL");

    /* What the tap builds reads back identically. */
    n_want = tap_flow_build_rules(TAP_FLOW_DEFAULT_COOKIE, 65000, 15, 31, 4,
                                  ofports, idxs, 1, &want);
    assert_string_equal(want[0].key, rules[1].key);
    assert_string_equal(want[0].actions, rules[1].actions);
    assert_string_equal(want[1].key, rules[2].key);
    assert_string_equal(want[1].actions, rules[2].actions);
    tap_flow_rules_free(want, n_want);
    tap_flow_rules_free(rules, n);

    assert_int_equal(tap_flow_parse_dump("", &rules), 0);
    tap_flow_rules_free(rules, 0);
}

static const char ports_text[] =
    "OFPST_PORT_DESC reply (xid=0x2):\n"
    " 1(host0): addr:02:00:00:00:00:01\n"
    "     config:     0\n"
    "     state:      0\n"
    " 4(vnm-mon-test): addr:ca:c8:5c:f2:6c:90\n"
    "     config:     NO_FLOOD\n"
    "     state:      0\n"
    " 5(vnm-mon-test2): addr:ca:c8:5c:f2:6c:91\n"
    "     config:     0\n"
    " LOCAL(br0): addr:02:00:00:00:00:fe\n"
    "     config:     PORT_DOWN\n";

static void
test_parse_port_desc(void **state)
{
    bool no_flood;
    int ofport;

    (void) state;
    assert_int_equal(tap_flow_parse_port_desc(ports_text, "vnm-mon-test",
                                              &ofport, &no_flood), 0);
    assert_int_equal(ofport, 4);
    assert_true(no_flood);
    assert_int_equal(tap_flow_parse_port_desc(ports_text, "vnm-mon-test2",
                                              &ofport, &no_flood), 0);
    assert_int_equal(ofport, 5);
    assert_false(no_flood);
    assert_int_equal(tap_flow_parse_port_desc(ports_text, "host0", &ofport,
                                              &no_flood), 0);
    assert_int_equal(ofport, 1);
    assert_false(no_flood);
    assert_int_equal(tap_flow_parse_port_desc(ports_text, "br0", &ofport,
                                              &no_flood), 0);
    assert_int_equal(ofport, 65534);
    assert_int_equal(tap_flow_parse_port_desc(ports_text, "vnm-mon", &ofport,
                                              &no_flood), ENOENT);
    assert_int_equal(ofport, 0);
}

static void
test_parse_register(void **state)
{
    static const char *const bad[] = {
        "", "reg", "reg16[0]", "reg1[32]", "reg1[1", "reg1[1]x", "xreg1[1]",
        "NXM_NX_REG[1]", "reg-1[1]", "reg1[]",
    };
    char *error;
    int reg, bit;
    size_t i;

    (void) state;
    assert_null(tap_flow_parse_register("NXM_NX_REG15[31]", &reg, &bit));
    assert_int_equal(reg, 15);
    assert_int_equal(bit, 31);
    assert_null(tap_flow_parse_register("reg0[0]", &reg, &bit));
    assert_int_equal(reg, 0);
    assert_int_equal(bit, 0);
    assert_null(tap_flow_parse_register("nxm_nx_reg7[12]", &reg, &bit));
    assert_int_equal(reg, 7);
    assert_int_equal(bit, 12);
    for (i = 0; i < VNM_ARRAY_SIZE(bad); i++) {
        error = tap_flow_parse_register(bad[i], &reg, &bit);
        assert_non_null(error);
        free(error);
    }
}

static void
test_monitor_name(void **state)
{
    char a[16], b[16];

    (void) state;
    tap_flow_default_monitor_port("br0", a);
    tap_flow_default_monitor_port("br1", b);
    assert_int_equal(strlen(a), 15);
    assert_int_equal(strncmp(a, "vnm-mon-", 8), 0);
    assert_string_not_equal(a, b);
    tap_flow_default_monitor_port("br0", b);
    assert_string_equal(a, b);
}

static void
test_exec(void **state)
{
    char *echo[] = { (char *) "echo", (char *) "hello", NULL };
    char *cat[] = { (char *) "cat", NULL };
    char *fail[] = { (char *) "sh", (char *) "-c",
                     (char *) "echo oops >&2; exit 3", NULL };
    char *sleeper[] = { (char *) "sleep", (char *) "5", NULL };
    char *missing[] = { (char *) "/nonexistent/vnm-no-such-program", NULL };
    char *big_input = xmalloc(1 << 20);
    char *out, *err;
    uint64_t start;

    (void) state;
    assert_int_equal(tap_flow_exec(echo, NULL, 5000, &out, &err), 0);
    assert_string_equal(out, "hello\n");
    assert_string_equal(err, "");
    free(out);
    free(err);

    /* A megabyte through stdin and back. */
    memset(big_input, 'x', (1 << 20) - 1);
    big_input[(1 << 20) - 1] = '\0';
    assert_int_equal(tap_flow_exec(cat, big_input, 5000, &out, NULL), 0);
    assert_string_equal(out, big_input);
    free(out);
    free(big_input);

    assert_int_equal(tap_flow_exec(fail, NULL, 5000, &out, &err), EIO);
    assert_string_equal(err, "oops\n");
    free(out);
    free(err);

    start = vnm_time_mono_ms();
    assert_int_equal(tap_flow_exec(sleeper, NULL, 200, NULL, NULL),
                     ETIMEDOUT);
    assert_true(vnm_time_mono_ms() - start < 2000);

    assert_int_equal(tap_flow_exec(missing, NULL, 1000, NULL, NULL), ENOENT);
}

static void
test_flow_config(void **state)
{
    struct tap_flow_config c;
    struct tap_flow *tap;

    (void) state;
    tap_flow_config_init(&c);
    assert_int_equal(tap_flow_create(&c, &tap), EINVAL);   /* No bridge. */
    assert_null(tap);
    c.bridge = "br0";
    c.monitor_port = "this-name-is-too-long";
    assert_int_equal(tap_flow_create(&c, &tap), EINVAL);
    c.monitor_port = NULL;
    c.reg = 16;
    assert_int_equal(tap_flow_create(&c, &tap), EINVAL);
    c.reg = 15;
    c.priority = 70000;
    assert_int_equal(tap_flow_create(&c, &tap), EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_small),
        cmocka_unit_test(test_filter_large),
        cmocka_unit_test(test_filter_too_big),
        cmocka_unit_test(test_ring_config),
        cmocka_unit_test(test_portmap_indexes),
        cmocka_unit_test(test_portmap_reuse_and_capacity),
        cmocka_unit_test(test_build_rules),
        cmocka_unit_test(test_match_key),
        cmocka_unit_test(test_parse_dump),
        cmocka_unit_test(test_parse_port_desc),
        cmocka_unit_test(test_parse_register),
        cmocka_unit_test(test_monitor_name),
        cmocka_unit_test(test_exec),
        cmocka_unit_test(test_flow_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

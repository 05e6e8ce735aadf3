/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/flow-codec.c: a fully populated record survives
 * encoding and decoding unchanged (byte for byte, through both writers),
 * the JSON carries the documented members (the optional ones only when they
 * say something), and malformed records are refused with the member named.
 */
#include <config.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/flow-codec.h"
#include "lib/util.h"

static void
fill_flow(struct vnm_flow *f)
{
    struct vnm_addr a;

    memset(f, 0, sizeof *f);
    f->id = (UINT64_C(3) << 48) | 12345;
    f->first_ms = UINT64_C(1795252909297);
    f->last_ms = f->first_ms + 1500;
    f->event = VNM_FLOW_END_TCP;
    f->class = VNM_FLOW_VM_VM_CROSS_TENANT;
    f->eth_type = 0x86dd;
    f->ip_proto = 6;
    f->n_vlan_tags = 2;
    f->vlan[0] = (struct vnm_vlan_tag) { 0x88a8, (5 << 13) | (1 << 12) | 100 };
    f->vlan[1] = (struct vnm_vlan_tag) { 0x8100, 4094 };
    f->tunnel_type = 1;
    f->vni = 0xffffff;
    assert_true(vnm_addr_parse("fd00::11", &f->src.ip));
    assert_true(vnm_addr_parse("fd00::21", &f->dst.ip));
    f->src.port = 40000;
    f->dst.port = 443;
    memcpy(f->src.mac, "\x02\x00\x00\x00\x01\x01", 6);
    memcpy(f->dst.mac, "\x02\x00\x00\x00\x02\x01", 6);
    f->src.tcp_flags = 0x1b;
    f->dst.tcp_flags = 0x12;
    f->src.packets = UINT64_C(1) << 40;
    f->src.bytes = INT64_MAX;
    f->dst.packets = 7;
    f->dst.bytes = 900;
    vnm_strlcpy(f->src.in.port, "t1vm1", sizeof f->src.in.port);
    f->src.in.ofport = 3;
    vnm_strlcpy(f->src.in.iface_id, "iface-\"quoted\"",
                sizeof f->src.in.iface_id);
    vnm_strlcpy(f->src.in.vm, "564d0000-0000-4000-8000-000001000001",
                sizeof f->src.in.vm);
    vnm_strlcpy(f->src.in.tenant, "tenant1", sizeof f->src.in.tenant);
    f->dst.in.ofport = -1;
    vnm_strlcpy(f->app, "Google", sizeof f->app);
    vnm_strlcpy(f->master, "TLS", sizeof f->master);
    vnm_strlcpy(f->category, "Web", sizeof f->category);
    f->confidence = 6;
    f->risk_score = 110;
    f->risks = UINT64_C(0x4000000000000001);
    vnm_strlcpy(f->server_name, "www.google.com", sizeof f->server_name);
    assert_true(vnm_labels_add(&f->labels, "dst_country", "FR"));
    assert_true(vnm_labels_add(&f->labels, "dst_asn", "AS3215 Orange"));

    /* ABI 1.1: every member of both sides' ctl, the carrier, the host. */
    f->src_ctl.arp = VNM_ARP_REQUEST | VNM_ARP_GRATUITOUS;
    memcpy(f->src_ctl.arp_sha, "\x02\x00\x00\x00\x01\x0a", 6);
    f->src_ctl.nd = VNM_ND_NS | VNM_ND_NA | VNM_ND_RA;
    f->src_ctl.nd_flags = 0x60;
    f->src_ctl.has_nd_lladdr = 1;
    memcpy(f->src_ctl.nd_lladdr, "\x02\x00\x00\x00\x01\x0b", 6);
    assert_true(vnm_addr_parse("fd00::2", &a));
    memcpy(f->src_ctl.nd_target, a.a, 16);
    f->src_ctl.has_icmp = 1;
    f->src_ctl.icmp_type = 135;
    f->dst_ctl.arp = VNM_ARP_REPLY | VNM_ARP_SHA_MISMATCH;
    memcpy(f->dst_ctl.arp_sha, "\x02\x00\x00\x00\x02\x0c", 6);
    f->dst_ctl.nd = VNM_ND_RS | VNM_ND_REDIRECT;
    f->dst_ctl.has_icmp = 1;
    f->dst_ctl.icmp_type = 3;
    f->dst_ctl.icmp_code = 13;
    f->dst_ctl.dhcpv6 = 1;
    f->dst_ctl.dhcp_types = (1u << 2) | (1u << 7) | (1u << 13);
    assert_true(vnm_addr_parse("172.16.0.1", &f->outer.src_ip));
    assert_true(vnm_addr_parse("2001:db8::2", &f->outer.dst_ip));
    f->outer.src_port = 65535;
    f->outer.dst_port = 4789;
    vnm_strlcpy(f->host, "hv1", sizeof f->host);
}

static void
test_round_trip(void **state)
{
    struct vnm_flow in, out;
    json_t *j;
    char *error;

    fill_flow(&in);
    j = flow_to_json(&in, "hv1");
    assert_string_equal(json_string_value(json_object_get(j, "host")), "hv1");
    assert_string_equal(json_string_value(json_object_get(j, "class")),
                        "vm-vm-cross-tenant");
    assert_string_equal(json_string_value(json_object_get(j, "event")),
                        "end-tcp");
    assert_string_equal(json_string_value(
        json_object_get(json_object_get(j, "src"), "ip")), "fd00::11");
    assert_string_equal(json_string_value(
        json_object_get(json_object_get(j, "tunnel"), "type")), "vxlan");
    error = flow_from_json(j, &out);
    assert_null(error);
    json_decref(j);

    /* Every byte that carries information survives: compare the JSON of
     * both, and the key fields directly. */
    assert_memory_equal(&in.src, &out.src, sizeof in.src);
    assert_memory_equal(&in.dst, &out.dst, sizeof in.dst);
    assert_memory_equal(in.vlan, out.vlan, sizeof in.vlan);
    assert_int_equal(in.n_vlan_tags, out.n_vlan_tags);
    assert_true(in.id == out.id && in.first_ms == out.first_ms
                && in.last_ms == out.last_ms && in.event == out.event
                && in.class == out.class && in.eth_type == out.eth_type
                && in.ip_proto == out.ip_proto && in.vni == out.vni
                && in.tunnel_type == out.tunnel_type
                && in.confidence == out.confidence
                && in.risk_score == out.risk_score && in.risks == out.risks);
    assert_string_equal(in.app, out.app);
    assert_string_equal(in.master, out.master);
    assert_string_equal(in.category, out.category);
    assert_string_equal(in.server_name, out.server_name);
    assert_memory_equal(&in.labels, &out.labels, sizeof in.labels);
    assert_memory_equal(&in.src_ctl, &out.src_ctl, sizeof in.src_ctl);
    assert_memory_equal(&in.dst_ctl, &out.dst_ctl, sizeof in.dst_ctl);
    assert_memory_equal(&in.outer, &out.outer, sizeof in.outer);
    assert_string_equal(out.host, "hv1");
    /* And the whole record, byte for byte. */
    assert_memory_equal(&in, &out, sizeof in);
}

/* The same through the JSON-lines writer, with and without the optional
 * members. */
static void
test_round_trip_jsonl(void **state)
{
    struct vnm_flow in, out;
    size_t size = 0, len = 0;
    char *buf = NULL;
    json_t *j;

    for (int pass = 0; pass < 2; pass++) {
        fill_flow(&in);
        if (pass) {
            memset(&in.src_ctl, 0, sizeof in.src_ctl);
            memset(&in.dst_ctl, 0, sizeof in.dst_ctl);
            memset(&in.outer, 0, sizeof in.outer);
            memset(in.host, 0, sizeof in.host);
            in.tunnel_type = 0;
            in.vni = 0;
        }
        len = 0;
        flow_to_jsonl(&in, NULL, &buf, &size, &len);
        j = json_loads(buf, 0, NULL);
        assert_non_null(j);
        assert_null(flow_from_json(j, &out));
        assert_memory_equal(&in, &out, sizeof in);
        if (pass) {
            assert_null(json_object_get(j, "src_ctl"));
            assert_null(json_object_get(j, "dst_ctl"));
            assert_null(json_object_get(j, "outer"));
            assert_null(json_object_get(j, "host"));
        }
        json_decref(j);
    }
    free(buf);
}

/* The members of "src_ctl", "dst_ctl" and "outer" as documented, in both
 * writers. */
static void
test_ctl_members(void **state)
{
    struct vnm_flow f;
    size_t size = 0, len = 0;
    char *buf = NULL;
    const json_t *sc, *dc, *o, *v;
    json_t *j, *k;

    fill_flow(&f);
    f.src_ctl.nd_flags = 0;         /* NA seen: written even when 0. */
    j = flow_to_json(&f, NULL);
    flow_to_jsonl(&f, NULL, &buf, &size, &len);
    k = json_loads(buf, 0, NULL);
    assert_non_null(k);
    assert_true(json_equal(j, k));

    sc = json_object_get(j, "src_ctl");
    assert_int_equal(json_array_size(json_object_get(sc, "arp")), 2);
    assert_string_equal(json_string_value(
        json_array_get(json_object_get(sc, "arp"), 0)), "request");
    assert_string_equal(json_string_value(
        json_array_get(json_object_get(sc, "arp"), 1)), "gratuitous");
    assert_string_equal(json_string_value(json_object_get(sc, "arp_sha")),
                        "02:00:00:00:01:0a");
    v = json_object_get(sc, "nd");
    assert_int_equal(json_array_size(v), 3);
    assert_string_equal(json_string_value(json_array_get(v, 0)), "ra");
    assert_string_equal(json_string_value(json_array_get(v, 1)), "ns");
    assert_string_equal(json_string_value(json_array_get(v, 2)), "na");
    assert_int_equal(json_integer_value(json_object_get(sc, "nd_flags")), 0);
    assert_string_equal(json_string_value(json_object_get(sc, "nd_lladdr")),
                        "02:00:00:00:01:0b");
    assert_string_equal(json_string_value(json_object_get(sc, "nd_target")),
                        "fd00::2");
    assert_int_equal(json_integer_value(json_object_get(sc, "icmp_type")),
                     135);
    assert_int_equal(json_integer_value(json_object_get(sc, "icmp_code")), 0);
    assert_null(json_object_get(sc, "dhcpv6"));
    assert_null(json_object_get(sc, "dhcp_types"));
    assert_int_equal(json_object_size(sc), 8);

    dc = json_object_get(j, "dst_ctl");
    v = json_object_get(dc, "arp");
    assert_string_equal(json_string_value(json_array_get(v, 0)), "reply");
    assert_string_equal(json_string_value(json_array_get(v, 1)),
                        "sha-mismatch");
    v = json_object_get(dc, "nd");
    assert_string_equal(json_string_value(json_array_get(v, 0)), "rs");
    assert_string_equal(json_string_value(json_array_get(v, 1)), "redirect");
    assert_string_equal(json_string_value(json_object_get(dc, "nd_target")),
                        "::");
    assert_null(json_object_get(dc, "nd_lladdr"));
    assert_null(json_object_get(dc, "nd_flags"));
    assert_true(json_is_true(json_object_get(dc, "dhcpv6")));
    v = json_object_get(dc, "dhcp_types");
    assert_int_equal(json_array_size(v), 3);
    assert_int_equal(json_integer_value(json_array_get(v, 0)), 2);
    assert_int_equal(json_integer_value(json_array_get(v, 1)), 7);
    assert_int_equal(json_integer_value(json_array_get(v, 2)), 13);
    assert_int_equal(json_integer_value(json_object_get(dc, "icmp_code")),
                     13);

    o = json_object_get(j, "outer");
    assert_string_equal(json_string_value(json_object_get(o, "src")),
                        "172.16.0.1");
    assert_string_equal(json_string_value(json_object_get(o, "dst")),
                        "2001:db8::2");
    assert_int_equal(json_integer_value(json_object_get(o, "sport")), 65535);
    assert_int_equal(json_integer_value(json_object_get(o, "dport")), 4789);

    /* The record's own host when no host id is given. */
    assert_string_equal(json_string_value(json_object_get(j, "host")),
                        "hv1");
    json_decref(j);
    json_decref(k);

    /* An ARP sender: only what it says; an echo reply's type 0 too. */
    memset(&f.src_ctl, 0, sizeof f.src_ctl);
    memset(&f.dst_ctl, 0, sizeof f.dst_ctl);
    f.src_ctl.arp = VNM_ARP_REPLY;
    f.dst_ctl.has_icmp = 1;
    f.tunnel_type = 0;
    j = flow_to_json(&f, "hv2");
    len = 0;
    flow_to_jsonl(&f, "hv2", &buf, &size, &len);
    k = json_loads(buf, 0, NULL);
    assert_non_null(k);
    assert_true(json_equal(j, k));
    assert_null(json_object_get(j, "outer"));
    assert_string_equal(json_string_value(json_object_get(j, "host")),
                        "hv2");
    sc = json_object_get(j, "src_ctl");
    assert_int_equal(json_object_size(sc), 2);
    assert_string_equal(json_string_value(json_object_get(sc, "arp_sha")),
                        "00:00:00:00:00:00");
    dc = json_object_get(j, "dst_ctl");
    assert_int_equal(json_object_size(dc), 2);
    assert_int_equal(json_integer_value(json_object_get(dc, "icmp_type")), 0);
    json_decref(j);
    json_decref(k);
    free(buf);
}

/* "host" is parsed, cut to its array on a UTF-8 character boundary. */
static void
test_host(void **state)
{
    char long_host[100];
    struct vnm_flow f, out;
    json_t *j;

    fill_flow(&f);
    j = flow_to_json(&f, NULL);
    memset(long_host, 'a', sizeof long_host);
    long_host[sizeof long_host - 1] = '\0';
    json_object_set_new(j, "host", json_string(long_host));
    assert_null(flow_from_json(j, &out));
    assert_int_equal(strlen(out.host), VNM_ID_SIZE - 1);

    /* 62 ASCII bytes then a 2-byte character: cut before it. */
    memcpy(long_host + 62, "\xc3\xa9", 3);
    json_object_set_new(j, "host", json_string(long_host));
    assert_null(flow_from_json(j, &out));
    assert_int_equal(strlen(out.host), 62);
    /* 61 then a 3-byte character fits; 62 then it does not. */
    memset(long_host, 'a', sizeof long_host);
    memcpy(long_host + 60, "\xe2\x82\xac", 4);
    json_object_set_new(j, "host", json_string(long_host));
    assert_null(flow_from_json(j, &out));
    assert_int_equal(strlen(out.host), 63);
    memset(long_host, 'a', sizeof long_host);
    memcpy(long_host + 61, "\xe2\x82\xac", 4);
    json_object_set_new(j, "host", json_string(long_host));
    assert_null(flow_from_json(j, &out));
    assert_int_equal(strlen(out.host), 61);

    json_object_del(j, "host");
    assert_null(flow_from_json(j, &out));
    assert_string_equal(out.host, "");
    json_decref(j);
}

static void
test_jsonl(void **state)
{
    struct vnm_flow f;
    size_t size = 0, len = 0;
    char *buf = NULL;
    json_t *j;

    fill_flow(&f);
    f.n_vlan_tags = 0;
    f.tunnel_type = 0;
    memset(&f.src.ip, 0, sizeof f.src.ip);  /* Non-IP: no address. */
    f.host[0] = '\0';              /* No host id, none of its own. */
    flow_to_jsonl(&f, NULL, &buf, &size, &len);
    flow_to_jsonl(&f, NULL, &buf, &size, &len);
    assert_int_equal(strlen(buf), len);
    assert_non_null(strchr(buf, '\n'));
    assert_ptr_equal(strchr(buf, '\n') + 1 + (strchr(buf, '\n') - buf) + 1,
                     buf + len);
    j = json_loadb(buf, (size_t) (strchr(buf, '\n') - buf), 0, NULL);
    assert_non_null(j);
    assert_null(json_object_get(j, "host"));
    assert_true(json_is_null(json_object_get(j, "tunnel")));
    assert_int_equal(json_array_size(json_object_get(j, "vlan")), 0);
    assert_string_equal(json_string_value(
        json_object_get(json_object_get(j, "src"), "ip")), "");
    json_decref(j);
    free(buf);
}

/* The hand-written JSON line is the same document as flow_to_json()'s,
 * including awkward strings (quotes, control bytes, invalid UTF-8). */
static void
test_jsonl_equals_json(void **state)
{
    struct vnm_flow f;
    size_t size = 0, len = 0;
    char *buf = NULL;
    json_t *a, *b;

    fill_flow(&f);
    vnm_strlcpy(f.server_name, "a\"b\\c\n\x01\xff\xc3\xa9\xe2\x82\xac"
                "\xf0\x9f\x98\x80\xed\xa0\x80", sizeof f.server_name);
    f.dst.in.ofport = -5;
    flow_to_jsonl(&f, "hv\"1", &buf, &size, &len);
    a = json_loads(buf, 0, NULL);
    assert_non_null(a);
    b = flow_to_json(&f, "hv\"1");
    assert_string_equal(json_string_value(json_object_get(a, "server_name")),
                        "a\"b\\c\n\x01\xef\xbf\xbd\xc3\xa9\xe2\x82\xac"
                        "\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd"
                        "\xef\xbf\xbd");
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    free(buf);
}

/* Decoding 'text' fails with an error containing 'want'. */
static void
expect_error(const char *text, const char *want)
{
    struct vnm_flow f;
    json_t *j = json_loads(text, 0, NULL);
    char *error;

    assert_non_null(j);
    error = flow_from_json(j, &f);
    assert_non_null(error);
    if (!strstr(error, want)) {
        fail_msg("error \"%s\" lacks \"%s\"", error, want);
    }
    free(error);
    json_decref(j);
}

static void
test_errors(void **state)
{
    struct vnm_flow f;
    json_t *j;
    char *text;

    fill_flow(&f);
    j = flow_to_json(&f, NULL);
    json_object_set_new(j, "event", json_string("bogus"));
    text = json_dumps(j, 0);
    expect_error(text, "unknown event \"bogus\"");
    free(text);
    json_object_set_new(j, "event", json_string("update"));
    json_object_set_new(json_object_get(j, "src"), "ip",
                        json_string("10.0.0.300"));
    text = json_dumps(j, 0);
    expect_error(text, "\"src\": \"ip\": bad address \"10.0.0.300\"");
    free(text);
    json_object_set_new(json_object_get(j, "src"), "ip",
                        json_string("10.0.0.1"));
    json_object_set_new(json_object_get(j, "dst"), "port",
                        json_integer(70000));
    text = json_dumps(j, 0);
    expect_error(text, "\"dst\": \"port\"");
    free(text);
    json_decref(j);

    expect_error("[]", "not a JSON object");
    expect_error("{\"id\": -1}", "\"id\"");

    /* The ABI 1.1 members. */
    fill_flow(&f);
    j = flow_to_json(&f, NULL);
    json_object_set_new(j, "host", json_integer(1));
    text = json_dumps(j, 0);
    expect_error(text, "\"host\": not a string");
    free(text);
    json_object_set_new(j, "host", json_string("hv1"));
    json_object_set_new(json_object_get(j, "src_ctl"), "arp",
                        json_pack("[s]", "bogus"));
    text = json_dumps(j, 0);
    expect_error(text, "\"src_ctl\": \"arp\": unknown name");
    free(text);
    json_object_del(json_object_get(j, "src_ctl"), "arp");
    json_object_set_new(json_object_get(j, "dst_ctl"), "dhcp_types",
                        json_pack("[i]", 32));
    text = json_dumps(j, 0);
    expect_error(text, "\"dst_ctl\": \"dhcp_types\"");
    free(text);
    json_object_set_new(json_object_get(j, "dst_ctl"), "dhcp_types",
                        json_pack("[i]", 2));
    json_object_set_new(json_object_get(j, "dst_ctl"), "nd_target",
                        json_string("10.0.0.1"));
    text = json_dumps(j, 0);
    expect_error(text, "\"dst_ctl\": \"nd_target\"");
    free(text);
    json_object_del(json_object_get(j, "dst_ctl"), "nd_target");
    json_object_set_new(j, "src_ctl", json_string("x"));
    text = json_dumps(j, 0);
    expect_error(text, "\"src_ctl\": not an object");
    free(text);
    json_object_del(j, "src_ctl");
    json_object_set_new(json_object_get(j, "outer"), "src",
                        json_string("nope"));
    text = json_dumps(j, 0);
    expect_error(text, "\"outer\": bad address \"nope\"");
    free(text);
    json_object_del(j, "outer");
    assert_null(flow_from_json(j, &f));
    json_decref(j);
}

/* Counters past INT64_MAX saturate rather than wrap negative. */
static void
test_saturation(void **state)
{
    struct vnm_flow in, out;
    json_t *j;

    fill_flow(&in);
    in.dst.bytes = UINT64_MAX;
    j = flow_to_json(&in, NULL);
    assert_null(flow_from_json(j, &out));
    assert_true(out.dst.bytes == INT64_MAX);
    json_decref(j);
}

static void
test_addr_format(void **state)
{
    static const char *const addrs[] = {
        "0.0.0.0", "10.0.0.1", "255.255.255.255", "192.168.100.9",
        "fd00::11", "::", "2001:db8::1:0:0:1",
    };
    struct vnm_addr a;
    char buf[64];

    for (size_t i = 0; i < VNM_ARRAY_SIZE(addrs); i++) {
        assert_true(vnm_addr_parse(addrs[i], &a));
        assert_string_equal(vnm_addr_format(&a, buf, sizeof buf), addrs[i]);
    }
    memset(&a, 0, sizeof a);
    assert_string_equal(vnm_addr_format(&a, buf, sizeof buf), "");
    assert_false(vnm_addr_parse("10.0.0", &a));
}

static void
test_names(void **state)
{
    for (int i = VNM_FLOW_UPDATE; i <= VNM_FLOW_END_SHUTDOWN; i++) {
        assert_int_equal(flow_event_from_name(flow_event_name(i)), i);
    }
    for (int i = VNM_FLOW_UNKNOWN; i <= VNM_FLOW_UNDERLAY; i++) {
        assert_int_equal(flow_class_from_name(flow_class_name(i)), i);
    }
    assert_int_equal(flow_class_from_name("nope"), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_jsonl),
        cmocka_unit_test(test_ctl_members),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_jsonl_equals_json),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_saturation),
        cmocka_unit_test(test_addr_format),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

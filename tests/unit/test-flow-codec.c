/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/flow-codec.c: a fully populated record survives
 * encoding and decoding unchanged, the JSON carries the documented members,
 * and malformed records are refused with the member named.
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
    vnm_strlcpy(f->src.in.iface_id, "iface-\"quoted\"", sizeof f->src.in.iface_id);
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
    memset(&f.src.ip, 0, sizeof f.src.ip);  /* ARP-like: no address. */
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
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_jsonl_equals_json),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_saturation),
        cmocka_unit_test(test_addr_format),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

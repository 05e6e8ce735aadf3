/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "geo" detector: analyzer/detect-geo.c is compiled into
 * this binary and driven through its 'vnm_plugin' descriptor on the fake
 * host (tests/unit/fake-host.c), with flow records labelled as the agent's
 * "geoip" enricher labels them (peer_country, peer_asn, peer_org).
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/unit/fake-host.h"
#include "vnmon/plugin.h"

#define T0 UINT64_C(1714564800000) /* 2024-05-01T12:00:00Z. */

static const struct vnm_attribution t1vm1 = {
    .port = "t1vm1",
    .ofport = 3,
    .vm = "vm-t1vm1",
    .tenant = "tenant1",
};

/* A TCP flow t1vm1 10.0.0.11:40000 -> 198.51.100.7:443, labelled with
 * 'country' and 'asn' (either may be null). */
static struct vnm_flow
external_flow(uint64_t id, const char *country, const char *asn)
{
    struct vnm_flow flow;

    memset(&flow, 0, sizeof flow);
    snprintf(flow.host, sizeof flow.host, "hv1");
    flow.id = id;
    flow.first_ms = T0;
    flow.last_ms = T0 + 100;
    flow.event = VNM_FLOW_END_TCP;
    flow.class = VNM_FLOW_VM_EXTERNAL;
    flow.eth_type = 0x0800;
    flow.ip_proto = 6;
    flow.src.ip = (struct vnm_addr) { .family = 4, .a = { 10, 0, 0, 11 } };
    flow.src.port = 40000;
    flow.src.packets = 4;
    flow.src.bytes = 400;
    flow.src.in = t1vm1;
    flow.dst.ip = (struct vnm_addr) { .family = 4, .a = { 198, 51, 100, 7 } };
    flow.dst.port = 443;
    flow.dst.packets = 3;
    flow.dst.bytes = 3000;
    snprintf(flow.dst.in.port, sizeof flow.dst.in.port, "eth1");
    flow.dst.in.ofport = 1;
    if (country) {
        vnm_labels_add(&flow.labels, "peer_country", country);
    }
    if (asn) {
        vnm_labels_add(&flow.labels, "peer_asn", asn);
        vnm_labels_add(&flow.labels, "peer_org", "Example Org");
    }
    return flow;
}

static struct fake_host *
geo_start(const char *keys, void **statep)
{
    char text[512];
    struct fake_host *fh;

    snprintf(text, sizeof text, "[detector \"geo\"]\n%s", keys);
    fh = fake_host_create("detector", "geo", text);
    fh->now_ms = T0;
    *statep = NULL;
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, statep), 0);
    assert_null(fake_host_check_unused(fh));
    return fh;
}

static void
geo_stop(struct fake_host *fh, void *state)
{
    vnm_plugin.destroy(state);
    assert_string_equal(fh->log, "");
    fake_host_destroy(fh);
}

static void
feed(struct fake_host *fh, void *state, const struct vnm_flow *flow,
     uint64_t now)
{
    fh->now_ms = now;
    vnm_plugin.detector->on_flow(state, flow);
}

static void
test_descriptor(void **statep)
{
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_DETECTOR);
    assert_string_equal(vnm_plugin.name, "geo");
}

/* A denied country: one incident per VM and country, naming the peer. */
static void
test_deny_country(void **statep)
{
    struct vnm_flow flow = external_flow(1, "CN", "64500");
    struct vnm_flow other = external_flow(2, "FR", "64500");
    const struct fake_alert *a;
    struct fake_host *fh;
    void *state;

    fh = geo_start("deny_countries = cn, RU\n", &state);
    feed(fh, state, &other, T0);
    assert_int_equal(fh->n_alerts, 0);
    feed(fh, state, &flow, T0);
    assert_int_equal(fh->n_alerts, 1);
    a = &fh->alerts[0];
    assert_string_equal(a->kind, "geo");
    assert_int_equal(a->severity, VNM_SEV_MEDIUM);
    assert_string_equal(a->key, "hv1/t1vm1>CN");
    assert_string_equal(a->target, "CN");
    assert_true(a->has_vm);
    assert_string_equal(a->vm.tenant, "tenant1");
    assert_string_equal(a->summary, "t1vm1 (10.0.0.11) to "
                        "198.51.100.7:443 (country CN, AS64500 Example "
                        "Org): country not allowed");
    assert_int_equal(a->packets, 7);
    assert_int_equal(a->bytes, 3400);
    assert_int_equal(a->n_evidence, 3);
    assert_string_equal(a->evidence[0], "peer 198.51.100.7: country CN, "
                        "AS64500 Example Org");
    geo_stop(fh, state);
}

/* An allow list refuses every other country; peers without a label are
 * not judged; with no list at all nothing is refused. */
static void
test_allow_countries(void **statep)
{
    struct vnm_flow fr = external_flow(1, "FR", NULL);
    struct vnm_flow jp = external_flow(2, "JP", NULL);
    struct vnm_flow unknown = external_flow(3, NULL, NULL);
    struct fake_host *fh;
    void *state;

    fh = geo_start("allow_countries = FR DE\n", &state);
    feed(fh, state, &fr, T0);
    feed(fh, state, &unknown, T0);
    assert_int_equal(fh->n_alerts, 0);
    feed(fh, state, &jp, T0);
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].target, "JP");
    geo_stop(fh, state);

    fh = geo_start("", &state);
    feed(fh, state, &jp, T0);
    assert_int_equal(fh->n_alerts, 0);
    geo_stop(fh, state);
}

/* Autonomous systems: denied or outside the allowed ones; the country
 * names the incident when both are refused. */
static void
test_asns(void **statep)
{
    struct vnm_flow a = external_flow(1, "FR", "64501");
    struct vnm_flow b = external_flow(2, "FR", "64500");
    struct vnm_flow c = external_flow(3, "CN", "64501");
    struct fake_host *fh;
    void *state;

    fh = geo_start("deny_asns = AS64501\ndeny_countries = CN\n", &state);
    feed(fh, state, &b, T0);
    assert_int_equal(fh->n_alerts, 0);
    feed(fh, state, &a, T0);
    feed(fh, state, &c, T0);
    assert_int_equal(fh->n_alerts, 2);
    assert_string_equal(fh->alerts[0].key, "hv1/t1vm1>AS64501");
    assert_non_null(strstr(fh->alerts[0].summary, "autonomous system not "
                           "allowed"));
    assert_string_equal(fh->alerts[1].key, "hv1/t1vm1>CN");
    geo_stop(fh, state);

    fh = geo_start("allow_asns = 64500, 64502\n", &state);
    feed(fh, state, &b, T0);
    assert_int_equal(fh->n_alerts, 0);
    feed(fh, state, &a, T0);
    assert_int_equal(fh->n_alerts, 1);
    geo_stop(fh, state);
}

/* An external peer that starts the flow: the VM is the responder. */
static void
test_inbound(void **statep)
{
    struct vnm_flow flow = external_flow(1, "JP", "64501");
    struct vnm_flow_end end = flow.src;
    struct fake_host *fh;
    void *state;

    flow.src = flow.dst;
    flow.dst = end;
    flow.class = VNM_FLOW_EXTERNAL_VM;
    fh = geo_start("deny_countries = JP\n", &state);
    feed(fh, state, &flow, T0);
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].key, "hv1/t1vm1>JP");
    assert_string_equal(fh->alerts[0].summary, "t1vm1 (10.0.0.11) from "
                        "198.51.100.7:443 (country JP, AS64501 Example "
                        "Org): country not allowed");
    geo_stop(fh, state);
}

/* Records of one flow count once; emissions within a second merge. */
static void
test_records(void **statep)
{
    struct vnm_flow flow = external_flow(1, "CN", NULL);
    uint64_t packets = 0;
    struct fake_host *fh;
    void *state;

    fh = geo_start("deny_countries = CN\n", &state);
    for (int i = 1; i <= 5; i++) {
        flow.event = i < 5 ? VNM_FLOW_UPDATE : VNM_FLOW_END_TCP;
        flow.src.packets = 10 * i;
        flow.dst.packets = 10 * i;
        feed(fh, state, &flow, T0 + 400 * i);
        feed(fh, state, &flow, T0 + 400 * i);   /* Repeated. */
    }
    vnm_plugin.detector->on_tick(state, T0 + 10000);
    for (size_t i = 0; i < fh->n_alerts; i++) {
        packets += fh->alerts[i].packets;
    }
    assert_int_equal(packets, 100);
    assert_int_equal(fh->n_alerts, 3);    /* 0.4 s, 1.6 s, 10 s. */
    geo_stop(fh, state);
}

/* Invalid lists fail init(). */
static void
test_config_errors(void **statep)
{
    static const struct {
        const char *keys;
        const char *log;
    } cases[] = {
        { "allow_countries = France\n", "ERR|allow_countries: \"France\" "
          "is not a two-letter country code" },
        { "deny_countries = F1\n", "ERR|deny_countries: \"F1\" is not" },
        { "deny_asns = AS12x\n", "ERR|deny_asns: \"AS12x\" is not an AS "
          "number" },
        { "severity = x\n", "ERR|severity: \"x\" is not one of " },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fake_host *fh;
        void *state = NULL;
        char text[128];

        snprintf(text, sizeof text, "[detector \"geo\"]\n%s", cases[i].keys);
        fh = fake_host_create("detector", "geo", text);
        assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state),
                         EINVAL);
        assert_null(state);
        if (strncmp(fh->log, cases[i].log, strlen(cases[i].log))) {
            fail_msg("case %zu: log is \"%s\"", i, fh->log);
        }
        fake_host_destroy(fh);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_deny_country),
        cmocka_unit_test(test_allow_countries),
        cmocka_unit_test(test_asns),
        cmocka_unit_test(test_inbound),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "ndpi-risk" detector: analyzer/detect-ndpi-risk.c is
 * compiled into this binary and driven through its 'vnm_plugin' descriptor
 * on the fake host (tests/unit/fake-host.c), with synthetic flow records
 * whose risk bitmaps and scores are what nDPI 4.2 gives
 * (ndpi_risk2score() of the bits set: 10 per low, 50 per medium, 100 per
 * high, 250 per severe risk).
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

#define BIT(N) (UINT64_C(1) << (N))

/* nDPI 4.2 risks used here (ndpi_risk_enum) and their scores. */
#define NON_STANDARD_PORT 5     /* Known protocol on...: 50 */
#define TLS_SELFSIGNED_CERTIFICATE 6            /* 100 */
#define TLS_OBSOLETE_VERSION 7                  /* 100 */
#define TLS_WEAK_CIPHER 8                       /* 100 */
#define HTTP_SUSPICIOUS_USER_AGENT 11           /* 100 */
#define HTTP_NUMERIC_IP_HOST 12                 /* 10 */
#define POSSIBLE_EXPLOIT 40                     /* 250 */

static const struct vnm_attribution t1vm1 = {
    .port = "t1vm1",
    .ofport = 3,
    .vm = "vm-t1vm1",
    .tenant = "tenant1",
};

static struct vnm_addr
ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct vnm_addr addr = { .family = 4, .a = { a, b, c, d } };

    return addr;
}

/* An HTTP flow t1vm1 10.0.0.11:40000 -> 10.0.0.21:8080 with 'risks' and
 * 'score', 5 packets each way. */
static struct vnm_flow
risky_flow(uint64_t id, uint64_t risks, uint16_t score)
{
    struct vnm_flow flow;

    memset(&flow, 0, sizeof flow);
    snprintf(flow.host, sizeof flow.host, "hv1");
    flow.id = id;
    flow.first_ms = T0;
    flow.last_ms = T0 + 100;
    flow.event = VNM_FLOW_END_TCP;
    flow.class = VNM_FLOW_VM_VM_CROSS_TENANT;
    flow.eth_type = 0x0800;
    flow.ip_proto = 6;
    flow.src.ip = ipv4(10, 0, 0, 11);
    flow.src.port = 40000;
    flow.src.tcp_flags = 0x1b;
    flow.src.packets = 5;
    flow.src.bytes = 600;
    flow.src.in = t1vm1;
    flow.dst.ip = ipv4(10, 0, 0, 21);
    flow.dst.port = 8080;
    flow.dst.tcp_flags = 0x1b;
    flow.dst.packets = 5;
    flow.dst.bytes = 900;
    flow.dst.in.ofport = -1;
    snprintf(flow.app, sizeof flow.app, "HTTP");
    snprintf(flow.category, sizeof flow.category, "Web");
    snprintf(flow.server_name, sizeof flow.server_name, "10.0.0.21");
    flow.risks = risks;
    flow.risk_score = score;
    return flow;
}

static struct fake_host *
risk_start(const char *keys, void **statep)
{
    char text[512];
    struct fake_host *fh;

    snprintf(text, sizeof text, "[detector \"ndpi-risk\"]\n%s", keys);
    fh = fake_host_create("detector", "ndpi-risk", text);
    fh->now_ms = T0;
    *statep = NULL;
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, statep), 0);
    assert_null(fake_host_check_unused(fh));
    return fh;
}

static void
risk_stop(struct fake_host *fh, void *state)
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
    assert_string_equal(vnm_plugin.name, "ndpi-risk");
    assert_non_null(vnm_plugin.detector->on_tick);
}

/* A Log4Shell-style request: suspicious user agent, numeric host, possible
 * exploit: score 360, a high "ndpi-risk" naming the risks. */
static void
test_exploit(void **statep)
{
    struct vnm_flow flow = risky_flow(1, BIT(HTTP_SUSPICIOUS_USER_AGENT)
                                      | BIT(HTTP_NUMERIC_IP_HOST)
                                      | BIT(POSSIBLE_EXPLOIT), 360);
    const struct fake_alert *a;
    struct fake_host *fh;
    void *state;

    fh = risk_start("", &state);
    feed(fh, state, &flow, T0 + 1000);
    assert_int_equal(fh->n_alerts, 1);
    a = &fh->alerts[0];
    assert_string_equal(a->kind, "ndpi-risk");
    assert_int_equal(a->severity, VNM_SEV_HIGH);
    assert_string_equal(a->key, "hv1/t1vm1>10.0.0.21");
    assert_string_equal(a->target, "10.0.0.21");
    assert_true(a->has_vm);
    assert_string_equal(a->vm.port, "t1vm1");
    assert_string_equal(a->summary, "t1vm1 (10.0.0.11) to 10.0.0.21:8080 "
                        "HTTP: nDPI risk score 360: HTTP Suspicious "
                        "User-Agent (100), HTTP Numeric IP Address (10), "
                        "Possible Exploit Detected (250)");
    assert_int_equal(a->packets, 10);
    assert_int_equal(a->bytes, 1500);
    assert_int_equal(a->n_evidence, 3);
    assert_string_equal(a->evidence[0], "nDPI HTTP (Web), score 360: HTTP "
                        "Suspicious User-Agent (100), HTTP Numeric IP "
                        "Address (10), Possible Exploit Detected (250) | "
                        "server 10.0.0.21");
    assert_non_null(strstr(a->evidence[1], "10.0.0.11:40000 > "
                           "10.0.0.21:8080"));
    assert_int_equal(fake_host_counter(fh, "risky_records"), 1);
    risk_stop(fh, state);
}

/* Scores under min_score raise nothing; 100 is medium; severity can be
 * fixed. */
static void
test_scores(void **statep)
{
    struct vnm_flow low = risky_flow(1, BIT(NON_STANDARD_PORT)
                                     | BIT(HTTP_NUMERIC_IP_HOST), 60);
    struct vnm_flow medium = risky_flow(2, BIT(TLS_OBSOLETE_VERSION), 100);
    struct fake_host *fh;
    void *state;

    fh = risk_start("", &state);
    feed(fh, state, &low, T0);
    assert_int_equal(fh->n_alerts, 0);
    feed(fh, state, &medium, T0);
    assert_int_equal(fh->n_alerts, 1);
    assert_int_equal(fh->alerts[0].severity, VNM_SEV_MEDIUM);
    risk_stop(fh, state);

    fh = risk_start("min_score = 50\nseverity = low\n", &state);
    feed(fh, state, &low, T0);
    assert_int_equal(fh->n_alerts, 1);
    assert_int_equal(fh->alerts[0].severity, VNM_SEV_LOW);
    risk_stop(fh, state);
}

/* Ignored risks are taken out, with their score, by name or number. */
static void
test_ignore(void **statep)
{
    struct vnm_flow old_tls = risky_flow(1, BIT(TLS_OBSOLETE_VERSION)
                                         | BIT(TLS_WEAK_CIPHER), 200);
    struct vnm_flow self_signed = risky_flow(2, BIT(TLS_OBSOLETE_VERSION)
                                             | BIT(TLS_WEAK_CIPHER)
                                             | BIT(TLS_SELFSIGNED_CERTIFICATE),
                                             300);
    struct fake_host *fh;
    void *state;

    fh = risk_start("ignore = tls_obsolete_version, 8\n", &state);
    feed(fh, state, &old_tls, T0);
    assert_int_equal(fh->n_alerts, 0);
    feed(fh, state, &self_signed, T0);
    assert_int_equal(fh->n_alerts, 1);
    assert_non_null(strstr(fh->alerts[0].summary, "score 100: Self-signed "
                           "Certificate (100)"));
    assert_null(strstr(fh->alerts[0].summary, "Obsolete"));
    risk_stop(fh, state);
}

/* An external client attacking a VM: the incident is the VM's, the peer
 * the attacker; a risk this table does not know is named by its bit. */
static void
test_external_attacker(void **statep)
{
    struct vnm_flow flow = risky_flow(1, BIT(POSSIBLE_EXPLOIT) | BIT(50),
                                      350);
    struct fake_host *fh;
    void *state;

    flow.class = VNM_FLOW_EXTERNAL_VM;
    flow.src.ip = ipv4(203, 0, 113, 9);
    memset(&flow.src.in, 0, sizeof flow.src.in);
    snprintf(flow.src.in.port, sizeof flow.src.in.port, "eth1");
    flow.src.in.ofport = 1;
    flow.dst.in = t1vm1;
    flow.dst.ip = ipv4(10, 0, 0, 11);
    fh = risk_start("", &state);
    feed(fh, state, &flow, T0);
    assert_int_equal(fh->n_alerts, 1);
    assert_string_equal(fh->alerts[0].key, "hv1/t1vm1>203.0.113.9");
    assert_string_equal(fh->alerts[0].vm.port, "t1vm1");
    assert_string_equal(fh->alerts[0].summary, "t1vm1 (10.0.0.11) from "
                        "203.0.113.9:40000 HTTP: nDPI risk score 350: "
                        "Possible Exploit Detected (250), risk 50");
    risk_stop(fh, state);
}

/* A flow reported several times counts its packets once; emissions of one
 * incident within a second are merged and delivered at a tick. */
static void
test_records(void **statep)
{
    struct vnm_flow flow = risky_flow(1, BIT(HTTP_SUSPICIOUS_USER_AGENT),
                                      100);
    uint64_t packets = 0;
    struct fake_host *fh;
    void *state;

    fh = risk_start("", &state);
    flow.event = VNM_FLOW_UPDATE;
    feed(fh, state, &flow, T0 + 1000);          /* 10 packets. */
    flow.src.packets = 8;
    flow.dst.packets = 9;
    feed(fh, state, &flow, T0 + 1500);          /* 7 more: merged. */
    flow.event = VNM_FLOW_END_TCP;
    feed(fh, state, &flow, T0 + 1600);          /* Nothing new. */
    assert_int_equal(fh->n_alerts, 1);
    vnm_plugin.detector->on_tick(state, T0 + 1900);
    assert_int_equal(fh->n_alerts, 1);
    vnm_plugin.detector->on_tick(state, T0 + 2000);
    assert_int_equal(fh->n_alerts, 2);
    for (size_t i = 0; i < fh->n_alerts; i++) {
        assert_string_equal(fh->alerts[i].key, "hv1/t1vm1>10.0.0.21");
        packets += fh->alerts[i].packets;
    }
    assert_int_equal(packets, 17);
    vnm_plugin.detector->on_tick(state, T0 + 100000);
    assert_int_equal(fh->n_alerts, 2);
    risk_stop(fh, state);
}

/* Invalid keys fail init(). */
static void
test_config_errors(void **statep)
{
    static const struct {
        const char *keys;
        const char *log;
    } cases[] = {
        { "min_score = 0\n", "ERR|test.conf:2: min_score: " },
        { "ignore = tls_everything\n", "ERR|ignore: \"tls_everything\" is "
          "not an nDPI risk" },
        { "ignore = 99\n", "ERR|ignore: \"99\" is not an nDPI risk" },
        { "severity = x\n", "ERR|severity: \"x\" is not one of auto, " },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fake_host *fh;
        void *state = NULL;
        char text[128];

        snprintf(text, sizeof text, "[detector \"ndpi-risk\"]\n%s",
                 cases[i].keys);
        fh = fake_host_create("detector", "ndpi-risk", text);
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
        cmocka_unit_test(test_exploit),
        cmocka_unit_test(test_scores),
        cmocka_unit_test(test_ignore),
        cmocka_unit_test(test_external_attacker),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_config_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the agent's Prometheus endpoint (collector/prometheus.c):
 * the exposition-format writer (grouping, HELP/TYPE, escaping, numbers,
 * refused names), the mapping of the agent's status, Redis statistics and
 * bandwidth totals to metrics, the prometheus_listen key, and the HTTP
 * server itself, scraped with libevent's HTTP client on the same loop.
 *
 * Every text the writer produces goes through check_exposition(), a strict
 * reader of the text format 0.0.4.
 */
#include <config.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collector/bw.h"
#include "collector/prometheus.h"
#include "lib/conf.h"
#include "lib/redis.h"
#include "lib/util.h"

/* True if 'c' may appear in a metric name (colon too) or label name. */
static bool
name_char(char c, bool first, bool colon)
{
    return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
            || (colon && c == ':') || (!first && c >= '0' && c <= '9'));
}

/* Skips a name at '*p'; fails the test if there is none. */
static void
skip_name(const char **p, bool colon, const char *line)
{
    if (!name_char(**p, true, colon)) {
        fail_msg("bad name in \"%s\"", line);
    }
    while (name_char(**p, false, colon)) {
        (*p)++;
    }
}

/* Checks that 'text' is valid exposition format 0.0.4 as this writer
 * produces it: each family a HELP line, a TYPE line and its samples (whose
 * names are the family's, or for a summary its _sum and _count), families
 * never repeated, label values correctly escaped, values numbers. */
static void
check_exposition(const char *text)
{
    char **seen = NULL;
    size_t n_seen = 0;
    char family[128] = "";
    char type[16] = "";
    const char *line = text;

    assert_true(!*text || text[strlen(text) - 1] == '\n');
    while (*line) {
        const char *nl = strchr(line, '\n');
        char *l = xstrndup(line, (size_t) (nl - line));
        const char *p = l;

        if (!strncmp(l, "# HELP ", 7)) {
            const char *name = l + 7;

            p = name;
            skip_name(&p, true, l);
            assert_true(*p == ' ' || *p == '\0');
            snprintf(family, sizeof family, "%.*s", (int) (p - name), name);
            for (size_t i = 0; i < n_seen; i++) {
                if (!strcmp(seen[i], family)) {
                    fail_msg("family %s appears twice", family);
                }
            }
            seen = xrealloc(seen, (n_seen + 1) * sizeof *seen);
            seen[n_seen++] = xstrdup(family);
            /* HELP text: only \\ and \n escapes, no raw newline. */
            for (p = p[0] ? p + 1 : p; *p; p++) {
                if (*p == '\\') {
                    assert_true(p[1] == '\\' || p[1] == 'n');
                    p++;
                }
            }
            type[0] = '\0';
        } else if (!strncmp(l, "# TYPE ", 7)) {
            size_t n = strlen(family);

            assert_true(family[0] && !type[0]);
            assert_memory_equal(l + 7, family, n);
            assert_int_equal(l[7 + n], ' ');
            snprintf(type, sizeof type, "%s", l + 8 + n);
            if (strcmp(type, "counter") && strcmp(type, "gauge")
                && strcmp(type, "summary")) {
                fail_msg("bad type in \"%s\"", l);
            }
        } else {
            const char *name = p;
            size_t n = strlen(family);
            char *end;

            assert_true(type[0]);
            skip_name(&p, true, l);
            if (!((size_t) (p - name) == n && !strncmp(name, family, n))
                && !(!strcmp(type, "summary")
                     && ((size_t) (p - name) == n + 4
                         || (size_t) (p - name) == n + 6)
                     && !strncmp(name, family, n)
                     && (!strncmp(name + n, "_sum", 4)
                         || !strncmp(name + n, "_count", 6)))) {
                fail_msg("sample \"%s\" outside its family %s", l, family);
            }
            if (*p == '{') {
                p++;
                for (;;) {
                    skip_name(&p, false, l);
                    assert_int_equal(*p++, '=');
                    assert_int_equal(*p++, '"');
                    while (*p != '"') {
                        assert_true(*p && *p != '\n');
                        if (*p == '\\') {
                            assert_true(p[1] == '\\' || p[1] == '"'
                                        || p[1] == 'n');
                            p++;
                        }
                        p++;
                    }
                    p++;
                    if (*p == ',') {
                        p++;
                        continue;
                    }
                    assert_int_equal(*p++, '}');
                    break;
                }
            }
            assert_int_equal(*p++, ' ');
            if (strcmp(p, "NaN") && strcmp(p, "+Inf") && strcmp(p, "-Inf")) {
                errno = 0;
                strtod(p, &end);
                if (end == p || *end || errno) {
                    fail_msg("bad value in \"%s\"", l);
                }
            }
        }
        free(l);
        line = nl + 1;
    }
    for (size_t i = 0; i < n_seen; i++) {
        free(seen[i]);
    }
    free(seen);
}

/* Finishes 'w' and checks the text. */
static char *
finish(struct prom_writer *w)
{
    size_t len;
    char *text = prom_writer_finish(w, &len);

    assert_int_equal(strlen(text), len);
    check_exposition(text);
    return text;
}

/* Fails unless 'text' has the line 'line'. */
static void
assert_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = text; (p = strstr(p, line)); p++) {
        if ((p == text || p[-1] == '\n') && p[n] == '\n') {
            return;
        }
    }
    fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void
test_format(void **state)
{
    struct prom_writer *w = prom_writer_create("hv1");
    char *text;

    (void) state;
    prom_counter(w, "vnmon_a_total", "Things.", 1, "port", "p1", NULL);
    prom_gauge(w, "vnmon_b", "Level.", 0.5, NULL);
    /* Back to the first family: its samples stay together. */
    prom_counter(w, "vnmon_a_total", "Ignored help.", 2, "port", "p2", NULL);
    text = finish(w);
    assert_string_equal(text,
                        "# HELP vnmon_a_total Things.\n"
                        "# TYPE vnmon_a_total counter\n"
                        "vnmon_a_total{host=\"hv1\",port=\"p1\"} 1\n"
                        "vnmon_a_total{host=\"hv1\",port=\"p2\"} 2\n"
                        "# HELP vnmon_b Level.\n"
                        "# TYPE vnmon_b gauge\n"
                        "vnmon_b{host=\"hv1\"} 0.5\n");
    free(text);

    /* No host label, no labels: no braces. */
    w = prom_writer_create(NULL);
    prom_counter(w, "x_total", "", 7, NULL);
    prom_counter(w, "x_total", "", 8, "a", NULL, NULL);
    text = finish(w);
    assert_string_equal(text, "# HELP x_total \n# TYPE x_total counter\n"
                        "x_total 7\nx_total{a=\"\"} 8\n");
    free(text);

    /* Nothing at all. */
    text = finish(prom_writer_create("hv1"));
    assert_string_equal(text, "");
    free(text);
    prom_writer_destroy(NULL);
    prom_writer_destroy(prom_writer_create("x"));
}

static void
test_escaping(void **state)
{
    struct prom_writer *w = prom_writer_create("h\"v\\1");
    char *text;

    (void) state;
    prom_gauge(w, "m", "Back\\slash and\nnewline \"kept\".", 1,
               "v", "a\\b\"c\nd", "utf8", "\xc3\xa9t\xc3\xa9 \xe2\x82\xac",
               "bad", "x\xff" "y\xc3(\xed\xa0\x80z", NULL);
    text = finish(w);
    assert_line(text, "# HELP m Back\\\\slash and\\nnewline \"kept\".");
    assert_line(text, "m{host=\"h\\\"v\\\\1\",v=\"a\\\\b\\\"c\\nd\","
                "utf8=\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac\","
                "bad=\"x\xef\xbf\xbdy\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd"
                "\xef\xbf\xbdz\"} 1");
    free(text);
}

static void
test_numbers(void **state)
{
    struct prom_writer *w = prom_writer_create(NULL);
    char *text;

    (void) state;
    prom_gauge(w, "g", "", 0, "i", "0", NULL);
    prom_gauge(w, "g", "", 1234567, "i", "1", NULL);
    prom_gauge(w, "g", "", 0.1, "i", "2", NULL);
    prom_gauge(w, "g", "", 1e-6, "i", "3", NULL);
    prom_gauge(w, "g", "", -2.5, "i", "4", NULL);
    prom_gauge(w, "g", "", NAN, "i", "5", NULL);
    prom_gauge(w, "g", "", INFINITY, "i", "6", NULL);
    prom_gauge(w, "g", "", -INFINITY, "i", "7", NULL);
    prom_gauge(w, "g", "", 9007199254740993.0, "i", "8", NULL);
    prom_counter(w, "c_total", "", UINT64_MAX, NULL);
    prom_counter_double(w, "s_total", "", 1.25, NULL);
    text = finish(w);
    assert_line(text, "g{i=\"0\"} 0");
    assert_line(text, "g{i=\"1\"} 1234567");
    assert_line(text, "g{i=\"2\"} 0.1");
    assert_line(text, "g{i=\"3\"} 1e-06");
    assert_line(text, "g{i=\"4\"} -2.5");
    assert_line(text, "g{i=\"5\"} NaN");
    assert_line(text, "g{i=\"6\"} +Inf");
    assert_line(text, "g{i=\"7\"} -Inf");
    assert_line(text, "g{i=\"8\"} 9007199254740992");
    assert_line(text, "c_total 18446744073709551615");
    assert_line(text, "# TYPE s_total counter");
    assert_line(text, "s_total 1.25");
    free(text);
}

static void
test_summary(void **state)
{
    struct prom_writer *w = prom_writer_create("hv1");
    char *text;

    (void) state;
    prom_summary(w, "rtt_seconds", "Round trips.", 3, 0.75, "k", "v", NULL);
    text = finish(w);
    assert_string_equal(text,
                        "# HELP rtt_seconds Round trips.\n"
                        "# TYPE rtt_seconds summary\n"
                        "rtt_seconds_sum{host=\"hv1\",k=\"v\"} 0.75\n"
                        "rtt_seconds_count{host=\"hv1\",k=\"v\"} 3\n");
    free(text);
}

/* Bad names and type clashes drop the sample, and only it. */
static void
test_refused(void **state)
{
    struct prom_writer *w = prom_writer_create(NULL);
    char *text;

    (void) state;
    prom_counter(w, "ok_total", "", 1, NULL);
    prom_counter(w, "9bad", "", 1, NULL);
    prom_counter(w, "bad-name", "", 1, NULL);
    prom_counter(w, "", "", 1, NULL);
    prom_gauge(w, "ok_total", "", 2, NULL);           /* Type clash. */
    prom_counter(w, "ok_total", "", 3, "bad-label", "x", NULL);
    prom_counter(w, "ok_total", "", 4, "__reserved", "x", NULL);
    prom_counter(w, "ok_total", "", 5, "a", "1", "9b", "2", NULL);
    prom_counter(w, "ok:colon_total", "", 6, NULL);
    prom_counter(w, "ok_total", "", 7, "_x", "1", NULL);
    text = finish(w);
    assert_string_equal(text, "# HELP ok_total \n# TYPE ok_total counter\n"
                        "ok_total 1\nok_total{_x=\"1\"} 7\n"
                        "# HELP ok:colon_total \n"
                        "# TYPE ok:colon_total counter\n"
                        "ok:colon_total 6\n");
    free(text);
}

static void
test_bw_totals(void **state)
{
    struct prom_writer *w = prom_writer_create("hv1");
    struct bw_totals port = { 1000, 10, 2000, 20 };
    struct bw_totals vm = { 3000, 30, 4000, 40 };
    struct bw_totals tenant = { 5000, 50, 6000, 60 };
    char *text;

    (void) state;
    prom_write_bw_total(w, "port", "t1vm1", "tenant1", &port);
    prom_write_bw_total(w, "vm", "564d-1", "tenant1", &vm);
    prom_write_bw_total(w, "tenant", "-", "tenant1", &tenant);
    prom_write_bw_total(w, "app", "HTTP", "", &port);  /* Not exported. */
    prom_write_bw_total(w, "port", "uplink0", "", &port);
    text = finish(w);
    assert_line(text, "vnmon_port_bytes_total{host=\"hv1\",port=\"t1vm1\","
                "tenant=\"tenant1\",direction=\"tx\"} 1000");
    assert_line(text, "vnmon_port_bytes_total{host=\"hv1\",port=\"t1vm1\","
                "tenant=\"tenant1\",direction=\"rx\"} 2000");
    assert_line(text, "vnmon_port_packets_total{host=\"hv1\","
                "port=\"t1vm1\",tenant=\"tenant1\",direction=\"tx\"} 10");
    assert_line(text, "vnmon_port_packets_total{host=\"hv1\","
                "port=\"t1vm1\",tenant=\"tenant1\",direction=\"rx\"} 20");
    assert_line(text, "vnmon_vm_bytes_total{host=\"hv1\",vm=\"564d-1\","
                "tenant=\"tenant1\",direction=\"tx\"} 3000");
    assert_line(text, "vnmon_vm_packets_total{host=\"hv1\",vm=\"564d-1\","
                "tenant=\"tenant1\",direction=\"rx\"} 40");
    assert_line(text, "vnmon_tenant_bytes_total{host=\"hv1\","
                "tenant=\"tenant1\",direction=\"rx\"} 6000");
    assert_line(text, "vnmon_tenant_packets_total{host=\"hv1\","
                "tenant=\"tenant1\",direction=\"tx\"} 50");
    assert_line(text, "vnmon_port_bytes_total{host=\"hv1\",port=\"uplink0\","
                "tenant=\"\",direction=\"tx\"} 1000");
    assert_null(strstr(text, "HTTP"));
    free(text);
}

static void
test_agent_status(void **state)
{
    static const char status_json[] =
        "{\"capture\": {\"frames\": 100, \"bytes\": 64000, \"malformed\": 3,"
        "  \"malformed_by_reason\": {\"truncated-ip\": 2, \"bad-tcp\": 1},"
        "  \"unknown_port\": 4, \"flows\": 5, \"evicted\": 6,"
        "  \"flow_memory\": 7000, \"records\": 8, \"records_dropped\": 9,"
        "  \"workers\": [{\"frames\": 60, \"flows\": 3, \"created\": 10,"
        "                \"evicted\": 1, \"memory\": 4000,"
        "                \"records_dropped\": 0},"
        "               {\"frames\": 40, \"flows\": 2, \"created\": 11,"
        "                \"evicted\": 5, \"memory\": 3000,"
        "                \"records_dropped\": 9}]},"
        " \"ovsdb\": {\"connected\": true, \"synced\": false,"
        "  \"reconnects\": 1, \"resyncs\": 2, \"updates\": 30,"
        "  \"interfaces\": 5, \"port_maps\": 4},"
        " \"netdev_tap\": {\"packets\": 90, \"bytes\": 60000,"
        "  \"ring_packets\": 91, \"ring_drops\": 1, \"unknown\": 0,"
        "  \"untagged\": 0, \"ports\": 4,"
        "  \"per_port\": {\"t1vm1\": {\"packets\": 50, \"bytes\": 30000,"
        "                            \"ofport\": 1}}},"
        " \"flow_taps\": {\"br0\": {\"packets\": 10, \"bytes\": 4000,"
        "  \"ring_packets\": 10, \"ring_drops\": 0, \"unknown\": 0,"
        "  \"untagged\": 2, \"ports\": 4, \"reinstalls\": 3,"
        "  \"monitor_recreated\": 1, \"in_sync\": true, \"rules\": 5,"
        "  \"priority\": 1, \"monitor_port\": \"vnmmon0\","
        "  \"per_port\": {\"t2vm1\": {\"packets\": 7, \"bytes\": 700,"
        "                            \"ofport\": 3}}}},"
        " \"bandwidth\": {\"entities\": 12, \"buffered_seconds\": 2,"
        "  \"dropped_seconds\": 0, \"gaps\": 1}}";
    struct prom_writer *w = prom_writer_create("hv1");
    json_error_t jerror;
    json_t *status = json_loads(status_json, 0, &jerror);
    char *text;

    (void) state;
    assert_non_null(status);
    prom_write_agent_status(w, status);
    json_decref(status);
    text = finish(w);
    assert_line(text, "vnmon_capture_frames_total{host=\"hv1\"} 100");
    assert_line(text, "vnmon_capture_bytes_total{host=\"hv1\"} 64000");
    assert_line(text, "vnmon_capture_malformed_total{host=\"hv1\"} 3");
    assert_line(text, "vnmon_capture_malformed_reason_total{host=\"hv1\","
                "reason=\"truncated-ip\"} 2");
    assert_line(text, "vnmon_capture_unknown_port_total{host=\"hv1\"} 4");
    assert_line(text, "# TYPE vnmon_flows gauge");
    assert_line(text, "vnmon_flows{host=\"hv1\"} 5");
    assert_line(text, "vnmon_flows_evicted_total{host=\"hv1\"} 6");
    assert_line(text, "vnmon_flow_memory_bytes{host=\"hv1\"} 7000");
    assert_line(text, "vnmon_flow_records_total{host=\"hv1\"} 8");
    assert_line(text, "vnmon_flow_records_dropped_total{host=\"hv1\"} 9");
    assert_line(text, "vnmon_worker_frames_total{host=\"hv1\","
                "worker=\"1\"} 40");
    assert_line(text, "vnmon_worker_flows_evicted_total{host=\"hv1\","
                "worker=\"1\"} 5");
    assert_line(text, "vnmon_ovsdb_connected{host=\"hv1\"} 1");
    assert_line(text, "vnmon_ovsdb_synced{host=\"hv1\"} 0");
    assert_line(text, "vnmon_ovsdb_updates_total{host=\"hv1\"} 30");
    assert_line(text, "vnmon_tap_packets_total{host=\"hv1\","
                "tap=\"netdev\"} 90");
    assert_line(text, "vnmon_tap_ring_drops_total{host=\"hv1\","
                "tap=\"netdev\"} 1");
    assert_line(text, "vnmon_tap_port_bytes_total{host=\"hv1\","
                "tap=\"netdev\",port=\"t1vm1\"} 30000");
    assert_line(text, "vnmon_tap_packets_total{host=\"hv1\",tap=\"flow\","
                "bridge=\"br0\"} 10");
    assert_line(text, "vnmon_tap_port_packets_total{host=\"hv1\","
                "tap=\"flow\",port=\"t2vm1\",bridge=\"br0\"} 7");
    assert_line(text, "vnmon_flow_tap_reinstalls_total{host=\"hv1\","
                "bridge=\"br0\"} 3");
    assert_line(text, "vnmon_flow_tap_in_sync{host=\"hv1\","
                "bridge=\"br0\"} 1");
    assert_line(text, "vnmon_bw_entities{host=\"hv1\"} 12");
    assert_line(text, "vnmon_bw_buffered_seconds{host=\"hv1\"} 2");
    assert_line(text, "vnmon_bw_gaps_total{host=\"hv1\"} 1");
    /* Absent from this status: not made up as zeros. */
    assert_null(strstr(text, "vnmon_bw_deltas_total"));
    free(text);

    /* An empty status gives nothing. */
    w = prom_writer_create("hv1");
    status = json_object();
    prom_write_agent_status(w, status);
    json_decref(status);
    text = finish(w);
    assert_string_equal(text, "");
    free(text);
}

static void
test_redis(void **state)
{
    struct vnm_redis_stats rs = {
        .connected = true, .n_connects = 2, .n_outages = 1,
        .n_commands = 500, .n_dropped = 7, .n_errors = 1,
        .n_round_trips = 4, .rtt_last_us = 250, .rtt_max_us = 1500,
        .rtt_total_us = 2000, .n_pending = 3,
    };
    struct prom_writer *w = prom_writer_create("hv1");
    char *text;

    (void) state;
    prom_write_redis(w, &rs);
    prom_write_daemon(w);
    text = finish(w);
    assert_line(text, "vnmon_redis_connected{host=\"hv1\"} 1");
    assert_line(text, "vnmon_redis_commands_total{host=\"hv1\"} 500");
    assert_line(text, "vnmon_redis_dropped_total{host=\"hv1\"} 7");
    assert_line(text, "vnmon_redis_outages_total{host=\"hv1\"} 1");
    assert_line(text, "vnmon_redis_pending_commands{host=\"hv1\"} 3");
    assert_line(text, "# TYPE vnmon_redis_round_trip_seconds summary");
    assert_line(text, "vnmon_redis_round_trip_seconds_sum{host=\"hv1\"} "
                "0.002");
    assert_line(text, "vnmon_redis_round_trip_seconds_count{host=\"hv1\"} "
                "4");
    assert_line(text, "vnmon_redis_round_trip_last_seconds{host=\"hv1\"} "
                "0.00025");
    assert_line(text, "vnmon_redis_round_trip_max_seconds{host=\"hv1\"} "
                "0.0015");
    assert_line(text, "vnmon_build_info{host=\"hv1\",version=\""
                PACKAGE_VERSION "\"} 1");
    assert_non_null(strstr(text, "vnmon_log_messages_total{host=\"hv1\","
                           "level=\"warn\"}"));
    free(text);
}

/* Parses 'text' as a configuration and reads prometheus_listen of its
 * [collector] section.  Returns the error, or null. */
static char *
read_listen(const char *text, struct prometheus_config *cfg,
            struct vnm_config **configp)
{
    char *error = vnm_config_parse_string(text, "test.conf", configp);

    assert_null(error);
    return prometheus_config_read(vnm_config_section(*configp, "collector",
                                                     NULL), cfg);
}

static void
test_config(void **state)
{
    static const struct {
        const char *value;
        const char *error;      /* Null: valid. */
    } cases[] = {
        { "127.0.0.1:9477", NULL },
        { "0.0.0.0:0", NULL },
        { "[::1]:9477", NULL },
        { "[::]:65535", NULL },
        { "127.0.0.1", "not IPV4:PORT" },
        { "127.0.0.1:", "the port must be 0 to 65535" },
        { "127.0.0.1:65536", "the port must be 0 to 65535" },
        { "127.0.0.1:-1", "the port must be 0 to 65535" },
        { "127.0.0.1:94x", "the port must be 0 to 65535" },
        { "localhost:9477", "numeric addresses" },
        { "::1:9477", "not IPV4:PORT" },
        { "[::1]9477", "not IPV4:PORT" },
        { "[127.0.0.1]:9477", "not IPV4:PORT" },
        { "300.0.0.1:80", "not IPV4:PORT" },
    };
    struct prometheus_config cfg;
    struct vnm_config *config;
    char *error;

    (void) state;
    for (size_t i = 0; i < VNM_ARRAY_SIZE(cases); i++) {
        char *text = xasprintf("[collector]\nstream_maxlen = 5\n"
                               "prometheus_listen = %s\n", cases[i].value);

        error = read_listen(text, &cfg, &config);
        if (!cases[i].error) {
            if (error) {
                fail_msg("%s: %s", cases[i].value, error);
            }
            assert_string_equal(cfg.listen, cases[i].value);
            assert_true(cfg.addr_len > 0);
        } else {
            char *want = xasprintf("test.conf:3: prometheus_listen: \"%s\"",
                                   cases[i].value);

            if (!error || !strstr(error, want)
                || !strstr(error, cases[i].error)) {
                fail_msg("%s: want \"%s...%s\", got \"%s\"", cases[i].value,
                         want, cases[i].error, error ? error : "(none)");
            }
            free(want);
        }
        free(error);
        free(text);
        vnm_config_destroy(config);
    }

    /* Absent, empty, or no section: no endpoint. */
    assert_null(read_listen("[collector]\n", &cfg, &config));
    assert_null(cfg.listen);
    vnm_config_destroy(config);
    assert_null(read_listen("[collector]\nprometheus_listen = \"\"\n", &cfg,
                            &config));
    assert_null(cfg.listen);
    vnm_config_destroy(config);
    assert_null(prometheus_config_read(NULL, &cfg));
    assert_null(cfg.listen);
}

/* The HTTP server, scraped from the same loop. */

/* One client request and what came back. */
struct exchange {
    struct event_base *base;
    int status;                 /* 0 until answered; -1 if it failed. */
    char *content_type;
    char *allow;
    char *body;
};

static void
response_cb(struct evhttp_request *req, void *x_)
{
    struct exchange *x = x_;

    if (!req || !evhttp_request_get_response_code(req)) {
        x->status = -1;
    } else {
        struct evkeyvalq *h = evhttp_request_get_input_headers(req);
        struct evbuffer *b = evhttp_request_get_input_buffer(req);
        const char *ct = evhttp_find_header(h, "Content-Type");
        const char *allow = evhttp_find_header(h, "Allow");
        size_t len = evbuffer_get_length(b);

        x->status = evhttp_request_get_response_code(req);
        x->content_type = ct ? xstrdup(ct) : NULL;
        x->allow = allow ? xstrdup(allow) : NULL;
        x->body = xmalloc(len + 1);
        evbuffer_remove(b, x->body, len);
        x->body[len] = '\0';
    }
    event_base_loopbreak(x->base);
}

/* Sends 'cmd' 'path' to 127.0.0.1:'port' and runs the loop (serving the
 * server too) until the answer came. */
static void
request(struct event_base *base, uint16_t port, enum evhttp_cmd_type cmd,
        const char *path, struct exchange *x)
{
    struct evhttp_connection *conn;
    struct evhttp_request *req;

    memset(x, 0, sizeof *x);
    x->base = base;
    conn = evhttp_connection_base_new(base, NULL, "127.0.0.1", port);
    assert_non_null(conn);
    evhttp_connection_set_timeout(conn, 5);
    req = evhttp_request_new(response_cb, x);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
                      "localhost");
    assert_int_equal(evhttp_make_request(conn, req, cmd, path), 0);
    event_base_dispatch(base);
    evhttp_connection_free(conn);
    assert_true(x->status != 0);
}

static void
exchange_uninit(struct exchange *x)
{
    free(x->content_type);
    free(x->allow);
    free(x->body);
}

/* A render callback: one metric, and the number of calls. */
static void
render(void *n_, struct prom_writer *w)
{
    int *n = n_;

    (*n)++;
    prom_counter(w, "vnmon_test_total", "Calls so far.", (uint64_t) *n,
                 "label", "with \"quotes\"", NULL);
}

static void
test_server(void **state)
{
    struct event_base *base = event_base_new();
    struct prometheus *p, *p2;
    struct prometheus_config cfg;
    struct vnm_config *config;
    struct exchange x;
    char *error, *text;
    int n_renders = 0;
    uint16_t port;

    (void) state;
    assert_null(read_listen("[collector]\n"
                            "prometheus_listen = 127.0.0.1:0\n", &cfg,
                            &config));
    assert_null(prometheus_create(&cfg, base, "hv1", render, &n_renders,
                                  &p));
    port = prometheus_port(p);
    assert_true(port > 0);

    request(base, port, EVHTTP_REQ_GET, "/metrics", &x);
    assert_int_equal(x.status, 200);
    assert_string_equal(x.content_type,
                        "text/plain; version=0.0.4; charset=utf-8");
    check_exposition(x.body);
    assert_line(x.body, "vnmon_test_total{host=\"hv1\","
                "label=\"with \\\"quotes\\\"\"} 1");
    assert_line(x.body, "vnmon_prometheus_scrapes_total{host=\"hv1\"} 1");
    exchange_uninit(&x);

    /* A query string is fine; counters move. */
    request(base, port, EVHTTP_REQ_GET, "/metrics?x=1", &x);
    assert_int_equal(x.status, 200);
    assert_line(x.body, "vnmon_prometheus_scrapes_total{host=\"hv1\"} 2");
    assert_line(x.body, "vnmon_test_total{host=\"hv1\","
                "label=\"with \\\"quotes\\\"\"} 2");
    exchange_uninit(&x);

    request(base, port, EVHTTP_REQ_HEAD, "/metrics", &x);
    assert_int_equal(x.status, 200);
    assert_string_equal(x.body, "");
    exchange_uninit(&x);

    request(base, port, EVHTTP_REQ_GET, "/", &x);
    assert_int_equal(x.status, 404);
    exchange_uninit(&x);
    request(base, port, EVHTTP_REQ_GET, "/metrics/x", &x);
    assert_int_equal(x.status, 404);
    exchange_uninit(&x);

    request(base, port, EVHTTP_REQ_POST, "/metrics", &x);
    assert_int_equal(x.status, 405);
    assert_string_equal(x.allow, "GET, HEAD");
    exchange_uninit(&x);
    assert_int_equal(n_renders, 3);
    vnm_config_destroy(config);

    /* The same port again: an error naming the file, line and key. */
    text = xasprintf("[collector]\nprometheus_listen = 127.0.0.1:%d\n",
                     (int) port);
    assert_null(read_listen(text, &cfg, &config));
    free(text);
    error = prometheus_create(&cfg, base, "hv1", render, &n_renders, &p2);
    assert_non_null(error);
    assert_null(p2);
    text = xasprintf("test.conf:2: prometheus_listen: cannot listen on "
                     "127.0.0.1:%d (Address already in use)", (int) port);
    assert_string_equal(error, text);
    free(text);
    free(error);
    vnm_config_destroy(config);

    prometheus_destroy(p);
    prometheus_destroy(NULL);
    event_base_free(base);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bw_totals),
        cmocka_unit_test(test_agent_status),
        cmocka_unit_test(test_redis),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_server),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

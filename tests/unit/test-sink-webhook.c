/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "webhook" alert sink: alerting/sink-webhook.c is
 * compiled into this binary and driven through its 'vnm_plugin' descriptor
 * on the fake host (tests/unit/fake-host.c), against a real HTTP server on
 * 127.0.0.1 (Python's http.server, tests/unit/py-receiver.h).
 *
 * The receiver writes each request it gets as DIR/req-N (N from 1: the
 * request line's method and path, the headers, a blank line, the body) and
 * answers with the first status code of the space-separated list in
 * DIR/status, which it then drops from the list (200 once the list is
 * empty); "hang" makes it wait 3 s before answering 200.
 */
#include <config.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/util.h"
#include "tests/unit/fake-host.h"
#include "tests/unit/py-receiver.h"
#include "vnmon/plugin.h"

static const char http_receiver[] =
    "import http.server, os, sys, time\n"
    "d = sys.argv[1]\n"
    "n = [0]\n"
    "def put(name, data):\n"
    "    tmp = os.path.join(d, '.' + name)\n"
    "    with open(tmp, 'wb') as f:\n"
    "        f.write(data)\n"
    "    os.rename(tmp, os.path.join(d, name))\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_POST(self):\n"
    "        body = self.rfile.read(int(self.headers.get('Content-Length',"
    " '0')))\n"
    "        code = '200'\n"
    "        try:\n"
    "            with open(os.path.join(d, 'status')) as f:\n"
    "                codes = f.read().split()\n"
    "            if codes:\n"
    "                code = codes[0]\n"
    "                put('status', ' '.join(codes[1:]).encode())\n"
    "        except FileNotFoundError:\n"
    "            pass\n"
    "        n[0] += 1\n"
    "        put('req-%d' % n[0], ('POST %s\\n' % self.path).encode()\n"
    "            + bytes(self.headers) + body)\n"
    "        if code == 'hang':\n"
    "            time.sleep(3)\n"
    "            code = '200'\n"
    "        self.send_response(int(code))\n"
    "        self.send_header('Content-Length', '2')\n"
    "        self.end_headers()\n"
    "        self.wfile.write(b'ok')\n"
    "    def log_message(self, *args):\n"
    "        pass\n"
    "s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
    "put('port', str(s.server_address[1]).encode())\n"
    "s.serve_forever()\n";

/* The alert record of the tests' incident (doc/alerts.md). */
static const char record[] =
    "{\"id\":\"inc-7\",\"type\":\"port-scan\",\"severity\":\"high\","
    "\"state\":\"open\",\"first_seen\":\"2026-11-21T14:07:30.186Z\","
    "\"last_seen\":\"2026-11-21T14:07:30.186Z\",\"first_ms\":1795270050186,"
    "\"last_ms\":1795270050186,\"count\":1,\"packets\":51,\"bytes\":3774,"
    "\"updates\":0,\"detector\":\"scan\",\"key\":\"hv1/t1vm1\","
    "\"tenant\":\"tenant1\",\"host\":\"hv1\",\"port\":\"t1vm1\","
    "\"ofport\":2,\"iface_id\":null,\"vm\":\"vm-1\",\"mac\":null,"
    "\"src\":\"10.0.0.11\",\"src_port\":null,\"dst\":\"10.0.0.12\","
    "\"dst_port\":null,\"protocol\":\"tcp\",\"application\":null,"
    "\"target\":\"10.0.0.12\",\"summary\":\"t1vm1 probed 51 \\\"ports\\\" "
    "caf\xc3\xa9\",\"evidence\":[\"line one\",\"line two\"]}";

/* The incident, as the host hands it to sinks. */
static struct vnm_alert
test_alert(void)
{
    return (struct vnm_alert) {
        .kind = "port-scan",
        .severity = VNM_SEV_HIGH,
        .key = "hv1/t1vm1",
        .summary = "t1vm1 probed 51 ports",
        .id = "inc-7",
        .host_id = "hv1",
        .detector = "scan",
        .tenant = "tenant1",
        .count = 1,
        .state = VNM_ALERT_OPEN,
        .json = record,
    };
}

/* Each test gets a fresh receiver. */
static int
setup(void **statep)
{
    struct py_receiver *r = xmalloc(sizeof *r);

    py_receiver_start(r, "test-sink-webhook", http_receiver);
    *statep = r;
    return 0;
}

static int
teardown(void **statep)
{
    py_receiver_stop(*statep);
    free(*statep);
    return 0;
}

/* Starts a sink POSTing to the receiver with the extra 'keys'. */
static struct fake_host *
sink_start(const struct py_receiver *r, const char *keys, void **sinkp)
{
    char *text = xasprintf("[sink \"webhook\"]\n"
                           "url = \"http://127.0.0.1:%d/hook\"\n%s",
                           r->port, keys);
    struct fake_host *fh = fake_host_create("sink", "webhook", text);
    char *unused;

    free(text);
    *sinkp = NULL;
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, sinkp), 0);
    assert_non_null(*sinkp);
    unused = fake_host_check_unused(fh);
    if (unused) {
        fail_msg("%s", unused);
    }
    return fh;
}

static void
sink_stop(struct fake_host *fh, void *sink)
{
    vnm_plugin.destroy(sink);
    fake_host_destroy(fh);
}

/* The body of request 'n' (after the first blank line). */
static char *
request_body(const struct py_receiver *r, int n)
{
    char *name = xasprintf("req-%d", n);
    char *req = py_receiver_read(r, name);
    char *body;

    free(name);
    assert_non_null(req);
    body = strstr(req, "\n\n");
    assert_non_null(body);
    body = xstrdup(body + 2);
    free(req);
    return body;
}

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_descriptor(void **statep)
{
    (void) statep;
    assert_int_equal(vnm_plugin.abi_major, VNM_PLUGIN_ABI_MAJOR);
    assert_int_equal(vnm_plugin.abi_minor, VNM_PLUGIN_ABI_MINOR);
    assert_int_equal(vnm_plugin.size, sizeof(struct vnm_plugin));
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_SINK);
    assert_string_equal(vnm_plugin.name, "webhook");
    assert_non_null(vnm_plugin.sink);
    assert_non_null(vnm_plugin.sink->deliver);
    assert_null(vnm_plugin.detector);
    assert_null(vnm_plugin.enricher);
}

/* Without a template the body is the record, byte for byte, as JSON, with
 * the configured headers. */
static void
test_default_body(void **statep)
{
    struct py_receiver *r = *statep;
    struct vnm_alert alert = test_alert();
    struct fake_host *fh;
    char *req, *body;
    void *sink;

    fh = sink_start(r, "headers = \"X-Token: s3cret, X-Other:two\"\n",
                    &sink);
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), 0);
    assert_int_equal(py_receiver_count(r, "req-"), 1);

    req = py_receiver_read(r, "req-1");
    assert_non_null(strstr(req, "POST /hook\n"));
    assert_non_null(strstr(req, "Content-Type: application/json\n"));
    assert_non_null(strstr(req, "X-Token: s3cret\n"));
    assert_non_null(strstr(req, "X-Other: two\n"));
    free(req);
    body = request_body(r, 1);
    assert_string_equal(body, record);
    free(body);

    /* A second incident on the same connection. */
    alert.state = VNM_ALERT_RESOLVED;
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), 0);
    assert_int_equal(py_receiver_count(r, "req-"), 2);
    assert_int_equal(fake_host_counter(fh, "delivered"), 2);
    sink_stop(fh, sink);
}

/* A template feeds a chat webhook: ${f} as text, ${f|json} as JSON. */
static void
test_template(void **statep)
{
    struct py_receiver *r = *statep;
    struct vnm_alert alert = test_alert();
    struct fake_host *fh;
    json_error_t error;
    json_t *json;
    char *body;
    void *sink;

    fh = sink_start(r, "template = {\"text\": ${summary|json}, "
                    "\"sev\": \"${severity}\", \"n\": ${count}, "
                    "\"ev\": \"${evidence}\", \"mac\": ${mac|json}, "
                    "\"none\": \"${nosuch}\", \"ids\": ${evidence|json}}\n"
                    "headers = \"Content-Type: application/x-test\"\n",
                    &sink);
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), 0);
    body = request_body(r, 1);
    json = json_loads(body, JSON_REJECT_DUPLICATES, &error);
    if (!json) {
        fail_msg("%s: %s", error.text, body);
    }
    assert_string_equal(json_string_value(json_object_get(json, "text")),
                        "t1vm1 probed 51 \"ports\" caf\xc3\xa9");
    assert_string_equal(json_string_value(json_object_get(json, "sev")),
                        "high");
    assert_int_equal(json_integer_value(json_object_get(json, "n")), 1);
    assert_string_equal(json_string_value(json_object_get(json, "ev")),
                        "line one; line two");
    assert_true(json_is_null(json_object_get(json, "mac")));
    assert_string_equal(json_string_value(json_object_get(json, "none")),
                        "");
    assert_int_equal(json_array_size(json_object_get(json, "ids")), 2);
    json_decref(json);
    free(body);

    body = py_receiver_read(r, "req-1");
    assert_non_null(strstr(body, "Content-Type: application/x-test\n"));
    assert_null(strstr(body, "application/json"));
    free(body);
    sink_stop(fh, sink);
}

/* 5xx, 408 and 429 are retried within one delivery, at most 'retries'
 * times, then EAGAIN. */
static void
test_retries(void **statep)
{
    struct py_receiver *r = *statep;
    struct vnm_alert alert = test_alert();
    struct fake_host *fh;
    char *body;
    void *sink;

    fh = sink_start(r, "", &sink);
    py_receiver_write(r, "status", "500 503 500 500");
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), EAGAIN);
    assert_int_equal(py_receiver_count(r, "req-"), 3);
    assert_int_equal(fake_host_counter(fh, "retries"), 2);
    assert_int_equal(fake_host_counter(fh, "post_errors"), 1);

    /* The spooled retry, later: one more 500, then accepted. */
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), 0);
    assert_int_equal(py_receiver_count(r, "req-"), 5);
    body = request_body(r, 5);
    assert_string_equal(body, record);
    free(body);

    py_receiver_write(r, "status", "429 408 200");
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), 0);
    assert_int_equal(py_receiver_count(r, "req-"), 8);
    assert_int_equal(fake_host_counter(fh, "delivered"), 2);
    sink_stop(fh, sink);

    fh = sink_start(r, "retries = 0\n", &sink);
    py_receiver_write(r, "status", "502");
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), EAGAIN);
    assert_int_equal(py_receiver_count(r, "req-"), 9);
    sink_stop(fh, sink);
}

/* Any other 4xx is permanent: EINVAL at once, no retry. */
static void
test_permanent(void **statep)
{
    struct py_receiver *r = *statep;
    struct vnm_alert alert = test_alert();
    struct fake_host *fh;
    void *sink;

    fh = sink_start(r, "", &sink);
    py_receiver_write(r, "status", "404 200");
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), EINVAL);
    assert_int_equal(py_receiver_count(r, "req-"), 1);
    assert_int_equal(fake_host_counter(fh, "failed"), 1);
    assert_true(fake_host_log_contains(fh, "HTTP status 404"));
    py_receiver_write(r, "status", "400");
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), EINVAL);
    assert_int_equal(py_receiver_count(r, "req-"), 2);
    sink_stop(fh, sink);
}

/* A receiver that is down or hangs costs at most 'timeout': EAGAIN. */
static void
test_down_and_timeout(void **statep)
{
    struct py_receiver *r = *statep;
    struct vnm_alert alert = test_alert();
    struct fake_host *fh;
    int64_t start, took;
    void *sink;

    fh = sink_start(r, "timeout = 1s\n", &sink);
    py_receiver_write(r, "status", "hang hang hang");
    start = now_ms();
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), EAGAIN);
    took = now_ms() - start;
    assert_true(took >= 900);
    assert_true(took < 1500);

    py_receiver_kill(r);
    start = now_ms();
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), EAGAIN);
    took = now_ms() - start;
    assert_true(took < 1500);
    assert_int_equal(fake_host_counter(fh, "post_errors"), 2);
    assert_int_equal(fake_host_counter(fh, "delivered"), 0);
    sink_stop(fh, sink);
}

/* Bad configurations are startup errors. */
static void
test_bad_config(void **statep)
{
    static const char *const bad[] = {
        "",
        "url = \"http://127.0.0.1:1/\"\nheaders = \"NoColon\"\n",
        "url = \"http://127.0.0.1:1/\"\nretries = 11\n",
        "url = \"http://127.0.0.1:1/\"\ntimeout = 10m\n",
    };

    (void) statep;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *text = xasprintf("[sink \"webhook\"]\n%s", bad[i]);
        struct fake_host *fh = fake_host_create("sink", "webhook", text);
        void *sink = NULL;

        assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &sink),
                         EINVAL);
        assert_null(sink);
        fake_host_destroy(fh);
        free(text);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test_setup_teardown(test_default_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_template, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permanent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_down_and_timeout, setup,
                                        teardown),
        cmocka_unit_test(test_bad_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

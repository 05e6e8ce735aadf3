/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "email" alert sink: alerting/sink-email.c is compiled
 * into this binary and driven through its 'vnm_plugin' descriptor on the
 * fake host (tests/unit/fake-host.c), against a real SMTP server on
 * 127.0.0.1 (aiosmtpd, Debian's python3-aiosmtpd, through
 * tests/unit/py-receiver.h).
 *
 * The server writes each message it accepts as DIR/msg-N (N from 1: a
 * "MAIL FROM:" line, one "RCPT TO:" line per recipient, a blank line, the
 * message as received).  It refuses recipients starting with "bad" (550)
 * and, while DIR/busy exists, every recipient (451).
 */
#include <config.h>

#include <errno.h>
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

static const char smtp_receiver[] =
    "import os, socket, sys, threading\n"
    "from aiosmtpd.controller import Controller\n"
    "d = sys.argv[1]\n"
    "def put(name, data):\n"
    "    tmp = os.path.join(d, '.' + name)\n"
    "    with open(tmp, 'wb') as f:\n"
    "        f.write(data)\n"
    "    os.rename(tmp, os.path.join(d, name))\n"
    "class Handler:\n"
    "    n = 0\n"
    "    async def handle_RCPT(self, server, session, envelope, address,"
    " options):\n"
    "        if address.startswith('bad'):\n"
    "            return '550 5.1.1 no such user'\n"
    "        if os.path.exists(os.path.join(d, 'busy')):\n"
    "            return '451 4.3.0 try again later'\n"
    "        envelope.rcpt_tos.append(address)\n"
    "        return '250 OK'\n"
    "    async def handle_DATA(self, server, session, envelope):\n"
    "        Handler.n += 1\n"
    "        head = 'MAIL FROM: %s\\n' % envelope.mail_from\n"
    "        for r in envelope.rcpt_tos:\n"
    "            head += 'RCPT TO: %s\\n' % r\n"
    "        put('msg-%d' % Handler.n, head.encode() + b'\\n'"
    " + envelope.original_content)\n"
    "        return '250 Message accepted for delivery'\n"
    "s = socket.socket()\n"
    "s.bind(('127.0.0.1', 0))\n"
    "port = s.getsockname()[1]\n"
    "s.close()\n"
    "c = Controller(Handler(), hostname='127.0.0.1', port=port)\n"
    "c.start()\n"
    "put('port', str(port).encode())\n"
    "threading.Event().wait()\n";

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
    "\"target\":\"10.0.0.12\",\"summary\":\"t1vm1 probed 51 ports on "
    "caf\xc3\xa9\",\"evidence\":[\"t1vm1 ofport 2 | IPv4 10.0.0.11 > "
    "10.0.0.12 TCP\",\".a line starting with a dot\"]}";

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

/* Each test gets a fresh server. */
static int
setup(void **statep)
{
    struct py_receiver *r = xmalloc(sizeof *r);

    py_receiver_start(r, "test-sink-email", smtp_receiver);
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

/* Starts a sink sending through the server with the extra 'keys'. */
static struct fake_host *
sink_start(const struct py_receiver *r, const char *keys, void **sinkp)
{
    char *text = xasprintf("[sink \"email\"]\n"
                           "server = smtp://127.0.0.1:%d\n%s",
                           r->port, keys);
    struct fake_host *fh = fake_host_create("sink", "email", text);
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

static char *
read_msg(const struct py_receiver *r, int n)
{
    char *name = xasprintf("msg-%d", n);
    char *msg = py_receiver_read(r, name);

    free(name);
    assert_non_null(msg);
    return msg;
}

static void
assert_contains(const char *text, const char *s)
{
    if (!strstr(text, s)) {
        fail_msg("\"%s\" not found in:\n%s", s, text);
    }
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
    assert_string_equal(vnm_plugin.name, "email");
    assert_non_null(vnm_plugin.sink);
    assert_non_null(vnm_plugin.sink->deliver);
    assert_null(vnm_plugin.detector);
    assert_null(vnm_plugin.enricher);
}

/* One message per recipient, with the default subject and a body listing
 * every field and the evidence. */
static void
test_deliver(void **statep)
{
    struct py_receiver *r = *statep;
    struct vnm_alert alert = test_alert();
    struct fake_host *fh;
    char *msg;
    void *sink;

    fh = sink_start(r, "from = vnmon@hv1.example\n"
                    "to = \"ops@example.org, noc@example.org\"\n", &sink);
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), 0);
    assert_int_equal(py_receiver_count(r, "msg-"), 2);
    assert_int_equal(fake_host_counter(fh, "messages"), 2);
    assert_int_equal(fake_host_counter(fh, "delivered"), 1);

    for (int i = 1; i <= 2; i++) {
        const char *to = i == 1 ? "ops@example.org" : "noc@example.org";
        char *line;

        msg = read_msg(r, i);
        line = xasprintf("MAIL FROM: vnmon@hv1.example\nRCPT TO: %s\n\n",
                         to);
        assert_true(!strncmp(msg, line, strlen(line)));
        free(line);
        line = xasprintf("\r\nTo: <%s>\r\n", to);
        assert_contains(msg, line);
        free(line);
        assert_contains(msg, "\r\nFrom: <vnmon@hv1.example>\r\n");
        assert_contains(msg, "\r\nSubject: [vnmon] high port-scan on vm-1 "
                        "(tenant1)\r\n");
        assert_contains(msg, "\r\nMessage-ID: <inc-7.open.0@vnmon>\r\n");
        assert_contains(msg, "Content-Type: text/plain; charset=utf-8\r\n");
        assert_contains(msg, "\r\n\r\nt1vm1 probed 51 ports on "
                        "caf\xc3\xa9\r\n\r\n");
        assert_contains(msg, "\r\nid           inc-7\r\n");
        assert_contains(msg, "\r\nseverity     high\r\n");
        assert_contains(msg, "\r\nstate        open\r\n");
        assert_contains(msg, "\r\ncount        1\r\n");
        assert_contains(msg, "\r\nfirst_seen   2026-11-21T14:07:30.186Z\r\n");
        assert_contains(msg, "\r\nmac          -\r\n");
        assert_contains(msg, "\r\nsrc          10.0.0.11\r\n");
        assert_contains(msg, "\r\nEvidence:\r\n  t1vm1 ofport 2 | IPv4 "
                        "10.0.0.11 > 10.0.0.12 TCP\r\n"
                        "  .a line starting with a dot\r\n");
        assert_contains(msg, record);
        free(msg);
    }
    sink_stop(fh, sink);
}

/* A custom subject; non-ASCII is sent as an RFC 2047 encoded word. */
static void
test_subject(void **statep)
{
    struct py_receiver *r = *statep;
    struct vnm_alert alert = test_alert();
    struct fake_host *fh;
    char *msg;
    void *sink;

    fh = sink_start(r, "to = ops@example.org\n"
                    "subject = ALERT ${id} ${state} ${nosuch}\n", &sink);
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), 0);
    msg = read_msg(r, 1);
    assert_contains(msg, "\r\nSubject: ALERT inc-7 open -\r\n");
    free(msg);
    sink_stop(fh, sink);

    fh = sink_start(r, "to = ops@example.org\nsubject = ${summary}\n",
                    &sink);
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), 0);
    msg = read_msg(r, 2);
    /* base64("t1vm1 probed 51 ports on café"). */
    assert_contains(msg, "\r\nSubject: =?UTF-8?B?"
                    "dDF2bTEgcHJvYmVkIDUxIHBvcnRzIG9uIGNhZsOp?=\r\n");
    free(msg);
    sink_stop(fh, sink);
}

/* A 5xx refusal is permanent (EINVAL); a 4xx one transient (EAGAIN), and
 * the good recipients still get their message. */
static void
test_refusals(void **statep)
{
    struct py_receiver *r = *statep;
    struct vnm_alert alert = test_alert();
    struct fake_host *fh;
    void *sink;

    fh = sink_start(r, "to = bad@example.org\n", &sink);
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), EINVAL);
    assert_int_equal(fake_host_counter(fh, "failed"), 1);
    assert_true(fake_host_log_contains(fh, "bad@example.org"));
    sink_stop(fh, sink);

    fh = sink_start(r, "to = bad@example.org,ops@example.org\n", &sink);
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), EINVAL);
    assert_int_equal(py_receiver_count(r, "msg-"), 1);
    sink_stop(fh, sink);

    fh = sink_start(r, "to = ops@example.org\n", &sink);
    py_receiver_write(r, "busy", "");
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), EAGAIN);
    assert_int_equal(fake_host_counter(fh, "send_errors"), 1);
    assert_int_equal(py_receiver_count(r, "msg-"), 1);
    py_receiver_write(r, "busy", "");
    sink_stop(fh, sink);
}

/* A server that is down costs at most 'timeout': EAGAIN; the retry after
 * it comes back delivers. */
static void
test_down(void **statep)
{
    struct py_receiver *r = *statep;
    struct vnm_alert alert = test_alert();
    struct fake_host *fh;
    int64_t start;
    void *sink;

    fh = sink_start(r, "to = ops@example.org\ntimeout = 1s\n", &sink);
    py_receiver_kill(r);
    start = now_ms();
    assert_int_equal(vnm_plugin.sink->deliver(sink, &alert), EAGAIN);
    assert_true(now_ms() - start < 1500);
    assert_int_equal(fake_host_counter(fh, "delivered"), 0);
    sink_stop(fh, sink);
}

/* Bad configurations are startup errors. */
static void
test_bad_config(void **statep)
{
    static const char *const bad[] = {
        "",
        "to = nobody\n",
        "to = a@b\nfrom = nobody\n",
        "to = a@b\ntimeout = 2m\n",
    };

    (void) statep;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *text = xasprintf("[sink \"email\"]\n%s", bad[i]);
        struct fake_host *fh = fake_host_create("sink", "email", text);
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
        cmocka_unit_test_setup_teardown(test_deliver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_down, setup, teardown),
        cmocka_unit_test(test_bad_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

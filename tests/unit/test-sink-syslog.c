/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "syslog" alert sink: alerting/sink-syslog.c is compiled
 * into this binary and driven through its 'vnm_plugin' descriptor on the
 * fake host (tests/unit/fake-host.c).  The receivers are real: a UDP socket
 * on 127.0.0.1 and a unix datagram socket in a fresh directory under
 * $TMPDIR (or /tmp), and every message they get is parsed as RFC 5424.
 */
#include <config.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/util.h"
#include "tests/unit/fake-host.h"
#include "vnmon/plugin.h"

/* 2024-05-01T12:00:00Z in ms since the epoch. */
#define T0 UINT64_C(1714564800000)

/* A receiver: a bound datagram socket. */
struct receiver {
    int fd;
    char *address;              /* As the sink's "address" key. */
    char *dir;                  /* For a unix socket, else null. */
    char *path;
};

static void
set_rcvtimeo(int fd)
{
    struct timeval tv = { .tv_sec = 5 };

    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv),
                     0);
}

static void
udp_receiver(struct receiver *r)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof sin;

    memset(r, 0, sizeof *r);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(r->fd >= 0);
    assert_int_equal(bind(r->fd, (struct sockaddr *) &sin, sizeof sin), 0);
    assert_int_equal(getsockname(r->fd, (struct sockaddr *) &sin, &len), 0);
    set_rcvtimeo(r->fd);
    r->address = xasprintf("udp:127.0.0.1:%d", ntohs(sin.sin_port));
}

/* Binds a unix datagram socket at r->path (already set). */
static void
unix_bind(struct receiver *r)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };

    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", r->path);
    r->fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(r->fd >= 0);
    assert_int_equal(bind(r->fd, (struct sockaddr *) &sun, sizeof sun), 0);
    set_rcvtimeo(r->fd);
}

static void
unix_receiver(struct receiver *r)
{
    const char *tmp = getenv("TMPDIR");

    memset(r, 0, sizeof *r);
    r->dir = xasprintf("%s/test-sink-syslog.XXXXXX", tmp && *tmp ? tmp
                       : "/tmp");
    assert_non_null(mkdtemp(r->dir));
    r->path = xasprintf("%s/log", r->dir);
    r->address = xasprintf("unix:%s", r->path);
    unix_bind(r);
}

static void
receiver_close(struct receiver *r)
{
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
    if (r->path) {
        unlink(r->path);
    }
}

static void
receiver_destroy(struct receiver *r)
{
    receiver_close(r);
    if (r->dir) {
        assert_int_equal(rmdir(r->dir), 0);
    }
    free(r->dir);
    free(r->path);
    free(r->address);
}

/* An RFC 5424 message, parsed. */
#define MAX_PARAMS 16
struct message {
    char buf[9000];
    int pri;
    char *version, *timestamp, *hostname, *app_name, *procid, *msgid;
    char *sd_id;
    size_t n_params;
    char *names[MAX_PARAMS];
    char *values[MAX_PARAMS];   /* Unescaped. */
    char *msg;
};

/* Cuts the next space-terminated field of '*p'. */
static char *
field(char **p)
{
    char *f = *p;
    char *sp = strchr(f, ' ');

    assert_non_null(sp);
    *sp = '\0';
    *p = sp + 1;
    return f;
}

/* Receives one datagram on 'r' and parses it into 'm', failing the test
 * if it is not RFC 5424 with one SD-ELEMENT. */
static void
receive(struct receiver *r, struct message *m)
{
    ssize_t n;
    char *p, *end;

    memset(m, 0, sizeof *m);
    n = recv(r->fd, m->buf, sizeof m->buf - 1, 0);
    if (n < 0) {
        fail_msg("recv: %s", strerror(errno));
    }
    m->buf[n] = '\0';
    p = m->buf;
    assert_int_equal(*p++, '<');
    m->pri = strtol(p, &end, 10);
    assert_true(end > p && *end == '>');
    p = end + 1;
    m->version = field(&p);
    m->timestamp = field(&p);
    m->hostname = field(&p);
    m->app_name = field(&p);
    m->procid = field(&p);
    m->msgid = field(&p);

    assert_int_equal(*p++, '[');
    m->sd_id = p;
    p += strcspn(p, " ]");
    while (*p == ' ') {
        char *out;

        *p++ = '\0';
        assert_true(m->n_params < MAX_PARAMS);
        m->names[m->n_params] = p;
        p = strchr(p, '=');
        assert_non_null(p);
        *p++ = '\0';
        assert_int_equal(*p++, '"');
        m->values[m->n_params++] = out = p;
        while (*p != '"') {
            assert_true(*p != '\0');
            assert_true(*p != ']');
            if (*p == '\\') {
                p++;
                assert_non_null(strchr("\"\\]", *p));
            }
            *out++ = *p++;
        }
        p++;
        *out = '\0';
    }
    assert_int_equal(*p, ']');
    *p++ = '\0';
    assert_int_equal(*p++, ' ');
    m->msg = p;
}

/* The value of parameter 'name' of 'm', or null. */
static const char *
param(const struct message *m, const char *name)
{
    for (size_t i = 0; i < m->n_params; i++) {
        if (!strcmp(m->names[i], name)) {
            return m->values[i];
        }
    }
    return NULL;
}

/* True if a datagram is waiting on 'r'. */
static bool
pending(struct receiver *r)
{
    char c;

    return recv(r->fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) >= 0;
}

/* An incident as the host delivers it. */
struct full_alert {
    struct vnm_attribution vm;
    struct vnm_alert alert;
};

static void
full_alert_init(struct full_alert *fa)
{
    memset(fa, 0, sizeof *fa);
    snprintf(fa->vm.port, sizeof fa->vm.port, "t1vm1");
    snprintf(fa->vm.vm, sizeof fa->vm.vm, "vm-uuid-1");
    snprintf(fa->vm.tenant, sizeof fa->vm.tenant, "tenant1");
    fa->vm.ofport = 3;
    fa->alert = (struct vnm_alert) {
        .kind = "port-scan",
        .severity = VNM_SEV_HIGH,
        .key = "t1vm1",
        .summary = "t1vm1 (10.0.0.11) probed 51 ports on 10.0.0.12",
        .vm = &fa->vm,
        .target = "10.0.0.12",
        .id = "inc-1",
        .host_id = "hv1",
        .detector = "scan",
        .tenant = "tenant1",
        .first_ms = T0 + 250,
        .last_ms = T0 + 5007,
        .count = 2,
        .n_updates = 1,
        .state = VNM_ALERT_UPDATE,
        .json = "{\"id\":\"inc-1\"}",
    };
}

/* Starts a sink with section 'keys'. */
static struct fake_host *
sink_start(const char *keys, void **statep)
{
    char *text = xasprintf("[sink \"syslog\"]\n%s", keys);
    struct fake_host *fh = fake_host_create("sink", "syslog", text);

    free(text);
    *statep = NULL;
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, statep), 0);
    assert_non_null(*statep);
    assert_null(fake_host_check_unused(fh));
    return fh;
}

static void
test_descriptor(void **statep)
{
    assert_int_equal(vnm_plugin.abi_major, VNM_PLUGIN_ABI_MAJOR);
    assert_int_equal(vnm_plugin.abi_minor, VNM_PLUGIN_ABI_MINOR);
    assert_int_equal(vnm_plugin.size, sizeof(struct vnm_plugin));
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_SINK);
    assert_string_equal(vnm_plugin.name, "syslog");
    assert_non_null(vnm_plugin.sink);
    assert_non_null(vnm_plugin.sink->deliver);
    assert_null(vnm_plugin.detector);
    assert_null(vnm_plugin.enricher);
}

/* Over UDP to 127.0.0.1: every field of the header and of the structured
 * data is as documented. */
static void
test_udp(void **statep)
{
    struct full_alert fa;
    struct receiver r;
    struct message m;
    struct fake_host *fh;
    char hostname[256], *keys, *pid;
    void *state;

    udp_receiver(&r);
    keys = xasprintf("address = \"%s\"\nfacility = local3\n"
                     "app_name = vnm-test\n", r.address);
    fh = sink_start(keys, &state);
    free(keys);

    full_alert_init(&fa);
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
    assert_int_equal(fake_host_counter(fh, "delivered"), 1);
    receive(&r, &m);

    assert_int_equal(m.pri, 19 * 8 + 3);        /* local3.err */
    assert_string_equal(m.version, "1");
    assert_string_equal(m.timestamp, "2024-05-01T12:00:05.007Z");
    assert_int_equal(gethostname(hostname, sizeof hostname), 0);
    assert_string_equal(m.hostname, hostname);
    assert_string_equal(m.app_name, "vnm-test");
    pid = xasprintf("%ld", (long) getpid());
    assert_string_equal(m.procid, pid);
    free(pid);
    assert_string_equal(m.msgid, "update");
    assert_string_equal(m.sd_id, "vnmon@32473");
    assert_string_equal(param(&m, "id"), "inc-1");
    assert_string_equal(param(&m, "type"), "port-scan");
    assert_string_equal(param(&m, "severity"), "high");
    assert_string_equal(param(&m, "state"), "update");
    assert_string_equal(param(&m, "tenant"), "tenant1");
    assert_string_equal(param(&m, "vm"), "vm-uuid-1");
    assert_string_equal(param(&m, "port"), "t1vm1");
    assert_string_equal(param(&m, "host"), "hv1");
    assert_string_equal(param(&m, "count"), "2");
    assert_string_equal(m.msg, fa.alert.summary);

    /* Critical, resolved, no VM nor tenant; quotes, brackets and
     * backslashes escaped; a newline in the summary made a space. */
    fa.alert.severity = VNM_SEV_CRITICAL;
    fa.alert.state = VNM_ALERT_RESOLVED;
    fa.alert.vm = NULL;
    fa.alert.tenant = NULL;
    fa.alert.id = "a\"b]c\\d";
    fa.alert.summary = "two\nlines";
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
    receive(&r, &m);
    assert_int_equal(m.pri, 19 * 8 + 2);        /* local3.crit */
    assert_string_equal(m.msgid, "resolved");
    assert_string_equal(param(&m, "id"), "a\"b]c\\d");
    assert_string_equal(param(&m, "severity"), "critical");
    assert_null(param(&m, "tenant"));
    assert_null(param(&m, "vm"));
    assert_null(param(&m, "port"));
    assert_string_equal(m.msg, "two lines");

    /* No record: never deliverable, nothing sent. */
    fa.alert.json = NULL;
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), EINVAL);
    assert_false(pending(&r));
    assert_string_equal(fh->log, "");

    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
    receiver_destroy(&r);
}

/* To a unix datagram socket (the /dev/log of a test): the default
 * facility; EAGAIN while no one listens, and delivery again after. */
static void
test_unix(void **statep)
{
    struct full_alert fa;
    struct receiver r;
    struct message m;
    struct fake_host *fh;
    char *keys;
    void *state;

    unix_receiver(&r);
    keys = xasprintf("address = \"%s\"\n", r.address);
    fh = sink_start(keys, &state);
    free(keys);

    full_alert_init(&fa);
    fa.alert.severity = VNM_SEV_LOW;
    fa.alert.state = VNM_ALERT_OPEN;
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
    receive(&r, &m);
    assert_int_equal(m.pri, 16 * 8 + 5);        /* local0.notice */
    assert_string_equal(m.app_name, "vnmon");
    assert_string_equal(m.msgid, "open");
    assert_string_equal(param(&m, "id"), "inc-1");

    /* The receiver goes away. */
    receiver_close(&r);
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), EAGAIN);
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), EAGAIN);
    assert_int_equal(fake_host_counter(fh, "send_errors"), 2);
    assert_true(fake_host_log_contains(fh, "WARN|"));
    assert_true(fake_host_log_contains(fh, "cannot send"));
    assert_int_equal(fake_host_counter(fh, "delivered"), 1);

    /* It comes back. */
    fake_host_clear(fh);
    unix_bind(&r);
    fa.alert.id = "inc-2";
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
    assert_true(fake_host_log_contains(fh, "INFO|"));
    assert_true(fake_host_log_contains(fh, "sending again"));
    receive(&r, &m);
    assert_string_equal(param(&m, "id"), "inc-2");
    assert_int_equal(fake_host_counter(fh, "delivered"), 2);

    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
    receiver_destroy(&r);
}

/* A UDP port where no one listens: the ICMP error turns a later delivery
 * into EAGAIN. */
static void
test_udp_down(void **statep)
{
    struct full_alert fa;
    struct receiver r;
    struct fake_host *fh;
    char *keys;
    void *state;
    int n_eagain = 0;

    udp_receiver(&r);
    keys = xasprintf("address = \"%s\"\n", r.address);
    receiver_close(&r);
    fh = sink_start(keys, &state);
    free(keys);

    full_alert_init(&fa);
    for (int i = 0; i < 3; i++) {
        int error = vnm_plugin.sink->deliver(state, &fa.alert);

        assert_true(error == 0 || error == EAGAIN);
        n_eagain += error == EAGAIN;
        usleep(10000);
    }
    assert_true(n_eagain >= 1);
    assert_int_equal(fake_host_counter(fh, "send_errors"), n_eagain);

    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
    receiver_destroy(&r);
}

/* Invalid values are refused at init with EINVAL and a message. */
static void
test_bad_values(void **statep)
{
    static const struct {
        const char *keys;
        const char *message;
    } cases[] = {
        { "facility = local9\n", "facility: local9: unknown facility" },
        { "address = tcp:127.0.0.1:514\n", "expected unix:PATH or "
          "udp:HOST:PORT" },
        { "address = udp:127.0.0.1\n", "expected unix:PATH or "
          "udp:HOST:PORT" },
        { "address = unix:\n", "expected unix:PATH or udp:HOST:PORT" },
        { "app_name = \"a b\"\n", "app_name: \"a b\": expected" },
        { "timeout = 0\n", "timeout" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *text = xasprintf("[sink \"syslog\"]\n%s", cases[i].keys);
        struct fake_host *fh = fake_host_create("sink", "syslog", text);
        void *state = NULL;

        free(text);
        assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state),
                         EINVAL);
        assert_null(state);
        if (!fake_host_log_contains(fh, cases[i].message)) {
            fail_msg("case %zu: log is \"%s\"", i, fh->log);
        }
        assert_true(fake_host_log_contains(fh, "ERR|"));
        fake_host_destroy(fh);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_udp_down),
        cmocka_unit_test(test_bad_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

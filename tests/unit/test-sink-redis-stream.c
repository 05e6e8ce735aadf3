/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "redis-stream" alert sink: alerting/sink-redis-stream.c
 * is compiled into this binary and driven through its 'vnm_plugin'
 * descriptor on the fake host (tests/unit/fake-host.c), against a real
 * redis-server that the test starts on a unix socket in a fresh directory
 * under $TMPDIR (or /tmp), without persistence, and stops at the end.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/util.h"
#include "tests/unit/fake-host.h"
#include "vnmon/plugin.h"

#define T0 UINT64_C(1714564800000)

/* The test's redis-server. */
static char *dir;               /* Its directory. */
static char *sock;              /* Its unix socket. */
static char *address;           /* "unix:SOCK". */
static pid_t server_pid;        /* 0 when not running. */
static redisContext *redis;     /* The test's own connection. */

static void
server_stop(void)
{
    if (redis) {
        redisFree(redis);
        redis = NULL;
    }
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
    if (sock) {
        unlink(sock);
    }
}

/* Starts redis-server and connects 'redis' to it. */
static void
server_start(void)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (!pid) {
        int null = open("/dev/null", O_WRONLY);

        dup2(null, STDOUT_FILENO);
        execlp("redis-server", "redis-server", "--port", "0",
               "--unixsocket", sock, "--unixsocketperm", "700",
               "--dir", dir, "--save", "", "--appendonly", "no",
               "--daemonize", "no", (char *) NULL);
        _exit(127);
    }
    server_pid = pid;

    /* Up to 10 s for it to answer PING. */
    for (int i = 0; i < 1000; i++) {
        redisContext *c = redisConnectUnix(sock);

        if (c && !c->err) {
            redisReply *reply = redisCommand(c, "PING");

            if (reply && reply->type == REDIS_REPLY_STATUS) {
                freeReplyObject(reply);
                redis = c;
                return;
            }
            freeReplyObject(reply);
        }
        redisFree(c);
        assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);
        usleep(10000);
    }
    fail_msg("redis-server did not start");
}

static void
at_exit(void)
{
    server_stop();
    if (dir) {
        rmdir(dir);
    }
}

static int
group_setup(void **statep)
{
    const char *tmp = getenv("TMPDIR");

    dir = xasprintf("%s/test-sink-redis-stream.XXXXXX", tmp && *tmp ? tmp
                    : "/tmp");
    if (!mkdtemp(dir)) {
        return -1;
    }
    sock = xasprintf("%s/redis.sock", dir);
    address = xasprintf("unix:%s", sock);
    atexit(at_exit);
    server_start();
    return 0;
}

static int
group_teardown(void **statep)
{
    server_stop();
    if (rmdir(dir)) {
        return -1;
    }
    free(dir);
    dir = NULL;
    free(sock);
    sock = NULL;
    free(address);
    address = NULL;
    return 0;
}

/* Runs a command on the test's connection; the reply is freed by the
 * caller. */
static redisReply *
cmd(const char *format, ...)
{
    redisReply *reply;
    va_list args;

    va_start(args, format);
    reply = redisvCommand(redis, format, args);
    va_end(args);
    assert_non_null(reply);
    if (reply->type == REDIS_REPLY_ERROR) {
        fail_msg("%s: %s", format, reply->str);
    }
    return reply;
}

static void
flushall(void)
{
    freeReplyObject(cmd("FLUSHALL"));
}

static long long
xlen(const char *key)
{
    redisReply *reply = cmd("XLEN %s", key);
    long long n;

    assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
    n = reply->integer;
    freeReplyObject(reply);
    return n;
}

static long long
dbsize(void)
{
    redisReply *reply = cmd("DBSIZE");
    long long n = reply->integer;

    freeReplyObject(reply);
    return n;
}

/* Field 'name' of entry 'i' of stream 'key' (fails if absent). */
static char *
entry_field(const char *key, size_t i, const char *name)
{
    redisReply *reply = cmd("XRANGE %s - +", key);
    redisReply *fields;
    char *value = NULL;

    assert_int_equal(reply->type, REDIS_REPLY_ARRAY);
    assert_true(i < reply->elements);
    fields = reply->element[i]->element[1];
    for (size_t j = 0; j + 1 < fields->elements; j += 2) {
        if (!strcmp(fields->element[j]->str, name)) {
            value = xstrdup(fields->element[j + 1]->str);
        }
    }
    freeReplyObject(reply);
    if (!value) {
        fail_msg("%s: entry %zu has no field %s", key, i, name);
    }
    return value;
}

static void
assert_field(const char *key, size_t i, const char *name,
             const char *expected)
{
    char *value = entry_field(key, i, name);

    assert_string_equal(value, expected);
    free(value);
}

static void
alert_init(struct vnm_alert *alert)
{
    *alert = (struct vnm_alert) {
        .kind = "port-scan", .severity = VNM_SEV_HIGH, .key = "t1vm1",
        .summary = "t1vm1 probed 51 ports", .id = "inc-1", .host_id = "hv1",
        .detector = "scan", .tenant = "tenant1", .first_ms = T0,
        .last_ms = T0 + 5000, .count = 2, .n_updates = 1,
        .state = VNM_ALERT_UPDATE,
        .json = "{\"id\":\"inc-1\",\"summary\":\"caf\xc3\xa9 \\\"q\\\"\"}",
    };
}

/* Starts a sink on the test's server with the extra 'keys'. */
static struct fake_host *
sink_start(const char *keys, void **statep)
{
    char *text = xasprintf("[sink \"redis-stream\"]\naddress = \"%s\"\n%s",
                           address, keys);
    struct fake_host *fh = fake_host_create("sink", "redis-stream", text);

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
    assert_string_equal(vnm_plugin.name, "redis-stream");
    assert_non_null(vnm_plugin.sink);
    assert_non_null(vnm_plugin.sink->deliver);
    assert_null(vnm_plugin.detector);
    assert_null(vnm_plugin.enricher);
}

/* An incident goes to the global stream and to its tenant's (the tenant
 * escaped); one without a tenant to the global stream only. */
static void
test_deliver(void **statep)
{
    static const char tstream[] = "vnm:t:ten%3Aant%2A1:alerts:stream";
    struct vnm_alert alert;
    struct fake_host *fh;
    void *state;

    flushall();
    fh = sink_start("", &state);
    alert_init(&alert);
    alert.tenant = "ten:ant*1";
    assert_int_equal(vnm_plugin.sink->deliver(state, &alert), 0);
    assert_int_equal(fake_host_counter(fh, "delivered"), 1);

    assert_int_equal(xlen("vnm:alerts:stream"), 1);
    assert_int_equal(xlen(tstream), 1);
    for (int i = 0; i < 2; i++) {
        const char *key = i ? tstream : "vnm:alerts:stream";

        assert_field(key, 0, "id", "inc-1");
        assert_field(key, 0, "type", "port-scan");
        assert_field(key, 0, "severity", "high");
        assert_field(key, 0, "state", "update");
        assert_field(key, 0, "tenant", "ten:ant*1");
        assert_field(key, 0, "json", alert.json);
    }

    alert.tenant = NULL;
    alert.id = "inc-2";
    alert.state = VNM_ALERT_RESOLVED;
    assert_int_equal(vnm_plugin.sink->deliver(state, &alert), 0);
    assert_int_equal(xlen("vnm:alerts:stream"), 2);
    assert_int_equal(xlen(tstream), 1);
    assert_int_equal(dbsize(), 2);
    assert_field("vnm:alerts:stream", 1, "id", "inc-2");
    assert_field("vnm:alerts:stream", 1, "state", "resolved");
    assert_field("vnm:alerts:stream", 1, "tenant", "");

    /* No record: never deliverable. */
    alert.json = NULL;
    assert_int_equal(vnm_plugin.sink->deliver(state, &alert), EINVAL);
    assert_int_equal(xlen("vnm:alerts:stream"), 2);
    assert_string_equal(fh->log, "");

    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
}

/* maxlen trims each stream, approximately. */
static void
test_maxlen(void **statep)
{
    struct vnm_alert alert;
    struct fake_host *fh;
    void *state;
    long long n;

    flushall();
    freeReplyObject(cmd("CONFIG SET stream-node-max-entries 5"));
    fh = sink_start("maxlen = 10\n", &state);
    alert_init(&alert);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(vnm_plugin.sink->deliver(state, &alert), 0);
    }
    n = xlen("vnm:alerts:stream");
    assert_true(n >= 10 && n <= 15);
    n = xlen("vnm:t:tenant1:alerts:stream");
    assert_true(n >= 10 && n <= 15);
    vnm_plugin.destroy(state);
    fake_host_destroy(fh);

    /* 0: no trimming. */
    flushall();
    fh = sink_start("maxlen = 0\n", &state);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(vnm_plugin.sink->deliver(state, &alert), 0);
    }
    assert_int_equal(xlen("vnm:alerts:stream"), 50);
    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
    freeReplyObject(cmd("CONFIG SET stream-node-max-entries 100"));
}

/* With Redis down, EAGAIN (logged once at WARN, counted); after it comes
 * back, delivery again on the next call. */
static void
test_down(void **statep)
{
    struct vnm_alert alert;
    struct fake_host *fh;
    void *state;

    flushall();
    fh = sink_start("", &state);
    alert_init(&alert);
    assert_int_equal(vnm_plugin.sink->deliver(state, &alert), 0);

    server_stop();
    assert_int_equal(vnm_plugin.sink->deliver(state, &alert), EAGAIN);
    assert_int_equal(vnm_plugin.sink->deliver(state, &alert), EAGAIN);
    assert_int_equal(fake_host_counter(fh, "send_errors"), 2);
    assert_int_equal(fake_host_counter(fh, "delivered"), 1);
    assert_true(fake_host_log_contains(fh, "WARN|"));
    assert_true(fake_host_log_contains(fh, "DBG|"));

    fake_host_clear(fh);
    server_start();
    alert.id = "inc-2";
    assert_int_equal(vnm_plugin.sink->deliver(state, &alert), 0);
    assert_true(fake_host_log_contains(fh, "INFO|"));
    assert_true(fake_host_log_contains(fh, "adding again"));
    assert_int_equal(xlen("vnm:alerts:stream"), 1);
    assert_field("vnm:alerts:stream", 0, "id", "inc-2");
    assert_int_equal(fake_host_counter(fh, "delivered"), 2);

    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
}

/* A server that accepts but never answers: the delivery gives up after
 * 'timeout' with EAGAIN. */
static void
test_timeout(void **statep)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct vnm_alert alert;
    struct fake_host *fh;
    struct timespec t0, t1;
    char *path, *text;
    void *state;
    double secs;
    int fd;

    path = xasprintf("%s/mute.sock", dir);
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *) &sun, sizeof sun), 0);
    assert_int_equal(listen(fd, 8), 0);

    text = xasprintf("[sink \"redis-stream\"]\naddress = \"unix:%s\"\n"
                     "timeout = 300ms\n", path);
    fh = fake_host_create("sink", "redis-stream", text);
    free(text);
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), 0);

    alert_init(&alert);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vnm_plugin.sink->deliver(state, &alert), EAGAIN);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs >= 0.25 && secs < 2.0);
    assert_int_equal(fake_host_counter(fh, "send_errors"), 1);

    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
    close(fd);
    unlink(path);
    free(path);
}

/* username and password: AUTH with an ACL user; a user that may not
 * write the global stream gets EAGAIN and writes nothing (MULTI/EXEC). */
static void
test_auth(void **statep)
{
    struct vnm_alert alert;
    struct fake_host *fh;
    void *state;

    flushall();
    freeReplyObject(cmd("ACL SETUSER sink on >s3cret ~vnm:* +@all"));
    freeReplyObject(cmd("ACL SETUSER t1 on >pw ~vnm:t:tenant1:* +@all"));
    alert_init(&alert);

    fh = sink_start("user = sink\npassword = s3cret\n", &state);
    assert_int_equal(vnm_plugin.sink->deliver(state, &alert), 0);
    assert_int_equal(xlen("vnm:alerts:stream"), 1);
    vnm_plugin.destroy(state);
    fake_host_destroy(fh);

    fh = sink_start("user = sink\npassword = wrong\n", &state);
    assert_int_equal(vnm_plugin.sink->deliver(state, &alert), EAGAIN);
    assert_true(fake_host_log_contains(fh, "cannot authenticate"));
    vnm_plugin.destroy(state);
    fake_host_destroy(fh);

    fh = sink_start("user = t1\npassword = pw\n", &state);
    assert_int_equal(vnm_plugin.sink->deliver(state, &alert), EAGAIN);
    assert_true(fake_host_log_contains(fh, "cannot add to stream"));
    assert_int_equal(xlen("vnm:alerts:stream"), 1);
    assert_int_equal(xlen("vnm:t:tenant1:alerts:stream"), 1);
    vnm_plugin.destroy(state);
    fake_host_destroy(fh);

    freeReplyObject(cmd("ACL DELUSER sink t1"));
}

/* Invalid values are refused at init with EINVAL and a message. */
static void
test_bad_values(void **statep)
{
    static const struct {
        const char *keys;
        const char *message;
    } cases[] = {
        { "address = udp:127.0.0.1:6379\n", "expected unix:PATH or "
          "tcp:HOST:PORT" },
        { "address = tcp:127.0.0.1\n", "expected unix:PATH" },
        { "address = tcp:127.0.0.1:99999\n", "expected unix:PATH" },
        { "address = unix:\n", "expected unix:PATH" },
        { "maxlen = -1\n", "maxlen" },
        { "user = u\n", "user needs a password" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *text = xasprintf("[sink \"redis-stream\"]\n%s", cases[i].keys);
        struct fake_host *fh = fake_host_create("sink", "redis-stream",
                                                text);
        void *state = NULL;

        free(text);
        assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state),
                         EINVAL);
        assert_null(state);
        if (!fake_host_log_contains(fh, cases[i].message)) {
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
        cmocka_unit_test(test_deliver),
        cmocka_unit_test(test_maxlen),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_down),
        cmocka_unit_test(test_bad_values),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

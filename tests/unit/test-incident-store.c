/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the incident store (analyzer/incident.c) and the alert
 * record (analyzer/alert-record.c), against a real redis-server that the
 * test starts on a unix socket in a fresh directory under $TMPDIR (or
 * /tmp): $REDIS_SERVER, else /usr/bin/redis-server.  Each test starts from
 * an empty database.
 *
 * Times are near the wall clock, since incidents expire at their last
 * emission plus the retention.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "analyzer/alert-record.h"
#include "analyzer/incident.h"
#include "lib/log.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "vnmon/alert.h"

#define DAY_MS UINT64_C(86400000)
#define RETENTION_MS (180 * DAY_MS)
#define IDLE_MS UINT64_C(60000)
#define INTERVAL_MS UINT64_C(10000)

/* The Redis server of the whole run. */
static struct {
    char *dir;
    char *sock;
    char *address;              /* "unix:SOCK". */
    pid_t pid;
} server;

/* One delivery, as the callback saw it. */
struct delivery {
    char *json;
    enum vnm_alert_state state;
    char *id;
    char *kind;
    char *key;
    char *summary;
    char *tenant;
    bool has_vm;
    bool has_flow;
    uint64_t first_ms, last_ms, count, packets, bytes;
    uint32_t n_updates;
    enum vnm_severity severity;
};

/* A store with its connection and what it delivered. */
struct fixture {
    struct vnm_redis *redis;
    struct incident_store *store;
    struct delivery deliveries[32];
    size_t n;
};

static char *
xstrdup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void
collect(void *f_, const struct vnm_alert *alert)
{
    struct fixture *f = f_;
    struct delivery *d;

    assert_true(f->n < VNM_ARRAY_SIZE(f->deliveries));
    assert_non_null(alert->json);
    d = &f->deliveries[f->n++];
    *d = (struct delivery) {
        .json = xstrdup(alert->json),
        .state = alert->state,
        .id = xstrdup_or_null(alert->id),
        .kind = xstrdup_or_null(alert->kind),
        .key = xstrdup_or_null(alert->key),
        .summary = xstrdup_or_null(alert->summary),
        .tenant = xstrdup_or_null(alert->tenant),
        .has_vm = alert->vm != NULL,
        .has_flow = alert->flow != NULL,
        .first_ms = alert->first_ms,
        .last_ms = alert->last_ms,
        .count = alert->count,
        .packets = alert->total_packets,
        .bytes = alert->total_bytes,
        .n_updates = alert->n_updates,
        .severity = alert->severity,
    };
}

static void
deliveries_clear(struct fixture *f)
{
    for (size_t i = 0; i < f->n; i++) {
        struct delivery *d = &f->deliveries[i];

        free(d->json);
        free(d->id);
        free(d->kind);
        free(d->key);
        free(d->summary);
        free(d->tenant);
    }
    f->n = 0;
}

static struct vnm_redis *
redis_connect(const char *address)
{
    struct vnm_redis_options opts = {
        .address = address,
        .timeout_ms = 2000,
        .reconnect_max_ms = 1000,
    };
    struct vnm_redis *r = vnm_redis_create(&opts);

    vnm_redis_connect(r);
    return r;
}

/* Runs a command that must succeed; returns its reply. */
static json_t * VNM_PRINTF(2, 3)
q(struct vnm_redis *r, const char *format, ...)
{
    json_t *reply = NULL;
    va_list args;
    int error;

    va_start(args, format);
    error = vnm_redis_vquery(r, &reply, format, args);
    va_end(args);
    if (error) {
        fail_msg("%s: %s", format, json_is_string(reply)
                 ? json_string_value(reply) : strerror(error));
    }
    return reply;
}

/* The integer reply of a command. */
static long long VNM_PRINTF(2, 3)
qint(struct vnm_redis *r, const char *format, ...)
{
    json_t *reply = NULL;
    long long v;
    va_list args;
    int error;

    va_start(args, format);
    error = vnm_redis_vquery(r, &reply, format, args);
    va_end(args);
    assert_int_equal(error, 0);
    if (json_is_string(reply)) {
        v = strtoll(json_string_value(reply), NULL, 10);
    } else {
        assert_true(json_is_integer(reply));
        v = json_integer_value(reply);
    }
    json_decref(reply);
    return v;
}

/* Field 'field' of hash 'key' as a malloc'd string, or null. */
static char *
hget(struct vnm_redis *r, const char *key, const char *field)
{
    json_t *reply = q(r, "HGET %s %s", key, field);
    char *s = xstrdup_or_null(json_string_value(reply));

    json_decref(reply);
    return s;
}

static void
fixture_init(struct fixture *f, uint64_t max_open)
{
    struct incident_store_options opts = {
        .idle_ms = IDLE_MS,
        .update_interval_ms = INTERVAL_MS,
        .retention_ms = RETENTION_MS,
        .max_open = max_open,
        .events_maxlen = 100,
    };

    memset(f, 0, sizeof *f);
    f->redis = redis_connect(server.address);
    assert_true(vnm_redis_is_connected(f->redis));
    f->store = incident_store_create(f->redis, &opts, collect, f);
}

static void
fixture_uninit(struct fixture *f)
{
    deliveries_clear(f);
    incident_store_destroy(f->store);
    vnm_redis_destroy(f->redis);
}

/* Starts redis-server for the run. */
static int
setup_server(void **state)
{
    const char *tmp = getenv("TMPDIR");
    const char *exe = getenv("REDIS_SERVER");

    exe = exe && *exe ? exe : "/usr/bin/redis-server";
    if (access(exe, X_OK)) {
        fprintf(stderr, "test-incident-store: %s: %s (install "
                "redis-server or set REDIS_SERVER)\n", exe, strerror(errno));
        return -1;
    }
    server.dir = xasprintf("%s/test-incident-store.XXXXXX",
                           tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(server.dir)) {
        return -1;
    }
    server.sock = xasprintf("%s/redis.sock", server.dir);
    server.address = xasprintf("unix:%s", server.sock);
    server.pid = fork();
    if (server.pid < 0) {
        return -1;
    } else if (!server.pid) {
        execl(exe, exe, "--port", "0", "--unixsocket", server.sock,
              "--unixsocketperm", "700", "--dir", server.dir, "--save", "",
              "--appendonly", "no", "--logfile",
              "redis.log", (char *) NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        struct vnm_redis *r;
        bool up;

        usleep(50 * 1000);
        if (access(server.sock, F_OK)) {
            continue;
        }
        r = redis_connect(server.address);
        up = vnm_redis_is_connected(r);
        vnm_redis_destroy(r);
        if (up) {
            return 0;
        }
    }
    fprintf(stderr, "test-incident-store: redis-server did not start\n");
    return -1;
}

static int
teardown_server(void **state)
{
    char *log;

    if (server.pid > 0) {
        kill(server.pid, SIGTERM);
        waitpid(server.pid, NULL, 0);
    }
    if (server.dir) {
        log = xasprintf("%s/redis.log", server.dir);
        unlink(log);
        free(log);
        unlink(server.sock);
        rmdir(server.dir);
    }
    free(server.dir);
    free(server.sock);
    free(server.address);
    return 0;
}

/* Empties the database before each test. */
static int
setup_test(void **state)
{
    struct vnm_redis *r = redis_connect(server.address);
    json_t *reply = q(r, "FLUSHALL");

    json_decref(reply);
    vnm_redis_destroy(r);
    return 0;
}

/* Now, on the wall clock, rounded to a second (so that offsets read
 * well). */
static uint64_t
now0(void)
{
    return vnm_time_wall_ms() / 1000 * 1000;
}

/* An alert from VM port t1vm1 of tenant 'tenant' (null: none) on a TCP
 * flow of host hv1, as the analyzer hands it to the store. */
struct test_alert {
    struct vnm_flow flow;
    struct vnm_alert alert;
};

static void
test_alert_init(struct test_alert *ta, const char *kind, const char *key,
                const char *tenant)
{
    struct vnm_flow *flow = &ta->flow;

    memset(ta, 0, sizeof *ta);
    flow->ip_proto = 6;
    flow->eth_type = 0x0800;
    flow->src.ip = (struct vnm_addr) { .family = 4, .a = { 10, 0, 0, 11 } };
    flow->src.port = 40000;
    memcpy(flow->src.mac, "\x02\x00\x00\x00\x01\x01", 6);
    vnm_strlcpy(flow->src.in.port, "t1vm1", sizeof flow->src.in.port);
    flow->src.in.ofport = 3;
    vnm_strlcpy(flow->src.in.iface_id, "iface-1",
                sizeof flow->src.in.iface_id);
    vnm_strlcpy(flow->src.in.vm, "vm-uuid-1", sizeof flow->src.in.vm);
    vnm_strlcpy(flow->src.in.tenant, tenant ? tenant : "",
                sizeof flow->src.in.tenant);
    flow->dst.ip = (struct vnm_addr) { .family = 4, .a = { 10, 0, 0, 21 } };
    flow->dst.port = 22;
    memcpy(flow->dst.mac, "\x02\x00\x00\x00\x02\x01", 6);
    flow->dst.in.ofport = -1;
    vnm_strlcpy(flow->app, "SSH", sizeof flow->app);
    vnm_strlcpy(flow->host, "hv1", sizeof flow->host);

    ta->alert = (struct vnm_alert) {
        .kind = kind,
        .severity = VNM_SEV_MEDIUM,
        .key = key,
        .summary = "t1vm1 (10.0.0.11) probed 51 ports on 10.0.0.21",
        .vm = &flow->src.in,
        .target = "10.0.0.21",
        .flow = flow,
        .packets = 10,
        .bytes = 600,
        .n_evidence = 2,
        .evidence = {
            "TCP 10.0.0.11:40000 -> 10.0.0.21:22 SYN, no answer",
            "TCP 10.0.0.11:40001 -> 10.0.0.21:23 SYN, answered RST",
        },
        .host_id = "hv1",
        .detector = "scan",
        .tenant = tenant,
    };
}

/* Checks that the record stored in 'ikey' is alert_record_build() of
 * 'alert' with the state stored beside it, and that 'd' delivered it. */
static void
check_stored_record(struct vnm_redis *r, const char *ikey,
                    const struct vnm_alert *alert, enum vnm_alert_state st,
                    const struct delivery *d)
{
    char *id = hget(r, ikey, "id");
    char *record = hget(r, ikey, "record");
    struct alert_record_state state = {
        .id = id,
        .state = st,
        .severity = (enum vnm_severity) qint(r, "HGET %s severity", ikey),
        .first_ms = (uint64_t) qint(r, "HGET %s first_ms", ikey),
        .last_ms = (uint64_t) qint(r, "HGET %s last_ms", ikey),
        .count = (uint64_t) qint(r, "HGET %s count", ikey),
        .packets = (uint64_t) qint(r, "HGET %s packets", ikey),
        .bytes = (uint64_t) qint(r, "HGET %s bytes", ikey),
        .n_updates = (uint32_t) qint(r, "HGET %s n_updates", ikey),
    };
    char *expected = alert_record_build(alert, &state);

    assert_non_null(id);
    assert_non_null(record);
    assert_string_equal(record, expected);
    if (d) {
        assert_string_equal(d->json, expected);
    }
    free(expected);
    free(record);
    free(id);
}

/* Open, merge within the interval (stored, not delivered), the pending
 * update delivered by a tick when the interval ends, an update delivered
 * at once after it. */
static void
test_open_merge_update(void **state)
{
    struct incident_store_stats stats;
    struct test_alert ta;
    struct fixture f;
    uint64_t t = now0();
    const char *ikey = "vnm:t:tenant1:alert:inc-1";
    json_t *reply;

    fixture_init(&f, 100);
    test_alert_init(&ta, "port-scan", "hv1/t1vm1", "tenant1");

    assert_int_equal(incident_store_merge(f.store, &ta.alert, t), 0);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.deliveries[0].state, VNM_ALERT_OPEN);
    assert_string_equal(f.deliveries[0].id, "inc-1");
    assert_string_equal(f.deliveries[0].kind, "port-scan");
    assert_true(f.deliveries[0].has_flow);  /* The emitted alert itself. */
    assert_int_equal(f.deliveries[0].count, 1);
    assert_int_equal(f.deliveries[0].packets, 10);
    assert_int_equal(f.deliveries[0].first_ms, t);
    check_stored_record(f.redis, ikey, &ta.alert, VNM_ALERT_OPEN,
                        &f.deliveries[0]);
    reply = q(f.redis, "HGET vnm:alerts:open port-scan\x1fhv1/t1vm1");
    assert_string_equal(json_string_value(reply), ikey);
    json_decref(reply);
    assert_int_equal(qint(f.redis, "ZSCORE vnm:alerts:active %s", ikey), t);
    assert_int_equal(qint(f.redis, "XLEN vnm:alerts:events"), 1);

    /* Within the interval: merged, stored, not delivered. */
    ta.alert.packets = 5;
    ta.alert.bytes = 300;
    ta.alert.summary = "t1vm1 (10.0.0.11) probed 60 ports on 10.0.0.21";
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t + 3000), 0);
    assert_int_equal(f.n, 1);
    assert_int_equal(qint(f.redis, "HGET %s count", ikey), 2);
    assert_int_equal(qint(f.redis, "HGET %s packets", ikey), 15);
    assert_int_equal(qint(f.redis, "HGET %s bytes", ikey), 900);
    assert_int_equal(qint(f.redis, "HGET %s last_ms", ikey), t + 3000);
    assert_int_equal(qint(f.redis, "HGET %s pending", ikey), 1);
    assert_int_equal(qint(f.redis, "ZSCORE vnm:alerts:due %s", ikey),
                     t + INTERVAL_MS);
    check_stored_record(f.redis, ikey, &ta.alert, VNM_ALERT_UPDATE, NULL);
    assert_int_equal(qint(f.redis, "XLEN vnm:alerts:events"), 1);

    /* The tick before the interval ends delivers nothing; the one after,
     * the latest state. */
    assert_int_equal(incident_store_tick(f.store, t + 9999), 0);
    assert_int_equal(f.n, 1);
    assert_int_equal(incident_store_tick(f.store, t + 10000), 0);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.deliveries[1].state, VNM_ALERT_UPDATE);
    assert_false(f.deliveries[1].has_flow);     /* From the record. */
    assert_int_equal(f.deliveries[1].count, 2);
    assert_int_equal(f.deliveries[1].packets, 15);
    assert_int_equal(f.deliveries[1].n_updates, 1);
    assert_int_equal(f.deliveries[1].last_ms, t + 3000);
    assert_string_equal(f.deliveries[1].summary, ta.alert.summary);
    check_stored_record(f.redis, ikey, &ta.alert, VNM_ALERT_UPDATE,
                        &f.deliveries[1]);
    assert_int_equal(qint(f.redis, "ZCARD vnm:alerts:due"), 0);
    assert_int_equal(incident_store_tick(f.store, t + 11000), 0);
    assert_int_equal(f.n, 2);

    /* An interval after that delivery: delivered at once. */
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t + 20000), 0);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.deliveries[2].state, VNM_ALERT_UPDATE);
    assert_true(f.deliveries[2].has_flow);
    assert_int_equal(f.deliveries[2].count, 3);
    assert_int_equal(f.deliveries[2].n_updates, 2);
    assert_int_equal(qint(f.redis, "XLEN vnm:alerts:events"), 3);
    assert_int_equal(qint(f.redis, "XLEN vnm:t:tenant1:alerts:events"), 3);

    incident_store_get_stats(f.store, &stats);
    assert_int_equal(stats.n_merges, 3);
    assert_int_equal(stats.n_opened, 1);
    assert_int_equal(stats.n_updates, 2);
    assert_int_equal(stats.n_suppressed, 1);
    assert_int_equal(stats.n_open, 1);
    assert_int_equal(stats.n_errors, 0);
    fixture_uninit(&f);
}

/* Quiet for 'idle': resolved once, delivered, out of the open map; a new
 * emission opens a new incident. */
static void
test_resolve(void **state)
{
    struct test_alert ta;
    struct fixture f;
    uint64_t t = now0() - 2 * IDLE_MS;
    char *s;

    fixture_init(&f, 100);
    test_alert_init(&ta, "port-scan", "hv1/t1vm1", NULL);
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t), 0);
    assert_int_equal(incident_store_tick(f.store, t + IDLE_MS - 1), 0);
    assert_int_equal(f.n, 1);
    assert_int_equal(incident_store_tick(f.store, t + IDLE_MS), 0);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.deliveries[1].state, VNM_ALERT_RESOLVED);
    assert_string_equal(f.deliveries[1].id, "inc-1");
    assert_true(f.deliveries[1].has_vm);
    assert_null(f.deliveries[1].tenant);
    s = hget(f.redis, "vnm:alert:inc-1", "state");
    assert_string_equal(s, "resolved");
    free(s);
    check_stored_record(f.redis, "vnm:alert:inc-1", &ta.alert,
                        VNM_ALERT_RESOLVED, &f.deliveries[1]);
    assert_int_equal(qint(f.redis, "HLEN vnm:alerts:open"), 0);
    assert_int_equal(qint(f.redis, "ZCARD vnm:alerts:active"), 0);
    assert_int_equal(qint(f.redis, "ZCARD vnm:alerts"), 1);
    assert_int_equal(qint(f.redis, "XLEN vnm:alerts:events"), 2);

    /* Resolved once only. */
    assert_int_equal(incident_store_tick(f.store, t + 2 * IDLE_MS), 0);
    assert_int_equal(f.n, 2);

    /* Later: a new incident. */
    assert_int_equal(incident_store_merge(f.store, &ta.alert,
                                          t + 2 * IDLE_MS), 0);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.deliveries[2].state, VNM_ALERT_OPEN);
    assert_string_equal(f.deliveries[2].id, "inc-2");
    assert_int_equal(qint(f.redis, "ZCARD vnm:alerts"), 2);
    fixture_uninit(&f);
}

/* An open incident found idle by a merge (no tick resolved it: every
 * analyzer was down) is resolved and a new one opened, both delivered. */
static void
test_idle_found_by_merge(void **state)
{
    struct test_alert ta;
    struct fixture f;
    uint64_t t = now0() - 2 * IDLE_MS;

    fixture_init(&f, 100);
    test_alert_init(&ta, "port-scan", "hv1/t1vm1", "tenant1");
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t), 0);
    assert_int_equal(incident_store_merge(f.store, &ta.alert,
                                          t + IDLE_MS), 0);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.deliveries[1].state, VNM_ALERT_OPEN);
    assert_string_equal(f.deliveries[1].id, "inc-2");
    assert_int_equal(f.deliveries[2].state, VNM_ALERT_RESOLVED);
    assert_string_equal(f.deliveries[2].id, "inc-1");
    assert_int_equal(qint(f.redis, "HLEN vnm:alerts:open"), 1);
    assert_int_equal(qint(f.redis, "ZCARD vnm:t:tenant1:alerts"), 2);
    fixture_uninit(&f);
}

/* Two stores (two analyzers) on one Redis: emissions merge into one
 * incident, counted once each; each record is delivered by one of them;
 * the resolution too. */
static void
test_two_stores(void **state)
{
    struct fixture f1, f2;
    struct test_alert ta;
    uint64_t t = now0() - 2 * IDLE_MS;
    uint64_t packets = 0, bytes = 0;

    fixture_init(&f1, 100);
    fixture_init(&f2, 100);
    test_alert_init(&ta, "port-scan", "hv1/t1vm1", "tenant1");
    for (int i = 0; i < 20; i++) {
        struct fixture *f = i % 2 ? &f2 : &f1;

        ta.alert.packets = (uint64_t) i + 1;
        ta.alert.bytes = 100 * ((uint64_t) i + 1);
        packets += ta.alert.packets;
        bytes += ta.alert.bytes;
        assert_int_equal(incident_store_merge(f->store, &ta.alert,
                                              t + 1000 * (uint64_t) i), 0);
    }
    /* Opened by the first, updates at 10 s and... */
    assert_int_equal(f1.n + f2.n, 2);
    assert_int_equal(f1.deliveries[0].state, VNM_ALERT_OPEN);
    assert_int_equal(f1.deliveries[1].state, VNM_ALERT_UPDATE);
    assert_int_equal(qint(f1.redis, "HLEN vnm:alerts:open"), 1);
    assert_int_equal(qint(f1.redis, "ZCARD vnm:alerts"), 1);
    assert_int_equal(qint(f1.redis, "HGET vnm:t:tenant1:alert:inc-1 count"),
                     20);
    assert_int_equal(qint(f1.redis,
                          "HGET vnm:t:tenant1:alert:inc-1 packets"), packets);
    assert_int_equal(qint(f1.redis, "HGET vnm:t:tenant1:alert:inc-1 bytes"),
                     bytes);

    /* ...the pending one at 20 s, by one of the two ticks. */
    assert_int_equal(incident_store_tick(f2.store, t + 20000), 0);
    assert_int_equal(incident_store_tick(f1.store, t + 20000), 0);
    assert_int_equal(f1.n + f2.n, 3);
    assert_int_equal(f2.n, 1);
    assert_int_equal(f2.deliveries[0].packets, packets);

    /* Resolved by one. */
    assert_int_equal(incident_store_tick(f1.store, t + 19000 + IDLE_MS), 0);
    assert_int_equal(incident_store_tick(f2.store, t + 19000 + IDLE_MS), 0);
    assert_int_equal(f1.n + f2.n, 4);
    assert_int_equal(f1.deliveries[f1.n - 1].state, VNM_ALERT_RESOLVED);
    assert_int_equal(f1.deliveries[f1.n - 1].count, 20);
    fixture_uninit(&f1);
    fixture_uninit(&f2);
}

/* The hash expires at the last emission plus the retention; the indexes
 * lose incidents older than the retention. */
static void
test_retention(void **state)
{
    struct test_alert ta;
    struct fixture f;
    uint64_t t = now0();
    long long at;

    fixture_init(&f, 100);
    test_alert_init(&ta, "port-scan", "hv1/t1vm1", "tenant1");

    /* An incident whose last emission is older than the retention: the
     * hash is gone at once; its index entries go with the next write. */
    assert_int_equal(incident_store_merge(f.store, &ta.alert,
                                          t - RETENTION_MS - 1000), 0);
    assert_int_equal(qint(f.redis, "EXISTS vnm:t:tenant1:alert:inc-1"), 0);
    assert_int_equal(qint(f.redis, "ZCARD vnm:alerts"), 1);

    test_alert_init(&ta, "host-sweep", "hv1/t1vm1", "tenant1");
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t), 0);
    at = qint(f.redis, "PEXPIRETIME vnm:t:tenant1:alert:inc-2");
    assert_int_equal(at, t + RETENTION_MS);
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t + 5000), 0);
    at = qint(f.redis, "PEXPIRETIME vnm:t:tenant1:alert:inc-2");
    assert_int_equal(at, t + 5000 + RETENTION_MS);
    assert_int_equal(qint(f.redis, "ZCARD vnm:alerts"), 1);
    assert_int_equal(qint(f.redis, "ZCARD vnm:t:tenant1:alerts"), 1);
    assert_int_equal(qint(f.redis, "ZSCORE vnm:alerts "
                          "vnm:t:tenant1:alert:inc-2"), t + 5000);
    fixture_uninit(&f);
}

/* Tenant keys: escaped tenant, its index and events stream; an incident
 * without tenant in the global ones only. */
static void
test_tenant_keys(void **state)
{
    struct test_alert ta;
    struct fixture f;
    uint64_t t = now0();
    json_t *reply;
    char *key, *record;

    fixture_init(&f, 100);
    test_alert_init(&ta, "port-scan", "hv1/t1vm1", "ten:ant*");
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t), 0);
    key = incident_key("ten:ant*", "inc-1");
    assert_string_equal(key, "vnm:t:ten%3Aant%2A:alert:inc-1");
    record = hget(f.redis, key, "record");
    assert_non_null(record);
    assert_int_equal(qint(f.redis, "ZSCORE vnm:t:ten%%3Aant%%2A:alerts %s",
                          key), t);
    reply = q(f.redis, "XRANGE vnm:t:ten%%3Aant%%2A:alerts:events - +");
    assert_int_equal(json_array_size(reply), 1);
    assert_string_equal(json_string_value(json_array_get(
                            json_array_get(json_array_get(reply, 0), 1), 0)),
                        "r");
    assert_string_equal(json_string_value(json_array_get(
                            json_array_get(json_array_get(reply, 0), 1), 1)),
                        record);
    json_decref(reply);
    free(record);
    free(key);

    test_alert_init(&ta, "port-scan", "hv1/t2vm1", NULL);
    ta.flow.src.in.tenant[0] = '\0';
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t), 0);
    key = incident_key(NULL, "inc-2");
    assert_string_equal(key, "vnm:alert:inc-2");
    assert_int_equal(qint(f.redis, "EXISTS %s", key), 1);
    assert_int_equal(qint(f.redis, "ZCARD vnm:alerts"), 2);
    assert_int_equal(qint(f.redis, "XLEN vnm:alerts:events"), 2);
    assert_int_equal(qint(f.redis, "ZCARD vnm:t:ten%%3Aant%%2A:alerts"), 1);
    reply = q(f.redis, "KEYS vnm:t:*");
    assert_int_equal(json_array_size(reply), 3);
    json_decref(reply);
    free(key);
    fixture_uninit(&f);
}

/* Issue 5: tenants cannot write or delete their incidents.  A tenant
 * given read-only access to its key space (what `vnmonctl tenant add`
 * grants: %R~vnm:t:TENANT:*) reads its incident, its index and its
 * events, and every write or delete is refused by Redis: nothing of an
 * incident lies outside that read-only pattern. */
static void
test_tenant_read_only(void **state)
{
    static const char *const writes[] = {
        "HSET %s count 0",
        "DEL %s",
        "EXPIRE %s 1",
        "ZREM vnm:t:tenant1:alerts %s",
        "XADD vnm:t:tenant1:alerts:events * r %s",
    };
    struct test_alert ta;
    struct fixture f;
    struct vnm_redis *tenant;
    json_t *reply = NULL;
    char *key, *record;

    fixture_init(&f, 100);
    test_alert_init(&ta, "port-scan", "hv1/t1vm1", "tenant1");
    assert_int_equal(incident_store_merge(f.store, &ta.alert, now0()), 0);
    key = incident_key("tenant1", "inc-1");
    json_decref(q(f.redis, "ACL SETUSER t1 reset on >pw %%R~vnm:t:tenant1:* "
                  "+@all"));

    tenant = redis_connect(server.address);
    json_decref(q(tenant, "AUTH t1 pw"));
    record = hget(tenant, key, "record");
    assert_non_null(record);
    assert_int_equal(qint(tenant, "ZCARD vnm:t:tenant1:alerts"), 1);
    json_decref(q(tenant, "XRANGE vnm:t:tenant1:alerts:events - +"));
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        assert_int_equal(vnm_redis_query(tenant, &reply, writes[i], key),
                         EIO);
        assert_true(json_is_string(reply));
        assert_non_null(strstr(json_string_value(reply), "NOPERM"));
        json_decref(reply);
        reply = NULL;
    }
    /* Unchanged. */
    assert_int_equal(qint(f.redis, "EXISTS %s", key), 1);
    assert_int_equal(qint(f.redis, "ZCARD vnm:t:tenant1:alerts"), 1);
    free(record);
    free(key);
    vnm_redis_destroy(tenant);
    json_decref(q(f.redis, "ACL DELUSER t1"));
    fixture_uninit(&f);
}

static const char *
jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_string(v)) {
        fail_msg("\"%s\" is not a string", key);
    }
    return json_string_value(v);
}

static json_int_t
jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_integer(v)) {
        fail_msg("\"%s\" is not an integer", key);
    }
    return json_integer_value(v);
}

/* Every field of the record, and reading it back. */
static void
test_record_fields(void **state)
{
    static const char *const fields[] = {
        "id", "type", "severity", "state", "first_seen", "last_seen",
        "first_ms", "last_ms", "count", "packets", "bytes", "updates",
        "detector", "key", "tenant", "host", "port", "ofport", "iface_id",
        "vm", "mac", "src", "src_port", "dst", "dst_port", "protocol",
        "application", "target", "summary", "evidence",
    };
    struct alert_record_view view;
    struct test_alert ta;
    struct fixture f;
    uint64_t t = now0() + 250;
    char first_seen[32];
    const json_t *ev;
    json_t *o;
    char *record;
    size_t i = 0;
    const char *name;
    json_t *value;

    fixture_init(&f, 100);
    test_alert_init(&ta, "port-scan", "hv1/t1vm1", "tenant1");
    ta.alert.severity = VNM_SEV_HIGH;
    ta.alert.evidence[1] = "bad \xff byte and \"quotes\"\n";
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t), 0);
    record = hget(f.redis, "vnm:t:tenant1:alert:inc-1", "record");
    o = json_loads(record, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(o);

    /* The documented fields, in that order, and no other. */
    assert_int_equal(json_object_size(o), VNM_ARRAY_SIZE(fields));
    json_object_foreach (o, name, value) {
        assert_string_equal(name, fields[i++]);
    }
    assert_string_equal(jstr(o, "id"), "inc-1");
    assert_string_equal(jstr(o, "type"), "port-scan");
    assert_string_equal(jstr(o, "severity"), "high");
    assert_string_equal(jstr(o, "state"), "open");
    vnm_format_time(t, first_seen, sizeof first_seen);
    assert_string_equal(jstr(o, "first_seen"), first_seen);
    assert_string_equal(jstr(o, "last_seen"), first_seen);
    assert_int_equal(strlen(first_seen), 24);
    assert_int_equal(first_seen[23], 'Z');
    assert_int_equal(jint(o, "first_ms"), t);
    assert_int_equal(jint(o, "last_ms"), t);
    assert_int_equal(jint(o, "count"), 1);
    assert_int_equal(jint(o, "packets"), 10);
    assert_int_equal(jint(o, "bytes"), 600);
    assert_int_equal(jint(o, "updates"), 0);
    assert_string_equal(jstr(o, "detector"), "scan");
    assert_string_equal(jstr(o, "key"), "hv1/t1vm1");
    assert_string_equal(jstr(o, "tenant"), "tenant1");
    assert_string_equal(jstr(o, "host"), "hv1");
    assert_string_equal(jstr(o, "port"), "t1vm1");
    assert_int_equal(jint(o, "ofport"), 3);
    assert_string_equal(jstr(o, "iface_id"), "iface-1");
    assert_string_equal(jstr(o, "vm"), "vm-uuid-1");
    assert_string_equal(jstr(o, "mac"), "02:00:00:00:01:01");
    assert_string_equal(jstr(o, "src"), "10.0.0.11");
    assert_int_equal(jint(o, "src_port"), 40000);
    assert_string_equal(jstr(o, "dst"), "10.0.0.21");
    assert_int_equal(jint(o, "dst_port"), 22);
    assert_string_equal(jstr(o, "protocol"), "tcp");
    assert_string_equal(jstr(o, "application"), "SSH");
    assert_string_equal(jstr(o, "target"), "10.0.0.21");
    assert_string_equal(jstr(o, "summary"), ta.alert.summary);
    ev = json_object_get(o, "evidence");
    assert_int_equal(json_array_size(ev), 2);
    assert_string_equal(json_string_value(json_array_get(ev, 0)),
                        ta.alert.evidence[0]);
    assert_string_equal(json_string_value(json_array_get(ev, 1)),
                        "bad \xef\xbf\xbd byte and \"quotes\"\n");
    json_decref(o);

    /* Read back for sinks. */
    assert_int_equal(alert_record_parse(record, &view), 0);
    assert_string_equal(view.alert.id, "inc-1");
    assert_string_equal(view.alert.kind, "port-scan");
    assert_string_equal(view.alert.key, "hv1/t1vm1");
    assert_int_equal(view.alert.severity, VNM_SEV_HIGH);
    assert_int_equal(view.alert.state, VNM_ALERT_OPEN);
    assert_int_equal(view.alert.first_ms, t);
    assert_int_equal(view.alert.total_bytes, 600);
    assert_non_null(view.alert.vm);
    assert_string_equal(view.alert.vm->port, "t1vm1");
    assert_int_equal(view.alert.vm->ofport, 3);
    assert_string_equal(view.alert.vm->tenant, "tenant1");
    assert_int_equal(view.alert.n_evidence, 2);
    assert_ptr_equal(view.alert.json, record);
    alert_record_view_uninit(&view);
    assert_int_equal(alert_record_parse("{\"id\":1}", &view), EINVAL);
    assert_int_equal(alert_record_parse("not json", &view), EINVAL);
    free(record);
    fixture_uninit(&f);
}

/* A record without VM or flow: those fields are null; the VM's side is
 * the flow's responder when the VM is. */
static void
test_record_nulls(void **state)
{
    struct alert_record_state st = {
        .id = "inc-7", .state = VNM_ALERT_RESOLVED,
        .severity = VNM_SEV_CRITICAL, .first_ms = 1000, .last_ms = 2000,
        .count = 2,
    };
    struct vnm_alert alert = {
        .kind = "ip-spoof", .key = "k", .summary = "s",
    };
    struct test_alert ta;
    char *record;
    json_t *o;

    record = alert_record_build(&alert, &st);
    o = json_loads(record, 0, NULL);
    assert_non_null(o);
    assert_string_equal(jstr(o, "state"), "resolved");
    assert_string_equal(jstr(o, "first_seen"), "1970-01-01T00:00:01.000Z");
    for (const char *const *k = (const char *const[]) {
             "tenant", "host", "port", "ofport", "iface_id", "vm", "mac",
             "src", "src_port", "dst", "dst_port", "protocol", "application",
             "target", "detector", NULL }; *k; k++) {
        if (!json_is_null(json_object_get(o, *k))) {
            fail_msg("\"%s\" is not null", *k);
        }
    }
    assert_int_equal(json_array_size(json_object_get(o, "evidence")), 0);
    json_decref(o);
    free(record);

    test_alert_init(&ta, "ip-spoof", "k", NULL);
    ta.alert.vm = &ta.flow.dst.in;
    ta.flow.ip_proto = 1;
    record = alert_record_build(&ta.alert, &st);
    o = json_loads(record, 0, NULL);
    assert_string_equal(jstr(o, "mac"), "02:00:00:00:02:01");
    assert_true(json_is_null(json_object_get(o, "port")));
    assert_true(json_is_null(json_object_get(o, "ofport")));
    assert_string_equal(jstr(o, "protocol"), "icmp");
    assert_true(json_is_null(json_object_get(o, "src_port")));
    json_decref(o);
    free(record);
}

/* The highest severity seen is kept. */
static void
test_severity_max(void **state)
{
    struct test_alert ta;
    struct fixture f;
    uint64_t t = now0();

    fixture_init(&f, 100);
    test_alert_init(&ta, "flood", "hv1/t1vm1", NULL);
    ta.alert.severity = VNM_SEV_LOW;
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t), 0);
    ta.alert.severity = VNM_SEV_CRITICAL;
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t + 1), 0);
    ta.alert.severity = VNM_SEV_MEDIUM;
    assert_int_equal(incident_store_merge(f.store, &ta.alert,
                                          t + INTERVAL_MS), 0);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.deliveries[1].severity, VNM_SEV_CRITICAL);
    assert_non_null(strstr(f.deliveries[1].json,
                           "\"severity\":\"critical\""));
    fixture_uninit(&f);
}

/* Past max_open, opening an incident resolves the least recently updated
 * one. */
static void
test_max_open(void **state)
{
    struct test_alert ta;
    struct fixture f;
    uint64_t t = now0();

    fixture_init(&f, 2);
    test_alert_init(&ta, "port-scan", "a", NULL);
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t), 0);
    test_alert_init(&ta, "port-scan", "b", NULL);
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t + 1), 0);
    test_alert_init(&ta, "port-scan", "a", NULL);
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t + 2), 0);
    assert_int_equal(f.n, 2);
    test_alert_init(&ta, "port-scan", "c", NULL);
    assert_int_equal(incident_store_merge(f.store, &ta.alert, t + 3), 0);
    assert_int_equal(f.n, 4);
    assert_string_equal(f.deliveries[2].id, "inc-3");
    assert_int_equal(f.deliveries[2].state, VNM_ALERT_OPEN);
    assert_string_equal(f.deliveries[3].id, "inc-2");     /* "b" */
    assert_int_equal(f.deliveries[3].state, VNM_ALERT_RESOLVED);
    assert_int_equal(qint(f.redis, "HLEN vnm:alerts:open"), 2);
    assert_int_equal(qint(f.redis, "ZCARD vnm:alerts:active"), 2);
    fixture_uninit(&f);
}

/* Alerts without a valid type, key or summary are refused before Redis. */
static void
test_invalid(void **state)
{
    static const char *const kinds[] = {
        "", "Port-scan", "-scan", "port scan", "port_scan",
        "a2345678901234567890123456789012345678901234567890123456789012345",
    };
    struct test_alert ta;
    struct fixture f;

    fixture_init(&f, 100);
    for (size_t i = 0; i < VNM_ARRAY_SIZE(kinds); i++) {
        test_alert_init(&ta, kinds[i], "k", NULL);
        assert_int_equal(incident_store_merge(f.store, &ta.alert, now0()),
                         EINVAL);
    }
    test_alert_init(&ta, "scan", NULL, NULL);
    assert_int_equal(incident_store_merge(f.store, &ta.alert, now0()),
                     EINVAL);
    test_alert_init(&ta, "scan", "k", NULL);
    ta.alert.summary = NULL;
    assert_int_equal(incident_store_merge(f.store, &ta.alert, now0()),
                     EINVAL);
    assert_int_equal(f.n, 0);
    assert_int_equal(qint(f.redis, "DBSIZE"), 0);
    assert_true(alert_record_kind_valid("a"));
    assert_true(alert_record_kind_valid("0-day"));
    fixture_uninit(&f);
}

/* A Redis whose scripts were flushed (or restarted) gets the script again;
 * one that is unreachable is an error, and nothing is delivered. */
static void
test_script_flush_and_outage(void **state)
{
    struct incident_store_options opts = {
        .idle_ms = IDLE_MS, .update_interval_ms = INTERVAL_MS,
        .retention_ms = RETENTION_MS, .max_open = 10, .events_maxlen = 10,
    };
    struct incident_store_stats stats;
    struct test_alert ta;
    struct fixture f, down;
    char *address;
    json_t *reply;

    fixture_init(&f, 100);
    test_alert_init(&ta, "port-scan", "k", NULL);
    assert_int_equal(incident_store_merge(f.store, &ta.alert, now0()), 0);
    reply = q(f.redis, "SCRIPT FLUSH");
    json_decref(reply);
    assert_int_equal(incident_store_merge(f.store, &ta.alert, now0()), 0);
    assert_int_equal(qint(f.redis, "HGET vnm:alert:inc-1 count"), 2);
    incident_store_get_stats(f.store, &stats);
    assert_int_equal(stats.n_errors, 0);
    fixture_uninit(&f);

    memset(&down, 0, sizeof down);
    address = xasprintf("unix:%s/nothing.sock", server.dir);
    down.redis = redis_connect(address);
    free(address);
    assert_false(vnm_redis_is_connected(down.redis));
    down.store = incident_store_create(down.redis, &opts, collect, &down);
    assert_int_not_equal(incident_store_merge(down.store, &ta.alert, now0()),
                         0);
    assert_int_not_equal(incident_store_tick(down.store, now0()), 0);
    incident_store_get_stats(down.store, &stats);
    assert_true(stats.n_errors >= 2);
    assert_int_equal(down.n, 0);
    fixture_uninit(&down);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_open_merge_update, setup_test),
        cmocka_unit_test_setup(test_resolve, setup_test),
        cmocka_unit_test_setup(test_idle_found_by_merge, setup_test),
        cmocka_unit_test_setup(test_two_stores, setup_test),
        cmocka_unit_test_setup(test_retention, setup_test),
        cmocka_unit_test_setup(test_tenant_keys, setup_test),
        cmocka_unit_test_setup(test_tenant_read_only, setup_test),
        cmocka_unit_test_setup(test_record_fields, setup_test),
        cmocka_unit_test(test_record_nulls),
        cmocka_unit_test_setup(test_severity_max, setup_test),
        cmocka_unit_test_setup(test_max_open, setup_test),
        cmocka_unit_test_setup(test_invalid, setup_test),
        cmocka_unit_test_setup(test_script_flush_and_outage, setup_test),
    };

    signal(SIGPIPE, SIG_IGN);
    free(vnm_log_set_levels("redis:warn"));
    return cmocka_run_group_tests(tests, setup_server, teardown_server);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "jsonl" alert sink: alerting/sink-jsonl.c is compiled
 * into this binary and driven through its 'vnm_plugin' descriptor on the
 * fake host (tests/unit/fake-host.c).  Every line it writes is parsed back
 * with jansson.  Files go to a fresh directory under $TMPDIR (or /tmp).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

/* A scratch directory and the sink's file in it. */
struct scratch {
    char *dir;
    char *path;                 /* DIR/alerts.jsonl. */
    char *old_path;             /* DIR/alerts.jsonl.1. */
};

static void
scratch_init(struct scratch *s)
{
    const char *tmp = getenv("TMPDIR");

    s->dir = xasprintf("%s/test-sink-jsonl.XXXXXX", tmp && *tmp ? tmp
                       : "/tmp");
    assert_non_null(mkdtemp(s->dir));
    s->path = xasprintf("%s/alerts.jsonl", s->dir);
    s->old_path = xasprintf("%s.1", s->path);
}

static void
scratch_uninit(struct scratch *s)
{
    unlink(s->path);
    unlink(s->old_path);
    assert_int_equal(rmdir(s->dir), 0);
    free(s->dir);
    free(s->path);
    free(s->old_path);
}

/* Creates a fake host for a sink whose section is 'keys' preceded by
 * [sink "jsonl"]. */
static struct fake_host *
sink_host(const char *keys)
{
    char *text = xasprintf("[sink \"jsonl\"]\n%s", keys);
    struct fake_host *fh = fake_host_create("sink", "jsonl", text);

    free(text);
    return fh;
}

/* Starts a sink appending to 'path' with the extra 'keys'. */
static struct fake_host *
sink_start(const char *path, const char *keys, void **statep)
{
    char *text = xasprintf("path = \"%s\"\n%s", path, keys);
    struct fake_host *fh = sink_host(text);

    free(text);
    *statep = NULL;
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, statep), 0);
    assert_non_null(*statep);
    return fh;
}

/* Reads file 'path' and parses each of its lines, which must all be JSON
 * objects ending in a newline, into '*linesp' (an array of '*n_linesp'
 * objects, freed with free_lines()). */
static void
read_lines(const char *path, json_t ***linesp, size_t *n_linesp)
{
    json_t **lines = NULL;
    size_t n_lines = 0;
    char *text, *p;
    size_t size;
    FILE *f;

    f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    rewind(f);
    text = xmalloc(size + 1);
    assert_int_equal(fread(text, 1, size, f), size);
    text[size] = '\0';
    fclose(f);

    assert_true(size == 0 || text[size - 1] == '\n');
    for (p = text; *p;) {
        char *nl = strchr(p, '\n');
        json_error_t error;
        json_t *line;

        assert_non_null(nl);
        *nl = '\0';
        line = json_loads(p, JSON_REJECT_DUPLICATES, &error);
        if (!line) {
            fail_msg("%s: line %zu: %s: %s", path, n_lines + 1, error.text,
                     p);
        }
        assert_true(json_is_object(line));
        lines = xrealloc(lines, (n_lines + 1) * sizeof *lines);
        lines[n_lines++] = line;
        p = nl + 1;
    }
    free(text);
    *linesp = lines;
    *n_linesp = n_lines;
}

static void
free_lines(json_t **lines, size_t n_lines)
{
    for (size_t i = 0; i < n_lines; i++) {
        json_decref(lines[i]);
    }
    free(lines);
}

/* Member 'key' of 'obj', which must be a string. */
static const char *
jstr(const json_t *obj, const char *key)
{
    const json_t *value = json_object_get(obj, key);

    if (!json_is_string(value)) {
        fail_msg("\"%s\" is not a string", key);
    }
    return json_string_value(value);
}

/* Member 'key' of 'obj', which must be an integer. */
static json_int_t
jint(const json_t *obj, const char *key)
{
    const json_t *value = json_object_get(obj, key);

    if (!json_is_integer(value)) {
        fail_msg("\"%s\" is not an integer", key);
    }
    return json_integer_value(value);
}

/* True if 'obj' has member 'key' and it is null. */
static bool
jnull(const json_t *obj, const char *key)
{
    return json_is_null(json_object_get(obj, key));
}

/* An incident as the host delivers it: the alert, and its record (the
 * host's JSON, doc/alerts.md), which the sink writes as it is. */
struct full_alert {
    struct vnm_flow flow;
    struct vnm_alert alert;
    char json[512];
};

/* Sets the record of 'fa' for incident 'id' with 'count' emissions. */
static void
full_alert_set_json(struct full_alert *fa, const char *id, uint64_t count)
{
    int n = snprintf(fa->json, sizeof fa->json,
                     "{\"id\":\"%s\",\"type\":\"port-scan\","
                     "\"severity\":\"high\",\"state\":\"update\","
                     "\"first_seen\":\"2024-05-01T12:00:00.250Z\","
                     "\"last_seen\":\"2024-05-01T12:00:05.007Z\","
                     "\"first_ms\":1714564800250,\"last_ms\":1714564805007,"
                     "\"count\":%"PRIu64",\"packets\":102,\"bytes\":7548,"
                     "\"updates\":1,\"detector\":\"scan\",\"key\":\"t1vm1\","
                     "\"tenant\":\"tenant1\",\"summary\":\"caf\xc3\xa9 "
                     "\\\"q\\\" \\u0001\",\"evidence\":[]}", id, count);

    assert_true(n > 0 && (size_t) n < sizeof fa->json);
    fa->alert.json = fa->json;
}

static void
full_alert_init(struct full_alert *fa)
{
    struct vnm_flow *flow = &fa->flow;

    memset(fa, 0, sizeof *fa);
    flow->id = 77;
    flow->ip_proto = 6;
    flow->src.ip = (struct vnm_addr) { .family = 4, .a = { 10, 0, 0, 11 } };
    snprintf(flow->src.in.port, sizeof flow->src.in.port, "t1vm1");
    snprintf(flow->src.in.tenant, sizeof flow->src.in.tenant, "tenant1");
    flow->dst.ip = (struct vnm_addr) { .family = 4, .a = { 10, 0, 0, 12 } };
    flow->dst.in.ofport = -1;

    fa->alert = (struct vnm_alert) {
        .kind = "port-scan",
        .severity = VNM_SEV_HIGH,
        .key = "t1vm1",
        .summary = "t1vm1 (10.0.0.11) probed 51 ports on 10.0.0.12",
        .vm = &flow->src.in,
        .target = "10.0.0.12",
        .flow = flow,
        .packets = 51,
        .bytes = 3774,
        .id = "inc-1",
        .host_id = "hv1",
        .detector = "scan",
        .tenant = "tenant1",
        .first_ms = T0 + 250,
        .last_ms = T0 + 5007,
        .count = 2,
        .total_packets = 102,
        .total_bytes = 7548,
        .n_updates = 1,
        .state = VNM_ALERT_UPDATE,
    };
    full_alert_set_json(fa, "inc-1", 2);
}

static void
test_descriptor(void **statep)
{
    assert_int_equal(vnm_plugin.abi_major, VNM_PLUGIN_ABI_MAJOR);
    assert_int_equal(vnm_plugin.abi_minor, VNM_PLUGIN_ABI_MINOR);
    assert_int_equal(vnm_plugin.size, sizeof(struct vnm_plugin));
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_SINK);
    assert_string_equal(vnm_plugin.name, "jsonl");
    assert_non_null(vnm_plugin.sink);
    assert_non_null(vnm_plugin.sink->deliver);
    assert_null(vnm_plugin.detector);
    assert_null(vnm_plugin.enricher);
}

/* Each delivery is its record, byte for byte, and a newline. */
static void
test_deliver(void **statep)
{
    struct full_alert fa, minimal;
    struct scratch s;
    struct fake_host *fh;
    json_t **lines;
    size_t n_lines;
    struct stat st;
    mode_t mask;
    void *state;
    char *expected, *text;
    FILE *f;

    scratch_init(&s);
    mask = umask(0);
    umask(mask);
    fh = sink_start(s.path, "", &state);
    assert_null(fake_host_check_unused(fh));
    assert_int_equal(stat(s.path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640 & ~mask);

    full_alert_init(&fa);
    memset(&minimal, 0, sizeof minimal);
    minimal.alert = (struct vnm_alert) {
        .kind = "ip-spoof", .severity = VNM_SEV_CRITICAL, .key = "k",
        .summary = "s", .id = "inc-2", .count = 1,
        .state = VNM_ALERT_OPEN, .json = "{\"id\":\"inc-2\",\"count\":1}",
    };
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
    assert_int_equal(vnm_plugin.sink->deliver(state, &minimal.alert), 0);
    assert_int_equal(fake_host_counter(fh, "delivered"), 2);
    assert_int_equal(fake_host_counter(fh, "write_errors"), 0);

    /* No record: never deliverable, nothing written. */
    minimal.alert.json = NULL;
    assert_int_equal(vnm_plugin.sink->deliver(state, &minimal.alert),
                     EINVAL);
    assert_int_equal(fake_host_counter(fh, "delivered"), 2);

    f = fopen(s.path, "r");
    assert_non_null(f);
    text = xmalloc(4096);
    text[fread(text, 1, 4095, f)] = '\0';
    fclose(f);
    expected = xasprintf("%s\n{\"id\":\"inc-2\",\"count\":1}\n", fa.json);
    assert_string_equal(text, expected);
    free(expected);
    free(text);

    read_lines(s.path, &lines, &n_lines);
    assert_int_equal(n_lines, 2);
    assert_string_equal(jstr(lines[0], "id"), "inc-1");
    assert_string_equal(jstr(lines[0], "type"), "port-scan");
    assert_string_equal(jstr(lines[0], "summary"),
                        "caf\xc3\xa9 \"q\" \x01");
    assert_int_equal(jint(lines[0], "count"), 2);
    assert_int_equal(jint(lines[1], "count"), 1);
    assert_false(jnull(lines[1], "id"));
    free_lines(lines, n_lines);

    vnm_plugin.destroy(state);
    assert_string_equal(fh->log, "");
    fake_host_destroy(fh);
    scratch_uninit(&s);
}

/* Lines are appended to what the file already holds. */
static void
test_appends(void **statep)
{
    struct full_alert fa;
    struct scratch s;
    struct fake_host *fh;
    json_t **lines;
    size_t n_lines;
    void *state;

    scratch_init(&s);
    full_alert_init(&fa);
    for (int i = 0; i < 2; i++) {
        fh = sink_start(s.path, "", &state);
        assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
        vnm_plugin.destroy(state);
        fake_host_destroy(fh);
    }
    read_lines(s.path, &lines, &n_lines);
    assert_int_equal(n_lines, 2);
    free_lines(lines, n_lines);
    scratch_uninit(&s);
}

static void
test_missing_path(void **statep)
{
    struct fake_host *fh = sink_host("fsync = false\n");
    void *state = NULL;

    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), EINVAL);
    assert_null(state);
    assert_true(fake_host_log_contains(fh, "ERR|missing required key "
                                       "\"path\""));
    fake_host_destroy(fh);

    /* No section at all. */
    fh = fake_host_create("sink", "jsonl", NULL);
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), EINVAL);
    assert_true(fake_host_log_contains(fh, "ERR|missing required key "
                                       "\"path\""));
    fake_host_destroy(fh);
}

static void
test_bad_values(void **statep)
{
    static const struct {
        const char *keys;
        const char *error;
    } cases[] = {
        { "path = /x\nmax_size = -1\n", "test.conf:3: max_size: " },
        { "path = /x\nmax_size = big\n", "test.conf:3: max_size: " },
        { "path = /x\nkeep = 0\n", "test.conf:3: keep: " },
        { "path = /x\nfsync = maybe\n", "test.conf:3: fsync: " },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fake_host *fh = sink_host(cases[i].keys);
        void *state = NULL;

        assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state),
                         EINVAL);
        assert_null(state);
        assert_non_null(fh->conf_error);
        assert_true(!strncmp(fh->conf_error, cases[i].error,
                             strlen(cases[i].error)));
        fake_host_destroy(fh);
    }
}

/* The plugin never asks for a key it does not know, so the host's check
 * after init() names it. */
static void
test_unknown_key(void **statep)
{
    struct scratch s;
    struct fake_host *fh;
    char *text, *error;
    void *state = NULL;

    scratch_init(&s);
    text = xasprintf("path = %s\nmax_sise = 100\n", s.path);
    fh = sink_host(text);
    free(text);
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), 0);
    error = fake_host_check_unused(fh);
    assert_non_null(error);
    assert_string_equal(error, "test.conf:3: max_sise: unknown key in "
                        "[sink \"jsonl\"]");
    free(error);
    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
    scratch_uninit(&s);
}

/* A path the sink cannot append to: init() fails and says why. */
static void
test_unwritable_path(void **statep)
{
    struct scratch s;
    struct fake_host *fh;
    char *text, *expected;
    void *state = NULL;

    scratch_init(&s);

    /* A directory. */
    text = xasprintf("path = %s\n", s.dir);
    fh = sink_host(text);
    free(text);
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), EISDIR);
    assert_null(state);
    expected = xasprintf("ERR|%s: cannot open for appending (%s)\n", s.dir,
                         strerror(EISDIR));
    assert_string_equal(fh->log, expected);
    free(expected);
    fake_host_destroy(fh);

    /* A missing directory. */
    text = xasprintf("path = %s/no/such.jsonl\n", s.dir);
    fh = sink_host(text);
    free(text);
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), ENOENT);
    assert_true(fake_host_log_contains(fh, "ERR|"));
    assert_true(fake_host_log_contains(fh, "/no/such.jsonl: cannot open"));
    fake_host_destroy(fh);

    /* Not a regular file. */
    fh = sink_host("path = /dev/null\n");
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), EINVAL);
    assert_string_equal(fh->log, "ERR|/dev/null: cannot open for appending "
                        "(not a regular file)\n");
    fake_host_destroy(fh);

    scratch_uninit(&s);
}

/* With max_size, the file is rotated before a line would make it bigger:
 * PATH.1 is the newest generation, 'keep' of them are kept, no file
 * exceeds the limit, and no line is lost or repeated across them. */
static void
test_rotation(void **statep)
{
    struct full_alert fa;
    struct scratch s;
    struct fake_host *fh;
    struct stat st;
    void *state;
    size_t line_size;
    uint64_t next;

    scratch_init(&s);
    full_alert_init(&fa);

    /* Learn the size of one line.  Counts 10..99 keep it. */
    full_alert_set_json(&fa, "inc-1", 10);
    fh = sink_start(s.path, "", &state);
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
    assert_int_equal(stat(s.path, &st), 0);
    line_size = st.st_size;
    assert_int_equal(unlink(s.path), 0);

    /* Room for 3 lines per file, 4 generations kept; write 12: PATH.3 to
     * PATH.1 full, 1 in PATH. */
    {
        char *keys = xasprintf("max_size = %zu\nkeep = 4\n",
                               3 * line_size + 10);

        fh = sink_start(s.path, keys, &state);
        free(keys);
    }
    for (int i = 10; i < 20; i++) {
        full_alert_set_json(&fa, "inc-1", (uint64_t) i);
        assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
        assert_int_equal(stat(s.path, &st), 0);
        assert_true((size_t) st.st_size <= 3 * line_size + 10);
    }
    assert_int_equal(fake_host_counter(fh, "delivered"), 10);
    assert_int_equal(fake_host_counter(fh, "rotations"), 3);

    /* Oldest first: PATH.3, PATH.2, PATH.1, PATH hold 10..19 in order. */
    next = 10;
    for (int gen = 3; gen >= 0; gen--) {
        char *path = gen ? xasprintf("%s.%d", s.path, gen) : xstrdup(s.path);
        json_t **lines;
        size_t n_lines;

        read_lines(path, &lines, &n_lines);
        assert_int_equal(n_lines, gen ? 3 : 1);
        for (size_t i = 0; i < n_lines; i++) {
            assert_int_equal(jint(lines[i], "count"), next++);
        }
        free_lines(lines, n_lines);
        free(path);
    }
    assert_int_equal(next, 20);

    /* Six more: two more rotations, PATH.4 appears, and at the next one
     * the oldest generation (10..12) goes, as 'keep' says. */
    for (int i = 20; i < 26; i++) {
        full_alert_set_json(&fa, "inc-1", (uint64_t) i);
        assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
    }
    assert_int_equal(fake_host_counter(fh, "rotations"), 5);
    {
        char *p5 = xasprintf("%s.5", s.path);
        char *p4 = xasprintf("%s.4", s.path);
        json_t **lines;
        size_t n_lines;

        assert_int_equal(stat(p5, &st), -1);
        read_lines(p4, &lines, &n_lines);
        assert_int_equal(n_lines, 3);
        assert_int_equal(jint(lines[0], "count"), 13);
        free_lines(lines, n_lines);
        unlink(p4);
        free(p4);
        free(p5);
    }
    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
    for (int gen = 1; gen <= 3; gen++) {
        char *path = xasprintf("%s.%d", s.path, gen);

        unlink(path);
        free(path);
    }
    scratch_uninit(&s);
}

/* After the file is moved away (logrotate), the next tick reopens the
 * path; a deleted file too. */
static void
test_reopen(void **statep)
{
    struct full_alert fa;
    struct scratch s;
    struct fake_host *fh;
    json_t **lines;
    size_t n_lines;
    void *state;

    scratch_init(&s);
    full_alert_init(&fa);
    fh = sink_start(s.path, "", &state);
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);

    vnm_plugin.sink->on_tick(state, T0);
    assert_string_equal(fh->log, "");

    assert_int_equal(rename(s.path, s.old_path), 0);
    vnm_plugin.sink->on_tick(state, T0 + 1000);
    assert_true(fake_host_log_contains(fh, "INFO|"));
    assert_true(fake_host_log_contains(fh, "moved or deleted, reopening"));
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);

    read_lines(s.old_path, &lines, &n_lines);
    assert_int_equal(n_lines, 1);
    free_lines(lines, n_lines);
    read_lines(s.path, &lines, &n_lines);
    assert_int_equal(n_lines, 2);
    free_lines(lines, n_lines);

    assert_int_equal(unlink(s.path), 0);
    vnm_plugin.sink->on_tick(state, T0 + 2000);
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
    read_lines(s.path, &lines, &n_lines);
    assert_int_equal(n_lines, 1);
    free_lines(lines, n_lines);

    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
    scratch_uninit(&s);
}

/* A write that fails, wholly or in part, is EAGAIN for the host to retry,
 * counted, and leaves no partial line.  RLIMIT_FSIZE makes writes beyond
 * 4 MB fail with EFBIG (SIGXFSZ ignored); the file is made sparse up to
 * there, so that nothing else this process writes comes near the limit. */
static void
test_write_error(void **statep)
{
    const off_t limit = 4 << 20;
    struct rlimit saved, rl;
    struct full_alert fa;
    struct scratch s;
    struct fake_host *fh;
    struct stat st;
    void *state;
    int fd;

    scratch_init(&s);
    full_alert_init(&fa);
    fd = open(s.path, O_WRONLY | O_CREAT, 0640);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, limit), 0);
    close(fd);

    fh = sink_start(s.path, "", &state);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    rl = saved;
    rl.rlim_cur = limit;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);

    /* Nothing fits. */
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), EAGAIN);
    assert_int_equal(fake_host_counter(fh, "write_errors"), 1);
    assert_int_equal(fake_host_counter(fh, "delivered"), 0);

    /* Only the start of the line fits: it is taken back. */
    assert_int_equal(truncate(s.path, limit - 10), 0);
    vnm_plugin.sink->on_tick(state, T0);
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), EAGAIN);
    assert_int_equal(fake_host_counter(fh, "write_errors"), 2);
    assert_int_equal(stat(s.path, &st), 0);
    assert_int_equal(st.st_size, limit - 10);

    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, SIG_DFL);

    /* The retry succeeds once there is room. */
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
    assert_int_equal(fake_host_counter(fh, "delivered"), 1);
    assert_string_equal(fh->log, "");

    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
    scratch_uninit(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_deliver),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_missing_path),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_unwritable_path),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_write_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

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

/* A full incident: a VM's IPv6 flow, with evidence. */
struct full_alert {
    struct vnm_flow flow;
    struct vnm_alert alert;
};

static void
full_alert_init(struct full_alert *fa)
{
    static const uint8_t src6[16] = {
        0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11,
    };
    static const uint8_t dst6[16] = {
        0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12,
    };
    struct vnm_flow *flow = &fa->flow;

    memset(fa, 0, sizeof *fa);
    flow->id = 77;
    flow->ip_proto = 6;
    flow->src.ip.family = 6;
    memcpy(flow->src.ip.a, src6, 16);
    flow->src.port = 40000;
    memcpy(flow->src.mac, "\x02\x00\x00\x00\x01\x01", 6);
    flow->src.packets = 10;
    flow->src.bytes = 1500;
    snprintf(flow->src.in.port, sizeof flow->src.in.port, "t1vm1");
    flow->src.in.ofport = 3;
    snprintf(flow->src.in.iface_id, sizeof flow->src.in.iface_id,
             "1f0c0000-0000-4000-8000-000001000001");
    snprintf(flow->src.in.vm, sizeof flow->src.in.vm,
             "564d0000-0000-4000-8000-000001000001");
    snprintf(flow->src.in.tenant, sizeof flow->src.in.tenant, "tenant1");
    flow->dst.ip.family = 6;
    memcpy(flow->dst.ip.a, dst6, 16);
    flow->dst.port = 80;
    flow->dst.packets = 8;
    flow->dst.bytes = 9000;
    flow->dst.in.ofport = -1;
    snprintf(flow->app, sizeof flow->app, "HTTP");

    fa->alert = (struct vnm_alert) {
        .kind = "port-scan",
        .severity = VNM_SEV_HIGH,
        .key = "t1vm1",
        .summary = "t1vm1 (fd00::11) probed 51 ports on fd00::12 in 3.0 s",
        .vm = &flow->src.in,
        .target = "fd00::12",
        .flow = flow,
        .packets = 51,
        .bytes = 3774,
        .n_evidence = 2,
        .evidence = {
            "TCP [fd00::11]:40000 -> [fd00::12]:22 SYN, no answer",
            "TCP [fd00::11]:40001 -> [fd00::12]:23 SYN, answered RST|ACK",
        },
        .id = "hv1-port-scan-1",
        .host_id = "hv1",
        .detector = "scan",
        .tenant = "tenant1",
        .first_ms = T0 + 250,
        .last_ms = T0 + 5007,
        .count = 2,
        .total_packets = 102,
        .total_bytes = 7548,
        .n_updates = 1,
    };
}

/* A summary that needs escaping: quotes, backslash, newline, a control
 * character, valid UTF-8 (e acute) and a byte that is not UTF-8. */
static const char nasty[] = "say \"hi\" C:\\dir\nnext\x01 caf\xc3\xa9 \xff!";
/* What a JSON parser must read back from it. */
static const char nasty_decoded[] = "say \"hi\" C:\\dir\nnext\x01 caf\xc3\xa9 "
                                    "\xef\xbf\xbd!";

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

static void
test_deliver(void **statep)
{
    struct full_alert fa;
    struct vnm_alert minimal = {
        .kind = "ip-spoof",
        .severity = VNM_SEV_CRITICAL,
        .key = "k\\\"1\x1f",
        .summary = nasty,
        .id = "hv1-ip-spoof-2",
        .host_id = "hv1",
        .detector = "spoof",
        .first_ms = T0,
        .last_ms = T0,
        .count = 1,
    };
    const json_t *vm, *flow, *evidence;
    struct scratch s;
    struct fake_host *fh;
    json_t **lines;
    size_t n_lines;
    struct stat st;
    mode_t mask;
    void *state;

    scratch_init(&s);
    mask = umask(0);
    umask(mask);
    fh = sink_start(s.path, "", &state);
    assert_null(fake_host_check_unused(fh));
    assert_int_equal(stat(s.path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640 & ~mask);

    full_alert_init(&fa);
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
    assert_int_equal(vnm_plugin.sink->deliver(state, &minimal), 0);
    assert_int_equal(fake_host_counter(fh, "delivered"), 2);
    assert_int_equal(fake_host_counter(fh, "write_errors"), 0);

    read_lines(s.path, &lines, &n_lines);
    assert_int_equal(n_lines, 2);

    /* The full alert. */
    assert_int_equal(json_object_size(lines[0]), 18);
    assert_string_equal(jstr(lines[0], "id"), "hv1-port-scan-1");
    assert_string_equal(jstr(lines[0], "kind"), "port-scan");
    assert_string_equal(jstr(lines[0], "severity"), "high");
    assert_string_equal(jstr(lines[0], "detector"), "scan");
    assert_string_equal(jstr(lines[0], "host"), "hv1");
    assert_string_equal(jstr(lines[0], "tenant"), "tenant1");
    assert_string_equal(jstr(lines[0], "summary"), fa.alert.summary);
    assert_string_equal(jstr(lines[0], "key"), "t1vm1");
    assert_string_equal(jstr(lines[0], "target"), "fd00::12");
    assert_string_equal(jstr(lines[0], "first"), "2024-05-01T12:00:00.250Z");
    assert_string_equal(jstr(lines[0], "last"), "2024-05-01T12:00:05.007Z");
    assert_int_equal(jint(lines[0], "count"), 2);
    assert_int_equal(jint(lines[0], "packets"), 102);
    assert_int_equal(jint(lines[0], "bytes"), 7548);
    assert_int_equal(jint(lines[0], "updates"), 1);

    vm = json_object_get(lines[0], "vm");
    assert_true(json_is_object(vm));
    assert_string_equal(jstr(vm, "port"), "t1vm1");
    assert_int_equal(jint(vm, "ofport"), 3);
    assert_string_equal(jstr(vm, "iface_id"),
                        "1f0c0000-0000-4000-8000-000001000001");
    assert_string_equal(jstr(vm, "vm"),
                        "564d0000-0000-4000-8000-000001000001");
    assert_string_equal(jstr(vm, "tenant"), "tenant1");
    assert_string_equal(jstr(vm, "mac"), "02:00:00:00:01:01");

    flow = json_object_get(lines[0], "flow");
    assert_true(json_is_object(flow));
    assert_string_equal(jstr(flow, "src"), "fd00::11");
    assert_string_equal(jstr(flow, "dst"), "fd00::12");
    assert_int_equal(jint(flow, "sport"), 40000);
    assert_int_equal(jint(flow, "dport"), 80);
    assert_int_equal(jint(flow, "proto"), 6);
    assert_string_equal(jstr(flow, "app"), "HTTP");
    assert_int_equal(jint(flow, "src_packets"), 10);
    assert_int_equal(jint(flow, "src_bytes"), 1500);
    assert_int_equal(jint(flow, "dst_packets"), 8);
    assert_int_equal(jint(flow, "dst_bytes"), 9000);

    evidence = json_object_get(lines[0], "evidence");
    assert_true(json_is_array(evidence));
    assert_int_equal(json_array_size(evidence), 2);
    assert_string_equal(json_string_value(json_array_get(evidence, 0)),
                        fa.alert.evidence[0]);
    assert_string_equal(json_string_value(json_array_get(evidence, 1)),
                        fa.alert.evidence[1]);

    /* The minimal one: optional fields are null, strings survive. */
    assert_int_equal(json_object_size(lines[1]), 18);
    assert_string_equal(jstr(lines[1], "kind"), "ip-spoof");
    assert_string_equal(jstr(lines[1], "severity"), "critical");
    assert_string_equal(jstr(lines[1], "key"), "k\\\"1\x1f");
    assert_string_equal(jstr(lines[1], "summary"), nasty_decoded);
    assert_string_equal(jstr(lines[1], "first"), "2024-05-01T12:00:00.000Z");
    assert_true(jnull(lines[1], "tenant"));
    assert_true(jnull(lines[1], "target"));
    assert_true(jnull(lines[1], "vm"));
    assert_true(jnull(lines[1], "flow"));
    assert_int_equal(jint(lines[1], "updates"), 0);
    assert_int_equal(jint(lines[1], "packets"), 0);
    evidence = json_object_get(lines[1], "evidence");
    assert_true(json_is_array(evidence));
    assert_int_equal(json_array_size(evidence), 0);
    free_lines(lines, n_lines);

    /* Control characters are written as \u00XX, never raw. */
    {
        FILE *f = fopen(s.path, "r");
        char text[4096];
        size_t n;

        assert_non_null(f);
        n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        assert_non_null(strstr(text, "\\u000a"));
        assert_non_null(strstr(text, "\\u0001"));
        assert_non_null(strstr(text, "\\u001f"));
        for (size_t i = 0; i < n; i++) {
            assert_true((unsigned char) text[i] >= 0x20 || text[i] == '\n');
        }
    }

    vnm_plugin.destroy(state);
    assert_string_equal(fh->log, "");
    fake_host_destroy(fh);
    scratch_uninit(&s);
}

/* A flow whose attribution differs from the alert's VM gets no MAC; an IPv4
 * flow is formatted as IPv4; an unknown ofport is null. */
static void
test_ipv4_and_other_vm(void **statep)
{
    struct vnm_attribution other = { .port = "t2vm1", .ofport = -1 };
    const json_t *vm, *flow;
    struct full_alert fa;
    struct scratch s;
    struct fake_host *fh;
    json_t **lines;
    size_t n_lines;
    void *state;

    scratch_init(&s);
    fh = sink_start(s.path, "fsync = true\n", &state);
    full_alert_init(&fa);
    fa.flow.src.ip = (struct vnm_addr) { .family = 4, .a = { 10, 0, 0, 11 } };
    fa.flow.dst.ip = (struct vnm_addr) { .family = 4, .a = { 10, 0, 0, 12 } };
    fa.flow.app[0] = '\0';
    fa.alert.vm = &other;
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
    vnm_plugin.destroy(state);

    read_lines(s.path, &lines, &n_lines);
    assert_int_equal(n_lines, 1);
    vm = json_object_get(lines[0], "vm");
    assert_string_equal(jstr(vm, "port"), "t2vm1");
    assert_true(jnull(vm, "ofport"));
    assert_true(jnull(vm, "iface_id"));
    assert_true(jnull(vm, "tenant"));
    assert_null(json_object_get(vm, "mac"));
    flow = json_object_get(lines[0], "flow");
    assert_string_equal(jstr(flow, "src"), "10.0.0.11");
    assert_string_equal(jstr(flow, "dst"), "10.0.0.12");
    assert_true(jnull(flow, "app"));
    free_lines(lines, n_lines);

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

/* With max_size, the file is renamed to PATH.1 before a line would make it
 * bigger: one generation is kept, and no file exceeds the limit. */
static void
test_rotation(void **statep)
{
    struct full_alert fa;
    struct scratch s;
    struct fake_host *fh;
    json_t **lines, **old_lines;
    size_t n_lines, n_old_lines;
    struct stat st;
    void *state;
    size_t line_size;

    scratch_init(&s);
    full_alert_init(&fa);

    /* Learn the size of one line.  Counts 10..19 keep it. */
    fa.alert.count = 10;
    fh = sink_start(s.path, "", &state);
    assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
    vnm_plugin.destroy(state);
    fake_host_destroy(fh);
    assert_int_equal(stat(s.path, &st), 0);
    line_size = st.st_size;
    assert_int_equal(unlink(s.path), 0);

    /* Room for 3 lines per file; write 10. */
    {
        char *keys = xasprintf("max_size = %zu\n", 3 * line_size + 10);

        fh = sink_start(s.path, keys, &state);
        free(keys);
    }
    for (int i = 10; i < 20; i++) {
        fa.alert.count = i;
        assert_int_equal(vnm_plugin.sink->deliver(state, &fa.alert), 0);
        assert_int_equal(stat(s.path, &st), 0);
        assert_true((size_t) st.st_size <= 3 * line_size + 10);
    }
    assert_int_equal(fake_host_counter(fh, "delivered"), 10);
    assert_int_equal(fake_host_counter(fh, "rotations"), 3);
    vnm_plugin.destroy(state);
    fake_host_destroy(fh);

    /* The 7th to 9th lines in PATH.1, the 10th in PATH. */
    read_lines(s.old_path, &old_lines, &n_old_lines);
    read_lines(s.path, &lines, &n_lines);
    assert_int_equal(n_old_lines, 3);
    assert_int_equal(n_lines, 1);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(jint(old_lines[i], "count"), 16 + i);
    }
    assert_int_equal(jint(lines[0], "count"), 19);
    free_lines(lines, n_lines);
    free_lines(old_lines, n_old_lines);
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
        cmocka_unit_test(test_ipv4_and_other_vm),
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

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/loader.c with real plugin files: the fixtures of
 * tests/plugins/, built by "make check" into tests/plugins/.libs (or the
 * directory $VNM_TEST_PLUGIN_DIR names).  A good detector and a good sink
 * are loaded from configuration sections and driven through their
 * descriptors and the host table the loader lends them; every bad fixture
 * must be refused with its one-line reason naming the file.
 *
 * The loader and the plugins log to a temporary file that tests read back.
 */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/conf.h"
#include "lib/loader.h"
#include "lib/log.h"
#include "lib/util.h"

#define DETECTORS_AND_SINKS \
    ((1u << VNM_PLUGIN_DETECTOR) | (1u << VNM_PLUGIN_SINK))

/* Where the fixtures are. */
static const char *plugin_dir;

/* The log file of the tests. */
static char log_path[] = "/tmp/vnm-test-loader-XXXXXX";

/* An alert as the emit callback saw it (copies). */
struct recorded_alert {
    char *detector;             /* Instance that emitted it. */
    char *kind;
    char *key;
    char *summary;
    uint64_t bytes;
};

enum { MAX_ALERTS = 8, MAX_CONFIGS = 8 };

/* The state of one test. */
struct fixture {
    struct vnm_loader *loader;  /* Detectors and sinks, emit_alert(). */
    struct vnm_config *configs[MAX_CONFIGS]; /* Must outlive 'loader'. */
    size_t n_configs;
    struct recorded_alert alerts[MAX_ALERTS];
    size_t n_alerts;
    int deliver_error;          /* Last sink->deliver() result. */
};

/* The loader's emit callback: records 'alert' and delivers it to every
 * loaded sink, as the analyzer would. */
static int
record_alert(void *f_, struct vnm_plugin_instance *inst,
             const struct vnm_alert *alert)
{
    struct fixture *f = f_;
    struct recorded_alert *r;

    assert_true(f->n_alerts < MAX_ALERTS);
    r = &f->alerts[f->n_alerts++];
    r->detector = xstrdup(inst->name);
    r->kind = xstrdup(alert->kind);
    r->key = xstrdup(alert->key);
    r->summary = xstrdup(alert->summary);
    r->bytes = alert->bytes;

    for (size_t i = 0; i < vnm_loader_count(f->loader); i++) {
        struct vnm_plugin_instance *sink = vnm_loader_get(f->loader, i);

        if (sink->desc->kind == VNM_PLUGIN_SINK) {
            f->deliver_error = sink->desc->sink->deliver(sink->state, alert);
        }
    }
    return 0;
}

/* Returns the whole content of 'path' (malloc'd). */
static char *
read_file(const char *path)
{
    FILE *file = fopen(path, "r");
    char *buf;
    long size;

    assert_non_null(file);
    assert_int_equal(fseek(file, 0, SEEK_END), 0);
    size = ftell(file);
    assert_true(size >= 0);
    rewind(file);
    buf = xmalloc((size_t) size + 1);
    assert_int_equal(fread(buf, 1, (size_t) size, file), (size_t) size);
    buf[size] = '\0';
    fclose(file);
    return buf;
}

/* Returns the offset of 's' in the log, or -1 if it is not there. */
static long
log_find(const char *s)
{
    char *log = read_file(log_path);
    const char *p = strstr(log, s);
    long offset = p ? p - log : -1;

    free(log);
    return offset;
}

static bool
log_contains(const char *s)
{
    return log_find(s) >= 0;
}

/* The fixture file 'file' in the plugin directory (malloc'd). */
static char *
plugin_path(const char *file)
{
    return xasprintf("%s/%s", plugin_dir, file);
}

/* Parses 'text' as "loader.conf", keeps it until the end of the test, and
 * returns its section [kind "name"] ([kind] if 'name' is null). */
static const struct vnm_conf *
add_config(struct fixture *f, const char *text, const char *kind,
           const char *name)
{
    struct vnm_config *config;
    const struct vnm_conf *conf;
    char *error;

    error = vnm_config_parse_string(text, "loader.conf", &config);
    if (error) {
        fail_msg("%s", error);
    }
    assert_true(f->n_configs < MAX_CONFIGS);
    f->configs[f->n_configs++] = config;
    if (!kind) {
        return NULL;
    }
    conf = vnm_config_section(config, kind, name);
    assert_non_null(conf);
    return conf;
}

/* The value of 'inst''s counter 'name', which must exist. */
static uint64_t
counter(const struct vnm_plugin_instance *inst, const char *name)
{
    for (size_t i = 0; i < inst->n_counters; i++) {
        if (!strcmp(inst->counters[i].name, name)) {
            return inst->counters[i].value;
        }
    }
    fail_msg("%s has no counter \"%s\"", inst->name, name);
    return UINT64_MAX;
}

static struct vnm_flow
make_flow(uint64_t id, uint64_t bytes)
{
    struct vnm_flow flow;

    memset(&flow, 0, sizeof flow);
    flow.id = id;
    flow.src.packets = 1;
    flow.src.bytes = bytes;
    return flow;
}

/* Loads section [kind "name"] of 'text' and checks that the loader refuses
 * it with exactly "PATH: REASON", PATH being 'file' in the plugin
 * directory, and loads nothing. */
static void
expect_refusal(struct fixture *f, const char *text, const char *kind,
               const char *name, const char *file, const char *reason)
{
    const struct vnm_conf *conf = add_config(f, text, kind, name);
    size_t n = vnm_loader_count(f->loader);
    char *path = plugin_path(file);
    char *expected = xasprintf("%s: %s", path, reason);
    char *error;

    error = vnm_loader_load_section(f->loader, conf);
    assert_non_null(error);
    assert_null(strchr(error, '\n'));
    assert_string_equal(error, expected);
    assert_int_equal(vnm_loader_count(f->loader), n);
    free(error);
    free(expected);
    free(path);
}

static int
group_setup(void **statep)
{
    const char *env = getenv("VNM_TEST_PLUGIN_DIR");
    int fd;

    plugin_dir = env && *env ? env : VNM_TEST_PLUGIN_DIR;
    fd = mkstemp(log_path);
    if (fd < 0) {
        return -1;
    }
    close(fd);
    return vnm_log_open(log_path, "test") ? -1 : 0;
}

static int
group_teardown(void **statep)
{
    vnm_log_close();
    unlink(log_path);
    return 0;
}

static int
setup(void **statep)
{
    struct fixture *f = xzalloc(sizeof *f);
    char *error = vnm_log_set_levels("info");

    if (error || truncate(log_path, 0)) {
        free(error);
        free(f);
        return -1;
    }
    f->loader = vnm_loader_create("analyzer", "hv1", plugin_dir,
                                  DETECTORS_AND_SINKS, record_alert, f);
    *statep = f;
    return 0;
}

static int
teardown(void **statep)
{
    struct fixture *f = *statep;

    vnm_loader_destroy(f->loader);
    for (size_t i = 0; i < f->n_configs; i++) {
        vnm_config_destroy(f->configs[i]);
    }
    for (size_t i = 0; i < f->n_alerts; i++) {
        free(f->alerts[i].detector);
        free(f->alerts[i].kind);
        free(f->alerts[i].key);
        free(f->alerts[i].summary);
    }
    free(f);
    return 0;
}

static const char good_conf[] =
    "[analyzer]\n"
    "host_id = hv1\n"
    "[detector \"minimal\"]\n"
    "threshold = 100\n"
    "label = \"big one\"\n"
    "[sink \"good\"]\n";

static void
test_good_plugins(void **statep)
{
    struct fixture *f = *statep;
    const struct vnm_conf *dconf = add_config(f, good_conf, "detector",
                                              "minimal");
    const struct vnm_conf *sconf = vnm_config_section(f->configs[0], "sink",
                                                      "good");
    char *dpath = plugin_path("detect-minimal.so");
    char *spath = plugin_path("sink-good.so");
    struct vnm_plugin_instance *det, *sink;
    struct vnm_flow small = make_flow(1, 100);
    struct vnm_flow big = make_flow(2, 150);
    char *expected;
    long unloaded_sink, unloaded_det;

    assert_null(vnm_loader_load_section(f->loader, dconf));
    assert_null(vnm_loader_load_section(f->loader, sconf));
    assert_int_equal(vnm_loader_count(f->loader), 2);
    assert_null(vnm_loader_get(f->loader, 2));

    det = vnm_loader_get(f->loader, 0);
    assert_string_equal(det->name, "minimal");
    assert_string_equal(det->path, dpath);
    assert_string_equal(det->desc->name, "minimal");
    assert_string_equal(det->desc->version, "1.0");
    assert_int_equal(det->desc->kind, VNM_PLUGIN_DETECTOR);
    assert_ptr_equal(det->conf, dconf);
    assert_non_null(det->state);
    assert_int_equal(det->host.size, sizeof(struct vnm_host));
    assert_int_equal(det->host.abi_minor, VNM_PLUGIN_ABI_MINOR);
    assert_string_equal(det->host.daemon, "analyzer");
    assert_string_equal(det->host.host_id, "hv1");
    assert_string_equal(det->host.plugin_name, "minimal");

    sink = vnm_loader_get(f->loader, 1);
    assert_string_equal(sink->name, "good");
    assert_string_equal(sink->path, spath);
    assert_int_equal(sink->desc->kind, VNM_PLUGIN_SINK);

    expected = xasprintf("|test|INFO|loader|loaded detector \"minimal\" 1.0 "
                         "(ABI %d.%d) from %s\n", VNM_PLUGIN_ABI_MAJOR,
                         VNM_PLUGIN_ABI_MINOR, dpath);
    assert_true(log_contains(expected));
    free(expected);
    expected = xasprintf("|test|INFO|loader|loaded sink \"good\" 1.0 "
                         "(ABI %d.%d) from %s\n", VNM_PLUGIN_ABI_MAJOR,
                         VNM_PLUGIN_ABI_MINOR, spath);
    assert_true(log_contains(expected));
    free(expected);
    /* The plugin read its keys and logs as its own module. */
    assert_true(log_contains("|test|INFO|minimal|threshold 100 bytes, label "
                             "\"big one\"\n"));

    /* Each plugin has its own log level. */
    assert_null(vnm_log_set_levels("good:dbg"));

    /* At the threshold nothing; above it an alert, through the emit
     * callback, to the sink. */
    det->desc->detector->on_flow(det->state, &small);
    assert_int_equal(f->n_alerts, 0);
    det->desc->detector->on_flow(det->state, &big);
    assert_int_equal(f->n_alerts, 1);
    assert_string_equal(f->alerts[0].detector, "minimal");
    assert_string_equal(f->alerts[0].kind, "big-flow");
    assert_string_equal(f->alerts[0].key, "flow-2");
    assert_string_equal(f->alerts[0].summary,
                        "big one: flow 2 carried 150 bytes (threshold 100)");
    assert_int_equal(f->alerts[0].bytes, 150);
    assert_int_equal(f->deliver_error, 0);
    det->desc->detector->on_tick(det->state, 1000);

    assert_int_equal(counter(det, "flows"), 2);
    assert_int_equal(counter(det, "alerts"), 1);
    assert_int_equal(counter(det, "ticks"), 1);
    assert_int_equal(counter(sink, "delivered"), 1);
    assert_true(log_contains("|test|DBG|good|delivered big-flow alert "
                             "\"flow-2\"\n"));

    /* Unloading destroys each instance, in reverse load order. */
    assert_false(log_contains("destroyed after"));
    vnm_loader_destroy(f->loader);
    f->loader = NULL;
    assert_true(log_contains("|test|INFO|minimal|destroyed after 2 flows\n"));
    unloaded_sink = log_find("|test|INFO|loader|unloaded sink \"good\"\n");
    unloaded_det = log_find("|test|INFO|loader|unloaded detector "
                            "\"minimal\"\n");
    assert_true(unloaded_sink >= 0);
    assert_true(unloaded_det > unloaded_sink);
    assert_true(log_find("destroyed after 2 flows") < unloaded_det);

    free(dpath);
    free(spath);
}

static void
test_load_config(void **statep)
{
    struct fixture *f = *statep;
    struct vnm_flow flow = make_flow(5, 1);
    struct vnm_plugin_instance *det;
    struct vnm_loader *sinks_only;
    char *error;

    add_config(f, "[analyzer]\n"
               "host_id = hv1\n"
               "[sink \"good\"]\n"
               "fail = yes\n"
               "[detector \"minimal\"]\n"
               "threshold = 0\n", NULL, NULL);

    /* Every plugin section, in file order. */
    assert_null(vnm_loader_load_config(f->loader, f->configs[0]));
    assert_int_equal(vnm_loader_count(f->loader), 2);
    assert_string_equal(vnm_loader_get(f->loader, 0)->name, "good");
    assert_string_equal(vnm_loader_get(f->loader, 1)->name, "minimal");

    /* The sink's own configuration took effect. */
    det = vnm_loader_get(f->loader, 1);
    det->desc->detector->on_flow(det->state, &flow);
    assert_int_equal(f->n_alerts, 1);
    assert_int_equal(f->deliver_error, EIO);
    assert_int_equal(counter(vnm_loader_get(f->loader, 0), "failed"), 1);

    /* Sections of kinds the loader does not take are skipped. */
    sinks_only = vnm_loader_create("analyzer", "hv1", plugin_dir,
                                   1u << VNM_PLUGIN_SINK, NULL, NULL);
    assert_null(vnm_loader_load_config(sinks_only, f->configs[0]));
    assert_int_equal(vnm_loader_count(sinks_only), 1);
    assert_string_equal(vnm_loader_get(sinks_only, 0)->name, "good");
    vnm_loader_destroy(sinks_only);

    /* The first failure stops loading and is returned. */
    vnm_loader_destroy(f->loader);
    f->loader = vnm_loader_create("analyzer", "hv1", plugin_dir,
                                  DETECTORS_AND_SINKS, record_alert, f);
    add_config(f, "[detector \"minimal\"]\n"
               "[detector \"init-fails\"]\n"
               "[sink \"good\"]\n", NULL, NULL);
    error = vnm_loader_load_config(f->loader, f->configs[1]);
    assert_non_null(error);
    assert_non_null(strstr(error, "init of detector \"init-fails\" failed"));
    assert_int_equal(vnm_loader_count(f->loader), 1);
    free(error);
}

static void
test_plugin_key(void **statep)
{
    struct fixture *f = *statep;
    const struct vnm_conf *conf;
    struct vnm_loader *other;
    char *path = plugin_path("detect-minimal.so");
    char *text;

    /* A relative "plugin" is taken from the plugin directory, and the
     * instance is named after the section. */
    conf = add_config(f, "[detector \"big\"]\n"
                      "plugin = detect-minimal.so\n"
                      "threshold = 5\n", "detector", "big");
    assert_null(vnm_loader_load_section(f->loader, conf));
    assert_string_equal(vnm_loader_get(f->loader, 0)->name, "big");
    assert_string_equal(vnm_loader_get(f->loader, 0)->path, path);
    assert_string_equal(vnm_loader_get(f->loader, 0)->host.plugin_name,
                        "big");
    assert_true(log_contains("|test|INFO|big|threshold 5 bytes, label "
                             "\"minimal\"\n"));

    /* An absolute one is used as is, whatever the plugin directory. */
    other = vnm_loader_create("analyzer", "hv1", "/nonexistent",
                              DETECTORS_AND_SINKS, NULL, NULL);
    text = xasprintf("[detector \"huge\"]\nplugin = %s\n", path);
    conf = add_config(f, text, "detector", "huge");
    assert_null(vnm_loader_load_section(other, conf));
    assert_string_equal(vnm_loader_get(other, 0)->path, path);
    vnm_loader_destroy(other);
    free(text);
    free(path);
}

static void
test_bad_fixtures(void **statep)
{
    struct fixture *f = *statep;
    char *reason;

    reason = xasprintf("plugin ABI %d.0 has major version %d, host ABI is "
                       "%d.%d: rebuild the plugin against this vnmon",
                       VNM_PLUGIN_ABI_MAJOR + 1, VNM_PLUGIN_ABI_MAJOR + 1,
                       VNM_PLUGIN_ABI_MAJOR, VNM_PLUGIN_ABI_MINOR);
    expect_refusal(f, "[detector \"major-mismatch\"]\n", "detector",
                   "major-mismatch", "detect-major-mismatch.so", reason);
    free(reason);

    reason = xasprintf("plugin ABI %d.%d is newer than host ABI %d.%d: "
                       "upgrade vnmon or rebuild the plugin",
                       VNM_PLUGIN_ABI_MAJOR, VNM_PLUGIN_ABI_MINOR + 1,
                       VNM_PLUGIN_ABI_MAJOR, VNM_PLUGIN_ABI_MINOR);
    expect_refusal(f, "[detector \"minor-newer\"]\n", "detector",
                   "minor-newer", "detect-minor-newer.so", reason);
    free(reason);

    expect_refusal(f, "[detector \"no-symbol\"]\n", "detector", "no-symbol",
                   "detect-no-symbol.so",
                   "no \"vnm_plugin\" symbol: not a vnmon plugin (define it "
                   "with VNM_PLUGIN_DEFINE())");

    expect_refusal(f, "[detector \"unknown-kind\"]\n", "detector",
                   "unknown-kind", "detect-unknown-kind.so",
                   "unknown plugin kind 99 (this host knows detector, sink "
                   "and enricher)");

    reason = xasprintf("descriptor size 8 is smaller than ABI 1.0's %d: "
                       "corrupt or not built with VNM_PLUGIN_DEFINE()",
                       VNM_PLUGIN_SIZE_1_0);
    expect_refusal(f, "[detector \"small-size\"]\n", "detector",
                   "small-size", "detect-small-size.so", reason);
    free(reason);
}

/* The no-symbol fixture is a loadable shared object with another export:
 * its refusal is about the symbol, not about loading. */
static void
test_no_symbol_fixture_loads(void **statep)
{
    char *path = plugin_path("detect-no-symbol.so");
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);

    assert_non_null(dl);
    assert_non_null(dlsym(dl, "vnm_plugin_info"));
    assert_null(dlsym(dl, "vnm_plugin"));
    dlclose(dl);
    free(path);
}

static void
test_init_fails(void **statep)
{
    struct fixture *f = *statep;

    expect_refusal(f, "[detector \"init-fails\"]\n", "detector",
                   "init-fails", "detect-init-fails.so",
                   "init of detector \"init-fails\" failed (Invalid "
                   "argument)");
    /* The plugin's own explanation is in the log; destroy() never ran. */
    assert_true(log_contains("|test|ERR|init-fails|cannot start: no capture "
                             "source configured (test fixture)\n"));
    assert_false(log_contains("destroy() called"));
}

static void
test_missing_file(void **statep)
{
    struct fixture *f = *statep;
    const struct vnm_conf *conf = add_config(f, "[detector \"absent\"]\n",
                                             "detector", "absent");
    char *path = plugin_path("detect-absent.so");
    char *prefix = xasprintf("%s: cannot load (", path);
    char *error;

    error = vnm_loader_load_section(f->loader, conf);
    assert_non_null(error);
    assert_null(strchr(error, '\n'));
    assert_memory_equal(error, prefix, strlen(prefix));
    assert_non_null(strstr(error, "No such file or directory"));
    assert_int_equal(error[strlen(error) - 1], ')');
    assert_int_equal(vnm_loader_count(f->loader), 0);
    free(error);
    free(prefix);
    free(path);
}

static void
test_duplicate_name(void **statep)
{
    struct fixture *f = *statep;
    const struct vnm_conf *conf = add_config(f, "[detector \"minimal\"]\n",
                                             "detector", "minimal");
    char *path = plugin_path("detect-minimal.so");
    char *reason;

    assert_null(vnm_loader_load_section(f->loader, conf));
    reason = xasprintf("duplicate plugin name \"minimal\" (already loaded "
                       "from %s)", path);
    expect_refusal(f, "[detector \"dup-name\"]\n", "detector", "dup-name",
                   "detect-dup-name.so", reason);
    assert_int_equal(vnm_loader_count(f->loader), 1);
    free(reason);
    free(path);
}

static void
test_unknown_key(void **statep)
{
    struct fixture *f = *statep;

    expect_refusal(f, "[detector \"minimal\"]\n"
                   "threshold = 10\n"
                   "thresold = 5\n", "detector", "minimal",
                   "detect-minimal.so",
                   "loader.conf:3: thresold: unknown key in [detector "
                   "\"minimal\"]");
    /* init() had succeeded, so destroy() ran. */
    assert_true(log_contains("|test|INFO|minimal|destroyed after 0 flows\n"));
}

static void
test_bad_conf(void **statep)
{
    struct fixture *f = *statep;
    const struct vnm_conf *conf;

    expect_refusal(f, "[detector \"bad-conf\"]\n"
                   "limit = abc\n", "detector", "bad-conf",
                   "detect-bad-conf.so",
                   "init of detector \"bad-conf\" failed: loader.conf:2: "
                   "limit: \"abc\" is not an integer");
    assert_true(log_contains("|test|ERR|loader|loader.conf:2: limit: "
                             "\"abc\" is not an integer\n"));

    expect_refusal(f, "\n[detector \"bad-conf\"]\n"
                   "limit = 500\n", "detector", "bad-conf",
                   "detect-bad-conf.so",
                   "init of detector \"bad-conf\" failed: loader.conf:3: "
                   "limit: 500 is out of range [0, 100]");

    /* With a valid value the same plugin loads. */
    conf = add_config(f, "[detector \"bad-conf\"]\nlimit = 50\n", "detector",
                      "bad-conf");
    assert_null(vnm_loader_load_section(f->loader, conf));
    assert_int_equal(vnm_loader_count(f->loader), 1);
}

static void
test_wrong_kind(void **statep)
{
    struct fixture *f = *statep;
    struct vnm_loader *sinks_only;
    const struct vnm_conf *conf;
    char *path = plugin_path("detect-minimal.so");
    char *expected;
    char *error;

    /* A detector's file configured as a sink. */
    expect_refusal(f, "[sink \"minimal\"]\n"
                   "plugin = detect-minimal.so\n", "sink", "minimal",
                   "detect-minimal.so",
                   "is a detector plugin, configured as a sink");

    /* A loader that takes sinks only refuses detectors... */
    sinks_only = vnm_loader_create("analyzer", "hv1", plugin_dir,
                                   1u << VNM_PLUGIN_SINK, NULL, NULL);
    conf = add_config(f, "[detector \"minimal\"]\n[sink \"good\"]\n",
                      "detector", "minimal");
    error = vnm_loader_load_section(sinks_only, conf);
    expected = xasprintf("%s: detector plugins cannot be loaded by "
                         "vnmon-analyzer", path);
    assert_non_null(error);
    assert_string_equal(error, expected);
    assert_int_equal(vnm_loader_count(sinks_only), 0);
    free(expected);
    free(error);
    /* ...but takes sinks. */
    conf = vnm_config_section(f->configs[1], "sink", "good");
    assert_null(vnm_loader_load_section(sinks_only, conf));
    assert_int_equal(vnm_loader_count(sinks_only), 1);
    vnm_loader_destroy(sinks_only);
    free(path);
}

static void
test_not_plugin_sections(void **statep)
{
    struct fixture *f = *statep;
    char *error;

    error = vnm_loader_load_section(f->loader,
                                    add_config(f, "\n[analyzer]\n",
                                               "analyzer", NULL));
    assert_non_null(error);
    assert_string_equal(error,
                        "loader.conf:2: [analyzer]: not a plugin section");
    free(error);

    error = vnm_loader_load_section(f->loader,
                                    add_config(f, "[detector]\n",
                                               "detector", NULL));
    assert_non_null(error);
    assert_string_equal(error,
                        "loader.conf:1: [detector]: not a plugin section");
    free(error);
    assert_int_equal(vnm_loader_count(f->loader), 0);
}

/* The host services behave as plugin.h says when a plugin misuses them. */
static void
test_host_services(void **statep)
{
    struct fixture *f = *statep;
    struct vnm_plugin_instance *det, *sink;
    struct vnm_alert alert = { .kind = "k", .key = "key", .summary = "s" };
    struct vnm_alert incomplete = { .kind = "k", .key = "key" };
    struct vnm_loader *no_emit;
    struct vnm_flow flow = make_flow(1, 1000000);

    add_config(f, "[detector \"minimal\"]\n[sink \"good\"]\n", NULL, NULL);
    assert_null(vnm_loader_load_config(f->loader, f->configs[0]));
    det = vnm_loader_get(f->loader, 0);
    sink = vnm_loader_get(f->loader, 1);

    /* Only detectors emit, and only complete alerts. */
    assert_int_equal(sink->host.emit_alert(&sink->host, &alert), EPERM);
    assert_int_equal(det->host.emit_alert(&det->host, &incomplete), EINVAL);
    assert_int_equal(f->n_alerts, 0);
    assert_int_equal(det->host.emit_alert(&det->host, &alert), 0);
    assert_int_equal(f->n_alerts, 1);

    /* Invalid counter names are ignored, and so are counters beyond
     * VNM_PLUGIN_MAX_COUNTERS; existing ones still count. */
    det->host.count(&det->host, "Bad-Name", 1);
    det->host.count(&det->host, "", 1);
    assert_int_equal(det->n_counters, 0);
    for (int i = 0; i < VNM_PLUGIN_MAX_COUNTERS + 8; i++) {
        char name[16];

        snprintf(name, sizeof name, "c%d", i);
        det->host.count(&det->host, name, (uint64_t) i);
    }
    assert_int_equal(det->n_counters, VNM_PLUGIN_MAX_COUNTERS);
    det->host.count(&det->host, "c0", 5);
    assert_int_equal(counter(det, "c0"), 5);

    /* A log level outside the enum is logged as ERR. */
    det->host.log(&det->host, (enum vnm_log_level) 42, "odd %s", "level");
    assert_true(log_contains("|test|ERR|minimal|odd level\n"));

    /* Without an emit callback, emitting is not permitted. */
    no_emit = vnm_loader_create("analyzer", "hv1", plugin_dir,
                                DETECTORS_AND_SINKS, NULL, NULL);
    add_config(f, "[detector \"minimal\"]\nthreshold = 1\n", NULL, NULL);
    assert_null(vnm_loader_load_config(no_emit, f->configs[1]));
    det = vnm_loader_get(no_emit, 0);
    assert_int_equal(det->host.emit_alert(&det->host, &alert), EPERM);
    det->desc->detector->on_flow(det->state, &flow);
    assert_int_equal(counter(det, "flows"), 1);
    assert_int_equal(det->n_counters, 1);       /* No "alerts". */
    vnm_loader_destroy(no_emit);
}

/* The agent loads enrichers: the fixture adds its configured label to a
 * record and counts it; the analyzer refuses an enricher. */
static void
test_enricher(void **statep)
{
    static const char text[] =
        "[agent]\n"
        "[enricher \"static\"]\n"
        "key = tenant_site\n"
        "value = \"paris 2\"\n";
    struct fixture *f = *statep;
    const struct vnm_conf *conf = add_config(f, text, "enricher", "static");
    struct vnm_plugin_instance *inst;
    struct vnm_loader *agent;
    struct vnm_labels labels;
    struct vnm_flow flow;
    char *error;
    char *path = plugin_path("enrich-static.so");
    char *expected = xasprintf("%s: enricher plugins cannot be loaded by "
                               "vnmon-analyzer", path);

    /* f->loader is the analyzer's. */
    error = vnm_loader_load_section(f->loader, conf);
    assert_non_null(error);
    assert_string_equal(error, expected);
    free(error);

    agent = vnm_loader_create("agent", "hv1", plugin_dir,
                              1u << VNM_PLUGIN_ENRICHER, NULL, NULL);
    vnm_conf_reset_used((struct vnm_conf *) conf);
    error = vnm_loader_load_section(agent, conf);
    assert_null(error);
    assert_int_equal(vnm_loader_count(agent), 1);
    inst = vnm_loader_get(agent, 0);
    assert_int_equal(inst->desc->kind, VNM_PLUGIN_ENRICHER);

    memset(&flow, 0, sizeof flow);
    memset(&labels, 0, sizeof labels);
    inst->desc->enricher->enrich(inst->state, &flow, &labels);
    inst->desc->enricher->enrich(inst->state, &flow, &labels);
    assert_int_equal(labels.n, 2);
    assert_string_equal(labels.label[0].key, "tenant_site");
    assert_string_equal(labels.label[0].value, "paris 2");
    assert_int_equal(inst->n_counters, 1);
    assert_string_equal(inst->counters[0].name, "enriched");
    assert_int_equal(inst->counters[0].value, 2);

    /* An enricher may not emit alerts. */
    assert_int_equal(inst->host.emit_alert(&inst->host, NULL), EPERM);
    vnm_loader_destroy(agent);
    free(expected);
    free(path);
}

static void
test_plugin_dir_and_kinds(void **statep)
{
    struct vnm_loader *loader;

    assert_int_equal(setenv("VNM_PLUGIN_DIR", "/from/env", 1), 0);
    loader = vnm_loader_create("agent", "hv1", NULL, 0, NULL, NULL);
    assert_string_equal(vnm_loader_plugin_dir(loader), "/from/env");
    vnm_loader_destroy(loader);

    loader = vnm_loader_create("agent", "hv1", "/explicit", 0, NULL, NULL);
    assert_string_equal(vnm_loader_plugin_dir(loader), "/explicit");
    vnm_loader_destroy(loader);

    assert_int_equal(unsetenv("VNM_PLUGIN_DIR"), 0);
    loader = vnm_loader_create("agent", "hv1", NULL, 0, NULL, NULL);
    assert_string_equal(vnm_loader_plugin_dir(loader), VNM_PKGLIBDIR);
    assert_int_equal(vnm_loader_count(loader), 0);
    vnm_loader_destroy(loader);
    vnm_loader_destroy(NULL);

    assert_string_equal(vnm_plugin_kind_name(VNM_PLUGIN_DETECTOR),
                        "detector");
    assert_string_equal(vnm_plugin_kind_name(VNM_PLUGIN_SINK), "sink");
    assert_string_equal(vnm_plugin_kind_name(VNM_PLUGIN_ENRICHER),
                        "enricher");
    assert_null(vnm_plugin_kind_name((enum vnm_plugin_kind) 0));
    assert_null(vnm_plugin_kind_name((enum vnm_plugin_kind) 99));
    assert_int_equal(vnm_plugin_kind_from_name("sink"), VNM_PLUGIN_SINK);
    assert_int_equal(vnm_plugin_kind_from_name("enricher"),
                     VNM_PLUGIN_ENRICHER);
    assert_int_equal(vnm_plugin_kind_from_name("analyzer"), 0);
}

/* Runs the tests; the exit status is the number of failures. */
int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_plugins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_fixtures, setup, teardown),
        cmocka_unit_test(test_no_symbol_fixture_loads),
        cmocka_unit_test_setup_teardown(test_init_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_conf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enricher, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_plugin_sections, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_host_services, setup, teardown),
        cmocka_unit_test(test_plugin_dir_and_kinds),
    };

    return cmocka_run_group_tests_name("loader", tests, group_setup,
                                       group_teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/conf.c: parsing the daemons' INI files, the typed
 * getters, and the exact "FILE:LINE: KEY: reason" texts of every error an
 * operator can meet.
 */
#include <config.h>

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
#include "lib/util.h"

/* Parses 'text' as "t.conf", failing the test on error. */
static struct vnm_config *
parse_ok(const char *text)
{
    struct vnm_config *config = NULL;
    char *error = vnm_config_parse_string(text, "t.conf", &config);

    if (error) {
        fail_msg("unexpected error: %s", error);
    }
    assert_non_null(config);
    return config;
}

/* Parses 'text' as "t.conf" and checks that it fails with 'expected'. */
static void
parse_fails(const char *text, const char *expected)
{
    struct vnm_config *config = (struct vnm_config *) &config;
    char *error = vnm_config_parse_string(text, "t.conf", &config);

    if (!error) {
        vnm_config_destroy(config);
        fail_msg("parsed although \"%s\" was expected", expected);
    }
    assert_null(config);
    assert_string_equal(error, expected);
    free(error);
}

/* The section [kind] or [kind "name"] of 'config', which must exist. */
static struct vnm_conf *
section(const struct vnm_config *config, const char *kind, const char *name)
{
    struct vnm_conf *s = vnm_config_section(config, kind, name);

    assert_non_null(s);
    return s;
}

/* Checks that a getter returned 'error' equal to 'expected'. */
static void
check_error(char *error, const char *expected)
{
    assert_non_null(error);
    assert_string_equal(error, expected);
    free(error);
}

static const char good_conf[] =
    "; vnmon-analyzer test configuration\n"     /* 1 */
    "[analyzer]\n"                              /* 2 */
    "host_id = hv1\n"                           /* 3 */
    "motd = \"  hello, world  \"\n"             /* 4 */
    "workers = 4\n"                             /* 5 */
    "offset = -3\n"                             /* 6 */
    "ratio = 0.25\n"                            /* 7 */
    "debug = yes\n"                             /* 8 */
    "quiet = OFF\n"                             /* 9 */
    "verbose = 1\n"                             /* 10 */
    "interval = 500ms\n"                        /* 11 */
    "timeout = 10s\n"                           /* 12 */
    "window = 5m\n"                             /* 13 */
    "retention = 7d\n"                          /* 14 */
    "grace = 2h\n"                              /* 15 */
    "bare = 30\n"                               /* 16 */
    "buffer = 64k\n"                            /* 17 */
    "spool = 16M\n"                             /* 18 */
    "disk = 2G\n"                               /* 19 */
    "block = 4096\n"                            /* 20 */
    "note = plain words ; a comment\n"          /* 21 */
    "\n"                                        /* 22 */
    "[detector \"vlan-hop\"]\n"                 /* 23 */
    "max_tags = 1\n"                            /* 24 */
    "[sink \"jsonl\"]\n"                        /* 25 */
    "\n"                                        /* 26 */
    "[sink \"webhook\"]\n"                      /* 27 */
    "url = \"http://example.test/hook\"\n";     /* 28 */

static void
test_good_values(void **statep)
{
    struct vnm_config *config = parse_ok(good_conf);
    struct vnm_conf *a = section(config, "analyzer", NULL);
    const char *s;
    int64_t i;
    double d;
    bool b;

    assert_string_equal(vnm_config_file_name(config), "t.conf");
    assert_string_equal(vnm_conf_file(a), "t.conf");
    assert_string_equal(vnm_conf_kind(a), "analyzer");
    assert_null(vnm_conf_name(a));

    assert_null(vnm_conf_get_string(a, "host_id", "x", &s));
    assert_string_equal(s, "hv1");
    /* Quotes are removed and keep the spaces inside them. */
    assert_null(vnm_conf_get_string(a, "motd", NULL, &s));
    assert_string_equal(s, "  hello, world  ");
    /* ';' after whitespace starts a comment. */
    assert_null(vnm_conf_get_string(a, "note", NULL, &s));
    assert_string_equal(s, "plain words");

    assert_null(vnm_conf_get_int(a, "workers", 1, 1, 64, &i));
    assert_int_equal(i, 4);
    assert_null(vnm_conf_get_int(a, "offset", 0, -10, 10, &i));
    assert_int_equal(i, -3);
    /* Range bounds are inclusive. */
    assert_null(vnm_conf_get_int(a, "workers", 1, 4, 4, &i));
    assert_int_equal(i, 4);

    assert_null(vnm_conf_get_double(a, "ratio", 0.5, 0.0, 1.0, &d));
    assert_true(d == 0.25);

    assert_null(vnm_conf_get_bool(a, "debug", false, &b));
    assert_true(b);
    assert_null(vnm_conf_get_bool(a, "quiet", true, &b));
    assert_false(b);
    assert_null(vnm_conf_get_bool(a, "verbose", false, &b));
    assert_true(b);

    assert_null(vnm_conf_get_duration(a, "interval", 0, 0, INT64_MAX, &i));
    assert_int_equal(i, 500);
    assert_null(vnm_conf_get_duration(a, "timeout", 0, 0, INT64_MAX, &i));
    assert_int_equal(i, 10000);
    assert_null(vnm_conf_get_duration(a, "window", 0, 0, INT64_MAX, &i));
    assert_int_equal(i, 300000);
    assert_null(vnm_conf_get_duration(a, "retention", 0, 0, INT64_MAX, &i));
    assert_int_equal(i, 7 * 86400000LL);
    assert_null(vnm_conf_get_duration(a, "grace", 0, 0, INT64_MAX, &i));
    assert_int_equal(i, 2 * 3600000LL);
    /* A bare number is in seconds. */
    assert_null(vnm_conf_get_duration(a, "bare", 0, 0, INT64_MAX, &i));
    assert_int_equal(i, 30000);

    assert_null(vnm_conf_get_size(a, "buffer", 0, 0, INT64_MAX, &i));
    assert_int_equal(i, 64 * 1024);
    assert_null(vnm_conf_get_size(a, "spool", 0, 0, INT64_MAX, &i));
    assert_int_equal(i, 16 * 1024 * 1024);
    assert_null(vnm_conf_get_size(a, "disk", 0, 0, INT64_MAX, &i));
    assert_int_equal(i, 2LL * 1024 * 1024 * 1024);
    assert_null(vnm_conf_get_size(a, "block", 0, 0, INT64_MAX, &i));
    assert_int_equal(i, 4096);

    /* Every key was asked for. */
    assert_null(vnm_conf_check_unused(a));

    assert_null(vnm_conf_get_string(section(config, "sink", "webhook"),
                                    "url", NULL, &s));
    assert_string_equal(s, "http://example.test/hook");
    vnm_config_destroy(config);
}

static void
test_defaults(void **statep)
{
    struct vnm_config *config = parse_ok("[analyzer]\nhost_id = hv1\n");
    struct vnm_conf *a = section(config, "analyzer", NULL);
    struct vnm_config *empty = vnm_config_create_empty("none.conf");
    const char *s;
    int64_t i;
    double d;
    bool b;

    /* Absent keys take the default, which is not range-checked. */
    assert_null(vnm_conf_get_string(a, "motd", "dflt", &s));
    assert_string_equal(s, "dflt");
    assert_null(vnm_conf_get_string(a, "motd", NULL, &s));
    assert_null(s);
    assert_null(vnm_conf_get_int(a, "workers", 7, 1, 64, &i));
    assert_int_equal(i, 7);
    assert_null(vnm_conf_get_double(a, "ratio", 0.5, 0, 1, &d));
    assert_true(d == 0.5);
    assert_null(vnm_conf_get_bool(a, "debug", true, &b));
    assert_true(b);
    assert_null(vnm_conf_get_duration(a, "timeout", 1500, 0, 5000, &i));
    assert_int_equal(i, 1500);
    assert_null(vnm_conf_get_size(a, "buffer", 65536, 0, INT64_MAX, &i));
    assert_int_equal(i, 65536);

    /* An absent section (null) gives defaults too. */
    assert_null(vnm_config_section(config, "detector", "vlan-hop"));
    assert_null(vnm_conf_get_int(NULL, "max_tags", 1, 0, 4, &i));
    assert_int_equal(i, 1);
    assert_null(vnm_conf_check_unused(NULL));

    /* An empty configuration has no sections. */
    assert_string_equal(vnm_config_file_name(empty), "none.conf");
    assert_null(vnm_config_next(empty, NULL));
    assert_null(vnm_config_section(empty, "analyzer", NULL));

    vnm_config_destroy(empty);
    vnm_config_destroy(config);
    vnm_config_destroy(NULL);
}

static void
test_sections(void **statep)
{
    struct vnm_config *config = parse_ok(good_conf);
    struct vnm_conf *s;
    int64_t i;

    /* An empty named section still exists... */
    s = vnm_config_section(config, "sink", "jsonl");
    assert_non_null(s);
    assert_string_equal(vnm_conf_kind(s), "sink");
    assert_string_equal(vnm_conf_name(s), "jsonl");
    assert_int_equal(vnm_conf_line(s), 25);
    /* ...and has no keys. */
    assert_null(vnm_conf_get_int(s, "max_lines", 9, 0, 10, &i));
    assert_int_equal(i, 9);
    assert_null(vnm_conf_check_unused(s));

    /* Lookups distinguish kind and name. */
    assert_null(vnm_config_section(config, "sink", "vlan-hop"));
    assert_null(vnm_config_section(config, "detector", NULL));
    assert_null(vnm_config_section(config, "analyzer", "x"));

    /* Iteration is in file order, whatever has keys. */
    s = vnm_config_next(config, NULL);
    assert_string_equal(vnm_conf_kind(s), "analyzer");
    s = vnm_config_next(config, s);
    assert_string_equal(vnm_conf_kind(s), "detector");
    assert_string_equal(vnm_conf_name(s), "vlan-hop");
    s = vnm_config_next(config, s);
    assert_string_equal(vnm_conf_kind(s), "sink");
    assert_string_equal(vnm_conf_name(s), "jsonl");
    s = vnm_config_next(config, s);
    assert_string_equal(vnm_conf_kind(s), "sink");
    assert_string_equal(vnm_conf_name(s), "webhook");
    assert_null(vnm_config_next(config, s));
    vnm_config_destroy(config);

    /* Empty sections first, last and in between keep file order. */
    config = parse_ok("[a]\n[b]\nx = 1\n[c]\n[d]\ny = 2\n[e]\n");
    s = NULL;
    for (const char *kind = "abcde"; *kind; kind++) {
        s = vnm_config_next(config, s);
        assert_non_null(s);
        assert_int_equal(vnm_conf_kind(s)[0], *kind);
    }
    assert_null(vnm_config_next(config, s));
    vnm_config_destroy(config);
}

/* vnm_conf_line() is the line of the section's header (conf.h), also for
 * sections with keys and in every error that names a section. */
static void
test_section_header_lines(void **statep)
{
    static const char *const kinds[] = { "analyzer", NULL };
    static const char *const named[] = { "detector", "sink", NULL };
    struct vnm_config *config = parse_ok(good_conf);

    assert_int_equal(vnm_conf_line(section(config, "analyzer", NULL)), 2);
    assert_int_equal(vnm_conf_line(section(config, "detector", "vlan-hop")),
                     23);
    assert_int_equal(vnm_conf_line(section(config, "sink", "jsonl")), 25);
    assert_int_equal(vnm_conf_line(section(config, "sink", "webhook")), 27);
    vnm_config_destroy(config);

    /* Errors about a section with keys name its header's line. */
    parse_fails("[a]\n"
                "x = 1\n"
                "[b]\n"
                "y = 1\n"
                "\n"
                "[a]\n"
                "z = 1\n",
                "t.conf:6: [a]: duplicate section (first on line 1)");
    parse_fails("[detector vlan-hop]\n"
                "max_tags = 1\n",
                "t.conf:1: [detector vlan-hop]: section name must be "
                "double-quoted, as in [detector \"vlan-hop\"]");
    config = parse_ok("[analyzer]\n"
                      "host_id = hv1\n"
                      "[detectr \"vlan-hop\"]\n"
                      "max_tags = 1\n");
    check_error(vnm_config_check_sections(config, kinds, named),
                "t.conf:3: [detectr \"vlan-hop\"]: unknown section");
    vnm_config_destroy(config);
}

static void
test_check_sections(void **statep)
{
    static const char *const kinds[] = { "analyzer", "redis", NULL };
    static const char *const named[] = { "detector", "sink", NULL };
    struct vnm_config *config;

    config = parse_ok("[analyzer]\n[redis]\n[detector \"a\"]\n[sink \"b\"]\n");
    assert_null(vnm_config_check_sections(config, kinds, named));
    vnm_config_destroy(config);

    config = parse_ok("[analyzer]\n[analyser]\n");
    check_error(vnm_config_check_sections(config, kinds, named),
                "t.conf:2: [analyser]: unknown section");
    vnm_config_destroy(config);

    config = parse_ok("[analyzer]\n\n[sinks \"jsonl\"]\n");
    check_error(vnm_config_check_sections(config, kinds, named),
                "t.conf:3: [sinks \"jsonl\"]: unknown section");
    vnm_config_destroy(config);

    config = parse_ok("[analyzer \"main\"]\n");
    check_error(vnm_config_check_sections(config, kinds, named),
                "t.conf:1: [analyzer \"main\"]: this section takes no name");
    vnm_config_destroy(config);

    config = parse_ok("[analyzer]\n[detector]\n");
    check_error(vnm_config_check_sections(config, kinds, named),
                "t.conf:2: [detector]: this section needs a name, as in "
                "[detector \"NAME\"]");
    vnm_config_destroy(config);
}

static void
test_getter_errors(void **statep)
{
    struct vnm_config *config = parse_ok("[analyzer]\n"          /* 1 */
                                         "workers = four\n"      /* 2 */
                                         "cores = 99\n"          /* 3 */
                                         "huge = 99999999999999999999\n"
                                         "trail = 12abc\n"       /* 5 */
                                         "empty =\n"             /* 6 */
                                         "debug = maybe\n"       /* 7 */
                                         "timeout = 5 minutes\n" /* 8 */
                                         "window = 10x\n"        /* 9 */
                                         "grace = 2h\n"          /* 10 */
                                         "ratio = 1.5\n"         /* 11 */
                                         "scale = abc\n"         /* 12 */
                                         "spool = 16Q\n"         /* 13 */
                                         "buffer = 2G\n");       /* 14 */
    struct vnm_conf *a = section(config, "analyzer", NULL);
    int64_t i = 12345;
    double d;
    bool b;

    check_error(vnm_conf_get_int(a, "workers", 1, 1, 64, &i),
                "t.conf:2: workers: \"four\" is not an integer");
    /* A failed getter leaves the value alone. */
    assert_int_equal(i, 12345);
    check_error(vnm_conf_get_int(a, "cores", 1, 1, 64, &i),
                "t.conf:3: cores: 99 is out of range [1, 64]");
    check_error(vnm_conf_get_int(a, "huge", 1, INT64_MIN, INT64_MAX, &i),
                "t.conf:4: huge: \"99999999999999999999\" is not an "
                "integer");
    check_error(vnm_conf_get_int(a, "trail", 1, 0, 100, &i),
                "t.conf:5: trail: \"12abc\" is not an integer");
    check_error(vnm_conf_get_int(a, "empty", 1, 0, 100, &i),
                "t.conf:6: empty: \"\" is not an integer");
    check_error(vnm_conf_get_bool(a, "debug", false, &b),
                "t.conf:7: debug: \"maybe\" is not a boolean (true or "
                "false)");
    check_error(vnm_conf_get_duration(a, "timeout", 0, 0, INT64_MAX, &i),
                "t.conf:8: timeout: \"5 minutes\" is not a duration (e.g. "
                "500ms, 10s, 5m, 2h, 7d)");
    check_error(vnm_conf_get_duration(a, "window", 0, 0, INT64_MAX, &i),
                "t.conf:9: window: \"10x\" is not a duration (e.g. 500ms, "
                "10s, 5m, 2h, 7d)");
    check_error(vnm_conf_get_duration(a, "grace", 0, 1000, 60000, &i),
                "t.conf:10: grace: 2h is out of range [1000ms, 60000ms]");
    check_error(vnm_conf_get_double(a, "ratio", 0, 0, 1, &d),
                "t.conf:11: ratio: 1.5 is out of range [0, 1]");
    check_error(vnm_conf_get_double(a, "scale", 0, 0, 1, &d),
                "t.conf:12: scale: \"abc\" is not a number");
    check_error(vnm_conf_get_size(a, "spool", 0, 0, INT64_MAX, &i),
                "t.conf:13: spool: \"16Q\" is not a size (e.g. 4096, 64k, "
                "16M, 2G)");
    check_error(vnm_conf_get_size(a, "buffer", 0, 0, 1024 * 1024, &i),
                "t.conf:14: buffer: 2G is out of range [0, 1048576]");
    /* Keys whose getter failed were still asked for. */
    assert_null(vnm_conf_check_unused(a));
    assert_int_equal(i, 12345);
    vnm_config_destroy(config);
}

static void
test_unknown_keys(void **statep)
{
    struct vnm_config *config = parse_ok("[analyzer]\n"
                                         "host_id = hv1\n"
                                         "hostid = hv2\n"
                                         "[detector \"vlan-hop\"]\n"
                                         "max_tags = 1\n"
                                         "max_tag = 2\n");
    struct vnm_conf *a = section(config, "analyzer", NULL);
    struct vnm_conf *d = section(config, "detector", "vlan-hop");
    const char *s;
    int64_t i;

    assert_null(vnm_conf_get_string(a, "host_id", NULL, &s));
    check_error(vnm_conf_check_unused(a),
                "t.conf:3: hostid: unknown key in [analyzer]");
    assert_null(vnm_conf_get_int(d, "max_tags", 1, 0, 4, &i));
    check_error(vnm_conf_check_unused(d),
                "t.conf:6: max_tag: unknown key in [detector \"vlan-hop\"]");

    /* Asking for it makes it known; resetting forgets. */
    assert_null(vnm_conf_get_int(d, "max_tag", 1, 0, 4, &i));
    assert_int_equal(i, 2);
    assert_null(vnm_conf_check_unused(d));
    vnm_conf_reset_used(d);
    check_error(vnm_conf_check_unused(d),
                "t.conf:5: max_tags: unknown key in [detector \"vlan-hop\"]");
    vnm_config_destroy(config);
}

static void
test_parse_errors(void **statep)
{
    parse_fails("[analyzer]\n"
                "host_id = hv1\n"
                "workers = 2\n"
                "host_id = hv2\n",
                "t.conf:4: host_id: duplicate key (first on line 2)");
    parse_fails("; header comment\n"
                "host_id = hv1\n"
                "[analyzer]\n",
                "t.conf:2: host_id: key outside of any section");
    parse_fails("[analyzer\n"
                "host_id = hv1\n",
                "t.conf:1: syntax error (expected [section] or key = value)");
    parse_fails("[analyzer]\n"
                "host_id\n",
                "t.conf:2: syntax error (expected [section] or key = value)");
    parse_fails("[analyzer]\n"
                "[detector vlan-hop]\n",
                "t.conf:2: [detector vlan-hop]: section name must be "
                "double-quoted, as in [detector \"vlan-hop\"]");
    parse_fails("[Analyzer]\n",
                "t.conf:1: [Analyzer]: section kind must match "
                "[a-z0-9_.-]+");
    parse_fails("[detector \"Vlan Hop\"]\n",
                "t.conf:1: [detector \"Vlan Hop\"]: name must match "
                "[a-z0-9_.-]+");
    parse_fails("[analyzer]\n"
                "HostId = hv1\n",
                "t.conf:2: HostId: key must match [a-z0-9_.-]+");
}

/* A section may appear once per file, with or without keys. */
static void
test_duplicate_sections(void **statep)
{
    parse_fails("[sink \"jsonl\"]\n"
                "[detector \"x\"]\n"
                "[sink \"jsonl\"]\n",
                "t.conf:3: [sink \"jsonl\"]: duplicate section (first on "
                "line 1)");
    parse_fails("[sink \"jsonl\"]\n"
                "path = a\n"
                "[sink \"jsonl\"]\n",
                "t.conf:3: [sink \"jsonl\"]: duplicate section (first on "
                "line 1)");
    parse_fails("[sink \"jsonl\"]\n"
                "[sink \"jsonl\"]\n"
                "path = b\n",
                "t.conf:2: [sink \"jsonl\"]: duplicate section (first on "
                "line 1)");
}

/* A configuration whose second line, "motd = xxx...", is 'length'
 * characters long (newline excluded). */
static char *
long_line_conf(size_t length)
{
    size_t n = length - strlen("motd = ");
    char *value = xmalloc(n + 1);
    char *text;

    memset(value, 'x', n);
    value[n] = '\0';
    text = xasprintf("[analyzer]\nmotd = %s\nhost_id = hv1\n", value);
    free(value);
    return text;
}

static void
test_long_lines(void **statep)
{
    enum { LIMIT = 4094 };      /* Longest line, newline excluded. */
    struct vnm_config *config;
    const char *value;
    char *text;

    /* A line of exactly LIMIT characters is fine... */
    text = long_line_conf(LIMIT);
    config = parse_ok(text);
    free(text);
    assert_null(vnm_conf_get_string(section(config, "analyzer", NULL),
                                    "motd", NULL, &value));
    assert_int_equal(strlen(value), LIMIT - strlen("motd = "));
    assert_null(vnm_conf_get_string(section(config, "analyzer", NULL),
                                    "host_id", NULL, &value));
    assert_string_equal(value, "hv1");
    vnm_config_destroy(config);

    /* ...one more is not. */
    text = long_line_conf(LIMIT + 1);
    parse_fails(text, "t.conf:2: line longer than 4094 bytes");
    free(text);
    text = long_line_conf(3 * LIMIT);
    parse_fails(text, "t.conf:2: line longer than 4094 bytes");
    free(text);
}

static void
test_load_file(void **statep)
{
    static const char text[] =
        "# written by test-conf\n"              /* 1 */
        "[analyzer]\n"                          /* 2 */
        "host_id = hv7\n"                       /* 3 */
        "\n"                                    /* 4 */
        "[sink \"jsonl\"]\n"                    /* 5 */
        "[detector \"vlan-hop\"]\n"             /* 6 */
        "max_tags = 1\n"                        /* 7 */
        "max_tag = 2\n"                         /* 8 */
        "window = soon\n";                      /* 9 */
    char path[] = "/tmp/vnm-test-conf-XXXXXX";
    struct vnm_config *config;
    struct vnm_conf *d;
    char *expected;
    const char *s;
    char *error;
    int64_t i;
    FILE *f;
    int fd;

    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);

    error = vnm_config_load(path, &config);
    unlink(path);
    assert_null(error);
    assert_string_equal(vnm_config_file_name(config), path);
    assert_null(vnm_conf_get_string(section(config, "analyzer", NULL),
                                    "host_id", NULL, &s));
    assert_string_equal(s, "hv7");
    assert_int_equal(vnm_conf_line(section(config, "sink", "jsonl")), 5);
    assert_string_equal(vnm_conf_file(section(config, "sink", "jsonl")),
                        path);

    d = section(config, "detector", "vlan-hop");
    assert_null(vnm_conf_get_int(d, "max_tags", 1, 0, 4, &i));
    expected = xasprintf("%s:9: window: \"soon\" is not a duration (e.g. "
                         "500ms, 10s, 5m, 2h, 7d)", path);
    check_error(vnm_conf_get_duration(d, "window", 0, 0, 1000, &i), expected);
    free(expected);
    expected = xasprintf("%s:8: max_tag: unknown key in [detector "
                         "\"vlan-hop\"]", path);
    check_error(vnm_conf_check_unused(d), expected);
    free(expected);
    vnm_config_destroy(config);
}

static void
test_load_errors(void **statep)
{
    struct vnm_config *config = (struct vnm_config *) &config;
    char path[] = "/tmp/vnm-test-conf-XXXXXX";
    char *expected;
    char *error;
    int fd;

    error = vnm_config_load("/nonexistent/vnmon/analyzer.conf", &config);
    assert_null(config);
    check_error(error, "/nonexistent/vnmon/analyzer.conf: cannot open "
                "configuration (No such file or directory)");

    /* Parse errors in a file name the file. */
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "[analyzer]\nx = 1\nx = 2\n", 23), 23);
    assert_int_equal(close(fd), 0);
    error = vnm_config_load(path, &config);
    unlink(path);
    assert_null(config);
    expected = xasprintf("%s:3: x: duplicate key (first on line 2)", path);
    check_error(error, expected);
    free(expected);
}

/* Runs the tests; the exit status is the number of failures. */
int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_values),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_section_header_lines),
        cmocka_unit_test(test_check_sections),
        cmocka_unit_test(test_getter_errors),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_duplicate_sections),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_load_errors),
    };

    return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}

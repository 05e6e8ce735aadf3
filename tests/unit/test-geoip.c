/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the "geoip" enricher: enrichers/enrich-geoip.c is compiled
 * into this binary and driven through its 'vnm_plugin' descriptor on the
 * fake host (tests/unit/fake-host.c), against small MaxMind DB files that
 * tests/data/mkmmdb.pl builds (with Debian's libmaxmind-db-writer-perl)
 * into a fresh directory under $TMPDIR (or /tmp) before the tests run.
 *
 * The script is found through $srcdir, which automake's test harness sets,
 * else through the source tree this binary was built from.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Where mkmmdb.pl wrote the databases. */
static char *db_dir;

/* Files of 'db_dir' that mkmmdb.pl writes. */
static const char *const db_files[] = {
    "country.mmdb", "asn.mmdb", "country-v4.mmdb", "not-a-db.mmdb",
};

/* Runs tests/data/mkmmdb.pl into a fresh directory. */
static int
make_dbs(void **state)
{
    const char *srcdir = getenv("srcdir");
    const char *tmp = getenv("TMPDIR");
    char *script;
    int status;
    pid_t pid;

    (void) state;
    script = xasprintf("%s/tests/data/mkmmdb.pl",
                       srcdir && *srcdir ? srcdir : VNM_ABS_TOP_SRCDIR);
    db_dir = xasprintf("%s/test-geoip.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(db_dir)) {
        fprintf(stderr, "%s: cannot create (%s)\n", db_dir, strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        execlp("perl", "perl", script, db_dir, (char *) NULL);
        fprintf(stderr, "perl: cannot run (%s)\n", strerror(errno));
        _exit(127);
    }
    free(script);
    if (pid < 0 || waitpid(pid, &status, 0) != pid
        || !WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "tests/data/mkmmdb.pl failed: it needs Debian's "
                "libmaxmind-db-writer-perl (tools/install-deps.sh)\n");
        return -1;
    }
    return 0;
}

static int
remove_dbs(void **state)
{
    (void) state;
    for (size_t i = 0; i < VNM_ARRAY_SIZE(db_files); i++) {
        char *path = xasprintf("%s/%s", db_dir, db_files[i]);

        unlink(path);
        free(path);
    }
    rmdir(db_dir);
    free(db_dir);
    return 0;
}

/* A fake host whose [enricher "geoip"] section holds 'keys', in which
 * "@" stands for the database directory. */
static struct fake_host *
geoip_host(const char *keys)
{
    char *text = xasprintf("[enricher \"geoip\"]\n%s", keys);
    struct fake_host *fh;
    char *at;

    while ((at = strchr(text, '@'))) {
        char *expanded;

        *at = '\0';
        expanded = xasprintf("%s%s%s", text, db_dir, at + 1);
        free(text);
        text = expanded;
    }
    fh = fake_host_create("enricher", "geoip", text);
    free(text);
    return fh;
}

/* Starts the enricher with 'keys' (see geoip_host()). */
static struct fake_host *
geoip_start(const char *keys, void **statep)
{
    struct fake_host *fh = geoip_host(keys);
    char *error;

    *statep = NULL;
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, statep), 0);
    assert_non_null(*statep);
    error = fake_host_check_unused(fh);
    assert_null(error);
    return fh;
}

static const char both_dbs[] =
    "country_db = @/country.mmdb\n"
    "asn_db = @/asn.mmdb\n";

static struct vnm_addr
addr(const char *text)
{
    struct vnm_addr a;

    memset(&a, 0, sizeof a);
    if (strchr(text, ':')) {
        a.family = 6;
        assert_int_equal(inet_pton(AF_INET6, text, a.a), 1);
    } else {
        a.family = 4;
        assert_int_equal(inet_pton(AF_INET, text, a.a), 1);
    }
    return a;
}

/* A UDP flow of class 'class' from 'src' to 'dst'. */
static struct vnm_flow
flow(enum vnm_flow_class class, const char *src, const char *dst)
{
    struct vnm_flow f;

    memset(&f, 0, sizeof f);
    f.id = 1;
    f.class = class;
    f.ip_proto = 17;
    f.src.ip = addr(src);
    f.src.port = 40000;
    f.src.packets = 1;
    f.src.bytes = 100;
    f.dst.ip = addr(dst);
    f.dst.port = 53;
    f.eth_type = f.src.ip.family == 4 ? 0x0800 : 0x86dd;
    return f;
}

/* The value of label 'key' of 'f', or null. */
static const char *
label(const struct vnm_flow *f, const char *key)
{
    for (uint32_t i = 0; i < f->labels.n; i++) {
        if (!strcmp(f->labels.label[i].key, key)) {
            return f->labels.label[i].value;
        }
    }
    return NULL;
}

/* Runs the enricher on 'f' as the agent does. */
static void
enrich(void *state, struct vnm_flow *f)
{
    vnm_plugin.enricher->enrich(state, f, &f->labels);
}

static void
test_descriptor(void **state)
{
    (void) state;
    assert_int_equal(vnm_plugin.kind, VNM_PLUGIN_ENRICHER);
    assert_string_equal(vnm_plugin.name, "geoip");
    assert_non_null(vnm_plugin.enricher);
    assert_non_null(vnm_plugin.enricher->enrich);
    assert_null(vnm_plugin.detector);
    assert_null(vnm_plugin.sink);
}

/* A VM talking to 198.51.100.7: the responder is the peer. */
static void
test_ipv4_vm_external(void **state)
{
    struct fake_host *fh = geoip_start(both_dbs, state);
    struct vnm_flow f = flow(VNM_FLOW_VM_EXTERNAL, "10.0.0.11",
                             "198.51.100.7");

    enrich(*state, &f);
    assert_int_equal(f.labels.n, 3);
    assert_string_equal(label(&f, "peer_country"), "FR");
    assert_string_equal(label(&f, "peer_asn"), "64500");
    assert_string_equal(label(&f, "peer_org"), "Example Org");
    assert_int_equal(fake_host_counter(fh, "lookups"), 1);
    assert_int_equal(fake_host_counter(fh, "country_hits"), 1);
    assert_int_equal(fake_host_counter(fh, "asn_hits"), 1);
    assert_int_equal(fake_host_counter(fh, "misses"), 0);
    assert_true(fake_host_log_contains(fh, "GeoLite2-Country"));
    vnm_plugin.destroy(*state);
    fake_host_destroy(fh);
}

/* 203.0.113.9 opening a connection to a VM: the initiator is the peer. */
static void
test_ipv4_external_vm(void **state)
{
    struct fake_host *fh = geoip_start(both_dbs, state);
    struct vnm_flow f = flow(VNM_FLOW_EXTERNAL_VM, "203.0.113.9",
                             "10.0.0.11");

    enrich(*state, &f);
    assert_string_equal(label(&f, "peer_country"), "JP");
    assert_string_equal(label(&f, "peer_asn"), "64501");
    assert_string_equal(label(&f, "peer_org"), "Example Japan KK");
    vnm_plugin.destroy(*state);
    fake_host_destroy(fh);
}

static void
test_ipv6(void **state)
{
    struct fake_host *fh = geoip_start(both_dbs, state);
    struct vnm_flow f = flow(VNM_FLOW_VM_EXTERNAL, "fd00::11",
                             "2001:db8:1::5");
    struct vnm_flow g = flow(VNM_FLOW_EXTERNAL_VM, "2001:db8:2::99",
                             "fd00::11");

    enrich(*state, &f);
    assert_int_equal(f.labels.n, 3);
    assert_string_equal(label(&f, "peer_country"), "DE");
    assert_string_equal(label(&f, "peer_asn"), "64502");
    assert_string_equal(label(&f, "peer_org"), "Example IPv6 GmbH");

    /* Only a registered country, and no AS. */
    enrich(*state, &g);
    assert_int_equal(g.labels.n, 1);
    assert_string_equal(label(&g, "peer_country"), "NL");
    assert_int_equal(fake_host_counter(fh, "lookups"), 2);
    assert_int_equal(fake_host_counter(fh, "country_hits"), 2);
    assert_int_equal(fake_host_counter(fh, "asn_hits"), 1);
    vnm_plugin.destroy(*state);
    fake_host_destroy(fh);
}

/* Networks in one database only; an organisation that needs escaping in
 * JSON (the flow codec's job) comes through as it is. */
static void
test_partial_hits(void **state)
{
    struct fake_host *fh = geoip_start(both_dbs, state);
    struct vnm_flow f = flow(VNM_FLOW_VM_EXTERNAL, "10.0.0.11",
                             "192.0.2.1");
    struct vnm_flow g = flow(VNM_FLOW_VM_EXTERNAL, "10.0.0.11",
                             "192.0.2.200");

    enrich(*state, &f);
    assert_int_equal(f.labels.n, 1);
    assert_string_equal(label(&f, "peer_country"), "US");
    assert_null(label(&f, "peer_asn"));

    enrich(*state, &g);
    assert_int_equal(g.labels.n, 3);
    assert_string_equal(label(&g, "peer_country"), "US");
    assert_string_equal(label(&g, "peer_asn"), "64503");
    assert_string_equal(label(&g, "peer_org"), "Example \"Quoted\" \\ Org");
    vnm_plugin.destroy(*state);
    fake_host_destroy(fh);
}

/* A public address in no database: no label, one miss. */
static void
test_miss(void **state)
{
    struct fake_host *fh = geoip_start(both_dbs, state);
    struct vnm_flow f = flow(VNM_FLOW_VM_EXTERNAL, "10.0.0.11", "8.8.8.8");
    struct vnm_flow g = flow(VNM_FLOW_VM_EXTERNAL, "fd00::11",
                             "2001:db8:ffff::1");

    enrich(*state, &f);
    enrich(*state, &g);
    assert_int_equal(f.labels.n, 0);
    assert_int_equal(g.labels.n, 0);
    assert_int_equal(fake_host_counter(fh, "lookups"), 2);
    assert_int_equal(fake_host_counter(fh, "misses"), 2);
    assert_int_equal(fake_host_counter(fh, "country_hits"), 0);
    assert_int_equal(fake_host_counter(fh, "lookup_errors"), 0);
    vnm_plugin.destroy(*state);
    fake_host_destroy(fh);
}

/* Private peers are not looked up, though the test databases hold
 * 10.0.0.0/8; nor are flows that have no external side. */
static void
test_private_untouched(void **state)
{
    static const char *const private[] = {
        "10.1.2.3", "172.16.0.1", "172.31.255.1", "192.168.1.1",
        "100.64.0.1", "127.0.0.1", "169.254.1.1", "224.0.0.251",
        "255.255.255.255", "0.0.0.0", "fd00::5", "fe80::1", "ff02::1",
        "::1", "::", "::ffff:198.51.100.7",
    };
    struct fake_host *fh = geoip_start(both_dbs, state);
    enum vnm_flow_class others[] = {
        VNM_FLOW_UNKNOWN, VNM_FLOW_VM_VM_SAME_TENANT,
        VNM_FLOW_VM_VM_CROSS_TENANT, VNM_FLOW_VM_HOST, VNM_FLOW_HOST_VM,
        VNM_FLOW_UNDERLAY,
    };

    for (size_t i = 0; i < VNM_ARRAY_SIZE(private); i++) {
        const char *vm = strchr(private[i], ':') ? "fd00::11" : "10.0.0.11";
        struct vnm_flow f = flow(VNM_FLOW_VM_EXTERNAL, vm, private[i]);
        struct vnm_flow g = flow(VNM_FLOW_EXTERNAL_VM, private[i], vm);

        enrich(*state, &f);
        enrich(*state, &g);
        if (f.labels.n || g.labels.n) {
            fail_msg("%s was looked up", private[i]);
        }
    }
    assert_int_equal(fake_host_counter(fh, "not_public"),
                     2 * VNM_ARRAY_SIZE(private));

    /* A non-IP flow (ARP) has no address to look up, and is not counted. */
    {
        struct vnm_flow f = flow(VNM_FLOW_VM_EXTERNAL, "10.0.0.11",
                                 "198.51.100.7");

        memset(&f.dst.ip, 0, sizeof f.dst.ip);
        memset(&f.src.ip, 0, sizeof f.src.ip);
        f.eth_type = 0x0806;
        enrich(*state, &f);
        assert_int_equal(f.labels.n, 0);
        assert_int_equal(fake_host_counter(fh, "not_public"),
                         2 * VNM_ARRAY_SIZE(private));
    }

    /* Public addresses, but no side of the flow is external. */
    for (size_t i = 0; i < VNM_ARRAY_SIZE(others); i++) {
        struct vnm_flow f = flow(others[i], "198.51.100.7", "203.0.113.9");

        enrich(*state, &f);
        assert_int_equal(f.labels.n, 0);
    }
    /* 172.32/12 is public: the 172.16/12 test is exact. */
    {
        struct vnm_flow f = flow(VNM_FLOW_VM_EXTERNAL, "10.0.0.11",
                                 "172.32.0.1");

        enrich(*state, &f);
        assert_int_equal(f.labels.n, 0);
        assert_int_equal(fake_host_counter(fh, "misses"), 1);
    }
    assert_int_equal(fake_host_counter(fh, "lookups"), 1);
    vnm_plugin.destroy(*state);
    fake_host_destroy(fh);
}

/* Labels already present are kept; when the record runs out of room the
 * rest is counted, not written. */
static void
test_labels_full(void **state)
{
    struct fake_host *fh = geoip_start(both_dbs, state);
    struct vnm_flow f = flow(VNM_FLOW_VM_EXTERNAL, "10.0.0.11",
                             "198.51.100.7");

    for (int i = 0; i < VNM_MAX_LABELS - 1; i++) {
        vnm_labels_add(&f.labels, "other", "x");
    }
    enrich(*state, &f);
    assert_int_equal(f.labels.n, VNM_MAX_LABELS);
    assert_string_equal(f.labels.label[0].key, "other");
    assert_string_equal(label(&f, "peer_country"), "FR");
    assert_null(label(&f, "peer_asn"));
    assert_int_equal(fake_host_counter(fh, "labels_full"), 1);
    vnm_plugin.destroy(*state);
    fake_host_destroy(fh);
}

/* An organisation longer than a label is cut on a character boundary. */
static void
test_utf8_truncation(void **state)
{
    struct fake_host *fh = geoip_start(both_dbs, state);
    struct vnm_flow f = flow(VNM_FLOW_VM_EXTERNAL, "10.0.0.11",
                             "192.0.2.70");
    const char *org;

    enrich(*state, &f);
    assert_string_equal(label(&f, "peer_asn"), "64504");
    org = label(&f, "peer_org");
    assert_non_null(org);
    /* 31 x U+00E9 ("\xc3\xa9") = 62 bytes: the 32nd would need 64. */
    assert_int_equal(strlen(org), 62);
    for (size_t i = 0; i < 62; i += 2) {
        assert_int_equal((unsigned char) org[i], 0xc3);
        assert_int_equal((unsigned char) org[i + 1], 0xa9);
    }
    vnm_plugin.destroy(*state);
    fake_host_destroy(fh);
}

/* One database only; an IPv4-only tree treats IPv6 lookups as misses. */
static void
test_one_db(void **state)
{
    struct fake_host *fh = geoip_start("asn_db = @/asn.mmdb\n", state);
    struct vnm_flow f = flow(VNM_FLOW_VM_EXTERNAL, "10.0.0.11",
                             "198.51.100.7");

    enrich(*state, &f);
    assert_int_equal(f.labels.n, 2);
    assert_null(label(&f, "peer_country"));
    assert_string_equal(label(&f, "peer_asn"), "64500");
    vnm_plugin.destroy(*state);
    fake_host_destroy(fh);

    fh = geoip_start("country_db = @/country-v4.mmdb\n", state);
    f = flow(VNM_FLOW_VM_EXTERNAL, "10.0.0.11", "198.51.100.7");
    enrich(*state, &f);
    assert_string_equal(label(&f, "peer_country"), "FR");
    f = flow(VNM_FLOW_VM_EXTERNAL, "fd00::11", "2001:db8:1::5");
    enrich(*state, &f);
    assert_int_equal(f.labels.n, 0);
    assert_int_equal(fake_host_counter(fh, "misses"), 1);
    assert_int_equal(fake_host_counter(fh, "lookup_errors"), 0);
    vnm_plugin.destroy(*state);
    fake_host_destroy(fh);
}

/* Runs init() with 'keys', which must fail with 'error' after logging an
 * ERR line containing each of the null-terminated 'words' ("@" = the
 * database directory, as in geoip_host()). */
static void
expect_init_error(const char *keys, int error, const char *const *words)
{
    struct fake_host *fh = geoip_host(keys);
    void *state = NULL;

    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), error);
    assert_null(state);
    for (; *words; words++) {
        char *word = (!strcmp(*words, "@")
                      ? xstrdup(db_dir) : xstrdup(*words));

        if (!fake_host_log_contains(fh, word)) {
            fail_msg("log lacks \"%s\":\n%s", word, fh->log);
        }
        free(word);
    }
    assert_true(fake_host_log_contains(fh, "ERR|"));
    fake_host_destroy(fh);
}

static void
test_config_errors(void **state)
{
    (void) state;
    expect_init_error("country_db = @/missing.mmdb\n", ENOENT,
                      (const char *const[]) { "country_db", "@",
                                              "missing.mmdb",
                                              "No such file", NULL });
    expect_init_error("country_db = @/country.mmdb\n"
                      "asn_db = @/not-a-db.mmdb\n", EINVAL,
                      (const char *const[]) { "asn_db", "not-a-db.mmdb",
                                              "not a usable MaxMind DB",
                                              NULL });
    /* The wrong kind of database. */
    expect_init_error("asn_db = @/country.mmdb\n", EINVAL,
                      (const char *const[]) { "asn_db", "country.mmdb",
                                              "GeoLite2-Country",
                                              "not an ASN", NULL });
    expect_init_error("country_db = @/asn.mmdb\n", EINVAL,
                      (const char *const[]) { "country_db", "GeoLite2-ASN",
                                              NULL });
    expect_init_error("country_db = \"\"\n", EINVAL,
                      (const char *const[]) { "country_db", "empty", NULL });
    expect_init_error("", EINVAL,
                      (const char *const[]) { "neither country_db nor "
                                              "asn_db", NULL });
}

/* A key the plugin does not know is left unused: the host refuses it. */
static void
test_unknown_key(void **state)
{
    struct fake_host *fh = geoip_host("country_db = @/country.mmdb\n"
                                      "city_db = @/country.mmdb\n");
    void *st = NULL;
    char *error;

    (void) state;
    assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &st), 0);
    error = fake_host_check_unused(fh);
    assert_non_null(error);
    assert_non_null(strstr(error, "test.conf:3: city_db"));
    free(error);
    vnm_plugin.destroy(st);
    fake_host_destroy(fh);
}

/* Per-record cost: a hit in both databases, on the fake host (whose
 * count() is a linear search too). */
static void
test_speed(void **state)
{
    struct fake_host *fh = geoip_start(both_dbs, state);
    struct vnm_flow f = flow(VNM_FLOW_VM_EXTERNAL, "10.0.0.11",
                             "198.51.100.7");
    const int n = 200000;
    struct timespec t0, t1;
    double ns;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        f.dst.ip.a[3] = (uint8_t) i;
        f.labels.n = 0;
        enrich(*state, &f);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;
    printf("geoip: %.0f ns per enriched record (country + ASN hit)\n", ns);
    assert_int_equal(fake_host_counter(fh, "country_hits"), n);
    assert_int_equal(fake_host_counter(fh, "asn_hits"), n);
    /* Generous, for sanitizer builds on a loaded machine. */
    assert_true(ns < 50000);
    vnm_plugin.destroy(*state);
    fake_host_destroy(fh);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_ipv4_vm_external),
        cmocka_unit_test(test_ipv4_external_vm),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_partial_hits),
        cmocka_unit_test(test_miss),
        cmocka_unit_test(test_private_untouched),
        cmocka_unit_test(test_labels_full),
        cmocka_unit_test(test_utf8_truncation),
        cmocka_unit_test(test_one_db),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_speed),
    };

    return cmocka_run_group_tests(tests, make_dbs, remove_dbs);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the delivery spool (analyzer/spool.c), on a real directory
 * under $TMPDIR (or /tmp), with a fake sink deliver() that records what it
 * gets and answers what the test asks.  Records are built with
 * analyzer/alert-record.c, as the incident store builds them.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "analyzer/alert-record.h"
#include "analyzer/spool.h"
#include "lib/counter.h"
#include "lib/util.h"
#include "vnmon/alert.h"

#define MAX_ALERTS 16

/* The fake sink and the test's alerts. */
struct fixture {
    char *base;                 /* Spool base directory. */
    char *dir;                  /* base/sink-1, the spool of "sink-1". */
    struct spool_options opts;
    struct spool *spool;

    int answer;                 /* What deliver() returns. */
    size_t n_calls;             /* deliver() calls. */
    char *got[64];              /* Ids delivered (answer 0), in order. */
    size_t n_got;

    char *records[MAX_ALERTS];  /* alerts[i].json. */
    struct vnm_alert alerts[MAX_ALERTS];
    char ids[MAX_ALERTS][16];
};

static int
fake_deliver(void *f_, const struct vnm_alert *alert)
{
    struct fixture *f = f_;

    f->n_calls++;
    assert_non_null(alert->json);
    if (!f->answer) {
        assert_true(f->n_got < sizeof f->got / sizeof *f->got);
        f->got[f->n_got++] = xstrdup(alert->id);
    }
    return f->answer;
}

static uint64_t
counter(const char *name)
{
    for (struct vnm_counter *c = vnm_counter_first(); c; c = c->next) {
        if (!strcmp(c->name, name)) {
            return vnm_counter_read(c);
        }
    }
    fail_msg("no counter %s", name);
    return 0;
}

static int
setup(void **statep)
{
    struct fixture *f = xzalloc(sizeof *f);
    const char *tmp = getenv("TMPDIR");

    f->base = xasprintf("%s/test-spool.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->base));
    f->dir = xasprintf("%s/sink-1", f->base);
    f->opts = (struct spool_options) {
        .dir = f->base, .max = 100, .retry_min_ms = 1000,
        .retry_max_ms = 4000,
    };
    for (size_t i = 0; i < MAX_ALERTS; i++) {
        struct vnm_alert *a = &f->alerts[i];
        struct alert_record_state st = {
            .id = f->ids[i], .state = VNM_ALERT_OPEN,
            .severity = VNM_SEV_HIGH, .first_ms = 1000, .last_ms = 1000,
            .count = 1,
        };

        snprintf(f->ids[i], sizeof f->ids[i], "inc-%zu", i + 1);
        *a = (struct vnm_alert) {
            .kind = "port-scan", .severity = VNM_SEV_HIGH, .key = "k",
            .summary = "t1vm1 probed 51 ports", .detector = "scan",
            .tenant = "tenant1", .id = f->ids[i],
        };
        f->records[i] = alert_record_build(a, &st);
        a->json = f->records[i];
    }
    *statep = f;
    return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void
clear_got(struct fixture *f)
{
    for (size_t i = 0; i < f->n_got; i++) {
        free(f->got[i]);
    }
    f->n_got = 0;
    f->n_calls = 0;
}

static int
teardown(void **statep)
{
    struct fixture *f = *statep;

    spool_destroy(f->spool);
    assert_int_equal(nftw(f->base, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
    clear_got(f);
    for (size_t i = 0; i < MAX_ALERTS; i++) {
        free(f->records[i]);
    }
    free(f->dir);
    free(f->base);
    free(f);
    return 0;
}

/* (Re)opens the spool of "sink-1". */
static void
open_spool(struct fixture *f)
{
    char *error;

    spool_destroy(f->spool);
    f->spool = NULL;
    error = spool_create(&f->opts, "sink-1", fake_deliver, f, &f->spool);
    if (error) {
        fail_msg("%s", error);
    }
}

/* The content of file 'name' of directory 'dir', or null if absent. */
static char *
read_text(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *file = fopen(path, "r");
    char buf[8192];
    size_t n;

    free(path);
    if (!file) {
        return NULL;
    }
    n = fread(buf, 1, sizeof buf - 1, file);
    fclose(file);
    buf[n] = '\0';
    return xstrdup(buf);
}

/* The number of entries of 'dir' other than "." and "..". */
static size_t
count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d))) {
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    }
    closedir(d);
    return n;
}

/* Checks that file 'name' of the spool holds record 'i' and a newline. */
static void
assert_file(struct fixture *f, const char *name, size_t i)
{
    char *text = read_text(f->dir, name);
    char *expected = xasprintf("%s\n", f->records[i]);

    assert_non_null(text);
    assert_string_equal(text, expected);
    free(expected);
    free(text);
}

/* Checks that the ids delivered are those of alerts 'first'...'last'. */
static void
assert_got(struct fixture *f, size_t first, size_t last)
{
    assert_int_equal(f->n_got, last - first + 1);
    for (size_t i = first; i <= last; i++) {
        assert_string_equal(f->got[i - first], f->ids[i]);
    }
}

/* Spools alerts 0, 1 and 2 for a sink that is down, and closes the
 * spool, as a stopped or killed analyzer leaves it. */
static void
spool_three_and_stop(struct fixture *f)
{
    open_spool(f);
    f->answer = EAGAIN;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(spool_submit(f->spool, &f->alerts[i], 0), EAGAIN);
    }
    spool_destroy(f->spool);
    f->spool = NULL;
}

/* A sink that takes the alert: nothing on disk. */
static void
test_direct(void **statep)
{
    struct fixture *f = *statep;

    open_spool(f);
    assert_int_equal(spool_submit(f->spool, &f->alerts[0], 0), 0);
    assert_got(f, 0, 0);
    assert_int_equal(spool_pending(f->spool), 0);
    assert_int_equal(count_entries(f->dir), 0);

    /* A permanent failure is not spooled. */
    f->answer = EINVAL;
    assert_int_equal(spool_submit(f->spool, &f->alerts[1], 0), EINVAL);
    assert_int_equal(spool_pending(f->spool), 0);
    assert_int_equal(count_entries(f->dir), 0);
}

/* EAGAIN spools the alert in a file of its own; later alerts go behind it
 * without a call to deliver(), and are delivered in order. */
static void
test_spool_in_order(void **statep)
{
    struct fixture *f = *statep;
    uint64_t spooled = counter("alerts_spooled");
    uint64_t redelivered = counter("alerts_redelivered");

    open_spool(f);
    f->answer = EAGAIN;
    assert_int_equal(spool_submit(f->spool, &f->alerts[0], 0), EAGAIN);
    assert_int_equal(f->n_calls, 1);
    f->answer = 0;              /* The receiver is back... */
    assert_int_equal(spool_submit(f->spool, &f->alerts[1], 10), EAGAIN);
    assert_int_equal(spool_submit(f->spool, &f->alerts[2], 20), EAGAIN);
    assert_int_equal(f->n_calls, 1); /* ...but the backlog comes first. */
    assert_int_equal(spool_pending(f->spool), 3);
    assert_int_equal(counter("alerts_spooled") - spooled, 3);
    assert_int_equal(count_entries(f->dir), 3);         /* No temp file. */
    assert_file(f, "00000000000000000001.json", 0);
    assert_file(f, "00000000000000000002.json", 1);
    assert_file(f, "00000000000000000003.json", 2);

    spool_run(f->spool, 999, 1000);     /* Not yet due. */
    assert_int_equal(f->n_calls, 1);
    spool_run(f->spool, 1000, 1000);
    assert_got(f, 0, 2);
    assert_int_equal(spool_pending(f->spool), 0);
    assert_int_equal(count_entries(f->dir), 0);
    assert_int_equal(counter("alerts_redelivered") - redelivered, 3);

    /* No backlog: delivered directly again. */
    assert_int_equal(spool_submit(f->spool, &f->alerts[3], 2000), 0);
    assert_got(f, 0, 3);
}

/* The retry delay doubles from retry_min to retry_max and is reset by a
 * success. */
static void
test_backoff(void **statep)
{
    static const uint64_t retries[] = { 1000, 3000, 7000, 11000, 15000 };
    struct fixture *f = *statep;

    open_spool(f);
    f->answer = EAGAIN;
    assert_int_equal(spool_submit(f->spool, &f->alerts[0], 0), EAGAIN);
    for (size_t i = 0; i < sizeof retries / sizeof *retries; i++) {
        assert_int_equal(spool_next_retry(f->spool), retries[i]);
        spool_run(f->spool, retries[i] - 1, 1000);
        assert_int_equal(f->n_calls, i + 1);
        spool_run(f->spool, retries[i], 1000);
        assert_int_equal(f->n_calls, i + 2);
    }
    assert_int_equal(spool_next_retry(f->spool), 19000);
    f->answer = 0;
    spool_run(f->spool, 19000, 1000);
    assert_got(f, 0, 0);

    f->answer = EAGAIN;
    assert_int_equal(spool_submit(f->spool, &f->alerts[1], 30000), EAGAIN);
    assert_int_equal(spool_next_retry(f->spool), 31000);
}

/* A new spool on the same directory (a restart, or after a SIGKILL) finds
 * what was spooled, delivers each once, in order, and numbers on. */
static void
test_restart(void **statep)
{
    struct fixture *f = *statep;

    spool_three_and_stop(f);

    f->answer = 0;
    clear_got(f);
    open_spool(f);
    assert_int_equal(spool_pending(f->spool), 3);
    assert_int_equal(spool_submit(f->spool, &f->alerts[3], 0), EAGAIN);
    assert_file(f, "00000000000000000004.json", 3);
    assert_int_equal(f->n_calls, 0);
    spool_run(f->spool, 0, 1000);       /* Due at once. */
    assert_got(f, 0, 3);

    open_spool(f);
    assert_int_equal(spool_pending(f->spool), 0);
    spool_run(f->spool, 0, 1000);
    assert_got(f, 0, 3);                /* Nothing twice. */
    assert_int_equal(count_entries(f->dir), 0);
}

/* Beyond spool_max, the oldest is dropped and counted. */
static void
test_max(void **statep)
{
    struct fixture *f = *statep;
    uint64_t dropped = counter("alerts_spool_dropped");

    f->opts.max = 2;
    open_spool(f);
    f->answer = EAGAIN;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(spool_submit(f->spool, &f->alerts[i], 0), EAGAIN);
    }
    assert_int_equal(spool_pending(f->spool), 2);
    assert_int_equal(counter("alerts_spool_dropped") - dropped, 2);
    assert_int_equal(count_entries(f->dir), 2);
    assert_file(f, "00000000000000000003.json", 2);
    assert_file(f, "00000000000000000004.json", 3);
    f->answer = 0;
    spool_run(f->spool, 1000, 1000);
    assert_got(f, 2, 3);
}

/* A file that is not a record, or that the sink refuses for good, goes to
 * failed/; the others are delivered. */
static void
test_failed(void **statep)
{
    struct fixture *f = *statep;
    uint64_t failed = counter("alerts_spool_failed");
    char *path, *text;
    FILE *file;

    spool_three_and_stop(f);
    path = xasprintf("%s/00000000000000000002.json", f->dir);
    file = fopen(path, "w");
    assert_non_null(file);
    fputs("{\"not\": \"a record\"}\n", file);
    fclose(file);
    free(path);

    f->answer = 0;
    clear_got(f);
    open_spool(f);
    spool_run(f->spool, 0, 1000);
    assert_int_equal(f->n_got, 2);
    assert_string_equal(f->got[0], "inc-1");
    assert_string_equal(f->got[1], "inc-3");
    assert_int_equal(spool_pending(f->spool), 0);
    assert_int_equal(counter("alerts_spool_failed") - failed, 1);
    text = read_text(f->dir, "failed/00000000000000000002.json");
    assert_non_null(text);
    assert_string_equal(text, "{\"not\": \"a record\"}\n");
    free(text);
    assert_int_equal(count_entries(f->dir), 1); /* failed/ only. */

    /* Refused for good on retry. */
    f->answer = EAGAIN;
    assert_int_equal(spool_submit(f->spool, &f->alerts[3], 0), EAGAIN);
    f->answer = EINVAL;
    spool_run(f->spool, 1000, 1000);
    assert_int_equal(spool_pending(f->spool), 0);
    assert_int_equal(counter("alerts_spool_failed") - failed, 2);
    assert_file(f, "failed/00000000000000000004.json", 3);

    /* Numbering goes on past failed/ after a restart. */
    open_spool(f);
    f->answer = EAGAIN;
    assert_int_equal(spool_submit(f->spool, &f->alerts[4], 0), EAGAIN);
    assert_file(f, "00000000000000000005.json", 4);
}

/* Files the operator puts back (from failed/) into an idle spool are
 * found within RESCAN_MS and delivered in number order, without a
 * restart; with a backlog they wait for it to be done. */
static void
test_put_back(void **statep)
{
    struct fixture *f = *statep;
    uint64_t redelivered = counter("alerts_redelivered");
    char *from, *to;

    /* Three deliveries the sink refuses for good: all in failed/. */
    f->answer = EINVAL;
    open_spool(f);
    for (int i = 0; i < 3; i++) {
        f->answer = EAGAIN;
        assert_int_equal(spool_submit(f->spool, &f->alerts[i], 0), EAGAIN);
    }
    f->answer = EINVAL;
    spool_run(f->spool, 1000, 1000);
    spool_run(f->spool, 10000, 1000);
    spool_run(f->spool, 20000, 1000);
    assert_int_equal(spool_pending(f->spool), 0);
    assert_int_equal(count_entries(f->dir), 1); /* failed/ only. */

    /* Two put back, newest first: nothing before the next look... */
    for (int seq = 3; seq >= 2; seq--) {
        from = xasprintf("%s/failed/%020d.json", f->dir, seq);
        to = xasprintf("%s/%020d.json", f->dir, seq);
        assert_int_equal(rename(from, to), 0);
        free(from);
        free(to);
    }
    f->answer = 0;
    clear_got(f);
    spool_run(f->spool, 20001, 1000);
    assert_int_equal(f->n_got, 0);
    /* ...then both, in number order. */
    spool_run(f->spool, 25000, 1000);
    assert_int_equal(f->n_got, 2);
    assert_string_equal(f->got[0], "inc-2");
    assert_string_equal(f->got[1], "inc-3");
    assert_int_equal(spool_pending(f->spool), 0);
    assert_int_equal(counter("alerts_redelivered") - redelivered, 2);
    assert_int_equal(count_entries(f->dir), 1);

    /* With a backlog, a file put back waits until it is delivered. */
    f->answer = EAGAIN;
    assert_int_equal(spool_submit(f->spool, &f->alerts[3], 25000), EAGAIN);
    from = xasprintf("%s/failed/%020d.json", f->dir, 1);
    to = xasprintf("%s/%020d.json", f->dir, 1);
    assert_int_equal(rename(from, to), 0);
    free(from);
    free(to);
    spool_run(f->spool, 40000, 1000);   /* Still refused. */
    assert_int_equal(spool_pending(f->spool), 1);
    f->answer = 0;
    clear_got(f);
    spool_run(f->spool, 80000, 1000);   /* The backlog, then a look. */
    spool_run(f->spool, 80000, 1000);
    assert_int_equal(f->n_got, 2);
    assert_string_equal(f->got[0], "inc-4");
    assert_string_equal(f->got[1], "inc-1");
    assert_int_equal(count_entries(f->dir), 1);
}

/* One process per spool: a second opening of the same spool is refused
 * (flock) while the first is open, and works once it is closed. */
static void
test_lock(void **statep)
{
    struct fixture *f = *statep;
    struct spool *second = NULL;
    char *error;

    open_spool(f);
    error = spool_create(&f->opts, "sink-1", fake_deliver, f, &second);
    assert_non_null(error);
    assert_null(second);
    assert_non_null(strstr(error, "in use by another process"));
    assert_non_null(strstr(error, f->dir));
    free(error);

    /* Another sink's spool is another directory. */
    assert_null(spool_create(&f->opts, "sink-2", fake_deliver, f, &second));
    spool_destroy(second);
    second = NULL;

    spool_destroy(f->spool);
    f->spool = NULL;
    assert_null(spool_create(&f->opts, "sink-1", fake_deliver, f, &second));
    spool_destroy(second);
}

/* A sink name that is not a safe file name is escaped. */
static void
test_name(void **statep)
{
    struct fixture *f = *statep;
    struct spool *spool;
    char *dir = xasprintf("%s/%%2E.%%2Fa%%20b", f->base);
    struct stat st;

    assert_null(spool_create(&f->opts, "../a b", fake_deliver, f, &spool));
    assert_string_equal(spool_dir(spool), dir);
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0750);
    spool_destroy(spool);
    free(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_direct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name, setup, teardown),
    };

    return cmocka_run_group_tests_name("spool", tests, NULL, NULL);
}

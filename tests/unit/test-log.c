/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/log.c: level specifications, per-module filtering, the
 * line format, rate limiting, reopening after rotation and the WARN/ERR
 * counts.  Logs go to a temporary file that each test reads back.
 */
#include <config.h>

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/log.h"
#include "lib/util.h"

VNM_LOG_MODULE(test_log);

/* The log file of the current test. */
static char log_path[] = "/tmp/vnm-test-log-XXXXXX";

/* Returns the whole content of 'path' (malloc'd), or null if it does not
 * exist. */
static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long size;

    if (!f) {
        assert_int_equal(errno, ENOENT);
        return NULL;
    }
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    buf = xmalloc((size_t) size + 1);
    assert_int_equal(fread(buf, 1, (size_t) size, f), (size_t) size);
    buf[size] = '\0';
    fclose(f);
    return buf;
}

/* Returns the log file's lines without their time stamps, each of which
 * must look like "2026-11-21T09:14:14.123Z|": "test|WARN|module|msg\n". */
static char *
read_log(void)
{
    char *text = read_file(log_path);
    size_t size = strlen(text) + 1;
    char *out = xzalloc(size);
    size_t out_len = 0;
    regex_t re;
    char *line;
    char *nl;

    assert_int_equal(regcomp(&re, "^[0-9]{4}-[01][0-9]-[0-3][0-9]T"
                             "[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\.[0-9]{3}Z\\|",
                             REG_EXTENDED), 0);
    for (line = text; *line; line = nl + 1) {
        regmatch_t m;

        nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        if (regexec(&re, line, 1, &m, 0)) {
            fail_msg("bad log line \"%s\"", line);
        }
        out_len += (size_t) snprintf(out + out_len, size - out_len, "%s\n",
                                     line + m.rm_eo);
    }
    regfree(&re);
    free(text);
    return out;
}

/* Checks that the log, without time stamps, is 'expected'. */
static void
check_log(const char *expected)
{
    char *log = read_log();

    assert_string_equal(log, expected);
    free(log);
}

static int
setup(void **statep)
{
    int fd = mkstemp(log_path);

    if (fd < 0) {
        return -1;
    }
    close(fd);
    if (vnm_log_open(log_path, "test")) {
        return -1;
    }
    return vnm_log_set_levels("info") ? -1 : 0;
}

static int
teardown(void **statep)
{
    char *rotated = xasprintf("%s.1", log_path);

    vnm_log_close();
    unlink(log_path);
    unlink(rotated);
    free(rotated);
    return 0;
}

/* Each test starts with an empty log and every module at INFO. */
static int
reset(void **statep)
{
    char *error = vnm_log_set_levels("info");

    free(error);
    return error || truncate(log_path, 0) ? -1 : 0;
}

static void
test_level_names(void **statep)
{
    assert_int_equal(vnm_log_level_from_string("err"), VNM_LOG_ERR);
    assert_int_equal(vnm_log_level_from_string("error"), VNM_LOG_ERR);
    assert_int_equal(vnm_log_level_from_string("WARN"), VNM_LOG_WARN);
    assert_int_equal(vnm_log_level_from_string("warning"), VNM_LOG_WARN);
    assert_int_equal(vnm_log_level_from_string("Info"), VNM_LOG_INFO);
    assert_int_equal(vnm_log_level_from_string("dbg"), VNM_LOG_DBG);
    assert_int_equal(vnm_log_level_from_string("debug"), VNM_LOG_DBG);
    assert_int_equal(vnm_log_level_from_string("loud"), -1);
    assert_int_equal(vnm_log_level_from_string(""), -1);
    assert_string_equal(vnm_log_level_to_string(VNM_LOG_ERR), "ERR");
    assert_string_equal(vnm_log_level_to_string(VNM_LOG_WARN), "WARN");
    assert_string_equal(vnm_log_level_to_string(VNM_LOG_INFO), "INFO");
    assert_string_equal(vnm_log_level_to_string(VNM_LOG_DBG), "DBG");
}

static void
test_set_levels(void **statep)
{
    struct vnm_log_module *plug = vnm_log_module_get("plug-a");
    char *error;

    /* A run-time module is made once, and registered. */
    assert_ptr_equal(vnm_log_module_get("plug-a"), plug);
    assert_string_equal(plug->name, "plug-a");

    assert_null(vnm_log_set_levels("warn"));
    assert_int_equal(vnm_this_log_module.level, VNM_LOG_WARN);
    assert_int_equal(plug->level, VNM_LOG_WARN);

    assert_null(vnm_log_set_levels("test_log:dbg"));
    assert_int_equal(vnm_this_log_module.level, VNM_LOG_DBG);
    assert_int_equal(plug->level, VNM_LOG_WARN);

    /* Items apply in order; commas and blanks separate them. */
    assert_null(vnm_log_set_levels("err, plug-a:debug,test_log:INFO"));
    assert_int_equal(vnm_this_log_module.level, VNM_LOG_INFO);
    assert_int_equal(plug->level, VNM_LOG_DBG);
    assert_null(vnm_log_set_levels("plug-a:warn info"));
    assert_int_equal(plug->level, VNM_LOG_INFO);

    /* A module made later starts at the last default level. */
    assert_null(vnm_log_set_levels("err"));
    assert_int_equal(vnm_log_module_get("plug-b")->level, VNM_LOG_ERR);

    error = vnm_log_set_levels("loud");
    assert_non_null(error);
    assert_string_equal(error, "\"loud\": unknown log level (use err, warn, "
                        "info or dbg)");
    free(error);

    error = vnm_log_set_levels("test_log:verbose");
    assert_non_null(error);
    assert_string_equal(error, "\"verbose\": unknown log level (use err, "
                        "warn, info or dbg)");
    free(error);

    error = vnm_log_set_levels("nosuch:info");
    assert_non_null(error);
    assert_string_equal(error, "\"nosuch\": unknown log module");
    free(error);
    /* The unknown module was not created. */
    error = vnm_log_set_levels("nosuch:dbg");
    assert_non_null(error);
    free(error);
}

static void
test_filtering_and_format(void **statep)
{
    struct vnm_log_module *plug = vnm_log_module_get("plug-a");

    assert_null(vnm_log_set_levels("test_log:warn"));
    VNM_DBG("dropped %d", 1);
    VNM_INFO("dropped %d", 2);
    VNM_WARN("kept %d", 3);
    VNM_ERR("kept %s", "four");
    vnm_log_msg(plug, VNM_LOG_INFO, "other module, %s", "still at info");
    check_log("test|WARN|test_log|kept 3\n"
              "test|ERR|test_log|kept four\n"
              "test|INFO|plug-a|other module, still at info\n");

    assert_null(vnm_log_set_levels("test_log:dbg"));
    VNM_DBG("now shown");
    check_log("test|WARN|test_log|kept 3\n"
              "test|ERR|test_log|kept four\n"
              "test|INFO|plug-a|other module, still at info\n"
              "test|DBG|test_log|now shown\n");
}

static void
test_long_message(void **statep)
{
    char *big = xmalloc(5000);
    char *log;

    memset(big, 'y', 4999);
    big[4999] = '\0';
    VNM_WARN("%s", big);
    VNM_WARN("after");
    free(big);

    /* Truncated, but still one whole line. */
    log = read_log();
    assert_non_null(strstr(log, "test|WARN|test_log|yyyy"));
    assert_non_null(strstr(log, "y\ntest|WARN|test_log|after\n"));
    assert_true(strlen(log) < 2200);
    free(log);
}

static void
test_rate_limit(void **statep)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(1, 2);

    /* A burst of 2, then nothing. */
    for (int i = 0; i < 10; i++) {
        VNM_WARN_RL(&rl, "flood %d", i);
    }
    check_log("test|WARN|test_log|flood 0\n"
              "test|WARN|test_log|flood 1\n");
    assert_int_equal(rl.n_suppressed, 8);

    /* 50 seconds later the bucket still lacks a token. */
    rl.last_ms -= 50000;
    VNM_WARN_RL(&rl, "flood %d", 10);
    assert_int_equal(rl.n_suppressed, 9);

    /* A minute on, one token: the message, then the note. */
    rl.last_ms -= 60000;
    VNM_WARN_RL(&rl, "flood %d", 11);
    VNM_WARN_RL(&rl, "flood %d", 12);
    check_log("test|WARN|test_log|flood 0\n"
              "test|WARN|test_log|flood 1\n"
              "test|WARN|test_log|flood 11\n"
              "test|WARN|test_log|(9 similar message(s) suppressed)\n");
    assert_int_equal(rl.n_suppressed, 1);

    /* An hour refills the bucket to its burst, no more. */
    rl.last_ms -= 3600 * 1000;
    for (int i = 13; i < 20; i++) {
        VNM_WARN_RL(&rl, "flood %d", i);
    }
    check_log("test|WARN|test_log|flood 0\n"
              "test|WARN|test_log|flood 1\n"
              "test|WARN|test_log|flood 11\n"
              "test|WARN|test_log|(9 similar message(s) suppressed)\n"
              "test|WARN|test_log|flood 13\n"
              "test|WARN|test_log|(1 similar message(s) suppressed)\n"
              "test|WARN|test_log|flood 14\n");
    assert_int_equal(rl.n_suppressed, 5);
}

static void
test_rate_limit_filtered(void **statep)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(1, 1);

    /* A message below the module's level takes no token. */
    assert_null(vnm_log_set_levels("test_log:err"));
    VNM_WARN_RL(&rl, "filtered");
    assert_null(vnm_log_set_levels("test_log:warn"));
    VNM_WARN_RL(&rl, "shown");
    check_log("test|WARN|test_log|shown\n");
}

static void
test_reopen(void **statep)
{
    char *rotated = xasprintf("%s.1", log_path);
    char *text;

    VNM_WARN("before rotation");
    assert_int_equal(rename(log_path, rotated), 0);
    VNM_WARN("after rename");
    assert_int_equal(vnm_log_reopen(), 0);
    VNM_WARN("after reopen");

    check_log("test|WARN|test_log|after reopen\n");
    text = read_file(rotated);
    assert_non_null(strstr(text, "|before rotation\n"));
    assert_non_null(strstr(text, "|after rename\n"));
    assert_null(strstr(text, "after reopen"));
    free(text);
    unlink(rotated);
    free(rotated);
}

static void
test_open_errors(void **statep)
{
    assert_int_equal(vnm_log_open("/nonexistent/dir/vnmon.log", "test"),
                     ENOENT);
    /* Still logging to the old file. */
    VNM_WARN("still here");
    check_log("test|WARN|test_log|still here\n");
}

static void
test_count(void **statep)
{
    uint64_t n_warn = vnm_log_count(VNM_LOG_WARN);
    uint64_t n_err = vnm_log_count(VNM_LOG_ERR);
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(1, 1);

    VNM_WARN("one");
    VNM_WARN("two");
    VNM_ERR("three");
    VNM_INFO("not counted");
    VNM_WARN_RL(&rl, "counted");
    VNM_WARN_RL(&rl, "suppressed, not counted");
    assert_null(vnm_log_set_levels("test_log:err"));
    VNM_WARN("filtered, not counted");

    assert_int_equal(vnm_log_count(VNM_LOG_WARN) - n_warn, 3);
    assert_int_equal(vnm_log_count(VNM_LOG_ERR) - n_err, 1);
    assert_int_equal(vnm_log_count(VNM_LOG_INFO), 0);
}

/* Runs the tests; the exit status is the number of failures. */
int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_level_names, reset),
        cmocka_unit_test_setup(test_set_levels, reset),
        cmocka_unit_test_setup(test_filtering_and_format, reset),
        cmocka_unit_test_setup(test_long_message, reset),
        cmocka_unit_test_setup(test_rate_limit, reset),
        cmocka_unit_test_setup(test_rate_limit_filtered, reset),
        cmocka_unit_test_setup(test_reopen, reset),
        cmocka_unit_test_setup(test_open_errors, reset),
        cmocka_unit_test_setup(test_count, reset),
    };

    return cmocka_run_group_tests_name("log", tests, setup, teardown);
}

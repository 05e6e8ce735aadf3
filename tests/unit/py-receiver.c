/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Real receivers on loopback for the unit tests of network sinks: see
 * py-receiver.h.
 */
#include <config.h>

#include "tests/unit/py-receiver.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/util.h"

/* Debian's interpreter, which has python3-aiosmtpd whatever $PATH says. */
#define PY_RECEIVER_PYTHON "/usr/bin/python3"

void
py_receiver_start(struct py_receiver *r, const char *name,
                  const char *script)
{
    const char *tmp = getenv("TMPDIR");
    pid_t pid;

    memset(r, 0, sizeof *r);
    r->dir = xasprintf("%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    assert_non_null(mkdtemp(r->dir));

    pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        execl(PY_RECEIVER_PYTHON, PY_RECEIVER_PYTHON, "-c", script, r->dir,
              (char *) NULL);
        _exit(127);
    }
    r->pid = pid;

    for (int i = 0; i < 2000; i++) {
        char *port = py_receiver_read(r, "port");
        int status;

        if (port) {
            r->port = atoi(port);
            free(port);
            assert_true(r->port > 0);
            return;
        }
        if (waitpid(pid, &status, WNOHANG) == pid) {
            r->pid = 0;
            fail_msg("%s: receiver exited (status %d) before listening",
                     name, status);
        }
        usleep(10 * 1000);
    }
    fail_msg("%s: receiver did not listen within 20 s", name);
}

void
py_receiver_kill(struct py_receiver *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGKILL);
        while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR) {
            continue;
        }
        r->pid = 0;
    }
}

void
py_receiver_stop(struct py_receiver *r)
{
    DIR *d;

    py_receiver_kill(r);
    if (!r->dir) {
        return;
    }
    d = opendir(r->dir);
    if (d) {
        struct dirent *de;

        while ((de = readdir(d))) {
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                char *path = xasprintf("%s/%s", r->dir, de->d_name);

                unlink(path);
                free(path);
            }
        }
        closedir(d);
    }
    rmdir(r->dir);
    free(r->dir);
    r->dir = NULL;
}

char *
py_receiver_read(const struct py_receiver *r, const char *file)
{
    char *path = xasprintf("%s/%s", r->dir, file);
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0;
    char buf[4096];
    size_t n;

    free(path);
    if (!f) {
        return NULL;
    }
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        text = xrealloc(text, len + n + 1);
        memcpy(text + len, buf, n);
        len += n;
    }
    fclose(f);
    if (!text) {
        text = xmalloc(1);
    }
    text[len] = '\0';
    return text;
}

void
py_receiver_write(const struct py_receiver *r, const char *file,
                  const char *text)
{
    char *tmp = xasprintf("%s/.%s.tmp", r->dir, file);
    char *path = xasprintf("%s/%s", r->dir, file);
    FILE *f = fopen(tmp, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
    free(tmp);
    free(path);
}

size_t
py_receiver_count(const struct py_receiver *r, const char *prefix)
{
    size_t n = 0;
    struct dirent *de;
    DIR *d = opendir(r->dir);

    assert_non_null(d);
    while ((de = readdir(d))) {
        if (!strncmp(de->d_name, prefix, strlen(prefix))) {
            n++;
        }
    }
    closedir(d);
    return n;
}
